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
#include <sys/resource.h>
#include <unistd.h>

#include <ares.h>
#include <openssl/ssl.h>

#include "address.h"
#include "config.h"
#include "diagnose.h"
#include "explain.h"
#include "findings.h"
#include "json.h"
#include "report.h"
#include "run.h"
#include "secret.h"
#include "util.h"

/* A host's text report, kept until the run's own status line is known. */
struct held_report {
	size_t index;              /* position in the list of hosts */
	struct host_status st;     /* the name is the config's */
	size_t at, len;            /* its text in output.held_text */
};

struct output {
	const struct config *cfg;
	struct report_advice advice;
	enum status worst;
	size_t reported;
	/*
	 * Text with several hosts: the first line must speak for the run, so
	 * the reports wait for the last host. JSON lines go out as each host
	 * is done.
	 */
	bool hold;
	struct held_report *held;
	struct buf held_text;      /* every held report, one after the other */
	struct buf scratch;        /* each report is made here, then kept or written */
	struct arena arena;        /* each diagnosis, reset for the next host */
};

/*
 * Output goes out as soon as it is known (a monitoring engine or a pipe
 * reads each host's line as it is done), except in a burst: the hosts a
 * deadline left unprobed, or the held text reports, are flushed once at
 * the end, not a write each.
 */
static void write_out_now(const struct buf *b, bool flush)
{
	if (b->len)
		fwrite(b->data, 1, b->len, stdout);
	if (flush)
		fflush(stdout);
}

static void write_out(const struct buf *b)
{
	write_out_now(b, true);
}

static void report_host(void *arg, const struct host_result *h)
{
	struct output *o = arg;
	const struct config *cfg = o->cfg;
	struct arena *a = &o->arena;
	struct diagnosis d;
	struct diag_params p = {
		.cert_warn = cfg->cert_warn,
		.cert_crit = cfg->cert_crit,
		.warn_time = cfg->warn_time,
		.crit_time = cfg->crit_time,
		.credentials = cfg->user != NULL,
	};
	arena_reset(a);
	diagnose(h, &p, a, &d);

	/*
	 * One buffer for every report, so a long list does not grow one each;
	 * a held report is made where it is kept.
	 */
	struct buf *out = o->hold ? &o->held_text : &o->scratch;
	size_t at = o->hold ? out->len : 0;
	if (!o->hold)
		buf_reset(out);
	if (cfg->json) {
		report_json(cfg, h, &d, &o->advice, out);
		buf_putc(out, '\n');
	} else if (cfg->prometheus) {
		report_prometheus(h, &d, o->reported == 0, out);
	} else {
		report_text(cfg, h, &d, &o->advice, out);
	}
	if (o->hold) {
		struct held_report *r = &o->held[o->reported];
		r->index = h->index;
		r->st.name = cfg->hosts[h->index];
		r->st.status = d.status;
		r->at = at;
		r->len = out->len - at;
	} else {
		write_out_now(out, !h->not_probed);
	}

	o->worst = status_worse(o->worst, d.status);
	o->reported++;
	diagnosis_free(&d);
}

