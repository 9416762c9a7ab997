/*
 * NetFlow v9 and IPFIX encoders.  An information element is a row of
 * ie_table: its id, length, enterprise number and how to read it from a
 * flow record.  Templates are lists of rows chosen once at start-up; the
 * template sets and the data records are both generated from those lists.
 */
#include <stdlib.h>
#include <string.h>

#include "nf9.h"

#define V9_TEMPLATE_SET		0
#define IPFIX_TEMPLATE_SET	2
#define TMPL_ID_BASE		256	/* + template index below */
#define MAX_FIELDS		48
#define PEN_REVERSE		29305	/* RFC 5103 reverse elements */
#define NTP_EPOCH_OFFSET	2208988800ULL

struct ie;
typedef uint64_t (*ie_num_fn)(const struct flow_record *,
		    const struct export_clock *, unsigned arg);
typedef const uint8_t *(*ie_bytes_fn)(const struct flow_record *);

struct ie {
	const char	*name;
	uint16_t	 id;
	uint16_t	 len;
	uint32_t	 pen;
	ie_num_fn	 num;
	ie_bytes_fn	 bytes;
	unsigned	 arg;
};

struct template {
	uint16_t	 id;
	size_t		 nfields;
	size_t		 reclen;
	const struct ie	*fields[MAX_FIELDS];
};

/*
 * Four record shapes: IPv4/IPv6, each with or without the ICMP type/code
 * element, since collectors read that element over the ports when it is
 * present, whatever the protocol.
 */
#define TMPL_V6		1
#define TMPL_ICMP	2
#define NTEMPLATES	4

struct nf9 {
	struct nf9_options	opt;
	struct template		tmpl[NTEMPLATES];
};

static uint32_t
uptime(const struct export_clock *clk, uint64_t ms)
{
	return ms > clk->boot_ms ? (uint32_t)(ms - clk->boot_ms) : 0;
}

/* dateTime{Seconds,Milliseconds,Microseconds,Nanoseconds} of RFC 7011. */
static uint64_t
abstime(uint64_t ms, unsigned prec)
{
	uint64_t secs = ms / 1000, frac;

	switch (prec) {
	case 0:
		return secs;
	case 1:
		return ms;
	default:
		/* NTP format: seconds since 1900 and a binary fraction. */
		frac = ((ms % 1000) << 32) / 1000;
		return (secs + NTP_EPOCH_OFFSET) << 32 | frac;
	}
}

static const uint8_t *b_src(const struct flow_record *r) { return r->src; }
static const uint8_t *b_dst(const struct flow_record *r) { return r->dst; }
static const uint8_t *b_smac(const struct flow_record *r) { return r->src_mac; }
static const uint8_t *b_dmac(const struct flow_record *r) { return r->dst_mac; }

#define NUM_FN(name, expr)						\
static uint64_t								\
name(const struct flow_record *r, const struct export_clock *c, unsigned a) \
{									\
	(void)r; (void)c; (void)a;					\
	return (expr);							\
}

NUM_FN(n_sport, r->sport)
NUM_FN(n_dport, r->dport)
NUM_FN(n_proto, r->proto)
NUM_FN(n_tos, r->tos)
NUM_FN(n_flags, r->tcp_flags)
NUM_FN(n_packets, r->packets)
NUM_FN(n_octets, r->octets)
NUM_FN(n_first_up, uptime(c, r->first_ms))
NUM_FN(n_last_up, uptime(c, r->last_ms))
NUM_FN(n_first_abs, abstime(r->first_ms, a))
NUM_FN(n_last_abs, abstime(r->last_ms, a))
NUM_FN(n_if_in, r->if_in)
NUM_FN(n_if_out, r->if_out)
NUM_FN(n_direction, r->egress)
NUM_FN(n_vlan, r->vlan)
NUM_FN(n_inner_vlan, r->inner_vlan)
NUM_FN(n_ipver, r->af)
NUM_FN(n_icmp, (r->proto == 1 || r->proto == 58) ? r->dport : 0)
NUM_FN(n_end_reason, r->end_reason)
NUM_FN(n_mpls, a < r->nmpls ? r->mpls[a] >> 8 : 0)
NUM_FN(n_rev_packets, r->rev_packets)
NUM_FN(n_rev_octets, r->rev_octets)
NUM_FN(n_rev_flags, r->rev_tcp_flags)
NUM_FN(n_rev_first_abs, abstime(r->rev_packets ? r->rev_first_ms : r->first_ms, a))
NUM_FN(n_rev_last_abs, abstime(r->rev_packets ? r->rev_last_ms : r->first_ms, a))

