# smtpcheck - build, test, demo, install.
#
#   make            build ./smtpcheck
#   make demo       install what is missing, build, probe the scripted test
#                   server on loopback and show the full report
#   make check      install what is missing, build, run every test
#   make bench      install what is missing, build, time smtpcheck against
#                   check_smtp, swaks and openssl on local servers (not in
#                   make check; about two minutes; see bench/run)
#   make install    PREFIX=/usr/local DESTDIR= ; make uninstall
#
# SANITIZE=1 builds with AddressSanitizer + UBSan into build-asan/.
# WERROR=1 turns warnings into errors (make check sets it).

SHELL = /bin/bash

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS = openssl libcares

CFLAGS ?= -O2 -g
WARNINGS = -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral
ifeq ($(WERROR),1)
WARNINGS += -Werror
endif

ifeq ($(SANITIZE),1)
BUILD ?= build-asan
SAN = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
BIN = $(BUILD)/smtpcheck
else
BUILD ?= build
SAN =
BIN = smtpcheck
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lcares)
CHECK_CFLAGS = $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
CHECK_LIBS = $(shell $(PKG_CONFIG) --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt -lpthread)

ALL_CFLAGS = $(WARNINGS) $(CFLAGS) $(SAN) -D_GNU_SOURCE -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN)
LIBS = $(PKG_LIBS) -lm

