# connectproxy: one hand-written GNU Makefile.  The list of sources is the
# architecture; see README.md for the code map.

CC      ?= cc
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= $(PREFIX)/etc
DESTDIR ?=

CFLAGS  ?= -O2 -g
WERROR  ?= -Werror
PROJECT_CFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra \
	-Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 $(WERROR) -MMD -MP \
	-DSYSCONFDIR='"$(SYSCONFDIR)"'

SRCS = src/main.c src/master.c src/worker.c src/request.c src/response.c \
       src/priv.c \
       src/policy.c src/dial.c src/relay.c src/config.c src/log.c src/net.c
LIB_SRCS = $(filter-out src/main.c,$(SRCS))
TEST_SRCS = $(wildcard tests/check_*.c) tests/harness.c

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

.PHONY: all run test deps check check-debug debug clean install uninstall

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(OBJS)

$(BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/check_all: $(TEST_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIB_OBJS) $(CHECK_LIBS)

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

install: connectproxy
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/connectproxy
	install -m 0755 connectproxy $(DESTDIR)$(SBINDIR)/connectproxy
	test -e $(DESTDIR)$(SYSCONFDIR)/connectproxy/connectproxy.conf || \
		install -m 0644 conf/connectproxy.conf \
		$(DESTDIR)$(SYSCONFDIR)/connectproxy/connectproxy.conf

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/connectproxy

clean:
	rm -rf build connectproxy connectproxy-debug

-include $(OBJS:.o=.d) $(TEST_OBJS:.o=.d)
