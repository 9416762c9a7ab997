/*
 * Flow table.  Records live in one pool allocated at start-up and are
 * first touched when a flow needs one, so a large -m costs memory only as
 * the table fills.  A record is 128 bytes: times are 32-bit offsets from
 * the flow's first packet and packet counters are 32 bits per direction;
 * the public struct flow is filled from a record only when the flow
 * leaves the table or is listed.
 *
 * Every flow sits on two intrusive lists: the idle list of its timeout
 * class, ordered by a stamp no later than its last packet, and the active
 * list, ordered by first packet.  A packet moves its flow to the idle tail
 * only when the stamp is RESTAMP_MS old, so a busy flow costs no list work
 * on most packets.  Expiry walks an idle list only while stamps say a flow
 * may be due, so it never scans live flows yet exports each flow at the
 * first expiry at or after its timeout; a packet that finds its flow
 * already due starts a new one, so flows split exactly at their timeouts
 * however often expiry runs.
 */
#include <endian.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "flowtable.h"
#include "log.h"
#include "siphash.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#define NIL		UINT32_MAX
#define L_IDLE		0
#define L_ACTIVE	1
#define TH_FIN		0x01
#define TH_RST		0x04
/* How stale an idle-list stamp may get before a packet refreshes it. */
#define RESTAMP_MS	1000
/* Records per idle list a full table compares to find the LRU flow. */
#define LRU_SCAN	4
/*
 * How far ahead a batch works: a packet is hashed and its bucket fetched
 * AHEAD packets before its turn, its record fetched AHEAD / 2 before.
 * AHEAD is a power of two.
 */
#define AHEAD		16
/*
 * The buckets a table starts with, and how many times more it takes when
 * its flows outnumber them, up to one per flow of -m.  A table sized for
 * -m from the start spreads a few thousand flows over megabytes, each
 * lookup a miss on its own page; this one grows once on the way to a
 * million flows.
 */
#define BUCKETS_FIRST	65536u
#define BUCKETS_GROW	16u
/* Flows expiry gathers before releasing them, for the same reason. */
#define EXPIRE_AHEAD	16
/* The class of a record on the free list. */
#define CLS_FREE	0xff
/* Offsets from a flow's base time are signed 32-bit milliseconds. */
#define OFF_MAX		INT32_MAX
#define OFF_EMPTY_FIRST	INT32_MAX
#define OFF_EMPTY_LAST	INT32_MIN

/*
 * What a flow is keyed on: 48 bytes, compared whole but for three bytes
 * that hold the low 24 bits of a stored flow's hash, so removal and a
 * growing table find its bucket without rehashing.  They are derived from
 * the rest, so a lookup has no need to compare them, nor a packet's key
 * to carry them.  The last eight bytes follow struct packet's
 * vlan..tcp_flags, so the key takes them in one masked load (see
 * key_tail()).
 */
struct rkey {
	uint8_t		addr[2][16];	/* [0] is the lower endpoint */
	uint16_t	port[2];
	uint32_t	ifindex;
	uint16_t	vlan;
	uint8_t		hash[2];	/* where the packet has inner_vlan */
	uint8_t		af;
	uint8_t		proto;
	uint8_t		tos;
	uint8_t		hash2;		/* where the packet has tcp_flags */
};
/* The hash bits the key's three bytes hold: buckets up to this. */
#define HASH_KEPT	0xffffffu

/*
 * One flow.  Followed in the pool, when the table needs them, by the
 * endpoints' MAC addresses (-T ether, part of the key) and the first MPLS
 * labels (-x).
 */
struct rec {
	uint32_t	hnext;		/* hash chain or free list */
	uint32_t	anext;		/* active list; idle links: ilink */
	uint32_t	aprev;
	uint32_t	spare[2];
	int32_t		stamp;		/* idle list order, <= last packet */
	uint64_t	base_ms;	/* first packet when the flow began */
	int32_t		first[2];	/* per side, ms from base_ms */
	int32_t		last[2];
	uint64_t	octets[2];
	uint32_t	packets[2];
	struct rkey	key;
	uint16_t	inner_vlan;
	uint8_t		tcp_flags[2];
	uint8_t		egress[2];
	uint8_t		cls;		/* enum flow_class */
	uint8_t		nmpls;
};

_Static_assert(sizeof(struct rkey) == 48, "flow key is not 48 bytes");
_Static_assert(offsetof(struct packet, dst) ==
    offsetof(struct packet, src) + 16, "packet addresses not adjacent");
_Static_assert(sizeof(struct rec) == 128, "flow record is not 128 bytes");
_Static_assert(offsetof(struct flow_key, pad) ==
    offsetof(struct flow_key, af) + 1 && sizeof(((struct flow_key *)0)->pad) ==
    7, "flow key's af is not followed by 7 bytes of pad");

/*
 * A list is circular through a sentinel: an ilink past the records' for
 * an idle list, a record past the pool's last for the active list.  Its
 * next is the head and its prev the tail, so no link is ever NIL and
 * neither insert nor remove tests for an end.  tail_ms is no earlier than
 * the tail's list time (exactly it but after the tail leaves), so a new
 * member goes at the tail without reading the tail's record.
 */
struct flist {
	uint64_t	tail_ms;
	uint32_t	s;		/* the sentinel's index */
};

/*
 * A flow's idle-list links, apart from its record: expiry walks an idle
 * list from its head, and links in the records made each step a miss that
 * waited for the one before.  In an array of their own (8 bytes a flow)
 * the walk mostly hits the cache, and the records it reaches are fetched
 * together.
 */
struct ilink {
	uint32_t	next;
	uint32_t	prev;
};

struct flowtable {
	struct flowtable_config	 cfg;
	struct flowtable_stats	 stats;
	flow_expired_fn		 expired;
	void			*arg;
	uint8_t			*pool;
	size_t			 stride;
	size_t			 mac_off;	/* 0: no MACs in the key */
	size_t			 mpls_off;
	uint32_t		*buckets;	/* record index + 1, 0: empty */
	struct ilink		*ilink;		/* per record */
	uint32_t		 mask;		/* buckets - 1 */
	uint32_t		 max_buckets;	/* what it may grow to */
	uint32_t		 free_head;
	uint32_t		 unused;	/* records never handed out */
	struct flist		 idle[FC_NCLASS];
	struct flist		 active;
	/* Key fields the tracking level keeps: see key_tail(). */
	uint32_t		 port_mask;
	uint32_t		 ifindex_mask;
	uint64_t		 tail_mask;
	int			 aes;		/* hash with aeshash */
	uint8_t			 hashkey[16];
	struct siphash_key	 sipkey;
	struct aeshash_key	 aeskey;
};

