/*
 * softflowctl: send one command to a running softflowd over its control
 * socket and print the reply.  Exits 0 on a reply, 1 when the daemon
 * cannot be reached or answers with an error line.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"

/* Generous: dump-flows of a full table is rendered before it is sent. */
#define REPLY_WAIT_SECS	60

static void
usage(FILE *fp)
{
	fprintf(fp, "Usage: softflowctl [-c ctlsock] command\n"
	    "Control socket default: %s\n"
	    "Commands:\n", CONFIG_DEFAULT_CTLSOCK);
	ctl_write_help(fp);
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
connect_ctl(const char *path)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "softflowctl: control socket path %s is too "
		    "long (at most %zu bytes)\n", path,
		    sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "softflowctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return fd;
	switch (errno) {
	case ENOENT:
		fprintf(stderr, "softflowctl: is softflowd running? no socket "
		    "at %s (softflowd -c sets another path)\n", path);
		break;
	case ECONNREFUSED:
		fprintf(stderr, "softflowctl: is softflowd running? nothing "
		    "answers on %s (a stale socket)\n", path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, "softflowctl: %s: permission denied; the "
		    "socket is for root only (run as root)\n", path);
		break;
	default:
		fprintf(stderr, "softflowctl: cannot connect to %s: %s\n",
		    path, strerror(errno));
		break;
	}
	close(fd);
	return -1;
}

int
main(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_CTLSOCK;
	char line[CTL_MAX_LINE + 1], buf[8192];
	struct pollfd pfd;
	size_t total = 0;
	ssize_t n;
	int ch, fd, r, is_error = 0, len;

	while ((ch = getopt(argc, argv, "c:h")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 1) {
		usage(stderr);
		return 1;
	}
	len = snprintf(line, sizeof(line), "%s\n", argv[optind]);
	if (len < 0 || (size_t)len >= sizeof(line) - 1) {
		fprintf(stderr, "softflowctl: command longer than %d bytes\n",
		    CTL_MAX_LINE - 1);
		return 1;
	}
	if ((fd = connect_ctl(path)) == -1)
		return 1;
	if (write_all(fd, line, (size_t)len) == -1) {
		fprintf(stderr, "softflowctl: sending to %s: %s\n", path,
		    strerror(errno));
		close(fd);
		return 1;
	}
	/* The reply ends when softflowd closes the connection. */
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		r = poll(&pfd, 1, REPLY_WAIT_SECS * 1000);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0) {
			fprintf(stderr, "softflowctl: no reply from softflowd "
			    "within %d s\n", REPLY_WAIT_SECS);
			close(fd);
			return 1;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "softflowctl: reading from %s: %s\n",
			    path, strerror(errno));
			close(fd);
			return 1;
		}
		if (n == 0)
			break;
		if (total == 0 && n >= 6 && memcmp(buf, "error:", 6) == 0)
			is_error = 1;
		total += (size_t)n;
		if (fwrite(buf, 1, (size_t)n, is_error ? stderr : stdout) !=
		    (size_t)n) {
			close(fd);
			return 1;
		}
	}
	close(fd);
	if (total == 0) {
		fprintf(stderr, "softflowctl: softflowd closed the connection "
		    "without a reply\n");
		return 1;
	}
	if (fflush(stdout) == EOF)
		return 1;
	return is_error;
}
