/*
 * diagnose.c - the rules that turn probe results into findings, and the
 * Nagios state that follows from them.
 *
 * First every port is classified as a submission path (does mail get out
 * this way, and how safely); then the rule tables run, port rules for
 * each port and host rules once. A rule reads results and the path
 * summary and emits findings with a severity; the state is the worst
 * severity emitted. The tables below are the whole policy: to learn why
 * smtpcheck said WARNING, read them top to bottom.
 */
#include "diagnose.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "dns.h"
#include "findings.h"
#include "interpret.h"
#include "probe.h"

const char *finding_meaning(const char *id)
{
	const struct finding_info *f = finding_lookup(id);
	return f ? f->meaning : NULL;
}

const char *severity_name(enum severity s)
{
	static const char *const names[] = { "ok", "info", "warning", "critical" };
	return names[s];
}

const char *status_name(enum status s)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	return names[s];
}

int status_rank(enum status s)
{
	static const int rank[] = {
		[STATUS_OK] = 0, [STATUS_WARNING] = 1, [STATUS_UNKNOWN] = 2,
		[STATUS_CRITICAL] = 3,
	};
	return rank[s];
}

enum status status_worse(enum status a, enum status b)
{
	return status_rank(b) > status_rank(a) ? b : a;
}

const char *security_name(enum security s)
{
	static const char *const names[] = { "tls", "starttls", "none" };
	return names[s];
}

/* ---- submission paths ---- */

enum path {
	PATH_NONE,         /* mail cannot be submitted through this port */
	PATH_CLEAR,        /* it can, but without TLS */
	PATH_BAD_CERT,     /* TLS works, the certificate does not verify */
	PATH_SECURE        /* TLS with a verified certificate, AUTH offered */
};

struct ctx {
	const struct host_result *h;
	const struct diag_params *p;
	bool credentials;         /* -u was given */
	struct arena *a;
	struct diagnosis *d;
	enum path *path;          /* per port */
	size_t secure, clear, bad_cert;
};

static bool has_auth(const struct ehlo_caps *c)
{
	return c->valid && c->nmech > 0;
}

/* With credentials, a path works only if the login and the relay do. */
static bool credentials_pass(const struct port_result *r, bool credentials)
{
	if (!credentials)
		return true;
	if (r->auth_status != AUTH_TRIED)
		return (r->auth_status == AUTH_SKIPPED_CLEARTEXT && !r->tls.ok) ||
		       r->auth_status == AUTH_SKIPPED_UNVERIFIED;
	if (r->auth_ok_index < 0)
		return false;
	return !r->relay_auth.done || r->relay_auth.accepted;
}

/* The last attempt the server answered, or NULL. */
static const struct auth_attempt *last_answer(const struct port_result *r)
{
	for (size_t i = r->nauth; i > 0; i--)
		if (r->auth[i - 1].code)
			return &r->auth[i - 1];
	return NULL;
}

/* The server answered the login, and not with success (235). */
static bool login_failed(const struct port_result *r)
{
	return r->auth_status == AUTH_TRIED && r->auth_ok_index < 0 && last_answer(r);
}

/*
 * --try-mechanisms tried the mechanisms of the session that counts (under
 * TLS, or in clear for a port without it) and none worked: no login can.
 */
static bool mechanisms_all_broken(const struct port_result *r)
{
	size_t tried = 0, worked = 0;
	for (size_t i = 0; i < r->nmech_tests; i++) {
		if (r->mech_tests[i].before_tls == r->tls.ok)
			continue;
		tried++;
		worked += r->mech_tests[i].works;
	}
	return tried > 0 && worked == 0;
}

/* Only OAuth mechanisms: programs that log in with a password cannot. */
static bool oauth_only(const struct ehlo_caps *c)
{
	return c->valid && c->nmech > 0 && (c->mechs & (MECH_XOAUTH2 | MECH_OAUTHBEARER)) &&
	       !(c->mechs & ~(unsigned)(MECH_XOAUTH2 | MECH_OAUTHBEARER)) &&
	       c->nmech == (size_t)__builtin_popcount(c->mechs);
}

/*
 * The server stopped answering, or hung up, in the middle of the session
 * (at AUTH, MAIL, RCPT ...): a mail program would hang or fail there too.
 * A slow answer to RSET or QUIT harms nobody (Exim's 221 comes late).
 */
static bool broke_off(const struct port_result *r)
{
	if (r->fail != FAIL_TIMEOUT && r->fail != FAIL_CLOSED && r->fail != FAIL_RESET)
		return false;
	return r->fail_state != PS_RSET && r->fail_state != PS_DONE;
}

static enum path classify(const struct port_result *r, bool credentials)
{
	if (r->greeting_code != 220 || (!r->ehlo_ok && !r->helo_used) || broke_off(r))
		return PATH_NONE;
	if (!credentials_pass(r, credentials) || mechanisms_all_broken(r) ||
	    oauth_only(port_result_final_caps(r)))
		return PATH_NONE;
	if (r->tls.ok) {
		if (!r->caps_after.valid || !has_auth(&r->caps_after))
			return PATH_NONE;
		return port_result_programs_trust(r) ? PATH_SECURE : PATH_BAD_CERT;
	}
	if (r->mode == MODE_STARTTLS && has_auth(&r->caps_before))
		return PATH_CLEAR;
	return PATH_NONE;
}

static bool any_path(const struct ctx *c)
{
	return c->secure + c->clear > 0;
}

static void emit(struct ctx *c, const char *id, enum severity sev,
		 const struct port_result *r, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void emit(struct ctx *c, const char *id, enum severity sev,
		 const struct port_result *r, const char *fmt, ...)
{
	struct diagnosis *d = c->d;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->findings = xrealloc(d->findings, d->cap * sizeof *d->findings);
	}
	struct finding *f = &d->findings[d->n++];
	memset(f, 0, sizeof *f);
	const struct finding_info *info = finding_lookup(id);
	f->id = info ? info->id : id;
	f->severity = sev;
	f->advice = info ? info->advice : NULL;
	f->port = r ? r->port : 0;
	f->address = r ? r->address : NULL;
	f->server = r ? r->server : NULL;
	va_list ap;
	va_start(ap, fmt);
	struct buf b;
	buf_init(&b);
	/* Several servers: say whose port it is ("mx.example.net port 25 ..."). */
	if (r && r->server && c->h->nservers > 1)
		buf_printf(&b, "%s ", r->server);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	f->message = arena_strndup(c->a, buf_cstr(&b), b.len);
	buf_free(&b);
}

/* A broken port matters more when nothing else works. */
static enum severity unless_other_path(const struct ctx *c, enum severity if_other)
{
	return any_path(c) ? if_other : SEV_CRITICAL;
}

static const char *mode_word(const struct port_result *r)
{
	return r->mode == MODE_TLS ? "implicit TLS" : "STARTTLS";
}

static void mech_list(const struct ehlo_caps *caps, struct buf *b)
{
	for (size_t i = 0; i < caps->nmech; i++) {
		if (i)
			buf_putc(b, ' ');
		buf_puts(b, caps->mech_names[i]);
	}
}

/* The words probe.c's stop_on_reply gives each command a reply answered. */
static const char *const answered_to[PS_COUNT] = {
	[PS_GREETING] = "the connection (greeting)",
	[PS_EHLO] = "EHLO", [PS_EHLO_TLS] = "EHLO", [PS_HELO] = "HELO",
	[PS_STARTTLS] = "STARTTLS", [PS_AUTH] = "AUTH", [PS_MAIL] = "MAIL FROM",
	[PS_RCPT] = "RCPT TO", [PS_RSET] = "RSET",
};

void port_error_words(const struct port_result *r, struct buf *out)
{
	/* probe.c quotes a reply that ended the session by its first line. */
	if (r->fail == FAIL_REJECTED && r->stop_code && r->stop_state >= 0 &&
	    r->stop_state < PS_COUNT && answered_to[r->stop_state]) {
		buf_printf(out, "the server answered %d to %s: ", r->stop_code,
			   answered_to[r->stop_state]);
		reply_show(out, 0, r->stop_enhanced, r->stop_text);
		return;
	}
	buf_puts(out, r->error ? r->error : "failed");
}

void port_tls_error_words(const struct port_result *r, struct buf *out)
{
	if (r->mode == MODE_STARTTLS && r->starttls_code && r->starttls_code != 220) {
		buf_puts(out, "STARTTLS refused: ");
		reply_show(out, r->starttls_code, r->starttls_enhanced, r->starttls_text);
		return;
	}
	buf_puts(out, r->tls.error ? r->tls.error : "unknown error");
}

/* ---- port rules ---- */

static void rule_connect(struct ctx *c, const struct port_result *r)
{
	const char *id = NULL;
	switch (r->fail) {
	case FAIL_REFUSED: id = "port-refused"; break;
	case FAIL_UNREACHABLE: id = "port-unreachable"; break;
	case FAIL_CONNECT: id = "port-unreachable"; break;
	case FAIL_TIMEOUT:
		if (!r->connected)
			id = "port-timeout";
		break;
	default: break;
	}
	if (id)
		emit(c, id, unless_other_path(c, SEV_INFO), r, "port %d: %s", r->port,
		     r->error ? r->error : "cannot connect");
}

/* What answered instead of SMTP, from its first line; NULL if unknown. */
static const char *other_service(const char *text)
{
	if (!text)
		return NULL;
	if (!strncmp(text, "...", 3))
		text += 3;
	if (!strncmp(text, "HTTP/", 5) || !strncmp(text, "1.1 ", 4) || !strncmp(text, "1.0 ", 4))
		return "a web server";
	if (!strncmp(text, "SSH-", 4))
		return "an SSH server";
	if (!strncmp(text, "+OK", 3))
		return "a POP3 server (a mail program's incoming server, not its outgoing one)";
	if (!strncmp(text, "* OK", 4) || !strncmp(text, "* BYE", 5))
		return "an IMAP server (a mail program's incoming server, not its outgoing one)";
	return NULL;
}

