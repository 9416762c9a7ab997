/*
 * Unit tests of the exporter: flows into records (two sides, or one
 * biflow whose forward side is the initiator), then real UDP datagrams
 * to receiving sockets on 127.0.0.1: v5's 32-bit counters split with
 * exact sums, IPv6 under v5 counted unexportable, mirroring, round-robin
 * and a closed collector port counted as refused; datagrams sent in
 * batches arrive whole and in order.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "export.h"

#define T0		1700000000000ULL
#define MAXMSG		256
#define MSGLEN		2048
#define WAIT_MS		5000	/* upper bound for a datagram to arrive */

/* A flow as the flow table hands it over: side 0 is the lower address. */
static struct flow *
mkflow(int af, uint8_t lo, uint8_t hi, uint64_t p0, uint64_t o0, uint64_t t0,
    uint64_t p1, uint64_t o1, uint64_t t1)
{
	struct flow *f;

	f = calloc(1, sizeof(*f) + DECODE_MAX_MPLS * sizeof(uint32_t));
	assert_non_null(f);
	f->key.af = (uint8_t)af;
	if (af == 4) {
		f->key.addr[0][0] = f->key.addr[1][0] = 10;
		f->key.addr[0][3] = lo;
		f->key.addr[1][3] = hi;
	} else {
		f->key.addr[0][0] = f->key.addr[1][0] = 0x20;
		f->key.addr[0][1] = f->key.addr[1][1] = 0x01;
		f->key.addr[0][15] = lo;
		f->key.addr[1][15] = hi;
	}
	f->key.port[0] = 40000;
	f->key.port[1] = 80;
	f->key.proto = 6;
	f->key.tos = 0x10;
	f->side[0].packets = p0;
	f->side[0].octets = o0;
	f->side[0].first_ms = t0;
	f->side[0].last_ms = t0 + 100;
	f->side[0].tcp_flags = 0x12;
	f->side[1].packets = p1;
	f->side[1].octets = o1;
	f->side[1].first_ms = t1;
	f->side[1].last_ms = t1 + 200;
	f->side[1].tcp_flags = 0x02;
	return f;
}

static void
test_export_records_two_sides(void **state)
{
	struct flow_record r[2];
	struct flow *f;

	(void)state;
	f = mkflow(4, 1, 2, 5, 500, T0 + 10, 3, 3000, T0);
	f->key.vlan = 100;
	f->inner_vlan = 7;
	f->key.ifindex = 4;
	f->side[1].egress = 1;
	f->nmpls = 2;
	f->mpls[0] = 0x00020040;
	f->mpls[1] = 0x00010140;
	assert_int_equal(export_flow_records(f, EXP_IDLE, 0, r), 2);
	/* One record per side, each from its sender's point of view. */
	assert_int_equal(r[0].src[3], 1);
	assert_int_equal(r[0].dst[3], 2);
	assert_int_equal(r[0].sport, 40000);
	assert_int_equal(r[0].dport, 80);
	assert_int_equal(r[0].packets, 5);
	assert_int_equal(r[0].octets, 500);
	assert_int_equal(r[0].first_ms, T0 + 10);
	assert_int_equal(r[0].last_ms, T0 + 110);
	assert_int_equal(r[0].tcp_flags, 0x12);
	assert_int_equal(r[0].if_in, 4);
	assert_int_equal(r[0].if_out, 0);
	assert_int_equal(r[1].src[3], 2);
	assert_int_equal(r[1].dst[3], 1);
	assert_int_equal(r[1].sport, 80);
	assert_int_equal(r[1].dport, 40000);
	assert_int_equal(r[1].packets, 3);
	assert_int_equal(r[1].octets, 3000);
	assert_int_equal(r[1].tcp_flags, 0x02);
	assert_int_equal(r[1].if_in, 0);
	assert_int_equal(r[1].if_out, 4);
	assert_int_equal(r[1].egress, 1);
	assert_int_equal(r[0].af, 4);
	assert_int_equal(r[1].proto, 6);
	assert_int_equal(r[1].tos, 0x10);
	assert_int_equal(r[1].vlan, 100);
	assert_int_equal(r[1].inner_vlan, 7);
	assert_int_equal(r[0].nmpls, 2);
	assert_int_equal(r[0].mpls[1], 0x00010140);
	assert_int_equal(r[0].biflow, 0);
	assert_int_equal(r[0].rev_packets, 0);
	free(f);
}

