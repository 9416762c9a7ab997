/*
 * Control requests: the parser and the command names, apart from the
 * socket code so that softflowctl, the unit tests and a fuzzer can link
 * them without the rest of the daemon.  Requests are untrusted bytes and
 * are read only through the cursor.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "cursor.h"

static const struct {
	const char	*name;
	const char	*help;
} commands[CTL_NCOMMANDS] = {
#define CTL_ROW(id, name, help) [CTL_CMD_##id] = { name, help },
	CTL_COMMANDS(CTL_ROW)
#undef CTL_ROW
};

static const char *const status_names[CTL_NSTATUS] = {
#define CTL_NAME(name, str) [CTL_##name] = str,
	CTL_STATUSES(CTL_NAME)
#undef CTL_NAME
};

const char *
ctl_status_name(enum ctl_status s)
{
	return (unsigned)s < CTL_NSTATUS ? status_names[s] : "?";
}

const char *
ctl_command_name(enum ctl_command cmd)
{
	return (unsigned)cmd < CTL_NCOMMANDS ? commands[cmd].name : "?";
}

void
ctl_write_help(FILE *fp)
{
	unsigned i;

	for (i = 0; i < CTL_NCOMMANDS; i++)
		fprintf(fp, "  %-16s %s\n", commands[i].name, commands[i].help);
}

static int
is_blank(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

enum ctl_status
ctl_parse(const uint8_t *buf, size_t len, int eof, struct ctl_request *req)
{
	struct cursor cur, word;
	size_t end, start;
	uint8_t ch, next, w[CTL_MAX_LINE];
	unsigned i;
	int ended = 0;

	memset(req, 0, sizeof(*req));
	req->cmd = CTL_NCOMMANDS;
	cur_init(&cur, buf, len);
	cur_limit(&cur, CTL_MAX_LINE);
	/* Find the end of the line; refuse binary garbage as soon as seen. */
	for (end = 0; cur_u8(&cur, &ch) == 0; end++) {
		if (ch == '\n') {
			ended = 1;
			break;
		}
		/* A carriage return may only end the line. */
		if (ch == '\r' && cur_peek_u8(&cur, 0, &next) == 0 &&
		    next != '\n')
			return CTL_BAD_BYTE;
		if (ch != '\r' && !is_blank(ch) && (ch < 0x21 || ch > 0x7e))
			return CTL_BAD_BYTE;
	}
	if (!ended) {
		if (len >= CTL_MAX_LINE)
			return CTL_TOO_LONG;
		if (!eof)
			return CTL_INCOMPLETE;
	}

	/* The word: the line without surrounding blanks and the CR. */
	cur_init(&word, buf, end);
	for (start = 0; cur_peek_u8(&word, start, &ch) == 0 && is_blank(ch);
	    start++)
		;
	while (end > start && cur_peek_u8(&word, end - 1, &ch) == 0 &&
	    (is_blank(ch) || ch == '\r'))
		end--;
	if (start == end)
		return CTL_EMPTY;
	req->word_off = start;
	req->word_len = end - start;
	if (cur_peek_bytes(&word, start, w, req->word_len) == -1)
		return CTL_TOO_LONG;	/* cannot happen: end <= CTL_MAX_LINE */
	for (i = 0; i < CTL_NCOMMANDS; i++)
		if (strlen(commands[i].name) == req->word_len &&
		    memcmp(commands[i].name, w, req->word_len) == 0) {
			req->cmd = (enum ctl_command)i;
			return CTL_OK;
		}
	return CTL_UNKNOWN;
}
