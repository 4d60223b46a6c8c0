/*
 * fuzz_options.c - libFuzzer harness for the command line's values: the
 * host argument (HOST, USER@DOMAIN, an IP literal), -p port lists, -t, -w,
 * -c and -D ranges, --connect, --domain, -u and --mail-from. The input is
 * split at newlines into those values, each given to options_parse() after
 * its option, the host last behind "--" so that no value becomes an option
 * (no -h printing usage, no file-reading option is ever reached). Whatever
 * the bytes, the parser answers RUN or USAGE, with a reason for USAGE.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const value_options[] = {
	"-p", "-t", "-w", "-c", "-D", "--connect", "--domain", "-u", "--mail-from",
};
#define NVALUES (sizeof value_options / sizeof value_options[0])

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	/* Fields: host first, then one value per option in order; an empty
	 * field leaves its option out. */
	char *fields[NVALUES + 1] = { 0 };
	size_t nf = 0;
	for (char *p = s; p && nf < NVALUES + 1; nf++) {
		fields[nf] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	char *argv[2 * NVALUES + 4];
	int argc = 0;
	argv[argc++] = (char *)"smtpcheck";
	for (size_t i = 1; i < nf; i++) {
		if (!*fields[i])
			continue;
		argv[argc++] = (char *)value_options[i - 1];
		argv[argc++] = fields[i];
	}
	argv[argc++] = (char *)"--";
	argv[argc++] = fields[0];
	argv[argc] = NULL;

	struct config cfg;
	struct buf err;
	buf_init(&err);
	enum options_result r = options_parse(argc, argv, &cfg, &err);
	if (r == OPTIONS_EXIT_OK)
		abort();  /* only -h / -V end a run with 0, and neither is reachable */
	if (r == OPTIONS_USAGE && err.len == 0)
		abort();  /* every refusal says why */
	if (r == OPTIONS_RUN && cfg.nhosts != 1)
		abort();  /* exactly the one host given */
	config_free(&cfg);
	buf_free(&err);
	free(s);
	return 0;
}
