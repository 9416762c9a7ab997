/*
 * Exporter: batches flow records, has the format encoders fill datagrams
 * and sends each to the collectors, mirrored or round-robin.  A collector
 * that fails is counted and logged once per cause; it never stops export
 * to the others.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export.h"
#include "log.h"
#include "nf5.h"
#include "nf9.h"
#include "wbuf.h"

#define PENDING_MAX	64
#define DGRAM_MAX	65000
#define SNDBUF_BYTES	(1 << 20)

struct collector {
	int			fd;
	struct export_stream	stream;		/* load-balancing mode */
	struct collector_stats	stats;
};

struct exporter {
	struct export_config	cfg;
	struct nf9		*nf9;
	struct collector	 col[EXPORT_MAX_COLLECTORS];
	unsigned		 ncol;
	unsigned		 next_col;	/* round-robin position */
	struct export_stream	 stream;	/* mirror mode */
	struct export_clock	 clk;
	int			 clock_set;
	int			 force_tmpl;
	int			 warned_v6;
	struct flow_record	 pending[PENDING_MAX];
	size_t			 npending;
	struct export_stats	 stats;
	uint8_t			 dgram[DGRAM_MAX];
};

/* Split "host:port" or "[v6addr]:port". */
static int
split_hostport(const char *spec, char *host, size_t hostlen, char *port,
    size_t portlen)
{
	const char *colon;
	size_t n;

	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		n = (size_t)(close - spec - 1);
		colon = close + 1;
		spec++;
	} else {
		if ((colon = strrchr(spec, ':')) == NULL)
			return -1;
		n = (size_t)(colon - spec);
	}
	if (n == 0 || n >= hostlen || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= portlen)
		return -1;
	memcpy(host, spec, n);
	host[n] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int