/* Element ids are shared by v9 and IPFIX unless noted. */
enum {
	IE_SRC4, IE_DST4, IE_SRC6, IE_DST6, IE_SPORT, IE_DPORT, IE_PROTO,
	IE_TOS, IE_FLAGS, IE_PACKETS, IE_OCTETS, IE_FIRST_UP, IE_LAST_UP,
	IE_IF_IN, IE_IF_OUT, IE_DIRECTION, IE_VLAN, IE_INNER_VLAN, IE_IPVER,
	IE_ICMP4, IE_ICMP6, IE_END_REASON, IE_SMAC, IE_DMAC,
	IE_START_S, IE_END_S, IE_START_MS, IE_END_MS, IE_START_US, IE_END_US,
	IE_START_NS, IE_END_NS,
	IE_REV_PACKETS, IE_REV_OCTETS, IE_REV_FLAGS, IE_REV_START_MS,
	IE_REV_END_MS, IE_MPLS1,
	IE_COUNT = IE_MPLS1 + DECODE_MAX_MPLS
};

#define MPLS_IE(i) [IE_MPLS1 + (i)] = { "mplsLabelStackSection", 70 + (i), \
	3, 0, n_mpls, NULL, (i) }

static const struct ie ie_table[IE_COUNT] = {
	[IE_SRC4] =	{ "sourceIPv4Address", 8, 4, 0, NULL, b_src, 0 },
	[IE_DST4] =	{ "destinationIPv4Address", 12, 4, 0, NULL, b_dst, 0 },
	[IE_SRC6] =	{ "sourceIPv6Address", 27, 16, 0, NULL, b_src, 0 },
	[IE_DST6] =	{ "destinationIPv6Address", 28, 16, 0, NULL, b_dst, 0 },
	[IE_SPORT] =	{ "sourceTransportPort", 7, 2, 0, n_sport, NULL, 0 },
	[IE_DPORT] =	{ "destinationTransportPort", 11, 2, 0, n_dport, NULL, 0 },
	[IE_PROTO] =	{ "protocolIdentifier", 4, 1, 0, n_proto, NULL, 0 },
	[IE_TOS] =	{ "ipClassOfService", 5, 1, 0, n_tos, NULL, 0 },
	[IE_FLAGS] =	{ "tcpControlBits", 6, 1, 0, n_flags, NULL, 0 },
	[IE_PACKETS] =	{ "packetDeltaCount", 2, 8, 0, n_packets, NULL, 0 },
	[IE_OCTETS] =	{ "octetDeltaCount", 1, 8, 0, n_octets, NULL, 0 },
	[IE_FIRST_UP] =	{ "flowStartSysUpTime", 22, 4, 0, n_first_up, NULL, 0 },
	[IE_LAST_UP] =	{ "flowEndSysUpTime", 21, 4, 0, n_last_up, NULL, 0 },
	[IE_IF_IN] =	{ "ingressInterface", 10, 4, 0, n_if_in, NULL, 0 },
	[IE_IF_OUT] =	{ "egressInterface", 14, 4, 0, n_if_out, NULL, 0 },
	[IE_DIRECTION] = { "flowDirection", 61, 1, 0, n_direction, NULL, 0 },
	[IE_VLAN] =	{ "vlanId", 58, 2, 0, n_vlan, NULL, 0 },
	[IE_INNER_VLAN] = { "dot1qCustomerVlanId", 245, 2, 0, n_inner_vlan,
			    NULL, 0 },
	[IE_IPVER] =	{ "ipVersion", 60, 1, 0, n_ipver, NULL, 0 },
	[IE_ICMP4] =	{ "icmpTypeCodeIPv4", 32, 2, 0, n_icmp, NULL, 0 },
	[IE_ICMP6] =	{ "icmpTypeCodeIPv6", 139, 2, 0, n_icmp, NULL, 0 },
	[IE_END_REASON] = { "flowEndReason", 136, 1, 0, n_end_reason, NULL, 0 },
	[IE_SMAC] =	{ "sourceMacAddress", 56, 6, 0, NULL, b_smac, 0 },
	[IE_DMAC] =	{ "destinationMacAddress", 80, 6, 0, NULL, b_dmac, 0 },
	[IE_START_S] =	{ "flowStartSeconds", 150, 4, 0, n_first_abs, NULL, 0 },
	[IE_END_S] =	{ "flowEndSeconds", 151, 4, 0, n_last_abs, NULL, 0 },
	[IE_START_MS] =	{ "flowStartMilliseconds", 152, 8, 0, n_first_abs,
			    NULL, 1 },
	[IE_END_MS] =	{ "flowEndMilliseconds", 153, 8, 0, n_last_abs, NULL, 1 },
	[IE_START_US] =	{ "flowStartMicroseconds", 154, 8, 0, n_first_abs,
			    NULL, 2 },
	[IE_END_US] =	{ "flowEndMicroseconds", 155, 8, 0, n_last_abs, NULL, 2 },
	[IE_START_NS] =	{ "flowStartNanoseconds", 156, 8, 0, n_first_abs,
			    NULL, 3 },
	[IE_END_NS] =	{ "flowEndNanoseconds", 157, 8, 0, n_last_abs, NULL, 3 },
	[IE_REV_PACKETS] = { "reversePacketDeltaCount", 2, 8, PEN_REVERSE,
			    n_rev_packets, NULL, 0 },
	[IE_REV_OCTETS] = { "reverseOctetDeltaCount", 1, 8, PEN_REVERSE,
			    n_rev_octets, NULL, 0 },
	[IE_REV_FLAGS] = { "reverseTcpControlBits", 6, 1, PEN_REVERSE,
			    n_rev_flags, NULL, 0 },
	[IE_REV_START_MS] = { "reverseFlowStartMilliseconds", 152, 8,
			    PEN_REVERSE, n_rev_first_abs, NULL, 1 },
	[IE_REV_END_MS] = { "reverseFlowEndMilliseconds", 153, 8, PEN_REVERSE,
			    n_rev_last_abs, NULL, 1 },
	MPLS_IE(0), MPLS_IE(1), MPLS_IE(2), MPLS_IE(3), MPLS_IE(4),
	MPLS_IE(5), MPLS_IE(6), MPLS_IE(7), MPLS_IE(8), MPLS_IE(9),
};

