/*
 * check_diagnose.c - the diagnosis rules, table-driven: a set of port
 * results in, the findings (id, severity, port) and the Nagios state out.
 */
#include <ares.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "autoconfig.h"
#include "diagnose.h"
#include "dns.h"
#include "findings.h"
#include "probe.h"
#include "report.h"
#include "suites.h"

/* ---- building port results the way a probe would leave them ---- */

static void caps(struct ehlo_caps *c, const char *wire)
{
	struct reply_parser p;
	size_t used;
	reply_parser_init(&p);
	ck_assert_int_eq(reply_parser_feed(&p, wire, strlen(wire), &used), REPLY_COMPLETE);
	ehlo_caps_free(c);
	ehlo_parse(&p.reply, c);
	reply_parser_free(&p);
}

enum shape {
	SECURE,            /* TLS verified, AUTH after TLS */
	REFUSED,
	CONNECT_TIMEOUT,
	GREETING_TIMEOUT,
	CLEAR_AUTH,        /* no STARTTLS offered, AUTH in clear */
	NO_AUTH,           /* TLS fine, no AUTH at all (an MX) */
	GREETING_554,
	UNREACHABLE,       /* ICMP unreachable on connect */
	GREETING_421,      /* 421 without an enhanced code: busy, closing */
	GREETING_421_RATE, /* 421 4.7.0 too many connections */
	STARTTLS_454,      /* STARTTLS offered, answered 454 4.7.0 */
	CLEAR_ONLY,        /* neither STARTTLS nor AUTH offered */
};

enum login {
	LOGIN_NONE,
	LOGIN_OK,            /* 235 with the name as given (full address) */
	LOGIN_OK_LOCAL,      /* 535 for the address, 235 for the local part */
	LOGIN_535,           /* 535 for both forms */
	LOGIN_534,           /* 534 5.7.9 */
	LOGIN_535_BARE,      /* 535 for "alice", the only form tried (no @, no domain) */
	LOGIN_454,           /* 454 4.7.0: the server could not check it */
};

enum relay {
	RELAY_NONE,
	RELAY_DENIED,        /* RCPT 554 5.7.1 without AUTH */
	RELAY_OPEN,          /* RCPT 250 without AUTH */
	RELAY_AUTH_REQUIRED, /* MAIL 530 5.7.0 without AUTH */
	RELAY_DENIED_AFTER,  /* denied without AUTH, and after it too */
	RELAY_TLS_REQUIRED,  /* MAIL 530 5.7.0 Must issue a STARTTLS command first */
};

struct port_def {
	int port;
	enum tls_mode mode;
	enum shape shape;
	unsigned verify_flags;
	long days_left;
	const char *tls_version;
	bool auth_before_tls;
	uint64_t greeting_wait_us;
	uint64_t total_us;
	enum mode_mismatch mismatch;
	enum login login;
	enum relay relay;
	enum auth_status auth_status;   /* when not AUTH_NOT_TRIED: set after building */
};

static void attempt(struct port_result *r, const char *user, int code, const char *enh,
		    const char *text)
{
	struct auth_attempt *a = &r->auth[r->nauth++];
	strcpy(a->mech, "PLAIN");
	a->username = (char *)user;
	a->full_address = strchr(user, '@') != NULL;
	a->code = code;
	strcpy(a->enhanced, enh);
	a->text = (char *)text;
	a->ok = code == 235;
	a->server_verified = true;
	if (a->ok)
		r->auth_ok_index = (int)r->nauth - 1;
	r->auth_status = AUTH_TRIED;
}

static void txn(struct relay_result *t, int mail, int rcpt, const char *enh, const char *text)
{
	t->done = true;
	t->mail_code = mail;
	t->mail_text = mail / 100 == 2 ? "2.1.0 Ok" : (char *)text;
	if (mail / 100 != 2)
		strcpy(t->mail_enhanced, enh);
	t->rcpt_code = rcpt;
	if (rcpt) {
		strcpy(t->rcpt_enhanced, rcpt == 250 ? "2.1.5" : enh);
		t->rcpt_text = rcpt == 250 ? "2.1.5 Ok" : (char *)text;
	}
	t->accepted = mail / 100 == 2 && rcpt == 250;
}

static void login_and_relay(struct port_result *r, const struct port_def *d)
{
	r->auth_ok_index = -1;
	switch (d->login) {
	case LOGIN_NONE: break;
	case LOGIN_OK:
		attempt(r, "alice@example.test", 235, "2.7.0", "2.7.0 Authentication successful");
		break;
	case LOGIN_OK_LOCAL:
		attempt(r, "alice@example.test", 535, "5.7.8", "5.7.8 Error: authentication failed");
		attempt(r, "alice", 235, "2.7.0", "2.7.0 Authentication successful");
		break;
	case LOGIN_535:
		attempt(r, "alice@example.test", 535, "5.7.8", "5.7.8 Error: authentication failed");
		attempt(r, "alice", 535, "5.7.8", "5.7.8 Error: authentication failed");
		break;
	case LOGIN_534:
		attempt(r, "alice@example.test", 534, "5.7.9",
			"5.7.9 Application-specific password required");
		break;
	case LOGIN_535_BARE:
		attempt(r, "alice", 535, "5.7.8", "5.7.8 Error: authentication failed");
		break;
	case LOGIN_454:
		attempt(r, "alice@example.test", 454, "4.7.0",
			"4.7.0 Temporary authentication failure");
		break;
	}
	switch (d->relay) {
	case RELAY_NONE: break;
	case RELAY_DENIED:
		txn(&r->relay, 250, 554, "5.7.1", "5.7.1 <x@example.com>: Relay access denied");
		break;
	case RELAY_OPEN:
		txn(&r->relay, 250, 250, "", "");
		break;
	case RELAY_AUTH_REQUIRED:
		txn(&r->relay, 530, 0, "5.7.0", "5.7.0 Authentication required");
		break;
	case RELAY_DENIED_AFTER:
		txn(&r->relay, 250, 554, "5.7.1", "5.7.1 <x@example.com>: Relay access denied");
		txn(&r->relay_auth, 250, 554, "5.7.1", "5.7.1 <x@example.com>: Relay access denied");
		break;
	case RELAY_TLS_REQUIRED:
		txn(&r->relay, 530, 0, "5.7.0", "5.7.0 Must issue a STARTTLS command first");
		break;
	}
	if (r->auth_ok_index >= 0 && d->relay != RELAY_DENIED_AFTER && d->relay != RELAY_NONE)
		txn(&r->relay_auth, 250, 250, "", "");
}

static void build_shape(struct port_result *r, const struct port_def *d);

static void build(struct port_result *r, const struct port_def *d)
{
	build_shape(r, d);
	if (d->auth_status)
		r->auth_status = d->auth_status;
}

