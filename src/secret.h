/*
 * secret.h - the password for -u: where it may come from (never argv),
 * and how long it lives.
 *
 * Sources, first match wins: --password-file FILE (its first line), the
 * environment variable SMTPCHECK_PASSWORD (removed from the environment
 * and overwritten at start-up, used or not), a prompt on the terminal
 * with echo off.
 * While a password is held the process cannot dump core and is not
 * ptrace-able by other users; secret_wipe() clears it with
 * OPENSSL_cleanse.
 */
#ifndef SMTPCHECK_SECRET_H
#define SMTPCHECK_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct secret {
	char *value;       /* NUL-terminated, NULL when none */
	size_t cap;
	const char *source;  /* "--password-file", "SMTPCHECK_PASSWORD", "terminal" */
};

/*
 * Load the password for user. Returns 0, or -1 with a reason in err (no
 * source, unreadable file, empty password, too long, nothing to read from
 * password_file within wait_s seconds: a pipe or FIFO nobody writes).
 */
int secret_load(struct secret *s, const char *user, const char *password_file,
		double wait_s, struct buf *err);
void secret_wipe(struct secret *s);

/*
 * Called first thing in main: when SMTPCHECK_PASSWORD is set, copy it,
 * overwrite and remove it from the environment, and harden the process
 * (no core dumps, not ptrace-able), whether or not a login follows.
 * secret_load() uses the copy; secret_drop_env() wipes it when no login
 * follows. secret_env_held() says whether a non-empty one was there.
 */
void secret_take_env(void);
bool secret_env_held(void);
void secret_drop_env(void);

#endif
