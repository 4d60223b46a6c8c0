/*
 * sasl.h - the client side of SMTP AUTH (RFC 4954) for PLAIN (RFC 4616),
 * LOGIN, CRAM-MD5 (RFC 2195) and SCRAM-SHA-1/-256 (RFC 5802, RFC 7677),
 * with OpenSSL's digests, HMAC and PBKDF2.
 *
 * Pure apart from the SCRAM client nonce (RAND_bytes). Every buffer that
 * holds the password or something derived from it is wiped with
 * OPENSSL_cleanse; callers get the command to send and, separately, the
 * form to show in transcripts, with the secret part replaced by
 * "<redacted>".
 *
 * Limits: no SASLprep of non-ASCII names or passwords (they are sent as
 * the UTF-8 bytes given), no channel binding (no -PLUS variants).
 */
#ifndef SMTPCHECK_SASL_H
#define SMTPCHECK_SASL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define SASL_MAX_CRED 256   /* longest user name or password accepted */

struct sasl {
	unsigned mech;           /* enum sasl_mech bit */
	const char *user;        /* not owned */
	const char *pass;        /* not owned; never copied except into wiped buffers */
	int step;
	/* SCRAM */
	char cnonce[33];
	struct buf client_first_bare;
	unsigned char server_signature[64];
	size_t sig_len;
	bool server_verified;    /* the server proved it knows the password */
};

/*
 * The strongest mechanism of offered (enum sasl_mech bits) this client
 * speaks: SCRAM-SHA-256, SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN. 0 if none.
 */
unsigned sasl_choose(unsigned offered);

/* Every mechanism this client speaks, as enum sasl_mech bits. */
unsigned sasl_supported(void);

/*
 * Begin: the AUTH command, with an initial response where the mechanism
 * has one. line gets the command, shown its transcript form. Returns 0,
 * or -1 with a reason in err.
 */
int sasl_start(struct sasl *s, unsigned mech, const char *user, const char *pass,
	       struct buf *line, struct buf *shown, struct buf *err);

/* The same with a given SCRAM client nonce (for test vectors). */
int sasl_start_nonce(struct sasl *s, unsigned mech, const char *user, const char *pass,
		     const char *nonce, struct buf *line, struct buf *shown, struct buf *err);

/*
 * Answer a 334 challenge (its base64 text). line gets the response (to be
 * sent, secret); shown its transcript form. Returns 0, or -1 with a reason
 * in err (a malformed challenge, a SCRAM server that fails to prove it
 * knows the password).
 */
int sasl_step(struct sasl *s, const char *challenge, struct buf *line,
	      struct buf *shown, struct buf *err);

/*
 * After 235: for SCRAM, whether the server proved it knows the password
 * (its final message may come as the last 334 challenge or not at all).
 */
bool sasl_server_verified(const struct sasl *s);

void sasl_clear(struct sasl *s);

/* Base64 without line breaks. decode returns -1 on invalid input. */
void base64_encode(const void *data, size_t len, struct buf *out);
int base64_decode(const char *text, struct buf *out);

#endif
