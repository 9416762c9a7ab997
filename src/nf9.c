/*
 * NetFlow v9 and IPFIX encoders.  An information element is a row of
 * ie_table: its id, length, enterprise number and where its value comes
 * from.  Templates are lists of rows chosen once at start-up; template
 * sets and options template sets are written from those lists, and each
 * data template is also compiled once into the offset at which each
 * value lands in its records.
 */
#include <endian.h>
#include <stddef.h>
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

/*
 * The values a data record can carry, each written by put_data() from a
 * struct flow_record.  A compiled template gives each its offset in the
 * record; a value the template lacks goes to scratch just past it.
 */
enum slot {
	V_SRC4, V_DST4, V_SRC6, V_DST6, V_SPORT, V_DPORT, V_PROTO, V_TOS,
	V_FLAGS, V_PACKETS, V_OCTETS,
	V_START, V_END,		/* in the template's time form */
	V_IF_IN, V_IF_OUT, V_DIRECTION, V_VLAN, V_ICMP, V_IPVER,
	/* IPFIX's: skipped when no template has one (v9's). */
	V_INNER_VLAN, V_END_REASON,
	/* Rarer values, written only when the template has one. */
	V_SMAC, V_DMAC, V_REV_PACKETS, V_REV_OCTETS, V_REV_FLAGS,
	V_REV_START, V_REV_END, V_SELECTOR,
	V_MPLS1,
	NSLOTS = V_MPLS1 + DECODE_MAX_MPLS
};
#define V_FIRST_EXTRA	V_INNER_VLAN
#define V_FIRST_RARE	V_SMAC
#define SCRATCH_LEN	16	/* the widest value */

/* Bytes of each value; times depend on the form. */
static const uint8_t slot_len[NSLOTS] = {
	[V_SRC4] = 4, [V_DST4] = 4, [V_SRC6] = 16, [V_DST6] = 16,
	[V_SPORT] = 2, [V_DPORT] = 2, [V_PROTO] = 1, [V_TOS] = 1,
	[V_FLAGS] = 1, [V_PACKETS] = 8, [V_OCTETS] = 8,
	[V_IF_IN] = 4, [V_IF_OUT] = 4, [V_DIRECTION] = 1, [V_VLAN] = 2,
	[V_ICMP] = 2, [V_IPVER] = 1, [V_INNER_VLAN] = 2, [V_END_REASON] = 1,
	[V_SMAC] = 6, [V_DMAC] = 6, [V_REV_PACKETS] = 8, [V_REV_OCTETS] = 8,
	[V_REV_FLAGS] = 1, [V_REV_START] = 8, [V_REV_END] = 8,
	[V_SELECTOR] = 8,
	[V_MPLS1] = 3, [V_MPLS1 + 1] = 3, [V_MPLS1 + 2] = 3, [V_MPLS1 + 3] = 3,
	[V_MPLS1 + 4] = 3, [V_MPLS1 + 5] = 3, [V_MPLS1 + 6] = 3,
	[V_MPLS1 + 7] = 3, [V_MPLS1 + 8] = 3, [V_MPLS1 + 9] = 3,
};

/* How V_START and V_END are written: v9 uptime or an IPFIX dateTime. */
enum time_form {
	TF_NONE, TF_UPTIME, TF_SECONDS, TF_MILLIS, TF_MICROS, TF_NANOS
};

/*
 * The record an options template encodes: the exporter's statistics and
 * the values the encoder's options give.  Options records are one per
 * control message, so they are written field by field.
 */
struct opt_record {
	struct nf9_optvals	ov;
	uint32_t		domain_id;	/* v9 scope System */
	uint32_t		interval;	/* v9 SAMPLING_INTERVAL */
	uint32_t		space;		/* samplingPacketSpace */
};

/* Where an element's value comes from. */
enum ie_src {
	SRC_DATA,	/* slot off of a data record, in time form arg */
	SRC_OPT,	/* host-order integer at off in struct opt_record */
	SRC_CONST	/* arg */
};

