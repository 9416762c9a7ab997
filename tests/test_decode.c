/*
 * Unit tests of the packet decoder: one table of hand-built frames, each
 * with the result and every field decode_packet must produce, then every
 * truncated prefix of each good frame, which must decode cleanly or name
 * a truncation.  Run under `make check-asan` the prefixes prove that no
 * read goes past caplen, since each lives in a buffer of exactly caplen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "decode.h"

/* Link types by number, as pcap files carry them. */
#define L_NULL		0
#define L_EN10MB	1
#define L_PPP		9
#define L_RAW12		12
#define L_RAW14		14
#define L_PPP_SERIAL	50
#define L_PPP_ETHER	51
#define L_RAW101	101
#define L_LOOP		108
#define L_SLL		113
#define L_IPV4		228
#define L_IPV6		229
#define L_SLL2		276

/*
 * Frames are written in hex (spaces ignored) from the pieces below, so
 * each row reads like the protocol stack it builds.
 */
#define MAC_D	"0a0000000002"
#define MAC_S	"0a0000000001"
#define ETH(type)	MAC_D " " MAC_S " " type " "
#define A4	"c0000201"		/* 192.0.2.1 */
#define B4	"c6336402"		/* 198.51.100.2 */
#define A6	"20010db8000000000000000000000001"
#define B6	"20010db8000000000000000000000002"
#define IP4H(vihl, tos, len, frag, proto) \
	vihl tos len " 1234 " frag " 40" proto " 0000 " A4 " " B4 " "
#define IP4(tos, len, frag, proto) IP4H("45", tos, len, frag, proto)
#define IP6(vtcfl, plen, nxt) vtcfl " " plen " " nxt "40 " A6 " " B6 " "
/* TCP 1234 -> 80, 20 bytes; flags is the byte at offset 13. */
#define TCP(flags)	"04d2 0050 00000001 00000000 50" flags " 2000 0000 0000 "
#define UDP		"0035 c350 000c 0000 deadbeef "	/* 53 -> 50000 */
#define ICMP4		"0303 0000 00000000 "	/* port unreachable */
#define ICMP6		"8000 0000 0001 0002 "	/* echo request */
#define SCTP		"0b59 1f90 00000000 00000000 "	/* 2905 -> 8080 */

#define IP4_TCP		IP4("00", "0028", "4000", "06") TCP("02")
#define IP6_TCP		IP6("60000000", "0014", "06") TCP("02")

/* IPv6 extension headers of 8 bytes; the first byte is the next header. */
#define HBH_PAD(nxt)	nxt "00 0104 00000000 "
#define RTG0(nxt)	nxt "00 0000 00000000 "
#define DST_PAD(nxt)	nxt "00 0104 00000000 "

/* MPLS label stack entries: label 32 (not bottom), label 16 (bottom). */
#define MPLS_MID	"00020040 "
#define MPLS_BOS	"00010140 "

#define R2(x)	x x
#define R4(x)	R2(x) R2(x)
#define R8(x)	R4(x) R4(x)
#define R16(x)	R8(x) R8(x)
#define R32(x)	R16(x) R16(x)

#define N(n)	(1u << DECODE_NOTE_##n)

/* Expected key fields of the frames above. */
#define K4	.af = 4, .src = A4, .dst = B4
#define K6	.af = 6, .src = A6, .dst = B6
#define SYN	.proto = 6, .sport = 1234, .dport = 80, .tcp_flags = 0x02
#define UDPK	.proto = 17, .sport = 53, .dport = 50000
#define MAC	.has_mac = 1

struct dcase {
	const char	*name;
	int		 dlt;
	const char	*hex;
	uint32_t	 wirelen;	/* 0: the frame's length */
	enum decode_result result;
	/* Checked only when result is DECODE_OK. */
	uint8_t		 af;
	const char	*src;
	const char	*dst;
	uint8_t		 proto;
	uint16_t	 sport;
	uint16_t	 dport;
	uint8_t		 tcp_flags;
	uint8_t		 tos;
	uint32_t	 octets;
	uint16_t	 vlan;
	uint16_t	 inner_vlan;
	uint32_t	 ifindex;
	uint8_t		 egress;
	uint8_t		 frag;
	uint8_t		 has_mac;
	uint8_t		 nmpls;
	uint32_t	 mpls0;
	uint32_t	 mpls1;
	uint32_t	 notes;
};

