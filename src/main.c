/*
 * softflowd: capture -> decode -> flow table -> expiry -> export, on one
 * libevent loop.
 */
#include <sys/time.h>

#include <errno.h>
#include <signal.h>
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
#include "decode.h"
#include "export.h"
#include "flowtable.h"
#include "log.h"
#include "probe.h"
#include "stats.h"

#define PROGRESS_SECS	1

uint64_t
probe_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t
probe_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/*
 * The probe's clock.  The exporter's follows it when records can leave:
 * before a batch is accounted, at expiry and per PSAMP packet, so a
 * replay pays no call per packet for it.
 */
static void
advance_clock(struct probe *p, uint64_t now_ms)
{
	if (now_ms > p->now_ms)
		p->now_ms = now_ms;
	exporter_set_clock(p->ex, p->now_ms);
}

/* Account the packets decoded so far. */
static void
probe_flush(struct probe *p)
{
	exporter_set_clock(p->ex, p->now_ms);
	flowtable_account_batch(p->ft, p->batch, p->nbatch);
	p->nbatch = 0;
}

void
probe_expire(struct probe *p, int all)
{
	probe_flush(p);
	if (all)
		flowtable_expire_all(p->ft);
	else
		flowtable_expire(p->ft, p->now_ms);
	exporter_flush(p->ex);
	p->next_expiry_ms = p->now_ms +
	    config_timeout(&p->cfg, T_EXPINT) * 1000ULL;
}

/* Rare outcomes of a packet, kept out of on_frames' straight line. */
static __attribute__((noinline)) void
count_notes(struct probe *p, uint32_t notes)
{
	int n;

	for (n = 0; notes != 0; notes >>= 1, n++)
		if (notes & 1)
			p->decode_notes[n]++;
}

/* A frame off the fast path: 1 when it is accounted. */
static __attribute__((noinline)) int
decode_general(struct probe *p, const struct capture_frame *f,
    uint32_t wirelen, int dlt, uint32_t ifindex, struct packet *pkt)
{
	enum decode_result r;

	r = decode_packet_general(dlt, f->data, f->caplen, wirelen, pkt);
	if (r != DECODE_OK) {
		p->decode_drops[r]++;
		p->totals.ignored_packets++;
		return 0;
	}
	if (pkt->notes != 0)
		count_notes(p, pkt->notes);
	if (pkt->ifindex == 0)
		pkt->ifindex = ifindex;
	return 1;
}

/* The first packet of a replay, or one due for expiry: see on_frames. */
static __attribute__((noinline)) struct packet *
clock_step(struct probe *p, struct packet *pkt)
{
	if (p->now_ms == 0) {
		p->next_expiry_ms = pkt->ts_ms +
		    config_timeout(&p->cfg, T_EXPINT) * 1000ULL;
		/* The export uptime counts from the first packet. */
		exporter_set_clock(p->ex, pkt->ts_ms);
	}
	p->now_ms = pkt->ts_ms;
	if (p->now_ms < p->next_expiry_ms)
		return pkt;
	/* Expiry accounts the packets before this one. */
	probe_expire(p, 0);
	p->batch[0] = *pkt;
	return &p->batch[0];
}

/*
 * on_frames' loop.  plain is a constant where this is inlined: Ethernet,
 * no sampling, no PSAMP, no MACs wanted, a replay's usual case, whose
 * copy of the loop then tests none of them per packet.
 */
