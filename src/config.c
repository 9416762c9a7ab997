/*
 * Configuration.  Every option is a row of opt_table: its getopt letter,
 * its config-file key, its help text and its setter, so the command line,
 * the file and -h cannot drift apart.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"

struct timeout_def {
	const char	*name;
	uint32_t	 def;		/* seconds; 0: follow general */
	const char	*help;
};

/* Cisco defaults: 15 s inactive, 30 min active. */
static const struct timeout_def timeout_table[T_NTIMEOUTS] = {
	[T_GENERAL] =	{ "general", 15, "idle timeout of other protocols" },
	[T_TCP] =	{ "tcp", 0, "idle timeout of TCP flows" },
	[T_TCP_RST] =	{ "tcp.rst", 5, "idle timeout after a TCP RST" },
	[T_TCP_FIN] =	{ "tcp.fin", 5, "idle timeout after FIN both ways" },
	[T_UDP] =	{ "udp", 0, "idle timeout of UDP flows" },
	[T_ICMP] =	{ "icmp", 0, "idle timeout of ICMP flows" },
	[T_MAXLIFE] =	{ "maxlife", 1800, "active timeout of any flow" },
	[T_EXPINT] =	{ "expint", 1, "how often expiry runs" },
};

struct optdef {
	int		 flag;		/* getopt letter; 0: file key only */
	const char	*key;		/* config-file key */
	const char	*arg;		/* metavariable, NULL for a switch */
	const char	*help;
	int		(*set)(struct config *, const char *, char *, size_t);
};

static int __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") ||
	    !strcasecmp(s, "on") || !strcmp(s, "1"))
		*out = 1;
	else if (!strcasecmp(s, "no") || !strcasecmp(s, "false") ||
	    !strcasecmp(s, "off") || !strcmp(s, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

/*
 * softflowd's time syntax: a sequence of numbers, each with an optional
 * s, m, h, d or w, added together ("1h30m" is 5400).
 */
static int
parse_duration(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v, mul;
	uint64_t total = 0;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s))
			return -1;
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno)
			return -1;
		switch (tolower((unsigned char)*end)) {
		case '\0': mul = 1; break;
		case 's': mul = 1; end++; break;
		case 'm': mul = 60; end++; break;
		case 'h': mul = 3600; end++; break;
		case 'd': mul = 86400; end++; break;
		case 'w': mul = 604800; end++; break;
		default: return -1;
		}
		if (v > UINT32_MAX / mul)
			return -1;
		total += (uint64_t)v * mul;
		if (total > UINT32_MAX)
			return -1;
		s = end;
	}
	*out = (uint32_t)total;
	return 0;
}