/* How much of escaped text fits in max characters, never half an escape. */
static size_t escaped_prefix(const char *t, size_t max)
{
	size_t len = strlen(t), keep = 0;
	while (t[keep]) {
		size_t step = t[keep] != '\\' || !t[keep + 1] ? 1 : t[keep + 1] == 'x' ? 4 : 2;
		if (step > len - keep)
			step = len - keep;
		if (keep + step > max)
			break;
		keep += step;
	}
	return keep;
}

static void rule_session(struct ctx *c, const struct port_result *r)
{
	if (!r->connected)
		return;
	const char *state = probe_states[r->fail_state < PS_COUNT ? r->fail_state : PS_DONE].name;
	switch (r->fail) {
	case FAIL_TIMEOUT:
		if (r->fail_state == PS_GREETING && !r->greeting_code &&
		    other_service(r->sniff_text)) {
			/* Quote 60 characters at most, and say when the quote
			 * is cut. */
			const char *t = r->sniff_text;
			size_t len = strlen(t), keep = escaped_prefix(t, 60);
			char more[80] = "";
			if (keep < len)
				snprintf(more, sizeof more, ", the first %zu of %zu characters",
					 keep, len);
			emit(c, "not-smtp", unless_other_path(c, SEV_WARNING), r,
			     "port %d says nothing until spoken to and then answers like %s "
			     "('%.*s%s'%s): it is not an SMTP port", r->port, other_service(t),
			     (int)keep, t, keep < len ? "..." : "", more);
			break;
		}
		emit(c, "session-timeout", unless_other_path(c, SEV_WARNING), r,
		     "port %d: %s (stalled in %s)%s%s%s", r->port, r->error, state,
		     r->sniff_text ? "; a second connection sent a TLS hello and got '" : "",
		     r->sniff_text ? r->sniff_text : "", r->sniff_text ? "'" : "");
		break;
	case FAIL_CLOSED:
	case FAIL_RESET:
		emit(c, "connection-lost", unless_other_path(c, SEV_WARNING), r,
		     "port %d: %s", r->port, r->error);
		break;
	case FAIL_PROTOCOL:
		if (r->greeting_code == 0 && r->fail_state == PS_GREETING) {
			const char *what = other_service(r->mismatch_text);
			if (!what)
				what = other_service(r->sniff_text);
			if (!what)
				what = other_service(r->banner);
			emit(c, "not-smtp", unless_other_path(c, SEV_WARNING), r,
			     "port %d does not speak SMTP%s%s: %s", r->port,
			     what ? ", it answers like " : "", what ? what : "", r->error);
		}
		else
			emit(c, "protocol-violation", unless_other_path(c, SEV_WARNING), r,
			     "port %d: %s", r->port, r->error);
		break;
	default:
		break;
	}
}

static unsigned ctx_of_state(int st)
{
	switch (st) {
	case PS_GREETING: return CTX_GREETING;
	case PS_EHLO: case PS_HELO: case PS_EHLO_TLS: return CTX_EHLO;
	case PS_STARTTLS: return CTX_STARTTLS;
	case PS_AUTH: case PS_MECH_TRY: case PS_MECH_CANCEL: return CTX_AUTH;
	case PS_MAIL: return CTX_MAIL;
	case PS_RCPT: case PS_RSET: return CTX_RCPT;
	default: return CTX_UNKNOWN;
	}
}

/* A reply that ended the session, read through the reply table. */
static void rule_rejected(struct ctx *c, const struct port_result *r)
{
	if (!r->stop_code)
		return;
	const struct reply_rule *rule = interpret_reply(ctx_of_state(r->stop_state),
							r->stop_code, r->stop_enhanced,
							r->stop_text);
	const char *id = rule ? rule->id : "protocol-violation";
	if (!strcmp(id, "permanent-failure") || !strcmp(id, "command-rejected") ||
	    !strcmp(id, "temporary-failure") || !strcmp(id, "accepted"))
		id = r->stop_state == PS_GREETING ? "greeting-refused" : "protocol-violation";
	struct buf e;
	buf_init(&e);
	port_error_words(r, &e);
	emit(c, id, unless_other_path(c, SEV_WARNING), r, "port %d: %s%s%s", r->port,
	     buf_cstr(&e), rule ? " - " : "", rule ? rule->says : "");
	buf_free(&e);
}

static bool greeting_delayed(const struct port_result *r)
{
	return r->greeting_code && r->greeting_wait_us >= GREETING_DELAY_US;
}

bool cert_expired_ago(const struct cert_info *c, char *buf, size_t n)
{
	if (!c->present || c->days_left >= 0)
		return false;
	/* days_left is rounded down: -31 once 30 days and some hours have passed. */
	long ago = -c->days_left - 1;
	snprintf(buf, n, ago == 0 ? "less than a day ago" : ago == 1 ? "1 day ago"
		 : "%ld days ago", ago);
	return true;
}

uint64_t port_response_us(const struct port_result *r)
{
	if (!greeting_delayed(r))
		return r->total_us;
	return r->total_us > r->greeting_wait_us ? r->total_us - r->greeting_wait_us : 0;
}

static void rule_greeting_delay(struct ctx *c, const struct port_result *r)
{
	if (greeting_delayed(r))
		emit(c, "greeting-delayed", SEV_INFO, r,
		     "port %d: the greeting came after %.1f s", r->port,
		     (double)r->greeting_wait_us / 1e6);
}

static void rule_mismatch(struct ctx *c, const struct port_result *r)
{
	/* A cut quote says so: "...", and how much of the line it shows. */
	char cut[80] = "";
	if (r->mismatch_cut)
		snprintf(cut, sizeof cut, "...', the first 200 of %zu%s bytes", r->mismatch_len,
			 r->mismatch_line_whole ? "" : " or more");
	else
		snprintf(cut, sizeof cut, "'");
	if (r->mismatch == MISMATCH_TLS_TO_CLEAR)
		emit(c, "tls-mode-mismatch", SEV_WARNING, r,
		     "port %d was probed with implicit TLS but answered in clear text "
		     "('%s%s): %s", r->port, r->mismatch_text ? r->mismatch_text : "", cut,
		     r->starttls_offered ? "it is a STARTTLS port"
		     : r->ehlo_ok || r->helo_used ? "it speaks SMTP in clear text and offers "
						    "no STARTTLS"
		     : "it speaks clear text, not implicit TLS");
	else if (r->mismatch == MISMATCH_CLEAR_TO_TLS)
		emit(c, "tls-mode-mismatch", SEV_WARNING, r,
		     "port %d stays silent in clear text and answers TLS: it is an "
		     "implicit TLS (SSL/TLS) port", r->port);
}

/*
 * TLS that works with a certificate that does not verify is no success
 * to show in green: the certificate findings say what is wrong with it.
 */
static enum severity tls_works_severity(const struct port_result *r)
{
	return r->tls.verified ? SEV_OK : SEV_INFO;
}

static const char *tls_works_but(const struct port_result *r)
{
	return r->tls.verified ? "" : ", but the certificate does not verify (see the "
				      "certificate findings)";
}

static void rule_starttls(struct ctx *c, const struct port_result *r)
{
	if (r->mode != MODE_STARTTLS || (!r->ehlo_ok && !r->helo_used))
		return;
	if (!r->starttls_offered) {
		emit(c, "starttls-missing", any_path(c) ? SEV_INFO : SEV_WARNING, r,
		     "port %d does not offer STARTTLS%s", r->port,
		     r->helo_used ? " (the server refused EHLO; HELO has no extensions)" : "");
		return;
	}
	if (r->tls.ok) {
		emit(c, "starttls-available", tls_works_severity(r), r,
		     "port %d: STARTTLS works (%s)%s", r->port, r->tls.version,
		     tls_works_but(r));
		return;
	}
	if (r->tls.attempted) {
		struct buf why;
		buf_init(&why);
		port_tls_error_words(r, &why);
		emit(c, "starttls-failed", unless_other_path(c, SEV_WARNING), r,
		     "port %d offers STARTTLS but it fails: %s", r->port, buf_cstr(&why));
		buf_free(&why);
	}
}

static void rule_implicit_tls(struct ctx *c, const struct port_result *r)
{
	if (r->mode != MODE_TLS || !r->tls.attempted)
		return;
	if (r->tls.ok) {
		emit(c, "implicit-tls-available", tls_works_severity(r), r,
		     "port %d: implicit TLS works (%s)%s", r->port, r->tls.version,
		     tls_works_but(r));
		return;
	}
	if (r->connected && r->fail == FAIL_TLS)
		emit(c, "tls-handshake-failed", unless_other_path(c, SEV_WARNING), r,
		     "port %d: the TLS handshake failed: %s", r->port,
		     r->tls.error ? r->tls.error : "unknown error");
}

static void rule_tls_version(struct ctx *c, const struct port_result *r)
{
	const char *v = r->tls.version;
	if (!r->tls.ok || !v)
		return;
	if (!strcmp(v, "TLSv1") || !strcmp(v, "TLSv1.1") || !strncmp(v, "SSL", 3))
		emit(c, "tls-protocol-old", SEV_WARNING, r,
		     "port %d negotiated %s; current mail programs need TLS 1.2 or later",
		     r->port, v);
}

