/*
 * Packet decoder.  Every read of packet memory goes through struct cursor,
 * so a frame cut anywhere yields a named reason, never a read past caplen.
 * (The fast path for common frames, in decode.h, instead checks the frame's
 * length once against the fixed offsets it reads.)
 */
#include <stddef.h>
#include <string.h>

#include <pcap/dlt.h>

#include "cursor.h"
#include "decode.h"

/* Encapsulation layers (VLAN tags, MPLS labels, PPPoE, ...) before IP. */
#define MAX_ENCAP	32
/* IPv6 extension headers walked before giving up on the chain. */
#define MAX_IPV6_EXT	64
/* Linux cooked capture: the kernel's PACKET_OUTGOING. */
#define SLL_OUTGOING	4

#ifndef DLT_IPV4
#define DLT_IPV4	228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6	229
#endif
#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2	276
#endif
/* The raw-IP link type has two values: OpenBSD's 14 and LINKTYPE_RAW. */
#define DLT_RAW_ALT	14
#define LINKTYPE_RAW	101

#define ETH_IPV4	0x0800
#define ETH_IPV6	0x86dd
#define ETH_VLAN	0x8100
#define ETH_QINQ	0x88a8
#define ETH_QINQ_OLD1	0x9100
#define ETH_QINQ_OLD2	0x9200
#define ETH_MPLS_UC	0x8847
#define ETH_MPLS_MC	0x8848
#define ETH_PPPOE_SESS	0x8864
#define ETH_MIN_TYPE	0x0600

#define PPP_IPV4	0x0021
#define PPP_IPV6	0x0057
#define PPP_MPLS_UC	0x0281
#define PPP_MPLS_MC	0x0283

struct dstate {
	struct packet	*pkt;
	const uint8_t	*start;
	uint32_t	 wirelen;
	int		 depth;
	int		 nvlan;
};

#define DECODE_NAME(name, str) str,
static const char *const reason_names[] = { DECODE_REASONS(DECODE_NAME) };
static const char *const note_names[] = { DECODE_NOTES(DECODE_NAME) };
#undef DECODE_NAME

const char *
decode_reason_name(enum decode_result r)
{
	if ((unsigned)r >= DECODE_NREASONS)
		return "unknown";
	return reason_names[r];
}

const char *
decode_note_name(enum decode_note n)
{
	if ((unsigned)n >= DECODE_NNOTES)
		return "unknown";
	return note_names[n];
}

static enum decode_result decode_ethertype(struct cursor *, uint16_t,
		    struct dstate *);
static enum decode_result decode_ether(struct cursor *, struct dstate *);

/* Bytes of the frame on the wire from the cursor's position onwards. */
static uint32_t
wire_left(const struct cursor *c, const struct dstate *st)
{
	uint32_t off = (uint32_t)(c->pos - st->start);

	return st->wirelen > off ? st->wirelen - off : 0;
}

static void
note(struct dstate *st, enum decode_note n)
{
	st->pkt->notes |= 1u << n;
}

/*
 * The transport protocols whose IPv6 packets are keyed on the protocol
 * found after the extension headers.  A chain that ends anywhere else
 * (mobility, an inner IP header, no next header) is keyed on the fixed
 * header's next-header value, as Wireshark-based tools report it.
 */
static int
ipv6_upper_known(uint8_t proto)
{
	switch (proto) {
	case 1: case 2: case 6: case 17: case 47: case 50: case 51: case 58:
	case 89: case 103: case 112: case 132:
		return 1;
	}
	return 0;
}

/* Transport header: ports, ICMP type/code, TCP flags.  Never fails. */
static void
decode_l4(struct cursor *c, struct dstate *st)
{
	struct packet *pkt = st->pkt;
	uint8_t type, code;

	switch (pkt->proto) {
	case 6:		/* TCP */
		if (cur_peek_be16(c, 0, &pkt->sport) ||
		    cur_peek_be16(c, 2, &pkt->dport)) {
			pkt->sport = pkt->dport = 0;
			note(st, DECODE_NOTE_L4_TRUNCATED);
			return;
		}
		if (cur_peek_u8(c, 13, &pkt->tcp_flags))
			note(st, DECODE_NOTE_L4_TRUNCATED);
		return;
	case 17:	/* UDP */
	case 132:	/* SCTP */
		if (cur_peek_be16(c, 0, &pkt->sport) ||
		    cur_peek_be16(c, 2, &pkt->dport)) {
			pkt->sport = pkt->dport = 0;
			note(st, DECODE_NOTE_L4_TRUNCATED);
		}
		return;
	case 1:		/* ICMP */
	case 58:	/* ICMPv6 */
		if (cur_peek_u8(c, 0, &type) || cur_peek_u8(c, 1, &code)) {
			note(st, DECODE_NOTE_L4_TRUNCATED);
			return;
		}
		pkt->sport = 0;
		pkt->dport = (uint16_t)(type << 8 | code);
		return;
	}
}