collector_open(const struct export_config *cfg, const char *spec,
    struct collector *c)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[32];
	int fd = -1, err, one = SNDBUF_BYTES;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->stats.name, sizeof(c->stats.name), "%s", spec);
	if (split_hostport(spec, host, sizeof(host), port, sizeof(port))) {
		log_warnx("collector \"%s\": expected host:port or [v6addr]:port",
		    spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = cfg->transport == EXPORT_UDP ? SOCK_DGRAM :
	    SOCK_STREAM;
	if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("collector \"%s\": %s", spec, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			continue;
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &one, sizeof(one));
		if (cfg->send_ifname && setsockopt(fd, SOL_SOCKET,
		    SO_BINDTODEVICE, cfg->send_ifname,
		    (socklen_t)strlen(cfg->send_ifname)) == -1)
			log_warn("collector %s: bind to interface %s", spec,
			    cfg->send_ifname);
		if (cfg->hoplimit >= 0) {
			int hl = cfg->hoplimit;

			if (ai->ai_family == AF_INET6) {
				(void)setsockopt(fd, IPPROTO_IPV6,
				    IPV6_UNICAST_HOPS, &hl, sizeof(hl));
				(void)setsockopt(fd, IPPROTO_IPV6,
				    IPV6_MULTICAST_HOPS, &hl, sizeof(hl));
			} else {
				unsigned char ttl = (unsigned char)hl;

				(void)setsockopt(fd, IPPROTO_IP, IP_TTL, &hl,
				    sizeof(hl));
				(void)setsockopt(fd, IPPROTO_IP,
				    IP_MULTICAST_TTL, &ttl, sizeof(ttl));
			}
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1) {
		log_warn("collector %s: cannot connect", spec);
		return -1;
	}
	c->fd = fd;
	return 0;
}

struct exporter *
exporter_new(const struct export_config *cfg)
{
	struct exporter *ex;
	struct nf9_options o;
	unsigned i;

	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return NULL;
	ex->cfg = *cfg;
	for (i = 0; i < EXPORT_MAX_COLLECTORS; i++)
		ex->col[i].fd = -1;
	if (cfg->version == 9 || cfg->version == 10) {
		memset(&o, 0, sizeof(o));
		o.version = cfg->version;
		o.biflow = cfg->biflow;
		o.time_prec = cfg->time_prec;
		o.mpls_labels = cfg->mpls_labels;
		o.domain_id = cfg->domain_id;
		if ((ex->nf9 = nf9_new(&o)) == NULL)
			goto fail;
	}
	for (i = 0; i < cfg->ncollectors; i++) {
		if (collector_open(cfg, cfg->collectors[i], &ex->col[i]) == -1)
			goto fail;
		ex->ncol++;
	}
	return ex;
fail:
	exporter_free(ex);
	return NULL;
}

void
exporter_free(struct exporter *ex)
{
	unsigned i;

	if (ex == NULL)
		return;
	for (i = 0; i < ex->ncol; i++)
		if (ex->col[i].fd != -1)
			close(ex->col[i].fd);
	nf9_free(ex->nf9);
	free(ex);
}

void
exporter_set_clock(struct exporter *ex, uint64_t now_ms)
{
	if (!ex->clock_set) {
		/* sysUpTime zero: a whole second before the first export. */
		ex->clk.boot_ms = (now_ms / 1000) * 1000 - 1000;
		ex->clock_set = 1;
	}
	if (now_ms > ex->clk.now_ms)
		ex->clk.now_ms = now_ms;
}

void
exporter_force_templates(struct exporter *ex)
{
	ex->force_tmpl = 1;
}

const struct export_stats *
exporter_stats(const struct exporter *ex)
{
	return &ex->stats;
}

unsigned
exporter_ncollectors(const struct exporter *ex)
{
	return ex->ncol;
}

const struct collector_stats *
exporter_collector(const struct exporter *ex, unsigned i)
{
	return i < ex->ncol ? &ex->col[i].stats : NULL;
}

static uint8_t
end_reason(enum expiry_reason why)
{
	/* IPFIX flowEndReason (RFC 7012 IE 136). */
	switch (why) {
	case EXP_IDLE:
		return 1;
	case EXP_ACTIVE:
		return 2;
	case EXP_TCP_FIN:
	case EXP_TCP_RST:
		return 3;
	case EXP_FORCED:
		return 4;
	case EXP_TABLE_FULL:
		return 5;
	default:
		return 0;
	}
}

static void
fill_side(struct flow_record *r, const struct flow *f, int i)
{
	const struct flow_side *s = &f->side[i];

	memcpy(r->src, f->key.addr[i], 16);
	memcpy(r->dst, f->key.addr[!i], 16);
	memcpy(r->src_mac, f->key.mac[i], 6);
	memcpy(r->dst_mac, f->key.mac[!i], 6);
	r->sport = f->key.port[i];
	r->dport = f->key.port[!i];
	r->packets = s->packets;
	r->octets = s->octets;
	r->first_ms = s->first_ms;
	r->last_ms = s->last_ms;
	r->tcp_flags = s->tcp_flags;
	r->egress = s->egress;
	if (s->egress)
		r->if_out = f->key.ifindex;
	else
		r->if_in = f->key.ifindex;
}

size_t
export_flow_records(const struct flow *f, enum expiry_reason why, int biflow,
    struct flow_record out[2])
{
	size_t n = 0;
	int i, fwd;

	for (i = 0; i < 2; i++) {
		if (f->side[i].packets == 0)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		fill_side(&out[n], f, i);
		out[n].af = f->key.af;
		out[n].proto = f->key.proto;
		out[n].tos = f->key.tos;
		out[n].vlan = f->key.vlan;
		out[n].inner_vlan = f->inner_vlan;
		out[n].end_reason = end_reason(why);
		out[n].nmpls = f->nmpls;
		memcpy(out[n].mpls, f->mpls, f->nmpls * sizeof(uint32_t));
		n++;
	}
	if (biflow && n == 2) {
		/* The initiator (earlier first packet) is the forward side. */
		fwd = out[1].first_ms < out[0].first_ms;
		if (fwd)
			out[0] = out[1];
		out[0].rev_packets = f->side[!fwd].packets;
		out[0].rev_octets = f->side[!fwd].octets;
		out[0].rev_first_ms = f->side[!fwd].first_ms;
		out[0].rev_last_ms = f->side[!fwd].last_ms;
		out[0].rev_tcp_flags = f->side[!fwd].tcp_flags;
		out[0].biflow = 1;
		n = 1;
	}
	return n;
}

static void
collector_send(struct exporter *ex, struct collector *c, const uint8_t *buf,
    size_t len)
{
	ssize_t r;

	r = send(c->fd, buf, len, MSG_NOSIGNAL);
	if (r == (ssize_t)len) {
		c->stats.packets++;
		c->stats.octets += len;
		return;
	}
	c->stats.errors++;
	if (r >= 0)
		errno = EMSGSIZE;
	if (errno == ECONNREFUSED)
		c->stats.refused++;
	else if (errno == ENOBUFS || errno == EAGAIN)
		c->stats.nobufs++;
	if (errno != c->stats.last_errno) {
		log_warn("collector %s: send", c->stats.name);
		c->stats.last_errno = errno;
	}
	(void)ex;
}

static int
templates_due(const struct exporter *ex, const struct export_stream *st)
{
	if (ex->cfg.version != 9 && ex->cfg.version != 10)
		return 0;
	return !st->tmpl_sent || ex->force_tmpl ||
	    st->packets - st->tmpl_at_packet >= ex->cfg.tmpl_packets ||
	    ex->clk.now_ms >= st->tmpl_at_ms + ex->cfg.tmpl_secs * 1000ULL;
}

/* sysUpTime-relative times must stay well inside 32 bits of ms. */
#define UPTIME_SPAN	(1ULL << 31)

/*
 * v1/v5/v9 carry times as ms since the exporter's boot.  A replay can span
 * years, and a live probe outlives 49 days, so the boot time moves forward
 * when a datagram's records would not fit; a collector recomputes boot
 * from every header.  Returns how many records share one window.
 */
static size_t
uptime_window(struct exporter *ex, const struct flow_record *recs, size_t n,
    struct export_clock *clk)
{
	uint64_t lo = UINT64_MAX, hi = 0, f, l;
	size_t i;

	*clk = ex->clk;
	if (ex->cfg.version == 10)
		return n;
	for (i = 0; i < n; i++) {
		f = recs[i].first_ms < lo ? recs[i].first_ms : lo;
		l = recs[i].last_ms > hi ? recs[i].last_ms : hi;
		if (i > 0 && l - f >= UPTIME_SPAN)
			break;
		lo = f;
		hi = l;
	}
	if (lo < clk->boot_ms || hi - clk->boot_ms >= UPTIME_SPAN ||
	    clk->now_ms - clk->boot_ms >= UPTIME_SPAN) {
		clk->boot_ms = lo >= 1000 ? (lo / 1000) * 1000 - 1000 : 0;
		ex->clk.boot_ms = clk->boot_ms;
		/* Stamp the header just after the newest record it carries. */
		if (clk->now_ms - clk->boot_ms >= UPTIME_SPAN)
			clk->now_ms = (hi / 1000 + 1) * 1000;
	}
	return i;
}

/*
 * Encode one datagram from recs on stream st into ex->dgram.  Returns the
 * records it took; *full says whether the datagram has no room for more.
 */
static size_t
encode_one(struct exporter *ex, struct export_stream *st,
    const struct flow_record *recs, size_t n, struct wbuf *w, int *full,
    int *tmpl)
{
	struct export_clock clk;
	size_t k, max, total = n;
	size_t limit = ex->cfg.mtu < DGRAM_MAX ? ex->cfg.mtu : DGRAM_MAX;

	n = uptime_window(ex, recs, n, &clk);
	wbuf_init(w, ex->dgram, limit);
	*tmpl = templates_due(ex, st);
	if (ex->cfg.version == 1 || ex->cfg.version == 5) {
		max = nf5_max_records(ex->cfg.version, limit);
		k = n < max ? n : max;
		nf5_encode(ex->cfg.version, st, &clk, recs, k, w);
		*full = k == max || n < total;
		return k;
	}
	k = nf9_encode(ex->nf9, st, &clk, *tmpl, recs, n, w);
	*full = k < n || n < total;
	return k;
}

static void
send_pending(struct exporter *ex, int final)
{
	struct export_stream saved, *st;
	struct collector *c = NULL;
	struct wbuf w;
	size_t off = 0, k, i;
	int full, tmpl;

	while (off < ex->npending) {
		if (ex->cfg.load_balance && ex->ncol > 0) {
			c = &ex->col[ex->next_col % ex->ncol];
			st = &c->stream;
		} else
			st = &ex->stream;
		saved = *st;
		k = encode_one(ex, st, ex->pending + off, ex->npending - off,
		    &w, &full, &tmpl);
		if (w.overflow || (k == 0 && !tmpl)) {
			log_warnx("export: record does not fit a datagram of %zu "
			    "bytes; dropping %zu", ex->cfg.mtu, ex->npending - off);
			*st = saved;
			ex->stats.unexportable += ex->npending - off;
			off = ex->npending;
			break;
		}
		if (!final && !full) {
			*st = saved;	/* keep them for a fuller datagram */
			break;
		}
		st->packets++;
		if (tmpl) {
			st->tmpl_sent = 1;
			st->tmpl_at_packet = st->packets;
			st->tmpl_at_ms = ex->clk.now_ms;
			ex->stats.templates++;
			ex->force_tmpl = 0;
		}
		if (c != NULL) {
			collector_send(ex, c, w.buf, w.len);
			ex->next_col++;
		} else
			for (i = 0; i < ex->ncol; i++)
				collector_send(ex, &ex->col[i], w.buf, w.len);
		ex->stats.datagrams++;
		ex->stats.records += k;
		for (i = 0; i < k; i++) {
			ex->stats.packets += ex->pending[off + i].packets +
			    ex->pending[off + i].rev_packets;
			ex->stats.octets += ex->pending[off + i].octets +
			    ex->pending[off + i].rev_octets;
		}
		off += k;
	}
	memmove(ex->pending, ex->pending + off,
	    (ex->npending - off) * sizeof(ex->pending[0]));
	ex->npending -= off;
}

static void
pending_add(struct exporter *ex, const struct flow_record *r)
{
	if (ex->npending == PENDING_MAX)
		send_pending(ex, 0);
	if (ex->npending == PENDING_MAX)
		send_pending(ex, 1);
	ex->pending[ex->npending++] = *r;
}

/* v1/v5 counters are 32 bits: split a larger record, keeping exact sums. */
static void
add_v5_record(struct exporter *ex, struct flow_record r)
{
	struct flow_record part;

	while (r.octets > UINT32_MAX || r.packets > UINT32_MAX) {
		part = r;
		part.octets = r.octets > UINT32_MAX ? UINT32_MAX : r.octets;
		part.packets = (uint64_t)((unsigned __int128)r.packets *
		    part.octets / r.octets);
		if (part.packets > UINT32_MAX)
			part.packets = UINT32_MAX;
		if (part.packets == 0)
			part.packets = 1;
		if (part.packets == r.packets && part.octets == r.octets)
			break;
		pending_add(ex, &part);
		r.octets -= part.octets;
		r.packets -= part.packets;
	}
	pending_add(ex, &r);
}

void
exporter_flow_expired(void *arg, const struct flow *f, enum expiry_reason why)
{
	struct exporter *ex = arg;
	struct flow_record rec[2];
	size_t n, i;

	n = export_flow_records(f, why, ex->cfg.biflow && ex->cfg.version == 10,
	    rec);
	ex->stats.flows++;
	for (i = 0; i < n; i++) {
		if ((ex->cfg.version == 1 || ex->cfg.version == 5) &&
		    rec[i].af != 4) {
			if (!ex->warned_v6) {
				log_warnx("NetFlow v%d cannot carry IPv6 flows: "
				    "counted as unexportable (use -v 9 or -v 10)",
				    ex->cfg.version);
				ex->warned_v6 = 1;
			}
			ex->stats.unexportable++;
			ex->stats.unexportable_packets += rec[i].packets;
			ex->stats.unexportable_octets += rec[i].octets;
			continue;
		}
		if (ex->cfg.version == 1 || ex->cfg.version == 5)
			add_v5_record(ex, rec[i]);
		else
			pending_add(ex, &rec[i]);
	}
}

void
exporter_flush(struct exporter *ex)
{
	if (ex->npending > 0)
		send_pending(ex, 1);
}
