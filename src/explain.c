/*
 * explain.c - interpreting pasted replies and client errors (explain.h).
 *
 * Three tables: Outlook Express / Outlook error numbers (the IXP_E_ codes
 * of the Internet Mail transport, HR_E(0xCCxx) = 0x800CCCxx), client
 * sentences (distinctive phrases only), and, through interpret.c, the SMTP
 * reply rules. A reply found in the text is read with its enhanced code
 * and its words; the client's number or sentence adds what the client
 * knew (which command failed).
 */
#include "explain.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "interpret.h"
#include "reply.h"

static const struct {
	const char *code;
	const char *id;
	const char *says;
} client_codes[] = {
	{ "0x800CCC01", "cert-hostname-mismatch", "Outlook Express: the certificate's name does not match the server name" },
	{ "0x800CCC02", "cert-expired", "Outlook Express: the certificate's dates are not valid (expired, or not yet valid)" },
	{ "0x800CCC0B", "server-busy", "Outlook Express: the server or the connection is busy" },
	{ "0x800CCC0D", "dns-failed", "Outlook Express: cannot find the server (its name does not resolve)" },
	{ "0x800CCC0E", "connection-failed", "Outlook Express: failed to connect to the server" },
	{ "0x800CCC0F", "connection-lost", "Outlook Express: the connection to the server was dropped" },
	{ "0x800CCC13", "connection-lost", "Outlook Express: writing to the connection failed" },
	{ "0x800CCC15", "connection-failed", "Outlook Express: the connection could not be opened" },
	{ "0x800CCC18", "spa-not-supported", "Outlook Express: logon with Secure Password Authentication failed" },
	{ "0x800CCC19", "session-timeout", "Outlook Express: the server did not answer in time" },
	{ "0x800CCC1A", "tls-mode-mismatch", "Outlook Express: the secure (SSL) connection failed" },
	{ "0x800CCC60", "protocol-violation", "Outlook Express: the server's reply was not valid" },
	{ "0x800CCC61", "protocol-violation", "Outlook Express: the server answered with an unknown code" },
	{ "0x800CCC62", "command-rejected", "Outlook Express: the server answered 500 (syntax error)" },
	{ "0x800CCC63", "command-rejected", "Outlook Express: the server answered 501 (parameter syntax)" },
	{ "0x800CCC64", "command-rejected", "Outlook Express: the server answered 502 (command not implemented)" },
	{ "0x800CCC65", "command-rejected", "Outlook Express: the server answered 503 (bad sequence of commands)" },
	{ "0x800CCC66", "command-rejected", "Outlook Express: the server answered 504 (parameter not implemented)" },
	{ "0x800CCC67", "server-busy", "Outlook Express: the server answered 421 (service not available)" },
	{ "0x800CCC68", "temporary-failure", "Outlook Express: the server answered 450 (mailbox busy)" },
	{ "0x800CCC69", "permanent-failure", "Outlook Express: the server answered 550 (requested action not taken)" },
	{ "0x800CCC6A", "temporary-failure", "Outlook Express: the server answered 451 (local error in processing)" },
	{ "0x800CCC6B", "recipient-unknown", "Outlook Express: the server answered 551 (user not local)" },
	{ "0x800CCC6C", "temporary-failure", "Outlook Express: the server answered 452 (insufficient storage)" },
	{ "0x800CCC6D", "message-too-large", "Outlook Express: the server answered 552 (storage allocation exceeded)" },
	{ "0x800CCC6E", "sender-rejected", "Outlook Express: the server answered 553 (mailbox name not allowed)" },
	{ "0x800CCC6F", "permanent-failure", "Outlook Express: the server answered 554 (transaction failed)" },
	{ "0x800CCC78", "sender-rejected", "Outlook Express: the server refused the sender (MAIL FROM); most often the program does not log in, or the sender address is not the account's" },
	{ "0x800CCC79", "relay-denied", "Outlook Express: the server refused a recipient (RCPT TO); most often relaying was denied because the program does not log in" },
	{ "0x800CCC7A", "sender-rejected", "Outlook Express: there is no sender address" },
	{ "0x800CCC7C", "tls-required", "Outlook Express: the server wants STARTTLS first (530)" },
	{ "0x800CCC7D", "starttls-missing", "Outlook Express: the server does not support STARTTLS" },
	{ "0x800CCC7F", "starttls-failed", "Outlook Express: STARTTLS failed (454)" },
	{ "0x800CCC80", "auth-mechanism-unsupported", "Outlook: none of the program's authentication methods is supported by the server" },
	{ "0x80042109", "connection-failed", "Outlook: cannot connect to the outgoing (SMTP) server" },
	{ "0x8004210B", "session-timeout", "Outlook: timed out waiting for the outgoing (SMTP) server" },
};