static inline __attribute__((always_inline)) void
frames_run(struct probe *p, const struct capture_frame *f, unsigned n,
    int dlt, uint32_t ifindex, int plain)
{
	const struct capture_frame *end = f + n, *stop;
	struct packet *pkt;
	uint64_t now, next;
	uint32_t wirelen;
	unsigned sampling = plain ? 1 : p->cfg.sampling;
	int psamp = plain ? 0 : p->cfg.psamp, macs = plain ? 0 : p->macs;

	if (plain)
		dlt = DLT_EN10MB;
	/*
	 * The next slot and the clock live in registers here, not in *p:
	 * the stores into the batch would make the compiler reload them.
	 */
	pkt = &p->batch[p->nbatch];
	now = p->now_ms;
	/* Before the first packet no time is < 0: clock_step() starts it. */
	next = now != 0 ? p->next_expiry_ms : 0;
	while (f < end) {
		/*
		 * A frame adds at most one packet (clock_step() only empties
		 * the batch), so none fills up before stop: one test per
		 * stretch instead of one per packet.
		 */
		stop = end - f < &p->batch[PROBE_BATCH] - pkt ? end :
		    f + (&p->batch[PROBE_BATCH] - pkt);
		for (; f < stop; f++) {
			if (sampling > 1 &&
			    p->sample_counter++ % sampling != 0) {
				p->packets_unsampled++;
				continue;
			}
			wirelen = f->len > f->caplen ? f->len : f->caplen;
			/* The fast path's link never names an interface. */
			if (dlt == DLT_EN10MB && decode_fast_ether(f->data,
			    f->caplen, wirelen, pkt, macs) == DECODE_OK)
				pkt->ifindex = ifindex;
			else if (!decode_general(p, f, wirelen, dlt, ifindex,
			    pkt))
				continue;
			pkt->ts_ms = f->ts_ms;
			/* Replay time: the packets' own, never running back. */
			if (pkt->ts_ms > now) {
				if (pkt->ts_ms < next)
					now = pkt->ts_ms;
				else {
					p->nbatch = (unsigned)(pkt - p->batch);
					p->now_ms = now;
					pkt = clock_step(p, pkt);
					now = p->now_ms;
					next = p->next_expiry_ms;
				}
			}
			if (psamp) {
				p->now_ms = now;
				exporter_set_clock(p->ex, now);
				exporter_packet(p->ex, pkt);	/* one per packet */
			} else
				pkt++;
		}
		if (pkt == &p->batch[PROBE_BATCH]) {
			p->nbatch = PROBE_BATCH;
			p->now_ms = now;
			probe_flush(p);
			pkt = p->batch;
		}
	}
	p->nbatch = (unsigned)(pkt - p->batch);
	p->now_ms = now;
}

/* Decode each frame and hand it to the flow table (or to PSAMP). */
static void
on_frames(void *arg, const struct capture_frame *f, unsigned n, int dlt,
    uint32_t ifindex)
{
	struct probe *p = arg;

	if (f == NULL) {	/* the capture's batch is done */
		probe_flush(p);
		return;
	}
	p->packets_seen += n;
	if (dlt == DLT_EN10MB && p->cfg.sampling <= 1 && !p->cfg.psamp &&
	    !p->macs)
		frames_run(p, f, n, dlt, ifindex, 1);
	else
		frames_run(p, f, n, dlt, ifindex, 0);
}

static void
print_progress(struct probe *p, int final)
{
	uint64_t pos, size;
	const struct flowtable_stats *fs = flowtable_stats(p->ft);
	unsigned i;

	for (i = 0; i < p->ncap; i++) {
		if (capture_progress(p->cap[i], &pos, &size) == -1)
			continue;
		fprintf(stderr, "\r%s: %3u%% %llu packets, %u active flows, "
		    "%llu exported%s", capture_name(p->cap[i]),
		    size ? (unsigned)(pos * 100 / size) : 100,
		    (unsigned long long)p->packets_seen, fs->active,
		    (unsigned long long)fs->flows_expired, final ? "\n" : "");
	}
}

static void
progress_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	print_progress(arg, 0);
}

static void
expiry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;

	(void)fd;
	(void)what;
	/* Live: the wall clock drives expiry when packets are sparse. */
	if (p->replays_running == 0) {
		advance_clock(p, probe_real_ms());
		probe_expire(p, 0);
	}
}

void
probe_shutdown(struct probe *p, int exit_code)
{
	if (p->stopping)
		return;
	p->stopping = 1;
	p->exit_code = exit_code;
	daemon_notify("STOPPING=1");
	probe_expire(p, 1);
	exporter_finish(p->ex);		/* TCP/SCTP: a bounded drain */
	event_base_loopbreak(p->base);
}

static void
on_eof(void *arg, struct capture *c, const char *error)
{
	struct probe *p = arg;

	if (error != NULL) {
		log_warnx("%s: %s; flows read so far are exported",
		    capture_name(c), error);
		p->read_errors++;
		p->exit_code = 1;
	}
	if (--p->replays_running == 0) {
		if (p->ev_progress) {
			event_del(p->ev_progress);
			print_progress(p, 1);
		}
		probe_shutdown(p, p->exit_code);
	}
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct probe *p = arg;
	char err[512];

	(void)what;
	switch (sig) {
	case SIGHUP:
		daemon_notify("RELOADING=1\nMONOTONIC_USEC=%llu",
		    (unsigned long long)probe_monotonic_us());
		if (probe_reload(p, err, sizeof(err)) == -1)
			log_warnx("reload refused, keeping the running "
			    "configuration: %s", err);
		else
			log_info("configuration reloaded");
		daemon_notify("READY=1");
		break;
	default:
		log_info("signal %d: exporting all flows and exiting",
		    (int)sig);
		probe_shutdown(p, 0);
		break;
	}
}