/* A struct flow with room for its labels, filled from a record. */
union flowbuf {
	struct flow	f;
	uint8_t		b[sizeof(struct flow) +
			    DECODE_MAX_MPLS * sizeof(uint32_t)];
};

#define REASON_NAME(name, str) str,
static const char *const reason_names[] = { EXPIRY_REASONS(REASON_NAME) };
#undef REASON_NAME

static const char *const class_names[FC_NCLASS] = {
	[FC_GENERAL] = "general", [FC_TCP] = "tcp", [FC_TCP_RST] = "tcp.rst",
	[FC_TCP_FIN] = "tcp.fin", [FC_UDP] = "udp", [FC_ICMP] = "icmp",
};

static const enum expiry_reason idle_reason[FC_NCLASS] = {
	[FC_GENERAL] = EXP_IDLE, [FC_TCP] = EXP_IDLE,
	[FC_TCP_RST] = EXP_TCP_RST, [FC_TCP_FIN] = EXP_TCP_FIN,
	[FC_UDP] = EXP_IDLE, [FC_ICMP] = EXP_IDLE,
};

const char *
flowtable_reason_name(enum expiry_reason why)
{
	return (unsigned)why < EXP_NREASONS ? reason_names[why] : "unknown";
}

const char *
flowtable_class_name(enum flow_class cls)
{
	return (unsigned)cls < FC_NCLASS ? class_names[cls] : "unknown";
}

static inline struct rec *
rec_at(const struct flowtable *ft, uint32_t idx)
{
	return (struct rec *)(void *)(ft->pool + (size_t)idx * ft->stride);
}

static inline uint8_t *
rec_mac(const struct flowtable *ft, const struct rec *r)
{
	return (uint8_t *)r + ft->mac_off;
}

static inline uint32_t *
rec_mpls(const struct flowtable *ft, const struct rec *r)
{
	return (uint32_t *)(void *)((uint8_t *)r + ft->mpls_off);
}

/* Earliest and latest packet of either side, as offsets. */
static inline int32_t
rec_first(const struct rec *r)
{
	return r->first[0] < r->first[1] ? r->first[0] : r->first[1];
}

static inline int32_t
rec_last(const struct rec *r)
{
	return r->last[0] > r->last[1] ? r->last[0] : r->last[1];
}

static inline uint64_t
rec_abs(const struct rec *r, int32_t off)
{
	return r->base_ms + (uint64_t)(int64_t)off;
}

/* The time a list is ordered by. */
static inline uint64_t
rec_order(const struct rec *r, int which)
{
	return rec_abs(r, which == L_IDLE ? r->stamp : rec_first(r));
}

/* A record's links on one of its lists; which is constant where inlined. */
static inline uint32_t *
link_next(const struct flowtable *ft, uint32_t idx, int which)
{
	return which == L_IDLE ? &ft->ilink[idx].next : &rec_at(ft, idx)->anext;
}

static inline uint32_t *
link_prev(const struct flowtable *ft, uint32_t idx, int which)
{
	return which == L_IDLE ? &ft->ilink[idx].prev : &rec_at(ft, idx)->aprev;
}

/* A list's first member, or its sentinel when it is empty. */
static inline uint32_t
list_head(const struct flowtable *ft, const struct flist *l, int which)
{
	return *link_next(ft, l->s, which);
}

static inline void
list_init(struct flowtable *ft, struct flist *l, int which)
{
	*link_next(ft, l->s, which) = *link_prev(ft, l->s, which) = l->s;
	l->tail_ms = 0;
}

static inline void
list_remove(struct flowtable *ft, int which, uint32_t idx)
{
	uint32_t next = *link_next(ft, idx, which);
	uint32_t prev = *link_prev(ft, idx, which);

	*link_next(ft, prev, which) = next;
	*link_prev(ft, next, which) = prev;
}

/*
 * Insert in order, searching from the tail: packets come in time order,
 * so this is the tail itself except after a late packet.
 */
static __attribute__((noinline)) void
list_insert_search(struct flowtable *ft, struct flist *l, int which,
    uint32_t idx, uint64_t t)
{
	uint32_t after = *link_prev(ft, l->s, which), next;

	while (after != l->s && rec_order(rec_at(ft, after), which) > t)
		after = *link_prev(ft, after, which);
	next = *link_next(ft, after, which);
	*link_prev(ft, idx, which) = after;
	*link_next(ft, idx, which) = next;
	*link_next(ft, after, which) = idx;
	*link_prev(ft, next, which) = idx;
	if (next == l->s)
		l->tail_ms = t;
}

/*
 * The common case inline: the record goes at the tail.  t is its
 * rec_order(), which the callers have at hand.
 */
static inline void
list_insert(struct flowtable *ft, struct flist *l, int which, uint32_t idx,
    uint64_t t)
{
	uint32_t s = l->s, tail;

	if (l->tail_ms > t) {
		list_insert_search(ft, l, which, idx, t);
		return;
	}
	tail = *link_prev(ft, s, which);
	*link_prev(ft, idx, which) = tail;
	*link_next(ft, idx, which) = s;
	*link_next(ft, tail, which) = idx;
	*link_prev(ft, s, which) = idx;
	l->tail_ms = t;
}