static int
set_str(char **dst, const char *val)
{
	char *s = strdup(val);

	if (s == NULL)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

#define SETTER(name) \
	static int name(struct config *c, const char *v, char *err, size_t el)

SETTER(set_interface)
{
	if (c->ninterfaces >= CONFIG_MAX_INTERFACES)
		return seterr(err, el, "too many interfaces (at most %d)",
		    CONFIG_MAX_INTERFACES);
	if (*v == '\0')
		return seterr(err, el, "empty interface name");
	c->interfaces[c->ninterfaces] = strdup(v);
	if (c->interfaces[c->ninterfaces] == NULL)
		return seterr(err, el, "out of memory");
	c->ninterfaces++;
	return 0;
}

SETTER(set_readfile)
{
	(void)err; (void)el;
	return set_str(&c->readfile, v);
}

static int
timeout_lookup(const char *name, size_t len)
{
	int i;

	for (i = 0; i < T_NTIMEOUTS; i++)
		if (strlen(timeout_table[i].name) == len &&
		    strncmp(timeout_table[i].name, name, len) == 0)
			return i;
	return -1;
}

SETTER(set_timeout)
{
	const char *eq = strchr(v, '=');
	uint32_t secs;
	int id;

	if (eq == NULL)
		return seterr(err, el, "timeout \"%s\": expected name=seconds, "
		    "e.g. -t tcp=300", v);
	if ((id = timeout_lookup(v, (size_t)(eq - v))) == -1)
		return seterr(err, el, "unknown timeout name \"%.*s\" (valid: "
		    "general tcp tcp.rst tcp.fin udp icmp maxlife expint)",
		    (int)(eq - v), v);
	if (parse_duration(eq + 1, &secs))
		return seterr(err, el, "timeout %s: \"%s\" is not a duration "
		    "(seconds, or numbers with s, m, h, d, w as in 1h30m)",
		    timeout_table[id].name, eq + 1);
	if (id == T_EXPINT && secs == 0)
		return seterr(err, el, "timeout expint must be at least 1 s");
	c->timeout[id] = secs;
	c->timeout_set[id] = 1;
	return 0;
}

SETTER(set_max_flows)
{
	unsigned long n;

	if (parse_uint(v, 100000000UL, &n) || n == 0)
		return seterr(err, el, "max_flows \"%s\": expected 1..100000000",
		    v);
	c->max_flows = (uint32_t)n;
	return 0;
}

/* softflowd 1.1 takes several collectors in one -n, separated by commas. */
SETTER(set_collector)
{
	struct export_config *x = &c->export;
	const char *comma;
	size_t len;

	for (;;) {
		comma = strchr(v, ',');
		len = comma ? (size_t)(comma - v) : strlen(v);
		if (x->ncollectors >= EXPORT_MAX_COLLECTORS)
			return seterr(err, el, "too many collectors (at most "
			    "%d)", EXPORT_MAX_COLLECTORS);
		if (memchr(v, ':', len) == NULL)
			return seterr(err, el, "collector \"%.*s\": expected "
			    "host:port or [v6addr]:port", (int)len, v);
		if ((x->collectors[x->ncollectors] = strndup(v, len)) == NULL)
			return seterr(err, el, "out of memory");
		x->ncollectors++;
		if (comma == NULL)
			return 0;
		v = comma + 1;
	}
}

/*
 * Paths the daemon uses after daemon(3) has changed to "/" (pid file,
 * control socket, the config file SIGHUP re-reads) are made absolute
 * against the directory it was started from.
 */
static int
set_path(char **dst, const char *val, char *err, size_t el)
{
	char cwd[PATH_MAX], *abs;

	if (val[0] == '/' || !strcmp(val, "none") || *val == '\0')
		return set_str(dst, val);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return seterr(err, el, "\"%s\": cannot resolve a relative "
		    "path: %s", val, strerror(errno));
	if (asprintf(&abs, "%s/%s", cwd, val) == -1)
		return seterr(err, el, "out of memory");
	free(*dst);
	*dst = abs;
	return 0;
}

SETTER(set_pidfile)
{
	return set_path(&c->pidfile, v, err, el);
}

SETTER(set_ctlsock)
{
	c->ctlsock_given = 1;
	return set_path(&c->ctlsock, v, err, el);
}

SETTER(set_version)
{
	if (!strcmp(v, "psamp")) {
		c->psamp = c->export.psamp = 1;
		c->export.version = 10;
		return 0;
	}
	if (!strcmp(v, "1") || !strcmp(v, "5") || !strcmp(v, "9") ||
	    !strcmp(v, "10")) {
		c->export.version = atoi(v);
		c->psamp = c->export.psamp = 0;
		return 0;
	}
	return seterr(err, el, "export version \"%s\": expected 1, 5, 9, 10 "
	    "or psamp", v);
}

SETTER(set_hoplimit)
{
	unsigned long n;

	if (parse_uint(v, 255, &n))
		return seterr(err, el, "hoplimit \"%s\": expected 0..255", v);
	c->export.hoplimit = (int)n;
	return 0;
}

SETTER(set_track)
{
	static const struct { const char *name; enum track_level t; } t[] = {
		{ "full", TRACK_FULL }, { "port", TRACK_PORT },
		{ "proto", TRACK_PROTO }, { "ip", TRACK_IP },
		{ "vlan", TRACK_VLAN }, { "ether", TRACK_ETHER },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(v, t[i].name)) {
			c->track = t[i].t;
			return 0;
		}
	return seterr(err, el, "tracking level \"%s\": expected full, port, "
	    "proto, ip, vlan or ether", v);
}

#define BOOL_SETTER(name, field)					\
SETTER(name)								\
{									\
	if (v == NULL) {						\
		c->field = 1;						\
		return 0;						\
	}								\
	if (parse_bool(v, &c->field))					\
		return seterr(err, el, "\"%s\": expected yes or no", v); \
	return 0;							\
}

BOOL_SETTER(set_ipv6, track_ipv6)
BOOL_SETTER(set_foreground, foreground)
BOOL_SETTER(set_biflow, export.biflow)
BOOL_SETTER(set_adjust, adjust_time)
BOOL_SETTER(set_lb, export.load_balance)

SETTER(set_debug)
{
	int on = 1;

	if (v != NULL && parse_bool(v, &on))
		return seterr(err, el, "\"%s\": expected yes or no", v);
	c->debug = on;
	if (on) {
		c->foreground = 1;
		c->track_ipv6 = 1;
		if (c->verbose < 2)
			c->verbose = 2;
	}
	return 0;
}

SETTER(set_no_promisc)
{
	int on = 1;

	if (v != NULL && parse_bool(v, &on))
		return seterr(err, el, "\"%s\": expected yes or no", v);
	c->promisc = !on;
	return 0;
}

SETTER(set_transport)
{
	if (!strcmp(v, "udp"))
		c->export.transport = EXPORT_UDP;
	else if (!strcmp(v, "tcp"))
		c->export.transport = EXPORT_TCP;
	else if (!strcmp(v, "sctp"))
		c->export.transport = EXPORT_SCTP;
	else
		return seterr(err, el, "transport \"%s\": expected udp, tcp or "
		    "sctp", v);
	return 0;
}

SETTER(set_timeprec)
{
	static const char *const names[] = { "sec", "milli", "micro", "nano" };
	int i;

	for (i = 0; i < 4; i++)
		if (!strcmp(v, names[i])) {
			c->export.time_prec = i;
			return 0;
		}
	return seterr(err, el, "time format \"%s\": expected sec, milli, "
	    "micro or nano", v);
}

SETTER(set_sampling)
{
	unsigned long n;

	if (parse_uint(v, 1000000, &n) || n == 0)
		return seterr(err, el, "sampling rate \"%s\": expected 1..1000000",
		    v);
	c->sampling = c->export.sampling = (unsigned)n;
	return 0;
}

SETTER(set_bufsize)
{
	unsigned long n;

	if (parse_uint(v, INT_MAX, &n))
		return seterr(err, el, "buffer size \"%s\": expected bytes", v);
	c->bufsize = (int)n;
	return 0;
}

SETTER(set_snaplen)
{
	unsigned long n;

	if (parse_uint(v, 262144, &n) || n < 64)
		return seterr(err, el, "capture length \"%s\": expected "
		    "64..262144", v);
	c->snaplen = (int)n;
	return 0;
}

SETTER(set_psamp_port)
{
	unsigned long n;

	if (parse_uint(v, 65535, &n) || n == 0)
		return seterr(err, el, "receive port \"%s\": expected 1..65535",
		    v);
	c->psamp_port = (int)n;
	return 0;
}

SETTER(set_send_if)
{
	(void)err; (void)el;
	return set_str((char **)&c->export.send_ifname, v);
}

SETTER(set_mpls)
{
	unsigned long n;

	if (parse_uint(v, DECODE_MAX_MPLS, &n))
		return seterr(err, el, "MPLS labels \"%s\": expected 0..%d", v,
		    DECODE_MAX_MPLS);
	c->export.mpls_labels = (unsigned)n;
	return 0;
}

SETTER(set_user)
{
	(void)err; (void)el;
	return set_str(&c->user, v);
}

SETTER(set_chroot)
{
	(void)err; (void)el;
	return set_str(&c->chroot_dir, v);
}

SETTER(set_bpf)
{
	(void)err; (void)el;
	return set_str(&c->bpf, v);
}

SETTER(set_verbose)
{
	unsigned long n;

	if (parse_uint(v, 3, &n))
		return seterr(err, el, "verbosity \"%s\": expected 0..3", v);
	c->verbose = (int)n;
	return 0;
}

SETTER(set_domain)
{
	unsigned long n;

	if (parse_uint(v, UINT32_MAX, &n))
		return seterr(err, el, "domain id \"%s\": expected 0..4294967295",
		    v);
	c->export.domain_id = (uint32_t)n;
	return 0;
}

SETTER(set_tmpl_packets)
{
	unsigned long n;

	if (parse_uint(v, 1000000, &n) || n == 0)
		return seterr(err, el, "template_packets \"%s\": expected "
		    "1..1000000", v);
	c->export.tmpl_packets = (unsigned)n;
	return 0;
}

SETTER(set_tmpl_secs)
{
	uint32_t s;

	if (parse_duration(v, &s) || s == 0)
		return seterr(err, el, "template_interval \"%s\": expected a "
		    "duration of at least 1 s", v);
	c->export.tmpl_secs = s;
	return 0;
}

SETTER(set_mtu)
{
	unsigned long n;

	if (strcmp(v, "auto") == 0) {
		c->export.mtu = 0;
		return 0;
	}
	if (parse_uint(v, 65000, &n) || n < 256)
		return seterr(err, el, "mtu \"%s\": expected auto or "
		    "256..65000", v);
	c->export.mtu = n;
	return 0;
}

SETTER(set_progress)
{
	int on;

	if (parse_bool(v, &on))
		return seterr(err, el, "\"%s\": expected yes or no", v);
	c->progress = on;
	return 0;
}

SETTER(set_config)
{
	c->config_file_given = 1;
	return set_path(&c->config_file, v, err, el);
}

static const struct optdef opt_table[] = {
	{ 'i', "interface", "[idx:]interface", "capture live on an interface "
	    "(repeatable)", set_interface },
	{ 'r', "read", "pcap_file", "replay a pcap or pcapng file", set_readfile },
	{ 't', "timeout", "name=time", "set a named timeout (see below)",
	    set_timeout },
	{ 'm', "max_flows", "max_flows", "flows tracked at once (default 8192)",
	    set_max_flows },
	{ 'n', "collector", "host:port", "send flows to a collector, "
	    "[v6addr]:port for IPv6 (repeatable)", set_collector },
	{ 'p', "pidfile", "pidfile", "pid file (default "
	    CONFIG_DEFAULT_PIDFILE ")", set_pidfile },
	{ 'c', "ctlsock", "socketfile", "control socket, \"none\" for none "
	    "(default " CONFIG_DEFAULT_CTLSOCK ")", set_ctlsock },
	{ 'v', "version", "1|5|9|10|psamp", "export version (default 5; 10 "
	    "is IPFIX)", set_version },
	{ 'L', "hoplimit", "hoplimit", "TTL/hop limit of export datagrams",
	    set_hoplimit },
	{ 'T', "track", "full|port|proto|ip|vlan|ether", "flow tracking level "
	    "(default full)", set_track },
	{ '6', "track_ipv6", NULL, "track IPv6 flows (always on; accepted for "
	    "compatibility)", set_ipv6 },
	{ 'd', "foreground", NULL, "do not daemonise", set_foreground },
	{ 'D', "debug", NULL, "debug: foreground, verbose", set_debug },
	{ 'P', "transport", "udp|tcp|sctp", "export transport (default udp)",
	    set_transport },
	{ 'A', "time_format", "sec|milli|micro|nano", "IPFIX timestamp "
	    "precision (default milli)", set_timeprec },
	{ 's', "sampling", "rate", "sample 1 in rate packets", set_sampling },
	{ 'B', "bufsize", "bytes", "libpcap buffer size", set_bufsize },
	{ 'b', "biflow", NULL, "bidirectional IPFIX records (RFC 5103)",
	    set_biflow },
	{ 'a', "adjust_time", NULL, "accepted for compatibility: replayed "
	    "flows always carry the capture's times", set_adjust },
	{ 'C', "snaplen", "capture_length", "capture length (default 128)",
	    set_snaplen },
	{ 'l', "load_balance", NULL, "spread datagrams round-robin over "
	    "collectors instead of sending each to all", set_lb },
	{ 'R', "psamp_port", "receive_port", "PSAMP receive mode port",
	    set_psamp_port },
	{ 'N', "no_promisc", NULL, "do not put interfaces in promiscuous mode",
	    set_no_promisc },
	{ 'S', "send_interface", "ifname", "send export datagrams through "
	    "this interface", set_send_if },
	{ 'x', "mpls_labels", "labels", "MPLS labels exported per flow (0..10)",
	    set_mpls },
	{ 'f', "config", "file", "config file (default " CONFIG_DEFAULT_FILE
	    " when present)", set_config },
	{ 'u', "user", "user", "drop privileges to this user after start-up",
	    set_user },
	{ 'j', "chroot", "directory", "chroot here after start-up",
	    set_chroot },
	{ 0, "filter", "bpf", "BPF filter (on the command line: trailing "
	    "arguments)", set_bpf },
	{ 0, "verbose", "0..3", "log verbosity", set_verbose },
	{ 0, "domain_id", "id", "v9 source id / IPFIX observation domain",
	    set_domain },
	{ 0, "template_packets", "n", "resend templates every n datagrams "
	    "(default 16)", set_tmpl_packets },
	{ 0, "template_interval", "time", "resend templates every interval "
	    "(default 60s)", set_tmpl_secs },
	{ 0, "mtu", "auto|bytes", "export datagram size limit (default auto: "
	    "the route's MTU less 100, at most 8900)",
	    set_mtu },
	{ 0, "progress", "yes|no", "replay progress on stderr (default: when "
	    "stderr is a terminal)", set_progress },
};
#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->config_file = strdup(CONFIG_DEFAULT_FILE);
	cfg->pidfile = strdup(CONFIG_DEFAULT_PIDFILE);
	cfg->ctlsock = strdup(CONFIG_DEFAULT_CTLSOCK);
	cfg->track = TRACK_FULL;
	cfg->max_flows = 8192;
	cfg->snaplen = 128;
	cfg->promisc = 1;
	cfg->progress = -1;
	cfg->export.version = 5;
	cfg->export.hoplimit = -1;
	cfg->export.transport = EXPORT_UDP;
	cfg->export.tmpl_packets = 16;
	cfg->export.tmpl_secs = 60;
	cfg->export.time_prec = 1;
	cfg->export.mtu = 0;		/* auto */
}