static int
same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Whether the running exporter can serve the new config unchanged. */
static int
same_export(const struct export_config *a, const struct export_config *b)
{
	unsigned i;

	if (a->version != b->version || a->biflow != b->biflow ||
	    a->load_balance != b->load_balance ||
	    a->hoplimit != b->hoplimit || a->transport != b->transport ||
	    a->domain_id != b->domain_id ||
	    a->tmpl_packets != b->tmpl_packets ||
	    a->tmpl_secs != b->tmpl_secs || a->time_prec != b->time_prec ||
	    a->mtu != b->mtu || !same_str(a->send_ifname, b->send_ifname) ||
	    a->psamp != b->psamp || a->sampling != b->sampling ||
	    a->ncollectors != b->ncollectors)
		return 0;
	for (i = 0; i < a->ncollectors; i++)
		if (!same_str(a->collectors[i], b->collectors[i]))
			return 0;
	return 1;
}

/* Settings fixed at start-up: a reload keeps them and says so. */
static void
reload_keep_fixed(const struct config *cur, struct config *next)
{
	unsigned i;
	int ifs = cur->ninterfaces != next->ninterfaces;

	for (i = 0; !ifs && i < cur->ninterfaces; i++)
		ifs = !same_str(cur->interfaces[i], next->interfaces[i]);
#define FIXED(changed, what)						\
	if (changed)							\
		log_warnx("reload: %s changes only on restart; keeping "	\
		    "the running value", what)
	FIXED(ifs, "interface (-i)");
	FIXED(!same_str(cur->readfile, next->readfile), "read (-r)");
	FIXED(!same_str(cur->bpf, next->bpf), "filter");
	FIXED(cur->max_flows != next->max_flows, "max_flows (-m)");
	FIXED(cur->track != next->track, "track (-T)");
	FIXED(cur->snaplen != next->snaplen, "snaplen (-C)");
	FIXED(cur->promisc != next->promisc, "no_promisc (-N)");
	FIXED(cur->bufsize != next->bufsize, "bufsize (-B)");
	FIXED(!same_str(cur->ctlsock, next->ctlsock), "ctlsock (-c)");
	FIXED(!same_str(cur->pidfile, next->pidfile), "pidfile (-p)");
	FIXED(!same_str(cur->user, next->user), "user (-u)");
	FIXED(!same_str(cur->chroot_dir, next->chroot_dir), "chroot (-j)");
	FIXED(cur->export.mpls_labels != next->export.mpls_labels,
	    "mpls_labels (-x)");
	FIXED(cur->psamp != next->psamp, "version psamp (-v)");
#undef FIXED
	/* Flow records are sized for the labels chosen at start-up. */
	next->export.mpls_labels = cur->export.mpls_labels;
	/* Packets go either to the flow table or to PSAMP, for good. */
	if (cur->psamp != next->psamp) {
		next->psamp = next->export.psamp = cur->psamp;
		next->export.version = cur->export.version;
	}
}

