# owamp-tools: OWAMP/TWAMP/STAMP toolkit. See README.md and HACKING.md.
#   make            build the library and every program (everything built goes to $(BUILD))
#   make check      install missing packages if needed, lint, build, run every test layer
#   make demo       start owampd and twampd on loopback, run owping and twping against them
#   make lint       formatting, static analysis, the layering rule
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        Debian packages (debian/)

VERSION  := $(shell cat VERSION)
CC       ?= cc
BUILD    ?= build
PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
EXAMPLEDIR ?= $(PREFIX)/share/doc/owamp-tools/examples
PKGS     := libsodium nettle libbsd json-c
OPTFLAGS ?= -O2 -g -gdwarf-4
# Warnings beyond -Wall -Wextra: shadowed names, prototypes for every exported function,
# format strings checked, no const cast away.
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 \
            -Wcast-qual
# The folders of the layers (see docs/ARCHITECTURE.md); every one is on the quote include
# path, and `make lint` keeps includes from pointing to a higher layer.
LIB_DIRS := libprotocol/base libprotocol/packet libprotocol/proto libprotocol/report
SRC_DIRS := $(LIB_DIRS) daemon clientcore probecore owping owampd twampd exporter
CFLAGS   ?=
CFLAGS   += -std=c11 $(WARNINGS) -D_GNU_SOURCE -DOWAMP_TOOLS_VERSION='"$(VERSION)"' $(OPTFLAGS) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(addprefix -iquote ,$(LIB_DIRS)) \
            -MMD -MP
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
PCAP_LIBS   := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
# The programs link libsodium, nettle, libbsd (with libmd) and json-c statically (the .a files
# come with the -dev packages): the loader then maps only libc, plus libpcap for the clients,
# and a program holds only the objects it uses. Idle owampd/twampd RSS 2.6 -> 2.2 MB, owping
# start-up about 1 ms shorter. Rebuild after a security update of one of these libraries, or
# link them as shared libraries with STATIC_DEPS=no (as the Debian packages do). The daemons
# do not take libpcap, and --as-needed (gcc's default on Debian, not clang's) drops any
# library a program does not use.
STATIC_DEPS ?= yes
ifeq ($(STATIC_DEPS),yes)
PROG_LIBS := -Wl,--push-state,-Bstatic $(shell pkg-config --static --libs-only-l $(PKGS) 2>/dev/null) \
             -Wl,--pop-state -lm
BPF_LIBS  := -Wl,--push-state,-Bstatic $(shell pkg-config --static --libs-only-l libbpf 2>/dev/null) \
             -Wl,--pop-state
else
PROG_LIBS := $(LDLIBS)
BPF_LIBS  := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)
endif
PROG_LDFLAGS := -Wl,--as-needed $(LDFLAGS)
# ippm_exporter alone takes libyaml and libmicrohttpd (shared): the daemons and the clients
# gain nothing from them.
EXP_PKGS    := yaml-0.1 libmicrohttpd
EXP_CFLAGS  := $(shell pkg-config --cflags $(EXP_PKGS) 2>/dev/null)
EXP_LIBS    := $(shell pkg-config --libs $(EXP_PKGS) 2>/dev/null || echo -lyaml -lmicrohttpd)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
# The daemons' egress stamping (daemon/egress.h): an eBPF program built with clang, held in
# the daemon as bytes and loaded by libbpf, which only the daemons link (statically with
# libelf and zlib under STATIC_DEPS=yes: as shared libraries their relocations alone cost
# every idle daemon about 380 KB of RSS, for an option that is off by default).
BPF_CC      ?= clang
BPF_CFLAGS  := -O2 -g -target bpf -Wall -Wextra -Werror -iquote daemon/bpf \
               -I/usr/include/$(shell gcc -print-multiarch 2>/dev/null)
BPF_OBJ     := $(BUILD)/daemon/bpf/egress_stamp.o

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

