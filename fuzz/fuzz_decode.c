/*
 * Fuzz target for the packet path: decode a frame, account it into small
 * flow tables that persist across inputs (so eviction and every expiry
 * reason run), and turn each flow that leaves into records encoded as
 * NetFlow v1, v5, v9 and IPFIX.  Besides the sanitizers, it checks the
 * probe's promises: a decoded packet is sane, and every accounted packet
 * and byte leaves the table in exactly one record.
 *
 * Input: one selector byte (see fuzz.h), then the captured frame.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "export.h"
#include "flowtable.h"
#include "fuzz.h"
#include "nf5.h"
#include "nf9.h"
#include "wbuf.h"

#define TABLE_FLOWS	64
#define NTABLES		2
#define NENCODERS	4
#define STEP_MS		1000		/* capture time between inputs */
#define FLUSH_EVERY	512		/* inputs between forced expiry */
#define START_MS	1700000000000ULL
#define DGRAM		1400
#define TINY_DGRAM	64		/* too small for most records */

struct table {
	struct flowtable	*ft;
	uint64_t		 in_packets, in_octets;
	uint64_t		 out_packets, out_octets;
};

static struct {
	int			 init;
	int			 dlts[FUZZ_MAX_LINKTYPES];
	size_t			 ndlt;
	struct table		 t[NTABLES];
	struct nf9		*enc[NENCODERS];
	struct export_stream	 st[NENCODERS + 2];
	uint64_t		 now_ms;
	uint64_t		 inputs;
	uint8_t			 dgram[DGRAM];
} S;

static const struct nf9_options enc_opts[NENCODERS] = {
	{ .version = 9, .time_prec = 1, .mpls_labels = DECODE_MAX_MPLS },
	{ .version = 10, .time_prec = 0, .mpls_labels = 3, .domain_id = 7 },
	{ .version = 10, .biflow = 1, .time_prec = 3,
	    .mpls_labels = DECODE_MAX_MPLS },
	{ .version = 10, .psamp = 1, .sampling = 100, .time_prec = 2,
	    .mpls_labels = 2 },
};

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_decode: broken promise: %s\n", what);
		abort();
	}
}

static void
encode_nf5(int version, struct export_stream *st,
    const struct export_clock *clk, const struct flow_record *recs, size_t n)
{
	struct wbuf w;
	size_t hdr = version == 1 ? 16 : 24;

	check(nf5_max_records(version, sizeof(S.dgram)) >= n,
	    "a flow's records fit a v1/v5 datagram");
	wbuf_init(&w, S.dgram, sizeof(S.dgram));
	nf5_encode(version, version == 5 ? 100 : 0, st, clk, recs, n, &w);
	check(!w.overflow && w.len == hdr + 48 * n, "v1/v5 datagram size");
}

static void
encode_control(int i, const struct export_clock *clk,
    const struct nf9_optvals *ov, int tmpl, size_t cap)
{
	struct nf9_control ctl;
	struct wbuf w;
	int r, msgs = 0;

	memset(&ctl, 0, sizeof(ctl));
	ctl.with_templates = tmpl;
	do {
		wbuf_init(&w, S.dgram, cap);
		r = nf9_encode_control(S.enc[i], &S.st[i], clk, ov, &ctl, &w);
		check(w.len <= cap, "a control message stays in its datagram");
		if (r == -1) {
			check(cap < sizeof(S.dgram),
			    "every control item fits a full datagram");
			return;
		}
		check(!w.overflow, "a control message is whole");
		if (enc_opts[i].version == 10)
			check(w.len == ((size_t)S.dgram[2] << 8 | S.dgram[3]),
			    "IPFIX header length is the control message's");
	} while (r == 0 && ++msgs < 64);
	check(r == 1, "a control series ends");
}

