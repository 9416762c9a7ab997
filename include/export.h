/*
 * Export: turns expired flows (or, for PSAMP, sampled packets) into
 * records, batches them into NetFlow v1, v5, v9 or IPFIX messages and
 * sends each to the collectors over UDP, TCP or SCTP.  Encoding is done by
 * the format modules (nf5.c, nf9.c); this module owns the sockets, one
 * stream (sequence numbers, template timing) per collector, and the
 * counters.  Nothing here ever blocks: a collector that is down, refuses
 * or cannot keep up loses messages, each one counted, and never delays
 * capture or the other collectors.
 */
#ifndef EXPORT_H
#define EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flowtable.h"

#define EXPORT_MAX_COLLECTORS	16

/* One exported record: one direction of a flow, or a biflow (RFC 5103). */
struct flow_record {
	uint64_t	packets;
	uint64_t	octets;
	uint64_t	first_ms;
	uint64_t	last_ms;
	uint64_t	rev_packets;	/* biflow reverse direction */
	uint64_t	rev_octets;
	uint64_t	rev_first_ms;
	uint64_t	rev_last_ms;
	uint8_t		src[16];
	uint8_t		dst[16];
	uint8_t		src_mac[6];
	uint8_t		dst_mac[6];
	uint32_t	if_in;
	uint32_t	if_out;
	uint32_t	mpls[DECODE_MAX_MPLS];
	uint16_t	sport;
	uint16_t	dport;
	/* In the order of a flow's key and side: copied a run at a time. */
	uint16_t	vlan;
	uint8_t		proto;
	uint8_t		tos;
	uint8_t		af;
	uint8_t		tcp_flags;
	uint8_t		egress;
	uint16_t	inner_vlan;
	uint8_t		rev_tcp_flags;
	uint8_t		end_reason;	/* IPFIX flowEndReason */
	uint8_t		nmpls;
	uint8_t		biflow;
};

/* Clock the headers are stamped with: the packets' time in replay. */
struct export_clock {
	uint64_t	now_ms;
	uint64_t	boot_ms;	/* sysUpTime zero for v1/v5/v9 */
};

/*
 * Per-stream state: each collector has one (a TCP or SCTP connection
 * starts a new one).  In mirror mode every collector is sent the same
 * records, each message stamped from its own stream.
 */
struct export_stream {
	uint32_t	sequence;	/* v5 flows, v9 packets, IPFIX records */
	uint32_t	packets;	/* datagrams sent on this stream */
	uint32_t	tmpl_at_packet;	/* packets count at last template */
	uint64_t	tmpl_at_ms;
	int		tmpl_sent;
};

enum export_proto { EXPORT_UDP, EXPORT_TCP, EXPORT_SCTP };

struct export_config {
	int		 version;	/* 1, 5, 9 or 10 */
	int		 biflow;
	int		 load_balance;
	int		 hoplimit;	/* -1: system default */
	enum export_proto transport;
	uint32_t	 domain_id;	/* v9 source id / IPFIX domain */
	unsigned	 tmpl_packets;	/* template refresh: datagrams */
	unsigned	 tmpl_secs;	/*   ... and seconds */
	int		 time_prec;	/* IPFIX -A: 0 s, 1 ms, 2 us, 3 ns */
	int		 psamp;		/* -v psamp: IPFIX record per packet */
	unsigned	 sampling;	/* -s 1-in-N, announced, unscaled */
	unsigned	 mpls_labels;	/* labels exported (-x) */
	size_t		 mtu;		/* datagram payload limit, 0: auto */
	const char	*send_ifname;	/* -S */
	unsigned	 ncollectors;
	char		*collectors[EXPORT_MAX_COLLECTORS];	/* host:port */
};

/*
 * Per collector.  packets/octets/records count messages the kernel
 * accepted (for TCP, wrote completely); every message not sent is one
 * error, of one cause, and its records and packets are lost_*.
 */
struct collector_stats {
	char		 name[96];
	uint64_t	 packets;	/* messages sent */
	uint64_t	 octets;
	uint64_t	 records;	/* data records in the messages sent */
	uint64_t	 errors;	/* messages not sent, any cause below */
	uint64_t	 refused;	/* ECONNREFUSED / ICMP unreachable */
	uint64_t	 nobufs;	/* ENOBUFS/EAGAIN: kernel queue full */
	uint64_t	 disconnected;	/* TCP/SCTP: no connection */
	uint64_t	 backlog_full;	/* TCP/SCTP: collector too slow */
	uint64_t	 other_errors;	/* any other send error */
	uint64_t	 connects;	/* TCP/SCTP connections established */
	uint64_t	 lost_records;	/* records in messages not sent */
	uint64_t	 lost_packets;	/* packets in those records */
	int		 last_errno;
};

struct export_stats {
	uint64_t	 records;	/* flow records encoded */
	uint64_t	 datagrams;
	uint64_t	 flows;		/* flows handed to the exporter */
	uint64_t	 unexportable;	/* e.g. IPv6 flows under v5 */
	uint64_t	 unexportable_packets;
	uint64_t	 unexportable_octets;
	uint64_t	 packets;	/* packets in exported records */
	uint64_t	 octets;
	uint64_t	 templates;	/* messages carrying templates, per
					   collector */
	uint64_t	 options;	/* options records sent */
	uint64_t	 max_datagram;	/* payload limit in use (mtu) */
};

/*
 * Counters the probe keeps that the exporter reports in its statistics
 * options record.  The probe owns the struct and updates it; the
 * exporter only reads it when it sends that record.
 */
struct export_probe_totals {
	uint64_t	 ignored_packets;	/* dropped by the decoder */
};

struct exporter;

struct exporter	*exporter_new(const struct export_config *cfg);
/*
 * Close every collector; TCP/SCTP backlogs get a few seconds to drain
 * first, so the last flows of a replay are not lost.
 */
void		 exporter_free(struct exporter *ex);
void		 exporter_set_clock(struct exporter *ex, uint64_t now_ms);
void		 exporter_set_probe_totals(struct exporter *ex,
		    const struct export_probe_totals *t);
/* flow_expired_fn for the flow table. */
void		 exporter_flow_expired(void *ex, const struct flow *f,
		    enum expiry_reason why);
/* PSAMP: one record for one sampled packet. */
void		 exporter_packet(struct exporter *ex,
		    const struct packet *pkt);
/*
 * Encode and send every pending record; also retries TCP/SCTP
 * connections that are due and drains their backlog.
 */
void		 exporter_flush(struct exporter *ex);
/*
 * At exit: flush, send each v9/IPFIX collector a last statistics record,
 * then give TCP/SCTP connections up to a few seconds to connect and
 * drain their backlog.  Blocks; never call it while capturing.
 */
void		 exporter_finish(struct exporter *ex);
/* Send templates on the next datagram (softflowctl send-template). */
void		 exporter_force_templates(struct exporter *ex);
const struct export_stats *exporter_stats(const struct exporter *ex);
/* A reload's new exporter carries on the old one's totals. */
void		 exporter_carry_stats(struct exporter *to,
		    const struct exporter *from);
unsigned	 exporter_ncollectors(const struct exporter *ex);
const struct collector_stats *exporter_collector(const struct exporter *ex,
		    unsigned i);

/* Fill up to two records (one per direction, or one biflow) from a flow. */
size_t		 export_flow_records(const struct flow *f,
		    enum expiry_reason why, int biflow,
		    struct flow_record out[2]);

#endif /* EXPORT_H */