struct ie {
	const char	*name;
	uint16_t	 id;
	uint16_t	 len;
	uint32_t	 pen;
	uint8_t		 src;		/* enum ie_src */
	uint16_t	 off;
	uint32_t	 arg;
};

struct template {
	uint16_t	 id;
	uint16_t	 nscope;	/* options: leading scope fields */
	uint8_t		 nmpls;		/* data: MPLS slots to the last one */
	size_t		 nfields;
	size_t		 reclen;
	const struct ie	*fields[MAX_FIELDS];
	/* Data templates, compiled: */
	uint16_t	 off[NSLOTS];	/* scratch (reclen) when absent */
	uint8_t		 time_form;	/* enum time_form */
	uint8_t		 rare;		/* has a value from V_FIRST_RARE on */
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
	size_t			min_reclen;	/* shortest data record */
	int			time_form;	/* all data templates' */
	int			extras;		/* a value from V_FIRST_EXTRA on */
	/* A record's template by [IPv6][protocol]: one load a record. */
	const struct template	*tmpl_of[2][256];
};

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
	IE_SELECTOR, IE_SELECTOR_SCOPE, IE_SELECTOR_ALGO, IE_PKT_INTERVAL,
	IE_PKT_SPACE,
	IE_V9_SCOPE_SYSTEM, IE_V9_SAMPLING_INTERVAL, IE_V9_SAMPLING_ALGO,
	IE_EXP_OCTETS, IE_EXP_MESSAGES, IE_EXP_RECORDS, IE_PROCESS_ID,
	IE_IGNORED_PACKETS, IE_NOTSENT_RECORDS, IE_NOTSENT_PACKETS,
	IE_MPLS1,
	IE_COUNT = IE_MPLS1 + DECODE_MAX_MPLS
};

#define DATA(slot)	SRC_DATA, slot, 0
#define TIME(slot, form) SRC_DATA, slot, form
#define OR(m)		SRC_OPT, offsetof(struct opt_record, m), 0
#define CONST(v)	SRC_CONST, 0, v

#define MPLS_IE(i) [IE_MPLS1 + (i)] = { "mplsLabelStackSection", 70 + (i), \
	3, 0, DATA(V_MPLS1 + (i)) }