static enum decode_result
decode_ipv4(struct cursor *c, struct dstate *st)
{
	struct packet *pkt = st->pkt;
	uint8_t vihl;
	uint16_t totlen = 0, frag = 0;
	uint32_t ihl, len, wire;

	if (cur_peek_u8(c, 0, &vihl))
		return DECODE_TRUNC_IP;
	if (vihl >> 4 != 4)
		return DECODE_BAD_IP_VERSION;
	ihl = (uint32_t)(vihl & 0x0f) * 4;
	if (ihl < 20)
		return DECODE_BAD_IP_HDR_LEN;
	if (cur_left(c) < ihl)
		return DECODE_TRUNC_IP;
	(void)cur_peek_u8(c, 1, &pkt->tos);
	(void)cur_peek_be16(c, 2, &totlen);
	(void)cur_peek_be16(c, 6, &frag);
	(void)cur_peek_u8(c, 9, &pkt->proto);
	(void)cur_peek_bytes(c, 12, pkt->src, 4);
	(void)cur_peek_bytes(c, 16, pkt->dst, 4);

	wire = wire_left(c, st);
	len = totlen;
	if (totlen == 0 && wire > 0xffff) {
		/* Linux BIG TCP / TSO: the length is the frame's. */
		len = wire;
		note(st, DECODE_NOTE_IPV4_ZERO_LEN);
	} else if (len < ihl || len > wire)
		return DECODE_BAD_IP_LEN;

	pkt->af = 4;
	pkt->octets = len;
	(void)cur_skip(c, ihl);
	cur_limit(c, len - ihl);
	if (frag & 0x1fff) {
		pkt->frag = PKT_FRAG_LATER;
		note(st, DECODE_NOTE_IP_FRAGMENT);
		return DECODE_OK;
	}
	if (frag & 0x2000) {
		pkt->frag = PKT_FRAG_FIRST;
		note(st, DECODE_NOTE_IP_FRAGMENT);
	}
	decode_l4(c, st);
	return DECODE_OK;
}

/*
 * Hop-by-hop and destination options are TLVs inside their header; a
 * chain with an option running past the header's end is malformed.  A
 * lone trailing byte is tolerated, as Wireshark does.
 */
static int
ipv6_options_valid(const struct cursor *c, size_t hdrlen)
{
	size_t off = 2;
	uint8_t type, olen;

	while (off + 2 <= hdrlen) {
		if (cur_peek_u8(c, off, &type))
			return 0;
		if (type == 0) {	/* Pad1 */
			off++;
			continue;
		}
		if (cur_peek_u8(c, off + 1, &olen))
			return 0;
		off += 2 + (size_t)olen;
	}
	return off <= hdrlen;
}

/* Jumbo Payload option (RFC 2675) in a hop-by-hop header, or 0. */
static uint32_t
ipv6_jumbo_len(const struct cursor *hbh, size_t hdrlen)
{
	size_t off = 2;
	uint8_t type, olen;
	uint32_t jumbo;

	while (off < hdrlen) {
		if (cur_peek_u8(hbh, off, &type))
			return 0;
		if (type == 0) {	/* Pad1 */
			off++;
			continue;
		}
		if (cur_peek_u8(hbh, off + 1, &olen))
			return 0;
		if (type == 0xc2 && olen == 4 &&
		    cur_peek_be32(hbh, off + 2, &jumbo) == 0)
			return jumbo;
		off += 2 + (size_t)olen;
	}
	return 0;
}

