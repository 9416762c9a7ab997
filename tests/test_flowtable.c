/*
 * Unit tests of the flow table: key canonicalisation, tracking levels,
 * idle timeouts per class, TCP FIN/RST, the active timeout, a full table,
 * and the accounting rule that every packet and octet accounted leaves
 * the table in exactly one expired flow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "decode.h"
#include "flowtable.h"

#define SEC		1000ULL
#define T0		1700000000000ULL	/* an epoch-ms base */
#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_ACK		0x10
#define MAX_SEEN	256

/* What the expiry callback saw: a copy of each flow as it left. */
struct seen {
	uint32_t	 mpls[DECODE_MAX_MPLS];
	enum expiry_reason why;
	struct flow	 f;	/* last: its label array is flexible */
};

struct sink {
	struct seen	 e[MAX_SEEN];
	unsigned	 n;
	uint64_t	 packets;
	uint64_t	 octets;
};

static void
sink_expired(void *arg, const struct flow *f, enum expiry_reason why)
{
	struct sink *s = arg;
	struct seen *e;
	unsigned i;

	assert_true(s->n < MAX_SEEN);
	e = &s->e[s->n++];
	memcpy(&e->f, f, sizeof(*f));
	assert_true(f->nmpls <= DECODE_MAX_MPLS);
	memcpy(e->mpls, f->mpls, f->nmpls * sizeof(uint32_t));
	e->why = why;
	for (i = 0; i < 2; i++) {
		s->packets += f->side[i].packets;
		s->octets += f->side[i].octets;
	}
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
	c->idle_ms[FC_UDP] = 30 * SEC;
	c->idle_ms[FC_ICMP] = 40 * SEC;
	c->maxlife_ms = 1800 * SEC;
	c->mpls_labels = 0;
}

struct fixture {
	struct flowtable	*ft;
	struct sink		 sink;
};

static struct fixture *
fixture_new(const struct flowtable_config *c)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->ft = flowtable_new(c, sink_expired, &fx->sink);
	assert_non_null(fx->ft);
	return fx;
}

static void
fixture_free(struct fixture *fx)
{
	flowtable_free(fx->ft);
	free(fx);
}

static struct packet
pkt4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
    uint16_t dport, uint64_t ts)
{
	struct packet p;

	memset(&p, 0, sizeof(p));
	p.af = 4;
	p.src[0] = (uint8_t)(src >> 24);
	p.src[1] = (uint8_t)(src >> 16);
	p.src[2] = (uint8_t)(src >> 8);
	p.src[3] = (uint8_t)src;
	p.dst[0] = (uint8_t)(dst >> 24);
	p.dst[1] = (uint8_t)(dst >> 16);
	p.dst[2] = (uint8_t)(dst >> 8);
	p.dst[3] = (uint8_t)dst;
	p.proto = proto;
	p.sport = sport;
	p.dport = dport;
	p.octets = 100;
	p.ts_ms = ts;
	return p;
}

#define HA	0x0a000001u	/* 10.0.0.1, the lower address */
#define HB	0x0a000002u	/* 10.0.0.2 */

/* The reverse of p: addresses and ports swapped. */
static struct packet
reverse(struct packet p, uint64_t ts)
{
	struct packet r = p;

	memcpy(r.src, p.dst, 16);
	memcpy(r.dst, p.src, 16);
	r.sport = p.dport;
	r.dport = p.sport;
	r.ts_ms = ts;
	return r;
}

/* Both directions land in one flow; [0] of the key is the lower end. */
static void
test_flowtable_canonical_key(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	const struct flow *f;
	const struct flowtable_stats *st;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	/* The higher address sends first: it is side 1. */
	p = pkt4(HB, HA, 6, 80, 40000, T0);
	p.tcp_flags = TH_SYN | TH_ACK;
	p.octets = 60;
	flowtable_account(fx->ft, &p);
	p = reverse(p, T0 + 5);
	p.tcp_flags = TH_ACK;
	p.octets = 52;
	flowtable_account(fx->ft, &p);
	flowtable_account(fx->ft, &p);
	st = flowtable_stats(fx->ft);
	assert_int_equal(st->flows_created, 1);
	assert_int_equal(st->active, 1);
	assert_int_equal(flowtable_expire_all(fx->ft), 1);
	assert_int_equal(fx->sink.n, 1);
	f = &fx->sink.e[0].f;
	assert_int_equal(f->key.addr[0][3], 1);
	assert_int_equal(f->key.addr[1][3], 2);
	assert_int_equal(f->key.port[0], 40000);
	assert_int_equal(f->key.port[1], 80);
	assert_int_equal(f->key.proto, 6);
	assert_int_equal(f->key.af, 4);
	assert_int_equal(f->side[0].packets, 2);
	assert_int_equal(f->side[0].octets, 104);
	assert_int_equal(f->side[0].tcp_flags, TH_ACK);
	assert_int_equal(f->side[0].first_ms, T0 + 5);
	assert_int_equal(f->side[1].packets, 1);
	assert_int_equal(f->side[1].octets, 60);
	assert_int_equal(f->side[1].tcp_flags, TH_SYN | TH_ACK);
	assert_int_equal(f->side[1].first_ms, T0);
	assert_int_equal(f->side[1].last_ms, T0);
	assert_int_equal(fx->sink.e[0].why, EXP_FORCED);
	fixture_free(fx);
}

