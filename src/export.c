/*
 * Exporter: batches flow (or PSAMP packet) records, has the format
 * encoders fill messages and sends each to the collectors, mirrored or
 * round-robin, over UDP, TCP or SCTP.  Each collector has its own stream:
 * sequence numbers, template timing and, for TCP and SCTP, a connection
 * made without blocking, a bounded backlog and a reconnect schedule that
 * backs off.  A collector that fails is counted per cause and logged once
 * per cause; it never stops export to the others, and nothing here waits
 * for the network except the bounded drain at exit.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "log.h"
#include "nf5.h"
#include "nf9.h"
#include "wbuf.h"

/* Enough for many full messages: the partial one left is rarely redone. */
#define PENDING_MAX	512
/*
 * The queue moves up the slots as messages leave it, and back to the
 * front only when PENDING_MAX more would not fit: a full queue keeps a
 * partial message, and moving it down at every send cost 24 instructions
 * a record on a cut of bench capture b (1M flows, 8900-byte messages).
 */
#define PENDING_SLOTS	(2 * PENDING_MAX)
#define DGRAM_MAX	65000
/*
 * mtu = auto: the route's MTU less AUTO_MARGIN (IP and UDP headers plus
 * room for a tunnel or IPsec header the kernel cannot see; 1500 gives the
 * 1400 softflowd always used), capped at AUTO_CAP: a jumbo frame's worth,
 * which collectors reading into fixed buffers still take whole.  Streams
 * and a route the kernel won't tell keep AUTO_DEFAULT.
 */
#define AUTO_MARGIN	100
#define AUTO_CAP	8900
#define AUTO_DEFAULT	1400
#define SNDBUF_BYTES	(1 << 20)
#define BACKLOG_BYTES	(4 << 20)	/* TCP/SCTP: unsent bytes kept */
#define BACKLOG_MSGS	8192
#define RETRY_FIRST_MS	1000
#define RETRY_MAX_MS	60000
#define DRAIN_MS	5000		/* exit: time given to backlogs */
/*
 * UDP messages wait in an outbox and leave together in one sendmmsg().  A
 * send() per message cost a system call and, for a collector on the same
 * host, usually a wakeup of the collector, which together took longer
 * than encoding the message.  Everything that sends empties the outbox
 * before it returns, so nothing waits longer than the call that made it.
 */
#define OUTBOX_MSGS	16

enum conn_state { C_DOWN, C_CONNECTING, C_UP };

/* Why a message was not sent; each is counted and logged once. */
enum cause {
	CAUSE_REFUSED, CAUSE_NOBUFS, CAUSE_DISCONNECTED, CAUSE_BACKLOG,
	CAUSE_OTHER, NCAUSES
};

/* A UDP message in the outbox, in slot i of outbuf: who gets it, what. */
struct outbox_msg {
	struct collector	*c;
	size_t			 len;
	uint32_t		 records;
	uint64_t		 packets;
};

/* A message in a TCP/SCTP backlog: where it ends, what it carries. */
struct backlog_msg {
	size_t		end;		/* offset in buf just past it */
	size_t		len;
	uint32_t	records;
	uint64_t	packets;
};

struct collector {
	int			 fd;
	enum conn_state		 state;
	int			 family;
	int			 protocol;	/* stream transports */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	uint64_t		 retry_at_ms;
	uint32_t		 backoff_ms;
	uint8_t			*buf;		/* backlog [head, len) */
	size_t			 head;
	size_t			 len;
	struct backlog_msg	*msgs;		/* [mhead, mtail) */
	size_t			 mhead;
	size_t			 mtail;
	unsigned		 logged;	/* bit per enum cause */
	int			 logged_connect;
	struct export_stream	 stream;
	struct collector_stats	 stats;
};

struct exporter {
	struct export_config	 cfg;
	struct nf9		*nf9;
	struct collector	 col[EXPORT_MAX_COLLECTORS];
	unsigned		 ncol;
	unsigned		 next_col;	/* round-robin position */
	struct export_clock	 clk;
	const struct export_probe_totals *probe;
	uint32_t		 process_id;
	int			 clock_set;
	int			 warned_v6;
	int			 warned_fit;
	int			 warned_shape;
	/*
	 * v9/IPFIX records need no MACs, labels or reverse side (no data
	 * template carries one, so no biflows either): flows are filled
	 * without them, by add_lean().
	 */
	int			 lean_records;
	struct flow_record	 pending[PENDING_SLOTS];
	struct flow_record	*queue;		/* npending from here */
	size_t			 npending;
	struct export_stats	 stats;
	size_t			 limit;		/* datagram payload */
	/* OUTBOX_MSGS slots of limit bytes; messages are encoded in place. */
	uint8_t			*outbuf;
	struct outbox_msg	 out[OUTBOX_MSGS];
	unsigned		 nout;
};

static const char *const cause_names[NCAUSES] = {
	[CAUSE_REFUSED] = "refused (nothing listening, or ICMP unreachable)",
	[CAUSE_NOBUFS] = "kernel send queue full",
	[CAUSE_DISCONNECTED] = "not connected",
	[CAUSE_BACKLOG] = "backlog full (collector too slow)",
	[CAUSE_OTHER] = "send error",
};

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
is_stream(const struct exporter *ex)
{
	return ex->cfg.transport != EXPORT_UDP;
}

static size_t
msg_limit(const struct exporter *ex)
{
	return ex->limit;
}

