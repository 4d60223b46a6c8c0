/*
 * check_kb.c - the mail-program knowledge base: its format, the programs
 * it must know, steps that render for every mode a program supports, the
 * hedge on every unconfirmed label, and the path a program without a
 * port box can reach.
 */
#include <stdio.h>
#include <string.h>

#include "advice.h"
#include "findings.h"
#include "interpret.h"
#include "kb.h"
#include "suites.h"

static const char sample[] =
	"# a comment\n"
	"id = example-mail-3\n"
	"name = Example Mail 3\n"
	"platform = Windows\n"
	"aliases = example, Example-Mail 3, em3\n"
	"common = yes\n"
	"auth = yes\n"
	"tls = yes\n"
	"starttls = no\n"
	"ports = any\n"
	"spa = yes\n"
	"note = It forgets the password after an update.\n"
	"note = [unknown] Ask the provider which user name to use.\n"
	"source = test\n"
	"unconfirmed-label = Use SPA\n"
	"\n"
	"steps:\n"
	"Open Example Mail.\n"
	"Set \"Outgoing server\" to {server} and \"Port\" to {port}.\n"
	"[full] Enter {address} as \"User name\".\n"
	"[local] Enter {local} as \"User name\".\n"
	"[unknown] Enter {user} as \"User name\".\n"
	"[tls] Tick \"Use SSL\".\n"
	"[none] Untick \"Use SSL\".\n"
	"[tls,none] Either way, untick \"Use SPA\".\n"
	"summary:\n"
	"[tls] \"Tools\" > \"Accounts\": SSL on, port {port}\n";

START_TEST(parse_sample)
{
	struct kb kb = { 0 };
	buf_init(&kb.errors);
	ck_assert_msg(kb_parse(&kb, "sample.client", sample), "%s", buf_cstr(&kb.errors));
	ck_assert_uint_eq(kb.n, 1);
	const struct kb_program *p = &kb.programs[0];
	ck_assert_str_eq(p->id, "example-mail-3");
	ck_assert(p->common && p->auth && p->spa && p->none);
	ck_assert_int_eq(p->tls, ABLE_YES);
	ck_assert_int_eq(p->starttls, ABLE_NO);
	ck_assert_uint_eq(p->aliases.n, 3);
	ck_assert_uint_eq(p->nsteps, 8);
	ck_assert_uint_eq(p->steps[5].cond, COND_TLS);
	ck_assert_uint_eq(p->steps[7].cond, COND_TLS | COND_NONE);
	ck_assert_uint_eq(p->nsummary, 1);

	/* Loose names. */
	ck_assert_ptr_eq(kb_find(&kb, "EXAMPLE", NULL), p);
	ck_assert_ptr_eq(kb_find(&kb, "example mail 3", NULL), p);
	ck_assert_ptr_eq(kb_find(&kb, "Example-Mail.3", NULL), p);
	ck_assert_ptr_eq(kb_find(&kb, "em", NULL), p);  /* a unique prefix */
	ck_assert_ptr_null(kb_find(&kb, "thunderbird", NULL));
	ck_assert_ptr_null(kb_find(&kb, "", NULL));

	/* Rendering picks the lines of the target and fills them. */
	struct arena a = { 0 };
	struct advice adv;
	struct advice_target t = { "mail.example.net", 465, SECURITY_TLS,
				   USERNAME_LOCAL_PART, "alice" };
	advice_render(p, &t, &a, &adv);
	ck_assert_uint_eq(adv.nsteps, 5);
	ck_assert_str_eq(adv.steps[1], "Set \"Outgoing server\" to mail.example.net and "
			 "\"Port\" to 465.");
	ck_assert_str_eq(adv.steps[2], "Enter alice as \"User name\".");
	ck_assert_str_eq(adv.steps[3], "Tick \"Use SSL\".");
	/* The unconfirmed label is hedged, and the report is told why. */
	ck_assert_str_eq(adv.steps[4], "Either way, untick \"Use SPA\" (not confirmed).");
	ck_assert_uint_eq(adv.ncautions, 1);
	ck_assert(strstr(adv.cautions[0], "\"(not confirmed)\"") != NULL);
	ck_assert_str_eq(adv.summary[0], "\"Tools\" > \"Accounts\": SSL on, port 465");
	/* A note with a condition shows only where it holds. */
	ck_assert_uint_eq(adv.nnotes, 1);
	ck_assert_str_eq(adv.notes[0], "It forgets the password after an update.");
	struct advice_target t2 = { "m.example", 25, SECURITY_NONE, USERNAME_UNKNOWN, NULL };
	advice_render(p, &t2, &a, &adv);
	ck_assert_uint_eq(adv.nsteps, 5);
	ck_assert(strstr(adv.steps[2], "your user name") != NULL);
	ck_assert_str_eq(adv.steps[3], "Untick \"Use SSL\".");
	ck_assert_uint_eq(adv.nsummary, 0);
	ck_assert_uint_eq(adv.nnotes, 2);
	ck_assert_str_eq(adv.notes[1], "Ask the provider which user name to use.");
	arena_free(&a);
	kb_free(&kb);
}
END_TEST

static void expect_error(const char *text, const char *what)
{
	struct kb kb = { 0 };
	buf_init(&kb.errors);
	ck_assert(!kb_parse(&kb, "bad.client", text));
	ck_assert_msg(strstr(buf_cstr(&kb.errors), what) != NULL, "wanted '%s' in: %s", what,
		      buf_cstr(&kb.errors));
	kb_free(&kb);
}

