/*
 * Packet decoder: link layer, encapsulations, IPv4/IPv6 and the transport
 * header, read through the bounds-checked cursor.  Produces the fields a
 * flow is keyed and counted on, or names why the packet was not accounted.
 */
#ifndef DECODE_H
#define DECODE_H

#include <stdint.h>
#include <string.h>

#define DECODE_MAX_MPLS		10

/* Why a packet was not accounted, or (DECODE_OK) that it was. */
#define DECODE_REASONS(X)						\
	X(OK,			"ok")					\
	X(NON_IP,		"non_ip")				\
	X(TRUNC_LINK,		"truncated_link_header")		\
	X(TRUNC_ENCAP,		"truncated_encapsulation")		\
	X(TOO_MANY_ENCAP,	"too_many_encapsulations")		\
	X(TRUNC_IP,		"truncated_ip_header")			\
	X(BAD_IP_VERSION,	"bad_ip_version")			\
	X(BAD_IP_HDR_LEN,	"bad_ip_header_length")			\
	X(BAD_IP_LEN,		"bad_ip_total_length")			\
	X(IPV6_EXT_LOOP,	"too_many_ipv6_extensions")		\
	X(BAD_LINKTYPE,		"unsupported_link_type")

#define DECODE_ENUM(name, str) DECODE_##name,
enum decode_result {
	DECODE_REASONS(DECODE_ENUM)
	DECODE_NREASONS
};
#undef DECODE_ENUM

/* Informational notes: the packet was accounted, but something was odd. */
#define DECODE_NOTES(X)							\
	X(L4_TRUNCATED,		"transport_header_truncated")		\
	X(IP_FRAGMENT,		"ip_fragment")				\
	X(IPV4_ZERO_LEN,	"ipv4_total_length_zero")		\
	X(IPV6_JUMBO,		"ipv6_jumbogram")				\
	X(IPV6_BAD_OPTIONS,	"ipv6_malformed_options")

#define DECODE_NOTE_ENUM(name, str) DECODE_NOTE_##name,
enum decode_note {
	DECODE_NOTES(DECODE_NOTE_ENUM)
	DECODE_NNOTES
};
#undef DECODE_NOTE_ENUM

#define PKT_FRAG_NONE	0
#define PKT_FRAG_FIRST	1	/* offset 0, more fragments follow */
#define PKT_FRAG_LATER	2	/* offset > 0: no transport header */

/*
 * One decoded packet.  The decoder sets every field from octets to notes
 * for each packet; the MACs and the label stack after them are written
 * only when has_mac and nmpls say so, and hold stale bytes otherwise:
 * read them only under those flags.
 */
struct packet {
	uint64_t	ts_ms;		/* capture time, ms since the epoch */
	uint32_t	octets;		/* IP datagram length on the wire */
	uint32_t	ifindex;	/* 0 when the link doesn't tell */
	uint8_t		src[16];	/* IPv4 in the first 4 bytes */
	uint8_t		dst[16];
	uint16_t	sport;
	uint16_t	dport;		/* ICMP: type * 256 + code */
	uint16_t	vlan;		/* outer 802.1Q/802.1ad id, 0 if none */
	uint16_t	inner_vlan;	/* second tag (QinQ customer) */
	uint8_t		af;		/* 4 or 6 */
	uint8_t		proto;
	uint8_t		tos;		/* IPv4 ToS / IPv6 traffic class */
	uint8_t		tcp_flags;
	uint8_t		frag;		/* PKT_FRAG_* */
	uint8_t		egress;		/* 1: the capture saw it leave */
	uint8_t		nmpls;
	uint8_t		has_mac;
	uint32_t	notes;		/* bit per enum decode_note */
	/* Valid only when flagged; not cleared per packet. */
	uint8_t		src_mac[6];	/* has_mac */
	uint8_t		dst_mac[6];
	uint32_t	mpls[DECODE_MAX_MPLS];	/* the first nmpls entries */
	/* 128 bytes: a batch is indexed by a shift, a packet is two lines. */
	uint8_t		pad[8];
};

/* Return 1 when the decoder can read packets of this pcap DLT. */
int		 decode_linktype_supported(int dlt);
const char	*decode_reason_name(enum decode_result r);
const char	*decode_note_name(enum decode_note n);

/*
 * Decode one captured frame.  wirelen is the frame's length on the wire
 * (pcap's len), used when an IP header says its length is zero.  pkt->ts_ms
 * is left for the caller to set.
 */
enum decode_result decode_packet(int dlt, const uint8_t *data,
		    uint32_t caplen, uint32_t wirelen, struct packet *pkt);
/*
 * The same without the fast path for common frames: what decode_packet
 * must agree with, field for field (the fuzz target checks it).
 */
enum decode_result decode_packet_general(int dlt, const uint8_t *data,
		    uint32_t caplen, uint32_t wirelen, struct packet *pkt);

/*
 * The fast path of decode_packet, inline so the per-packet loop can take
 * it without a call.  Most frames are Ethernet, at most one 802.1Q tag,
 * an IPv4 header without options or fragmentation or an IPv6 header
 * without extensions, and a whole TCP, UDP or ICMP header.  Those are
 * decoded at fixed offsets once the frame's length has been checked
 * against what the headers need.  Anything else, and every frame the
 * general decoder would drop or note, returns DECODE_FAST_NO before any
 * field is trusted, and decode_packet_general() starts the frame over.
 * wirelen must be at least caplen.  The MACs are copied only when macs
 * is set (has_mac says so): most configurations never read them.  Always
 * inlined: a call would cost more than the decoding in a copy of the loop.
 */
