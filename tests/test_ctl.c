/*
 * Control request parser: one table of requests as a client could send
 * them, with the command or the refusal each must produce, then every
 * prefix of each good request (a client may send a byte at a time).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ctl.h"

struct req_case {
	const char	*name;
	const char	*bytes;
	size_t		 len;		/* 0: strlen(bytes) */
	int		 eof;
	enum ctl_status	 want;
	const char	*cmd;		/* for CTL_OK */
	const char	*word;		/* for CTL_UNKNOWN */
};

static const struct req_case cases[] = {
	{ "plain", "statistics\n", 0, 0, CTL_OK, "statistics", NULL },
	{ "crlf", "timeouts\r\n", 0, 0, CTL_OK, "timeouts", NULL },
	{ "blanks around", " \t dump-flows \t\n", 0, 0, CTL_OK, "dump-flows",
	    NULL },
	{ "no newline at eof", "shutdown", 0, 1, CTL_OK, "shutdown", NULL },
	{ "cr at eof", "exit\r", 0, 1, CTL_OK, "exit", NULL },
	{ "data after the line is ignored", "debug+\nexit\n", 0, 0, CTL_OK,
	    "debug+", NULL },
	{ "debug-", "debug-\n", 0, 0, CTL_OK, "debug-", NULL },
	{ "json", "statistics-json\n", 0, 0, CTL_OK, "statistics-json",
	    NULL },
	{ "metrics", "metrics\n", 0, 0, CTL_OK, "metrics", NULL },
	{ "help", "help\n", 0, 0, CTL_OK, "help", NULL },
	{ "no newline yet", "statis", 0, 0, CTL_INCOMPLETE, NULL, NULL },
	{ "nothing yet", "", 0, 0, CTL_INCOMPLETE, NULL, NULL },
	{ "cr waiting for lf", "expire-all\r", 0, 0, CTL_INCOMPLETE, NULL,
	    NULL },
	{ "empty line", "\n", 0, 0, CTL_EMPTY, NULL, NULL },
	{ "blank line", "  \t\r\n", 0, 0, CTL_EMPTY, NULL, NULL },
	{ "closed without a word", "", 0, 1, CTL_EMPTY, NULL, NULL },
	{ "case matters", "SHUTDOWN\n", 0, 0, CTL_UNKNOWN, NULL, "SHUTDOWN" },
	{ "prefix of a command", "stat\n", 0, 0, CTL_UNKNOWN, NULL, "stat" },
	{ "command plus argument", "shutdown now\n", 0, 0, CTL_UNKNOWN, NULL,
	    "shutdown now" },
	{ "longer than a command", "statisticsx\n", 0, 0, CTL_UNKNOWN, NULL,
	    "statisticsx" },
	{ "nul byte", "exit\0\n", 6, 0, CTL_BAD_BYTE, NULL, NULL },
	{ "escape sequence", "\033[2Jhelp\n", 0, 0, CTL_BAD_BYTE, NULL, NULL },
	{ "high bytes", "h\xc3\xa9lp\n", 0, 0, CTL_BAD_BYTE, NULL, NULL },
	{ "bare cr inside", "ex\rit\n", 0, 0, CTL_BAD_BYTE, NULL, NULL },
	{ "binary before a newline arrives", "\x01\x02", 0, 0, CTL_BAD_BYTE,
	    NULL, NULL },
};

static void
test_table(void **state)
{
	const struct req_case *c;
	struct ctl_request req;
	enum ctl_status st;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = &cases[i];
		len = c->len ? c->len : strlen(c->bytes);
		st = ctl_parse((const uint8_t *)c->bytes, len, c->eof, &req);
		if (st != c->want)
			fail_msg("%s: got %s, want %s", c->name,
			    ctl_status_name(st), ctl_status_name(c->want));
		if (c->cmd)
			assert_string_equal(ctl_command_name(req.cmd), c->cmd);
		if (c->word) {
			assert_int_equal(req.word_len, strlen(c->word));
			assert_memory_equal(c->bytes + req.word_off, c->word,
			    req.word_len);
		}
	}
}

/* Every command of the table parses to itself, and nothing else does. */
static void
test_every_command(void **state)
{
	struct ctl_request req;
	char line[CTL_MAX_LINE];
	unsigned i;
	int n;

	(void)state;
	for (i = 0; i < CTL_NCOMMANDS; i++) {
		n = snprintf(line, sizeof(line), "%s\n",
		    ctl_command_name((enum ctl_command)i));
		assert_int_equal(ctl_parse((const uint8_t *)line, (size_t)n, 0,
		    &req), CTL_OK);
		assert_int_equal(req.cmd, i);
	}
}

/* softflowd 1.1's commands must all still be there. */
static void
test_softflowd11_commands(void **state)
{
	static const char *const v11[] = { "shutdown", "exit", "expire-all",
	    "delete-all", "statistics", "dump-flows", "timeouts",
	    "start-gather", "stop-gather", "send-template", "debug+",
	    "debug-" };
	struct ctl_request req;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v11) / sizeof(v11[0]); i++)
		assert_int_equal(ctl_parse((const uint8_t *)v11[i],
		    strlen(v11[i]), 1, &req), CTL_OK);
}

/* A request arriving byte by byte is incomplete until its newline. */
static void
test_prefixes(void **state)
{
	static const char line[] = "send-template\r\n";
	struct ctl_request req;
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(line) - 1; n++)
		assert_int_equal(ctl_parse((const uint8_t *)line, n, 0, &req),
		    CTL_INCOMPLETE);
	assert_int_equal(ctl_parse((const uint8_t *)line, n, 0, &req),
	    CTL_OK);
	assert_string_equal(ctl_command_name(req.cmd), "send-template");
}

static void
test_length_limit(void **state)
{
	uint8_t buf[CTL_MAX_LINE * 2];
	struct ctl_request req;

	(void)state;
	/* CTL_MAX_LINE - 1 printable bytes and a newline: within the cap. */
	memset(buf, 'a', sizeof(buf));
	buf[CTL_MAX_LINE - 1] = '\n';
	assert_int_equal(ctl_parse(buf, CTL_MAX_LINE, 0, &req), CTL_UNKNOWN);
	assert_int_equal(req.word_len, CTL_MAX_LINE - 1);
	/* One more and the line is refused, whatever follows. */
	buf[CTL_MAX_LINE - 1] = 'a';
	buf[CTL_MAX_LINE] = '\n';
	assert_int_equal(ctl_parse(buf, CTL_MAX_LINE, 0, &req),
	    CTL_TOO_LONG);
	assert_int_equal(ctl_parse(buf, sizeof(buf), 0, &req), CTL_TOO_LONG);
	assert_int_equal(ctl_parse(buf, sizeof(buf), 1, &req), CTL_TOO_LONG);
	/* Short of the cap without a newline: wait for more. */
	assert_int_equal(ctl_parse(buf, CTL_MAX_LINE - 1, 0, &req),
	    CTL_INCOMPLETE);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(ctl_status_name(CTL_TOO_MANY),
	    "too_many_clients");
	assert_string_equal(ctl_status_name(CTL_NSTATUS), "?");
	assert_string_equal(ctl_command_name(CTL_NCOMMANDS), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_every_command),
		cmocka_unit_test(test_softflowd11_commands),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_length_limit),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
