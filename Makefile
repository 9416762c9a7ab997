# softflowd.  `make` runs ./configure (and autoreconf) when needed.

include config.mk

PREFIX ?= $(prefix)
DESTDIR ?=
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man

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

all: softflowd

softflowd: $(DAEMON_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIBS)

src/%.o: src/%.c $(HEADERS) config.mk
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

config.mk: config.mk.in configure
	./configure

configure: configure.ac
	autoreconf -fi

clean:
	rm -f softflowd softflowctl src/*.o tests/*.o $(UNIT_TESTS)
	rm -rf tests/out

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache

.PHONY: all clean distclean