static const struct ie ie_table[IE_COUNT] = {
	[IE_SRC4] =	{ "sourceIPv4Address", 8, 4, 0, DATA(V_SRC4) },
	[IE_DST4] =	{ "destinationIPv4Address", 12, 4, 0, DATA(V_DST4) },
	[IE_SRC6] =	{ "sourceIPv6Address", 27, 16, 0, DATA(V_SRC6) },
	[IE_DST6] =	{ "destinationIPv6Address", 28, 16, 0, DATA(V_DST6) },
	[IE_SPORT] =	{ "sourceTransportPort", 7, 2, 0, DATA(V_SPORT) },
	[IE_DPORT] =	{ "destinationTransportPort", 11, 2, 0,
			    DATA(V_DPORT) },
	[IE_PROTO] =	{ "protocolIdentifier", 4, 1, 0, DATA(V_PROTO) },
	[IE_TOS] =	{ "ipClassOfService", 5, 1, 0, DATA(V_TOS) },
	[IE_FLAGS] =	{ "tcpControlBits", 6, 1, 0, DATA(V_FLAGS) },
	[IE_PACKETS] =	{ "packetDeltaCount", 2, 8, 0, DATA(V_PACKETS) },
	[IE_OCTETS] =	{ "octetDeltaCount", 1, 8, 0, DATA(V_OCTETS) },
	[IE_FIRST_UP] =	{ "flowStartSysUpTime", 22, 4, 0,
			    TIME(V_START, TF_UPTIME) },
	[IE_LAST_UP] =	{ "flowEndSysUpTime", 21, 4, 0,
			    TIME(V_END, TF_UPTIME) },
	[IE_IF_IN] =	{ "ingressInterface", 10, 4, 0, DATA(V_IF_IN) },
	[IE_IF_OUT] =	{ "egressInterface", 14, 4, 0, DATA(V_IF_OUT) },
	[IE_DIRECTION] = { "flowDirection", 61, 1, 0, DATA(V_DIRECTION) },
	[IE_VLAN] =	{ "vlanId", 58, 2, 0, DATA(V_VLAN) },
	[IE_INNER_VLAN] = { "dot1qCustomerVlanId", 245, 2, 0,
			    DATA(V_INNER_VLAN) },
	[IE_IPVER] =	{ "ipVersion", 60, 1, 0, DATA(V_IPVER) },
	[IE_ICMP4] =	{ "icmpTypeCodeIPv4", 32, 2, 0, DATA(V_ICMP) },
	[IE_ICMP6] =	{ "icmpTypeCodeIPv6", 139, 2, 0, DATA(V_ICMP) },
	[IE_END_REASON] = { "flowEndReason", 136, 1, 0, DATA(V_END_REASON) },
	[IE_SMAC] =	{ "sourceMacAddress", 56, 6, 0, DATA(V_SMAC) },
	[IE_DMAC] =	{ "destinationMacAddress", 80, 6, 0, DATA(V_DMAC) },
	[IE_START_S] =	{ "flowStartSeconds", 150, 4, 0,
			    TIME(V_START, TF_SECONDS) },
	[IE_END_S] =	{ "flowEndSeconds", 151, 4, 0,
			    TIME(V_END, TF_SECONDS) },
	[IE_START_MS] =	{ "flowStartMilliseconds", 152, 8, 0,
			    TIME(V_START, TF_MILLIS) },
	[IE_END_MS] =	{ "flowEndMilliseconds", 153, 8, 0,
			    TIME(V_END, TF_MILLIS) },
	[IE_START_US] =	{ "flowStartMicroseconds", 154, 8, 0,
			    TIME(V_START, TF_MICROS) },
	[IE_END_US] =	{ "flowEndMicroseconds", 155, 8, 0,
			    TIME(V_END, TF_MICROS) },
	[IE_START_NS] =	{ "flowStartNanoseconds", 156, 8, 0,
			    TIME(V_START, TF_NANOS) },
	[IE_END_NS] =	{ "flowEndNanoseconds", 157, 8, 0,
			    TIME(V_END, TF_NANOS) },
	[IE_REV_PACKETS] = { "reversePacketDeltaCount", 2, 8, PEN_REVERSE,
			    DATA(V_REV_PACKETS) },
	[IE_REV_OCTETS] = { "reverseOctetDeltaCount", 1, 8, PEN_REVERSE,
			    DATA(V_REV_OCTETS) },
	[IE_REV_FLAGS] = { "reverseTcpControlBits", 6, 1, PEN_REVERSE,
			    DATA(V_REV_FLAGS) },
	[IE_REV_START_MS] = { "reverseFlowStartMilliseconds", 152, 8,
			    PEN_REVERSE, DATA(V_REV_START) },
	[IE_REV_END_MS] = { "reverseFlowEndMilliseconds", 153, 8, PEN_REVERSE,
			    DATA(V_REV_END) },
	/* PSAMP: a packet is a record with one packet of first_ms. */
	[IE_OBS_S] =	{ "observationTimeSeconds", 322, 4, 0,
			    TIME(V_START, TF_SECONDS) },
	[IE_OBS_MS] =	{ "observationTimeMilliseconds", 323, 8, 0,
			    TIME(V_START, TF_MILLIS) },
	[IE_OBS_US] =	{ "observationTimeMicroseconds", 324, 8, 0,
			    TIME(V_START, TF_MICROS) },
	[IE_OBS_NS] =	{ "observationTimeNanoseconds", 325, 8, 0,
			    TIME(V_START, TF_NANOS) },
	[IE_IP_LEN] =	{ "ipTotalLength", 224, 8, 0, DATA(V_OCTETS) },
	/* Sampling: the selector (RFC 5477) or v9's sampling elements. */
	[IE_SELECTOR] =	{ "selectorId", 302, 8, 0, DATA(V_SELECTOR) },
	[IE_SELECTOR_SCOPE] = { "selectorId", 302, 8, 0,
			    CONST(NF9_SELECTOR_ID) },
	[IE_SELECTOR_ALGO] = { "selectorAlgorithm", 304, 2, 0,
			    CONST(ALGO_SYSTEMATIC_COUNT) },
	[IE_PKT_INTERVAL] = { "samplingPacketInterval", 305, 4, 0, CONST(1) },
	[IE_PKT_SPACE] = { "samplingPacketSpace", 306, 4, 0, OR(space) },
	[IE_V9_SCOPE_SYSTEM] = { "scope System (v9)", 1, 4, 0,
			    OR(domain_id) },
	[IE_V9_SAMPLING_INTERVAL] = { "SAMPLING_INTERVAL", 34, 4, 0,
			    OR(interval) },
	[IE_V9_SAMPLING_ALGO] = { "SAMPLING_ALGORITHM", 35, 1, 0,
			    CONST(V9_ALGO_DETERMINISTIC) },
	/* Exporter statistics, per stream. */
	[IE_EXP_OCTETS] = { "exportedOctetTotalCount", 40, 8, 0,
			    OR(ov.octets) },
	[IE_EXP_MESSAGES] = { "exportedMessageTotalCount", 41, 8, 0,
			    OR(ov.messages) },
	[IE_EXP_RECORDS] = { "exportedFlowRecordTotalCount", 42, 8, 0,
			    OR(ov.records) },
	[IE_PROCESS_ID] = { "exportingProcessId", 144, 4, 0,
			    OR(ov.process_id) },
	[IE_IGNORED_PACKETS] = { "ignoredPacketTotalCount", 164, 8, 0,
			    OR(ov.ignored_packets) },
	[IE_NOTSENT_RECORDS] = { "notSentFlowTotalCount", 166, 8, 0,
			    OR(ov.notsent_records) },
	[IE_NOTSENT_PACKETS] = { "notSentPacketTotalCount", 167, 8, 0,
			    OR(ov.notsent_packets) },
	MPLS_IE(0), MPLS_IE(1), MPLS_IE(2), MPLS_IE(3), MPLS_IE(4),
	MPLS_IE(5), MPLS_IE(6), MPLS_IE(7), MPLS_IE(8), MPLS_IE(9),
};

