/*
 * NetFlow v9 and IPFIX encoders.  An information element is a row of
 * ie_table: its id, length, enterprise number and how to read it, from a
 * flow or packet record or from the exporter's state for options records.
 * Templates are lists of rows chosen once at start-up; template sets,
 * options template sets and every record are generated from those lists.
 */
#include <stdlib.h>
#include <string.h>

#include "nf9.h"

#define V9_TEMPLATE_SET		0
#define V9_OPTIONS_SET		1
#define IPFIX_TEMPLATE_SET	2
#define IPFIX_OPTIONS_SET	3
#define MAX_FIELDS		48
#define PEN_REVERSE		29305	/* RFC 5103 reverse elements */
#define NTP_EPOCH_OFFSET	2208988800ULL
#define NTP_US_MASK		0x7ffULL /* RFC 7011 6.1.9: unused bits */
#define ALGO_SYSTEMATIC_COUNT	1	/* PSAMP selectorAlgorithm */
#define V9_ALGO_DETERMINISTIC	1	/* v9 SAMPLING_ALGORITHM */

/* Where an element's value comes from. */
struct ie_src {
	const struct flow_record	*r;	/* data records */
	const struct export_clock	*clk;
	const struct nf9_options	*opt;	/* options records */
	const struct nf9_optvals	*ov;
};

typedef uint64_t (*ie_num_fn)(const struct ie_src *, unsigned arg);
typedef const uint8_t *(*ie_bytes_fn)(const struct ie_src *);

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
	uint16_t	 nscope;	/* options: leading scope fields */
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

enum { OPT_SAMPLING, OPT_STATS, NOPTTEMPLATES };

/* What a control message carries, in order: one set each. */
enum item_kind { ITEM_TEMPLATE, ITEM_OPTIONS_TEMPLATE, ITEM_OPTIONS_RECORD };

struct item {
	enum item_kind		 kind;
	const struct template	*t;
};

#define MAX_ITEMS	(NTEMPLATES + 2 * NOPTTEMPLATES)

struct nf9 {
	struct nf9_options	opt;
	struct template		tmpl[NTEMPLATES];
	struct template		otmpl[NOPTTEMPLATES];
	int			oenabled[NOPTTEMPLATES];
	size_t			nopt;	/* options templates on */
	struct item		items[MAX_ITEMS];
	size_t			nitems;
	size_t			first_record;	/* items[] index */
};

static uint32_t
uptime(const struct export_clock *clk, uint64_t ms)
{
	return ms > clk->boot_ms ? (uint32_t)(ms - clk->boot_ms) : 0;
}

/*
 * dateTime{Seconds,Milliseconds,Microseconds,Nanoseconds} of RFC 7011.
 * The NTP fraction is rounded up, so a collector that truncates back to
 * milliseconds gets the same millisecond; microseconds also clear the
 * bits RFC 7011 leaves unused.
 */
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
		frac = (((ms % 1000) << 32) + 999) / 1000;
		if (prec == 2)
			frac = (frac + NTP_US_MASK) & ~NTP_US_MASK;
		return (secs + NTP_EPOCH_OFFSET) << 32 | frac;
	}
}

static const uint8_t *b_src(const struct ie_src *s) { return s->r->src; }
static const uint8_t *b_dst(const struct ie_src *s) { return s->r->dst; }
static const uint8_t *b_smac(const struct ie_src *s) { return s->r->src_mac; }
static const uint8_t *b_dmac(const struct ie_src *s) { return s->r->dst_mac; }

#define NUM_FN(name, expr)						\
static uint64_t								\
name(const struct ie_src *s, unsigned a)				\
{									\
	(void)s; (void)a;						\
	return (expr);							\
}

