/*
 * Control socket.  Requests are parsed by a pure function and dispatched
 * through one table; a reply is rendered into memory, then written
 * without blocking, so a slow or hostile client costs one bounded slot
 * and never stalls capture.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "capture.h"
#include "config.h"
#include "ctl.h"
#include "daemon.h"
#include "export.h"
#include "flowtable.h"
#include "log.h"
#include "probe.h"
#include "stats.h"

/* dump-flows stops listing here, so one request has bounded memory. */
#define CTL_MAX_REPLY		(8 * 1024 * 1024)
/* Connections taken per wake-up, so a flood cannot starve capture. */
#define CTL_ACCEPT_BATCH	32
/* Accepting pauses this long when the process is out of descriptors. */
#define CTL_EMFILE_SECS		1

enum client_phase { CLIENT_FREE, CLIENT_READING, CLIENT_WRITING };

struct ctl;
/* What a command does once its reply is out, before the client sees EOF. */
typedef void (*ctl_then_fn)(struct ctl *ctl);

struct ctl_client {
	struct ctl		*ctl;
	enum client_phase	 phase;
	int			 fd;
	struct event		*ev;
	struct timespec		 deadline;
	ctl_then_fn		 then;	/* still due */
	uint8_t			 in[CTL_MAX_LINE];
	size_t			 inlen;
	char			*out;
	size_t			 outlen;
	size_t			 outoff;
};

struct ctl {
	struct probe		*probe;
	int			 fd;
	struct event		*ev;
	struct event		*ev_resume;
	char			*path;		/* absolute: we may chdir */
	dev_t			 dev;		/* of the socket we bound */
	ino_t			 ino;
	unsigned		 nclients;
	struct ctl_client	 client[CTL_MAX_CLIENTS];
	struct ctl_stats	*stats;		/* the probe's */
};

/* softflowd 1.1 starts each reply this way; scripts may look for it. */
static void __attribute__((format(printf, 2, 3)))
reply(FILE *out, const char *fmt, ...)
{
	va_list ap;

	fprintf(out, "softflowd[%ld]: ", (long)getpid());
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
}

static void
then_shutdown(struct ctl *ctl)
{
	log_info("shutdown requested on the control socket");
	probe_shutdown(ctl->probe, 0);
}

static ctl_then_fn
cmd_shutdown(struct ctl *ctl, FILE *out)
{
	(void)ctl;
	reply(out, "Shutting down gracefully...");
	return then_shutdown;
}

static void
then_exit(struct ctl *ctl)
{
	struct probe *p = ctl->probe;

	log_warnx("exit requested on the control socket: %u active flows "
	    "are dropped unexported", flowtable_stats(p->ft)->active);
	daemon_notify("STOPPING=1");
	p->stopping = 1;
	p->exit_code = 0;
	event_base_loopbreak(p->base);
}

static ctl_then_fn
cmd_exit(struct ctl *ctl, FILE *out)
{
	(void)ctl;
	reply(out, "Exiting now...");
	return then_exit;
}

static ctl_then_fn
cmd_expire_all(struct ctl *ctl, FILE *out)
{
	struct probe *p = ctl->probe;
	uint64_t before = flowtable_stats(p->ft)->flows_expired;

	probe_expire(p, 1);
	reply(out, "Expired %" PRIu64 " flows.",
	    flowtable_stats(p->ft)->flows_expired - before);
	return NULL;
}

static ctl_then_fn
cmd_delete_all(struct ctl *ctl, FILE *out)
{
	uint32_t n = flowtable_delete_all(ctl->probe->ft);

	log_info("delete-all: %u flows dropped unexported", n);
	reply(out, "Deleted %u flows.", n);
	return NULL;
}

static void
format_time(uint64_t ms, char *buf, size_t len)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[32];

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(s, sizeof(s), "%" PRIu64, ms / 1000);
	snprintf(buf, len, "%s.%03u", s, (unsigned)(ms % 1000));
}

static ctl_then_fn
cmd_statistics(struct ctl *ctl, FILE *out)
{
	char since[48];

	format_time(ctl->probe->start_real_ms, since, sizeof(since));
	reply(out, "Accumulated statistics since %s UTC:", since);
	stats_write(ctl->probe, STATS_TEXT, out);
	return NULL;
}

static ctl_then_fn
cmd_statistics_json(struct ctl *ctl, FILE *out)
{
	stats_write(ctl->probe, STATS_JSON, out);
	return NULL;
}