/* Distinctive phrases of mail programs; both parts must be present. */
static const struct {
	const char *a, *b;
	const char *id;
	const char *says;
	bool generic;            /* only when nothing more specific is found */
} sentences[] = {
	{ "does not seem to support encrypted passwords", NULL, "auth-mechanism-unsupported", "Thunderbird: the server offers no challenge-response method; choose \"Normal password\"", false },
	{ "plaintext password", NULL, "auth-mechanism-unsupported", "the server does not take plain passwords; choose an encrypted method", false },
	{ "none of the authentication methods", NULL, "auth-mechanism-unsupported", "no authentication method in common", false },
	{ "secure password authentication", NULL, "spa-not-supported", "the program tried Secure Password Authentication (NTLM)", false },
	{ "advertise that feature", NULL, "starttls-missing", "Thunderbird: STARTTLS was chosen but the server does not offer it", false },
	{ "does not support the connection encryption type", NULL, "tls-mode-mismatch", "Outlook: the chosen encryption does not match the port", false },
	{ "encryption type you have specified", NULL, "tls-mode-mismatch", "Outlook: the chosen encryption does not match the port", false },
	{ "incorrect greeting", NULL, "greeting-refused", "the server did not greet with 220", false },
	{ "certificate", "expired", "cert-expired", "the server's certificate has expired", false },
	{ "certificate", "belongs to a different site", "cert-hostname-mismatch", "the certificate is for another name", false },
	{ "certificate", "does not match", "cert-hostname-mismatch", "the certificate is for another name", false },
	{ "certificate", "not trusted", "cert-untrusted", "the certificate is not trusted", false },
	{ "certificate", "untrusted", "cert-untrusted", "the certificate is not trusted", false },
	{ "certificate", "unknown issuer", "cert-untrusted", "the certificate's issuer is not trusted", false },
	{ "certificate", "self-signed", "cert-untrusted", "the certificate is self-signed", false },
	{ "security exception", NULL, "cert-untrusted", "Thunderbird asks to accept an untrusted certificate", false },
	{ "connecting to outgoing server", "failed", "connection-failed", "Thunderbird: connecting to the outgoing server failed", false },
	{ "refusing smtp connections", NULL, "connection-failed", "the server may be down or refuses SMTP connections", false },
	{ "unable to connect to your outgoing", NULL, "connection-failed", "Outlook: cannot connect to the outgoing server", false },
	{ "cannot connect to the outgoing", NULL, "connection-failed", "cannot connect to the outgoing server", false },
	{ "cannot connect to outgoing", NULL, "connection-failed", "cannot connect to the outgoing server", false },
	{ "cannot send message using the server", NULL, "connection-failed", "Apple Mail: the outgoing server could not be used", true },
	{ "lost in the middle of the transaction", NULL, "connection-lost", "the connection broke while the message was being sent", false },
	{ "connection to the outgoing server", "failed", "connection-failed", "the connection to the outgoing server failed", false },
	{ "verify the identity of the server", NULL, "cert-untrusted", "the program cannot verify the server's certificate", false },
	{ "is incorrect", "password", "auth-failed", "the user name or the password was refused", false },
	{ "sender address", "rejected", "sender-rejected", "the server refused the sender address", false },
	{ "couldn't connect", NULL, "connection-failed", "the program could not connect to the server", false },
	{ "cannot connect", NULL, "connection-failed", "the program could not connect to the server", false },
	{ "can't connect", NULL, "connection-failed", "the program could not connect to the server", false },
	{ "connection refused", NULL, "port-refused", "the server's address refused the connection", false },
	{ "could not connect", NULL, "connection-failed", "the program could not connect to the server", false },
	{ "login to server", "failed", "auth-failed", "Thunderbird: the login was refused", false },
	{ "unable to authenticate", NULL, "auth-failed", "the login was refused", false },
	{ "authentication unsuccessful", NULL, "auth-failed", "the login was refused", false },
	{ "authentication failed", NULL, "auth-failed", "the login was refused", false },
	{ "rejected", "password", "auth-failed", "the password was rejected", false },
	{ "incorrect password", NULL, "auth-failed", "the password was rejected", false },
	{ "password is incorrect", NULL, "auth-failed", "the password was rejected", false },
	{ "application-specific password", NULL, "auth-app-password", "an app password is needed", false },
	{ "app password", NULL, "auth-app-password", "an app password is needed", false },
	{ "requires authentication", NULL, "auth-required", "the server wants the program to log in", false },
	{ "size of the message", NULL, "message-too-large", "the message is too large", false },
	{ "message is too large", NULL, "message-too-large", "the message is too large", false },
	{ "exceeds the maximum size", NULL, "message-too-large", "the message is too large", false },
	{ "timed out", NULL, "session-timeout", "the server did not answer in time", false },
	{ "timeout", NULL, "session-timeout", "the server did not answer in time", false },
};

