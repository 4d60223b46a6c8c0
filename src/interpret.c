/*
 * interpret.c - the reply table. Order matters: the first matching rule
 * wins, so specific rules (an enhanced code, a telling phrase) come
 * before general ones (a code range). The phrases are the ones real
 * servers use (Postfix, Exim, Sendmail, qmail, Exchange/Microsoft 365,
 * Gmail, Yahoo); the words in `says` are ours.
 */
#include "interpret.h"

#include <stdbool.h>
#include <string.h>

#include "util.h"

#define ANY 0u
#define MR (CTX_MAIL | CTX_RCPT)

const struct reply_rule reply_rules[] = {
	/* Success. */
	{ ANY, 235, 235, NULL, NULL, "auth-ok", "authentication succeeded" },
	{ ANY, 200, 299, NULL, NULL, "accepted", "the command was accepted" },
	{ ANY, 334, 334, NULL, NULL, "accepted", "the server waits for the next authentication step" },

	/* Specific words first: they beat the code ranges below. */
	{ ANY, 500, 599, "5.7.23", NULL, "sender-policy", "SPF check of the sender's domain failed" },
	{ ANY, 500, 599, "5.7.26", NULL, "sender-policy", "the message failed the sender domain's authentication checks" },
	{ ANY, 500, 599, "5.7.27", NULL, "sender-policy", "the sender's domain accepts no mail (null MX)" },
	{ ANY, 400, 599, NULL, "tls 1.0 and 1.1", "tls-protocol-old", "the client's TLS version is too old for the server" },
	{ ANY, 400, 599, NULL, "tls version", "tls-protocol-old", "the client's TLS version is not accepted" },
	/* Postfix's plain `reject` in smtpd_client_restrictions: on a
	 * submission port, what a client that has not logged in gets. */
	{ ANY, 400, 599, NULL, "client host rejected: access denied", "relay-denied", "the server takes mail from this client only after it logs in (if it still says so after a good login, the address is on the server's own deny list)" },
	{ ANY, 400, 599, NULL, "client host rejected", "client-blocked", "the server refuses this client's address or host name" },
	{ ANY, 400, 599, NULL, "cannot find your hostname", "client-blocked", "the client's address has no valid host name in DNS" },
	{ ANY, 400, 599, NULL, "cannot find your reverse hostname", "client-blocked", "the client's address has no reverse DNS name" },
	{ ANY, 400, 599, NULL, "not authorized to send email directly", "client-blocked", "the server takes no mail straight from this address; send through the provider's server" },
	{ ANY, 400, 599, NULL, "black list", "client-blocked", "the client's address is on a block list" },
	{ ANY, 400, 599, NULL, "spamcop", "client-blocked", "the client's address is on the SpamCop block list" },
	{ ANY, 400, 599, NULL, "not accepted from this ip", "client-blocked", "the server refuses traffic from this address" },
	{ ANY, 500, 599, NULL, "[tss0", "client-blocked", "the provider refuses or defers mail from this address" },
	{ ANY, 400, 599, NULL, "too many login attempts", "rate-limited", "too many logins from this address; wait before trying again" },
	{ ANY, 400, 599, NULL, "submissionquotaexceeded", "rate-limited", "the account sent more than its sending limit allows" },
	{ ANY, 400, 599, NULL, "sending limit", "rate-limited", "the account reached its sending limit" },
	{ ANY, 400, 599, NULL, "at a rate", "rate-limited", "mail arrives faster than the receiver accepts it" },
	{ ANY, 400, 599, NULL, "unrecognized authentication type", "auth-mechanism-unsupported", "the server does not know this authentication method" },
	{ ANY, 400, 599, NULL, "send as this sender", "sender-rejected", "the account may not send as this address" },
	{ ANY, 400, 599, NULL, "sender verify failed", "sender-rejected", "the server could not verify the sender address" },
	{ ANY, 400, 599, NULL, "domain name required for sender", "sender-rejected", "the sender address has no domain" },
	{ ANY, 400, 599, NULL, "sender address rejected", "sender-rejected", "the sender address was refused" },
	{ ANY, 400, 599, NULL, "badmailfrom", "sender-rejected", "the sender address is on the server's refused list" },
	{ ANY, 400, 599, NULL, "turn on smtp authentication", "auth-required", "the server wants the mail program to log in" },
	{ ANY, 400, 599, NULL, "relay", "relay-denied", "the server does not pass mail on to this domain for this sender" },
	{ ANY, 400, 599, NULL, "policy reasons", "message-rejected", "the message was refused by the receiver's policy" },
	{ ANY, 400, 599, NULL, "user doesn't have", "recipient-unknown", "the recipient's account does not exist" },

	/* Rate limiting and temporary blocks: never a missing feature. */
	{ ANY, 421, 421, "4.7.", NULL, "rate-limited", "the server limits connections or messages from this address" },
	{ ANY, 421, 421, NULL, "too many", "rate-limited", "too many connections or messages from this address" },
	{ ANY, 421, 421, NULL, "rate limit", "rate-limited", "this address hit a rate limit" },
	{ ANY, 421, 421, NULL, "try again later", "rate-limited", "the server asks to try again later" },
	{ ANY, 421, 421, NULL, NULL, "server-busy", "the server is busy or shutting down and closes the connection" },
	{ ANY, 450, 452, NULL, "greylist", "rate-limited", "greylisting: the server wants the same message retried later" },
	{ ANY, 450, 452, "4.7.", NULL, "rate-limited", "a temporary block or throttling of this sender or address" },
	{ ANY, 450, 451, NULL, "try again later", "rate-limited", "the server asks to try again later" },

	/* Encryption. */
	{ CTX_STARTTLS, 454, 454, NULL, NULL, "starttls-failed", "TLS is temporarily unavailable on the server" },
	/* The same 454 pasted without its command (--explain): the words
	 * say TLS (Postfix, Sendmail, Exim). */
	{ CTX_UNKNOWN, 454, 454, NULL, "tls not available", "starttls-failed", "TLS is temporarily unavailable on the server" },
	{ CTX_UNKNOWN, 454, 454, NULL, "tls currently unavailable", "starttls-failed", "TLS is temporarily unavailable on the server" },
	{ CTX_UNKNOWN, 454, 454, NULL, "tls is not available", "starttls-failed", "TLS is temporarily unavailable on the server" },
	{ CTX_UNKNOWN, 454, 454, NULL, "tls unavailable", "starttls-failed", "TLS is temporarily unavailable on the server" },
	{ CTX_UNKNOWN, 454, 454, NULL, "starttls", "starttls-failed", "TLS is temporarily unavailable on the server" },
	{ ANY, 530, 530, NULL, "starttls", "tls-required", "the server wants STARTTLS before this command" },
	{ ANY, 530, 599, "5.7.10", NULL, "tls-required", "encryption is needed for this" },
	{ ANY, 530, 599, "5.7.11", NULL, "tls-required", "this authentication method needs an encrypted connection" },
	{ ANY, 538, 538, NULL, NULL, "tls-required", "this authentication method needs an encrypted connection" },
	{ ANY, 500, 599, NULL, "must issue a starttls", "tls-required", "the server wants STARTTLS first" },
	{ ANY, 500, 599, NULL, "tls required", "tls-required", "the server wants an encrypted connection" },
	{ ANY, 500, 599, NULL, "encryption required", "tls-required", "the server wants an encrypted connection" },

	/* Authentication. */
	{ ANY, 534, 534, "5.7.9", NULL, "auth-app-password", "the account needs an application-specific password (or the method is too weak)" },
	{ ANY, 500, 599, NULL, "application-specific password", "auth-app-password", "the account needs an application-specific password" },
	{ ANY, 534, 534, "5.7.14", NULL, "auth-web-login", "the provider wants a sign-in through its web page first" },
	{ ANY, 534, 534, NULL, NULL, "auth-mechanism-unsupported", "the authentication method is too weak for the server" },
	{ ANY, 535, 535, "5.7.139", NULL, "auth-disabled", "SMTP authentication is disabled for this account or organisation" },
	{ ANY, 500, 599, NULL, "smtpclientauthentication is disabled", "auth-disabled", "SMTP authentication is disabled for this tenant" },
	{ ANY, 500, 599, NULL, "basic authentication is not supported", "auth-basic-disabled", "passwords are no longer accepted for sending; OAuth only" },
	{ ANY, 500, 599, NULL, "basic authentication is disabled", "auth-basic-disabled", "passwords are no longer accepted for sending; OAuth only" },
	{ ANY, 535, 535, NULL, NULL, "auth-failed", "the user name or the password was rejected" },
	{ ANY, 500, 599, "5.7.8", NULL, "auth-failed", "the credentials were rejected" },
	{ ANY, 500, 599, NULL, "authentication failed", "auth-failed", "the credentials were rejected" },
	{ ANY, 500, 599, NULL, "incorrect authentication data", "auth-failed", "the credentials were rejected" },
	{ ANY, 500, 599, NULL, "username and password not accepted", "auth-failed", "the credentials were rejected" },
	{ CTX_AUTH, 454, 454, NULL, NULL, "auth-temporary-failure", "the server could not check the credentials just now" },
	{ ANY, 454, 454, "4.7.0", "auth", "auth-temporary-failure", "the server could not check the credentials just now" },
	{ CTX_AUTH, 504, 504, NULL, NULL, "auth-mechanism-unsupported", "the server does not know this authentication method" },
	{ ANY, 504, 504, "5.5.4", "auth", "auth-mechanism-unsupported", "the server does not know this authentication method" },
	{ CTX_AUTH, 501, 501, NULL, "cancel", "accepted", "the authentication exchange was cancelled" },
	{ CTX_AUTH, 501, 501, NULL, "abort", "accepted", "the authentication exchange was cancelled" },
	{ ANY, 530, 530, NULL, NULL, "auth-required", "the server wants authentication first" },
	{ ANY, 500, 599, NULL, "authentication required", "auth-required", "the server wants authentication first" },
	{ ANY, 500, 599, NULL, "must issue an auth", "auth-required", "the server wants authentication first" },
	{ ANY, 500, 599, NULL, "must authenticate", "auth-required", "the server wants authentication first" },
	{ ANY, 500, 599, NULL, "smtp auth", "auth-required", "the server wants SMTP authentication" },
	{ ANY, 500, 599, NULL, "authentication is required", "auth-required", "the server wants authentication first" },
	/* Exchange's "530 5.7.1 Client was not authenticated" and "530 5.7.57
	 * Client not authenticated to send mail": the words carry it when a
	 * client quotes the reply without its 530. */
	{ ANY, 500, 599, NULL, "not authenticated", "auth-required", "the server wants the mail program to log in first" },

	/* Client blocked by address. */
	{ ANY, 400, 599, NULL, "blocked using", "client-blocked", "the client's address is on a DNS block list" },
	{ ANY, 500, 599, NULL, "spamhaus", "client-blocked", "the client's address is on the Spamhaus block list" },
	{ ANY, 500, 599, NULL, "blacklist", "client-blocked", "the client's address is on a block list" },
	{ ANY, 500, 599, NULL, "blocklist", "client-blocked", "the client's address is on a block list" },
	{ ANY, 500, 599, NULL, "banned sending ip", "client-blocked", "the client's address is banned" },
	{ ANY, 500, 599, NULL, "dnsbl", "client-blocked", "the client's address is on a DNS block list" },
	{ ANY, 500, 599, NULL, "poor reputation", "client-blocked", "the client's address has a poor reputation" },
	{ ANY, 500, 599, NULL, "dynamic ip", "client-blocked", "the server refuses mail straight from dial-up or dynamic addresses" },
	{ ANY, 500, 599, NULL, "dial-up", "client-blocked", "the server refuses mail straight from dial-up addresses" },

	/* Relaying. */
	{ ANY, 500, 599, "5.7.54", NULL, "relay-denied", "the server does not relay to this domain" },
	{ ANY, 500, 599, NULL, "rcpthosts", "relay-denied", "the server does not pass mail on to this domain (qmail rcpthosts)" },
	{ ANY, 500, 599, NULL, "we do not relay", "relay-denied", "the server does not relay" },
	{ MR, 500, 599, NULL, "client host rejected: access denied", "relay-denied", "the sender must log in to send through this server" },

	/* Sender. */
	{ ANY, 500, 599, "5.7.60", NULL, "sender-rejected", "the account may not send as this address" },
	{ ANY, 500, 599, NULL, "sendasdenied", "sender-rejected", "the account may not send as this address" },
	{ ANY, 500, 599, NULL, "not owned by", "sender-rejected", "the sender address does not belong to the logged-in user" },
	{ ANY, 500, 599, NULL, "sender address rejected", "sender-rejected", "the sender address was refused" },
	{ ANY, 500, 599, "5.1.8", NULL, "sender-rejected", "the sender's domain is not valid" },
	{ ANY, 400, 499, "4.1.8", NULL, "sender-rejected", "the sender's domain is not valid (for now)" },
	{ ANY, 500, 599, "5.1.7", NULL, "sender-rejected", "the sender address is malformed" },
	{ CTX_MAIL, 500, 599, NULL, NULL, "sender-rejected", "the sender address was refused" },

	/* Policy on the receiving side. */
	{ ANY, 500, 599, NULL, "dmarc", "sender-policy", "the message failed the sender domain's DMARC policy" },
	{ ANY, 500, 599, NULL, "spf", "sender-policy", "the message failed the sender domain's SPF check" },
	{ ANY, 500, 599, NULL, "unsolicited", "message-rejected", "the message looks like spam to the receiver" },
	{ ANY, 500, 599, NULL, "spam", "message-rejected", "the message looks like spam to the receiver" },
	{ ANY, 500, 599, "5.7.28", NULL, "message-rejected", "a mail flood was detected" },

	/* Recipient. */
	{ ANY, 500, 599, "5.1.1", NULL, "recipient-unknown", "the recipient's mailbox does not exist" },
	{ ANY, 500, 599, "5.1.10", NULL, "recipient-unknown", "the recipient's address does not exist" },
	{ ANY, 500, 599, NULL, "user unknown", "recipient-unknown", "the recipient's mailbox does not exist" },
	{ ANY, 500, 599, NULL, "no such user", "recipient-unknown", "the recipient's mailbox does not exist" },
	{ ANY, 500, 599, NULL, "does not exist", "recipient-unknown", "the recipient's mailbox does not exist" },
	{ ANY, 500, 599, NULL, "recipient not found", "recipient-unknown", "the recipient's address does not exist" },
	{ ANY, 500, 599, NULL, "unknown user", "recipient-unknown", "the recipient's mailbox does not exist" },
	{ ANY, 400, 599, "5.2.2", NULL, "mailbox-full", "the recipient's mailbox is full" },
	{ ANY, 400, 499, "4.2.2", NULL, "mailbox-full", "the recipient's mailbox is full" },
	{ ANY, 400, 599, NULL, "mailbox full", "mailbox-full", "the recipient's mailbox is full" },
	{ ANY, 400, 599, NULL, "over quota", "mailbox-full", "the recipient's mailbox is over its quota" },

	/* Size. */
	{ ANY, 500, 599, "5.3.4", NULL, "message-too-large", "the message is too big for the server" },
	{ ANY, 500, 599, "5.2.3", NULL, "message-too-large", "the message is longer than the server's limit" },
	{ ANY, 552, 552, NULL, "size", "message-too-large", "the message is larger than the server accepts" },
	{ ANY, 552, 552, NULL, "too big", "message-too-large", "the message is larger than the server accepts" },

	/* A refusal in the greeting. */
	{ CTX_GREETING, 554, 554, NULL, NULL, "greeting-refused", "the server refuses the session" },
	{ CTX_GREETING, 520, 529, NULL, NULL, "greeting-refused", "the server refuses the session" },

	/* Relay refusals without a telling phrase, by context. */
	{ CTX_RCPT, 550, 554, "5.7.1", NULL, "relay-denied", "the recipient was refused for this sender (not authorised)" },
	{ CTX_RCPT, 550, 550, NULL, "not permitted", "relay-denied", "the recipient is not permitted for this sender" },

	/* General classes. */
	{ ANY, 500, 504, NULL, NULL, "command-rejected", "the server did not accept the command" },
	{ ANY, 550, 554, "5.7.1", NULL, "permanent-failure", "delivery not authorised, message refused" },
	{ ANY, 400, 499, NULL, NULL, "temporary-failure", "a temporary failure; trying again later may work" },
	{ ANY, 500, 599, NULL, NULL, "permanent-failure", "a permanent failure" },
	{ ANY, 300, 399, NULL, NULL, "accepted", "the server waits for more input" },
	{ 0, 0, 0, NULL, NULL, NULL, NULL },
};

