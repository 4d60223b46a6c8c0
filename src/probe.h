/*
 * probe.h - the per-port SMTP session as an explicit state machine.
 *
 * Pure code: no sockets, no clock (SCRAM's nonce aside). The driver
 * (session.c) turns what happens on the wire into events and carries out
 * the one action each event returns. probe_event() is the only door
 * through which the state changes; every change is traced "OLD -> NEW" in
 * the transcript, and the state table names what the probe was doing in
 * each state, so a timeout reads "timed out waiting for the reply to
 * RCPT" without any extra code.
 *
 * A session: connect, [implicit TLS], greeting, EHLO (HELO if refused),
 * [STARTTLS, TLS, EHLO], then the transaction steps: the relay test
 * without authentication, --try-mechanisms, AUTH (a second user-name form
 * on 535), the relay test after authentication, QUIT. With PIPELINING
 * the commands of a step leave in one write (RFC 2920); AUTH and QUIT,
 * which must end a group, are appended to the group before them.
 */
#ifndef SMTPCHECK_PROBE_H
#define SMTPCHECK_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "reply.h"
#include "result.h"
#include "sasl.h"

enum probe_state {
	PS_CONNECTING,
	PS_TLS_HANDSHAKE,         /* implicit TLS, before the greeting */
	PS_GREETING,
	PS_EHLO,
	PS_HELO,
	PS_STARTTLS,
	PS_STARTTLS_HANDSHAKE,
	PS_EHLO_TLS,
	PS_MECH_TRY,              /* AUTH <mech> of --try-mechanisms */
	PS_MECH_CANCEL,           /* its "*" */
	PS_AUTH,
	PS_MAIL,
	PS_RCPT,
	PS_RSET,
	PS_INJECT_CHECK,          /* --injection-test: QUIT after the upgrade */
	PS_DONE,                  /* QUIT sent (its 221 is never waited for, but
				   * for the injection test's), or closed; every
				   * later event is ignored */
	PS_COUNT
};

enum probe_event_kind {
	EV_CONNECTED,
	EV_CONNECT_FAILED,        /* result.fail and error set by the driver */
	EV_REPLY,                 /* a complete reply */
	EV_TLS_OK,                /* handshake done; result.tls filled in */
	EV_TLS_FAILED,            /* result.tls.error set by the driver */
	EV_TLS_CLEARTEXT,         /* ClientHello answered by clear text */
	EV_SPEAKS_TLS,            /* a silent clear-text port answered TLS */
	EV_SPEAKS_OTHER,          /* it answered in clear, not in SMTP (sniff_text) */
	EV_CLOSED,                /* EOF or reset; result.fail set */
	EV_PROTOCOL_ERROR,        /* unparsable reply; result.error set */
	EV_TIMEOUT,               /* the run's deadline */
	EV_WAIT_OVER              /* the wait the probe asked for (wait_us) passed */
};

enum probe_action_kind {
	ACT_NONE,       /* wait for the next event */
	ACT_SEND,       /* send line (CRLF-separated commands), then wait */
	ACT_START_TLS,  /* begin the TLS handshake on this connection */
	ACT_QUIT,       /* send line if any (it ends with QUIT, or QUIT went
			   earlier), do not wait for 221, close: done */
	ACT_CLOSE,      /* close without a word: done */
	ACT_RECONNECT   /* close, connect again in the new mode */
};

#define PROBE_LINE_MAX 4096

/*
 * How long the injection test waits under TLS for the replies to its QUIT
 * (and to the HELP, if that ran). A server silent on QUIT must not hold the
 * run (QUIT is otherwise never waited for); the replies of a working server
 * come within a round trip.
 */
#define PROBE_INJECT_WAIT_US 1500000u

struct probe_action {
	enum probe_action_kind kind;
	bool secret;                  /* line holds credentials: wipe after use */
	int ncmds;                    /* commands in line (one may be empty) */
	uint64_t wait_us;             /* non-zero: (re)arm a timer for this long;
					 EV_WAIT_OVER when it passes first */
	char line[PROBE_LINE_MAX];    /* commands, CRLF between them, none at end */
	char shown[PROBE_LINE_MAX];   /* the same as the transcript shows it */
};

/* What the user asked of the transaction steps. */
struct probe_opts {
	const char *user;             /* NULL: no credentials */
	const char *password;
	const char *alt_user;         /* the other user-name form, or NULL */
	const char *mail_from;        /* "" for the null sender */
	const char *rcpt_to;
	bool relay_test;
	bool try_mechanisms;
	bool insecure_auth;           /* AUTH allowed without (verified) TLS */
	unsigned force_mech;          /* 0: the strongest both support */
};

enum probe_step {
	STEP_RELAY,                   /* MAIL/RCPT/RSET without AUTH */
	STEP_MECH_TESTS,
	STEP_AUTH,
	STEP_RELAY_AUTH,
	STEP_QUIT,
	STEP_END
};

#define PROBE_MAX_PENDING 8

struct probe {
	enum probe_state state;       /* what we wait for */
	uint64_t state_since_us;
	uint64_t started_us;
	bool reconnected;             /* one mode switch at most */
	char ehlo_name[256];          /* set by the driver before EV_CONNECTED */
	const struct probe_opts *opts;
	struct port_result *res;
	struct arena *arena;
	bool trace;                   /* record the transcript */
	bool injection_probe;         /* this session tests STARTTLS injection */

	/* Commands sent whose replies are due, oldest first. */
	enum probe_state pending[PROBE_MAX_PENDING];
	size_t npending;
	bool quit_sent;
	bool pipelining;
	enum probe_step step;
	bool pre_tls_tests;           /* --try-mechanisms before STARTTLS */
	bool pre_tls_tests_done;
	size_t mech_next;
	struct relay_result *txn;     /* the relay test under way */
	struct sasl sasl;
	size_t auth_form;             /* 0: opts->user, 1: opts->alt_user */
	bool authenticated;

	/* The group being built while an event is handled. */
	struct probe_action *act;
};

struct state_info {
	const char *name;        /* "GREETING" */
	const char *doing;       /* "waiting for the greeting" */
	enum phase phase;
};

extern const struct state_info probe_states[PS_COUNT];

/* opts may be NULL: no relay test, no credentials. */
void probe_init(struct probe *p, struct port_result *res, struct arena *arena,
		enum tls_mode mode, const struct probe_opts *opts, uint64_t now_us);
void probe_free(struct probe *p);

/*
 * Feed one event; r is the reply for EV_REPLY, else NULL. Fills *act with
 * what the driver must do next.
 */
void probe_event(struct probe *p, enum probe_event_kind ev,
		 const struct reply *r, uint64_t now_us,
		 struct probe_action *act);

bool probe_done(const struct probe *p);

/*
 * Could this (escaped) first line be SMTP: "220 ...", "554-..."? Text too
 * short to tell, or what OpenSSL left of it ("..."), counts as SMTP.
 */
bool looks_like_smtp(const char *text);
const char *probe_event_name(enum probe_event_kind ev);

/* Transcript recording, used by the driver for what it sends and reads. */
void probe_trace(struct probe *p, uint64_t now_us, char dir,
		 const char *text, size_t len);

#endif
