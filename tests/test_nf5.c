/*
 * Unit tests of the NetFlow v1 and v5 encoders: header and record bytes
 * field by field, the flow sequence, how many records fit, and the
 * header's time fields, from which a collector must recover the
 * exporter's boot time and each flow's start and end to the millisecond.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "nf5.h"

#define V1_HDR		16
#define V5_HDR		24
#define REC_LEN		48
#define BIG		65000

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static struct flow_record
record(unsigned i)
{
	struct flow_record r;

	memset(&r, 0, sizeof(r));
	r.af = 4;
	r.src[0] = 192;
	r.src[1] = 0;
	r.src[2] = 2;
	r.src[3] = (uint8_t)(1 + i);
	r.dst[0] = 198;
	r.dst[1] = 51;
	r.dst[2] = 100;
	r.dst[3] = 7;
	r.if_in = 3;
	r.if_out = 4;
	r.packets = 10 + i;
	r.octets = 1500 + i;
	r.sport = (uint16_t)(40000 + i);
	r.dport = 443;
	r.proto = 6;
	r.tos = 0xb8;
	r.tcp_flags = 0x1b;
	return r;
}

/* The record layout of each version, offset by offset. */
static void
check_record(int version, const uint8_t *p, const struct flow_record *r,
    const struct export_clock *clk)
{
	static const uint8_t zero[12];

	assert_memory_equal(p + 0, r->src, 4);
	assert_memory_equal(p + 4, r->dst, 4);
	assert_int_equal(be32(p + 8), 0);		/* next hop */
	assert_int_equal(be16(p + 12), r->if_in);
	assert_int_equal(be16(p + 14), r->if_out);
	assert_int_equal(be32(p + 16), r->packets);
	assert_int_equal(be32(p + 20), r->octets);
	assert_int_equal(be32(p + 24), r->first_ms - clk->boot_ms);
	assert_int_equal(be32(p + 28), r->last_ms - clk->boot_ms);
	assert_int_equal(be16(p + 32), r->sport);
	assert_int_equal(be16(p + 34), r->dport);
	if (version == 1) {
		assert_int_equal(be16(p + 36), 0);	/* pad */
		assert_int_equal(p[38], r->proto);
		assert_int_equal(p[39], r->tos);
		assert_int_equal(p[40], r->tcp_flags);
		assert_memory_equal(p + 41, zero, 7);	/* pad, reserved */
	} else {
		assert_int_equal(p[36], 0);		/* pad */
		assert_int_equal(p[37], r->tcp_flags);
		assert_int_equal(p[38], r->proto);
		assert_int_equal(p[39], r->tos);
		assert_int_equal(be16(p + 40), 0);	/* src AS */
		assert_int_equal(be16(p + 42), 0);	/* dst AS */
		assert_int_equal(p[44], 0);		/* src mask */
		assert_int_equal(p[45], 0);		/* dst mask */
		assert_int_equal(be16(p + 46), 0);	/* pad */
	}
}

static void
test_nf5_v5_bytes(void **state)
{
	static uint8_t buf[BIG];
	struct export_clock clk = { .now_ms = 1700000123456ULL,
	    .boot_ms = 1700000000000ULL };
	struct export_stream st;
	struct flow_record recs[3];
	struct wbuf w;
	unsigned i;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.sequence = 1000;
	for (i = 0; i < 3; i++) {
		recs[i] = record(i);
		recs[i].first_ms = clk.boot_ms + 5000 + i;
		recs[i].last_ms = clk.boot_ms + 90000 + i;
	}
	wbuf_init(&w, buf, sizeof(buf));
	nf5_encode(5, 0, &st, &clk, recs, 3, &w);
	assert_false(w.overflow);
	assert_int_equal(w.len, V5_HDR + 3 * REC_LEN);
	assert_int_equal(be16(buf + 0), 5);
	assert_int_equal(be16(buf + 2), 3);
	assert_int_equal(be32(buf + 4), 123456);	/* sysUpTime */
	assert_int_equal(be32(buf + 8), 1700000123);	/* unix_secs */
	assert_int_equal(be32(buf + 12), 456000000);	/* unix_nsecs */
	assert_int_equal(be32(buf + 16), 1000);		/* flow sequence */
	assert_int_equal(buf[20], 0);			/* engine type */
	assert_int_equal(buf[21], 0);			/* engine id */
	assert_int_equal(be16(buf + 22), 0);		/* not sampled */
	for (i = 0; i < 3; i++)
		check_record(5, buf + V5_HDR + i * REC_LEN, &recs[i], &clk);
	assert_int_equal(st.sequence, 1003);
}

