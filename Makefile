# softflowd.  `make` runs ./configure (and autoreconf) when needed.

include config.mk

PREFIX ?= $(prefix)
DESTDIR ?=
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
SYSCONFDIR ?= /etc

WARN = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude $(PCAP_CFLAGS) \
	$(EVENT_CFLAGS) $(INIH_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LIBS = $(PCAP_LIBS) $(EVENT_LIBS) $(INIH_LIBS)

# The pipeline, one module per stage; main.c ties them together.
CORE_OBJS = src/log.o src/siphash.o src/decode.o src/flowtable.o \
	src/nf5.o src/nf9.o src/export.o src/capture.o src/config.o \
	src/stats.o
DAEMON_OBJS = $(CORE_OBJS) src/main.o
HEADERS = $(wildcard include/*.h)

# Unit tests: tests/test_NAME.c, cmocka, linked with the core modules.
UNIT_SRCS = $(wildcard tests/test_*.c)
UNIT_TESTS = $(UNIT_SRCS:.c=)

all: softflowd

softflowd: $(DAEMON_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIBS)

src/%.o: src/%.c $(HEADERS) config.mk
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

tests/test_%: tests/test_%.c $(CORE_OBJS) $(HEADERS)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(CORE_OBJS) $(CMOCKA_LIBS) $(LIBS)

unit: $(UNIT_TESTS)

# The whole suite; its last line is "N passed, N failed".
check: all unit
	tests/run_tests.sh

# The same suite under AddressSanitizer and UndefinedBehaviorSanitizer.
check-asan:
	$(MAKE) clean
	$(MAKE) all unit EXTRA_CFLAGS="-O1 -fsanitize=address,undefined \
		-fno-omit-frame-pointer -fno-sanitize-recover=all" \
		LDFLAGS="-fsanitize=address,undefined"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		tests/run_tests.sh
	$(MAKE) clean

demo: all
	tests/demo.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5
	install -m 755 softflowd $(DESTDIR)$(SBINDIR)/softflowd
	for m in man/*.8; do [ -f "$$m" ] && \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true
	for m in man/*.5; do [ -f "$$m" ] && \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/softflowd $(DESTDIR)$(SBINDIR)/softflowctl
	rm -f $(DESTDIR)$(MANDIR)/man8/softflowd.8 \
		$(DESTDIR)$(MANDIR)/man8/softflowctl.8 \
		$(DESTDIR)$(MANDIR)/man5/softflowd.conf.5

config.mk: config.mk.in configure
	./configure

configure: configure.ac
	autoreconf -fi

clean:
	rm -f softflowd softflowctl src/*.o tests/*.o $(UNIT_TESTS)
	rm -rf tests/out

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache

.PHONY: all unit check check-asan demo install uninstall clean distclean