static uint32_t
pow2_at_least(uint64_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

/* What each tracking level keys flows on, as masks of key_tail()'s words. */
static void
track_masks(struct flowtable *ft, enum track_level t)
{
	int ports = t != TRACK_PROTO && t != TRACK_IP;
	int full = t == TRACK_FULL || t == TRACK_VLAN || t == TRACK_ETHER;
	int vlan = t == TRACK_VLAN || t == TRACK_ETHER;

	ft->port_mask = ports ? UINT32_MAX : 0;
	ft->ifindex_mask = full ? UINT32_MAX : 0;
	/* vlan, af, proto, tos: see key_tail(). */
	ft->tail_mask = (vlan ? 0xffffULL : 0) | 0xffULL << 32 |
	    (t != TRACK_IP ? 0xffULL << 40 : 0) | (full ? 0xffULL << 48 : 0);
}

struct flowtable *
flowtable_new(const struct flowtable_config *cfg, flow_expired_fn expired,
    void *arg)
{
	struct flowtable *ft;
	uint32_t i, nbuckets;
	size_t end, poolsize;
	const char *e;

	/* Indices up to the sentinels' must differ from NIL. */
	if (cfg->max_flows == 0 || cfg->max_flows >= NIL - 1 - FC_NCLASS)
		return NULL;
	if ((ft = calloc(1, sizeof(*ft))) == NULL)
		return NULL;
	ft->cfg = *cfg;
	if (ft->cfg.mpls_labels > DECODE_MAX_MPLS)
		ft->cfg.mpls_labels = DECODE_MAX_MPLS;
	ft->expired = expired;
	ft->arg = arg;
	end = sizeof(struct rec);
	if (cfg->track == TRACK_ETHER) {
		ft->mac_off = end;
		end += 12;
	}
	ft->mpls_off = (end + 3) & ~(size_t)3;
	end = ft->mpls_off + ft->cfg.mpls_labels * sizeof(uint32_t);
	ft->stride = (end + 7) & ~(size_t)7;
	/*
	 * Up to a bucket per flow: a full table's chains average one record
	 * and a half per hit.  Twice as many cost 4 bytes a flow and
	 * measured no faster with a million flows.
	 */
	ft->max_buckets = pow2_at_least(cfg->max_flows);
	nbuckets = ft->max_buckets < BUCKETS_FIRST ? ft->max_buckets :
	    BUCKETS_FIRST;
	ft->mask = nbuckets - 1;
	/*
	 * Large allocations come straight from the kernel as untouched zero
	 * pages: the pool and the buckets take memory as flows arrive.
	 */
	/*
	 * Room past the records for the sentinels' indices: the first is
	 * the active list's, and expiry fetches an idle list's as if it
	 * were a record.
	 */
	poolsize = ft->stride * ((size_t)cfg->max_flows + FC_NCLASS);
	/*
	 * No MADV_HUGEPAGE: with THP in "madvise" mode each first touch of a
	 * 2 MiB page compacts and clears it, which measured 0.56 s of system
	 * time against 0.32 s on a million flows, for no user-time gain.
	 */
	ft->pool = aligned_alloc(64, (poolsize + 63) & ~(size_t)63);
	ft->buckets = calloc(nbuckets, sizeof(*ft->buckets));
	ft->ilink = calloc((size_t)cfg->max_flows + FC_NCLASS,
	    sizeof(*ft->ilink));
	if (ft->pool == NULL || ft->buckets == NULL || ft->ilink == NULL)
		goto fail;
	ft->free_head = NIL;
	for (i = 0; i < FC_NCLASS; i++) {
		ft->idle[i].s = cfg->max_flows + i;
		list_init(ft, &ft->idle[i], L_IDLE);
	}
	ft->active.s = cfg->max_flows;
	list_init(ft, &ft->active, L_ACTIVE);
	rec_at(ft, ft->active.s)->cls = CLS_FREE;
	if (getrandom(ft->hashkey, sizeof(ft->hashkey), 0) !=
	    (ssize_t)sizeof(ft->hashkey))
		log_warn("getrandom: flow hash key is not random");
	siphash13_key(&ft->sipkey, ft->hashkey);
	aeshash_key(&ft->aeskey, ft->hashkey);
	/* SOFTFLOWD_HASH=siphash: the fallback, for tests on any CPU. */
	ft->aes = aeshash_supported() && !((e = getenv("SOFTFLOWD_HASH")) &&
	    strcmp(e, "siphash") == 0);
	track_masks(ft, cfg->track);
	return ft;
fail:
	flowtable_free(ft);
	return NULL;
}

void
flowtable_free(struct flowtable *ft)
{
	if (ft == NULL)
		return;
	free(ft->pool);
	free(ft->buckets);
	free(ft->ilink);
	free(ft);
}

void
flowtable_set_export(struct flowtable *ft, flow_expired_fn expired, void *arg)
{
	ft->expired = expired;
	ft->arg = arg;
}

void
flowtable_set_timeouts(struct flowtable *ft, const struct flowtable_config *cfg)
{
	memcpy(ft->cfg.idle_ms, cfg->idle_ms, sizeof(ft->cfg.idle_ms));
	ft->cfg.maxlife_ms = cfg->maxlife_ms;
}

/*
 * The peak of active flows since the table last emptied is the number of
 * records handed out: none is active that was not, and the free list is
 * empty whenever a fresh one goes, so all are active then.
 */
static inline void
peak_update(struct flowtable *ft)
{
	if (ft->unused > ft->stats.peak_active)
		ft->stats.peak_active = ft->unused;
}

/*
 * The totals are summed from the per-protocol counters here, when they
 * are asked for, rather than counted a second time per packet or flow;
 * the peak of active flows is taken here too.
 */
const struct flowtable_stats *
flowtable_stats(struct flowtable *ft)
{
	unsigned i;

	ft->stats.packets = ft->stats.octets = ft->stats.flows_created = 0;
	for (i = 0; i < 256; i++) {
		ft->stats.packets += ft->stats.packets_by_proto[i];
		ft->stats.octets += ft->stats.octets_by_proto[i];
		ft->stats.flows_created += ft->stats.flows_by_proto[i];
	}
	peak_update(ft);
	return &ft->stats;
}

size_t
flowtable_record_size(const struct flowtable *ft)
{
	return ft->stride;
}

/*
 * Whether (a, ap) sorts after (b, bp): addresses as 16 big-endian bytes,
 * then ports.  Branch-free: which side sends is a coin toss per packet.
 */
static inline unsigned
endpoint_after(const uint8_t *a, const uint8_t *b, uint16_t ap, uint16_t bp)
{
	uint64_t x[2], y[2];
#if defined(__x86_64__)
	unsigned long long t;
	unsigned char c;

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	/*
	 * It does when (b, bp) - (a, ap), one subtraction of 144 bits,
	 * borrows: a compare and two subtractions with borrow.
	 */
	c = _subborrow_u64(bp < ap, be64toh(y[1]), be64toh(x[1]), &t);
	return _subborrow_u64(c, be64toh(y[0]), be64toh(x[0]), &t);
#else
	unsigned __int128 u, v;

	memcpy(x, a, 16);
	memcpy(y, b, 16);
	u = (unsigned __int128)be64toh(x[0]) << 64 | be64toh(x[1]);
	v = (unsigned __int128)be64toh(y[0]) << 64 | be64toh(y[1]);
	return (unsigned)(u > v) | ((unsigned)(u == v) & (unsigned)(ap > bp));
#endif
}

/* Whether struct packet lays out the key's tail fields as rkey does. */
#define PKT_TAIL_LIKE_KEY						\
	(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&			\
	offsetof(struct packet, dport) == offsetof(struct packet, sport) + 2 && \
	offsetof(struct packet, af) == offsetof(struct packet, vlan) + 4 && \
	offsetof(struct packet, proto) == offsetof(struct packet, vlan) + 5 && \
	offsetof(struct packet, tos) == offsetof(struct packet, vlan) + 6 && \
	offsetof(struct packet, vlan) + 8 <= sizeof(struct packet))

/* Where the kept hash bits go in the key's last word. */
#define HASH_BITS(h)							\
	(((uint64_t)(h) & 0xffff) << 16 | ((uint64_t)(h) >> 16 & 0xff) << 56)

/* The ports the tracking level keeps, sport in the low half. */
static inline uint32_t
pkt_ports(const struct flowtable *ft, const struct packet *p)
{
	uint32_t ports;

	if (PKT_TAIL_LIKE_KEY)
		memcpy(&ports, &p->sport, 4);
	else
		ports = (uint32_t)p->sport | (uint32_t)p->dport << 16;
	return ports & ft->port_mask;
}

/*
 * The key's last 16 bytes as two words in memory order (little-endian):
 * ports and ifindex, then vlan, af, proto, tos, with the hash bytes zero.
 * The fields the tracking level ignores are masked off; ports are
 * pkt_ports()'.
 */
static inline void
key_tail(const struct flowtable *ft, const struct packet *p, uint32_t ports,
    unsigned swap, uint64_t *w0, uint64_t *w1)
{
	if (PKT_TAIL_LIKE_KEY) {
		memcpy(w1, &p->vlan, 8);
		*w1 &= ft->tail_mask;
	} else {
		*w1 = ((uint64_t)p->vlan | (uint64_t)p->af << 32 |
		    (uint64_t)p->proto << 40 | (uint64_t)p->tos << 48) &
		    ft->tail_mask;
	}
	/* A rotation by 0 or 16, written as one the compiler knows. */
	ports = ports >> (16 * swap) | ports << (-(16 * swap) & 31);
	*w0 = (uint64_t)ports | (uint64_t)(p->ifindex & ft->ifindex_mask) << 32;
}

/* Store the tail words into the key, its hash bytes zero. */
static inline void
key_set_tail(struct rkey *k, uint64_t w0, uint64_t w1)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(k->port, &w0, 8);
	memcpy(&k->vlan, &w1, 8);
#else
	k->port[0] = (uint16_t)w0;
	k->port[1] = (uint16_t)(w0 >> 16);
	k->ifindex = (uint32_t)(w0 >> 32);
	k->vlan = (uint16_t)w1;
	k->af = (uint8_t)(w1 >> 32);
	k->proto = (uint8_t)(w1 >> 40);
	k->tos = (uint8_t)(w1 >> 48);
	k->hash[0] = k->hash[1] = k->hash2 = 0;
#endif
}

