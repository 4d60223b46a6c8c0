/*
 * advice.h - from the recommended settings to the steps of one mail
 * program (the knowledge base, kb.h), with its quirks, or to the reason
 * it cannot get there and what to upgrade to.
 *
 * Pure code: the diagnosis and a program in, filled-in text out.
 */
#ifndef SMTPCHECK_ADVICE_H
#define SMTPCHECK_ADVICE_H

#include <stdbool.h>

#include "diagnose.h"
#include "kb.h"
#include "result.h"

/* What the steps are filled in with. */
struct advice_target {
	const char *server;
	int port;
	enum security security;
	enum username_form username;
	const char *username_value;   /* NULL when not tested */
};

struct advice {
	const struct kb_program *program;
	bool possible;                /* the program can reach a working setup */
	bool fallback;                /* possible, but not with the top choice */
	bool unconfirmed_ability;     /* the chosen mode is "unknown" for it */
	bool unconfirmed_port;        /* no source shows how it sets this port */
	struct advice_target target;
	char **steps;
	size_t nsteps;
	char **summary;
	size_t nsummary;
	char *reason;                 /* why not possible, or why the fallback */
	char **notes;                 /* the program's quirks, hedged like the steps */
	size_t nnotes;
	char **cautions;              /* what no source confirms about the steps */
	size_t ncautions;
};

/* Can the program use this security at all (yes or unknown)? */
bool advice_supports(const struct kb_program *p, enum security s);

/*
 * Can the program send to this port with this security? Always, unless
 * it has no port box ("ports" names fixed ports).
 */
bool advice_reaches(const struct kb_program *p, enum security s, int port);

/*
 * Fill the program's steps and summary for a target; every quote of an
 * unconfirmed label gets KB_HEDGE after it, in the notes too.
 */
void advice_render(const struct kb_program *p, const struct advice_target *t,
		   struct arena *a, struct advice *out);

/*
 * Pick, among the diagnosis' working paths, the best one the program
 * supports and can reach (its security, and its port when the program
 * cannot set the port), and render it; or say why none.
 */
void advice_for(const struct kb_program *p, const struct host_result *h,
		const struct diagnosis *d, struct arena *a, struct advice *out);

/* The words a program's settings use for a security mode. */
const char *advice_security_words(enum security s);

#endif