/* One biflow; the side that sent first is the forward direction. */
static void
test_export_records_biflow(void **state)
{
	struct flow_record r[2];
	struct flow *f;
	int init;

	(void)state;
	for (init = 0; init < 2; init++) {
		f = init ? mkflow(4, 1, 2, 5, 500, T0 + 10, 3, 3000, T0) :
		    mkflow(4, 1, 2, 5, 500, T0, 3, 3000, T0 + 10);
		assert_int_equal(export_flow_records(f, EXP_TCP_FIN, 1, r), 1);
		assert_int_equal(r[0].biflow, 1);
		assert_int_equal(r[0].src[3], init ? 2 : 1);
		assert_int_equal(r[0].dst[3], init ? 1 : 2);
		assert_int_equal(r[0].packets, init ? 3 : 5);
		assert_int_equal(r[0].octets, init ? 3000 : 500);
		assert_int_equal(r[0].rev_packets, init ? 5 : 3);
		assert_int_equal(r[0].rev_octets, init ? 500 : 3000);
		assert_int_equal(r[0].first_ms, T0);
		assert_int_equal(r[0].rev_first_ms, T0 + 10);
		assert_int_equal(r[0].rev_last_ms, init ? T0 + 110 : T0 + 210);
		assert_int_equal(r[0].tcp_flags, init ? 0x02 : 0x12);
		assert_int_equal(r[0].rev_tcp_flags, init ? 0x12 : 0x02);
		assert_int_equal(r[0].sport, init ? 80 : 40000);
		free(f);
	}
	/* A one-sided flow is one plain record, biflow or not. */
	f = mkflow(4, 1, 2, 0, 0, 0, 3, 3000, T0);
	assert_int_equal(export_flow_records(f, EXP_IDLE, 1, r), 1);
	assert_int_equal(r[0].src[3], 2);
	assert_int_equal(r[0].packets, 3);
	assert_int_equal(r[0].rev_packets, 0);
	assert_int_equal(export_flow_records(f, EXP_IDLE, 0, r), 1);
	free(f);
}

/* flowEndReason (RFC 7012 IE 136) for each expiry reason. */
static void
test_export_end_reason(void **state)
{
	static const struct {
		enum expiry_reason	 why;
		uint8_t			 ipfix;
	} cases[] = {
		{ EXP_IDLE, 1 }, { EXP_ACTIVE, 2 }, { EXP_TCP_FIN, 3 },
		{ EXP_TCP_RST, 3 }, { EXP_FORCED, 4 }, { EXP_TABLE_FULL, 5 },
	};
	struct flow_record r[2];
	struct flow *f;
	size_t i;

	(void)state;
	f = mkflow(4, 1, 2, 1, 100, T0, 1, 100, T0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(export_flow_records(f, cases[i].why, 0, r), 2);
		assert_int_equal(r[0].end_reason, cases[i].ipfix);
		assert_int_equal(r[1].end_reason, cases[i].ipfix);
	}
	free(f);
}

/* A UDP socket on 127.0.0.1 and an ephemeral port, and its spec. */
struct receiver {
	int		 fd;
	char		 spec[32];
	size_t		 n;
	size_t		 len[MAXMSG];
	uint8_t		 msg[MAXMSG][MSGLEN];
};

static struct receiver *
receiver_new(void)
{
	struct receiver *rx = calloc(1, sizeof(*rx));
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int rcvbuf = 1 << 20;

	assert_non_null(rx);
	rx->fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(rx->fd >= 0);
	(void)setsockopt(rx->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
	    sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rx->fd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(getsockname(rx->fd, (struct sockaddr *)&sin, &slen),
	    0);
	snprintf(rx->spec, sizeof(rx->spec), "127.0.0.1:%u",
	    ntohs(sin.sin_port));
	return rx;
}

static void
receiver_free(struct receiver *rx)
{
	close(rx->fd);
	free(rx);
}

/*
 * Read until want datagrams have arrived (each waited for at most
 * WAIT_MS), then whatever else is already queued.
 */
static void
receiver_read(struct receiver *rx, size_t want)
{
	struct pollfd pfd;
	ssize_t r;

	for (;;) {
		if (rx->n >= MAXMSG)
			fail_msg("more than %d datagrams", MAXMSG);
		pfd.fd = rx->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, rx->n < want ? WAIT_MS : 0) <= 0)
			break;
		r = recv(rx->fd, rx->msg[rx->n], MSGLEN, MSG_DONTWAIT);
		if (r < 0)
			break;
		rx->len[rx->n++] = (size_t)r;
	}
	if (rx->n < want)
		fail_msg("%zu datagrams arrived, %zu were sent", rx->n, want);
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* Sum a receiver's v5 records; bit i of *srcs: a record from 10.0.0.i. */
static void
v5_sum(const struct receiver *rx, uint64_t *packets, uint64_t *octets,
    size_t *records, uint64_t *srcs)
{
	const uint8_t *m, *r;
	size_t i, j, count;

	*packets = *octets = 0;
	*records = 0;
	*srcs = 0;
	for (i = 0; i < rx->n; i++) {
		m = rx->msg[i];
		assert_true(rx->len[i] >= 24);
		assert_int_equal(m[0] << 8 | m[1], 5);
		count = (size_t)(m[2] << 8 | m[3]);
		assert_int_equal(rx->len[i], 24 + 48 * count);
		for (j = 0; j < count; j++) {
			r = m + 24 + 48 * j;
			*packets += be32(r + 16);
			*octets += be32(r + 20);
			assert_true(r[3] < 64);
			*srcs |= 1ULL << r[3];
			/* first <= last, both on the header's clock */
			assert_true(be32(r + 24) <= be32(r + 28));
		}
		*records += count;
	}
}