/* One host talking to itself: the ports decide the sides. */
static void
test_flowtable_same_address(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	const struct flow *f;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	p = pkt4(HA, HA, 17, 5000, 53, T0);
	flowtable_account(fx->ft, &p);
	p = reverse(p, T0 + 1);
	flowtable_account(fx->ft, &p);
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_expire_all(fx->ft), 1);
	f = &fx->sink.e[0].f;
	assert_int_equal(f->key.port[0], 53);
	assert_int_equal(f->key.port[1], 5000);
	assert_int_equal(f->side[0].packets, 2);	/* from port 53 */
	assert_int_equal(f->side[1].packets, 1);
	fixture_free(fx);
}

/* Which attribute a second packet changes, per tracking level. */
enum differ { D_SPORT, D_PROTO, D_TOS, D_IFINDEX, D_VLAN, D_MAC, D_ADDR };

static const struct {
	enum track_level	track;
	enum differ		what;
	unsigned		flows;	/* 1: same flow, 2: a new one */
} track_cases[] = {
	{ TRACK_FULL, D_SPORT, 2 }, { TRACK_FULL, D_PROTO, 2 },
	{ TRACK_FULL, D_TOS, 2 }, { TRACK_FULL, D_IFINDEX, 2 },
	{ TRACK_FULL, D_VLAN, 1 }, { TRACK_FULL, D_MAC, 1 },
	{ TRACK_FULL, D_ADDR, 2 },
	{ TRACK_PORT, D_SPORT, 2 }, { TRACK_PORT, D_PROTO, 2 },
	{ TRACK_PORT, D_TOS, 1 }, { TRACK_PORT, D_IFINDEX, 1 },
	{ TRACK_PORT, D_VLAN, 1 }, { TRACK_PORT, D_MAC, 1 },
	{ TRACK_PORT, D_ADDR, 2 },
	{ TRACK_PROTO, D_SPORT, 1 }, { TRACK_PROTO, D_PROTO, 2 },
	{ TRACK_PROTO, D_TOS, 1 }, { TRACK_PROTO, D_IFINDEX, 1 },
	{ TRACK_PROTO, D_VLAN, 1 }, { TRACK_PROTO, D_MAC, 1 },
	{ TRACK_PROTO, D_ADDR, 2 },
	{ TRACK_IP, D_SPORT, 1 }, { TRACK_IP, D_PROTO, 1 },
	{ TRACK_IP, D_TOS, 1 }, { TRACK_IP, D_IFINDEX, 1 },
	{ TRACK_IP, D_VLAN, 1 }, { TRACK_IP, D_MAC, 1 },
	{ TRACK_IP, D_ADDR, 2 },
	{ TRACK_VLAN, D_SPORT, 2 }, { TRACK_VLAN, D_PROTO, 2 },
	{ TRACK_VLAN, D_TOS, 2 }, { TRACK_VLAN, D_IFINDEX, 2 },
	{ TRACK_VLAN, D_VLAN, 2 }, { TRACK_VLAN, D_MAC, 1 },
	{ TRACK_VLAN, D_ADDR, 2 },
	{ TRACK_ETHER, D_SPORT, 2 }, { TRACK_ETHER, D_PROTO, 2 },
	{ TRACK_ETHER, D_TOS, 2 }, { TRACK_ETHER, D_IFINDEX, 2 },
	{ TRACK_ETHER, D_VLAN, 2 }, { TRACK_ETHER, D_MAC, 2 },
	{ TRACK_ETHER, D_ADDR, 2 },
};

