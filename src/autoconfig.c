/*
 * autoconfig.c - Thunderbird's guess for this server (see autoconfig.h).
 */
#include "autoconfig.h"

#include <string.h>

#include "interpret.h"

static const struct port_result *first_port(const struct host_result *h, int port)
{
	for (size_t i = 0; i < h->nports; i++)
		if (h->ports[i].port == port)
			return &h->ports[i];
	return NULL;
}

static void note(struct tb_guess *g, const char *text)
{
	if (g->nnotes < TB_MAX_NOTES)
		g->notes[g->nnotes++] = text;
}

/* The method Thunderbird would take from an EHLO's AUTH list. */
static const char *auth_from(const struct ehlo_caps *c)
{
	if (c && c->valid) {
		if (c->mechs & MECH_GSSAPI)
			return "Kerberos / GSSAPI";
		if (c->mechs & MECH_CRAM_MD5)
			return "Encrypted password";
		if (c->mechs & (MECH_NTLM | MECH_MSN))
			return "NTLM";
	}
	return "Normal password";
}

static bool says_starttls(const struct port_result *r)
{
	return (r->caps_before.valid && (r->caps_before.caps & CAP_STARTTLS)) ||
	       (r->banner && ascii_strcasestr(r->banner, "starttls"));
}

static bool answered(const struct port_result *r)
{
	return r->connected && (r->greeting_code || r->banner || r->ehlo_ok);
}

static void guess_ports(const struct host_result *h, const struct diagnosis *d,
			struct arena *a, struct tb_guess *g)
{
	static const struct {
		int port;
		enum security sec;
	} order[] = {
		{ 465, SECURITY_TLS }, { 587, SECURITY_STARTTLS }, { 25, SECURITY_STARTTLS },
		{ 587, SECURITY_NONE }, { 25, SECURITY_NONE },
	};
	const struct port_result *chosen = NULL;
	for (size_t i = 0; i < ARRAY_LEN(order) && !chosen; i++) {
		const struct port_result *r = first_port(h, order[i].port);
		if (!r)
			continue;
		bool ok;
		switch (order[i].sec) {
		case SECURITY_TLS:
			ok = r->mode == MODE_TLS && r->tls.ok && answered(r);
			if (ok && !r->tls.verified) {
				ok = false;
				note(g, "Thunderbird skips port 465 because its certificate does "
				     "not verify (it insists on a good certificate when guessing)");
			}
			break;
		case SECURITY_STARTTLS:
			ok = r->mode == MODE_STARTTLS && answered(r) && says_starttls(r);
			break;
		default:
			ok = r->mode == MODE_STARTTLS && answered(r);
			break;
		}
		if (!ok)
			continue;
		chosen = r;
		g->decided = true;
		g->port = order[i].port;
		g->security = order[i].sec;
		/* The AUTH list of the probe's own EHLO: inside TLS for 465, the
		 * clear-text one (before STARTTLS) otherwise. */
		g->auth = auth_from(order[i].sec == SECURITY_TLS ? &r->caps_after
								  : &r->caps_before);
	}
	if (!chosen) {
		g->verdict = "none of the ports Thunderbird tries answers the way it expects: "
			     "its automatic setup would fail; set the account up by hand";
		return;
	}

	for (size_t i = 0; i < d->noptions; i++)
		if (d->options[i].port == g->port && d->options[i].security == g->security &&
		    (!d->options[i].server || !chosen->server ||
		     !ascii_casecmp(d->options[i].server, chosen->server)))
			g->works = true;
	if (g->works && strcmp(g->auth, "Normal password")) {
		/* A method read before TLS must still be there after it. */
		const struct ehlo_caps *after = port_result_final_caps(chosen);
		unsigned need = !strcmp(g->auth, "Encrypted password") ? MECH_CRAM_MD5
			      : !strcmp(g->auth, "NTLM") ? (MECH_NTLM | MECH_MSN) : MECH_GSSAPI;
		if (!(after->mechs & need)) {
			g->works = false;
			note(g, arena_printf(a, "Thunderbird reads \"%s\" from the AUTH list the "
					     "server shows before STARTTLS, but after STARTTLS the "
					     "server no longer offers it", g->auth));
		} else if (need == MECH_CRAM_MD5) {
			note(g, "\"Encrypted password\" (CRAM-MD5) works only if the server can "
			     "check it for this account; if sending fails, choose \"Normal "
			     "password\"");
		}
	}
	if (g->works && !strcmp(g->auth, "Normal password")) {
		const struct ehlo_caps *after = port_result_final_caps(chosen);
		if (after->valid && after->nmech && !(after->mechs & (MECH_PLAIN | MECH_LOGIN))) {
			g->works = false;
			note(g, "the server offers no plain password login (PLAIN or LOGIN), "
			     "which \"Normal password\" needs");
		}
	}
	if (d->noptions && g->security == SECURITY_NONE &&
	    d->options[0].security != SECURITY_NONE)
		g->weaker = true;