/* A stored key's hash bits, for rec_bucket(). */
static inline void
key_set_hash(struct rkey *k, uint32_t hash)
{
	k->hash[0] = (uint8_t)hash;
	k->hash[1] = (uint8_t)(hash >> 8);
	k->hash2 = (uint8_t)(hash >> 16);
}

/* -T ether: the MACs in key order, zero-padded to a hash block. */
static inline void
key_macs(const struct packet *p, unsigned swap, uint8_t mac[16])
{
	memset(mac, 0, 16);
	if (p->has_mac) {
		memcpy(mac + 6 * swap, p->src_mac, 6);
		memcpy(mac + 6 * !swap, p->dst_mac, 6);
	}
}

/*
 * SipHash of the key, over its fields as words: an IPv4 key without the
 * 24 zero bytes of its address fields (20 bytes, three SipHash blocks),
 * an IPv6 one in 44.  The af and hash bytes are left out: the length
 * tells the families apart.
 */
static uint32_t
key_siphash(const struct flowtable *ft, const struct rkey *k,
    const uint8_t *mac)
{
	uint8_t buf[offsetof(struct rkey, hash) + 2 + 12];
	uint64_t w[5];
	uint32_t a0, a1, tail;

	/* vlan, proto, tos */
	tail = (uint32_t)k->vlan | (uint32_t)k->proto << 16 |
	    (uint32_t)k->tos << 24;
	if (ft->mac_off) {
		memcpy(buf, k, offsetof(struct rkey, hash));
		memcpy(buf + offsetof(struct rkey, hash), &k->proto, 2);
		memcpy(buf + offsetof(struct rkey, hash) + 2, mac, 12);
		return (uint32_t)siphash13(ft->hashkey, buf, sizeof(buf));
	}
	if (k->af == 4) {
		memcpy(&a0, k->addr[0], 4);
		memcpy(&a1, k->addr[1], 4);
		w[0] = (uint64_t)a0 | (uint64_t)a1 << 32;
		memcpy(&w[1], k->port, 8);		/* ports, ifindex */
		return (uint32_t)siphash13_words(&ft->sipkey, w, 2,
		    20ULL << 56 | tail);
	}
	memcpy(w, k->addr, 40);
	return (uint32_t)siphash13_words(&ft->sipkey, w, 5, 44ULL << 56 | tail);
}

#if defined(HAVE_AESHASH)
/*
 * aeshash of a key held as its address blocks and tail words, and its
 * MACs' block when not NULL.
 */
static inline __attribute__((target("aes"))) uint32_t
key_aeshash(const struct flowtable *ft, const uint8_t *lo, const uint8_t *hi,
    uint64_t w0, uint64_t w1, const uint8_t *mac)
{
	__m128i m;

	if (mac != NULL) {
		m = _mm_loadu_si128((const __m128i *)(const void *)mac);
		return aeshash_blocks(&ft->aeskey,
		    _mm_loadu_si128((const __m128i *)(const void *)lo),
		    _mm_loadu_si128((const __m128i *)(const void *)hi),
		    _mm_set_epi64x((long long)w1, (long long)w0), &m);
	}
	return aeshash_blocks(&ft->aeskey,
	    _mm_loadu_si128((const __m128i *)(const void *)lo),
	    _mm_loadu_si128((const __m128i *)(const void *)hi),
	    _mm_set_epi64x((long long)w1, (long long)w0), NULL);
}

static __attribute__((target("aes"))) uint32_t
rec_aeshash(const struct flowtable *ft, const struct rkey *k,
    const uint8_t *mac)
{
	uint64_t w0, w1;
	uint8_t m[16];

	memset(m, 0, sizeof(m));
	if (ft->mac_off)
		memcpy(m, mac, 12);
	memcpy(&w0, k->port, 8);
	memcpy(&w1, &k->vlan, 8);
	return key_aeshash(ft, k->addr[0], k->addr[1], w0,
	    w1 & ~HASH_BITS(HASH_KEPT), ft->mac_off ? m : NULL);
}
#endif

/* A stored key's hash, for removal from a table too large to keep it. */
static uint32_t
key_hash(const struct flowtable *ft, const struct rkey *k, const uint8_t *mac)
{
#if defined(HAVE_AESHASH)
	if (ft->aes)
		return rec_aeshash(ft, k, mac);
#endif
	return key_siphash(ft, k, mac);
}

/* A stored flow's bucket, from its key's hash bits when they suffice. */
static inline uint32_t
rec_bucket(const struct flowtable *ft, const struct rec *r)
{
	const uint8_t *h = r->key.hash;

	if (ft->mask <= HASH_KEPT)
		return ((uint32_t)h[0] | (uint32_t)h[1] << 8 |
		    (uint32_t)r->key.hash2 << 16) & ft->mask;
	return key_hash(ft, &r->key, rec_mac(ft, r)) & ft->mask;
}

