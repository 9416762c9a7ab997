/*
 * Unit tests of the configuration: every command-line flag with a good
 * and a bad value, timeouts and their units, the config file (errors
 * name file:line and the key), the command line over the file, timeout
 * inheritance and the checks config_validate makes.
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

#include "config.h"

#define MAXARGS		24
#define NOFILE		"/nonexistent/softflowd-test.conf"

/* Defaults, but never the machine's /etc/softflowd.conf. */
static void
cfg_init(struct config *c)
{
	config_defaults(c);
	free(c->config_file);
	c->config_file = strdup(NOFILE);
	assert_non_null(c->config_file);
}

/* Runs config_parse_args on "softflowd" followed by a NULL-ended list. */
static int
parse(struct config *c, char *err, size_t errlen, const char *const *args)
{
	char *argv[MAXARGS + 2];
	int argc = 0;

	argv[argc++] = (char *)"softflowd";
	while (*args != NULL) {
		assert_true(argc <= MAXARGS);
		argv[argc++] = (char *)*args++;
	}
	argv[argc] = NULL;
	err[0] = '\0';
	return config_parse_args(c, argc, argv, err, errlen);
}

#define CHECK(name, expr)						\
static int								\
name(const struct config *c)						\
{									\
	return (expr);							\
}

static int
streq(const char *a, const char *b)
{
	return a != NULL && strcmp(a, b) == 0;
}

CHECK(c_if1, c->ninterfaces == 1 && streq(c->interfaces[0], "eth0"))
CHECK(c_if2, c->ninterfaces == 2 && streq(c->interfaces[0], "2:eth1") &&
    streq(c->interfaces[1], "eth2"))
CHECK(c_read, streq(c->readfile, "in.pcap"))
CHECK(c_t_tcp, c->timeout[T_TCP] == 300 && c->timeout_set[T_TCP] &&
    !c->timeout_set[T_UDP])
CHECK(c_t_udp_m, c->timeout[T_UDP] == 300)
CHECK(c_t_gen_h, c->timeout[T_GENERAL] == 3600)
CHECK(c_t_max_d, c->timeout[T_MAXLIFE] == 86400)
CHECK(c_t_max_0, c->timeout[T_MAXLIFE] == 0 && c->timeout_set[T_MAXLIFE])
CHECK(c_t_icmp_w, c->timeout[T_ICMP] == 2 * 604800)
CHECK(c_t_exp_s, c->timeout[T_EXPINT] == 10)
CHECK(c_t_seq, c->timeout[T_TCP] == 5400)
CHECK(c_t_upper, c->timeout[T_GENERAL] == 120)
CHECK(c_t_rst0, c->timeout[T_TCP_RST] == 0 && c->timeout_set[T_TCP_RST])
CHECK(c_t_fin, c->timeout[T_TCP_FIN] == 7 && c->timeout_set[T_TCP_FIN])
CHECK(c_t_two, c->timeout[T_TCP] == 1 && c->timeout[T_UDP] == 2)
CHECK(c_m, c->max_flows == 100)
CHECK(c_m_max, c->max_flows == 100000000)
CHECK(c_n4, c->export.ncollectors == 1 &&
    streq(c->export.collectors[0], "127.0.0.1:2055"))
CHECK(c_n6, c->export.ncollectors == 1 &&
    streq(c->export.collectors[0], "[::1]:4739"))
CHECK(c_n_list, c->export.ncollectors == 2 &&
    streq(c->export.collectors[0], "a:1") &&
    streq(c->export.collectors[1], "b:2"))
CHECK(c_n_two, c->export.ncollectors == 2 &&
    streq(c->export.collectors[1], "b:2"))