	if (g->security == SECURITY_STARTTLS && !chosen->tls.ok)
		note(g, arena_printf(a, "Thunderbird's guess only sees \"STARTTLS\" in the "
				     "EHLO reply of port %d; the upgrade itself %s", g->port,
				     chosen->tls.attempted ? "fails here" : "was not tested"));
	if (g->security == SECURITY_STARTTLS && chosen->tls.ok && !chosen->tls.verified)
		note(g, arena_printf(a, "the certificate of port %d does not verify; "
				     "Thunderbird will complain only when it first sends",
				     g->port));
	if (d->rec.present && d->rec.username == USERNAME_FULL_ADDRESS)
		note(g, "Thunderbird fills in the part of the address before the @ as the user "
		     "name; this server wants the full address, so correct \"User Name:\"");
	if (g->port == 25)
		note(g, "port 25 is often blocked by access providers; 587 or 465 is the "
		     "reliable choice for sending");

	if (!g->works)
		g->verdict = arena_printf(a, "it would pick port %d with %s and \"%s\", which "
					  "does not work here; set the account up by hand with the "
					  "recommended settings", g->port,
					  g->security == SECURITY_TLS ? "SSL/TLS"
					  : g->security == SECURITY_STARTTLS ? "STARTTLS" : "no "
					  "encryption", g->auth);
	else if (g->weaker)
		g->verdict = arena_printf(a, "it would pick port %d without encryption, weaker "
					  "than what the server offers; choose the recommended "
					  "settings by hand", g->port);
	else
		g->verdict = arena_printf(a, "it would pick port %d with %s and \"%s\", which "
					  "works", g->port,
					  g->security == SECURITY_TLS ? "SSL/TLS" : "STARTTLS",
					  g->auth);
}

void tb_guess(const struct host_result *h, const struct diagnosis *d,
	      struct arena *a, struct tb_guess *g)
{
	memset(g, 0, sizeof *g);
	g->applicable = true;
	if (!h->discovery) {
		g->server = h->name;
		guess_ports(h, d, a, g);
		return;
	}
	/*
	 * A mail domain: Thunderbird ignores SRV and tries smtp.DOMAIN,
	 * mail.DOMAIN and DOMAIN, in that order, settling on the first host
	 * that answers. Its guess can be told only when ours was the same.
	 */
	if (!h->guessed) {
		g->applicable = false;
		return;
	}
	struct host_result view = *h;
	view.ports = arena_alloc(a, (h->nports ? h->nports : 1) * sizeof *view.ports);
	view.nports = 0;
	for (size_t s = 0; s < h->nservers && !view.nports; s++) {
		const struct server_result *sr = &h->servers[s];
		if (sr->source != SERVER_GUESS)
			continue;
		for (size_t i = 0; i < h->nports; i++)
			if (h->ports[i].server && !ascii_casecmp(h->ports[i].server, sr->name) &&
			    answered(&h->ports[i]))
				view.ports[view.nports++] = h->ports[i];
		if (view.nports) {
			g->server = sr->name;
			view.name = sr->name;
			view.nports = 0;
			for (size_t i = 0; i < h->nports; i++)
				if (h->ports[i].server &&
				    !ascii_casecmp(h->ports[i].server, sr->name))
					view.ports[view.nports++] = h->ports[i];
		}
	}
	guess_ports(&view, d, a, g);
	if (g->decided && g->server)
		g->verdict = arena_printf(a, "on %s, %s", g->server, g->verdict);
}
