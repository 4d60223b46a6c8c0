/*
 * run.c - hosts, their DNS, their sessions and their deadlines.
 *
 * A host is a server name given on the command line, or a mail domain to
 * discover (USER@DOMAIN, --domain). Discovery asks at once for the
 * submission SRV records (RFC 6186, RFC 8314) and the MX records, and
 * plans the servers to probe: the SRV targets first, else the usual names
 * (smtp.DOMAIN, mail.DOMAIN, DOMAIN), said to be a guess; MX hosts too, on
 * port 25 with their TLSA records (DANE), up to MAX_MX_PROBED of them. Each
 * server is then resolved (A and AAAA at once) and probed on every address
 * and port as soon as its addresses are known; the reverse DNS of every
 * address is looked up alongside, for information.
 *
 * Two deadlines bound a host: its own (--host-timeout, from the moment it
 * starts) and the run's (-t, counted by main from the process's start), the
 * earlier wins. When it fires, lookups under way are abandoned and every
 * session still open is told EV_TIMEOUT, so the report is out within
 * milliseconds of the deadline whatever the servers do. Hosts still
 * waiting for a slot (-j) when the run's deadline has passed are not
 * started: each is reported as not probed. Finishing a host happens from
 * a zero-delay timer, never inside a callback. A host's memory lives until
 * its report is written and the last of its lookups has called back.
 */
#include "run.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "address.h"
#include "dns.h"
#include "loop.h"
#include "resolve.h"
#include "session.h"
#include "tls.h"

/*
 * Per mail domain: the SRV targets, the three guessed names and up to
 * MAX_MX_PROBED MX hosts (by preference; large providers publish five),
 * each on its port 25 with its TLSA records. MX hosts beyond either limit
 * are listed in the report as not probed, with the reason.
 */
#define MAX_SERVERS 16
#define MAX_MX_PROBED 5

struct run;
struct host;

/* A server to probe: its name, ports, and its sessions once resolved. */
struct server {
	struct host *host;
	size_t index;                  /* into host_result.servers */
	struct port_spec ports[MAX_PORTS];
	size_t nports;
	bool wants_tlsa;               /* port 25 of an MX host */
	int waiting;                   /* lookups before the sessions start */
	struct resolved_addr *addrs;
	size_t naddrs;
	struct port_result *results;   /* naddrs x nports, then injections */
	struct session *sessions;
	size_t nsessions, nresults, ninj;
	size_t *inj_of;
};

struct host {
	struct run *run;
	struct host_result res;
	struct arena arena;
	struct server *servers;        /* from the arena: room for maxservers */
	size_t nservers, maxservers;
	size_t sessions_open;          /* started and not yet done */
	size_t lookups;                /* DNS queries under way */
	int discovery_waiting;
	struct dns_answer *srv_tls, *srv_starttls, *mx;
	struct loop_timer deadline, finisher;
	uint64_t started_us;
	double limit_s;                /* the deadline that applies, in seconds */
	bool limit_is_run;             /* it is the run's (-t), not the host's */
	bool started, done, reported;
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
	size_t launched;           /* hosts 0..launched-1 were probed (host_start) */
	size_t jobs;               /* hosts probed at once (-j) */
	uint64_t deadline_us;      /* the run's (-t), monotonic; 0: none */
	bool expired;              /* the run's deadline has passed */
	bool show_progress;
	bool progress_shown;       /* a progress line is on stderr now */
	run_report_fn report;
	void *report_arg;
	struct buf resolvers;      /* "127.0.0.1", for every host's report */
	struct arena arena;        /* what lives as long as the run */
	char *not_probed_why;      /* shared by the hosts the deadline left */
};

static void start_next(struct run *run);
static void check_done(struct host *h);

/*
 * "[12/1000 done, 200 running]" on stderr when it is a terminal, rewritten
 * in place. It is wiped before a report is written, in case stdout is the
 * same terminal, and at the end.
 */
static void progress(struct run *run)
{
	if (!run->show_progress || run->finished == run->nhosts)
		return;
	fprintf(stderr, "\r[%zu/%zu done, %zu running]", run->finished, run->nhosts,
		run->started - run->finished);
	fflush(stderr);
	run->progress_shown = true;
}