/* The MTU of a connected UDP socket's route, 0 when unknown. */
static size_t
route_mtu(const struct collector *c)
{
	socklen_t len;
	int mtu = 0, r = -1;

	len = sizeof(mtu);
	if (c->family == AF_INET6)
		r = getsockopt(c->fd, IPPROTO_IPV6, IPV6_MTU, &mtu, &len);
	else if (c->family == AF_INET)
		r = getsockopt(c->fd, IPPROTO_IP, IP_MTU, &mtu, &len);
	return r == 0 && mtu > 0 ? (size_t)mtu : 0;
}

/*
 * The datagram limit: the configured one, or with mtu = auto the smallest
 * of the collectors' (every datagram goes to each of them).
 */
static size_t
choose_limit(const struct exporter *ex)
{
	size_t limit = 0, l, m;
	unsigned i;

	if (ex->cfg.mtu != 0)
		return ex->cfg.mtu < DGRAM_MAX ? ex->cfg.mtu : DGRAM_MAX;
	if (is_stream(ex) || ex->ncol == 0)
		return AUTO_DEFAULT;
	for (i = 0; i < ex->ncol; i++) {
		m = route_mtu(&ex->col[i]);
		if (m == 0)
			l = AUTO_DEFAULT;
		else if (m < AUTO_MARGIN + 256)
			l = 256;
		else
			l = m - AUTO_MARGIN < AUTO_CAP ? m - AUTO_MARGIN :
			    AUTO_CAP;
		log_debug("collector %s: route MTU %zu, datagrams up to %zu "
		    "bytes", ex->col[i].stats.name, m, l);
		if (limit == 0 || l < limit)
			limit = l;
	}
	return limit;
}

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
	/* getaddrinfo takes 99999 as port 34463: numbers must be ports. */
	if (strspn(colon + 1, "0123456789") == strlen(colon + 1) &&
	    (strlen(colon + 1) > 5 || atoi(colon + 1) < 1 ||
	    atoi(colon + 1) > 65535))
		return -1;
	memcpy(host, spec, n);
	host[n] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static void
set_socket_options(const struct export_config *cfg, int fd, int family,
    const char *spec)
{
	int sndbuf = SNDBUF_BYTES, hl = cfg->hoplimit;
	unsigned char ttl = (unsigned char)cfg->hoplimit;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (cfg->send_ifname && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE,
	    cfg->send_ifname, (socklen_t)strlen(cfg->send_ifname)) == -1)
		log_warn("collector %s: bind to interface %s", spec,
		    cfg->send_ifname);
	if (hl < 0)
		return;
	if (family == AF_INET6) {
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hl,
		    sizeof(hl));
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hl,
		    sizeof(hl));
	} else {
		(void)setsockopt(fd, IPPROTO_IP, IP_TTL, &hl, sizeof(hl));
		(void)setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl,
		    sizeof(ttl));
	}
}

static int
set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl == -1 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void
collector_log_cause(struct collector *c, enum cause why, int err)
{
	if (c->logged & (1u << why))
		return;
	c->logged |= 1u << why;
	if (err != 0)
		log_warnx("collector %s: %s: %s; counted, export to other "
		    "collectors continues", c->stats.name, cause_names[why],
		    strerror(err));
	else
		log_warnx("collector %s: %s; counted, export to other "
		    "collectors continues", c->stats.name, cause_names[why]);
}

/* One message was not sent to c: count it, its records and packets. */
static void
collector_lost(struct collector *c, enum cause why, int err, uint32_t records,
    uint64_t packets)
{
	c->stats.errors++;
	c->stats.lost_records += records;
	c->stats.lost_packets += packets;
	switch (why) {
	case CAUSE_REFUSED:
		c->stats.refused++;
		break;
	case CAUSE_NOBUFS:
		c->stats.nobufs++;
		break;
	case CAUSE_DISCONNECTED:
		c->stats.disconnected++;
		break;
	case CAUSE_BACKLOG:
		c->stats.backlog_full++;
		break;
	default:
		c->stats.other_errors++;
		break;
	}
	if (err != 0)
		c->stats.last_errno = err;
	collector_log_cause(c, why, err);
}

static void
collector_sent(struct collector *c, size_t len, uint32_t records)
{
	c->stats.packets++;
	c->stats.octets += len;
	c->stats.records += records;
}

static enum cause
cause_of(int err)
{
	switch (err) {
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
		return CAUSE_REFUSED;
	case ENOBUFS:
	case EAGAIN:
		return CAUSE_NOBUFS;
	default:
		return CAUSE_OTHER;
	}
}

/* --- TCP and SCTP: a connection, a backlog, a reconnect schedule. --- */

static size_t
backlog_count(const struct collector *c)
{
	return c->mtail - c->mhead;
}

/* Drop every queued message, counting each as not sent. */
static void
backlog_discard(struct collector *c, enum cause why)
{
	size_t i;

	for (i = c->mhead; i < c->mtail; i++)
		collector_lost(c, why, 0, c->msgs[i].records,
		    c->msgs[i].packets);
	c->mhead = c->mtail = 0;
	c->head = c->len = 0;
}

static void
conn_down(struct collector *c, int err)
{
	int was_up = c->state == C_UP;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = C_DOWN;
	backlog_discard(c, CAUSE_DISCONNECTED);
	c->retry_at_ms = mono_ms() + c->backoff_ms;
	if (!c->logged_connect || was_up)
		log_warnx("collector %s: %s: %s; retrying in %u s, then with "
		    "backoff up to %d s", c->stats.name, was_up ?
		    "connection lost" : "cannot connect", strerror(err),
		    c->backoff_ms / 1000, RETRY_MAX_MS / 1000);
	c->logged_connect = 1;
	c->backoff_ms = c->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
	    c->backoff_ms * 2;
}

