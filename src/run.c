/*
 * run.c - hosts, their DNS, their sessions and their deadlines.
 *
 * A host moves RESOLVING -> PROBING -> DONE. Its deadline (-t) starts
 * when the host starts; when it fires, the lookup is abandoned or every
 * session still open is told EV_TIMEOUT, so the report is out within
 * milliseconds of the deadline whatever the servers do. Finishing a host
 * happens from a zero-delay timer, never inside a session's callback, so
 * no session is freed while its own code is on the stack.
 */
#include "run.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"
#include "resolve.h"
#include "session.h"
#include "tls.h"

struct run;

struct host {
	struct run *run;
	struct host_result res;
	struct arena arena;
	struct session *sessions;
	size_t nsessions, ndone;
	/* --injection-test: one extra session per STARTTLS port, whose
	 * verdict is merged into the port's result before the report. */
	struct port_result *inj;
	size_t *inj_of;                /* index of the port each one tests */
	size_t ninj;
	struct loop_timer deadline, finisher;
	uint64_t started_us;
	bool resolving, probing, done;
};

struct run {
	const struct config *cfg;
	struct loop *loop;
	struct resolver resolver;
	SSL_CTX *ssl_ctx;
	struct session_env env;
	char ehlo_name[256];
	struct host *hosts;
	size_t nhosts, started, finished;
	size_t jobs;               /* hosts probed at once (-j) */
	bool show_progress;
	run_report_fn report;
	void *report_arg;
};

static void start_next(struct run *run);

/* "[  12/1000 done, 200 running]" on stderr when it is a terminal. */
static void progress(struct run *run)
{
	if (!run->show_progress)
		return;
	if (run->finished == run->nhosts) {
		fputs("\r\033[K", stderr);
		return;
	}
	fprintf(stderr, "\r[%zu/%zu done, %zu running]", run->finished, run->nhosts,
		run->started - run->finished);
	fflush(stderr);
}

static void host_finish(void *arg)
{
	struct host *h = arg;
	struct run *run = h->run;
	if (h->done)
		return;
	h->done = true;
	loop_timer_cancel(run->loop, &h->deadline);
	loop_timer_cancel(run->loop, &h->finisher);
	h->res.elapsed_us = now_us() - h->started_us;
	for (size_t i = 0; i < h->ninj; i++) {
		struct port_result *to = &h->res.ports[h->inj_of[i]];
		const struct port_result *from = &h->inj[i];
		to->injection_tested = from->injection_tested && from->injection_code;
		to->injection_vulnerable = to->injection_tested && from->injection_vulnerable;
		to->injection_code = from->injection_code;
		to->injection_text = from->injection_text;
		to->injection_error = from->injection_code ? NULL
				      : from->injection_error ? from->injection_error
				      : from->error ? from->error : "no answer under TLS";
		port_result_free(&h->inj[i]);
	}
	run->report(run->report_arg, &h->res);
	free(h->inj);
	free(h->inj_of);
	h->inj = NULL;
	h->inj_of = NULL;
	free(h->sessions);
	h->sessions = NULL;
	host_result_free(&h->res);
	arena_free(&h->arena);
	run->finished++;
	progress(run);
	/* A slot is free: the next host of the list (-j). */
	if (run->started < run->nhosts)
		start_next(run);
}

static void session_done(void *arg, struct session *s)
{
	struct host *h = arg;
	(void)s;
	h->ndone++;
	if (h->ndone == h->nsessions)
		loop_timer_arm(h->run->loop, &h->finisher, 0);
}

static void host_deadline(void *arg)
{
	struct host *h = arg;
	if (h->resolving) {
		h->resolving = false;
		h->res.dns_ok = false;
		h->res.dns_status = ARES_ETIMEOUT;
		h->res.dns_error = arena_printf(&h->arena,
			"looking up the addresses (A/AAAA) of %s: no answer before "
			"the deadline of %g s", h->res.name, h->run->cfg->timeout);
		h->res.dns_us = now_us() - h->started_us;
		loop_timer_arm(h->run->loop, &h->finisher, 0);
		return;
	}
	for (size_t i = 0; i < h->nsessions; i++)
		session_timeout(&h->sessions[i]);
}

static void addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
}

