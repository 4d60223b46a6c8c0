/*
 * secret.h - the password for -u: where it may come from (never argv),
 * and how long it lives.
 *
 * Sources, first match wins: --password-file FILE (its first line), the
 * environment variable SMTPCHECK_PASSWORD (removed from the environment
 * and overwritten once read), a prompt on the terminal with echo off.
 * While a password is held the process cannot dump core and is not
 * ptrace-able by other users; secret_wipe() clears it with
 * OPENSSL_cleanse.
 */
#ifndef SMTPCHECK_SECRET_H
#define SMTPCHECK_SECRET_H

#include <stddef.h>

#include "util.h"

struct secret {
	char *value;       /* NUL-terminated, NULL when none */
	size_t cap;
	const char *source;  /* "--password-file", "SMTPCHECK_PASSWORD", "terminal" */
};

/*
 * Load the password for user. Returns 0, or -1 with a reason in err (no
 * source, unreadable file, empty password, too long).
 */
int secret_load(struct secret *s, const char *user, const char *password_file,
		struct buf *err);
void secret_wipe(struct secret *s);

#endif
