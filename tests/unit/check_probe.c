/*
 * check_probe.c - every transition of the port-probe state machine,
 * driven by scripted events, no sockets. Each script starts a fresh
 * probe and checks the state and action after every event, then what
 * the session left in the result.
 */
#include <string.h>

#include "probe.h"
#include "suites.h"

struct step {
	enum probe_event_kind ev;
	const char *reply;                /* for EV_REPLY, wire format */
	enum probe_state state;           /* expected after the event */
	enum probe_action_kind act;       /* expected action */
	const char *line;                 /* expected commands; NULL: none sent */
	uint64_t wait_us;                 /* expected timer the probe asks for */
};

/*
 * What the driver (session.c) writes into the result before it hands the
 * probe an event; the probe reads it from there.
 */
struct driver {
	const char *heard;            /* mismatch_text for EV_TLS_CLEARTEXT in the
					 implicit TLS handshake, sniff_text for
					 EV_SPEAKS_OTHER */
	enum fail_kind cause;         /* res.fail before EV_CLOSED, EV_CONNECT_FAILED */
	const char *error;            /* res.error before EV_CLOSED,
					 EV_CONNECT_FAILED, EV_PROTOCOL_ERROR */
	const char *tls_error;        /* res.tls.error before EV_TLS_FAILED */
	bool unverified;              /* EV_TLS_OK: the chain does not verify */
};

/* How the session ended: checked when completed or error is set. */
struct outcome {
	bool completed;               /* reached QUIT, no failure, no error */
	enum fail_kind fail;
	enum probe_state fail_state;
	const char *error;            /* the whole sentence */
	int stop_code;                /* the reply that ended it; 0: none */
	enum probe_state stop_state;
};

#define COMPLETED { .completed = true }
#define FAILED(kind, st, msg) { .fail = (kind), .fail_state = (st), .error = (msg) }
#define STOPPED(code, st, msg) { .fail = FAIL_REJECTED, .fail_state = (st), .error = (msg), \
				 .stop_code = (code), .stop_state = (st) }

struct script {
	const char *name;
	enum tls_mode mode;
	const struct probe_opts *opts;
	bool injection;               /* the --injection-test session */
	struct driver drv;
	struct step steps[12];
	size_t nsteps;
	struct outcome end;
	void (*check)(const struct port_result *res);   /* more to check, or NULL */
};

/* base64("\0alice@example.test\0s3cret") and the local-part form. */
#define PLAIN_FULL "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQ="
#define PLAIN_LOCAL "AUTH PLAIN AGFsaWNlAHMzY3JldA=="
#define EHLO_PIPE "250-mail.test\r\n250-PIPELINING\r\n250 AUTH PLAIN LOGIN\r\n"
#define EHLO_NOPIPE "250-mail.test\r\n250 AUTH LOGIN PLAIN\r\n"

static const struct probe_opts relay_only = {
	.mail_from = "", .rcpt_to = "x@example.com", .relay_test = true,
};
static const struct probe_opts creds = {
	.user = "alice@example.test", .password = "s3cret", .alt_user = "alice",
	.mail_from = "alice@example.test", .rcpt_to = "x@example.com", .relay_test = true,
};
static const struct probe_opts creds_only = {
	.user = "alice@example.test", .password = "s3cret", .alt_user = "alice",
	.mail_from = "", .rcpt_to = "x@example.com",
};
static const struct probe_opts trials = {
	.mail_from = "", .rcpt_to = "x@example.com", .try_mechanisms = true,
};
static const struct probe_opts relay_trials = {
	.mail_from = "", .rcpt_to = "x@example.com", .relay_test = true,
	.try_mechanisms = true,
};
static const struct probe_opts creds_in_clear = {
	.user = "alice@example.test", .password = "s3cret", .alt_user = "alice",
	.mail_from = "", .rcpt_to = "x@example.com", .insecure_auth = true,
};
static const struct probe_opts creds_cram = {
	.user = "alice@example.test", .password = "s3cret", .alt_user = "alice",
	.mail_from = "", .rcpt_to = "x@example.com", .force_mech = MECH_CRAM_MD5,
};
/* One byte over SASL_MAX_CRED: the client refuses to start. */
#define X16 "xxxxxxxxxxxxxxxx"
#define X256 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16 X16
static const struct probe_opts creds_overlong = {
	.user = "alice@example.test", .password = X256 "x", .alt_user = "alice",
	.mail_from = "", .rcpt_to = "x@example.com",
};

#define S(...) { __VA_ARGS__ }
#define WAIT PROBE_INJECT_WAIT_US
#define GREET220 "220 mail.test ESMTP\r\n"
#define EHLO_TLS "250-mail.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
#define EHLO_AUTH "250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n"
#define EHLO_PLAIN "250-mail.test\r\n250 8BITMIME\r\n"
#define SSH_BANNER "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"

/* The opening of an implicit TLS session, up to the EHLO. */
#define TLS_OPENING \
	S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL), \
	S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL), \
	S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example")
/* The same in clear text. */
#define CLEAR_OPENING \
	S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL), \
	S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example")
/* --injection-test: HELP sent in clear with STARTTLS, then QUIT alone under TLS. */
#define INJECTION_OPENING \
	CLEAR_OPENING, \
	S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS\r\nHELP"), \
	S(EV_REPLY, "220 2.0.0 Ready to start TLS\r\n", PS_STARTTLS_HANDSHAKE, \
	  ACT_START_TLS, NULL), \
	S(EV_TLS_OK, NULL, PS_INJECT_CHECK, ACT_SEND, "QUIT", WAIT)

/* ---- what the scripts leave in the result, beyond how they ended ---- */

static void check_helo(const struct port_result *res)
{
	ck_assert(res->helo_used);
	ck_assert_int_eq(res->ehlo_code, 502);   /* the EHLO's, not the HELO's */
	ck_assert_str_eq(res->ehlo_error, "5.5.2 command not recognized");
	ck_assert(!res->caps_before.valid);
}

static void check_starttls_refused(const struct port_result *res)
{
	ck_assert(res->starttls_offered);
	ck_assert_int_eq(res->starttls_code, 454);
	ck_assert(res->tls.attempted && !res->tls.ok);
	ck_assert_str_eq(res->tls.error, "STARTTLS refused: 454 4.7.0 TLS not available");
}

static void check_tls_to_clear(const struct port_result *res)
{
	ck_assert_int_eq(res->mismatch, MISMATCH_TLS_TO_CLEAR);
	ck_assert_int_eq(res->mode_requested, MODE_TLS);
	ck_assert_int_eq(res->mode, MODE_STARTTLS);
	ck_assert(res->connected);
	ck_assert(!res->tls.attempted);
}

static void check_relay_denied(const struct port_result *res)
{
	const struct relay_result *t = &res->relay;
	ck_assert(t->done && !t->accepted && !t->authenticated && !t->pipelined);
	ck_assert_int_eq(t->mail_code, 250);
	ck_assert_int_eq(t->rcpt_code, 554);
	ck_assert_str_eq(t->rcpt_enhanced, "5.7.1");
	ck_assert_str_eq(t->rcpt_text, "5.7.1 Relay access denied");
}

static void check_relay_needs_auth(const struct port_result *res)
{
	ck_assert(res->relay.done && !res->relay.accepted);
	ck_assert_int_eq(res->relay.mail_code, 530);
	ck_assert_int_eq(res->relay.rcpt_code, 0);
}

static void check_relay_pipelined(const struct port_result *res)
{
	ck_assert(res->relay.done && res->relay.pipelined && !res->relay.accepted);
	ck_assert_int_eq(res->relay.rcpt_code, 554);
}

static void check_login_steps(const struct port_result *res)
{
	ck_assert_uint_eq(res->nauth, 1);
	ck_assert_str_eq(res->auth[0].mech, "LOGIN");
	ck_assert(res->auth[0].ok);
	ck_assert_int_eq(res->auth_ok_index, 0);
}

static void check_no_auth_in_clear(const struct port_result *res)
{
	ck_assert_int_eq(res->auth_status, AUTH_SKIPPED_CLEARTEXT);
	ck_assert_uint_eq(res->nauth, 0);
}

static void check_trials_after_tls(const struct port_result *res)
{
	ck_assert_uint_eq(res->nmech_tests, 2);
	ck_assert_str_eq(res->mech_tests[0].mech, "PLAIN");
	ck_assert(res->mech_tests[0].works && !res->mech_tests[0].before_tls);
	ck_assert_int_eq(res->mech_tests[0].code, 334);
	ck_assert_int_eq(res->mech_tests[0].cancel_code, 501);
	ck_assert_str_eq(res->mech_tests[1].mech, "CRAM-MD5");
	ck_assert(!res->mech_tests[1].works);
	ck_assert_int_eq(res->mech_tests[1].code, 504);
	ck_assert_str_eq(res->mech_tests[1].enhanced, "5.5.4");
}