NUM_FN(n_sport, s->r->sport)
NUM_FN(n_dport, s->r->dport)
NUM_FN(n_proto, s->r->proto)
NUM_FN(n_tos, s->r->tos)
NUM_FN(n_flags, s->r->tcp_flags)
NUM_FN(n_packets, s->r->packets)
NUM_FN(n_octets, s->r->octets)
NUM_FN(n_first_up, uptime(s->clk, s->r->first_ms))
NUM_FN(n_last_up, uptime(s->clk, s->r->last_ms))
NUM_FN(n_first_abs, abstime(s->r->first_ms, a))
NUM_FN(n_last_abs, abstime(s->r->last_ms, a))
NUM_FN(n_if_in, s->r->if_in)
NUM_FN(n_if_out, s->r->if_out)
NUM_FN(n_direction, s->r->egress)
NUM_FN(n_vlan, s->r->vlan)
NUM_FN(n_inner_vlan, s->r->inner_vlan)
NUM_FN(n_ipver, s->r->af)
NUM_FN(n_icmp, (s->r->proto == 1 || s->r->proto == 58) ? s->r->dport : 0)
NUM_FN(n_end_reason, s->r->end_reason)
NUM_FN(n_mpls, a < s->r->nmpls ? s->r->mpls[a] >> 8 : 0)
NUM_FN(n_rev_packets, s->r->rev_packets)
NUM_FN(n_rev_octets, s->r->rev_octets)
NUM_FN(n_rev_flags, s->r->rev_tcp_flags)
NUM_FN(n_rev_first_abs, abstime(s->r->rev_packets ? s->r->rev_first_ms :
    s->r->first_ms, a))
NUM_FN(n_rev_last_abs, abstime(s->r->rev_packets ? s->r->rev_last_ms :
    s->r->first_ms, a))
NUM_FN(n_const, a)
NUM_FN(n_domain, s->opt->domain_id)
NUM_FN(n_interval, s->opt->sampling > 1 ? s->opt->sampling : 1)
NUM_FN(n_space, s->opt->sampling > 1 ? s->opt->sampling - 1 : 0)
NUM_FN(n_messages, s->ov->messages)
NUM_FN(n_records, s->ov->records)
NUM_FN(n_ex_octets, s->ov->octets)
NUM_FN(n_ignored, s->ov->ignored_packets)
NUM_FN(n_notsent_records, s->ov->notsent_records)
NUM_FN(n_notsent_packets, s->ov->notsent_packets)
NUM_FN(n_process, s->ov->process_id)

