/*
 * report_text.c - the report a person reads and pastes into a ticket,
 * and the status line a monitoring engine parses.
 *
 * Line one is the Nagios status line with perfdata. After it: a header
 * that makes a pasted report self-describing, the port table, a block per
 * port, the findings by severity and the recommended settings. Server
 * bytes are always escaped to printable ASCII; long text is wrapped at
 * 80 columns, never cut.
 */
#include "report.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "advice.h"
#include "autoconfig.h"
#include "dns.h"
#include "explain.h"
#include "findings.h"
#include "interpret.h"
#include "probe.h"

#define WIDTH 80

static void indent_to(struct buf *out, size_t indent)
{
#define SPACES10 "          "
	static const char spaces[] = SPACES10 SPACES10 SPACES10 SPACES10 SPACES10
				     SPACES10 SPACES10 SPACES10;
#undef SPACES10
	buf_append(out, spaces, indent < sizeof spaces - 1 ? indent : sizeof spaces - 1);
}

/*
 * Append text (already ASCII) wrapped to WIDTH with a hanging indent.
 * Words are separated by one space except at the start of a line, which
 * is known by a flag, not by the column: a first column below the indent
 * ("  - " under a 6-column indent) reaches the indent in mid-line.
 */
static void wrap(struct buf *out, const char *text, size_t first_col, size_t indent)
{
	size_t col = first_col;
	bool line_start = true;
	const char *p = text;
	while (*p) {
		const char *sp = p;
		while (*sp == ' ')
			sp++;
		const char *end = sp;
		while (*end && *end != ' ' && *end != '\n')
			end++;
		size_t wlen = (size_t)(end - sp);
		if (col > indent && col + 1 + wlen > WIDTH) {
			buf_putc(out, '\n');
			indent_to(out, indent);
			col = indent;
		} else if (sp != p && !line_start) {
			buf_putc(out, ' ');
			col++;
		}
		/* A word longer than a line is split, not cut. */
		while (col + wlen > WIDTH && WIDTH > indent + 1) {
			size_t take = WIDTH - col;
			buf_append(out, sp, take);
			buf_putc(out, '\n');
			indent_to(out, indent);
			col = indent;
			sp += take;
			wlen -= take;
		}
		buf_append(out, sp, wlen);
		col += wlen;
		line_start = false;
		p = end;
		if (*p == '\n') {
			buf_putc(out, '\n');
			indent_to(out, indent);
			col = indent;
			line_start = true;
			p++;
		}
	}
	buf_putc(out, '\n');
}

/* Escape server text, keeping the line breaks of a multi-line reply. */
static void escape_lines(struct buf *out, const char *raw)
{
	const char *p = raw;
	while (*p) {
		size_t len = strcspn(p, "\n");
		escape_ascii(out, p, len);
		p += len;
		if (*p == '\n') {
			buf_putc(out, '\n');
			p++;
		}
	}
}

/* "label  text" with text escaped and wrapped under itself. */
static void field(struct buf *out, const char *label, const char *raw, bool escape)
{
	char head[32];
	int n = snprintf(head, sizeof head, "  %-12s", label);
	buf_puts(out, head);
	struct buf e;
	buf_init(&e);
	if (escape)
		escape_lines(&e, raw);
	else
		ascii_text(&e, raw);
	wrap(out, buf_cstr(&e), (size_t)n, (size_t)n);
	buf_free(&e);
}