static void rule_injection(struct ctx *c, const struct port_result *r)
{
	if (r->injection_verdict == INJECTION_VULNERABLE && r->injection_replies > 1)
		emit(c, "starttls-injection", SEV_WARNING, r,
		     "port %d ran a command sent in clear with STARTTLS after the TLS "
		     "upgrade (%d replies under TLS to our one QUIT, the first %d): "
		     "a man in the middle can inject commands (CVE-2011-0411)", r->port,
		     r->injection_replies, r->injection_code);
	else if (r->injection_verdict == INJECTION_VULNERABLE)
		emit(c, "starttls-injection", SEV_WARNING, r,
		     "port %d ran a command sent in clear with STARTTLS after the TLS "
		     "upgrade (its first reply under TLS, %d, cannot answer our QUIT): "
		     "a man in the middle can inject commands (CVE-2011-0411)", r->port,
		     r->injection_code);
	if (r->injection_verdict == INJECTION_INCONCLUSIVE)
		emit(c, "starttls-injection-inconclusive", SEV_INFO, r,
		     "port %d: the STARTTLS injection test cannot tell: %s", r->port,
		     r->injection_error ? r->injection_error : "no verdict");
	if (r->tls.injected_len > 0) {
		/* A long quote is cut, and says so. */
		const char *t = r->tls.injected ? r->tls.injected : "";
		size_t keep = escaped_prefix(t, 120);
		emit(c, "starttls-injection", SEV_WARNING, r,
		     "port %d sent %zu bytes of clear text after its STARTTLS reply "
		     "(discarded, never read as a reply): '%.*s%s", r->port,
		     r->tls.injected_len, (int)keep, t,
		     t[keep] ? "...' (only its start is quoted)" : "'");
	}
}

static void rule_cert(struct ctx *c, const struct port_result *r)
{
	const struct tls_result *t = &r->tls;
	if (!t->ok)
		return;
	/* A certificate problem is critical when no TLS path verifies. */
	enum severity bad = c->secure ? SEV_WARNING : SEV_CRITICAL;
	const char *host = r->server ? r->server : c->h->name;
	unsigned f = t->verify_flags;
	if (f & VERIFY_EXPIRED) {
		char ago[48];
		bool known = cert_expired_ago(&t->cert, ago, sizeof ago);
		emit(c, "cert-expired", bad, r, "port %d: the certificate expired on %s%s%s",
		     r->port, t->cert.not_after ? t->cert.not_after : "an unknown date",
		     known ? ", " : "", known ? ago : "");
	}
	if (f & VERIFY_NOT_YET_VALID)
		emit(c, "cert-not-yet-valid", bad, r,
		     "port %d: the certificate is valid only from %s", r->port,
		     t->cert.not_before ? t->cert.not_before : "an unknown date");
	if (f & VERIFY_UNTRUSTED) {
		/* OpenSSL's words often say "self-signed" already. */
		const char *why = t->verify_error ? t->verify_error : "no path to a trusted CA";
		bool said = ascii_strcasestr(why, "self-signed") || ascii_strcasestr(why, "self signed");
		emit(c, "cert-untrusted", bad, r,
		     "port %d: the certificate is not trusted (%s%s)", r->port,
		     f & VERIFY_SELF_SIGNED && !said ? "self-signed; " : "", why);
	}
	if (f & VERIFY_HOSTNAME) {
		struct buf names;
		buf_init(&names);
		for (size_t i = 0; i < t->cert.nnames && i < 8; i++) {
			if (i)
				buf_puts(&names, ", ");
			buf_puts(&names, t->cert.names[i]);
		}
		/* The port block lists them all; here a long list is cut, and says so. */
		if (t->cert.nnames > 8)
			buf_printf(&names, " and %zu more", t->cert.nnames - 8);
		emit(c, "cert-hostname-mismatch", bad, r,
		     "port %d: the certificate is for %s, not for %s", r->port,
		     names.len ? buf_cstr(&names) : "no name", host);
		buf_free(&names);
	}
	if (f & VERIFY_OTHER)
		emit(c, "cert-invalid", bad, r, "port %d: the certificate does not verify: %s",
		     r->port, t->verify_error ? t->verify_error : "unknown reason");
	/*
	 * Validated TLSA records vouch for the certificate to mail servers;
	 * mail programs ask the CAs only. Said where a program might log in;
	 * only information while another port serves programs (a DANE MX
	 * with a self-signed certificate is a sound set-up).
	 */
	if (r->dane_authoritative && t->verified && !t->pkix_verified &&
	    has_auth(port_result_final_caps(r)))
		emit(c, "cert-untrusted", c->secure ? SEV_INFO : SEV_CRITICAL, r,
		     "port %d: mail programs will not trust the certificate (%s): only "
		     "DANE vouches for it, which mail servers use and mail programs do not",
		     r->port, t->pkix_error ? t->pkix_error : "no path to a trusted CA");
	double days = (double)t->cert.days_left;
	if (!(f & (VERIFY_EXPIRED | VERIFY_NOT_YET_VALID)) && t->cert.present &&
	    (range_alert(&c->p->cert_warn, days) || range_alert(&c->p->cert_crit, days))) {
		enum severity sev = range_alert(&c->p->cert_crit, days) ? SEV_CRITICAL
								       : SEV_WARNING;
		emit(c, "cert-expiring", sev, r,
		     "port %d: the certificate expires in %ld days (%s)", r->port,
		     t->cert.days_left, t->cert.not_after ? t->cert.not_after : "?");
	}
}

static void rule_auth(struct ctx *c, const struct port_result *r)
{
	if (!r->ehlo_ok && !r->helo_used)
		return;
	bool before = has_auth(&r->caps_before);
	bool after = has_auth(&r->caps_after);
	struct buf mechs;
	buf_init(&mechs);
	if (before && r->mode == MODE_STARTTLS) {
		mech_list(&r->caps_before, &mechs);
		emit(c, "auth-cleartext", SEV_WARNING, r,
		     "port %d offers AUTH (%s) before TLS: a password could be sent "
		     "unencrypted", r->port, buf_cstr(&mechs));
		buf_reset(&mechs);
	}
	if (oauth_only(port_result_final_caps(r))) {
		mech_list(port_result_final_caps(r), &mechs);
		emit(c, "auth-basic-disabled", unless_other_path(c, SEV_WARNING), r,
		     "port %d offers only OAuth sign-in (%s): mail programs that log in "
		     "with a password cannot send here", r->port, buf_cstr(&mechs));
		buf_reset(&mechs);
	}
	if (after) {
		mech_list(&r->caps_after, &mechs);
		emit(c, "auth-offered", SEV_OK, r, "port %d offers AUTH %s over TLS",
		     r->port, buf_cstr(&mechs));
		if (r->mode == MODE_STARTTLS && !before)
			emit(c, "auth-only-after-tls", SEV_OK, r,
			     "port %d offers AUTH only after STARTTLS, as it should",
			     r->port);
	} else if (!before && r->completed &&
		   !(r->mode == MODE_STARTTLS && r->starttls_offered && !r->tls.ok)) {
		/* (After a failed STARTTLS nobody knows what TLS would offer.) */
		emit(c, "auth-not-offered", SEV_INFO, r,
		     "port %d offers no AUTH%s", r->port,
		     r->tls.ok ? " even after TLS" : "");
	}
	buf_free(&mechs);
}

static bool any_auth_ok(const struct ctx *c)
{
	for (size_t i = 0; i < c->h->nports; i++)
		if (c->h->ports[i].auth_ok_index >= 0)
			return true;
	return false;
}

/*
 * The finding id a refused login's reply means; a reply the rules call
 * "accepted" at AUTH is no refusal, so a refused login under it is plain
 * auth-failed.
 */
static const char *login_reply_id(const struct auth_attempt *a)
{
	const struct reply_rule *rule = a ? interpret_reply(CTX_AUTH, a->code, a->enhanced,
							    a->text) : NULL;
	return rule && strcmp(rule->id, "accepted") ? rule->id : "auth-failed";
}

/* A name without @ and no domain to build the full address from. */
static bool bare_name_only(const struct port_result *r)
{
	return r->nauth == 1 && !r->auth[0].full_address;
}

static void rule_login(struct ctx *c, const struct port_result *r)
{
	if (r->auth_status == AUTH_SKIPPED_CLEARTEXT) {
		emit(c, "auth-skipped", SEV_INFO, r,
		     "port %d: the password was not sent: the port has no TLS "
		     "(--insecure-auth would send it readable)", r->port);
		return;
	}
	if (r->auth_status == AUTH_SKIPPED_UNVERIFIED) {
		emit(c, "auth-skipped", SEV_INFO, r,
		     "port %d: the password was not sent: the certificate does not verify, so "
		     "the server may not be who it claims (--insecure-auth sends it anyway)",
		     r->port);
		return;
	}
	if (r->auth_status == AUTH_SKIPPED_NO_MECH && oauth_only(port_result_final_caps(r)))
		return; /* rule_auth said it: OAuth only */
	if (r->auth_status == AUTH_SKIPPED_NO_MECH) {
		struct buf m;
		buf_init(&m);
		mech_list(port_result_final_caps(r), &m);
		emit(c, "auth-mechanism-unsupported", unless_other_path(c, SEV_WARNING), r,
		     "port %d offers AUTH %s only: no mechanism smtpcheck speaks "
		     "(PLAIN, LOGIN, CRAM-MD5, SCRAM)", r->port, buf_cstr(&m));
		buf_free(&m);
		return;
	}
	if (r->auth_status != AUTH_TRIED || r->nauth == 0)
		return;
	if (r->auth_ok_index >= 0) {
		const struct auth_attempt *a = &r->auth[r->auth_ok_index];
		emit(c, "auth-ok", SEV_OK, r, "port %d: logged in as %s with %s (%d%s%s)",
		     r->port, a->username, a->mech, a->code, a->enhanced[0] ? " " : "",
		     a->enhanced);
		if (r->auth_ok_index > 0) {
			const struct auth_attempt *first = &r->auth[0];
			emit(c, "auth-username-form", SEV_INFO, r,
			     "port %d accepts the user name as %s (\"%s\"), not as %s "
			     "(\"%s\" was rejected: %d)", r->port,
			     a->full_address ? "the full e-mail address" : "the part before the @",
			     a->username,
			     first->full_address ? "the full address" : "the part before the @",
			     first->username, first->code);
		}
		if (!a->server_verified)
			emit(c, "auth-mechanism-broken", SEV_WARNING, r,
			     "port %d accepted %s without proving it knows the password "
			     "(no SCRAM server signature)", r->port, a->mech);
		return;
	}
	/* Every form failed: the last answered attempt says why. An attempt
	 * without an answer (timeout, closed) is the session's finding. */
	size_t last = r->nauth;
	while (last > 0 && !r->auth[last - 1].code && !r->auth[last - 1].error)
		last--;
	if (last == 0)
		return;
	const struct auth_attempt *a = &r->auth[last - 1];
	if (a->error && !a->code) {
		emit(c, "auth-mechanism-broken", unless_other_path(c, SEV_WARNING), r,
		     "port %d: %s failed on our side: %s", r->port, a->mech, a->error);
		return;
	}
	const char *id = login_reply_id(a);
	if (a->error)
		id = "auth-mechanism-broken";
	struct buf forms;
	buf_init(&forms);
	for (size_t i = 0; i < last; i++)
		buf_printf(&forms, "%s\"%s\"", i ? " and " : "", r->auth[i].username);
	struct buf text;
	buf_init(&text);
	reply_show(&text, a->code, a->enhanced, a->text);
	enum severity sev = !strcmp(id, "auth-temporary-failure") ? SEV_WARNING
			  : any_auth_ok(c) ? SEV_WARNING : SEV_CRITICAL;
	/* A 4xx is no verdict on the credentials: the server could not check them. */
	emit(c, id, sev, r, "port %d %s the login %s with %s%s: %s%s%s%s%s%s", r->port,
	     a->code / 100 == 4 ? "could not check" : "rejected", buf_cstr(&forms), a->mech,
	     a->code / 100 == 4 ? " just now" : "",
	     buf_cstr(&text), a->error ? " - " : "", a->error ? a->error : "",
	     last < r->nauth ? "; the other form \"" : "",
	     last < r->nauth ? r->auth[last].username : "",
	     last < r->nauth ? "\" got no answer (the session ended first)" : "");
	/*
	 * A name without @ and no domain to build the full address from
	 * (--domain, --from): only one form was tried, and the server may
	 * want the other. Say so, and how to test it.
	 */
	if (!strcmp(id, "auth-failed") && bare_name_only(r)) {
		struct finding *f = &c->d->findings[c->d->n - 1];
		f->message = arena_printf(c->a, "%s; only the name as given was tried: -u "
					  "%s@DOMAIN (or --domain DOMAIN) also tries the full "
					  "address", f->message, r->auth[0].username);
	}
	buf_free(&forms);
	buf_free(&text);
}