/* Element ids are shared by v9 and IPFIX unless noted. */
enum {
	IE_NONE,	/* ends a list */
	IE_SRC4, IE_DST4, IE_SRC6, IE_DST6, IE_SPORT, IE_DPORT, IE_PROTO,
	IE_TOS, IE_FLAGS, IE_PACKETS, IE_OCTETS, IE_FIRST_UP, IE_LAST_UP,
	IE_IF_IN, IE_IF_OUT, IE_DIRECTION, IE_VLAN, IE_INNER_VLAN, IE_IPVER,
	IE_ICMP4, IE_ICMP6, IE_END_REASON, IE_SMAC, IE_DMAC,
	IE_START_S, IE_END_S, IE_START_MS, IE_END_MS, IE_START_US, IE_END_US,
	IE_START_NS, IE_END_NS,
	IE_REV_PACKETS, IE_REV_OCTETS, IE_REV_FLAGS, IE_REV_START_MS,
	IE_REV_END_MS,
	IE_OBS_S, IE_OBS_MS, IE_OBS_US, IE_OBS_NS, IE_IP_LEN,
	IE_SELECTOR, IE_SELECTOR_ALGO, IE_PKT_INTERVAL, IE_PKT_SPACE,
	IE_V9_SCOPE_SYSTEM, IE_V9_SAMPLING_INTERVAL, IE_V9_SAMPLING_ALGO,
	IE_EXP_OCTETS, IE_EXP_MESSAGES, IE_EXP_RECORDS, IE_PROCESS_ID,
	IE_IGNORED_PACKETS, IE_NOTSENT_RECORDS, IE_NOTSENT_PACKETS,
	IE_MPLS1,
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
	[IE_DPORT] =	{ "destinationTransportPort", 11, 2, 0, n_dport, NULL,
			    0 },
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
	[IE_END_MS] =	{ "flowEndMilliseconds", 153, 8, 0, n_last_abs, NULL,
			    1 },
	[IE_START_US] =	{ "flowStartMicroseconds", 154, 8, 0, n_first_abs,
			    NULL, 2 },
	[IE_END_US] =	{ "flowEndMicroseconds", 155, 8, 0, n_last_abs, NULL,
			    2 },
	[IE_START_NS] =	{ "flowStartNanoseconds", 156, 8, 0, n_first_abs,
			    NULL, 3 },
	[IE_END_NS] =	{ "flowEndNanoseconds", 157, 8, 0, n_last_abs, NULL,
			    3 },
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
	/* PSAMP: a packet is a record with one packet of first_ms. */
	[IE_OBS_S] =	{ "observationTimeSeconds", 322, 4, 0, n_first_abs,
			    NULL, 0 },
	[IE_OBS_MS] =	{ "observationTimeMilliseconds", 323, 8, 0,
			    n_first_abs, NULL, 1 },
	[IE_OBS_US] =	{ "observationTimeMicroseconds", 324, 8, 0,
			    n_first_abs, NULL, 2 },
	[IE_OBS_NS] =	{ "observationTimeNanoseconds", 325, 8, 0,
			    n_first_abs, NULL, 3 },
	[IE_IP_LEN] =	{ "ipTotalLength", 224, 8, 0, n_octets, NULL, 0 },
	/* Sampling: the selector (RFC 5477) or v9's sampling elements. */
	[IE_SELECTOR] =	{ "selectorId", 302, 8, 0, n_const, NULL,
			    NF9_SELECTOR_ID },
	[IE_SELECTOR_ALGO] = { "selectorAlgorithm", 304, 2, 0, n_const, NULL,
			    ALGO_SYSTEMATIC_COUNT },
	[IE_PKT_INTERVAL] = { "samplingPacketInterval", 305, 4, 0, n_const,
			    NULL, 1 },
	[IE_PKT_SPACE] = { "samplingPacketSpace", 306, 4, 0, n_space, NULL, 0 },
	[IE_V9_SCOPE_SYSTEM] = { "scope System (v9)", 1, 4, 0, n_domain,
			    NULL, 0 },
	[IE_V9_SAMPLING_INTERVAL] = { "SAMPLING_INTERVAL", 34, 4, 0,
			    n_interval, NULL, 0 },
	[IE_V9_SAMPLING_ALGO] = { "SAMPLING_ALGORITHM", 35, 1, 0, n_const,
			    NULL, V9_ALGO_DETERMINISTIC },
	/* Exporter statistics, per stream. */
	[IE_EXP_OCTETS] = { "exportedOctetTotalCount", 40, 8, 0, n_ex_octets,
			    NULL, 0 },
	[IE_EXP_MESSAGES] = { "exportedMessageTotalCount", 41, 8, 0,
			    n_messages, NULL, 0 },
	[IE_EXP_RECORDS] = { "exportedFlowRecordTotalCount", 42, 8, 0,
			    n_records, NULL, 0 },
	[IE_PROCESS_ID] = { "exportingProcessId", 144, 4, 0, n_process, NULL,
			    0 },
	[IE_IGNORED_PACKETS] = { "ignoredPacketTotalCount", 164, 8, 0,
			    n_ignored, NULL, 0 },
	[IE_NOTSENT_RECORDS] = { "notSentFlowTotalCount", 166, 8, 0,
			    n_notsent_records, NULL, 0 },
	[IE_NOTSENT_PACKETS] = { "notSentPacketTotalCount", 167, 8, 0,
			    n_notsent_packets, NULL, 0 },
	MPLS_IE(0), MPLS_IE(1), MPLS_IE(2), MPLS_IE(3), MPLS_IE(4),
	MPLS_IE(5), MPLS_IE(6), MPLS_IE(7), MPLS_IE(8), MPLS_IE(9),
};

/*
 * Options templates: the scope elements first, then the values.  v9
 * scopes are its own scope types (1: System); IPFIX scopes are elements.
 */
struct opt_def {
	uint16_t	 id;
	uint16_t	 nscope;
	int		 v9[12];
	int		 ipfix[12];
};