static void
tmpl_add(struct template *t, int ie)
{
	if (t->nfields < MAX_FIELDS) {
		t->fields[t->nfields++] = &ie_table[ie];
		t->reclen += ie_table[ie].len;
	}
}

static void
tmpl_build(struct template *t, const struct nf9_options *opt, int kind)
{
	int v6 = kind & TMPL_V6;
	static const int times[4][2] = {
		{ IE_START_S, IE_END_S }, { IE_START_MS, IE_END_MS },
		{ IE_START_US, IE_END_US }, { IE_START_NS, IE_END_NS },
	};
	int ipfix = opt->version == 10;
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->id = (uint16_t)(TMPL_ID_BASE + kind);
	tmpl_add(t, v6 ? IE_SRC6 : IE_SRC4);
	tmpl_add(t, v6 ? IE_DST6 : IE_DST4);
	tmpl_add(t, IE_SPORT);
	tmpl_add(t, IE_DPORT);
	tmpl_add(t, IE_PROTO);
	tmpl_add(t, IE_TOS);
	tmpl_add(t, IE_FLAGS);
	tmpl_add(t, IE_PACKETS);
	tmpl_add(t, IE_OCTETS);
	if (ipfix) {
		/*
		 * Reverse times go first: collectors that ignore the
		 * enterprise bit (nfdump 1.7) then keep the forward ones.
		 */
		if (opt->biflow) {
			tmpl_add(t, IE_REV_START_MS);
			tmpl_add(t, IE_REV_END_MS);
		}
		tmpl_add(t, times[opt->time_prec & 3][0]);
		tmpl_add(t, times[opt->time_prec & 3][1]);
	} else {
		tmpl_add(t, IE_FIRST_UP);
		tmpl_add(t, IE_LAST_UP);
	}
	tmpl_add(t, IE_IF_IN);
	tmpl_add(t, IE_IF_OUT);
	tmpl_add(t, IE_DIRECTION);
	tmpl_add(t, IE_VLAN);
	/* v9's ICMP_TYPE (32) serves both families; IPFIX splits them. */
	if (kind & TMPL_ICMP)
		tmpl_add(t, v6 && ipfix ? IE_ICMP6 : IE_ICMP4);
	tmpl_add(t, IE_IPVER);
	if (ipfix) {
		tmpl_add(t, IE_INNER_VLAN);
		tmpl_add(t, IE_END_REASON);
	}
	for (i = 0; i < opt->mpls_labels && i < DECODE_MAX_MPLS; i++)
		tmpl_add(t, IE_MPLS1 + (int)i);
	if (ipfix && opt->biflow) {
		tmpl_add(t, IE_REV_PACKETS);
		tmpl_add(t, IE_REV_OCTETS);
		tmpl_add(t, IE_REV_FLAGS);
	}
}

