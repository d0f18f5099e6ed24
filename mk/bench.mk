# bench.mk - `make bench`: build the benchmark programs of bench/ and run every benchmark
# script in turn. They print figures, never pass/fail (see docs/PERFORMANCE.md).
#   make bench                         every script (reflector, session, setup, concurrency:
#                                      9-10 minutes on 2 cores; then load.sh, accuracy.sh)
#   make bench BENCH_SCRIPTS=bench/setup.sh   one of them
# bench/lib.sh is sourced by the scripts, not run.

BENCH_SRC     := $(sort $(wildcard bench/*.c))
BENCH_BIN     := $(patsubst %.c,$(BUILD)/%,$(BENCH_SRC))
BENCH_SCRIPTS ?= $(filter-out bench/lib.sh,$(sort $(wildcard bench/*.sh)))

.PHONY: bench bench-build

$(BUILD)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(PCAP_LIBS) $(LDLIBS)

bench-build: $(LIB) $(PROGS) $(BENCH_BIN) $(BUILD)/tests/netsim/netsim

bench: bench-build
	@for s in $(BENCH_SCRIPTS); do \
	    echo "=== $$s"; t0=$$(date +%s); \
	    bash "$$s" || echo "($$s exited with status $$?)"; \
	    echo "=== $$s took $$(( $$(date +%s) - t0 )) s"; echo; \
	done