static void start_probes(struct host *h, const struct resolved_addr *addrs, size_t n)
{
	const struct config *cfg = h->run->cfg;
	h->probing = true;
	h->res.naddrs = n;
	h->res.addrs = arena_alloc(&h->arena, (n ? n : 1) * sizeof *h->res.addrs);
	size_t nstarttls = 0;
	for (size_t p = 0; p < cfg->nports; p++)
		nstarttls += cfg->ports[p].mode == MODE_STARTTLS;
	h->ninj = h->run->env.injection_test ? n * nstarttls : 0;
	h->res.nports = n * cfg->nports;
	h->nsessions = h->res.nports + h->ninj;
	h->res.ports = xcalloc(h->res.nports ? h->res.nports : 1, sizeof *h->res.ports);
	h->sessions = xcalloc(h->nsessions ? h->nsessions : 1, sizeof *h->sessions);
	h->inj = xcalloc(h->ninj ? h->ninj : 1, sizeof *h->inj);
	h->inj_of = xcalloc(h->ninj ? h->ninj : 1, sizeof *h->inj_of);

	for (size_t a = 0; a < n; a++) {
		char text[INET6_ADDRSTRLEN];
		addr_text((const struct sockaddr *)&addrs[a].sa, text, sizeof text);
		h->res.addrs[a] = arena_strdup(&h->arena, text);
		for (size_t p = 0; p < cfg->nports; p++) {
			struct port_result *r = &h->res.ports[a * cfg->nports + p];
			r->port = cfg->ports[p].port;
			r->family = addrs[a].sa.ss_family;
			snprintf(r->address, sizeof r->address, "%s", text);
		}
	}
	/* All results exist before any session starts: a session may end at once. */
	for (size_t a = 0; a < n; a++) {
		for (size_t p = 0; p < cfg->nports; p++) {
			size_t i = a * cfg->nports + p;
			struct sockaddr_storage sa = addrs[a].sa;
			in_port_t port = htons((in_port_t)cfg->ports[p].port);
			if (sa.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&sa)->sin6_port = port;
			else
				((struct sockaddr_in *)&sa)->sin_port = port;
			session_start(&h->sessions[i], &h->run->env, h->res.name,
				      (struct sockaddr *)&sa, addrs[a].len,
				      cfg->ports[p].mode, &h->res.ports[i], &h->arena,
				      session_done, h);
		}
	}
	size_t k = 0;
	for (size_t a = 0; a < n && h->ninj; a++) {
		for (size_t p = 0; p < cfg->nports; p++) {
			if (cfg->ports[p].mode != MODE_STARTTLS)
				continue;
			struct sockaddr_storage sa = addrs[a].sa;
			in_port_t port = htons((in_port_t)cfg->ports[p].port);
			if (sa.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&sa)->sin6_port = port;
			else
				((struct sockaddr_in *)&sa)->sin_port = port;
			h->inj_of[k] = a * cfg->nports + p;
			h->inj[k].port = cfg->ports[p].port;
			h->inj[k].family = sa.ss_family;
			snprintf(h->inj[k].address, sizeof h->inj[k].address, "%s", h->res.addrs[a]);
			session_start_injection(&h->sessions[h->res.nports + k], &h->run->env,
						h->res.name, (struct sockaddr *)&sa, addrs[a].len,
						&h->inj[k], &h->arena, session_done, h);
			k++;
		}
	}
	if (h->nsessions == 0)
		loop_timer_arm(h->run->loop, &h->finisher, 0);
}

static void resolved(void *arg, int status, const struct resolved_addr *addrs, size_t n)
{
	struct host *h = arg;
	if (!h->resolving || h->done)
		return; /* the deadline came first */
	h->resolving = false;
	h->res.dns_us = now_us() - h->started_us;
	h->res.dns_status = status;
	if (status != ARES_SUCCESS) {
		h->res.dns_ok = false;
		h->res.dns_error = arena_printf(&h->arena,
			"looking up the addresses (A/AAAA) of %s: %s", h->res.name,
			resolve_status_sentence(status));
		loop_timer_arm(h->run->loop, &h->finisher, 0);
		return;
	}
	h->res.dns_ok = true;
	start_probes(h, addrs, n);
}