static void
test_nf5_v1_bytes(void **state)
{
	static uint8_t buf[BIG];
	struct export_clock clk = { .now_ms = 1700000123456ULL,
	    .boot_ms = 1700000000000ULL };
	struct export_stream st;
	struct flow_record recs[2];
	struct wbuf w;
	unsigned i;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.sequence = 77;
	for (i = 0; i < 2; i++) {
		recs[i] = record(i);
		recs[i].first_ms = clk.boot_ms + 1;
		recs[i].last_ms = clk.boot_ms + 2;
	}
	wbuf_init(&w, buf, sizeof(buf));
	nf5_encode(1, 0, &st, &clk, recs, 2, &w);
	assert_false(w.overflow);
	assert_int_equal(w.len, V1_HDR + 2 * REC_LEN);
	assert_int_equal(be16(buf + 0), 1);
	assert_int_equal(be16(buf + 2), 2);
	assert_int_equal(be32(buf + 4), 123456);
	assert_int_equal(be32(buf + 8), 1700000123);
	assert_int_equal(be32(buf + 12), 456000000);
	for (i = 0; i < 2; i++)
		check_record(1, buf + V1_HDR + i * REC_LEN, &recs[i], &clk);
	/* v1 has no sequence number. */
	assert_int_equal(st.sequence, 77);
}

/* The v5 sequence counts flows: the next datagram's is this one's + n. */
static void
test_nf5_sequence(void **state)
{
	static uint8_t buf[BIG];
	static const size_t counts[] = { 1, 30, 7, 30, 0, 12 };
	struct export_clock clk = { .now_ms = 10000, .boot_ms = 0 };
	struct export_stream st;
	struct flow_record recs[30];
	struct wbuf w;
	uint32_t want = 0xfffffff0u;	/* wraps as a 32-bit counter */
	size_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	st.sequence = want;
	for (i = 0; i < 30; i++)
		recs[i] = record((unsigned)i);
	for (i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		wbuf_init(&w, buf, sizeof(buf));
		nf5_encode(5, 0, &st, &clk, recs, counts[i], &w);
		assert_int_equal(be16(buf + 2), counts[i]);
		assert_int_equal(be32(buf + 16), want);
		want += (uint32_t)counts[i];
		assert_int_equal(st.sequence, want);
	}
}

static void
test_nf5_max_records(void **state)
{
	(void)state;
	assert_int_equal(nf5_max_records(5, BIG), 30);
	assert_int_equal(nf5_max_records(1, BIG), 24);
	assert_int_equal(nf5_max_records(5, V5_HDR + 30 * REC_LEN), 30);
	assert_int_equal(nf5_max_records(5, V5_HDR + 30 * REC_LEN - 1), 29);
	assert_int_equal(nf5_max_records(5, V5_HDR + 2 * REC_LEN), 2);
	assert_int_equal(nf5_max_records(1, V1_HDR + 2 * REC_LEN), 2);
	assert_int_equal(nf5_max_records(5, V5_HDR + REC_LEN - 1), 0);
	assert_int_equal(nf5_max_records(5, 10), 0);
	assert_int_equal(nf5_max_records(1, 0), 0);
}

/* More records than fit: the datagram carries what fits, no more. */
static void
test_nf5_clips_to_fit(void **state)
{
	static uint8_t buf[BIG];
	struct export_clock clk = { .now_ms = 10000, .boot_ms = 0 };
	struct export_stream st;
	struct flow_record recs[40];
	struct wbuf w;
	size_t i;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 40; i++)
		recs[i] = record((unsigned)i);
	wbuf_init(&w, buf, sizeof(buf));
	nf5_encode(5, 0, &st, &clk, recs, 40, &w);
	assert_false(w.overflow);
	assert_int_equal(be16(buf + 2), 30);
	assert_int_equal(w.len, V5_HDR + 30 * REC_LEN);
	assert_int_equal(st.sequence, 30);

	wbuf_init(&w, buf, V5_HDR + 2 * REC_LEN + 20);
	nf5_encode(5, 0, &st, &clk, recs, 40, &w);
	assert_false(w.overflow);
	assert_int_equal(be16(buf + 2), 2);
	assert_int_equal(w.len, V5_HDR + 2 * REC_LEN);
	assert_int_equal(st.sequence, 32);

	wbuf_init(&w, buf, sizeof(buf));
	nf5_encode(1, 0, &st, &clk, recs, 40, &w);
	assert_int_equal(be16(buf + 2), 24);
	assert_int_equal(w.len, V1_HDR + 24 * REC_LEN);
}

