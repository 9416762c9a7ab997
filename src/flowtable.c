/*
 * Flow table.  Records live in one pool allocated at start-up; free
 * records are chained through hnext.  Every flow sits on two intrusive
 * lists: the idle list of its timeout class, kept in last-packet order by
 * moving a flow to the tail on each packet, and the active list, kept in
 * first-packet order.  Since every flow of a list shares one timeout, the
 * heads are the next to expire and expiry never scans live flows.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "flowtable.h"
#include "log.h"
#include "siphash.h"

#define NIL		UINT32_MAX
#define L_IDLE		0
#define L_ACTIVE	1
#define TH_FIN		0x01
#define TH_RST		0x04

struct flist {
	uint32_t	head;
	uint32_t	tail;
};

struct flowtable {
	struct flowtable_config	 cfg;
	struct flowtable_stats	 stats;
	flow_expired_fn		 expired;
	void			*arg;
	uint8_t			*pool;
	size_t			 stride;
	uint32_t		*buckets;
	uint32_t		 mask;
	uint32_t		 free_head;
	struct flist		 idle[FC_NCLASS];
	struct flist		 active;
	uint8_t			 hashkey[16];
};

#define REASON_NAME(name, str) str,
static const char *const reason_names[] = { EXPIRY_REASONS(REASON_NAME) };
#undef REASON_NAME

static const char *const class_names[FC_NCLASS] = {
	[FC_GENERAL] = "general", [FC_TCP] = "tcp", [FC_TCP_RST] = "tcp.rst",
	[FC_TCP_FIN] = "tcp.fin", [FC_UDP] = "udp", [FC_ICMP] = "icmp",
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

static inline struct flow *
flow_at(const struct flowtable *ft, uint32_t idx)
{
	return (struct flow *)(void *)(ft->pool + (size_t)idx * ft->stride);
}

static inline uint32_t
flow_index(const struct flowtable *ft, const struct flow *f)
{
	return (uint32_t)(((const uint8_t *)f - ft->pool) / ft->stride);
}

static void
list_append(struct flowtable *ft, struct flist *l, int which, uint32_t idx)
{
	struct flow *f = flow_at(ft, idx);

	f->next[which] = NIL;
	f->prev[which] = l->tail;
	if (l->tail != NIL)
		flow_at(ft, l->tail)->next[which] = idx;
	else
		l->head = idx;
	l->tail = idx;
}

static void
list_remove(struct flowtable *ft, struct flist *l, int which, uint32_t idx)
{
	struct flow *f = flow_at(ft, idx);

	if (f->prev[which] != NIL)
		flow_at(ft, f->prev[which])->next[which] = f->next[which];
	else
		l->head = f->next[which];
	if (f->next[which] != NIL)
		flow_at(ft, f->next[which])->prev[which] = f->prev[which];
	else
		l->tail = f->prev[which];
}

static uint32_t
pow2_at_least(uint32_t n)
{
	uint32_t p = 1;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

struct flowtable *
flowtable_new(const struct flowtable_config *cfg, flow_expired_fn expired,
    void *arg)
{
	struct flowtable *ft;
	uint32_t i, nbuckets;

	if (cfg->max_flows == 0 || cfg->max_flows >= NIL)
		return NULL;
	if ((ft = calloc(1, sizeof(*ft))) == NULL)
		return NULL;
	ft->cfg = *cfg;
	ft->expired = expired;
	ft->arg = arg;
	ft->stride = sizeof(struct flow) + cfg->mpls_labels * sizeof(uint32_t);
	ft->stride = (ft->stride + 7) & ~(size_t)7;
	/* Two buckets per flow keeps chains short at a full table. */
	nbuckets = pow2_at_least(cfg->max_flows * 2u);
	ft->mask = nbuckets - 1;
	ft->pool = malloc(ft->stride * cfg->max_flows);
	ft->buckets = malloc(sizeof(*ft->buckets) * nbuckets);
	if (ft->pool == NULL || ft->buckets == NULL)
		goto fail;
	for (i = 0; i < nbuckets; i++)
		ft->buckets[i] = NIL;
	/* The free list walks the pool forwards, touching pages in order. */
	for (i = 0; i < cfg->max_flows; i++)
		flow_at(ft, i)->hnext = i + 1 < cfg->max_flows ? i + 1 : NIL;
	ft->free_head = 0;
	for (i = 0; i < FC_NCLASS; i++)
		ft->idle[i].head = ft->idle[i].tail = NIL;
	ft->active.head = ft->active.tail = NIL;
	if (getrandom(ft->hashkey, sizeof(ft->hashkey), 0) !=
	    (ssize_t)sizeof(ft->hashkey))
		log_warn("getrandom: flow hash key is not random");
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

