/* Logging: stderr in the foreground, syslog once daemonised. */
#ifndef LOG_H
#define LOG_H

void	log_init(const char *progname, int foreground, int verbose);
void	log_set_verbose(int verbose);
int	log_get_verbose(void);
void	log_to_syslog(void);
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif /* LOG_H */