static void check_trials_both_sides(const struct port_result *res)
{
	static const struct { const char *mech; bool before, works; int code; } want[] = {
		{ "PLAIN", true, true, 334 },
		{ "PLAIN", false, true, 334 },
		{ "LOGIN", false, false, 504 },
	};
	ck_assert_uint_eq(res->nmech_tests, ARRAY_LEN(want));
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		const struct mech_test *t = &res->mech_tests[i];
		ck_assert_str_eq(t->mech, want[i].mech);
		ck_assert_msg(t->before_tls == want[i].before && t->works == want[i].works,
			      "trial %zu: before_tls %d works %d", i, t->before_tls, t->works);
		ck_assert_int_eq(t->code, want[i].code);
	}
	ck_assert(res->tls.ok);
	ck_assert_uint_eq(res->caps_before.nmech, 1);
	ck_assert_uint_eq(res->caps_after.nmech, 2);
}

/* The clear-text trials ran once, before the refused STARTTLS: not again. */
static void check_trials_once_in_clear(const struct port_result *res)
{
	ck_assert_uint_eq(res->nmech_tests, 1);
	ck_assert_str_eq(res->mech_tests[0].mech, "PLAIN");
	ck_assert(res->mech_tests[0].before_tls);
	ck_assert_int_eq(res->starttls_code, 454);
	ck_assert(!res->tls.ok);
}

static void check_trials_with_relay(const struct port_result *res)
{
	ck_assert(res->relay.done && res->relay.pipelined);
	ck_assert_int_eq(res->relay.rcpt_code, 554);
	ck_assert_uint_eq(res->nmech_tests, 2);
	ck_assert(res->mech_tests[0].works && res->mech_tests[1].works);
	ck_assert_str_eq(res->mech_tests[1].mech, "LOGIN");
}

static void check_injection_safe(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_SAFE);
	ck_assert_int_eq(res->injection_replies, 1);
	ck_assert_int_eq(res->injection_code, 221);
	ck_assert_str_eq(res->injection_text, "2.0.0 Bye");
	ck_assert_ptr_null(res->injection_error);
	ck_assert(res->tls.ok);
	/* The session stops at the check: no EHLO under TLS. */
	ck_assert(!res->caps_after.valid);
}

static void check_injection_vulnerable(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_VULNERABLE);
	ck_assert_int_eq(res->injection_replies, 2);
	ck_assert_int_eq(res->injection_code, 214);
	ck_assert_str_eq(res->injection_text, "2.0.0 Commands: HELO EHLO MAIL RCPT DATA");
	ck_assert_ptr_null(res->injection_error);
}

/* The HELP answered 250, as NOOP would be: still a reply before the 221. */
static void check_injection_help_250(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_VULNERABLE);
	ck_assert_int_eq(res->injection_code, 250);
}

/* Two replies to one QUIT, neither 221: the HELP ran. */
static void check_injection_two_refusals(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_VULNERABLE);
	ck_assert_int_eq(res->injection_replies, 2);
	ck_assert_int_eq(res->injection_code, 502);
}

/* One reply, not 221, then the end: it answered QUIT or HELP. */
static void check_injection_one_421(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_INCONCLUSIVE);
	ck_assert_int_eq(res->injection_replies, 1);
	ck_assert_int_eq(res->injection_code, 421);
	ck_assert_str_eq(res->injection_error, "the only reply under TLS was 421 4.3.2 "
			 "Closing, which may answer either the QUIT or the HELP sent in clear");
}

static void check_injection_silent(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_INCONCLUSIVE);
	ck_assert_int_eq(res->injection_replies, 0);
	ck_assert_int_eq(res->injection_code, 0);
	ck_assert_str_eq(res->injection_error, "no reply came under TLS");
}

/* QUIT never answered under TLS: the test's own wait ends the session. */
static void check_injection_wait_over(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_INCONCLUSIVE);
	ck_assert_int_eq(res->injection_replies, 0);
	ck_assert_str_eq(res->injection_error, "no reply came under TLS within 1.5 s of our QUIT");
	ck_assert_int_eq(res->fail, FAIL_NONE);
}

/* 214 is HELP's answer, never QUIT's: the HELP ran, the 221 need not come. */
static void check_injection_214_alone(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_VULNERABLE);
	ck_assert_int_eq(res->injection_replies, 1);
	ck_assert_int_eq(res->injection_code, 214);
	ck_assert_ptr_null(res->injection_error);
}

static void check_injection_354_alone(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_VULNERABLE);
	ck_assert_int_eq(res->injection_code, 354);
}

/* An error may answer QUIT: alone within the wait, it cannot tell. */
static void check_injection_one_502_wait_over(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_INCONCLUSIVE);
	ck_assert_int_eq(res->injection_replies, 1);
	ck_assert_str_eq(res->injection_error, "no second reply came within 1.5 s: the only "
			 "reply under TLS was 502 5.5.1 HELP not implemented, which may answer "
			 "either the QUIT or the HELP sent in clear");
}

/* STARTTLS refused on the injection connection: nothing tested, and the
 * HELP's clear-text answer is taken by no step (the session just quits). */
static void check_injection_starttls_refused(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_UNTESTED);
	ck_assert_int_eq(res->injection_code, 0);
	ck_assert_str_eq(res->injection_error, "STARTTLS refused: 454 4.7.0 TLS not available");
	ck_assert_int_eq(res->relay.mail_code, 0);
}

static void check_injection_untestable(const struct port_result *res)
{
	ck_assert_int_eq(res->injection_verdict, INJECTION_UNTESTED);
	ck_assert_str_eq(res->injection_error, "the port does not offer STARTTLS");
	ck_assert(!res->tls.attempted);
}

static void check_not_smtp_hello(const struct port_result *res)
{
	ck_assert_int_eq(res->mismatch, MISMATCH_NONE);
	ck_assert_int_eq(res->mode, MODE_TLS);
	ck_assert_str_eq(res->mismatch_text, SSH_BANNER);
	ck_assert_int_eq(res->greeting_code, 0);
}

static void check_second_switch_refused(const struct port_result *res)
{
	/* Asked in STARTTLS, switched to TLS once, heard clear text there. */
	ck_assert_int_eq(res->mode_requested, MODE_STARTTLS);
	ck_assert_int_eq(res->mode, MODE_TLS);
	ck_assert_int_eq(res->mismatch, MISMATCH_TLS_TO_CLEAR);
	ck_assert(res->tls.attempted && !res->tls.ok);
	ck_assert_str_eq(res->tls.error, "the server answered the TLS ClientHello in clear text");
}

static void check_starttls_421(const struct port_result *res)
{
	ck_assert_int_eq(res->starttls_code, 421);
	ck_assert_str_eq(res->starttls_enhanced, "4.3.2");
	ck_assert(res->tls.attempted && !res->tls.ok);
	ck_assert_str_eq(res->tls.error, "STARTTLS refused: 421 4.3.2 Service shutting down");
	ck_assert_str_eq(res->stop_enhanced, "4.3.2");
}

static void check_auth_421(const struct port_result *res)
{
	ck_assert_int_eq(res->auth_status, AUTH_TRIED);
	ck_assert_uint_eq(res->nauth, 1);   /* no second user-name form */
	ck_assert_int_eq(res->auth[0].code, 421);
	ck_assert(!res->auth[0].ok);
	ck_assert_int_eq(res->auth_ok_index, -1);
}

static void check_rcpt_421(const struct port_result *res)
{
	ck_assert_int_eq(res->relay.mail_code, 250);
	ck_assert_int_eq(res->relay.rcpt_code, 421);
	ck_assert(!res->relay.accepted);
	ck_assert(!res->relay.done);
}

static void check_rset_421(const struct port_result *res)
{
	ck_assert_int_eq(res->relay.rcpt_code, 554);
	ck_assert(res->relay.done);
}

static void check_cut_short(const struct port_result *res)
{
	/* The replies to the group never came. */
	ck_assert_int_eq(res->relay.mail_code, 0);
	ck_assert(!res->relay.done);
}

static void check_send_failed(const struct port_result *res)
{
	/* The driver's cause and sentence stay, and the state it happened in
	 * is recorded (the EHLO was being sent): a connection lost
	 * mid-session, not after QUIT. */
	ck_assert_int_eq(res->fail, FAIL_CLOSED);
	ck_assert_int_eq(res->fail_state, PS_EHLO);
	ck_assert_str_eq(res->error, "sending failed: Broken pipe");
	ck_assert(!res->completed);
}