static ctl_then_fn
cmd_metrics(struct ctl *ctl, FILE *out)
{
	stats_write(ctl->probe, STATS_PROMETHEUS, out);
	return NULL;
}

struct dump {
	FILE		*out;
	uint64_t	 shown;
	uint64_t	 skipped;
};

static void
dump_flow(void *arg, const struct flow *f)
{
	struct dump *d = arg;
	const struct flow_side *a = &f->side[0], *b = &f->side[1];
	char sa[INET6_ADDRSTRLEN], sb[INET6_ADDRSTRLEN];
	char first[48], last[48];
	uint64_t t0, t1;
	int af = f->key.af == 6 ? AF_INET6 : AF_INET;
	long pos = ftell(d->out);

	if (pos < 0 || pos >= CTL_MAX_REPLY) {
		d->skipped++;
		return;
	}
	if (inet_ntop(af, f->key.addr[0], sa, sizeof(sa)) == NULL)
		snprintf(sa, sizeof(sa), "?");
	if (inet_ntop(af, f->key.addr[1], sb, sizeof(sb)) == NULL)
		snprintf(sb, sizeof(sb), "?");
	t0 = a->packets && b->packets ? (a->first_ms < b->first_ms ?
	    a->first_ms : b->first_ms) : a->packets ? a->first_ms : b->first_ms;
	t1 = a->last_ms > b->last_ms ? a->last_ms : b->last_ms;
	format_time(t0, first, sizeof(first));
	format_time(t1, last, sizeof(last));
	fprintf(d->out, "ACTIVE [%s]:%u <> [%s]:%u proto:%u tos:%u "
	    "packets>:%" PRIu64 " octets>:%" PRIu64 " packets<:%" PRIu64
	    " octets<:%" PRIu64 " start:%s finish:%s tcp>:%02x tcp<:%02x "
	    "if:%u vlan:%u timeout:%s\n", sa, f->key.port[0], sb,
	    f->key.port[1], f->key.proto, f->key.tos, a->packets, a->octets,
	    b->packets, b->octets, first, last, a->tcp_flags, b->tcp_flags,
	    f->key.ifindex, f->key.vlan,
	    flowtable_class_name((enum flow_class)f->cls));
	d->shown++;
}

static ctl_then_fn
cmd_dump_flows(struct ctl *ctl, FILE *out)
{
	struct dump d = { .out = out };

	reply(out, "Dumping flow data:");
	flowtable_foreach(ctl->probe->ft, dump_flow, &d);
	if (d.skipped)
		fprintf(out, "... %" PRIu64 " more flows not shown: the reply "
		    "is capped at %d MiB\n", d.skipped,
		    CTL_MAX_REPLY / (1024 * 1024));
	fprintf(out, "%" PRIu64 " active flows\n", d.shown + d.skipped);
	return NULL;
}

static ctl_then_fn
cmd_timeouts(struct ctl *ctl, FILE *out)
{
	/* softflowd 1.1's layout, so scripts reading it keep working. */
	static const struct {
		const char	*label;
		enum timeout_id	 id;
	} rows[] = {
		{ "TCP timeout", T_TCP },
		{ "TCP post-RST timeout", T_TCP_RST },
		{ "TCP post-FIN timeout", T_TCP_FIN },
		{ "UDP timeout", T_UDP },
		{ "ICMP timeout", T_ICMP },
		{ "General timeout", T_GENERAL },
		{ "Maximum lifetime", T_MAXLIFE },
		{ "Expiry interval", T_EXPINT },
	};
	size_t i;

	reply(out, "Printing timeouts:");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(out, "%22s: %us\n", rows[i].label,
		    config_timeout(&ctl->probe->cfg, rows[i].id));
	return NULL;
}

static ctl_then_fn
cmd_send_template(struct ctl *ctl, FILE *out)
{
	exporter_force_templates(ctl->probe->ex);
	reply(out, "Template will be sent at next flow export");
	return NULL;
}

static void
set_gathering(struct ctl *ctl, int on)
{
	struct probe *p = ctl->probe;
	unsigned i;

	for (i = 0; i < p->ncap; i++)
		capture_pause(p->cap[i], !on);
	p->gathering = on;
}

