/*
 * ehlo.h - what a server says it can do: the EHLO reply turned into a
 * capability set (RFC 5321 4.1.1.1, RFC 4954 for AUTH).
 *
 * Pure code. The first reply line is the server's name and greeting text;
 * every other line is a keyword with parameters. AUTH mechanisms are kept
 * both as a bitmask (for decisions) and in the order the server listed
 * them (for the report).
 */
#ifndef SMTPCHECK_EHLO_H
#define SMTPCHECK_EHLO_H

#include <stdbool.h>
#include <stddef.h>

#include "reply.h"

enum ehlo_cap {
	CAP_STARTTLS = 1u << 0,
	CAP_AUTH = 1u << 1,
	CAP_PIPELINING = 1u << 2,
	CAP_SIZE = 1u << 3,
	CAP_8BITMIME = 1u << 4,
	CAP_SMTPUTF8 = 1u << 5,
	CAP_CHUNKING = 1u << 6,
	CAP_ENHANCEDSTATUSCODES = 1u << 7,
	CAP_DSN = 1u << 8,
	CAP_REQUIRETLS = 1u << 9,
	CAP_AUTH_LEGACY = 1u << 10   /* the pre-RFC "AUTH=LOGIN" form */
};

enum sasl_mech {
	MECH_PLAIN = 1u << 0,
	MECH_LOGIN = 1u << 1,
	MECH_CRAM_MD5 = 1u << 2,
	MECH_DIGEST_MD5 = 1u << 3,
	MECH_SCRAM_SHA_1 = 1u << 4,
	MECH_SCRAM_SHA_256 = 1u << 5,
	MECH_SCRAM_SHA_1_PLUS = 1u << 6,
	MECH_SCRAM_SHA_256_PLUS = 1u << 7,
	MECH_NTLM = 1u << 8,
	MECH_GSSAPI = 1u << 9,
	MECH_XOAUTH2 = 1u << 10,
	MECH_OAUTHBEARER = 1u << 11,
	MECH_MSN = 1u << 12,
	MECH_EXTERNAL = 1u << 13,
	MECH_ANONYMOUS = 1u << 14
};

#define EHLO_MAX_MECHS 32
#define EHLO_MAX_EXTS 64

struct ehlo_caps {
	bool valid;                 /* a 250 EHLO reply was parsed */
	unsigned caps;              /* enum ehlo_cap bits */
	unsigned mechs;             /* enum sasl_mech bits, known ones */
	unsigned long size;         /* SIZE parameter, 0 if none given */
	size_t nmech;
	char mech_names[EHLO_MAX_MECHS][24];  /* as listed, upper-cased */
	size_t next;
	char *exts[EHLO_MAX_EXTS];  /* keyword lines as sent (owned) */
	char *server_name;          /* first word of the first line (owned) */
};

/* Parse a 250 EHLO reply. Returns false if the reply is not a 250. */
bool ehlo_parse(const struct reply *r, struct ehlo_caps *c);
void ehlo_caps_free(struct ehlo_caps *c);
void ehlo_caps_copy(struct ehlo_caps *dst, const struct ehlo_caps *src);

/* The bit for a mechanism name (case-insensitive), 0 if unknown. */
unsigned sasl_mech_bit(const char *name);
const char *sasl_mech_name(unsigned bit);

#endif
