/*
 * probe.c - the per-port SMTP session: state table, the one transition
 * function, and what each reply means for the next step.
 *
 * Commands go out through push(), which appends them to the action's
 * group and queues the state that waits for each reply; the state of the
 * probe is always the head of that queue. Handlers named on_<state> read
 * a reply and push what follows; advance() walks the transaction steps
 * once a step has nothing more to wait for. settle() turns the queue into
 * the action the driver carries out, and set_state() is the only place a
 * state changes.
 */
#include "probe.h"

#include <stdio.h>
#include <string.h>

#include "interpret.h"

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
	[PS_MECH_TRY] = { "MECH-TRY", "waiting for the reply to a trial AUTH", PH_AUTH },
	[PS_MECH_CANCEL] = { "MECH-CANCEL", "waiting for the reply to a cancelled AUTH",
			     PH_AUTH },
	[PS_AUTH] = { "AUTH", "waiting for the reply to AUTH", PH_AUTH },
	[PS_MAIL] = { "MAIL", "waiting for the reply to MAIL FROM", PH_MAIL },
	[PS_RCPT] = { "RCPT", "waiting for the reply to RCPT TO", PH_RCPT },
	[PS_RSET] = { "RSET", "waiting for the reply to RSET", PH_RCPT },
	[PS_INJECT_CHECK] = { "INJECT-CHECK", "waiting for the replies under TLS "
			      "(injection test)", PH_EHLO_TLS },
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
	[EV_SPEAKS_OTHER] = "port speaks another protocol",
	[EV_CLOSED] = "closed",
	[EV_PROTOCOL_ERROR] = "protocol error",
	[EV_TIMEOUT] = "timeout",
	[EV_WAIT_OVER] = "wait over",
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
	if (to == p->state)
		return;
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
		enum tls_mode mode, const struct probe_opts *opts, uint64_t now)
{
	memset(p, 0, sizeof *p);
	buf_init(&p->sasl.client_first_bare);
	p->res = res;
	p->arena = arena;
	p->opts = opts;
	p->state = PS_CONNECTING;
	p->state_since_us = now;
	p->started_us = now;
	res->mode = mode;
	res->mode_requested = mode;
	res->fail_state = PS_DONE;
	res->stop_state = PS_DONE;
	res->auth_ok_index = -1;
}

void probe_free(struct probe *p)
{
	sasl_clear(&p->sasl);
}

bool probe_done(const struct probe *p)
{
	return p->state == PS_DONE;
}

static const struct ehlo_caps *caps_now(const struct probe *p)
{
	return port_result_final_caps(p->res);
}

/* ---- building the group of commands ---- */

static void append(char *dst, bool first, const char *s)
{
	size_t n = strlen(dst);
	if (!first && n + 2 < PROBE_LINE_MAX) {
		memcpy(dst + n, "\r\n", 3);
		n += 2;
	}
	snprintf(dst + n, PROBE_LINE_MAX - n, "%s", s);
}

static void push_line(struct probe *p, const char *line, const char *shown, bool secret)
{
	struct probe_action *a = p->act;
	append(a->line, a->ncmds == 0, line);
	append(a->shown, a->ncmds == 0, shown ? shown : line);
	a->ncmds++;
	a->secret |= secret;
}

/* Send a command with the next group; st waits for its reply. */
static void push(struct probe *p, enum probe_state st, const char *line,
		 const char *shown, bool secret)
{
	push_line(p, line, shown, secret);
	if (p->npending < PROBE_MAX_PENDING)
		p->pending[p->npending++] = st;
}

/* QUIT ends the group, and no state waits for its 221 (Exim's comes late). */
static void push_quit(struct probe *p)
{
	push_line(p, "QUIT", NULL, false);
	p->quit_sent = true;
}

static enum probe_state pop(struct probe *p)
{
	enum probe_state st = p->pending[0];
	memmove(p->pending, p->pending + 1, (p->npending - 1) * sizeof *p->pending);
	p->npending--;
	return st;
}