#define HEAD "id = x\nname = X\nplatform = any\nauth = yes\ntls = no\nstarttls = no\nports = any\n"

START_TEST(format_errors)
{
	expect_error("name = X\nplatform = any\nauth = no\ntls = no\nstarttls = no\n"
		     "upgrade = Y\n", "missing 'id'");
	expect_error(HEAD "colour = red\nsteps:\nGo.\n", "unknown key 'colour'");
	expect_error(HEAD "steps:\n[ssl] Tick it.\n", "unknown condition 'ssl'");
	expect_error(HEAD "steps:\nSet {hostname}.\n", "unknown placeholder {hostname}");
	expect_error(HEAD "steps:\n[tls Tick.\n", "without ']'");
	expect_error(HEAD, "needs steps");
	expect_error("id = y\nname = Y\nplatform = any\nauth = no\ntls = no\nstarttls = no\n",
		     "needs 'upgrade'");
	expect_error("id = Bad_Id\nname = Y\nplatform = any\nauth = no\ntls = no\n"
		     "starttls = no\nupgrade = Z\n", "bad value for 'id'");
	expect_error(HEAD "tls = maybe\nsteps:\nGo.\n", "bad value for 'tls'");
	expect_error("id = x\nname = X\nplatform = any\nauth = yes\ntls = no\nstarttls = no\n"
		     "steps:\nGo.\n", "needs 'ports'");
	expect_error(HEAD "ports = sometimes\nsteps:\nGo.\n", "bad value for 'ports'");
	expect_error(HEAD "ports = tls 465, tls 25\nsteps:\nGo.\n", "bad value for 'ports'");
	expect_error(HEAD "ports = ssl 465\nsteps:\nGo.\n", "bad value for 'ports'");
	expect_error(HEAD "ports = tls 70000\nsteps:\nGo.\n", "bad value for 'ports'");
	expect_error(HEAD "steps:\nTick \"Use SSL.\n", "without its pair");
	expect_error(HEAD "note = [tested] Fine.\nsteps:\nGo.\n", "unknown condition 'tested'");
	expect_error(HEAD "note = Use {hostname}.\nsteps:\nGo.\n", "unknown placeholder");
	expect_error(HEAD "unconfirmed-label = Save Password\nsteps:\nTick \"Save password\".\n",
		     "unconfirmed-label 'Save Password' is quoted in no step");

	/* The oldest TLS a program accepts: a TLS version, optionally "since". */
	expect_error(HEAD "tls-min = TLSv1.2\nsteps:\nGo.\n", "bad value for 'tls-min'");
	expect_error(HEAD "tls-min = 1.5\nsteps:\nGo.\n", "bad value for 'tls-min'");
	expect_error(HEAD "tls-min = 1.2 from 78\nsteps:\nGo.\n", "bad value for 'tls-min'");
	expect_error(HEAD "tls-min = 1.2 since\nsteps:\nGo.\n", "bad value for 'tls-min'");

	/* The forms "ports" takes. */
	struct kb kb = { 0 };
	buf_init(&kb.errors);
	ck_assert_msg(kb_parse(&kb, "a.client", "id = a\nname = A\nplatform = any\nauth = yes\n"
			       "tls = yes\nstarttls = yes\nports = tls 465, starttls 25, none 25\n"
			       "steps:\nGo.\n"), "%s", buf_cstr(&kb.errors));
	ck_assert_msg(kb_parse(&kb, "b.client", "id = b\nname = B\nplatform = any\nauth = yes\n"
			       "tls = yes\nstarttls = yes\nports = 25\nsteps:\nGo.\n"),
		      "%s", buf_cstr(&kb.errors));
	ck_assert_msg(kb_parse(&kb, "c.client", "id = c\nname = C\nplatform = any\nauth = no\n"
			       "tls = no\nstarttls = no\nupgrade = D\n"), "%s",
		      buf_cstr(&kb.errors));
	ck_assert_int_eq(kb.programs[0].ports, PORTS_FIXED);
	ck_assert_int_eq(kb.programs[0].fixed_port[PORT_TLS], 465);
	ck_assert_int_eq(kb.programs[0].fixed_port[PORT_STARTTLS], 25);
	ck_assert_int_eq(kb.programs[0].fixed_port[PORT_NONE], 25);
	ck_assert_int_eq(kb.programs[1].fixed_port[PORT_TLS], 25);
	ck_assert_int_eq(kb.programs[1].fixed_port[PORT_NONE], 25);
	ck_assert_int_eq(kb.programs[2].ports, PORTS_UNKNOWN);   /* cannot log in */
	ck_assert_int_eq(kb.programs[0].tls_min, 0);              /* not known */
	ck_assert_msg(kb_parse(&kb, "e.client", "id = e\nname = E\nplatform = any\nauth = yes\n"
			       "tls = yes\nstarttls = yes\ntls-min = 1.2 since 78\nports = any\n"
			       "steps:\nGo.\n"), "%s", buf_cstr(&kb.errors));
	ck_assert_msg(kb_parse(&kb, "f.client", "id = f\nname = F\nplatform = any\nauth = yes\n"
			       "tls = yes\nstarttls = yes\ntls-min = 1.3\nports = any\n"
			       "steps:\nGo.\n"), "%s", buf_cstr(&kb.errors));
	struct arena a = { 0 };
	ck_assert_int_eq(kb.programs[3].tls_min, 12);
	ck_assert_str_eq(kb_tls_min_words(&kb.programs[3], &a),
			 "accepts only TLS 1.2 or later (since version 78)");
	ck_assert_str_eq(kb_tls_min_words(&kb.programs[4], &a),
			 "accepts only TLS 1.3 or later in its current versions");
	ck_assert_ptr_null(kb_tls_min_words(&kb.programs[0], &a));
	arena_free(&a);
	kb_free(&kb);

	/* OpenSSL's names order as the versions do. */
	ck_assert_int_lt(kb_tls_rank("SSLv3"), kb_tls_rank("TLSv1"));
	ck_assert_int_lt(kb_tls_rank("TLSv1"), kb_tls_rank("TLSv1.1"));
	ck_assert_int_lt(kb_tls_rank("TLSv1.1"), kb_tls_rank("TLSv1.2"));
	ck_assert_int_lt(kb_tls_rank("TLSv1.2"), kb_tls_rank("TLSv1.3"));
	ck_assert_int_eq(kb_tls_rank("TLSv1.2"), kb_tls_rank("1.2"));
	ck_assert_int_eq(kb_tls_rank("DTLSv1.2"), 0);
	ck_assert_int_eq(kb_tls_rank(NULL), 0);
}
END_TEST