static void
test_flowtable_track_levels(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p, q;
	const struct flowtable_stats *st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(track_cases) / sizeof(track_cases[0]); i++) {
		cfg_default(&c);
		c.track = track_cases[i].track;
		fx = fixture_new(&c);
		p = pkt4(HA, HB, 6, 40000, 80, T0);
		p.tos = 0x10;
		p.ifindex = 3;
		p.vlan = 100;
		p.has_mac = 1;
		memcpy(p.src_mac, "\x02\x00\x00\x00\x00\x01", 6);
		memcpy(p.dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
		q = p;
		q.ts_ms = T0 + 1;
		switch (track_cases[i].what) {
		case D_SPORT: q.sport = 40001; break;
		case D_PROTO: q.proto = 17; break;
		case D_TOS: q.tos = 0x20; break;
		case D_IFINDEX: q.ifindex = 4; break;
		case D_VLAN: q.vlan = 200; break;
		case D_MAC: q.src_mac[5] = 9; break;
		case D_ADDR: q.dst[3] = 3; break;
		}
		flowtable_account(fx->ft, &p);
		flowtable_account(fx->ft, &q);
		st = flowtable_stats(fx->ft);
		if (st->flows_created != track_cases[i].flows)
			fail_msg("track %d differ %d: %llu flows, want %u",
			    track_cases[i].track, track_cases[i].what,
			    (unsigned long long)st->flows_created,
			    track_cases[i].flows);
		assert_int_equal(st->packets, 2);
		fixture_free(fx);
	}
}

/* The fields a level does not track are zero in the key. */
static void
test_flowtable_track_key_fields(void **state)
{
	static const struct {
		enum track_level t;
		int ports, proto, tos, vlan, mac;
	} lv[] = {
		{ TRACK_FULL, 1, 1, 1, 0, 0 }, { TRACK_PORT, 1, 1, 0, 0, 0 },
		{ TRACK_PROTO, 0, 1, 0, 0, 0 }, { TRACK_IP, 0, 0, 0, 0, 0 },
		{ TRACK_VLAN, 1, 1, 1, 1, 0 }, { TRACK_ETHER, 1, 1, 1, 1, 1 },
	};
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	const struct flow_key *k;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lv) / sizeof(lv[0]); i++) {
		cfg_default(&c);
		c.track = lv[i].t;
		fx = fixture_new(&c);
		p = pkt4(HA, HB, 6, 40000, 80, T0);
		p.tos = 0x10;
		p.vlan = 100;
		p.has_mac = 1;
		memcpy(p.src_mac, "\x02\x00\x00\x00\x00\x01", 6);
		memcpy(p.dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
		flowtable_account(fx->ft, &p);
		flowtable_expire_all(fx->ft);
		k = &fx->sink.e[0].f.key;
		assert_int_equal(k->af, 4);
		assert_int_equal(k->addr[0][3], 1);
		assert_int_equal(k->addr[1][3], 2);
		assert_int_equal(k->port[0], lv[i].ports ? 40000 : 0);
		assert_int_equal(k->port[1], lv[i].ports ? 80 : 0);
		assert_int_equal(k->proto, lv[i].proto ? 6 : 0);
		assert_int_equal(k->tos, lv[i].tos ? 0x10 : 0);
		assert_int_equal(k->vlan, lv[i].vlan ? 100 : 0);
		assert_int_equal(k->mac[0][5], lv[i].mac ? 1 : 0);
		assert_int_equal(k->mac[1][5], lv[i].mac ? 2 : 0);
		fixture_free(fx);
	}
}

/* Each class expires after its own idle timeout, not a millisecond before. */
static void
test_flowtable_idle_per_class(void **state)
{
	static const struct {
		uint8_t		 proto;
		uint8_t		 flags;
		enum flow_class	 cls;
	} cl[] = {
		{ 6, TH_SYN, FC_TCP }, { 17, 0, FC_UDP }, { 1, 0, FC_ICMP },
		{ 58, 0, FC_ICMP }, { 47, 0, FC_GENERAL }, { 132, 0, FC_GENERAL },
	};
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	uint64_t idle;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cl) / sizeof(cl[0]); i++) {
		cfg_default(&c);
		fx = fixture_new(&c);
		idle = c.idle_ms[cl[i].cls];
		p = pkt4(HA, HB, cl[i].proto, 1000, 2000, T0);
		p.tcp_flags = cl[i].flags;
		flowtable_account(fx->ft, &p);
		p.ts_ms = T0 + 700;
		flowtable_account(fx->ft, &p);
		assert_int_equal(flowtable_expire(fx->ft, T0 + 700 + idle - 1),
		    0);
		assert_int_equal(fx->sink.n, 0);
		assert_int_equal(flowtable_expire(fx->ft, T0 + 700 + idle), 1);
		assert_int_equal(fx->sink.n, 1);
		assert_int_equal(fx->sink.e[0].why, EXP_IDLE);
		assert_int_equal(fx->sink.e[0].f.cls, cl[i].cls);
		assert_int_equal(fx->sink.e[0].f.side[0].packets, 2);
		assert_int_equal(flowtable_stats(fx->ft)->active, 0);
		fixture_free(fx);
	}
}