static ctl_then_fn
cmd_stop_gather(struct ctl *ctl, FILE *out)
{
	set_gathering(ctl, 0);
	log_info("data collection stopped on the control socket");
	reply(out, "Data collection stopped.");
	return NULL;
}

static ctl_then_fn
cmd_start_gather(struct ctl *ctl, FILE *out)
{
	set_gathering(ctl, 1);
	log_info("data collection resumed on the control socket");
	reply(out, "Data collection resumed.");
	return NULL;
}

static void
set_verbosity(struct ctl *ctl, int delta, FILE *out)
{
	int v = log_get_verbose() + delta;

	if (v < 0)
		v = 0;
	if (v > 3)
		v = 3;
	log_set_verbose(v);
	ctl->probe->cfg.verbose = v;
	reply(out, "Debug level %s to %d.", delta > 0 ? "increased" :
	    "decreased", v);
}

static ctl_then_fn
cmd_debug_plus(struct ctl *ctl, FILE *out)
{
	set_verbosity(ctl, 1, out);
	return NULL;
}

static ctl_then_fn
cmd_debug_minus(struct ctl *ctl, FILE *out)
{
	set_verbosity(ctl, -1, out);
	return NULL;
}

static ctl_then_fn
cmd_help(struct ctl *ctl, FILE *out)
{
	(void)ctl;
	fprintf(out, "Valid control words are:\n");
	ctl_write_help(out);
	return NULL;
}

/* The dispatch table, in the order of enum ctl_command. */
static ctl_then_fn (*const handlers[CTL_NCOMMANDS])(struct ctl *, FILE *) = {
#define CTL_HANDLER(id, name, help) [CTL_CMD_##id] = cmd_##id,
	CTL_COMMANDS(CTL_HANDLER)
#undef CTL_HANDLER
};

/* Monotonic deadlines: a client gets CTL_IDLE_SECS in all, not per byte. */
static void
deadline_set(struct timespec *d, int secs)
{
	clock_gettime(CLOCK_MONOTONIC, d);
	d->tv_sec += secs;
}

static struct timeval
deadline_left(const struct timespec *d)
{
	struct timespec now;
	struct timeval tv = { 0, 0 };
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(d->tv_sec - now.tv_sec) * 1000000000LL +
	    (d->tv_nsec - now.tv_nsec);
	if (ns > 0) {
		tv.tv_sec = (time_t)(ns / 1000000000LL);
		tv.tv_usec = (suseconds_t)(ns % 1000000000LL / 1000);
	}
	return tv;
}

static void client_cb(evutil_socket_t, short, void *);

static void
client_close(struct ctl_client *c)
{
	struct ctl *ctl = c->ctl;

	if (c->phase == CLIENT_FREE)
		return;
	if (c->ev)
		event_free(c->ev);
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof(*c));
	c->ctl = ctl;
	c->fd = -1;
	c->phase = CLIENT_FREE;
	ctl->nclients--;
}

/* Wait for what (EV_READ or EV_WRITE) until the client's deadline. */
static int
client_wait(struct ctl_client *c, short what)
{
	struct timeval tv = deadline_left(&c->deadline);

	if (c->ev)
		event_free(c->ev);
	c->ev = event_new(c->ctl->probe->base, c->fd, what, client_cb, c);
	if (c->ev == NULL || event_add(c->ev, &tv) == -1) {
		log_warnx("control socket: cannot wait for a client; "
		    "dropping it");
		client_close(c);
		return -1;
	}
	return 0;
}

/* The reply is out (or cannot go out): run the command's sequel, close. */
static void
client_done(struct ctl_client *c)
{
	ctl_then_fn then = c->then;

	c->then = NULL;
	if (then != NULL)
		then(c->ctl);
	client_close(c);
}

static void
client_write(struct ctl_client *c)
{
	ssize_t n;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->outoff += (size_t)n;
			/* Progress earns the reader more time. */
			deadline_set(&c->deadline, CTL_WRITE_SECS);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			client_wait(c, EV_WRITE);
			return;
		}
		c->ctl->stats->refused[CTL_NOT_READING]++;
		break;
	}
	client_done(c);
}