/* Every program and version the seed pages name, and today's common ones:
 * the name a user types, the entry it must find and its platform. */
static const struct {
	const char *name, *id, *platform;
} required[] = {
	/* Eudora Lite / Light and 3.x */
	{ "eudora lite", "eudora-lite-3", "Windows, Macintosh" },
	{ "eudora light", "eudora-lite-3", "Windows, Macintosh" },
	{ "eudora 3", "eudora-lite-3", "Windows, Macintosh" },
	{ "eudora 3.x", "eudora-lite-3", "Windows, Macintosh" },
	/* Eudora 4.2.2 for Windows and for the Mac */
	{ "eudora 4.2.2 windows", "eudora-4-2-2-windows", "Windows" },
	{ "eudora 4.2.2 mac", "eudora-4-2-2-macintosh", "Macintosh" },
	/* Eudora 4.3, 5.x, 6.0 (Windows); Eudora 5.1 and 5.2 for the Mac */
	{ "eudora 4.3", "eudora-4-3-6-windows", "Windows" },
	{ "eudora 5", "eudora-4-3-6-windows", "Windows" },
	{ "eudora 5.x", "eudora-4-3-6-windows", "Windows" },
	{ "eudora 6", "eudora-4-3-6-windows", "Windows" },
	{ "eudora 6.0", "eudora-4-3-6-windows", "Windows" },
	{ "eudora", "eudora-4-3-6-windows", "Windows" },
	{ "eudora 5.0", "eudora-4-3-6-windows", "Windows" },
	{ "eudora 4.3 mac", "eudora-macintosh-4-3-5-2", "Macintosh" },
	{ "eudora 5.1 mac", "eudora-macintosh-4-3-5-2", "Macintosh" },
	{ "eudora 5.2 mac", "eudora-macintosh-4-3-5-2", "Macintosh" },
	{ "eudora 5.x mac", "eudora-macintosh-4-3-5-2", "Macintosh" },
	{ "eudora light 3 mac", "eudora-lite-3", "Windows, Macintosh" },
	/* Outlook 97, 98, 2000, 2002 (XP) */
	{ "outlook 97", "outlook-97", "Windows" },
	{ "outlook 98", "outlook-98", "Windows" },
	{ "outlook 2000", "outlook-2000", "Windows" },
	{ "outlook 2002", "outlook-2002-xp", "Windows" },
	{ "outlook xp", "outlook-2002-xp", "Windows" },
	{ "outlook xp 2002", "outlook-2002-xp", "Windows" },
	/* Outlook Express 4, 5 and 6 (Windows); 4.0, 4.5, 5.01, 5.02 (Mac) */
	{ "outlook express 4", "outlook-express-4-windows", "Windows" },
	{ "oe4", "outlook-express-4-windows", "Windows" },
	{ "outlook express 5", "outlook-express-5-6-windows", "Windows" },
	{ "outlook express 6", "outlook-express-5-6-windows", "Windows" },
	{ "oe6", "outlook-express-5-6-windows", "Windows" },
	{ "outlook express xp", "outlook-express-5-6-windows", "Windows" },
	{ "outlook express mac 4.0", "outlook-express-macintosh-4", "Macintosh" },
	{ "outlook express mac 4.5", "outlook-express-macintosh-4", "Macintosh" },
	{ "outlook express 4.5", "outlook-express-macintosh-4", "Macintosh" },
	{ "outlook express mac 5.01", "outlook-express-macintosh-5-01", "Macintosh" },
	{ "outlook express mac 5.02", "outlook-express-macintosh-5-02", "Macintosh" },
	{ "outlook express 5.02", "outlook-express-macintosh-5-02", "Macintosh" },
	{ "outlook express 5.01", "outlook-express-macintosh-5-01", "Macintosh" },
	{ "outlook express 4.0 mac", "outlook-express-macintosh-4", "Macintosh" },
	{ "outlook express 5 mac", "outlook-express-macintosh-5-02", "Macintosh" },
	/* Entourage, IncrediMail, Netscape 3.x, 4.7x, 6.x/7.x, Mozilla 1.5, OS X Mail */
	{ "entourage", "entourage", "Macintosh" },
	{ "entourage office 2001", "entourage", "Macintosh" },
	{ "incredimail", "incredimail", "Windows" },
	{ "netscape 3", "netscape-3", "Windows, Macintosh" },
	{ "netscape 3.x", "netscape-3", "Windows, Macintosh" },
	{ "netscape 4.7", "netscape-4-7-windows", "Windows" },
	{ "netscape 4.7x", "netscape-4-7-windows", "Windows" },
	{ "netscape 4.8", "netscape-4-7-windows", "Windows" },
	{ "netscape communicator 4.x", "netscape-4-7-windows", "Windows" },
	{ "netscape messenger 4.7x windows", "netscape-4-7-windows", "Windows" },
	{ "netscape messenger 4.7x mac", "netscape-4-7-macintosh", "Macintosh" },
	{ "netscape 4.7 mac", "netscape-4-7-macintosh", "Macintosh" },
	{ "netscape 4.7.5 mac", "netscape-4-7-macintosh", "Macintosh" },
	{ "netscape communicator 4.7.5", "netscape-4-7-macintosh", "Macintosh" },
	{ "netscape 6", "netscape-6-7-windows", "Windows" },
	{ "netscape communicator 6", "netscape-6-7-windows", "Windows" },
	{ "netscape 7", "netscape-6-7-windows", "Windows" },
	{ "netscape 7.0", "netscape-6-7-windows", "Windows" },
	{ "netscape 7.1", "netscape-6-7-windows", "Windows" },
	{ "netscape 6 mac", "netscape-6-7-macintosh", "Macintosh" },
	{ "netscape 7 mac", "netscape-6-7-macintosh", "Macintosh" },
	{ "mozilla 1.5", "mozilla-1-5", "Windows, Macintosh, Linux" },
	{ "os x mail", "os-x-mail", "Macintosh" },
	{ "mac osx mail", "os-x-mail", "Macintosh" },
	/* Pegasus 3.12c, Opera 6, NeoPlanet 5.2, GoldMine, Windows 3.1, Mulberry,
	 * Mailsmith, GroupWise */
	{ "pegasus 3.12c", "pegasus-3-12c", "Windows" },
	{ "opera 6", "opera-6", "Windows" },
	{ "neoplanet 5.2", "neoplanet-5-2", "Windows" },
	{ "goldmine", "goldmine", "Windows" },
	{ "windows 3.1", "windows-3-1-programs", "Windows" },
	{ "netscape communicator 4.08", "windows-3-1-programs", "Windows" },
	{ "fox mail 2.7", "windows-3-1-programs", "Windows" },
	{ "pegasus 3.12 16-bit", "windows-3-1-programs", "Windows" },
	{ "outlook express 4 windows 3.1", "windows-3-1-programs", "Windows" },
	{ "mulberry", "mulberry", "Macintosh" },
	{ "mulberry 2.0.8", "mulberry", "Macintosh" },
	{ "mailsmith", "mailsmith", "Macintosh" },
	{ "green freeware 1.0b13", "green-freeware", "Macintosh" },
	{ "groupwise", "novell-groupwise", "Windows" },
	{ "novell groupwise", "novell-groupwise", "Windows" },
	/* Today's programs */
	{ "thunderbird", "thunderbird", "Windows, Macintosh, Linux" },
	{ "mail", "apple-mail-macos", "Macintosh" },
	{ "apple mail", "apple-mail-macos", "Macintosh" },
	{ "outlook 365", "outlook-classic-windows", "Windows" },
	{ "classic outlook", "outlook-classic-windows", "Windows" },
	{ "new outlook", "outlook-new-windows", "Windows" },
	{ "outlook mac", "outlook-macos", "Macintosh" },
	{ "ios mail", "ios-mail", "iOS" },
	{ "ipados", "ios-mail", "iOS" },
	{ "ipad", "ios-mail", "iOS" },
	{ "gmail", "gmail-android", "Android" },
	{ "android", "gmail-android", "Android" },
	{ "thunderbird android", "thunderbird-android", "Android" },
	{ "k-9 mail", "thunderbird-android", "Android" },
};