static void check_late_sniff(const struct port_result *res)
{
	ck_assert_int_eq(res->mismatch, MISMATCH_NONE);
	ck_assert_int_eq(res->mode, MODE_STARTTLS);
	ck_assert_str_eq(res->sniff_text, SSH_BANNER);
}

static void check_no_auth_offered(const struct port_result *res)
{
	ck_assert_int_eq(res->auth_status, AUTH_SKIPPED_NO_AUTH);
	ck_assert_uint_eq(res->nauth, 0);
}

static void check_no_common_mech(const struct port_result *res)
{
	ck_assert_int_eq(res->auth_status, AUTH_SKIPPED_NO_MECH);
	ck_assert_uint_eq(res->nauth, 0);
}

static void check_overlong_password(const struct port_result *res)
{
	ck_assert_int_eq(res->auth_status, AUTH_TRIED);
	ck_assert_uint_eq(res->nauth, 1);
	ck_assert_str_eq(res->auth[0].mech, "PLAIN");
	ck_assert_str_eq(res->auth[0].error, "user name or password longer than 256 bytes");
	ck_assert_int_eq(res->auth[0].code, 0);
	ck_assert_int_eq(res->auth_ok_index, -1);
}

static void check_login_cancelled(const struct port_result *res)
{
	ck_assert_uint_eq(res->nauth, 1);   /* our failure: no second form */
	ck_assert_str_eq(res->auth[0].error,
			 "the server asked for more than user name and password");
	ck_assert_int_eq(res->auth[0].code, 501);
	ck_assert(!res->auth[0].ok);
}

static void check_both_forms_refused(const struct port_result *res)
{
	ck_assert_uint_eq(res->nauth, 2);
	ck_assert_str_eq(res->auth[0].username, "alice@example.test");
	ck_assert_str_eq(res->auth[1].username, "alice");
	ck_assert(!res->auth[1].full_address);
	ck_assert_int_eq(res->auth[0].code, 535);
	ck_assert_int_eq(res->auth[1].code, 535);
	ck_assert_int_eq(res->auth_ok_index, -1);
}

static void check_auth_disabled(const struct port_result *res)
{
	ck_assert_uint_eq(res->nauth, 1);
	ck_assert_int_eq(res->auth[0].code, 535);
	ck_assert_str_eq(res->auth[0].enhanced, "5.7.139");
}

static void check_auth_in_clear(const struct port_result *res)
{
	ck_assert(!res->tls.attempted);
	ck_assert_uint_eq(res->nauth, 1);
	ck_assert(res->auth[0].ok);
	ck_assert_str_eq(res->auth[0].mech, "PLAIN");
}

static void check_ehlo_554(const struct port_result *res)
{
	ck_assert_int_eq(res->ehlo_code, 554);
	ck_assert(!res->ehlo_ok && !res->helo_used);
	ck_assert_ptr_null(res->ehlo_error);
}

static void check_clear_to_tls(const struct port_result *res)
{
	ck_assert_int_eq(res->mismatch, MISMATCH_CLEAR_TO_TLS);
	ck_assert_int_eq(res->mode_requested, MODE_STARTTLS);
	ck_assert_int_eq(res->mode, MODE_TLS);
	ck_assert(res->tls.ok);
}

