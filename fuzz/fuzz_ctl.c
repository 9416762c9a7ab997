/*
 * Fuzz target for the control socket's request parser.  The input is what
 * a client sends; it is parsed as the socket would see it arrive, one
 * byte more each time, and then at the end of the stream.  Besides the
 * sanitizers it checks the parser's promises: a verdict other than
 * "incomplete" never changes as more bytes arrive, the end of the stream
 * always yields one, and a recognised word is that command's name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fuzz.h"

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_ctl: broken promise: %s\n", what);
		abort();
	}
}

static void
check_request(const uint8_t *buf, size_t len, enum ctl_status s,
    const struct ctl_request *req)
{
	const char *name;
	size_t seen = len < CTL_MAX_LINE ? len : CTL_MAX_LINE;

	check((unsigned)s < CTL_NSTATUS, "status in range");
	check(strcmp(ctl_status_name(s), "?") != 0, "status named");
	if (s != CTL_OK && s != CTL_UNKNOWN)
		return;
	check(req->word_len > 0 && req->word_off + req->word_len <= seen,
	    "the word lies in the first line");
	check(buf[req->word_off] != ' ' && buf[req->word_off] != '\t' &&
	    buf[req->word_off + req->word_len - 1] != ' ',
	    "the word has no surrounding blanks");
	if (s == CTL_UNKNOWN) {
		check(req->cmd == CTL_NCOMMANDS, "an unknown word has no command");
		return;
	}
	check((unsigned)req->cmd < CTL_NCOMMANDS, "command in range");
	name = ctl_command_name(req->cmd);
	check(strlen(name) == req->word_len &&
	    memcmp(name, buf + req->word_off, req->word_len) == 0,
	    "the command is the word");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request req, first_req;
	enum ctl_status s, first = CTL_INCOMPLETE;
	uint8_t *buf;
	size_t k, limit = size < CTL_MAX_LINE + 8 ? size : CTL_MAX_LINE + 8;

	memset(&first_req, 0, sizeof(first_req));
	/* An exact-size copy, so a read past the bytes sent is caught. */
	if ((buf = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(buf, data, size);
	for (k = 0; k <= limit; k++) {
		s = ctl_parse(buf, k, 0, &req);
		check_request(buf, k, s, &req);
		if (first == CTL_INCOMPLETE) {
			first = s;
			first_req = req;
		} else
			check(s == first && req.cmd == first_req.cmd &&
			    req.word_off == first_req.word_off &&
			    req.word_len == first_req.word_len,
			    "a verdict stands as more bytes arrive");
	}
	s = ctl_parse(buf, size, 1, &req);
	check_request(buf, size, s, &req);
	check(s != CTL_INCOMPLETE, "the end of the stream ends the request");
	if (first != CTL_INCOMPLETE)
		check(s == first, "the end of the stream keeps the verdict");
	free(buf);
	return 0;
}