/* The deciding reply of a relay test: MAIL's if it refused, else RCPT's. */
static void relay_reply(const struct relay_result *t, int *code, const char **enh,
			const char **text, unsigned *ctx)
{
	if (t->mail_code / 100 != 2 || !t->rcpt_code) {
		*code = t->mail_code;
		*enh = t->mail_enhanced;
		*text = t->mail_text;
		*ctx = CTX_MAIL;
	} else {
		*code = t->rcpt_code;
		*enh = t->rcpt_enhanced;
		*text = t->rcpt_text;
		*ctx = CTX_RCPT;
	}
}

static void rule_relay(struct ctx *c, const struct port_result *r)
{
	const struct relay_result *t = &r->relay;
	/* A test the session broke off (MAIL accepted, no RCPT answer) says
	 * nothing about relaying. */
	if (t->mail_code && (t->rcpt_code || t->mail_code / 100 != 2)) {
		if (t->accepted) {
			emit(c, "open-relay", SEV_CRITICAL, r,
			     "port %d accepted a recipient in another domain without "
			     "authentication (RCPT answered %d): anyone can send spam through it",
			     r->port, t->rcpt_code);
		} else {
			int code;
			const char *enh, *text;
			unsigned ctx;
			relay_reply(t, &code, &enh, &text, &ctx);
			const struct reply_rule *rule = interpret_reply(ctx, code, enh, text);
			const char *id = rule ? rule->id : "relay-denied";
			enum severity sev = SEV_INFO;
			if (!strcmp(id, "rate-limited") || !strcmp(id, "server-busy") ||
			    !strcmp(id, "client-blocked"))
				sev = SEV_WARNING;
			if (!strcmp(id, "permanent-failure") || !strcmp(id, "accepted") ||
			    !strcmp(id, "command-rejected") || !strcmp(id, "recipient-unknown"))
				id = "relay-denied";
			/* The same reply ended the session (421 and close): rule_rejected
			 * has said it once already, with the same id. */
			bool said = sev == SEV_WARNING && r->stop_code == code &&
				    (r->stop_state == PS_MAIL || r->stop_state == PS_RCPT) &&
				    !strcmp(r->stop_enhanced, enh);
			struct buf e;
			buf_init(&e);
			reply_show(&e, code, enh, text);
			if (!said)
				emit(c, id, sev, r, "port %d, without authentication, %s answered "
				     "%s", r->port, ctx == CTX_MAIL ? "MAIL FROM" : "RCPT TO",
				     buf_cstr(&e));
			buf_free(&e);
		}
	}
	const struct relay_result *ta = &r->relay_auth;
	if (!ta->mail_code || (!ta->rcpt_code && ta->mail_code / 100 == 2))
		return;
	if (ta->accepted) {
		emit(c, "relay-ok", SEV_OK, r, "port %d, after login, accepted a recipient in "
		     "another domain (RCPT answered %d)", r->port, ta->rcpt_code);
		return;
	}
	int code;
	const char *enh, *text;
	unsigned ctx;
	relay_reply(ta, &code, &enh, &text, &ctx);
	const struct reply_rule *rule = interpret_reply(ctx, code, enh, text);
	const char *id = rule ? rule->id : "relay-denied-after-auth";
	if (!strcmp(id, "relay-denied") || !strcmp(id, "auth-required") ||
	    !strcmp(id, "permanent-failure") || !strcmp(id, "command-rejected"))
		id = ctx == CTX_MAIL ? "sender-rejected" : "relay-denied-after-auth";
	struct buf e;
	buf_init(&e);
	reply_show(&e, code, enh, text);
	emit(c, id, unless_other_path(c, SEV_WARNING), r,
	     "port %d, after login, %s answered %s", r->port,
	     ctx == CTX_MAIL ? "MAIL FROM" : "RCPT TO", buf_cstr(&e));
	buf_free(&e);
}

static void rule_mech_tests(struct ctx *c, const struct port_result *r)
{
	struct buf broken, tls_only;
	buf_init(&broken);
	buf_init(&tls_only);
	for (size_t i = 0; i < r->nmech_tests; i++) {
		const struct mech_test *t = &r->mech_tests[i];
		if (t->works)
			continue;
		const struct reply_rule *rule = interpret_reply(CTX_AUTH, t->code, t->enhanced,
								t->text);
		bool needs_tls = t->before_tls && rule && !strcmp(rule->id, "tls-required");
		struct buf *b = needs_tls ? &tls_only : &broken;
		buf_printf(b, "%s%s (%d%s%s)", b->len ? ", " : "", t->mech, t->code,
			   t->enhanced[0] ? " " : "", t->enhanced);
	}
	if (broken.len)
		emit(c, "auth-mechanism-broken", SEV_WARNING, r,
		     "port %d advertises but refuses: %s", r->port, buf_cstr(&broken));
	if (tls_only.len)
		emit(c, "auth-only-after-tls", SEV_OK, r,
		     "port %d advertises before TLS but accepts only after it: %s", r->port,
		     buf_cstr(&tls_only));
	buf_free(&broken);
	buf_free(&tls_only);
}

static void rule_reply_format(struct ctx *c, const struct port_result *r)
{
	if (r->reply_bare_lf || r->reply_overlong)
		emit(c, "reply-format", SEV_INFO, r, "port %d: %s%s%s", r->port,
		     r->reply_bare_lf ? "replies end lines with a bare LF" : "",
		     r->reply_bare_lf && r->reply_overlong ? "; " : "",
		     r->reply_overlong ? "a reply line is longer than 512 octets" : "");
}

static void rule_response_time(struct ctx *c, const struct port_result *r)
{
	if (!r->connected || (!c->p->warn_time.set && !c->p->crit_time.set))
		return;
	/* The number time_PORT shows, in the same digits; a deliberate
	 * greeting delay is its own finding, not slowness. */
	double t = (double)port_response_us(r) / 1e6;
	char without[64] = "";
	if (greeting_delayed(r))
		snprintf(without, sizeof without, " without its %.1f s greeting delay",
			 (double)r->greeting_wait_us / 1e6);
	bool crit = range_alert(&c->p->crit_time, t);
	if (crit || range_alert(&c->p->warn_time, t))
		emit(c, "response-time", crit ? SEV_CRITICAL : SEV_WARNING, r,
		     "port %d took %.6f s%s (%s range %s)", r->port, t, without,
		     crit ? "critical" : "warning",
		     crit ? c->p->crit_time.text : c->p->warn_time.text);
}

static const struct server_result *server_named(const struct host_result *h,
						const char *name)
{
	for (size_t i = 0; name && i < h->nservers; i++)
		if (!ascii_casecmp(h->servers[i].name, name))
			return &h->servers[i];
	return NULL;
}

static bool has_tlsa(const struct dns_answer *a)
{
	return a && a->rcode == DNS_NOERROR && a->nrecords > 0;
}

/*
 * DANE (RFC 7672): with TLSA records for port 25, senders that use DANE
 * insist on TLS and on a certificate that matches a record. The records
 * bind only when DNSSEC vouches for them; c-ares does not validate, so
 * the resolver's AD bit is all we have, and we say so. With it the match
 * decided tls.verified (tls_dane_check); without it the certificate was
 * judged by the CAs (rule_cert) and a match is only information: anyone
 * on the path could have written the records.
 */
