# softflowd.  `make` runs ./configure (and autoreconf) when needed.

include config.mk

PREFIX ?= $(prefix)
DESTDIR ?=
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
DOCDIR = $(PREFIX)/share/doc/softflowd
SYSCONFDIR ?= /etc

WARN = -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) -Iinclude $(PCAP_CFLAGS) \
	$(EVENT_CFLAGS) $(INIH_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS)
LIBS = $(PCAP_LIBS) $(EVENT_LIBS) $(INIH_LIBS)

# Build directory: "." normally, build/asan for the sanitizer build.
B ?= .

# The pipeline, one module per stage; main.c ties them together.
CORE_SRCS = src/log.c src/siphash.c src/decode.c src/flowtable.c \
	src/nf5.c src/nf9.c src/export.c src/capture.c src/config.c \
	src/stats.c src/ctl_parse.c
CORE_OBJS = $(patsubst %.c,$(B)/%.o,$(CORE_SRCS))
# Service plumbing (control socket, systemd, privileges) calls into main.c.
DAEMON_OBJS = $(CORE_OBJS) $(B)/src/ctl.o $(B)/src/daemon.o $(B)/src/main.o
CTL_OBJS = $(B)/src/softflowctl.o $(B)/src/ctl_parse.o
HEADERS = $(wildcard include/*.h)

# Unit tests: tests/test_NAME.c, cmocka, linked with the core modules.
UNIT_SRCS = $(wildcard tests/test_*.c)
UNIT_TESTS = $(patsubst %.c,$(B)/%,$(UNIT_SRCS))

all: $(B)/softflowd $(B)/softflowctl

$(B)/softflowd: $(DAEMON_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(DAEMON_OBJS) $(LIBS)

$(B)/softflowctl: $(CTL_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CTL_OBJS)

$(B)/src/%.o: src/%.c $(HEADERS) config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/test_%: tests/test_%.c $(CORE_OBJS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(LDFLAGS) -o $@ $< \
		$(CORE_OBJS) $(CMOCKA_LIBS) $(LIBS)

unit: $(UNIT_TESTS)

# Deterministic synthetic captures for tests, the demo and the benchmark.
$(B)/tests/gen_traffic: tests/gen_traffic.c include/wbuf.h config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ tests/gen_traffic.c -lm

gen_traffic: $(B)/tests/gen_traffic

$(B)/bench/runprobe: bench/runprobe.c config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ bench/runprobe.c

# Replay speed and memory beside Debian's softflowd; bench-live captures
# tcpreplay's output on a veth pair (root).
bench: all gen_traffic $(B)/bench/runprobe
	B=$(B) bench/bench.sh

bench-live: all gen_traffic $(B)/bench/runprobe
	B=$(B) bench/bench.sh -l

# The whole suite; its last line is "N passed, N failed".
check: all unit gen_traffic fuzz-replay
	B=$(B) tests/run_tests.sh

# The suite under AddressSanitizer and UndefinedBehaviorSanitizer, built
# in build/asan so it never disturbs the normal build.
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
check-asan:
	$(MAKE) B=build/asan CFLAGS="$(ASAN_FLAGS)" \
		LDFLAGS="-fsanitize=address,undefined" all unit gen_traffic \
		fuzz-replay
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		B=build/asan tests/run_tests.sh

# Fuzzing: one libFuzzer target per parser of untrusted input,
# fuzz/fuzz_NAME.c.  `make fuzz` builds them with clang into build/fuzz
# (core objects too, so the normal build is untouched); `make fuzz-run`
# seeds them (every packet of $(SHARED)/pcaps, fuzz/seeds, the saved
# crashes) and runs each for FUZZ_SECONDS, failing on any crash.
FUZZ_NAMES = $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_B = build/fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link \
	$(FUZZ_SAN) -Wno-error=format-nonliteral -Wno-error=unused-function
FUZZ_SECONDS ?= 60
SHARED ?= ../shared

fuzz:
	$(MAKE) B=$(FUZZ_B) CC=clang CFLAGS="$(FUZZ_CFLAGS)" \
		LDFLAGS="$(FUZZ_SAN)" fuzz-targets

fuzz-targets: $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_NAMES))

$(FUZZ_B)/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(CORE_OBJS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ifuzz -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
		$(CORE_OBJS) $(LIBS)

fuzz-run: fuzz $(B)/tests/pcap2seeds
	rm -rf $(FUZZ_B)/seeds && mkdir -p $(FUZZ_B)/seeds/decode
	$(B)/tests/pcap2seeds $(FUZZ_B)/seeds/decode \
		$(wildcard $(SHARED)/pcaps/*.pcap $(SHARED)/pcaps/*.pcapng)
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh

# The same harnesses with a plain main() that replays files, built with
# the sanitizers of the compiler at hand: tests/t_fuzz_regress.sh replays
# the saved crashes through them in `make check`.
REPLAY_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all
$(B)/tests/replay_%: fuzz/fuzz_%.c fuzz/replay_main.c fuzz/fuzz.h \
    $(CORE_SRCS) $(HEADERS) config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ifuzz $(REPLAY_SAN) -o $@ $< fuzz/replay_main.c \
		$(CORE_SRCS) $(LIBS)

# Every packet of a capture as one fuzz_decode input.
$(B)/tests/pcap2seeds: fuzz/pcap2seeds.c fuzz/fuzz.h src/decode.c \
    $(HEADERS) config.mk
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -Ifuzz -o $@ fuzz/pcap2seeds.c \
		src/decode.c $(PCAP_LIBS)

fuzz-replay: $(patsubst %,$(B)/tests/replay_%,$(FUZZ_NAMES)) \
	$(B)/tests/pcap2seeds

demo: all gen_traffic
	tests/demo.sh

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5
	install -m 755 softflowd $(DESTDIR)$(SBINDIR)/softflowd
	install -m 755 softflowctl $(DESTDIR)$(SBINDIR)/softflowctl
	for m in man/*.8; do [ -f "$$m" ] && \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man8/; done; true
	for m in man/*.5; do [ -f "$$m" ] && \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	install -d $(DESTDIR)$(DOCDIR)
	install -m 644 softflowd.conf.example README.md LICENSE \
		$(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/softflowd $(DESTDIR)$(SBINDIR)/softflowctl
	rm -f $(DESTDIR)$(MANDIR)/man8/softflowd.8 \
		$(DESTDIR)$(MANDIR)/man8/softflowctl.8 \
		$(DESTDIR)$(MANDIR)/man5/softflowd.conf.5
	rm -f $(DESTDIR)$(DOCDIR)/softflowd.conf.example \
		$(DESTDIR)$(DOCDIR)/README.md $(DESTDIR)$(DOCDIR)/LICENSE
	-rmdir $(DESTDIR)$(DOCDIR)

config.mk: config.mk.in configure
	./configure

configure: configure.ac
	autoreconf -fi

clean:
	rm -f softflowd softflowctl src/*.o tests/*.o $(UNIT_TESTS) \
		tests/gen_traffic tests/replay_* tests/pcap2seeds bench/runprobe
	rm -rf tests/out build

distclean: clean
	rm -rf config.mk config.log config.status configure autom4te.cache

.PHONY: all unit gen_traffic bench bench-live check check-asan demo install \
	uninstall clean distclean fuzz fuzz-targets fuzz-run fuzz-replay