LIB_SRC    := $(sort $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c)))
LIB        := $(BUILD)/libprotocol.a
DAEMON_LIB := $(BUILD)/libdaemon.a
CLIENT_LIB := $(BUILD)/libclient.a
PROBE_LIB  := $(BUILD)/libprobe.a
BIN        := $(BUILD)/bin
CLIENTS    := $(BIN)/owping $(BIN)/twping $(BIN)/owstats $(BIN)/powstream
PROGS      := $(BIN)/owampd $(BIN)/twampd $(CLIENTS) $(BIN)/ippm_exporter
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(patsubst %.c,$(BUILD)/%,$(UNIT_SRC))
# tests/unit/test_probe_*.c test probecore/ (the exporter's core) and link it too
TEST_BIN   := $(UNIT_BIN) $(BUILD)/tests/interop/test_interop
HELPERS    := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/helpers/*.c)) $(BUILD)/tests/netsim/netsim
# What the test scripts are told: where the programs are.
export OWAMP_TOOLS_BUILD := $(abspath $(BUILD))

.PHONY: all check deps demo install uninstall clean format lint check-sanitize check-valgrind

all: $(LIB) $(PROGS)

deps:
	@sh scripts/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIB): $(call obj,$(LIB_SRC))
	$(AR) rcs $@ $^

$(BUILD)/daemon/%.o: CFLAGS += -iquote daemon
$(DAEMON_LIB): $(call obj,$(wildcard daemon/*.c)) $(BUILD)/daemon/egress_obj.o
	$(AR) rcs $@ $^

$(BPF_OBJ): daemon/bpf/egress_stamp.c daemon/bpf/egress_map.h
	@mkdir -p $(@D)
	$(BPF_CC) $(BPF_CFLAGS) -c -o $@ $<

$(BUILD)/daemon/egress_obj.o: daemon/egress_obj.S $(BPF_OBJ)
	@mkdir -p $(@D)
	$(CC) -DEGRESS_BPF_OBJ='"$(BPF_OBJ)"' -c -o $@ $<

$(BUILD)/clientcore/%.o: CFLAGS += -iquote clientcore
$(CLIENT_LIB): $(call obj,$(wildcard clientcore/*.c))
	$(AR) rcs $@ $^

$(BUILD)/probecore/%.o: CFLAGS += -iquote probecore $(EXP_CFLAGS)
$(PROBE_LIB): $(call obj,$(wildcard probecore/*.c))
	$(AR) rcs $@ $^

$(BUILD)/owampd/%.o $(BUILD)/twampd/%.o: CFLAGS += -iquote daemon
$(BIN)/owampd: $(BUILD)/owampd/main.o $(DAEMON_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROG_LDFLAGS) -o $@ $^ $(BPF_LIBS) $(PROG_LIBS)

$(BIN)/twampd: $(BUILD)/twampd/main.o $(DAEMON_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROG_LDFLAGS) -o $@ $^ $(BPF_LIBS) $(PROG_LIBS)

# owping, twping, owstats and powstream are one program, chosen by the name it runs under.
$(BUILD)/owping/%.o: CFLAGS += -iquote clientcore
$(BIN)/owping: $(call obj,$(wildcard owping/*.c)) $(CLIENT_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROG_LDFLAGS) -o $@ $^ $(PCAP_LIBS) $(PROG_LIBS)

$(BIN)/twping $(BIN)/owstats $(BIN)/powstream: $(BIN)/owping
	ln -f $< $@

$(BUILD)/exporter/%.o: CFLAGS += -iquote probecore
$(BIN)/ippm_exporter: $(call obj,$(wildcard exporter/*.c)) $(PROBE_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PROG_LDFLAGS) -o $@ $^ $(EXP_LIBS) $(PROG_LIBS)

$(BUILD)/tests/unit/test_%: tests/unit/test_%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(CMOCKA_LIBS) $(PCAP_LIBS) $(LDLIBS)

$(BUILD)/tests/unit/test_probe_%: tests/unit/test_probe_%.c $(PROBE_LIB) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -iquote probecore $(EXP_CFLAGS) -o $@ $< $(PROBE_LIB) $(LIB) $(CMOCKA_LIBS) \
	    $(EXP_LIBS) $(LDLIBS)

$(BUILD)/tests/interop/test_interop: tests/interop/test_interop.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(CMOCKA_LIBS) $(PCAP_LIBS) $(LDLIBS)

$(BUILD)/tests/netsim/netsim: $(wildcard tests/netsim/*.c tests/netsim/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^) -lm

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(PCAP_LIBS) $(LDLIBS)

# The lint gate first (mk/lint.mk), then every test layer.
check: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(HELPERS)
	@sh tests/run.sh $(TEST_BIN) $(sort $(wildcard tests/e2e/*.sh))

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (in its own build
# folder: the normal objects stay as they are).
SAN_FLAGS := -O1 -g -gdwarf-4 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
check-sanitize: deps
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) --no-print-directory check BUILD=$(BUILD)/sanitize OPTFLAGS="$(SAN_FLAGS)"

# Unit and interoperability tests, and the daemons of the end-to-end tests, under valgrind.
check-valgrind: deps
	@command -v valgrind >/dev/null || { echo "check-valgrind: valgrind not installed"; exit 1; }
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(HELPERS)
	@RUN_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp" \
	    sh tests/run.sh $(TEST_BIN) $(sort $(wildcard tests/e2e/*.sh))

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BIN)/owping $(DESTDIR)$(PREFIX)/bin/owping
	for p in twping owstats powstream; do ln -f $(DESTDIR)$(PREFIX)/bin/owping $(DESTDIR)$(PREFIX)/bin/$$p; done
	install -m 755 $(BIN)/ippm_exporter $(DESTDIR)$(PREFIX)/bin/ippm_exporter
	install -m 755 $(BIN)/owampd $(BIN)/twampd $(DESTDIR)$(PREFIX)/sbin/
	for f in $(wildcard man/*.1); do install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man1/; done
	for f in $(wildcard man/*.5); do install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man5/; done
	for f in $(wildcard man/*.8); do install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man8/; done
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(EXAMPLEDIR)
	for u in owampd twampd; do \
	    sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|' -e 's|-c /etc/|-c $(SYSCONFDIR)/|' \
	        contrib/systemd/$$u.service >$(DESTDIR)$(UNITDIR)/$$u.service && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done
	sed -e 's|/usr/local/bin/|$(PREFIX)/bin/|' -e 's|--config.file /etc/|--config.file $(SYSCONFDIR)/|' \
	    contrib/systemd/ippm_exporter.service >$(DESTDIR)$(UNITDIR)/ippm_exporter.service
	chmod 644 $(DESTDIR)$(UNITDIR)/ippm_exporter.service
	install -m 644 contrib/config/*-server.conf contrib/config/*-server.limits \
	    contrib/config/*-server.pfs contrib/config/ippm_exporter.yml $(DESTDIR)$(EXAMPLEDIR)/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/owping $(DESTDIR)$(PREFIX)/bin/twping \
	    $(DESTDIR)$(PREFIX)/bin/owstats $(DESTDIR)$(PREFIX)/bin/powstream \
	    $(DESTDIR)$(PREFIX)/sbin/owampd $(DESTDIR)$(PREFIX)/sbin/twampd \
	    $(DESTDIR)$(PREFIX)/bin/ippm_exporter
	for f in $(notdir $(wildcard man/*.1)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man1/$$f; done
	for f in $(notdir $(wildcard man/*.5)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man5/$$f; done
	for f in $(notdir $(wildcard man/*.8)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man8/$$f; done
	rm -f $(DESTDIR)$(UNITDIR)/owampd.service $(DESTDIR)$(UNITDIR)/twampd.service \
	    $(DESTDIR)$(UNITDIR)/ippm_exporter.service
	rm -f $(DESTDIR)$(EXAMPLEDIR)/owamp-server.* $(DESTDIR)$(EXAMPLEDIR)/twamp-server.* \
	    $(DESTDIR)$(EXAMPLEDIR)/ippm_exporter.yml
	-rmdir $(DESTDIR)$(EXAMPLEDIR)

# Further targets (fuzz, bench, lint, deb) live in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