/*
 * The number 550 alone, as a user reads it off an error box ("Error 550"):
 * no enhanced code, no server words. Help pages of ISPs that switched on
 * SMTP authentication meet it when the mail program does not log in, so
 * that is the likely cause to name, not a generic permanent failure.
 */
static const struct reply_rule bare_550 = {
	0, 550, 550, NULL, NULL, "auth-required",
	"a 550 with no text, when sending, most often means the mail program does "
	"not log in to the outgoing server (its authentication is off)",
};

static bool blank(const char *s)
{
	while (s && (*s == ' ' || *s == '\t' || *s == '.'))
		s++;
	return !s || !*s;
}

/* ---- finding a reply in free text ---- */

static bool is_word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.';
}

static size_t enhanced_at(const char *s, int cls, char out[16])
{
	if (s[0] != '0' + cls || s[1] != '.')
		return 0;
	size_t i = 2, d1 = 0, d2 = 0;
	while (isdigit((unsigned char)s[i]) && d1 < 3)
		i++, d1++;
	if (!d1 || s[i] != '.')
		return 0;
	i++;
	while (isdigit((unsigned char)s[i]) && d2 < 3)
		i++, d2++;
	if (!d2 || isalnum((unsigned char)s[i]))
		return 0;
	memcpy(out, s, i);
	out[i] = '\0';
	return i;
}

/* How much the context before position i says "this is a reply code". */
static int context_score(const char *text, size_t i)
{
	size_t j = i;
	while (j > 0 && (text[j - 1] == ' ' || text[j - 1] == '\t' || text[j - 1] == '"' ||
			 text[j - 1] == '\'' || text[j - 1] == '(' || text[j - 1] == '['))
		j--;
	if (j == 0 || text[j - 1] == '\n' || text[j - 1] == '\r')
		return 2;                               /* at the start of a line */
	static const char *const lead[] = {
		"responded:", "responded", "said:", "response:", "reply:", "error:",
		"error", "code:", "code", "returned:", "returned", "message:", "server:",
		"was:", "smtp:", ":",
	};
	for (size_t k = 0; k < ARRAY_LEN(lead); k++) {
		size_t n = strlen(lead[k]);
		if (j >= n && !ascii_ncasecmp(text + j - n, lead[k], n))
			return k + 1 == ARRAY_LEN(lead) ? 1 : 2;
	}
	return 0;
}

static bool preceded_by_port(const char *text, size_t i)
{
	size_t j = i;
	while (j > 0 && text[j - 1] == ' ')
		j--;
	return j >= 4 && !ascii_ncasecmp(text + j - 4, "port", 4);
}

