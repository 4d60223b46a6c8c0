/*
 * advice.c - steps of a mail program for the settings the probe found:
 * which working path the program can take (its security and, for a
 * program without a port box, its port), the steps filled in for it, and
 * what no source confirms about them.
 */
#include "advice.h"

#include <string.h>

const char *advice_security_words(enum security s)
{
	switch (s) {
	case SECURITY_TLS: return "SSL/TLS (implicit TLS)";
	case SECURITY_STARTTLS: return "STARTTLS";
	case SECURITY_NONE: return "no encryption";
	}
	return "?";
}

bool advice_supports(const struct kb_program *p, enum security s)
{
	if (!p->auth)
		return false;
	switch (s) {
	case SECURITY_TLS: return p->tls != ABLE_NO;
	case SECURITY_STARTTLS: return p->starttls != ABLE_NO;
	case SECURITY_NONE: return p->none;
	}
	return false;
}

static int port_index(enum security s)
{
	return s == SECURITY_TLS ? PORT_TLS : s == SECURITY_STARTTLS ? PORT_STARTTLS : PORT_NONE;
}

bool advice_reaches(const struct kb_program *p, enum security s, int port)
{
	return p->ports != PORTS_FIXED || p->fixed_port[port_index(s)] == port;
}

static const enum security port_modes[PORT_MODES] = {
	SECURITY_TLS, SECURITY_STARTTLS, SECURITY_NONE
};

/* "port 465 with SSL/TLS (implicit TLS) and port 25 with STARTTLS or no
 * encryption": the fixed ports of a program, for the modes it has; just
 * "port 25" when every mode goes there. */
static int fixed_ports_words(const struct kb_program *p, struct buf *b)
{
	int only = 0;
	for (int m = 0; m < PORT_MODES; m++) {
		if (!p->fixed_port[m] || !advice_supports(p, port_modes[m]))
			continue;
		if (only && only != p->fixed_port[m]) {
			only = -1;
			break;
		}
		only = p->fixed_port[m];
	}
	if (only > 0) {
		buf_printf(b, "port %d", only);
		return only;
	}
	bool done[PORT_MODES] = { false };
	bool first_port = true;
	for (int m = 0; m < PORT_MODES; m++) {
		if (done[m] || !p->fixed_port[m] || !advice_supports(p, port_modes[m]))
			continue;
		buf_printf(b, "%sport %d with ", first_port ? "" : " and ", p->fixed_port[m]);
		first_port = false;
		int same[PORT_MODES], n = 0;
		for (int k = m; k < PORT_MODES; k++)
			if (p->fixed_port[k] == p->fixed_port[m] && advice_supports(p, port_modes[k]))
				same[n++] = k;
		for (int k = 0; k < n; k++) {
			buf_printf(b, "%s%s", k == 0 ? "" : k == n - 1 ? " or " : ", ",
				   advice_security_words(port_modes[same[k]]));
			done[same[k]] = true;
		}
	}
	return 0;
}

static unsigned cond_of(const struct advice_target *t)
{
	unsigned c = t->security == SECURITY_TLS ? COND_TLS
		   : t->security == SECURITY_STARTTLS ? COND_STARTTLS : COND_NONE;
	c |= t->username == USERNAME_FULL_ADDRESS ? COND_FULL
	   : t->username == USERNAME_LOCAL_PART ? COND_LOCAL : COND_UNKNOWN;
	return c;
}

static bool applies(unsigned line_cond, unsigned target)
{
	unsigned sec = line_cond & COND_SECURITY, user = line_cond & COND_USER;
	return (!sec || (sec & target)) && (!user || (user & target));
}

/* Replace {server} {port} {user} {address} {local} (the parser hedged
 * the unconfirmed labels already). */
