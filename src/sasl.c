/*
 * sasl.c - SMTP AUTH client mechanisms (see sasl.h).
 */
#include "sasl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ehlo.h"

/* Strongest first. */
static const unsigned preference[] = {
	MECH_SCRAM_SHA_256, MECH_SCRAM_SHA_1, MECH_CRAM_MD5, MECH_PLAIN, MECH_LOGIN,
};

unsigned sasl_supported(void)
{
	unsigned all = 0;
	for (size_t i = 0; i < ARRAY_LEN(preference); i++)
		all |= preference[i];
	return all;
}

unsigned sasl_choose(unsigned offered)
{
	for (size_t i = 0; i < ARRAY_LEN(preference); i++)
		if (offered & preference[i])
			return preference[i];
	return 0;
}

void base64_encode(const void *data, size_t len, struct buf *out)
{
	size_t need = 4 * ((len + 2) / 3);
	size_t at = out->len;
	buf_append(out, "", 0);
	for (size_t i = 0; i < need; i++)
		buf_putc(out, '=');
	int n = EVP_EncodeBlock((unsigned char *)out->data + at, data, (int)len);
	out->len = at + (size_t)(n > 0 ? n : 0);
	out->data[out->len] = '\0';
}

int base64_decode(const char *text, struct buf *out)
{
	size_t len = strlen(text);
	if (len % 4)
		return -1;
	size_t at = out->len;
	for (size_t i = 0; i < len / 4 * 3 + 1; i++)
		buf_putc(out, '\0');
	int n = EVP_DecodeBlock((unsigned char *)out->data + at,
				(const unsigned char *)text, (int)len);
	if (n < 0) {
		out->len = at;
		out->data[at] = '\0';
		return -1;
	}
	/* EVP_DecodeBlock counts the padding as bytes. */
	if (len >= 1 && text[len - 1] == '=')
		n--;
	if (len >= 2 && text[len - 2] == '=')
		n--;
	out->len = at + (size_t)n;
	out->data[out->len] = '\0';
	return 0;
}

static const char *mech_name(unsigned mech)
{
	return sasl_mech_name(mech);
}

static bool is_scram(unsigned mech)
{
	return mech == MECH_SCRAM_SHA_256 || mech == MECH_SCRAM_SHA_1;
}

static const EVP_MD *scram_md(unsigned mech)
{
	return mech == MECH_SCRAM_SHA_256 ? EVP_sha256() : EVP_sha1();
}

/* saslname: "=" and "," escaped as =3D and =2C (RFC 5802 5.1). */
static void scram_name(struct buf *out, const char *user)
{
	for (const char *p = user; *p; p++) {
		if (*p == '=')
			buf_puts(out, "=3D");
		else if (*p == ',')
			buf_puts(out, "=2C");
		else
			buf_putc(out, *p);
	}
}

int sasl_start(struct sasl *s, unsigned mech, const char *user, const char *pass,
	       struct buf *line, struct buf *shown, struct buf *err)
{
	return sasl_start_nonce(s, mech, user, pass, NULL, line, shown, err);
}

int sasl_start_nonce(struct sasl *s, unsigned mech, const char *user, const char *pass,
		     const char *nonce_given, struct buf *line, struct buf *shown,
		     struct buf *err)
{
	sasl_clear(s);
	s->mech = mech;
	s->user = user;
	s->pass = pass;
	if (strlen(user) > SASL_MAX_CRED || strlen(pass) > SASL_MAX_CRED) {
		buf_printf(err, "user name or password longer than %d bytes", SASL_MAX_CRED);
		return -1;
	}
	buf_printf(line, "AUTH %s", mech_name(mech));
	buf_printf(shown, "AUTH %s", mech_name(mech));

	if (mech == MECH_PLAIN) {
		struct buf raw;
		buf_init(&raw);
		buf_putc(&raw, '\0');
		buf_puts(&raw, user);
		buf_putc(&raw, '\0');
		buf_puts(&raw, pass);
		buf_putc(line, ' ');
		base64_encode(raw.data, raw.len, line);
		buf_wipe_free(&raw);
		buf_puts(shown, " <redacted>");
		s->step = 1;
		return 0;
	}
	if (is_scram(mech)) {
		if (nonce_given) {
			snprintf(s->cnonce, sizeof s->cnonce, "%s", nonce_given);
		} else {
			unsigned char rnd[24];
			if (RAND_bytes(rnd, sizeof rnd) != 1) {
				buf_puts(err, "no random bytes for the SCRAM nonce");
				return -1;
			}
			struct buf nonce;
			buf_init(&nonce);
			base64_encode(rnd, sizeof rnd, &nonce);
			snprintf(s->cnonce, sizeof s->cnonce, "%s", buf_cstr(&nonce));
			buf_free(&nonce);
		}
		buf_puts(&s->client_first_bare, "n=");
		scram_name(&s->client_first_bare, user);
		buf_printf(&s->client_first_bare, ",r=%s", s->cnonce);
		struct buf first;
		buf_init(&first);
		buf_puts(&first, "n,,");
		buf_append(&first, s->client_first_bare.data, s->client_first_bare.len);
		buf_putc(line, ' ');
		base64_encode(first.data, first.len, line);
		buf_free(&first);
		buf_puts(shown, " <redacted>");
		s->step = 1;
		return 0;
	}
	if (mech == MECH_LOGIN || mech == MECH_CRAM_MD5)
		return 0; /* the server speaks first */
	buf_printf(err, "mechanism %s is not supported", mech_name(mech));
	return -1;
}

