# lint.mk - `make lint`: the checks a change must pass besides the tests (`make check` runs
# them first, so CI does):
#   - the layering rule (scripts/check-layers.sh: includes point down);
#   - clang-format (the version Debian 12 ships, 14) in check mode over every C file, with the
#     repository's .clang-format; `make format` rewrites them;
#   - cppcheck (warning, performance and portability checks) clean; not daemon/bpf/, the eBPF
#     program, which clang builds with -Werror for the BPF target and the kernel's verifier
#     checks at every load (cppcheck does not know its section macros);
#   - the extra warnings of the normal build are in WARNINGS (Makefile).

LINT_C     := $(sort $(shell git ls-files '*.c' '*.h' 2>/dev/null))
LINT_DIRS  := $(LIB_DIRS) daemon clientcore probecore owping owampd twampd exporter
CPPCHECK   := cppcheck --quiet --std=c11 --enable=warning,performance,portability --inline-suppr \
              --error-exitcode=1 -D_GNU_SOURCE --suppress=missingIncludeSystem \
              $(addprefix -I,$(LIB_DIRS) daemon clientcore probecore)

.PHONY: lint

lint: deps
	@sh scripts/check-layers.sh
	@clang-format --dry-run --Werror $(LINT_C) && echo "format: every C file as clang-format writes it"
	@$(CPPCHECK) -j2 -idaemon/bpf $(LINT_DIRS) tests/unit tests/helpers tests/interop tests/netsim bench \
	    && echo "cppcheck: clean"

format:
	clang-format -i $(LINT_C)