/* The defaults an exporter runs with, over UDP. */
static void
config_v(struct export_config *c, int version, size_t mtu)
{
	memset(c, 0, sizeof(*c));
	c->version = version;
	c->hoplimit = -1;
	c->transport = EXPORT_UDP;
	c->tmpl_packets = 16;
	c->tmpl_secs = 60;
	c->time_prec = 1;
	c->mtu = mtu;
}

static struct exporter *
exporter_mtu(int version, struct receiver **rx, unsigned n, int lb,
    size_t mtu)
{
	struct export_config c;
	struct exporter *ex;
	unsigned i;

	config_v(&c, version, mtu);
	c.load_balance = lb;
	c.ncollectors = n;
	for (i = 0; i < n; i++)
		c.collectors[i] = rx[i]->spec;
	ex = exporter_new(&c);
	assert_non_null(ex);
	assert_int_equal(exporter_ncollectors(ex), n);
	exporter_set_clock(ex, T0 + 60000);
	return ex;
}

static struct exporter *
exporter_v(int version, struct receiver **rx, unsigned n, int lb)
{
	return exporter_mtu(version, rx, n, lb, 1400);
}

/* Flows 1..n expire: flow k from 10.0.0.k, k packets of 100 bytes. */
static void
expire_flows(struct exporter *ex, unsigned n)
{
	struct flow *f;
	unsigned k;

	for (k = 1; k <= n; k++) {
		f = mkflow(4, (uint8_t)k, 60, k, 100 * k, T0, 0, 0, 0);
		exporter_flow_expired(ex, f, EXP_IDLE);
		free(f);
	}
}

/*
 * v5 counters are 32 bits: a flow beyond them goes out as several
 * records whose packets and octets add up exactly.
 */
static void
test_export_v5_split(void **state)
{
	static const struct {
		uint64_t	 packets;
		uint64_t	 octets;
	} cases[] = {
		{ 3, 9000000000ULL },
		{ 5000000000ULL, 300000000000ULL },
		{ 4294967296ULL, 4294967296ULL },
		{ 1, 4294967296ULL },
		{ 7, 4294967295ULL },
		{ 123456789012ULL, 9876543210987ULL },
	};
	struct receiver *rx;
	struct exporter *ex;
	const struct collector_stats *cs;
	const struct export_stats *es;
	struct flow *f;
	uint64_t p, o, srcs;
	size_t i, recs;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rx = receiver_new();
		ex = exporter_v(5, &rx, 1, 0);
		f = mkflow(4, 1, 2, cases[i].packets, cases[i].octets, T0, 0,
		    0, 0);
		exporter_flow_expired(ex, f, EXP_IDLE);
		exporter_flush(ex);
		cs = exporter_collector(ex, 0);
		es = exporter_stats(ex);
		assert_int_equal(cs->errors, 0);
		receiver_read(rx, cs->packets);
		v5_sum(rx, &p, &o, &recs, &srcs);
		if (p != cases[i].packets || o != cases[i].octets)
			fail_msg("case %zu: %llu packets, %llu octets arrived",
			    i, (unsigned long long)p, (unsigned long long)o);
		/* Split into records that each fit 32 bits. */
		assert_true(recs >= 1 + (cases[i].octets - 1) / UINT32_MAX);
		assert_int_equal(es->packets, cases[i].packets);
		assert_int_equal(es->octets, cases[i].octets);
		assert_int_equal(es->records, recs);
		assert_int_equal(es->flows, 1);
		assert_int_equal(es->unexportable, 0);
		assert_int_equal(cs->records, recs);
		free(f);
		exporter_free(ex);
		receiver_free(rx);
	}
}