static enum decode_result
decode_ipv6(struct cursor *c, struct dstate *st)
{
	struct packet *pkt = st->pkt;
	uint32_t vtcfl, len, wire;
	uint16_t plen, fragoff;
	uint8_t nxt, first_nxt, hlen;
	size_t extlen;
	int n, walked = 0;

	if (cur_peek_u8(c, 0, &nxt))
		return DECODE_TRUNC_IP;
	if (nxt >> 4 != 6)
		return DECODE_BAD_IP_VERSION;
	if (cur_left(c) < 40)
		return DECODE_TRUNC_IP;
	(void)cur_peek_be32(c, 0, &vtcfl);
	(void)cur_peek_be16(c, 4, &plen);
	(void)cur_peek_u8(c, 6, &nxt);
	(void)cur_peek_bytes(c, 8, pkt->src, 16);
	(void)cur_peek_bytes(c, 24, pkt->dst, 16);
	pkt->tos = (uint8_t)(vtcfl >> 20);
	pkt->af = 6;

	wire = wire_left(c, st);
	(void)cur_skip(c, 40);
	len = plen;
	if (plen == 0 && nxt == 0) {
		uint8_t l;

		if (cur_peek_u8(c, 1, &l) == 0 &&
		    (len = ipv6_jumbo_len(c, ((size_t)l + 1) * 8)) != 0)
			note(st, DECODE_NOTE_IPV6_JUMBO);
	}
	if ((uint64_t)len + 40 > wire)
		return DECODE_BAD_IP_LEN;
	pkt->octets = len + 40;
	cur_limit(c, len);

	first_nxt = nxt;
	for (n = 0; ; n++) {
		if (n >= MAX_IPV6_EXT)
			return DECODE_IPV6_EXT_LOOP;
		switch (nxt) {
		case 0:		/* hop-by-hop */
		case 43:	/* routing */
		case 60:	/* destination options */
		case 51:	/* AH: its payload is readable */
			if (cur_peek_u8(c, 1, &hlen)) {
				pkt->proto = first_nxt;
				note(st, DECODE_NOTE_L4_TRUNCATED);
				return DECODE_OK;
			}
			extlen = nxt == 51 ? ((size_t)hlen + 2) * 4 :
			    ((size_t)hlen + 1) * 8;
			if ((nxt == 0 || nxt == 60) &&
			    !ipv6_options_valid(c, extlen) &&
			    cur_left(c) >= extlen) {
				/* Keyed as the chain's start, not followed. */
				pkt->proto = first_nxt;
				note(st, DECODE_NOTE_IPV6_BAD_OPTIONS);
				return DECODE_OK;
			}
			(void)cur_peek_u8(c, 0, &nxt);
			if (cur_skip(c, extlen)) {
				pkt->proto = first_nxt;
				note(st, DECODE_NOTE_L4_TRUNCATED);
				return DECODE_OK;
			}
			walked = 1;
			continue;
		case 44:	/* fragment: keyed on the fragment's next header */
			if (cur_peek_u8(c, 0, &nxt) ||
			    cur_peek_be16(c, 2, &fragoff) || cur_skip(c, 8)) {
				pkt->proto = first_nxt;
				note(st, DECODE_NOTE_L4_TRUNCATED);
				return DECODE_OK;
			}
			pkt->proto = nxt;
			note(st, DECODE_NOTE_IP_FRAGMENT);
			if (fragoff & 0xfff8) {
				pkt->frag = PKT_FRAG_LATER;
				return DECODE_OK;
			}
			pkt->frag = PKT_FRAG_FIRST;
			decode_l4(c, st);
			return DECODE_OK;
		}
		break;
	}
	if (walked && !ipv6_upper_known(nxt)) {
		pkt->proto = first_nxt;
		return DECODE_OK;
	}
	pkt->proto = nxt;
	decode_l4(c, st);
	return DECODE_OK;
}

static enum decode_result
decode_ip_by_version(struct cursor *c, struct dstate *st)
{
	uint8_t v;

	if (cur_peek_u8(c, 0, &v))
		return DECODE_TRUNC_IP;
	switch (v >> 4) {
	case 4:
		return decode_ipv4(c, st);
	case 6:
		return decode_ipv6(c, st);
	}
	return DECODE_BAD_IP_VERSION;
}

static enum decode_result
decode_mpls(struct cursor *c, struct dstate *st)
{
	struct packet *pkt = st->pkt;
	uint32_t entry;
	uint8_t first;

	do {
		if (++st->depth > MAX_ENCAP)
			return DECODE_TOO_MANY_ENCAP;
		if (cur_be32(c, &entry))
			return DECODE_TRUNC_ENCAP;
		if (pkt->nmpls < DECODE_MAX_MPLS)
			pkt->mpls[pkt->nmpls++] = entry;
	} while (!(entry & 0x100));	/* bottom of stack */

	if (cur_peek_u8(c, 0, &first))
		return DECODE_TRUNC_ENCAP;
	switch (first >> 4) {
	case 4:
		return decode_ipv4(c, st);
	case 6:
		return decode_ipv6(c, st);
	case 0:
		/* Ethernet pseudowire behind a control word (RFC 4385). */
		if (cur_skip(c, 4))
			return DECODE_TRUNC_ENCAP;
		return decode_ether(c, st);
	}
	return DECODE_NON_IP;
}