/*
 * A stored key against a packet's, but for the hash bytes: 48 bytes
 * compared as wholes, without memcmp's search for the first difference,
 * in three vector compares where the CPU has them.  macs: the table keys
 * on MACs (ft->mac_off, a constant where inlined).
 */
static inline int
key_equal(const struct flowtable *ft, const struct rec *r,
    const struct rkey *k, const uint8_t *mac, int macs)
{
#if defined(__SSE2__)
	/* The hash bytes, all ones: they count as equal. */
	static const struct rkey any_hash = {
		.hash = { 0xff, 0xff }, .hash2 = 0xff
	};
	const __m128i *x = (const __m128i *)(const void *)&r->key;
	const __m128i *y = (const __m128i *)(const void *)k;
	const __m128i *b = (const __m128i *)(const void *)&any_hash;
	__m128i e;

	_Static_assert(offsetof(struct rkey, hash) >= 32 &&
	    offsetof(struct rkey, hash2) >= 32,
	    "hash bytes not in the key's last 16 bytes");
	e = _mm_and_si128(
	    _mm_cmpeq_epi8(_mm_loadu_si128(x), _mm_loadu_si128(y)),
	    _mm_cmpeq_epi8(_mm_loadu_si128(x + 1), _mm_loadu_si128(y + 1)));
	e = _mm_and_si128(e, _mm_or_si128(_mm_loadu_si128(b + 2),
	    _mm_cmpeq_epi8(_mm_loadu_si128(x + 2), _mm_loadu_si128(y + 2))));
	if (_mm_movemask_epi8(e) != 0xffff)
		return 0;
#else
	union {
		struct rkey	k;
		uint64_t	w[6];
	} m;
	uint64_t x[6], y[6], d = 0;
	unsigned i;

	/* A constant the compiler folds: ones but for the hash bytes. */
	memset(&m, 0xff, sizeof(m));
	m.k.hash[0] = m.k.hash[1] = m.k.hash2 = 0;
	memcpy(x, &r->key, sizeof(x));
	memcpy(y, k, sizeof(y));
	for (i = 0; i < 6; i++)
		d |= (x[i] ^ y[i]) & m.w[i];
	if (d != 0)
		return 0;
#endif
	return !macs || memcmp(rec_mac(ft, r), mac, 12) == 0;
}

/*
 * TCP is tested first: a packet reclassifies its flow only when it brings
 * a TCP flag the flow has not seen.
 */
static inline enum flow_class
flow_classify(const struct flowtable *ft, const struct rec *r)
{
	uint8_t f0 = r->tcp_flags[0], f1 = r->tcp_flags[1];

	if (r->key.proto == 6) {
		if (((f0 | f1) & TH_RST) && ft->cfg.idle_ms[FC_TCP_RST])
			return FC_TCP_RST;
		if ((f0 & TH_FIN) && (f1 & TH_FIN) &&
		    ft->cfg.idle_ms[FC_TCP_FIN])
			return FC_TCP_FIN;
		return FC_TCP;
	}
	switch (r->key.proto) {
	case 17:
		return FC_UDP;
	case 1:
	case 58:
		return FC_ICMP;
	}
	return FC_GENERAL;
}

/*
 * One side of the public view, written straight through: a side without
 * packets has zero octets, flags and egress already, and only its times,
 * held as the empty offsets, are zeroed here.
 */
static inline __attribute__((always_inline)) void
side_flow(struct flow_side *s, const struct rec *r, int i)
{
	uint32_t np = r->packets[i];

	s->packets = np;
	s->octets = r->octets[i];
	s->first_ms = np ? rec_abs(r, r->first[i]) : 0;
	s->last_ms = np ? rec_abs(r, r->last[i]) : 0;
	s->tcp_flags = r->tcp_flags[i];
	s->egress = r->egress[i];
}

/*
 * A new flow's class: flow_classify() of a record with one packet, whose
 * flags alone cannot say FIN for both sides.
 */
static inline enum flow_class
flow_classify_first(const struct flowtable *ft, uint8_t proto,
    uint8_t tcp_flags)
{
	static const uint8_t by_proto[256] = {
		[6] = FC_TCP, [17] = FC_UDP, [1] = FC_ICMP, [58] = FC_ICMP,
	};
	enum flow_class cls = (enum flow_class)by_proto[proto];

	if (cls == FC_TCP && (tcp_flags & TH_RST) &&
	    ft->cfg.idle_ms[FC_TCP_RST])
		cls = FC_TCP_RST;
	return cls;
}

/*
 * The public view of a record, for the expiry callback and foreach.  Each
 * field is written once, without clearing the struct first: a memset of
 * its 176 bytes cost more than the rest of the copy.
 */
static inline __attribute__((always_inline)) const struct flow *
rec_flow(const struct flowtable *ft, const struct rec *r, union flowbuf *fb)
{
	struct flow *f = &fb->f;
	uint64_t afpad = r->key.af;

	memcpy(f->key.addr, r->key.addr, sizeof(f->key.addr));
	if (ft->mac_off)
		memcpy(f->key.mac, rec_mac(ft, r), sizeof(f->key.mac));
	else
		memset(f->key.mac, 0, sizeof(f->key.mac));
	f->key.port[0] = r->key.port[0];
	f->key.port[1] = r->key.port[1];
	f->key.ifindex = r->key.ifindex;
	f->key.vlan = r->key.vlan;
	f->key.proto = r->key.proto;
	f->key.tos = r->key.tos;
	/* af and the pad after it, one word. */
	memcpy(&f->key.af, &afpad, 8);
	side_flow(&f->side[0], r, 0);
	side_flow(&f->side[1], r, 1);
	f->inner_vlan = r->inner_vlan;
	f->cls = r->cls;
	f->nmpls = r->nmpls;
	if (r->nmpls > 0)
		memcpy(f->mpls, rec_mpls(ft, r), r->nmpls * sizeof(uint32_t));
	return f;
}

static void
rec_release(struct flowtable *ft, uint32_t idx, int export,
    enum expiry_reason why)
{
	struct rec *r = rec_at(ft, idx);
	union flowbuf fb;
	uint32_t *pp;

	if (export) {
		ft->expired(ft->arg, rec_flow(ft, r, &fb), why);
		ft->stats.expired[why]++;
		ft->stats.flows_expired++;
	}
	list_remove(ft, L_IDLE, idx);
	list_remove(ft, L_ACTIVE, idx);
	pp = &ft->buckets[rec_bucket(ft, r)];
	while (*pp != idx + 1)
		pp = &rec_at(ft, *pp - 1)->hnext;
	*pp = r->hnext;
	r->hnext = ft->free_head;
	r->cls = CLS_FREE;
	ft->free_head = idx;
	ft->stats.active--;
}