static void rule_dane(struct ctx *c, const struct port_result *r)
{
	if (r->port != 25)
		return;
	const struct server_result *sr = server_named(c->h, r->server);
	if (!sr || !has_tlsa(sr->tlsa) || !r->connected || r->greeting_code != 220)
		return;
	const char *trust = sr->tlsa->ad
		? "the resolver validated the TLSA answer (AD bit)"
		: "the resolver did not say it validated the TLSA answer (no AD bit; smtpcheck "
		  "does not validate DNSSEC itself)";
	enum severity bad = sr->tlsa->ad ? SEV_CRITICAL : SEV_WARNING;
	if (!r->tls.ok) {
		if (r->completed || r->tls.attempted)
			emit(c, "dane-mismatch", bad, r,
			     "port %d has TLSA records (_25._tcp.%s) but %s: senders that use "
			     "DANE will not deliver mail here; %s", r->port, sr->name,
			     r->starttls_offered ? "STARTTLS fails" : "offers no STARTTLS", trust);
		return;
	}
	if (!r->dane_checked)
		return;
	if (r->dane_usable == 0) {
		emit(c, "dane-mismatch", bad, r,
		     "port %d: none of the %zu TLSA records of _25._tcp.%s is usable "
		     "(unknown usage, selector or matching type): senders that use DANE "
		     "will not deliver mail here; %s", r->port, sr->tlsa->nrecords, sr->name,
		     trust);
		return;
	}
	if (r->dane_match && r->dane_authoritative)
		emit(c, "dane-ok", SEV_OK, r, "port %d: %s (DANE, _25._tcp.%s); %s, so the "
		     "certificate is trusted by this match%s%s%s", r->port, r->dane_detail,
		     sr->name, trust, r->tls.pkix_verified ? "" : " (the CAs alone would not: ",
		     r->tls.pkix_verified ? "" : r->tls.pkix_error ? r->tls.pkix_error : "?",
		     r->tls.pkix_verified ? "" : ")");
	else if (r->dane_match)
		emit(c, "dane-ok", SEV_INFO, r, "port %d: %s (DANE, _25._tcp.%s); but %s, and "
		     "an unvalidated match proves nothing: the certificate is judged by the "
		     "CAs and the host name", r->port, r->dane_detail, sr->name, trust);
	else
		emit(c, "dane-mismatch", bad, r,
		     "port %d: %s (_25._tcp.%s): senders that use DANE will not deliver mail "
		     "here (a new certificate without a new TLSA record?); %s%s", r->port,
		     r->dane_detail ? r->dane_detail : "no TLSA record matches", sr->name, trust,
		     sr->tlsa->ad ? "" : ", so this says nothing about the certificate, "
		     "which is judged by the CAs and the host name");
}

typedef void (*port_rule_fn)(struct ctx *, const struct port_result *);

/* The port rules, in the order their findings are listed. */
static const port_rule_fn port_rules[] = {
	rule_connect,          /* port-refused, port-unreachable, port-timeout */
	rule_session,          /* session-timeout, connection-lost, not-smtp, protocol-violation */
	rule_rejected,         /* server-busy, rate-limited, greeting-refused, client-blocked */
	rule_greeting_delay,   /* greeting-delayed */
	rule_mismatch,         /* tls-mode-mismatch */
	rule_starttls,         /* starttls-available, -missing, -failed */
	rule_implicit_tls,     /* implicit-tls-available, tls-handshake-failed */
	rule_injection,        /* starttls-injection, starttls-injection-inconclusive */
	rule_tls_version,      /* tls-protocol-old */
	rule_cert,             /* cert-expired, -untrusted, -hostname-mismatch, -expiring */
	rule_dane,             /* dane-ok, dane-mismatch */
	rule_auth,             /* auth-cleartext, auth-offered, auth-only-after-tls, auth-not-offered */
	rule_mech_tests,       /* auth-mechanism-broken (--try-mechanisms) */
	rule_login,            /* auth-ok, auth-failed, auth-username-form, auth-app-password ... */
	rule_relay,            /* open-relay, relay-denied, auth-required, relay-ok ... */
	rule_reply_format,     /* reply-format */
	rule_response_time,    /* response-time */
};

/* ---- host rules ---- */

static void rule_dns(struct ctx *c)
{
	const struct host_result *h = c->h;
	if (h->dns_ok)
		return;
	const char *id = "dns-failed";
	switch (h->dns_status) {
	case ARES_ENOTFOUND: id = "dns-nxdomain"; break;
	case ARES_ESERVFAIL: id = "dns-servfail"; break;
	case ARES_EREFUSED: id = "dns-refused"; break;
	case ARES_ETIMEOUT: id = "dns-timeout"; break;
	case ARES_ENODATA: id = "dns-no-address"; break;
	default: break;
	}
	emit(c, id, SEV_CRITICAL, NULL, "%s", h->dns_error ? h->dns_error : "DNS lookup failed");
}

static const struct dns_answer *answer_for(const struct host_result *h, int qtype,
					   const char *prefix)
{
	for (size_t i = 0; i < h->nanswers; i++)
		if (h->answers[i]->qtype == qtype &&
		    (!prefix || !strncmp(h->answers[i]->qname, prefix, strlen(prefix))))
			return h->answers[i];
	return NULL;
}

/* "NXDOMAIN", "no records", "SERVFAIL, no DNS server answered in time" */
static void answer_words(const struct dns_answer *a, struct buf *b)
{
	if (!a) {
		buf_puts(b, "not asked");
		return;
	}
	if (a->rcode == DNS_NOERROR)
		buf_puts(b, a->nrecords ? "answered" : "no records");
	else
		buf_puts(b, dns_rcode_name(a->rcode));
	if (a->error)
		buf_printf(b, ", %s", a->error);
}

static bool server_probed(const struct host_result *h, const char *name)
{
	for (size_t i = 0; i < h->nports; i++)
		if (h->ports[i].server && !ascii_casecmp(h->ports[i].server, name))
			return true;
	return false;
}

/* An MX answer with a host in it (not only RFC 7505's null MX "."). */
static bool usable_mx(const struct dns_answer *mx)
{
	for (size_t i = 0; mx && i < mx->nrecords; i++)
		if (mx->records[i].target[0] && strcmp(mx->records[i].target, "."))
			return true;
	return false;
}

/* "smtp.example.net, mail.example.net, example.net": the servers guessed. */
static void guessed_names(const struct host_result *h, struct buf *names)
{
	for (size_t i = 0; i < h->nservers; i++)
		if (h->servers[i].source == SERVER_GUESS)
			buf_printf(names, "%s%s", names->len ? ", " : "", h->servers[i].name);
}

/* What DNS advertises for a mail domain (USER@DOMAIN, --domain). */
static void rule_discovery(struct ctx *c)
{
	const struct host_result *h = c->h;
	if (!h->discovery || !h->dns_ok)
		return;
	const struct dns_answer *srv[2] = {
		answer_for(h, DNS_T_SRV, "_submissions."),
		answer_for(h, DNS_T_SRV, "_submission."),
	};
	const struct dns_answer *mx = answer_for(h, DNS_T_MX, NULL);
	struct buf b;
	buf_init(&b);
	for (int k = 0; k < 2; k++) {
		const struct dns_answer *a = srv[k];
		for (size_t i = 0; a && i < a->nrecords; i++) {
			const struct dns_record *r = &a->records[i];
			if (r->target[0] && strcmp(r->target, "."))
				continue;
			emit(c, "dns-srv-disabled", SEV_INFO, NULL,
			     "DNS says that %s is not offered (SRV %s: target '.')",
			     k == 0 ? "submission with implicit TLS" : "submission with STARTTLS",
			     a->qname);
		}
	}
	if (h->submission_not_offered) {
		emit(c, "dns-srv-disabled", SEV_INFO, NULL,
		     "so %s offers no mail submission by its own word: no server is guessed%s",
		     h->domain, usable_mx(mx) ? ", and the MX hosts are probed on port 25 only" : "");
	} else if (!h->guessed) {
		for (int k = 0; k < 2; k++) {
			const struct dns_answer *a = srv[k];
			for (size_t i = 0; a && i < a->nrecords; i++) {
				const struct dns_record *r = &a->records[i];
				if (!r->target[0] || !strcmp(r->target, "."))
					continue;
				buf_printf(&b, "%s%s port %u (%s)", b.len ? ", " : "", r->target,
					   r->port, k == 0 ? "implicit TLS" : "STARTTLS");
			}
		}
		emit(c, "dns-srv-found", SEV_OK, NULL,
		     "DNS names the submission servers of %s (SRV, RFC 6186): %s", h->domain,
		     buf_cstr(&b));
	} else if (!h->srv_lookup_failed) {
		/* A failed SRV question is no "none": rule_discovery_lookups. */
		buf_puts(&b, "_submissions._tcp: ");
		answer_words(srv[0], &b);
		buf_puts(&b, "; _submission._tcp: ");
		answer_words(srv[1], &b);
		struct buf names;
		buf_init(&names);
		guessed_names(h, &names);
		emit(c, "dns-srv-missing", SEV_INFO, NULL,
		     "%s publishes no SRV records for mail submission (%s): the servers "
		     "probed (%s%s) are a guess", h->domain, buf_cstr(&b), buf_cstr(&names),
		     usable_mx(mx) ? ", and the MX hosts" : "");
		buf_free(&names);
	}
	buf_reset(&b);

	/* Names from DNS that do not resolve; a guess that does not is no news. */
	for (size_t i = 0; i < h->nservers; i++) {
		const struct server_result *sr = &h->servers[i];
		if (sr->dns_ok || sr->source == SERVER_GUESS || sr->source == SERVER_GIVEN)
			continue;
		emit(c, sr->source == SERVER_SRV ? "dns-srv-target-unresolved"
					       : "dns-mx-unresolved",
		     sr->source == SERVER_SRV ? unless_other_path(c, SEV_WARNING) : SEV_WARNING,
		     NULL, "%s names %s, which has no address (%s)",
		     sr->source == SERVER_SRV ? "an SRV record" : "an MX record", sr->name,
		     sr->dns_error ? sr->dns_error : "it does not resolve");
	}

	if (mx && mx->rcode == DNS_NOERROR) {
		if (mx->nrecords == 0)
			emit(c, "dns-mx-missing", SEV_INFO, NULL,
			     "%s has no MX record: other servers deliver its mail to the "
			     "address of the domain name itself, if it has one", h->domain);
		else if (mx->nrecords == 1 && (!mx->records[0].target[0] ||
					       !strcmp(mx->records[0].target, ".")))
			emit(c, "dns-mx-null", SEV_INFO, NULL,
			     "%s publishes a null MX (RFC 7505): the domain receives no mail",
			     h->domain);
	}
	buf_free(&b);
}

