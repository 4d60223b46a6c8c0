/*
 * main.c - smtpcheck: options -> run -> diagnosis -> report -> exit code.
 *
 * Exit codes follow the Nagios plugin guidelines: 0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN (bad usage, internal error). With several hosts
 * the exit code is the worst state of them all.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>
#include <openssl/ssl.h>

#include "config.h"
#include "diagnose.h"
#include "report.h"
#include "run.h"
#include "util.h"

struct output {
	const struct config *cfg;
	enum status worst;
	size_t reported;
};

static void write_out(const struct buf *b)
{
	if (b->len)
		fwrite(b->data, 1, b->len, stdout);
	fflush(stdout);
}

static void report_host(void *arg, const struct host_result *h)
{
	struct output *o = arg;
	const struct config *cfg = o->cfg;
	struct arena a = { 0 };
	struct diagnosis d;
	struct diag_params p = {
		.cert_warn_days = cfg->cert_warn_days,
		.cert_crit_days = cfg->cert_crit_days,
		.warn_time = cfg->warn_time,
		.crit_time = cfg->crit_time,
	};
	diagnose(h, &p, &a, &d);

	struct buf out;
	buf_init(&out);
	if (cfg->json) {
		report_json(cfg, h, &d, &out);
		buf_putc(&out, '\n');
	} else {
		if (o->reported > 0 && !cfg->brief)
			buf_putc(&out, '\n');
		report_text(cfg, h, &d, &out);
	}
	write_out(&out);
	buf_free(&out);

	if (d.status > o->worst)
		o->worst = d.status;
	o->reported++;
	diagnosis_free(&d);
	arena_free(&a);
}

static int unknown(const char *msg, bool usage_hint)
{
	printf("SMTPCHECK UNKNOWN - %s\n", msg);
	fflush(stdout);
	if (usage_hint)
		fprintf(stderr, "Try 'smtpcheck --help' for the options.\n");
	return STATUS_UNKNOWN;
}

int main(int argc, char **argv)
{
	struct config cfg;
	struct buf err;
	buf_init(&err);

	signal(SIGPIPE, SIG_IGN);

	switch (options_parse(argc, argv, &cfg, &err)) {
	case OPTIONS_EXIT_OK:
		config_free(&cfg);
		buf_free(&err);
		return 0;
	case OPTIONS_USAGE: {
		int rc = unknown(buf_cstr(&err), true);
		config_free(&cfg);
		buf_free(&err);
		return rc;
	}
	case OPTIONS_RUN:
		break;
	}

	int st = ares_library_init(ARES_LIB_INIT_ALL);
	if (st != ARES_SUCCESS) {
		config_free(&cfg);
		buf_free(&err);
		return unknown("cannot initialise c-ares", false);
	}
	OPENSSL_init_ssl(0, NULL);

	struct output o = { .cfg = &cfg, .worst = STATUS_OK };
	int rc = run_hosts(&cfg, report_host, &o, &err);
	int exit_code = o.worst;
	if (rc != 0 && o.reported == 0)
		exit_code = unknown(buf_cstr(&err), false);
	else if (rc != 0)
		exit_code = STATUS_UNKNOWN;

	ares_library_cleanup();
	config_free(&cfg);
	buf_free(&err);
	return exit_code;
}
