/*
 * Unit tests of the fast paths: batched accounting gives exactly what
 * accounting one packet at a time gives, the lazy idle-list order still
 * expires each flow at its timeout to the millisecond, a packet that
 * finds its flow due starts a new one, 32-bit time offsets and counters
 * never lose a packet, and the word-wise SipHash is SipHash.
 */
#include <sys/resource.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "decode.h"
#include "flowtable.h"
#include "siphash.h"

/* AddressSanitizer's allocator touches what it hands out: skip RSS checks. */
#if defined(__SANITIZE_ADDRESS__)
#define CHECK_RSS	0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHECK_RSS	0
#endif
#endif
#ifndef CHECK_RSS
#define CHECK_RSS	1
#endif

#define SEC		1000ULL
#define T0		1700000000000ULL
#define MAX_SEEN	20000

struct seen {
	struct flow_key	 key;
	uint64_t	 packets[2];
	uint64_t	 octets[2];
	uint64_t	 first[2];
	uint64_t	 last[2];
	uint8_t		 flags[2];
	enum expiry_reason why;
};

struct sink {
	struct seen	*e;
	unsigned	 n;
	uint64_t	 packets;
	uint64_t	 octets;
};

static void
sink_expired(void *arg, const struct flow *f, enum expiry_reason why)
{
	struct sink *s = arg;
	struct seen *e;
	int i;

	assert_true(s->n < MAX_SEEN);
	e = &s->e[s->n++];
	memset(e, 0, sizeof(*e));
	e->key = f->key;
	for (i = 0; i < 2; i++) {
		e->packets[i] = f->side[i].packets;
		e->octets[i] = f->side[i].octets;
		e->first[i] = f->side[i].first_ms;
		e->last[i] = f->side[i].last_ms;
		e->flags[i] = f->side[i].tcp_flags;
		s->packets += f->side[i].packets;
		s->octets += f->side[i].octets;
	}
	e->why = why;
}

static void
sink_init(struct sink *s)
{
	memset(s, 0, sizeof(*s));
	s->e = calloc(MAX_SEEN, sizeof(*s->e));
	assert_non_null(s->e);
}

static void
cfg_default(struct flowtable_config *c)
{
	memset(c, 0, sizeof(*c));
	c->max_flows = 64;
	c->track = TRACK_FULL;
	c->idle_ms[FC_GENERAL] = 10 * SEC;
	c->idle_ms[FC_TCP] = 20 * SEC;
	c->idle_ms[FC_TCP_RST] = 3 * SEC;
	c->idle_ms[FC_TCP_FIN] = 4 * SEC;
	c->idle_ms[FC_UDP] = 15 * SEC;
	c->idle_ms[FC_ICMP] = 15 * SEC;
	c->maxlife_ms = 60 * SEC;
}

static uint64_t
rnd(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ULL);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static struct packet
pkt(int af, uint32_t host, uint8_t proto, uint16_t sport, uint16_t dport,
    uint64_t ts)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	p.af = (uint8_t)af;
	p.src[0] = 10;
	p.src[1] = (uint8_t)(host >> 16);
	p.src[2] = (uint8_t)(host >> 8);
	p.src[3] = (uint8_t)host;
	p.dst[0] = 192;
	p.dst[3] = 1;
	if (af == 6) {
		p.src[0] = p.dst[0] = 0x20;
		p.src[15] = p.dst[14] = 1;
	}
	p.proto = proto;
	p.sport = sport;
	p.dport = dport;
	p.octets = 40 + (uint32_t)(host % 1400);
	p.ts_ms = ts;
	return p;
}

/* A deterministic stream: many flows, both directions, some late. */
static void
make_stream(struct packet *ps, size_t n, uint32_t nflows, uint64_t seed)
{
	static const uint8_t protos[] = { 6, 17, 1, 58, 47 };
	uint64_t s = seed, t = T0, r;
	uint8_t tmp[16];
	uint32_t f;
	size_t i;
	struct packet p;

	for (i = 0; i < n; i++) {
		r = rnd(&s);
		t += r % 700;			/* up to 0.7 s apart */
		f = (uint32_t)(rnd(&s) % nflows);
		p = pkt(f % 4 == 0 ? 6 : 4, f, protos[f % 5],
		    (uint16_t)(1024 + f), 80, t);
		if (r & 0x100) {		/* the reply direction */
			memcpy(tmp, p.src, 16);
			memcpy(p.src, p.dst, 16);
			memcpy(p.dst, tmp, 16);
			p.sport = 80;
			p.dport = (uint16_t)(1024 + f);
		}
		if (p.proto == 6)
			p.tcp_flags = (uint8_t)(r >> 16 & 0x17);
		if ((r & 0xf000) == 0)		/* a late packet */
			p.ts_ms = t > T0 + 3 * SEC ? t - 3 * SEC : T0;
		ps[i] = p;
	}
}

