# owamp-tools: OWAMP/TWAMP/STAMP toolkit. See README.md.
#   make            build the library and every program
#   make check      install missing packages if needed, build, run every test layer
#   make demo       start owampd and twampd on loopback, run owping and twping against them
#   make install    PREFIX=/usr/local DESTDIR=

CC       ?= cc
PREFIX   ?= /usr/local
DESTDIR  ?=
SYSCONFDIR ?= /etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system
EXAMPLEDIR ?= $(PREFIX)/share/doc/owamp-tools/examples
PKGS     := libsodium nettle libbsd json-c
OPTFLAGS ?= -O2 -g -gdwarf-4
CFLAGS   ?=
CFLAGS   += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE $(OPTFLAGS) \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -iquote libprotocol
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
PCAP_LIBS   := $(shell pkg-config --libs libpcap 2>/dev/null || echo -lpcap)
# The programs link libsodium, nettle, libbsd (with libmd) and json-c statically (the .a files
# come with the -dev packages): the loader then maps only libc, plus libpcap for the clients,
# and a program holds only the objects it uses. Idle owampd/twampd RSS 2.6 -> 2.2 MB, owping
# start-up about 1 ms shorter. Rebuild after a security update of one of these libraries, or
# link them as shared libraries with STATIC_DEPS=no. The daemons do not take libpcap, and
# --as-needed (gcc's default on Debian, not clang's) drops any library a program does not use.
STATIC_DEPS ?= yes
ifeq ($(STATIC_DEPS),yes)
PROG_LIBS := -Wl,--push-state,-Bstatic $(shell pkg-config --static --libs-only-l $(PKGS) 2>/dev/null) \
             -Wl,--pop-state -lm
else
PROG_LIBS := $(LDLIBS)
endif
PROG_LDFLAGS := -Wl,--as-needed $(LDFLAGS)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

