# Makefile -- acrawl. `make` builds ./acrawl; `make check` installs what is
# missing, builds and runs every test; `make bench` runs the benchmarks.

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
# The client library (runtime, transport, http) needs c-ares, OpenSSL and zlib; only
# the program (crawl, jobs, app) needs libcurl (its comparison engine) and libxml2
# (link extraction and sitemaps).
LIB_PKGS := libcares openssl zlib
PKGS := $(LIB_PKGS) libcurl libxml-2.0 libisal hiredis
LLHTTP_SRC ?= /usr/share/llhttp
LLHTTP_INC ?= /usr/share/include/llhttp

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
ifneq ($(CI),)
WARN += -Werror
endif
OPT ?= -O2 -g
CFLAGS ?=
CPPFLAGS := -Iinclude -Isrc -I$(LLHTTP_INC) -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Runtime invariants (ACR_ASSERT) are checked in sanitizer and debug builds.
CHECKS := $(if $(SANFLAGS)$(DEBUG),-DACR_DEBUG)
ALL_CFLAGS := -std=c11 $(WARN) $(OPT) -fstack-clash-protection $(CHECKS) $(SANFLAGS) $(CFLAGS)
LIB_LDLIBS := $(shell pkg-config --libs $(LIB_PKGS) 2>/dev/null) -lm
LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
TEST_LDLIBS := $(shell pkg-config --libs criterion 2>/dev/null)