static void build_shape(struct port_result *r, const struct port_def *d)
{
	memset(r, 0, sizeof *r);
	r->auth_ok_index = -1;
	r->port = d->port;
	r->mode = r->mode_requested = d->mode;
	strcpy(r->address, "192.0.2.1");
	r->family = AF_INET;
	r->fail_state = PS_DONE;
	r->stop_state = PS_DONE;
	r->total_us = d->total_us ? d->total_us : 20000;
	r->mismatch = d->mismatch;
	switch (d->shape) {
	case REFUSED:
		r->fail = FAIL_REFUSED;
		r->fail_state = PS_CONNECTING;
		r->error = "connection refused";
		return;
	case CONNECT_TIMEOUT:
		r->fail = FAIL_TIMEOUT;
		r->fail_state = PS_CONNECTING;
		r->error = "timed out connecting";
		return;
	case GREETING_TIMEOUT:
		r->connected = true;
		r->fail = FAIL_TIMEOUT;
		r->fail_state = PS_GREETING;
		r->error = "timed out waiting for the greeting";
		return;
	case GREETING_554:
		r->connected = true;
		r->greeting_code = 554;
		r->stop_code = 554;
		r->stop_state = PS_GREETING;
		r->fail = FAIL_REJECTED;
		r->error = "the server answered 554";
		return;
	case UNREACHABLE:
		r->fail = FAIL_UNREACHABLE;
		r->fail_state = PS_CONNECTING;
		r->error = "no route to host";
		return;
	case GREETING_421:
	case GREETING_421_RATE:
		r->connected = true;
		r->greeting_code = 421;
		r->stop_code = 421;
		r->stop_state = PS_GREETING;
		r->fail = FAIL_REJECTED;
		r->error = "the server answered 421";
		if (d->shape == GREETING_421_RATE) {
			strcpy(r->stop_enhanced, "4.7.0");
			r->stop_text = "4.7.0 Too many connections from 192.0.2.9";
		} else {
			r->stop_text = "mail.test Service not available, closing transmission channel";
		}
		return;
	default:
		break;
	}
	r->connected = true;
	r->completed = true;
	r->greeting_code = 220;
	r->greeting_wait_us = d->greeting_wait_us;
	r->banner = "mail.test ESMTP";
	r->ehlo_ok = true;
	if (d->mode == MODE_STARTTLS) {
		if (d->shape == CLEAR_AUTH) {
			caps(&r->caps_before, "250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n");
			return;
		}
		if (d->shape == CLEAR_ONLY) {
			caps(&r->caps_before, "250-mail.test\r\n250 8BITMIME\r\n");
			login_and_relay(r, d);
			return;
		}
		if (d->shape == STARTTLS_454) {
			caps(&r->caps_before, "250-mail.test\r\n250 STARTTLS\r\n");
			r->starttls_offered = true;
			r->starttls_code = 454;
			strcpy(r->starttls_enhanced, "4.7.0");
			r->starttls_text = "4.7.0 TLS not available due to local problem";
			r->tls.attempted = true;
			r->tls.error = "STARTTLS refused: 454 4.7.0 TLS not available due to "
				       "local problem";
			login_and_relay(r, d);
			return;
		}
		caps(&r->caps_before, d->auth_before_tls
		     ? "250-mail.test\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n"
		     : "250-mail.test\r\n250 STARTTLS\r\n");
		r->starttls_offered = true;
		r->starttls_code = 220;
	}
	r->tls.attempted = r->tls.ok = true;
	r->tls.version = (char *)(d->tls_version ? d->tls_version : "TLSv1.3");
	r->tls.cipher = "TLS_AES_256_GCM_SHA384";
	r->tls.verify_flags = d->verify_flags;
	r->tls.verified = d->verify_flags == 0;
	r->tls.verify_error = d->verify_flags ? "certificate has expired" : NULL;
	r->tls.cert.present = true;
	r->tls.cert.days_left = d->days_left ? d->days_left : 200;
	r->tls.cert.not_after = "2027-01-01T00:00:00Z";
	caps(&r->caps_after, d->shape == NO_AUTH ? "250-mail.test\r\n250 8BITMIME\r\n"
					       : "250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n");
	login_and_relay(r, d);
}

/* ---- the table ---- */

struct want {
	const char *id;
	enum severity sev;
	int port;              /* 0: host finding */
};

struct dcase {
	const char *name;
	struct port_def ports[4];
	size_t nports;
	int dns_status;        /* ARES_SUCCESS unless testing DNS */
	double warn_time;      /* -w in seconds; 0: not given */
	bool credentials;
	enum status status;
	struct want want[8];
	const char *absent[4];
	int rec_port;          /* 0: no recommendation */
	enum security rec_security;
	enum username_form rec_username;
	enum rec_login rec_login;
};

/*
 * A port: its number, mode and shape, then any other field by name:
 * P(465, MODE_TLS, SECURE, .days_left = 5). The rest stay 0.
 */
#define P(port_, mode_, ...) { .port = (port_), .mode = (mode_), .shape = __VA_ARGS__ }