static enum decode_result
decode_ppp_proto(struct cursor *c, uint16_t proto, struct dstate *st)
{
	switch (proto) {
	case PPP_IPV4:
		return decode_ipv4(c, st);
	case PPP_IPV6:
		return decode_ipv6(c, st);
	case PPP_MPLS_UC:
	case PPP_MPLS_MC:
		return decode_mpls(c, st);
	}
	return DECODE_NON_IP;
}

/* PPP header: optional address/control, then a 1- or 2-byte protocol. */
static enum decode_result
decode_ppp(struct cursor *c, struct dstate *st)
{
	uint8_t b0, b1;
	uint16_t proto;

	if (cur_peek_u8(c, 0, &b0) || cur_peek_u8(c, 1, &b1))
		return DECODE_TRUNC_LINK;
	if (b0 == 0xff && b1 == 0x03)
		(void)cur_skip(c, 2);
	if (cur_peek_u8(c, 0, &b0))
		return DECODE_TRUNC_LINK;
	if (b0 & 1) {		/* compressed protocol field */
		proto = b0;
		(void)cur_skip(c, 1);
	} else if (cur_be16(c, &proto))
		return DECODE_TRUNC_LINK;
	return decode_ppp_proto(c, proto, st);
}

/* PPPoE session header (RFC 2516) followed by the PPP protocol. */
static enum decode_result
decode_pppoe(struct cursor *c, struct dstate *st)
{
	uint16_t proto;

	if (cur_skip(c, 6) || cur_be16(c, &proto))
		return DECODE_TRUNC_ENCAP;
	return decode_ppp_proto(c, proto, st);
}

/* 802.2 LLC: only SNAP frames carry an ethertype we can follow. */
static enum decode_result
decode_llc(struct cursor *c, struct dstate *st)
{
	uint8_t llc[3];
	uint16_t type;

	if (cur_peek_bytes(c, 0, llc, 3))
		return DECODE_TRUNC_LINK;
	if (llc[0] != 0xaa || llc[1] != 0xaa || llc[2] != 0x03)
		return DECODE_NON_IP;
	if (cur_skip(c, 6) || cur_be16(c, &type))
		return DECODE_TRUNC_LINK;
	return decode_ethertype(c, type, st);
}

static enum decode_result
decode_ethertype(struct cursor *c, uint16_t type, struct dstate *st)
{
	struct packet *pkt = st->pkt;
	uint16_t tci;

	for (;;) {
		if (++st->depth > MAX_ENCAP)
			return DECODE_TOO_MANY_ENCAP;
		switch (type) {
		case ETH_IPV4:
			return decode_ipv4(c, st);
		case ETH_IPV6:
			return decode_ipv6(c, st);
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD1:
		case ETH_QINQ_OLD2:
			if (cur_be16(c, &tci) || cur_be16(c, &type))
				return DECODE_TRUNC_ENCAP;
			if (st->nvlan == 0)
				pkt->vlan = tci & 0x0fff;
			else if (st->nvlan == 1)
				pkt->inner_vlan = tci & 0x0fff;
			st->nvlan++;
			if (type < ETH_MIN_TYPE)
				return decode_llc(c, st);
			continue;
		case ETH_MPLS_UC:
		case ETH_MPLS_MC:
			return decode_mpls(c, st);
		case ETH_PPPOE_SESS:
			return decode_pppoe(c, st);
		}
		return DECODE_NON_IP;
	}
}

static enum decode_result
decode_ether(struct cursor *c, struct dstate *st)
{
	struct packet *pkt = st->pkt;
	uint16_t type;

	if (++st->depth > MAX_ENCAP)
		return DECODE_TOO_MANY_ENCAP;
	/* An inner (pseudowire) frame must not overwrite the outer MACs. */
	if (!pkt->has_mac) {
		if (cur_peek_bytes(c, 0, pkt->dst_mac, 6) ||
		    cur_peek_bytes(c, 6, pkt->src_mac, 6))
			return DECODE_TRUNC_LINK;
		pkt->has_mac = 1;
	}
	if (cur_skip(c, 12) || cur_be16(c, &type))
		return DECODE_TRUNC_LINK;
	if (type < ETH_MIN_TYPE)
		return decode_llc(c, st);
	return decode_ethertype(c, type, st);
}