const char *ascii_strcasestr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0)
		return hay;
	for (; *hay; hay++)
		if (!ascii_ncasecmp(hay, needle, n))
			return hay;
	return NULL;
}

static bool enhanced_matches(const char *pattern, const char *enhanced)
{
	if (!pattern)
		return true;
	if (!enhanced || !*enhanced)
		return false;
	size_t n = strlen(pattern);
	if (pattern[n - 1] == '.')
		return !strncmp(enhanced, pattern, n);
	return !strcmp(enhanced, pattern);
}

/* The code is in the rule's range; for a code that stands for its whole
 * class, any code of the class will do when the rule also names an
 * enhanced code or words, which say more than the basic code. */
static bool code_matches(const struct reply_rule *r, int code, bool class_only)
{
	if (code >= r->lo && code <= r->hi)
		return true;
	return class_only && (r->enhanced || r->text) && code / 100 >= r->lo / 100 &&
	       code / 100 <= r->hi / 100;
}

static const struct reply_rule *lookup(unsigned ctx, int code, bool class_only,
				       const char *enhanced, const char *text)
{
	for (const struct reply_rule *r = reply_rules; r->id; r++) {
		if (r->ctx && !(r->ctx & ctx))
			continue;
		if (!code_matches(r, code, class_only))
			continue;
		if (!enhanced_matches(r->enhanced, enhanced))
			continue;
		if (r->text && !(text && ascii_strcasestr(text, r->text)))
			continue;
		return r;
	}
	return NULL;
}

