/*
 * check_interpret.c - the reply table and --explain's reading of pasted
 * text: which reply is found, which finding it becomes.
 */
#include <stdio.h>
#include <string.h>

#include "explain.h"
#include "findings.h"
#include "interpret.h"
#include "suites.h"

static const char *id_of(unsigned ctx, int code, const char *enh, const char *text)
{
	const struct reply_rule *r = interpret_reply(ctx, code, enh, text);
	return r ? r->id : "(none)";
}

START_TEST(reply_table)
{
	ck_assert_str_eq(id_of(CTX_AUTH, 535, "5.7.8", "Error: authentication failed"), "auth-failed");
	ck_assert_str_eq(id_of(CTX_AUTH, 534, "5.7.9", "Application-specific password required"),
			 "auth-app-password");
	ck_assert_str_eq(id_of(CTX_AUTH, 538, "5.7.11", "Encryption required"), "tls-required");
	ck_assert_str_eq(id_of(CTX_AUTH, 454, "4.7.0", "Temporary authentication failure"),
			 "auth-temporary-failure");
	ck_assert_str_eq(id_of(CTX_AUTH, 504, "5.5.4", "Unrecognized authentication type"),
			 "auth-mechanism-unsupported");
	ck_assert_str_eq(id_of(CTX_RCPT, 554, "5.7.1", "<x@example.com>: Relay access denied"),
			 "relay-denied");
	ck_assert_str_eq(id_of(CTX_MAIL, 530, "5.7.0", "Must issue a STARTTLS command first"),
			 "tls-required");
	ck_assert_str_eq(id_of(CTX_MAIL, 530, "5.7.0", "Authentication required"), "auth-required");
	ck_assert_str_eq(id_of(CTX_GREETING, 554, "", "Service unavailable; Client host [192.0.2.1] "
			       "blocked using zen.spamhaus.org"), "client-blocked");
	ck_assert_str_eq(id_of(CTX_GREETING, 554, "", "No SMTP service here"), "greeting-refused");
	ck_assert_str_eq(id_of(CTX_GREETING, 421, "4.7.0", "Too many connections"), "rate-limited");
	ck_assert_str_eq(id_of(CTX_GREETING, 421, "", "Service not available, closing"), "server-busy");
	ck_assert_str_eq(id_of(CTX_RCPT, 450, "4.7.1", "Greylisted, see http://x"), "rate-limited");
	ck_assert_str_eq(id_of(CTX_MAIL, 553, "5.7.1", "Sender address rejected: not owned by user "
			       "x"), "sender-rejected");
	ck_assert_str_eq(id_of(CTX_RCPT, 550, "5.1.1", "User unknown"), "recipient-unknown");
	ck_assert_str_eq(id_of(CTX_DATA, 552, "5.3.4", "Message size exceeds fixed limit"),
			 "message-too-large");
	ck_assert_str_eq(id_of(CTX_STARTTLS, 454, "4.7.0", "TLS not available"), "starttls-failed");
	ck_assert_str_eq(id_of(CTX_UNKNOWN, 454, "4.7.0", "TLS not available due to local problem"),
			 "starttls-failed");
	ck_assert_str_eq(id_of(CTX_UNKNOWN, 454, "4.7.0", "Temporary authentication failure"),
			 "auth-temporary-failure");
	/* The live probe knows the command: a 454 to AUTH stays an AUTH failure. */
	ck_assert_str_eq(id_of(CTX_AUTH, 454, "4.7.0", "TLS not available"),
			 "auth-temporary-failure");
	ck_assert_str_eq(id_of(CTX_UNKNOWN, 250, "2.1.0", "Ok"), "accepted");
	/* 5.7.30 is REQUIRETLS in the registry; Microsoft uses it otherwise. */
	ck_assert_str_eq(id_of(CTX_UNKNOWN, 550, "5.7.30",
			       "Basic authentication is not supported for Client Submission."),
			 "auth-basic-disabled");
	/* An exact enhanced code does not match a longer one. */
	ck_assert_str_ne(id_of(CTX_AUTH, 534, "5.7.90", "x"), "auth-app-password");
}
END_TEST