CHECK(c_p, streq(c->pidfile, "/tmp/x.pid"))
CHECK(c_c, streq(c->ctlsock, "none"))
CHECK(c_v1, c->export.version == 1)
CHECK(c_v5, c->export.version == 5)
CHECK(c_v9, c->export.version == 9)
CHECK(c_v10, c->export.version == 10 && !c->psamp)
CHECK(c_vpsamp, c->export.version == 10 && c->psamp)
CHECK(c_L0, c->export.hoplimit == 0)
CHECK(c_L255, c->export.hoplimit == 255)
CHECK(c_T_full, c->track == TRACK_FULL)
CHECK(c_T_port, c->track == TRACK_PORT)
CHECK(c_T_proto, c->track == TRACK_PROTO)
CHECK(c_T_ip, c->track == TRACK_IP)
CHECK(c_T_vlan, c->track == TRACK_VLAN)
CHECK(c_T_ether, c->track == TRACK_ETHER)
CHECK(c_6, c->track_ipv6 == 1)
CHECK(c_d, c->foreground == 1)
CHECK(c_D, c->debug == 1 && c->foreground == 1 && c->verbose >= 2)
CHECK(c_P_udp, c->export.transport == EXPORT_UDP)
CHECK(c_P_tcp, c->export.transport == EXPORT_TCP)
CHECK(c_P_sctp, c->export.transport == EXPORT_SCTP)
CHECK(c_A_sec, c->export.time_prec == 0)
CHECK(c_A_milli, c->export.time_prec == 1)
CHECK(c_A_micro, c->export.time_prec == 2)
CHECK(c_A_nano, c->export.time_prec == 3)
CHECK(c_s, c->sampling == 100)
CHECK(c_B, c->bufsize == 1048576)
CHECK(c_b, c->export.biflow == 1 && c->export.version == 10)
CHECK(c_a, c->adjust_time == 1)
CHECK(c_C64, c->snaplen == 64)
CHECK(c_Cmax, c->snaplen == 262144)
CHECK(c_l, c->export.load_balance == 1)
CHECK(c_R, c->psamp_port == 4739)
CHECK(c_N, c->promisc == 0)
CHECK(c_S, streq(c->export.send_ifname, "eth9"))
CHECK(c_x0, c->export.mpls_labels == 0)
CHECK(c_x10, c->export.mpls_labels == DECODE_MAX_MPLS)
CHECK(c_u, streq(c->user, "nobody"))
CHECK(c_j, streq(c->chroot_dir, "/var/empty"))
CHECK(c_bpf, streq(c->bpf, "tcp port 80 and not host 10.0.0.1") &&
    streq(c->readfile, "in.pcap"))
CHECK(c_bpf_mixed, streq(c->bpf, "udp") && c->export.version == 9)
CHECK(c_grouped, c->foreground == 1 && c->track_ipv6 == 1 &&
    c->export.load_balance == 1)
CHECK(c_defaults, c->export.version == 5 && c->max_flows == 8192 &&
    c->track == TRACK_FULL && c->snaplen == 128 && c->promisc == 1 &&
    c->export.mtu == 0 && c->export.time_prec == 1 &&
    c->bpf == NULL && c->ninterfaces == 0 && c->export.hoplimit == -1)