static void close_now(struct probe *p, uint64_t now)
{
	p->act->kind = ACT_CLOSE;
	p->npending = 0;
	set_state(p, PS_DONE, now);
}

/* End politely: QUIT (unless it went already), no wait for the 221. */
static void quit(struct probe *p)
{
	p->npending = 0;
	if (!p->quit_sent)
		push_quit(p);
	p->step = STEP_END;
}

/* Turn the queue into the driver's action once an event is handled. */
static void settle(struct probe *p, uint64_t now)
{
	struct probe_action *a = p->act;
	if (p->state == PS_DONE || a->kind != ACT_NONE)
		return;
	if (p->npending > 0) {
		set_state(p, p->pending[0], now);
		if (a->ncmds)
			a->kind = ACT_SEND;
		return;
	}
	if (p->quit_sent) {
		if (p->step == STEP_END && p->res->fail == FAIL_NONE)
			p->res->completed = true;
		a->kind = ACT_QUIT;
		set_state(p, PS_DONE, now);
	}
}

static void fail(struct probe *p, enum fail_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct probe *p, enum fail_kind kind, const char *fmt, ...)
{
	struct port_result *r = p->res;
	if (r->fail != FAIL_NONE && r->error) {
		/* The first cause is the one that matters; the driver (a failed
		 * send, say) gave it without the state, which is ours to say. */
		if (r->fail_state == PS_DONE)
			r->fail_state = (int)p->state;
		return;
	}
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
static void stop_on_reply(struct probe *p, enum probe_state st,
			  const struct reply *r, const char *to_what)
{
	struct port_result *res = p->res;
	res->stop_code = r->code;
	memcpy(res->stop_enhanced, r->enhanced, sizeof res->stop_enhanced);
	res->stop_text = arena_strdup(p->arena, r->text);
	res->stop_state = (int)st;
	enum probe_state was = p->state;
	p->state = st;
	fail(p, FAIL_REJECTED, "the server answered %d to %s: %s", r->code,
	     to_what, escaped(p, r->lines[0]));
	p->state = was;
	quit(p);
}

static void send_ehlo(struct probe *p, enum probe_state st)
{
	char line[300];
	snprintf(line, sizeof line, "EHLO %s", p->ehlo_name);
	push(p, st, line, NULL, false);
}

static void reconnect(struct probe *p, enum tls_mode mode, uint64_t now)
{
	p->reconnected = true;
	p->res->mode = mode;
	p->res->connected = false;
	set_state(p, PS_CONNECTING, now);
	p->act->kind = ACT_RECONNECT;
}

static void copy_reply(struct probe *p, const struct reply *r, int *code,
		       char enhanced[16], char **text)
{
	*code = r->code;
	memcpy(enhanced, r->enhanced, 16);
	*text = arena_strdup(p->arena, r->text);
}

/* ---- the transaction steps ---- */

static void advance(struct probe *p);

static void start_txn(struct probe *p, struct relay_result *t, bool authenticated)
{
	const struct probe_opts *o = p->opts;
	char line[600];
	memset(t, 0, sizeof *t);
	t->authenticated = authenticated;
	t->pipelined = p->pipelining;
	p->txn = t;
	snprintf(line, sizeof line, "MAIL FROM:<%s>", o->mail_from);
	push(p, PS_MAIL, line, NULL, false);
	if (!p->pipelining)
		return;
	snprintf(line, sizeof line, "RCPT TO:<%s>", o->rcpt_to);
	push(p, PS_RCPT, line, NULL, false);
	push(p, PS_RSET, "RSET", NULL, false);
	/* What follows and must end a group (AUTH, QUIT) goes with it. */
	advance(p);
}

static bool start_auth(struct probe *p, size_t form)
{
	const struct probe_opts *o = p->opts;
	struct port_result *res = p->res;
	const struct ehlo_caps *c = caps_now(p);
	if (!o || !o->user)
		return false;
	if (!c->valid || c->nmech == 0) {
		res->auth_status = AUTH_SKIPPED_NO_AUTH;
		return false;
	}
	if (!res->tls.ok && !o->insecure_auth) {
		res->auth_status = AUTH_SKIPPED_CLEARTEXT;
		return false;
	}
	/* A server that could not prove who it is gets no password: that is
	 * exactly the man in the middle TLS is there to stop. */
	if (res->tls.ok && !res->tls.verified && !o->insecure_auth) {
		res->auth_status = AUTH_SKIPPED_UNVERIFIED;
		return false;
	}
	unsigned mech = o->force_mech ? (c->mechs & o->force_mech) : sasl_choose(c->mechs);
	if (!mech) {
		res->auth_status = AUTH_SKIPPED_NO_MECH;
		return false;
	}
	if (res->nauth == MAX_AUTH_ATTEMPTS)
		return false;
	const char *user = form == 0 ? o->user : o->alt_user;
	struct auth_attempt *a = &res->auth[res->nauth++];
	snprintf(a->mech, sizeof a->mech, "%s", sasl_mech_name(mech));
	a->username = arena_strdup(p->arena, user);
	a->full_address = strchr(user, '@') != NULL;
	res->auth_status = AUTH_TRIED;
	p->auth_form = form;

	struct buf line, shown, err;
	buf_init(&line);
	buf_init(&shown);
	buf_init(&err);
	int rc = sasl_start(&p->sasl, mech, user, o->password, &line, &shown, &err);
	if (rc == 0)
		push(p, PS_AUTH, buf_cstr(&line), buf_cstr(&shown), true);
	else
		a->error = arena_strdup(p->arena, buf_cstr(&err));
	buf_wipe_free(&line);
	buf_free(&shown);
	buf_free(&err);
	return rc == 0;
}

static void advance(struct probe *p)
{
	const struct probe_opts *o = p->opts;
	struct port_result *res = p->res;
	for (;;) {
		switch (p->step) {
		case STEP_RELAY:
			p->step = STEP_MECH_TESTS;
			if (o && o->relay_test) {
				start_txn(p, &res->relay, false);
				return;
			}
			continue;
		case STEP_MECH_TESTS: {
			const struct ehlo_caps *c = p->pre_tls_tests ? &res->caps_before
								     : caps_now(p);
			/* In clear after a refused STARTTLS, the mechanisms were
			 * tried already, before the STARTTLS. */
			bool tried = p->pre_tls_tests_done && !p->pre_tls_tests && !res->tls.ok;
			if (o && o->try_mechanisms && !tried && p->mech_next < c->nmech &&
			    res->nmech_tests < MAX_MECH_TESTS) {
				struct mech_test *t = &res->mech_tests[res->nmech_tests++];
				const char *name = c->mech_names[p->mech_next++];
				snprintf(t->mech, sizeof t->mech, "%s", name);
				t->before_tls = !res->tls.ok;
				char line[64];
				snprintf(line, sizeof line, "AUTH %s", name);
				push(p, PS_MECH_TRY, line, NULL, false);
				return;
			}
			p->mech_next = 0;
			if (p->pre_tls_tests) {
				p->pre_tls_tests = false;
				p->pre_tls_tests_done = true;
				push(p, PS_STARTTLS, "STARTTLS", NULL, false);
				return;
			}
			p->step = STEP_AUTH;
			continue;
		}
		case STEP_AUTH:
			p->step = STEP_RELAY_AUTH;
			if (start_auth(p, 0))
				return;
			continue;
		case STEP_RELAY_AUTH:
			p->step = STEP_QUIT;
			if (p->authenticated && o && o->relay_test) {
				start_txn(p, &res->relay_auth, true);
				return;
			}
			continue;
		case STEP_QUIT:
			p->step = STEP_END;
			if (!p->quit_sent)
				push_quit(p);
			return;
		case STEP_END:
			return;
		}
	}
}

/*
 * The capabilities are known (EHLO, or HELO with none): upgrade when the
 * server offers STARTTLS and we are in clear, else begin the steps.
 */
/*
 * The CVE-2011-0411 test: STARTTLS and HELP in one packet. A server that
 * keeps the HELP across the upgrade answers it under TLS, before the QUIT
 * we send there; a correct one discards it and answers the QUIT first.
 * The replies are counted, and read only as far as QUIT allows: HELP may
 * be answered 214, 250, 502 or anything else, QUIT only 221 or an error
 * (see on_inject_check). The wait under TLS has a limit of its own.
 */
static void injection_start(struct probe *p)
{
	struct port_result *r = p->res;
	if (!(r->caps_before.caps & CAP_STARTTLS)) {
		r->injection_error = arena_strdup(p->arena, "the port does not offer STARTTLS");
		quit(p);
		return;
	}
	push(p, PS_STARTTLS, "STARTTLS", NULL, false);
	/* Sent in the same write, and no reply is expected for it in clear. */
	append(p->act->line, false, "HELP");
	append(p->act->shown, false, "HELP");
	p->act->ncmds++;
}

static void after_caps(struct probe *p)
{
	struct port_result *r = p->res;
	const struct probe_opts *o = p->opts;
	if (p->injection_probe && !r->tls.attempted) {
		injection_start(p);
		return;
	}
	if (r->mode == MODE_STARTTLS && !r->tls.attempted &&
	    (r->caps_before.caps & CAP_STARTTLS)) {
		if (o && o->try_mechanisms && r->caps_before.nmech && !p->pre_tls_tests_done) {
			p->pre_tls_tests = true;
			p->step = STEP_MECH_TESTS;
			advance(p);
			return;
		}
		push(p, PS_STARTTLS, "STARTTLS", NULL, false);
		return;
	}
	p->pipelining = (caps_now(p)->caps & CAP_PIPELINING) != 0;
	p->step = STEP_RELAY;
	advance(p);
}

/* ---- reply handlers ---- */

static void on_greeting(struct probe *p, const struct reply *r, uint64_t now)
{
	struct port_result *res = p->res;
	res->greeting_code = r->code;
	res->banner = arena_strdup(p->arena, r->text);
	res->greeting_wait_us = now - p->state_since_us;
	if (r->code == 220) {
		send_ehlo(p, PS_EHLO);
		return;
	}
	stop_on_reply(p, PS_GREETING, r, "the connection (greeting)");
}

static void on_ehlo(struct probe *p, enum probe_state st, const struct reply *r)
{
	struct port_result *res = p->res;
	bool under_tls = st == PS_EHLO_TLS || res->mode == MODE_TLS;
	res->ehlo_code = r->code;
	if (r->code == 250) {
		struct ehlo_caps *c = under_tls ? &res->caps_after : &res->caps_before;
		ehlo_caps_free(c);
		ehlo_parse(r, c);
		res->ehlo_ok = true;
		if (st == PS_EHLO && !under_tls)
			res->starttls_offered = (c->caps & CAP_STARTTLS) != 0;
		after_caps(p);
		return;
	}
	/* EHLO unknown to an old server: HELO is the RFC 5321 fallback. */
	if (st == PS_EHLO && r->code >= 500 && r->code != 554) {
		res->ehlo_error = arena_strdup(p->arena, r->text);
		char line[300];
		snprintf(line, sizeof line, "HELO %s", p->ehlo_name);
		push(p, PS_HELO, line, NULL, false);
		return;
	}
	stop_on_reply(p, st, r, "EHLO");
}

static void on_helo(struct probe *p, const struct reply *r)
{
	if (r->code == 250) {
		p->res->helo_used = true;
		after_caps(p);
		return;
	}
	stop_on_reply(p, PS_HELO, r, "HELO");
}

static void on_starttls(struct probe *p, const struct reply *r, uint64_t now)
{
	struct port_result *res = p->res;
	res->starttls_code = r->code;
	res->starttls_text = arena_strdup(p->arena, r->text);
	memcpy(res->starttls_enhanced, r->enhanced, sizeof res->starttls_enhanced);
	res->tls.attempted = true;
	if (r->code == 220) {
		set_state(p, PS_STARTTLS_HANDSHAKE, now);
		p->act->kind = ACT_START_TLS;
		return;
	}
	res->tls.error = arena_printf(p->arena, "STARTTLS refused: %d %s",
				      r->code, escaped(p, r->lines[0]));
	if (r->code == 421) {
		stop_on_reply(p, PS_STARTTLS, r, "STARTTLS");
		return;
	}
	if (p->injection_probe) {
		/* No upgrade, so nothing to test; the HELP sent with STARTTLS
		 * is still to be answered in clear, and no step may take that
		 * answer for its own. */
		res->injection_error = arena_printf(p->arena, "STARTTLS refused: %d %s",
						    r->code, escaped(p, r->lines[0]));
		quit(p);
		return;
	}
	/* Still a clear-text session: the steps show what it allows. */
	p->pipelining = (caps_now(p)->caps & CAP_PIPELINING) != 0;
	p->step = STEP_RELAY;
	advance(p);
}

static void on_mech_try(struct probe *p, const struct reply *r)
{
	struct mech_test *t = &p->res->mech_tests[p->res->nmech_tests - 1];
	copy_reply(p, r, &t->code, t->enhanced, &t->text);
	if (r->code == 334) {
		push(p, PS_MECH_CANCEL, "*", NULL, false);
		return;
	}
	advance(p);
}

static void on_mech_cancel(struct probe *p, const struct reply *r)
{
	struct mech_test *t = &p->res->mech_tests[p->res->nmech_tests - 1];
	t->cancel_code = r->code;
	t->works = true;
	advance(p);
}

static void on_auth(struct probe *p, const struct reply *r)
{
	struct port_result *res = p->res;
	const struct probe_opts *o = p->opts;
	struct auth_attempt *a = &res->auth[res->nauth - 1];
	if (r->code == 334 && !a->error) {
		struct buf line, shown, err;
		buf_init(&line);
		buf_init(&shown);
		buf_init(&err);
		if (sasl_step(&p->sasl, r->lines[0], &line, &shown, &err) == 0) {
			push(p, PS_AUTH, buf_cstr(&line), buf_cstr(&shown), true);
		} else {
			/* Cancel (RFC 4954 4): the server answers 501. */
			a->error = arena_strdup(p->arena, buf_cstr(&err));
			push(p, PS_AUTH, "*", NULL, false);
		}
		buf_wipe_free(&line);
		buf_free(&shown);
		buf_free(&err);
		return;
	}
	copy_reply(p, r, &a->code, a->enhanced, &a->text);
	a->server_verified = sasl_server_verified(&p->sasl);
	bool client_error = a->error != NULL;
	sasl_clear(&p->sasl);
	if (r->code == 235 && !client_error) {
		a->ok = true;
		p->authenticated = true;
		res->auth_ok_index = (int)(res->nauth - 1);
		advance(p);
		return;
	}
	if (r->code == 421) {
		stop_on_reply(p, PS_AUTH, r, "AUTH");
		return;
	}
	/* Rejected: once more with the other form of the user name, unless the
	 * server said why, and it was not the credentials (5.7.139: AUTH off). */
	const struct reply_rule *why = interpret_reply(CTX_AUTH, r->code, r->enhanced, r->text);
	if (r->code == 535 && !client_error && p->auth_form == 0 && o->alt_user &&
	    why && !strcmp(why->id, "auth-failed") && start_auth(p, 1))
		return;
	advance(p);
}

static void on_mail(struct probe *p, const struct reply *r)
{
	struct relay_result *t = p->txn;
	copy_reply(p, r, &t->mail_code, t->mail_enhanced, &t->mail_text);
	if (r->code == 421) {
		stop_on_reply(p, PS_MAIL, r, "MAIL FROM");
		return;
	}
	if (t->pipelined)
		return;
	if (r->code / 100 == 2) {
		char line[600];
		snprintf(line, sizeof line, "RCPT TO:<%s>", p->opts->rcpt_to);
		push(p, PS_RCPT, line, NULL, false);
	} else {
		push(p, PS_RSET, "RSET", NULL, false);
	}
}

static void on_rcpt(struct probe *p, const struct reply *r)
{
	struct relay_result *t = p->txn;
	copy_reply(p, r, &t->rcpt_code, t->rcpt_enhanced, &t->rcpt_text);
	t->accepted = t->mail_code / 100 == 2 && (r->code == 250 || r->code == 251);
	if (r->code == 421) {
		stop_on_reply(p, PS_RCPT, r, "RCPT TO");
		return;
	}
	if (!t->pipelined)
		push(p, PS_RSET, "RSET", NULL, false);
}

static void on_rset(struct probe *p, const struct reply *r)
{
	p->txn->done = true;
	if (r->code == 421) {
		stop_on_reply(p, PS_RSET, r, "RSET");
		return;
	}
	if (p->npending == 0 && !p->quit_sent)
		advance(p);
}

/*
 * Could this reply answer QUIT? Its answer is 221; a server that will not
 * say goodbye may give an error (421 on its way out, a 5xx). A 2xx other
 * than 221 (HELP's 214, NOOP's 250) or a 3xx never answers QUIT.
 */
static bool may_answer_quit(int code)
{
	return code == 221 || code >= 400;
}

/*
 * A reply under TLS on the injection connection, where QUIT is the only
 * command we sent. Its 221 as the first reply: the HELP was discarded. A
 * first reply QUIT cannot get (214, 250, 354), or two replies in all,
 * answered a command we never sent under TLS: the HELP ran. A first
 * reply that is an error may be either (a server that answers QUIT 421,
 * say), so wait for a second one; if the wait ends, or the session,
 * first, the test says it cannot tell. Once decided, the wait goes on
 * only to count the QUIT's 221, and its end (EV_WAIT_OVER) changes
 * nothing.
 */
static void on_inject_check(struct probe *p, const struct reply *r)
{
	struct port_result *res = p->res;
	int n = ++res->injection_replies;
	if (n == 1) {
		res->injection_code = r->code;
		res->injection_text = arena_strdup(p->arena, r->text);
	}
	if (n > 1 || r->code == 221) {
		res->injection_verdict = n == 1 ? INJECTION_SAFE : INJECTION_VULNERABLE;
		res->injection_error = NULL;
		p->step = STEP_END;
		return; /* QUIT went already: settle() closes */
	}
	/* Nothing to send: only wait for the next reply. */
	p->pending[p->npending++] = PS_INJECT_CHECK;
	if (!may_answer_quit(r->code)) {
		res->injection_verdict = INJECTION_VULNERABLE;
		res->injection_error = NULL;
		return;
	}
	res->injection_verdict = INJECTION_INCONCLUSIVE;
	res->injection_error = arena_printf(p->arena,
		"the only reply under TLS was %d %s, which may answer either the "
		"QUIT or the HELP sent in clear", r->code, escaped(p, r->lines[0]));
	p->act->wait_us = PROBE_INJECT_WAIT_US;
}

/* The injection test's wait passed: the verdict is what the replies said. */
static void on_inject_wait_over(struct probe *p)
{
	struct port_result *res = p->res;
	double waited = PROBE_INJECT_WAIT_US / 1e6;
	if (res->injection_replies == 0)
		res->injection_error = arena_printf(p->arena, "no reply came under TLS "
						    "within %g s of our QUIT", waited);
	else if (res->injection_verdict == INJECTION_INCONCLUSIVE)
		res->injection_error = arena_printf(p->arena, "no second reply came within "
						    "%g s: %s", waited, res->injection_error);
	p->npending = 0;
	p->step = STEP_END;
}

/* "220 ...", "554 ...", "421-..." or what OpenSSL left of it ("...") */
bool looks_like_smtp(const char *text)
{
	if (!text || !strncmp(text, "...", 3))
		return true; /* not seen: give the clear-text probe a chance */
	static const char lo[] = "20", hi[] = "59";
	for (int i = 0; i < 3; i++) {
		if (!text[i])
			return true; /* too short to tell */
		if (text[i] < lo[i ? 1 : 0] || text[i] > hi[i ? 1 : 0])
			return false;
	}
	return text[3] == ' ' || text[3] == '-' || text[3] == '\0';
}

static void tls_failed(struct probe *p, uint64_t now)
{
	struct port_result *res = p->res;
	fail(p, FAIL_TLS, "TLS handshake failed: %s",
	     res->tls.error ? res->tls.error : "unknown error");
	close_now(p, now);
}

static void unexpected(struct probe *p, enum probe_event_kind ev, uint64_t now)
{
	fail(p, FAIL_PROTOCOL, "unexpected %s while %s", probe_event_name(ev),
	     probe_states[p->state].doing);
	close_now(p, now);
}

static void on_reply(struct probe *p, const struct reply *r, uint64_t now)
{
	if (p->npending == 0) {
		unexpected(p, EV_REPLY, now);
		return;
	}
	enum probe_state st = pop(p);
	switch (st) {
	case PS_EHLO:
	case PS_EHLO_TLS: on_ehlo(p, st, r); break;
	case PS_HELO: on_helo(p, r); break;
	case PS_STARTTLS: on_starttls(p, r, now); break;
	case PS_MECH_TRY: on_mech_try(p, r); break;
	case PS_MECH_CANCEL: on_mech_cancel(p, r); break;
	case PS_AUTH: on_auth(p, r); break;
	case PS_MAIL: on_mail(p, r); break;
	case PS_RCPT: on_rcpt(p, r); break;
	case PS_RSET: on_rset(p, r); break;
	case PS_INJECT_CHECK: on_inject_check(p, r); break;
	default: unexpected(p, EV_REPLY, now); break;
	}
}

void probe_event(struct probe *p, enum probe_event_kind ev,
		 const struct reply *r, uint64_t now, struct probe_action *act)
{
	struct port_result *res = p->res;
	memset(act, 0, sizeof *act);
	act->kind = ACT_NONE;
	p->act = act;
	if (p->state == PS_DONE)
		return;

	switch (ev) {
	case EV_TIMEOUT:
		fail(p, FAIL_TIMEOUT, "timed out %s", probe_states[p->state].doing);
		close_now(p, now);
		return;
	case EV_CONNECT_FAILED:
		if (!res->error)
			fail(p, res->fail ? res->fail : FAIL_CONNECT, "connect failed");
		else
			res->fail_state = (int)p->state;
		close_now(p, now);
		return;
	case EV_CLOSED:
		if (p->quit_sent) {
			/* After our QUIT a close is the expected end. */
			if (res->fail == FAIL_RESET)
				res->fail = FAIL_NONE;
			if (res->fail == FAIL_NONE)
				res->completed = true;
			close_now(p, now);
			return;
		}
		fail(p, res->fail ? res->fail : FAIL_CLOSED,
		     "the server %s the connection while %s",
		     res->fail == FAIL_RESET ? "reset" : "closed",
		     probe_states[p->state].doing);
		close_now(p, now);
		return;
	case EV_PROTOCOL_ERROR:
		fail(p, FAIL_PROTOCOL, "%s while %s",
		     res->error ? res->error : "protocol error",
		     probe_states[p->state].doing);
		res->fail_state = (int)p->state;
		close_now(p, now);
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
			res->tls.ok = true;
			if (p->state == PS_TLS_HANDSHAKE) {
				set_state(p, PS_GREETING, now);
				return;
			}
			if (p->injection_probe) {
				/* QUIT, awaited: its 221 is the marker. */
				push(p, PS_INJECT_CHECK, "QUIT", NULL, false);
				p->quit_sent = true;
				res->injection_verdict = INJECTION_INCONCLUSIVE;
				res->injection_error = arena_strdup(p->arena,
					"no reply came under TLS");
				/* A server silent on QUIT must not hold the run. */
				act->wait_us = PROBE_INJECT_WAIT_US;
			} else
				send_ehlo(p, PS_EHLO_TLS);
			settle(p, now);
			return;
		}
		if (ev == EV_TLS_CLEARTEXT && p->state == PS_TLS_HANDSHAKE &&
		    !looks_like_smtp(res->mismatch_text)) {
			/* Clear text, but not SMTP (an SSH banner, a web server's
			 * answer): no use trying STARTTLS there. */
			fail(p, FAIL_PROTOCOL, "the port answered the TLS hello in clear "
			     "text, and not in SMTP: '%s%s'",
			     res->mismatch_text ? res->mismatch_text : "",
			     res->mismatch_cut ? "..." : "");
			res->fail_state = PS_GREETING;
			close_now(p, now);
			return;
		}
		if (ev == EV_TLS_CLEARTEXT && p->state == PS_TLS_HANDSHAKE) {
			res->mismatch = MISMATCH_TLS_TO_CLEAR;
			if (!p->reconnected) {
				res->tls = (struct tls_result){ 0 };
				reconnect(p, MODE_STARTTLS, now);
				return;
			}
			res->tls.error = arena_strdup(p->arena,
				"the server answered the TLS ClientHello in clear text");
			tls_failed(p, now);
			return;
		}
		if (ev == EV_TLS_FAILED || ev == EV_TLS_CLEARTEXT) {
			if (ev == EV_TLS_CLEARTEXT && !res->tls.error)
				res->tls.error = arena_strdup(p->arena,
					"the server sent clear text instead of a TLS ServerHello");
			tls_failed(p, now);
			return;
		}
		break;

	case PS_GREETING:
		if (ev == EV_REPLY) {
			on_greeting(p, r, now);
			settle(p, now);
			return;
		}
		if (ev == EV_SPEAKS_TLS && !p->reconnected) {
			res->mismatch = MISMATCH_CLEAR_TO_TLS;
			reconnect(p, MODE_TLS, now);
			return;
		}
		if (ev == EV_SPEAKS_OTHER && !res->greeting_code) {
			/* Silent until spoken to, then not SMTP: waiting longer
			 * would only reach the deadline. */
			fail(p, FAIL_PROTOCOL, "the port says nothing until spoken to, and "
			     "then answers in another protocol: '%s'",
			     res->sniff_text ? res->sniff_text : "");
			close_now(p, now);
			return;
		}
		break;

	case PS_EHLO:
	case PS_EHLO_TLS:
	case PS_HELO:
	case PS_STARTTLS:
	case PS_MECH_TRY:
	case PS_MECH_CANCEL:
	case PS_AUTH:
	case PS_MAIL:
	case PS_RCPT:
	case PS_RSET:
	case PS_INJECT_CHECK:
		if (ev == EV_REPLY) {
			on_reply(p, r, now);
			settle(p, now);
			return;
		}
		if (ev == EV_WAIT_OVER && p->state == PS_INJECT_CHECK) {
			on_inject_wait_over(p);
			settle(p, now);
			return;
		}
		break;

	case PS_DONE:           /* not reached: probe_event() returned first */
	case PS_COUNT:
		return;
	}
	if (ev == EV_SPEAKS_TLS || ev == EV_SPEAKS_OTHER || ev == EV_WAIT_OVER)
		return; /* a late sniff result or timer: nothing to do */
	unexpected(p, ev, now);
}
