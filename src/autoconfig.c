/*
 * autoconfig.c - Thunderbird's guess for this server (see autoconfig.h).
 *
 * Thunderbird (GuessConfig, data/thunderbird-autoconfig.txt) lists, per
 * host name, STARTTLS 587, STARTTLS 25, SSL/TLS 465, plain 587, plain 25,
 * and sorts the whole list stably: encrypted before plain, SSL/TLS before
 * STARTTLS. For smtp.D, mail.D and D that gives every 465 first (in host
 * order), then 587 and 25 with STARTTLS host by host, then the plain ones.
 * The first candidate that succeeds, once every one above it has failed,
 * is taken.
 *
 * A candidate whose TLS is older than Thunderbird accepts ("tls-min" of
 * data/clients/thunderbird.client) fails: 465 is skipped, as its handshake
 * fails during the guess; a STARTTLS pick, which the guess never upgrades,
 * is taken but does not work.
 *
 * "Weaker" compares that pick with the best working path the probe found
 * (diagnosis options[0], which may be on a port or a host Thunderbird never
 * tries): weaker when Thunderbird would send without encryption while an
 * encrypted path works, or would use port 25 while a submission port works
 * with at least the same protection.
 */
#include "autoconfig.h"

#include <string.h>

#include "interpret.h"
#include "kb.h"

/*
 * The oldest TLS version Thunderbird accepts, from its knowledge-base
 * entry ("tls-min"), so the data says it once: rank 0 when not known.
 */
struct tb_floor {
	int rank;
	const char *words;       /* "accepts only TLS 1.2 or later (since ...)" */
};

static struct tb_floor thunderbird_floor(const struct kb_program *p, struct arena *a)
{
	struct tb_floor f = { 0, NULL };
	if (p && p->tls_min) {
		f.rank = p->tls_min;
		f.words = kb_tls_min_words(p, a);
	}
	return f;
}

/* The TLS of this port result is older than Thunderbird accepts. */
static bool below_floor(const struct port_result *r, const struct tb_floor *f)
{
	int rank = r->tls.ok ? kb_tls_rank(r->tls.version) : 0;
	return f->rank && rank && rank < f->rank;
}

static void note(struct tb_guess *g, const char *text)
{
	if (g->nnotes < TB_MAX_NOTES)
		g->notes[g->nnotes++] = text;
}

/* The method Thunderbird would take from an EHLO's AUTH list. For SMTP it
 * always adds the plain password, so it never guesses "No authentication". */
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

static const char *sec_words(enum security s)
{
	return s == SECURITY_TLS ? "SSL/TLS" : s == SECURITY_STARTTLS ? "STARTTLS"
	       : "no encryption";
}

static bool same_server(const char *a, const char *b)
{
	return !a || !b || !ascii_casecmp(a, b);
}

/* The hosts Thunderbird tries, in its order, as they appear in the results. */
struct tb_hosts {
	const char *names[8];
	size_t n;
};

/* The result for PORT on HOST (NULL server: the one host of the run). */
static const struct port_result *result_for(const struct host_result *h, const char *host,
					    int port, bool *host_probed)
{
	const struct port_result *found = NULL;
	for (size_t i = 0; i < h->nports; i++) {
		const struct port_result *r = &h->ports[i];
		if (host && (!r->server || ascii_casecmp(r->server, host)))
			continue;
		*host_probed = true;
		if (r->port == port && !found)
			found = r;
	}
	return found;
}

/* Does this candidate succeed the way Thunderbird's probe decides? */
static bool candidate_ok(const struct port_result *r, enum security sec, struct tb_guess *g,
			 struct arena *a, bool *cert_noted, const struct tb_floor *floor,
			 bool *floor_hit)
{
	switch (sec) {
	case SECURITY_TLS:
		if (!(r->mode == MODE_TLS && r->tls.ok && answered(r)))
			return false;
		/* Its handshake fails below the floor, so the guess moves on. */
		if (below_floor(r, floor)) {
			*floor_hit = true;
			note(g, arena_printf(a, "Thunderbird skips port %d%s%s: the server "
					     "negotiates %s there, and Thunderbird %s", r->port,
					     r->server ? " of " : "", r->server ? r->server : "",
					     r->tls.version, floor->words));
			return false;
		}
		if (!port_result_programs_trust(r)) {
			if (!*cert_noted)
				note(g, arena_printf(a, "Thunderbird skips port %d%s%s because its "
						     "certificate does not verify (it insists on a "
						     "good certificate when guessing)", r->port,
						     r->server ? " of " : "",
						     r->server ? r->server : ""));
			*cert_noted = true;
			return false;
		}
		return true;
	case SECURITY_STARTTLS:
		return r->mode == MODE_STARTTLS && answered(r) && says_starttls(r);
	default:
		return r->mode == MODE_STARTTLS && answered(r);
	}
}