/* "404 Not Found" is a web server, not a mail server. */
static bool http_phrase(const char *after)
{
	static const char *const phrases[] = {
		" not found", " bad request", " forbidden", " internal server error",
		" moved permanently", " service unavailable", " bad gateway", " unauthorized",
	};
	for (size_t i = 0; i < ARRAY_LEN(phrases); i++)
		if (!ascii_ncasecmp(after, phrases[i], strlen(phrases[i])))
			return true;
	return false;
}

struct found_reply {
	int code;
	bool inferred;
	char enhanced[16];
	size_t start;            /* where the code begins */
	size_t text_start, text_end;
};

static bool find_reply(const char *text, struct found_reply *f)
{
	int best = 0;
	size_t n = strlen(text);
	for (size_t i = 0; i + 3 <= n; i++) {
		const char *s = text + i;
		if (s[0] < '2' || s[0] > '5' || !isdigit((unsigned char)s[1]) ||
		    !isdigit((unsigned char)s[2]) || s[1] > '5')
			continue;
		if (i > 0 && (is_word_char(text[i - 1]) || text[i - 1] == '-' ||
			      text[i - 1] == '#'))
			continue;
		char next = s[3];
		/* "Error 550." or "(550)": punctuation that ends a sentence or an
		 * aside ends the code too, unless a word or number goes on. */
		if (next && strchr(".,;:!?)", next) && !isalnum((unsigned char)s[4]))
			next = '\0';
		if (next && next != ' ' && next != '-' && next != '\r' && next != '\n')
			continue;
		if (preceded_by_port(text, i))
			continue;
		int score = context_score(text, i);
		char enh[16] = "";
		size_t elen = 0;
		if (next == ' ' || next == '-')
			elen = enhanced_at(s + 4, s[0] - '0', enh);
		if (elen)
			score += 3;
		if (score < 2 || score <= best || http_phrase(s + 3))
			continue;
		best = score;
		f->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		f->inferred = false;
		memcpy(f->enhanced, enh, sizeof enh);
		f->start = i;
		f->text_start = i + 4 + (elen ? elen + 1 : 0);
		if (f->text_start > n)
			f->text_start = n;
		/* The reply's text runs on over continuation lines of this code. */
		size_t e = f->text_start;
		for (;;) {
			e += strcspn(text + e, "\r\n");
			size_t k = e;
			while (text[k] == '\r' || text[k] == '\n')
				k++;
			if (!strncmp(text + k, s, 3) && (text[k + 3] == ' ' || text[k + 3] == '-')) {
				e = k + 4;
				continue;
			}
			break;
		}
		f->text_end = e;
	}
	if (best)
		return true;

	/* Only an enhanced code ("responded: 5.7.1 <x>: Relay access denied"). */
	for (size_t i = 0; i + 5 <= n; i++) {
		if (i > 0 && (is_word_char(text[i - 1]) || text[i - 1] == '-'))
			continue;
		char enh[16];
		int cls = text[i] - '0';
		if (cls != 2 && cls != 4 && cls != 5)
			continue;
		size_t elen = enhanced_at(text + i, cls, enh);
		if (!elen || context_score(text, i) < 1)
			continue;
		f->code = cls == 2 ? 250 : cls == 4 ? 451 : 550;
		f->inferred = true;
		memcpy(f->enhanced, enh, sizeof enh);
		f->start = i;
		f->text_start = i + elen;
		f->text_end = f->text_start + strcspn(text + f->text_start, "\r\n");
		return true;
	}
	return false;
}

/*
 * What a mail program writes after the reply it quotes: Thunderbird's
 * advice after "The mail server responded: ...", Outlook Express's
 * ", Port: 25, Secure(SSL): No, ...". They are not the server's words, so
 * the reply ends where one starts.
 */
static const char *const client_tails[] = {
	"Please verify that your email address is correct",
	"Please check the message recipient",
	"Please check the message and try again",
	", Port: ",
	", Server Error: ",
	", Error Number: ",
	"Error Number: 0x",
};

