/*
 * Service plumbing.  systemd's notification protocol is one datagram of
 * "KEY=value" lines to the socket named by $NOTIFY_SOCKET (a path, or an
 * abstract name when it starts with '@'), so it is spoken here directly
 * instead of linking libsystemd.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "daemon.h"
#include "log.h"

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static struct event *watchdog_ev;

/* Whether /proc says pid runs a program called softflowd. */
static int
pid_is_softflowd(pid_t pid)
{
	char path[64], comm[64];
	FILE *fp;
	int r = 1;		/* without /proc, trust the pid */

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return errno == ENOENT ? 0 : 1;
	if (fgets(comm, sizeof(comm), fp) != NULL)
		r = strncmp(comm, "softflowd", 9) == 0;
	fclose(fp);
	return r;
}

int
daemon_check_pidfile(const char *path, char *err, size_t errlen)
{
	FILE *fp;
	long pid;
	int n;

	if (path == NULL || !strcmp(path, "none"))
		return 0;
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fscanf(fp, "%ld", &pid);
	fclose(fp);
	if (n != 1 || pid <= 0 || pid == (long)getpid())
		return 0;
	if ((kill((pid_t)pid, 0) == 0 || errno == EPERM) &&
	    pid_is_softflowd((pid_t)pid)) {
		snprintf(err, errlen, "softflowd is already running as pid %ld "
		    "(pid file %s); stop it first, or give this instance its "
		    "own -p and -c", pid, path);
		return -1;
	}
	return 0;
}

int
daemon_notify_open(void)
{
	const char *name = getenv("NOTIFY_SOCKET");
	size_t len;
	int fd;

	if (notify_fd != -1)
		return 1;
	if (name == NULL || (name[0] != '/' && name[0] != '@'))
		return 0;
	len = strlen(name);
	if (len >= sizeof(notify_addr.sun_path)) {
		log_warnx("NOTIFY_SOCKET is too long; not talking to systemd");
		return 0;
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, name, len);
	if (name[0] == '@')
		notify_addr.sun_path[0] = '\0';	/* abstract namespace */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_warn("NOTIFY_SOCKET");
		return 0;
	}
	/* Connected now, the socket still works after chroot and setuid. */
	if (connect(fd, (struct sockaddr *)&notify_addr, notify_len) == -1) {
		log_warn("NOTIFY_SOCKET %s", name);
		close(fd);
		return 0;
	}
	notify_fd = fd;
	/* Nothing we start should answer to systemd in our name. */
	unsetenv("NOTIFY_SOCKET");
	return 1;
}

void
daemon_notify(const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	if (notify_fd == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	if (send(notify_fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		log_debug("systemd notification \"%s\": %s", msg,
		    strerror(errno));
}

static void
watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	daemon_notify("WATCHDOG=1");
}

int
daemon_watchdog_start(struct event_base *base)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	struct timeval tv;
	unsigned long long us;
	char *end;

	if (notify_fd == -1 || usec == NULL)
		return 0;
	if (pid != NULL && strtol(pid, NULL, 10) != (long)getpid())
		return 0;
	us = strtoull(usec, &end, 10);
	if (*end != '\0' || us == 0)
		return 0;
	/* Half the interval, as sd_watchdog_enabled(3) advises. */
	us /= 2;
	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	watchdog_ev = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL);
	if (watchdog_ev == NULL || event_add(watchdog_ev, &tv) == -1) {
		log_warnx("cannot start the systemd watchdog timer");
		return -1;
	}
	return 0;
}

void
daemon_watchdog_stop(void)
{
	if (watchdog_ev != NULL)
		event_free(watchdog_ev);
	watchdog_ev = NULL;
}

int
daemon_privileges_check(const char *user, const char *dir, char *err,
    size_t errlen)
{
	struct passwd *pw = NULL;
	struct stat sb;

	if (user == NULL && dir == NULL)
		return 0;
	if (user != NULL && (pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user \"%s\" does not exist; create it "
		    "or change -u", user);
		return -1;
	}
	if (dir != NULL && (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode))) {
		snprintf(err, errlen, "chroot directory %s: %s; create it or "
		    "change -j", dir, errno ? strerror(errno) :
		    "not a directory");
		return -1;
	}
	/* Already that user, and no chroot asked for: nothing to drop. */
	if (geteuid() != 0 && !(dir == NULL && pw->pw_uid == geteuid() &&
	    pw->pw_gid == getegid())) {
		snprintf(err, errlen, "-u and -j need softflowd to start as "
		    "root (it runs as uid %ld)", (long)geteuid());
		return -1;
	}
	return 0;
}

int
daemon_drop_privileges(const char *user, const char *dir, char *err,
    size_t errlen)
{
	struct passwd *pw = NULL;
	uid_t uid, ruid, euid, suid;
	gid_t gid, rgid, egid, sgid;

	if (daemon_privileges_check(user, dir, err, errlen) == -1)
		return -1;
	if (user == NULL && dir == NULL)
		return 0;
	if (user != NULL && (pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user \"%s\" does not exist", user);
		return -1;
	}
	if (geteuid() != 0)
		return 0;	/* already that user, as checked */
	uid = pw ? pw->pw_uid : 0;
	gid = pw ? pw->pw_gid : 0;
	/* Time zone and syslog need files outside the chroot: load now. */
	tzset();
	if (dir != NULL && (chroot(dir) == -1 || chdir("/") == -1)) {
		snprintf(err, errlen, "chroot to %s: %s (change -j)", dir,
		    strerror(errno));
		return -1;
	}
	if (pw == NULL) {
		log_warnx("chrooted to %s but still root: add -u to drop "
		    "privileges", dir);
		return 0;
	}
	if (setgroups(1, &gid) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1) {
		snprintf(err, errlen, "cannot switch to user %s (uid %ld gid "
		    "%ld): %s", user, (long)uid, (long)gid, strerror(errno));
		return -1;
	}
	/* A privilege drop that can be undone is worse than none. */
	if (getresuid(&ruid, &euid, &suid) == -1 ||
	    getresgid(&rgid, &egid, &sgid) == -1 ||
	    ruid != uid || euid != uid || suid != uid ||
	    rgid != gid || egid != gid || sgid != gid ||
	    (uid != 0 && (setuid(0) != -1 || seteuid(0) != -1))) {
		snprintf(err, errlen, "privileges of user %s could be undone; "
		    "refusing to run", user);
		return -1;
	}
	log_info("running as %s (uid %ld gid %ld)%s%s", user, (long)uid,
	    (long)gid, dir ? " in " : "", dir ? dir : "");
	return 0;
}