static void fieldf(struct buf *out, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fieldf(struct buf *out, const char *label, const char *fmt, ...)
{
	struct buf b;
	buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	field(out, label, buf_cstr(&b), false);
	buf_free(&b);
}

static void mech_text(struct buf *b, const struct ehlo_caps *c)
{
	if (!c->valid) {
		buf_puts(b, "-");
		return;
	}
	if (c->nmech == 0) {
		buf_puts(b, "none");
		return;
	}
	for (size_t i = 0; i < c->nmech; i++) {
		if (i)
			buf_putc(b, ' ');
		buf_puts(b, c->mech_names[i]);
	}
}

static double ms(uint64_t us)
{
	return (double)us / 1000.0;
}

static const char *security_text(const struct port_result *r)
{
	if (r->tls.ok)
		return r->mode == MODE_TLS ? "TLS" : "STARTTLS";
	if (r->tls.attempted)
		return "TLS failed";
	if (!r->connected)
		return "-";
	return "none";
}

/* ---- perfdata ---- */

static bool same_server(const struct port_result *a, const struct port_result *b)
{
	if (!a->server || !b->server)
		return a->server == b->server;
	return !ascii_casecmp(a->server, b->server);
}

/*
 * 'time_587', then 'time_587_2' for the second address (or server) that
 * has a port 587: labels stay unique however many servers there are.
 */
static void perf_label(struct buf *out, const char *what, const struct host_result *h,
		       const struct port_result *r)
{
	size_t addr_index = 0;
	for (const struct port_result *p = h->ports; p < r; p++) {
		if (p->port != r->port)
			continue;
		bool seen = false;
		for (const struct port_result *q = h->ports; q < p; q++)
			if (q->port == r->port && same_server(q, p) && !strcmp(q->address, p->address))
				seen = true;
		if (!seen && !(same_server(p, r) && !strcmp(p->address, r->address)))
			addr_index++;
	}
	if (addr_index == 0)
		buf_printf(out, " '%s_%d'=", what, r->port);
	else
		buf_printf(out, " '%s_%d_%zu'=", what, r->port, addr_index + 1);
}

static void thresholds(struct buf *out, const struct range *w, const struct range *c)
{
	buf_putc(out, ';');
	if (w->set)
		buf_puts(out, w->text);
	buf_putc(out, ';');
	if (c->set)
		buf_puts(out, c->text);
}

static void perfdata(const struct config *cfg, const struct host_result *h,
		     struct buf *out)
{
	for (size_t i = 0; i < h->nports; i++) {
		const struct port_result *r = &h->ports[i];
		if (!r->connected)
			continue;
		/* The number -w and -c judged, with their ranges. */
		perf_label(out, "time", h, r);
		buf_printf(out, "%.6fs", (double)port_response_us(r) / 1e6);
		thresholds(out, &cfg->warn_time, &cfg->crit_time);
		buf_puts(out, ";0;");
		if (r->timed[PH_CONNECT]) {
			perf_label(out, "connect", h, r);
			buf_printf(out, "%.6fs;;;0;", (double)r->timing_us[PH_CONNECT] / 1e6);
		}
		if (r->timed[PH_GREETING] && r->greeting_code) {
			perf_label(out, "greeting", h, r);
			buf_printf(out, "%.6fs;;;0;", (double)r->greeting_wait_us / 1e6);
		}
		if (r->tls.ok && r->timed[PH_TLS]) {
			perf_label(out, "tls", h, r);
			buf_printf(out, "%.6fs;;;0;", (double)r->timing_us[PH_TLS] / 1e6);
		}
		if (r->tls.ok && r->tls.cert.present) {
			perf_label(out, "cert_days", h, r);
			buf_printf(out, "%ld", r->tls.cert.days_left);
			thresholds(out, &cfg->cert_warn, &cfg->cert_crit);
			buf_puts(out, ";;");
		}
	}
}

void report_status_line(const struct config *cfg, const struct host_result *h,
			const struct diagnosis *d, struct buf *out)
{
	buf_printf(out, "SMTPCHECK %s - ", status_name(d->status));
	/* The summary may hold anything a server said: keep it one line. */
	for (const char *p = d->summary; p && *p; p++)
		buf_putc(out, (*p == '\n' || *p == '\r' || *p == '|') ? ' ' : *p);
	size_t before = out->len;
	buf_puts(out, " |");
	perfdata(cfg, h, out);
	if (out->len == before + 2) {
		out->len = before;  /* no perfdata: no pipe */
		out->data[before] = '\0';
	}
}

#define RUN_NAMES_SHOWN 3

void report_run_status_line(const struct host_status *hosts, size_t n, struct buf *out)
{
	/* The states from the worst down, as status_worse() ranks them. */
	static const enum status order[] = {
		STATUS_CRITICAL, STATUS_UNKNOWN, STATUS_WARNING, STATUS_OK,
	};
	enum status worst = STATUS_OK;
	size_t count[4] = { 0 };
	for (size_t i = 0; i < n; i++) {
		worst = status_worse(worst, hosts[i].status);
		count[hosts[i].status]++;
	}
	buf_printf(out, "SMTPCHECK %s - %zu hosts:", status_name(worst), n);
	bool first = true;
	for (size_t k = 0; k < ARRAY_LEN(order); k++) {
		enum status st = order[k];
		if (!count[st])
			continue;
		buf_printf(out, "%s %zu %s", first ? "" : ",", count[st], status_name(st));
		first = false;
		if (st == STATUS_OK)
			continue;
		size_t shown = 0;
		for (size_t i = 0; i < n && shown < RUN_NAMES_SHOWN; i++) {
			if (hosts[i].status != st)
				continue;
			buf_puts(out, shown ? ", " : " (");
			/* A name from -f is checked, but keep the line safe anyway. */
			for (const char *p = hosts[i].name; *p; p++)
				buf_putc(out, (*p == '|' || *p == '\n' || *p == '\r') ? ' ' : *p);
			shown++;
		}
		if (count[st] > shown)
			buf_printf(out, " and %zu more", count[st] - shown);
		buf_putc(out, ')');
	}
	buf_printf(out, " | 'hosts'=%zu;;;0; 'hosts_ok'=%zu;;;0; 'hosts_warning'=%zu;;;0; "
		   "'hosts_critical'=%zu;;;0; 'hosts_unknown'=%zu;;;0;", n, count[STATUS_OK],
		   count[STATUS_WARNING], count[STATUS_CRITICAL], count[STATUS_UNKNOWN]);
}

/* ---- the long output ---- */

static void header(const struct config *cfg, const struct host_result *h, struct buf *out)
{
	char when[32] = "?";
	time_t t = (time_t)h->started_unix;
	struct tm tm;
	if (gmtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
	buf_printf(out, "smtpcheck %s, %s\n", smtpcheck_version, when);
	field(out, "command", cfg->argv_shown ? cfg->argv_shown : "", false);
	struct buf addrs;
	buf_init(&addrs);
	for (size_t i = 0; i < h->naddrs; i++)
		buf_printf(&addrs, "%s%s", i ? ", " : "", h->addrs[i]);
	if (h->discovery) {
		fieldf(out, "domain", "%s (servers %s)", h->domain,
		       !h->dns_ok ? "not found"
		       : h->guessed && h->srv_lookup_failed ? "guessed: the SRV lookup failed"
		       : h->guessed ? "guessed: no SRV records"
		       : h->submission_not_offered ? "none: SRV says no submission service"
		       : "named by SRV records");
		if (!h->dns_ok)
			field(out, "problem", h->dns_error ? h->dns_error : "DNS failed", false);
		for (size_t i = 0; i < h->nservers; i++) {
			const struct server_result *sr = &h->servers[i];
			static const char *const src[] = { "given", "SRV", "guess", "MX" };
			struct buf l;
			buf_init(&l);
			buf_printf(&l, "%s (%s): ", sr->name, src[sr->source]);
			if (sr->dns_ok) {
				for (size_t k = 0; k < sr->naddrs; k++)
					buf_printf(&l, "%s%s", k ? ", " : "", sr->addrs[k]);
				if (cfg->connect_addr)
					buf_puts(&l, " (--connect)");
			} else {
				buf_puts(&l, "no address (see DNS below)");
			}
			field(out, i ? "" : "servers", buf_cstr(&l), false);
			buf_free(&l);
		}
		for (size_t i = 0; i < h->nmx_not_probed; i++)
			fieldf(out, "", "%s (MX): not probed: %s", h->mx_not_probed[i].name,
			       h->mx_not_probed[i].why);
	} else if (h->not_probed) {
		fieldf(out, "host", "%s (not probed)", h->name);
	} else if (h->dns_ok) {
		fieldf(out, "host", "%s (%s)%s", h->name, buf_cstr(&addrs),
		       cfg->connect_addr ? ", address given with --connect" : "");
	} else {
		fieldf(out, "host", "%s: %s", h->name, h->dns_error ? h->dns_error : "not resolved");
	}
	fieldf(out, "elapsed", "%.3f s", (double)h->elapsed_us / 1e6);
	buf_free(&addrs);
}

/* One line of the DNS section, made ASCII, wrapped; frees l. */
static void dns_line(struct buf *out, struct buf *l)
{
	struct buf e;
	buf_init(&e);
	ascii_text(&e, buf_cstr(l));
	buf_puts(out, "  ");
	wrap(out, buf_cstr(&e), 2, 6);
	buf_free(&e);
	buf_free(l);
}

static void answer_line(const struct dns_answer *a, struct buf *out)
{
	struct buf l;
	buf_init(&l);
	struct arena tmp = { 0 };
	buf_printf(&l, "%s %s: ", a->qname, dns_type_name(a->qtype));
	if (a->rcode != DNS_NOERROR) {
		buf_puts(&l, dns_rcode_name(a->rcode));
		if (a->error)
			buf_printf(&l, " (%s)", a->error);
	} else if (a->nrecords == 0) {
		buf_puts(&l, "no records");
	}
	for (size_t i = 0; a->rcode == DNS_NOERROR && i < a->nrecords; i++)
		buf_printf(&l, "%s%s (TTL %u)", i ? "; " : "",
			   dns_record_text(&a->records[i], &tmp), a->records[i].ttl);
	if (a->rcode == DNS_NOERROR && a->nrecords)
		buf_puts(&l, a->ad ? ", DNSSEC-validated by the resolver (AD)"
			 : ", not DNSSEC-validated (no AD bit)");
	dns_line(out, &l);
	arena_free(&tmp);
}

/* Every DNS answer the run got, with TTLs: what the report rests on. */
static void dns_section(const struct config *cfg, const struct host_result *h,
			struct buf *out)
{
	bool looked_up = false;
	for (size_t i = 0; i < h->nservers; i++)
		if (h->servers[i].asked)
			looked_up = true;
	if (cfg->connect_addr && !h->discovery && !h->nanswers)
		return;
	if (!h->discovery && !h->nanswers && !looked_up)
		return;
	struct buf title;
	buf_init(&title);
	buf_printf(&title, "DNS%s%s%s", h->resolvers ? " (asked " : "",
		   h->resolvers ? h->resolvers : "", h->resolvers ? ")" : "");
	buf_putc(out, '\n');
	buf_append(out, buf_cstr(&title), title.len);
	buf_putc(out, '\n');
	buf_free(&title);
	/* Discovery first (SRV, MX), then addresses, TLSA, reverse names. */
	for (size_t i = 0; i < h->nanswers; i++)
		if (h->answers[i]->qtype == DNS_T_SRV || h->answers[i]->qtype == DNS_T_MX)
			answer_line(h->answers[i], out);
	for (size_t i = 0; i < h->nservers; i++) {
		const struct server_result *sr = &h->servers[i];
		if (!sr->asked)
			continue;
		struct buf l;
		buf_init(&l);
		buf_printf(&l, "%s A/AAAA: ", sr->name);
		if (!sr->dns_ok)
			buf_puts(&l, sr->dns_error ? sr->dns_error : "not resolved");
		for (size_t k = 0; sr->dns_ok && k < sr->naddrs; k++)
			buf_printf(&l, "%s%s (TTL %u)", k ? "; " : "", sr->addrs[k],
				   sr->ttls ? sr->ttls[k] : 0);
		dns_line(out, &l);
	}
	for (size_t i = 0; i < h->nanswers; i++)
		if (h->answers[i]->qtype == DNS_T_TLSA)
			answer_line(h->answers[i], out);
	for (size_t i = 0; i < h->nptrs; i++) {
		const struct ptr_result *p = &h->ptrs[i];
		struct buf l;
		buf_init(&l);
		buf_printf(&l, "%s PTR: ", p->address);
		if (p->name)
			buf_printf(&l, "%s (TTL %u), %s", p->name, p->ttl,
				   !p->forward_checked ? "not resolved back"
				   : p->forward_ok ? "resolves back to the address"
				   : "does not resolve back to the address");
		else
			buf_puts(&l, p->rcode == DNS_NOERROR ? "no records"
				 : dns_rcode_name(p->rcode));
		dns_line(out, &l);
	}
}

/* A continuation line of the port table: label, then wrapped text. */
static void table_more(struct buf *out, const char *label, const char *text, bool escape)
{
	char head[24];
	int n = snprintf(head, sizeof head, "      %-8s", label);
	buf_append(out, head, (size_t)n);
	struct buf e;
	buf_init(&e);
	if (escape)
		escape_ascii(&e, text, strlen(text));
	else
		ascii_text(&e, text);
	wrap(out, buf_cstr(&e), (size_t)n, (size_t)n);
	buf_free(&e);
}

/*
 * The ADDRESS column is as wide as the longest IPv4 address. A longer
 * address (IPv6) gets a line of its own, with the rest of the row below
 * it, so that no row grows past 80 columns.
 */
#define ADDRESS_COLUMN 15

static void port_table(const struct host_result *h, struct buf *out)
{
	if (h->nports == 0)
		return;
	const int aw = ADDRESS_COLUMN;
	buf_printf(out, "\nPORT  %-*s CONNECT   SECURITY  TLS      CERT   AUTH before -> after\n",
		   aw, "ADDRESS");
	for (size_t i = 0; i < h->nports; i++) {
		const struct port_result *r = &h->ports[i];
		if (h->nservers > 1 && r->server && (i == 0 || !same_server(&h->ports[i - 1], r)))
			wrap(out, r->server, 0, 2);
		char conn[32], cert[32];
		if (r->connected)
			snprintf(conn, sizeof conn, "%.1fms", ms(r->timing_us[PH_CONNECT]));
		else
			snprintf(conn, sizeof conn, "%s", r->fail == FAIL_REFUSED ? "refused"
				 : r->fail == FAIL_TIMEOUT ? "timeout" : "failed");
		if (r->tls.ok && r->tls.cert.present)
			snprintf(cert, sizeof cert, "%ldd", r->tls.cert.days_left);
		else
			snprintf(cert, sizeof cert, "-");
		const char *tlsv = r->tls.ok && r->tls.version ? r->tls.version : "-";
		struct buf auth;
		buf_init(&auth);
		if (r->mode == MODE_STARTTLS)
			mech_text(&auth, &r->caps_before);
		else
			buf_puts(&auth, "(tls)");
		buf_puts(&auth, " -> ");
		mech_text(&auth, &r->caps_after);
		bool own_line = strlen(r->address) > (size_t)aw;
		if (own_line) {
			buf_printf(out, "%-5d ", r->port);
			wrap(out, r->address, 6, 6);
		}
		char port[16] = "";
		if (!own_line)
			snprintf(port, sizeof port, "%d", r->port);
		size_t start = out->len;
		buf_printf(out, "%-5s %-*s %-9s %-9s %-8s %-6s ", port, aw,
			   own_line ? "" : r->address, conn, security_text(r), tlsv, cert);
		size_t n = out->len - start;
		/* Hang the AUTH column under itself; a row made wide by an
		 * unusual value wraps it under the start of the row instead. */
		wrap(out, buf_cstr(&auth), n, n + 20 <= WIDTH ? n : 6);
		buf_free(&auth);

		/* What else a ticket needs, with the server's own words. */
		if (r->tls.ok && r->tls.cipher)
			table_more(out, "cipher", r->tls.cipher, true);
		struct buf b;
		buf_init(&b);
		const struct relay_result *t = &r->relay;
		if (t->mail_code) {
			bool mail_failed = t->mail_code / 100 != 2 || !t->rcpt_code;
			reply_show(&b, mail_failed ? t->mail_code : t->rcpt_code,
				   mail_failed ? t->mail_enhanced : t->rcpt_enhanced,
				   mail_failed ? t->mail_text : t->rcpt_text);
			table_more(out, "relay", buf_cstr(&b), false);
			buf_reset(&b);
		}
		if (r->auth_ok_index >= 0 || r->nauth) {
			const struct auth_attempt *a = &r->auth[r->auth_ok_index >= 0
				? (size_t)r->auth_ok_index : r->nauth - 1];
			if (a->code)
				reply_show(&b, a->code, a->enhanced, a->text);
			else
				buf_puts(&b, a->error ? a->error : "no answer");
			buf_printf(&b, " (%s as ", a->mech);
			escape_ascii(&b, a->username, strlen(a->username));
			buf_putc(&b, ')');
			table_more(out, "login", buf_cstr(&b), false);
			buf_reset(&b);
		}
		if (r->relay_auth.mail_code) {
			const struct relay_result *ta = &r->relay_auth;
			bool mail_failed = ta->mail_code / 100 != 2 || !ta->rcpt_code;
			reply_show(&b, mail_failed ? ta->mail_code : ta->rcpt_code,
				   mail_failed ? ta->mail_enhanced : ta->rcpt_enhanced,
				   mail_failed ? ta->mail_text : ta->rcpt_text);
			table_more(out, "relay+", buf_cstr(&b), false);
			buf_reset(&b);
		}
		if (!r->connected || (r->error && !r->completed)) {
			port_error_words(r, &b);
			table_more(out, "problem", buf_cstr(&b), false);
		}
		buf_free(&b);
	}
}

static void verdict(struct buf *out, bool verified, const char *why)
{
	buf_puts(out, verified ? "yes" : "no");
	if (!verified && why)
		buf_printf(out, " (%s)", why);
}

static void port_block(const struct host_result *h, const struct port_result *r,
		       bool verbose, struct buf *out)
{
	buf_putc(out, '\n');
	struct buf title;
	buf_init(&title);
	if (h->nservers > 1 && r->server)
		buf_printf(&title, "%s ", r->server);
	buf_printf(&title, "%s %d (%s), %s%s", h->nservers > 1 && r->server ? "port" : "Port",
		   r->port, r->address,
		   r->mode == MODE_TLS ? "implicit TLS" : "STARTTLS",
		   r->mode != r->mode_requested ? " (switched: the port speaks the other mode)" : "");
	wrap(out, buf_cstr(&title), 0, 2);
	buf_free(&title);
	if (!r->connected) {
		field(out, "connect", r->error ? r->error : "failed", false);
		return;
	}
	if (r->banner) {
		struct buf g;
		buf_init(&g);
		reply_show(&g, r->greeting_code, NULL, r->banner);
		field(out, "greeting", buf_cstr(&g), false);
		buf_free(&g);
	}
	if (r->helo_used)
		field(out, "EHLO", "refused; HELO accepted (no extensions)", false);
	if (r->mode == MODE_STARTTLS && (r->caps_before.valid || r->helo_used))
		fieldf(out, "STARTTLS", "%s%s%s", r->starttls_offered ? "offered" : "not offered",
		       r->starttls_code ? ", answered " : "",
		       r->starttls_code ? (r->starttls_code == 220 ? "220" : "with a refusal") : "");
	if (r->tls.attempted) {
		if (r->tls.ok) {
			fieldf(out, "TLS", "%s, %s", r->tls.version, r->tls.cipher);
			const struct cert_info *c = &r->tls.cert;
			if (c->present) {
				fieldf(out, "certificate", "%s", c->subject ? c->subject : "?");
				fieldf(out, "issuer", "%s", c->issuer ? c->issuer : "?");
				struct buf names;
				buf_init(&names);
				for (size_t i = 0; i < c->nnames; i++)
					buf_printf(&names, "%s%s", i ? ", " : "", c->names[i]);
				field(out, "names", names.len ? buf_cstr(&names) : "-", false);
				buf_free(&names);
				char ago[48];
				if (cert_expired_ago(c, ago, sizeof ago))
					fieldf(out, "expired", "%s (%s)", c->not_after
					       ? c->not_after : "?", ago);
				else
					fieldf(out, "expires", "%s (%ld days)", c->not_after
					       ? c->not_after : "?", c->days_left);
			}
			/* Validated TLSA records decide; say what the CAs alone said. */
			bool by_ca_differs = r->dane_authoritative &&
					     r->tls.pkix_verified != r->tls.verified;
			/* "no (self-signed certificate)": the answer, then why. */
			struct buf v;
			buf_init(&v);
			verdict(&v, r->tls.verified, r->tls.verify_error);
			if (r->dane_authoritative)
				buf_puts(&v, " (by DANE: DNSSEC-validated TLSA)");
			if (by_ca_differs) {
				buf_puts(&v, "; by the CAs alone: ");
				verdict(&v, r->tls.pkix_verified, r->tls.pkix_error);
			}
			field(out, "verified", buf_cstr(&v), false);
			buf_free(&v);
			if (r->dane_checked)
				fieldf(out, "DANE", "%s%s%s", r->dane_match ? "match: " : "no match: ",
				       r->dane_detail ? r->dane_detail : "",
				       r->dane_ad ? "" : " (TLSA answer not DNSSEC-validated: "
				       "information only)");
		} else {
			struct buf e;
			buf_init(&e);
			port_tls_error_words(r, &e);
			fieldf(out, "TLS", "failed: %s", buf_cstr(&e));
			buf_free(&e);
		}
	}
	struct buf a;
	buf_init(&a);
	if (r->mode == MODE_STARTTLS) {
		buf_puts(&a, "before TLS: ");
		mech_text(&a, &r->caps_before);
		buf_puts(&a, "; ");
	}
	buf_puts(&a, "after TLS: ");
	mech_text(&a, &r->caps_after);
	field(out, "AUTH", buf_cstr(&a), false);
	buf_free(&a);
	for (size_t i = 0; i < r->nmech_tests; i++) {
		const struct mech_test *t = &r->mech_tests[i];
		fieldf(out, i ? "" : "AUTH trials", "%s%s: %d%s%s", t->mech,
		       t->before_tls ? " (before TLS)" : "", t->code,
		       t->works ? ", cancelled with *" : "", t->works ? "" : " - refused");
	}
	for (size_t i = 0; i < r->nauth; i++) {
		const struct auth_attempt *at = &r->auth[i];
		struct buf t;
		buf_init(&t);
		buf_printf(&t, "%s as \"", at->mech);
		escape_ascii(&t, at->username, strlen(at->username));
		buf_puts(&t, "\": ");
		if (at->code)
			reply_show(&t, at->code, at->enhanced, at->text);
		if (at->error)
			buf_printf(&t, "%s(%s)", at->code ? " " : "", at->error);
		field(out, i ? "" : "login", buf_cstr(&t), false);
		buf_free(&t);
	}
	const struct relay_result *tests[2] = { &r->relay, &r->relay_auth };
	for (int k = 0; k < 2; k++) {
		const struct relay_result *t = tests[k];
		if (!t->mail_code)
			continue;
		struct buf b;
		buf_init(&b);
		buf_puts(&b, "MAIL ");
		if (t->mail_code / 100 != 2)
			reply_show(&b, t->mail_code, t->mail_enhanced, t->mail_text);
		else
			buf_printf(&b, "%d", t->mail_code);
		if (t->rcpt_code) {
			buf_puts(&b, ", RCPT ");
			reply_show(&b, t->rcpt_code, t->rcpt_enhanced, t->rcpt_text);
		}
		field(out, k ? "relay+login" : "relay", buf_cstr(&b), false);
		buf_free(&b);
	}
	const struct ehlo_caps *fc = port_result_final_caps(r);
	if (fc->valid && fc->next) {
		struct buf e;
		buf_init(&e);
		for (size_t i = 0; i < fc->next; i++) {
			if (i)
				buf_puts(&e, ", ");
			escape_ascii(&e, fc->exts[i], strlen(fc->exts[i]));
		}
		field(out, "extensions", buf_cstr(&e), false);
		buf_free(&e);
	}
	if (r->error) {
		struct buf e;
		buf_init(&e);
		port_error_words(r, &e);
		field(out, "problem", buf_cstr(&e), false);
		buf_free(&e);
	}
	struct buf t;
	buf_init(&t);
	for (int ph = 0; ph < PH_COUNT; ph++)
		if (r->timed[ph])
			buf_printf(&t, "%s%s %.1f ms", t.len ? ", " : "", phase_key(ph),
				   ms(r->timing_us[ph]));
	buf_printf(&t, "%stotal %.1f ms", t.len ? ", " : "", ms(r->total_us));
	field(out, "timings", buf_cstr(&t), false);
	buf_free(&t);

	if (verbose && r->transcript.n) {
		buf_puts(out, "  transcript:\n");
		for (size_t i = 0; i < r->transcript.n; i++) {
			const struct transcript_line *l = &r->transcript.lines[i];
			char head[40];
			int n = snprintf(head, sizeof head, "  %9.3f ms %c: ", ms(l->at_us), l->dir);
			buf_append(out, head, (size_t)n);
			wrap(out, l->text, (size_t)n, (size_t)n);
		}
		if (r->transcript.truncated)
			buf_puts(out, "  (transcript cut after 2000 lines)\n");
	}
}

/* Advice is printed with the first finding of its id only. */
static bool advised_before(const struct diagnosis *d, const struct finding *f)
{
	for (const struct finding *g = d->findings; g < f; g++)
		if (!strcmp(g->id, f->id) && g->severity >= f->severity)
			return true;
	for (const struct finding *g = f + 1; g < d->findings + d->n; g++)
		if (!strcmp(g->id, f->id) && g->severity > f->severity)
			return true;
	return false;
}

/*
 * Colour and symbols on a terminal only, never with NO_COLOR (the caller
 * decides: config.color); piped output stays plain ASCII.
 */
static bool use_color, use_symbols;

static void paint(struct buf *out, const char *code, const char *text)
{
	if (use_color)
		buf_printf(out, "\033[%sm%s\033[0m", code, text);
	else
		buf_puts(out, text);
}

/* A heading, made ASCII and wrapped like the rest (names in the knowledge
 * base can be long); on a terminal every line of it is bold. */
static void heading(struct buf *out, const char *text)
{
	struct buf a, w;
	buf_init(&a);
	buf_init(&w);
	ascii_text(&a, text);
	wrap(&w, buf_cstr(&a), 0, 2);
	buf_putc(out, '\n');
	for (const char *p = buf_cstr(&w); *p; ) {
		size_t len = strcspn(p, "\n");
		if (use_color)
			buf_printf(out, "\033[1m%.*s\033[0m", (int)len, p);
		else
			buf_append(out, p, len);
		buf_putc(out, '\n');
		p += len + (p[len] == '\n');
	}
	buf_free(&a);
	buf_free(&w);
}

static void findings(const struct diagnosis *d, struct buf *out)
{
	static const char *const label[] = { "OK", "INFO", "WARNING", "CRITICAL" };
	static const char *const colour[] = { "32", "36", "33", "1;31" };
	static const char *const symbol[] = { "\u2714", "\u2139", "\u26a0", "\u2718" };
	heading(out, "Findings");
	for (int sev = SEV_CRITICAL; sev >= SEV_OK; sev--) {
		for (size_t i = 0; i < d->n; i++) {
			const struct finding *f = &d->findings[i];
			if ((int)f->severity != sev)
				continue;
			char lab[16];
			snprintf(lab, sizeof lab, "%-8s", label[sev]);
			buf_puts(out, "  ");
			paint(out, colour[sev], lab);
			char head[64];
			int n = snprintf(head, sizeof head, " %s: ", f->id);
			if (use_symbols) {
				buf_printf(out, " %s", symbol[sev]);
				n += 2;
			}
			buf_append(out, head, strlen(head));
			wrap(out, f->message, (size_t)n + 10, 11);
			for (const char *const *a = f->advice; a && *a && !advised_before(d, f); a++) {
				buf_puts(out, "           -> ");
				wrap(out, *a, 14, 14);
			}
		}
	}
}

static void recommendation(const struct host_result *h, const struct diagnosis *d,
			   struct buf *out)
{
	heading(out, "Recommended settings");
	if (!d->rec.present) {
		buf_puts(out, "  none: no port offers a working way to submit mail (see the "
			 "findings)\n");
		return;
	}
	const struct recommendation *r = &d->rec;
	fieldf(out, "server", "%s", r->server ? r->server : h->name);
	fieldf(out, "port", "%d", r->port);
	fieldf(out, "security", "%s", r->security == SECURITY_TLS ? "SSL/TLS (implicit TLS)"
	       : r->security == SECURITY_STARTTLS ? "STARTTLS" : "none");
	fieldf(out, "auth", "%s", r->auth ? "on (my server requires authentication)" : "off");
	if (r->username_value)
		fieldf(out, "user name", "%s (\"%s\", as the server accepted it)",
		       r->username == USERNAME_FULL_ADDRESS ? "the full e-mail address"
		       : "the part before the @", r->username_value);
	else if (r->login_note)
		field(out, "user name", r->login_note, false);
	else if (h->discovery && strchr(h->name, '@'))
		fieldf(out, "user name", "%s, or the part before the @, as the provider says "
		       "(not tested: give the password in SMTPCHECK_PASSWORD or "
		       "--password-file to test it)", h->name);
	else
		fieldf(out, "user name", "%s", "as the provider gives it (not tested: no "
		       "credentials given)");
	fieldf(out, "password", "%s", "remembered (saved in the program)");
	fieldf(out, "SPA", "off (\"Secure Password Authentication\" unticked)");
}

static void list_field(struct buf *out, const char *label, const struct kb_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		field(out, i ? "" : label, l->items[i], false);
}

static void client_steps(const struct host_result *h, const struct diagnosis *d,
			 const struct kb_program *p, struct buf *out)
{
	struct arena a = { 0 };
	struct advice adv;
	advice_for(p, h, d, &a, &adv);
	struct buf title;
	buf_init(&title);
	buf_printf(&title, "Steps for %s", p->name);
	heading(out, buf_cstr(&title));
	buf_free(&title);
	field(out, "platform", p->platform, false);
	if (!adv.possible) {
		field(out, "cannot", adv.reason ? adv.reason : "no working setup", false);
		/* No notes: they explain settings that are not given here. */
		list_field(out, "instead", &p->upgrade);
		arena_free(&a);
		return;
	}
	const struct advice_target *t = &adv.target;
	fieldf(out, "to reach", "%s, port %d, %s, authentication on%s%s%s", t->server, t->port,
	       advice_security_words(t->security), t->username_value ? ", user name \"" : "",
	       t->username_value ? t->username_value : "", t->username_value ? "\"" : "");
	if (adv.fallback)
		field(out, "why", adv.reason, false);
	for (size_t i = 0; i < adv.ncautions; i++)
		field(out, "caution", adv.cautions[i], false);
	for (size_t i = 0; i < adv.nsteps; i++) {
		char head[16];
		int n = snprintf(head, sizeof head, "  %2zu. ", i + 1);
		buf_append(out, head, (size_t)n);
		struct buf s;
		buf_init(&s);
		ascii_text(&s, adv.steps[i]);
		wrap(out, buf_cstr(&s), (size_t)n, (size_t)n);
		buf_free(&s);
	}
	for (size_t i = 0; i < adv.nnotes; i++)
		field(out, i ? "" : "note", adv.notes[i], false);
	list_field(out, "unconfirmed", &p->unconfirmed);
	arena_free(&a);
}

static void client_pointers(const struct host_result *h, const struct diagnosis *d,
			    const struct kb *kb, struct buf *out)
{
	if (!d->rec.present || !kb)
		return;
	struct arena a = { 0 };
	bool header = false;
	for (size_t i = 0; i < kb->n; i++) {
		const struct kb_program *p = &kb->programs[i];
		if (!p->common)
			continue;
		struct advice adv;
		advice_for(p, h, d, &a, &adv);
		if (!header) {
			heading(out, "Where to set this in common programs");
			buf_puts(out, "  (--client NAME gives the steps; --list-clients lists "
				 "the programs)\n");
			header = true;
		}
		struct buf line;
		buf_init(&line);
		buf_printf(&line, "%s: ", p->name);
		/* A program that cannot take the recommended path says which. */
		if (adv.possible && adv.fallback)
			buf_printf(&line, "[port %d, %s] ", adv.target.port,
				   advice_security_words(adv.target.security));
		if (!adv.possible)
			buf_puts(&line, adv.reason);
		else if (adv.nsummary)
			buf_puts(&line, adv.summary[0]);
		else
			buf_printf(&line, "see --client %s", p->id);
		struct buf a2;
		buf_init(&a2);
		ascii_text(&a2, buf_cstr(&line));
		buf_puts(out, "  - ");
		wrap(out, buf_cstr(&a2), 4, 6);
		buf_free(&a2);
		buf_free(&line);
	}
	arena_free(&a);
}

/*
 * Two lines a program, so that nothing is cut and the list fits 80
 * columns: the id (what --client takes), what the program can do and its
 * platforms; then its name, indented.
 */
void report_clients_text(const struct kb *kb, struct buf *out)
{
	static const char *const able[] = { "no", "yes", "?" };
	int iw = 2;
	for (size_t i = 0; i < kb->n; i++)
		if ((int)strlen(kb->programs[i].id) > iw)
			iw = (int)strlen(kb->programs[i].id);
	buf_printf(out, "%-*s AUTH TLS  STARTTLS  PLATFORM\n    NAME\n", iw, "ID");
	for (size_t i = 0; i < kb->n; i++) {
		const struct kb_program *p = &kb->programs[i];
		struct buf t;
		buf_init(&t);
		size_t start = out->len;
		buf_printf(out, "%-*s %-4s %-4s %-9s ", iw, p->id, p->auth ? "yes" : "no",
			   able[p->tls], able[p->starttls]);
		size_t n = out->len - start;
		ascii_text(&t, p->platform);
		wrap(out, buf_cstr(&t), n, n + 20 <= WIDTH ? n : 4);
		buf_reset(&t);
		ascii_text(&t, p->name);
		buf_puts(out, "    ");
		wrap(out, buf_cstr(&t), 4, 6);
		buf_free(&t);
	}
}

static void thunderbird_guess(const struct host_result *h, const struct diagnosis *d,
			      const struct report_advice *ra, struct buf *out)
{
	struct arena a = { 0 };
	struct tb_guess g;
	tb_guess(h, d, ra ? ra->thunderbird : NULL, &a, &g);
	if (!g.applicable) {
		arena_free(&a);
		return;
	}
	heading(out, "Thunderbird's automatic setup (when it has to guess)");
	field(out, g.works && !g.weaker ? "verdict" : "warning", g.verdict, false);
	for (size_t i = 0; i < g.nnotes; i++)
		field(out, i ? "" : "note", g.notes[i], false);
	/* "Works" speaks of the settings; these credentials did not log in. */
	if (g.works && (d->rec.login == REC_LOGIN_REFUSED || d->rec.login == REC_LOGIN_TEMPORARY))
		field(out, g.nnotes ? "" : "note", "those are the right settings for this server, "
		      "but the login failed here: see the user-name line of the recommended "
		      "settings", false);
	arena_free(&a);
}

void report_text(const struct config *cfg, const struct host_result *h,
		 const struct diagnosis *d, const struct report_advice *ra,
		 struct buf *out)
{
	report_status_line(cfg, h, d, out);
	buf_putc(out, '\n');
	if (cfg->brief)
		return;
	use_color = cfg->color;
	use_symbols = cfg->color && cfg->utf8;
	header(cfg, h, out);
	if (h->not_probed) {
		findings(d, out);
		return;
	}
	dns_section(cfg, h, out);
	port_table(h, out);
	for (size_t i = 0; i < h->nports; i++)
		port_block(h, &h->ports[i], cfg->verbose, out);
	findings(d, out);
	recommendation(h, d, out);
	if (ra && ra->client)
		client_steps(h, d, ra->client, out);
	else if (ra)
		client_pointers(h, d, ra->kb, out);
	if (h->dns_ok && h->nports)
		thunderbird_guess(h, d, ra, out);
}

void report_explain_text(const char *input, const struct explanation *e, struct buf *out)
{
	buf_printf(out, "SMTPCHECK %s - ", status_name(e->d.status));
	for (const char *p = e->d.summary; p && *p; p++)
		buf_putc(out, (*p == '\n' || *p == '\r' || *p == '|') ? ' ' : *p);
	buf_putc(out, '\n');
	struct buf in;
	buf_init(&in);
	escape_lines(&in, input);
	field(out, "input", buf_cstr(&in), false);
	buf_free(&in);
	if (e->code) {
		if (e->code_inferred)
			fieldf(out, "reply", "enhanced code %s (%s)", e->enhanced,
			       enhanced_meaning(e->enhanced) ? enhanced_meaning(e->enhanced) : "?");
		else
			fieldf(out, "reply", "%d (%s)%s%s%s%s%s", e->code, code_class_meaning(e->code),
			       e->enhanced[0] ? ", enhanced " : "", e->enhanced,
			       enhanced_meaning(e->enhanced) ? " (" : "",
			       enhanced_meaning(e->enhanced) ? enhanced_meaning(e->enhanced) : "",
			       enhanced_meaning(e->enhanced) ? ")" : "");
	}
	if (e->client_code)
		fieldf(out, "error code", "%s", e->client_code);
	if (!e->recognised) {
		buf_putc(out, '\n');
		wrap(out, "smtpcheck does not recognise this text. Paste the server's "
		     "reply with its three-digit code (for example \"550 5.7.1 ...\"), or "
		     "the error number the mail program showed.", 0, 0);
		return;
	}
	findings(&e->d, out);
}

void report_findings_text(struct buf *out)
{
	for (const struct finding_info *f = finding_catalogue; f->id; f++) {
		size_t start = out->len;
		buf_printf(out, "%-28s ", f->id);
		wrap(out, f->meaning, out->len - start, 29);
	}
}