/* Render the reply to the request (or to its refusal) and start sending. */
static void
client_respond(struct ctl_client *c, enum ctl_status st,
    const struct ctl_request *req)
{
	struct ctl *ctl = c->ctl;
	FILE *out;

	free(c->out);
	c->out = NULL;
	c->outlen = c->outoff = 0;
	if ((out = open_memstream(&c->out, &c->outlen)) == NULL) {
		log_warn("control socket: cannot build a reply");
		client_close(c);
		return;
	}
	switch (st) {
	case CTL_OK:
		ctl->stats->commands++;
		log_debug("control command \"%s\"", ctl_command_name(req->cmd));
		c->then = handlers[req->cmd](ctl, out);
		break;
	case CTL_UNKNOWN:
		fprintf(out, "error: unknown command \"%.*s\"; `softflowctl "
		    "help` lists the commands\n", (int)req->word_len,
		    (const char *)c->in + req->word_off);
		break;
	case CTL_EMPTY:
		fprintf(out, "error: empty command; `softflowctl help` lists "
		    "the commands\n");
		break;
	case CTL_TOO_LONG:
		fprintf(out, "error: command line longer than %d bytes\n",
		    CTL_MAX_LINE - 1);
		break;
	case CTL_BAD_BYTE:
		fprintf(out, "error: command contains bytes that are not "
		    "printable ASCII\n");
		break;
	case CTL_IDLE:
		fprintf(out, "error: no command within %d s; closing\n",
		    CTL_IDLE_SECS);
		break;
	default:
		fprintf(out, "error: %s\n", ctl_status_name(st));
		break;
	}
	if (fclose(out) != 0 || c->out == NULL) {
		log_warnx("control socket: out of memory for a reply");
		client_close(c);
		return;
	}
	if (st != CTL_OK)
		ctl->stats->refused[st]++;
	c->phase = CLIENT_WRITING;
	deadline_set(&c->deadline, CTL_WRITE_SECS);
	client_write(c);
}

static void
client_read(struct ctl_client *c)
{
	struct ctl_request req;
	enum ctl_status st;
	ssize_t n;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			client_wait(c, EV_READ);
		else
			client_close(c);
		return;
	}
	c->inlen += (size_t)n;
	st = ctl_parse(c->in, c->inlen, n == 0, &req);
	if (st == CTL_INCOMPLETE) {
		client_wait(c, EV_READ);
		return;
	}
	client_respond(c, st, &req);
}

static void
client_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *c = arg;

	(void)fd;
	if (what & EV_TIMEOUT) {
		if (c->phase == CLIENT_READING) {
			client_respond(c, CTL_IDLE, NULL);
		} else {
			c->ctl->stats->refused[CTL_NOT_READING]++;
			client_done(c);
		}
		return;
	}
	if (c->phase == CLIENT_READING)
		client_read(c);
	else
		client_write(c);
}

/* A client beyond the limit gets one line and the door. */
static void
refuse_busy(struct ctl *ctl, int fd)
{
	char msg[96];
	int len;

	len = snprintf(msg, sizeof(msg), "error: too many control clients "
	    "(%d at once); try again\n", CTL_MAX_CLIENTS);
	(void)send(fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
	ctl->stats->refused[CTL_TOO_MANY]++;
}

static void
resume_accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl *ctl = arg;

	(void)fd;
	(void)what;
	event_add(ctl->ev, NULL);
}

static void
accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct ctl *ctl = arg;
	struct ctl_client *c;
	struct timeval tv = { CTL_EMFILE_SECS, 0 };
	unsigned i, k;
	int fd;

	(void)what;
	for (k = 0; k < CTL_ACCEPT_BATCH; k++) {
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Listening on would spin: pause a while. */
				log_warn("control socket: accept");
				event_del(ctl->ev);
				event_add(ctl->ev_resume, &tv);
			}
			return;
		}
		ctl->stats->connections++;
		if (ctl->nclients >= CTL_MAX_CLIENTS) {
			refuse_busy(ctl, fd);
			continue;
		}
		for (i = 0, c = NULL; i < CTL_MAX_CLIENTS; i++)
			if (ctl->client[i].phase == CLIENT_FREE) {
				c = &ctl->client[i];
				break;
			}
		if (c == NULL) {
			refuse_busy(ctl, fd);
			continue;
		}
		c->fd = fd;
		c->phase = CLIENT_READING;
		c->inlen = 0;
		ctl->nclients++;
		deadline_set(&c->deadline, CTL_IDLE_SECS);
		client_wait(c, EV_READ);
	}
}