#define DECODE_FAST_NO	DECODE_NREASONS

static inline uint16_t
decode_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Ports (ICMP: type and code) and TCP flags from th into pkt, where th
 * has room bytes of transport header inside both the capture and the IP
 * length; -1 when the header is cut, which the general decoder notes.
 */
static inline __attribute__((always_inline)) int
decode_fast_l4(const uint8_t *th, uint32_t room, uint8_t proto,
    struct packet *pkt)
{
	uint8_t flags = 0;

	/* TCP laid out first, the rest in the order of how common. */
	if (__builtin_expect(proto == 6, 1)) {	/* ports and flags */
		if (room < 14)
			return -1;
		flags = th[13];
	} else if (proto == 17 || proto == 132) {	/* UDP, SCTP */
		if (room < 4)
			return -1;
	} else if (proto == 1 || proto == 58) {		/* ICMP, ICMPv6 */
		if (room < 2)
			return -1;
		pkt->sport = 0;
		pkt->dport = decode_rd16(th);
		pkt->tcp_flags = 0;
		return 0;
	} else {
		pkt->sport = 0;
		pkt->dport = 0;
		pkt->tcp_flags = 0;
		return 0;
	}
	pkt->sport = decode_rd16(th);
	pkt->dport = decode_rd16(th + 2);
	pkt->tcp_flags = flags;
	return 0;
}

/*
 * Fields are stored as soon as they are known, which keeps fewer values
 * in registers across the loop this is inlined into: a frame the fast
 * path gives up on may leave some behind, and the general decoder then
 * sets every field again.
 */
static inline __attribute__((always_inline)) enum decode_result
decode_fast_ether(const uint8_t *d, uint32_t caplen, uint32_t wirelen,
    struct packet *pkt, int macs)
{
	const uint8_t *ip = d + 14;
	uint32_t cap, wire, len, room, a4[4] = { 0 };
	uint16_t type;
	uint8_t proto;

	/* The shortest frame taken: Ethernet, IPv4, a 2-byte ICMP header. */
	if (caplen < 14 + 20 + 2)
		return DECODE_FAST_NO;
	type = decode_rd16(d + 12);
	/* What the capture and the wire hold from the IP header on. */
	cap = caplen - 14;
	wire = wirelen - 14;
	if (type == 0x8100) {		/* one 802.1Q tag */
		pkt->vlan = decode_rd16(d + 14) & 0x0fff;
		type = decode_rd16(d + 16);
		ip = d + 18;
		cap -= 4;
		wire -= 4;
		pkt->inner_vlan = 0;
	} else {
		/* Next to each other: one store. */
		pkt->vlan = 0;
		pkt->inner_vlan = 0;
	}
	/* wire >= cap > 0: no subtraction wraps. */
	if (type == 0x0800) {
		if (cap < 20 || ip[0] != 0x45)
			return DECODE_FAST_NO;
		len = decode_rd16(ip + 2);
		proto = ip[9];
		/* Fragments, short or zero lengths: noted or dropped. */
		if ((decode_rd16(ip + 6) & 0x3fff) || len < 20 || len > wire)
			return DECODE_FAST_NO;
		room = (cap < len ? cap : len) - 20;
		if (decode_fast_l4(ip + 20, room, proto, pkt))
			return DECODE_FAST_NO;
		/* Built in a zeroed array: fewer, wider stores than memset. */
		memcpy(a4, ip + 12, 4);
		memcpy(pkt->src, a4, 16);
		memcpy(a4, ip + 16, 4);
		memcpy(pkt->dst, a4, 16);
		pkt->octets = len;
		pkt->af = 4;
		pkt->tos = ip[1];
	} else if (type == 0x86dd) {
		if (cap < 40 || ip[0] >> 4 != 6)
			return DECODE_FAST_NO;
		proto = ip[6];
		switch (proto) {
		case 0: case 43: case 44: case 51: case 60:
			return DECODE_FAST_NO;	/* extension headers */
		}
		len = decode_rd16(ip + 4);
		if (len + 40 > wire)
			return DECODE_FAST_NO;
		room = cap - 40 < len ? cap - 40 : len;
		if (decode_fast_l4(ip + 40, room, proto, pkt))
			return DECODE_FAST_NO;
		memcpy(pkt->src, ip + 8, 16);
		memcpy(pkt->dst, ip + 24, 16);
		pkt->octets = len + 40;
		pkt->af = 6;
		pkt->tos = (uint8_t)(ip[0] << 4 | ip[1] >> 4);
	} else
		return DECODE_FAST_NO;
	pkt->proto = proto;
	pkt->ifindex = 0;
	/* Zeros first, so the compiler stores them as one word. */
	pkt->frag = PKT_FRAG_NONE;
	pkt->egress = 0;
	pkt->nmpls = 0;
	pkt->has_mac = 0;
	pkt->notes = 0;
	if (macs) {
		memcpy(pkt->dst_mac, d, 6);
		memcpy(pkt->src_mac, d + 6, 6);
		pkt->has_mac = 1;
	}
	return DECODE_OK;
}

#endif /* DECODE_H */