/* IPv6 cannot travel in v5: counted, with its packets and octets. */
static void
test_export_v5_ipv6_unexportable(void **state)
{
	struct receiver *rx;
	struct exporter *ex;
	const struct export_stats *es;
	struct flow *f6, *f4;
	uint64_t p, o, srcs;
	size_t recs;

	(void)state;
	rx = receiver_new();
	ex = exporter_v(5, &rx, 1, 0);
	f6 = mkflow(6, 1, 2, 4, 400, T0, 2, 200, T0);
	f4 = mkflow(4, 3, 4, 1, 100, T0, 0, 0, 0);
	exporter_flow_expired(ex, f6, EXP_IDLE);
	exporter_flow_expired(ex, f4, EXP_IDLE);
	exporter_flush(ex);
	es = exporter_stats(ex);
	assert_int_equal(es->flows, 2);
	assert_int_equal(es->unexportable, 2);	/* one record per side */
	assert_int_equal(es->unexportable_packets, 6);
	assert_int_equal(es->unexportable_octets, 600);
	assert_int_equal(es->records, 1);
	assert_int_equal(es->packets, 1);
	receiver_read(rx, exporter_collector(ex, 0)->packets);
	v5_sum(rx, &p, &o, &recs, &srcs);
	assert_int_equal(recs, 1);
	assert_int_equal(srcs, 1ULL << 3);
	free(f6);
	free(f4);
	exporter_free(ex);
	receiver_free(rx);
}

/* Without -l every collector gets every record. */
static void
test_export_mirror(void **state)
{
	struct receiver *rx[2];
	struct exporter *ex;
	uint64_t p, o, srcs;
	size_t recs, i;

	(void)state;
	rx[0] = receiver_new();
	rx[1] = receiver_new();
	ex = exporter_v(5, rx, 2, 0);
	expire_flows(ex, 40);
	exporter_flush(ex);
	for (i = 0; i < 2; i++) {
		assert_int_equal(exporter_collector(ex, i)->errors, 0);
		receiver_read(rx[i], exporter_collector(ex, i)->packets);
		v5_sum(rx[i], &p, &o, &recs, &srcs);
		assert_int_equal(recs, 40);
		assert_int_equal(p, 40 * 41 / 2);
		assert_int_equal(o, 100 * 40 * 41 / 2);
		assert_int_equal(srcs, ((1ULL << 41) - 1) & ~1ULL);
		/* 40 records: a full datagram of 30, then 10. */
		assert_int_equal(rx[i]->n, 2);
	}
	assert_int_equal(rx[0]->len[0], rx[1]->len[0]);
	/* The same records; headers may differ only in their streams. */
	assert_memory_equal(rx[0]->msg[0] + 24, rx[1]->msg[0] + 24,
	    rx[0]->len[0] - 24);
	exporter_free(ex);
	receiver_free(rx[0]);
	receiver_free(rx[1]);
}

/* -l: datagrams alternate between the collectors; together, all. */
static void
test_export_round_robin(void **state)
{
	struct receiver *rx[2];
	struct exporter *ex;
	struct flow *f;
	uint64_t p[2], o[2], srcs[2];
	size_t recs[2], i;
	unsigned k;

	(void)state;
	rx[0] = receiver_new();
	rx[1] = receiver_new();
	ex = exporter_v(5, rx, 2, 1);
	/* Six datagrams of one record each: flow k from 10.0.0.k. */
	for (k = 1; k <= 6; k++) {
		f = mkflow(4, (uint8_t)k, 60, 1, 100, T0, 0, 0, 0);
		exporter_flow_expired(ex, f, EXP_IDLE);
		exporter_flush(ex);
		free(f);
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(exporter_collector(ex, i)->packets, 3);
		receiver_read(rx[i], 3);
		v5_sum(rx[i], &p[i], &o[i], &recs[i], &srcs[i]);
		assert_int_equal(recs[i], 3);
	}
	/* Alternating: one gets flows 1, 3, 5, the other 2, 4, 6. */
	assert_true((srcs[0] == 0x2a && srcs[1] == 0x54) ||
	    (srcs[0] == 0x54 && srcs[1] == 0x2a));
	assert_int_equal(p[0] + p[1], 6);
	assert_int_equal(exporter_stats(ex)->datagrams, 6);
	exporter_free(ex);
	receiver_free(rx[0]);
	receiver_free(rx[1]);
}