/* An IP literal needs no DNS. Returns false if text is not one. */
static bool literal_addr(const char *text, int family, struct resolved_addr *out)
{
	memset(out, 0, sizeof *out);
	struct sockaddr_in *v4 = (struct sockaddr_in *)&out->sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->sa;
	if (family != AF_INET6 && inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		out->len = sizeof *v4;
		return true;
	}
	if (family != AF_INET && inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		out->len = sizeof *v6;
		return true;
	}
	return false;
}

static void host_start(struct run *run, struct host *h, const char *name)
{
	const struct config *cfg = run->cfg;
	h->run = run;
	h->res.name = arena_strdup(&h->arena, name);
	h->res.started_unix = (long long)time(NULL);
	h->started_us = now_us();
	loop_timer_init(&h->deadline, host_deadline, h);
	loop_timer_init(&h->finisher, host_finish, h);
	loop_timer_arm(run->loop, &h->deadline,
		       h->started_us + (uint64_t)(cfg->timeout * 1e6));

	struct resolved_addr lit;
	const char *fixed = cfg->connect_addr ? cfg->connect_addr : name;
	if (literal_addr(fixed, cfg->connect_addr ? AF_UNSPEC : cfg->family, &lit)) {
		h->res.dns_ok = true;
		start_probes(h, &lit, 1);
		return;
	}
	int family;
	unsigned char tmp[16];
	if (inet_pton(AF_INET, name, tmp) == 1 || inet_pton(AF_INET6, name, tmp) == 1) {
		/* An address of the family excluded by -4/-6. */
		family = cfg->family;
		h->res.dns_ok = false;
		h->res.dns_status = ARES_ENODATA;
		h->res.dns_error = arena_printf(&h->arena, "%s is not an IPv%d address",
						name, family == AF_INET ? 4 : 6);
		loop_timer_arm(run->loop, &h->finisher, 0);
		return;
	}
	h->resolving = true;
	resolve_addrs(&run->resolver, name, cfg->family, resolved, h);
}

static void start_next(struct run *run)
{
	size_t i = run->started++;
	host_start(run, &run->hosts[i], run->cfg->hosts[i]);
}

static bool run_done(void *arg)
{
	struct run *run = arg;
	return run->finished == run->nhosts;
}

int run_hosts(const struct config *cfg, const struct probe_opts *opts,
	      run_report_fn report, void *arg, struct buf *err)
{
	struct run run;
	memset(&run, 0, sizeof run);
	run.cfg = cfg;
	run.report = report;
	run.report_arg = arg;
	run.loop = loop_new();
	run.ssl_ctx = tls_ctx_new(cfg->ca_file, err);
	if (!run.ssl_ctx) {
		loop_free(run.loop);
		return -1;
	}
	if (resolver_init(&run.resolver, run.loop, err) != 0) {
		SSL_CTX_free(run.ssl_ctx);
		loop_free(run.loop);
		return -1;
	}

	if (cfg->ehlo_name) {
		snprintf(run.ehlo_name, sizeof run.ehlo_name, "%s", cfg->ehlo_name);
	} else if (gethostname(run.ehlo_name, sizeof run.ehlo_name - 1) != 0 ||
		   !strchr(run.ehlo_name, '.')) {
		run.ehlo_name[0] = '\0'; /* no FQDN: the address literal */
	}
	run.env.loop = run.loop;
	run.env.ssl_ctx = run.ssl_ctx;
	run.env.ehlo_name = run.ehlo_name[0] ? run.ehlo_name : NULL;
	run.env.trace = cfg->verbose;
	run.env.opts = opts;
	run.env.injection_test = cfg->injection_test;

	run.nhosts = cfg->nhosts;
	run.hosts = xcalloc(run.nhosts, sizeof *run.hosts);
	run.jobs = cfg->jobs ? cfg->jobs : run.nhosts;
	run.show_progress = run.nhosts > 1 && isatty(STDERR_FILENO);
	while (run.started < run.nhosts && run.started < run.jobs)
		start_next(&run);

	int rc = loop_run(run.loop, run_done, &run);
	if (rc != 0)
		buf_puts(err, "the event loop failed (poll)");

	resolver_free(&run.resolver);
	for (size_t i = 0; i < run.nhosts; i++)
		if (run.hosts[i].run && !run.hosts[i].done)
			host_finish(&run.hosts[i]);
	free(run.hosts);
	SSL_CTX_free(run.ssl_ctx);
	loop_free(run.loop);
	return rc;
}