const struct reply_rule *interpret_reply(unsigned ctx, int code,
					 const char *enhanced, const char *text)
{
	return lookup(ctx, code, false, enhanced, text);
}

const struct reply_rule *interpret_reply_class(unsigned ctx, int code,
					       const char *enhanced, const char *text)
{
	return lookup(ctx, code, true, enhanced, text);
}

/* RFC 3463 and the RFC 5248 registry, subject.detail, in our words. */
static const struct {
	const char *code;
	const char *words;
} details[] = {
	{ "0.0", "other or undefined status" },
	{ "1.0", "other address status" },
	{ "1.1", "bad destination mailbox address" },
	{ "1.2", "bad destination system (domain) address" },
	{ "1.3", "bad destination address syntax" },
	{ "1.4", "ambiguous destination address" },
	{ "1.6", "destination mailbox has moved" },
	{ "1.7", "bad sender address syntax" },
	{ "1.8", "bad sender system (domain) address" },
	{ "1.10", "recipient address has a null MX" },
	{ "2.0", "other mailbox status" },
	{ "2.1", "mailbox disabled" },
	{ "2.2", "mailbox full" },
	{ "2.3", "message longer than the administrative limit" },
	{ "2.4", "mailing list expansion problem" },
	{ "3.0", "other mail system status" },
	{ "3.1", "mail system full" },
	{ "3.2", "system not accepting network messages" },
	{ "3.3", "system cannot do the selected features" },
	{ "3.4", "message too big for the system" },
	{ "3.5", "system incorrectly configured" },
	{ "4.0", "other network or routing status" },
	{ "4.1", "no answer from host" },
	{ "4.2", "bad connection" },
	{ "4.3", "directory server failure" },
	{ "4.4", "unable to route" },
	{ "4.5", "mail system congestion" },
	{ "4.6", "routing loop detected" },
	{ "4.7", "delivery time expired" },
	{ "5.0", "other protocol status" },
	{ "5.1", "invalid command" },
	{ "5.2", "syntax error" },
	{ "5.3", "too many recipients" },
	{ "5.4", "invalid command arguments" },
	{ "5.5", "wrong protocol version" },
	{ "5.6", "authentication exchange line too long" },
	{ "6.0", "other media error" },
	{ "6.1", "media not supported" },
	{ "6.3", "conversion required but not supported" },
	{ "7.0", "other security or policy status" },
	{ "7.1", "delivery not authorised, message refused" },
	{ "7.2", "mailing list expansion prohibited" },
	{ "7.3", "security conversion required but not possible" },
	{ "7.4", "security features not supported" },
	{ "7.5", "cryptographic failure" },
	{ "7.6", "cryptographic algorithm not supported" },
	{ "7.7", "message integrity failure" },
	{ "7.8", "authentication credentials invalid" },
	{ "7.9", "authentication mechanism too weak" },
	{ "7.10", "encryption needed" },
	{ "7.11", "encryption required for the authentication mechanism" },
	{ "7.12", "a password transition is needed" },
	{ "7.13", "user account disabled" },
	{ "7.14", "trust relationship required" },
	{ "7.15", "priority level too low" },
	{ "7.16", "message too big for the priority" },
	{ "7.17", "mailbox owner has changed" },
	{ "7.18", "domain owner has changed" },
	{ "7.20", "no passing DKIM signature" },
	{ "7.21", "no acceptable DKIM signature" },
	{ "7.22", "no valid author-matched DKIM signature" },
	{ "7.23", "SPF validation failed" },
	{ "7.24", "SPF validation error" },
	{ "7.25", "reverse DNS validation failed" },
	{ "7.26", "multiple authentication checks failed" },
	{ "7.27", "sender address has a null MX" },
	{ "7.28", "mail flood detected" },
	{ "7.29", "ARC validation failure" },
	{ "7.30", "REQUIRETLS support required" },
};

const char *enhanced_meaning(const char *enhanced)
{
	if (!enhanced || strlen(enhanced) < 5 || enhanced[1] != '.')
		return NULL;
	const char *sd = enhanced + 2;
	for (size_t i = 0; i < ARRAY_LEN(details); i++)
		if (!strcmp(details[i].code, sd))
			return details[i].words;
	return NULL;
}

const char *code_class_meaning(int code)
{
	switch (code / 100) {
	case 2: return "success";
	case 3: return "the server waits for more input";
	case 4: return "temporary failure";
	case 5: return "permanent failure";
	default: return "not an SMTP reply code";
	}
}