static const struct {
	const char	*args[10];
	int		(*check)(const struct config *);
} valid[] = {
	{ { "-i", "eth0" }, c_if1 },
	{ { "-i", "2:eth1", "-i", "eth2" }, c_if2 },
	{ { "-r", "in.pcap" }, c_read },
	{ { "-t", "tcp=300" }, c_t_tcp },
	{ { "-t", "udp=5m" }, c_t_udp_m },
	{ { "-t", "general=1h" }, c_t_gen_h },
	{ { "-t", "maxlife=1d" }, c_t_max_d },
	{ { "-t", "maxlife=0" }, c_t_max_0 },
	{ { "-t", "icmp=2w" }, c_t_icmp_w },
	{ { "-t", "expint=10s" }, c_t_exp_s },
	{ { "-t", "tcp=1h30m" }, c_t_seq },
	{ { "-t", "general=2M" }, c_t_upper },
	{ { "-t", "tcp.rst=0" }, c_t_rst0 },
	{ { "-t", "tcp.fin=7" }, c_t_fin },
	{ { "-t", "tcp=1", "-t", "udp=2" }, c_t_two },
	{ { "-m", "100" }, c_m },
	{ { "-m", "100000000" }, c_m_max },
	{ { "-n", "127.0.0.1:2055" }, c_n4 },
	{ { "-n", "[::1]:4739" }, c_n6 },
	{ { "-n", "a:1,b:2" }, c_n_list },
	{ { "-n", "a:1", "-n", "b:2" }, c_n_two },
	{ { "-p", "/tmp/x.pid" }, c_p },
	{ { "-c", "none" }, c_c },
	{ { "-v", "1" }, c_v1 },
	{ { "-v", "5" }, c_v5 },
	{ { "-v", "9" }, c_v9 },
	{ { "-v", "10" }, c_v10 },
	{ { "-v", "psamp" }, c_vpsamp },
	{ { "-L", "0" }, c_L0 },
	{ { "-L", "255" }, c_L255 },
	{ { "-T", "full" }, c_T_full },
	{ { "-T", "port" }, c_T_port },
	{ { "-T", "proto" }, c_T_proto },
	{ { "-T", "ip" }, c_T_ip },
	{ { "-T", "vlan" }, c_T_vlan },
	{ { "-T", "ether" }, c_T_ether },
	{ { "-6" }, c_6 },
	{ { "-d" }, c_d },
	{ { "-D" }, c_D },
	{ { "-P", "udp" }, c_P_udp },
	{ { "-P", "tcp" }, c_P_tcp },
	{ { "-P", "sctp" }, c_P_sctp },
	{ { "-A", "sec" }, c_A_sec },
	{ { "-A", "milli" }, c_A_milli },
	{ { "-A", "micro" }, c_A_micro },
	{ { "-A", "nano" }, c_A_nano },
	{ { "-s", "100" }, c_s },
	{ { "-B", "1048576" }, c_B },
	{ { "-v", "10", "-b" }, c_b },
	{ { "-a" }, c_a },
	{ { "-C", "64" }, c_C64 },
	{ { "-C", "262144" }, c_Cmax },
	{ { "-l" }, c_l },
	{ { "-R", "4739" }, c_R },
	{ { "-N" }, c_N },
	{ { "-S", "eth9" }, c_S },
	{ { "-x", "0" }, c_x0 },
	{ { "-x", "10" }, c_x10 },
	{ { "-u", "nobody" }, c_u },
	{ { "-j", "/var/empty" }, c_j },
	{ { "-r", "in.pcap", "tcp", "port", "80", "and", "not", "host" },
	    NULL },
	{ { "-r", "in.pcap", "tcp port 80 and not host 10.0.0.1" }, c_bpf },
	{ { "udp", "-v", "9" }, c_bpf_mixed },
	{ { "-d6l" }, c_grouped },
	{ { NULL }, c_defaults },
};

static void
test_config_valid_flags(void **state)
{
	struct config c;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
		cfg_init(&c);
		if (parse(&c, err, sizeof(err), valid[i].args) != 0)
			fail_msg("row %zu (%s): %s", i, valid[i].args[0] ?
			    valid[i].args[0] : "none", err);
		if (valid[i].check != NULL && !valid[i].check(&c))
			fail_msg("row %zu (%s %s): wrong value", i,
			    valid[i].args[0], valid[i].args[1] ?
			    valid[i].args[1] : "");
		config_free(&c);
	}
}