static const struct opt_def opt_defs[NOPTTEMPLATES] = {
	[OPT_SAMPLING] = { NF9_TMPL_SAMPLING, 1,
	    { IE_V9_SCOPE_SYSTEM, IE_V9_SAMPLING_INTERVAL, IE_V9_SAMPLING_ALGO,
	      IE_NONE },
	    { IE_SELECTOR, IE_SELECTOR_ALGO, IE_PKT_INTERVAL, IE_PKT_SPACE,
	      IE_NONE } },
	[OPT_STATS] = { NF9_TMPL_STATS, 1,
	    { IE_V9_SCOPE_SYSTEM, IE_EXP_MESSAGES, IE_EXP_RECORDS,
	      IE_EXP_OCTETS, IE_IGNORED_PACKETS, IE_NOTSENT_RECORDS,
	      IE_NOTSENT_PACKETS, IE_PROCESS_ID, IE_NONE },
	    { IE_PROCESS_ID, IE_EXP_MESSAGES, IE_EXP_RECORDS, IE_EXP_OCTETS,
	      IE_IGNORED_PACKETS, IE_NOTSENT_RECORDS, IE_NOTSENT_PACKETS,
	      IE_NONE } },
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
	static const int obs[4] = { IE_OBS_S, IE_OBS_MS, IE_OBS_US, IE_OBS_NS };
	int ipfix = opt->version == 10;
	int psamp = ipfix && opt->psamp;
	unsigned i;

	memset(t, 0, sizeof(*t));
	t->id = (uint16_t)(NF9_TMPL_DATA + kind);
	if (psamp) {
		tmpl_add(t, IE_SELECTOR);
		tmpl_add(t, obs[opt->time_prec & 3]);
	}
	tmpl_add(t, v6 ? IE_SRC6 : IE_SRC4);
	tmpl_add(t, v6 ? IE_DST6 : IE_DST4);
	tmpl_add(t, IE_SPORT);
	tmpl_add(t, IE_DPORT);
	tmpl_add(t, IE_PROTO);
	tmpl_add(t, IE_TOS);
	tmpl_add(t, IE_FLAGS);
	if (psamp)
		tmpl_add(t, IE_IP_LEN);
	else {
		tmpl_add(t, IE_PACKETS);
		tmpl_add(t, IE_OCTETS);
	}
	if (ipfix && !psamp) {
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
	} else if (!ipfix) {
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
		if (!psamp)
			tmpl_add(t, IE_END_REASON);
	}
	for (i = 0; i < opt->mpls_labels && i < DECODE_MAX_MPLS; i++)
		tmpl_add(t, IE_MPLS1 + (int)i);
	if (ipfix && !psamp && opt->biflow) {
		tmpl_add(t, IE_REV_PACKETS);
		tmpl_add(t, IE_REV_OCTETS);
		tmpl_add(t, IE_REV_FLAGS);
	}
	/* Sampled flows name the selector its options record describes. */
	if (ipfix && !psamp && opt->sampling > 1)
		tmpl_add(t, IE_SELECTOR);
}

static void
opt_build(struct template *t, const struct nf9_options *opt, int which)
{
	const struct opt_def *d = &opt_defs[which];
	const int *list = opt->version == 10 ? d->ipfix : d->v9;
	size_t i;

	memset(t, 0, sizeof(*t));
	t->id = d->id;
	t->nscope = d->nscope;
	for (i = 0; list[i] != IE_NONE; i++)
		tmpl_add(t, list[i]);
}

