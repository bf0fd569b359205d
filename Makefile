# connectproxy: one hand-written GNU Makefile.  The list of sources is the
# architecture; see README.md for the code map.

CC      ?= cc
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= $(PREFIX)/etc
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/connectproxy
UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
DESTDIR ?=

CFLAGS  ?= -O2 -g
# Warnings are fatal only when asked (WERROR=1, as CI does): a newer
# compiler's new warning must not break a user's or a distribution's build.
ifeq ($(WERROR),1)
WERROR_FLAG = -Werror
endif
PROJECT_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra \
	-Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 $(WERROR_FLAG) -MMD -MP \
	-DSYSCONFDIR='"$(SYSCONFDIR)"' $(NO_CRYPT)

SRCS = src/main.c src/master.c src/proc.c src/worker.c src/request.c \
       src/response.c src/priv.c src/scoreboard.c src/pool.c src/listeners.c \
       src/policy.c src/auth.c src/upstream.c src/dial.c src/relay.c \
       src/config.c src/log.c src/logger.c src/record.c src/control.c \
       src/net.c src/sdnotify.c src/utc.c src/preflight.c
LIB_SRCS = $(filter-out src/main.c,$(SRCS))
# crypt(3) for auth_file hashes: in libcrypt on glibc, in libc itself on
# musl, and missing from some musl builds (Debian's musl-tools): then the
# proxy is built without it, and refuses an auth_file with a clear error.
CRYPT_PROBE = printf 'char *crypt(const char *, const char *);\nint main(void) { return crypt("a", "ab") == 0; }\n' | \
	$(CC) -x c - -o /dev/null
LDLIBS ?= $(shell $(CRYPT_PROBE) -lcrypt >/dev/null 2>&1 && echo -lcrypt)
NO_CRYPT := $(shell $(CRYPT_PROBE) $(LDLIBS) >/dev/null 2>&1 || \
	echo -DCONNECTPROXY_NO_CRYPT)
# Bind every symbol at start, in the master: a lazily bound call would
# write the GOT in each worker and cost every worker a private page.
LINK_FLAGS = -Wl,-z,now -Wl,-z,relro
# The suites, and the end-to-end harness split by concern.
TEST_SRCS = $(wildcard tests/check_*.c tests/harness*.c)

# SANITIZE=1 builds everything (binary and tests) with ASan and UBSan into a
# separate tree, so the two builds never mix objects.
ifeq ($(SANITIZE),1)
BUILD = build/debug
BIN   = connectproxy-debug
SANFLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
else
BUILD = build/release
BIN   = connectproxy
SANFLAGS =
endif

ALL_CFLAGS = $(PROJECT_CFLAGS) $(CFLAGS) $(SANFLAGS)
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck)

OBJS      = $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS  = $(LIB_SRCS:%.c=$(BUILD)/%.o)
TEST_OBJS = $(TEST_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all run test deps check check-debug debug clean install uninstall \
	musl check-musl

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LINK_FLAGS) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/check_all: $(TEST_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIB_OBJS) $(CHECK_LIBS) \
	    $(LDLIBS)

run: $(BIN)
	./$(BIN) -c conf/connectproxy.conf

# `make test` is the one command for a fresh machine: dependencies, then
# every suite.
test: deps
	$(MAKE) check

deps:
	sh tests/install-deps.sh

# The end-to-end suites drive the real binary named by CONNECTPROXY_BIN.
check: $(BIN) $(BUILD)/check_all
	CONNECTPROXY_BIN=./$(BIN) $(BUILD)/check_all

debug:
	$(MAKE) SANITIZE=1 connectproxy-debug

check-debug: deps
	$(MAKE) SANITIZE=1 check

# The proxy built against musl (musl-gcc, Debian's musl-tools), as on
# Alpine and OpenWrt-class gateways; check-musl runs every suite with it
# as the binary under test (the unit suites and the harness stay on the
# host's C library, where Check is).
musl:
	$(MAKE) CC=musl-gcc BUILD=build/musl BIN=connectproxy-musl \
	    connectproxy-musl

check-musl: deps musl $(BUILD)/check_all
	CONNECTPROXY_BIN=./connectproxy-musl $(BUILD)/check_all

# Units and man pages get their paths substituted.  An existing
# configuration is never overwritten, and uninstall leaves it (and the
# connectproxy user) in place.
SUBST = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
INSTALLED = $(SBINDIR)/connectproxy \
	$(UNITDIR)/connectproxy.service $(UNITDIR)/connectproxy.socket \
	$(SYSUSERSDIR)/connectproxy.conf $(DOCDIR)/notify-reload.conf \
	$(MANDIR)/man8/connectproxy.8 $(MANDIR)/man5/connectproxy.conf.5

install: connectproxy
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/connectproxy \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(DESTDIR)$(DOCDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5
	install -m 0755 connectproxy $(DESTDIR)$(SBINDIR)/connectproxy
	test -e $(DESTDIR)$(SYSCONFDIR)/connectproxy/connectproxy.conf || \
		install -m 0644 conf/connectproxy.conf \
		$(DESTDIR)$(SYSCONFDIR)/connectproxy/connectproxy.conf
	for f in systemd/connectproxy.service systemd/connectproxy.socket \
	    man/connectproxy.8 man/connectproxy.conf.5; do \
		case $$f in \
		systemd/*) d=$(DESTDIR)$(UNITDIR) ;; \
		*.8) d=$(DESTDIR)$(MANDIR)/man8 ;; \
		*) d=$(DESTDIR)$(MANDIR)/man5 ;; \
		esac; \
		$(SUBST) $$f > $$d/$${f#*/}.tmp && \
		chmod 0644 $$d/$${f#*/}.tmp && \
		mv -f $$d/$${f#*/}.tmp $$d/$${f#*/} || exit 1; \
	done
	install -m 0644 systemd/connectproxy.sysusers \
		$(DESTDIR)$(SYSUSERSDIR)/connectproxy.conf
	install -m 0644 systemd/notify-reload.conf \
		$(DESTDIR)$(DOCDIR)/notify-reload.conf

uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

clean:
	rm -rf build connectproxy connectproxy-debug connectproxy-musl \
	    connectproxy-clang

-include $(OBJS:.o=.d) $(TEST_OBJS:.o=.d)

# The benchmark (bench/run.py drives bench/loadgen), not part of `make
# check`: `make bench` takes about 5 minutes and writes bench/RESULTS.md;
# `make bench-smoke` takes each figure once, small, in seconds.
.PHONY: bench bench-smoke
LOADGEN_SRCS = bench/loadgen.c bench/lg_util.c bench/lg_target.c \
	bench/lg_client.c bench/lg_open.c bench/lg_spawn.c

build/bench/loadgen: $(LOADGEN_SRCS) bench/lg.h
	@mkdir -p build/bench
	$(CC) $(filter-out -MMD -MP,$(PROJECT_CFLAGS)) $(CFLAGS) -pthread \
		$(LDFLAGS) -o $@ $(LOADGEN_SRCS)

bench: connectproxy build/bench/loadgen
	LOADGEN=build/bench/loadgen CONNECTPROXY_BIN=./connectproxy \
		python3 bench/run.py

bench-smoke: connectproxy build/bench/loadgen
	BENCH_QUICK=1 LOADGEN=build/bench/loadgen \
		CONNECTPROXY_BIN=./connectproxy python3 bench/run.py

# Fuzzing (clang, libFuzzer), not part of `make check`: `make fuzz
# FUZZ_SECONDS=N` runs each target N seconds; see fuzz/fuzz.mk.
include fuzz/fuzz.mk