LIB_SRC := $(wildcard src/util/*.c src/runtime/*.c src/transport/*.c src/http/*.c)
PROG_SRC := $(wildcard src/crawl/*.c src/archive/*.c src/redis/*.c src/dist/*.c src/jobs/*.c src/app/*.c)
LIB_ASM := $(wildcard src/runtime/*.S)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(LIB_ASM:%.S=$(BUILD)/%.o) \
           $(BUILD)/llhttp/llhttp.o $(BUILD)/llhttp/api.o $(BUILD)/llhttp/http.o
LIB := $(BUILD)/libacrawl.a
PROG_OBJ := $(PROG_SRC:%.c=$(BUILD)/%.o)
PROG_LIB := $(BUILD)/libacrawl-prog.a

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
SERVER_SRC := $(wildcard tests/server/*.c)
SERVER_BIN := $(BUILD)/acrawl-testserver
BENCH_SRC := $(wildcard bench/*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)

.PHONY: all deps check unit cli arch asan debug valgrind bench bench-runtime bench-http bench-cli bench-crawl bench-archive bench-redis demo install clean

# The main job on a fresh machine (see scripts/demo.sh).
demo:
	@bash scripts/demo.sh

EXAMPLE_BIN := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))

all: acrawl $(if $(SERVER_SRC),$(SERVER_BIN)) $(EXAMPLE_BIN)

deps:
	@bash scripts/deps.sh

# Through a new file: a running ./acrawl (a test, a bench) keeps its old inode.
acrawl: $(BUILD)/acrawl
	cp $< $@.tmp && mv -f $@.tmp $@

$(BUILD)/acrawl: $(BUILD)/main.o $(PROG_LIB) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# The archives also depend on the Makefile: a change to what goes in rebuilds them.
$(LIB): $(LIB_OBJ) Makefile
	@rm -f $@
	ar rcs $@ $(filter %.o,$^)

$(PROG_LIB): $(PROG_OBJ) Makefile
	@rm -f $@
	ar rcs $@ $(filter %.o,$^)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# llhttp is compiled from Debian's sources, never copied into the tree.
$(BUILD)/llhttp/%.o: $(LLHTTP_SRC)/%.c
	@mkdir -p $(dir $@)
	$(CC) -I$(LLHTTP_INC) $(OPT) $(SANFLAGS) -w -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(PROG_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(PROG_LIB) $(LIB) $(TEST_LDLIBS) $(LDLIBS)

# The test server and the examples use the client library alone (no libcurl).
$(SERVER_BIN): $(SERVER_SRC:%.c=$(BUILD)/%.o) $(LIB)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LIB_LDLIBS)

$(BUILD)/examples/%: examples/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(LIB) $(LIB_LDLIBS)

$(BUILD)/bench/%: bench/%.c $(PROG_LIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(PROG_LIB) $(LIB) $(LDLIBS)

CERTS := build/certs

$(CERTS)/done: tests/server/mkcerts.sh
	bash tests/server/mkcerts.sh $(CERTS)

unit: $(UNIT_BIN) $(SERVER_BIN) $(CERTS)/done
	@ACR_TESTSERVER=$(SERVER_BIN) ACR_CERTS=$(CERTS) scripts/run-tests.sh $(UNIT_BIN)

cli: all
	bats tests/cli

# Unit tests again under ASan+UBSan (coroutine switches are annotated for ASan).
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g" \
	  SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" unit

# Unit tests with the invariant checks on, unoptimised, no sanitizer.
debug:
	$(MAKE) BUILD=build/debug OPT="-O0 -g" DEBUG=1 unit

# Runtime tests under memcheck, with task stacks registered with Valgrind.
VG_TESTS := test_loop test_task test_sync test_url
valgrind:
	$(MAKE) BUILD=build/valgrind OPT="-O1 -g" CFLAGS="-DACR_VALGRIND" \
	  $(addprefix build/valgrind/tests/,$(VG_TESTS))
	set -e; for t in $(VG_TESTS); do \
	  valgrind -q --error-exitcode=1 --leak-check=full build/valgrind/tests/$$t --jobs 1 \
	    --filter '*/!(guard_page*)'; done

# The runtime alone on the other switch implementations: the ucontext fallback
# (native), and AArch64 cross-built and run under qemu-user.
RT_SRC := $(wildcard src/runtime/*.c) src/util/heap.c src/util/alloc.c
arch: build/arch/smoke-ucontext build/arch/smoke-aarch64
	build/arch/smoke-ucontext
	qemu-aarch64 build/arch/smoke-aarch64

build/arch/smoke-ucontext: tests/arch/smoke.c $(RT_SRC)
	@mkdir -p $(dir $@)
	$(CC) -Iinclude -Isrc -D_GNU_SOURCE -DACR_UCONTEXT -std=c11 $(WARN) -O2 -o $@ $^

build/arch/smoke-aarch64: tests/arch/smoke.c $(RT_SRC) src/runtime/switch_aarch64.S
	@mkdir -p $(dir $@)
	aarch64-linux-gnu-gcc -Iinclude -Isrc -D_GNU_SOURCE -std=c11 $(WARN) -O2 -static -o $@ $^

check: deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) cli
	$(MAKE) arch
	$(MAKE) asan
	$(MAKE) fuzz-smoke
	$(MAKE) stress-short

bench-runtime: $(BUILD)/bench/bench_runtime
	$(BUILD)/bench/bench_runtime

bench-http: all $(BUILD)/bench/bench_http $(CERTS)/done
	BUILD=$(BUILD) bash bench/run_http.sh

bench-cli: all $(CERTS)/done
	BUILD=$(BUILD) bash bench/run_cli.sh

bench-crawl: all $(BUILD)/bench/bench_links $(CERTS)/done
	BUILD=$(BUILD) bash bench/run_crawl.sh

bench-archive: all $(CERTS)/done
	BUILD=$(BUILD) bash bench/run_archive.sh

bench-redis: all $(CERTS)/done
	BUILD=$(BUILD) bash bench/run_redis.sh

bench: bench-runtime bench-http bench-cli bench-crawl bench-archive bench-redis

# The ASan+UBSan acrawl cancelled at random points against loopback servers
# (tests/stress/run.sh): about 20 minutes, or about 2 for stress-short.
.PHONY: stress stress-short
stress:
	bash tests/stress/run.sh --full
stress-short:
	bash tests/stress/run.sh --short

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 acrawl $(DESTDIR)$(PREFIX)/bin/acrawl
	install -m 644 acrawl.1 $(DESTDIR)$(PREFIX)/share/man/man1/acrawl.1

clean:
	rm -rf build acrawl

include tests/fuzz/fuzz.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