void
config_free(struct config *cfg)
{
	unsigned i;

	for (i = 0; i < cfg->ninterfaces; i++)
		free(cfg->interfaces[i]);
	for (i = 0; i < cfg->export.ncollectors; i++)
		free(cfg->export.collectors[i]);
	free(cfg->readfile);
	free(cfg->bpf);
	free(cfg->pidfile);
	free(cfg->ctlsock);
	free(cfg->user);
	free(cfg->chroot_dir);
	free(cfg->config_file);
	free((char *)cfg->export.send_ifname);
	memset(cfg, 0, sizeof(*cfg));
}

const char *
config_timeout_name(enum timeout_id id)
{
	return (unsigned)id < T_NTIMEOUTS ? timeout_table[id].name : "?";
}

uint32_t
config_timeout(const struct config *cfg, enum timeout_id id)
{
	if (cfg->timeout_set[id])
		return cfg->timeout[id];
	if (timeout_table[id].def == 0)		/* follows general */
		return config_timeout(cfg, T_GENERAL);
	return timeout_table[id].def;
}

void
config_flowtable(const struct config *cfg, struct flowtable_config *ftc)
{
	static const enum timeout_id cls_timeout[FC_NCLASS] = {
		[FC_GENERAL] = T_GENERAL, [FC_TCP] = T_TCP,
		[FC_TCP_RST] = T_TCP_RST, [FC_TCP_FIN] = T_TCP_FIN,
		[FC_UDP] = T_UDP, [FC_ICMP] = T_ICMP,
	};
	int i;

	memset(ftc, 0, sizeof(*ftc));
	ftc->max_flows = cfg->max_flows;
	ftc->track = cfg->track;
	for (i = 0; i < FC_NCLASS; i++)
		ftc->idle_ms[i] = config_timeout(cfg, cls_timeout[i]) * 1000u;
	ftc->maxlife_ms = (uint64_t)config_timeout(cfg, T_MAXLIFE) * 1000u;
	/*
	 * maxlife=0 means no active timeout, as in softflowd 1.1; a flow
	 * still leaves after 2^31 ms, the reach of its 32-bit time offsets.
	 */
	if (ftc->maxlife_ms == 0)
		ftc->maxlife_ms = INT32_MAX;
	ftc->mpls_labels = cfg->export.mpls_labels;
}

