# fuzz.mk -- libFuzzer harnesses for the parsers of untrusted bytes (tests/fuzz/).
# Included by the top-level Makefile; also works alone: make -f tests/fuzz/fuzz.mk fuzz-smoke
#   make fuzz          each harness for FUZZ_SECONDS (default 60), two at a time
#   make fuzz-smoke    each harness for 10 s, after replaying tests/fuzz/regressions/
#   make fuzz-regress  replay tests/fuzz/regressions/<harness>/* only
# Seeds are copied to a scratch corpus under build/fuzz/ so the tree is never written.

FUZZ_CC ?= clang
FUZZ_BUILD ?= build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
# Regressions replay with the known-issue tolerances of the harnesses off.
FUZZ_STRICT ?= 1
FUZZ_DIR := tests/fuzz
FUZZ_LLHTTP_SRC ?= /usr/share/llhttp
FUZZ_LLHTTP_INC ?= /usr/share/include/llhttp
FUZZ_PKGS := libcares openssl libcurl zlib libxml-2.0 libisal hiredis

FUZZ_WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
# Objects get coverage instrumentation only; libFuzzer's main is linked into each harness.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CPPFLAGS := -Iinclude -Isrc -I$(FUZZ_LLHTTP_INC) -D_GNU_SOURCE -DACR_DEBUG \
                 $(shell pkg-config --cflags $(FUZZ_PKGS) 2>/dev/null)
FUZZ_CFLAGS := -std=c11 $(FUZZ_WARN) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LDLIBS := $(shell pkg-config --libs $(FUZZ_PKGS) 2>/dev/null) -lm

FUZZ_NAMES := url http1 decode input writeout
FUZZ_BINS := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)

# The whole library, so a harness pulls in what it needs and nothing is listed twice.
FUZZ_LIB_SRC := $(wildcard src/util/*.c src/runtime/*.c src/transport/*.c src/http/*.c src/crawl/*.c src/archive/*.c src/redis/*.c src/dist/*.c src/jobs/*.c src/app/*.c)
FUZZ_LIB_OBJ := $(FUZZ_LIB_SRC:%.c=$(FUZZ_BUILD)/%.o) \
                $(patsubst %.S,$(FUZZ_BUILD)/%.o,$(wildcard src/runtime/*.S)) \
                $(FUZZ_BUILD)/llhttp/llhttp.o $(FUZZ_BUILD)/llhttp/api.o $(FUZZ_BUILD)/llhttp/http.o
FUZZ_LIB := $(FUZZ_BUILD)/libacrawl-fuzz.a

# -max_len per harness: responses and line lists need room (a line over 64 KiB is its
# own case); URLs and templates are short.
FUZZ_MAXLEN_url := 4096
FUZZ_MAXLEN_http1 := 65536
FUZZ_MAXLEN_decode := 16384
FUZZ_MAXLEN_input := 140000
FUZZ_MAXLEN_writeout := 4096

.PHONY: fuzz fuzz-smoke fuzz-regress fuzz-build

fuzz-build: $(FUZZ_BINS)

$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_BUILD)/%.o: %.S
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_SAN) -c -o $@ $<

$(FUZZ_BUILD)/llhttp/%.o: $(FUZZ_LLHTTP_SRC)/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -I$(FUZZ_LLHTTP_INC) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link -w -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(FUZZ_LDLIBS)

# One harness for $(2) seconds: fresh scratch corpus seeded from the tree, findings
# (crash-*, leak-*, timeout-*) kept in $(FUZZ_BUILD)/artifacts/<name>/.
define fuzz_run
	@rm -rf $(FUZZ_BUILD)/corpus/$(1) && mkdir -p $(FUZZ_BUILD)/corpus/$(1) $(FUZZ_BUILD)/artifacts/$(1)
	@cp $(FUZZ_DIR)/corpus/$(1)/* $(FUZZ_BUILD)/corpus/$(1)/ 2>/dev/null || true
	@echo "fuzz $(1): $(2) s"
	@$(FUZZ_BUILD)/fuzz_$(1) -max_total_time=$(2) -max_len=$(FUZZ_MAXLEN_$(1)) -timeout=10 \
	  -rss_limit_mb=2048 -print_final_stats=1 -dict=$(FUZZ_DIR)/$(1).dict \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)/ $(FUZZ_BUILD)/corpus/$(1) \
	  >$(FUZZ_BUILD)/fuzz_$(1).log 2>&1 || { tail -n 60 $(FUZZ_BUILD)/fuzz_$(1).log; \
	  echo "fuzz $(1): FAILED (log $(FUZZ_BUILD)/fuzz_$(1).log)"; exit 1; }
	@grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)|^#[0-9]+[[:space:]]+DONE' \
	  $(FUZZ_BUILD)/fuzz_$(1).log | sed 's/^/fuzz $(1): /'
endef

FUZZ_RUNS := $(FUZZ_NAMES:%=fuzz-run-%)
FUZZ_SMOKES := $(FUZZ_NAMES:%=fuzz-smoke-%)
.PHONY: $(FUZZ_RUNS) $(FUZZ_SMOKES)

$(FUZZ_RUNS): fuzz-run-%: $(FUZZ_BUILD)/fuzz_%
	$(call fuzz_run,$*,$(FUZZ_SECONDS))

$(FUZZ_SMOKES): fuzz-smoke-%: $(FUZZ_BUILD)/fuzz_%
	$(call fuzz_run,$*,10)

# Every file under regressions/<name>/ is run once (libFuzzer runs given files, no fuzzing).
fuzz-regress: $(FUZZ_BINS)
	@set -e; for n in $(FUZZ_NAMES); do \
	  files=$$(find $(FUZZ_DIR)/regressions/$$n -type f 2>/dev/null | sort); \
	  [ -z "$$files" ] && continue; \
	  echo "fuzz-regress $$n: $$(echo $$files | wc -w) inputs"; \
	  FUZZ_STRICT=$(FUZZ_STRICT) $(FUZZ_BUILD)/fuzz_$$n -runs=1 $$files >$(FUZZ_BUILD)/regress_$$n.log 2>&1 || \
	    { tail -n 60 $(FUZZ_BUILD)/regress_$$n.log; echo "fuzz-regress $$n: FAILED"; exit 1; }; \
	done

# Harnesses are built first (the library build uses both cores), then run two at a time.
fuzz: fuzz-regress
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) -j$(FUZZ_JOBS) $(FUZZ_RUNS)

fuzz-smoke: fuzz-regress
	@$(MAKE) --no-print-directory -f $(firstword $(MAKEFILE_LIST)) -j$(FUZZ_JOBS) $(FUZZ_SMOKES)

-include $(shell find $(FUZZ_BUILD) -name '*.d' 2>/dev/null)