SRCS = $(wildcard src/*.c)
KB_FILES = $(sort $(wildcard data/clients/*.client))
OBJS = $(SRCS:src/%.c=$(BUILD)/%.o) $(BUILD)/kb_data.o
LIB_OBJS = $(filter-out $(BUILD)/main.o,$(OBJS))
UNIT_SRCS = $(wildcard tests/unit/*.c)
UNIT_OBJS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/unit/%.o)

.PHONY: all deps demo check unit integration sanitize clean install uninstall \
	fuzz fuzz-smoke fuzz-build valgrind bench

all: $(BIN)

$(BIN): $(OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/%.o: src/%.c | $(BUILD)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The knowledge base (data/clients/*.client) compiled in as strings.
$(BUILD)/embed: tools/embed.c | $(BUILD)
	$(CC) -O1 -o $@ tools/embed.c

$(BUILD)/kb_data.c: $(KB_FILES) data/clients $(BUILD)/embed
	$(BUILD)/embed kb_files $@ $(KB_FILES)

$(BUILD)/kb_data.o: $(BUILD)/kb_data.c
	$(CC) $(ALL_CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/unit/%.o: tests/unit/%.c | $(BUILD)/unit
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Isrc -c -o $@ $<

$(BUILD)/unit-tests: $(UNIT_OBJS) $(LIB_OBJS)
	$(CC) $(ALL_LDFLAGS) -o $@ $(UNIT_OBJS) $(LIB_OBJS) $(LIBS) $(CHECK_LIBS)

$(BUILD) $(BUILD)/unit:
	mkdir -p $@

deps:
	scripts/install-deps build

demo:
	scripts/install-deps demo
	$(MAKE) --no-print-directory all
	scripts/demo

# Everything, in the order a failure is cheapest to read.
check:
	scripts/install-deps check
	$(MAKE) --no-print-directory WERROR=1 all $(BUILD)/unit-tests
	$(MAKE) --no-print-directory unit integration
	$(MAKE) --no-print-directory sanitize
	$(MAKE) --no-print-directory valgrind
	$(MAKE) --no-print-directory fuzz-smoke

# Speed, memory and round trips against check_smtp, swaks and openssl
# s_client, on the scripted server and the Postfix lab, in a network
# namespace of its own (bench/run says what each part measures). Prints,
# asserts nothing; not part of make check.
bench:
	scripts/install-deps bench
	$(MAKE) --no-print-directory all
	bench/run

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

integration: $(BIN)
	tests/integration/check-docs ./$(BIN)
	tests/integration/selftest.py --stress 300
	tests/integration/run-explain-corpus --smtpcheck ./$(BIN)
	tests/integration/check-prompt --smtpcheck ./$(BIN)
	tests/integration/check-colour --smtpcheck ./$(BIN)
	tests/integration/run-scenarios --smtpcheck ./$(BIN)

# The integration scenarios once more, under AddressSanitizer + UBSan. A
# sanitizer report exits 98, never a code smtpcheck uses (0-3), and the
# scenario runner also fails any run whose stderr holds a report.
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:exitcode=98 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98
sanitize:
	$(MAKE) --no-print-directory SANITIZE=1 WERROR=1 build-asan/smtpcheck build-asan/unit-tests
	$(SAN_ENV) build-asan/unit-tests
	$(SAN_ENV) tests/integration/run-explain-corpus --smtpcheck build-asan/smtpcheck
	$(SAN_ENV) tests/integration/run-scenarios --smtpcheck build-asan/smtpcheck

# The integration scenarios and the explain corpus once more under valgrind
# memcheck: any memory error or definite leak fails the run (exit 99, and
# the runners fail a valgrind report on stderr).
VALGRIND = valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
	--show-leak-kinds=definite -q
valgrind: $(BIN)
	@if command -v valgrind >/dev/null 2>&1; then \
		SMTPCHECK_WRAPPER="$(VALGRIND)" tests/integration/run-explain-corpus --smtpcheck ./$(BIN) \
			-j 2 | sed 's/^explain corpus:/valgrind explain corpus:/'; \
		[ $${PIPESTATUS[0]} -eq 0 ] || exit 1; \
		SMTPCHECK_WRAPPER="$(VALGRIND)" tests/integration/run-scenarios --smtpcheck ./$(BIN) \
			-j 2 | sed 's/^scenarios:/valgrind scenarios:/'; \
		exit $${PIPESTATUS[0]}; \
	else \
		echo "SKIP valgrind: not installed (scripts/install-deps check installs it)"; \
	fi

# libFuzzer harnesses (clang): tests/fuzz/fuzz_NAME.c over the pure code.
# `make fuzz` runs each for FUZZ_TIME seconds (default 60); `make check`
# runs each for a short smoke time when clang is present. New inputs go to
# build-fuzz/corpus/NAME; the seeds in tests/fuzz/corpus/NAME stay as they are.
FUZZERS = reply ehlo explain address escape kb dns options
FUZZ_TIME ?= 60
FUZZ_CC ?= clang
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -g -O1 $(FUZZ_SAN) -std=c11 -D_GNU_SOURCE -Isrc $(PKG_CFLAGS)
FUZZ_OBJS = $(filter-out build-fuzz/main.o,$(SRCS:src/%.c=build-fuzz/%.o)) build-fuzz/kb_data.o

fuzz-build: $(FUZZERS:%=build-fuzz/fuzz_%)

# Kept between runs: make would otherwise delete them as intermediate files
# and rebuild every object for the next fuzz run.
.SECONDARY: $(FUZZ_OBJS)

build-fuzz/%.o: src/%.c | build-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build-fuzz/kb_data.o: $(BUILD)/kb_data.c | build-fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(LIBS)

build-fuzz:
	mkdir -p build-fuzz

fuzz: fuzz-build
	@for f in $(FUZZERS); do \
		mkdir -p build-fuzz/corpus/$$f; \
		if build-fuzz/fuzz_$$f -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			-artifact_prefix=build-fuzz/$$f- \
			build-fuzz/corpus/$$f tests/fuzz/corpus/$$f >build-fuzz/$$f.log 2>&1; then \
			echo "fuzz $$f: $(FUZZ_TIME) s, $$(grep -o 'number_of_executed_units: *[0-9]*' \
				build-fuzz/$$f.log | grep -o '[0-9]*$$') executions, $$(grep -o \
				'cov: [0-9]*' build-fuzz/$$f.log | tail -1) edges, corpus $$(ls \
				build-fuzz/corpus/$$f | wc -l) inputs"; \
		else \
			echo "FAIL fuzz $$f: see build-fuzz/$$f.log"; tail -40 build-fuzz/$$f.log; exit 1; \
		fi; \
	done

# A few seconds each, in make check, when clang can build the fuzzers.
fuzz-smoke:
	@if command -v $(FUZZ_CC) >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory fuzz FUZZ_TIME=$${FUZZ_SMOKE_TIME:-4}; \
	else \
		echo "SKIP fuzz-smoke: $(FUZZ_CC) not found (scripts/install-deps check installs it)"; \
	fi

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/smtpcheck
	install -m 644 man/smtpcheck.1 $(DESTDIR)$(MANDIR)/man1/smtpcheck.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/smtpcheck $(DESTDIR)$(MANDIR)/man1/smtpcheck.1

clean:
	rm -rf build build-asan build-fuzz smtpcheck

-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d)