START_TEST(embedded_kb_is_clean)
{
	struct kb kb;
	kb_load(&kb);
	ck_assert_msg(kb.errors.len == 0, "knowledge base errors:\n%s", buf_cstr(&kb.errors));
	ck_assert(kb.n > 0);
	kb_free(&kb);
}
END_TEST

START_TEST(required_programs)
{
	struct kb kb;
	kb_load(&kb);
	struct buf missing;
	buf_init(&missing);
	for (size_t i = 0; i < ARRAY_LEN(required); i++) {
		struct buf cand;
		buf_init(&cand);
		const struct kb_program *p = kb_find(&kb, required[i].name, &cand);
		if (!p)
			buf_printf(&missing, "  '%s'%s%s\n", required[i].name,
				   cand.len ? " is ambiguous: " : " has no entry",
				   buf_cstr(&cand));
		else if (strcmp(p->id, required[i].id) || strcmp(p->platform, required[i].platform))
			buf_printf(&missing, "  '%s' finds %s (%s), not %s (%s)\n", required[i].name,
				   p->id, p->platform, required[i].id, required[i].platform);
		buf_free(&cand);
	}
	ck_assert_msg(missing.len == 0, "programs the knowledge base must know:\n%s",
		      buf_cstr(&missing));
	buf_free(&missing);
	kb_free(&kb);
}
END_TEST

