/*
 * Control socket: softflowctl's UNIX stream socket on the probe's event
 * loop.  A client connects, sends one command line and reads the reply
 * until the server closes.  Clients are bounded in number, in request
 * size and in time, and never block the loop.
 */
#ifndef CTL_H
#define CTL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest request line, newline included. */
#define CTL_MAX_LINE		256
/* Clients served at once; more are refused with an error line. */
#define CTL_MAX_CLIENTS		16
/* Seconds a client has to send its command, and to read each reply chunk. */
#define CTL_IDLE_SECS		5
#define CTL_WRITE_SECS		10

/*
 * Outcome of a request.  The parser returns OK, INCOMPLETE or one of the
 * request errors; the socket code adds the ones it sees itself.  Every
 * refusal is counted under its name.
 */
#define CTL_STATUSES(X)							\
	X(OK,		"ok")						\
	X(INCOMPLETE,	"incomplete")					\
	X(EMPTY,	"empty_request")				\
	X(TOO_LONG,	"oversize_request")				\
	X(BAD_BYTE,	"non_printable_request")			\
	X(UNKNOWN,	"unknown_command")				\
	X(TOO_MANY,	"too_many_clients")				\
	X(IDLE,		"idle_timeout")					\
	X(NOT_READING,	"client_not_reading")

#define CTL_ENUM(name, str) CTL_##name,
enum ctl_status {
	CTL_STATUSES(CTL_ENUM)
	CTL_NSTATUS
};
#undef CTL_ENUM

/*
 * The commands: softflowd 1.1's, then ours.  One row each: the parser's
 * names, ctl.c's handlers and softflowctl's usage all come from it, so
 * they cannot disagree.
 */
#define CTL_COMMANDS(X)							\
	X(shutdown,	"shutdown",	"export every flow, then exit "	\
	    "(as SIGTERM)")						\
	X(exit,		"exit",		"exit at once; active flows are " \
	    "not exported")						\
	X(expire_all,	"expire-all",	"export every active flow now")	\
	X(delete_all,	"delete-all",	"drop every active flow without " \
	    "exporting it")						\
	X(statistics,	"statistics",	"counters since start-up, as text") \
	X(statistics_json, "statistics-json", "the same counters as one " \
	    "JSON object")						\
	X(metrics,	"metrics",	"the same counters in Prometheus " \
	    "text format")						\
	X(dump_flows,	"dump-flows",	"list the active flows")	\
	X(timeouts,	"timeouts",	"the timeouts in force, in seconds") \
	X(send_template, "send-template", "resend v9/IPFIX templates with " \
	    "the next export")						\
	X(stop_gather,	"stop-gather",	"pause capture: stop reading "	\
	    "packets")							\
	X(start_gather,	"start-gather",	"resume capture")		\
	X(debug_plus,	"debug+",	"raise log verbosity by one (at " \
	    "most 3)")							\
	X(debug_minus,	"debug-",	"lower log verbosity by one")	\
	X(help,		"help",		"this list")

#define CTL_CMD_ENUM(id, name, help) CTL_CMD_##id,
enum ctl_command {
	CTL_COMMANDS(CTL_CMD_ENUM)
	CTL_NCOMMANDS
};
#undef CTL_CMD_ENUM

/* A parsed request: the command, or where the unknown word lies in buf. */
struct ctl_request {
	enum ctl_command cmd;
	size_t		 word_off;
	size_t		 word_len;
};

struct ctl_stats {
	uint64_t	 connections;	/* accepted, refused ones included */
	uint64_t	 commands;	/* run */
	uint64_t	 refused[CTL_NSTATUS];	/* by enum ctl_status */
};

struct probe;
struct ctl;

/*
 * The request parser and the tables (src/ctl_parse.c) need nothing else,
 * so softflowctl, unit tests and fuzzers link them alone.
 *
 * Parse the bytes a client sent so far.  A request is one command word,
 * optionally surrounded by blanks, ended by "\n" or "\r\n", or by the end
 * of the stream when eof is set.  Pure: no I/O and no state, so it can be
 * fuzzed on its own.
 */
enum ctl_status	 ctl_parse(const uint8_t *buf, size_t len, int eof,
		    struct ctl_request *req);
const char	*ctl_command_name(enum ctl_command cmd);
const char	*ctl_status_name(enum ctl_status s);
/* Every command and its help, one per line (softflowctl help). */
void		 ctl_write_help(FILE *fp);

/*
 * Create the socket at path (mode 0600) and serve it on p->base, counting
 * into p->ctl_stats.  A stale socket is replaced; one a live daemon
 * answers on is an error.
 */
struct ctl	*ctl_open(const char *path, struct probe *p, char *err,
		    size_t errlen);
/* Drop every client, close the socket and remove it. */
void		 ctl_close(struct ctl *ctl);

#endif /* CTL_H */