/* Why the pick is weaker than the best working path, or NULL. */
static const char *weaker_reason(const struct tb_guess *g, const struct diagnosis *d,
				 bool several_hosts, struct arena *a)
{
	if (!d->noptions)
		return NULL;
	const struct path_option *best = &d->options[0];
	if (best->port == g->port && best->security == g->security &&
	    same_server(best->server, g->server))
		return NULL;
	const char *where = several_hosts && best->server
			    ? arena_printf(a, "%s port %d", best->server, best->port)
			    : arena_printf(a, "port %d", best->port);
	if (g->security == SECURITY_NONE && best->security != SECURITY_NONE)
		return arena_printf(a, "it sends without encryption, while %s works with %s",
				    where, sec_words(best->security));
	if (g->port == 25 && best->port != 25 &&
	    (best->security != SECURITY_NONE || g->security == SECURITY_NONE))
		return arena_printf(a, "port 25 is often blocked by access providers and kept "
				    "for mail between servers, while %s works with %s", where,
				    sec_words(best->security));
	return NULL;
}

static void guess(const struct host_result *h, const struct tb_hosts *hosts,
		  const struct diagnosis *d, const struct tb_floor *floorp, struct arena *a,
		  struct tb_guess *g)
{
	const struct tb_floor floor = *floorp;
	bool floor_hit = false;     /* a candidate failed on its TLS version */
	/* One host's list before sorting, and the ranks of the sort. */
	static const struct {
		int port;
		enum security sec;
	} per_host[] = {
		{ 587, SECURITY_STARTTLS }, { 25, SECURITY_STARTTLS }, { 465, SECURITY_TLS },
		{ 587, SECURITY_NONE }, { 25, SECURITY_NONE },
	};
	static const enum security tiers[] = { SECURITY_TLS, SECURITY_STARTTLS, SECURITY_NONE };
	const struct port_result *chosen = NULL;
	const char *chosen_host = NULL;
	int unprobed = 0;
	bool cert_noted = false;
	for (size_t t = 0; t < ARRAY_LEN(tiers) && !chosen; t++)
		for (size_t k = 0; k < hosts->n && !chosen; k++)
			for (size_t i = 0; i < ARRAY_LEN(per_host) && !chosen; i++) {
				if (per_host[i].sec != tiers[t])
					continue;
				bool probed = false;
				const struct port_result *r =
					result_for(h, hosts->names[k], per_host[i].port, &probed);
				if (!r) {
					/* The host answered on other ports, this one was
					 * left out by -p: Thunderbird would try it. */
					if (probed && !unprobed)
						unprobed = per_host[i].port;
					continue;
				}
				if (!candidate_ok(r, per_host[i].sec, g, a, &cert_noted, &floor,
						  &floor_hit))
					continue;
				chosen = r;
				chosen_host = hosts->names[k];
				g->port = per_host[i].port;
				g->security = per_host[i].sec;
			}
	if (chosen_host)
		g->server = chosen_host;
	if (!chosen) {
		/* By hand does not help where the TLS version is what fails. */
		g->verdict = floor_hit
			? "none of the ports Thunderbird tries answers the way it expects: its "
			  "automatic setup would fail (see the note on the TLS version)"
			: "none of the ports Thunderbird tries answers the way it expects: its "
			  "automatic setup would fail; set the account up by hand";
		if (unprobed)
			note(g, arena_printf(a, "port %d was not probed (-p); Thunderbird tries "
					     "it too", unprobed));
		return;
	}
	g->decided = true;
	/* The AUTH list of the probe's own EHLO: inside TLS for 465, the
	 * clear-text one (before STARTTLS) otherwise. */
	g->auth = auth_from(g->security == SECURITY_TLS ? &chosen->caps_after
							: &chosen->caps_before);
	if (unprobed)
		note(g, arena_printf(a, "port %d was not probed (-p); Thunderbird tries it "
				     "before port %d and would take it if it answered", unprobed,
				     g->port));