LIB_SRC  := $(sort $(wildcard libprotocol/*.c))
LIB_OBJ  := $(LIB_SRC:.c=.o)
LIB      := libprotocol/libprotocol.a

PROGS    := owampd/owampd twampd/twampd owping/owping owping/twping owping/owstats owping/powstream
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:.c=)
TEST_BIN := $(UNIT_BIN) tests/interop/test_interop
HELPERS  := $(patsubst %.c,%,$(wildcard tests/helpers/*.c)) $(if $(wildcard tests/netsim/netsim.c),tests/netsim/netsim)

.PHONY: all check deps demo install uninstall clean format check-sanitize check-valgrind

all: $(LIB) $(PROGS)

deps:
	@sh scripts/deps.sh

$(LIB): $(LIB_OBJ)
	$(AR) rcs $@ $^

libprotocol/%.o: libprotocol/%.c $(wildcard libprotocol/*.h)
	$(CC) $(CFLAGS) -c -o $@ $<

owampd/owampd: owampd/main.c $(LIB)
	$(CC) $(CFLAGS) $(PROG_LDFLAGS) -o $@ $< $(LIB) $(PROG_LIBS)

twampd/twampd: twampd/main.c $(LIB)
	$(CC) $(CFLAGS) $(PROG_LDFLAGS) -o $@ $< $(LIB) $(PROG_LIBS)

owping/owping: $(wildcard owping/*.c owping/*.h) $(LIB)
	$(CC) $(CFLAGS) $(PROG_LDFLAGS) -iquote owping -o $@ $(wildcard owping/*.c) $(LIB) $(PCAP_LIBS) \
	    $(PROG_LIBS)

owping/twping owping/owstats owping/powstream: owping/owping
	ln -f $< $@

tests/unit/test_%: tests/unit/test_%.c $(LIB)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(CMOCKA_LIBS) $(PCAP_LIBS) $(LDLIBS)

tests/interop/test_interop: tests/interop/test_interop.c $(LIB)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(CMOCKA_LIBS) $(PCAP_LIBS) $(LDLIBS)

tests/netsim/netsim: $(wildcard tests/netsim/*.c tests/netsim/*.h)
	$(CC) $(CFLAGS) -o $@ $(filter %.c,$^) -lm

tests/helpers/%: tests/helpers/%.c $(LIB)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(PCAP_LIBS) $(LDLIBS)

check: deps
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(HELPERS)
	@sh tests/run.sh $(TEST_BIN) $(sort $(wildcard tests/e2e/*.sh))

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (rebuilds everything).
SAN_FLAGS := -O1 -g -gdwarf-4 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
check-sanitize: deps
	@$(MAKE) --no-print-directory clean
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) --no-print-directory check OPTFLAGS="$(SAN_FLAGS)"
	@$(MAKE) --no-print-directory clean

# Unit and interoperability tests, and the daemons of the end-to-end tests, under valgrind.
check-valgrind: deps
	@command -v valgrind >/dev/null || { echo "check-valgrind: valgrind not installed"; exit 1; }
	@$(MAKE) --no-print-directory all $(TEST_BIN) $(HELPERS)
	@RUN_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
	    sh tests/run.sh $(TEST_BIN) $(sort $(wildcard tests/e2e/*.sh))

demo: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 owping/owping $(DESTDIR)$(PREFIX)/bin/owping
	for p in twping owstats powstream; do ln -f $(DESTDIR)$(PREFIX)/bin/owping $(DESTDIR)$(PREFIX)/bin/$$p; done
	install -m 755 owampd/owampd twampd/twampd $(DESTDIR)$(PREFIX)/sbin/
	for f in $(wildcard man/*.1); do install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man1/; done
	for f in $(wildcard man/*.5); do install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man5/; done
	for f in $(wildcard man/*.8); do install -m 644 $$f $(DESTDIR)$(PREFIX)/share/man/man8/; done
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(EXAMPLEDIR)
	for u in owampd twampd; do \
	    sed -e 's|/usr/local/sbin/|$(PREFIX)/sbin/|' -e 's|-c /etc/|-c $(SYSCONFDIR)/|' \
	        contrib/systemd/$$u.service >$(DESTDIR)$(UNITDIR)/$$u.service && \
	    chmod 644 $(DESTDIR)$(UNITDIR)/$$u.service || exit 1; \
	done
	install -m 644 contrib/config/*-server.conf contrib/config/*-server.limits \
	    contrib/config/*-server.pfs $(DESTDIR)$(EXAMPLEDIR)/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/owping $(DESTDIR)$(PREFIX)/bin/twping \
	    $(DESTDIR)$(PREFIX)/bin/owstats $(DESTDIR)$(PREFIX)/bin/powstream \
	    $(DESTDIR)$(PREFIX)/sbin/owampd $(DESTDIR)$(PREFIX)/sbin/twampd
	for f in $(notdir $(wildcard man/*.1)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man1/$$f; done
	for f in $(notdir $(wildcard man/*.5)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man5/$$f; done
	for f in $(notdir $(wildcard man/*.8)); do rm -f $(DESTDIR)$(PREFIX)/share/man/man8/$$f; done
	rm -f $(DESTDIR)$(UNITDIR)/owampd.service $(DESTDIR)$(UNITDIR)/twampd.service
	rm -f $(DESTDIR)$(EXAMPLEDIR)/owamp-server.* $(DESTDIR)$(EXAMPLEDIR)/twamp-server.*
	-rmdir $(DESTDIR)$(EXAMPLEDIR)

# Further targets (fuzz, bench, ...) live in mk/*.mk.
-include $(sort $(wildcard mk/*.mk))

format:
	clang-format -i libprotocol/*.[ch] owampd/*.c twampd/*.c owping/*.[ch] tests/*/*.c

clean:
	rm -f $(LIB) $(LIB_OBJ) $(PROGS) $(UNIT_BIN) tests/interop/test_interop $(HELPERS)
