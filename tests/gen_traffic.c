/*
 * gen_traffic: a deterministic pcap of synthetic traffic for tests, the
 * demo and the benchmark.
 *
 *   gen_traffic -n PACKETS -f FLOWS -s SEED -r PPS [-o file.pcap]
 *       [-S snaplen] [-b epoch_seconds] [-T truth.tsv]
 *   gen_traffic -V	prints the output format's version, for caches
 *
 * Flows are TCP (handshake, data, FIN or RST, or left open), UDP request/
 * response and ICMP echo, over IPv4 and IPv6, some 802.1Q-tagged.  Packet
 * counts per flow are heavy-tailed; each flow has its own pace, some pause
 * longer than an idle timeout and resume, and in a long enough capture some
 * stay active for more than 30 minutes.  The capture lasts PACKETS / PPS
 * seconds, so PPS is its mean rate; each packet is stamped at its flow's
 * own pace, which keeps those gaps and lifetimes true.
 *
 * -T writes what pcap-truth would print for the capture (same columns,
 * same order), without tshark, so large captures can be checked quickly.
 * The same arguments always give the same bytes.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wbuf.h"

/* Bumped whenever the same arguments would give different bytes. */
#define GEN_FORMAT	1
#define GEN_MAX_FLOWS	((1u << 24) - 2)	/* IPv4 clients: 10.0.0.0/8 */
#define GEN_MTU		1500
#define GEN_MIN_FRAME	60		/* Ethernet minimum without FCS */
#define TH_FIN		0x01
#define TH_SYN		0x02
#define TH_RST		0x04
#define TH_PSH		0x08
#define TH_ACK		0x10

enum gen_kind { K_TCP, K_UDP, K_ICMP };
enum gen_end { END_FIN, END_RST, END_OPEN };

struct gen_flow {
	uint64_t	start_us;	/* virtual time of the first packet */
	uint64_t	pause_us;	/* extra gap before packet pause_at */
	uint32_t	count;
	uint32_t	gap_us;		/* mean gap between packets */
	uint32_t	pause_at;	/* 0: no long pause */
	uint32_t	server;
	uint16_t	sport;
	uint16_t	dport;
	uint16_t	vlan;		/* 0: untagged */
	uint8_t		kind;
	uint8_t		af;
	uint8_t		end;
};

/* One packet before sorting: when, in virtual time, and which it is. */
struct gen_event {
	uint64_t	vt_us;
	uint32_t	flow;
	uint32_t	seq;
};

/* What the packet carries, decided from the flow and its position. */
struct gen_pkt {
	int		dir;		/* 0: client to server */
	uint8_t		flags;		/* TCP flags */
	uint8_t		icmp_type;
	uint32_t	ip_len;
};

/* Per-direction totals, for -T. */
struct gen_tally {
	uint64_t	bytes[2];
	uint64_t	first_ms[2];
	uint64_t	last_ms[2];
	uint32_t	packets[2];
};

struct gen_truth_line {
	char		key[128];	/* src dst proto sport dport */
	uint8_t		field[5];	/* offset of each field in key */
	uint32_t	flow;
	int		dir;
};

struct gen {
	uint64_t	 seed;
	uint64_t	 npackets;
	uint32_t	 nflows;
	uint32_t	 pps;
	uint32_t	 snaplen;
	uint64_t	 begin_s;
	struct gen_flow	*flows;
	struct gen_event *events;
	struct gen_tally *tally;
};

static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* A random number that depends only on the seed and the three labels. */
static uint64_t
gen_rand(const struct gen *g, uint64_t a, uint64_t b, uint64_t c)
{
	return mix64(mix64(mix64(g->seed ^ a) ^ b) ^ c);
}

/* Uniform in [0, 1). */
static double
gen_unit(const struct gen *g, uint64_t a, uint64_t b, uint64_t c)
{
	return (double)(gen_rand(g, a, b, c) >> 11) /
	    9007199254740992.0;		/* 2^53 */
}

enum { R_KIND = 1, R_AF, R_END, R_PORT, R_VLAN, R_SERVER, R_COUNT, R_GAP,
	R_START, R_PAUSE, R_LONG, R_SIZE, R_JITTER, R_SHARE };

