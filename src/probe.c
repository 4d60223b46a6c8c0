/*
 * probe.c - the per-port SMTP session: state table, the one transition
 * function, and what each reply means for the next step.
 *
 * Each state has an entry in probe_states: its name for traces and
 * reports, a sentence for what the probe is doing there, and the phase
 * its time is booked to. Handlers named on_<state> read a reply and pick
 * the next state through set_state(), the only place a state changes.
 */
#include "probe.h"

#include <stdio.h>
#include <string.h>

const struct state_info probe_states[PS_COUNT] = {
	[PS_CONNECTING] = { "CONNECT", "connecting", PH_CONNECT },
	[PS_TLS_HANDSHAKE] = { "TLS-HANDSHAKE", "in the TLS handshake", PH_TLS },
	[PS_GREETING] = { "GREETING", "waiting for the greeting", PH_GREETING },
	[PS_EHLO] = { "EHLO", "waiting for the reply to EHLO", PH_EHLO },
	[PS_HELO] = { "HELO", "waiting for the reply to HELO", PH_EHLO },
	[PS_STARTTLS] = { "STARTTLS", "waiting for the reply to STARTTLS", PH_STARTTLS },
	[PS_STARTTLS_HANDSHAKE] = { "STARTTLS-HANDSHAKE",
				    "in the TLS handshake after STARTTLS", PH_TLS },
	[PS_EHLO_TLS] = { "EHLO-TLS", "waiting for the reply to EHLO after TLS",
			  PH_EHLO_TLS },
	[PS_QUIT] = { "QUIT", "closing the session", PH_QUIT },
	[PS_DONE] = { "DONE", "finished", PH_COUNT },
};

static const char *const event_names[] = {
	[EV_CONNECTED] = "connected",
	[EV_CONNECT_FAILED] = "connect failed",
	[EV_REPLY] = "reply",
	[EV_TLS_OK] = "TLS done",
	[EV_TLS_FAILED] = "TLS failed",
	[EV_TLS_CLEARTEXT] = "clear text instead of TLS",
	[EV_SPEAKS_TLS] = "port speaks TLS",
	[EV_CLOSED] = "closed",
	[EV_PROTOCOL_ERROR] = "protocol error",
	[EV_TIMEOUT] = "timeout",
};

const char *probe_event_name(enum probe_event_kind ev)
{
	return (size_t)ev < ARRAY_LEN(event_names) ? event_names[ev] : "?";
}

void probe_trace(struct probe *p, uint64_t now, char dir, const char *text,
		 size_t len)
{
	struct transcript *t = &p->res->transcript;
	if (!p->trace)
		return;
	if (t->n >= 2000) {
		t->truncated = true;
		return;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->lines = xrealloc(t->lines, t->cap * sizeof *t->lines);
	}
	struct buf b;
	buf_init(&b);
	escape_ascii(&b, text, len);
	t->lines[t->n].at_us = now - p->started_us;
	t->lines[t->n].dir = dir;
	t->lines[t->n].text = arena_strndup(p->arena, buf_cstr(&b), b.len);
	t->n++;
	buf_free(&b);
}

static void set_state(struct probe *p, enum probe_state to, uint64_t now)
{
	struct port_result *r = p->res;
	enum phase ph = probe_states[p->state].phase;
	if (ph < PH_COUNT) {
		r->timing_us[ph] += now - p->state_since_us;
		r->timed[ph] = true;
	}
	if (p->trace) {
		char line[96];
		int n = snprintf(line, sizeof line, "%s -> %s",
				 probe_states[p->state].name, probe_states[to].name);
		probe_trace(p, now, '*', line, (size_t)n);
	}
	p->state = to;
	p->state_since_us = now;
	if (to == PS_DONE)
		r->total_us = now - p->started_us;
}

void probe_init(struct probe *p, struct port_result *res, struct arena *arena,
		enum tls_mode mode, uint64_t now)
{
	memset(p, 0, sizeof *p);
	p->res = res;
	p->arena = arena;
	p->state = PS_CONNECTING;
	p->state_since_us = now;
	p->started_us = now;
	res->mode = mode;
	res->mode_requested = mode;
	res->fail_state = PS_DONE;
	res->stop_state = PS_DONE;
}

bool probe_done(const struct probe *p)
{
	return p->state == PS_DONE;
}

static void act_send(struct probe_action *act, const char *line)
{
	act->kind = ACT_SEND;
	snprintf(act->line, sizeof act->line, "%s", line);
	snprintf(act->shown, sizeof act->shown, "%s", line);
}

/* End the session politely: QUIT, and do not wait for the 221. */
static void quit(struct probe *p, uint64_t now, struct probe_action *act)
{
	act->kind = ACT_QUIT;
	snprintf(act->line, sizeof act->line, "QUIT");
	snprintf(act->shown, sizeof act->shown, "QUIT");
	set_state(p, PS_DONE, now);
}

static void close_now(struct probe *p, uint64_t now, struct probe_action *act)
{
	act->kind = ACT_CLOSE;
	set_state(p, PS_DONE, now);
}

