/*
 * ehlo.c - EHLO reply to capability set.
 */
#include "ehlo.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} mech_table[] = {
	{ "PLAIN", MECH_PLAIN },
	{ "LOGIN", MECH_LOGIN },
	{ "CRAM-MD5", MECH_CRAM_MD5 },
	{ "DIGEST-MD5", MECH_DIGEST_MD5 },
	{ "SCRAM-SHA-1", MECH_SCRAM_SHA_1 },
	{ "SCRAM-SHA-256", MECH_SCRAM_SHA_256 },
	{ "SCRAM-SHA-1-PLUS", MECH_SCRAM_SHA_1_PLUS },
	{ "SCRAM-SHA-256-PLUS", MECH_SCRAM_SHA_256_PLUS },
	{ "NTLM", MECH_NTLM },
	{ "GSSAPI", MECH_GSSAPI },
	{ "XOAUTH2", MECH_XOAUTH2 },
	{ "OAUTHBEARER", MECH_OAUTHBEARER },
	{ "MSN", MECH_MSN },
	{ "EXTERNAL", MECH_EXTERNAL },
	{ "ANONYMOUS", MECH_ANONYMOUS },
};

static const struct {
	const char *keyword;
	unsigned bit;
} cap_table[] = {
	{ "STARTTLS", CAP_STARTTLS },
	{ "AUTH", CAP_AUTH },
	{ "PIPELINING", CAP_PIPELINING },
	{ "SIZE", CAP_SIZE },
	{ "8BITMIME", CAP_8BITMIME },
	{ "SMTPUTF8", CAP_SMTPUTF8 },
	{ "CHUNKING", CAP_CHUNKING },
	{ "ENHANCEDSTATUSCODES", CAP_ENHANCEDSTATUSCODES },
	{ "DSN", CAP_DSN },
	{ "REQUIRETLS", CAP_REQUIRETLS },
};

unsigned sasl_mech_bit(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(mech_table); i++)
		if (!ascii_casecmp(name, mech_table[i].name))
			return mech_table[i].bit;
	return 0;
}

const char *sasl_mech_name(unsigned bit)
{
	for (size_t i = 0; i < ARRAY_LEN(mech_table); i++)
		if (mech_table[i].bit == bit)
			return mech_table[i].name;
	return "?";
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static void add_mech(struct ehlo_caps *c, const char *w, size_t n)
{
	char name[24];
	if (n == 0 || n >= sizeof name)
		return;
	for (size_t i = 0; i < n; i++) {
		char ch = w[i];
		name[i] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
	}
	name[n] = '\0';
	for (size_t i = 0; i < c->nmech; i++)
		if (!strcmp(c->mech_names[i], name))
			return;
	if (c->nmech == EHLO_MAX_MECHS)
		return;
	memcpy(c->mech_names[c->nmech++], name, n + 1);
	c->mechs |= sasl_mech_bit(name);
}

/* Mechanism names are SASL names: upper-case letters, digits, '-', '_'. */
static void parse_mechs(struct ehlo_caps *c, const char *s)
{
	while (*s) {
		while (is_space(*s))
			s++;
		const char *w = s;
		while (*s && !is_space(*s))
			s++;
		add_mech(c, w, (size_t)(s - w));
	}
}

bool ehlo_parse(const struct reply *r, struct ehlo_caps *c)
{
	memset(c, 0, sizeof *c);
	if (!r || r->code != 250 || r->nlines == 0)
		return false;
	c->valid = true;

	const char *first = r->lines[0];
	size_t n = strcspn(first, " \t");
	c->server_name = xcalloc(1, n + 1);
	memcpy(c->server_name, first, n);

	for (size_t i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i];
		if (c->next < EHLO_MAX_EXTS)
			c->exts[c->next++] = xstrdup(l);
		size_t kw = 0;
		while (l[kw] && !is_space(l[kw]) && l[kw] != '=')
			kw++;
		for (size_t j = 0; j < ARRAY_LEN(cap_table); j++) {
			if (strlen(cap_table[j].keyword) == kw &&
			    !ascii_ncasecmp(l, cap_table[j].keyword, kw))
				c->caps |= cap_table[j].bit;
		}
		if (kw == 4 && !ascii_ncasecmp(l, "AUTH", 4)) {
			if (l[4] == '=')
				c->caps |= CAP_AUTH_LEGACY | CAP_AUTH;
			parse_mechs(c, l + 5 - (l[4] == '\0'));
		} else if (kw == 4 && !ascii_ncasecmp(l, "SIZE", 4) && l[4]) {
			c->size = strtoul(l + 5, NULL, 10);
		}
	}
	return true;
}

void ehlo_caps_free(struct ehlo_caps *c)
{
	for (size_t i = 0; i < c->next; i++)
		free(c->exts[i]);
	free(c->server_name);
	memset(c, 0, sizeof *c);
}

void ehlo_caps_copy(struct ehlo_caps *dst, const struct ehlo_caps *src)
{
	*dst = *src;
	for (size_t i = 0; i < src->next; i++)
		dst->exts[i] = xstrdup(src->exts[i]);
	dst->server_name = src->server_name ? xstrdup(src->server_name) : NULL;
}
