/*
 * Flow table: a keyed hash of bidirectional flow records drawn from a
 * pool preallocated at max_flows, each on one idle list per timeout class
 * and on an active-timeout list.  Both lists stay ordered by time, so
 * insert, lookup and expiry are O(1) and nothing is allocated per packet.
 */
#ifndef FLOWTABLE_H
#define FLOWTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* Idle-timeout classes; each has its own timeout and list. */
enum flow_class {
	FC_GENERAL,
	FC_TCP,
	FC_TCP_RST,
	FC_TCP_FIN,
	FC_UDP,
	FC_ICMP,
	FC_NCLASS
};

/* What -T keys flows on (softflowd's tracking levels). */
enum track_level {
	TRACK_FULL,	/* addresses, ports, protocol, ToS, interface */
	TRACK_PORT,	/* addresses, ports, protocol */
	TRACK_PROTO,	/* addresses and protocol */
	TRACK_IP,	/* addresses only */
	TRACK_VLAN,	/* full, plus the VLAN id */
	TRACK_ETHER	/* vlan, plus the Ethernet addresses */
};

#define EXPIRY_REASONS(X)						\
	X(IDLE,		"idle_timeout")					\
	X(ACTIVE,	"active_timeout")				\
	X(TCP_FIN,	"tcp_fin")					\
	X(TCP_RST,	"tcp_rst")					\
	X(TABLE_FULL,	"table_full")					\
	X(FORCED,	"forced")

#define EXPIRY_ENUM(name, str) EXP_##name,
enum expiry_reason {
	EXPIRY_REASONS(EXPIRY_ENUM)
	EXP_NREASONS
};
#undef EXPIRY_ENUM

struct flow_key {
	uint8_t		addr[2][16];	/* [0] is the lower endpoint */
	uint8_t		mac[2][6];
	uint16_t	port[2];
	uint32_t	ifindex;
	uint16_t	vlan;
	uint8_t		proto;
	uint8_t		tos;
	uint8_t		af;
	uint8_t		pad[7];
};

/* One direction of a flow: packets sent by endpoint [i] of the key. */
struct flow_side {
	uint64_t	packets;
	uint64_t	octets;
	uint64_t	first_ms;
	uint64_t	last_ms;
	uint8_t		tcp_flags;
	uint8_t		egress;
};

struct flow {
	struct flow_key	 key;
	struct flow_side side[2];
	uint16_t	 inner_vlan;
	uint8_t		 cls;		/* enum flow_class */
	uint8_t		 nmpls;
	uint32_t	 mpls[];	/* first labels of the stack, as decoded */
};

struct flowtable_config {
	uint32_t	 max_flows;
	enum track_level track;
	uint32_t	 idle_ms[FC_NCLASS];	/* 0 for tcp.rst/tcp.fin: off */
	uint64_t	 maxlife_ms;
	unsigned	 mpls_labels;	/* labels kept per flow (-x) */
};

struct flowtable_stats {
	uint64_t	 packets;
	uint64_t	 octets;
	uint64_t	 flows_created;
	uint64_t	 flows_expired;
	uint64_t	 expired[EXP_NREASONS];
	/* Dropped unexported by softflowctl delete-all. */
	uint64_t	 flows_deleted;
	uint64_t	 packets_deleted;
	uint64_t	 octets_deleted;
	uint64_t	 flows_by_proto[256];
	uint64_t	 packets_by_proto[256];
	uint64_t	 octets_by_proto[256];
	uint32_t	 active;
	uint32_t	 peak_active;
};

struct flowtable;

/* Called once per flow as it leaves the table; the flow is freed after. */
typedef void (*flow_expired_fn)(void *arg, const struct flow *f,
		    enum expiry_reason why);

struct flowtable *flowtable_new(const struct flowtable_config *cfg,
		    flow_expired_fn expired, void *arg);
void		 flowtable_free(struct flowtable *ft);
/* Where expired flows go from now on (SIGHUP swaps the exporter). */
void		 flowtable_set_export(struct flowtable *ft,
		    flow_expired_fn expired, void *arg);
/* Timeouts and maxlife may change at run time; max_flows may not. */
void		 flowtable_set_timeouts(struct flowtable *ft,
		    const struct flowtable_config *cfg);
void		 flowtable_account(struct flowtable *ft,
		    const struct packet *pkt);
/* The same for n packets in order, faster than one call each. */
void		 flowtable_account_batch(struct flowtable *ft,
		    const struct packet *pkts, size_t n);
/* Expire flows whose timeouts have passed at now_ms; returns how many. */
uint32_t	 flowtable_expire(struct flowtable *ft, uint64_t now_ms);
uint32_t	 flowtable_expire_all(struct flowtable *ft);
/* Drop every flow without exporting it (softflowctl delete-all). */
uint32_t	 flowtable_delete_all(struct flowtable *ft);
void		 flowtable_foreach(const struct flowtable *ft,
		    void (*fn)(void *arg, const struct flow *f), void *arg);
const struct flowtable_stats *flowtable_stats(struct flowtable *ft);
const char	*flowtable_reason_name(enum expiry_reason why);
const char	*flowtable_class_name(enum flow_class cls);
/* Bytes one flow record takes in the pool. */
size_t		 flowtable_record_size(const struct flowtable *ft);

#endif /* FLOWTABLE_H */