static const struct dcase cases[] = {
	/* Link layers. */
	{ .name = "ethernet ipv4 tcp", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4_TCP,
	  K4, SYN, .octets = 40, MAC },
	{ .name = "ethernet ipv6 tcp", .dlt = L_EN10MB,
	  .hex = ETH("86dd") IP6_TCP,
	  K6, SYN, .octets = 60, MAC },
	{ .name = "ethernet trailer padding is not counted", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4_TCP "000000000000",
	  K4, SYN, .octets = 40, MAC },
	{ .name = "ethernet arp", .dlt = L_EN10MB,
	  .hex = ETH("0806") "0001 0800 0604 0001",
	  .result = DECODE_NON_IP },
	{ .name = "null le af 2", .dlt = L_NULL,
	  .hex = "02000000" IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "null be af 2", .dlt = L_NULL,
	  .hex = "00000002" IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "null le af 10", .dlt = L_NULL,
	  .hex = "0a000000" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "null le af 24", .dlt = L_NULL,
	  .hex = "18000000" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "null le af 28", .dlt = L_NULL,
	  .hex = "1c000000" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "null le af 30", .dlt = L_NULL,
	  .hex = "1e000000" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "null be af 10", .dlt = L_NULL,
	  .hex = "0000000a" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "null be af 24", .dlt = L_NULL,
	  .hex = "00000018" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "null be af 28", .dlt = L_NULL,
	  .hex = "0000001c" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "null be af 30", .dlt = L_NULL,
	  .hex = "0000001e" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "null unknown af", .dlt = L_NULL,
	  .hex = "07000000" IP4_TCP, .result = DECODE_NON_IP },
	{ .name = "loop af 2", .dlt = L_LOOP,
	  .hex = "00000002" IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "loop af 30", .dlt = L_LOOP,
	  .hex = "0000001e" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "raw 12 ipv4", .dlt = L_RAW12,
	  .hex = IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "raw 12 ipv6", .dlt = L_RAW12,
	  .hex = IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "raw 14 ipv4", .dlt = L_RAW14,
	  .hex = IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "raw 14 ipv6", .dlt = L_RAW14,
	  .hex = IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "raw 101 ipv4", .dlt = L_RAW101,
	  .hex = IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "raw 101 ipv6", .dlt = L_RAW101,
	  .hex = IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "raw version 5", .dlt = L_RAW101,
	  .hex = IP4H("55", "00", "0028", "4000", "06") TCP("02"),
	  .result = DECODE_BAD_IP_VERSION },
	{ .name = "dlt ipv4", .dlt = L_IPV4,
	  .hex = IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "dlt ipv4 given ipv6", .dlt = L_IPV4,
	  .hex = IP6_TCP, .result = DECODE_BAD_IP_VERSION },
	{ .name = "dlt ipv6", .dlt = L_IPV6,
	  .hex = IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "dlt ipv6 given ipv4", .dlt = L_IPV6,
	  .hex = IP4_TCP, .result = DECODE_BAD_IP_VERSION },
	{ .name = "sll incoming", .dlt = L_SLL,
	  .hex = "0000 0001 0006 0a00000000010000 0800" IP4_TCP,
	  K4, SYN, .octets = 40 },
	{ .name = "sll outgoing is egress", .dlt = L_SLL,
	  .hex = "0004 0001 0006 0a00000000010000 86dd" IP6_TCP,
	  K6, SYN, .octets = 60, .egress = 1 },
	{ .name = "sll arp", .dlt = L_SLL,
	  .hex = "0000 0001 0006 0a00000000010000 0806 0001 0800",
	  .result = DECODE_NON_IP },
	{ .name = "sll2 outgoing with ifindex", .dlt = L_SLL2,
	  .hex = "0800 0000 00000007 0001 04 06 0a00000000010000" IP4_TCP,
	  K4, SYN, .octets = 40, .ifindex = 7, .egress = 1 },
	{ .name = "sll2 incoming with ifindex", .dlt = L_SLL2,
	  .hex = "86dd 0000 00000003 0001 00 06 0a00000000010000" IP6_TCP,
	  K6, SYN, .octets = 60, .ifindex = 3 },
	{ .name = "ppp with address and control", .dlt = L_PPP,
	  .hex = "ff03 0021" IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "ppp without address and control", .dlt = L_PPP,
	  .hex = "0021" IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "ppp compressed protocol", .dlt = L_PPP,
	  .hex = "21" IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "ppp ipv6 compressed after ff03", .dlt = L_PPP,
	  .hex = "ff03 57" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "ppp serial ipv6", .dlt = L_PPP_SERIAL,
	  .hex = "ff03 0057" IP6_TCP, K6, SYN, .octets = 60 },
	{ .name = "ppp lcp", .dlt = L_PPP,
	  .hex = "ff03 c021 0101 0004", .result = DECODE_NON_IP },
	{ .name = "ppp mpls", .dlt = L_PPP,
	  .hex = "ff03 0281" MPLS_BOS IP4_TCP,
	  K4, SYN, .octets = 40, .nmpls = 1, .mpls0 = 0x00010140 },
	{ .name = "pppoe dlt", .dlt = L_PPP_ETHER,
	  .hex = "1100 0001 002a 0021" IP4_TCP, K4, SYN, .octets = 40 },
	{ .name = "pppoe over ethernet", .dlt = L_EN10MB,
	  .hex = ETH("8864") "1100 0001 003e 0057" IP6_TCP,
	  K6, SYN, .octets = 60, MAC },
	{ .name = "unsupported link type", .dlt = 147,
	  .hex = IP4_TCP, .result = DECODE_BAD_LINKTYPE },

	/* Encapsulations. */
	{ .name = "802.1q", .dlt = L_EN10MB,
	  .hex = ETH("8100") "a064 0800" IP4_TCP,
	  K4, SYN, .octets = 40, MAC, .vlan = 100 },
	{ .name = "qinq 88a8", .dlt = L_EN10MB,
	  .hex = ETH("88a8") "00c8 8100 0064 0800" IP4_TCP,
	  K4, SYN, .octets = 40, MAC, .vlan = 200, .inner_vlan = 100 },
	{ .name = "qinq 9100", .dlt = L_EN10MB,
	  .hex = ETH("9100") "00c8 8100 0064 86dd" IP6_TCP,
	  K6, SYN, .octets = 60, MAC, .vlan = 200, .inner_vlan = 100 },
	{ .name = "three stacked tags", .dlt = L_EN10MB,
	  .hex = ETH("8100") "0001 8100 0002 8100 0003 0800" IP4_TCP,
	  K4, SYN, .octets = 40, MAC, .vlan = 1, .inner_vlan = 2 },
	{ .name = "40 stacked tags", .dlt = L_EN10MB,
	  .hex = ETH("8100") R32("0001 8100 ") R8("0001 8100 ")
	      "0001 0800" IP4_TCP,
	  .result = DECODE_TOO_MANY_ENCAP },
	{ .name = "802.1q then llc/snap", .dlt = L_EN10MB,
	  .hex = ETH("8100") "0005 0030 aaaa03 000000 0800" IP4_TCP,
	  K4, SYN, .octets = 40, MAC, .vlan = 5 },
	{ .name = "mpls one label", .dlt = L_EN10MB,
	  .hex = ETH("8847") MPLS_BOS IP4_TCP,
	  K4, SYN, .octets = 40, MAC, .nmpls = 1, .mpls0 = 0x00010140 },
	{ .name = "mpls two labels", .dlt = L_EN10MB,
	  .hex = ETH("8847") MPLS_MID MPLS_BOS IP6_TCP,
	  K6, SYN, .octets = 60, MAC, .nmpls = 2, .mpls0 = 0x00020040,
	  .mpls1 = 0x00010140 },
	{ .name = "mpls multicast", .dlt = L_EN10MB,
	  .hex = ETH("8848") MPLS_BOS IP4_TCP,
	  K4, SYN, .octets = 40, MAC, .nmpls = 1, .mpls0 = 0x00010140 },
	{ .name = "mpls twelve labels keeps the first ten", .dlt = L_EN10MB,
	  .hex = ETH("8847") R8(MPLS_MID) R2(MPLS_MID) "00030040" MPLS_BOS
	      IP4_TCP,
	  K4, SYN, .octets = 40, MAC, .nmpls = DECODE_MAX_MPLS,
	  .mpls0 = 0x00020040, .mpls1 = 0x00020040 },
	{ .name = "mpls deeper than the limit", .dlt = L_EN10MB,
	  .hex = ETH("8847") R32(MPLS_MID) R8(MPLS_MID) MPLS_BOS IP4_TCP,
	  .result = DECODE_TOO_MANY_ENCAP },
	{ .name = "mpls pseudowire control word, inner ethernet",
	  .dlt = L_EN10MB,
	  .hex = ETH("8847") MPLS_BOS "00000000"
	      "0b0000000002 0b0000000001 0800" IP4_TCP,
	  K4, SYN, .octets = 40, MAC, .nmpls = 1, .mpls0 = 0x00010140 },
	{ .name = "mpls non-ip payload", .dlt = L_EN10MB,
	  .hex = ETH("8847") MPLS_BOS "ffff0000",
	  .result = DECODE_NON_IP },
	{ .name = "llc/snap", .dlt = L_EN10MB,
	  .hex = ETH("0030") "aaaa03 000000 0800" IP4_TCP,
	  K4, SYN, .octets = 40, MAC },
	{ .name = "llc spanning tree", .dlt = L_EN10MB,
	  .hex = ETH("0026") "424203 0000 00 00",
	  .result = DECODE_NON_IP },

	/* IPv4. */
	{ .name = "ipv4 tos", .dlt = L_RAW101,
	  .hex = IP4("b8", "0028", "4000", "06") TCP("02"),
	  K4, SYN, .tos = 0xb8, .octets = 40 },
	{ .name = "ipv4 options", .dlt = L_RAW101,
	  .hex = IP4H("46", "00", "002c", "4000", "06") "01010100" TCP("02"),
	  K4, SYN, .octets = 44 },
	{ .name = "ipv4 tcp flags fin psh ack", .dlt = L_RAW101,
	  .hex = IP4("00", "0028", "4000", "06") TCP("19"),
	  K4, .proto = 6, .sport = 1234, .dport = 80, .tcp_flags = 0x19,
	  .octets = 40 },
	{ .name = "ipv4 udp", .dlt = L_RAW101,
	  .hex = IP4("00", "0020", "0000", "11") UDP,
	  K4, UDPK, .octets = 32 },
	{ .name = "ipv4 first fragment", .dlt = L_RAW101,
	  .hex = IP4("00", "0020", "2000", "11") UDP,
	  K4, UDPK, .octets = 32, .frag = PKT_FRAG_FIRST,
	  .notes = N(IP_FRAGMENT) },
	{ .name = "ipv4 later fragment", .dlt = L_RAW101,
	  .hex = IP4("00", "0020", "00b9", "11") UDP,
	  K4, .proto = 17, .octets = 32, .frag = PKT_FRAG_LATER,
	  .notes = N(IP_FRAGMENT) },
	{ .name = "ipv4 middle fragment", .dlt = L_RAW101,
	  .hex = IP4("00", "0020", "20b9", "11") UDP,
	  K4, .proto = 17, .octets = 32, .frag = PKT_FRAG_LATER,
	  .notes = N(IP_FRAGMENT) },
	{ .name = "icmp type and code", .dlt = L_RAW101,
	  .hex = IP4("00", "001c", "0000", "01") ICMP4,
	  K4, .proto = 1, .dport = 0x0303, .octets = 28 },
	{ .name = "sctp ports", .dlt = L_RAW101,
	  .hex = IP4("00", "0020", "0000", "84") SCTP,
	  K4, .proto = 132, .sport = 2905, .dport = 8080, .octets = 32 },
	{ .name = "gre has no ports", .dlt = L_RAW101,
	  .hex = IP4("00", "0020", "0000", "2f") UDP,
	  K4, .proto = 47, .octets = 32 },
	{ .name = "snaplen cut inside the payload", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4("00", "0100", "4000", "06") TCP("18"),
	  .wirelen = 14 + 256,
	  K4, .proto = 6, .sport = 1234, .dport = 80, .tcp_flags = 0x18,
	  .octets = 256, MAC },
	{ .name = "tcp cut inside the ports", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4("00", "0028", "4000", "06") "04d2",
	  .wirelen = 54,
	  K4, .proto = 6, .octets = 40, MAC, .notes = N(L4_TRUNCATED) },
	{ .name = "tcp cut before the flags", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4("00", "0028", "4000", "06")
	      "04d2 0050 00000001 00000000 50",
	  .wirelen = 54,
	  K4, .proto = 6, .sport = 1234, .dport = 80, .octets = 40, MAC,
	  .notes = N(L4_TRUNCATED) },
	{ .name = "udp cut after the ip header", .dlt = L_RAW101,
	  .hex = IP4("00", "0020", "0000", "11"), .wirelen = 32,
	  K4, .proto = 17, .octets = 32, .notes = N(L4_TRUNCATED) },
	{ .name = "icmp cut after the type", .dlt = L_RAW101,
	  .hex = IP4("00", "001c", "0000", "01") "03", .wirelen = 28,
	  K4, .proto = 1, .octets = 28, .notes = N(L4_TRUNCATED) },
	{ .name = "ipv4 total length 0, big tcp", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4("00", "0000", "4000", "06") TCP("10"),
	  .wirelen = 14 + 70000,
	  K4, .proto = 6, .sport = 1234, .dport = 80, .tcp_flags = 0x10,
	  .octets = 70000, MAC, .notes = N(IPV4_ZERO_LEN) },
	{ .name = "ipv4 total length 0, small frame", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4("00", "0000", "4000", "06") TCP("10"),
	  .result = DECODE_BAD_IP_LEN },
	{ .name = "ipv4 total length below ihl", .dlt = L_RAW101,
	  .hex = IP4("00", "0010", "4000", "06") TCP("02"),
	  .result = DECODE_BAD_IP_LEN },
	{ .name = "ipv4 total length beyond the frame", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4("00", "0100", "4000", "06") TCP("02"),
	  .result = DECODE_BAD_IP_LEN },
	{ .name = "ipv4 ihl 4", .dlt = L_RAW101,
	  .hex = IP4H("44", "00", "0028", "4000", "06") TCP("02"),
	  .result = DECODE_BAD_IP_HDR_LEN },
	{ .name = "ipv4 ihl 0", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP4H("40", "00", "0028", "4000", "06") TCP("02"),
	  .result = DECODE_BAD_IP_HDR_LEN },
	{ .name = "ipv4 ihl 15 past the frame", .dlt = L_RAW101,
	  .hex = IP4H("4f", "00", "0028", "4000", "06") "0000",
	  .result = DECODE_TRUNC_IP },
	{ .name = "ethertype ipv4 carrying version 6", .dlt = L_EN10MB,
	  .hex = ETH("0800") IP6_TCP, .result = DECODE_BAD_IP_VERSION },

	/* IPv6. */
	{ .name = "ipv6 traffic class", .dlt = L_RAW101,
	  .hex = IP6("6b800000", "0014", "06") TCP("02"),
	  K6, SYN, .tos = 0xb8, .octets = 60 },
	{ .name = "ipv6 udp", .dlt = L_RAW101,
	  .hex = IP6("60000000", "000c", "11") UDP,
	  K6, UDPK, .octets = 52 },
	{ .name = "icmpv6 type and code", .dlt = L_RAW101,
	  .hex = IP6("60000000", "0008", "3a") ICMP6,
	  K6, .proto = 58, .dport = 0x8000, .octets = 48 },
	{ .name = "ipv6 hop-by-hop", .dlt = L_RAW101,
	  .hex = IP6("60000000", "001c", "00") HBH_PAD("06") TCP("02"),
	  K6, SYN, .octets = 68 },
	{ .name = "ipv6 routing", .dlt = L_RAW101,
	  .hex = IP6("60000000", "001c", "2b") RTG0("06") TCP("02"),
	  K6, SYN, .octets = 68 },
	{ .name = "ipv6 destination options", .dlt = L_RAW101,
	  .hex = IP6("60000000", "001c", "3c") DST_PAD("06") TCP("02"),
	  K6, SYN, .octets = 68 },
	{ .name = "ipv6 hop-by-hop, routing, dstopts", .dlt = L_RAW101,
	  .hex = IP6("60000000", "002c", "00") HBH_PAD("2b") RTG0("3c")
	      DST_PAD("06") TCP("02"),
	  K6, SYN, .octets = 84 },
	{ .name = "ipv6 first fragment", .dlt = L_RAW101,
	  .hex = IP6("60000000", "0014", "2c") "1100 0001 0000abcd" UDP,
	  K6, UDPK, .octets = 60, .frag = PKT_FRAG_FIRST,
	  .notes = N(IP_FRAGMENT) },
	{ .name = "ipv6 later fragment", .dlt = L_RAW101,
	  .hex = IP6("60000000", "0014", "2c") "1100 0100 0000abcd" UDP,
	  K6, .proto = 17, .octets = 60, .frag = PKT_FRAG_LATER,
	  .notes = N(IP_FRAGMENT) },
	{ .name = "ipv6 fragment after hop-by-hop", .dlt = L_RAW101,
	  .hex = IP6("60000000", "0024", "00") HBH_PAD("2c")
	      "0600 0001 0000abcd" TCP("02"),
	  K6, SYN, .octets = 76, .frag = PKT_FRAG_FIRST,
	  .notes = N(IP_FRAGMENT) },
	{ .name = "ipv6 authentication header", .dlt = L_RAW101,
	  .hex = IP6("60000000", "002c", "33")
	      "0604 0000 00000100 00000001 000000000000000000000000" TCP("02"),
	  K6, SYN, .octets = 84 },
	{ .name = "ipv6 mobility after dstopts keys on dstopts",
	  .dlt = L_RAW101,
	  .hex = IP6("60000000", "0010", "3c") DST_PAD("87")
	      "3b00 0500 0000 0000",
	  K6, .proto = 60, .octets = 56 },
	{ .name = "ipv6 mobility directly", .dlt = L_RAW101,
	  .hex = IP6("60000000", "0008", "87") "3b00 0500 0000 0000",
	  K6, .proto = 135, .octets = 48 },
	{ .name = "ipv6 malformed hop-by-hop option", .dlt = L_RAW101,
	  .hex = IP6("60000000", "001c", "00") "0600 0108 00000000" TCP("02"),
	  K6, .proto = 0, .octets = 68, .notes = N(IPV6_BAD_OPTIONS) },
	{ .name = "ipv6 malformed destination option", .dlt = L_RAW101,
	  .hex = IP6("60000000", "001c", "3c") "0600 0106 00000000" TCP("02"),
	  K6, .proto = 60, .octets = 68, .notes = N(IPV6_BAD_OPTIONS) },
	{ .name = "ipv6 jumbogram", .dlt = L_EN10MB,
	  .hex = ETH("86dd") IP6("60000000", "0000", "00")
	      "0600 c204 000186a0" TCP("10"),
	  .wirelen = 14 + 40 + 100000,
	  K6, .proto = 6, .sport = 1234, .dport = 80, .tcp_flags = 0x10,
	  .octets = 100040, MAC, .notes = N(IPV6_JUMBO) },
	{ .name = "ipv6 63 extension headers", .dlt = L_RAW101,
	  .hex = IP6("60000000", "020c", "3c") R32(DST_PAD("3c"))
	      R16(DST_PAD("3c")) R8(DST_PAD("3c")) R4(DST_PAD("3c"))
	      R2(DST_PAD("3c")) DST_PAD("06") TCP("02"),
	  K6, SYN, .octets = 40 + 524 },
	{ .name = "ipv6 65 extension headers", .dlt = L_RAW101,
	  .hex = IP6("60000000", "021c", "3c") R32(DST_PAD("3c"))
	      R32(DST_PAD("3c")) DST_PAD("06") TCP("02"),
	  .result = DECODE_IPV6_EXT_LOOP },
	{ .name = "ipv6 payload length beyond the frame", .dlt = L_RAW101,
	  .hex = IP6("60000000", "0100", "06") TCP("02"),
	  .result = DECODE_BAD_IP_LEN },
	{ .name = "ipv6 tcp cut after the fixed header", .dlt = L_RAW101,
	  .hex = IP6("60000000", "0014", "06"), .wirelen = 60,
	  K6, .proto = 6, .octets = 60, .notes = N(L4_TRUNCATED) },
	{ .name = "ipv6 extension header cut", .dlt = L_RAW101,
	  .hex = IP6("60000000", "001c", "00") "06", .wirelen = 68,
	  K6, .proto = 0, .octets = 68, .notes = N(L4_TRUNCATED) },
	{ .name = "ethertype ipv6 carrying version 4", .dlt = L_EN10MB,
	  .hex = ETH("86dd") IP4_TCP, .result = DECODE_BAD_IP_VERSION },

	/* Truncated at each layer. */
	{ .name = "ethernet cut in the addresses", .dlt = L_EN10MB,
	  .hex = "0a0000000002 0a00", .result = DECODE_TRUNC_LINK },
	{ .name = "ethernet cut in the type", .dlt = L_EN10MB,
	  .hex = MAC_D MAC_S "08", .result = DECODE_TRUNC_LINK },
	{ .name = "ethernet without ip", .dlt = L_EN10MB,
	  .hex = ETH("0800"), .result = DECODE_TRUNC_IP },
	{ .name = "vlan tag cut", .dlt = L_EN10MB,
	  .hex = ETH("8100") "00", .result = DECODE_TRUNC_ENCAP },
	{ .name = "mpls label cut", .dlt = L_EN10MB,
	  .hex = ETH("8847") "0001", .result = DECODE_TRUNC_ENCAP },
	{ .name = "mpls control word cut", .dlt = L_EN10MB,
	  .hex = ETH("8847") MPLS_BOS "0000", .result = DECODE_TRUNC_ENCAP },
	{ .name = "pppoe header cut", .dlt = L_EN10MB,
	  .hex = ETH("8864") "1100 0001", .result = DECODE_TRUNC_ENCAP },
	{ .name = "llc cut", .dlt = L_EN10MB,
	  .hex = ETH("0030") "aaaa", .result = DECODE_TRUNC_LINK },
	{ .name = "null header cut", .dlt = L_NULL,
	  .hex = "020000", .result = DECODE_TRUNC_LINK },
	{ .name = "sll header cut", .dlt = L_SLL,
	  .hex = "0000 0001 0006 0a00000000010000 08",
	  .result = DECODE_TRUNC_LINK },
	{ .name = "sll2 header cut", .dlt = L_SLL2,
	  .hex = "0800 0000 00000007 0001 04 06 0a000000000100",
	  .result = DECODE_TRUNC_LINK },
	{ .name = "ppp header cut", .dlt = L_PPP,
	  .hex = "ff", .result = DECODE_TRUNC_LINK },
	{ .name = "ipv4 header cut", .dlt = L_EN10MB,
	  .hex = ETH("0800") "4500 0028 1234 4000 40", .wirelen = 54,
	  .result = DECODE_TRUNC_IP },
	{ .name = "ipv6 header cut", .dlt = L_EN10MB,
	  .hex = ETH("86dd") "6000 0000 0014 0640 20010db8", .wirelen = 74,
	  .result = DECODE_TRUNC_IP },
	{ .name = "raw, empty", .dlt = L_RAW101,
	  .hex = "", .result = DECODE_TRUNC_IP },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static size_t
hex_decode(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1, v = 0;
	char ch;

	for (; *hex != '\0'; hex++) {
		ch = *hex;
		if (ch == ' ')
			continue;
		if (ch >= '0' && ch <= '9')
			v = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			v = ch - 'a' + 10;
		else
			fail_msg("bad hex digit '%c'", ch);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			fail_msg("hex frame longer than %zu bytes", cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		fail_msg("odd number of hex digits");
	return n;
}

static void
check_addr(const char *name, const char *want_hex, const uint8_t got[16],
    int af)
{
	uint8_t want[16];
	size_t n;

	memset(want, 0, sizeof(want));
	n = hex_decode(want_hex, want, sizeof(want));
	if (n != (af == 4 ? 4u : 16u) || memcmp(want, got, 16) != 0)
		fail_msg("%s: address mismatch", name);
}

static void
check_case(const struct dcase *tc, const struct packet *p,
    enum decode_result r)
{
	uint8_t mac[6];

	if (r != tc->result)
		fail_msg("%s: got %s, want %s", tc->name, decode_reason_name(r),
		    decode_reason_name(tc->result));
	if (r != DECODE_OK)
		return;
#define FIELD(f) do {							\
	if ((uint64_t)p->f != (uint64_t)tc->f)				\
		fail_msg("%s: " #f " is %llu, want %llu", tc->name,	\
		    (unsigned long long)p->f, (unsigned long long)tc->f); \
} while (0)
	FIELD(af);
	FIELD(proto);
	FIELD(sport);
	FIELD(dport);
	FIELD(tcp_flags);
	FIELD(tos);
	FIELD(octets);
	FIELD(vlan);
	FIELD(inner_vlan);
	FIELD(ifindex);
	FIELD(egress);
	FIELD(frag);
	FIELD(has_mac);
	FIELD(nmpls);
	FIELD(notes);
#undef FIELD
	check_addr(tc->name, tc->src, p->src, tc->af);
	check_addr(tc->name, tc->dst, p->dst, tc->af);
	if (tc->nmpls > 0 && p->mpls[0] != tc->mpls0)
		fail_msg("%s: first label %08x", tc->name, p->mpls[0]);
	if (tc->nmpls > 1 && p->mpls[1] != tc->mpls1)
		fail_msg("%s: second label %08x", tc->name, p->mpls[1]);
	if (tc->has_mac) {
		hex_decode(MAC_S, mac, sizeof(mac));
		assert_memory_equal(p->src_mac, mac, 6);
		hex_decode(MAC_D, mac, sizeof(mac));
		assert_memory_equal(p->dst_mac, mac, 6);
	}
}

static void
test_decode_table(void **state)
{
	static uint8_t frame[2048];
	const struct dcase *tc;
	struct packet p;
	enum decode_result r;
	size_t i, len;
	uint32_t wire;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		tc = &cases[i];
		len = hex_decode(tc->hex, frame, sizeof(frame));
		wire = tc->wirelen ? tc->wirelen : (uint32_t)len;
		/* Stale fields from an earlier packet must not survive. */
		memset(&p, 0xa5, sizeof(p));
		p.ts_ms = 1234567;
		r = decode_packet(tc->dlt, frame, (uint32_t)len, wire, &p);
		check_case(tc, &p, r);
		assert_int_equal(p.ts_ms, 1234567);
	}
}

static int
is_truncation(enum decode_result r)
{
	return r == DECODE_TRUNC_LINK || r == DECODE_TRUNC_ENCAP ||
	    r == DECODE_TRUNC_IP;
}

/*
 * Every prefix of every good frame, as a snaplen would cut it: the frame
 * decodes, or names a truncation.  An accounted prefix keeps the full
 * frame's addresses and IP length, read from the intact headers.
 */
static void
test_decode_truncated_prefixes(void **state)
{
	static uint8_t frame[2048];
	const struct dcase *tc;
	struct packet full, p;
	enum decode_result r;
	size_t i, len, cut, nprefix = 0, nok = 0;
	uint32_t wire;
	uint8_t *buf;

	(void)state;
	for (i = 0; i < NCASES; i++) {
		tc = &cases[i];
		if (tc->result != DECODE_OK)
			continue;
		len = hex_decode(tc->hex, frame, sizeof(frame));
		wire = tc->wirelen ? tc->wirelen : (uint32_t)len;
		assert_int_equal(decode_packet(tc->dlt, frame, (uint32_t)len,
		    wire, &full), DECODE_OK);
		for (cut = 0; cut < len; cut++) {
			/* Exactly cut bytes, so AddressSanitizer sees overreads. */
			buf = malloc(cut);
			assert_true(buf != NULL || cut == 0);
			if (cut > 0)
				memcpy(buf, frame, cut);
			r = decode_packet(tc->dlt, buf, (uint32_t)cut, wire, &p);
			free(buf);
			nprefix++;
			if (r != DECODE_OK) {
				if (!is_truncation(r))
					fail_msg("%s cut at %zu: %s", tc->name,
					    cut, decode_reason_name(r));
				continue;
			}
			nok++;
			if (p.af != full.af || memcmp(p.src, full.src, 16) ||
			    memcmp(p.dst, full.dst, 16))
				fail_msg("%s cut at %zu: other addresses",
				    tc->name, cut);
			/* A jumbogram's length is in the option a cut loses. */
			if (!(full.notes & N(IPV6_JUMBO)) &&
			    p.octets != full.octets)
				fail_msg("%s cut at %zu: %u octets, want %u",
				    tc->name, cut, p.octets, full.octets);
			if (p.vlan != full.vlan || p.inner_vlan != full.inner_vlan)
				fail_msg("%s cut at %zu: other vlan", tc->name,
				    cut);
		}
	}
	/* The loop really ran, and some cuts after L3 were accounted. */
	assert_true(nprefix > 1000);
	assert_true(nok > 100);
}

/* A wire length below caplen (a broken record) is taken as caplen. */
static void
test_decode_wirelen_below_caplen(void **state)
{
	static uint8_t frame[256];
	struct packet p;
	size_t len;

	(void)state;
	len = hex_decode(ETH("0800") IP4_TCP, frame, sizeof(frame));
	assert_int_equal(decode_packet(L_EN10MB, frame, (uint32_t)len, 0, &p),
	    DECODE_OK);
	assert_int_equal(p.octets, 40);
}

static void
test_decode_names(void **state)
{
	unsigned i, j;

	(void)state;
	assert_string_equal(decode_reason_name(DECODE_OK), "ok");
	assert_string_equal(decode_reason_name(DECODE_BAD_IP_LEN),
	    "bad_ip_total_length");
	assert_string_equal(decode_reason_name(DECODE_IPV6_EXT_LOOP),
	    "too_many_ipv6_extensions");
	assert_string_equal(decode_reason_name(DECODE_NREASONS), "unknown");
	assert_string_equal(decode_note_name(DECODE_NOTE_IPV6_BAD_OPTIONS),
	    "ipv6_malformed_options");
	assert_string_equal(decode_note_name(DECODE_NOTE_L4_TRUNCATED),
	    "transport_header_truncated");
	assert_string_equal(decode_note_name(DECODE_NNOTES), "unknown");
	/* Names are counter names: distinct and non-empty. */
	for (i = 0; i < DECODE_NREASONS; i++) {
		assert_true(strlen(decode_reason_name(i)) > 0);
		for (j = 0; j < i; j++)
			assert_string_not_equal(decode_reason_name(i),
			    decode_reason_name(j));
	}
	for (i = 0; i < DECODE_NNOTES; i++)
		for (j = 0; j < i; j++)
			assert_string_not_equal(decode_note_name(i),
			    decode_note_name(j));
	/* Notes are bits of a 32-bit mask. */
	assert_true(DECODE_NNOTES <= 32);
}

static void
test_decode_linktypes(void **state)
{
	static const int yes[] = { L_NULL, L_EN10MB, L_PPP, L_RAW12, L_RAW14,
	    L_PPP_SERIAL, L_PPP_ETHER, L_RAW101, L_LOOP, L_SLL, L_IPV4,
	    L_IPV6, L_SLL2 };
	static const int no[] = { 6, 105, 127, 147, 192, -1 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(decode_linktype_supported(yes[i]), 1);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(decode_linktype_supported(no[i]), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_truncated_prefixes),
		cmocka_unit_test(test_decode_wirelen_below_caplen),
		cmocka_unit_test(test_decode_names),
		cmocka_unit_test(test_decode_linktypes),
	};

	/* Code that loops forever fails the suite instead of hanging it. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