static void
encode_nf9(int i, const struct export_clock *clk,
    const struct flow_record *recs, size_t n, const struct nf9_optvals *ov)
{
	struct wbuf w;
	size_t k;
	int tmpl = (int)(S.inputs & 1);

	wbuf_init(&w, S.dgram, sizeof(S.dgram));
	k = nf9_encode(S.enc[i], &S.st[i], clk, tmpl, recs, n, &w);
	check(k == n && !w.overflow, "v9/IPFIX records fit a datagram");
	if (enc_opts[i].version == 10)
		check(w.len == ((size_t)S.dgram[2] << 8 | S.dgram[3]),
		    "IPFIX header length is the datagram's");
	/* A datagram too small for the records must stop short, not spill. */
	wbuf_init(&w, S.dgram, TINY_DGRAM);
	k = nf9_encode(S.enc[i], &S.st[i], clk, !tmpl, recs, n, &w);
	check(k <= n && w.len <= TINY_DGRAM, "short datagram stays in bounds");

	/*
	 * Control series (templates, the sampling selector, the exporter
	 * statistics): whole messages in a datagram, and a bounded series
	 * in one too small for some items.
	 */
	encode_control(i, clk, ov, tmpl, sizeof(S.dgram));
	encode_control(i, clk, ov, !tmpl, TINY_DGRAM);
}

static void
on_expired(void *arg, const struct flow *f, enum expiry_reason why)
{
	struct table *t = arg;
	struct flow_record rec[2], bi[2];
	struct export_clock clk;
	struct nf9_optvals ov;
	uint64_t packets = 0, octets = 0;
	size_t n, nb, i;

	check((unsigned)why < EXP_NREASONS, "expiry reason in range");
	check(flowtable_reason_name(why) != NULL, "expiry reason named");
	n = export_flow_records(f, why, 0, rec);
	check(n >= 1 && n <= 2, "a flow yields one or two records");
	for (i = 0; i < n; i++) {
		check(rec[i].packets > 0, "no empty record");
		check(rec[i].first_ms <= rec[i].last_ms, "record time order");
		packets += rec[i].packets;
		octets += rec[i].octets;
	}
	t->out_packets += packets;
	t->out_octets += octets;

	nb = export_flow_records(f, why, 1, bi);
	check(nb == 1, "a biflow is one record");
	check(bi[0].packets + bi[0].rev_packets == packets &&
	    bi[0].octets + bi[0].rev_octets == octets,
	    "a biflow carries both directions");

	clk.now_ms = S.now_ms;
	clk.boot_ms = START_MS - 1000;
	encode_nf5(1, &S.st[NENCODERS], &clk, rec, n);
	encode_nf5(5, &S.st[NENCODERS + 1], &clk, rec, n);
	memset(&ov, 0, sizeof(ov));
	ov.messages = S.inputs;
	ov.records = t->out_packets;
	ov.octets = t->out_octets;
	ov.ignored_packets = S.inputs - t->in_packets;
	ov.process_id = 1;
	for (i = 0; i < NENCODERS; i++) {
		if (enc_opts[i].biflow)
			encode_nf9((int)i, &clk, bi, nb, &ov);
		else
			encode_nf9((int)i, &clk, rec, n, &ov);
	}
}

static void check_accounting(int);

/* The last inputs of a run are checked too, however many there were. */
static void
check_at_exit(void)
{
	check_accounting(1);
}

static void
fuzz_init(void)
{
	struct flowtable_config c;
	int i;

	S.ndlt = fuzz_linktypes(S.dlts);
	check(S.ndlt > 0, "the decoder supports a link type");
	for (i = 0; i < NTABLES; i++) {
		memset(&c, 0, sizeof(c));
		c.max_flows = TABLE_FLOWS;
		c.track = i == 0 ? TRACK_FULL : TRACK_ETHER;
		c.mpls_labels = i == 0 ? DECODE_MAX_MPLS : 3;
		c.idle_ms[FC_GENERAL] = 15000;
		c.idle_ms[FC_TCP] = 20000;
		c.idle_ms[FC_TCP_RST] = 5000;
		c.idle_ms[FC_TCP_FIN] = i == 0 ? 5000 : 0;
		c.idle_ms[FC_UDP] = 10000;
		c.idle_ms[FC_ICMP] = 8000;
		c.maxlife_ms = 60000;
		S.t[i].ft = flowtable_new(&c, on_expired, &S.t[i]);
		check(S.t[i].ft != NULL, "flow table allocated");
	}
	for (i = 0; i < NENCODERS; i++) {
		S.enc[i] = nf9_new(&enc_opts[i]);
		check(S.enc[i] != NULL, "encoder allocated");
	}
	S.now_ms = START_MS;
	S.init = 1;
	atexit(check_at_exit);
}

