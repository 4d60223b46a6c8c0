/*
 * probe.h - the per-port SMTP session as an explicit state machine.
 *
 * Pure code: no sockets, no clock. The driver (session.c) turns what
 * happens on the wire into events and carries out the one action each
 * event returns. probe_event() is the only door through which the state
 * changes; every change is traced "OLD -> NEW" in the transcript, and the
 * state table names what the probe was doing in each state, so a timeout
 * reads "timed out waiting for the greeting" without any extra code.
 */
#ifndef SMTPCHECK_PROBE_H
#define SMTPCHECK_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include "reply.h"
#include "result.h"

enum probe_state {
	PS_CONNECTING,
	PS_TLS_HANDSHAKE,         /* implicit TLS, before the greeting */
	PS_GREETING,
	PS_EHLO,
	PS_HELO,
	PS_STARTTLS,
	PS_STARTTLS_HANDSHAKE,
	PS_EHLO_TLS,
	PS_QUIT,
	PS_DONE,
	PS_COUNT
};

enum probe_event_kind {
	EV_CONNECTED,
	EV_CONNECT_FAILED,        /* result.fail and error set by the driver */
	EV_REPLY,                 /* a complete reply */
	EV_TLS_OK,                /* handshake done; result.tls filled in */
	EV_TLS_FAILED,            /* result.tls.error set by the driver */
	EV_TLS_CLEARTEXT,         /* ClientHello answered in clear text */
	EV_SPEAKS_TLS,            /* a silent clear-text port answered TLS */
	EV_CLOSED,                /* EOF or reset; result.fail set */
	EV_PROTOCOL_ERROR,        /* unparsable reply; result.error set */
	EV_TIMEOUT                /* the run's deadline */
};

enum probe_action_kind {
	ACT_NONE,       /* wait for the next event */
	ACT_SEND,       /* send line (CRLF added), then wait */
	ACT_START_TLS,  /* begin the TLS handshake on this connection */
	ACT_QUIT,       /* send QUIT, do not wait for 221, close: done */
	ACT_CLOSE,      /* close without a word: done */
	ACT_RECONNECT   /* close, connect again in mode (mode mismatch) */
};

struct probe_action {
	enum probe_action_kind kind;
	char line[512];
	char shown[512];   /* what the transcript shows of line */
};

struct probe {
	enum probe_state state;
	uint64_t state_since_us;
	uint64_t started_us;
	bool reconnected;        /* one mode switch at most */
	char ehlo_name[256];     /* set by the driver before EV_CONNECTED */
	struct port_result *res;
	struct arena *arena;
	bool trace;              /* record the transcript */
};

struct state_info {
	const char *name;        /* "GREETING" */
	const char *doing;       /* "waiting for the greeting" */
	enum phase phase;
};

extern const struct state_info probe_states[PS_COUNT];

void probe_init(struct probe *p, struct port_result *res, struct arena *arena,
		enum tls_mode mode, uint64_t now_us);

/*
 * Feed one event; r is the reply for EV_REPLY, else NULL. Fills *act with
 * what the driver must do next.
 */
void probe_event(struct probe *p, enum probe_event_kind ev,
		 const struct reply *r, uint64_t now_us,
		 struct probe_action *act);

bool probe_done(const struct probe *p);
const char *probe_event_name(enum probe_event_kind ev);

/* Transcript recording, used by the driver for what it sends and reads. */
void probe_trace(struct probe *p, uint64_t now_us, char dir,
		 const char *text, size_t len);

#endif