static char *fill(const char *template, const struct advice_target *t, struct arena *a)
{
	struct buf b;
	buf_init(&b);
	const char *text = template;
	const char *v = t->username_value;
	const char *at = v ? strrchr(v, '@') : NULL;
	for (const char *p = text; *p; p++) {
		if (*p != '{') {
			buf_putc(&b, *p);
			continue;
		}
		const char *end = strchr(p, '}');
		size_t n = end ? (size_t)(end - p - 1) : 0;
		if (!end) {
			buf_putc(&b, *p);
			continue;
		}
		if (n == 6 && !strncmp(p + 1, "server", 6)) {
			buf_puts(&b, t->server);
		} else if (n == 4 && !strncmp(p + 1, "port", 4)) {
			buf_printf(&b, "%d", t->port);
		} else if (n == 4 && !strncmp(p + 1, "user", 4)) {
			if (v)
				buf_puts(&b, v);
			else if (t->username == USERNAME_FULL_ADDRESS)
				buf_puts(&b, "your full e-mail address");
			else if (t->username == USERNAME_LOCAL_PART)
				buf_puts(&b, "the part of your e-mail address before the @");
			else
				buf_puts(&b, "your user name (the full e-mail address or the part "
					 "before the @, as your provider says)");
		} else if (n == 7 && !strncmp(p + 1, "address", 7)) {
			buf_puts(&b, at ? v : "your e-mail address");
		} else if (n == 5 && !strncmp(p + 1, "local", 5)) {
			if (at)
				buf_append(&b, v, (size_t)(at - v));
			else if (v)
				buf_puts(&b, v);
			else
				buf_puts(&b, "the part of your e-mail address before the @");
		} else {
			buf_append(&b, p, n + 2);
		}
		p = end;
	}
	char *s = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

static void render_lines(const struct kb_line *lines, size_t n, const struct advice_target *t,
			 struct arena *a, char ***out, size_t *nout)
{
	unsigned target = cond_of(t);
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += applies(lines[i].cond, target);
	*out = arena_alloc(a, (count ? count : 1) * sizeof **out);
	*nout = 0;
	for (size_t i = 0; i < n; i++)
		if (applies(lines[i].cond, target))
			(*out)[(*nout)++] = fill(lines[i].text, t, a);
}

static bool any_hedged(char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], KB_HEDGE))
			return true;
	return false;
}

static void add_caution(struct advice *out, struct arena *a, char *text)
{
	char **c = arena_alloc(a, (out->ncautions + 1) * sizeof *c);
	if (out->ncautions)
		memcpy(c, out->cautions, out->ncautions * sizeof *c);
	c[out->ncautions++] = text;
	out->cautions = c;
}

/* The program's quirks, hedged as the steps are: they hold whether or not
 * it can reach the server ("This version cannot log in ..."). */
static void fill_notes(const struct kb_program *p, const struct advice_target *t,
		       struct arena *a, struct advice *out)
{
	if (t) {
		render_lines(p->notes, p->nnotes, t, a, &out->notes, &out->nnotes);
		return;
	}
	/* Nothing to set up: the notes that hold whatever was found. */
	out->notes = arena_alloc(a, (p->nnotes ? p->nnotes : 1) * sizeof *out->notes);
	out->nnotes = 0;
	for (size_t i = 0; i < p->nnotes; i++) {
		if (!p->notes[i].cond)
			out->notes[out->nnotes++] = p->notes[i].text;
	}
}

static const char hedge_caution[] = "a label followed by \"" KB_HEDGE_MARK "\" is in no "
				    "source we know: your version may word it differently or "
				    "lack it";