static void
assert_same_exports(const struct sink *a, const struct sink *b)
{
	unsigned i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++)
		assert_memory_equal(&a->e[i], &b->e[i], sizeof(a->e[i]));
}

/* A table hashing with SipHash, or with aeshash where the CPU has it. */
static struct flowtable *
table_new(const struct flowtable_config *c, struct sink *s, int siphash)
{
	struct flowtable *ft;

	if (siphash)
		setenv("SOFTFLOWD_HASH", "siphash", 1);
	ft = flowtable_new(c, sink_expired, s);
	unsetenv("SOFTFLOWD_HASH");
	return ft;
}

/*
 * Batches of every size from 1 to 40, with expiry between some of them,
 * export the same flows in the same order with the same counters as one
 * packet at a time; a small table makes many of them leave as table_full.
 * One table hashes with SipHash, the other with aeshash (where the CPU
 * has it), then the other way round: the hash changes nothing exported.
 */
static void
test_batch_equals_single(void **state)
{
	enum { N = 6000 };
	struct flowtable_config c;
	struct flowtable *one, *bat;
	struct sink s1, s2;
	struct packet *ps;
	size_t i, j, k, m;
	uint64_t seed = 7, acct_p = 0, acct_o = 0;
	unsigned round;

	(void)state;
	ps = calloc(N, sizeof(*ps));
	assert_non_null(ps);
	for (round = 0; round < 6; round++) {
		cfg_default(&c);
		c.max_flows = round % 3 == 0 ? 64 : round % 3 == 1 ? 300 : 4096;
		make_stream(ps, N, 500, 11 + round % 3);
		sink_init(&s1);
		sink_init(&s2);
		one = table_new(&c, &s1, round < 3);
		bat = table_new(&c, &s2, round >= 3);
		assert_non_null(one);
		assert_non_null(bat);
		acct_p = acct_o = 0;
		for (i = 0, k = 1; i < N; i += m, k = k % 40 + 1) {
			m = N - i < k ? N - i : k;
			for (j = 0; j < m; j++) {
				flowtable_account(one, &ps[i + j]);
				acct_p++;
				acct_o += ps[i + j].octets;
			}
			flowtable_account_batch(bat, ps + i, m);
			if (rnd(&seed) % 4 == 0) {
				assert_int_equal(
				    flowtable_expire(one, ps[i + m - 1].ts_ms),
				    flowtable_expire(bat, ps[i + m - 1].ts_ms));
			}
		}
		assert_int_equal(flowtable_expire_all(one),
		    flowtable_expire_all(bat));
		assert_same_exports(&s1, &s2);
		assert_int_equal(s1.packets, acct_p);
		assert_int_equal(s1.octets, acct_o);
		assert_int_equal(flowtable_stats(bat)->packets, acct_p);
		assert_int_equal(flowtable_stats(bat)->flows_created,
		    flowtable_stats(bat)->flows_expired);
		if (round % 3 == 0)
			assert_true(flowtable_stats(bat)->
			    expired[EXP_TABLE_FULL] > 0);
		flowtable_free(one);
		flowtable_free(bat);
		free(s1.e);
		free(s2.e);
	}
	free(ps);
}

/*
 * A flow busy every 100 ms for 30 s is never expired while busy, though
 * its list position moves only once a second, and it leaves exactly one
 * idle timeout after its last packet, as does a quiet flow beside it.
 */