/* FIN one way keeps the TCP timeout; FIN both ways takes tcp.fin. */
static void
test_flowtable_tcp_fin(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	p = pkt4(HA, HB, 6, 40000, 80, T0);
	p.tcp_flags = TH_FIN | TH_ACK;
	flowtable_account(fx->ft, &p);
	p = reverse(p, T0 + 10);
	p.tcp_flags = TH_ACK;
	flowtable_account(fx->ft, &p);
	/* Half closed: still the 20 s TCP timeout. */
	assert_int_equal(flowtable_expire(fx->ft, T0 + 10 + 4 * SEC), 0);
	p.tcp_flags = TH_FIN | TH_ACK;
	p.ts_ms = T0 + 20;
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 20 + 4 * SEC - 1), 0);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 20 + 4 * SEC), 1);
	assert_int_equal(fx->sink.e[0].why, EXP_TCP_FIN);
	assert_int_equal(fx->sink.e[0].f.cls, FC_TCP_FIN);
	assert_int_equal(fx->sink.e[0].f.side[0].packets +
	    fx->sink.e[0].f.side[1].packets, 3);
	fixture_free(fx);

	/* A flow that only ever saw one FIN expires as idle TCP. */
	fx = fixture_new(&c);
	p = pkt4(HA, HB, 6, 40000, 80, T0);
	p.tcp_flags = TH_FIN;
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 20 * SEC - 1), 0);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 20 * SEC), 1);
	assert_int_equal(fx->sink.e[0].why, EXP_IDLE);
	fixture_free(fx);
}

static void
test_flowtable_tcp_rst(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	int dir;

	(void)state;
	for (dir = 0; dir < 2; dir++) {
		cfg_default(&c);
		fx = fixture_new(&c);
		p = pkt4(HA, HB, 6, 40000, 80, T0);
		p.tcp_flags = TH_SYN;
		flowtable_account(fx->ft, &p);
		if (dir)
			p = reverse(p, T0 + 1);
		p.ts_ms = T0 + 1;
		p.tcp_flags = TH_RST;
		flowtable_account(fx->ft, &p);
		assert_int_equal(flowtable_expire(fx->ft, T0 + 1 + 3 * SEC - 1),
		    0);
		assert_int_equal(flowtable_expire(fx->ft, T0 + 1 + 3 * SEC), 1);
		assert_int_equal(fx->sink.e[0].why, EXP_TCP_RST);
		assert_int_equal(flowtable_stats(fx->ft)->expired[EXP_TCP_RST],
		    1);
		fixture_free(fx);
	}
}

/* A zero tcp.rst or tcp.fin timeout turns that class off: plain TCP. */
static void
test_flowtable_zero_timeout_disables(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	int which;

	(void)state;
	for (which = 0; which < 2; which++) {
		cfg_default(&c);
		c.idle_ms[which ? FC_TCP_FIN : FC_TCP_RST] = 0;
		fx = fixture_new(&c);
		p = pkt4(HA, HB, 6, 40000, 80, T0);
		p.tcp_flags = which ? TH_FIN : TH_RST;
		flowtable_account(fx->ft, &p);
		p = reverse(p, T0);
		flowtable_account(fx->ft, &p);
		/* Not expired "immediately" by a zero timeout... */
		assert_int_equal(flowtable_expire(fx->ft, T0 + 1), 0);
		assert_int_equal(flowtable_expire(fx->ft, T0 + 20 * SEC - 1),
		    0);
		/* ...but after the TCP idle timeout. */
		assert_int_equal(flowtable_expire(fx->ft, T0 + 20 * SEC), 1);
		assert_int_equal(fx->sink.e[0].why, EXP_IDLE);
		assert_int_equal(fx->sink.e[0].f.cls, FC_TCP);
		fixture_free(fx);
	}
}

/* A flow busy for longer than maxlife leaves with the active timeout. */
static void
test_flowtable_maxlife(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	uint64_t t;
	unsigned n = 0;

	(void)state;
	cfg_default(&c);
	c.maxlife_ms = 60 * SEC;
	fx = fixture_new(&c);
	p = pkt4(HA, HB, 17, 1000, 2000, T0);
	for (t = T0; t < T0 + 60 * SEC; t += 5 * SEC) {
		p.ts_ms = t;
		flowtable_account(fx->ft, &p);
		n++;
		assert_int_equal(flowtable_expire(fx->ft, t), 0);
	}
	assert_int_equal(flowtable_expire(fx->ft, T0 + 60 * SEC - 1), 0);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 60 * SEC), 1);
	assert_int_equal(fx->sink.e[0].why, EXP_ACTIVE);
	assert_int_equal(fx->sink.e[0].f.side[0].packets, n);
	assert_int_equal(fx->sink.e[0].f.side[0].first_ms, T0);
	assert_int_equal(fx->sink.e[0].f.side[0].last_ms, T0 + 55 * SEC);
	/* The next packet starts a new flow. */
	p.ts_ms = T0 + 60 * SEC;
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_stats(fx->ft)->flows_created, 2);
	assert_int_equal(flowtable_expire_all(fx->ft), 1);
	assert_int_equal(fx->sink.e[1].f.side[0].first_ms, T0 + 60 * SEC);
	fixture_free(fx);
}

