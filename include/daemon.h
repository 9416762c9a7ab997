/*
 * Running as a service: the pid file, systemd's notification protocol
 * (sd_notify, spoken by hand over $NOTIFY_SOCKET) and the privilege drop
 * to -u user inside -j chroot.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <stddef.h>

struct event_base;

/*
 * Fail when the pid file names a live softflowd other than us, so a
 * second instance does not steal the first one's files.
 */
int	daemon_check_pidfile(const char *path, char *err, size_t errlen);

/*
 * Connect to $NOTIFY_SOCKET now, while its path is still reachable (before
 * chroot and setuid).  Returns 1 when systemd is listening, 0 when not.
 */
int	daemon_notify_open(void);
/* Send one state ("READY=1", "STOPPING=1", ...); a no-op without systemd. */
void	daemon_notify(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));
/* Keep systemd's watchdog fed when the unit sets WatchdogSec=. */
int	daemon_watchdog_start(struct event_base *base);
void	daemon_watchdog_stop(void);

/*
 * Check early, while errors still reach the terminal, that the user
 * exists, the chroot directory does and we are root when either is given.
 */
int	daemon_privileges_check(const char *user, const char *dir, char *err,
	    size_t errlen);
/*
 * chroot to dir (when not NULL), then switch to user (when not NULL) and
 * check that root cannot be regained.  Call after every privileged open.
 */
int	daemon_drop_privileges(const char *user, const char *dir, char *err,
	    size_t errlen);

#endif /* DAEMON_H */