/* Each program renders for each mode it supports, with nothing left open. */
START_TEST(every_program_renders)
{
	struct kb kb;
	kb_load(&kb);
	static const enum security modes[] = { SECURITY_TLS, SECURITY_STARTTLS, SECURITY_NONE };
	static const enum username_form forms[] = { USERNAME_FULL_ADDRESS, USERNAME_LOCAL_PART,
						     USERNAME_UNKNOWN };
	for (size_t i = 0; i < kb.n; i++) {
		const struct kb_program *p = &kb.programs[i];
		bool any = false;
		for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
			if (!advice_supports(p, modes[m]))
				continue;
			any = true;
			for (size_t f = 0; f < ARRAY_LEN(forms); f++) {
				struct arena a = { 0 };
				struct advice adv;
				struct advice_target t = { "mail.example.net", 587, modes[m], forms[f],
							   f == 0 ? "alice@example.net"
							   : f == 1 ? "alice" : NULL };
				advice_render(p, &t, &a, &adv);
				ck_assert_msg(adv.nsteps > 0, "%s renders no steps", p->id);
				for (size_t s = 0; s < adv.nsteps; s++)
					ck_assert_msg(!strchr(adv.steps[s], '{') &&
						      !strchr(adv.steps[s], '}'),
						      "%s: unfilled placeholder in '%s'", p->id,
						      adv.steps[s]);
				for (size_t s = 0; s < adv.nsummary; s++)
					ck_assert_msg(!strchr(adv.summary[s], '{') &&
						      !strchr(adv.summary[s], '}'),
						      "%s: unfilled placeholder in summary '%s'",
						      p->id, adv.summary[s]);
				arena_free(&a);
			}
		}
		/* What it cannot do has an answer: what to use instead. */
		if (!any || !p->auth)
			ck_assert_msg(p->upgrade.n > 0, "%s can do nothing here but names no "
				      "upgrade", p->id);
		if (p->tls == ABLE_NO && p->starttls == ABLE_NO && p->auth)
			ck_assert_msg(p->upgrade.n > 0, "%s has no TLS but names no upgrade",
				      p->id);
		ck_assert_msg(p->sources.n > 0, "%s names no source", p->id);
	}
	kb_free(&kb);
}
END_TEST

/* Every quote of `label` in the lines is followed by the hedge. */
static void assert_hedged(const char *id, const char *label, char **lines, size_t n)
{
	char quoted[160];
	snprintf(quoted, sizeof quoted, "\"%s\"", label);
	for (size_t i = 0; i < n; i++)
		for (const char *q = strstr(lines[i], quoted); q; q = strstr(q + 1, quoted))
			ck_assert_msg(!strncmp(q + strlen(quoted), KB_HEDGE, strlen(KB_HEDGE)),
				      "%s prints the unconfirmed label %s as fact: '%s'", id,
				      quoted, lines[i]);
}

static void render_all(const struct kb_program *p, void (*check)(const struct kb_program *,
								  const struct advice *, const void *),
		       const void *arg)
{
	static const enum security modes[] = { SECURITY_TLS, SECURITY_STARTTLS, SECURITY_NONE };
	static const enum username_form forms[] = { USERNAME_FULL_ADDRESS, USERNAME_LOCAL_PART,
						     USERNAME_UNKNOWN };
	for (size_t m = 0; m < ARRAY_LEN(modes); m++)
		for (size_t f = 0; f < ARRAY_LEN(forms); f++) {
			struct arena a = { 0 };
			struct advice adv;
			struct advice_target t = { "mail.example.net", 587, modes[m], forms[f],
						   f == 0 ? "alice@example.net" : NULL };
			advice_render(p, &t, &a, &adv);
			check(p, &adv, arg);
			arena_free(&a);
		}
}

static void check_all_labels(const struct kb_program *p, const struct advice *adv,
			     const void *arg)
{
	(void)arg;
	for (size_t l = 0; l < p->unconfirmed_labels.n; l++) {
		assert_hedged(p->id, p->unconfirmed_labels.items[l], adv->steps, adv->nsteps);
		assert_hedged(p->id, p->unconfirmed_labels.items[l], adv->summary, adv->nsummary);
		assert_hedged(p->id, p->unconfirmed_labels.items[l], adv->notes, adv->nnotes);
	}
	/* A hedge is explained where it is printed. */
	bool hedged = false;
	for (size_t s = 0; s < adv->nsteps; s++)
		hedged |= strstr(adv->steps[s], KB_HEDGE) != NULL;
	for (size_t s = 0; s < adv->nnotes; s++)
		hedged |= strstr(adv->notes[s], KB_HEDGE) != NULL;
	bool explained = false;
	for (size_t c = 0; c < adv->ncautions; c++)
		explained |= strstr(adv->cautions[c], KB_HEDGE_MARK) != NULL;
	ck_assert_msg(!hedged || explained, "%s hedges a label without saying why", p->id);
}

/* Each unconfirmed label is printed with its hedge, in every mode. */
START_TEST(unconfirmed_labels_hedged)
{
	struct kb kb;
	kb_load(&kb);
	for (size_t i = 0; i < kb.n; i++)
		render_all(&kb.programs[i], check_all_labels, NULL);
	kb_free(&kb);
}
END_TEST

static void check_one_label(const struct kb_program *p, const struct advice *adv,
			    const void *arg)
{
	const char *label = arg;
	assert_hedged(p->id, label, adv->steps, adv->nsteps);
	assert_hedged(p->id, label, adv->summary, adv->nsummary);
	assert_hedged(p->id, label, adv->notes, adv->nnotes);
}