void
config_usage(FILE *fp)
{
	size_t i;
	int t;
	char left[64];

	fprintf(fp, "Usage: softflowd [options] [bpf_program]\n"
	    "A NetFlow v1/v5/v9 and IPFIX flow probe. Options:\n");
	for (i = 0; i < NOPTS; i++) {
		if (opt_table[i].flag == 0)
			continue;
		snprintf(left, sizeof(left), "-%c %s", opt_table[i].flag,
		    opt_table[i].arg ? opt_table[i].arg : "");
		fprintf(fp, "  %-24s %s\n", left, opt_table[i].help);
	}
	fprintf(fp, "  %-24s %s\n", "-h", "display this help");
	fprintf(fp, "\nTimeout names and defaults in seconds (-t name=time; "
	    "time takes s, m, h, d, w):\n");
	for (t = 0; t < T_NTIMEOUTS; t++) {
		char def[32];

		if (timeout_table[t].def)
			snprintf(def, sizeof(def), "%u", timeout_table[t].def);
		else
			snprintf(def, sizeof(def), "general");
		fprintf(fp, "  %-8s (default %7s)  %s\n", timeout_table[t].name,
		    def, timeout_table[t].help);
	}
	fprintf(fp, "\nConfig-file keys (-f): the option names below, one "
	    "\"key = value\" per line:\n ");
	for (i = 0; i < NOPTS; i++)
		fprintf(fp, " %s", opt_table[i].key);
	fprintf(fp, "\n  and timeout.NAME for each timeout.\n");
}