/*
 * A full table exports its least recently used flow to make room, and
 * every packet and octet accounted still leaves in exactly one flow.
 */
static void
test_flowtable_table_full(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	const struct flowtable_stats *st;
	uint64_t octets = 0;
	unsigned i;

	(void)state;
	cfg_default(&c);
	c.max_flows = 4;
	fx = fixture_new(&c);
	for (i = 0; i < 4; i++) {
		p = pkt4(HA, HB, 17, (uint16_t)(1000 + i), 53, T0 + i);
		p.octets = 100 + i;
		octets += p.octets;
		flowtable_account(fx->ft, &p);
	}
	/* Touch the oldest: the second becomes least recently used. */
	p = pkt4(HA, HB, 17, 1000, 53, T0 + 10);
	p.octets = 7;
	octets += p.octets;
	flowtable_account(fx->ft, &p);
	assert_int_equal(fx->sink.n, 0);
	p = pkt4(HA, HB, 17, 2000, 53, T0 + 11);
	octets += p.octets;
	flowtable_account(fx->ft, &p);
	assert_int_equal(fx->sink.n, 1);
	assert_int_equal(fx->sink.e[0].why, EXP_TABLE_FULL);
	assert_int_equal(fx->sink.e[0].f.key.port[0], 1001);
	/* A flow of another class is older still: it goes next. */
	p = pkt4(HA, HB, 6, 3000, 80, T0 + 12);
	octets += p.octets;
	flowtable_account(fx->ft, &p);
	assert_int_equal(fx->sink.n, 2);
	assert_int_equal(fx->sink.e[1].f.key.port[0], 1002);
	/* Many more than fit. */
	for (i = 0; i < 100; i++) {
		p = pkt4(HA, HB, (uint8_t)(i % 3 == 0 ? 6 : 17),
		    (uint16_t)(5000 + i), 53, T0 + 100 + i);
		p.octets = 40 + i;
		octets += p.octets;
		flowtable_account(fx->ft, &p);
		assert_true(flowtable_stats(fx->ft)->active <= 4);
	}
	st = flowtable_stats(fx->ft);
	assert_int_equal(st->active, 4);
	assert_int_equal(st->peak_active, 4);
	assert_int_equal(st->expired[EXP_TABLE_FULL], 102);
	assert_int_equal(flowtable_expire_all(fx->ft), 4);
	assert_int_equal(st->packets, 107);
	assert_int_equal(st->octets, octets);
	assert_int_equal(fx->sink.packets, st->packets);
	assert_int_equal(fx->sink.octets, st->octets);
	assert_int_equal(st->flows_expired, st->flows_created);
	fixture_free(fx);
}

static void
test_flowtable_expire_all(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	unsigned i;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	for (i = 0; i < 10; i++) {
		p = pkt4(HA, HB + i, (uint8_t)(i % 2 ? 6 : 17), 1, 2, T0 + i);
		flowtable_account(fx->ft, &p);
	}
	assert_int_equal(flowtable_expire_all(fx->ft), 10);
	assert_int_equal(fx->sink.n, 10);
	for (i = 0; i < 10; i++)
		assert_int_equal(fx->sink.e[i].why, EXP_FORCED);
	assert_int_equal(flowtable_stats(fx->ft)->active, 0);
	assert_int_equal(flowtable_stats(fx->ft)->expired[EXP_FORCED], 10);
	assert_int_equal(flowtable_expire_all(fx->ft), 0);
	/* The table is usable afterwards, and the flows are new ones. */
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_stats(fx->ft)->flows_created, 11);
	fixture_free(fx);
}

static void
test_flowtable_delete_all(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	const struct flowtable_stats *st;
	unsigned i;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	for (i = 0; i < 5; i++) {
		p = pkt4(HA, HB + i, 17, 1, 2, T0 + i);
		flowtable_account(fx->ft, &p);
	}
	assert_int_equal(flowtable_delete_all(fx->ft), 5);
	assert_int_equal(fx->sink.n, 0);
	st = flowtable_stats(fx->ft);
	assert_int_equal(st->active, 0);
	assert_int_equal(st->flows_expired, 0);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 3600 * SEC), 0);
	/* The pool has every record back: fill it again. */
	for (i = 0; i < c.max_flows; i++) {
		p = pkt4(HA, HB + i, 17, 1, 2, T0 + 100);
		flowtable_account(fx->ft, &p);
	}
	assert_int_equal(fx->sink.n, 0);
	assert_int_equal(st->active, c.max_flows);
	fixture_free(fx);
}