/* 1: a server answers at path; 0: stale; -1: cannot tell (errno). */
static int
socket_alive(const struct sockaddr_un *sun)
{
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (r == 0 || errno == EAGAIN || errno == EINPROGRESS)
		r = 1;		/* EAGAIN: alive, its backlog is full */
	else if (errno == ECONNREFUSED)
		r = 0;
	else
		r = -1;
	close(fd);
	return r;
}

static char *
absolute_path(const char *path)
{
	char cwd[PATH_MAX], *abs;

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return strdup(path);
	if (asprintf(&abs, "%s/%s", cwd, path) == -1)
		return NULL;
	return abs;
}

struct ctl *
ctl_open(const char *path, struct probe *p, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat sb;
	struct ctl *ctl;
	mode_t mask;
	unsigned i;
	int r;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "control socket path %s is longer than "
		    "%zu bytes; choose a shorter -c", path,
		    sizeof(sun.sun_path) - 1);
		return NULL;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((ctl = calloc(1, sizeof(*ctl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->probe = p;
	ctl->stats = &p->ctl_stats;
	ctl->fd = -1;
	for (i = 0; i < CTL_MAX_CLIENTS; i++) {
		ctl->client[i].ctl = ctl;
		ctl->client[i].fd = -1;
	}
	if ((ctl->path = absolute_path(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode)) {
			snprintf(err, errlen, "control socket %s exists and is "
			    "not a socket; remove it or choose another -c",
			    path);
			goto fail;
		}
		r = socket_alive(&sun);
		if (r == 1) {
			snprintf(err, errlen, "another softflowd is serving "
			    "%s; stop it (softflowctl -c %s shutdown) or "
			    "choose another -c", path, path);
			goto fail;
		}
		if (r == -1) {
			snprintf(err, errlen, "control socket %s: %s; remove "
			    "it or choose another -c", path, strerror(errno));
			goto fail;
		}
		/* Stale: left by a daemon that did not exit cleanly. */
		if (unlink(path) == -1) {
			snprintf(err, errlen, "cannot remove the stale control "
			    "socket %s: %s", path, strerror(errno));
			goto fail;
		}
	}

	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (ctl->fd == -1) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		goto fail;
	}
	/* 0600 from the start: no window in which others could connect. */
	mask = umask(0177);
	r = bind(ctl->fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(mask);
	if (r == -1) {
		snprintf(err, errlen, "cannot create control socket %s: %s "
		    "(does its directory exist? -c none runs without one)",
		    path, strerror(errno));
		goto fail;
	}
	if (stat(path, &sb) == 0) {
		ctl->dev = sb.st_dev;
		ctl->ino = sb.st_ino;
	}
	if (listen(ctl->fd, CTL_MAX_CLIENTS) == -1) {
		snprintf(err, errlen, "control socket %s: listen: %s", path,
		    strerror(errno));
		goto fail_unlink;
	}
	ctl->ev = event_new(p->base, ctl->fd, EV_READ | EV_PERSIST,
	    accept_cb, ctl);
	ctl->ev_resume = evtimer_new(p->base, resume_accept_cb, ctl);
	if (ctl->ev == NULL || ctl->ev_resume == NULL ||
	    event_add(ctl->ev, NULL) == -1) {
		snprintf(err, errlen, "control socket: cannot add it to the "
		    "event loop");
		goto fail_unlink;
	}
	return ctl;
fail_unlink:
	unlink(path);
fail:
	if (ctl->ev)
		event_free(ctl->ev);
	if (ctl->ev_resume)
		event_free(ctl->ev_resume);
	if (ctl->fd != -1)
		close(ctl->fd);
	free(ctl->path);
	free(ctl);
	return NULL;
}

void
ctl_close(struct ctl *ctl)
{
	struct stat sb;
	unsigned i;

	if (ctl == NULL)
		return;
	for (i = 0; i < CTL_MAX_CLIENTS; i++)
		client_close(&ctl->client[i]);
	event_free(ctl->ev);
	event_free(ctl->ev_resume);
	close(ctl->fd);
	/*
	 * Remove the socket only if it is still ours.  After a privilege
	 * drop or chroot this can fail; the next start replaces the stale
	 * socket.
	 */
	if (stat(ctl->path, &sb) == 0 && sb.st_dev == ctl->dev &&
	    sb.st_ino == ctl->ino && unlink(ctl->path) == -1)
		log_debug("control socket %s left behind: %s", ctl->path,
		    strerror(errno));
	free(ctl->path);
	free(ctl);
}
