/*
 * explain.h - --explain: a reply or an error message a user pasted,
 * interpreted offline into the same findings a live probe reports.
 *
 * Pure code. It recognises SMTP replies with or without enhanced codes
 * (one line or several, also inside a client's sentence such as "The
 * server responded: 550 5.7.1 ..."), the Outlook Express / Outlook error
 * numbers (0x800CCCxx, 0x8004210x) and the usual sentences of
 * Thunderbird, Apple Mail and Outlook. What it does not recognise it says
 * so, rather than guess.
 */
#ifndef SMTPCHECK_EXPLAIN_H
#define SMTPCHECK_EXPLAIN_H

#include <stdbool.h>

#include "diagnose.h"
#include "util.h"

struct explanation {
	bool recognised;
	int code;                /* the SMTP reply code found, 0 if none */
	bool code_inferred;      /* only an enhanced code was given */
	char enhanced[16];       /* "" if none */
	char *reply_text;        /* the reply's text, NULL if none */
	const char *client_code; /* "0x800CCC79", NULL if none */
	struct diagnosis d;      /* findings, status, summary */
};

void explain(const char *input, struct arena *a, struct explanation *out);
void explanation_free(struct explanation *e);

#endif
