# Ferry: one non-recursive Makefile.
#   make            build ./build/ferry
#   make test       unit + end-to-end suite, normal build then ASan/UBSan build
#   make test-fast  the suite on the normal build only
#   make run        start Ferry (with a local demo Prosody when no CONFIG is given)
#   make bench      benchmarks (print figures, never fail on timing)
#   make format / format-check, install, clean
#
# SAN=1 builds into build-san/ with -fsanitize=address,undefined.

PKGS      := libstrophe libevent libevent_openssl libcurl libcjson libconfig openssl sqlite3
PREFIX    ?= /usr/local
CC        ?= cc
SAN       ?= 0
V         ?= 0
# Terse build lines ("CC gateway/main.c"); V=1 shows the full commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-4s %s\n' $(1) $(2)
endif

ifeq ($(SAN),1)
BUILD     := build-san
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT       := -O1 -g
else
BUILD     := build
SANFLAGS  :=
OPT       := -O2 -g
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

CFLAGS   += -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror \
            -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
            $(OPT) $(SANFLAGS) \
            -I. -Igateway -Itransports $(PKG_CFLAGS) -MMD -MP
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -lm

VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
CFLAGS   += -DFERRY_VERSION='"$(VERSION)"'

# Everything except main.c goes into a static library shared by the binary and the tests.
CORE_SRC := $(filter-out gateway/main.c,$(wildcard gateway/*.c)) \
            $(wildcard transports/*.c) $(wildcard transports/*/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o)
MAIN_OBJ := $(BUILD)/gateway/main.o
LIB      := $(BUILD)/libferry.a
BIN      := $(BUILD)/ferry

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_LIBSRC := gateway/utf8.c gateway/jid.c gateway/err.c gateway/log.c \
               transports/irc/irc_line.c transports/irc/irc_split.c \
               transports/irc/irc_text.c transports/irc/irc_addr.c

.PHONY: fuzz all test test-fast test-unit test-e2e run bench format format-check install clean deps
all: $(BIN) $(UNIT_BIN)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(CORE_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Keep the test objects (make would delete them as intermediates).
.SECONDARY: $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.o)
$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(CMOCKA_LIBS)

# libFuzzer targets (clang).  `make fuzz` builds them and runs each for
# FUZZ_SECONDS (default 20), starting from the seeds in tests/fuzz/corpus/NAME;
# new inputs go to build-fuzz/corpus-NAME, so the checked-in seeds stay small.
FUZZ_SECONDS ?= 20
build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIBSRC)
	@mkdir -p build-fuzz
	clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Igateway -Itransports -I. \
	    -fsanitize=fuzzer,address,undefined $^ -o $@
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-$$n tests/fuzz/corpus/$$n || exit 1; done

deps:
	@scripts/deps.sh

# The README's test command.  Runs the suite on the normal build, then again
# on the AddressSanitizer/UBSan build.
test: deps
	@$(MAKE) --no-print-directory test-fast
	@$(MAKE) --no-print-directory test-fast SAN=1

test-fast: all
	@tests/run.sh $(BUILD)

test-unit: all
	@tests/run.sh --unit-only $(BUILD)

test-e2e: all
	@tests/run.sh --e2e-only $(BUILD)

run: deps all
	@scripts/run.sh $(BIN) $(CONFIG)

bench: deps all
	@tests/bench/run.sh $(BUILD)

FORMAT_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_FILES)
format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/ferry
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/ferry
	install -m 644 conf/ferry.conf.example conf/prosody.cfg.lua.example \
	    conf/ejabberd.yml.example $(DESTDIR)$(PREFIX)/share/doc/ferry/

clean:
	rm -rf build build-san build-fuzz

-include $(CORE_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/unit/%.d)
