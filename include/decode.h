/*
 * Packet decoder: link layer, encapsulations, IPv4/IPv6 and the transport
 * header, read through the bounds-checked cursor.  Produces the fields a
 * flow is keyed and counted on, or names why the packet was not accounted.
 */
#ifndef DECODE_H
#define DECODE_H

#include <stdint.h>

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
	uint8_t		src_mac[6];
	uint8_t		dst_mac[6];
	uint32_t	mpls[DECODE_MAX_MPLS];	/* label stack entries */
	uint32_t	notes;		/* bit per enum decode_note */
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

#endif /* DECODE_H */