const struct flowtable_stats *
flowtable_stats(const struct flowtable *ft)
{
	return &ft->stats;
}

size_t
flowtable_record_size(const struct flowtable *ft)
{
	return ft->stride;
}

/* Build the canonical key; returns which side of it the sender is. */
static int
make_key(const struct flowtable *ft, const struct packet *p,
    struct flow_key *k)
{
	enum track_level t = ft->cfg.track;
	uint16_t sport = 0, dport = 0;
	int c, swap;

	memset(k, 0, sizeof(*k));
	k->af = p->af;
	if (t != TRACK_IP)
		k->proto = p->proto;
	if (t == TRACK_FULL || t == TRACK_PORT || t == TRACK_VLAN ||
	    t == TRACK_ETHER) {
		sport = p->sport;
		dport = p->dport;
	}
	if (t == TRACK_FULL || t == TRACK_VLAN || t == TRACK_ETHER) {
		k->tos = p->tos;
		k->ifindex = p->ifindex;
	}
	if (t == TRACK_VLAN || t == TRACK_ETHER)
		k->vlan = p->vlan;

	c = memcmp(p->src, p->dst, sizeof(p->src));
	swap = c > 0 || (c == 0 && sport > dport);
	memcpy(k->addr[swap], p->src, sizeof(p->src));
	memcpy(k->addr[!swap], p->dst, sizeof(p->dst));
	k->port[swap] = sport;
	k->port[!swap] = dport;
	if (t == TRACK_ETHER && p->has_mac) {
		memcpy(k->mac[swap], p->src_mac, 6);
		memcpy(k->mac[!swap], p->dst_mac, 6);
	}
	return swap;
}

static enum flow_class
flow_classify(const struct flowtable *ft, const struct flow *f)
{
	uint8_t f0 = f->side[0].tcp_flags, f1 = f->side[1].tcp_flags;

	switch (f->key.proto) {
	case 6:
		if (((f0 | f1) & TH_RST) && ft->cfg.idle_ms[FC_TCP_RST])
			return FC_TCP_RST;
		if ((f0 & TH_FIN) && (f1 & TH_FIN) && ft->cfg.idle_ms[FC_TCP_FIN])
			return FC_TCP_FIN;
		return FC_TCP;
	case 17:
		return FC_UDP;
	case 1:
	case 58:
		return FC_ICMP;
	}
	return FC_GENERAL;
}

static void
flow_release(struct flowtable *ft, uint32_t idx, int export,
    enum expiry_reason why)
{
	struct flow *f = flow_at(ft, idx);
	uint32_t *pp;

	if (export) {
		ft->expired(ft->arg, f, why);
		ft->stats.expired[why]++;
		ft->stats.flows_expired++;
	}
	list_remove(ft, &ft->idle[f->cls], L_IDLE, idx);
	list_remove(ft, &ft->active, L_ACTIVE, idx);
	pp = &ft->buckets[f->hash & ft->mask];
	while (*pp != idx)
		pp = &flow_at(ft, *pp)->hnext;
	*pp = f->hnext;
	f->hnext = ft->free_head;
	ft->free_head = idx;
	ft->stats.active--;
}

/* The least recently used flow: the oldest head of the idle lists. */
static uint32_t
flow_lru(const struct flowtable *ft)
{
	uint32_t best = NIL, i;
	uint64_t best_ms = UINT64_MAX, last;
	const struct flow *f;

	for (i = 0; i < FC_NCLASS; i++) {
		if (ft->idle[i].head == NIL)
			continue;
		f = flow_at(ft, ft->idle[i].head);
		last = f->side[0].last_ms > f->side[1].last_ms ?
		    f->side[0].last_ms : f->side[1].last_ms;
		if (last < best_ms) {
			best_ms = last;
			best = ft->idle[i].head;
		}
	}
	return best;
}