/* The v5 sampling field: mode 01 (deterministic) and a 14-bit interval. */
static void
test_nf5_sampling(void **state)
{
	static const struct {
		unsigned	 rate;
		uint16_t	 field;
	} cases[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 0x4002 }, { 100, 0x4064 },
		{ 16383, 0x7fff }, { 100000, 0x7fff },
	};
	static uint8_t buf[256];
	struct export_clock clk = { .now_ms = 10000, .boot_ms = 0 };
	struct export_stream st;
	struct flow_record r = record(0);
	struct wbuf w;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&st, 0, sizeof(st));
		wbuf_init(&w, buf, sizeof(buf));
		nf5_encode(5, cases[i].rate, &st, &clk, &r, 1, &w);
		assert_int_equal(be16(buf + 22), cases[i].field);
		/* Counters are as seen, never scaled by the rate. */
		assert_int_equal(be32(buf + V5_HDR + 16), r.packets);
	}
}

/*
 * A collector computes boot = unix_secs * 1000 + unix_nsecs / 1e6 -
 * sysUpTime, then each flow's start as boot + First: both must come out
 * exact for any millisecond of now, boot, first and last.
 */
static void
test_nf5_clock_exact(void **state)
{
	static const struct {
		uint64_t	 boot;
		uint64_t	 now;
		uint64_t	 first;
		uint64_t	 last;
	} cases[] = {
		{ 1700000000000ULL, 1700000000999ULL, 1700000000001ULL,
		    1700000000998ULL },
		{ 1700000000000ULL, 1700000060001ULL, 1700000000500ULL,
		    1700000059999ULL },
		{ 1699999999123ULL, 1700000100457ULL, 1700000000001ULL,
		    1700000100456ULL },
		{ 1000, 1001, 1000, 1001 },
		{ 0, 4294967295ULL, 1, 4294967295ULL },
		{ 1700000000007ULL, 1700003600999ULL, 1700003600000ULL,
		    1700003600999ULL },
	};
	static uint8_t buf[256];
	struct export_clock clk;
	struct export_stream st;
	struct flow_record r;
	struct wbuf w;
	uint64_t boot;
	size_t i;
	int version;

	(void)state;
	for (version = 1; version <= 5; version += 4) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			clk.boot_ms = cases[i].boot;
			clk.now_ms = cases[i].now;
			r = record(0);
			r.first_ms = cases[i].first;
			r.last_ms = cases[i].last;
			memset(&st, 0, sizeof(st));
			wbuf_init(&w, buf, sizeof(buf));
			nf5_encode(version, 0, &st, &clk, &r, 1, &w);
			assert_false(w.overflow);
			/* unix_nsecs is whole milliseconds. */
			assert_int_equal(be32(buf + 12) % 1000000, 0);
			assert_true(be32(buf + 12) < 1000000000u);
			boot = (uint64_t)be32(buf + 8) * 1000 +
			    be32(buf + 12) / 1000000 - be32(buf + 4);
			assert_int_equal(boot, cases[i].boot);
			assert_int_equal(boot + be32(buf + (version == 1 ?
			    V1_HDR : V5_HDR) + 24), cases[i].first);
			assert_int_equal(boot + be32(buf + (version == 1 ?
			    V1_HDR : V5_HDR) + 28), cases[i].last);
		}
	}
}

/* A buffer too small for even the header overflows, and says so. */
static void
test_nf5_tiny_buffer(void **state)
{
	static uint8_t buf[8];
	struct export_clock clk = { .now_ms = 10000, .boot_ms = 0 };
	struct export_stream st;
	struct flow_record r = record(0);
	struct wbuf w;

	(void)state;
	memset(&st, 0, sizeof(st));
	wbuf_init(&w, buf, sizeof(buf));
	nf5_encode(5, 0, &st, &clk, &r, 1, &w);
	assert_true(w.overflow);
	assert_int_equal(st.sequence, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nf5_v5_bytes),
		cmocka_unit_test(test_nf5_v1_bytes),
		cmocka_unit_test(test_nf5_sequence),
		cmocka_unit_test(test_nf5_max_records),
		cmocka_unit_test(test_nf5_clips_to_fit),
		cmocka_unit_test(test_nf5_sampling),
		cmocka_unit_test(test_nf5_clock_exact),
		cmocka_unit_test(test_nf5_tiny_buffer),
	};

	/* Code that loops forever fails the suite instead of hanging it. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