/* New timeouts apply to the flows already in the table. */
static void
test_flowtable_set_timeouts(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	p = pkt4(HA, HB, 6, 40000, 80, T0);
	flowtable_account(fx->ft, &p);
	p = pkt4(HA, HB, 17, 1000, 53, T0);
	flowtable_account(fx->ft, &p);
	c.idle_ms[FC_TCP] = 2 * SEC;
	c.max_flows = 1;	/* ignored: the pool is fixed */
	flowtable_set_timeouts(fx->ft, &c);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 2 * SEC - 1), 0);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 2 * SEC), 1);
	assert_int_equal(fx->sink.e[0].f.key.proto, 6);
	/* maxlife too. */
	c.maxlife_ms = 5 * SEC;
	flowtable_set_timeouts(fx->ft, &c);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 5 * SEC), 1);
	assert_int_equal(fx->sink.e[1].why, EXP_ACTIVE);
	/* The pool kept its size. */
	p = pkt4(HA, HB, 17, 1, 53, T0 + 6 * SEC);
	flowtable_account(fx->ft, &p);
	p = pkt4(HA, HB, 17, 2, 53, T0 + 6 * SEC);
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_stats(fx->ft)->active, 2);
	fixture_free(fx);
}

static void
test_flowtable_stats(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	const struct flowtable_stats *st;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	p = pkt4(HA, HB, 6, 40000, 80, T0);
	p.octets = 60;
	flowtable_account(fx->ft, &p);
	flowtable_account(fx->ft, &p);
	p = pkt4(HA, HB, 17, 1000, 53, T0);
	p.octets = 70;
	flowtable_account(fx->ft, &p);
	p = pkt4(HA, HB, 1, 0, 0x0800, T0);
	p.octets = 84;
	flowtable_account(fx->ft, &p);
	st = flowtable_stats(fx->ft);
	assert_int_equal(st->packets, 4);
	assert_int_equal(st->octets, 60 + 60 + 70 + 84);
	assert_int_equal(st->flows_created, 3);
	assert_int_equal(st->active, 3);
	assert_int_equal(st->peak_active, 3);
	assert_int_equal(st->flows_by_proto[6], 1);
	assert_int_equal(st->packets_by_proto[6], 2);
	assert_int_equal(st->octets_by_proto[6], 120);
	assert_int_equal(st->flows_by_proto[17], 1);
	assert_int_equal(st->octets_by_proto[1], 84);
	/* UDP (30 s) goes after TCP (20 s) and before ICMP (40 s). */
	assert_int_equal(flowtable_expire(fx->ft, T0 + 30 * SEC), 2);
	assert_int_equal(st->active, 1);
	assert_int_equal(st->peak_active, 3);
	assert_int_equal(st->flows_expired, 2);
	assert_int_equal(st->expired[EXP_IDLE], 2);
	assert_int_equal(flowtable_expire_all(fx->ft), 1);
	assert_int_equal(st->expired[EXP_FORCED], 1);
	assert_int_equal(st->flows_expired, 3);
	fixture_free(fx);
}

/*
 * Packets out of time order (several interfaces, a stepped clock): the
 * flow spans the earliest to the latest, and every flow whose idle time
 * has passed is expired.
 */
static void
test_flowtable_out_of_order(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	const struct flow *f;
	unsigned i;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	p = pkt4(HA, HB, 17, 1000, 53, T0 + 500);
	flowtable_account(fx->ft, &p);
	p.ts_ms = T0 + 100;
	flowtable_account(fx->ft, &p);
	p.ts_ms = T0 + 300;
	flowtable_account(fx->ft, &p);
	p = reverse(p, T0 + 50);
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_expire_all(fx->ft), 1);
	f = &fx->sink.e[0].f;
	assert_int_equal(f->side[0].first_ms, T0 + 100);
	assert_int_equal(f->side[0].last_ms, T0 + 500);
	assert_int_equal(f->side[0].packets, 3);
	assert_int_equal(f->side[1].first_ms, T0 + 50);
	assert_int_equal(f->side[1].last_ms, T0 + 50);
	assert_int_equal(f->side[1].packets, 1);
	fixture_free(fx);

	/* A late packet of an old flow must not hide it behind newer ones. */
	fx = fixture_new(&c);
	p = pkt4(HA, HB, 17, 1, 53, T0);
	flowtable_account(fx->ft, &p);
	for (i = 0; i < 3; i++) {
		p = pkt4(HA, HB, 17, (uint16_t)(10 + i), 53, T0 + 20 * SEC);
		flowtable_account(fx->ft, &p);
	}
	p = pkt4(HA, HB, 17, 1, 53, T0 - 5 * SEC);	/* late */
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 30 * SEC), 1);
	assert_int_equal(fx->sink.e[0].f.key.port[0], 1);
	assert_int_equal(fx->sink.e[0].f.side[0].packets, 2);
	assert_int_equal(fx->sink.e[0].f.side[0].first_ms, T0 - 5 * SEC);
	assert_int_equal(flowtable_expire(fx->ft, T0 + 50 * SEC), 3);
	fixture_free(fx);
}