struct nf9 *
nf9_new(const struct nf9_options *opt)
{
	struct nf9 *enc;
	int kind, i;

	if ((enc = calloc(1, sizeof(*enc))) == NULL)
		return NULL;
	enc->opt = *opt;
	if (enc->opt.version != 10)
		enc->opt.psamp = enc->opt.biflow = 0;
	for (kind = 0; kind < NTEMPLATES; kind++)
		tmpl_build(&enc->tmpl[kind], &enc->opt, kind);
	enc->oenabled[OPT_SAMPLING] = enc->opt.sampling > 1 || enc->opt.psamp;
	enc->oenabled[OPT_STATS] = 1;
	for (i = 0; i < NOPTTEMPLATES; i++) {
		opt_build(&enc->otmpl[i], &enc->opt, i);
		enc->nopt += enc->oenabled[i] != 0;
	}
	for (kind = 0; kind < NTEMPLATES; kind++)
		enc->items[enc->nitems++] = (struct item){ ITEM_TEMPLATE,
		    &enc->tmpl[kind] };
	for (i = 0; i < NOPTTEMPLATES; i++)
		if (enc->oenabled[i])
			enc->items[enc->nitems++] = (struct item){
			    ITEM_OPTIONS_TEMPLATE, &enc->otmpl[i] };
	enc->first_record = enc->nitems;
	for (i = 0; i < NOPTTEMPLATES; i++)
		if (enc->oenabled[i])
			enc->items[enc->nitems++] = (struct item){
			    ITEM_OPTIONS_RECORD, &enc->otmpl[i] };
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
put_fields(struct wbuf *w, const struct template *t)
{
	const struct ie *e;
	size_t i;

	for (i = 0; i < t->nfields; i++) {
		e = t->fields[i];
		wbuf_be16(w, (uint16_t)(e->id | (e->pen ? 0x8000 : 0)));
		wbuf_be16(w, e->len);
		if (e->pen)
			wbuf_be32(w, e->pen);
	}
}

static void
put_template(struct wbuf *w, const struct template *t)
{
	wbuf_be16(w, t->id);
	wbuf_be16(w, (uint16_t)t->nfields);
	put_fields(w, t);
}

/* RFC 3954 6.1 counts scope and option bytes; RFC 7011 3.4.2.2 fields. */
static void
put_options_template(struct wbuf *w, const struct template *t, int v9)
{
	wbuf_be16(w, t->id);
	if (v9) {
		wbuf_be16(w, (uint16_t)(t->nscope * 4));
		wbuf_be16(w, (uint16_t)((t->nfields - t->nscope) * 4));
	} else {
		wbuf_be16(w, (uint16_t)t->nfields);
		wbuf_be16(w, t->nscope);
	}
	put_fields(w, t);
}

static void
put_record(struct wbuf *w, const struct template *t, const struct ie_src *s)
{
	const struct ie *e;
	size_t i;

	for (i = 0; i < t->nfields; i++) {
		e = t->fields[i];
		if (e->bytes)
			wbuf_bytes(w, e->bytes(s), e->len);
		else
			wbuf_be(w, e->num(s, e->arg), e->len);
	}
}

static size_t
set_open(struct wbuf *w, uint16_t id)
{
	size_t off = w->len;

	wbuf_be16(w, id);
	wbuf_be16(w, 0);
	return off;
}

/* Close a set: v9 pads to 32 bits (RFC 3954 5.3); IPFIX needs none. */
static void
set_close(struct wbuf *w, size_t set_off, int v9)
{
	if (set_off == (size_t)-1)
		return;
	/* A full buffer takes no padding: stop rather than spin. */
	if (v9)
		while (!w->overflow && (w->len - set_off) % 4 != 0)
			wbuf_u8(w, 0);
	wbuf_put_be16_at(w, set_off + 2, (uint16_t)(w->len - set_off));
}

/* Bytes the open set's v9 padding will take when it is closed. */
static size_t
set_pad(const struct wbuf *w, size_t set_off, int v9)
{
	if (!v9 || set_off == (size_t)-1)
		return 0;
	return (4 - (w->len - set_off) % 4) % 4;
}

/* Every template and options template; returns how many. */
static size_t
put_templates(struct nf9 *enc, struct wbuf *w)
{
	int v9 = enc->opt.version == 9;
	size_t set_off, i;

	set_off = set_open(w, v9 ? V9_TEMPLATE_SET : IPFIX_TEMPLATE_SET);
	for (i = 0; i < NTEMPLATES; i++)
		put_template(w, &enc->tmpl[i]);
	set_close(w, set_off, v9);
	set_off = set_open(w, v9 ? V9_OPTIONS_SET : IPFIX_OPTIONS_SET);
	for (i = 0; i < NOPTTEMPLATES; i++)
		if (enc->oenabled[i])
			put_options_template(w, &enc->otmpl[i], v9);
	set_close(w, set_off, v9);
	return NTEMPLATES + enc->nopt;
}

static size_t
put_header(struct nf9 *enc, struct wbuf *w)
{
	return wbuf_reserve(w, enc->opt.version == 9 ? 20 : 16);
}

/* Back-patch the header once the message is complete. */
static void
finish_header(struct nf9 *enc, struct export_stream *st,
    const struct export_clock *clk, struct wbuf *w, size_t hdr,
    size_t nrecords, size_t ndata)
{
	uint32_t nsecs = (uint32_t)(clk->now_ms / 1000);

	if (enc->opt.version == 9) {
		/* sysUpTime from whole seconds keeps boot time exact. */
		uint64_t now_floor = (uint64_t)nsecs * 1000;

		wbuf_put_be16_at(w, hdr, 9);
		wbuf_put_be16_at(w, hdr + 2, (uint16_t)nrecords);
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
		st->sequence += (uint32_t)ndata;
	}
}

size_t
nf9_encode(struct nf9 *enc, struct export_stream *st,
    const struct export_clock *clk, int with_templates,
    const struct flow_record *recs, size_t n, struct wbuf *w)
{
	int v9 = enc->opt.version == 9;
	size_t hdr, set_off = (size_t)-1, i, need, count = 0;
	const struct template *t, *cur = NULL;
	struct ie_src src = { NULL, clk, &enc->opt, NULL };

	if ((hdr = put_header(enc, w)) == (size_t)-1)
		return 0;
	if (with_templates)
		count += put_templates(enc, w);
	for (i = 0; i < n; i++) {
		t = tmpl_for(enc, &recs[i]);
		/*
		 * Room for the record, v9 padding, and on a new set its
		 * header and the padding that closes the previous one.
		 */
		need = t->reclen + (t != cur ? set_pad(w, set_off, v9) + 4 :
		    0) + (v9 ? 3 : 0);
		if (wbuf_room(w) < need)
			break;
		if (t != cur) {
			set_close(w, set_off, v9);
			set_off = set_open(w, t->id);
			cur = t;
		}
		src.r = &recs[i];
		put_record(w, t, &src);
	}
	set_close(w, set_off, v9);
	finish_header(enc, st, clk, w, hdr, count + i, i);
	return i;
}

static size_t
fields_size(const struct template *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->nfields; i++)
		n += t->fields[i]->pen ? 8 : 4;
	return n;
}