static const struct dcase cases[] = {
	/* Each of these ids once, in the situation that gives it. */
	{ .name = "port 25 unreachable while 587 works: information, and the port-25 block",
	  .ports = { P(25, MODE_STARTTLS, UNREACHABLE), P(587, MODE_STARTTLS, SECURE) },
	  .nports = 2, .status = STATUS_OK,
	  .want = { { "port-unreachable", SEV_INFO, 25 }, { "port25-blocked", SEV_INFO, 0 },
		    { "submission-ok", SEV_OK, 0 } },
	  .absent = { "port-timeout", "port-refused", "no-submission-path" },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "the only port unreachable: CRITICAL",
	  .ports = { P(587, MODE_STARTTLS, UNREACHABLE) },
	  .nports = 1, .status = STATUS_CRITICAL,
	  .want = { { "port-unreachable", SEV_CRITICAL, 587 },
		    { "no-submission-path", SEV_CRITICAL, 0 } },
	  .absent = { "port25-blocked" } },
	{ .name = "421 greeting on 587 while 465 works: server-busy, a warning",
	  .ports = { P(587, MODE_STARTTLS, GREETING_421), P(465, MODE_TLS, SECURE) },
	  .nports = 2, .status = STATUS_WARNING,
	  .want = { { "server-busy", SEV_WARNING, 587 }, { "submission-ok", SEV_OK, 0 } },
	  .absent = { "rate-limited", "starttls-missing", "greeting-refused" },
	  .rec_port = 465, .rec_security = SECURITY_TLS },
	{ .name = "421 4.7.0 too many connections on the only port: rate-limited, not a missing feature",
	  .ports = { P(587, MODE_STARTTLS, GREETING_421_RATE) },
	  .nports = 1, .status = STATUS_CRITICAL,
	  .want = { { "rate-limited", SEV_CRITICAL, 587 },
		    { "no-submission-path", SEV_CRITICAL, 0 } },
	  .absent = { "server-busy", "starttls-missing", "auth-not-offered" } },
	{ .name = "454 to STARTTLS on 587 while 465 works: starttls-failed, a warning",
	  .ports = { P(587, MODE_STARTTLS, STARTTLS_454), P(465, MODE_TLS, SECURE) },
	  .nports = 2, .status = STATUS_WARNING,
	  .want = { { "starttls-failed", SEV_WARNING, 587 },
		    { "implicit-tls-available", SEV_OK, 465 }, { "submission-ok", SEV_OK, 0 } },
	  .absent = { "starttls-missing", "tls-handshake-failed" },
	  .rec_port = 465, .rec_security = SECURITY_TLS },
	{ .name = "454 to STARTTLS on the only port: starttls-failed, CRITICAL",
	  .ports = { P(587, MODE_STARTTLS, STARTTLS_454) },
	  .nports = 1, .status = STATUS_CRITICAL,
	  .want = { { "starttls-failed", SEV_CRITICAL, 587 },
		    { "no-submission-path", SEV_CRITICAL, 0 } },
	  .absent = { "starttls-missing" } },
	{ .name = "MAIL answered 530 5.7.0 must issue STARTTLS on a port without it: tls-required",
	  .ports = { P(587, MODE_STARTTLS, CLEAR_ONLY, .relay = RELAY_TLS_REQUIRED),
		     P(465, MODE_TLS, SECURE) },
	  .nports = 2, .status = STATUS_OK,
	  .want = { { "tls-required", SEV_INFO, 587 }, { "starttls-missing", SEV_INFO, 587 },
		    { "submission-ok", SEV_OK, 0 } },
	  .absent = { "auth-required", "open-relay" },
	  .rec_port = 465, .rec_security = SECURITY_TLS },

	{ .name = "modern ISP: 587 STARTTLS and 465 TLS",
	  .ports = { P(587, MODE_STARTTLS, SECURE), P(465, MODE_TLS, SECURE) },
	  .nports = 2, .status = STATUS_OK,
	  .want = { { "starttls-available", SEV_OK, 587 },
		    { "implicit-tls-available", SEV_OK, 465 },
		    { "auth-only-after-tls", SEV_OK, 587 }, { "submission-ok", SEV_OK, 0 } },
	  .absent = { "auth-cleartext", "no-submission-path" },
	  .rec_port = 465, .rec_security = SECURITY_TLS },
	{ .name = "only path has an expired certificate",
	  .ports = { P(465, MODE_TLS, SECURE, .verify_flags = VERIFY_EXPIRED, .days_left = -3) },
	  .nports = 1, .status = STATUS_CRITICAL,
	  .want = { { "cert-expired", SEV_CRITICAL, 465 },
		    { "no-submission-path", SEV_CRITICAL, 0 } },
	  .absent = { "cert-expiring", "submission-ok" } },
	{ .name = "one of two paths has a wrong-name certificate",
	  .ports = { P(587, MODE_STARTTLS, SECURE),
		     P(465, MODE_TLS, SECURE, .verify_flags = VERIFY_HOSTNAME) },
	  .nports = 2, .status = STATUS_WARNING,
	  .want = { { "cert-hostname-mismatch", SEV_WARNING, 465 },
		    { "submission-ok", SEV_OK, 0 } },
	  .absent = { "no-submission-path" },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "untrusted certificate everywhere",
	  .ports = { P(587, MODE_STARTTLS, SECURE,
		     .verify_flags = VERIFY_UNTRUSTED | VERIFY_SELF_SIGNED) },
	  .nports = 1, .status = STATUS_CRITICAL,
	  .want = { { "cert-untrusted", SEV_CRITICAL, 587 } } },
	{ .name = "certificate expiring within the warning days",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .days_left = 10) },
	  .nports = 1, .status = STATUS_WARNING,
	  .want = { { "cert-expiring", SEV_WARNING, 587 } },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "certificate expiring within the critical days",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .days_left = 5) },
	  .nports = 1, .status = STATUS_CRITICAL,
	  .want = { { "cert-expiring", SEV_CRITICAL, 587 } },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "the only path is without TLS",
	  .ports = { P(587, MODE_STARTTLS, CLEAR_AUTH), P(465, MODE_TLS, REFUSED) },
	  .nports = 2, .status = STATUS_WARNING,
	  .want = { { "no-secure-path", SEV_WARNING, 0 }, { "auth-cleartext", SEV_WARNING, 587 },
		    { "starttls-missing", SEV_INFO, 587 }, { "port-refused", SEV_INFO, 465 } },
	  .absent = { "no-submission-path" },
	  .rec_port = 587, .rec_security = SECURITY_NONE },
	{ .name = "AUTH offered before STARTTLS",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .auth_before_tls = true) },
	  .nports = 1, .status = STATUS_WARNING,
	  .want = { { "auth-cleartext", SEV_WARNING, 587 } },
	  .absent = { "auth-only-after-tls" },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "everything refused",
	  .ports = { P(25, MODE_STARTTLS, REFUSED), P(465, MODE_TLS, REFUSED),
		     P(587, MODE_STARTTLS, REFUSED) },
	  .nports = 3, .status = STATUS_CRITICAL,
	  .want = { { "port-refused", SEV_CRITICAL, 25 }, { "port-refused", SEV_CRITICAL, 465 },
		    { "no-submission-path", SEV_CRITICAL, 0 } } },
	{ .name = "port 25 blocked by the access provider",
	  .ports = { P(25, MODE_STARTTLS, CONNECT_TIMEOUT), P(587, MODE_STARTTLS, SECURE) },
	  .nports = 2, .status = STATUS_OK,
	  .want = { { "port-timeout", SEV_INFO, 25 }, { "port25-blocked", SEV_INFO, 0 } },
	  .absent = { "no-submission-path" },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "no greeting anywhere",
	  .ports = { P(587, MODE_STARTTLS, GREETING_TIMEOUT), P(465, MODE_TLS, GREETING_TIMEOUT) },
	  .nports = 2, .status = STATUS_CRITICAL,
	  .want = { { "session-timeout", SEV_CRITICAL, 587 } } },
	{ .name = "greeting refused with 554 on 25 while 587 works",
	  .ports = { P(25, MODE_STARTTLS, GREETING_554), P(587, MODE_STARTTLS, SECURE) },
	  .nports = 2, .status = STATUS_WARNING,
	  .want = { { "greeting-refused", SEV_WARNING, 25 } },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "an MX without AUTH is no submission path",
	  .ports = { P(25, MODE_STARTTLS, NO_AUTH) },
	  .nports = 1, .status = STATUS_CRITICAL,
	  .want = { { "auth-not-offered", SEV_INFO, 25 },
		    { "no-submission-path", SEV_CRITICAL, 0 } } },
	{ .name = "old TLS",
	  .ports = { P(465, MODE_TLS, SECURE, .tls_version = "TLSv1.1") },
	  .nports = 1, .status = STATUS_WARNING,
	  .want = { { "tls-protocol-old", SEV_WARNING, 465 } },
	  .rec_port = 465, .rec_security = SECURITY_TLS },
	{ .name = "deliberate greeting delay is not a problem",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .greeting_wait_us = 1500000,
		     .total_us = 1600000) },
	  .nports = 1, .warn_time = 0.5, .status = STATUS_OK,
	  .want = { { "greeting-delayed", SEV_INFO, 587 } },
	  .absent = { "response-time" },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "slow port over -w",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .total_us = 900000) },
	  .nports = 1, .warn_time = 0.5, .status = STATUS_WARNING,
	  .want = { { "response-time", SEV_WARNING, 587 } },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "port speaks the other TLS mode",
	  .ports = { P(2465, MODE_TLS, SECURE, .mismatch = MISMATCH_CLEAR_TO_TLS) },
	  .nports = 1, .status = STATUS_WARNING,
	  .want = { { "tls-mode-mismatch", SEV_WARNING, 2465 } },
	  .rec_port = 2465, .rec_security = SECURITY_TLS },
	{ .name = "login accepted as the full address",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .login = LOGIN_OK, .relay = RELAY_DENIED) },
	  .nports = 1, .credentials = true, .status = STATUS_OK,
	  .want = { { "auth-ok", SEV_OK, 587 }, { "relay-denied", SEV_INFO, 587 },
		    { "relay-ok", SEV_OK, 587 }, { "spa-off", SEV_INFO, 0 } },
	  .absent = { "auth-username-form", "auth-failed" },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS,
	  .rec_username = USERNAME_FULL_ADDRESS, .rec_login = REC_LOGIN_ACCEPTED },
	{ .name = "login accepted only as the local part",
	  .ports = { P(465, MODE_TLS, SECURE, .login = LOGIN_OK_LOCAL, .relay = RELAY_DENIED) },
	  .nports = 1, .credentials = true, .status = STATUS_OK,
	  .want = { { "auth-ok", SEV_OK, 465 }, { "auth-username-form", SEV_INFO, 465 } },
	  .absent = { "auth-failed" },
	  .rec_port = 465, .rec_security = SECURITY_TLS, .rec_username = USERNAME_LOCAL_PART,
	  .rec_login = REC_LOGIN_ACCEPTED },
	/* The settings the probe measured stand; the login is what to fix. */
	{ .name = "login refused in every form: CRITICAL, the measured settings kept",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .login = LOGIN_535, .relay = RELAY_DENIED),
		     P(465, MODE_TLS, SECURE, .login = LOGIN_535, .relay = RELAY_DENIED) },
	  .nports = 2, .credentials = true, .status = STATUS_CRITICAL,
	  .want = { { "auth-failed", SEV_CRITICAL, 587 }, { "auth-failed", SEV_CRITICAL, 465 },
		    { "no-submission-path", SEV_CRITICAL, 0 } },
	  .absent = { "auth-ok" },
	  .rec_port = 465, .rec_security = SECURITY_TLS, .rec_username = USERNAME_UNKNOWN,
	  .rec_login = REC_LOGIN_REFUSED },
	{ .name = "454 at AUTH on the only port: settings kept, the login not confirmed",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .login = LOGIN_454, .relay = RELAY_DENIED) },
	  .nports = 1, .credentials = true, .status = STATUS_CRITICAL,
	  .want = { { "auth-temporary-failure", SEV_WARNING, 587 },
		    { "no-submission-path", SEV_CRITICAL, 0 } },
	  .absent = { "auth-failed" },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS, .rec_login = REC_LOGIN_TEMPORARY },
	{ .name = "a certificate that does not verify: no settings, whatever the login",
	  .ports = { P(465, MODE_TLS, SECURE, .verify_flags = VERIFY_UNTRUSTED,
		     .login = LOGIN_535, .relay = RELAY_DENIED) },
	  .nports = 1, .credentials = true, .status = STATUS_CRITICAL,
	  .want = { { "cert-untrusted", SEV_CRITICAL, 465 },
		    { "implicit-tls-available", SEV_INFO, 465 } } },
	{ .name = "no TLS anywhere, password held back: the clear path, not sent",
	  .ports = { P(587, MODE_STARTTLS, CLEAR_AUTH, .auth_status = AUTH_SKIPPED_CLEARTEXT) },
	  .nports = 1, .credentials = true, .status = STATUS_WARNING,
	  .want = { { "auth-skipped", SEV_INFO, 587 }, { "no-secure-path", SEV_WARNING, 0 } },
	  .rec_port = 587, .rec_security = SECURITY_NONE, .rec_login = REC_LOGIN_NOT_SENT },
	{ .name = "login refused on one port, accepted on the other",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .login = LOGIN_535, .relay = RELAY_DENIED),
		     P(465, MODE_TLS, SECURE, .login = LOGIN_OK, .relay = RELAY_DENIED) },
	  .nports = 2, .credentials = true, .status = STATUS_WARNING,
	  .want = { { "auth-failed", SEV_WARNING, 587 }, { "auth-ok", SEV_OK, 465 } },
	  .rec_port = 465, .rec_security = SECURITY_TLS, .rec_username = USERNAME_FULL_ADDRESS,
	  .rec_login = REC_LOGIN_ACCEPTED },
	{ .name = "application-specific password",
	  .ports = { P(465, MODE_TLS, SECURE, .login = LOGIN_534, .relay = RELAY_DENIED) },
	  .nports = 1, .credentials = true, .status = STATUS_CRITICAL,
	  .want = { { "auth-app-password", SEV_CRITICAL, 465 } },
	  .absent = { "auth-failed" },
	  .rec_port = 465, .rec_security = SECURITY_TLS, .rec_login = REC_LOGIN_REFUSED },
	{ .name = "open relay",
	  .ports = { P(25, MODE_STARTTLS, NO_AUTH, .relay = RELAY_OPEN),
		     P(587, MODE_STARTTLS, SECURE, .relay = RELAY_DENIED) },
	  .nports = 2, .status = STATUS_CRITICAL,
	  .want = { { "open-relay", SEV_CRITICAL, 25 } },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS },
	{ .name = "authentication required before MAIL",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .relay = RELAY_AUTH_REQUIRED) },
	  .nports = 1, .status = STATUS_OK,
	  .want = { { "auth-required", SEV_INFO, 587 } },
	  .rec_port = 587, .rec_security = SECURITY_STARTTLS, .rec_username = USERNAME_UNKNOWN },
	{ .name = "relay denied even after login",
	  .ports = { P(587, MODE_STARTTLS, SECURE, .login = LOGIN_OK,
		     .relay = RELAY_DENIED_AFTER) },
	  .nports = 1, .credentials = true, .status = STATUS_CRITICAL,
	  .want = { { "relay-denied-after-auth", SEV_CRITICAL, 587 },
		    { "no-submission-path", SEV_CRITICAL, 0 } } },
	{ .name = "name does not exist",
	  .dns_status = ARES_ENOTFOUND, .status = STATUS_CRITICAL,
	  .want = { { "dns-nxdomain", SEV_CRITICAL, 0 } },
	  .absent = { "no-submission-path" } },
	{ .name = "DNS server failure",
	  .dns_status = ARES_ESERVFAIL, .status = STATUS_CRITICAL,
	  .want = { { "dns-servfail", SEV_CRITICAL, 0 } } },
};