static void cut_client_tail(const char *input, struct found_reply *f)
{
	for (size_t i = 0; i < ARRAY_LEN(client_tails); i++) {
		const char *at = ascii_strcasestr(input + f->text_start, client_tails[i]);
		if (!at || (size_t)(at - input) >= f->text_end)
			continue;
		size_t end = (size_t)(at - input);
		/* and the blanks and the full stop before it */
		while (end > f->text_start && (input[end - 1] == ' ' || input[end - 1] == '.' ||
					       input[end - 1] == '\n' || input[end - 1] == '\r'))
			end--;
		f->text_end = end;
	}
	/* "Server Response: '550 5.7.1 ...'": the closing quote is the client's. */
	char open = f->start > 0 ? input[f->start - 1] : '\0';
	if ((open == '\'' || open == '"') && f->text_end > f->text_start &&
	    input[f->text_end - 1] == open)
		f->text_end--;
}

/*
 * The reply's words, its continuation lines joined with a space and
 * stripped of their "550-5.7.1 " prefixes, so phrases that span lines are
 * found.
 */
static char *reply_lines_text(const char *input, const struct found_reply *f,
			      struct arena *a)
{
	struct buf b;
	buf_init(&b);
	const char *p = input + f->text_start, *end = input + f->text_end;
	char head[4];
	snprintf(head, sizeof head, "%03d", f->code);
	while (p < end) {
		size_t n = strcspn(p, "\r\n");
		if (p + n > end)
			n = (size_t)(end - p);
		buf_append(&b, p, n);
		p += n;
		while (p < end && (*p == '\r' || *p == '\n'))
			p++;
		if (p >= end)
			break;
		buf_putc(&b, ' ');
		if (!strncmp(p, head, 3) && (p[3] == '-' || p[3] == ' ')) {
			p += 4;
			if (f->enhanced[0] && !strncmp(p, f->enhanced, strlen(f->enhanced)))
				p += strlen(f->enhanced);
			while (p < end && *p == ' ')
				p++;
		}
	}
	/* No blank at either end ("5.7.1 denied" leaves " denied"). */
	const char *t = buf_cstr(&b);
	size_t n = b.len;
	while (n && (*t == ' ' || *t == '\t'))
		t++, n--;
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	char *s = arena_strndup(a, t, n);
	buf_free(&b);
	return s;
}

/* ---- findings ---- */

static enum severity explain_severity(const char *id, int code)
{
	static const char *const ok[] = { "auth-ok", "accepted", "relay-ok" };
	static const char *const warn[] = {
		"rate-limited", "server-busy", "temporary-failure", "auth-temporary-failure",
		"session-timeout", "mailbox-full", "cert-expiring", "greeting-delayed",
	};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++)
		if (!strcmp(id, ok[i]))
			return SEV_OK;
	for (size_t i = 0; i < ARRAY_LEN(warn); i++)
		if (!strcmp(id, warn[i]))
			return SEV_WARNING;
	if (code >= 400 && code < 500)
		return SEV_WARNING;
	return SEV_CRITICAL;
}

static bool has_id(const struct diagnosis *d, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->findings[i].id, id))
			return true;
	return false;
}

static void add(struct explanation *e, struct arena *a, const char *id, int code,
		const char *message)
{
	struct diagnosis *d = &e->d;
	if (has_id(d, id))
		return;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 8;
		d->findings = xrealloc(d->findings, d->cap * sizeof *d->findings);
	}
	struct finding *f = &d->findings[d->n++];
	memset(f, 0, sizeof *f);
	const struct finding_info *info = finding_lookup(id);
	f->id = info ? info->id : id;
	f->severity = explain_severity(id, code);
	f->message = arena_strdup(a, message);
	f->advice = info ? info->advice : NULL;
}

/* Move finding i to the front, the others keeping their order. */
static void first(struct diagnosis *d, size_t i)
{
	struct finding f = d->findings[i];
	memmove(d->findings + 1, d->findings, i * sizeof *d->findings);
	d->findings[0] = f;
}

static bool generic(const char *id)
{
	return !strcmp(id, "permanent-failure") || !strcmp(id, "temporary-failure") ||
	       !strcmp(id, "command-rejected") || !strcmp(id, "accepted");
}