/* Fetch what releasing a flow will write: its neighbours and bucket. */
static void
rec_prefetch_release(const struct flowtable *ft, const struct rec *r)
{
	__builtin_prefetch(rec_at(ft, r->aprev), 1);
	__builtin_prefetch(rec_at(ft, r->anext), 1);
	__builtin_prefetch(&ft->buckets[rec_bucket(ft, r)], 1);
}

/*
 * The least recently used flow, from the first records of each idle list:
 * a list is in stamp order and a stamp is at most RESTAMP_MS older than
 * its flow's last packet, so the oldest flows are among them.
 */
static uint32_t
rec_lru(const struct flowtable *ft)
{
	uint32_t best = NIL, idx, next, i, k;
	uint64_t best_ms = UINT64_MAX, last;
	const struct rec *r;

	for (i = 0; i < FC_NCLASS; i++) {
		for (idx = list_head(ft, &ft->idle[i], L_IDLE), k = 0;
		    idx != ft->idle[i].s && k < LRU_SCAN;
		    idx = next, k++) {
			r = rec_at(ft, idx);
			next = ft->ilink[idx].next;
			if (rec_abs(r, r->stamp) >= best_ms)
				break;
			last = rec_abs(r, rec_last(r));
			if (last < best_ms) {
				best_ms = last;
				best = idx;
			}
		}
	}
	return best;
}

/* A record for a new flow: a freed one, a fresh one, or the LRU's. */
static uint32_t
rec_alloc(struct flowtable *ft)
{
	uint32_t idx;

	if (ft->free_head == NIL) {
		if (ft->unused < ft->cfg.max_flows)
			return ft->unused++;
		/* Full: export the least recently used flow early. */
		rec_release(ft, rec_lru(ft), 1, EXP_TABLE_FULL);
	}
	idx = ft->free_head;
	ft->free_head = rec_at(ft, idx)->hnext;
	/* The next new flow's record: freed a while ago, likely cold. */
	if (ft->free_head != NIL)
		__builtin_prefetch(rec_at(ft, ft->free_head), 1);
	return idx;
}

/*
 * Whether a flow whose latest packet is at offset last must leave before
 * a packet at offset d joins it: its idle or active timeout has passed,
 * the packet is beyond the reach of 32-bit offsets, or a packet counter
 * is full.
 */
static inline __attribute__((always_inline)) int
rec_due(const struct flowtable *ft, const struct rec *r, int64_t d,
    int32_t last, int side, enum expiry_reason *why)
{
	if ((int64_t)last + ft->cfg.idle_ms[r->cls] <= d) {
		*why = idle_reason[r->cls];
		return 1;
	}
	*why = EXP_ACTIVE;
	return (int64_t)rec_first(r) + (int64_t)ft->cfg.maxlife_ms <= d ||
	    (uint64_t)d + OFF_MAX > 2 * (uint64_t)OFF_MAX ||
	    r->packets[side] == UINT32_MAX;
}

/*
 * More buckets, BUCKETS_GROW times as many (up to max_buckets), once the
 * flows outnumber them.  Each flow's bucket comes from its key's hash
 * bits; the pool is read in order, which the cache can predict.  Without
 * memory for them the table keeps its buckets, longer chains and all.
 */
static __attribute__((noinline, cold)) void
buckets_grow(struct flowtable *ft)
{
	uint32_t n = ft->mask + 1, *nb, idx, b;
	struct rec *r;

	n = ft->max_buckets / n > BUCKETS_GROW ? n * BUCKETS_GROW :
	    ft->max_buckets;
	if ((nb = calloc(n, sizeof(*nb))) == NULL) {
		log_warn("flow table: no memory for %u hash buckets; keeping "
		    "%u, with longer chains", n, ft->mask + 1);
		ft->max_buckets = ft->mask + 1;
		return;
	}
	free(ft->buckets);
	ft->buckets = nb;
	ft->mask = n - 1;
	for (idx = 0; idx < ft->unused; idx++) {
		r = rec_at(ft, idx);
		if (r->cls == CLS_FREE)
			continue;
		b = rec_bucket(ft, r);
		r->hnext = nb[b];
		nb[b] = idx + 1;
	}
}

/*
 * A packet's key, side and hash, worked out ahead of its turn: 64 bytes,
 * so a slot is a shift away.  -T ether's MACs are kept beside.  The hash,
 * not the bucket: a new flow may grow the table before the packets
 * prepared after it have their turn.
 */
struct ahead {
	struct rkey	key;
	uint32_t	hash;
	uint32_t	side;
	uint8_t		unused[8];
};

_Static_assert(sizeof(struct ahead) == 64, "struct ahead is not 64 bytes");

/*
 * A new flow for the packet.  Kept out of line with the other rare paths
 * (a late packet, a move on the idle lists), so the common case, a packet
 * of a known flow, is short.
 */
static __attribute__((noinline)) uint32_t
flow_create(struct flowtable *ft, const struct packet *pkt,
    const struct ahead *a, const uint8_t *mac)
{
	uint32_t idx = rec_alloc(ft), b;
	struct rec *r = rec_at(ft, idx);
	int side = a->side;
	unsigned n;

	/*
	 * Every field is set here (the lists set their links), without a
	 * memset of the record first.  Labels past nmpls are never read.
	 */
	r->key = a->key;
	key_set_hash(&r->key, a->hash);
	if (ft->mac_off)
		memcpy(rec_mac(ft, r), mac, 12);
	r->stamp = 0;
	r->base_ms = pkt->ts_ms;
	r->first[side] = r->last[side] = 0;
	r->first[!side] = OFF_EMPTY_FIRST;
	r->last[!side] = OFF_EMPTY_LAST;
	r->octets[0] = r->octets[1] = 0;
	r->packets[0] = r->packets[1] = 0;
	r->egress[0] = r->egress[1] = 0;
	/* The bucket is read now: making room may have changed it. */
	b = a->hash & ft->mask;
	r->hnext = ft->buckets[b];
	ft->buckets[b] = idx + 1;
	r->inner_vlan = pkt->inner_vlan;
	n = pkt->nmpls < ft->cfg.mpls_labels ? pkt->nmpls :
	    ft->cfg.mpls_labels;
	if (n > 0)
		memcpy(rec_mpls(ft, r), pkt->mpls, n * sizeof(uint32_t));
	r->nmpls = (uint8_t)n;
	r->tcp_flags[side] = pkt->tcp_flags;
	r->tcp_flags[!side] = 0;
	r->cls = (uint8_t)flow_classify_first(ft, a->key.proto,
	    pkt->tcp_flags);
	/* Its first packet is its stamp and its first: both at base_ms. */
	list_insert(ft, &ft->idle[r->cls], L_IDLE, idx, pkt->ts_ms);
	list_insert(ft, &ft->active, L_ACTIVE, idx, pkt->ts_ms);
	ft->stats.flows_by_proto[pkt->proto]++;
	if (++ft->stats.active > ft->mask && ft->mask < ft->max_buckets - 1)
		buckets_grow(ft);
	return idx;
}