/* Once per line shown: a burst of unprobed hosts writes nothing more. */
static void progress_wipe(struct run *run)
{
	if (!run->show_progress || !run->progress_shown)
		return;
	run->progress_shown = false;
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

/* The last reference to a host's memory is gone: release it. */
static void host_release(struct host *h)
{
	if (!h->reported || h->lookups > 0)
		return;
	arena_free(&h->arena);
}

/* Why the injection test of a port gave no verdict, or NULL: it did. */
static char *injection_why(const struct port_result *inj)
{
	switch (inj->injection_verdict) {
	case INJECTION_SAFE:
	case INJECTION_VULNERABLE:
		return NULL;
	case INJECTION_INCONCLUSIVE:
		/* Upgraded, then silence: the session's end says more (a
		 * timeout, a reset) than "no reply". */
		if (inj->injection_replies == 0 && inj->error)
			return inj->error;
		return inj->injection_error;
	case INJECTION_UNTESTED:
		break;
	}
	return inj->injection_error ? inj->injection_error
	       : inj->error ? inj->error : "the test connection ended before TLS";
}

/* Put every server's results into one array, in server order. */
static void gather_ports(struct host *h)
{
	size_t total = 0;
	for (size_t s = 0; s < h->nservers; s++)
		total += h->servers[s].nresults;
	h->res.ports = xcalloc(total ? total : 1, sizeof *h->res.ports);
	h->res.nports = 0;
	for (size_t s = 0; s < h->nservers; s++) {
		struct server *sv = &h->servers[s];
		for (size_t i = 0; i < sv->ninj; i++) {
			struct port_result *to = &sv->results[sv->inj_of[i]];
			const struct port_result *from = &sv->results[sv->nresults + i];
			to->injection_verdict = from->injection_verdict;
			to->injection_replies = from->injection_replies;
			to->injection_code = from->injection_code;
			to->injection_text = from->injection_text;
			to->injection_error = injection_why(from);
			port_result_free(&sv->results[sv->nresults + i]);
		}
		if (sv->nresults)
			memcpy(h->res.ports + h->res.nports, sv->results,
			       sv->nresults * sizeof *sv->results);
		h->res.nports += sv->nresults;
		free(sv->results);
		free(sv->sessions);
		free(sv->inj_of);
		free(sv->addrs);
		sv->results = NULL;
		sv->sessions = NULL;
		sv->inj_of = NULL;
		sv->addrs = NULL;
	}
}

/* The union of the servers' addresses, for the report header. */
static void gather_addrs(struct host *h)
{
	size_t total = 0;
	for (size_t s = 0; s < h->res.nservers; s++)
		total += h->res.servers[s].naddrs;
	h->res.addrs = arena_alloc(&h->arena, (total ? total : 1) * sizeof *h->res.addrs);
	h->res.naddrs = 0;
	for (size_t s = 0; s < h->res.nservers; s++) {
		const struct server_result *sr = &h->res.servers[s];
		for (size_t i = 0; i < sr->naddrs; i++) {
			bool dup = false;
			for (size_t k = 0; k < h->res.naddrs; k++)
				dup |= !strcmp(h->res.addrs[k], sr->addrs[i]);
			if (!dup)
				h->res.addrs[h->res.naddrs++] = sr->addrs[i];
		}
	}
}

/* DNS is good when some server resolved; else the first failure says why. */
static void summarize_dns(struct host *h)
{
	if (h->res.dns_error)
		return; /* discovery already failed and said why */
	h->res.dns_ok = false;
	for (size_t s = 0; s < h->res.nservers; s++)
		if (h->res.servers[s].dns_ok)
			h->res.dns_ok = true;
	if (h->res.nservers == 0 && h->res.discovery)
		h->res.dns_ok = true;  /* DNS answered: it named no server to probe */
	if (h->res.dns_ok || h->res.nservers == 0)
		return;
	const struct server_result *sr = &h->res.servers[0];
	h->res.dns_status = sr->dns_status;
	if (h->res.nservers == 1) {
		h->res.dns_error = sr->dns_error;
		return;
	}
	struct buf b;
	buf_init(&b);
	buf_puts(&b, "none of the servers resolves:");
	for (size_t s = 0; s < h->res.nservers; s++)
		buf_printf(&b, " %s (%s)", h->res.servers[s].name,
			   h->res.servers[s].dns_error ? h->res.servers[s].dns_error : "?");
	h->res.dns_error = arena_strndup(&h->arena, buf_cstr(&b), b.len);
	buf_free(&b);
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
	gather_ports(h);
	gather_addrs(h);
	summarize_dns(h);
	progress_wipe(run);
	run->report(run->report_arg, &h->res);
	host_result_free(&h->res);
	h->reported = true;
	host_release(h);
	run->finished++;
	/* A slot is free: the next host of the list (-j). */
	if (run->started < run->nhosts)
		start_next(run);
	progress(run);
}

static void check_done(struct host *h)
{
	if (h->done || h->sessions_open > 0 || h->lookups > 0 || h->discovery_waiting > 0)
		return;
	for (size_t s = 0; s < h->nservers; s++)
		if (h->servers[s].waiting > 0)
			return;
	loop_timer_arm(h->run->loop, &h->finisher, 0);
}

/* A lookup came back; false when the host no longer wants it. */
static bool lookup_back(struct host *h)
{
	h->lookups--;
	if (h->done) {
		host_release(h);
		return false;
	}
	return true;
}

static void record_answer(struct host *h, struct dns_answer *ans)
{
	struct dns_answer **all = arena_alloc(&h->arena,
					      (h->res.nanswers + 1) * sizeof *all);
	if (h->res.nanswers)
		memcpy(all, h->res.answers, h->res.nanswers * sizeof *all);
	all[h->res.nanswers++] = ans;
	h->res.answers = all;
}

static void session_done(void *arg, struct session *s)
{
	struct host *h = arg;
	(void)s;
	h->sessions_open--;
	check_done(h);
}

static void host_deadline(void *arg)
{
	struct host *h = arg;
	if (h->limit_is_run)
		h->run->expired = true;
	if (h->discovery_waiting > 0 && !h->res.dns_error) {
		/* Discovery never finished: name the questions left open. */
		struct buf b;
		buf_init(&b);
		if (!h->srv_tls)
			buf_printf(&b, "SRV _submissions._tcp.%s", h->res.domain);
		if (!h->srv_starttls)
			buf_printf(&b, "%sSRV _submission._tcp.%s", b.len ? ", " : "", h->res.domain);
		if (!h->mx)
			buf_printf(&b, "%sMX %s", b.len ? ", " : "", h->res.domain);
		h->res.discovery_failed = true;
		h->res.dns_ok = false;
		h->res.dns_status = ARES_ETIMEOUT;
		h->res.dns_error = arena_printf(&h->arena,
			"asking DNS%s%s%s for the mail servers of %s: no answer to %s before the "
			"%sdeadline of %g s", h->res.resolvers ? " (" : "",
			h->res.resolvers ? h->res.resolvers : "", h->res.resolvers ? ")" : "",
			h->res.domain, buf_cstr(&b), h->limit_is_run ? "run's " : "",
			h->limit_s);
		buf_free(&b);
	}
	h->discovery_waiting = 0;
	for (size_t s = 0; s < h->nservers; s++) {
		struct server *sv = &h->servers[s];
		struct server_result *sr = &h->res.servers[sv->index];
		if (sv->waiting > 0 && !sr->dns_ok && !sr->dns_error) {
			sr->asked = true;
			sr->dns_status = ARES_ETIMEOUT;
			sr->dns_error = arena_printf(&h->arena,
				"looking up the addresses (A/AAAA) of %s: no answer before the "
				"%sdeadline of %g s", sr->name, h->limit_is_run ? "run's " : "",
				h->limit_s);
		}
		sv->waiting = 0;
		for (size_t i = 0; i < sv->nsessions; i++)
			session_timeout(&sv->sessions[i]);
	}
	/* Lookups under way are dropped by lookup_back() when they return. */
	if (!h->done)
		loop_timer_arm(h->run->loop, &h->finisher, 0);
}

static void addr_text(const struct sockaddr *sa, char *out, size_t len)
{
	if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
}

/* ---- reverse DNS (information only) ---- */

struct ptr_lookup {
	struct host *host;
	size_t index;                  /* into res.ptrs */
};

static void forward_back(void *arg, int status, const struct resolved_addr *addrs, size_t n)
{
	struct ptr_lookup *pl = arg;
	struct host *h = pl->host;
	size_t index = pl->index;
	free(pl);
	if (!lookup_back(h)) {
		return;
	}
	struct ptr_result *p = &h->res.ptrs[index];
	p->forward_checked = true;
	for (size_t i = 0; status == ARES_SUCCESS && i < n; i++) {
		char text[INET6_ADDRSTRLEN];
		addr_text((const struct sockaddr *)&addrs[i].sa, text, sizeof text);
		if (!strcmp(text, p->address))
			p->forward_ok = true;
	}
	check_done(h);
}

static void ptr_back(void *arg, struct dns_answer *ans)
{
	struct ptr_lookup *pl = arg;
	struct host *h = pl->host;
	if (!lookup_back(h)) {
		free(pl);
		return;
	}
	record_answer(h, ans);
	struct ptr_result *p = &h->res.ptrs[pl->index];
	p->rcode = ans->rcode;
	if (ans->nrecords > 0) {
		p->name = ans->records[0].target;
		p->ttl = ans->records[0].ttl;
		h->lookups++;
		resolve_addrs(&h->run->resolver, p->name, AF_UNSPEC, forward_back, pl);
	} else {
		free(pl);
	}
	check_done(h);
}

static void lookup_ptrs(struct host *h, const struct server_result *sr)
{
	if (!h->run->cfg->reverse_dns)
		return;
	for (size_t i = 0; i < sr->naddrs; i++) {
		bool dup = false;
		for (size_t k = 0; k < h->res.nptrs; k++)
			dup |= !strcmp(h->res.ptrs[k].address, sr->addrs[i]);
		char *qname = dns_ptr_name(sr->addrs[i], &h->arena);
		if (dup || !qname)
			continue;
		struct ptr_result *all = arena_alloc(&h->arena, (h->res.nptrs + 1) * sizeof *all);
		if (h->res.nptrs)
			memcpy(all, h->res.ptrs, h->res.nptrs * sizeof *all);
		h->res.ptrs = all;
		struct ptr_result *p = &all[h->res.nptrs];
		p->address = sr->addrs[i];
		p->rcode = DNS_NO_ANSWER;
		struct ptr_lookup *pl = xcalloc(1, sizeof *pl);
		pl->host = h;
		pl->index = h->res.nptrs++;
		h->lookups++;
		dns_query(&h->run->resolver, qname, DNS_T_PTR, &h->arena, ptr_back, pl);
	}
}

/* ---- probing a server ---- */

static void set_port(struct sockaddr_storage *sa, int port)
{
	in_port_t p = htons((in_port_t)port);
	if (sa->ss_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = p;
	else
		((struct sockaddr_in *)sa)->sin_port = p;
}

static void start_server(struct server *sv)
{
	struct host *h = sv->host;
	struct server_result *sr = &h->res.servers[sv->index];
	size_t n = sv->naddrs, np = sv->nports;
	size_t nstarttls = 0;
	for (size_t p = 0; p < np; p++)
		nstarttls += sv->ports[p].mode == MODE_STARTTLS;
	sv->nresults = n * np;
	sv->ninj = h->run->env.injection_test ? n * nstarttls : 0;
	sv->nsessions = sv->nresults + sv->ninj;
	sv->results = xcalloc(sv->nsessions ? sv->nsessions : 1, sizeof *sv->results);
	sv->sessions = xcalloc(sv->nsessions ? sv->nsessions : 1, sizeof *sv->sessions);
	sv->inj_of = xcalloc(sv->ninj ? sv->ninj : 1, sizeof *sv->inj_of);

	for (size_t a = 0; a < n; a++) {
		for (size_t p = 0; p < np; p++) {
			struct port_result *r = &sv->results[a * np + p];
			r->server = sr->name;
			r->port = sv->ports[p].port;
			r->family = sv->addrs[a].sa.ss_family;
			snprintf(r->address, sizeof r->address, "%s", sr->addrs[a]);
		}
	}
	size_t k = 0;
	for (size_t a = 0; a < n && sv->ninj; a++) {
		for (size_t p = 0; p < np; p++) {
			if (sv->ports[p].mode != MODE_STARTTLS)
				continue;
			struct port_result *r = &sv->results[sv->nresults + k];
			r->server = sr->name;
			r->port = sv->ports[p].port;
			r->family = sv->addrs[a].sa.ss_family;
			snprintf(r->address, sizeof r->address, "%s", sr->addrs[a]);
			sv->inj_of[k++] = a * np + p;
		}
	}
	/* Every result exists before a session starts: one may end at once. */
	h->sessions_open += sv->nsessions;
	for (size_t a = 0; a < n; a++) {
		for (size_t p = 0; p < np; p++) {
			size_t i = a * np + p;
			struct sockaddr_storage sa = sv->addrs[a].sa;
			set_port(&sa, sv->ports[p].port);
			const struct dns_answer *tlsa =
				sv->wants_tlsa && sv->ports[p].port == 25 ? sr->tlsa : NULL;
			session_start(&sv->sessions[i], &h->run->env, sr->name,
				      (struct sockaddr *)&sa, sv->addrs[a].len, sv->ports[p].mode,
				      &sv->results[i], &h->arena, tlsa, session_done, h);
		}
	}
	for (size_t i = 0; i < sv->ninj; i++) {
		const struct port_result *main = &sv->results[sv->inj_of[i]];
		struct sockaddr_storage sa = sv->addrs[sv->inj_of[i] / np].sa;
		set_port(&sa, main->port);
		session_start_injection(&sv->sessions[sv->nresults + i], &h->run->env, sr->name,
					(struct sockaddr *)&sa, sv->addrs[sv->inj_of[i] / np].len,
					&sv->results[sv->nresults + i], &h->arena, session_done, h);
	}
	lookup_ptrs(h, sr);
	check_done(h);
}

static void server_ready(struct server *sv)
{
	if (--sv->waiting > 0 || sv->host->done)
		return;
	if (sv->host->res.servers[sv->index].dns_ok)
		start_server(sv);
	else
		check_done(sv->host);
}

static void server_resolved(void *arg, int status, const struct resolved_addr *addrs,
			    size_t n)
{
	struct server *sv = arg;
	struct host *h = sv->host;
	if (!lookup_back(h))
		return;
	struct server_result *sr = &h->res.servers[sv->index];
	sr->asked = true;
	sr->dns_us = now_us() - h->started_us;
	sr->dns_status = status;
	if (status != ARES_SUCCESS) {
		sr->dns_error = arena_printf(&h->arena,
			"looking up the addresses (A/AAAA) of %s: %s", sr->name,
			resolve_status_sentence(status));
	} else {
		sr->dns_ok = true;
		sr->naddrs = n;
		sr->addrs = arena_alloc(&h->arena, n * sizeof *sr->addrs);
		sr->ttls = arena_alloc(&h->arena, n * sizeof *sr->ttls);
		sv->addrs = xcalloc(n, sizeof *sv->addrs);
		memcpy(sv->addrs, addrs, n * sizeof *addrs);
		sv->naddrs = n;
		for (size_t i = 0; i < n; i++) {
			char text[INET6_ADDRSTRLEN];
			addr_text((const struct sockaddr *)&addrs[i].sa, text, sizeof text);
			sr->addrs[i] = arena_strdup(&h->arena, text);
			sr->ttls[i] = (uint32_t)addrs[i].ttl;
		}
	}
	server_ready(sv);
}

static void tlsa_back(void *arg, struct dns_answer *ans)
{
	struct server *sv = arg;
	struct host *h = sv->host;
	if (!lookup_back(h))
		return;
	record_answer(h, ans);
	h->res.servers[sv->index].tlsa = ans;
	server_ready(sv);
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

static struct server *add_server(struct host *h, const char *name, enum server_source src)
{
	for (size_t s = 0; s < h->nservers; s++)
		if (!ascii_casecmp(h->res.servers[h->servers[s].index].name, name))
			return &h->servers[s];
	if (h->nservers == h->maxservers)
		return NULL;
	struct server_result *all = arena_alloc(&h->arena, (h->res.nservers + 1) * sizeof *all);
	if (h->res.nservers)
		memcpy(all, h->res.servers, h->res.nservers * sizeof *all);
	h->res.servers = all;
	struct server_result *sr = &all[h->res.nservers];
	sr->name = arena_strdup(&h->arena, name);
	/* Names from DNS end in a dot at times; the certificate does not. */
	size_t len = strlen(sr->name);
	if (len > 1 && sr->name[len - 1] == '.')
		sr->name[len - 1] = '\0';
	sr->source = src;
	struct server *sv = &h->servers[h->nservers++];
	memset(sv, 0, sizeof *sv);
	sv->host = h;
	sv->index = h->res.nservers++;
	return sv;
}

static void add_port(struct server *sv, int port, enum tls_mode mode)
{
	for (size_t i = 0; i < sv->nports; i++)
		if (sv->ports[i].port == port)
			return;
	if (sv->nports < MAX_PORTS) {
		sv->ports[sv->nports].port = port;
		sv->ports[sv->nports].mode = mode;
		sv->nports++;
	}
}

/* "SRV _submissions._tcp.example.net": the question whose answer named name. */
static const char *naming_question(struct host *h, const char *name)
{
	const struct dns_answer *all[3] = { h->srv_tls, h->srv_starttls, h->mx };
	const char *kind[3] = { "SRV", "SRV", "MX" };
	for (int k = 0; k < 3; k++) {
		const struct dns_answer *a = all[k];
		for (size_t i = 0; a && i < a->nrecords; i++) {
			const char *t = a->records[i].target;
			size_t n = strlen(name);
			if (t && !strncmp(t, name, n) && (t[n] == '\0' || !strcmp(t + n, ".")))
				return arena_printf(&h->arena, "%s %s", kind[k],
						    a->qname);
		}
	}
	return NULL;
}

/* Look the server up (and its TLSA records): its sessions start after. */
static void resolve_server(struct host *h, struct server *sv)
{
	const struct config *cfg = h->run->cfg;
	struct server_result *sr = &h->res.servers[sv->index];
	sv->waiting = 1;
	if (sr->source == SERVER_SRV || sr->source == SERVER_MX) {
		if (!domain_valid(sr->name)) {
			/* A hostile or broken zone: never put its bytes into SNI. */
			struct buf e;
			buf_init(&e);
			escape_ascii(&e, sr->name, strlen(sr->name) > 80 ? 80 : strlen(sr->name));
			sr->dns_status = ARES_EBADNAME;
			const char *q = naming_question(h, sr->name);
			sr->dns_error = arena_printf(&h->arena, "'%s', named in DNS%s%s, is not a "
						     "valid host name", buf_cstr(&e),
						     q ? " by " : "", q ? q : "");
			buf_free(&e);
			server_ready(sv);
			return;
		}
	}
	if (sv->wants_tlsa) {
		char q[300];
		snprintf(q, sizeof q, "_25._tcp.%s", sr->name);
		sv->waiting++;
		h->lookups++;
		dns_query(&h->run->resolver, q, DNS_T_TLSA, &h->arena, tlsa_back, sv);
	}
	struct resolved_addr lit;
	const char *fixed = cfg->connect_addr ? cfg->connect_addr : sr->name;
	if (literal_addr(fixed, cfg->connect_addr ? AF_UNSPEC : cfg->family, &lit)) {
		sr->dns_ok = true;
		sr->naddrs = 1;
		sr->addrs = arena_alloc(&h->arena, sizeof *sr->addrs);
		sr->ttls = arena_alloc(&h->arena, sizeof *sr->ttls);
		char text[INET6_ADDRSTRLEN];
		addr_text((const struct sockaddr *)&lit.sa, text, sizeof text);
		sr->addrs[0] = arena_strdup(&h->arena, text);
		sv->addrs = xcalloc(1, sizeof *sv->addrs);
		sv->addrs[0] = lit;
		sv->naddrs = 1;
		server_ready(sv);
		return;
	}
	unsigned char tmp[16];
	if (inet_pton(AF_INET, sr->name, tmp) == 1 || inet_pton(AF_INET6, sr->name, tmp) == 1) {
		sr->dns_status = ARES_ENODATA;
		sr->dns_error = arena_printf(&h->arena, "%s is not an IPv%d address", sr->name,
					     cfg->family == AF_INET ? 4 : 6);
		server_ready(sv);
		return;
	}
	h->lookups++;
	resolve_addrs(&h->run->resolver, sr->name, cfg->family, server_resolved, sv);
}

/* ---- discovery ---- */

static int by_priority(const void *a, const void *b)
{
	const struct dns_record *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return x->weight > y->weight ? -1 : x->weight < y->weight;
}

static bool usable_srv(const struct dns_answer *a)
{
	for (size_t i = 0; a && i < a->nrecords; i++)
		if (a->records[i].target[0] && strcmp(a->records[i].target, "."))
			return true;
	return false;
}

/* Every record of a (NOERROR) SRV answer says "." : RFC 6186's "not offered". */
static bool srv_says_not_offered(const struct dns_answer *a)
{
	if (!a || a->rcode != DNS_NOERROR || !a->nrecords)
		return false;
	for (size_t i = 0; i < a->nrecords; i++)
		if (a->records[i].target[0] && strcmp(a->records[i].target, "."))
			return false;
	return true;
}

/* An MX host left out: the report names it and says why. */
static void mx_not_probed(struct host *h, const char *target, const char *why)
{
	struct host_result *res = &h->res;
	struct skipped_server *all = arena_alloc(&h->arena,
						 (res->nmx_not_probed + 1) * sizeof *all);
	if (res->nmx_not_probed)
		memcpy(all, res->mx_not_probed, res->nmx_not_probed * sizeof *all);
	char *name = arena_strdup(&h->arena, target);
	size_t len = strlen(name);
	if (len > 1 && name[len - 1] == '.')
		name[len - 1] = '\0';
	all[res->nmx_not_probed].name = name;
	all[res->nmx_not_probed].why = why;
	res->mx_not_probed = all;
	res->nmx_not_probed++;
}

/* The answers are in: which servers to probe, and why. */
static void plan_servers(struct host *h)
{
	const struct config *cfg = h->run->cfg;
	const char *d = h->res.domain;
	struct dns_answer *srvs[2] = { h->srv_tls, h->srv_starttls };
	bool srv = usable_srv(h->srv_tls) || usable_srv(h->srv_starttls);

	/*
	 * Nothing answered for the domain itself: that is the outage. A
	 * question that failed alone leaves its answer unknown, not empty:
	 * diagnosis names it (rule_discovery_lookups).
	 */
	h->res.srv_lookup_failed = dns_answer_failed(h->srv_tls) ||
				   dns_answer_failed(h->srv_starttls);
	h->res.mx_lookup_failed = dns_answer_failed(h->mx);
	if (h->mx->rcode == DNS_NXDOMAIN || (h->res.mx_lookup_failed &&
					     dns_answer_failed(h->srv_tls) &&
					     dns_answer_failed(h->srv_starttls))) {
		const struct dns_answer *why = h->mx;
		h->res.discovery_failed = true;
		h->res.dns_ok = false;
		h->res.dns_status = why->rcode == DNS_NXDOMAIN ? ARES_ENOTFOUND
				  : why->rcode == DNS_SERVFAIL ? ARES_ESERVFAIL
				  : why->rcode == DNS_REFUSED ? ARES_EREFUSED
				  : why->rcode == DNS_NO_ANSWER && why->status ? why->status
				  : ARES_ETIMEOUT;
		h->res.dns_error = arena_printf(&h->arena,
			"asking DNS%s%s%s for the mail servers of %s (SRV _submissions._tcp, SRV "
			"_submission._tcp, MX): %s%s%s", h->res.resolvers ? " (" : "",
			h->res.resolvers ? h->res.resolvers : "", h->res.resolvers ? ")" : "",
			d, dns_rcode_sentence(why->rcode), why->error ? ": " : "",
			why->error ? why->error : "");
		check_done(h);
		return;
	}

	if (srv) {
		for (int k = 0; k < 2; k++) {
			struct dns_answer *a = srvs[k];
			if (!a || !a->nrecords)
				continue;
			qsort(a->records, a->nrecords, sizeof *a->records, by_priority);
			for (size_t i = 0; i < a->nrecords; i++) {
				const struct dns_record *r = &a->records[i];
				if (!r->target[0] || !strcmp(r->target, "."))
					continue;
				struct server *sv = add_server(h, r->target, SERVER_SRV);
				if (sv)
					add_port(sv, r->port, k == 0 ? MODE_TLS : MODE_STARTTLS);
			}
		}
	} else if (srv_says_not_offered(h->srv_tls) && srv_says_not_offered(h->srv_starttls)) {
		/* The domain says it offers no submission at all: no guessing. */
		h->res.submission_not_offered = true;
	} else {
		h->res.guessed = true;
		/* Thunderbird's order: smtp.DOMAIN, mail.DOMAIN, DOMAIN. */
		const char *prefixes[] = { "smtp.", "mail.", "" };
		for (int k = 0; k < 3; k++) {
			char name[300];
			snprintf(name, sizeof name, "%s%s", prefixes[k], d);
			struct server *sv = add_server(h, name, SERVER_GUESS);
			for (size_t p = 0; sv && p < cfg->nports; p++)
				add_port(sv, cfg->ports[p].port, cfg->ports[p].mode);
		}
	}
	if (h->mx->nrecords) {
		qsort(h->mx->records, h->mx->nrecords, sizeof *h->mx->records, by_priority);
		size_t added = 0;
		for (size_t i = 0; i < h->mx->nrecords; i++) {
			const struct dns_record *r = &h->mx->records[i];
			if (!r->target[0] || !strcmp(r->target, "."))
				continue;
			struct server *sv = added < MAX_MX_PROBED
					    ? add_server(h, r->target, SERVER_MX) : NULL;
			if (!sv) {
				mx_not_probed(h, r->target, added < MAX_MX_PROBED
					      ? arena_printf(&h->arena, "smtpcheck probes at most "
							     "%d servers per domain", MAX_SERVERS)
					      : arena_printf(&h->arena, "smtpcheck probes the "
							     "first %d MX hosts by preference",
							     MAX_MX_PROBED));
				continue;
			}
			added++;
			sv->wants_tlsa = true;
			add_port(sv, 25, MODE_STARTTLS);
			/* Without SRV the MX hosts are candidates for submission too. */
			for (size_t p = 0; h->res.guessed && p < cfg->nports; p++)
				add_port(sv, cfg->ports[p].port, cfg->ports[p].mode);
		}
	}
	for (size_t s = 0; s < h->nservers; s++)
		resolve_server(h, &h->servers[s]);
	check_done(h);
}

static void discovery_back(void *arg, struct dns_answer *ans)
{
	struct host *h = arg;
	if (!lookup_back(h))
		return;
	record_answer(h, ans);
	if (ans->qtype == DNS_T_MX)
		h->mx = ans;
	else if (!strncmp(ans->qname, "_submissions.", 13))
		h->srv_tls = ans;
	else
		h->srv_starttls = ans;
	if (--h->discovery_waiting == 0)
		plan_servers(h);
}

static void discover(struct host *h)
{
	const char *d = h->res.domain;
	char q[300];
	h->discovery_waiting = 3;
	h->lookups += 3;
	snprintf(q, sizeof q, "_submissions._tcp.%s", d);
	dns_query(&h->run->resolver, q, DNS_T_SRV, &h->arena, discovery_back, h);
	snprintf(q, sizeof q, "_submission._tcp.%s", d);
	dns_query(&h->run->resolver, q, DNS_T_SRV, &h->arena, discovery_back, h);
	dns_query(&h->run->resolver, d, DNS_T_MX, &h->arena, discovery_back, h);
}

static void host_start(struct run *run, struct host *h, const char *name)
{
	const struct config *cfg = run->cfg;
	h->run = run;
	h->started = true;
	h->res.name = arena_strdup(&h->arena, name);
	h->res.index = (size_t)(h - run->hosts);
	if (run->resolvers.len)
		h->res.resolvers = arena_strdup(&h->arena, buf_cstr(&run->resolvers));
	h->res.started_unix = (long long)time(NULL);
	h->started_us = now_us();
	loop_timer_init(&h->deadline, host_deadline, h);
	loop_timer_init(&h->finisher, host_finish, h);
	uint64_t deadline = h->started_us + (uint64_t)(cfg->host_timeout * 1e6);
	h->limit_s = cfg->host_timeout;
	if (run->deadline_us && run->deadline_us <= deadline) {
		deadline = run->deadline_us;
		h->limit_s = cfg->timeout;
		h->limit_is_run = true;
	}
	loop_timer_arm(run->loop, &h->deadline, deadline);

	const char *at = strrchr(name, '@');
	/* Only a mail domain has several servers; thousands of hosts (-f) do not pay. */
	h->maxservers = at || cfg->discover ? MAX_SERVERS : 1;
	h->servers = arena_alloc(&h->arena, h->maxservers * sizeof *h->servers);
	if (at || cfg->discover) {
		h->res.discovery = true;
		h->res.domain = arena_strdup(&h->arena, at ? at + 1 : name);
		h->res.dns_ok = true;
		discover(h);
		return;
	}
	struct server *sv = add_server(h, name, SERVER_GIVEN);
	for (size_t p = 0; p < cfg->nports; p++)
		add_port(sv, cfg->ports[p].port, cfg->ports[p].mode);
	h->res.dns_ok = true;
	resolve_server(h, sv);
	check_done(h);
}

/*
 * The run's deadline passed before the host's turn (-j): it is reported
 * at once, as not probed, so every host given gets a result. A list can
 * leave a hundred thousand of them within the half second after the
 * deadline, so this costs no allocation: the name is the list's, the
 * reason the run's.
 */
static void host_not_probed(struct run *run, size_t i)
{
	if (!run->not_probed_why)
		run->not_probed_why = arena_printf(&run->arena, "not probed: the run's deadline "
						   "of %g s (-t) passed before its turn",
						   run->cfg->timeout);
	/* Not run->hosts[i]: its pages of the array need never be touched. */
	struct host_result res = {
		.name = run->cfg->hosts[i],
		.index = i,
		.started_unix = (long long)time(NULL),
		.dns_ok = true,
		.not_probed = true,
		.not_probed_why = run->not_probed_why,
	};
	progress_wipe(run);
	run->report(run->report_arg, &res);
	run->finished++;
}

static void start_next(struct run *run)
{
	if (run->deadline_us && now_us() >= run->deadline_us)
		run->expired = true;
	if (!run->expired) {
		size_t i = run->started++;
		run->launched = run->started;
		host_start(run, &run->hosts[i], run->cfg->hosts[i]);
		return;
	}
	while (run->started < run->nhosts) {
		host_not_probed(run, run->started++);
	}
}

static bool run_done(void *arg)
{
	struct run *run = arg;
	return run->finished == run->nhosts;
}

int run_hosts(const struct config *cfg, const struct probe_opts *opts, uint64_t deadline_us,
	      run_report_fn report, void *arg, struct buf *err)
{
	struct run run;
	memset(&run, 0, sizeof run);
	run.cfg = cfg;
	run.deadline_us = deadline_us;
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

	buf_init(&run.resolvers);
	resolver_servers(&run.resolver, &run.resolvers);

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

	for (size_t i = 0; i < run.launched; i++)
		if (run.hosts[i].started && !run.hosts[i].done)
			host_finish(&run.hosts[i]);
	/* Lookups still under way call back now, and release their hosts. */
	resolver_free(&run.resolver);
	buf_free(&run.resolvers);
	arena_free(&run.arena);
	free(run.hosts);
	SSL_CTX_free(run.ssl_ctx);
	loop_free(run.loop);
	return rc;
}
