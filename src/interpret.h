/*
 * interpret.h - what an SMTP reply means: basic code, enhanced status
 * code (RFC 3463, RFC 4954, RFC 5248) and the server's words, in the
 * context of the command it answers, mapped to a finding id.
 *
 * Pure code over one table (interpret.c). The probe's diagnosis and
 * --explain both read it, so a live 535 and a pasted 535 say the same.
 */
#ifndef SMTPCHECK_INTERPRET_H
#define SMTPCHECK_INTERPRET_H

#include <stddef.h>

/* The command a reply answers; rules name the contexts they apply to. */
enum smtp_ctx {
	CTX_GREETING = 1u << 0,
	CTX_EHLO = 1u << 1,
	CTX_STARTTLS = 1u << 2,
	CTX_AUTH = 1u << 3,
	CTX_MAIL = 1u << 4,
	CTX_RCPT = 1u << 5,
	CTX_DATA = 1u << 6,
	CTX_UNKNOWN = 1u << 7      /* a pasted reply: the command is not known */
};

struct reply_rule {
	unsigned ctx;              /* bit set of enum smtp_ctx; 0 = any */
	int lo, hi;                /* basic code range */
	const char *enhanced;      /* "5.7.9" exact, "4.7." prefix; NULL = any */
	const char *text;          /* case-insensitive substring; NULL = any */
	const char *id;            /* finding id */
	const char *says;          /* what this reply says, in plain words */
};

/* The first rule that matches; never NULL for codes 200..599. */
const struct reply_rule *interpret_reply(unsigned ctx, int code,
					 const char *enhanced, const char *text);

/*
 * The same for a reply quoted without its basic code ("The mail server
 * responded: 5.7.1 Client was not authenticated"): `code` stands for its
 * class (250, 451, 550). A rule that names an enhanced code or words
 * applies to every code of that class, so the quote reads as the reply it
 * came from ("530 5.7.1 Client was not authenticated"); a rule that goes
 * by the basic code alone needs `code` itself.
 */
const struct reply_rule *interpret_reply_class(unsigned ctx, int code,
					       const char *enhanced, const char *text);

/* Plain words for an enhanced code's subject.detail ("7.8"), or NULL. */
const char *enhanced_meaning(const char *enhanced);

/* Plain words for a basic code's class (2xx ... 5xx). */
const char *code_class_meaning(int code);

/* The rule table, for tests: terminated by an entry with id NULL. */
extern const struct reply_rule reply_rules[];

/* Case-insensitive ASCII substring search. */
const char *ascii_strcasestr(const char *hay, const char *needle);

#endif