static const struct optdef *
opt_by_flag(int flag)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (opt_table[i].flag == flag)
			return &opt_table[i];
	return NULL;
}

static const struct optdef *
opt_by_key(const char *key)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (!strcmp(opt_table[i].key, key))
			return &opt_table[i];
	return NULL;
}

struct ini_ctx {
	struct config	*cfg;
	const char	*path;
	char		*err;
	size_t		 errlen;
	int		 failed;
	/* Repeatable keys in a file replace, not extend, earlier values. */
	int		 seen_interface;
	int		 seen_collector;
};

/* inih gives no line number to the handler; it returns the first bad one. */
static int
config_ini_line(void *user, const char *section, const char *name,
    const char *value)
{
	struct ini_ctx *ctx = user;
	const struct optdef *o;
	char buf[256], msg[256];
	int r;

	if (ctx->failed)
		return 0;
	if (section[0] != '\0' && strcmp(section, "softflowd") != 0) {
		snprintf(ctx->err, ctx->errlen, "unknown section [%s] (use [softflowd] or none)", section);
		ctx->failed = 1;
		return 0;
	}
	if (!strncmp(name, "timeout.", 8)) {
		snprintf(buf, sizeof(buf), "%s=%s", name + 8, value);
		r = set_timeout(ctx->cfg, buf, msg, sizeof(msg));
	} else if ((o = opt_by_key(name)) == NULL) {
		snprintf(ctx->err, ctx->errlen, "unknown key \"%s\" (softflowd -h "
		    "lists the keys)", name);
		ctx->failed = 1;
		return 0;
	} else if (o->set == set_config) {
		snprintf(ctx->err, ctx->errlen, "key \"config\" is only valid on "
		    "the command line");
		ctx->failed = 1;
		return 0;
	} else {
		if (o->set == set_interface && !ctx->seen_interface++) {
			while (ctx->cfg->ninterfaces > 0)
				free(ctx->cfg->interfaces[--ctx->cfg->ninterfaces]);
		}
		if (o->set == set_collector && !ctx->seen_collector++) {
			struct export_config *x = &ctx->cfg->export;

			while (x->ncollectors > 0)
				free(x->collectors[--x->ncollectors]);
		}
		r = o->set(ctx->cfg, value, msg, sizeof(msg));
	}
	if (r != 0) {
		snprintf(ctx->err, ctx->errlen, "%s: %s", name, msg);
		ctx->failed = 1;
		return 0;
	}
	return 1;
}