START_TEST(every_rule_id_is_catalogued)
{
	for (const struct reply_rule *r = reply_rules; r->id; r++) {
		ck_assert_msg(finding_lookup(r->id) != NULL, "%s", r->id);
		ck_assert(r->lo <= r->hi);
		ck_assert_ptr_nonnull(r->says);
	}
	/* Every code has some reading. */
	for (int code = 200; code <= 599; code++)
		if (code % 100 <= 59)
			ck_assert_ptr_nonnull(interpret_reply(CTX_UNKNOWN, code, "", ""));
}
END_TEST

START_TEST(enhanced_words)
{
	ck_assert_str_eq(enhanced_meaning("5.7.8"), "authentication credentials invalid");
	ck_assert_str_eq(enhanced_meaning("4.2.2"), "mailbox full");
	ck_assert_str_eq(enhanced_meaning("5.1.10"), "recipient address has a null MX");
	ck_assert_ptr_null(enhanced_meaning("5.99.99"));
	ck_assert_ptr_null(enhanced_meaning(""));
}
END_TEST

struct ex {
	const char *input;
	const char *id;      /* expected among the findings; NULL: not recognised */
	int code;
	const char *enhanced;
};

static const struct ex examples[] = {
	{ "535 5.7.8 Error: authentication failed: (reason unavailable)", "auth-failed", 535, "5.7.8" },
	{ "The server responded: 554 5.7.1 <bob@example.com>: Relay access denied", "relay-denied", 554, "5.7.1" },
	{ "An error occurred while sending mail. The mail server responded: 5.7.1 <bob@example.com>: Relay access denied. Please check the message recipient and try again.", "relay-denied", 0, "5.7.1" },
	{ "534-5.7.9 Application-specific password required. Learn more at\n534 5.7.9 https://support.google.com/mail/?p=InvalidSecondFactor", "auth-app-password", 534, "5.7.9" },
	{ "Unable to send the message. Please verify the e-mail address in your account properties.  The server responded: 530 Authentication required. Error Number: 0x800CCC78", "auth-required", 530, "" },
	{ "Server Error: 550  Server Response: 550 relay not permitted  Error Number: 0x800CCC79", "relay-denied", 550, "" },
	{ "Error Number: 0x800CCC0E", "connection-failed", 0, "" },
	{ "Your server has unexpectedly terminated the connection. Error Number: 0x800CCC0F", "connection-lost", 0, "" },
	{ "Cannot connect to port 587 on mail.example.com", "connection-failed", 0, "" },
	{ "Relay access denied", "relay-denied", 0, "" },
	{ "421 4.7.0 mx.example.com Error: too many connections from 192.0.2.1", "rate-limited", 421, "4.7.0" },
	/* qmail's enhanced code at the end is the explanation's code too. */
	{ "535 authorization failed (#5.7.0)", "auth-failed", 535, "5.7.0" },
	{ "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "relay-denied", 553, "5.7.1" },
	/* A 454 about TLS is what the live probe calls a failed STARTTLS. */
	{ "454 4.7.0 TLS not available due to local problem", "starttls-failed", 454, "4.7.0" },
	{ "454 TLS currently unavailable", "starttls-failed", 454, "" },
	{ "454 4.7.0 Temporary authentication failure", "auth-temporary-failure", 454, "4.7.0" },
	{ "The weather is nice today", NULL, 0, "" },
	{ "port 465 and 587", NULL, 0, "" },
	{ "", NULL, 0, "" },
};

START_TEST(explain_examples)
{
	const struct ex *x = &examples[_i];
	struct arena a = { 0 };
	struct explanation e;
	explain(x->input, &a, &e);
	if (!x->id) {
		ck_assert_msg(!e.recognised, "%s: recognised as %s", x->input,
			      e.d.n ? e.d.findings[0].id : "?");
		ck_assert_int_eq(e.d.status, STATUS_UNKNOWN);
	} else {
		ck_assert_msg(e.recognised, "%s: not recognised", x->input);
		bool found = false;
		for (size_t i = 0; i < e.d.n; i++)
			found |= !strcmp(e.d.findings[i].id, x->id);
		ck_assert_msg(found, "%s: %s not among %zu findings (first %s)", x->input, x->id,
			      e.d.n, e.d.n ? e.d.findings[0].id : "-");
		if (!e.code_inferred)
			ck_assert_int_eq(e.code, x->code);
		ck_assert_str_eq(e.enhanced, x->enhanced);
	}
	explanation_free(&e);
	arena_free(&a);
}
END_TEST

/*
 * A reply a mail program quotes in its own sentence, with or without the
 * basic code (Thunderbird drops it), is read as the reply alone: the same
 * first finding, and no phrase said twice.
 */
static const char *const quoted_replies[] = {
	"530 5.7.1 Client was not authenticated",
	"530 5.7.57 Client not authenticated to send mail",
	"530 5.7.0 Authentication required",
	"530 5.7.0 Must issue a STARTTLS command first",
	"554 5.7.1 <x@example.com>: Relay access denied",
	"550 5.7.1 Unable to relay",
	"535 5.7.8 Error: authentication failed: authentication failure",
	"534 5.7.9 Application-specific password required",
	"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant.",
	"553 5.7.1 <alice@example.com>: Sender address rejected: not owned by user bob@example.com",
	"550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown",
	"552 5.3.4 Message size exceeds fixed limit",
	"550 5.7.1 Message rejected",
};

/* Thunderbird (MAIL FROM, RCPT TO), Apple Mail, Outlook. */
static const char *const client_wrappers[] = {
	"Sending of the message failed.\nAn error occurred while sending mail. The mail server "
	"responded: %s. Please verify that your email address is correct in your account "
	"settings and try again.",
	"An error occurred while sending mail. The mail server responded:\n%s.\nPlease check the "
	"message recipient \"x@example.com\" and try again.",
	"Cannot send message using the server smtp.example.com.\nThe server response was: %s",
	"Send test e-mail message: Your outgoing (SMTP) e-mail server has reported an internal "
	"error. If you continue to receive this message, contact your server administrator or "
	"Internet service provider (ISP). The server responded: %s",
};

static void assert_said_once(const char *message, const char *phrase)
{
	const char *at = phrase ? strstr(message, phrase) : NULL;
	ck_assert_msg(!at || !strstr(at + 1, phrase), "'%s' said twice in: %s", phrase, message);
}

START_TEST(quoted_reply_reads_as_reply)
{
	const char *bare = quoted_replies[_i];
	struct arena a = { 0 };
	struct explanation alone;
	explain(bare, &a, &alone);
	ck_assert(alone.recognised);
	const char *want = alone.d.findings[0].id;
	assert_said_once(alone.d.findings[0].message, enhanced_meaning(alone.enhanced));
	for (size_t w = 0; w < ARRAY_LEN(client_wrappers); w++)
		for (int with_code = 0; with_code < 2; with_code++) {
			char text[1024];
			snprintf(text, sizeof text, client_wrappers[w], with_code ? bare : bare + 4);
			struct explanation e;
			explain(text, &a, &e);
			ck_assert_msg(e.recognised && !strcmp(e.d.findings[0].id, want),
				      "%s: first finding %s, alone %s", text,
				      e.d.n ? e.d.findings[0].id : "-", want);
			ck_assert_str_eq(e.enhanced, alone.enhanced);
			ck_assert_int_eq(e.code_inferred, !with_code);
			if (with_code)
				ck_assert_int_eq(e.code, alone.code);
			/* The client's advice after the quote is not the server's. */
			ck_assert_msg(!strstr(e.reply_text, "Please"), "%s", e.reply_text);
			assert_said_once(e.d.findings[0].message, enhanced_meaning(e.enhanced));
			explanation_free(&e);
		}
	explanation_free(&alone);
	arena_free(&a);
}
END_TEST

/* A rule that only restates the enhanced code is not followed by it. */
START_TEST(no_doubled_meaning)
{
	struct arena a = { 0 };
	struct explanation e;
	explain("The mail server responded: 5.7.1 Message rejected", &a, &e);
	ck_assert(e.recognised);
	assert_said_once(e.d.findings[0].message, "delivery not authorised, message refused");
	explanation_free(&e);
	arena_free(&a);
}
END_TEST

Suite *interpret_suite(void)
{
	Suite *s = suite_create("interpret");
	TCase *tc = tcase_create("replies");
	tcase_add_test(tc, reply_table);
	tcase_add_test(tc, every_rule_id_is_catalogued);
	tcase_add_test(tc, enhanced_words);
	tcase_add_loop_test(tc, explain_examples, 0, (int)(sizeof examples / sizeof *examples));
	tcase_add_loop_test(tc, quoted_reply_reads_as_reply, 0, (int)ARRAY_LEN(quoted_replies));
	tcase_add_test(tc, no_doubled_meaning);
	suite_add_tcase(s, tc);
	return s;
}