/* Each bad value fails with one line naming the option. */
static const struct {
	const char	*args[4];
	const char	*names;		/* must appear in the message */
} invalid[] = {
	{ { "-m", "0" }, "-m" },
	{ { "-m", "abc" }, "-m" },
	{ { "-m", "-1" }, "-m" },
	{ { "-m", "100000001" }, "-m" },
	{ { "-m", "12x" }, "-m" },
	{ { "-t", "bogus=5" }, "bogus" },
	{ { "-t", "tcp" }, "-t" },
	{ { "-t", "tcp=" }, "tcp" },
	{ { "-t", "tcp=5x" }, "tcp" },
	{ { "-t", "tcp=-5" }, "tcp" },
	{ { "-t", "tcp=5 m" }, "tcp" },
	{ { "-t", "tcp=99999999999" }, "tcp" },
	{ { "-t", "tcp=4294967296" }, "tcp" },
	{ { "-t", "maxlife=100000w" }, "maxlife" },
	{ { "-t", "expint=0" }, "expint" },
	{ { "-t", "=5" }, "-t" },
	{ { "-v", "7" }, "-v" },
	{ { "-v", "ipfix" }, "-v" },
	{ { "-v", "" }, "-v" },
	{ { "-L", "256" }, "-L" },
	{ { "-L", "x" }, "-L" },
	{ { "-T", "bogus" }, "-T" },
	{ { "-T", "FULL" }, "-T" },
	{ { "-P", "quic" }, "-P" },
	{ { "-A", "pico" }, "-A" },
	{ { "-s", "0" }, "-s" },
	{ { "-s", "x" }, "-s" },
	{ { "-B", "x" }, "-B" },
	{ { "-C", "10" }, "-C" },
	{ { "-C", "300000" }, "-C" },
	{ { "-R", "0" }, "-R" },
	{ { "-R", "70000" }, "-R" },
	{ { "-x", "11" }, "-x" },
	{ { "-x", "x" }, "-x" },
	{ { "-n", "nocolon" }, "-n" },
	{ { "-n", "a:1,nocolon" }, "nocolon" },
	{ { "-i", "" }, "-i" },
	{ { "-z" }, "-z" },
	{ { "-m" }, "-m" },
	{ { "-f", NOFILE }, NOFILE },
};

static void
test_config_invalid_flags(void **state)
{
	struct config c;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		cfg_init(&c);
		if (parse(&c, err, sizeof(err), invalid[i].args) != -1)
			fail_msg("row %zu (%s %s) was accepted", i,
			    invalid[i].args[0], invalid[i].args[1] ?
			    invalid[i].args[1] : "");
		if (strstr(err, invalid[i].names) == NULL)
			fail_msg("row %zu: \"%s\" does not name %s", i, err,
			    invalid[i].names);
		assert_null(strchr(err, '\n'));
		config_free(&c);
	}
}

/* At most EXPORT_MAX_COLLECTORS, also when given as one list. */
static void
test_config_too_many(void **state)
{
	const char *args[3] = { "-n", NULL, NULL };
	char list[EXPORT_MAX_COLLECTORS * 16 + 16];
	struct config c;
	char err[256];
	size_t len = 0;
	int i;

	(void)state;
	for (i = 0; i <= EXPORT_MAX_COLLECTORS; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%sh%d:%d", i ? "," : "", i, 1000 + i);
	args[1] = list;
	cfg_init(&c);
	assert_int_equal(parse(&c, err, sizeof(err), args), -1);
	assert_non_null(strstr(err, "too many collectors"));
	assert_non_null(strstr(err, "-n"));
	config_free(&c);
}

/* -h prints the usage and returns 1: the caller exits successfully. */
static void
test_config_help(void **state)
{
	static const char *const args[] = { "-h", NULL };
	struct config c;
	char err[256];

	(void)state;
	cfg_init(&c);
	assert_int_equal(parse(&c, err, sizeof(err), args), 1);
	config_free(&c);
}

static void
test_config_usage(void **state)
{
	static const char *const want[] = { "-i ", "-r ", "-t ", "-n ",
	    "-v ", "-T ", "-x ", "-h", "general", "tcp.rst", "tcp.fin",
	    "maxlife", "expint", "timeout.", "max_flows" };
	char *text = NULL;
	size_t len = 0, i;
	FILE *fp;

	(void)state;
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	config_usage(fp);
	fclose(fp);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(text, want[i]) == NULL)
			fail_msg("usage lacks \"%s\"", want[i]);
	free(text);
}