void explain(const char *input, struct arena *a, struct explanation *e)
{
	memset(e, 0, sizeof *e);
	struct buf b;
	buf_init(&b);

	/* Outlook's numbers first: they say which command the server refused. */
	unsigned ctx = CTX_UNKNOWN;
	for (size_t i = 0; i < ARRAY_LEN(client_codes); i++) {
		if (!ascii_strcasestr(input, client_codes[i].code))
			continue;
		e->client_code = client_codes[i].code;
		add(e, a, client_codes[i].id, 0, client_codes[i].says);
		if (!strcmp(client_codes[i].code, "0x800CCC78"))
			ctx |= CTX_MAIL;
		if (!strcmp(client_codes[i].code, "0x800CCC79"))
			ctx |= CTX_RCPT;
	}

	struct found_reply f;
	if (find_reply(input, &f)) {
		cut_client_tail(input, &f);
		e->code = f.code;
		e->code_inferred = f.inferred;
		e->reply_text = reply_lines_text(input, &f, a);
		/* qmail puts it at the end, "(#5.7.1)": the report shows it too. */
		if (!f.enhanced[0] && !f.inferred)
			reply_find_enhanced(e->reply_text, f.code, f.enhanced);
		memcpy(e->enhanced, f.enhanced, sizeof e->enhanced);
		/* Quoted without its basic code, the reply is read by its
		 * enhanced code and words as the full reply would be. */
		const struct reply_rule *r = f.inferred
			? interpret_reply_class(ctx, f.code, f.enhanced, e->reply_text)
			: interpret_reply(ctx, f.code, f.enhanced, e->reply_text);
		if (f.code == 550 && !f.inferred && !f.enhanced[0] && blank(e->reply_text) &&
		    !e->client_code)
			r = &bare_550;
		if (r) {
			const char *detail = enhanced_meaning(f.enhanced);
			buf_reset(&b);
			if (f.inferred)
				buf_printf(&b, "%s: %s", f.enhanced, r->says);
			else
				buf_printf(&b, "%d%s%s (%s): %s", f.code, f.enhanced[0] ? " " : "",
					   f.enhanced, code_class_meaning(f.code), r->says);
			/* Some rules say just what the enhanced code means. */
			if (detail && !ascii_strcasestr(r->says, detail))
				buf_printf(&b, "; %s means %s", f.enhanced, detail);
			size_t before = e->d.n;
			add(e, a, r->id, f.code, buf_cstr(&b));
			/* The server's own reply says more than the client's
			 * number ("0x800CCC78: the sender was refused"), unless
			 * all it gives is a class. */
			if (e->d.n > before && before > 0 && !generic(r->id))
				first(&e->d, before);
		}
	}

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < ARRAY_LEN(sentences); i++) {
			if (sentences[i].generic != (pass == 1) || (pass == 1 && e->d.n))
				continue;
			if (!ascii_strcasestr(input, sentences[i].a))
				continue;
			if (sentences[i].b && !ascii_strcasestr(input, sentences[i].b))
				continue;
			add(e, a, sentences[i].id, 0, sentences[i].says);
		}
	}

	/* Server words without a code ("Relay access denied"). */
	if (e->d.n == 0) {
		const struct reply_rule *r = interpret_reply(CTX_UNKNOWN, 550, NULL, input);
		if (r && !generic(r->id)) {
			buf_reset(&b);
			buf_printf(&b, "the words say: %s", r->says);
			add(e, a, r->id, 0, buf_cstr(&b));
		}
	}

	e->recognised = e->d.n > 0;
	enum severity worst = SEV_OK;
	for (size_t i = 0; i < e->d.n; i++)
		if (e->d.findings[i].severity > worst)
			worst = e->d.findings[i].severity;
	e->d.status = !e->recognised ? STATUS_UNKNOWN
		    : worst == SEV_CRITICAL ? STATUS_CRITICAL
		    : worst == SEV_WARNING ? STATUS_WARNING : STATUS_OK;
	buf_reset(&b);
	if (e->recognised)
		buf_printf(&b, "%s: %s", e->d.findings[0].id, e->d.findings[0].message);
	else
		buf_puts(&b, "not recognised: this is neither an SMTP reply nor an error "
			 "message smtpcheck knows");
	e->d.summary = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
}

void explanation_free(struct explanation *e)
{
	diagnosis_free(&e->d);
}