/*
 * Labels no source gives for these programs (the seeds, or CLIENTS.md
 * where it says UNCONFIRMED): they may be printed only hedged, or not
 * quoted at all.
 */
START_TEST(audited_labels_hedged)
{
	static const struct {
		const char *id, *label;
	} audited[] = {
		{ "netscape-6-7-windows", "Never" },
		{ "netscape-6-7-macintosh", "Never" },
		{ "netscape-6-7-windows", "Port" },
		{ "mozilla-1-5", "Port" },
		{ "mozilla-1-5", "Use secure connection" },
		{ "mozilla-1-5", "SSL" },
		{ "mozilla-1-5", "TLS" },
		{ "mozilla-1-5", "No" },
		{ "novell-groupwise", "Accounts" },
		{ "novell-groupwise", "Account Options" },
		{ "entourage", "Override default SMTP port" },
		{ "outlook-express-macintosh-5-02", "Override default SMTP port" },
		{ "outlook-express-macintosh-5-02", "Save password" },
		{ "eudora-4-3-6-windows", "Save password" },
		{ "eudora-4-2-2-windows", "Save password" },
		{ "eudora-4-2-2-windows", "Tools" },
		{ "eudora-4-2-2-windows", "Options" },
		{ "eudora-4-2-2-windows", "Getting Started" },
		{ "eudora-4-2-2-windows", "Login Name" },
		{ "eudora-4-2-2-macintosh", "Checking Mail" },
		{ "eudora-macintosh-4-3-5-2", "Save password" },
		{ "netscape-4-7-macintosh", "Outgoing mail (SMTP) server:" },
		{ "outlook-classic-windows", "Change…" },
		{ "outlook-classic-windows", "Modify…" },
		{ "outlook-classic-windows", "STARTTLS" },
		{ "outlook-classic-windows", "None" },
		{ "ios-mail", "Use SSL" },
		{ "ios-mail", "Authentication" },
		{ "ios-mail", "Server Port" },
		{ "gmail-android", "Require sign-in" },
		{ "gmail-android", "Port" },
		{ "gmail-android", "Security type" },
		{ "thunderbird-android", "SMTP server" },
		{ "thunderbird-android", "Security" },
		{ "thunderbird-android", "Port" },
		{ "thunderbird-android", "Username" },
		{ "thunderbird-android", "Authentication" },
	};
	struct kb kb;
	kb_load(&kb);
	for (size_t i = 0; i < ARRAY_LEN(audited); i++) {
		const struct kb_program *p = kb_find(&kb, audited[i].id, NULL);
		ck_assert_msg(p && !strcmp(p->id, audited[i].id), "no entry %s", audited[i].id);
		render_all(p, check_one_label, audited[i].label);
	}
	kb_free(&kb);
}
END_TEST

/* Words a customer or a help-desk agent cannot place: our name for the
 * help pages the data came from, and smtpcheck's own machinery. */
static const char *const internal_words[] = { "seed", "probe" };

static void assert_plain(const char *id, const char *what, const char *text)
{
	for (size_t w = 0; w < ARRAY_LEN(internal_words); w++)
		ck_assert_msg(!ascii_strcasestr(text, internal_words[w]),
			      "%s: %s says \"%s\": %s", id, what, internal_words[w], text);
}

static void check_plain(const struct kb_program *p, const struct advice *adv, const void *arg)
{
	(void)arg;
	for (size_t s = 0; s < adv->nsteps; s++)
		assert_plain(p->id, "a step", adv->steps[s]);
	for (size_t s = 0; s < adv->nsummary; s++)
		assert_plain(p->id, "a summary", adv->summary[s]);
	for (size_t s = 0; s < adv->ncautions; s++)
		assert_plain(p->id, "a caution", adv->cautions[s]);
	for (size_t s = 0; s < adv->nnotes; s++) {
		assert_plain(p->id, "a note", adv->notes[s]);
		/* Notes are printed apart from the steps (after them in the
		 * text, in a list of their own in JSON): no "below"/"above". */
		ck_assert_msg(!ascii_strcasestr(adv->notes[s], "below") &&
			      !ascii_strcasestr(adv->notes[s], "above"),
			      "%s: a note points at the layout: %s", p->id, adv->notes[s]);
		/* A note about the user name holds for what was tested. */
		if (adv->target.username == USERNAME_UNKNOWN)
			ck_assert_msg(!strstr(adv->notes[s], "accepted when smtpcheck logged in"),
				      "%s: untested, yet: %s", p->id, adv->notes[s]);
		else
			ck_assert_msg(!strstr(adv->notes[s], "could not log in"),
				      "%s: tested, yet: %s", p->id, adv->notes[s]);
	}
}

/* Everything printed about a program is in words customers know. */
START_TEST(client_text_is_plain)
{
	struct kb kb;
	kb_load(&kb);
	for (size_t i = 0; i < kb.n; i++) {
		const struct kb_program *p = &kb.programs[i];
		assert_plain(p->id, "the name", p->name);
		assert_plain(p->id, "the platform", p->platform);
		for (size_t k = 0; k < p->upgrade.n; k++)
			assert_plain(p->id, "an upgrade", p->upgrade.items[k]);
		for (size_t k = 0; k < p->unconfirmed.n; k++)
			assert_plain(p->id, "an unconfirmed line", p->unconfirmed.items[k]);
		render_all(p, check_plain, NULL);
	}
	kb_free(&kb);
}
END_TEST