/* Value of attribute c ("r", "s", "i", "v", "e") in a SCRAM message. */
static bool scram_attr(const char *msg, char c, const char **val, size_t *len)
{
	const char *p = msg;
	while (*p) {
		if (p[0] == c && p[1] == '=') {
			*val = p + 2;
			*len = strcspn(p + 2, ",");
			return true;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return false;
}

static int scram_final(struct sasl *s, const char *server_first, struct buf *line,
		       struct buf *err)
{
	const EVP_MD *md = scram_md(s->mech);
	int hlen = EVP_MD_get_size(md);
	const char *r, *salt64, *iv;
	size_t rlen, slen, ilen;
	if (!scram_attr(server_first, 'r', &r, &rlen) ||
	    !scram_attr(server_first, 's', &salt64, &slen) ||
	    !scram_attr(server_first, 'i', &iv, &ilen)) {
		buf_puts(err, "malformed SCRAM server-first message");
		return -1;
	}
	size_t cn = strlen(s->cnonce);
	if (rlen <= cn || strncmp(r, s->cnonce, cn) != 0) {
		buf_puts(err, "the SCRAM server nonce does not extend ours");
		return -1;
	}
	char ibuf[16];
	if (ilen == 0 || ilen >= sizeof ibuf) {
		buf_puts(err, "bad SCRAM iteration count");
		return -1;
	}
	memcpy(ibuf, iv, ilen);
	ibuf[ilen] = '\0';
	char *end;
	long iter = strtol(ibuf, &end, 10);
	/* A hostile server could ask for hours of PBKDF2: cap it. */
	if (*end || iter < 1 || iter > 1000000) {
		buf_printf(err, "SCRAM iteration count %s out of range", ibuf);
		return -1;
	}
	struct buf salt64z, salt;
	buf_init(&salt64z);
	buf_init(&salt);
	buf_append(&salt64z, salt64, slen);
	int bad = base64_decode(buf_cstr(&salt64z), &salt);
	buf_free(&salt64z);
	if (bad || salt.len == 0) {
		buf_free(&salt);
		buf_puts(err, "bad SCRAM salt");
		return -1;
	}

	unsigned char salted[EVP_MAX_MD_SIZE], client_key[EVP_MAX_MD_SIZE],
		stored_key[EVP_MAX_MD_SIZE], client_sig[EVP_MAX_MD_SIZE],
		server_key[EVP_MAX_MD_SIZE], proof[EVP_MAX_MD_SIZE];
	unsigned int n;
	int ok = PKCS5_PBKDF2_HMAC(s->pass, (int)strlen(s->pass), (unsigned char *)salt.data,
				   (int)salt.len, (int)iter, md, hlen, salted);
	buf_free(&salt);

	struct buf without_proof, auth_msg;
	buf_init(&without_proof);
	buf_init(&auth_msg);
	buf_puts(&without_proof, "c=biws,r=");
	buf_append(&without_proof, r, rlen);
	buf_append(&auth_msg, s->client_first_bare.data, s->client_first_bare.len);
	buf_putc(&auth_msg, ',');
	buf_puts(&auth_msg, server_first);
	buf_putc(&auth_msg, ',');
	buf_append(&auth_msg, without_proof.data, without_proof.len);

	ok = ok && HMAC(md, salted, hlen, (const unsigned char *)"Client Key", 10, client_key, &n);
	ok = ok && EVP_Digest(client_key, (size_t)hlen, stored_key, &n, md, NULL);
	ok = ok && HMAC(md, stored_key, hlen, (unsigned char *)auth_msg.data, auth_msg.len,
			client_sig, &n);
	ok = ok && HMAC(md, salted, hlen, (const unsigned char *)"Server Key", 10, server_key, &n);
	ok = ok && HMAC(md, server_key, hlen, (unsigned char *)auth_msg.data, auth_msg.len,
			s->server_signature, &n);
	s->sig_len = (size_t)hlen;
	for (int i = 0; i < hlen; i++)
		proof[i] = client_key[i] ^ client_sig[i];

	struct buf final;
	buf_init(&final);
	buf_append(&final, without_proof.data, without_proof.len);
	buf_puts(&final, ",p=");
	base64_encode(proof, (size_t)hlen, &final);
	base64_encode(final.data, final.len, line);

	OPENSSL_cleanse(salted, sizeof salted);
	OPENSSL_cleanse(client_key, sizeof client_key);
	OPENSSL_cleanse(stored_key, sizeof stored_key);
	OPENSSL_cleanse(client_sig, sizeof client_sig);
	OPENSSL_cleanse(server_key, sizeof server_key);
	OPENSSL_cleanse(proof, sizeof proof);
	buf_wipe_free(&final);
	buf_free(&without_proof);
	buf_free(&auth_msg);
	if (!ok) {
		buf_puts(err, "the SCRAM computation failed");
		return -1;
	}
	return 0;
}

static int scram_verify(struct sasl *s, const char *server_final, struct buf *err)
{
	const char *v;
	size_t vlen;
	if (scram_attr(server_final, 'e', &v, &vlen)) {
		buf_printf(err, "the server ended SCRAM with an error: %.*s", (int)vlen, v);
		return -1;
	}
	if (!scram_attr(server_final, 'v', &v, &vlen)) {
		buf_puts(err, "malformed SCRAM server-final message");
		return -1;
	}
	struct buf v64, sig;
	buf_init(&v64);
	buf_init(&sig);
	buf_append(&v64, v, vlen);
	int bad = base64_decode(buf_cstr(&v64), &sig);
	bool match = !bad && sig.len == s->sig_len &&
		     CRYPTO_memcmp(sig.data, s->server_signature, s->sig_len) == 0;
	buf_free(&v64);
	buf_free(&sig);
	if (!match) {
		buf_puts(err, "the server's SCRAM signature is wrong: it does not know the "
			 "password (a man in the middle?)");
		return -1;
	}
	s->server_verified = true;
	return 0;
}

int sasl_step(struct sasl *s, const char *challenge, struct buf *line,
	      struct buf *shown, struct buf *err)
{
	struct buf dec;
	buf_init(&dec);
	if (base64_decode(challenge, &dec) != 0) {
		buf_free(&dec);
		buf_puts(err, "the server's challenge is not valid base64");
		return -1;
	}
	int rc = 0;
	buf_puts(shown, "<redacted>");
	switch (s->mech) {
	case MECH_PLAIN: {
		/* A server that ignored the initial response asks again. */
		struct buf raw;
		buf_init(&raw);
		buf_putc(&raw, '\0');
		buf_puts(&raw, s->user);
		buf_putc(&raw, '\0');
		buf_puts(&raw, s->pass);
		base64_encode(raw.data, raw.len, line);
		buf_wipe_free(&raw);
		break;
	}
	case MECH_LOGIN:
		if (s->step == 0)
			base64_encode(s->user, strlen(s->user), line);
		else if (s->step == 1)
			base64_encode(s->pass, strlen(s->pass), line);
		else {
			buf_puts(err, "the server asked for more than user name and password");
			rc = -1;
		}
		break;
	case MECH_CRAM_MD5: {
		if (s->step != 0 || dec.len == 0) {
			buf_puts(err, "unexpected CRAM-MD5 challenge");
			rc = -1;
			break;
		}
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int n = 0;
		if (!HMAC(EVP_md5(), s->pass, (int)strlen(s->pass), (unsigned char *)dec.data,
			  dec.len, mac, &n)) {
			buf_puts(err, "HMAC-MD5 is not available");
			rc = -1;
			break;
		}
		struct buf resp;
		buf_init(&resp);
		buf_puts(&resp, s->user);
		buf_putc(&resp, ' ');
		for (unsigned int i = 0; i < n; i++)
			buf_printf(&resp, "%02x", mac[i]);
		base64_encode(resp.data, resp.len, line);
		OPENSSL_cleanse(mac, sizeof mac);
		buf_wipe_free(&resp);
		break;
	}
	case MECH_SCRAM_SHA_1:
	case MECH_SCRAM_SHA_256:
		if (s->step == 1) {
			rc = scram_final(s, buf_cstr(&dec), line, err);
		} else if (s->step == 2) {
			/* server-final: verify, answer with an empty line. */
			rc = scram_verify(s, buf_cstr(&dec), err);
			buf_reset(shown);
			buf_puts(shown, "(empty)");
		} else {
			buf_puts(err, "unexpected SCRAM step");
			rc = -1;
		}
		break;
	default:
		buf_puts(err, "unexpected challenge");
		rc = -1;
	}
	buf_wipe_free(&dec);
	s->step++;
	return rc;
}

bool sasl_server_verified(const struct sasl *s)
{
	return !is_scram(s->mech) || s->server_verified;
}

void sasl_clear(struct sasl *s)
{
	buf_wipe_free(&s->client_first_bare);
	OPENSSL_cleanse(s->server_signature, sizeof s->server_signature);
	memset(s, 0, sizeof *s);
	buf_init(&s->client_first_bare);
}