	for (size_t i = 0; i < d->noptions; i++)
		if (d->options[i].port == g->port && d->options[i].security == g->security &&
		    same_server(d->options[i].server, chosen->server))
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
	/* The guess never upgrades a STARTTLS candidate; sending does, and
	 * fails below the floor. */
	if (g->works && g->security == SECURITY_STARTTLS && below_floor(chosen, &floor)) {
		g->works = false;
		floor_hit = true;
		note(g, arena_printf(a, "the STARTTLS upgrade of port %d negotiates %s, and "
				     "Thunderbird %s, so sending would fail", g->port,
				     chosen->tls.version, floor.words));
	}
	const char *weaker = weaker_reason(g, d, h->discovery, a);
	g->weaker = weaker != NULL;

	if (g->security == SECURITY_STARTTLS && !chosen->tls.ok)
		note(g, arena_printf(a, "Thunderbird's guess only sees \"STARTTLS\" in the "
				     "EHLO reply of port %d; the upgrade itself %s", g->port,
				     chosen->tls.attempted ? "fails here" : "was not tested"));
	if (g->security == SECURITY_STARTTLS && chosen->tls.ok &&
	    !port_result_programs_trust(chosen))
		note(g, arena_printf(a, "the certificate of port %d does not verify; "
				     "Thunderbird will complain only when it first sends",
				     g->port));
	if (d->rec.present && d->rec.username == USERNAME_FULL_ADDRESS)
		note(g, "Thunderbird fills in the part of the address before the @ as the user "
		     "name; this server wants the full address, so correct \"User Name:\"");
	if (g->port == 25 && !g->weaker)
		note(g, "port 25 is often blocked by access providers; 587 or 465 is the "
		     "reliable choice for sending");

	const char *pick = arena_printf(a, "it would pick port %d with %s and \"%s\"", g->port,
					sec_words(g->security), g->auth);
	/* Point to the recommended settings only when there are some. */
	if (!g->works && floor_hit && g->security == SECURITY_STARTTLS)
		g->verdict = arena_printf(a, "%s, which does not work here: Thunderbird refuses "
					  "the TLS version of the upgrade (see the note)", pick);
	else if (!g->works)
		g->verdict = arena_printf(a, "%s, which does not work here%s%s; %s", pick,
					  weaker ? " (and is weaker than what the server offers: "
					  : "", weaker ? arena_printf(a, "%s)", weaker) : "",
					  d->rec.present ? "set the account up by hand with the "
					  "recommended settings" : "no other setting works here "
					  "either until the problems in the findings are fixed");
	else if (g->weaker)
		g->verdict = arena_printf(a, "%s, which works but is weaker than what the server "
					  "offers: %s; choose the recommended settings by hand",
					  pick, weaker);
	else
		g->verdict = arena_printf(a, "%s, which works", pick);
}

void tb_guess(const struct host_result *h, const struct diagnosis *d,
	      const struct kb_program *thunderbird, struct arena *a, struct tb_guess *g)
{
	memset(g, 0, sizeof *g);
	const struct tb_floor floor = thunderbird_floor(thunderbird, a);
	g->applicable = true;
	struct tb_hosts hosts = { .n = 0 };
	if (!h->discovery) {
		/* A host name typed by the user: Thunderbird tries only that one. */
		g->server = h->name;
		hosts.names[hosts.n++] = NULL;
		guess(h, &hosts, d, &floor, a, g);
		if (!g->server)
			g->server = h->name;
		return;
	}
	/*
	 * A mail domain: Thunderbird ignores SRV and tries smtp.DOMAIN,
	 * mail.DOMAIN and DOMAIN. Its guess can be told only when ours was
	 * the same.
	 */
	if (!h->guessed) {
		g->applicable = false;
		return;
	}
	for (size_t s = 0; s < h->nservers && hosts.n < ARRAY_LEN(hosts.names); s++)
		if (h->servers[s].source == SERVER_GUESS)
			hosts.names[hosts.n++] = h->servers[s].name;
	guess(h, &hosts, d, &floor, a, g);
	if (g->decided && g->server)
		g->verdict = arena_printf(a, "on %s, %s", g->server, g->verdict);
}