/* Options values are read by their element's length: 4 or 8 bytes. */
#define MSIZE(m)	sizeof(((struct opt_record *)0)->m)
_Static_assert(MSIZE(space) == 4 && MSIZE(domain_id) == 4 &&
    MSIZE(interval) == 4 && MSIZE(ov.process_id) == 4, "32-bit elements");
_Static_assert(MSIZE(ov.messages) == 8 && MSIZE(ov.records) == 8 &&
    MSIZE(ov.octets) == 8 && MSIZE(ov.ignored_packets) == 8 &&
    MSIZE(ov.notsent_records) == 8 && MSIZE(ov.notsent_packets) == 8,
    "64-bit elements");

/* Largest data record: scratch space follows it in a local buffer. */
#define MAX_RECLEN	512

/* Unaligned big-endian stores. */
static inline void
st_be64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

static inline void
st_be32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static inline void
st_be16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

/* Any width from 1 to 8 bytes, truncating: the rare elements. */
static void
st_be(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint32_t
uptime(const struct export_clock *clk, uint64_t ms)
{
	return ms > clk->boot_ms ? (uint32_t)(ms - clk->boot_ms) : 0;
}

/*
 * dateTime{Microseconds,Nanoseconds} of RFC 7011.  The NTP fraction is
 * rounded up, so a collector that truncates back to milliseconds gets the
 * same millisecond; microseconds also clear the bits RFC 7011 leaves
 * unused.
 */
static uint64_t
ntptime(uint64_t ms, int micros)
{
	uint64_t frac = (((ms % 1000) << 32) + 999) / 1000;

	if (micros)
		frac = (frac + NTP_US_MASK) & ~NTP_US_MASK;
	return (ms / 1000 + NTP_EPOCH_OFFSET) << 32 | frac;
}

static inline void
put_time(uint8_t *p, int form, uint64_t ms, const struct export_clock *clk)
{
	switch (form) {
	case TF_UPTIME:
		st_be32(p, uptime(clk, ms));
		break;
	case TF_MILLIS:
		st_be64(p, ms);
		break;
	case TF_SECONDS:
		st_be32(p, (uint32_t)(ms / 1000));
		break;
	case TF_MICROS:
	case TF_NANOS:
		st_be64(p, ntptime(ms, form == TF_MICROS));
		break;
	}
}

/* The values few templates carry. */
static void
put_rare(uint8_t *p, const struct template *t, const struct flow_record *r)
{
	const uint16_t *o = t->off;
	unsigned i;

	memcpy(p + o[V_SMAC], r->src_mac, 6);
	memcpy(p + o[V_DMAC], r->dst_mac, 6);
	st_be64(p + o[V_REV_PACKETS], r->rev_packets);
	st_be64(p + o[V_REV_OCTETS], r->rev_octets);
	p[o[V_REV_FLAGS]] = r->rev_tcp_flags;
	/* Without a reverse side, both reverse times are the first packet. */
	st_be64(p + o[V_REV_START], r->rev_packets ? r->rev_first_ms :
	    r->first_ms);
	st_be64(p + o[V_REV_END], r->rev_packets ? r->rev_last_ms :
	    r->first_ms);
	st_be64(p + o[V_SELECTOR], NF9_SELECTOR_ID);
	/* Only the labels the template has: most have none. */
	for (i = 0; i < t->nmpls; i++)
		st_be(p + o[V_MPLS1 + i], i < r->nmpls ? r->mpls[i] >> 8 : 0,
		    3);
}

/*
 * Write one data record of template t at p, with SCRATCH_LEN bytes of
 * room past it.  Every value is stored at its offset in t, straight-line
 * code with no test per element: the ones t lacks land in the scratch.
 * With extras 0 (a constant), those from V_FIRST_EXTRA on are skipped.
 */
static inline __attribute__((always_inline)) void
put_data(uint8_t *p, const struct template *t, const struct flow_record *r,
    const struct export_clock *clk, int form, int extras)
{
	const uint16_t *o = t->off;

	if (r->af == 6) {
		memcpy(p + o[V_SRC6], r->src, 16);
		memcpy(p + o[V_DST6], r->dst, 16);
	} else {
		memcpy(p + o[V_SRC4], r->src, 4);
		memcpy(p + o[V_DST4], r->dst, 4);
	}
	st_be16(p + o[V_SPORT], r->sport);
	st_be16(p + o[V_DPORT], r->dport);
	p[o[V_PROTO]] = r->proto;
	p[o[V_TOS]] = r->tos;
	p[o[V_FLAGS]] = r->tcp_flags;
	st_be64(p + o[V_PACKETS], r->packets);
	st_be64(p + o[V_OCTETS], r->octets);
	put_time(p + o[V_START], form, r->first_ms, clk);
	put_time(p + o[V_END], form, r->last_ms, clk);
	st_be32(p + o[V_IF_IN], r->if_in);
	st_be32(p + o[V_IF_OUT], r->if_out);
	p[o[V_DIRECTION]] = r->egress;
	st_be16(p + o[V_VLAN], r->vlan);
	/* Only ICMP records get ICMP templates: dport is type and code. */
	st_be16(p + o[V_ICMP], r->dport);
	p[o[V_IPVER]] = r->af;
	/* Without extras no template has a rare value either. */
	if (extras) {
		st_be16(p + o[V_INNER_VLAN], r->inner_vlan);
		p[o[V_END_REASON]] = r->end_reason;
		if (t->rare)
			put_rare(p, t, r);
	}
}

/* Options records, one per control message: field by field. */
static void
put_options_record(uint8_t *p, const struct template *t,
    const struct opt_record *orec)
{
	const uint8_t *base = (const uint8_t *)orec;
	const struct ie *e;
	uint64_t v64;
	uint32_t v32;
	size_t i;

	for (i = 0; i < t->nfields; i++, p += e->len) {
		e = t->fields[i];
		if (e->src != SRC_OPT)
			v64 = e->arg;
		else if (e->len == 8)
			memcpy(&v64, base + e->off, 8);
		else {
			memcpy(&v32, base + e->off, 4);
			v64 = v32;
		}
		st_be(p, v64, e->len);
	}
}

/*
 * Compile a data template: each value's offset in the record, scratch
 * for the values it lacks.  Fails when an element has no data value, a
 * value is used twice or at a length other than its own, or the times
 * disagree in form: a mistake in the tables.
 */
static int
tmpl_compile(struct template *t)
{
	const struct ie *e;
	size_t i, dst = 0, len;
	unsigned s;

	if (t->reclen > MAX_RECLEN)
		return -1;
	for (s = 0; s < NSLOTS; s++)
		t->off[s] = (uint16_t)t->reclen;
	t->time_form = TF_NONE;
	t->rare = 0;
	t->nmpls = 0;
	for (i = 0; i < t->nfields; i++, dst += e->len) {
		e = t->fields[i];
		s = e->off;
		if (e->src != SRC_DATA || s >= NSLOTS ||
		    t->off[s] != t->reclen)
			return -1;
		if (s == V_START || s == V_END) {
			if (t->time_form != TF_NONE && t->time_form != e->arg)
				return -1;
			t->time_form = (uint8_t)e->arg;
			len = e->arg == TF_UPTIME || e->arg == TF_SECONDS ?
			    4 : 8;
		} else
			len = slot_len[s];
		if (len != e->len)
			return -1;
		t->off[s] = (uint16_t)dst;
		if (s >= V_FIRST_RARE)
			t->rare = 1;
		if (s >= V_MPLS1 && s - V_MPLS1 + 1 > t->nmpls)
			t->nmpls = (uint8_t)(s - V_MPLS1 + 1);
	}
	return 0;
}

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
	    { IE_SELECTOR_SCOPE, IE_SELECTOR_ALGO, IE_PKT_INTERVAL,
	      IE_PKT_SPACE, IE_NONE } },
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
	for (kind = 0; kind < NTEMPLATES; kind++) {
		tmpl_build(&enc->tmpl[kind], &enc->opt, kind);
		if (tmpl_compile(&enc->tmpl[kind]) == -1) {
			free(enc);
			return NULL;
		}
		if (kind == 0 || enc->tmpl[kind].reclen < enc->min_reclen)
			enc->min_reclen = enc->tmpl[kind].reclen;
		if (kind > 0 && enc->tmpl[kind].time_form != enc->time_form) {
			free(enc);
			return NULL;
		}
		enc->time_form = enc->tmpl[kind].time_form;
		for (i = V_FIRST_EXTRA; i < NSLOTS; i++)
			if (enc->tmpl[kind].off[i] != enc->tmpl[kind].reclen)
				enc->extras = 1;
	}
	/* ICMP and ICMPv6 records have templates of their own. */
	for (i = 0; i < 256; i++) {
		kind = i == 1 || i == 58 ? TMPL_ICMP : 0;
		enc->tmpl_of[0][i] = &enc->tmpl[kind];
		enc->tmpl_of[1][i] = &enc->tmpl[kind | TMPL_V6];
	}
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