/* A late packet: the flow began earlier, so it moves up the active list. */
static __attribute__((noinline)) void
flow_began_earlier(struct flowtable *ft, uint32_t idx, int side, int32_t off)
{
	struct rec *r = rec_at(ft, idx);

	list_remove(ft, L_ACTIVE, idx);
	r->first[side] = off;
	list_insert(ft, &ft->active, L_ACTIVE, idx, rec_order(r, L_ACTIVE));
}

/* A new class, or a stamp RESTAMP_MS old: to the idle list's tail. */
static __attribute__((noinline)) void
flow_restamp(struct flowtable *ft, uint32_t idx, enum flow_class cls,
    int32_t last)
{
	struct rec *r = rec_at(ft, idx);

	list_remove(ft, L_IDLE, idx);
	r->cls = (uint8_t)cls;
	r->stamp = last;
	list_insert(ft, &ft->idle[cls], L_IDLE, idx, rec_abs(r, last));
}

static inline __attribute__((always_inline)) void
account_one(struct flowtable *ft, const struct packet *pkt,
    const struct ahead *a, const uint8_t *mac, int macs)
{
	struct rec *r = NULL;
	uint32_t idx;
	int32_t off, last;
	int64_t d = 0;
	int side = a->side;
	uint8_t newflags;
	enum flow_class cls;
	enum expiry_reason why;

	for (idx = ft->buckets[a->hash & ft->mask]; idx != 0; idx = r->hnext) {
		r = rec_at(ft, idx - 1);
		if (key_equal(ft, r, &a->key, mac, macs))
			break;
	}
	if (idx != 0) {
		idx--;
		d = (int64_t)pkt->ts_ms - (int64_t)r->base_ms;
		last = rec_last(r);
		if (rec_due(ft, r, d, last, side, &why)) {
			rec_release(ft, idx, 1, why);
			idx = NIL;
		}
	} else
		idx = NIL;

	if (idx == NIL) {
		idx = flow_create(ft, pkt, a, mac);
		r = rec_at(ft, idx);
		last = 0;
	} else {
		off = (int32_t)d;
		if (off < r->first[side]) {
			if (off < rec_first(r))
				flow_began_earlier(ft, idx, side, off);
			else
				r->first[side] = off;
		}
		if (off > r->last[side])
			r->last[side] = off;
		last = off > last ? off : last;
	}

	/* Only a TCP flag not seen before can change the flow's class. */
	newflags = pkt->tcp_flags & ~r->tcp_flags[side];
	r->packets[side]++;
	r->octets[side] += pkt->octets;
	r->tcp_flags[side] |= pkt->tcp_flags;
	r->egress[side] = pkt->egress;
	ft->stats.packets_by_proto[pkt->proto]++;
	ft->stats.octets_by_proto[pkt->proto] += pkt->octets;

	cls = newflags ? flow_classify(ft, r) : r->cls;
	/* A stamp is never after last, so their distance fits 32 bits. */
	if (cls != r->cls ||
	    (uint32_t)last - (uint32_t)r->stamp >= RESTAMP_MS)
		flow_restamp(ft, idx, cls, last);
}

/*
 * The packet's canonical key, its side of it and its hash.  aes
 * and macs (the table keys on MACs) are constants where this is inlined,
 * so each case gets its own copy.
 */
static inline __attribute__((always_inline)) void
ahead_prepare(const struct flowtable *ft, const struct packet *p,
    struct ahead *a, uint8_t mac[16], int aes, int macs)
{
	const uint8_t *lo, *hi;
	uint64_t w0, w1;
	unsigned swap;
	uint32_t h, ports = pkt_ports(ft, p);

	swap = endpoint_after(p->src, p->dst, (uint16_t)ports,
	    (uint16_t)(ports >> 16));
	/*
	 * Arithmetic, not a branch: the swap is unpredictable.  Offsets from
	 * the packet itself, as dst is not within src's bounds.
	 */
	lo = (const uint8_t *)p + offsetof(struct packet, src) + 16 * swap;
	hi = (const uint8_t *)p + offsetof(struct packet, dst) - 16 * swap;
	memcpy(a->key.addr[0], lo, 16);
	memcpy(a->key.addr[1], hi, 16);
	key_tail(ft, p, ports, swap, &w0, &w1);
	key_set_tail(&a->key, w0, w1);
	if (macs)
		key_macs(p, swap, mac);
#if defined(HAVE_AESHASH)
	if (aes)
		h = key_aeshash(ft, lo, hi, w0, w1, macs ? mac : NULL);
	else
#endif
	{
		(void)aes;
		h = key_siphash(ft, &a->key, mac);
	}
	a->side = swap;
	a->hash = h;
	__builtin_prefetch(&ft->buckets[h & ft->mask]);
}

/* Fetch the first record of the packet's bucket, the likely match. */
static inline void
ahead_fetch(const struct flowtable *ft, const struct ahead *a)
{
	uint32_t idx = ft->buckets[a->hash & ft->mask];
	const struct rec *r;

	if (idx != 0) {
		r = rec_at(ft, idx - 1);
		__builtin_prefetch(r);
		__builtin_prefetch(&r->key);
	}
}

/*
 * The same as accounting each packet in turn.  A table larger than the
 * caches costs a miss on the bucket and another on the record for most
 * packets; a pipeline fetches both well before a packet's turn, so the
 * misses of consecutive packets overlap instead of adding up.  What it
 * fetches is only a hint: each packet still looks its flow up in turn.
 */
static inline __attribute__((always_inline)) void
batch_run(struct flowtable *ft, const struct packet *pkts, size_t n, int aes,
    int macs)
{
	struct ahead a[AHEAD];
	uint8_t mac[AHEAD][16];		/* -T ether; the last 4 bytes zero */
	size_t i, warm = n < AHEAD ? n : AHEAD;

	/*
	 * Packet i is prepared at step i, fetched at i + AHEAD / 2 and
	 * accounted at i + AHEAD, leaving its slot before packet i + AHEAD
	 * takes it.  The steady state is a loop of its own, free of tests.
	 */
	for (i = 0; i < warm; i++) {
		if (i >= AHEAD / 2)
			ahead_fetch(ft, &a[i - AHEAD / 2]);
		ahead_prepare(ft, &pkts[i], &a[i], mac[i], aes, macs);
	}
	for (; i < n; i++) {
		account_one(ft, &pkts[i - AHEAD], &a[i % AHEAD],
		    mac[i % AHEAD], macs);
		ahead_fetch(ft, &a[(i - AHEAD / 2) % AHEAD]);
		ahead_prepare(ft, &pkts[i], &a[i % AHEAD], mac[i % AHEAD],
		    aes, macs);
	}
	for (; i < n + AHEAD; i++) {
		if (i >= AHEAD)
			account_one(ft, &pkts[i - AHEAD], &a[i % AHEAD],
			    mac[i % AHEAD], macs);
		if (i >= AHEAD / 2 && i - AHEAD / 2 < n)
			ahead_fetch(ft, &a[(i - AHEAD / 2) % AHEAD]);
	}
}