static void fail(struct probe *p, enum fail_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct probe *p, enum fail_kind kind, const char *fmt, ...)
{
	struct port_result *r = p->res;
	if (r->fail != FAIL_NONE && r->error)
		return; /* the first cause is the one that matters */
	r->fail = kind;
	r->fail_state = (int)p->state;
	va_list ap;
	va_start(ap, fmt);
	struct buf b;
	buf_init(&b);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	r->error = arena_strndup(p->arena, buf_cstr(&b), b.len);
	buf_free(&b);
}

static char *escaped(struct probe *p, const char *s)
{
	struct buf b;
	buf_init(&b);
	escape_ascii(&b, s, strlen(s));
	char *e = arena_strndup(p->arena, buf_cstr(&b), b.len);
	buf_free(&b);
	return e;
}

/* A reply that ends the session: keep it, say what it was an answer to. */
static void stop_on_reply(struct probe *p, const struct reply *r,
			  const char *to_what, uint64_t now,
			  struct probe_action *act)
{
	struct port_result *res = p->res;
	res->stop_code = r->code;
	memcpy(res->stop_enhanced, r->enhanced, sizeof res->stop_enhanced);
	res->stop_text = arena_strdup(p->arena, r->text);
	res->stop_state = (int)p->state;
	fail(p, FAIL_REJECTED, "the server answered %d to %s: %s", r->code,
	     to_what, escaped(p, r->lines[0]));
	quit(p, now, act);
}

static void send_ehlo(struct probe *p, enum probe_state st, uint64_t now,
		      struct probe_action *act)
{
	char line[300];
	snprintf(line, sizeof line, "EHLO %s", p->ehlo_name);
	set_state(p, st, now);
	act_send(act, line);
}

static void reconnect(struct probe *p, enum tls_mode mode, uint64_t now,
		      struct probe_action *act)
{
	p->reconnected = true;
	p->res->mode = mode;
	p->res->connected = false;
	set_state(p, PS_CONNECTING, now);
	act->kind = ACT_RECONNECT;
}

/*
 * What to do once the capabilities are known (after EHLO, or after HELO
 * with none): upgrade when the server offers STARTTLS and we are in
 * clear, else the session has learnt what this probe asks.
 */
static void after_caps(struct probe *p, uint64_t now, struct probe_action *act)
{
	struct port_result *r = p->res;
	if (r->mode == MODE_STARTTLS && !r->tls.attempted &&
	    (r->caps_before.caps & CAP_STARTTLS)) {
		set_state(p, PS_STARTTLS, now);
		act_send(act, "STARTTLS");
		return;
	}
	r->completed = true;
	quit(p, now, act);
}

static void on_greeting(struct probe *p, const struct reply *r, uint64_t now,
			struct probe_action *act)
{
	struct port_result *res = p->res;
	res->greeting_code = r->code;
	res->banner = arena_strdup(p->arena, r->text);
	res->greeting_wait_us = now - p->state_since_us;
	if (r->code == 220) {
		send_ehlo(p, PS_EHLO, now, act);
		return;
	}
	stop_on_reply(p, r, "the connection (greeting)", now, act);
}

static void on_ehlo(struct probe *p, const struct reply *r, uint64_t now,
		    struct probe_action *act)
{
	struct port_result *res = p->res;
	bool under_tls = p->state == PS_EHLO_TLS || res->mode == MODE_TLS;
	res->ehlo_code = r->code;
	if (r->code == 250) {
		struct ehlo_caps *c = under_tls ? &res->caps_after : &res->caps_before;
		ehlo_caps_free(c);
		ehlo_parse(r, c);
		res->ehlo_ok = true;
		if (p->state == PS_EHLO && !under_tls)
			res->starttls_offered = (c->caps & CAP_STARTTLS) != 0;
		after_caps(p, now, act);
		return;
	}
	/* EHLO unknown to an old server: HELO is the RFC 5321 fallback. */
	if (p->state == PS_EHLO && r->code >= 500 && r->code != 554) {
		res->ehlo_error = arena_strdup(p->arena, r->text);
		char line[300];
		snprintf(line, sizeof line, "HELO %s", p->ehlo_name);
		set_state(p, PS_HELO, now);
		act_send(act, line);
		return;
	}
	stop_on_reply(p, r, "EHLO", now, act);
}

static void on_helo(struct probe *p, const struct reply *r, uint64_t now,
		    struct probe_action *act)
{
	if (r->code == 250) {
		p->res->helo_used = true;
		after_caps(p, now, act);
		return;
	}
	stop_on_reply(p, r, "HELO", now, act);
}