/* Unset tcp, udp and icmp follow general; the others have their own. */
static void
test_config_timeout_inheritance(void **state)
{
	static const char *const gen[] = { "-t", "general=60", NULL };
	static const char *const tcp[] = { "-t", "general=60", "-t", "tcp=300",
	    NULL };
	struct config c;
	char err[256];

	(void)state;
	cfg_init(&c);
	/* Cisco's defaults: 15 s inactive, 30 min active. */
	assert_int_equal(config_timeout(&c, T_GENERAL), 15);
	assert_int_equal(config_timeout(&c, T_TCP), 15);
	assert_int_equal(config_timeout(&c, T_UDP), 15);
	assert_int_equal(config_timeout(&c, T_ICMP), 15);
	assert_int_equal(config_timeout(&c, T_MAXLIFE), 1800);
	assert_true(config_timeout(&c, T_EXPINT) >= 1);
	assert_true(config_timeout(&c, T_TCP_RST) > 0);
	assert_true(config_timeout(&c, T_TCP_FIN) > 0);
	config_free(&c);

	cfg_init(&c);
	assert_int_equal(parse(&c, err, sizeof(err), gen), 0);
	assert_int_equal(config_timeout(&c, T_TCP), 60);
	assert_int_equal(config_timeout(&c, T_UDP), 60);
	assert_int_equal(config_timeout(&c, T_ICMP), 60);
	assert_int_equal(config_timeout(&c, T_MAXLIFE), 1800);
	config_free(&c);

	cfg_init(&c);
	assert_int_equal(parse(&c, err, sizeof(err), tcp), 0);
	assert_int_equal(config_timeout(&c, T_TCP), 300);
	assert_int_equal(config_timeout(&c, T_UDP), 60);
	config_free(&c);
}

static void
test_config_timeout_names(void **state)
{
	static const char *const names[T_NTIMEOUTS] = { "general", "tcp",
	    "tcp.rst", "tcp.fin", "udp", "icmp", "maxlife", "expint" };
	int i;

	(void)state;
	for (i = 0; i < T_NTIMEOUTS; i++)
		assert_string_equal(config_timeout_name(i), names[i]);
	assert_string_equal(config_timeout_name(T_NTIMEOUTS), "?");
}

/* The flow table gets milliseconds, one per class, from the timeouts. */
static void
test_config_flowtable(void **state)
{
	static const char *const args[] = { "-t", "general=20", "-t",
	    "udp=40", "-t", "tcp.rst=0", "-t", "maxlife=1h", "-m", "500",
	    "-T", "proto", "-x", "3", NULL };
	struct flowtable_config ftc;
	struct config c;
	char err[256];

	(void)state;
	cfg_init(&c);
	assert_int_equal(parse(&c, err, sizeof(err), args), 0);
	config_flowtable(&c, &ftc);
	assert_int_equal(ftc.max_flows, 500);
	assert_int_equal(ftc.track, TRACK_PROTO);
	assert_int_equal(ftc.idle_ms[FC_GENERAL], 20000);
	assert_int_equal(ftc.idle_ms[FC_TCP], 20000);
	assert_int_equal(ftc.idle_ms[FC_UDP], 40000);
	assert_int_equal(ftc.idle_ms[FC_ICMP], 20000);
	assert_int_equal(ftc.idle_ms[FC_TCP_RST], 0);
	assert_int_equal(ftc.idle_ms[FC_TCP_FIN],
	    config_timeout(&c, T_TCP_FIN) * 1000);
	assert_int_equal(ftc.maxlife_ms, 3600000);
	assert_int_equal(ftc.mpls_labels, 3);
	/* maxlife=0: no active timeout short of the 32-bit offsets' reach. */
	c.timeout[T_MAXLIFE] = 0;
	config_flowtable(&c, &ftc);
	assert_int_equal(ftc.maxlife_ms, INT32_MAX);
	config_free(&c);
}