int
probe_reload(struct probe *p, char *err, size_t errlen)
{
	struct config next;
	struct flowtable_config ftc;
	struct exporter *ex;
	struct export_config old;
	struct timeval tv;
	uint32_t expint = config_timeout(&p->cfg, T_EXPINT);
	int r;

	/* Defaults, the file, then the same command line: as at start-up. */
	config_defaults(&next);
	r = config_parse_args(&next, p->argc, p->argv, err, errlen);
	if (r == 0)
		r = config_validate(&next, err, errlen);
	if (r != 0) {
		if (r == 1)
			snprintf(err, errlen, "the saved command line asks "
			    "for -h");
		config_free(&next);
		return -1;
	}
	reload_keep_fixed(&p->cfg, &next);

	if (!same_export(&p->cfg.export, &next.export)) {
		/*
		 * A new exporter takes over the flow table's expiries; the
		 * old one sends what it holds first, so no flow is lost.
		 */
		if ((ex = exporter_new(&next.export)) == NULL) {
			snprintf(err, errlen, "cannot set up export to the new "
			    "collectors (see the warning above)");
			config_free(&next);
			return -1;
		}
		exporter_set_clock(ex, p->now_ms);
		exporter_set_probe_totals(ex, &p->totals);
		/* A TCP/SCTP backlog gets its bounded drain, as at exit. */
		exporter_set_clock(p->ex, p->now_ms);
		exporter_finish(p->ex);
		exporter_carry_stats(ex, p->ex);
		flowtable_set_export(p->ft, exporter_flow_expired, ex);
		exporter_free(p->ex);
		p->ex = ex;
		/* The running config takes the new export strings. */
		old = p->cfg.export;
		p->cfg.export = next.export;
		next.export = old;
		log_info("export: NetFlow v%d to %u collector%s",
		    p->cfg.export.version, p->cfg.export.ncollectors,
		    p->cfg.export.ncollectors == 1 ? "" : "s");
	}
	memcpy(p->cfg.timeout, next.timeout, sizeof(p->cfg.timeout));
	memcpy(p->cfg.timeout_set, next.timeout_set,
	    sizeof(p->cfg.timeout_set));
	config_flowtable(&p->cfg, &ftc);
	flowtable_set_timeouts(p->ft, &ftc);
	if (config_timeout(&p->cfg, T_EXPINT) != expint && p->ev_expiry) {
		tv.tv_sec = config_timeout(&p->cfg, T_EXPINT);
		tv.tv_usec = 0;
		event_add(p->ev_expiry, &tv);
	}
	p->cfg.sampling = next.sampling;
	p->cfg.verbose = next.verbose;
	log_set_verbose(next.verbose);
	config_free(&next);
	return 0;
}

static int
setup_signals(struct probe *p)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	unsigned i;

	signal(SIGPIPE, SIG_IGN);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		p->ev_signal[i] = evsignal_new(p->base, sigs[i], signal_cb, p);
		if (p->ev_signal[i] == NULL ||
		    event_add(p->ev_signal[i], NULL) == -1)
			return -1;
	}
	return 0;
}

static void
write_pidfile(const char *path)
{
	FILE *fp;

	if (path == NULL || !strcmp(path, "none"))
		return;
	if ((fp = fopen(path, "w")) == NULL) {
		log_warn("pid file %s", path);
		return;
	}
	fprintf(fp, "%ld\n", (long)getpid());
	fclose(fp);
}