void advice_render(const struct kb_program *p, const struct advice_target *t,
		   struct arena *a, struct advice *out)
{
	memset(out, 0, sizeof *out);
	out->program = p;
	out->target = *t;
	out->possible = true;
	out->unconfirmed_ability = (t->security == SECURITY_TLS && p->tls == ABLE_UNKNOWN) ||
				   (t->security == SECURITY_STARTTLS && p->starttls == ABLE_UNKNOWN);
	/* Without a port box a program sends to the standard port 25. */
	out->unconfirmed_port = p->ports == PORTS_UNKNOWN && t->port != 25;
	render_lines(p->steps, p->nsteps, t, a, &out->steps, &out->nsteps);
	render_lines(p->summary, p->nsummary, t, a, &out->summary, &out->nsummary);
	fill_notes(p, t, a, out);
	if (out->unconfirmed_ability)
		add_caution(out, a, arena_strdup(a, "no source confirms that this program can "
						 "use this kind of encryption; if it fails, try "
						 "another program"));
	if (out->unconfirmed_port)
		add_caution(out, a, arena_printf(a, "no source shows where this program sets "
						 "the port; if you find no box for it, the "
						 "program probably sends to the standard port 25 "
						 "and cannot reach port %d: then use another "
						 "program", t->port));
	if (any_hedged(out->steps, out->nsteps) || any_hedged(out->summary, out->nsummary) ||
	    any_hedged(out->notes, out->nnotes))
		add_caution(out, a, arena_strdup(a, hedge_caution));
}

/*
 * The TLS version the probe negotiated on a path, for a program whose
 * oldest accepted version is known: the oldest over the path's addresses,
 * since the program may reach any of them. 0 when there is no TLS or it
 * was not negotiated; *version is then left alone.
 */
static int path_tls(const struct host_result *h, const struct path_option *o,
		    const char **version)
{
	if (o->security == SECURITY_NONE)
		return 0;
	int oldest = 0;
	for (size_t i = 0; i < h->nports; i++) {
		const struct port_result *r = &h->ports[i];
		if (r->port != o->port || !r->tls.ok ||
		    (r->mode == MODE_TLS) != (o->security == SECURITY_TLS))
			continue;
		if (o->server && r->server && ascii_casecmp(o->server, r->server))
			continue;
		int rank = kb_tls_rank(r->tls.version);
		if (rank && (!oldest || rank < oldest)) {
			oldest = rank;
			*version = r->tls.version;
		}
	}
	return oldest;
}

/* The path's TLS is older than the program accepts: its version, else NULL. */
static const char *tls_too_old(const struct kb_program *p, const struct host_result *h,
			       const struct path_option *o)
{
	const char *version = NULL;
	int rank = p->tls_min ? path_tls(h, o, &version) : 0;
	return rank && rank < p->tls_min ? version : NULL;
}

static void cannot(const struct kb_program *p, struct arena *a, struct advice *out,
		   const char *why)
{
	memset(out, 0, sizeof *out);
	out->program = p;
	out->possible = false;
	out->reason = arena_strdup(a, why);
	fill_notes(p, NULL, a, out);
	if (any_hedged(out->notes, out->nnotes))
		add_caution(out, a, arena_strdup(a, hedge_caution));
}