/*
 * A collector whose port is closed: sends fail as refused once the ICMP
 * error is back, each failure counted, and the live collector beside it
 * still gets everything.
 */
static void
test_export_closed_port(void **state)
{
	struct receiver *rx[2];
	struct exporter *ex;
	const struct collector_stats *dead, *live;
	struct flow *f;
	uint64_t p, o, srcs;
	size_t recs;
	unsigned k;

	(void)state;
	rx[0] = receiver_new();
	rx[1] = receiver_new();
	/* Free the port: nothing listens there any more. */
	close(rx[1]->fd);
	rx[1]->fd = -1;
	ex = exporter_v(5, rx, 2, 0);
	dead = exporter_collector(ex, 1);
	live = exporter_collector(ex, 0);
	for (k = 1; k <= 50 && dead->refused == 0; k++) {
		f = mkflow(4, (uint8_t)k, 60, 1, 100, T0, 0, 0, 0);
		exporter_flow_expired(ex, f, EXP_IDLE);
		exporter_flush(ex);
		free(f);
	}
	assert_true(dead->refused >= 1);
	assert_true(dead->errors >= dead->refused);
	/* Every message either went out or was counted as not sent. */
	assert_int_equal(dead->packets + dead->errors,
	    exporter_stats(ex)->datagrams);
	assert_int_equal(dead->lost_records, dead->errors);
	assert_int_equal(live->errors, 0);
	assert_int_equal(live->packets, exporter_stats(ex)->datagrams);
	receiver_read(rx[0], live->packets);
	v5_sum(rx[0], &p, &o, &recs, &srcs);
	assert_int_equal(recs, k - 1);
	assert_int_equal(p, k - 1);
	exporter_free(ex);
	rx[1]->fd = socket(AF_INET, SOCK_DGRAM, 0);
	receiver_free(rx[0]);
	receiver_free(rx[1]);
}

/*
 * Many datagrams from one flush leave in batches (sendmmsg): all arrive,
 * in order, and a batch to a closed port counts every datagram as sent
 * or lost while the live collector beside it gets them all.
 */
static void
test_export_batched_sends(void **state)
{
	struct receiver *rx[2];
	struct exporter *ex;
	const struct collector_stats *dead, *live;
	uint64_t p, o, srcs;
	size_t recs, i;

	(void)state;
	rx[0] = receiver_new();
	rx[1] = receiver_new();
	close(rx[1]->fd);
	rx[1]->fd = -1;
	/* 100 bytes: one v5 record a datagram. */
	ex = exporter_mtu(5, rx, 2, 0, 100);
	live = exporter_collector(ex, 0);
	dead = exporter_collector(ex, 1);
	expire_flows(ex, 40);
	exporter_flush(ex);
	assert_int_equal(exporter_stats(ex)->datagrams, 40);
	assert_int_equal(live->errors, 0);
	assert_int_equal(live->packets, 40);
	assert_int_equal(dead->packets + dead->errors, 40);
	assert_int_equal(dead->records + dead->lost_records, 40);
	receiver_read(rx[0], 40);
	assert_int_equal(rx[0]->n, 40);
	for (i = 0; i < rx[0]->n; i++) {
		/* flow_sequence: the records sent before this datagram */
		assert_int_equal(be32(rx[0]->msg[i] + 16), i);
		assert_int_equal(rx[0]->msg[i][24 + 3], i + 1);
	}
	v5_sum(rx[0], &p, &o, &recs, &srcs);
	assert_int_equal(recs, 40);
	assert_int_equal(p, 40 * 41 / 2);
	exporter_free(ex);
	rx[1]->fd = socket(AF_INET, SOCK_DGRAM, 0);
	receiver_free(rx[0]);
	receiver_free(rx[1]);
}

/*
 * mtu = auto: a loopback collector's route allows 65536 bytes, so
 * datagrams grow to the 8900-byte cap, and none is larger.
 */
