/*
 * address.h - e-mail addresses and user names as the probe uses them:
 * checking an envelope address or domain the user typed, and the other
 * form of a user name (local@domain <-> local) for the retry after 535.
 * Pure code, fuzzed (tests/fuzz/fuzz_address.c).
 */
#ifndef SMTPCHECK_ADDRESS_H
#define SMTPCHECK_ADDRESS_H

#include <stdbool.h>

/* A DNS domain: labels of letters, digits and hyphens, at most 253. */
bool domain_valid(const char *d);

/*
 * An envelope address as sent in MAIL FROM / RCPT TO: local@domain, the
 * local part printable ASCII without spaces or angle brackets. The empty
 * address (the null sender) only when may_be_empty.
 */
bool address_valid(const char *a, bool may_be_empty);

/*
 * The other form of a user name: "local" for "local@domain"; for a bare
 * name, name@domain when domain is given. NULL when there is none.
 * The result is malloc'd.
 */
char *username_other_form(const char *user, const char *domain);

/* The envelope sender: the user when it is an address, user@domain, or "". */
char *envelope_sender_for(const char *from, const char *user, const char *domain);

#endif