/* No credentials, certificate days 30/7: the defaults of the command line. */
static struct diag_params default_params(void)
{
	struct diag_params p = { .credentials = false };
	range_below(30, &p.cert_warn);
	range_below(7, &p.cert_crit);
	return p;
}

static bool has(const struct diagnosis *d, const char *id, enum severity sev, int port)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->findings[i].id, id) && d->findings[i].severity == sev &&
		    d->findings[i].port == port)
			return true;
	return false;
}

static void dump(const struct diagnosis *d, struct buf *b)
{
	for (size_t i = 0; i < d->n; i++)
		buf_printf(b, "  %s/%s/%d: %s\n", d->findings[i].id,
			   severity_name(d->findings[i].severity), d->findings[i].port,
			   d->findings[i].message);
}

START_TEST(rule_table)
{
	const struct dcase *c = &cases[_i];
	struct host_result h;
	memset(&h, 0, sizeof h);
	h.name = "mail.test";
	h.dns_status = c->dns_status;
	h.dns_ok = c->dns_status == ARES_SUCCESS;
	h.dns_error = h.dns_ok ? NULL : "lookup failed";
	h.nports = c->nports;
	h.ports = calloc(c->nports ? c->nports : 1, sizeof *h.ports);
	char *addr = "192.0.2.1";
	h.addrs = &addr;
	h.naddrs = c->nports ? 1 : 0;
	for (size_t i = 0; i < c->nports; i++)
		build(&h.ports[i], &c->ports[i]);

	struct diag_params p = { .credentials = c->credentials };
	range_below(30, &p.cert_warn);
	range_below(7, &p.cert_crit);
	if (c->warn_time > 0) {
		char t[16];
		snprintf(t, sizeof t, "%g", c->warn_time);
		range_parse(t, &p.warn_time);
	}
	struct arena a = { 0 };
	struct diagnosis d;
	diagnose(&h, &p, &a, &d);

	struct buf got;
	buf_init(&got);
	dump(&d, &got);
	ck_assert_msg(d.status == c->status, "%s: status %s, expected %s\n%s", c->name,
		      status_name(d.status), status_name(c->status), buf_cstr(&got));
	for (size_t i = 0; i < ARRAY_LEN(c->want) && c->want[i].id; i++)
		ck_assert_msg(has(&d, c->want[i].id, c->want[i].sev, c->want[i].port),
			      "%s: missing %s/%s/%d in\n%s", c->name, c->want[i].id,
			      severity_name(c->want[i].sev), c->want[i].port, buf_cstr(&got));
	for (size_t i = 0; i < ARRAY_LEN(c->absent) && c->absent[i]; i++)
		for (size_t k = 0; k < d.n; k++)
			ck_assert_msg(strcmp(d.findings[k].id, c->absent[i]), "%s: unexpected %s",
				      c->name, c->absent[i]);
	ck_assert_int_eq(d.rec.present, c->rec_port != 0);
	if (c->rec_port) {
		ck_assert_int_eq(d.rec.port, c->rec_port);
		ck_assert_int_eq(d.rec.security, c->rec_security);
		ck_assert_int_eq(d.rec.username, c->rec_username);
		ck_assert_msg(d.rec.login == c->rec_login, "%s: login %d, expected %d", c->name,
			      d.rec.login, c->rec_login);
		/* A login that did not succeed says so on the user-name line. */
		ck_assert((d.rec.login_note != NULL) ==
			  (c->rec_login != REC_LOGIN_NOT_GIVEN && c->rec_login != REC_LOGIN_ACCEPTED));
	}
	/* Every finding has a meaning and a message; the summary exists. */
	for (size_t i = 0; i < d.n; i++) {
		ck_assert_msg(finding_meaning(d.findings[i].id) != NULL, "%s", d.findings[i].id);
		ck_assert(d.findings[i].message && *d.findings[i].message);
	}
	ck_assert_ptr_nonnull(d.summary);
	ck_assert(strstr(d.summary, "mail.test") == d.summary);

	buf_free(&got);
	diagnosis_free(&d);
	arena_free(&a);
	host_result_free(&h);
}
END_TEST

