/*
 * check_probe.c - every transition of the port-probe state machine,
 * driven by scripted events, no sockets. Each script starts a fresh
 * probe and checks the state and action after every event.
 */
#include <string.h>

#include "probe.h"
#include "suites.h"

struct step {
	enum probe_event_kind ev;
	const char *reply;                /* for EV_REPLY, wire format */
	enum probe_state state;           /* expected after the event */
	enum probe_action_kind act;       /* expected action */
	const char *line;                 /* expected command, if ACT_SEND */
};

struct script {
	const char *name;
	enum tls_mode mode;
	struct step steps[12];
	size_t nsteps;
	const struct probe_opts *opts;
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

#define S(...) { __VA_ARGS__ }
#define GREET220 "220 mail.test ESMTP\r\n"
#define EHLO_TLS "250-mail.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n"
#define EHLO_AUTH "250-mail.test\r\n250 AUTH PLAIN LOGIN\r\n"
#define EHLO_PLAIN "250-mail.test\r\n250 8BITMIME\r\n"

static const struct script scripts[] = {
	{ "starttls happy path", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "220 2.0.0 Ready to start TLS\r\n", PS_STARTTLS_HANDSHAKE,
		  ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_EHLO_TLS, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_AUTH, PS_DONE, ACT_QUIT, "QUIT"),
	}, 6 },
	{ "implicit tls happy path", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_AUTH, PS_DONE, ACT_QUIT, "QUIT"),
	}, 4 },
	{ "no starttls offered", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_PLAIN, PS_DONE, ACT_QUIT, "QUIT"),
	}, 3 },
	{ "EHLO refused, HELO accepted", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, "502 5.5.2 command not recognized\r\n", PS_HELO, ACT_SEND,
		  "HELO probe.example"),
		S(EV_REPLY, "250 mail.test\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 4 },
	{ "HELO refused too", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, "500 what\r\n", PS_HELO, ACT_SEND, "HELO probe.example"),
		S(EV_REPLY, "501 go away\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 4 },
	{ "EHLO answered 421", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, "421 4.7.0 too many connections\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 3 },
	{ "greeting 554", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, "554 5.7.1 listed at a blocklist\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 2 },
	{ "greeting 421", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, "421 4.3.2 busy\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 2 },
	{ "STARTTLS answered 454", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "454 4.7.0 TLS not available\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 4 },
	{ "STARTTLS handshake fails", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "220 go\r\n", PS_STARTTLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_FAILED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 5 },
	{ "clear text instead of ServerHello", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "220 go\r\n", PS_STARTTLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_CLEARTEXT, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 5 },
	{ "EHLO after TLS refused", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "220 go\r\n", PS_STARTTLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_EHLO_TLS, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, "554 5.7.0 no\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 6 },
	{ "implicit TLS handshake fails", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_FAILED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 2 },
	{ "implicit TLS answered in clear: reconnect once in STARTTLS mode", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_CLEARTEXT, NULL, PS_CONNECTING, ACT_RECONNECT, NULL),
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_PLAIN, PS_DONE, ACT_QUIT, "QUIT"),
	}, 5 },
	{ "silent clear port speaks TLS: reconnect once in TLS mode", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_SPEAKS_TLS, NULL, PS_CONNECTING, ACT_RECONNECT, NULL),
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_SPEAKS_TLS, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
	}, 6 },
	{ "connect fails", MODE_STARTTLS, {
		S(EV_CONNECT_FAILED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 1 },
	{ "timeout while connecting", MODE_STARTTLS, {
		S(EV_TIMEOUT, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 1 },
	{ "timeout waiting for the greeting", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_TIMEOUT, NULL, PS_DONE, ACT_CLOSE, NULL),
		S(EV_REPLY, GREET220, PS_DONE, ACT_NONE, NULL),
	}, 3 },
	{ "timeout in the TLS handshake", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TIMEOUT, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 2 },
	{ "closed after EHLO", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 3 },
	{ "protocol error in the greeting", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_PROTOCOL_ERROR, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 2 },
	{ "unexpected event is a protocol failure", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_TLS_OK, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 2 },
	{ "reply while connecting is unexpected", MODE_STARTTLS, {
		S(EV_REPLY, GREET220, PS_DONE, ACT_CLOSE, NULL),
	}, 1 },
	{ "relay test, no PIPELINING: one command at a time", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_NOPIPE, PS_MAIL, ACT_SEND, "MAIL FROM:<>"),
		S(EV_REPLY, "250 2.1.0 Ok\r\n", PS_RCPT, ACT_SEND, "RCPT TO:<x@example.com>"),
		S(EV_REPLY, "554 5.7.1 Relay access denied\r\n", PS_RSET, ACT_SEND, "RSET"),
		S(EV_REPLY, "250 2.0.0 Ok\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 7, &relay_only },
	{ "relay test refused at MAIL skips RCPT", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_NOPIPE, PS_MAIL, ACT_SEND, "MAIL FROM:<>"),
		S(EV_REPLY, "530 5.7.0 Authentication required\r\n", PS_RSET, ACT_SEND, "RSET"),
		S(EV_REPLY, "250 Ok\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 6, &relay_only },
	{ "relay test with PIPELINING: one group, QUIT with it", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_REPLY, "250 2.1.0 Ok\r\n", PS_RCPT, ACT_NONE, NULL),
		S(EV_REPLY, "554 5.7.1 Relay access denied\r\n", PS_RSET, ACT_NONE, NULL),
		S(EV_REPLY, "250 2.0.0 Ok\r\n", PS_DONE, ACT_QUIT, NULL),
	}, 7, &relay_only },
	{ "login after the relay test, retry with the local part, relay again", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
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
	}, 12, &creds },
	{ "LOGIN step by step, no relay test", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, "250-x\r\n250 AUTH LOGIN\r\n", PS_AUTH, ACT_SEND, "AUTH LOGIN"),
		S(EV_REPLY, "334 VXNlcm5hbWU6\r\n", PS_AUTH, ACT_SEND, "YWxpY2VAZXhhbXBsZS50ZXN0"),
		S(EV_REPLY, "334 UGFzc3dvcmQ6\r\n", PS_AUTH, ACT_SEND, "czNjcmV0"),
		S(EV_REPLY, "235 ok\r\n", PS_DONE, ACT_QUIT, "QUIT"),
	}, 7, &creds_only },
	{ "no password over clear text", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_NOPIPE, PS_DONE, ACT_QUIT, "QUIT"),
	}, 3, &creds_only },
	{ "STARTTLS refused: the session goes on in clear", MODE_STARTTLS, {
		S(EV_CONNECTED, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_TLS, PS_STARTTLS, ACT_SEND, "STARTTLS"),
		S(EV_REPLY, "454 4.7.0 TLS not available\r\n", PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_REPLY, "530 5.7.0 Must issue a STARTTLS command first\r\n", PS_RCPT,
		  ACT_NONE, NULL),
	}, 5, &relay_only },
	{ "mechanism trials: 334 then cancel, 504", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, "250-x\r\n250 AUTH PLAIN CRAM-MD5\r\n", PS_MECH_TRY, ACT_SEND,
		  "AUTH PLAIN"),
		S(EV_REPLY, "334 \r\n", PS_MECH_CANCEL, ACT_SEND, "*"),
		S(EV_REPLY, "501 5.7.0 Authentication aborted\r\n", PS_MECH_TRY, ACT_SEND,
		  "AUTH CRAM-MD5"),
		S(EV_REPLY, "504 5.5.4 Unrecognized authentication type\r\n", PS_DONE, ACT_QUIT,
		  "QUIT"),
	}, 7, &trials },
	{ "421 in the middle of a pipelined group ends the session", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_REPLY, "421 4.7.0 Too many errors\r\n", PS_DONE, ACT_QUIT, NULL),
	}, 5, &relay_only },
	{ "close after our QUIT is the expected end", MODE_TLS, {
		S(EV_CONNECTED, NULL, PS_TLS_HANDSHAKE, ACT_START_TLS, NULL),
		S(EV_TLS_OK, NULL, PS_GREETING, ACT_NONE, NULL),
		S(EV_REPLY, GREET220, PS_EHLO, ACT_SEND, "EHLO probe.example"),
		S(EV_REPLY, EHLO_PIPE, PS_MAIL, ACT_SEND,
		  "MAIL FROM:<>\r\nRCPT TO:<x@example.com>\r\nRSET\r\nQUIT"),
		S(EV_CLOSED, NULL, PS_DONE, ACT_CLOSE, NULL),
	}, 5, &relay_only },
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