static void
test_busy_flow_expires_exactly(void **state)
{
	struct flowtable_config c;
	struct flowtable *ft;
	struct sink s;
	struct packet p, q;
	uint64_t t, last = 0;

	(void)state;
	cfg_default(&c);
	c.idle_ms[FC_UDP] = 2 * SEC;
	c.maxlife_ms = 3600 * SEC;
	sink_init(&s);
	ft = flowtable_new(&c, sink_expired, &s);
	assert_non_null(ft);
	q = pkt(4, 2, 17, 2000, 53, T0 + 50);
	flowtable_account(ft, &q);
	for (t = T0; t < T0 + 30 * SEC; t += 100) {
		p = pkt(4, 1, 17, 1000, 53, t);
		flowtable_account(ft, &p);
		last = t;
		/* The quiet flow is due at T0 + 2.05 s: the next call. */
		assert_int_equal(flowtable_expire(ft, t),
		    t == T0 + 2 * SEC + 100 ? 1 : 0);
	}
	/* The quiet flow has left, the busy one is still in. */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].key.port[0], 2000);
	assert_int_equal(flowtable_expire(ft, last + 2 * SEC - 1), 0);
	assert_int_equal(flowtable_expire(ft, last + 2 * SEC), 1);
	assert_int_equal(s.e[1].packets[0], 300);
	assert_int_equal(s.e[1].first[0], T0);
	assert_int_equal(s.e[1].last[0], last);
	assert_int_equal(s.e[1].why, EXP_IDLE);
	flowtable_free(ft);
	free(s.e);
}

/* A packet after the idle timeout starts a new flow, expiry run or not. */
static void
test_due_at_packet(void **state)
{
	struct flowtable_config c;
	struct flowtable *ft;
	struct sink s;
	struct packet p;

	(void)state;
	cfg_default(&c);
	sink_init(&s);
	ft = flowtable_new(&c, sink_expired, &s);
	assert_non_null(ft);
	p = pkt(4, 1, 17, 1000, 53, T0);
	flowtable_account(ft, &p);
	p.ts_ms = T0 + 15 * SEC - 1;	/* a millisecond inside */
	flowtable_account(ft, &p);
	p.ts_ms = T0 + 30 * SEC - 1;	/* exactly the timeout after */
	flowtable_account(ft, &p);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.e[0].why, EXP_IDLE);
	assert_int_equal(s.e[0].packets[0], 2);
	assert_int_equal(s.e[0].last[0], T0 + 15 * SEC - 1);
	/* And the active timeout, for a flow never idle. */
	for (p.ts_ms += 10 * SEC; p.ts_ms < T0 + 200 * SEC; p.ts_ms += 10 * SEC)
		flowtable_account(ft, &p);
	assert_int_equal(flowtable_expire_all(ft), 1);
	assert_int_equal(s.e[1].why, EXP_ACTIVE);
	assert_int_equal(s.e[1].first[0], T0 + 30 * SEC - 1);
	assert_true(s.e[1].last[0] - s.e[1].first[0] < 60 * SEC);
	assert_int_equal(s.packets, flowtable_stats(ft)->packets);
	flowtable_free(ft);
	free(s.e);
}

/*
 * Times are kept as 32-bit offsets from a flow's first packet: a flow
 * whose packets lie further apart than that is split, with no packet
 * lost, even when no timeout would split it.
 */
static void
test_far_apart_packets(void **state)
{
	struct flowtable_config c;
	struct flowtable *ft;
	struct sink s;
	struct packet p;
	uint64_t day = 86400 * SEC;

	(void)state;
	cfg_default(&c);
	c.idle_ms[FC_UDP] = UINT32_MAX;		/* 49 days */
	c.maxlife_ms = 1000 * day;
	sink_init(&s);
	ft = flowtable_new(&c, sink_expired, &s);
	assert_non_null(ft);
	p = pkt(4, 1, 17, 1000, 53, T0);
	flowtable_account(ft, &p);
	p.ts_ms = T0 + 20 * day;
	flowtable_account(ft, &p);
	p.ts_ms = T0 + 40 * day;
	flowtable_account(ft, &p);
	p.ts_ms = T0 + 1;		/* very late */
	flowtable_account(ft, &p);
	flowtable_expire_all(ft);
	assert_int_equal(s.packets, 4);
	assert_int_equal(s.packets, flowtable_stats(ft)->packets);
	assert_true(s.n >= 2);
	assert_int_equal(s.e[0].first[0], T0);
	assert_int_equal(s.e[0].last[0], T0 + 20 * day);
	flowtable_free(ft);
	free(s.e);
}

static long
peak_rss_kb(void)
{
	struct rusage ru;

	assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
	return ru.ru_maxrss;
}