void advice_for(const struct kb_program *p, const struct host_result *h,
		const struct diagnosis *d, struct arena *a, struct advice *out)
{
	if (!d->rec.present) {
		cannot(p, a, out, "the server offers no working way to submit mail, so there is "
		       "nothing to set up yet: see the findings");
		return;
	}
	if (!p->auth) {
		cannot(p, a, out, arena_printf(a, "%s cannot log in to an outgoing server (no "
					       "SMTP authentication), which this server requires",
					       p->name));
		return;
	}
	/* A program that always sends one form of the name. */
	const struct recommendation *rec = &d->rec;
	if ((!strcmp(p->username, "full") && rec->username == USERNAME_LOCAL_PART) ||
	    (!strcmp(p->username, "local") && rec->username == USERNAME_FULL_ADDRESS)) {
		cannot(p, a, out, arena_printf(a, "%s always sends the user name as %s, but "
					       "this server accepts only %s", p->name,
					       !strcmp(p->username, "full") ? "the full address"
					       : "the part before the @",
					       !strcmp(p->username, "full") ? "the part before the @"
					       : "the full address"));
		return;
	}
	/* The best working path the program can take; remember why it could
	 * not take the better ones. */
	bool port_blocked = false;
	const char *best_too_old = NULL;      /* the TLS of options[0], if too old */
	struct buf old_tls;                   /* "TLSv1.1 on port 465 with ..." */
	buf_init(&old_tls);
	for (size_t i = 0; i < d->noptions; i++) {
		const struct path_option *o = &d->options[i];
		if (!advice_supports(p, o->security))
			continue;
		if (!advice_reaches(p, o->security, o->port)) {
			port_blocked = true;
			continue;
		}
		const char *too_old = tls_too_old(p, h, o);
		if (too_old) {
			buf_printf(&old_tls, "%s%s on port %d with %s", old_tls.len ? " and " : "",
				   too_old, o->port, advice_security_words(o->security));
			if (i == 0)
				best_too_old = too_old;
			continue;
		}
		struct advice_target t = {
			.server = o->server ? o->server : h->name,
			.port = o->port,
			.security = o->security,
			.username = rec->username,
			.username_value = rec->username_value,
		};
		advice_render(p, &t, a, out);
		if (i > 0) {
			const struct path_option *best = &d->options[0];
			const char *of = o->server && h->nservers > 1 ? " of " : "";
			const char *srv = o->server && h->nservers > 1 ? o->server : "";
			out->fallback = true;
			if (best_too_old) {
				out->reason = arena_printf(a, "%s will not connect on port %d, the "
							   "best choice here: it %s, and the server "
							   "negotiates %s there. It can use %s on "
							   "port %d%s%s, which also works", p->name,
							   best->port, kb_tls_min_words(p, a),
							   best_too_old,
							   advice_security_words(o->security),
							   o->port, of, srv);
			} else if (advice_supports(p, best->security)) {
				struct buf ports;
				buf_init(&ports);
				fixed_ports_words(p, &ports);
				out->reason = arena_printf(a, "%s has no box for the port, so it cannot "
							   "use port %d with %s, the best choice here: "
							   "it sends only to %s. It can use %s on port "
							   "%d%s%s, which also works",
							   p->name, best->port,
							   advice_security_words(best->security),
							   buf_cstr(&ports),
							   advice_security_words(o->security), o->port,
							   of, srv);
				buf_free(&ports);
			} else {
				out->reason = arena_printf(a, "%s cannot use %s, the best choice here; "
							   "it can use %s on port %d%s%s, which also "
							   "works", p->name,
							   advice_security_words(best->security),
							   advice_security_words(o->security), o->port,
							   of, srv);
			}
		}
		buf_free(&old_tls);
		return;
	}
	struct buf why;
	buf_init(&why);
	if (old_tls.len) {
		/* It could take a path, but not with the TLS the server speaks. */
		buf_printf(&why, "%s will not connect: it %s, and this server negotiates only "
			   "%s. Ask the provider to enable TLS 1.2 or 1.3", p->name,
			   kb_tls_min_words(p, a), buf_cstr(&old_tls));
		cannot(p, a, out, buf_cstr(&why));
		buf_free(&why);
		buf_free(&old_tls);
		return;
	}
	buf_free(&old_tls);
	if (port_blocked) {
		/* It could speak to the server, but not on the port it answers. */
		buf_printf(&why, "%s has no box for the port: it sends only to ", p->name);
		int only = fixed_ports_words(p, &why);
		buf_puts(&why, ", but this server takes mail only on ");
		for (size_t i = 0; i < d->noptions; i++)
			buf_printf(&why, "%sport %d with %s", i ? " or " : "", d->options[i].port,
				   advice_security_words(d->options[i].security));
		if (only)
			buf_printf(&why, ". Ask the provider whether it accepts mail on port %d "
				   "too", only);
		else
			buf_puts(&why, ". Ask the provider whether it accepts mail on one of "
				 "those ports too");
		buf_puts(&why, ", or use a program that can set the port (--list-clients)");
		cannot(p, a, out, buf_cstr(&why));
		buf_free(&why);
		return;
	}
	buf_printf(&why, "%s cannot use what this server offers (", p->name);
	for (size_t i = 0; i < d->noptions; i++)
		buf_printf(&why, "%s%s on port %d", i ? ", " : "",
			   advice_security_words(d->options[i].security), d->options[i].port);
	buf_puts(&why, ")");
	cannot(p, a, out, buf_cstr(&why));
	buf_free(&why);
}
