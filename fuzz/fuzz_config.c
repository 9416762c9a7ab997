/*
 * Fuzz target for configuration: the config file parser (inih and every
 * key's setter) and the command line.  The input is the text of a config
 * file, optionally followed by a NUL byte and command-line words, one per
 * line.  The file is loaded on its own, then through -f under the words,
 * as softflowd does at start-up; each result is validated and freed.
 *
 * The words may not name another config file: an 'f' in an option word
 * becomes 'F' (an unknown option), so -f /dev/zero cannot hang the run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

#define MAX_WORDS	64

static char conf_path[64];

static void
check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_config: broken promise: %s\n", what);
		abort();
	}
}

static void
remove_conf(void)
{
	if (conf_path[0] != '\0')
		unlink(conf_path);
}

static int
write_conf(const uint8_t *data, size_t len)
{
	FILE *fp;
	int fd, ok;

	if (conf_path[0] == '\0') {
		snprintf(conf_path, sizeof(conf_path),
		    "/tmp/fuzz_config.%ld.XXXXXX", (long)getpid());
		if ((fd = mkstemp(conf_path)) == -1)
			return -1;
		close(fd);
		atexit(remove_conf);
	}
	if ((fp = fopen(conf_path, "wb")) == NULL)
		return -1;
	ok = fwrite(data, 1, len, fp) == len;
	return fclose(fp) == 0 && ok ? 0 : -1;
}

/* After a failure err names it; after success it is untouched. */
static void
check_result(int r, const char *err)
{
	check(r >= -1 && r <= 1, "result is -1, 0 or 1");
	if (r == -1)
		check(err[0] != '\0', "a failure says why");
}

static void
load_file_only(void)
{
	struct config cfg;
	char err[512];
	int r;

	config_defaults(&cfg);
	err[0] = '\0';
	r = config_load_file(&cfg, conf_path, err, sizeof(err));
	check_result(r, err);
	if (r == 0) {
		err[0] = '\0';
		check_result(config_validate(&cfg, err, sizeof(err)), err);
	}
	config_free(&cfg);
}

static void
parse_words(char *words, size_t len)
{
	struct config cfg;
	char *argv[MAX_WORDS + 4], err[512], *w, *end = words + len;
	int argc = 0, r;

	argv[argc++] = "softflowd";
	argv[argc++] = "-f";
	argv[argc++] = conf_path;
	for (w = words; w < end && argc < MAX_WORDS + 3; ) {
		char *nl = memchr(w, '\n', (size_t)(end - w)), *c;

		if (nl == NULL)
			nl = end;
		*nl = '\0';
		if (w[0] == '-')
			for (c = w; *c; c++)
				if (*c == 'f')
					*c = 'F';
		argv[argc++] = w;
		w = nl + 1;
	}
	argv[argc] = NULL;

	config_defaults(&cfg);
	err[0] = '\0';
	r = config_parse_args(&cfg, argc, argv, err, sizeof(err));
	check_result(r, err);
	if (r == 0) {
		err[0] = '\0';
		check_result(config_validate(&cfg, err, sizeof(err)), err);
		check(cfg.ninterfaces <= CONFIG_MAX_INTERFACES,
		    "interfaces bounded");
		check(cfg.export.ncollectors <= EXPORT_MAX_COLLECTORS,
		    "collectors bounded");
	}
	config_free(&cfg);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t flen = nul ? (size_t)(nul - data) : size;
	char *words;

	if (write_conf(data, flen) == -1) {
		perror("fuzz_config: temporary config file");
		abort();
	}
	load_file_only();
	if (nul == NULL)
		return 0;
	/* Words are NUL-terminated in place, so work on a copy. */
	if ((words = malloc(size - flen)) == NULL)
		abort();
	memcpy(words, nul + 1, size - flen - 1);
	words[size - flen - 1] = '\0';
	parse_words(words, size - flen - 1);
	free(words);
	return 0;
}