/* A huge -m costs memory only for the flows it holds. */
static void
test_compact_records(void **state)
{
	struct flowtable_config c;
	struct flowtable *ft;
	struct sink s;
	struct packet p;
	uint32_t i;
	long before;

	(void)state;
	cfg_default(&c);
	c.max_flows = 10000000;		/* 1.3 GB if it were touched */
	sink_init(&s);
	before = peak_rss_kb();
	ft = flowtable_new(&c, sink_expired, &s);
	assert_non_null(ft);
	assert_int_equal(flowtable_record_size(ft), 128);
	for (i = 0; i < 1000; i++) {
		p = pkt(4, i, 6, 1000, 80, T0 + i);
		flowtable_account(ft, &p);
	}
	assert_int_equal(flowtable_expire_all(ft), 1000);
	assert_int_equal(s.n, 1000);
	/* 1000 records and the buckets they hit: far below 64 MB. */
	if (CHECK_RSS)
		assert_true(peak_rss_kb() - before < 64 * 1024);
	flowtable_free(ft);
	free(s.e);
	cfg_default(&c);
	c.track = TRACK_ETHER;
	c.mpls_labels = 3;
	ft = flowtable_new(&c, sink_expired, &s);
	assert_true(flowtable_record_size(ft) >= 128 + 12 + 3 * 4);
	flowtable_free(ft);
}

/* siphash13_words over little-endian words is siphash13 of the bytes. */
static void
test_siphash_words(void **state)
{
	uint8_t key[16], msg[64];
	struct siphash_key sk;
	uint64_t w[8], last;
	size_t len, i, n, b;

	(void)state;
	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 7 + 1);
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 5);
	siphash13_key(&sk, key);
	for (len = 0; len < sizeof(msg); len++) {
		n = len / 8;
		for (i = 0; i < n; i++) {
			w[i] = 0;
			for (b = 0; b < 8; b++)
				w[i] |= (uint64_t)msg[i * 8 + b] << (8 * b);
		}
		last = (uint64_t)len << 56;
		for (i = 0; i < len % 8; i++)
			last |= (uint64_t)msg[n * 8 + i] << (8 * i);
		assert_int_equal(siphash13_words(&sk, w, n, last),
		    siphash13(key, msg, len));
	}
}

/*
 * aeshash depends on its key and spreads keys that differ in a few bits,
 * as flow keys from one subnet do, evenly over the buckets.
 */
static void
test_aeshash(void **state)
{
#if defined(HAVE_AESHASH)
	enum { NB = 1024, NK = 64 * NB };
	struct aeshash_key k1, k2;
	uint8_t key[16];
	unsigned *load, i, max = 0, same = 0, flips = 0;
	uint32_t a, b;
	__m128i addr, peer, tail;

	(void)state;
	if (!aeshash_supported())
		skip();
	memset(key, 0x5a, sizeof(key));
	aeshash_key(&k1, key);
	key[15] ^= 1;
	aeshash_key(&k2, key);
	load = calloc(NB, sizeof(*load));
	assert_non_null(load);
	peer = _mm_set_epi32(0, 0, 0, 0x0100a8c0);
	for (i = 0; i < NK; i++) {
		addr = _mm_set_epi32(0, 0, 0, (int)(0x0a000000u | i));
		tail = _mm_set_epi32(0, 4, 0, (int)(443u << 16 | 40000u));
		a = aeshash_blocks(&k1, addr, peer, tail, NULL);
		b = aeshash_blocks(&k2, addr, peer, tail, NULL);
		same += (a & (NB - 1)) == (b & (NB - 1));
		if (++load[a & (NB - 1)] > max)
			max = load[a & (NB - 1)];
		/* One more port: about half the hash bits change. */
		tail = _mm_set_epi32(0, 4, 0, (int)(443u << 16 | 40001u));
		flips += (unsigned)__builtin_popcount(a ^
		    aeshash_blocks(&k1, addr, peer, tail, NULL));
	}
	/* 64 a bucket on average: Poisson makes 120 vanishingly unlikely. */
	assert_true(max < 120);
	/* Another key, other buckets: about NK / NB keys stay put. */
	assert_true(same < 4 * NK / NB);
	assert_true(flips > NK * 14 && flips < NK * 18);
	free(load);
#else
	(void)state;
	skip();
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_equals_single),
		cmocka_unit_test(test_busy_flow_expires_exactly),
		cmocka_unit_test(test_due_at_packet),
		cmocka_unit_test(test_far_apart_packets),
		cmocka_unit_test(test_compact_records),
		cmocka_unit_test(test_siphash_words),
		cmocka_unit_test(test_aeshash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