static int by_index(const void *a, const void *b)
{
	const struct held_report *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The run's status line, then every host's report in the order given. */
static void write_held(struct output *o)
{
	qsort(o->held, o->reported, sizeof *o->held, by_index);
	struct host_status *st = xcalloc(o->reported ? o->reported : 1, sizeof *st);
	for (size_t i = 0; i < o->reported; i++)
		st[i] = o->held[i].st;
	struct buf out;
	buf_init(&out);
	report_run_status_line(st, o->reported, &out);
	buf_putc(&out, '\n');
	write_out_now(&out, false);
	buf_free(&out);
	for (size_t i = 0; i < o->reported; i++) {
		if (!o->cfg->brief)
			fputc('\n', stdout);
		fwrite(o->held_text.data + o->held[i].at, 1, o->held[i].len, stdout);
	}
	fflush(stdout);
	free(st);
	free(o->held);
	o->held = NULL;
	buf_free(&o->held_text);
}

static bool json_wanted;

/*
 * Bad usage or a failure before any report: UNKNOWN. The message quotes
 * what the user typed (and file names, OpenSSL's words), so it is escaped
 * here, once for every caller, as server text is in the report: bytes
 * outside printable ASCII never reach a terminal or a log raw.
 */
static int unknown(const char *msg, bool usage_hint)
{
	struct buf shown, b;
	buf_init(&shown);
	buf_init(&b);
	escape_ascii(&shown, msg, strlen(msg));
	if (json_wanted) {
		report_error_json(buf_cstr(&shown), &b);
		buf_putc(&b, '\n');
	} else {
		buf_printf(&b, "SMTPCHECK UNKNOWN - %s\n", buf_cstr(&shown));
	}
	write_out(&b);
	buf_free(&b);
	buf_free(&shown);
	if (usage_hint)
		fprintf(stderr, "Try 'smtpcheck --help' for the options.\n");
	return STATUS_UNKNOWN;
}

static int run_explain(const struct config *cfg)
{
	struct arena a = { 0 };
	struct explanation e;
	explain(cfg->explain, &a, &e);
	struct buf out;
	buf_init(&out);
	if (cfg->json) {
		report_explain_json(cfg->explain, &e, &out);
		buf_putc(&out, '\n');
	} else {
		report_explain_text(cfg->explain, &e, &out);
	}
	write_out(&out);
	buf_free(&out);
	int rc = (int)e.d.status;
	explanation_free(&e);
	arena_free(&a);
	return rc;
}

/* The other form of a user name, for the retry after a 535. */
static char *alternate_user(const struct config *cfg)
{
	if (!cfg->username_retry)
		return NULL;
	const char *domain = cfg->domain;
	if (!domain && cfg->mail_from && strrchr(cfg->mail_from, '@'))
		domain = strrchr(cfg->mail_from, '@') + 1;
	return username_other_form(cfg->user, domain);
}

int main(int argc, char **argv)
{
	/* -t counts from here: start-up (CAs, the -f list) is part of the run. */
	uint64_t started_us = now_us();
	struct config cfg;
	struct buf err;
	buf_init(&err);

	/* Before anything else: SMTPCHECK_PASSWORD leaves the environment. */
	secret_take_env();
	atexit(secret_drop_env);
	signal(SIGPIPE, SIG_IGN);
	/* Into a file or a pipe, large writes: every report is flushed anyway. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	/* Many hosts at once need many sockets: take what the hard limit allows. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	json_wanted = options_json_asked(argc, argv);

	enum options_result parsed = options_parse(argc, argv, &cfg, &err);
	/* What getopt_long made of the words, unless it stopped before them. */
	json_wanted = cfg.json || (parsed != OPTIONS_RUN && json_wanted);
	switch (parsed) {
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
	case OPTIONS_FAILED: {
		int rc = unknown(buf_cstr(&err), false);
		config_free(&cfg);
		buf_free(&err);
		return rc;
	}
	case OPTIONS_RUN:
		break;
	}

	if (cfg.list_findings) {
		struct buf out;
		buf_init(&out);
		report_findings_text(&out);
		write_out(&out);
		buf_free(&out);
		config_free(&cfg);
		buf_free(&err);
		return 0;
	}

	struct kb kb;
	kb_load(&kb);
	const struct kb_program *client = NULL;
	if (cfg.list_clients) {
		struct buf out;
		buf_init(&out);
		if (cfg.json) {
			report_clients_json(&kb, &out);
			buf_putc(&out, '\n');
		} else {
			report_clients_text(&kb, &out);
		}
		write_out(&out);
		buf_free(&out);
		kb_free(&kb);
		config_free(&cfg);
		buf_free(&err);
		return 0;
	}
	if (cfg.client) {
		struct buf cand;
		buf_init(&cand);
		client = kb_find(&kb, cfg.client, &cand);
		if (!client) {
			buf_printf(&err, "--client: %s '%s'%s%s; --list-clients lists the names",
				   cand.len ? "several programs match" : "no mail program called",
				   cfg.client, cand.len ? ": " : "", buf_cstr(&cand));
			buf_free(&cand);
			kb_free(&kb);
			int rc = unknown(buf_cstr(&err), false);
			config_free(&cfg);
			buf_free(&err);
			return rc;
		}
		buf_free(&cand);
	}

	if (cfg.explain) {
		kb_free(&kb);
		int rc = run_explain(&cfg);
		config_free(&cfg);
		buf_free(&err);
		return rc;
	}

	uint64_t deadline_us = started_us + (uint64_t)(cfg.timeout * 1e6);
	enum options_result listed = options_read_hosts(&cfg, deadline_us, &err);
	if (listed != OPTIONS_RUN) {
		kb_free(&kb);
		int rc = unknown(buf_cstr(&err), listed == OPTIONS_USAGE);
		config_free(&cfg);
		buf_free(&err);
		return rc;
	}

	/*
	 * USER@DOMAIN without -u: that address is the user name. Its login is
	 * tested when a password is at hand (SMTPCHECK_PASSWORD or
	 * --password-file); nobody is prompted, since the address alone is
	 * also how a help desk asks "where does this customer's mail go".
	 */
	if (!cfg.user && cfg.address_user) {
		if (cfg.password_file || secret_env_held())
			cfg.user = cfg.address_user;
	}
	struct secret password = { 0 };
	if (!cfg.user)
		secret_drop_env();  /* no login: the copy goes now */
	uint64_t asked_us = now_us();
	/* A password file (a pipe, perhaps) is waited for within the deadline. */
	double file_wait_s = deadline_us > asked_us ? (double)(deadline_us - asked_us) / 1e6 : 0;
	if (cfg.user && secret_load(&password, cfg.user, cfg.password_file, file_wait_s,
				   &err) != 0) {
		kb_free(&kb);
		int rc = unknown(buf_cstr(&err), false);
		config_free(&cfg);
		buf_free(&err);
		return rc;
	}
	/* Time a person spends typing the password is not the servers' time. */
	if (password.source && !strcmp(password.source, "terminal"))
		deadline_us += now_us() - asked_us;
	char *alt_user = cfg.user ? alternate_user(&cfg) : NULL;
	char *sender = envelope_sender_for(cfg.mail_from,
					   cfg.user ? cfg.user : cfg.address_user, cfg.domain);
	struct probe_opts opts = {
		.user = cfg.user,
		.password = password.value,
		.alt_user = alt_user,
		.mail_from = sender,
		.rcpt_to = cfg.rcpt_to,
		.relay_test = cfg.relay_test,
		.try_mechanisms = cfg.try_mechanisms,
		.insecure_auth = cfg.insecure_auth,
		.force_mech = cfg.auth_mech,
	};

	int st = ares_library_init(ARES_LIB_INIT_ALL);
	if (st != ARES_SUCCESS) {
		kb_free(&kb);
		secret_wipe(&password);
		config_free(&cfg);
		buf_free(&err);
		return unknown("cannot initialise c-ares", false);
	}
	OPENSSL_init_ssl(0, NULL);

	struct output o = { .cfg = &cfg, .worst = STATUS_OK,
			    .advice = { .kb = &kb, .client = client,
					.thunderbird = kb_find(&kb, "thunderbird", NULL) } };
	o.hold = cfg.nhosts > 1 && !cfg.json && !cfg.prometheus;
	if (o.hold) {
		o.held = xcalloc(cfg.nhosts, sizeof *o.held);
		/* Room for a short report each at once (untouched pages cost no
		 * memory): a long list is not copied again and again as it grows. */
		buf_reserve(&o.held_text, cfg.nhosts * 1024);
	}
	int rc = run_hosts(&cfg, &opts, deadline_us, report_host, &o, &err);
	if (o.hold && o.reported)
		write_held(&o);
	fflush(stdout);
	free(o.held);
	buf_free(&o.held_text);
	buf_free(&o.scratch);
	arena_free(&o.arena);
	secret_wipe(&password);
	free(alt_user);
	free(sender);
	int exit_code = o.worst;
	if (rc != 0 && o.reported == 0)
		exit_code = unknown(buf_cstr(&err), false);
	else if (rc != 0)
		exit_code = STATUS_UNKNOWN;

	ares_library_cleanup();
	kb_free(&kb);
	config_free(&cfg);
	buf_free(&err);
	return exit_code;
}