START_TEST(scripted_transitions)
{
	const struct script *sc = &scripts[_i];
	struct run r;
	reply_parser_init(&P);
	start(&r, sc->mode, sc->opts, 1000);
	uint64_t t = 1000;
	for (size_t i = 0; i < sc->nsteps; i++) {
		const struct step *st = &sc->steps[i];
		struct probe_action act;
		t += 100;
		if (st->ev == EV_TLS_OK)
			r.res.tls.verified = true; /* as the driver says of a good chain */
		probe_event(&r.p, st->ev, st->reply ? make_reply(st->reply) : NULL, t, &act);
		ck_assert_msg(r.p.state == st->state,
			      "%s, step %zu (%s): state %s, expected %s", sc->name, i,
			      probe_event_name(st->ev), probe_states[r.p.state].name,
			      probe_states[st->state].name);
		ck_assert_msg(act.kind == st->act, "%s, step %zu: action %d, expected %d",
			      sc->name, i, act.kind, st->act);
		if (st->line)
			ck_assert_str_eq(act.line, st->line);
	}
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

Suite *probe_suite(void)
{
	Suite *s = suite_create("probe");
	TCase *tc = tcase_create("transitions");
	tcase_add_loop_test(tc, scripted_transitions, 0,
			    (int)(sizeof scripts / sizeof *scripts));
	tcase_add_test(tc, results_of_starttls_path);
	tcase_add_test(tc, timeout_names_the_state);
	tcase_add_test(tc, stop_reply_is_kept);
	tcase_add_test(tc, mode_switch_is_recorded);
	tcase_add_test(tc, state_table_complete);
	tcase_add_test(tc, results_of_login_retry);
	tcase_add_test(tc, no_password_to_unverified_server);
	suite_add_tcase(s, tc);
	return s;
}