void
flowtable_account(struct flowtable *ft, const struct packet *pkt)
{
	struct flow_key key;
	struct flow *f;
	struct flow_side *s;
	uint32_t idx, *bucket, h;
	int side;
	enum flow_class cls;
	unsigned n;

	side = make_key(ft, pkt, &key);
	h = (uint32_t)siphash13(ft->hashkey, &key, sizeof(key));
	bucket = &ft->buckets[h & ft->mask];
	for (idx = *bucket; idx != NIL; idx = f->hnext) {
		f = flow_at(ft, idx);
		if (f->hash == h && memcmp(&f->key, &key, sizeof(key)) == 0)
			break;
	}

	if (idx == NIL) {
		if (ft->free_head == NIL) {
			/* Full: export the least recently used flow early. */
			flow_release(ft, flow_lru(ft), 1, EXP_TABLE_FULL);
			bucket = &ft->buckets[h & ft->mask];
		}
		idx = ft->free_head;
		f = flow_at(ft, idx);
		ft->free_head = f->hnext;
		memset(f, 0, ft->stride);
		f->key = key;
		f->hash = (uint32_t)h;
		f->hnext = *bucket;
		*bucket = idx;
		f->inner_vlan = pkt->inner_vlan;
		n = pkt->nmpls < ft->cfg.mpls_labels ? pkt->nmpls :
		    ft->cfg.mpls_labels;
		memcpy(f->mpls, pkt->mpls, n * sizeof(uint32_t));
		f->nmpls = (uint8_t)n;
		f->cls = FC_GENERAL;
		list_append(ft, &ft->idle[FC_GENERAL], L_IDLE, idx);
		list_append(ft, &ft->active, L_ACTIVE, idx);
		ft->stats.flows_created++;
		ft->stats.flows_by_proto[pkt->proto]++;
		if (++ft->stats.active > ft->stats.peak_active)
			ft->stats.peak_active = ft->stats.active;
	}

	s = &f->side[side];
	if (s->packets == 0 || pkt->ts_ms < s->first_ms)
		s->first_ms = pkt->ts_ms;
	if (pkt->ts_ms > s->last_ms)
		s->last_ms = pkt->ts_ms;
	s->packets++;
	s->octets += pkt->octets;
	s->tcp_flags |= pkt->tcp_flags;
	s->egress = pkt->egress;
	ft->stats.packets++;
	ft->stats.octets += pkt->octets;
	ft->stats.packets_by_proto[pkt->proto]++;
	ft->stats.octets_by_proto[pkt->proto] += pkt->octets;

	cls = flow_classify(ft, f);
	/*
	 * A late packet leaves the flow where its last time puts it: moved
	 * to the tail it would hide behind newer flows and expire late.
	 */
	if (cls == f->cls && (pkt->ts_ms < f->side[0].last_ms ||
	    pkt->ts_ms < f->side[1].last_ms))
		return;
	list_remove(ft, &ft->idle[f->cls], L_IDLE, idx);
	f->cls = (uint8_t)cls;
	list_append(ft, &ft->idle[cls], L_IDLE, idx);
}

static uint64_t
flow_first(const struct flow *f)
{
	if (f->side[0].packets == 0)
		return f->side[1].first_ms;
	if (f->side[1].packets == 0)
		return f->side[0].first_ms;
	return f->side[0].first_ms < f->side[1].first_ms ?
	    f->side[0].first_ms : f->side[1].first_ms;
}

static uint64_t
flow_last(const struct flow *f)
{
	return f->side[0].last_ms > f->side[1].last_ms ?
	    f->side[0].last_ms : f->side[1].last_ms;
}

uint32_t
flowtable_expire(struct flowtable *ft, uint64_t now_ms)
{
	static const enum expiry_reason idle_reason[FC_NCLASS] = {
		[FC_GENERAL] = EXP_IDLE, [FC_TCP] = EXP_IDLE,
		[FC_TCP_RST] = EXP_TCP_RST, [FC_TCP_FIN] = EXP_TCP_FIN,
		[FC_UDP] = EXP_IDLE, [FC_ICMP] = EXP_IDLE,
	};
	uint32_t n = 0, idx, timeout;
	int cls;

	for (cls = 0; cls < FC_NCLASS; cls++) {
		timeout = ft->cfg.idle_ms[cls];
		while ((idx = ft->idle[cls].head) != NIL &&
		    flow_last(flow_at(ft, idx)) + timeout <= now_ms) {
			flow_release(ft, idx, 1, idle_reason[cls]);
			n++;
		}
	}
	while ((idx = ft->active.head) != NIL &&
	    flow_first(flow_at(ft, idx)) + ft->cfg.maxlife_ms <= now_ms) {
		flow_release(ft, idx, 1, EXP_ACTIVE);
		n++;
	}
	return n;
}

uint32_t
flowtable_expire_all(struct flowtable *ft)
{
	uint32_t n = 0;

	while (ft->active.head != NIL) {
		flow_release(ft, ft->active.head, 1, EXP_FORCED);
		n++;
	}
	return n;
}

uint32_t
flowtable_delete_all(struct flowtable *ft)
{
	uint32_t n = 0;

	while (ft->active.head != NIL) {
		flow_release(ft, ft->active.head, 0, EXP_FORCED);
		n++;
	}
	return n;
}

void
flowtable_foreach(const struct flowtable *ft,
    void (*fn)(void *arg, const struct flow *f), void *arg)
{
	uint32_t idx, next;

	for (idx = ft->active.head; idx != NIL; idx = next) {
		next = flow_at(ft, idx)->next[L_ACTIVE];
		fn(arg, flow_at(ft, idx));
	}
}