static uint16_t
item_set(const struct nf9 *enc, const struct item *it)
{
	int v9 = enc->opt.version == 9;

	switch (it->kind) {
	case ITEM_TEMPLATE:
		return v9 ? V9_TEMPLATE_SET : IPFIX_TEMPLATE_SET;
	case ITEM_OPTIONS_TEMPLATE:
		return v9 ? V9_OPTIONS_SET : IPFIX_OPTIONS_SET;
	default:
		return it->t->id;
	}
}

static size_t
item_size(const struct item *it)
{
	switch (it->kind) {
	case ITEM_TEMPLATE:
		return 4 + fields_size(it->t);
	case ITEM_OPTIONS_TEMPLATE:
		return 6 + fields_size(it->t);
	default:
		return it->t->reclen;
	}
}

int
nf9_encode_control(struct nf9 *enc, struct export_stream *st,
    const struct export_clock *clk, const struct nf9_optvals *ov,
    struct nf9_control *ctl, struct wbuf *w)
{
	int v9 = enc->opt.version == 9, cur = -1;
	size_t hdr, set_off = (size_t)-1, need, nitems = 0, nrec = 0;
	struct ie_src src = { NULL, clk, &enc->opt, ov };
	const struct item *it;
	uint16_t sid;

	if ((hdr = put_header(enc, w)) == (size_t)-1)
		return -1;
	if (!ctl->with_templates && ctl->next < enc->first_record)
		ctl->next = enc->first_record;
	for (; ctl->next < enc->nitems; ctl->next++, nitems++) {
		it = &enc->items[ctl->next];
		sid = item_set(enc, it);
		/*
		 * The item, v9 padding, and when the set changes its header
		 * and the padding that closes the previous set.
		 */
		need = item_size(it) + (sid != cur ? set_pad(w, set_off, v9) +
		    4 : 0) + (v9 ? 3 : 0);
		if (wbuf_room(w) < need)
			break;
		if (sid != cur) {
			set_close(w, set_off, v9);
			set_off = set_open(w, sid);
			cur = sid;
		}
		switch (it->kind) {
		case ITEM_TEMPLATE:
			put_template(w, it->t);
			break;
		case ITEM_OPTIONS_TEMPLATE:
			put_options_template(w, it->t, v9);
			break;
		case ITEM_OPTIONS_RECORD:
			put_record(w, it->t, &src);
			nrec++;
			break;
		}
	}
	if (nitems == 0 && ctl->next < enc->nitems) {
		w->overflow = 1;
		return -1;
	}
	set_close(w, set_off, v9);
	finish_header(enc, st, clk, w, hdr, nitems, nrec);
	ctl->records += nrec;
	return ctl->next == enc->nitems;
}