/* Diagnose ports built from defs, the way rule_table does. */
static void diagnose_ports(const struct port_def *defs, size_t n, bool credentials,
			   struct host_result *h, struct arena *a, struct diagnosis *d)
{
	memset(h, 0, sizeof *h);
	h->name = "mail.test";
	h->dns_ok = true;
	h->nports = n;
	h->ports = calloc(n, sizeof *h->ports);
	for (size_t i = 0; i < n; i++)
		build(&h->ports[i], &defs[i]);
	struct diag_params p = default_params();
	p.credentials = credentials;
	diagnose(h, &p, a, d);
}

static const struct finding *finding_of(const struct diagnosis *d, const char *id, int port)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->findings[i].id, id) && d->findings[i].port == port)
			return &d->findings[i];
	return NULL;
}

static size_t advice_count(const struct finding *f)
{
	size_t n = 0;
	while (f && f->advice && f->advice[n])
		n++;
	return n;
}

/* Advice that would send the user the wrong way on this server is replaced. */
START_TEST(advice_fits_the_server)
{
	struct host_result h;
	struct arena a = { 0 };
	struct diagnosis d;

	/* A block list in the greeting: on 25 "use 587 or 465" helps; on 587
	 * it does not, only delisting does. */
	static const struct port_def blocked[] = {
		P(25, MODE_STARTTLS, GREETING_554), P(587, MODE_STARTTLS, GREETING_554),
	};
	memset(&h, 0, sizeof h);
	h.name = "mail.test";
	h.dns_ok = true;
	h.nports = 2;
	h.ports = calloc(2, sizeof *h.ports);
	for (size_t i = 0; i < 2; i++) {
		build(&h.ports[i], &blocked[i]);
		strcpy(h.ports[i].stop_enhanced, "5.7.1");
		h.ports[i].stop_text = "5.7.1 Client host [192.0.2.9] blocked using zen.spamhaus.org";
	}
	struct diag_params p = default_params();
	diagnose(&h, &p, &a, &d);
	const struct finding *f25 = finding_of(&d, "client-blocked", 25);
	const struct finding *f587 = finding_of(&d, "client-blocked", 587);
	ck_assert_ptr_nonnull(f25);
	ck_assert_ptr_nonnull(f587);
	ck_assert_uint_eq(advice_count(f25), 2);
	ck_assert(strstr(f25->advice[0], "instead of port 25") != NULL);
	ck_assert_uint_eq(advice_count(f587), 1);
	ck_assert(strstr(f587->advice[0], "delist") != NULL);
	diagnosis_free(&d);
	host_result_free(&h);

	/* No TLS on any port: no "choose STARTTLS or SSL/TLS". */
	static const struct port_def clear[] = {
		P(587, MODE_STARTTLS, CLEAR_AUTH), P(465, MODE_TLS, REFUSED),
	};
	diagnose_ports(clear, 2, false, &h, &a, &d);
	const struct finding *ct = finding_of(&d, "auth-cleartext", 587);
	const struct finding *sm = finding_of(&d, "starttls-missing", 587);
	ck_assert_ptr_nonnull(ct);
	ck_assert_ptr_nonnull(sm);
	ck_assert(strstr(ct->advice[0], "offers encryption") != NULL);
	ck_assert(strstr(sm->advice[0], "offers encryption") != NULL);
	ck_assert(!strstr(ct->advice[0], "Choose"));
	diagnosis_free(&d);
	host_result_free(&h);

	/* TLS only with a bad certificate: no "see the recommended settings",
	 * which say none, no "choose STARTTLS or SSL/TLS". */
	static const struct port_def badcert[] = {
		P(587, MODE_STARTTLS, CLEAR_AUTH),
		P(465, MODE_TLS, SECURE, .verify_flags = VERIFY_UNTRUSTED),
	};
	diagnose_ports(badcert, 2, false, &h, &a, &d);
	ct = finding_of(&d, "auth-cleartext", 587);
	sm = finding_of(&d, "starttls-missing", 587);
	ck_assert(strstr(ct->advice[0], "certificate that does not verify") != NULL);
	ck_assert(strstr(sm->advice[0], "certificate that does not verify") != NULL);
	ck_assert(!strstr(sm->advice[0], "recommended settings"));
	diagnosis_free(&d);
	host_result_free(&h);

	/* TLS on another port: the catalogue's advice stands. */
	static const struct port_def mixed[] = {
		P(587, MODE_STARTTLS, CLEAR_AUTH), P(465, MODE_TLS, SECURE),
	};
	diagnose_ports(mixed, 2, false, &h, &a, &d);
	ct = finding_of(&d, "auth-cleartext", 587);
	ck_assert_ptr_nonnull(ct);
	ck_assert(ct->advice == finding_lookup("auth-cleartext")->advice);
	diagnosis_free(&d);
	host_result_free(&h);
	arena_free(&a);
}
END_TEST

/* What the findings and the user-name line say when the login fails. */
START_TEST(login_words)
{
	struct host_result h;
	struct arena a = { 0 };
	struct diagnosis d;

	/* Wrong password on 587 and 465: the settings and the options for the
	 * client steps stay; no-submission-path names each port's reason. */
	static const struct port_def refused[] = {
		P(587, MODE_STARTTLS, SECURE, .login = LOGIN_535, .relay = RELAY_DENIED),
		P(465, MODE_TLS, SECURE, .login = LOGIN_535, .relay = RELAY_DENIED),
	};
	diagnose_ports(refused, 2, true, &h, &a, &d);
	ck_assert(d.rec.present);
	ck_assert_uint_eq(d.noptions, 2);
	ck_assert_msg(strstr(d.rec.login_note, "refused the login in every form tried "
			     "(\"alice@example.test\" and \"alice\")"), "%s", d.rec.login_note);
	const struct finding *np = finding_of(&d, "no-submission-path", 0);
	ck_assert_ptr_nonnull(np);
	ck_assert_msg(strstr(np->message, ": port 587 refused the login (535 5.7.8); port 465 "
			     "refused the login (535 5.7.8)"), "%s", np->message);
	ck_assert(!strstr(np->advice[0], "above"));
	diagnosis_free(&d);
	host_result_free(&h);

	/* "alice" alone: say that the full address was never tried. */
	static const struct port_def bare[] = {
		P(587, MODE_STARTTLS, SECURE, .login = LOGIN_535_BARE, .relay = RELAY_DENIED),
	};
	diagnose_ports(bare, 1, true, &h, &a, &d);
	const struct finding *af = finding_of(&d, "auth-failed", 587);
	ck_assert_ptr_nonnull(af);
	ck_assert_msg(strstr(af->message, "only the name as given was tried: -u alice@DOMAIN "
			     "(or --domain DOMAIN) also tries the full address"), "%s", af->message);
	ck_assert_msg(strstr(d.rec.login_note, "-u alice@DOMAIN"), "%s", d.rec.login_note);
	diagnosis_free(&d);
	host_result_free(&h);

	/* 454: the server could not check the login, it did not reject it. */
	static const struct port_def temp[] = {
		P(587, MODE_STARTTLS, SECURE, .login = LOGIN_454, .relay = RELAY_DENIED),
	};
	diagnose_ports(temp, 1, true, &h, &a, &d);
	const struct finding *tf = finding_of(&d, "auth-temporary-failure", 587);
	ck_assert_ptr_nonnull(tf);
	ck_assert_msg(strstr(tf->message, "could not check the login") &&
		      !strstr(tf->message, "rejected"), "%s", tf->message);
	np = finding_of(&d, "no-submission-path", 0);
	ck_assert_msg(strstr(np->message, "port 587 could not check the login just now (454)"),
		      "%s", np->message);
	diagnosis_free(&d);
	host_result_free(&h);
	arena_free(&a);
}
END_TEST