/* " (127.0.0.1)": the resolvers asked, for "asking DNS%s". */
static const char *resolvers_words(const struct ctx *c)
{
	const char *r = c->h->resolvers;
	return r ? arena_printf(c->a, " (%s)", r) : "";
}

/*
 * Discovery questions that got no answer (SERVFAIL, REFUSED, a timeout):
 * what DNS holds there is unknown, which is not the same as empty. Each
 * is named with the resolver's answer. When all of them failed, or the
 * domain does not exist, discovery failed as a whole and rule_dns said so.
 */
static void rule_discovery_lookups(struct ctx *c)
{
	const struct host_result *h = c->h;
	if (!h->discovery || h->discovery_failed)
		return;
	const struct dns_answer *srv[2] = {
		answer_for(h, DNS_T_SRV, "_submissions."),
		answer_for(h, DNS_T_SRV, "_submission."),
	};
	const struct dns_answer *mx = answer_for(h, DNS_T_MX, NULL);
	enum severity sev = unless_other_path(c, SEV_WARNING);
	for (int k = 0; k < 2; k++) {
		const struct dns_answer *a = srv[k];
		if (!dns_answer_failed(a))
			continue;
		struct buf then, names;
		buf_init(&then);
		buf_init(&names);
		if (h->guessed) {
			guessed_names(h, &names);
			buf_printf(&then, "and the servers probed (%s%s) are a guess, not what "
				   "DNS names", buf_cstr(&names),
				   usable_mx(mx) ? ", and the MX hosts" : "");
		} else {
			buf_printf(&then, "and only the servers named by SRV %s were probed",
				   srv[1 - k] ? srv[1 - k]->qname : "?");
		}
		emit(c, "dns-srv-failed", sev, NULL,
		     "asking DNS%s for SRV %s got %s%s%s: whether %s names a server "
		     "for submission %s is unknown, %s", resolvers_words(c), a->qname,
		     dns_rcode_sentence(a->rcode), a->error ? ": " : "",
		     a->error ? a->error : "", h->domain,
		     k == 0 ? "with implicit TLS" : "with STARTTLS", buf_cstr(&then));
		buf_free(&then);
		buf_free(&names);
	}
	if (dns_answer_failed(mx))
		emit(c, "dns-mx-failed", sev, NULL,
		     "asking DNS%s for MX %s got %s%s%s: the domain's MX hosts are unknown, "
		     "so none was probed on port 25 and no TLSA record was checked",
		     resolvers_words(c), mx->qname, dns_rcode_sentence(mx->rcode),
		     mx->error ? ": " : "", mx->error ? mx->error : "");
}

/* MX hosts left out (run.c's limits): not probed, so nothing is known of them. */
static void rule_mx_not_probed(struct ctx *c)
{
	const struct host_result *h = c->h;
	if (!h->nmx_not_probed)
		return;
	const char *why = h->mx_not_probed[0].why;
	for (size_t i = 1; i < h->nmx_not_probed; i++)
		if (strcmp(h->mx_not_probed[i].why, why))
			why = NULL; /* say each one's reason */
	struct buf names;
	buf_init(&names);
	for (size_t i = 0; i < h->nmx_not_probed; i++)
		buf_printf(&names, "%s%s%s%s%s", i ? ", " : "", h->mx_not_probed[i].name,
			   why ? "" : " (", why ? "" : h->mx_not_probed[i].why, why ? "" : ")");
	emit(c, "dns-mx-not-probed", SEV_INFO, NULL,
	     "%zu of the MX hosts of %s %s not probed%s%s%s: %s, so neither their port 25 "
	     "nor their TLSA records were checked", h->nmx_not_probed, h->domain,
	     h->nmx_not_probed == 1 ? "was" : "were", why ? " (" : "", why ? why : "",
	     why ? ")" : "", buf_cstr(&names));
	buf_free(&names);
}

/* TLSA lookups that failed: DANE senders then hold the domain's mail. */
static void rule_tlsa_lookup(struct ctx *c)
{
	const struct host_result *h = c->h;
	for (size_t i = 0; i < h->nservers; i++) {
		const struct dns_answer *a = h->servers[i].tlsa;
		if (!dns_answer_failed(a) || !server_probed(h, h->servers[i].name))
			continue;
		struct buf w;
		buf_init(&w);
		answer_words(a, &w);
		emit(c, "dns-tlsa-failed", SEV_WARNING, NULL,
		     "asking DNS for TLSA %s got %s: senders that use DANE cannot tell "
		     "whether TLS is required and hold mail for %s until they can",
		     a->qname, buf_cstr(&w), h->servers[i].name);
		buf_free(&w);
	}
}