static void
conn_up(struct collector *c)
{
	c->state = C_UP;
	c->stats.connects++;
	c->backoff_ms = RETRY_FIRST_MS;
	c->logged_connect = 0;
	log_info("collector %s: connected", c->stats.name);
}

/* Start a non-blocking connect; a new connection is a new stream. */
static void
conn_start(struct exporter *ex, struct collector *c)
{
	int fd;

	memset(&c->stream, 0, sizeof(c->stream));
	fd = socket(c->family, SOCK_STREAM, c->protocol);
	if (fd == -1) {
		conn_down(c, errno);
		return;
	}
	c->fd = fd;
	set_socket_options(&ex->cfg, fd, c->family, c->stats.name);
	if (set_nonblock(fd) == -1) {
		conn_down(c, errno);
		return;
	}
	if (connect(fd, (struct sockaddr *)&c->addr, c->addrlen) == 0)
		conn_up(c);
	else if (errno == EINPROGRESS)
		c->state = C_CONNECTING;
	else
		conn_down(c, errno);
}

static void
backlog_pop(struct collector *c)
{
	const struct backlog_msg *m = &c->msgs[c->mhead];

	collector_sent(c, m->len, m->records);
	if (++c->mhead == c->mtail)
		c->mhead = c->mtail = c->head = c->len = 0;
}

/*
 * Write what the socket takes: TCP a byte stream, SCTP whole messages.
 * Returns -1 when the connection failed.
 */
static int
backlog_flush(struct exporter *ex, struct collector *c)
{
	size_t want;
	ssize_t n;

	while (backlog_count(c) > 0) {
		if (ex->cfg.transport == EXPORT_SCTP)
			want = c->msgs[c->mhead].end - c->head;
		else
			want = c->len - c->head;
		n = send(c->fd, c->buf + c->head, want,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			conn_down(c, errno);
			return -1;
		}
		c->head += (size_t)n;
		while (backlog_count(c) > 0 && c->head >= c->msgs[c->mhead].end)
			backlog_pop(c);
		if ((size_t)n < want)
			return 0;
	}
	return 0;
}

/* Advance the connection: retry when due, finish a connect, flush. */
static void
conn_poll(struct exporter *ex, struct collector *c)
{
	struct pollfd pfd;
	uint8_t junk[512];
	socklen_t len;
	ssize_t n;
	int err;

	switch (c->state) {
	case C_DOWN:
		if (mono_ms() >= c->retry_at_ms)
			conn_start(ex, c);
		if (c->state != C_UP)
			return;
		break;
	case C_CONNECTING:
		pfd.fd = c->fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) <= 0)
			return;
		err = 0;
		len = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			conn_down(c, err);
			return;
		}
		conn_up(c);
		break;
	case C_UP:
		/* A collector never sends: data or EOF means it went away. */
		n = recv(c->fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == 0) {
			conn_down(c, ECONNRESET);
			return;
		}
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			conn_down(c, errno);
			return;
		}
		break;
	}
	(void)backlog_flush(ex, c);
}

/* Queue one message on a connection (or count it lost). */
static void
stream_send(struct exporter *ex, struct collector *c, const uint8_t *msg,
    size_t len, uint32_t records, uint64_t packets)
{
	if (c->state == C_DOWN) {
		collector_lost(c, CAUSE_DISCONNECTED, 0, records, packets);
		return;
	}
	if (c->head > 0 && (c->len + len > BACKLOG_BYTES ||
	    c->mtail == BACKLOG_MSGS)) {
		/* Move the unsent bytes and their messages to the front. */
		size_t i, shift = c->head;

		memmove(c->buf, c->buf + shift, c->len - shift);
		c->len -= shift;
		c->head = 0;
		for (i = c->mhead; i < c->mtail; i++) {
			c->msgs[i - c->mhead] = c->msgs[i];
			c->msgs[i - c->mhead].end -= shift;
		}
		c->mtail -= c->mhead;
		c->mhead = 0;
	}
	if (c->len + len > BACKLOG_BYTES || c->mtail == BACKLOG_MSGS) {
		collector_lost(c, CAUSE_BACKLOG, 0, records, packets);
		return;
	}
	memcpy(c->buf + c->len, msg, len);
	c->len += len;
	c->msgs[c->mtail].end = c->len;
	c->msgs[c->mtail].len = len;
	c->msgs[c->mtail].records = records;
	c->msgs[c->mtail].packets = packets;
	c->mtail++;
	if (c->state == C_UP)
		(void)backlog_flush(ex, c);
}

/* --- Collectors --- */