/* The server's working paths, best first, as diagnose() lists them. */
static void paths(struct diagnosis *d, const int *ports, const enum security *secs, size_t n)
{
	memset(d, 0, sizeof *d);
	d->rec.present = true;
	d->rec.port = ports[0];
	d->rec.security = secs[0];
	d->rec.auth = true;
	d->rec.username = USERNAME_UNKNOWN;
	for (size_t i = 0; i < n; i++) {
		d->options[i].port = ports[i];
		d->options[i].security = secs[i];
	}
	d->noptions = n;
}

/*
 * A program without a port box takes a path it can reach, or says it
 * cannot; a program with one takes the best path.
 */
START_TEST(port_reach)
{
	struct kb kb;
	kb_load(&kb);
	struct host_result h = { .name = (char *)"mail.example.net" };
	struct diagnosis d;
	struct arena a = { 0 };
	struct advice adv;
	const struct kb_program *eudora = kb_find(&kb, "eudora-4-3-6-windows", NULL);
	const struct kb_program *eudora_mac = kb_find(&kb, "eudora-macintosh-4-3-5-2", NULL);
	const struct kb_program *ns4 = kb_find(&kb, "netscape-4-7-windows", NULL);
	const struct kb_program *ns4mac = kb_find(&kb, "netscape-4-7-macintosh", NULL);
	const struct kb_program *tb = kb_find(&kb, "thunderbird", NULL);
	const struct kb_program *moz = kb_find(&kb, "mozilla-1-5", NULL);
	ck_assert(eudora && eudora_mac && ns4 && ns4mac && tb && moz);
	ck_assert_int_eq(eudora->ports, PORTS_FIXED);
	ck_assert_int_eq(ns4->ports, PORTS_FIXED);

	/* 587 with STARTTLS only: out of reach without a port box. */
	static const int p587[] = { 587 };
	static const enum security s587[] = { SECURITY_STARTTLS };
	paths(&d, p587, s587, 1);
	const struct kb_program *boxless[] = { eudora, eudora_mac, ns4, ns4mac };
	for (size_t i = 0; i < ARRAY_LEN(boxless); i++) {
		advice_for(boxless[i], &h, &d, &a, &adv);
		ck_assert_msg(!adv.possible, "%s reaches port 587", boxless[i]->id);
		ck_assert_uint_eq(adv.nsteps, 0);
		ck_assert_msg(strstr(adv.reason, "has no box for the port") &&
			      strstr(adv.reason, "only on port 587 with STARTTLS") &&
			      strstr(adv.reason, "port 25"), "%s", adv.reason);
	}
	advice_for(eudora, &h, &d, &a, &adv);
	ck_assert_msg(strstr(adv.reason, "port 465 with SSL/TLS (implicit TLS) and port 25 with "
			     "STARTTLS or no encryption") &&
		      strstr(adv.reason, "on one of those ports too"), "%s", adv.reason);
	advice_for(ns4, &h, &d, &a, &adv);
	ck_assert_msg(strstr(adv.reason, "it sends only to port 25, but") &&
		      strstr(adv.reason, "accepts mail on port 25 too"), "%s", adv.reason);
	advice_for(tb, &h, &d, &a, &adv);
	ck_assert(adv.possible && !adv.fallback);
	ck_assert_int_eq(adv.target.port, 587);

	/* A program that may lack a port box says so for a port other than 25. */
	advice_for(moz, &h, &d, &a, &adv);
	ck_assert(adv.possible && adv.unconfirmed_port);
	ck_assert_int_eq(adv.target.port, 587);
	bool said = false;
	for (size_t i = 0; i < adv.ncautions; i++)
		said |= strstr(adv.cautions[i], "cannot reach port 587") != NULL;
	ck_assert(said);

	/* 587 and 25 with STARTTLS: Eudora and Netscape 4.7 take 25. */
	static const int p587_25[] = { 587, 25 };
	static const enum security s587_25[] = { SECURITY_STARTTLS, SECURITY_STARTTLS };
	paths(&d, p587_25, s587_25, 2);
	for (size_t i = 0; i < ARRAY_LEN(boxless); i++) {
		advice_for(boxless[i], &h, &d, &a, &adv);
		ck_assert(adv.possible && adv.fallback);
		ck_assert_int_eq(adv.target.port, 25);
		ck_assert_int_eq(adv.target.security, SECURITY_STARTTLS);
		ck_assert_msg(strstr(adv.reason, "cannot use port 587 with STARTTLS") &&
			      strstr(adv.reason, "STARTTLS on port 25"), "%s", adv.reason);
	}
	advice_for(eudora, &h, &d, &a, &adv);
	bool starttls_step = false;
	for (size_t i = 0; i < adv.nsteps; i++) {
		ck_assert(!strstr(adv.steps[i], "\"Required, Alternate Port\""));
		starttls_step |= strstr(adv.steps[i], "\"Required, STARTTLS\"") != NULL;
	}
	ck_assert(starttls_step);
	advice_for(moz, &h, &d, &a, &adv);
	ck_assert(adv.possible && !adv.fallback);
	ck_assert_int_eq(adv.target.port, 587);

	/* 465 and 587: Eudora takes 465 with "Required, Alternate Port";
	 * Netscape 4.7 reaches neither. */
	static const int p465_587[] = { 465, 587 };
	static const enum security s465_587[] = { SECURITY_TLS, SECURITY_STARTTLS };
	paths(&d, p465_587, s465_587, 2);
	advice_for(eudora, &h, &d, &a, &adv);
	ck_assert(adv.possible && !adv.fallback);
	ck_assert_int_eq(adv.target.port, 465);
	advice_for(ns4, &h, &d, &a, &adv);
	ck_assert(!adv.possible);
	ck_assert_msg(strstr(adv.reason, "port 465 with SSL/TLS (implicit TLS) or port 587 with "
			     "STARTTLS"), "%s", adv.reason);
	ck_assert_uint_gt(ns4->upgrade.n, 0);

	arena_free(&a);
	kb_free(&kb);
}
END_TEST