static void
check_sane(const struct packet *p, uint32_t caplen, uint32_t wirelen,
    uint64_t ts)
{
	uint32_t wire = wirelen > caplen ? wirelen : caplen;

	check(p->ts_ms == ts, "decoder keeps the timestamp");
	check(p->af == 4 || p->af == 6, "address family");
	check(p->octets >= (p->af == 4 ? 20u : 40u), "IP length covers header");
	check(p->octets <= wire, "IP length within the frame on the wire");
	check(p->nmpls <= DECODE_MAX_MPLS, "MPLS stack bounded");
	check(p->frag <= PKT_FRAG_LATER, "fragment state");
	check(p->notes < 1u << DECODE_NNOTES, "notes in range");
	if (p->frag == PKT_FRAG_LATER)
		check(p->sport == 0 && p->dport == 0,
		    "later fragments carry no ports");
}

/* The fast path decodes a frame exactly as the general decoder does. */
static void
check_same_as_general(int dlt, const uint8_t *frame, uint32_t caplen,
    uint32_t wirelen, enum decode_result r, const struct packet *p)
{
	struct packet g;

	/* Stale bytes where the decoder writes nothing must not matter. */
	memset(&g, 0x5a, sizeof(g));
	g.ts_ms = p->ts_ms;
	check(decode_packet_general(dlt, frame, caplen, wirelen, &g) == r,
	    "fast path and general decoder give the same result");
	if (r != DECODE_OK)
		return;
	check(memcmp(p, &g, offsetof(struct packet, src_mac)) == 0,
	    "fast path and general decoder give the same fields");
	check(!p->has_mac || (memcmp(p->src_mac, g.src_mac, 6) == 0 &&
	    memcmp(p->dst_mac, g.dst_mac, 6) == 0),
	    "fast path and general decoder give the same MACs");
	check(memcmp(p->mpls, g.mpls, p->nmpls * sizeof(p->mpls[0])) == 0,
	    "fast path and general decoder give the same labels");
}

static void
check_accounting(int all)
{
	const struct flowtable_stats *fs;
	int i;

	for (i = 0; i < NTABLES; i++) {
		if (all)
			flowtable_expire_all(S.t[i].ft);
		fs = flowtable_stats(S.t[i].ft);
		check(fs->packets == S.t[i].in_packets &&
		    fs->octets == S.t[i].in_octets, "table counts its input");
		check(fs->active <= TABLE_FLOWS, "table bounded");
		if (all)
			check(fs->active == 0 &&
			    S.t[i].out_packets == S.t[i].in_packets &&
			    S.t[i].out_octets == S.t[i].in_octets,
			    "every packet and byte exported exactly once");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct packet pkt;
	enum decode_result r;
	uint32_t caplen, wirelen;
	uint64_t ts;
	int i, dlt;

	if (!S.init)
		fuzz_init();
	if (size < 1 || size - 1 > UINT32_MAX - FUZZ_CUT_EXTRA)
		return 0;
	dlt = S.dlts[(data[0] & ~FUZZ_CUT) % S.ndlt];
	caplen = (uint32_t)(size - 1);
	wirelen = caplen + (data[0] & FUZZ_CUT ? FUZZ_CUT_EXTRA : 0);

	S.inputs++;
	S.now_ms += STEP_MS;
	/* Captures are not always in time order: some packets lag. */
	ts = S.now_ms - (caplen % 4) * 400;
	pkt.ts_ms = ts;
	r = decode_packet(dlt, data + 1, caplen, wirelen, &pkt);
	check((unsigned)r < DECODE_NREASONS, "decode result in range");
	check(decode_reason_name(r) != NULL, "decode result named");
	if (r == DECODE_OK)
		check_sane(&pkt, caplen, wirelen, ts);
	check_same_as_general(dlt, data + 1, caplen, wirelen, r, &pkt);

	for (i = 0; i < NTABLES; i++) {
		flowtable_expire(S.t[i].ft, S.now_ms);
		if (r != DECODE_OK)
			continue;
		flowtable_account(S.t[i].ft, &pkt);
		S.t[i].in_packets++;
		S.t[i].in_octets += pkt.octets;
	}
	check_accounting(S.inputs % FLUSH_EVERY == 0);
	return 0;
}