static void
batch_siphash(struct flowtable *ft, const struct packet *pkts, size_t n)
{
	batch_run(ft, pkts, n, 0, ft->mac_off != 0);
}

#if defined(HAVE_AESHASH)
static __attribute__((target("aes"))) void
batch_aeshash(struct flowtable *ft, const struct packet *pkts, size_t n)
{
	/* -T ether apart: other tables test for MACs nowhere per packet. */
	if (ft->mac_off)
		batch_run(ft, pkts, n, 1, 1);
	else
		batch_run(ft, pkts, n, 1, 0);
}
#endif

void
flowtable_account_batch(struct flowtable *ft, const struct packet *pkts,
    size_t n)
{
#if defined(HAVE_AESHASH)
	if (ft->aes) {
		batch_aeshash(ft, pkts, n);
		return;
	}
#endif
	batch_siphash(ft, pkts, n);
}

void
flowtable_account(struct flowtable *ft, const struct packet *pkt)
{
	flowtable_account_batch(ft, pkt, 1);
}

/*
 * The flows of one idle list due at now_ms.  The links ahead are read
 * first and their records fetched together, then checked in list order,
 * and the due ones' neighbours fetched before any is released, so the
 * misses of a large table overlap instead of following one another.
 */
static uint32_t
expire_class(struct flowtable *ft, int cls, uint64_t now_ms)
{
	uint32_t ahead[EXPIRE_AHEAD], due[EXPIRE_AHEAD], n = 0, m, k, d, i, idx;
	uint32_t end = ft->idle[cls].s;
	uint32_t timeout = ft->cfg.idle_ms[cls];
	const struct rec *r;

	idx = list_head(ft, &ft->idle[cls], L_IDLE);
	for (;;) {
		/*
		 * Always EXPIRE_AHEAD links, around the circle past the
		 * sentinel if the list is shorter: the check stops there.
		 */
		for (m = 0; m < EXPIRE_AHEAD; m++) {
			ahead[m] = idx;
			__builtin_prefetch(rec_at(ft, idx));
			idx = ft->ilink[idx].next;
		}
		for (k = d = 0; k < m; k++) {
			if (ahead[k] == end)
				break;
			r = rec_at(ft, ahead[k]);
			if (rec_abs(r, r->stamp) + timeout > now_ms)
				break;
			/* Stamped long enough ago, but maybe busy since. */
			if (rec_abs(r, rec_last(r)) + timeout <= now_ms) {
				rec_prefetch_release(ft, r);
				due[d++] = ahead[k];
			}
		}
		/* idx is none of them: it stays valid as they go. */
		for (i = 0; i < d; i++)
			rec_release(ft, due[i], 1, idle_reason[cls]);
		n += d;
		if (k < m)
			break;
	}
	return n;
}

uint32_t
flowtable_expire(struct flowtable *ft, uint64_t now_ms)
{
	uint32_t n = 0, idx;
	int cls;

	for (cls = 0; cls < FC_NCLASS; cls++)
		n += expire_class(ft, cls, now_ms);
	while ((idx = list_head(ft, &ft->active, L_ACTIVE)) != ft->active.s &&
	    rec_order(rec_at(ft, idx), L_ACTIVE) + ft->cfg.maxlife_ms <=
	    now_ms) {
		rec_release(ft, idx, 1, EXP_ACTIVE);
		n++;
	}
	return n;
}

/*
 * Every flow leaves, oldest first.  Nothing needs unlinking one by one:
 * the table starts over empty, which at shutdown with a million flows
 * saves a miss per list neighbour and bucket of each.
 */
static inline __attribute__((always_inline)) void
release_one(struct flowtable *ft, const struct rec *r, int export, int clear)
{
	union flowbuf fb;

	if (export) {
		ft->expired(ft->arg, rec_flow(ft, r, &fb), EXP_FORCED);
		ft->stats.expired[EXP_FORCED]++;
		ft->stats.flows_expired++;
	} else {
		ft->stats.flows_deleted++;
		ft->stats.packets_deleted += (uint64_t)r->packets[0] +
		    r->packets[1];
		ft->stats.octets_deleted += r->octets[0] + r->octets[1];
	}
	if (clear)
		ft->buckets[rec_bucket(ft, r)] = 0;
}

static uint32_t
release_all(struct flowtable *ft, int export)
{
	uint32_t n = 0, idx, i, nbuckets = ft->mask + 1, unused = ft->unused;
	const struct rec *r;
	/* A mostly live pool is read in order, which the cache can predict. */
	int scan = ft->stats.active >= unused / 2;
	/* Few flows: clear their buckets; else clear them all. */
	int clear = ft->stats.active < nbuckets / 16;

	if (scan) {
		for (idx = 0; idx < unused; idx++) {
			r = rec_at(ft, idx);
			if (r->cls == CLS_FREE)
				continue;
			release_one(ft, r, export, clear);
			n++;
		}
	} else {
		for (idx = list_head(ft, &ft->active, L_ACTIVE);
		    idx != ft->active.s; idx = r->anext) {
			r = rec_at(ft, idx);
			release_one(ft, r, export, clear);
			n++;
		}
	}
	if (!clear)
		memset(ft->buckets, 0, (size_t)nbuckets * sizeof(*ft->buckets));
	for (i = 0; i < FC_NCLASS; i++)
		list_init(ft, &ft->idle[i], L_IDLE);
	list_init(ft, &ft->active, L_ACTIVE);
	ft->free_head = NIL;
	peak_update(ft);
	ft->unused = 0;
	ft->stats.active = 0;
	return n;
}

uint32_t
flowtable_expire_all(struct flowtable *ft)
{
	return release_all(ft, 1);
}

uint32_t
flowtable_delete_all(struct flowtable *ft)
{
	return release_all(ft, 0);
}

void
flowtable_foreach(const struct flowtable *ft,
    void (*fn)(void *arg, const struct flow *f), void *arg)
{
	union flowbuf fb;
	uint32_t idx, next;

	for (idx = list_head(ft, &ft->active, L_ACTIVE); idx != ft->active.s;
	    idx = next) {
		next = rec_at(ft, idx)->anext;
		fn(arg, rec_flow(ft, rec_at(ft, idx), &fb));
	}
}