/* The first packet's MPLS labels and inner VLAN stay with the flow. */
static void
test_flowtable_mpls_and_inner_vlan(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	unsigned labels;
	size_t bare = 0;

	(void)state;
	for (labels = 0; labels <= 3; labels++) {
		cfg_default(&c);
		c.mpls_labels = labels;
		fx = fixture_new(&c);
		/* Records are compact, not struct flow: they grow per label. */
		if (labels == 0)
			bare = flowtable_record_size(fx->ft);
		assert_true(flowtable_record_size(fx->ft) >=
		    bare + labels * sizeof(uint32_t));
		p = pkt4(HA, HB, 6, 40000, 80, T0);
		p.nmpls = 2;
		p.mpls[0] = 0x00020040;
		p.mpls[1] = 0x00010140;
		p.inner_vlan = 42;
		flowtable_account(fx->ft, &p);
		flowtable_expire_all(fx->ft);
		assert_int_equal(fx->sink.e[0].f.nmpls, labels < 2 ? labels : 2);
		if (labels >= 1)
			assert_int_equal(fx->sink.e[0].mpls[0], 0x00020040);
		if (labels >= 2)
			assert_int_equal(fx->sink.e[0].mpls[1], 0x00010140);
		assert_int_equal(fx->sink.e[0].f.inner_vlan, 42);
		fixture_free(fx);
	}
}

/* Egress is per side: what the capture saw that side's packets do. */
static void
test_flowtable_egress(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	p = pkt4(HA, HB, 6, 40000, 80, T0);
	p.egress = 1;
	p.ifindex = 5;
	flowtable_account(fx->ft, &p);
	p = reverse(p, T0 + 1);
	p.egress = 0;
	flowtable_account(fx->ft, &p);
	flowtable_expire_all(fx->ft);
	assert_int_equal(fx->sink.n, 1);
	assert_int_equal(fx->sink.e[0].f.side[0].egress, 1);
	assert_int_equal(fx->sink.e[0].f.side[1].egress, 0);
	assert_int_equal(fx->sink.e[0].f.key.ifindex, 5);
	fixture_free(fx);
}

