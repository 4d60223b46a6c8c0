/*
 * check_kb.c - the mail-program knowledge base: its format, the programs
 * it must know, and steps that render for every mode a program supports.
 */
#include <string.h>

#include "advice.h"
#include "findings.h"
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
	"spa = yes\n"
	"note = It forgets the password after an update.\n"
	"source = test\n"
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
	ck_assert_str_eq(adv.summary[0], "\"Tools\" > \"Accounts\": SSL on, port 465");
	struct advice_target t2 = { "m.example", 25, SECURITY_NONE, USERNAME_UNKNOWN, NULL };
	advice_render(p, &t2, &a, &adv);
	ck_assert_uint_eq(adv.nsteps, 5);
	ck_assert(strstr(adv.steps[2], "your user name") != NULL);
	ck_assert_str_eq(adv.steps[3], "Untick \"Use SSL\".");
	ck_assert_uint_eq(adv.nsummary, 0);
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

#define HEAD "id = x\nname = X\nplatform = any\nauth = yes\ntls = no\nstarttls = no\n"

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
}
END_TEST

/* Every program the issue names (the seed pages' list and today's common
 * ones): the name a user types, the entry it must find and its platform. */
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
	{ "eudora 5.1 mac", "eudora-macintosh-4-3-5-2", "Macintosh" },
	{ "eudora 5.2 mac", "eudora-macintosh-4-3-5-2", "Macintosh" },
	/* Outlook 97, 98, 2000, 2002 (XP) */
	{ "outlook 97", "outlook-97", "Windows" },
	{ "outlook 98", "outlook-98", "Windows" },
	{ "outlook 2000", "outlook-2000", "Windows" },
	{ "outlook 2002", "outlook-2002-xp", "Windows" },
	{ "outlook xp", "outlook-2002-xp", "Windows" },
	/* Outlook Express 4, 5 and 6 (Windows); 4.0, 4.5, 5.01, 5.02 (Mac) */
	{ "outlook express 4", "outlook-express-4-windows", "Windows" },
	{ "oe4", "outlook-express-4-windows", "Windows" },
	{ "outlook express 5", "outlook-express-5-6-windows", "Windows" },
	{ "outlook express 6", "outlook-express-5-6-windows", "Windows" },
	{ "oe6", "outlook-express-5-6-windows", "Windows" },
	{ "outlook express mac 4.0", "outlook-express-macintosh-4", "Macintosh" },
	{ "outlook express mac 4.5", "outlook-express-macintosh-4", "Macintosh" },
	{ "outlook express 4.5", "outlook-express-macintosh-4", "Macintosh" },
	{ "outlook express mac 5.01", "outlook-express-macintosh-5-01", "Macintosh" },
	{ "outlook express mac 5.02", "outlook-express-macintosh-5-02", "Macintosh" },
	/* Entourage, IncrediMail, Netscape 3.x, 4.7x, 6.x/7.x, Mozilla 1.5, OS X Mail */
	{ "entourage", "entourage", "Macintosh" },
	{ "incredimail", "incredimail", "Windows" },
	{ "netscape 3", "netscape-3", "Windows, Macintosh" },
	{ "netscape 3.x", "netscape-3", "Windows, Macintosh" },
	{ "netscape 4.7", "netscape-4-7-windows", "Windows" },
	{ "netscape 4.7x", "netscape-4-7-windows", "Windows" },
	{ "netscape 4.7 mac", "netscape-4-7-macintosh", "Macintosh" },
	{ "netscape 6", "netscape-6-7-windows", "Windows" },
	{ "netscape 7", "netscape-6-7-windows", "Windows" },
	{ "netscape 7 mac", "netscape-6-7-macintosh", "Macintosh" },
	{ "mozilla 1.5", "mozilla-1-5", "Windows, Macintosh, Linux" },
	{ "os x mail", "os-x-mail", "Macintosh" },
	/* Pegasus 3.12c, Opera 6, NeoPlanet 5.2, GoldMine, Windows 3.1, Mulberry,
	 * Mailsmith, GroupWise */
	{ "pegasus 3.12c", "pegasus-3-12c", "Windows" },
	{ "opera 6", "opera-6", "Windows" },
	{ "neoplanet 5.2", "neoplanet-5-2", "Windows" },
	{ "goldmine", "goldmine", "Windows" },
	{ "windows 3.1", "windows-3-1-programs", "Windows" },
	{ "mulberry", "mulberry", "Macintosh" },
	{ "mailsmith", "mailsmith", "Macintosh" },
	{ "groupwise", "novell-groupwise", "Windows" },
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

Suite *kb_suite(void)
{
	Suite *s = suite_create("kb");
	TCase *tc = tcase_create("knowledge base");
	tcase_add_test(tc, parse_sample);
	tcase_add_test(tc, format_errors);
	tcase_add_test(tc, embedded_kb_is_clean);
	tcase_add_test(tc, required_programs);
	tcase_add_test(tc, every_program_renders);
	suite_add_tcase(s, tc);
	return s;
}