/* A list cut short in a message says how much is left out. */
START_TEST(cut_lists_say_so)
{
	static const struct port_def wrong[] = {
		P(465, MODE_TLS, SECURE, .verify_flags = VERIFY_HOSTNAME),
	};
	static char *names[] = { "a.test", "b.test", "c.test", "d.test", "e.test",
				 "f.test", "g.test", "h.test", "i.test", "j.test" };
	struct host_result h;
	struct arena a = { 0 };
	struct diagnosis d;
	diagnose_ports(wrong, 1, false, &h, &a, &d);
	diagnosis_free(&d);
	h.ports[0].tls.cert.names = names;
	h.ports[0].tls.cert.nnames = ARRAY_LEN(names);
	struct diag_params p = default_params();
	diagnose(&h, &p, &a, &d);
	const struct finding *f = finding_of(&d, "cert-hostname-mismatch", 465);
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(strstr(f->message, "g.test, h.test and 2 more, not for mail.test"), "%s",
		      f->message);
	h.ports[0].tls.cert.names = NULL;
	h.ports[0].tls.cert.nnames = 0;
	diagnosis_free(&d);
	host_result_free(&h);
	arena_free(&a);
}
END_TEST

/* Several hosts: CRITICAL, then UNKNOWN, then WARNING, then OK. */
START_TEST(worst_state_of_a_run)
{
	static const enum status order[] = {
		STATUS_OK, STATUS_WARNING, STATUS_UNKNOWN, STATUS_CRITICAL,
	};
	for (size_t i = 0; i < ARRAY_LEN(order); i++) {
		for (size_t k = 0; k < ARRAY_LEN(order); k++) {
			enum status want = order[i > k ? i : k];
			ck_assert_int_eq(status_worse(order[i], order[k]), want);
			ck_assert_int_eq(status_worse(order[k], order[i]), want);
		}
	}
}
END_TEST

/* The run's first line: worst state, counts, the hosts not OK named. */
START_TEST(run_status_line)
{
	const struct host_status hosts[] = {
		{ "a.test", STATUS_OK }, { "b.test", STATUS_CRITICAL },
		{ "c.test", STATUS_UNKNOWN }, { "d.test", STATUS_CRITICAL },
		{ "e.test", STATUS_WARNING }, { "f.test", STATUS_CRITICAL },
		{ "g|h.test", STATUS_CRITICAL },
	};
	struct buf b;
	buf_init(&b);
	report_run_status_line(hosts, ARRAY_LEN(hosts), &b);
	ck_assert_str_eq(buf_cstr(&b),
		"SMTPCHECK CRITICAL - 7 hosts: 4 CRITICAL (b.test, d.test, f.test and 1 more), "
		"1 UNKNOWN (c.test), 1 WARNING (e.test), 1 OK | 'hosts'=7;;;0; 'hosts_ok'=1;;;0; "
		"'hosts_warning'=1;;;0; 'hosts_critical'=4;;;0; 'hosts_unknown'=1;;;0;");
	buf_reset(&b);
	report_run_status_line(hosts, 1, &b);
	ck_assert(strncmp(buf_cstr(&b), "SMTPCHECK OK - 1 hosts: 1 OK | ", 31) == 0);
	buf_reset(&b);
	/* UNKNOWN outweighs WARNING; a '|' in a name cannot start perfdata. */
	report_run_status_line(hosts + 4, 3, &b);
	ck_assert_msg(strncmp(buf_cstr(&b), "SMTPCHECK CRITICAL - 3 hosts: 2 CRITICAL (f.test, "
			      "g h.test), 1 WARNING (e.test) | ", 76) == 0, "%s", buf_cstr(&b));
	buf_reset(&b);
	report_run_status_line((const struct host_status[]){ { "x", STATUS_WARNING },
							     { "y", STATUS_UNKNOWN } }, 2, &b);
	ck_assert(strncmp(buf_cstr(&b), "SMTPCHECK UNKNOWN - 2 hosts: 1 UNKNOWN (y), "
			  "1 WARNING (x) | ", 55) == 0);
	buf_free(&b);
}
END_TEST

/* A host the run's deadline left unprobed: UNKNOWN, one finding, why. */
START_TEST(not_probed_host)
{
	struct host_result h = { .name = "late.test", .dns_ok = true, .not_probed = true,
				 .not_probed_why = "not probed: the run's deadline of 2 s (-t) "
						   "passed before its turn" };
	struct diag_params p = default_params();
	struct arena a = { 0 };
	struct diagnosis d;
	diagnose(&h, &p, &a, &d);
	ck_assert_int_eq(d.status, STATUS_UNKNOWN);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_str_eq(d.findings[0].id, "not-probed");
	ck_assert_ptr_nonnull(finding_meaning("not-probed"));
	ck_assert_str_eq(d.summary, "late.test: not probed: the run's deadline of 2 s (-t) "
			 "passed before its turn");
	ck_assert(!d.rec.present);
	diagnosis_free(&d);
	arena_free(&a);
}
END_TEST

START_TEST(every_id_has_a_meaning)
{
	for (const struct finding_info *f = finding_catalogue; f->id; f++) {
		ck_assert_msg(f->meaning && *f->meaning, "%s", f->id);
		ck_assert_msg(!f->actionable || (f->advice && f->advice[0]),
			      "%s asks the user to act but has no advice", f->id);
	}
}
END_TEST

/* What Thunderbird's guess would take, from the same kind of results. */
struct tbcase {
	const char *name;
	struct port_def ports[3];
	size_t nports;
	const char *before_tls_ehlo;   /* replaces the clear EHLO of 587, or NULL */
	int port;                      /* 0: nothing chosen */
	enum security sec;
	const char *auth;
	bool works, weaker;
};

static const struct tbcase tbcases[] = {
	{ "implicit TLS with a good certificate wins",
	  { P(587, MODE_STARTTLS, SECURE), P(465, MODE_TLS, SECURE) }, 2, NULL,
	  465, SECURITY_TLS, "Normal password", true, false },
	{ "a bad certificate on 465 sends it to 587",
	  { P(587, MODE_STARTTLS, SECURE),
	    P(465, MODE_TLS, SECURE, .verify_flags = VERIFY_UNTRUSTED) }, 2, NULL,
	  587, SECURITY_STARTTLS, "Normal password", true, false },
	{ "CRAM-MD5 seen before STARTTLS but gone after it",
	  { P(587, MODE_STARTTLS, SECURE) }, 1,
	  "250-mail.test\r\n250-AUTH CRAM-MD5\r\n250 STARTTLS\r\n",
	  587, SECURITY_STARTTLS, "Encrypted password", false, false },
	{ "only a clear-text port",
	  { P(587, MODE_STARTTLS, CLEAR_AUTH) }, 1, NULL,
	  587, SECURITY_NONE, "Normal password", true, false },
	{ "nothing answers",
	  { P(587, MODE_STARTTLS, REFUSED), P(465, MODE_TLS, REFUSED) }, 2, NULL,
	  0, 0, NULL, false, false },
	/* weaker: worse than options[0], the best path the probe found */
	{ "AUTH only after STARTTLS: still \"Normal password\", never no authentication",
	  { P(587, MODE_STARTTLS, SECURE), P(465, MODE_TLS, REFUSED) }, 2, NULL,
	  587, SECURITY_STARTTLS, "Normal password", true, false },
	{ "clear 587 while implicit TLS works on a port Thunderbird never tries",
	  { P(587, MODE_STARTTLS, CLEAR_AUTH), P(2465, MODE_TLS, SECURE),
	    P(465, MODE_TLS, REFUSED) }, 3, NULL,
	  587, SECURITY_NONE, "Normal password", true, true },
	{ "clear 587 without AUTH fails, and is weaker than TLS on 2465",
	  { P(587, MODE_STARTTLS, CLEAR_AUTH), P(2465, MODE_TLS, SECURE),
	    P(465, MODE_TLS, REFUSED) }, 3, "250-mail.test\r\n250 8BITMIME\r\n",
	  587, SECURITY_NONE, "Normal password", false, true },
	{ "clear 587 and a bad certificate on 465: nothing better works",
	  { P(587, MODE_STARTTLS, CLEAR_AUTH),
	    P(465, MODE_TLS, SECURE, .verify_flags = VERIFY_UNTRUSTED) }, 2,
	  NULL, 587, SECURITY_NONE, "Normal password", true, false },
	{ "port 25 with STARTTLS while implicit TLS works on 2465",
	  { P(25, MODE_STARTTLS, SECURE), P(587, MODE_STARTTLS, CLEAR_AUTH),
	    P(2465, MODE_TLS, SECURE) }, 3, NULL,
	  25, SECURITY_STARTTLS, "Normal password", true, true },
	{ "port 25 with STARTTLS when it is the only path",
	  { P(25, MODE_STARTTLS, SECURE), P(587, MODE_STARTTLS, REFUSED),
	    P(465, MODE_TLS, REFUSED) }, 3, NULL,
	  25, SECURITY_STARTTLS, "Normal password", true, false },
};