int
main(int argc, char **argv)
{
	static struct probe probe;
	struct probe *p = &probe;
	struct flowtable_config ftc;
	struct capture_options copt;
	struct timeval tv;
	char err[512];
	unsigned i;
	int r, replay;

	p->argc = argc;
	p->argv = argv;
	config_defaults(&p->cfg);
	r = config_parse_args(&p->cfg, argc, argv, err, sizeof(err));
	if (r == 1)
		return 0;
	if (r == -1 || config_validate(&p->cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "softflowd: %s\n", err);
		return 1;
	}
	replay = p->cfg.readfile != NULL;
	if (replay)
		p->cfg.foreground = 1;
	log_init("softflowd", 1, p->cfg.verbose);
	if (!replay && daemon_check_pidfile(p->cfg.pidfile, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	if (daemon_privileges_check(p->cfg.user, p->cfg.chroot_dir, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);
	/* Under systemd (Type=notify) the service manager is the parent. */
	if (daemon_notify_open())
		p->cfg.foreground = 1;
	p->gathering = 1;
	/* Both are fixed at start-up: a reload keeps them. */
	p->macs = p->cfg.track == TRACK_ETHER || p->cfg.psamp;

	memset(&copt, 0, sizeof(copt));
	copt.snaplen = p->cfg.snaplen;
	copt.promisc = p->cfg.promisc;
	copt.bufsize = p->cfg.bufsize;
	copt.bpf = p->cfg.bpf;
	if (replay) {
		p->cap[p->ncap] = capture_open_file(p->cfg.readfile, &copt, err,
		    sizeof(err));
		if (p->cap[p->ncap++] == NULL)
			fatalx("%s", err);
	} else {
		for (i = 0; i < p->cfg.ninterfaces; i++) {
			p->cap[p->ncap] = capture_open_live(
			    p->cfg.interfaces[i], &copt, err, sizeof(err));
			if (p->cap[p->ncap++] == NULL)
				fatalx("%s", err);
		}
	}

	if (p->cfg.export.ncollectors == 0)
		log_warnx("no collector given (-n host:port): flows are "
		    "tracked and counted but not sent");
	if ((p->ex = exporter_new(&p->cfg.export)) == NULL)
		fatalx("cannot set up export; check the -n collectors");
	exporter_set_probe_totals(p->ex, &p->totals);
	config_flowtable(&p->cfg, &ftc);
	if ((p->ft = flowtable_new(&ftc, exporter_flow_expired, p->ex)) == NULL)
		fatalx("cannot allocate a flow table of %u flows; lower -m",
		    p->cfg.max_flows);

	if ((p->base = event_base_new()) == NULL)
		fatalx("cannot create the event loop");
	if (setup_signals(p) == -1)
		fatalx("cannot install signal handlers");
	/* A replay has a socket only when asked, so replays run in parallel. */
	if ((!replay || p->cfg.ctlsock_given) &&
	    strcmp(p->cfg.ctlsock, "none") != 0 &&
	    (p->ctl = ctl_open(p->cfg.ctlsock, p, err, sizeof(err))) == NULL)
		fatalx("%s", err);

	if (!p->cfg.foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_to_syslog();
		if (event_reinit(p->base) == -1)
			fatalx("cannot re-initialise the event loop after fork");
	}
	if (!replay)
		write_pidfile(p->cfg.pidfile);
	/* Everything privileged is open: captures, collectors, sockets. */
	if (daemon_drop_privileges(p->cfg.user, p->cfg.chroot_dir, err,
	    sizeof(err)) == -1)
		fatalx("%s", err);

	p->start_real_ms = probe_real_ms();
	if (!replay)
		advance_clock(p, p->start_real_ms);
	for (i = 0; i < p->ncap; i++) {
		if (capture_start(p->cap[i], p->base, on_frames, on_eof, p))
			fatalx("%s: cannot start capture", capture_name(p->cap[i]));
		if (capture_is_file(p->cap[i]))
			p->replays_running++;
	}
	tv.tv_sec = config_timeout(&p->cfg, T_EXPINT);
	tv.tv_usec = 0;
	p->ev_expiry = event_new(p->base, -1, EV_PERSIST, expiry_cb, p);
	if (p->ev_expiry == NULL || event_add(p->ev_expiry, &tv) == -1)
		fatalx("cannot start the expiry timer");
	if (replay && (p->cfg.progress == 1 ||
	    (p->cfg.progress == -1 && isatty(STDERR_FILENO)))) {
		tv.tv_sec = PROGRESS_SECS;
		p->ev_progress = event_new(p->base, -1, EV_PERSIST,
		    progress_cb, p);
		if (p->ev_progress)
			event_add(p->ev_progress, &tv);
	}

	log_info("started: %u capture%s, NetFlow v%d to %u collector%s",
	    p->ncap, p->ncap == 1 ? "" : "s", p->cfg.export.version,
	    p->cfg.export.ncollectors,
	    p->cfg.export.ncollectors == 1 ? "" : "s");
	daemon_notify("READY=1\nSTATUS=%u capture%s, NetFlow v%d to %u "
	    "collector%s", p->ncap, p->ncap == 1 ? "" : "s",
	    p->cfg.export.version, p->cfg.export.ncollectors,
	    p->cfg.export.ncollectors == 1 ? "" : "s");
	daemon_watchdog_start(p->base);
	event_base_dispatch(p->base);

	if (replay || p->cfg.verbose > 0)
		stats_write(p, STATS_TEXT, stderr);
	if (!replay && p->cfg.pidfile && strcmp(p->cfg.pidfile, "none"))
		unlink(p->cfg.pidfile);
	for (i = 0; i < p->ncap; i++)
		capture_close(p->cap[i]);
	for (i = 0; i < 3; i++)
		if (p->ev_signal[i])
			event_free(p->ev_signal[i]);
	if (p->ev_expiry)
		event_free(p->ev_expiry);
	if (p->ev_progress)
		event_free(p->ev_progress);
	ctl_close(p->ctl);
	daemon_watchdog_stop();
	flowtable_free(p->ft);
	exporter_free(p->ex);
	event_base_free(p->base);
	config_free(&p->cfg);
	return p->exit_code;
}
