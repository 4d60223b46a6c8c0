/*
 * fuzz_address.c - libFuzzer harness for user-name and address handling:
 * the input is split at the first newline into a user name and a domain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	char *domain = strchr(s, '\n');
	if (domain)
		*domain++ = '\0';
	(void)address_valid(s, true);
	(void)address_valid(s, false);
	if (domain)
		(void)domain_valid(domain);
	char *other = username_other_form(s, domain);
	if (other) {
		/* The other form of the other form is not longer than both. */
		if (strlen(other) > strlen(s) + (domain ? strlen(domain) : 0) + 1)
			abort();
		free(other);
	}
	char *sender = envelope_sender_for(NULL, s, domain);
	free(sender);
	free(s);
	return 0;
}