static void
gen_counts(struct gen *g)
{
	uint64_t extra = g->npackets - g->nflows, given = 0, share, i, left;
	double *w, sum = 0;

	if ((w = calloc(g->nflows, sizeof(*w))) == NULL) {
		perror("gen_traffic");
		exit(1);
	}
	/* Pareto weights: most flows are short, a few carry most packets. */
	for (i = 0; i < g->nflows; i++) {
		w[i] = pow(1.0 - gen_unit(g, R_COUNT, i, 0), -1.0 / 1.2);
		if (w[i] > 1e4)
			w[i] = 1e4;
		sum += w[i];
	}
	for (i = 0; i < g->nflows; i++) {
		share = (uint64_t)((double)extra * w[i] / sum);
		g->flows[i].count = 1 + (uint32_t)share;
		given += share;
	}
	/* Rounding leaves fewer than nflows packets: one more to some. */
	for (left = extra - given, i = 0; left > 0; left--, i++)
		g->flows[gen_rand(g, R_SHARE, i, 0) % g->nflows].count++;
	free(w);
}

static void
gen_flow_shape(struct gen *g, uint32_t i)
{
	static const uint16_t tcp_ports[] = { 80, 443, 443, 443, 22, 25, 8080,
	    993 };
	static const uint16_t udp_ports[] = { 53, 53, 123, 443, 5060, 4500 };
	struct gen_flow *f = &g->flows[i];
	double u = gen_unit(g, R_KIND, i, 0), dur_s, span_s;
	double total_s = (double)g->npackets / g->pps, gap_s;

	f->af = gen_unit(g, R_AF, i, 0) < 0.25 ? 6 : 4;
	f->kind = u < 0.70 ? K_TCP : u < 0.92 ? K_UDP : K_ICMP;
	u = gen_unit(g, R_END, i, 0);
	f->end = u < 0.75 ? END_FIN : u < 0.92 ? END_RST : END_OPEN;
	f->server = (uint32_t)(gen_rand(g, R_SERVER, i, 0) % 256);
	f->sport = (uint16_t)(1024 + gen_rand(g, R_PORT, i, 0) % 64511);
	if (f->kind == K_TCP)
		f->dport = tcp_ports[gen_rand(g, R_PORT, i, 1) % 8];
	else if (f->kind == K_UDP)
		f->dport = udp_ports[gen_rand(g, R_PORT, i, 1) % 6];
	if (gen_unit(g, R_VLAN, i, 0) < 0.10)
		f->vlan = (uint16_t)(1 + gen_rand(g, R_VLAN, i, 1) % 4094);

	/* A pace between 1 ms and 2 s per packet, log-uniform. */
	gap_s = 0.001 * pow(2000.0, gen_unit(g, R_GAP, i, 0));
	if (f->count > 1 && gap_s * (f->count - 1) > 0.8 * total_s)
		gap_s = 0.8 * total_s / (f->count - 1) *
		    (0.1 + 0.9 * gen_unit(g, R_GAP, i, 1));
	dur_s = f->count > 1 ? gap_s * (f->count - 1) : 0;

	/* Some flows fall silent past an idle timeout, then resume. */
	if (total_s >= 60 && f->count >= 4 &&
	    gen_unit(g, R_PAUSE, i, 0) < 0.05) {
		f->pause_at = f->count / 2;
		f->pause_us = (uint64_t)((20.0 + 20.0 *
		    gen_unit(g, R_PAUSE, i, 1)) * 1e6);
		dur_s += (double)f->pause_us / 1e6;
	}
	/* In a capture of over half an hour, some outlive an active timeout. */
	if (total_s >= 1900 && f->count >= 200 &&
	    gen_unit(g, R_LONG, i, 0) < 0.5) {
		span_s = 1850 + (total_s - 1900) * gen_unit(g, R_LONG, i, 1);
		/* Paced well inside an idle timeout, jitter included. */
		if (span_s / (f->count - 1) <= 8.0) {
			gap_s = span_s / (f->count - 1);
			dur_s = span_s;
			f->pause_at = 0;
			f->pause_us = 0;
		}
	}
	f->gap_us = (uint32_t)(gap_s * 1e6) + 1;
	if (dur_s > total_s)
		dur_s = total_s;
	f->start_us = (uint64_t)((total_s - dur_s) * 1e6 *
	    gen_unit(g, R_START, i, 0));
}