START_TEST(thunderbird_guess)
{
	const struct tbcase *t = &tbcases[_i];
	struct host_result h;
	memset(&h, 0, sizeof h);
	h.name = "mail.test";
	h.dns_ok = true;
	h.nports = t->nports;
	h.ports = calloc(t->nports, sizeof *h.ports);
	for (size_t i = 0; i < t->nports; i++) {
		build(&h.ports[i], &t->ports[i]);
		if (t->before_tls_ehlo && h.ports[i].port == 587)
			caps(&h.ports[i].caps_before, t->before_tls_ehlo);
	}
	struct diag_params p = default_params();
	struct arena a = { 0 };
	struct diagnosis d;
	diagnose(&h, &p, &a, &d);
	struct tb_guess g;
	tb_guess(&h, &d, NULL, &a, &g);
	ck_assert_msg(g.decided == (t->port != 0), "%s: decided %d", t->name, g.decided);
	if (t->port) {
		ck_assert_int_eq(g.port, t->port);
		ck_assert_int_eq(g.security, t->sec);
		ck_assert_str_eq(g.auth, t->auth);
		ck_assert_msg(g.works == t->works, "%s: works %d (%s)", t->name, g.works, g.verdict);
		ck_assert_msg(g.weaker == t->weaker, "%s: weaker %d (%s)", t->name, g.weaker,
			      g.verdict);
		/* The verdict says it, and names the better path. */
		ck_assert_msg((strstr(g.verdict, "weaker than") != NULL) == t->weaker, "%s: %s",
			      t->name, g.verdict);
	}
	ck_assert_ptr_nonnull(g.verdict);
	diagnosis_free(&d);
	arena_free(&a);
	host_result_free(&h);
}
END_TEST

/* A mail domain without SRV: Thunderbird's order over smtp., mail. and the
 * domain (every 465 first, then STARTTLS host by host, then clear text). */
struct tbhostcase {
	const char *name;
	const char *servers[4];        /* the host of each port below */
	struct port_def ports[4];
	size_t nports;
	const char *server;            /* Thunderbird's pick */
	int port;
	enum security sec;
	bool works, weaker;
};

static const struct tbhostcase tbhostcases[] = {
	{ "implicit TLS on mail. beats clear text on smtp.",
	  { "smtp.example.test", "mail.example.test" },
	  { P(587, MODE_STARTTLS, CLEAR_AUTH), P(465, MODE_TLS, SECURE) }, 2,
	  "mail.example.test", 465, SECURITY_TLS, true, false },
	{ "smtp. before mail. when both offer 465",
	  { "mail.example.test", "smtp.example.test" },
	  { P(465, MODE_TLS, SECURE), P(465, MODE_TLS, SECURE) }, 2,
	  "smtp.example.test", 465, SECURITY_TLS, true, false },
	{ "STARTTLS on smtp. port 25 ranks above mail. port 587",
	  { "smtp.example.test", "smtp.example.test", "smtp.example.test", "mail.example.test" },
	  { P(25, MODE_STARTTLS, SECURE), P(587, MODE_STARTTLS, REFUSED),
	    P(465, MODE_TLS, REFUSED), P(587, MODE_STARTTLS, SECURE) }, 4,
	  "smtp.example.test", 25, SECURITY_STARTTLS, true, true },
	{ "clear text on smtp. while the MX host offers STARTTLS",
	  { "smtp.example.test", "mx.example.test" },
	  { P(587, MODE_STARTTLS, CLEAR_AUTH), P(587, MODE_STARTTLS, SECURE) }, 2,
	  "smtp.example.test", 587, SECURITY_NONE, true, true },
};

START_TEST(thunderbird_guess_hosts)
{
	const struct tbhostcase *t = &tbhostcases[_i];
	char *addr = "192.0.2.1";
	struct server_result servers[4] = {
		{ .name = "smtp.example.test", .source = SERVER_GUESS },
		{ .name = "mail.example.test", .source = SERVER_GUESS },
		{ .name = "example.test", .source = SERVER_GUESS },
		{ .name = "mx.example.test", .source = SERVER_MX },
	};
	for (size_t i = 0; i < ARRAY_LEN(servers); i++) {
		servers[i].asked = servers[i].dns_ok = true;
		servers[i].addrs = &addr;
		servers[i].naddrs = 1;
	}
	struct host_result h;
	memset(&h, 0, sizeof h);
	h.name = "alice@example.test";
	h.discovery = h.guessed = true;
	h.domain = "example.test";
	h.dns_ok = true;
	h.servers = servers;
	h.nservers = ARRAY_LEN(servers);
	h.addrs = &addr;
	h.naddrs = 1;
	h.nports = t->nports;
	h.ports = calloc(t->nports, sizeof *h.ports);
	for (size_t i = 0; i < t->nports; i++) {
		build(&h.ports[i], &t->ports[i]);
		h.ports[i].server = (char *)t->servers[i];
	}
	struct diag_params p = default_params();
	struct arena a = { 0 };
	struct diagnosis d;
	diagnose(&h, &p, &a, &d);
	struct tb_guess g;
	tb_guess(&h, &d, NULL, &a, &g);
	ck_assert(g.applicable);
	ck_assert_msg(g.decided, "%s: %s", t->name, g.verdict);
	ck_assert_str_eq(g.server, t->server);
	ck_assert_int_eq(g.port, t->port);
	ck_assert_int_eq(g.security, t->sec);
	ck_assert_msg(g.works == t->works, "%s: works %d (%s)", t->name, g.works, g.verdict);
	ck_assert_msg(g.weaker == t->weaker, "%s: weaker %d (%s)", t->name, g.weaker,
		      g.verdict);
	ck_assert_msg(!strncmp(g.verdict, "on ", 3), "%s", g.verdict);
	diagnosis_free(&d);
	arena_free(&a);
	host_result_free(&h);
}
END_TEST

/* ---- a mail domain: servers from DNS, DANE, reverse DNS ---- */

static struct dns_record tlsa_rec = { .type = DNS_T_TLSA, .ttl = 300, .usage = 3,
				      .selector = 1, .mtype = 1 };

