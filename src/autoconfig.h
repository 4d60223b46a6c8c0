/*
 * autoconfig.h - what a current Thunderbird's automatic account setup
 * would pick for this server when it has to guess, and whether that
 * choice works or is weaker than what the server offers.
 *
 * The rules are Thunderbird's (GuessConfig, read in its source; see
 * data/thunderbird-autoconfig.txt): candidates SSL/TLS 465, STARTTLS 587,
 * STARTTLS 25, plain 587, plain 25, encrypted before plain and SSL/TLS
 * before STARTTLS; an SSL/TLS candidate needs a certificate that
 * verifies; a STARTTLS candidate only needs "STARTTLS" in the plain EHLO
 * (it never upgrades); any other answer counts; the AUTH method comes from
 * that same EHLO: GSSAPI, then CRAM-MD5 ("Encrypted password"), then NTLM,
 * else "Normal password"; the user name starts as the part before the @.
 * A TLS version older than Thunderbird accepts (its "tls-min" in the
 * knowledge base) fails the candidate, or the sending after it.
 * Pure code over the probe results and the embedded knowledge base.
 */
#ifndef SMTPCHECK_AUTOCONFIG_H
#define SMTPCHECK_AUTOCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "diagnose.h"
#include "result.h"

#define TB_MAX_NOTES 6

struct tb_guess {
	bool applicable;         /* false: DNS names the servers (SRV) */
	const char *server;      /* the host name it would settle on */
	bool decided;            /* some candidate answers on this host */
	int port;
	enum security security;
	const char *auth;        /* Thunderbird's label for the method */
	bool works;              /* the probe found this setting working */
	bool weaker;             /* in clear while an encrypted path works, or on
				    port 25 while another port works as well */
	const char *verdict;     /* one sentence */
	const char *notes[TB_MAX_NOTES];
	size_t nnotes;
};

struct kb_program;

/*
 * thunderbird: its knowledge-base entry, for the oldest TLS it accepts
 * ("tls-min"); NULL when not at hand (no TLS floor applied).
 */
void tb_guess(const struct host_result *h, const struct diagnosis *d,
	      const struct kb_program *thunderbird, struct arena *a, struct tb_guess *g);

#endif