int
nf9_reads_rare(const struct nf9 *enc)
{
	int kind;

	for (kind = 0; kind < NTEMPLATES; kind++)
		if (enc->tmpl[kind].rare)
			return 1;
	return 0;
}

static inline const struct template *
tmpl_for(const struct nf9 *enc, const struct flow_record *r)
{
	return enc->tmpl_of[r->af == 6][r->proto];
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

static size_t
set_open(struct wbuf *w, uint16_t id)
{
	size_t off = w->len;

	wbuf_be16(w, id);
	wbuf_be16(w, 0);
	return off;
}

/* Bytes the v9 padding of a set open at set_off takes at len. */
static inline size_t
pad_at(size_t len, size_t set_off, int v9)
{
	if (!v9 || set_off == (size_t)-1)
		return 0;
	return (4 - (len - set_off) % 4) % 4;
}

/* Bytes the open set's v9 padding will take when it is closed. */
static size_t
set_pad(const struct wbuf *w, size_t set_off, int v9)
{
	return pad_at(w->len, set_off, v9);
}

/* Close a set: v9 pads to 32 bits (RFC 3954 5.3); IPFIX needs none. */
static void
set_close(struct wbuf *w, size_t set_off, int v9)
{
	size_t pad;

	if (set_off == (size_t)-1)
		return;
	/* Zero padding; what does not fit marks the buffer overflowed. */
	if (v9 && !w->overflow && (pad = set_pad(w, set_off, v9)) > 0) {
		if (pad > wbuf_room(w)) {
			pad = wbuf_room(w);
			w->overflow = 1;
		}
		memset(w->buf + w->len, 0, pad);
		w->len += pad;
	}
	wbuf_put_be16_at(w, set_off + 2, (uint16_t)(w->len - set_off));
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

/*
 * Whether a record of t fits a message of cap bytes that holds len, with
 * its open set at set_off of template cur: room for the record, v9
 * padding, and on a new set its header and the padding that closes the
 * previous one.  nf9_encode and nf9_take both decide by this.
 */
static inline int
rec_fits(int v9, size_t len, size_t cap, size_t set_off,
    const struct template *cur, const struct template *t)
{
	size_t need = t->reclen + (v9 ? 3 : 0);

	if (t != cur)
		need += pad_at(len, set_off, v9) + 4;
	return cap - len >= need;
}

size_t
nf9_take(const struct nf9 *enc, const struct flow_record *recs, size_t n,
    size_t cap)
{
	int v9 = enc->opt.version == 9;
	size_t len = v9 ? 20 : 16, set_off = (size_t)-1, i;
	size_t reclen = 0, lim = 0;
	const struct template *t, *cur = NULL;

	if (len > cap)
		return 0;
	for (i = 0; i < n; i++) {
		t = tmpl_for(enc, &recs[i]);
		if (t != cur) {
			if (!rec_fits(v9, len, cap, set_off, cur, t))
				break;
			len += pad_at(len, set_off, v9);
			set_off = len;
			len += 4;
			cur = t;
			reclen = t->reclen;
			/* rec_fits for the set's next records: len <= lim. */
			lim = cap - reclen - (v9 ? 3 : 0);
		} else if (len > lim)
			break;
		len += reclen;
	}
	return i;
}

int
nf9_fits_one(const struct nf9 *enc, const struct flow_record *recs, size_t n,
    size_t cap)
{
	size_t hdr = enc->opt.version == 9 ? 20 : 16;

	/* Too many for even the shortest records: no need to look. */
	if (hdr > cap || n > (cap - hdr) / enc->min_reclen)
		return 0;
	return nf9_take(enc, recs, n, cap) == n;
}

/*
 * A record written where its scratch would pass the end of the message:
 * through a local buffer.  Only the last records of a full message.
 */
static __attribute__((noinline)) void
put_data_tail(uint8_t *dst, const struct template *t,
    const struct flow_record *r, const struct export_clock *clk, int form)
{
	uint8_t tmp[MAX_RECLEN + SCRATCH_LEN];

	put_data(tmp, t, r, clk, form, 1);
	memcpy(dst, tmp, t->reclen);
}

/*
 * Data records from recs[0] on, as many as fit w, in sets of their
 * templates.  form is the templates' time form and extras whether to
 * write the values from V_FIRST_EXTRA on (0 only when no template has
 * one): constants where this is inlined.  The length stays in a local,
 * and a set switch is written in place: rec_fits has made room for its
 * padding and header.  It writes what set_close() and set_open() would;
 * calling them instead cost 17 more instructions a packet on a cut of
 * bench capture b.
 * Within a set, one comparison with lim stands for rec_fits and the
 * room for scratch, until the message is nearly full.
 */
static inline __attribute__((always_inline)) size_t
put_records(const struct nf9 *enc, const struct export_clock *clk,
    const struct flow_record *recs, size_t n, struct wbuf *w, int form,
    int extras)
{
	static const uint8_t zero[4];
	int v9 = enc->opt.version == 9;
	size_t set_off = (size_t)-1, len = w->len, cap = w->cap, pad, i;
	size_t reclen = 0, lim = 0;
	const struct template *t, *cur = NULL;
	uint8_t *buf = w->buf;

	if (w->overflow)
		return 0;
	for (i = 0; i < n; i++) {
		t = tmpl_for(enc, &recs[i]);
		if (t != cur) {
			if (!rec_fits(v9, len, cap, set_off, cur, t))
				break;
			if (set_off != (size_t)-1) {
				/* Pad with zeros (v9), back-patch the length. */
				pad = pad_at(len, set_off, v9);
				memcpy(buf + len, zero, 4);
				len += pad;
				st_be16(buf + set_off + 2,
				    (uint16_t)(len - set_off));
			}
			set_off = len;
			st_be16(buf + len, t->id);
			len += 4;
			cur = t;
			reclen = t->reclen;
			/* len >= 16 always: lim 0 sends every record below. */
			lim = cap >= reclen + SCRATCH_LEN ?
			    cap - reclen - SCRATCH_LEN : 0;
		}
		/* Up to lim, the record and its scratch fit in place. */
		if (len <= lim)
			put_data(buf + len, t, &recs[i], clk, form, extras);
		else {
			/* The one check the record's bytes get. */
			if (!rec_fits(v9, len, cap, set_off, cur, t))
				break;
			put_data_tail(buf + len, t, &recs[i], clk, form);
		}
		len += reclen;
	}
	w->len = len;
	set_close(w, set_off, v9);
	return i;
}

size_t
nf9_encode(struct nf9 *enc, struct export_stream *st,
    const struct export_clock *clk, int with_templates,
    const struct flow_record *recs, size_t n, struct wbuf *w)
{
	size_t hdr, i, count = 0;

	if ((hdr = put_header(enc, w)) == (size_t)-1)
		return 0;
	if (with_templates)
		count += put_templates(enc, w);
	/*
	 * One copy of the loop per time form, each with no test of it; and
	 * one without the extra values, for the templates of v9 (writing
	 * them, to scratch, is right for any template, only slower).
	 */
	switch (enc->time_form) {
	case TF_UPTIME:
		if (!enc->extras)
			i = put_records(enc, clk, recs, n, w, TF_UPTIME, 0);
		else
			i = put_records(enc, clk, recs, n, w, TF_UPTIME, 1);
		break;
	case TF_SECONDS:
		i = put_records(enc, clk, recs, n, w, TF_SECONDS, 1);
		break;
	case TF_MILLIS:
		i = put_records(enc, clk, recs, n, w, TF_MILLIS, 1);
		break;
	default:
		i = put_records(enc, clk, recs, n, w, enc->time_form, 1);
		break;
	}
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
	struct opt_record orec;
	const struct item *it;
	uint16_t sid;

	if ((hdr = put_header(enc, w)) == (size_t)-1)
		return -1;
	orec.ov = *ov;
	orec.domain_id = enc->opt.domain_id;
	orec.interval = enc->opt.sampling > 1 ? enc->opt.sampling : 1;
	orec.space = enc->opt.sampling > 1 ? enc->opt.sampling - 1 : 0;
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
			put_options_record(w->buf + w->len, it->t, &orec);
			w->len += it->t->reclen;
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