struct dnscase {
	const char *name;
	bool ad;                /* the TLSA answer had the AD bit */
	bool dane_match;
	bool srv_target_resolves;
	bool submission_works;  /* the SRV server's 465 is a secure path */
	bool stall_at_mail;     /* 465 stopped answering at MAIL FROM */
	int mx_rcode;           /* the MX question's answer (0: NOERROR) */
	enum status status;
	const char *id;         /* a finding that must be there ... */
	enum severity sev;      /* ... with this severity */
	const char *absent;     /* a finding that must not */
};

static const struct dnscase dnscases[] = {
	{ "DANE matches without AD: information", false, true, true, true, false, 0, STATUS_OK,
	  "dane-ok", SEV_INFO, "dane-mismatch" },
	{ "DANE matches with AD", true, true, true, true, false, 0, STATUS_OK, "dane-ok", SEV_OK,
	  "dane-mismatch" },
	{ "DANE mismatch without AD is a warning", false, false, true, true, false, 0,
	  STATUS_WARNING, "dane-mismatch", SEV_WARNING, "dane-ok" },
	{ "DANE mismatch with AD is critical", true, false, true, true, false, 0,
	  STATUS_CRITICAL, "dane-mismatch", SEV_CRITICAL, "dane-ok" },
	{ "SRV target gone, another server works", false, true, false, true, false, 0,
	  STATUS_WARNING, "dns-srv-target-unresolved", SEV_WARNING, "dns-srv-missing" },
	{ "SRV target gone, nothing works", false, true, false, false, false, 0,
	  STATUS_CRITICAL, "dns-srv-target-unresolved", SEV_CRITICAL, "submission-ok" },
	{ "a stall at MAIL FROM is no path", false, true, true, true, true, 0,
	  STATUS_CRITICAL, "no-submission-path", SEV_CRITICAL, "submission-ok" },
	{ "MX SERVFAIL while submission works", false, true, true, true, false,
	  DNS_SERVFAIL, STATUS_WARNING, "dns-mx-failed", SEV_WARNING, "dns-mx-missing" },
	{ "MX REFUSED and nothing works", false, true, true, false, false, DNS_REFUSED,
	  STATUS_CRITICAL, "dns-mx-failed", SEV_CRITICAL, "dns-mx-missing" },
};

START_TEST(discovery_rules)
{
	const struct dnscase *t = &dnscases[_i];
	struct dns_answer srv = { .qname = "_submissions._tcp.example.test", .qtype = DNS_T_SRV };
	struct dns_record srv_rec = { .type = DNS_T_SRV, .ttl = 300, .port = 465,
				      .name = "_submissions._tcp.example.test",
				      .target = "mail.example.test" };
	srv.records = &srv_rec;
	srv.nrecords = 1;
	struct dns_answer mx = { .qname = "example.test", .qtype = DNS_T_MX };
	struct dns_record mx_rec = { .type = DNS_T_MX, .ttl = 300, .priority = 10,
				     .name = "example.test", .target = "mx.example.test" };
	mx.records = &mx_rec;
	mx.nrecords = t->mx_rcode ? 0 : 1;
	mx.rcode = t->mx_rcode;
	struct dns_answer tlsa = { .qname = "_25._tcp.mx.example.test", .qtype = DNS_T_TLSA,
				   .ad = t->ad, .records = &tlsa_rec, .nrecords = 1 };
	struct dns_answer *answers[] = { &srv, &mx, &tlsa };
	char *addr = "192.0.2.1";
	struct server_result servers[2] = {
		{ .name = "mail.example.test", .source = SERVER_SRV, .asked = true,
		  .dns_ok = t->srv_target_resolves, .addrs = &addr, .naddrs = 1,
		  .dns_error = t->srv_target_resolves ? NULL
			     : "looking up the addresses (A/AAAA) of mail.example.test: NXDOMAIN" },
		{ .name = "mx.example.test", .source = SERVER_MX, .asked = true, .dns_ok = true,
		  .addrs = &addr, .naddrs = 1, .tlsa = &tlsa },
	};
	struct host_result h;
	memset(&h, 0, sizeof h);
	h.name = "alice@example.test";
	h.discovery = true;
	h.domain = "example.test";
	h.dns_ok = true;
	h.servers = servers;
	h.nservers = 2;
	h.answers = answers;
	h.nanswers = 3;
	h.addrs = &addr;
	h.naddrs = 1;
	h.ports = calloc(2, sizeof *h.ports);
	struct port_def mxdef = P(25, MODE_STARTTLS, NO_AUTH);
	build(&h.ports[0], &mxdef);
	h.ports[0].server = "mx.example.test";
	h.ports[0].dane_checked = true;
	h.ports[0].dane_match = t->dane_match;
	h.ports[0].dane_ad = t->ad;
	h.ports[0].dane_authoritative = t->ad;
	h.ports[0].dane_detail = "TLSA 3 1 1 matches the server's certificate";
	h.ports[0].dane_usable = 1;
	h.nports = 1;
	if (t->srv_target_resolves || t->submission_works) {
		struct port_def def = P(465, MODE_TLS, t->submission_works ? SECURE : REFUSED);
		build(&h.ports[1], &def);
		h.ports[1].server = t->srv_target_resolves ? "mail.example.test" : "mx.example.test";
		if (t->stall_at_mail) {
			h.ports[1].completed = false;
			h.ports[1].fail = FAIL_TIMEOUT;
			h.ports[1].fail_state = PS_MAIL;
			h.ports[1].error = "timed out waiting for the reply to MAIL FROM";
		}
		h.nports = 2;
	}
	struct diag_params p = default_params();
	struct arena a = { 0 };
	struct diagnosis d;
	diagnose(&h, &p, &a, &d);
	struct buf got;
	buf_init(&got);
	dump(&d, &got);
	ck_assert_msg(d.status == t->status, "%s: status %s\n%s", t->name,
		      status_name(d.status), buf_cstr(&got));
	ck_assert_msg(has(&d, t->id, t->sev, 0) || has(&d, t->id, t->sev, 25),
		      "%s: missing %s/%s in\n%s", t->name, t->id, severity_name(t->sev),
		      buf_cstr(&got));
	for (size_t k = 0; k < d.n; k++) {
		ck_assert_msg(strcmp(d.findings[k].id, t->absent), "%s: unexpected %s", t->name,
			      t->absent);
		/* Several servers: a port's finding names its server. */
		const struct finding *f = &d.findings[k];
		if (f->port)
			ck_assert_msg(f->server && !strncmp(f->message, f->server, strlen(f->server)) &&
				      !strncmp(f->message + strlen(f->server), " port ", 6),
				      "%s", f->message);
	}
	ck_assert(has(&d, "dns-srv-found", SEV_OK, 0));
	if (d.rec.present && t->srv_target_resolves)
		ck_assert_str_eq(d.rec.server, "mail.example.test");
	buf_free(&got);
	diagnosis_free(&d);
	arena_free(&a);
	host_result_free(&h);
}
END_TEST

Suite *diagnose_suite(void)
{
	Suite *s = suite_create("diagnose");
	TCase *tc = tcase_create("rules");
	tcase_add_loop_test(tc, rule_table, 0, (int)ARRAY_LEN(cases));
	tcase_add_test(tc, every_id_has_a_meaning);
	tcase_add_test(tc, worst_state_of_a_run);
	tcase_add_test(tc, run_status_line);
	tcase_add_test(tc, not_probed_host);
	tcase_add_test(tc, advice_fits_the_server);
	tcase_add_test(tc, login_words);
	tcase_add_test(tc, cut_lists_say_so);
	tcase_add_loop_test(tc, thunderbird_guess, 0, (int)ARRAY_LEN(tbcases));
	tcase_add_loop_test(tc, thunderbird_guess_hosts, 0, (int)ARRAY_LEN(tbhostcases));
	tcase_add_loop_test(tc, discovery_rules, 0, (int)ARRAY_LEN(dnscases));
	suite_add_tcase(s, tc);
	return s;
}
