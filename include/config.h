/*
 * Configuration: defaults, then the config file (inih), then the command
 * line, into one struct validated in one place.  One table of options
 * drives getopt, the config-file keys and -h.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "export.h"
#include "flowtable.h"

#define CONFIG_MAX_INTERFACES	16
#define CONFIG_DEFAULT_FILE	"/etc/softflowd.conf"
#define CONFIG_DEFAULT_CTLSOCK	"/var/run/softflowd.ctl"
#define CONFIG_DEFAULT_PIDFILE	"/var/run/softflowd.pid"

enum timeout_id {
	T_GENERAL, T_TCP, T_TCP_RST, T_TCP_FIN, T_UDP, T_ICMP,
	T_MAXLIFE, T_EXPINT, T_NTIMEOUTS
};

struct config {
	char		*interfaces[CONFIG_MAX_INTERFACES];	/* [idx:]name */
	unsigned	 ninterfaces;
	char		*readfile;
	char		*bpf;
	char		*pidfile;
	char		*ctlsock;
	int		 ctlsock_given;	/* -c or the file named one */
	char		*user;
	char		*chroot_dir;
	char		*config_file;
	int		 config_file_given;
	int		 foreground;
	int		 debug;
	int		 verbose;
	int		 track_ipv6;
	int		 psamp;
	int		 adjust_time;
	int		 psamp_port;
	enum track_level track;
	uint32_t	 timeout[T_NTIMEOUTS];	/* seconds */
	uint8_t		 timeout_set[T_NTIMEOUTS];
	uint32_t	 max_flows;
	unsigned	 sampling;		/* 1-in-N, 0 or 1: all */
	int		 snaplen;
	int		 bufsize;
	int		 promisc;
	int		 progress;		/* -1 auto: when stderr is a tty */
	struct export_config export;
};

void	 config_defaults(struct config *cfg);
/*
 * Parse argv (and the config file it names, or the default one when it
 * exists).  On error writes one line to err and returns -1.  Returns 1
 * when -h was given (usage already printed).
 */
int	 config_parse_args(struct config *cfg, int argc, char **argv,
	    char *err, size_t errlen);
/* Load just a config file on top of cfg (SIGHUP). */
int	 config_load_file(struct config *cfg, const char *path, char *err,
	    size_t errlen);
int	 config_validate(const struct config *cfg, char *err, size_t errlen);
void	 config_free(struct config *cfg);
void	 config_usage(FILE *fp);
/* Seconds for a timeout, after "unset means general" defaults. */
uint32_t config_timeout(const struct config *cfg, enum timeout_id id);
const char *config_timeout_name(enum timeout_id id);
/* Flow table settings derived from the config. */
void	 config_flowtable(const struct config *cfg,
	    struct flowtable_config *ftc);

#endif /* CONFIG_H */