struct nf9 *
nf9_new(const struct nf9_options *opt)
{
	struct nf9 *enc;
	int kind;

	if ((enc = calloc(1, sizeof(*enc))) == NULL)
		return NULL;
	enc->opt = *opt;
	for (kind = 0; kind < NTEMPLATES; kind++)
		tmpl_build(&enc->tmpl[kind], opt, kind);
	return enc;
}

void
nf9_free(struct nf9 *enc)
{
	free(enc);
}

static const struct template *
tmpl_for(const struct nf9 *enc, const struct flow_record *r)
{
	return &enc->tmpl[(r->af == 6 ? TMPL_V6 : 0) |
	    (r->proto == 1 || r->proto == 58 ? TMPL_ICMP : 0)];
}

static void
put_template(struct wbuf *w, const struct template *t)
{
	const struct ie *e;
	size_t i;

	wbuf_be16(w, t->id);
	wbuf_be16(w, (uint16_t)t->nfields);
	for (i = 0; i < t->nfields; i++) {
		e = t->fields[i];
		wbuf_be16(w, (uint16_t)(e->id | (e->pen ? 0x8000 : 0)));
		wbuf_be16(w, e->len);
		if (e->pen)
			wbuf_be32(w, e->pen);
	}
}

static void
put_record(struct wbuf *w, const struct template *t,
    const struct flow_record *r, const struct export_clock *clk)
{
	const struct ie *e;
	size_t i;

	for (i = 0; i < t->nfields; i++) {
		e = t->fields[i];
		if (e->bytes)
			wbuf_bytes(w, e->bytes(r), e->len);
		else
			wbuf_be(w, e->num(r, clk, e->arg), e->len);
	}
}

/* Close a set: v9 pads to 32 bits (RFC 3954 5.3); IPFIX needs none. */
static void
set_close(struct wbuf *w, size_t set_off, int v9)
{
	if (set_off == (size_t)-1)
		return;
	if (v9)
		while ((w->len - set_off) % 4 != 0)
			wbuf_u8(w, 0);
	wbuf_put_be16_at(w, set_off + 2, (uint16_t)(w->len - set_off));
}

size_t
nf9_encode(struct nf9 *enc, struct export_stream *st,
    const struct export_clock *clk, int with_templates,
    const struct flow_record *recs, size_t n, struct wbuf *w)
{
	int v9 = enc->opt.version == 9;
	size_t hdr, set_off = (size_t)-1, i, need, count = 0;
	const struct template *t, *cur = NULL;
	uint32_t nsecs = (uint32_t)(clk->now_ms / 1000);

	hdr = wbuf_reserve(w, v9 ? 20 : 16);
	if (hdr == (size_t)-1)
		return 0;
	if (with_templates) {
		set_off = w->len;
		wbuf_be16(w, v9 ? V9_TEMPLATE_SET : IPFIX_TEMPLATE_SET);
		wbuf_be16(w, 0);
		for (i = 0; i < NTEMPLATES; i++)
			put_template(w, &enc->tmpl[i]);
		set_close(w, set_off, v9);
		set_off = (size_t)-1;
		count += NTEMPLATES;
	}
	for (i = 0; i < n; i++) {
		t = tmpl_for(enc, &recs[i]);
		/* Room for the record, a new set header, and v9 padding. */
		need = t->reclen + (t != cur ? 4 : 0) + (v9 ? 3 : 0);
		if (wbuf_room(w) < need)
			break;
		if (t != cur) {
			set_close(w, set_off, v9);
			set_off = w->len;
			wbuf_be16(w, t->id);
			wbuf_be16(w, 0);
			cur = t;
		}
		put_record(w, t, &recs[i], clk);
	}
	set_close(w, set_off, v9);

	if (v9) {
		/* sysUpTime from whole seconds keeps boot time exact. */
		uint64_t now_floor = (uint64_t)nsecs * 1000;

		wbuf_put_be16_at(w, hdr, 9);
		wbuf_put_be16_at(w, hdr + 2, (uint16_t)(count + i));
		wbuf_put_be32_at(w, hdr + 4, uptime(clk, now_floor));
		wbuf_put_be32_at(w, hdr + 8, nsecs);
		wbuf_put_be32_at(w, hdr + 12, st->sequence);
		wbuf_put_be32_at(w, hdr + 16, enc->opt.domain_id);
		st->sequence++;
	} else {
		wbuf_put_be16_at(w, hdr, 10);
		wbuf_put_be16_at(w, hdr + 2, (uint16_t)w->len);
		wbuf_put_be32_at(w, hdr + 4, nsecs);
		wbuf_put_be32_at(w, hdr + 8, st->sequence);
		wbuf_put_be32_at(w, hdr + 12, enc->opt.domain_id);
		st->sequence += (uint32_t)i;
	}
	return i;
}