static void
test_export_mtu_auto(void **state)
{
	static uint8_t big[65536];
	struct receiver *rx;
	struct exporter *ex;
	struct export_config c;
	struct flow *f;
	struct pollfd pfd;
	size_t longest = 0, got = 0;
	ssize_t r;
	unsigned i;

	(void)state;
	rx = receiver_new();
	config_v(&c, 9, 0);	/* mtu = auto */
	c.ncollectors = 1;
	c.collectors[0] = rx->spec;
	ex = exporter_new(&c);
	assert_non_null(ex);
	assert_int_equal(exporter_stats(ex)->max_datagram, 8900);
	exporter_set_clock(ex, T0 + 60000);
	for (i = 0; i < 400; i++) {
		f = mkflow(4, (uint8_t)(1 + i % 200), (uint8_t)(i / 200 + 201),
		    3, 300, T0, 0, 0, 0);
		exporter_flow_expired(ex, f, EXP_IDLE);
		free(f);
	}
	exporter_flush(ex);
	for (;;) {
		pfd.fd = rx->fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, got < exporter_collector(ex, 0)->packets ?
		    WAIT_MS : 0) <= 0)
			break;
		if ((r = recv(rx->fd, big, sizeof(big), MSG_DONTWAIT)) < 0)
			break;
		got++;
		if ((size_t)r > longest)
			longest = (size_t)r;
	}
	assert_int_equal(got, exporter_collector(ex, 0)->packets);
	assert_true(longest > 1400);
	assert_true(longest <= 8900);
	exporter_free(ex);

	/* A configured size is kept as it is. */
	c.mtu = 1200;
	ex = exporter_new(&c);
	assert_non_null(ex);
	assert_int_equal(exporter_stats(ex)->max_datagram, 1200);
	exporter_free(ex);
	receiver_free(rx);
}

/* Bad collector specs fail exporter_new. */
static void
test_export_bad_collector(void **state)
{
	static const char *const bad[] = { "nocolon", "127.0.0.1:",
	    ":2055", "[::1]2055", "[::1:2055", "127.0.0.1:99999",
	    "127.0.0.1:no-such-service-name" };
	struct export_config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_v(&c, 5, 1400);
		c.ncollectors = 1;
		c.collectors[0] = (char *)bad[i];
		if (exporter_new(&c) != NULL)
			fail_msg("collector \"%s\" was accepted", bad[i]);
	}
}

/* The flow table and exporter together: every accounted packet arrives. */
static void
test_export_from_flowtable(void **state)
{
	struct flowtable_config fc;
	struct flowtable *ft;
	struct receiver *rx;
	struct exporter *ex;
	struct packet pk;
	uint64_t p, o, srcs, octets = 0;
	size_t recs;
	unsigned i;

	(void)state;
	rx = receiver_new();
	ex = exporter_v(5, &rx, 1, 0);
	memset(&fc, 0, sizeof(fc));
	fc.max_flows = 8;	/* a full table exports early */
	fc.track = TRACK_FULL;
	for (i = 0; i < FC_NCLASS; i++)
		fc.idle_ms[i] = 15000;
	fc.maxlife_ms = 1800000;
	ft = flowtable_new(&fc, exporter_flow_expired, ex);
	assert_non_null(ft);
	for (i = 0; i < 100; i++) {
		memset(&pk, 0, sizeof(pk));
		pk.af = 4;
		pk.src[0] = pk.dst[0] = 10;
		pk.src[3] = (uint8_t)(1 + i % 20);
		pk.dst[3] = 60;
		pk.proto = 17;
		pk.sport = 5000;
		pk.dport = 53;
		pk.octets = 60 + i;
		pk.ts_ms = T0 + i;
		octets += pk.octets;
		flowtable_account(ft, &pk);
	}
	flowtable_expire_all(ft);
	exporter_flush(ex);
	receiver_read(rx, exporter_collector(ex, 0)->packets);
	v5_sum(rx, &p, &o, &recs, &srcs);
	assert_int_equal(p, 100);
	assert_int_equal(o, octets);
	assert_int_equal(recs, flowtable_stats(ft)->flows_expired);
	flowtable_free(ft);
	exporter_free(ex);
	receiver_free(rx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_records_two_sides),
		cmocka_unit_test(test_export_records_biflow),
		cmocka_unit_test(test_export_end_reason),
		cmocka_unit_test(test_export_v5_split),
		cmocka_unit_test(test_export_v5_ipv6_unexportable),
		cmocka_unit_test(test_export_mirror),
		cmocka_unit_test(test_export_round_robin),
		cmocka_unit_test(test_export_closed_port),
		cmocka_unit_test(test_export_batched_sends),
		cmocka_unit_test(test_export_bad_collector),
		cmocka_unit_test(test_export_mtu_auto),
		cmocka_unit_test(test_export_from_flowtable),
	};

	/* A send that never returns fails the suite instead of hanging. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