static void on_starttls(struct probe *p, const struct reply *r, uint64_t now,
			struct probe_action *act)
{
	struct port_result *res = p->res;
	res->starttls_code = r->code;
	res->starttls_text = arena_strdup(p->arena, r->text);
	memcpy(res->starttls_enhanced, r->enhanced, sizeof res->starttls_enhanced);
	res->tls.attempted = true;
	if (r->code == 220) {
		set_state(p, PS_STARTTLS_HANDSHAKE, now);
		act->kind = ACT_START_TLS;
		return;
	}
	res->tls.error = arena_printf(p->arena, "STARTTLS refused: %d %s",
				      r->code, escaped(p, r->lines[0]));
	stop_on_reply(p, r, "STARTTLS", now, act);
}

static void tls_failed(struct probe *p, uint64_t now, struct probe_action *act)
{
	struct port_result *res = p->res;
	fail(p, FAIL_TLS, "TLS handshake failed: %s",
	     res->tls.error ? res->tls.error : "unknown error");
	close_now(p, now, act);
}

static void unexpected(struct probe *p, enum probe_event_kind ev, uint64_t now,
		       struct probe_action *act)
{
	fail(p, FAIL_PROTOCOL, "unexpected %s while %s", probe_event_name(ev),
	     probe_states[p->state].doing);
	close_now(p, now, act);
}

void probe_event(struct probe *p, enum probe_event_kind ev,
		 const struct reply *r, uint64_t now, struct probe_action *act)
{
	struct port_result *res = p->res;
	memset(act, 0, sizeof *act);
	act->kind = ACT_NONE;
	if (p->state == PS_DONE)
		return;

	switch (ev) {
	case EV_TIMEOUT:
		fail(p, FAIL_TIMEOUT, "timed out %s", probe_states[p->state].doing);
		close_now(p, now, act);
		return;
	case EV_CONNECT_FAILED:
		if (!res->error)
			fail(p, res->fail ? res->fail : FAIL_CONNECT, "connect failed");
		else
			res->fail_state = (int)p->state;
		close_now(p, now, act);
		return;
	case EV_CLOSED:
		fail(p, res->fail ? res->fail : FAIL_CLOSED,
		     "the server %s the connection while %s",
		     res->fail == FAIL_RESET ? "reset" : "closed",
		     probe_states[p->state].doing);
		close_now(p, now, act);
		return;
	case EV_PROTOCOL_ERROR:
		fail(p, FAIL_PROTOCOL, "%s while %s",
		     res->error ? res->error : "protocol error",
		     probe_states[p->state].doing);
		res->fail_state = (int)p->state;
		close_now(p, now, act);
		return;
	default:
		break;
	}

	switch (p->state) {
	case PS_CONNECTING:
		if (ev != EV_CONNECTED)
			break;
		res->connected = true;
		if (res->mode == MODE_TLS) {
			res->tls.attempted = true;
			set_state(p, PS_TLS_HANDSHAKE, now);
			act->kind = ACT_START_TLS;
		} else {
			set_state(p, PS_GREETING, now);
		}
		return;

	case PS_TLS_HANDSHAKE:
	case PS_STARTTLS_HANDSHAKE:
		if (ev == EV_TLS_OK) {
			if (p->state == PS_TLS_HANDSHAKE)
				set_state(p, PS_GREETING, now);
			else
				send_ehlo(p, PS_EHLO_TLS, now, act);
			return;
		}
		if (ev == EV_TLS_CLEARTEXT && p->state == PS_TLS_HANDSHAKE) {
			res->mismatch = MISMATCH_TLS_TO_CLEAR;
			if (!p->reconnected) {
				res->tls = (struct tls_result){ 0 };
				reconnect(p, MODE_STARTTLS, now, act);
				return;
			}
			res->tls.error = arena_strdup(p->arena,
				"the server answered the TLS ClientHello in clear text");
			tls_failed(p, now, act);
			return;
		}
		if (ev == EV_TLS_FAILED || ev == EV_TLS_CLEARTEXT) {
			if (ev == EV_TLS_CLEARTEXT && !res->tls.error)
				res->tls.error = arena_strdup(p->arena,
					"the server sent clear text instead of a TLS ServerHello");
			tls_failed(p, now, act);
			return;
		}
		break;

	case PS_GREETING:
		if (ev == EV_REPLY) {
			on_greeting(p, r, now, act);
			return;
		}
		if (ev == EV_SPEAKS_TLS && !p->reconnected) {
			res->mismatch = MISMATCH_CLEAR_TO_TLS;
			reconnect(p, MODE_TLS, now, act);
			return;
		}
		break;

	case PS_EHLO:
	case PS_EHLO_TLS:
		if (ev == EV_REPLY) {
			on_ehlo(p, r, now, act);
			return;
		}
		break;

	case PS_HELO:
		if (ev == EV_REPLY) {
			on_helo(p, r, now, act);
			return;
		}
		break;

	case PS_STARTTLS:
		if (ev == EV_REPLY) {
			on_starttls(p, r, now, act);
			return;
		}
		break;

	case PS_QUIT:
	case PS_DONE:
	case PS_COUNT:
		return;
	}
	if (ev == EV_SPEAKS_TLS)
		return; /* a late sniff result: nothing to do */
	unexpected(p, ev, now, act);
}