/* The first word of a greeting: the name the server gives itself. */
static bool greeting_name(const struct host_result *h, const char *address, char *out,
			  size_t len)
{
	for (size_t i = 0; i < h->nports; i++) {
		const struct port_result *r = &h->ports[i];
		if (strcmp(r->address, address) || r->greeting_code != 220 || !r->banner)
			continue;
		size_t n = strcspn(r->banner, " \n");
		if (n == 0 || n >= len)
			continue;
		memcpy(out, r->banner, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && !ascii_ncasecmp(a, b, la);
}

/* Reverse DNS of every address probed (information). */
static void rule_rdns(struct ctx *c)
{
	const struct host_result *h = c->h;
	for (size_t i = 0; i < h->nptrs; i++) {
		const struct ptr_result *p = &h->ptrs[i];
		char greet[256];
		bool has_greet = greeting_name(h, p->address, greet, sizeof greet);
		if (!p->name) {
			emit(c, "rdns-missing", SEV_INFO, NULL,
			     "%s has no reverse DNS name (PTR: %s)", p->address,
			     p->rcode == DNS_NOERROR ? "no records" : dns_rcode_name(p->rcode));
			c->d->findings[c->d->n - 1].address = p->address;
			continue;
		}
		bool matches = has_greet && same_name(p->name, greet);
		if (p->forward_ok && (matches || !has_greet)) {
			emit(c, "rdns-ok", SEV_OK, NULL,
			     "%s is %s in reverse DNS, which resolves back to it (FCrDNS)%s",
			     p->address, p->name, matches ? " and is the name in the greeting" : "");
			c->d->findings[c->d->n - 1].address = p->address;
			continue;
		}
		struct buf why;
		buf_init(&why);
		if (!p->forward_ok)
			buf_printf(&why, "%s does not resolve back to %s", p->name, p->address);
		if (has_greet && !matches)
			buf_printf(&why, "%sthe greeting says %s", why.len ? "; " : "", greet);
		emit(c, "rdns-mismatch", SEV_INFO, NULL, "%s is %s in reverse DNS, but %s",
		     p->address, p->name, buf_cstr(&why));
		c->d->findings[c->d->n - 1].address = p->address;
		buf_free(&why);
	}
}

static bool same_server_port(const struct port_result *a, const struct port_result *b)
{
	if (a->port != b->port)
		return false;
	if (!a->server || !b->server)
		return true;
	return !ascii_casecmp(a->server, b->server);
}

static const struct port_result *port_by_number(const struct host_result *h, int port)
{
	for (size_t i = 0; i < h->nports; i++)
		if (h->ports[i].port == port)
			return &h->ports[i];
	return NULL;
}

/*
 * Why a port is no way to submit mail, in a few words after "port N":
 * the first of classify()'s conditions that failed, in its order.
 */
static void no_path_reason(const struct ctx *c, const struct port_result *r, struct buf *b)
{
	if (!r->connected) {
		buf_puts(b, r->fail == FAIL_REFUSED ? "refuses connections"
			 : r->fail == FAIL_TIMEOUT ? "does not answer connections"
			 : "cannot be reached");
		return;
	}
	if (r->greeting_code != 220) {
		if (r->stop_code && r->stop_state == PS_GREETING)
			buf_printf(b, "turns the session away in its greeting (%d)", r->stop_code);
		else if (r->mode == MODE_TLS && r->tls.attempted && !r->tls.ok)
			buf_puts(b, "fails in the TLS handshake");
		else if (r->mismatch != MISMATCH_NONE)
			buf_puts(b, "speaks the other TLS mode");
		else
			buf_puts(b, "sends no SMTP greeting");
		return;
	}
	if (!r->ehlo_ok && !r->helo_used) {
		buf_puts(b, "refuses EHLO and HELO");
		return;
	}
	if (broke_off(r)) {
		const char *doing = probe_states[r->fail_state < PS_COUNT ? r->fail_state
						 : PS_DONE].doing;
		buf_printf(b, "%s the session %s", r->fail == FAIL_TIMEOUT ? "stalls"
			   : "breaks off", doing);
		return;
	}
	if (c->credentials && !credentials_pass(r, true)) {
		const struct auth_attempt *a = last_answer(r);
		if (r->auth_status == AUTH_TRIED && r->auth_ok_index >= 0) {
			buf_puts(b, "refuses mail to another domain even after the login");
			return;
		}
		if (login_failed(r)) {
			if (a->code / 100 == 4)
				buf_printf(b, "could not check the login just now (%d)", a->code);
			else
				buf_printf(b, "refused the login (%d%s%s)", a->code,
					   a->enhanced[0] ? " " : "", a->enhanced);
			return;
		}
		if (r->auth_status == AUTH_TRIED) {
			buf_puts(b, "failed in the login on smtpcheck's side");
			return;
		}
		if (r->auth_status == AUTH_SKIPPED_NO_MECH && !oauth_only(port_result_final_caps(r))) {
			buf_puts(b, "offers no login method smtpcheck speaks");
			return;
		}
		if (r->auth_status == AUTH_SKIPPED_CLEARTEXT) {
			buf_puts(b, "got no password (not sent in clear)");
			return;
		}
		/* No AUTH, OAuth only, a session cut short: as without -u. */
	}
	if (mechanisms_all_broken(r)) {
		buf_puts(b, "refuses every AUTH method it advertises");
		return;
	}
	if (oauth_only(port_result_final_caps(r))) {
		buf_puts(b, "offers only OAuth sign-in");
		return;
	}
	if (r->tls.ok) {
		buf_puts(b, !r->caps_after.valid || !has_auth(&r->caps_after)
			 ? "offers no AUTH after TLS" : "has a certificate that does not verify");
		return;
	}
	if (r->mode == MODE_STARTTLS && r->starttls_offered && r->tls.attempted)
		buf_printf(b, "offers STARTTLS, which fails%s", has_auth(&r->caps_before) ? ""
			   : ", and no AUTH before it");
	else if (r->mode == MODE_STARTTLS)
		buf_printf(b, "offers neither STARTTLS nor AUTH%s",
			   r->helo_used ? " (it refused EHLO, and HELO has no extensions)" : "");
	else
		buf_puts(b, "does not work");
}

static void rule_paths(struct ctx *c)
{
	const struct host_result *h = c->h;
	if (!h->dns_ok)
		return;
	if (c->secure) {
		struct buf b;
		buf_init(&b);
		for (size_t i = 0; i < h->nports; i++) {
			if (c->path[i] != PATH_SECURE)
				continue;
			bool seen = false;
			for (size_t j = 0; j < i; j++)
				if (c->path[j] == PATH_SECURE && same_server_port(&h->ports[j],
										 &h->ports[i]))
					seen = true;
			if (seen)
				continue;
			buf_printf(&b, "%s", b.len ? ", " : "");
			if (h->nservers > 1 && h->ports[i].server)
				buf_printf(&b, "%s ", h->ports[i].server);
			buf_printf(&b, "%d (%s)", h->ports[i].port, mode_word(&h->ports[i]));
		}
		emit(c, "submission-ok", SEV_OK, NULL,
		     "mail can be submitted with TLS and AUTH on %s%s",
		     h->nservers > 1 ? "" : "port ", buf_cstr(&b));
		buf_free(&b);
	} else if (c->clear) {
		emit(c, "no-secure-path", SEV_WARNING, NULL,
		     "mail can be submitted only without TLS: the password would cross "
		     "the network unencrypted");
	} else {
		bool limited = false;
		for (size_t i = 0; i < h->nports; i++) {
			int code = h->ports[i].stop_code;
			limited |= code == 421 || (code >= 450 && code <= 452);
		}
		/* Name each port's reason: the findings that tell more may be
		 * warnings or information, above or below this one. */
		struct buf why;
		buf_init(&why);
		const char **said = arena_alloc(c->a, (h->nports ? h->nports : 1) * sizeof *said);
		size_t nsaid = 0;
		for (size_t i = 0; i < h->nports; i++) {
			struct buf one;
			buf_init(&one);
			if (h->nservers > 1 && h->ports[i].server)
				buf_printf(&one, "%s ", h->ports[i].server);
			buf_printf(&one, "port %d ", h->ports[i].port);
			no_path_reason(c, &h->ports[i], &one);
			/* Several addresses often fail alike: say it once. A whole
			 * reason, compared whole: "example.test port 587 ..." is no
			 * repeat of "mail.example.test port 587 ...". */
			bool repeat = false;
			for (size_t k = 0; k < nsaid && !repeat; k++)
				repeat = !strcmp(said[k], buf_cstr(&one));
			if (!repeat) {
				said[nsaid++] = arena_strdup(c->a, buf_cstr(&one));
				buf_printf(&why, "%s%s", why.len ? "; " : "", buf_cstr(&one));
			}
			buf_free(&one);
		}
		emit(c, "no-submission-path", SEV_CRITICAL, NULL,
		     "no port offers a working way to submit mail (TLS%s, AUTH%s): %s%s",
		     c->bad_cert ? " with a valid certificate" : "",
		     c->credentials ? " and a successful login" : "", buf_cstr(&why),
		     limited ? "; the server turned the session away for now (421/45x), so "
		     "retry later" : "");
		buf_free(&why);
	}

	/*
	 * Port 25 silent while a submission port answers: an access
	 * provider's port-25 block. A refusal (RST) is the server's own
	 * answer, not a block on the way: port-refused says it.
	 */
	const struct port_result *p25 = port_by_number(h, 25);
	if (p25 && !p25->connected && (p25->fail == FAIL_TIMEOUT ||
				       p25->fail == FAIL_UNREACHABLE)) {
		for (size_t i = 0; i < h->nports; i++) {
			const struct port_result *r = &h->ports[i];
			if ((r->port == 465 || r->port == 587) && r->greeting_code == 220) {
				emit(c, "port25-blocked", SEV_INFO, NULL,
				     "port 25 cannot be reached but port %d answers: the "
				     "network in between probably blocks port 25; use port %d",
				     r->port, r->port);
				break;
			}
		}
	}
}

/* No NTLM/MSN anywhere: Microsoft's "Secure Password Authentication" fails. */
static void rule_spa(struct ctx *c)
{
	const struct host_result *h = c->h;
	bool auth_seen = false;
	for (size_t i = 0; i < h->nports; i++) {
		const struct port_result *r = &h->ports[i];
		const struct ehlo_caps *caps[2] = { &r->caps_before, &r->caps_after };
		for (int k = 0; k < 2; k++) {
			if (!caps[k]->valid || !caps[k]->nmech)
				continue;
			auth_seen = true;
			if (caps[k]->mechs & (MECH_NTLM | MECH_MSN))
				return;
		}
	}
	if (auth_seen)
		emit(c, "spa-off", SEV_INFO, NULL,
		     "no port offers NTLM or MSN: \"Secure Password Authentication\" "
		     "(SPA) must be off in the mail program");
}

/* ---- advice that fits this server ---- */

#define ADVICE(...) ((const char *const[]){ __VA_ARGS__, NULL })

static bool no_tls_anywhere(const struct ctx *c, const struct finding *f)
{
	(void)f;
	for (size_t i = 0; i < c->h->nports; i++)
		if (c->h->ports[i].tls.ok)
			return false;
	return true;
}

/* TLS works somewhere, but on no port with a certificate that verifies. */
static bool tls_only_unverified(const struct ctx *c, const struct finding *f)
{
	return !c->secure && !no_tls_anywhere(c, f);
}

static bool not_port_25(const struct ctx *c, const struct finding *f)
{
	(void)c;
	return f->port && f->port != 25;
}

/*
 * Where the catalogue's advice for an id would send the user the wrong
 * way on this server, the advice that fits. Choosing TLS on a server that
 * has none would stop the mail altogether; a client blocked on 587 or 465
 * is already on a submission port.
 */
static const struct {
	const char *id;
	bool (*applies)(const struct ctx *c, const struct finding *f);
	const char *const *advice;
} advice_variants[] = {
	{ "auth-cleartext", no_tls_anywhere,
	  ADVICE("None of the ports probed offers encryption, so the password crosses the "
		 "network readable whatever the mail program is set to: ask the provider "
		 "to enable TLS (STARTTLS on 587, SSL/TLS on 465).") },
	{ "starttls-missing", no_tls_anywhere,
	  ADVICE("None of the ports probed offers encryption: choosing STARTTLS or SSL/TLS "
		 "in the mail program would stop it sending, and the password crosses the "
		 "network readable. Ask the provider to enable TLS (STARTTLS on 587, "
		 "SSL/TLS on 465).") },
	{ "auth-cleartext", tls_only_unverified,
	  ADVICE("The ports with encryption have a certificate that does not verify (see "
		 "the certificate findings): until the provider fixes it, the password "
		 "crosses the network readable here.") },
	{ "starttls-missing", tls_only_unverified,
	  ADVICE("Do not choose STARTTLS for this port. The ports with encryption have a "
		 "certificate that does not verify (see the certificate findings): ask "
		 "the provider to fix it.") },
	{ "client-blocked", not_port_25,
	  ADVICE("Ask the provider, or the block list named in the reply, to delist the "
		 "address.") },
};

static void fit_advice(struct ctx *c)
{
	for (size_t i = 0; i < c->d->n; i++) {
		struct finding *f = &c->d->findings[i];
		for (size_t k = 0; k < ARRAY_LEN(advice_variants); k++)
			if (!strcmp(f->id, advice_variants[k].id) &&
			    advice_variants[k].applies(c, f))
				f->advice = advice_variants[k].advice;
	}
}

/* ---- recommendation and summary ---- */

/* Implicit TLS first (RFC 8314), then STARTTLS on 587, then 25; clear last. */
static int path_score(const struct ctx *c, const enum path *path, size_t i)
{
	const struct port_result *r = &c->h->ports[i];
	if (path[i] == PATH_SECURE)
		return r->mode == MODE_TLS ? 40 : r->port == 25 ? 20 : 30;
	if (path[i] == PATH_CLEAR)
		return r->port == 25 ? 5 : 10;
	return 0;
}

static enum security path_security(const struct ctx *c, const enum path *path, size_t i)
{
	if (path[i] == PATH_CLEAR)
		return SECURITY_NONE;
	return c->h->ports[i].mode == MODE_TLS ? SECURITY_TLS : SECURITY_STARTTLS;
}

/*
 * With -u, when no port works with the credentials: the ports that would
 * work but for the login. Their settings are right; the credentials (or
 * the account) are what to fix, and the report should say both.
 */
/*
 * The refusals that leave the settings right: the password, the account
 * or a moment's trouble. Not "encryption required" (538) or "passwords
 * retired, OAuth only": there the settings themselves are wrong.
 */
static bool only_the_login_fails(const struct port_result *r)
{
	static const char *const ids[] = {
		"auth-failed", "auth-app-password", "auth-web-login", "auth-disabled",
	};
	if (!login_failed(r))
		return false;
	const struct auth_attempt *a = last_answer(r);
	if (a->code / 100 == 4)
		return true;
	const char *id = login_reply_id(a);
	for (size_t i = 0; i < ARRAY_LEN(ids); i++)
		if (!strcmp(id, ids[i]))
			return true;
	return false;
}

static bool paths_but_login(const struct ctx *c, enum path *out)
{
	bool any = false;
	for (size_t i = 0; i < c->h->nports; i++) {
		const struct port_result *r = &c->h->ports[i];
		out[i] = only_the_login_fails(r) ? classify(r, false) : PATH_NONE;
		if (out[i] == PATH_BAD_CERT)
			out[i] = PATH_NONE;
		any |= out[i] != PATH_NONE;
	}
	return any;
}

/* "\"alice@example.test\" and \"alice\"": the user names a port tried. */
static void forms_tried(const struct port_result *r, struct buf *b)
{
	for (size_t i = 0; i < r->nauth; i++)
		buf_printf(b, "%s\"%s\"", i == 0 ? "" : i + 1 == r->nauth ? " and " : ", ",
			   r->auth[i].username);
}

/* The user-name line when the login did not succeed on the chosen port. */
static void login_note(struct ctx *c, const struct port_result *r, struct recommendation *rec)
{
	if (rec->login == REC_LOGIN_NOT_SENT) {
		rec->login_note = r->tls.ok
			? "not tested: the password was not sent, because the certificate "
			  "does not verify (--insecure-auth sends it anyway)"
			: "not tested: the password was not sent, because this port has no "
			  "TLS (--insecure-auth sends it anyway)";
		return;
	}
	if (rec->login == REC_LOGIN_NOT_TRIED) {
		rec->login_note = "not tested: the session on this port did not get as far "
				  "as the login";
		return;
	}
	const struct auth_attempt *a = last_answer(r);
	if (rec->login == REC_LOGIN_TEMPORARY) {
		rec->login_note = arena_printf(c->a, "not confirmed: the server could not check "
					       "the login just now (%d): retry later",
					       a ? a->code : 0);
		return;
	}
	const char *id = login_reply_id(a);
	struct buf forms;
	buf_init(&forms);
	forms_tried(r, &forms);
	if (strcmp(id, "auth-failed"))
		rec->login_note = arena_printf(c->a, "not confirmed: the server refused the login "
					       "%s (%s: see the findings)", buf_cstr(&forms), id);
	else if (bare_name_only(r))
		rec->login_note = arena_printf(c->a, "not confirmed: the server refused %s, the "
					       "only form tried: check the password; -u %s@DOMAIN "
					       "(or --domain DOMAIN) also tests the full address",
					       buf_cstr(&forms), r->auth[0].username);
	else
		rec->login_note = arena_printf(c->a, "not confirmed: the server refused the login "
					       "in every form tried (%s): check the password, then "
					       "the user name (the full e-mail address or the part "
					       "before the @)", buf_cstr(&forms));
	buf_free(&forms);
}

static void recommend(struct ctx *c)
{
	const struct host_result *h = c->h;
	struct diagnosis *d = c->d;
	struct recommendation *rec = &d->rec;

	const enum path *path = c->path;
	bool but_login = false;
	if (!any_path(c) && c->credentials) {
		enum path *alt = arena_alloc(c->a, (h->nports ? h->nports : 1) * sizeof *alt);
		if (paths_but_login(c, alt)) {
			path = alt;
			but_login = true;
		}
	}

	/* Every working (port, security), best first, each once. */
	for (int score = 40; score > 0; score--) {
		for (size_t i = 0; i < h->nports; i++) {
			if (path_score(c, path, i) != score)
				continue;
			enum security sec = path_security(c, path, i);
			bool dup = false;
			for (size_t k = 0; k < d->noptions; k++)
				if (d->options[k].port == h->ports[i].port &&
				    d->options[k].security == sec &&
				    (!d->options[k].server || !h->ports[i].server ||
				     !ascii_casecmp(d->options[k].server, h->ports[i].server)))
					dup = true;
			if (dup || d->noptions == MAX_PATH_OPTIONS)
				continue;
			d->options[d->noptions].server = h->ports[i].server;
			d->options[d->noptions].port = h->ports[i].port;
			d->options[d->noptions].security = sec;
			d->noptions++;
		}
	}
	int best = -1, best_score = 0;
	for (size_t i = 0; i < h->nports; i++) {
		if (path_score(c, path, i) > best_score) {
			best_score = path_score(c, path, i);
			best = (int)i;
		}
	}
	if (best < 0)
		return;
	const struct port_result *r = &h->ports[best];
	rec->present = true;
	rec->server = r->server ? r->server : h->name;
	rec->port = r->port;
	rec->address = r->address;
	rec->auth = true;
	rec->username = USERNAME_UNKNOWN;
	rec->security = path_security(c, path, (size_t)best);
	rec->login = c->credentials ? REC_LOGIN_NOT_TRIED : REC_LOGIN_NOT_GIVEN;
	/* The user-name form the server accepted, on this port or another. */
	int ok = r->auth_ok_index;
	const struct port_result *src = ok >= 0 ? r : NULL;
	for (size_t i = 0; !src && i < h->nports; i++)
		if (h->ports[i].auth_ok_index >= 0)
			src = &h->ports[i];
	if (src) {
		const struct auth_attempt *a = &src->auth[src->auth_ok_index];
		rec->username = a->full_address ? USERNAME_FULL_ADDRESS : USERNAME_LOCAL_PART;
		rec->username_value = a->username;
		rec->login = REC_LOGIN_ACCEPTED;
		return;
	}
	if (!c->credentials)
		return;
	if (but_login) {
		const struct auth_attempt *a = last_answer(r);
		rec->login = a && a->code / 100 == 4 ? REC_LOGIN_TEMPORARY : REC_LOGIN_REFUSED;
	} else if (r->auth_status == AUTH_SKIPPED_CLEARTEXT ||
		   r->auth_status == AUTH_SKIPPED_UNVERIFIED) {
		rec->login = REC_LOGIN_NOT_SENT;
	}
	login_note(c, r, rec);
}

static void summarize(struct ctx *c)
{
	struct diagnosis *d = c->d;
	const struct host_result *h = c->h;
	struct buf b;
	buf_init(&b);
	buf_printf(&b, "%s: ", h->name);
	if (d->status == STATUS_OK) {
		bool first = true;
		for (size_t i = 0; i < h->nports; i++) {
			const struct port_result *r = &h->ports[i];
			bool dup = false;
			for (size_t j = 0; j < i; j++)
				if (same_server_port(&h->ports[j], r))
					dup = true;
			if (dup)
				continue;
			const char *what;
			switch (c->path[i]) {
			case PATH_SECURE: what = r->mode == MODE_TLS ? "TLS+AUTH ok" : "STARTTLS+AUTH ok"; break;
			case PATH_CLEAR: what = "AUTH without TLS"; break;
			case PATH_BAD_CERT: what = "certificate invalid"; break;
			default:
				what = !r->connected ? (r->fail == FAIL_REFUSED ? "refused" : "unreachable")
				     : r->tls.ok ? "no AUTH" : r->completed ? "no TLS" : "failed";
			}
			buf_printf(&b, "%s%s%s%d %s", first ? "" : ", ",
				   h->nservers > 1 && r->server ? r->server : "",
				   h->nservers > 1 && r->server ? " " : "", r->port, what);
			first = false;
		}
	} else {
		/* The worst findings, most severe first, at most three. */
		size_t shown = 0;
		for (int sev = SEV_CRITICAL; sev >= SEV_WARNING && shown < 3; sev--) {
			for (size_t i = 0; i < d->n && shown < 3; i++) {
				if ((int)d->findings[i].severity != sev)
					continue;
				buf_printf(&b, "%s%s", shown ? "; " : "", d->findings[i].message);
				shown++;
			}
		}
	}
	d->summary = arena_strndup(c->a, buf_cstr(&b), b.len);
	buf_free(&b);
}

void diagnose(const struct host_result *h, const struct diag_params *p,
	      struct arena *a, struct diagnosis *d)
{
	memset(d, 0, sizeof *d);
	struct ctx c = { .h = h, .p = p, .a = a, .d = d, .credentials = p->credentials };
	if (h->not_probed) {
		/* Nothing was measured: the state is "could not check". */
		emit(&c, "not-probed", SEV_INFO, NULL, "%s",
		     h->not_probed_why ? h->not_probed_why : "not probed");
		d->status = STATUS_UNKNOWN;
		d->summary = arena_printf(a, "%s: %s", h->name, d->findings[0].message);
		return;
	}
	c.path = arena_alloc(a, (h->nports ? h->nports : 1) * sizeof *c.path);
	for (size_t i = 0; i < h->nports; i++) {
		c.path[i] = classify(&h->ports[i], c.credentials);
		c.secure += c.path[i] == PATH_SECURE;
		c.clear += c.path[i] == PATH_CLEAR;
		c.bad_cert += c.path[i] == PATH_BAD_CERT;
	}

	rule_dns(&c);
	for (size_t i = 0; i < h->nports; i++)
		for (size_t k = 0; k < ARRAY_LEN(port_rules); k++)
			port_rules[k](&c, &h->ports[i]);
	rule_discovery(&c);
	rule_discovery_lookups(&c);
	rule_mx_not_probed(&c);
	rule_tlsa_lookup(&c);
	rule_paths(&c);
	rule_spa(&c);
	rule_rdns(&c);
	fit_advice(&c);
	recommend(&c);

	enum severity worst = SEV_OK;
	for (size_t i = 0; i < d->n; i++)
		if (d->findings[i].severity > worst)
			worst = d->findings[i].severity;
	d->status = worst == SEV_CRITICAL ? STATUS_CRITICAL
		  : worst == SEV_WARNING ? STATUS_WARNING : STATUS_OK;
	summarize(&c);
}

void diagnosis_free(struct diagnosis *d)
{
	free(d->findings);
	memset(d, 0, sizeof *d);
}
