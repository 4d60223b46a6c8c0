/*
 * config.h - what the user asked for, parsed from the command line.
 *
 * options_parse() never touches the network or reads a file, so it is
 * unit-tested directly; options_read_hosts() then reads the -f list, with
 * the run's deadline.
 */
#ifndef SMTPCHECK_CONFIG_H
#define SMTPCHECK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "range.h"
#include "result.h"
#include "util.h"

#define MAX_PORTS 16

struct port_spec {
	int port;
	enum tls_mode mode;
};

struct config {
	char **hosts;
	size_t nhosts;
	size_t caphosts;
	size_t jobs;              /* -j: hosts probed at once */
	const char *hosts_file;   /* -f */

	struct port_spec ports[MAX_PORTS];
	size_t nports;

	int family;               /* AF_UNSPEC, AF_INET or AF_INET6 */
	const char *connect_addr; /* --connect: skip DNS */
	bool discover;            /* --domain without a host: find the servers */
	bool reverse_dns;         /* look up PTR records of the addresses */
	bool no_reverse_dns;      /* --no-reverse-dns */
	double timeout;           /* -t: seconds for the whole run (default 15) */
	double host_timeout;      /* --host-timeout: seconds for each host */
	const char *ca_file;
	struct range cert_warn, cert_crit;   /* days left; default below 30 / 7 */
	struct range warn_time, crit_time;   /* seconds; unset by default */
	const char *ehlo_name;

	/* Credentials and the transaction steps (the password is not here:
	 * see secret.h). */
	const char *user;
	const char *address_user;   /* the one USER@DOMAIN given, -u not given */
	const char *password_file;
	const char *domain;         /* for the local-part -> address retry */
	const char *mail_from;      /* NULL: derived from the user name */
	const char *rcpt_to;
	bool relay_test;
	bool username_retry;
	bool try_mechanisms;
	bool insecure_auth;
	bool injection_test;        /* --injection-test */
	unsigned auth_mech;         /* --auth-mech, enum sasl_mech bit; 0 = choose */

	const char *explain;        /* --explain TEXT: interpret offline */
	const char *client;         /* --client NAME: steps for this program */
	bool list_clients;          /* --list-clients */
	bool list_findings;         /* --list-findings */

	bool json, brief, verbose, prometheus;
	bool color;               /* decided from isatty and NO_COLOR */
	bool utf8;                /* the terminal's locale is UTF-8 */

	char *argv_shown;         /* the options, for the report header */
};

enum options_result {
	OPTIONS_RUN,      /* go on and probe */
	OPTIONS_EXIT_OK,  /* --help or --version was printed */
	OPTIONS_USAGE,    /* bad usage: message in err, exit UNKNOWN */
	OPTIONS_FAILED    /* cannot go on, not a usage error (the deadline
			   * passed while the -f list was read): message in
			   * err, exit UNKNOWN */
};

enum options_result options_parse(int argc, char **argv, struct config *cfg,
				  struct buf *err);

/*
 * Does the command line ask for --json, spelt as getopt_long takes it
 * (--json, or an unambiguous beginning: --js)? For the error document of
 * a usage error that stops the parse before the option is reached; once
 * the options are parsed, cfg.json says it.
 */
bool options_json_asked(int argc, char **argv);

/*
 * After options_parse() gave OPTIONS_RUN: read the -f list, if one was
 * given, and check what depends on the number of hosts. Reading and
 * parsing end at deadline_us on the monotonic clock (the run's -t), so a
 * FIFO or a terminal that never sends the list cannot hold the run past
 * it; the list may hold at most 16 MB and 100,000 hosts. Returns
 * OPTIONS_RUN, OPTIONS_USAGE (a bad entry, no host, too many hosts) or
 * OPTIONS_FAILED (cannot read, too long, or the deadline came first).
 */
enum options_result options_read_hosts(struct config *cfg, uint64_t deadline_us,
				       struct buf *err);
void config_free(struct config *cfg);

/* Parse "25,465/tls,587/starttls". Returns false with a message in err. */
bool parse_ports(const char *s, struct config *cfg, struct buf *err);

extern const char smtpcheck_version[];

/* The recipient of the relay test: a reserved example domain (RFC 2606). */
#define DEFAULT_RELAY_RCPT "smtpcheck-relay-test@example.com"

#endif