/* A config file in $TMPDIR, removed by the caller. */
static void
write_file(char *path, size_t len, const char *text)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, len, "%s/test_config.XXXXXX", dir ? dir : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void
test_config_file_keys(void **state)
{
	struct config c;
	char path[256], err[256];

	(void)state;
	write_file(path, sizeof(path),
	    "# a comment\n"
	    "[softflowd]\n"
	    "interface = eth0\n"
	    "collector = 127.0.0.1:2055\n"
	    "version = 10\n"
	    "biflow = yes\n"
	    "track = port\n"
	    "max_flows = 1000\n"
	    "timeout.tcp = 5m\n"
	    "timeout.maxlife = 1h\n"
	    "mpls_labels = 2\n"
	    "filter = udp port 53\n"
	    "domain_id = 7\n"
	    "mtu = 1200\n"
	    "template_packets = 4\n"
	    "template_interval = 30s\n"
	    "time_format = nano\n"
	    "verbose = 2\n"
	    "no_promisc = yes\n"
	    "; another comment\n");
	cfg_init(&c);
	if (config_load_file(&c, path, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(c.ninterfaces, 1);
	assert_string_equal(c.interfaces[0], "eth0");
	assert_int_equal(c.export.ncollectors, 1);
	assert_int_equal(c.export.version, 10);
	assert_int_equal(c.export.biflow, 1);
	assert_int_equal(c.track, TRACK_PORT);
	assert_int_equal(c.max_flows, 1000);
	assert_int_equal(config_timeout(&c, T_TCP), 300);
	assert_int_equal(config_timeout(&c, T_MAXLIFE), 3600);
	assert_int_equal(c.export.mpls_labels, 2);
	assert_string_equal(c.bpf, "udp port 53");
	assert_int_equal(c.export.domain_id, 7);
	assert_int_equal(c.export.mtu, 1200);
	assert_int_equal(c.export.tmpl_packets, 4);
	assert_int_equal(c.export.tmpl_secs, 30);
	assert_int_equal(c.export.time_prec, 3);
	assert_int_equal(c.verbose, 2);
	assert_int_equal(c.promisc, 0);
	config_free(&c);
	unlink(path);
}

/* Each bad file fails with path:line, and names the key. */
static const struct {
	const char	*text;
	int		 line;
	const char	*names;
} bad_files[] = {
	{ "version = 9\nbogus = 1\n", 2, "bogus" },
	{ "# c\n\nmax_flows = lots\n", 3, "max_flows" },
	{ "timeout.bogus = 5\n", 1, "bogus" },
	{ "timeout.tcp = 5x\n", 1, "timeout.tcp" },
	{ "[other]\nversion = 9\n", 2, "[other]" },
	{ "version = 9\nthis line has no equals sign\n", 2, "syntax" },
	{ "biflow = maybe\n", 1, "biflow" },
	{ "config = /etc/other.conf\n", 1, "config" },
	{ "collector = nocolon\n", 1, "collector" },
	{ "track = sideways\n", 1, "track" },
	{ "mtu = 10\n", 1, "mtu" },
	{ "mtu = automatic\n", 1, "mtu" },
	{ "template_interval = 0\n", 1, "template_interval" },
	{ "progress = sometimes\n", 1, "progress" },
};

static void
test_config_file_errors(void **state)
{
	struct config c;
	char path[256], err[512], where[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		write_file(path, sizeof(path), bad_files[i].text);
		cfg_init(&c);
		if (config_load_file(&c, path, err, sizeof(err)) != -1)
			fail_msg("bad file %zu was accepted", i);
		snprintf(where, sizeof(where), "%s:%d:", path,
		    bad_files[i].line);
		if (strstr(err, where) == NULL ||
		    strstr(err, bad_files[i].names) == NULL)
			fail_msg("bad file %zu: \"%s\" lacks %s or %s", i, err,
			    where, bad_files[i].names);
		assert_null(strchr(err, '\n'));
		config_free(&c);
		unlink(path);
	}
	cfg_init(&c);
	assert_int_equal(config_load_file(&c, NOFILE, err, sizeof(err)), -1);
	assert_non_null(strstr(err, NOFILE));
	config_free(&c);
}

/*
 * The command line wins over the file; a file's collectors replace the
 * ones from before it (a reload does not add them twice), and -n
 * replaces the file's.
 */
static void
test_config_file_and_cli(void **state)
{
	struct config c;
	char path[256], err[256];
	const char *args[8];

	(void)state;
	write_file(path, sizeof(path),
	    "max_flows = 100\n"
	    "version = 9\n"
	    "collector = a:1\n"
	    "collector = b:2\n"
	    "timeout.general = 30\n"
	    "interface = eth0\n");

	cfg_init(&c);
	args[0] = "-f";
	args[1] = path;
	args[2] = "-m";
	args[3] = "200";
	args[4] = "-t";
	args[5] = "general=45";
	args[6] = NULL;
	assert_int_equal(parse(&c, err, sizeof(err), args), 0);
	assert_int_equal(c.max_flows, 200);
	assert_int_equal(c.export.version, 9);
	assert_int_equal(config_timeout(&c, T_GENERAL), 45);
	assert_int_equal(c.export.ncollectors, 2);
	assert_string_equal(c.export.collectors[0], "a:1");
	assert_string_equal(c.export.collectors[1], "b:2");
	assert_int_equal(c.ninterfaces, 1);
	/* Loading the file again (SIGHUP) keeps two collectors. */
	assert_int_equal(config_load_file(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.export.ncollectors, 2);
	assert_int_equal(c.ninterfaces, 1);
	config_free(&c);

	cfg_init(&c);
	args[2] = "-n";
	args[3] = "c:3";
	args[4] = "-i";
	args[5] = "eth1";
	args[6] = NULL;
	assert_int_equal(parse(&c, err, sizeof(err), args), 0);
	assert_int_equal(c.export.ncollectors, 1);
	assert_string_equal(c.export.collectors[0], "c:3");
	assert_int_equal(c.ninterfaces, 1);
	assert_string_equal(c.interfaces[0], "eth1");
	assert_int_equal(c.max_flows, 100);
	config_free(&c);
	unlink(path);

	/* A bad file given with -f fails the whole parse. */
	write_file(path, sizeof(path), "bogus = 1\n");
	cfg_init(&c);
	args[2] = NULL;
	assert_int_equal(parse(&c, err, sizeof(err), args), -1);
	assert_non_null(strstr(err, "bogus"));
	config_free(&c);
	unlink(path);
}

static const struct {
	const char	*args[6];
	const char	*names;		/* NULL: valid */
} validate[] = {
	{ { "-i", "eth0" }, NULL },
	{ { "-r", "x.pcap", "-v", "10", "-b" }, NULL },
	{ { NULL }, "-i" },
	{ { "-i", "eth0", "-r", "x.pcap" }, "-r" },
	{ { "-r", "x.pcap", "-b" }, "-v 10" },
	{ { "-r", "x.pcap", "-v", "9", "-b" }, "-b" },
};

static void
test_config_validate(void **state)
{
	struct config c;
	char err[256];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(validate) / sizeof(validate[0]); i++) {
		cfg_init(&c);
		assert_int_equal(parse(&c, err, sizeof(err), validate[i].args),
		    0);
		err[0] = '\0';
		r = config_validate(&c, err, sizeof(err));
		if (validate[i].names == NULL) {
			if (r != 0)
				fail_msg("validate row %zu: %s", i, err);
		} else {
			assert_int_equal(r, -1);
			if (strstr(err, validate[i].names) == NULL)
				fail_msg("validate row %zu: \"%s\" lacks %s",
				    i, err, validate[i].names);
		}
		config_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_valid_flags),
		cmocka_unit_test(test_config_invalid_flags),
		cmocka_unit_test(test_config_too_many),
		cmocka_unit_test(test_config_usage),
		cmocka_unit_test(test_config_timeout_inheritance),
		cmocka_unit_test(test_config_timeout_names),
		cmocka_unit_test(test_config_flowtable),
		cmocka_unit_test(test_config_file_keys),
		cmocka_unit_test(test_config_file_errors),
		cmocka_unit_test(test_config_file_and_cli),
		cmocka_unit_test(test_config_validate),
		cmocka_unit_test(test_config_help),
	};

	/* Code that loops forever fails the suite instead of hanging it. */
	alarm(300);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