static int
event_cmp(const void *a, const void *b)
{
	const struct gen_event *x = a, *y = b;

	if (x->vt_us != y->vt_us)
		return x->vt_us < y->vt_us ? -1 : 1;
	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
gen_events(struct gen *g)
{
	struct gen_event *e = g->events, *first;
	struct gen_flow *f;
	uint64_t vt, end_us = g->npackets * 1000000 / g->pps, shift;
	uint32_t i, s;

	for (i = 0; i < g->nflows; i++) {
		f = &g->flows[i];
		first = e;
		vt = f->start_us;
		for (s = 0; s < f->count; s++) {
			if (s > 0) {
				/* Jitter of +-50% around the flow's pace. */
				vt += 1 + (uint64_t)(f->gap_us *
				    (0.5 + gen_unit(g, R_JITTER, i, s)));
				if (s == f->pause_at)
					vt += f->pause_us;
			}
			e->vt_us = vt;
			e->flow = i;
			e->seq = s;
			e++;
		}
		/* Jitter may carry a flow past the end: start it earlier. */
		if (vt > end_us) {
			shift = vt - end_us < first->vt_us ? vt - end_us :
			    first->vt_us;
			for (; first < e; first++)
				first->vt_us -= shift;
		}
	}
	qsort(g->events, g->npackets, sizeof(*g->events), event_cmp);
}

/* The size of a data packet, by protocol and direction, 64..1500. */
static uint32_t
gen_size(const struct gen *g, uint32_t flow, uint32_t seq, uint32_t lo,
    uint32_t hi)
{
	return lo + (uint32_t)(gen_rand(g, R_SIZE, flow, seq) % (hi - lo + 1));
}

static void
gen_packet(const struct gen *g, uint32_t flow, uint32_t seq,
    struct gen_pkt *p)
{
	const struct gen_flow *f = &g->flows[flow];
	uint32_t hdr = f->af == 4 ? 20 : 40, n = f->count, data;
	int end;

	memset(p, 0, sizeof(*p));
	switch (f->kind) {
	case K_TCP:
		hdr += 20;
		end = n >= 6 ? f->end : n >= 4 && f->end == END_RST ?
		    END_RST : END_OPEN;
		p->ip_len = hdr;
		if (seq == 0) {
			p->flags = TH_SYN;
			p->ip_len = hdr + 4;	/* MSS option */
		} else if (n == 2) {
			p->dir = 1;
			p->flags = TH_RST | TH_ACK;
		} else if (seq == 1) {
			p->dir = 1;
			p->flags = TH_SYN | TH_ACK;
			p->ip_len = hdr + 4;
		} else if (seq == 2) {
			p->flags = TH_ACK;
		} else if (end == END_FIN && seq >= n - 3) {
			p->dir = seq == n - 2;
			p->flags = seq == n - 1 ? TH_ACK : TH_FIN | TH_ACK;
		} else if (end == END_RST && seq == n - 1) {
			p->dir = (int)(gen_rand(g, R_END, flow, 1) & 1);
			p->flags = TH_RST | TH_ACK;
		} else {
			/* Requests go up small, answers come down large. */
			data = seq - 3;
			p->dir = data % 3 != 0;
			p->flags = TH_PSH | TH_ACK;
			p->ip_len = p->dir ?
			    gen_size(g, flow, seq, 200, GEN_MTU) :
			    gen_size(g, flow, seq, hdr + 1, 600);
		}
		break;
	case K_UDP:
		p->dir = seq & 1;
		p->ip_len = f->dport == 53 || f->dport == 123 ?
		    gen_size(g, flow, seq, hdr + 8 + 12, 512) :
		    gen_size(g, flow, seq, hdr + 8, GEN_MTU);
		break;
	case K_ICMP:
		p->dir = seq & 1;
		if (f->af == 4)
			p->icmp_type = p->dir ? 0 : 8;
		else
			p->icmp_type = p->dir ? 129 : 128;
		/* An echo reply has its request's size. */
		p->ip_len = gen_size(g, flow, seq & ~1u, hdr + 8, GEN_MTU);
		break;
	}
}

static void
gen_addr(const struct gen *g, uint32_t flow, int server, uint8_t *a)
{
	const struct gen_flow *f = &g->flows[flow];

	memset(a, 0, 16);
	if (f->af == 4) {
		if (server) {
			/* 192.0.2.1-128 and 198.51.100.1-128 */
			a[0] = f->server < 128 ? 192 : 198;
			a[1] = f->server < 128 ? 0 : 51;
			a[2] = f->server < 128 ? 2 : 100;
			a[3] = (uint8_t)(1 + (f->server & 0x7f));
		} else {
			a[0] = 10;
			a[1] = (uint8_t)((flow + 1) >> 16);
			a[2] = (uint8_t)((flow + 1) >> 8);
			a[3] = (uint8_t)(flow + 1);
		}
		return;
	}
	a[0] = 0x20;
	a[1] = 0x01;
	a[2] = 0x0d;
	a[3] = 0xb8;
	if (server) {
		a[5] = 0xff;
		a[15] = (uint8_t)(1 + f->server);
		a[14] = (uint8_t)((1 + f->server) >> 8);
	} else {
		a[5] = 0x01;
		a[12] = (uint8_t)((flow + 1) >> 24);
		a[13] = (uint8_t)((flow + 1) >> 16);
		a[14] = (uint8_t)((flow + 1) >> 8);
		a[15] = (uint8_t)(flow + 1);
	}
}

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * Write one frame into w: Ethernet (maybe 802.1Q), IP, the transport
 * header, then a zero payload up to ip_len, padded to the Ethernet
 * minimum.  Zero payload adds nothing to a checksum, so checksums are
 * right even where the snap length cuts the frame.
 */
static void
gen_frame(const struct gen *g, uint32_t flow, uint32_t seq,
    const struct gen_pkt *p, struct wbuf *w)
{
	const struct gen_flow *f = &g->flows[flow];
	uint8_t addr[2][16], mac[2][6] = { { 0x02, 0, 0, 0, 0, 0 },
	    { 0x02, 0xff, 0, 0, 0, 1 } };
	uint16_t port[2] = { f->sport, f->dport };
	size_t ip, l4, l4len, alen = f->af == 4 ? 4 : 16, frame;
	uint32_t sum, isn = (uint32_t)gen_rand(g, R_PORT, flow, 2);
	uint8_t proto;
	int s = p->dir, d = !p->dir;

	gen_addr(g, flow, 0, addr[0]);
	gen_addr(g, flow, 1, addr[1]);
	mac[0][2] = (uint8_t)(flow >> 24);
	mac[0][3] = (uint8_t)(flow >> 16);
	mac[0][4] = (uint8_t)(flow >> 8);
	mac[0][5] = (uint8_t)flow;
	proto = f->kind == K_TCP ? 6 : f->kind == K_UDP ? 17 :
	    f->af == 4 ? 1 : 58;

	wbuf_bytes(w, mac[d], 6);
	wbuf_bytes(w, mac[s], 6);
	if (f->vlan) {
		wbuf_be16(w, 0x8100);
		wbuf_be16(w, f->vlan);
	}
	wbuf_be16(w, f->af == 4 ? 0x0800 : 0x86dd);
	ip = w->len;
	if (f->af == 4) {
		wbuf_u8(w, 0x45);
		wbuf_u8(w, 0);
		wbuf_be16(w, (uint16_t)p->ip_len);
		wbuf_be16(w, (uint16_t)(flow * 7 + seq));	/* IP id */
		wbuf_be16(w, 0x4000);				/* DF */
		wbuf_u8(w, 64);
		wbuf_u8(w, proto);
		wbuf_be16(w, 0);
		wbuf_bytes(w, addr[s], 4);
		wbuf_bytes(w, addr[d], 4);
		if (!w->overflow)
			wbuf_put_be16_at(w, ip + 10,
			    csum_fold(csum_add(0, w->buf + ip, 20)));
		l4len = p->ip_len - 20;
	} else {
		wbuf_be32(w, 0x60000000);
		wbuf_be16(w, (uint16_t)(p->ip_len - 40));
		wbuf_u8(w, proto);
		wbuf_u8(w, 64);
		wbuf_bytes(w, addr[s], 16);
		wbuf_bytes(w, addr[d], 16);
		l4len = p->ip_len - 40;
	}
	l4 = w->len;
	switch (f->kind) {
	case K_TCP:
		wbuf_be16(w, port[s]);
		wbuf_be16(w, port[d]);
		wbuf_be32(w, isn + seq * 1460u);
		wbuf_be32(w, p->flags & TH_ACK ? isn ^ 0x5a5a5a5a : 0);
		wbuf_u8(w, (uint8_t)((l4len > 20 && (p->flags & TH_SYN) ?
		    6 : 5) << 4));
		wbuf_u8(w, p->flags);
		wbuf_be16(w, 64240);
		wbuf_be32(w, 0);		/* checksum, urgent pointer */
		if (p->flags & TH_SYN) {
			wbuf_be16(w, 0x0204);	/* MSS 1460 */
			wbuf_be16(w, 1460);
		}
		break;
	case K_UDP:
		wbuf_be16(w, port[s]);
		wbuf_be16(w, port[d]);
		wbuf_be16(w, (uint16_t)l4len);
		wbuf_be16(w, 0);
		break;
	case K_ICMP:
		wbuf_u8(w, p->icmp_type);
		wbuf_u8(w, 0);
		wbuf_be16(w, 0);
		wbuf_be16(w, (uint16_t)flow);	/* echo id */
		wbuf_be16(w, (uint16_t)(seq / 2));
		break;
	}
	if (w->overflow)
		return;
	/* Pseudo-header, except for ICMPv4 which has none. */
	sum = csum_add(0, w->buf + l4, w->len - l4);
	if (!(f->kind == K_ICMP && f->af == 4)) {
		sum = csum_add(sum, addr[s], alen);
		sum = csum_add(sum, addr[d], alen);
		sum += proto + (uint32_t)l4len;
	}
	if (f->kind == K_TCP)
		wbuf_put_be16_at(w, l4 + 16, csum_fold(sum));
	else if (f->kind == K_UDP)
		wbuf_put_be16_at(w, l4 + 6, csum_fold(sum) ? csum_fold(sum) :
		    0xffff);
	else
		wbuf_put_be16_at(w, l4 + 2, csum_fold(sum));
	frame = ip + p->ip_len;
	if (frame < GEN_MIN_FRAME)
		frame = GEN_MIN_FRAME;
	(void)wbuf_reserve(w, frame - w->len);
}

static void
put_le32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

static int
gen_write(struct gen *g, FILE *fp)
{
	static uint8_t frame[GEN_MTU + 64];
	uint8_t hdr[24], rec[16];
	struct wbuf w;
	struct gen_pkt p;
	struct gen_event *e;
	struct gen_tally *t;
	uint64_t i, ts_us, ms;
	uint32_t caplen;

	/* Little-endian pcap, microseconds, Ethernet. */
	put_le32(hdr, 0xa1b2c3d4);
	hdr[4] = 2, hdr[5] = 0, hdr[6] = 4, hdr[7] = 0;
	memset(hdr + 8, 0, 8);
	put_le32(hdr + 16, g->snaplen);
	put_le32(hdr + 20, 1);
	if (fwrite(hdr, sizeof(hdr), 1, fp) != 1)
		return -1;
	for (i = 0; i < g->npackets; i++) {
		e = &g->events[i];
		/* Never on a half millisecond, where rounding to milliseconds
		 * could go either way. */
		ts_us = e->vt_us + (e->vt_us % 1000 == 500);
		gen_packet(g, e->flow, e->seq, &p);
		wbuf_init(&w, frame, sizeof(frame));
		gen_frame(g, e->flow, e->seq, &p, &w);
		if (w.overflow) {
			fprintf(stderr, "gen_traffic: frame overflow (bug)\n");
			return -1;
		}
		caplen = w.len < g->snaplen ? (uint32_t)w.len : g->snaplen;
		put_le32(rec, (uint32_t)(g->begin_s + ts_us / 1000000));
		put_le32(rec + 4, (uint32_t)(ts_us % 1000000));
		put_le32(rec + 8, caplen);
		put_le32(rec + 12, (uint32_t)w.len);
		if (fwrite(rec, sizeof(rec), 1, fp) != 1 ||
		    fwrite(frame, caplen, 1, fp) != 1)
			return -1;
		if (g->tally == NULL)
			continue;
		t = &g->tally[e->flow];
		ms = g->begin_s * 1000 + (ts_us + 500) / 1000;
		if (t->packets[p.dir]++ == 0)
			t->first_ms[p.dir] = ms;
		t->last_ms[p.dir] = ms;
		t->bytes[p.dir] += p.ip_len;
	}
	return fflush(fp) == 0 ? 0 : -1;
}

static void
truth_key(const struct gen *g, struct gen_truth_line *l)
{
	const struct gen_flow *f = &g->flows[l->flow];
	char a[2][INET6_ADDRSTRLEN];
	uint8_t addr[2][16];
	unsigned sport, dport, proto, type;
	int s = l->dir, d = !l->dir, fam = f->af == 4 ? AF_INET : AF_INET6;
	char *p;
	int i;

	gen_addr(g, l->flow, 0, addr[0]);
	gen_addr(g, l->flow, 1, addr[1]);
	inet_ntop(fam, addr[s], a[0], sizeof(a[0]));
	inet_ntop(fam, addr[d], a[1], sizeof(a[1]));
	proto = f->kind == K_TCP ? 6 : f->kind == K_UDP ? 17 :
	    f->af == 4 ? 1 : 58;
	if (f->kind == K_ICMP) {
		type = f->af == 4 ? (s ? 0 : 8) : (s ? 129 : 128);
		sport = 0;
		dport = type * 256;
	} else {
		sport = s ? f->dport : f->sport;
		dport = s ? f->sport : f->dport;
	}
	snprintf(l->key, sizeof(l->key), "%s%c%s%c%u%c%u%c%u", a[0], 0, a[1],
	    0, proto, 0, sport, 0, dport);
	for (p = l->key, i = 0; i < 5; i++) {
		l->field[i] = (uint8_t)(p - l->key);
		p += strlen(p) + 1;
	}
}

/* pcap-truth sorts keys by the text of each field in turn. */
static int
truth_cmp(const void *a, const void *b)
{
	const struct gen_truth_line *x = a, *y = b;
	int i, c;

	for (i = 0; i < 5; i++)
		if ((c = strcmp(x->key + x->field[i], y->key + y->field[i])) !=
		    0)
			return c;
	return 0;
}

static int
gen_truth(struct gen *g, const char *path)
{
	struct gen_truth_line *lines;
	const struct gen_truth_line *k;
	const struct gen_tally *t;
	size_t n = 0, i;
	uint32_t fl;
	int dir, r = -1;
	FILE *fp;

	if ((lines = calloc((size_t)g->nflows * 2, sizeof(*lines))) == NULL)
		return -1;
	for (fl = 0; fl < g->nflows; fl++)
		for (dir = 0; dir < 2; dir++)
			if (g->tally[fl].packets[dir]) {
				lines[n].flow = fl;
				lines[n].dir = dir;
				truth_key(g, &lines[n++]);
			}
	qsort(lines, n, sizeof(*lines), truth_cmp);
	if ((fp = fopen(path, "w")) == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		t = &g->tally[lines[i].flow];
		dir = lines[i].dir;
		k = &lines[i];
		fprintf(fp, "%s\t%s\t%s\t%s\t%s\t%" PRIu32 "\t%" PRIu64 "\t%"
		    PRIu64 "\t%" PRIu64 "\t0\n", k->key + k->field[0],
		    k->key + k->field[1], k->key + k->field[2],
		    k->key + k->field[3], k->key + k->field[4],
		    t->packets[dir], t->bytes[dir], t->first_ms[dir],
		    t->last_ms[dir]);
	}
	r = fclose(fp) == 0 ? 0 : -1;
done:
	free(lines);
	return r;
}

static void
usage(void)
{
	fprintf(stderr, "usage: gen_traffic -n packets -f flows -s seed "
	    "-r pps [-o file.pcap]\n"
	    "                   [-S snaplen] [-b epoch_seconds] "
	    "[-T truth.tsv]\n"
	    "       gen_traffic -V    (the output format's version)\n");
	exit(2);
}

static uint64_t
num_arg(int opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "gen_traffic: -%c %s: expected a number from "
		    "%" PRIu64 " to %" PRIu64 "\n", opt, s, min, max);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	static char obuf[1 << 20];
	struct gen g;
	const char *out = NULL, *truth = NULL;
	FILE *fp = stdout;
	uint32_t i;
	int c, have = 0;

	memset(&g, 0, sizeof(g));
	g.snaplen = 65535;
	g.begin_s = 1700000000;		/* 2023-11-14 22:13:20 UTC */
	while ((c = getopt(argc, argv, "n:f:s:r:o:S:b:T:Vh")) != -1) {
		switch (c) {
		case 'V':
			printf("gen_traffic %d\n", GEN_FORMAT);
			return 0;
		case 'n':
			g.npackets = num_arg(c, optarg, 1, UINT32_MAX);
			have |= 1;
			break;
		case 'f':
			g.nflows = (uint32_t)num_arg(c, optarg, 1,
			    GEN_MAX_FLOWS);
			have |= 2;
			break;
		case 's':
			g.seed = num_arg(c, optarg, 0, UINT64_MAX);
			have |= 4;
			break;
		case 'r':
			g.pps = (uint32_t)num_arg(c, optarg, 1, 100000000);
			have |= 8;
			break;
		case 'o':
			out = optarg;
			break;
		case 'S':
			g.snaplen = (uint32_t)num_arg(c, optarg, 96, 65535);
			break;
		case 'b':
			g.begin_s = num_arg(c, optarg, 0, UINT32_MAX / 2);
			break;
		case 'T':
			truth = optarg;
			break;
		default:
			usage();
		}
	}
	if (have != 15 || optind != argc)
		usage();
	if (g.nflows > g.npackets) {
		fprintf(stderr, "gen_traffic: %u flows need at least as many "
		    "packets; raise -n or lower -f\n", g.nflows);
		return 2;
	}
	if (out == NULL && isatty(STDOUT_FILENO)) {
		fprintf(stderr, "gen_traffic: give -o file.pcap or redirect "
		    "stdout\n");
		return 2;
	}
	g.flows = calloc(g.nflows, sizeof(*g.flows));
	g.events = calloc(g.npackets, sizeof(*g.events));
	if (truth)
		g.tally = calloc(g.nflows, sizeof(*g.tally));
	if (g.flows == NULL || g.events == NULL || (truth && !g.tally)) {
		fprintf(stderr, "gen_traffic: out of memory; lower -n or -f\n");
		return 1;
	}
	gen_counts(&g);
	for (i = 0; i < g.nflows; i++)
		gen_flow_shape(&g, i);
	gen_events(&g);

	if (out && (fp = fopen(out, "wb")) == NULL) {
		fprintf(stderr, "gen_traffic: %s: %s\n", out, strerror(errno));
		return 1;
	}
	setvbuf(fp, obuf, _IOFBF, sizeof(obuf));
	if (gen_write(&g, fp) == -1 || (out && fclose(fp) != 0)) {
		fprintf(stderr, "gen_traffic: writing %s: %s\n",
		    out ? out : "stdout", strerror(errno));
		return 1;
	}
	if (truth && gen_truth(&g, truth) == -1) {
		fprintf(stderr, "gen_traffic: writing %s: %s\n", truth,
		    strerror(errno));
		return 1;
	}
	free(g.flows);
	free(g.events);
	free(g.tally);
	return 0;
}