static const struct script scripts[] = {
	{ .name = "starttls happy path", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "220 2.0.0 Ready to start TLS\r\n", PS_STARTTLS_HANDSHAKE,
		  ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_EHLO_TLS, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_AUTH, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 6, .end = COMPLETED },
	{ .name = "implicit tls happy path", .mode = MODE_TLS, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_AUTH, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED },
	{ .name = "no starttls offered", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_PLAIN, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 3, .end = COMPLETED },
	{ .name = "EHLO refused, HELO accepted", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, "502 5.5.2 command not recognized\r\n", PS_HELO, ACT_SEND,
		  "HELO probe.example"),
		S(EV_REPLY, "250 mail.test\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED, .check = check_helo },
	{ .name = "HELO refused too", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, "500 what\r\n", PS_HELO, ACT_SEND, "HELO probe.example"),
		S(EV_REPLY, "501 go away\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = STOPPED(501, PS_HELO, "the server answered 501 to HELO: go away") },
	{ .name = "EHLO answered 421", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, "421 4.7.0 too many connections\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 3, .end = STOPPED(421, PS_EHLO, "the server answered 421 to EHLO: "
				       "4.7.0 too many connections") },
	{ .name = "EHLO answered 554: no HELO after it", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, "554 5.7.1 go away\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 3, .end = STOPPED(554, PS_EHLO, "the server answered 554 to EHLO: "
				       "5.7.1 go away"), .check = check_ehlo_554 },
	{ .name = "greeting 554", .mode = MODE_STARTTLS, .steps = {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, "554 5.7.1 listed at a blocklist\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 2, .end = STOPPED(554, PS_GREETING, "the server answered 554 to the "
				       "connection (greeting): 5.7.1 listed at a blocklist") },
	{ .name = "greeting 421", .mode = MODE_STARTTLS, .steps = {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, "421 4.3.2 busy\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 2, .end = STOPPED(421, PS_GREETING, "the server answered 421 to the "
				       "connection (greeting): 4.3.2 busy") },
	{ .name = "STARTTLS answered 454", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "454 4.7.0 TLS not available\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED, .check = check_starttls_refused },
	{ .name = "STARTTLS answered 421 ends the session", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "421 4.3.2 Service shutting down\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = STOPPED(421, PS_STARTTLS, "the server answered 421 to STARTTLS: "
				       "4.3.2 Service shutting down"), .check = check_starttls_421 },
	{ .name = "STARTTLS handshake fails", .mode = MODE_STARTTLS,
	  .drv = { .tls_error = "wrong version number" }, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "220 go\r\n", PS_STARTTLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_FAILED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 5, .end = FAILED(FAIL_TLS, PS_STARTTLS_HANDSHAKE,
				      "TLS handshake failed: wrong version number") },
	{ .name = "clear text instead of ServerHello", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "220 go\r\n", PS_STARTTLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_CLEARTEXT, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 5, .end = FAILED(FAIL_TLS, PS_STARTTLS_HANDSHAKE, "TLS handshake failed: "
				      "the server sent clear text instead of a TLS ServerHello") },
	{ .name = "EHLO after TLS refused", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "220 go\r\n", PS_STARTTLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_EHLO_TLS, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, "554 5.7.0 no\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 6, .end = STOPPED(554, PS_EHLO_TLS, "the server answered 554 to EHLO: "
				       "5.7.0 no") },
	{ .name = "implicit TLS handshake fails", .mode = MODE_TLS, .steps = {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_FAILED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 2, .end = FAILED(FAIL_TLS, PS_TLS_HANDSHAKE,
				      "TLS handshake failed: unknown error") },
	{ .name = "implicit TLS answered in clear: reconnect once in STARTTLS mode",
	  .mode = MODE_TLS, .drv = { .heard = "220 mail.test ESMTP" }, .steps = {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_CLEARTEXT, NULL, PS_CONNECTING, ACT_RECONNECT, NULL),
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_PLAIN, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 5, .end = COMPLETED, .check = check_tls_to_clear },
	{ .name = "implicit TLS answered in clear text that is not SMTP", .mode = MODE_TLS,
	  .drv = { .heard = SSH_BANNER }, .steps = {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_CLEARTEXT, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 2, .end = FAILED(FAIL_PROTOCOL, PS_GREETING, "the port answered the TLS "
				      "hello in clear text, and not in SMTP: '" SSH_BANNER "'"),
	  .check = check_not_smtp_hello },
	{ .name = "silent clear port speaks TLS: reconnect once in TLS mode", .mode = MODE_STARTTLS,
	  .steps = {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_SPEAKS_TLS, NULL, PS_CONNECTING, ACT_RECONNECT, NULL),
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_SPEAKS_TLS, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_AUTH, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 7, .end = COMPLETED, .check = check_clear_to_tls },
	{ .name = "switched to TLS, the TLS hello answered in clear: no second switch",
	  .mode = MODE_STARTTLS, .drv = { .heard = "220 mail.test ESMTP" }, .steps = {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_SPEAKS_TLS, NULL, PS_CONNECTING, ACT_RECONNECT, NULL),
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_CLEARTEXT, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 4, .end = FAILED(FAIL_TLS, PS_TLS_HANDSHAKE, "TLS handshake failed: the "
				      "server answered the TLS ClientHello in clear text"),
	  .check = check_second_switch_refused },
	{ .name = "silent clear port answers another protocol", .mode = MODE_STARTTLS,
	  .drv = { .heard = SSH_BANNER }, .steps = {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_SPEAKS_OTHER, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 2, .end = FAILED(FAIL_PROTOCOL, PS_GREETING, "the port says nothing until "
				      "spoken to, and then answers in another protocol: '"
				      SSH_BANNER "'") },
	{ .name = "late sniff results after the greeting change nothing", .mode = MODE_STARTTLS,
	  .drv = { .heard = SSH_BANNER }, .steps = {
		CLEAR_OPENING,
		S(EV_SPEAKS_OTHER, NULL, PS_EHLO, ACT_NONE, NULL),
		S(EV_SPEAKS_TLS, NULL, PS_EHLO, ACT_NONE, NULL),
		S(EV_REPLY, EHLO_PLAIN, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 5, .end = COMPLETED, .check = check_late_sniff },
	{ .name = "connect fails", .mode = MODE_STARTTLS, .steps = {
		S(EV_CONNECT_FAILED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 1, .end = FAILED(FAIL_CONNECT, PS_CONNECTING, "connect failed") },
	{ .name = "connect refused: the driver's sentence stays", .mode = MODE_STARTTLS,
	  .drv = { .cause = FAIL_REFUSED, .error = "connection refused" }, .steps = {
		S(EV_CONNECT_FAILED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 1, .end = FAILED(FAIL_REFUSED, PS_CONNECTING, "connection refused") },
	{ .name = "timeout while connecting", .mode = MODE_STARTTLS, .steps = {
		S(EV_TIMEOUT, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 1, .end = FAILED(FAIL_TIMEOUT, PS_CONNECTING, "timed out connecting") },
	{ .name = "timeout waiting for the greeting", .mode = MODE_STARTTLS, .steps = {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_TIMEOUT, NULL, PS_DONE, ACT_CLOSE, NULL),
		S(EV_REPLY, GREET220, PS_DONE, ACT_NONE, NULL),
	}, .nsteps = 3, .end = FAILED(FAIL_TIMEOUT, PS_GREETING,
				      "timed out waiting for the greeting") },
	{ .name = "timeout in the TLS handshake", .mode = MODE_TLS, .steps = {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TIMEOUT, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 2, .end = FAILED(FAIL_TIMEOUT, PS_TLS_HANDSHAKE,
				      "timed out in the TLS handshake") },
	{ .name = "closed after EHLO", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 3, .end = FAILED(FAIL_CLOSED, PS_EHLO, "the server closed the connection "
				      "while waiting for the reply to EHLO") },
	{ .name = "reset while waiting for MAIL", .mode = MODE_TLS, .opts = &relay_only,
	  .drv = { .cause = FAIL_RESET }, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_NOPIPE, PS_MAIL, ACT_SEND, "MAIL FROM:<>"),
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 5, .end = FAILED(FAIL_RESET, PS_MAIL, "the server reset the connection "
				      "while waiting for the reply to MAIL FROM") },
	{ .name = "sending fails under TLS: the driver's sentence stays", .mode = MODE_TLS,
	  .drv = { .cause = FAIL_CLOSED, .error = "sending failed: Broken pipe" }, .steps = {
		TLS_OPENING,
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 4, .check = check_send_failed },
	{ .name = "protocol error in the greeting", .mode = MODE_STARTTLS, .steps = {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_PROTOCOL_ERROR, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 2, .end = FAILED(FAIL_PROTOCOL, PS_GREETING,
				      "protocol error while waiting for the greeting") },
	{ .name = "protocol error the driver describes", .mode = MODE_STARTTLS,
	  .drv = { .error = "reply code outside 200..599: '199 hm'" }, .steps = {
		CLEAR_OPENING,
		S(EV_PROTOCOL_ERROR, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 3, .end = FAILED(FAIL_PROTOCOL, PS_EHLO, "reply code outside 200..599: "
				      "'199 hm' while waiting for the reply to EHLO") },
	{ .name = "unexpected event is a protocol failure", .mode = MODE_STARTTLS, .steps = {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_TLS_OK, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 2, .end = FAILED(FAIL_PROTOCOL, PS_GREETING,
				      "unexpected TLS done while waiting for the greeting") },
	{ .name = "reply while connecting is unexpected", .mode = MODE_STARTTLS, .steps = {
		S(EV_REPLY, GREET220, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 1, .end = FAILED(FAIL_PROTOCOL, PS_CONNECTING,
				      "unexpected reply while connecting") },
	{ .name = "reply in the TLS handshake is unexpected", .mode = MODE_TLS, .steps = {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_REPLY, GREET220, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 2, .end = FAILED(FAIL_PROTOCOL, PS_TLS_HANDSHAKE,
				      "unexpected reply while in the TLS handshake") },
	{ .name = "TLS done while waiting for EHLO is unexpected", .mode = MODE_STARTTLS, .steps = {
		CLEAR_OPENING,
		S(EV_TLS_OK, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 3, .end = FAILED(FAIL_PROTOCOL, PS_EHLO, "unexpected TLS done while "
				      "waiting for the reply to EHLO") },
	{ .name = "relay test, no PIPELINING: one command at a time", .mode = MODE_TLS,
	  .opts = &relay_only, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_NOPIPE, PS_MAIL, ACT_SEND, "MAIL FROM:<>"),
		S(EV_REPLY, "250 2.1.0 Ok\r\n", PS_RCPT, ACT_SEND, "RCPT TO:<x@example.com>"),
		S(EV_REPLY, "554 5.7.1 Relay access denied\r\n", PS_RSET, ACT_SEND, "RSET"),
		S(EV_REPLY, "250 2.0.0 Ok\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 7, .end = COMPLETED, .check = check_relay_denied },
	{ .name = "relay test refused at MAIL skips RCPT", .mode = MODE_TLS, .opts = &relay_only,
	  .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_NOPIPE, PS_MAIL, ACT_SEND, "MAIL FROM:<>"),
		S(EV_REPLY, "530 5.7.0 Authentication required\r\n", PS_RSET, ACT_SEND, "RSET"),
		S(EV_REPLY, "250 Ok\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 6, .end = COMPLETED, .check = check_relay_needs_auth },
	{ .name = "relay test: 421 to RCPT ends the session", .mode = MODE_TLS,
	  .opts = &relay_only, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_NOPIPE, PS_MAIL, ACT_SEND, "MAIL FROM:<>"),
		S(EV_REPLY, "250 2.1.0 Ok\r\n", PS_RCPT, ACT_SEND, "RCPT TO:<x@example.com>"),
		S(EV_REPLY, "421 4.7.0 closing\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 6, .end = STOPPED(421, PS_RCPT, "the server answered 421 to RCPT TO: "
				       "4.7.0 closing"), .check = check_rcpt_421 },
	{ .name = "relay test: 421 to RSET ends the session", .mode = MODE_TLS,
	  .opts = &relay_only, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_NOPIPE, PS_MAIL, ACT_SEND, "MAIL FROM:<>"),
		S(EV_REPLY, "250 2.1.0 Ok\r\n", PS_RCPT, ACT_SEND, "RCPT TO:<x@example.com>"),
		S(EV_REPLY, "554 5.7.1 Relay access denied\r\n", PS_RSET, ACT_SEND, "RSET"),
		S(EV_REPLY, "421 4.4.2 timeout\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 7, .end = STOPPED(421, PS_RSET, "the server answered 421 to RSET: "
				       "4.4.2 timeout"), .check = check_rset_421 },
	{ .name = "relay test with PIPELINING: one group, QUIT with it", .mode = MODE_TLS,
	  .opts = &relay_only, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_REPLY, "250 2.1.0 Ok\r\n", PS_RCPT, ACT_NONE, NULL),
		S(EV_REPLY, "554 5.7.1 Relay access denied\r\n", PS_RSET, ACT_NONE, NULL),
		S(EV_REPLY, "250 2.0.0 Ok\r\n", PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_relay_pipelined },
	{ .name = "login after the relay test, retry with the local part, relay again",
	  .mode = MODE_TLS, .opts = &creds, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<alice@example.test>\r\nRCPT TO:<x@example.com>\r\nRSET\r\n"
		  PLAIN_FULL),
		S(EV_REPLY, "250 Ok\r\n", PS_RCPT, ACT_NONE, NULL),
		S(EV_REPLY, "554 5.7.1 Relay access denied\r\n", PS_RSET, ACT_NONE, NULL),
		S(EV_REPLY, "250 Ok\r\n", PS_AUTH, ACT_NONE, NULL),
		S(EV_REPLY, "535 5.7.8 Error: authentication failed\r\n", PS_AUTH, ACT_SEND,
		  PLAIN_LOCAL),
		S(EV_REPLY, "235 2.7.0 Authentication successful\r\n", PS_MAIL, ACT_SEND,
		  "MAIL FROM:<alice@example.test>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_REPLY, "250 Ok\r\n", PS_RCPT, ACT_NONE, NULL),
		S(EV_REPLY, "250 Ok\r\n", PS_RSET, ACT_NONE, NULL),
		S(EV_REPLY, "250 Ok\r\n", PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 12, .end = COMPLETED },
	{ .name = "LOGIN step by step, no relay test", .mode = MODE_TLS, .opts = &creds_only,
	  .steps = {
		TLS_OPENING,
		S(EV_REPLY, "250-x\r\n250 AUTH LOGIN\r\n", PS_AUTH, ACT_SEND, "AUTH LOGIN"),
		S(EV_REPLY, "334 VXNlcm5hbWU6\r\n", PS_AUTH, ACT_SEND, "YWxpY2VAZXhhbXBsZS50ZXN0"),
		S(EV_REPLY, "334 UGFzc3dvcmQ6\r\n", PS_AUTH, ACT_SEND, "czNjcmV0"),
		S(EV_REPLY, "235 ok\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 7, .end = COMPLETED, .check = check_login_steps },
	{ .name = "LOGIN asks a third question: cancelled, no second form", .mode = MODE_TLS,
	  .opts = &creds_only, .steps = {
		TLS_OPENING,
		S(EV_REPLY, "250-x\r\n250 AUTH LOGIN\r\n", PS_AUTH, ACT_SEND, "AUTH LOGIN"),
		S(EV_REPLY, "334 VXNlcm5hbWU6\r\n", PS_AUTH, ACT_SEND, "YWxpY2VAZXhhbXBsZS50ZXN0"),
		S(EV_REPLY, "334 UGFzc3dvcmQ6\r\n", PS_AUTH, ACT_SEND, "czNjcmV0"),
		S(EV_REPLY, "334 VGhpcmQ6\r\n", PS_AUTH, ACT_SEND, "*"),
		S(EV_REPLY, "501 5.7.0 Authentication aborted\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 8, .end = COMPLETED, .check = check_login_cancelled },
	{ .name = "AUTH refused in both user-name forms", .mode = MODE_TLS, .opts = &creds_only,
	  .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_AUTH, PS_AUTH, ACT_SEND, PLAIN_FULL),
		S(EV_REPLY, "535 5.7.8 Error: authentication failed\r\n", PS_AUTH, ACT_SEND,
		  PLAIN_LOCAL),
		S(EV_REPLY, "535 5.7.8 Error: authentication failed\r\n", PS_DONE, ACT_QUIT,
		  "QUIT"),
	}, .nsteps = 6, .end = COMPLETED, .check = check_both_forms_refused },
	{ .name = "AUTH 535 for a reason other than the credentials: no second form",
	  .mode = MODE_TLS, .opts = &creds_only, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_AUTH, PS_AUTH, ACT_SEND, PLAIN_FULL),
		S(EV_REPLY, "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
		  "is disabled for the Tenant.\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 5, .end = COMPLETED, .check = check_auth_disabled },
	{ .name = "AUTH answered 421 ends the session", .mode = MODE_TLS, .opts = &creds_only,
	  .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_AUTH, PS_AUTH, ACT_SEND, PLAIN_FULL),
		S(EV_REPLY, "421 4.7.0 Too many failed logins\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 5, .end = STOPPED(421, PS_AUTH, "the server answered 421 to AUTH: "
				       "4.7.0 Too many failed logins"), .check = check_auth_421 },
	{ .name = "credentials, but no AUTH offered", .mode = MODE_TLS, .opts = &creds_only,
	  .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_PLAIN, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED, .check = check_no_auth_offered },
	{ .name = "credentials, no mechanism in common", .mode = MODE_TLS, .opts = &creds_only,
	  .steps = {
		TLS_OPENING,
		S(EV_REPLY, "250-mail.test\r\n250 AUTH GSSAPI NTLM\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED, .check = check_no_common_mech },
	{ .name = "--auth-mech the server does not offer", .mode = MODE_TLS, .opts = &creds_cram,
	  .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_AUTH, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED, .check = check_no_common_mech },
	{ .name = "password too long for the client: no AUTH sent", .mode = MODE_TLS,
	  .opts = &creds_overlong, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_AUTH, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED, .check = check_overlong_password },
	{ .name = "no password over clear text", .mode = MODE_STARTTLS, .opts = &creds_only,
	  .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_NOPIPE, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 3, .end = COMPLETED, .check = check_no_auth_in_clear },
	{ .name = "--insecure-auth: the password goes in clear text", .mode = MODE_STARTTLS,
	  .opts = &creds_in_clear, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_NOPIPE, PS_AUTH, ACT_SEND, PLAIN_FULL),
		S(EV_REPLY, "235 2.7.0 Authentication successful\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED, .check = check_auth_in_clear },
	{ .name = "STARTTLS refused: the session goes on in clear", .mode = MODE_STARTTLS,
	  .opts = &relay_only, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "454 4.7.0 TLS not available\r\n", PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_REPLY, "530 5.7.0 Must issue a STARTTLS command first\r\n", PS_RCPT,
		  ACT_NONE, NULL),
		S(EV_REPLY, "530 5.7.0 Must issue a STARTTLS command first\r\n", PS_RSET,
		  ACT_NONE, NULL),
		S(EV_REPLY, "250 2.0.0 Ok\r\n", PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_starttls_refused },
	{ .name = "mechanism trials: 334 then cancel, 504", .mode = MODE_TLS, .opts = &trials,
	  .steps = {
		TLS_OPENING,
		S(EV_REPLY, "250-x\r\n250 AUTH PLAIN CRAM-MD5\r\n", PS_MECH_TRY, ACT_SEND,
		  "AUTH PLAIN"),
		S(EV_REPLY, "334 \r\n", PS_MECH_CANCEL, ACT_SEND, "*"),
		S(EV_REPLY, "501 5.7.0 Authentication aborted\r\n", PS_MECH_TRY, ACT_SEND,
		  "AUTH CRAM-MD5"),
		S(EV_REPLY, "504 5.5.4 Unrecognized authentication type\r\n", PS_DONE, ACT_QUIT,
		  "QUIT"),
	}, .nsteps = 7, .end = COMPLETED, .check = check_trials_after_tls },
	{ .name = "mechanism trials before STARTTLS, then again under TLS",
	  .mode = MODE_STARTTLS, .opts = &trials, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, "250-mail.test\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n", PS_MECH_TRY,
		  ACT_SEND, "AUTH PLAIN"),
		S(EV_REPLY, "334 \r\n", PS_MECH_CANCEL, ACT_SEND, "*"),
		S(EV_REPLY, "501 5.7.0 Authentication aborted\r\n", PS_STARTTLS, ACT_SEND,
		  "STARTTLS"),
		S(EV_REPLY, "220 go\r\n", PS_STARTTLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_EHLO_TLS, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_AUTH, PS_MECH_TRY, ACT_SEND, "AUTH PLAIN"),
		S(EV_REPLY, "334 \r\n", PS_MECH_CANCEL, ACT_SEND, "*"),
		S(EV_REPLY, "501 5.7.0 Authentication aborted\r\n", PS_MECH_TRY, ACT_SEND,
		  "AUTH LOGIN"),
		S(EV_REPLY, "504 5.5.4 Unrecognized authentication type\r\n", PS_DONE, ACT_QUIT,
		  "QUIT"),
	}, .nsteps = 11, .end = COMPLETED, .check = check_trials_both_sides },
	{ .name = "mechanism trials follow a pipelined relay test in its group",
	  .mode = MODE_TLS, .opts = &relay_trials, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nAUTH PLAIN"),
		S(EV_REPLY, "250 2.1.0 Ok\r\n", PS_RCPT, ACT_NONE, NULL),
		S(EV_REPLY, "554 5.7.1 Relay access denied\r\n", PS_RSET, ACT_NONE, NULL),
		S(EV_REPLY, "250 2.0.0 Ok\r\n", PS_MECH_TRY, ACT_NONE, NULL),
		S(EV_REPLY, "334 \r\n", PS_MECH_CANCEL, ACT_SEND, "*"),
		S(EV_REPLY, "501 5.7.0 Authentication aborted\r\n", PS_MECH_TRY, ACT_SEND,
		  "AUTH LOGIN"),
		S(EV_REPLY, "334 VXNlcm5hbWU6\r\n", PS_MECH_CANCEL, ACT_SEND, "*"),
		S(EV_REPLY, "501 5.7.0 Authentication aborted\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 11, .end = COMPLETED, .check = check_trials_with_relay },
	{ .name = "421 in the middle of a pipelined group ends the session", .mode = MODE_TLS,
	  .opts = &relay_only, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_REPLY, "421 4.7.0 Too many errors\r\n", PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 5, .end = STOPPED(421, PS_MAIL, "the server answered 421 to MAIL FROM: "
				       "4.7.0 Too many errors") },
	{ .name = "close after our QUIT is the expected end", .mode = MODE_TLS,
	  .opts = &relay_only, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 5, .end = COMPLETED, .check = check_cut_short },
	{ .name = "reset after our QUIT is the expected end too", .mode = MODE_TLS,
	  .opts = &relay_only, .drv = { .cause = FAIL_RESET }, .steps = {
		TLS_OPENING,
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 5, .end = COMPLETED, .check = check_cut_short },
	{ .name = "injection test: the HELP is discarded, QUIT answered first", .mode = MODE_STARTTLS,
	  .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_REPLY, "221 2.0.0 Bye\r\n", PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 6, .end = COMPLETED, .check = check_injection_safe },
	{ .name = "injection test: the HELP is answered under TLS, then the QUIT",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_REPLY, "214 2.0.0 Commands: HELO EHLO MAIL RCPT DATA\r\n", PS_INJECT_CHECK,
		  ACT_NONE, NULL),
		S(EV_REPLY, "221 2.0.0 Bye\r\n", PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_injection_vulnerable },
	{ .name = "injection test: the HELP answered 250 is a reply too many",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_REPLY, "250 2.0.0 Ok\r\n", PS_INJECT_CHECK, ACT_NONE, NULL),
		S(EV_REPLY, "221 2.0.0 Bye\r\n", PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_injection_help_250 },
	{ .name = "injection test: two replies to one QUIT, neither 221",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_REPLY, "502 5.5.1 HELP not implemented\r\n", PS_INJECT_CHECK, ACT_NONE, NULL,
		  WAIT),
		S(EV_REPLY, "500 5.5.1 go away\r\n", PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_injection_two_refusals },
	{ .name = "injection test: one 421 and a close cannot tell",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_REPLY, "421 4.3.2 Closing\r\n", PS_INJECT_CHECK, ACT_NONE, NULL, WAIT),
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_injection_one_421 },
	{ .name = "injection test: closed under TLS without a reply cannot tell",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 6, .end = COMPLETED, .check = check_injection_silent },
	{ .name = "injection test: QUIT unanswered, the wait ends it, cannot tell",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_WAIT_OVER, NULL, PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 6, .end = COMPLETED, .check = check_injection_wait_over },
	{ .name = "injection test: 214 first cannot answer QUIT, vulnerable without the 221",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_REPLY, "214 2.0.0 see RFC 5321\r\n", PS_INJECT_CHECK, ACT_NONE, NULL),
		S(EV_WAIT_OVER, NULL, PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_injection_214_alone },
	{ .name = "injection test: 354 first is no answer to QUIT either",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_REPLY, "354 go ahead\r\n", PS_INJECT_CHECK, ACT_NONE, NULL),
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_injection_354_alone },
	{ .name = "injection test: one 502, then nothing within the wait: cannot tell",
	  .mode = MODE_STARTTLS, .injection = true, .steps = {
		INJECTION_OPENING,
		S(EV_REPLY, "502 5.5.1 HELP not implemented\r\n", PS_INJECT_CHECK, ACT_NONE, NULL,
		  WAIT),
		S(EV_WAIT_OVER, NULL, PS_DONE, ACT_QUIT, NULL),
	}, .nsteps = 7, .end = COMPLETED, .check = check_injection_one_502_wait_over },
	{ .name = "injection test on a port without STARTTLS", .mode = MODE_STARTTLS,
	  .injection = true, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_PLAIN, PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 3, .end = COMPLETED, .check = check_injection_untestable },
	{ .name = "injection test, STARTTLS refused: quit, the HELP's answer is nobody's",
	  .mode = MODE_STARTTLS, .opts = &relay_only, .injection = true, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS\r\nHELP"),
		S(EV_REPLY, "454 4.7.0 TLS not available\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 4, .end = COMPLETED, .check = check_injection_starttls_refused },
	{ .name = "mechanism trials before a refused STARTTLS are not repeated in clear",
	  .mode = MODE_STARTTLS, .opts = &trials, .steps = {
		CLEAR_OPENING,
		S(EV_REPLY, "250-mail.test\r\n250-AUTH PLAIN\r\n250 STARTTLS\r\n", PS_MECH_TRY,
		  ACT_SEND, "AUTH PLAIN"),
		S(EV_REPLY, "334 \r\n", PS_MECH_CANCEL, ACT_SEND, "*"),
		S(EV_REPLY, "501 5.7.0 Authentication aborted\r\n", PS_STARTTLS, ACT_SEND,
		  "STARTTLS"),
		S(EV_REPLY, "454 4.7.0 TLS not available\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, .nsteps = 6, .end = COMPLETED, .check = check_trials_once_in_clear },
};

static struct reply_parser P;

static const struct reply *make_reply(const char *s)
{
	size_t used;
	reply_parser_reset(&P);
	ck_assert_int_eq(reply_parser_feed(&P, s, strlen(s), &used), REPLY_COMPLETE);
	return &P.reply;
}

struct run {
	struct probe p;
	struct port_result res;
	struct arena arena;
};

static void start(struct run *r, enum tls_mode mode, const struct probe_opts *o, uint64_t t0)
{
	memset(r, 0, sizeof *r);
	r->res.port = 587;
	probe_init(&r->p, &r->res, &r->arena, mode, o, t0);
	strcpy(r->p.ehlo_name, "probe.example");
	r->p.trace = true;
}

static void finish_run(struct run *r)
{
	probe_free(&r->p);
	port_result_free(&r->res);
	arena_free(&r->arena);
}

/* Do to the result what session.c does before it dispatches ev. */
static void drive(struct run *r, const struct driver *d, enum probe_event_kind ev)
{
	struct port_result *res = &r->res;
	switch (ev) {
	case EV_TLS_OK:
		res->tls.verified = !d->unverified;
		break;
	case EV_TLS_CLEARTEXT:
		if (r->p.state == PS_TLS_HANDSHAKE)
			res->mismatch_text = arena_strdup(&r->arena, d->heard);
		break;
	case EV_SPEAKS_OTHER:
		res->sniff_text = arena_strdup(&r->arena, d->heard);
		break;
	case EV_TLS_FAILED:
		res->tls.error = arena_strdup(&r->arena, d->tls_error);
		break;
	case EV_CLOSED:
	case EV_CONNECT_FAILED:
		if (d->cause)
			res->fail = d->cause;
		/* fall through */
	case EV_PROTOCOL_ERROR:
		if (d->error)
			res->error = arena_strdup(&r->arena, d->error);
		break;
	default:
		break;
	}
}

static void check_outcome(const struct script *sc, const struct port_result *res)
{
	const struct outcome *e = &sc->end;
	if (e->completed) {
		ck_assert_msg(res->completed && res->fail == FAIL_NONE && !res->error,
			      "%s: not completed (fail %d: %s)", sc->name, res->fail,
			      res->error ? res->error : "no error");
		ck_assert_int_eq(res->fail_state, PS_DONE);
	} else if (e->error) {
		ck_assert_msg(!res->completed, "%s: completed", sc->name);
		ck_assert_msg(res->fail == e->fail, "%s: fail %d, expected %d", sc->name,
			      res->fail, e->fail);
		ck_assert_msg(res->fail_state == (int)e->fail_state,
			      "%s: failed in %s, expected %s", sc->name,
			      probe_states[res->fail_state].name,
			      probe_states[e->fail_state].name);
		ck_assert_str_eq(res->error, e->error);
	} else {
		return;
	}
	ck_assert_int_eq(res->stop_code, e->stop_code);
	ck_assert_int_eq(res->stop_state, e->stop_code ? (int)e->stop_state : PS_DONE);
}

/* The steps after nsteps are zero: a count too small would skip some. */
static bool unused_step(const struct step *st)
{
	return st->ev == 0 && !st->reply && st->state == 0 && st->act == 0 && !st->line;
}

START_TEST(scripted_transitions)
{
	const struct script *sc = &scripts[_i];
	struct run r;
	reply_parser_init(&P);
	start(&r, sc->mode, sc->opts, 1000);
	r.p.injection_probe = sc->injection;
	uint64_t t = 1000;
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct step *st = &sc->steps[i];
		struct probe_action act;
		ck_assert_msg(!unused_step(st), "%s: nsteps %zu, only %zu steps", sc->name,
			      sc->nsteps, i);
		t += 100;
		drive(&r, &sc->drv, st->ev);
		probe_event(&r.p, st->ev, st->reply ? make_reply(st->reply) : NULL, t, &act);
		ck_assert_msg(r.p.state == st->state,
			      "%s, step %zu (%s): state %s, expected %s", sc->name, i,
			      probe_event_name(st->ev), probe_states[r.p.state].name,
			      probe_states[st->state].name);
		ck_assert_msg(act.kind == st->act, "%s, step %zu: action %d, expected %d",
			      sc->name, i, act.kind, st->act);
		ck_assert_int_eq(probe_done(&r.p), st->state == PS_DONE);
		ck_assert_msg(act.wait_us == st->wait_us, "%s, step %zu: wait %llu, expected %llu",
			      sc->name, i, (unsigned long long)act.wait_us,
			      (unsigned long long)st->wait_us);
		if (st->line)
			ck_assert_str_eq(act.line, st->line);
		else
			ck_assert_msg(act.ncmds == 0 && !act.line[0], "%s, step %zu: sent %s",
				      sc->name, i, act.line);
	}
	for (size_t i = sc->nsteps; i < ARRAY_LEN(sc->steps); i++)
		ck_assert_msg(unused_step(&sc->steps[i]), "%s: nsteps %zu leaves steps out",
			      sc->name, sc->nsteps);
	check_outcome(sc, &r.res);
	if (sc->check)
		sc->check(&r.res);
	finish_run(&r);
	reply_parser_free(&P);
}
END_TEST

/* What the happy STARTTLS path leaves in the result. */
START_TEST(results_of_starttls_path)
{
	struct run r;
	struct probe_action act;
	reply_parser_init(&P);
	start(&r, MODE_STARTTLS, NULL, 0);
	probe_event(&r.p, EV_CONNECTED, NULL, 1000, &act);
	probe_event(&r.p, EV_REPLY, make_reply(GREET220), 1500000, &act);
	probe_event(&r.p, EV_REPLY, make_reply("250-mail.test\r\n250-AUTH LOGIN\r\n"
					       "250 STARTTLS\r\n"), 1600000, &act);
	probe_event(&r.p, EV_REPLY, make_reply("220 go\r\n"), 1700000, &act);
	probe_event(&r.p, EV_TLS_OK, NULL, 1800000, &act);
	probe_event(&r.p, EV_REPLY, make_reply(EHLO_AUTH), 1900000, &act);
	ck_assert(r.res.connected);
	ck_assert(r.res.completed);
	ck_assert_int_eq(r.res.fail, FAIL_NONE);
	ck_assert_int_eq(r.res.greeting_code, 220);
	ck_assert_str_eq(r.res.banner, "mail.test ESMTP");
	ck_assert(r.res.starttls_offered);
	ck_assert_int_eq(r.res.starttls_code, 220);
	ck_assert(r.res.tls.attempted);
	ck_assert_uint_eq(r.res.caps_before.nmech, 1);
	ck_assert_uint_eq(r.res.caps_after.nmech, 2);
	/* Phases are booked to the state the time was spent in. */
	ck_assert(r.res.timed[PH_CONNECT]);
	ck_assert_uint_eq(r.res.timing_us[PH_CONNECT], 1000);
	ck_assert_uint_eq(r.res.timing_us[PH_GREETING], 1499000);
	ck_assert_uint_eq(r.res.greeting_wait_us, 1499000);
	ck_assert_uint_eq(r.res.timing_us[PH_EHLO], 100000);
	ck_assert_uint_eq(r.res.timing_us[PH_STARTTLS], 100000);
	ck_assert_uint_eq(r.res.timing_us[PH_TLS], 100000);
	ck_assert_uint_eq(r.res.timing_us[PH_EHLO_TLS], 100000);
	ck_assert_uint_eq(r.res.total_us, 1900000);
	/* The transcript traces every change of state. */
	ck_assert(r.res.transcript.n >= 6);
	ck_assert_str_eq(r.res.transcript.lines[0].text, "CONNECT -> GREETING");
	finish_run(&r);
	reply_parser_free(&P);
}
END_TEST

START_TEST(timeout_names_the_state)
{
	struct run r;
	struct probe_action act;
	reply_parser_init(&P);
	start(&r, MODE_STARTTLS, NULL, 0);
	probe_event(&r.p, EV_CONNECTED, NULL, 10, &act);
	probe_event(&r.p, EV_REPLY, make_reply(GREET220), 20, &act);
	probe_event(&r.p, EV_TIMEOUT, NULL, 30, &act);
	ck_assert_int_eq(r.res.fail, FAIL_TIMEOUT);
	ck_assert_int_eq(r.res.fail_state, PS_EHLO);
	ck_assert_str_eq(r.res.error, "timed out waiting for the reply to EHLO");
	finish_run(&r);
	reply_parser_free(&P);
}
END_TEST

START_TEST(stop_reply_is_kept)
{
	struct run r;
	struct probe_action act;
	reply_parser_init(&P);
	start(&r, MODE_STARTTLS, NULL, 0);
	probe_event(&r.p, EV_CONNECTED, NULL, 10, &act);
	probe_event(&r.p, EV_REPLY, make_reply("554-5.7.1 blocked\r\n554 see url\r\n"), 20, &act);
	ck_assert_int_eq(r.res.stop_code, 554);
	ck_assert_str_eq(r.res.stop_enhanced, "5.7.1");
	ck_assert_str_eq(r.res.stop_text, "5.7.1 blocked\nsee url");
	ck_assert_int_eq(r.res.stop_state, PS_GREETING);
	ck_assert_int_eq(r.res.fail, FAIL_REJECTED);
	ck_assert(!r.res.completed);
	finish_run(&r);
	reply_parser_free(&P);
}
END_TEST

/*
 * Ways a session ends, each followed by every event the driver could still
 * deliver (a reply already in the buffer, a late sniff, the deadline, the
 * peer's close): the machine stays DONE, asks for nothing and keeps the
 * result it ended with. There is no QUIT state: the 221 is never awaited.
 */
struct ending {
	const char *name;
	enum probe_event_kind ev[4];
	const char *reply[4];
	size_t n;
	enum probe_action_kind last;   /* the action that ended it */
};

static const struct ending endings[] = {
	{ "QUIT sent after a clear session",
	  { EV_CONNECTED, EV_REPLY, EV_REPLY }, { NULL, GREET220, EHLO_PLAIN }, 3, ACT_QUIT },
	{ "421 greeting", { EV_CONNECTED, EV_REPLY }, { NULL, "421 4.7.0 busy\r\n" }, 2,
	  ACT_QUIT },
	{ "closed while waiting for EHLO", { EV_CONNECTED, EV_REPLY, EV_CLOSED },
	  { NULL, GREET220, NULL }, 3, ACT_CLOSE },
	{ "the deadline in GREETING", { EV_CONNECTED, EV_TIMEOUT }, { NULL, NULL }, 2, ACT_CLOSE },
	{ "connect failed", { EV_CONNECT_FAILED }, { NULL }, 1, ACT_CLOSE },
};

START_TEST(events_after_the_end)
{
	const struct ending *e = &endings[_i];
	static const enum probe_event_kind late[] = {
		EV_CONNECTED, EV_CONNECT_FAILED, EV_REPLY, EV_TLS_OK, EV_TLS_FAILED,
		EV_TLS_CLEARTEXT, EV_SPEAKS_TLS, EV_SPEAKS_OTHER, EV_CLOSED,
		EV_PROTOCOL_ERROR, EV_TIMEOUT, EV_WAIT_OVER,
	};
	static const char *const replies[] = {
		"221 2.0.0 Bye\r\n", "250 2.0.0 Ok\r\n", "421 4.3.2 Shutting down\r\n",
		"554 5.7.1 go away\r\n", "220 mail.test ESMTP\r\n",
	};
	struct run r;
	struct probe_action act;
	reply_parser_init(&P);
	start(&r, MODE_STARTTLS, NULL, 0);
	uint64_t t = 0;
	for (size_t i = 0; i < e->n; i++) {
		if (e->ev[i] == EV_CLOSED || e->ev[i] == EV_CONNECT_FAILED) {
			r.res.fail = e->ev[i] == EV_CLOSED ? FAIL_CLOSED : FAIL_REFUSED;
			r.res.error = "set by the driver";
		}
		probe_event(&r.p, e->ev[i], e->reply[i] ? make_reply(e->reply[i]) : NULL,
			    t += 10, &act);
	}
	ck_assert_msg(probe_done(&r.p), "%s: not done", e->name);
	ck_assert_int_eq(act.kind, e->last);
	const struct port_result before = r.res;
	for (size_t k = 0; k < ARRAY_LEN(late); k++) {
		for (size_t m = 0; m < (late[k] == EV_REPLY ? ARRAY_LEN(replies) : 1); m++) {
			memset(&act, 0x5a, sizeof act);
			probe_event(&r.p, late[k], late[k] == EV_REPLY ? make_reply(replies[m]) : NULL,
				    t += 10, &act);
			ck_assert_msg(act.kind == ACT_NONE && act.ncmds == 0 && !act.line[0],
				      "%s: %s asked for action %d", e->name,
				      probe_event_name(late[k]), act.kind);
			ck_assert(probe_done(&r.p));
			ck_assert_int_eq(r.res.fail, before.fail);
			ck_assert_int_eq(r.res.fail_state, before.fail_state);
			ck_assert_ptr_eq(r.res.error, before.error);
			ck_assert_int_eq(r.res.completed, before.completed);
			ck_assert_int_eq(r.res.stop_code, before.stop_code);
			ck_assert_int_eq(r.res.greeting_code, before.greeting_code);
			ck_assert(r.res.total_us == before.total_us);
			ck_assert_uint_eq(r.res.transcript.n, before.transcript.n);
			ck_assert(!memcmp(r.res.timing_us, before.timing_us, sizeof before.timing_us));
		}
	}
	finish_run(&r);
	reply_parser_free(&P);
}
END_TEST

START_TEST(mode_switch_is_recorded)
{
	struct run r;
	struct probe_action act;
	start(&r, MODE_TLS, NULL, 0);
	probe_event(&r.p, EV_CONNECTED, NULL, 10, &act);
	probe_event(&r.p, EV_TLS_CLEARTEXT, NULL, 20, &act);
	ck_assert_int_eq(r.res.mismatch, MISMATCH_TLS_TO_CLEAR);
	ck_assert_int_eq(r.res.mode, MODE_STARTTLS);
	ck_assert_int_eq(r.res.mode_requested, MODE_TLS);
	ck_assert(!r.res.tls.attempted);
	/* The second time there is no second switch. */
	probe_event(&r.p, EV_CONNECTED, NULL, 30, &act);
	ck_assert_int_eq(act.kind, ACT_NONE);
	finish_run(&r);
}
END_TEST

/* The script of a login that needs the second user-name form. */
static const struct script *login_script(void)
{
	for (size_t i = 0; i < sizeof scripts / sizeof *scripts; i++)
		if (!strncmp(scripts[i].name, "login after", 11))
			return &scripts[i];
	ck_abort_msg("no login script");
	return NULL;
}

/* The same login script, but the chain did not verify: no AUTH is sent. */
START_TEST(no_password_to_unverified_server)
{
	const struct script *sc = login_script();
	struct run r;
	struct probe_action act;
	reply_parser_init(&P);
	start(&r, sc->mode, sc->opts, 0);
	for (size_t i = 0; i < sc->nsteps && r.p.state != PS_DONE; i++) {
		probe_event(&r.p, sc->steps[i].ev,
			    sc->steps[i].reply ? make_reply(sc->steps[i].reply) : NULL,
			    (i + 1) * 10, &act);
		if (act.kind == ACT_SEND)
			ck_assert_msg(strncmp(act.line, "AUTH", 4), "sent %s", act.line);
		if (r.p.state == PS_AUTH)
			break;
	}
	ck_assert_int_eq(r.res.auth_status, AUTH_SKIPPED_UNVERIFIED);
	ck_assert_uint_eq(r.res.nauth, 0);
	finish_run(&r);
}
END_TEST

START_TEST(results_of_login_retry)
{
	const struct script *sc = login_script();
	struct run r;
	struct probe_action act;
	reply_parser_init(&P);
	start(&r, sc->mode, sc->opts, 0);
	for (size_t i = 0; i < sc->nsteps; i++) {
		if (sc->steps[i].ev == EV_TLS_OK)
			r.res.tls.verified = true;
		probe_event(&r.p, sc->steps[i].ev,
			    sc->steps[i].reply ? make_reply(sc->steps[i].reply) : NULL,
			    (i + 1) * 10, &act);
	}
	ck_assert_int_eq(r.res.auth_status, AUTH_TRIED);
	ck_assert_uint_eq(r.res.nauth, 2);
	ck_assert_int_eq(r.res.auth_ok_index, 1);
	ck_assert_str_eq(r.res.auth[0].username, "alice@example.test");
	ck_assert(r.res.auth[0].full_address);
	ck_assert_int_eq(r.res.auth[0].code, 535);
	ck_assert_str_eq(r.res.auth[1].username, "alice");
	ck_assert(r.res.auth[1].ok);
	ck_assert_str_eq(r.res.auth[1].mech, "PLAIN");
	ck_assert(r.res.relay.pipelined);
	ck_assert_int_eq(r.res.relay.rcpt_code, 554);
	ck_assert(!r.res.relay.accepted);
	ck_assert(r.res.relay_auth.accepted);
	ck_assert(r.res.completed);
	/* The transcript never holds the credentials. */
	for (size_t i = 0; i < r.res.transcript.n; i++)
		ck_assert_ptr_null(strstr(r.res.transcript.lines[i].text, "AGFsaWNl"));
	finish_run(&r);
	reply_parser_free(&P);
}
END_TEST

START_TEST(state_table_complete)
{
	for (int s = 0; s < PS_COUNT; s++) {
		ck_assert_ptr_nonnull(probe_states[s].name);
		ck_assert_ptr_nonnull(probe_states[s].doing);
	}
}
END_TEST


START_TEST(event_names)
{
	ck_assert_str_eq(probe_event_name(EV_TLS_CLEARTEXT), "clear text instead of TLS");
	ck_assert_str_eq(probe_event_name(EV_TIMEOUT), "timeout");
	ck_assert_str_eq(probe_event_name(EV_WAIT_OVER), "wait over");
	ck_assert_str_eq(probe_event_name((enum probe_event_kind)(EV_WAIT_OVER + 1)), "?");
}
END_TEST

/* What a TLS hello or a sniff heard: could it be SMTP? */
static const struct { const char *text; bool smtp; } heard[] = {
	{ NULL, true },                      /* nothing seen */
	{ "...", true },                     /* what OpenSSL left of it */
	{ "...garbled", true },
	{ "", true },                        /* too short to tell */
	{ "22", true },
	{ "220", true },
	{ "220 mail.test ESMTP", true },
	{ "554-5.7.1 blocked", true },
	{ "421 4.3.2 busy", true },
	{ "599 x", true },
	{ SSH_BANNER, false },
	{ "HTTP/1.1 400 Bad Request", false },
	{ "* OK IMAP4rev1 ready", false },
	{ "+OK POP3 ready", false },
	{ "199 low", false },
	{ "600 high", false },
	{ "2a0 x", false },
	{ "2200 x", false },
	{ "220\tx", false },
};

START_TEST(smtp_or_not)
{
	ck_assert_msg(looks_like_smtp(heard[_i].text) == heard[_i].smtp, "'%s': %d",
		      heard[_i].text ? heard[_i].text : "(null)", !heard[_i].smtp);
}
END_TEST

/* The transcript holds 2000 lines, then says it was cut. */
START_TEST(transcript_is_capped)
{
	struct run r;
	start(&r, MODE_STARTTLS, NULL, 100);
	for (int i = 0; i < 2005; i++)
		probe_trace(&r.p, 200 + (uint64_t)i, 'S', "250 ok\r\n", 8);
	ck_assert_uint_eq(r.res.transcript.n, 2000);
	ck_assert(r.res.transcript.truncated);
	ck_assert_str_eq(r.res.transcript.lines[1999].text, "250 ok\\r\\n");
	ck_assert_uint_eq(r.res.transcript.lines[1999].at_us, 2099);
	ck_assert_int_eq(r.res.transcript.lines[0].dir, 'S');
	finish_run(&r);

	/* Without trace nothing is kept, state changes included. */
	struct probe_action act;
	start(&r, MODE_STARTTLS, NULL, 100);
	r.p.trace = false;
	probe_trace(&r.p, 200, 'C', "QUIT", 4);
	probe_event(&r.p, EV_CONNECTED, NULL, 300, &act);
	ck_assert_uint_eq(r.res.transcript.n, 0);
	ck_assert(!r.res.transcript.truncated);
	finish_run(&r);
}
END_TEST

Suite *probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("transitions");
	tcase_add_loop_test(tc, scripted_transitions, 0, (int)ARRAY_LEN(scripts));
	tcase_add_test(tc, results_of_starttls_path);
	tcase_add_test(tc, timeout_names_the_state);
	tcase_add_test(tc, stop_reply_is_kept);
	tcase_add_test(tc, mode_switch_is_recorded);
	tcase_add_loop_test(tc, events_after_the_end, 0, (int)ARRAY_LEN(endings));
	tcase_add_test(tc, state_table_complete);
	tcase_add_test(tc, results_of_login_retry);
	tcase_add_test(tc, no_password_to_unverified_server);
	tcase_add_test(tc, event_names);
	tcase_add_loop_test(tc, smtp_or_not, 0, (int)ARRAY_LEN(heard));
	tcase_add_test(tc, transcript_is_capped);
	suite_add_tcase(s, tc);
	return s;
}
