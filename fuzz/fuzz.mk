# SPDX-License-Identifier: ISC
# Fuzzing: libFuzzer targets for the pure parsers, built with clang
# (-fsanitize=fuzzer,address,undefined; on Debian the runtime is in
# libclang-rt-14-dev) into build/fuzz, never mixed with the other builds.
# `make fuzz FUZZ_SECONDS=N` generates the seed corpora from the unit-test
# tables, then runs each target for N seconds; any crash, leak or
# sanitizer report fails.  Crash inputs land in build/fuzz/crashes/.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = request config auth proxyproto scrape
FUZZ_DIR     = build/fuzz
FUZZ_CFLAGS  = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra \
	-Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Werror -g -O1 -fno-omit-frame-pointer -Isrc \
	-DSYSCONFDIR='"$(SYSCONFDIR)"'
FUZZ_SAN     = -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all

# Each target links only the modules its parser needs.
FUZZ_request_SRCS = src/request.c
FUZZ_config_SRCS  = src/config.c src/policy.c src/auth.c src/upstream.c \
	src/request.c src/net.c src/utc.c
FUZZ_auth_SRCS    = src/auth.c
FUZZ_proxyproto_SRCS = src/proxyproto.c src/net.c
# scrape.c's parser is pure, but the module links the master's side.
FUZZ_scrape_SRCS  = src/scrape.c src/control.c src/log.c src/response.c \
	src/scoreboard.c src/record.c $(FUZZ_config_SRCS)

.PHONY: fuzz fuzz-build

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%) \
	$(FUZZ_TARGETS:%=$(FUZZ_DIR)/seeds_%)

FUZZ_BUILD = @mkdir -p $(FUZZ_DIR) && \
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -o $@ $(filter %.c,$^) $(LDLIBS)
# Plain (unsanitized) seed writers over the unit-test tables; each links
# what its test file calls.
FUZZ_SEEDS = @mkdir -p $(FUZZ_DIR) && \
	$(FUZZ_CC) $(filter-out -Werror,$(FUZZ_CFLAGS)) $(CHECK_CFLAGS) \
	-Itests $(SEED_DEF) -o $@ $(filter-out tests/%,$(filter %.c,$^)) \
	$(CHECK_LIBS) $(LDLIBS)

$(FUZZ_DIR)/fuzz_request: fuzz/fuzz_request.c $(FUZZ_request_SRCS) src/*.h
	$(FUZZ_BUILD)
$(FUZZ_DIR)/fuzz_config: fuzz/fuzz_config.c $(FUZZ_config_SRCS) src/*.h
	$(FUZZ_BUILD)
$(FUZZ_DIR)/fuzz_auth: fuzz/fuzz_auth.c $(FUZZ_auth_SRCS) src/*.h
	$(FUZZ_BUILD)
$(FUZZ_DIR)/fuzz_proxyproto: fuzz/fuzz_proxyproto.c $(FUZZ_proxyproto_SRCS) \
	src/*.h
	$(FUZZ_BUILD)
$(FUZZ_DIR)/fuzz_scrape: fuzz/fuzz_scrape.c $(FUZZ_scrape_SRCS) src/*.h
	$(FUZZ_BUILD)
$(FUZZ_DIR)/seeds_request: SEED_DEF = -DSEED_REQUEST
$(FUZZ_DIR)/seeds_config: SEED_DEF = -DSEED_CONFIG
$(FUZZ_DIR)/seeds_auth: SEED_DEF = -DSEED_AUTH
$(FUZZ_DIR)/seeds_proxyproto: SEED_DEF = -DSEED_PROXYPROTO
$(FUZZ_DIR)/seeds_scrape: SEED_DEF = -DSEED_SCRAPE
$(FUZZ_DIR)/seeds_request: fuzz/seeds.c tests/check_request.c \
	$(FUZZ_config_SRCS) src/request.c
	$(FUZZ_SEEDS)
$(FUZZ_DIR)/seeds_config: fuzz/seeds.c tests/check_config.c \
	$(FUZZ_config_SRCS)
	$(FUZZ_SEEDS)
$(FUZZ_DIR)/seeds_auth: fuzz/seeds.c tests/check_auth.c $(FUZZ_config_SRCS)
	$(FUZZ_SEEDS)
$(FUZZ_DIR)/seeds_proxyproto: fuzz/seeds.c tests/check_proxyproto.c \
	$(FUZZ_proxyproto_SRCS)
	$(FUZZ_SEEDS)
# Its table has a header of its own: the e2e test file needs the harness.
$(FUZZ_DIR)/seeds_scrape: fuzz/seeds.c tests/scrape_heads.h
	$(FUZZ_SEEDS)

fuzz: fuzz-build
	@set -e; for t in $(FUZZ_TARGETS); do \
		rm -rf $(FUZZ_DIR)/corpus/$$t; \
		mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes; \
		$(FUZZ_DIR)/seeds_$$t $(FUZZ_DIR)/corpus/$$t; \
		echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			-max_len=16384 -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 \
			-artifact_prefix=$(FUZZ_DIR)/crashes/$$t- \
			$(FUZZ_DIR)/corpus/$$t 2>$(FUZZ_DIR)/$$t.log || \
			{ tail -n 60 $(FUZZ_DIR)/$$t.log; \
			  echo "fuzz: $$t FAILED, see $(FUZZ_DIR)/$$t.log" \
			  "and $(FUZZ_DIR)/crashes/"; exit 1; }; \
		grep -E 'DONE|stat::number_of_executed_units|stat::average_exec_per_sec' \
			$(FUZZ_DIR)/$$t.log | tr '\n' ' '; echo; \
	done
