/*
 * address.c - address and user-name forms (see address.h).
 */
#include "address.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

bool domain_valid(const char *d)
{
	size_t n = strlen(d), label = 0;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = d[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-') || ++label > 63)
			return false;
	}
	return label > 0;
}

bool address_valid(const char *a, bool may_be_empty)
{
	if (!*a)
		return may_be_empty;
	if (strlen(a) > 254)
		return false;
	const char *at = strrchr(a, '@');
	if (!at || at == a || !domain_valid(at + 1))
		return false;
	for (const char *p = a; p < at; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

char *username_other_form(const char *user, const char *domain)
{
	const char *at = strrchr(user, '@');
	if (at) {
		if (at == user)
			return NULL;
		size_t n = (size_t)(at - user);
		char *local = xmalloc(n + 1);
		memcpy(local, user, n);
		local[n] = '\0';
		return local;
	}
	if (!domain || !*domain || !*user)
		return NULL;
	size_t n = strlen(user) + 1 + strlen(domain) + 1;
	char *full = xmalloc(n);
	snprintf(full, n, "%s@%s", user, domain);
	return full;
}

char *envelope_sender_for(const char *from, const char *user, const char *domain)
{
	if (from)
		return xstrdup(from);
	if (user && strchr(user, '@'))
		return xstrdup(user);
	if (user && domain) {
		size_t n = strlen(user) + strlen(domain) + 2;
		char *s = xmalloc(n);
		snprintf(s, n, "%s@%s", user, domain);
		return s;
	}
	return xstrdup("");
}