/*
 * A program whose oldest accepted TLS is known does not take a path whose
 * TLS is older: it takes another, or says it will not connect; a program
 * whose floor is not known is told nothing new.
 */
START_TEST(tls_floor)
{
	struct kb kb;
	kb_load(&kb);
	const struct kb_program *tb = kb_find(&kb, "thunderbird", NULL);
	const struct kb_program *oe = kb_find(&kb, "outlook-express-5-6-windows", NULL);
	ck_assert(tb && oe);
	ck_assert_int_eq(tb->tls_min, 12);
	ck_assert_str_eq(tb->tls_min_since, "78");
	ck_assert_int_eq(oe->tls_min, 0);

	struct port_result ports[2];
	memset(ports, 0, sizeof ports);
	ports[0].port = 465;
	ports[0].mode = MODE_TLS;
	ports[0].tls.ok = true;
	ports[0].tls.version = (char *)"TLSv1.1";
	ports[1].port = 587;
	ports[1].mode = MODE_STARTTLS;
	ports[1].tls.ok = true;
	ports[1].tls.version = (char *)"TLSv1.3";
	struct host_result h = { .name = (char *)"mail.example.net", .ports = ports, .nports = 1 };
	struct diagnosis d;
	struct arena a = { 0 };
	struct advice adv;

	/* 465 with TLS 1.1 only. */
	static const int p465[] = { 465 };
	static const enum security s465[] = { SECURITY_TLS };
	paths(&d, p465, s465, 1);
	advice_for(tb, &h, &d, &a, &adv);
	ck_assert(!adv.possible);
	ck_assert_msg(strstr(adv.reason, "Thunderbird (desktop) will not connect: it accepts only "
			     "TLS 1.2 or later (since version 78), and this server negotiates "
			     "only TLSv1.1 on port 465 with SSL/TLS (implicit TLS). Ask the "
			     "provider to enable TLS 1.2 or 1.3"), "%s", adv.reason);
	advice_for(oe, &h, &d, &a, &adv);
	ck_assert(adv.possible && !adv.fallback);
	ck_assert_int_eq(adv.target.port, 465);

	/* And 587 with TLS 1.3: Thunderbird takes it, and says why. */
	h.nports = 2;
	static const int p465_587[] = { 465, 587 };
	static const enum security s465_587[] = { SECURITY_TLS, SECURITY_STARTTLS };
	paths(&d, p465_587, s465_587, 2);
	advice_for(tb, &h, &d, &a, &adv);
	ck_assert(adv.possible && adv.fallback);
	ck_assert_int_eq(adv.target.port, 587);
	ck_assert_int_eq(adv.target.security, SECURITY_STARTTLS);
	ck_assert_msg(strstr(adv.reason, "will not connect on port 465, the best choice here: it "
			     "accepts only TLS 1.2 or later (since version 78), and the server "
			     "negotiates TLSv1.1 there. It can use STARTTLS on port 587"),
		      "%s", adv.reason);

	/* The same port at TLS 1.2 is fine; a version not known blocks nothing. */
	ports[0].tls.version = (char *)"TLSv1.2";
	advice_for(tb, &h, &d, &a, &adv);
	ck_assert(adv.possible && !adv.fallback);
	ck_assert_int_eq(adv.target.port, 465);
	ports[0].tls.version = NULL;
	advice_for(tb, &h, &d, &a, &adv);
	ck_assert(adv.possible && !adv.fallback);

	/* Several addresses on one port: the oldest counts. */
	struct port_result two[2];
	memset(two, 0, sizeof two);
	for (int i = 0; i < 2; i++) {
		two[i].port = 465;
		two[i].mode = MODE_TLS;
		two[i].tls.ok = true;
	}
	two[0].tls.version = (char *)"TLSv1.3";
	two[1].tls.version = (char *)"TLSv1";
	struct host_result h2 = { .name = (char *)"mail.example.net", .ports = two, .nports = 2 };
	paths(&d, p465, s465, 1);
	advice_for(tb, &h2, &d, &a, &adv);
	ck_assert(!adv.possible);
	ck_assert_msg(strstr(adv.reason, "only TLSv1 on port 465"), "%s", adv.reason);

	arena_free(&a);
	kb_free(&kb);
}
END_TEST

Suite *kb_suite(void)
{
	Suite *s = suite_create("kb");
	TCase *tc = tcase_create("knowledge base");
	tcase_add_test(tc, parse_sample);
	tcase_add_test(tc, format_errors);
	tcase_add_test(tc, embedded_kb_is_clean);
	tcase_add_test(tc, required_programs);
	tcase_add_test(tc, every_program_renders);
	tcase_add_test(tc, unconfirmed_labels_hedged);
	tcase_add_test(tc, audited_labels_hedged);
	tcase_add_test(tc, client_text_is_plain);
	tcase_add_test(tc, port_reach);
	tcase_add_test(tc, tls_floor);
	suite_add_tcase(s, tc);
	return s;
}