static int
collector_open(struct exporter *ex, const char *spec, struct collector *c)
{
	const struct export_config *cfg = &ex->cfg;
	struct addrinfo hints, *res = NULL, *ai;
	char host[256], port[32];
	int fd = -1, err;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->backoff_ms = RETRY_FIRST_MS;
	snprintf(c->stats.name, sizeof(c->stats.name), "%s", spec);
	if (split_hostport(spec, host, sizeof(host), port, sizeof(port))) {
		log_warnx("collector \"%s\": expected host:port or "
		    "[v6addr]:port, port 1..65535", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = is_stream(ex) ? SOCK_STREAM : SOCK_DGRAM;
	if ((err = getaddrinfo(host, port, &hints, &res)) != 0) {
		log_warnx("collector \"%s\": %s", spec, gai_strerror(err));
		return -1;
	}
	if (is_stream(ex)) {
		/* Resolved once; the connection comes and goes. */
		c->family = res->ai_family;
		c->protocol = cfg->transport == EXPORT_SCTP ? IPPROTO_SCTP : 0;
		memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
		c->addrlen = res->ai_addrlen;
		freeaddrinfo(res);
		if ((fd = socket(c->family, SOCK_STREAM, c->protocol)) == -1) {
			log_warn("collector %s: %s socket", spec,
			    cfg->transport == EXPORT_SCTP ? "SCTP" : "TCP");
			if (cfg->transport == EXPORT_SCTP)
				log_warnx("SCTP is not available on this "
				    "system: load the sctp kernel module "
				    "(modprobe sctp), or use -P udp or -P tcp");
			return -1;
		}
		close(fd);
		c->buf = malloc(BACKLOG_BYTES);
		c->msgs = calloc(BACKLOG_MSGS, sizeof(c->msgs[0]));
		if (c->buf == NULL || c->msgs == NULL) {
			log_warnx("collector %s: out of memory", spec);
			return -1;
		}
		conn_start(ex, c);
		return 0;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype, 0)) == -1)
			continue;
		set_socket_options(cfg, fd, ai->ai_family, spec);
		if (set_nonblock(fd) == 0 &&
		    connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (ai != NULL)
		c->family = ai->ai_family;
	freeaddrinfo(res);
	if (fd == -1) {
		log_warn("collector %s: cannot connect", spec);
		return -1;
	}
	c->fd = fd;
	c->state = C_UP;
	return 0;
}

static void
collector_close(struct collector *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	free(c->msgs);
	c->buf = NULL;
	c->msgs = NULL;
}

/*
 * Send c's messages in the outbox, in their order, and count each as sent
 * or lost.  sendmmsg() stops at a message it cannot send: that one is
 * counted lost, as send() would have, and the rest are tried again.
 */
static void
outbox_send(struct exporter *ex, struct collector *c)
{
	struct mmsghdr mh[OUTBOX_MSGS];
	struct iovec iov[OUTBOX_MSGS];
	const struct outbox_msg *m[OUTBOX_MSGS];
	unsigned i, k, n = 0;
	int sent, err;

	for (i = 0; i < ex->nout; i++) {
		if (ex->out[i].c != c)
			continue;
		m[n] = &ex->out[i];
		iov[n].iov_base = ex->outbuf + i * ex->limit;
		iov[n].iov_len = m[n]->len;
		memset(&mh[n], 0, sizeof(mh[n]));
		mh[n].msg_hdr.msg_iov = &iov[n];
		mh[n].msg_hdr.msg_iovlen = 1;
		n++;
	}
	for (i = 0; i < n; i = k) {
		sent = sendmmsg(c->fd, mh + i, n - i,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent <= 0) {
			err = sent == 0 ? EAGAIN : errno;
			collector_lost(c, cause_of(err), err, m[i]->records,
			    m[i]->packets);
			k = i + 1;
			continue;
		}
		for (k = i; k < i + (unsigned)sent; k++) {
			if (mh[k].msg_len == m[k]->len)
				collector_sent(c, m[k]->len, m[k]->records);
			else
				collector_lost(c, cause_of(EMSGSIZE), EMSGSIZE,
				    m[k]->records, m[k]->packets);
		}
	}
}

/* Send what the outbox holds, each collector's messages in one call. */
static void
outbox_flush(struct exporter *ex)
{
	unsigned i;

	if (ex->nout == 0)
		return;
	for (i = 0; i < ex->ncol; i++)
		outbox_send(ex, &ex->col[i]);
	ex->nout = 0;
}

/* Where the next message is encoded: the outbox's next free slot. */
static uint8_t *
msg_buf(struct exporter *ex)
{
	if (ex->nout == OUTBOX_MSGS)
		outbox_flush(ex);
	return ex->outbuf + ex->nout * ex->limit;
}

/*
 * Send one message, encoded at msg_buf(), to one collector; never blocks.
 * Over UDP it waits in the outbox for the next outbox_flush().
 */
static void
collector_send(struct exporter *ex, struct collector *c, const uint8_t *buf,
    size_t len, uint32_t records, uint64_t packets)
{
	if (is_stream(ex)) {
		stream_send(ex, c, buf, len, records, packets);
		return;
	}
	ex->out[ex->nout].c = c;
	ex->out[ex->nout].len = len;
	ex->out[ex->nout].records = records;
	ex->out[ex->nout].packets = packets;
	ex->nout++;
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
	ex->queue = ex->pending;
	ex->process_id = (uint32_t)getpid();
	for (i = 0; i < EXPORT_MAX_COLLECTORS; i++)
		ex->col[i].fd = -1;
	if (cfg->version == 9 || cfg->version == 10) {
		memset(&o, 0, sizeof(o));
		o.version = cfg->version;
		o.biflow = cfg->biflow;
		o.psamp = cfg->psamp;
		o.time_prec = cfg->time_prec;
		o.mpls_labels = cfg->mpls_labels;
		o.sampling = cfg->sampling;
		o.domain_id = cfg->domain_id;
		if ((ex->nf9 = nf9_new(&o)) == NULL)
			goto fail;
		ex->lean_records = !nf9_reads_rare(ex->nf9);
	}
	if (cfg->version == 5 && cfg->sampling > 0x3fff)
		log_warnx("NetFlow v5 headers carry sampling intervals up to "
		    "16383; announcing 16383 for 1 in %u", cfg->sampling);
	for (i = 0; i < cfg->ncollectors; i++) {
		if (collector_open(ex, cfg->collectors[i], &ex->col[i]) == -1) {
			collector_close(&ex->col[i]);
			goto fail;
		}
		ex->ncol++;
	}
	ex->limit = choose_limit(ex);
	ex->stats.max_datagram = ex->limit;
	if ((ex->outbuf = malloc(OUTBOX_MSGS * ex->limit)) == NULL)
		goto fail;
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
	for (i = 0; i < ex->ncol; i++) {
		if (is_stream(ex))
			backlog_discard(&ex->col[i], CAUSE_DISCONNECTED);
		collector_close(&ex->col[i]);
	}
	nf9_free(ex->nf9);
	free(ex->outbuf);
	free(ex);
}

void
exporter_set_probe_totals(struct exporter *ex,
    const struct export_probe_totals *t)
{
	ex->probe = t;
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
	unsigned i;

	/* A TCP or SCTP session keeps its templates (RFC 7011 8.1). */
	if (is_stream(ex))
		return;
	for (i = 0; i < ex->ncol; i++)
		ex->col[i].stream.tmpl_sent = 0;
}

const struct export_stats *
exporter_stats(const struct exporter *ex)
{
	return &ex->stats;
}

void
exporter_carry_stats(struct exporter *to, const struct exporter *from)
{
	to->stats = from->stats;
	to->stats.max_datagram = to->limit;	/* the new one's, not a total */
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

/*
 * The members every encoder reads, from side i of f: the whole record
 * but its MACs, MPLS labels and reverse side.  Inlined where the side is
 * a constant, so each member is one load and one store.
 */
static inline __attribute__((always_inline)) void
fill_common(struct flow_record *r, const struct flow *f, int i,
    uint8_t reason)
{
	const struct flow_side *s = &f->side[i];

	memcpy(r->src, f->key.addr[i], 16);
	memcpy(r->dst, f->key.addr[!i], 16);
	r->sport = f->key.port[i];
	r->dport = f->key.port[!i];
	r->packets = s->packets;
	r->octets = s->octets;
	r->first_ms = s->first_ms;
	r->last_ms = s->last_ms;
	r->tcp_flags = s->tcp_flags;
	r->egress = s->egress;
	r->if_in = s->egress ? 0 : f->key.ifindex;
	r->if_out = s->egress ? f->key.ifindex : 0;
	r->af = f->key.af;
	r->proto = f->key.proto;
	r->tos = f->key.tos;
	r->vlan = f->key.vlan;
	r->inner_vlan = f->inner_vlan;
	r->end_reason = reason;
}

/*
 * One record from side i of f, every member written (no memset: records
 * are filled straight into the pending queue, one per exported flow).
 * With rev, side !i is its reverse direction (RFC 5103).
 */
static void
fill_record(struct flow_record *r, const struct flow *f, int i, int rev,
    enum expiry_reason why)
{
	/* Without a reverse side, its members are zeros: copied, not tested. */
	static const struct flow_side no_side;
	const struct flow_side *o = rev ? &f->side[!i] : &no_side;

	fill_common(r, f, i, end_reason(why));
	memcpy(r->src_mac, f->key.mac[i], 6);
	memcpy(r->dst_mac, f->key.mac[!i], 6);
	r->nmpls = f->nmpls;
	if (f->nmpls > 0)	/* rare: skip the call to memcpy */
		memcpy(r->mpls, f->mpls, f->nmpls * sizeof(uint32_t));
	r->biflow = (uint8_t)rev;
	r->rev_packets = o->packets;
	r->rev_octets = o->octets;
	r->rev_first_ms = o->first_ms;
	r->rev_last_ms = o->last_ms;
	r->rev_tcp_flags = o->tcp_flags;
}

/*
 * The sides of f that become records, in order: each side that saw
 * packets, or with biflow one record whose forward side is the initiator
 * (earlier first packet).  Returns how many; rev says whether side[0]'s
 * record carries the other side as its reverse.
 */
static size_t
record_sides(const struct flow *f, int biflow, int side[2], int *rev)
{
	size_t n = 0;

	*rev = 0;
	if (biflow && f->side[0].packets != 0 && f->side[1].packets != 0) {
		side[0] = f->side[1].first_ms < f->side[0].first_ms;
		*rev = 1;
		return 1;
	}
	if (f->side[0].packets != 0)
		side[n++] = 0;
	if (f->side[1].packets != 0)
		side[n++] = 1;
	return n;
}

size_t
export_flow_records(const struct flow *f, enum expiry_reason why, int biflow,
    struct flow_record out[2])
{
	int side[2], rev;
	size_t n, i;

	n = record_sides(f, biflow, side, &rev);
	for (i = 0; i < n; i++)
		fill_record(&out[i], f, side[i], rev, why);
	return n;
}

/*
 * A control message is due on a stream: first on it, then every
 * template_packets messages or template_interval seconds.
 */
static int
control_due(const struct exporter *ex, const struct export_stream *st)
{
	if (ex->nf9 == NULL)
		return 0;
	return !st->tmpl_sent ||
	    st->packets - st->tmpl_at_packet >= ex->cfg.tmpl_packets ||
	    ex->clk.now_ms >= st->tmpl_at_ms + ex->cfg.tmpl_secs * 1000ULL;
}

/*
 * Templates, the sampling selector and this collector's statistics.  Over
 * UDP every control message repeats the templates; a TCP or SCTP session
 * gets them once, at its start (RFC 7011 8.1), then only the options
 * records.
 */
static void
send_control(struct exporter *ex, struct collector *c,
    const struct export_clock *clk, int final)
{
	struct export_stream *st = &c->stream;
	struct export_stream saved;
	struct nf9_control ctl;
	struct nf9_optvals ov;
	struct wbuf w;
	int r;

	memset(&ctl, 0, sizeof(ctl));
	ctl.with_templates = !st->tmpl_sent || (!is_stream(ex) && !final);
	do {
		/*
		 * What was sent before this message, for its statistics: the
		 * messages waiting in the outbox are sent and counted first.
		 */
		outbox_flush(ex);
		memset(&ov, 0, sizeof(ov));
		ov.messages = c->stats.packets;
		ov.records = c->stats.records;
		ov.octets = c->stats.octets;
		ov.ignored_packets = ex->probe ? ex->probe->ignored_packets : 0;
		ov.notsent_records = ex->stats.unexportable +
		    c->stats.lost_records;
		ov.notsent_packets = ex->stats.unexportable_packets +
		    c->stats.lost_packets;
		ov.process_id = ex->process_id;
		saved = *st;
		wbuf_init(&w, msg_buf(ex), msg_limit(ex));
		r = nf9_encode_control(ex->nf9, st, clk, &ov, &ctl, &w);
		if (r == -1) {
			*st = saved;
			if (!ex->warned_fit++)
				log_warnx("export: a template does not fit a "
				    "message of %zu bytes; raise mtu",
				    msg_limit(ex));
			return;
		}
		st->packets++;
		if (ctl.with_templates)
			ex->stats.templates++;
		collector_send(ex, c, w.buf, w.len, 0, 0);
	} while (r == 0);
	/* Control messages leave at once, at the time their figures are for. */
	outbox_flush(ex);
	st->tmpl_at_packet = st->packets;
	st->tmpl_at_ms = ex->clk.now_ms;
	if (ctl.with_templates)
		st->tmpl_sent = 1;
	ex->stats.options += ctl.records;
}

/* sysUpTime-relative times must stay well inside 32 bits of ms. */
#define UPTIME_SPAN	(1ULL << 31)

/*
 * v1/v5/v9 carry times as ms since the exporter's boot.  A replay can span
 * years, and a live probe outlives 49 days, so the boot time moves forward
 * when a datagram's records would not fit; a collector recomputes boot
 * from every header.  Returns how many records share one window, and in
 * clk the clock their messages are stamped with.
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
	}
	/* Stamp the header just after the newest record it carries. */
	if (clk->now_ms - clk->boot_ms >= UPTIME_SPAN)
		clk->now_ms = (hi / 1000 + 1) * 1000;
	return i;
}

/*
 * Whether every pending record already fits the current uptime window,
 * so uptime_window() would take all of them and move nothing: one pass
 * per send_pending() instead of one per message.
 */
static int
window_holds(const struct exporter *ex)
{
	uint64_t boot = ex->clk.boot_ms, lo = UINT64_MAX, hi = 0;
	size_t i;

	if (ex->cfg.version == 10)
		return 1;
	if (ex->clk.now_ms < boot || ex->clk.now_ms - boot >= UPTIME_SPAN)
		return 0;
	for (i = 0; i < ex->npending; i++) {
		const struct flow_record *r = &ex->queue[i];

		if (r->first_ms > r->last_ms)
			return 0;
		lo = r->first_ms < lo ? r->first_ms : lo;
		hi = r->last_ms > hi ? r->last_ms : hi;
	}
	return lo >= boot && (ex->npending == 0 || hi - boot < UPTIME_SPAN);
}

/*
 * Encode one data message from recs on stream st at msg_buf().  Returns
 * the records it took; *full says whether it has no room for more.
 */
static size_t
encode_data(struct exporter *ex, struct export_stream *st,
    const struct export_clock *clk, const struct flow_record *recs, size_t n,
    struct wbuf *w, int *full)
{
	size_t k, max;

	wbuf_init(w, msg_buf(ex), msg_limit(ex));
	if (ex->cfg.version == 1 || ex->cfg.version == 5) {
		max = nf5_max_records(ex->cfg.version, msg_limit(ex));
		k = n < max ? n : max;
		nf5_encode(ex->cfg.version, ex->cfg.sampling, st, clk, recs, k,
		    w);
		*full = k == max;
	} else {
		k = nf9_encode(ex->nf9, st, clk, 0, recs, n, w);
		*full = k < n;
	}
	st->packets++;
	return k;
}

/*
 * How many of recs[0..n) one data message takes, as encode_data() would
 * find; *full as there.
 */
static size_t
take(const struct exporter *ex, const struct flow_record *recs, size_t n,
    int *full)
{
	size_t k, max;

	if (ex->nf9 != NULL) {
		k = nf9_take(ex->nf9, recs, n, msg_limit(ex));
		*full = k < n;
		return k;
	}
	max = nf5_max_records(ex->cfg.version, msg_limit(ex));
	k = n < max ? n : max;
	*full = k == max;
	return k;
}

/* Whether one data message takes all of recs[0..n) and has room left. */
static int
fits_one(const struct exporter *ex, const struct flow_record *recs, size_t n)
{
	int full;

	if (ex->nf9 != NULL)
		return nf9_fits_one(ex->nf9, recs, n, msg_limit(ex));
	return take(ex, recs, n, &full) == n && !full;
}

/* The collector a load-balanced message goes to: skip dead connections. */
static struct collector *
next_collector(struct exporter *ex)
{
	struct collector *c;
	unsigned i;

	for (i = 0; i < ex->ncol; i++) {
		c = &ex->col[ex->next_col++ % ex->ncol];
		if (!is_stream(ex) || c->state != C_DOWN)
			return c;
	}
	return &ex->col[ex->next_col++ % ex->ncol];
}

/* Records recs[0..k) to one collector, after a control message if due. */
static void
deliver(struct exporter *ex, struct collector *c,
    const struct export_clock *clk, const struct flow_record *recs, size_t k,
    uint64_t packets)
{
	struct wbuf w;
	int full;

	if (is_stream(ex)) {
		conn_poll(ex, c);
		if (c->state == C_DOWN) {
			collector_lost(c, CAUSE_DISCONNECTED, 0, (uint32_t)k,
			    packets);
			return;
		}
	}
	if (control_due(ex, &c->stream))
		send_control(ex, c, clk, 0);
	if (encode_data(ex, &c->stream, clk, recs, k, &w, &full) != k &&
	    !ex->warned_shape++)
		log_warnx("export: collector %s: message shapes differ; "
		    "please report", c->stats.name);
	collector_send(ex, c, w.buf, w.len, (uint32_t)k, packets);
}

static void
send_pending(struct exporter *ex, int final)
{
	const struct flow_record *recs;
	struct export_stream probe_st;
	struct export_clock clk;
	struct wbuf w;
	size_t off = 0, k, n, i;
	uint64_t packets, octets;
	int full, direct, holds = window_holds(ex);

	while (off < ex->npending) {
		recs = ex->queue + off;
		if (holds) {
			clk = ex->clk;
			n = ex->npending - off;
		} else
			n = uptime_window(ex, recs, ex->npending - off, &clk);
		/*
		 * How many records one message takes; the same for all.  With
		 * one UDP collector and no control message due, that message
		 * is encoded on its stream and sent as it is, unless it would
		 * hold the last records with room to spare: those wait for
		 * more.  Otherwise it is found from the records' lengths:
		 * each record is encoded once, when sent (once per collector).
		 */
		direct = ex->ncol == 1 && !is_stream(ex) &&
		    !ex->cfg.load_balance && !control_due(ex, &ex->col[0].stream);
		if (direct && !final && n == ex->npending - off &&
		    fits_one(ex, recs, n))
			break;	/* keep them for a fuller message */
		if (direct) {
			probe_st = ex->col[0].stream;
			k = encode_data(ex, &probe_st, &clk, recs, n, &w,
			    &full);
		} else
			k = take(ex, recs, n, &full);
		full = full || n < ex->npending - off;
		if (k == 0) {
			log_warnx("export: record does not fit a message of "
			    "%zu bytes; dropping %zu", msg_limit(ex),
			    ex->npending - off);
			ex->stats.unexportable += ex->npending - off;
			for (; off < ex->npending; off++) {
				ex->stats.unexportable_packets +=
				    ex->queue[off].packets +
				    ex->queue[off].rev_packets;
				ex->stats.unexportable_octets +=
				    ex->queue[off].octets +
				    ex->queue[off].rev_octets;
			}
			break;
		}
		if (!final && !full)
			break;	/* keep them for a fuller message */
		for (i = 0, packets = octets = 0; i < k; i++) {
			packets += recs[i].packets + recs[i].rev_packets;
			octets += recs[i].octets + recs[i].rev_octets;
		}
		if (direct) {
			ex->col[0].stream = probe_st;
			collector_send(ex, &ex->col[0], w.buf, w.len,
			    (uint32_t)k, packets);
		} else if (ex->cfg.load_balance)
			deliver(ex, next_collector(ex), &clk, recs, k, packets);
		else
			for (i = 0; i < ex->ncol; i++)
				deliver(ex, &ex->col[i], &clk, recs, k,
				    packets);
		ex->stats.datagrams++;
		ex->stats.records += k;
		ex->stats.packets += packets;
		ex->stats.octets += octets;
		off += k;
	}
	outbox_flush(ex);
	ex->queue += off;
	ex->npending -= off;
	if (ex->npending == 0)
		ex->queue = ex->pending;
	else if (ex->queue + PENDING_MAX > ex->pending + PENDING_SLOTS) {
		memmove(ex->pending, ex->queue,
		    ex->npending * sizeof(ex->pending[0]));
		ex->queue = ex->pending;
	}
}

/* The next free pending slot, sending full messages first if none. */
static struct flow_record *
pending_slot(struct exporter *ex)
{
	if (ex->npending == PENDING_MAX)
		send_pending(ex, 0);
	if (ex->npending == PENDING_MAX)
		send_pending(ex, 1);
	return &ex->queue[ex->npending];
}

static void
pending_add(struct exporter *ex, const struct flow_record *r)
{
	*pending_slot(ex) = *r;
	ex->npending++;
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

/* v1/v5: the records those formats can carry; IPv6 is unexportable. */
static __attribute__((noinline)) void
add_v5_flow(struct exporter *ex, const struct flow *f, enum expiry_reason why)
{
	struct flow_record r;
	const struct flow_side *s;
	int side[2], rev;
	size_t n, i;

	n = record_sides(f, 0, side, &rev);
	for (i = 0; i < n; i++) {
		s = &f->side[side[i]];
		if (f->key.af != 4) {
			if (!ex->warned_v6) {
				log_warnx("NetFlow v%d cannot carry IPv6 "
				    "flows: counted as unexportable (use -v 9 "
				    "or -v 10)",
				    ex->cfg.version);
				ex->warned_v6 = 1;
			}
			ex->stats.unexportable++;
			ex->stats.unexportable_packets += s->packets;
			ex->stats.unexportable_octets += s->octets;
			continue;
		}
		if (s->packets > UINT32_MAX || s->octets > UINT32_MAX) {
			fill_record(&r, f, side[i], rev, why);
			add_v5_record(ex, r);
			continue;
		}
		fill_record(pending_slot(ex), f, side[i], rev, why);
		ex->npending++;
	}
}

/* v9/IPFIX records filled in full: every member of every record. */
static __attribute__((noinline)) void
flow_expired_full(struct exporter *ex, const struct flow *f,
    enum expiry_reason why)
{
	int side[2], rev;
	size_t n, i;

	n = record_sides(f, ex->cfg.biflow && ex->cfg.version == 10, side,
	    &rev);
	for (i = 0; i < n; i++) {
		/* Filled in place: no copy of the record. */
		fill_record(pending_slot(ex), f, side[i], rev, why);
		ex->npending++;
	}
}

/*
 * The queue is full: send what fills messages.  A cold call, as
 * pending_slot() inlined into add_lean() cost 2 instructions a packet on
 * a cut of bench capture b.
 */
static __attribute__((noinline, cold)) void
pending_make_room(struct exporter *ex)
{
	(void)pending_slot(ex);
}

/*
 * A lean record from side i of f (a constant where inlined): what the
 * encoder and the totals read, with no reverse side to count.  The rest
 * of the slot is left as it was.
 */
static inline __attribute__((always_inline)) void
add_lean(struct exporter *ex, const struct flow *f, int i, uint8_t reason)
{
	struct flow_record *r;

	if (ex->npending == PENDING_MAX)
		pending_make_room(ex);
	r = &ex->queue[ex->npending++];
	fill_common(r, f, i, reason);
	r->rev_packets = r->rev_octets = 0;
}

void
exporter_flow_expired(void *arg, const struct flow *f, enum expiry_reason why)
{
	struct exporter *ex = arg;
	uint8_t reason;

	ex->stats.flows++;
	if (!ex->lean_records) {
		if (ex->cfg.version == 1 || ex->cfg.version == 5)
			add_v5_flow(ex, f, why);
		else
			flow_expired_full(ex, f, why);
		return;
	}
	/* Each side that saw packets, in order (no biflows: see above). */
	reason = end_reason(why);
	if (f->side[0].packets != 0)
		add_lean(ex, f, 0, reason);
	if (f->side[1].packets != 0)
		add_lean(ex, f, 1, reason);
}

void
exporter_packet(struct exporter *ex, const struct packet *pkt)
{
	struct flow_record *r = pending_slot(ex);

	/* Every member written: the slot is not cleared first. */
	memcpy(r->src, pkt->src, 16);
	memcpy(r->dst, pkt->dst, 16);
	/* MACs and labels only as far as the packet has them. */
	if (pkt->has_mac) {
		memcpy(r->src_mac, pkt->src_mac, 6);
		memcpy(r->dst_mac, pkt->dst_mac, 6);
	} else {
		memset(r->src_mac, 0, 6);
		memset(r->dst_mac, 0, 6);
	}
	r->packets = 1;
	r->octets = pkt->octets;
	r->first_ms = r->last_ms = pkt->ts_ms;
	r->rev_packets = r->rev_octets = 0;
	r->rev_first_ms = r->rev_last_ms = 0;
	r->sport = pkt->sport;
	r->dport = pkt->dport;
	r->vlan = pkt->vlan;
	r->inner_vlan = pkt->inner_vlan;
	r->af = pkt->af;
	r->proto = pkt->proto;
	r->tos = pkt->tos;
	r->tcp_flags = pkt->tcp_flags;
	r->rev_tcp_flags = 0;
	r->egress = pkt->egress;
	r->end_reason = 0;
	r->biflow = 0;
	r->if_in = pkt->egress ? 0 : pkt->ifindex;
	r->if_out = pkt->egress ? pkt->ifindex : 0;
	r->nmpls = pkt->nmpls;
	memcpy(r->mpls, pkt->mpls, pkt->nmpls * sizeof(r->mpls[0]));
	memset(r->mpls + pkt->nmpls, 0,
	    (DECODE_MAX_MPLS - pkt->nmpls) * sizeof(r->mpls[0]));
	ex->npending++;
	ex->stats.flows++;
}

void
exporter_flush(struct exporter *ex)
{
	unsigned i;

	if (ex->npending > 0)
		send_pending(ex, 1);
	if (is_stream(ex))
		for (i = 0; i < ex->ncol; i++)
			conn_poll(ex, &ex->col[i]);
}

void
exporter_finish(struct exporter *ex)
{
	struct pollfd pfd[EXPORT_MAX_COLLECTORS];
	uint64_t deadline = mono_ms() + DRAIN_MS, now;
	unsigned i, n;

	exporter_flush(ex);
	/* A last statistics record, so collectors learn the final totals. */
	for (i = 0; ex->nf9 != NULL && i < ex->ncol; i++) {
		struct collector *c = &ex->col[i];
		struct export_clock clk = ex->clk;

		if (!c->stream.tmpl_sent || (is_stream(ex) &&
		    c->state == C_DOWN))
			continue;
		if (clk.now_ms - clk.boot_ms >= UPTIME_SPAN)
			clk.boot_ms = (clk.now_ms / 1000) * 1000 - 1000;
		send_control(ex, c, &clk, 1);
	}
	if (!is_stream(ex))
		return;
	while ((now = mono_ms()) < deadline) {
		for (i = n = 0; i < ex->ncol; i++) {
			struct collector *c = &ex->col[i];

			if (c->state == C_DOWN || (c->state == C_UP &&
			    backlog_count(c) == 0))
				continue;
			pfd[n].fd = c->fd;
			pfd[n].events = POLLOUT;
			pfd[n].revents = 0;
			n++;
		}
		if (n == 0)
			break;
		(void)poll(pfd, n, (int)(deadline - now));
		for (i = 0; i < ex->ncol; i++)
			if (ex->col[i].state != C_DOWN)
				conn_poll(ex, &ex->col[i]);
	}
}