/* BSD loopback: a 4-byte address family, host order of the capturer. */
static enum decode_result
decode_null(struct cursor *c, struct dstate *st, int network_order)
{
	uint32_t af;

	if (network_order ? cur_peek_be32(c, 0, &af) : cur_peek_le32(c, 0, &af))
		return DECODE_TRUNC_LINK;
	if (af > 0xffff)	/* written on a host of the other byte order */
		af = (af >> 24) | ((af >> 8) & 0xff00);
	(void)cur_skip(c, 4);
	switch (af) {
	case 2:
		return decode_ipv4(c, st);
	case 10: case 24: case 28: case 30:	/* AF_INET6 across systems */
		return decode_ipv6(c, st);
	}
	return DECODE_NON_IP;
}

static enum decode_result
decode_sll_proto(struct cursor *c, uint16_t proto, struct dstate *st)
{
	if (proto == 0x0004)	/* 802.2 LLC frames */
		return decode_llc(c, st);
	if (proto < ETH_MIN_TYPE)
		return DECODE_NON_IP;
	return decode_ethertype(c, proto, st);
}

/* Linux cooked v1: 16 bytes, no interface index. */
static enum decode_result
decode_sll(struct cursor *c, struct dstate *st)
{
	uint16_t pkttype, proto;

	if (cur_peek_be16(c, 0, &pkttype) || cur_peek_be16(c, 14, &proto))
		return DECODE_TRUNC_LINK;
	st->pkt->egress = pkttype == SLL_OUTGOING;
	(void)cur_skip(c, 16);
	return decode_sll_proto(c, proto, st);
}

/* Linux cooked v2: 20 bytes with the interface index. */
static enum decode_result
decode_sll2(struct cursor *c, struct dstate *st)
{
	uint16_t proto;
	uint32_t ifindex;
	uint8_t pkttype;

	if (cur_peek_be16(c, 0, &proto) || cur_peek_be32(c, 4, &ifindex) ||
	    cur_peek_u8(c, 10, &pkttype) || cur_skip(c, 20))
		return DECODE_TRUNC_LINK;
	st->pkt->ifindex = ifindex;
	st->pkt->egress = pkttype == SLL_OUTGOING;
	return decode_sll_proto(c, proto, st);
}

int
decode_linktype_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB: case DLT_NULL: case DLT_LOOP: case DLT_RAW:
	case DLT_RAW_ALT: case LINKTYPE_RAW: case DLT_IPV4: case DLT_IPV6:
	case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_PPP:
	case DLT_PPP_SERIAL: case DLT_PPP_ETHER:
		return 1;
	}
	return 0;
}

/* Every field decode_packet promises, cleared: MACs and labels excepted. */
static void
packet_clear(struct packet *pkt)
{
	memset((char *)pkt + offsetof(struct packet, octets), 0,
	    offsetof(struct packet, src_mac) - offsetof(struct packet, octets));
}

enum decode_result
decode_packet_general(int dlt, const uint8_t *data, uint32_t caplen,
    uint32_t wirelen, struct packet *pkt)
{
	struct cursor c;
	struct dstate st;

	packet_clear(pkt);
	cur_init(&c, data, caplen);
	st.pkt = pkt;
	st.start = data;
	st.wirelen = wirelen > caplen ? wirelen : caplen;
	st.depth = 0;
	st.nvlan = 0;

	switch (dlt) {
	case DLT_EN10MB:
		return decode_ether(&c, &st);
	case DLT_NULL:
		return decode_null(&c, &st, 0);
	case DLT_LOOP:
		return decode_null(&c, &st, 1);
	case DLT_RAW:
	case DLT_RAW_ALT:
	case LINKTYPE_RAW:
		return decode_ip_by_version(&c, &st);
	case DLT_IPV4:
		return decode_ipv4(&c, &st);
	case DLT_IPV6:
		return decode_ipv6(&c, &st);
	case DLT_LINUX_SLL:
		return decode_sll(&c, &st);
	case DLT_LINUX_SLL2:
		return decode_sll2(&c, &st);
	case DLT_PPP:
	case DLT_PPP_SERIAL:
		return decode_ppp(&c, &st);
	case DLT_PPP_ETHER:
		return decode_pppoe(&c, &st);
	}
	return DECODE_BAD_LINKTYPE;
}

enum decode_result
decode_packet(int dlt, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
    struct packet *pkt)
{
	enum decode_result r;

	if (wirelen < caplen)
		wirelen = caplen;
	if (dlt == DLT_EN10MB && (r = decode_fast_ether(data, caplen,
	    wirelen, pkt, 1)) != DECODE_FAST_NO)
		return r;
	return decode_packet_general(dlt, data, caplen, wirelen, pkt);
}