/* IPv6 keys compare all 16 bytes. */
static void
test_flowtable_ipv6(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	p = pkt4(0, 0, 6, 40000, 80, T0);
	p.af = 6;
	memcpy(p.src, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
	memcpy(p.dst, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	flowtable_account(fx->ft, &p);
	p.src[15] = 3;
	flowtable_account(fx->ft, &p);
	p = reverse(p, T0 + 1);
	flowtable_account(fx->ft, &p);
	assert_int_equal(flowtable_stats(fx->ft)->flows_created, 2);
	flowtable_expire_all(fx->ft);
	assert_int_equal(fx->sink.e[0].f.key.af, 6);
	assert_int_equal(fx->sink.e[0].f.key.addr[0][15], 1);
	fixture_free(fx);
}

/*
 * Keys that differ in one address byte are different flows, whichever
 * byte: 48 flows in 64 buckets share buckets, so each byte is compared
 * against flows of its own bucket too, under ten hash keys.
 */
static void
test_flowtable_every_byte(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	unsigned i, pass, round;

	(void)state;
	cfg_default(&c);
	for (round = 0; round < 10; round++) {
		fx = fixture_new(&c);
		for (pass = 0; pass < 2; pass++) {
			for (i = 0; i < 48; i++) {
				p = pkt4(0, 0, 6, 40000, 80, T0 + pass);
				p.af = 6;
				memset(p.src, 0x20, 16);
				memset(p.dst, 0x30, 16);
				if (i < 16)
					p.src[i] = 0x21;
				else if (i < 32)
					p.dst[i - 16] = 0x31;
				else
					p.dst[i - 32] = 0x10;
				flowtable_account(fx->ft, &p);
			}
		}
		assert_int_equal(flowtable_stats(fx->ft)->flows_created, 48);
		assert_int_equal(flowtable_stats(fx->ft)->packets, 96);
		fixture_free(fx);
	}
}

/* Counts what leaves: more flows than struct sink holds. */
struct tally {
	uint64_t	flows;
	uint64_t	packets;
	uint64_t	odd;		/* flows without 2 packets */
};

static void
tally_expired(void *arg, const struct flow *f, enum expiry_reason why)
{
	struct tally *t = arg;
	uint64_t n = (uint64_t)f->side[0].packets + f->side[1].packets;

	(void)why;
	t->flows++;
	t->packets += n;
	t->odd += n != 2;
}

/*
 * A table that grows its buckets, in the middle of a batch, still finds
 * every flow: 100 000 flows of 2 packets each, fed 32 packets at a time.
 */
static void
test_flowtable_grows(void **state)
{
	static struct packet batch[32];
	struct flowtable_config c;
	struct flowtable *ft;
	struct tally t = { 0 };
	const struct flowtable_stats *st;
	unsigned i, k, pass, nflows = 100000;

	(void)state;
	cfg_default(&c);
	c.max_flows = 300000;
	ft = flowtable_new(&c, tally_expired, &t);
	assert_non_null(ft);
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < nflows; i += k) {
			for (k = 0; k < 32 && i + k < nflows; k++)
				batch[k] = pkt4(HA + (i + k) / 1000, HB, 17,
				    (uint16_t)(1000 + (i + k) % 1000), 53,
				    T0 + pass * SEC + i + k);
			flowtable_account_batch(ft, batch, k);
		}
	st = flowtable_stats(ft);
	assert_int_equal(st->flows_created, nflows);
	assert_int_equal(st->active, nflows);
	assert_int_equal(st->packets, 2 * nflows);
	assert_int_equal(flowtable_expire_all(ft), nflows);
	assert_int_equal(t.flows, nflows);
	assert_int_equal(t.packets, 2 * nflows);
	assert_int_equal(t.odd, 0);
	flowtable_free(ft);
}

static void
test_flowtable_bad_config(void **state)
{
	struct flowtable_config c;
	struct sink s;

	(void)state;
	cfg_default(&c);
	c.max_flows = 0;
	assert_null(flowtable_new(&c, sink_expired, &s));
	c.max_flows = UINT32_MAX;
	assert_null(flowtable_new(&c, sink_expired, &s));
	flowtable_free(NULL);
}

static void
test_flowtable_names(void **state)
{
	(void)state;
	assert_string_equal(flowtable_reason_name(EXP_IDLE), "idle_timeout");
	assert_string_equal(flowtable_reason_name(EXP_ACTIVE),
	    "active_timeout");
	assert_string_equal(flowtable_reason_name(EXP_TABLE_FULL),
	    "table_full");
	assert_string_equal(flowtable_reason_name(EXP_NREASONS), "unknown");
	assert_string_equal(flowtable_class_name(FC_GENERAL), "general");
	assert_string_equal(flowtable_class_name(FC_TCP_RST), "tcp.rst");
	assert_string_equal(flowtable_class_name(FC_TCP_FIN), "tcp.fin");
	assert_string_equal(flowtable_class_name(FC_ICMP), "icmp");
	assert_string_equal(flowtable_class_name(FC_NCLASS), "unknown");
}

static void
count_flow(void *arg, const struct flow *f)
{
	(void)f;
	(*(unsigned *)arg)++;
}

static void
test_flowtable_foreach(void **state)
{
	struct flowtable_config c;
	struct fixture *fx;
	struct packet p;
	unsigned i, n = 0;

	(void)state;
	cfg_default(&c);
	fx = fixture_new(&c);
	for (i = 0; i < 7; i++) {
		p = pkt4(HA, HB, 17, (uint16_t)i, 53, T0);
		flowtable_account(fx->ft, &p);
	}
	flowtable_foreach(fx->ft, count_flow, &n);
	assert_int_equal(n, 7);
	assert_int_equal(fx->sink.n, 0);
	fixture_free(fx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flowtable_canonical_key),
		cmocka_unit_test(test_flowtable_same_address),
		cmocka_unit_test(test_flowtable_track_levels),
		cmocka_unit_test(test_flowtable_track_key_fields),
		cmocka_unit_test(test_flowtable_idle_per_class),
		cmocka_unit_test(test_flowtable_tcp_fin),
		cmocka_unit_test(test_flowtable_tcp_rst),
		cmocka_unit_test(test_flowtable_zero_timeout_disables),
		cmocka_unit_test(test_flowtable_maxlife),
		cmocka_unit_test(test_flowtable_table_full),
		cmocka_unit_test(test_flowtable_grows),
		cmocka_unit_test(test_flowtable_expire_all),
		cmocka_unit_test(test_flowtable_delete_all),
		cmocka_unit_test(test_flowtable_set_timeouts),
		cmocka_unit_test(test_flowtable_stats),
		cmocka_unit_test(test_flowtable_out_of_order),
		cmocka_unit_test(test_flowtable_mpls_and_inner_vlan),
		cmocka_unit_test(test_flowtable_egress),
		cmocka_unit_test(test_flowtable_ipv6),
		cmocka_unit_test(test_flowtable_every_byte),
		cmocka_unit_test(test_flowtable_bad_config),
		cmocka_unit_test(test_flowtable_names),
		cmocka_unit_test(test_flowtable_foreach),
	};

	/* Code that loops forever fails the suite instead of hanging it. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
