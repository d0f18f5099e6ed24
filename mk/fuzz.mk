# fuzz.mk - fuzz harnesses (tests/fuzz/fuzz_<target>.c, libFuzzer entry points).
#   make fuzz                      build every harness with clang + libFuzzer + ASan/UBSan and
#                                  run each for FUZZ_SECONDS (one at a time), then print figures
#   make fuzz FUZZ_TARGETS="wire_ctrl cmsg" FUZZ_SECONDS=600
#   make fuzz ... FUZZ_FLAGS="-only_ascii=1"  extra libFuzzer flags
#   make fuzz-build                only build the fuzzers
#   make fuzz-seeds                regenerate the seeds from the interop captures into the
#                                  working corpus $(BUILD)/fuzz/corpus/<target> (one-off: the
#                                  committed corpus already holds the useful ones)
#   make fuzz-merge                minimise the committed corpus plus the working corpus (edge
#                                  coverage) into $(BUILD)/fuzz/merged/<target>; review, then
#                                  replace tests/fuzz/corpus/<target> with it
# The regression drivers ($(BUILD)/fuzz/regress/<target>: harness + driver.c, built with
# the normal $(CC) and library) replay tests/fuzz/corpus/<target> and
# tests/fuzz/crashes/<target> in `make check` (tests/e2e/07-fuzz-regress.sh).
# Everything built here lives under $(BUILD)/fuzz/ and never touches the normal objects.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_DIR     := tests/fuzz
FUZZ_OUT     := $(BUILD)/fuzz
FUZZ_ALL     := $(patsubst $(FUZZ_DIR)/fuzz_%.c,%,$(sort $(wildcard $(FUZZ_DIR)/fuzz_*.c)))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_HDRS    := $(wildcard $(FUZZ_DIR)/*.h) $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.h))
# UBSan findings stop the run (halt_on_error) unless listed in tests/fuzz/ubsan.supp: known
# bugs waiting for a fix, so that fuzzing can go on past them.
FUZZ_SAN     := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fsanitize-recover=undefined
FUZZ_ENV     := UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:suppressions=$(FUZZ_DIR)/ubsan.supp
# The normal flags minus optimisation and -Werror (clang may warn where gcc does not).
FUZZ_CFLAGS  := $(filter-out -O% -Werror,$(CFLAGS)) -iquote $(FUZZ_DIR) $(FUZZ_SAN)
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(LIB_SRC))
FUZZ_LIB     := $(FUZZ_OUT)/libprotocol-fuzz.a
FUZZ_BINS    := $(addprefix $(FUZZ_OUT)/bin/,$(FUZZ_ALL))
FUZZ_REGRESS := $(addprefix $(FUZZ_OUT)/regress/,$(FUZZ_ALL))

# `make check` builds the regression drivers with the other test helpers.
HELPERS += $(FUZZ_REGRESS)

.PHONY: fuzz fuzz-build fuzz-regress fuzz-merge fuzz-seeds fuzz-clean

FUZZ_INTEROP ?= ../shared/interop

$(FUZZ_OUT)/obj/%.o: %.c $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(filter-out -MMD -MP,$(FUZZ_CFLAGS)) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	$(AR) rcs $@ $^

$(FUZZ_OUT)/bin/%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_LIB) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(filter-out -MMD -MP,$(FUZZ_CFLAGS)) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(PCAP_LIBS) $(LDLIBS)

$(FUZZ_OUT)/regress/%: $(FUZZ_DIR)/fuzz_%.c $(FUZZ_DIR)/driver.c $(LIB) $(FUZZ_HDRS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -iquote $(FUZZ_DIR) -o $@ $< $(FUZZ_DIR)/driver.c $(LIB) $(PCAP_LIBS) $(LDLIBS)

$(FUZZ_OUT)/gen_seeds: $(FUZZ_DIR)/gen_seeds.c tests/interop/pcap_flow.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(PCAP_LIBS) $(LDLIBS)

fuzz-seeds: $(FUZZ_OUT)/gen_seeds
	@mkdir -p $(FUZZ_OUT)/corpus
	$(FUZZ_OUT)/gen_seeds $(FUZZ_INTEROP) $(FUZZ_OUT)/corpus

fuzz-build: $(addprefix $(FUZZ_OUT)/bin/,$(FUZZ_TARGETS))

fuzz-regress: $(FUZZ_REGRESS)

# One fuzzer at a time. New inputs go to $(FUZZ_OUT)/corpus/<t> (the committed corpus and
# the saved crashes are read only), crashes to $(FUZZ_OUT)/artifacts/<t>/.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(FUZZ_OUT)/corpus/$$t $(FUZZ_OUT)/artifacts/$$t $(FUZZ_DIR)/corpus/$$t \
	        $(FUZZ_DIR)/crashes/$$t; \
	    before=$$(ls $(FUZZ_OUT)/artifacts/$$t | wc -l); \
	    echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_ENV) $(FUZZ_OUT)/bin/$$t $(FUZZ_OUT)/corpus/$$t $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/crashes/$$t \
	        -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
	        -artifact_prefix=$(FUZZ_OUT)/artifacts/$$t/ $(FUZZ_FLAGS) \
	        >$(FUZZ_OUT)/$$t.log 2>&1; \
	    rc=$$?; \
	    after=$$(ls $(FUZZ_OUT)/artifacts/$$t | wc -l); \
	    last=$$(grep -E '^#[0-9]+' $(FUZZ_OUT)/$$t.log | tail -1); \
	    echo "   $$t: $$(echo "$$last" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[^ ]+')"; \
	    echo "   $$t: execs $$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_OUT)/$$t.log)," \
	        "$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_OUT)/$$t.log) exec/s," \
	        "new corpus files $$(sed -n 's/^stat::new_units_added: *//p' $(FUZZ_OUT)/$$t.log)," \
	        "crashes $$((after - before)) (exit $$rc; log $(FUZZ_OUT)/$$t.log)"; \
	done

# Minimise committed corpus + new finds per target (review, then copy into tests/fuzz/corpus).
fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	    rm -rf $(FUZZ_OUT)/merged/$$t; mkdir -p $(FUZZ_OUT)/merged/$$t $(FUZZ_OUT)/corpus/$$t; \
	    $(FUZZ_ENV) $(FUZZ_OUT)/bin/$$t -merge=1 -use_counters=0 $(FUZZ_OUT)/merged/$$t $(FUZZ_DIR)/corpus/$$t \
	        $(FUZZ_OUT)/corpus/$$t >$(FUZZ_OUT)/$$t.merge.log 2>&1; \
	    echo "$$t: $$(ls $(FUZZ_OUT)/merged/$$t | wc -l) inputs in $(FUZZ_OUT)/merged/$$t"; \
	done

fuzz-clean:
	rm -rf $(FUZZ_OUT)