int
config_load_file(struct config *cfg, const char *path, char *err,
    size_t errlen)
{
	struct ini_ctx ctx;
	FILE *fp;
	int r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.path = path;
	ctx.err = err;
	ctx.errlen = errlen;
	if ((fp = fopen(path, "r")) == NULL)
		return seterr(err, errlen, "config file %s: %s", path,
		    strerror(errno));
	r = ini_parse_file(fp, config_ini_line, &ctx);
	fclose(fp);
	if (ctx.failed) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", err);
		return seterr(err, errlen, "%s:%d: %s", path, r, msg);
	}
	if (r > 0)
		return seterr(err, errlen, "%s:%d: syntax error (expected "
		    "key = value)", path, r);
	if (r < 0)
		return seterr(err, errlen, "config file %s: cannot read", path);
	return 0;
}

static void
build_optstring(char *buf, size_t len)
{
	size_t i, n = 0;

	buf[n++] = ':';
	buf[n++] = 'h';
	for (i = 0; i < NOPTS && n + 3 < len; i++) {
		if (opt_table[i].flag == 0)
			continue;
		buf[n++] = (char)opt_table[i].flag;
		if (opt_table[i].arg)
			buf[n++] = ':';
	}
	buf[n] = '\0';
}

int
config_parse_args(struct config *cfg, int argc, char **argv, char *err,
    size_t errlen)
{
	const struct optdef *o;
	char optstring[128], msg[256];
	int ch, i, cli_if = 0, cli_col = 0;
	size_t len;

	build_optstring(optstring, sizeof(optstring));

	/*
	 * Pass 1: find -f (and -h) so the file loads under the command line.
	 * optind 0, not 1, makes getopt forget a previous scan that stopped
	 * inside an option cluster ("-hf"), which it would otherwise resume.
	 */
	opterr = 0;
	optind = 0;
	while ((ch = getopt(argc, argv, optstring)) != -1) {
		if (ch == 'h') {
			config_usage(stdout);
			return 1;
		}
		if (ch == 'f' && set_config(cfg, optarg, msg, sizeof(msg)))
			return seterr(err, errlen, "-f: %s", msg);
	}
	if (cfg->config_file_given || access(cfg->config_file, R_OK) == 0) {
		if (config_load_file(cfg, cfg->config_file, err, errlen))
			return -1;
	}

	/* Pass 2: the command line wins over the file. */
	optind = 0;
	while ((ch = getopt(argc, argv, optstring)) != -1) {
		if (ch == '?')
			return seterr(err, errlen, "unknown option -%c (softflowd "
			    "-h lists the options)", optopt);
		if (ch == ':')
			return seterr(err, errlen, "option -%c needs an argument "
			    "(softflowd -h)", optopt);
		if (ch == 'f')
			continue;
		o = opt_by_flag(ch);
		if (o == NULL)
			return seterr(err, errlen, "unknown option -%c", ch);
		if (o->set == set_interface && !cli_if++) {
			while (cfg->ninterfaces > 0)
				free(cfg->interfaces[--cfg->ninterfaces]);
		}
		if (o->set == set_collector && !cli_col++) {
			while (cfg->export.ncollectors > 0)
				free(cfg->export.collectors[
				    --cfg->export.ncollectors]);
		}
		if (o->set(cfg, o->arg ? optarg : NULL, msg, sizeof(msg)))
			return seterr(err, errlen, "-%c: %s", ch, msg);
	}

	/* Trailing words are the BPF program, as for tcpdump. */
	if (optind < argc) {
		char *bpf;

		for (len = 0, i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		if ((bpf = malloc(len)) == NULL)
			return seterr(err, errlen, "out of memory");
		bpf[0] = '\0';
		for (i = optind; i < argc; i++) {
			if (i > optind)
				strcat(bpf, " ");
			strcat(bpf, argv[i]);
		}
		free(cfg->bpf);
		cfg->bpf = bpf;
	}
	return 0;
}

int
config_validate(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->readfile == NULL && cfg->ninterfaces == 0)
		return seterr(err, errlen, "nothing to capture: give -i "
		    "interface or -r pcap_file");
	if (cfg->readfile != NULL && cfg->ninterfaces > 0)
		return seterr(err, errlen, "-i and -r cannot be combined");
	if (cfg->psamp_port)
		return seterr(err, errlen, "PSAMP receive mode (-R) is not "
		    "supported by this build");
	if (cfg->export.transport == EXPORT_TCP && cfg->export.version == 9)
		return seterr(err, errlen, "-P tcp: NetFlow v9 messages carry no "
		    "length to frame them in a byte stream; use -v 10 (IPFIX) "
		    "or -P sctp");
	if (cfg->export.biflow && cfg->export.version != 10)
		return seterr(err, errlen, "-b (biflows) needs IPFIX: add -v 10");
	if (cfg->export.biflow && cfg->psamp)
		return seterr(err, errlen, "-b (biflows) does not apply to "
		    "per-packet -v psamp records");
	return 0;
}
