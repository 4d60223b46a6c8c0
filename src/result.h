/*
 * result.h - what a probe measured, as plain data.
 *
 * The probe writes these structs; diagnosis and the renderers only read
 * them. Strings are allocated from the host's arena (see util.h), except
 * the capability sets, which own their strings (ehlo_caps_free).
 */
#ifndef SMTPCHECK_RESULT_H
#define SMTPCHECK_RESULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ehlo.h"
#include "util.h"

enum tls_mode {
	MODE_STARTTLS,   /* connect in clear, upgrade with STARTTLS if offered */
	MODE_TLS         /* implicit TLS from the first byte (465) */
};

/* The phases of a session, each timed (JSON timings_ms). */
enum phase {
	PH_CONNECT,
	PH_GREETING,
	PH_EHLO,
	PH_STARTTLS,
	PH_TLS,
	PH_EHLO_TLS,
	PH_AUTH,
	PH_MAIL,
	PH_RCPT,
	PH_QUIT,
	PH_COUNT
};

/*
 * Why a port's session did not complete. The five kinds of OpenSMTPD's
 * client (internal, connection, protocol, missing feature, rejected) are
 * refined where the advice differs.
 */
enum fail_kind {
	FAIL_NONE,
	FAIL_REFUSED,        /* RST on connect: nothing listens */
	FAIL_UNREACHABLE,    /* ICMP unreachable: host or network */
	FAIL_CONNECT,        /* another connect error */
	FAIL_TIMEOUT,        /* the deadline came in some state */
	FAIL_CLOSED,         /* the server closed the connection */
	FAIL_RESET,          /* the server reset the connection */
	FAIL_PROTOCOL,       /* the server's bytes are not valid SMTP */
	FAIL_TLS,            /* the TLS handshake failed */
	FAIL_REJECTED,       /* the server refused (421/554 greeting, 5xx) */
	FAIL_INTERNAL        /* socket(), memory, OpenSSL setup */
};

enum mode_mismatch {
	MISMATCH_NONE,
	MISMATCH_TLS_TO_CLEAR,  /* ClientHello answered by clear text */
	MISMATCH_CLEAR_TO_TLS   /* silent in clear, speaks TLS */
};

/* Certificate verification problems, all of them, not only the first. */
enum verify_flag {
	VERIFY_EXPIRED = 1u << 0,
	VERIFY_NOT_YET_VALID = 1u << 1,
	VERIFY_UNTRUSTED = 1u << 2,     /* no path to a trusted CA */
	VERIFY_SELF_SIGNED = 1u << 3,
	VERIFY_HOSTNAME = 1u << 4,      /* names do not match HOST */
	VERIFY_OTHER = 1u << 5,
	VERIFY_DANE = 1u << 6           /* no TLSA record matches (DANE) */
};

struct cert_info {
	bool present;
	char *subject;
	char *issuer;
	char **names;          /* subjectAltName DNS and IP entries */
	size_t nnames;
	char *not_before;      /* ISO 8601 UTC */
	char *not_after;
	long days_left;        /* negative once expired */
	int key_bits;
	char *key_type;
	char *sig_alg;
};

struct tls_result {
	bool attempted;
	bool ok;               /* handshake completed */
	char *version;         /* "TLSv1.3" */
	char *cipher;
	bool verified;         /* chain and name both good (or DANE, see below) */
	unsigned verify_flags; /* enum verify_flag */
	char *verify_error;    /* OpenSSL's words for the first problem */
	/* When validated TLSA records decided (port_result.dane_authoritative),
	 * what the CA store and the host name alone said. */
	bool pkix_verified;
	char *pkix_error;
	char *error;           /* why the handshake failed */
	struct cert_info cert;
	char *injected;        /* plaintext after the STARTTLS 220, escaped */
	size_t injected_len;
};

/* One AUTH exchange (one user-name form). */
struct auth_attempt {
	char mech[24];
	char *username;
	bool full_address;     /* the name had the form local@domain */
	int code;              /* the final reply: 235, 535, 534, ... */
	char enhanced[16];
	char *text;
	bool ok;
	bool server_verified;  /* SCRAM: the server proved it knows the password */
	char *error;           /* a client-side failure (bad challenge, ...) */
};

enum auth_status {
	AUTH_NOT_TRIED,        /* no credentials given */
	AUTH_TRIED,
	AUTH_SKIPPED_NO_AUTH,  /* the server offered no AUTH */
	AUTH_SKIPPED_NO_MECH,  /* no mechanism in common */
	AUTH_SKIPPED_CLEARTEXT,/* no TLS, and --insecure-auth not given */
	AUTH_SKIPPED_UNVERIFIED,/* TLS, but the certificate does not verify */
	AUTH_SKIPPED_SESSION   /* the session ended before AUTH */
};

/* What --injection-test found on a STARTTLS port. */
enum injection_verdict {
	INJECTION_UNTESTED,    /* no upgrade on the test connection (see error) */
	INJECTION_SAFE,        /* the first reply under TLS answered our QUIT */
	INJECTION_VULNERABLE,  /* another reply came first: the injected HELP's */
	INJECTION_INCONCLUSIVE /* upgraded, but the replies cannot tell */
};

/* --try-mechanisms: AUTH <mech>, then "*" to cancel. */
struct mech_test {
	char mech[24];
	bool before_tls;
	int code;              /* reply to AUTH <mech>: 334 when it works */
	char enhanced[16];
	char *text;
	int cancel_code;       /* reply to "*": 501 */
	bool works;
};

/* MAIL FROM / RCPT TO / RSET, to see whether the server relays. */
struct relay_result {
	bool done;
	bool authenticated;
	int mail_code;
	char mail_enhanced[16];
	char *mail_text;
	int rcpt_code;         /* 0 when RCPT was not reached */
	char rcpt_enhanced[16];
	char *rcpt_text;
	bool accepted;         /* RCPT answered 250/251 */
	bool pipelined;
};

#define MAX_AUTH_ATTEMPTS 2
#define MAX_MECH_TESTS 16

struct transcript_line {
	uint64_t at_us;        /* since the probe started */
	char dir;              /* 'C' client, 'S' server, '*' event */
	char *text;            /* escaped, secrets already redacted */
};

struct transcript {
	struct transcript_line *lines;
	size_t n, cap;
	bool truncated;
};

struct port_result {
	char *server;                  /* the name probed (SNI, certificate) */
	int port;
	enum tls_mode mode;            /* the mode finally spoken */
	enum tls_mode mode_requested;
	char address[64];
	int family;                    /* AF_INET / AF_INET6 */

	bool connected;
	bool completed;                /* the session reached QUIT */
	enum fail_kind fail;
	char *error;                   /* human sentence, NULL when none */
	int fail_state;                /* enum probe_state where it ended */

	int greeting_code;
	char *banner;                  /* greeting text, lines joined by \n */
	uint64_t greeting_wait_us;     /* from connect to the final 220 line */
	bool greeting_teaser;          /* a 220- line came long before the end */

	bool ehlo_ok;
	bool helo_used;                /* EHLO refused, HELO accepted */
	int ehlo_code;
	char *ehlo_error;
	struct ehlo_caps caps_before;  /* clear-text EHLO (STARTTLS mode) */
	struct ehlo_caps caps_after;   /* EHLO under TLS */

	bool starttls_offered;
	int starttls_code;
	char *starttls_text;
	char starttls_enhanced[16];

	struct tls_result tls;

	enum mode_mismatch mismatch;
	char *mismatch_text;           /* what was heard, escaped */
	bool mismatch_cut;             /* it is the first 200 bytes of its line */
	size_t mismatch_len;           /* that line's length, as far as seen */
	bool mismatch_line_whole;      /* its end was seen */

	/* The reply that stopped the session, if one did (421, 554, ...). */
	int stop_code;
	char stop_enhanced[16];
	char *stop_text;
	int stop_state;

	enum auth_status auth_status;
	struct auth_attempt auth[MAX_AUTH_ATTEMPTS];
	size_t nauth;
	int auth_ok_index;             /* index into auth[] that got 235, or -1 */

	struct mech_test mech_tests[MAX_MECH_TESTS];
	size_t nmech_tests;

	struct relay_result relay;       /* without authentication */
	struct relay_result relay_auth;  /* after a successful AUTH */

	/*
	 * --injection-test: STARTTLS with HELP in the same packet, then QUIT
	 * under TLS. The verdict comes from counting the replies under TLS
	 * (probe.c), never from what one code seems to mean.
	 */
	enum injection_verdict injection_verdict;
	int injection_replies;         /* replies under TLS */
	int injection_code;            /* the first of them */
	char *injection_text;
	char *injection_error;         /* why untested, or why inconclusive */

	char *sniff_text;              /* first clear-text line of the TLS sniff */

	/* DANE (port 25 of an MX host with TLSA records) */
	bool dane_checked;
	bool dane_match;
	bool dane_ad;                  /* the TLSA answer had the AD bit */
	bool dane_authoritative;       /* AD and a usable record: DANE set tls.verified */
	size_t dane_usable;            /* TLSA records OpenSSL could use */
	char *dane_detail;             /* which record matched, or why none */

	bool reply_bare_lf;            /* a reply line ended in bare LF */
	bool reply_overlong;           /* a reply line over 512 octets */

	uint64_t timing_us[PH_COUNT];
	bool timed[PH_COUNT];
	uint64_t total_us;

	struct transcript transcript;
};

struct dns_answer;

/* Where a server name came from. */
enum server_source {
	SERVER_GIVEN,      /* on the command line */
	SERVER_SRV,        /* an SRV record (RFC 6186 / RFC 8314) */
	SERVER_GUESS,      /* a usual name (smtp.DOMAIN, mail.DOMAIN) */
	SERVER_MX          /* an MX record */
};

/* A server DNS named that was not probed, and why. */
struct skipped_server {
	char *name;
	const char *why;               /* "smtpcheck probes the first 5 MX hosts ..." */
};

/* A server name probed for a host, and what its lookup gave. */
struct server_result {
	char *name;
	enum server_source source;
	bool asked;                    /* its A/AAAA were asked of DNS */
	bool dns_ok;
	int dns_status;
	char *dns_error;
	uint64_t dns_us;
	char **addrs;
	uint32_t *ttls;
	size_t naddrs;
	struct dns_answer *tlsa;       /* _25._tcp.NAME for an MX host */
};

/* Reverse DNS of an address, and whether it resolves back (FCrDNS). */
struct ptr_result {
	char *address;
	char *name;                    /* NULL when there is no PTR */
	uint32_t ttl;
	int rcode;
	bool forward_checked;
	bool forward_ok;               /* the name resolves to the address */
};

/* What was learnt about one host: its addresses and every port tried. */
struct host_result {
	char *name;                    /* as given on the command line */
	size_t index;                  /* its place among the hosts given */
	bool discovery;                /* a mail domain: servers found in DNS */
	char *domain;
	bool guessed;                  /* no SRV: the servers are a guess */
	bool submission_not_offered;   /* both SRV answers are "." (RFC 6186) */
	bool discovery_failed;         /* no usable answer: dns_error says why */
	bool srv_lookup_failed;        /* an SRV question got no answer (SERVFAIL ...) */
	bool mx_lookup_failed;         /* so did the MX question */
	struct server_result *servers;
	size_t nservers;
	struct skipped_server *mx_not_probed;  /* MX hosts beyond the limits */
	size_t nmx_not_probed;
	struct dns_answer **answers;   /* SRV, MX, TLSA, PTR answers, in order */
	size_t nanswers;
	struct ptr_result *ptrs;
	size_t nptrs;
	char *resolvers;               /* the DNS servers asked, "127.0.0.1" */
	bool dns_ok;
	int dns_status;                /* c-ares status, ARES_SUCCESS if ok */
	char *dns_error;               /* sentence naming the query */
	char **addrs;                  /* textual addresses probed */
	size_t naddrs;
	struct port_result *ports;     /* address-major, then port order */
	size_t nports;
	uint64_t elapsed_us;
	long long started_unix;        /* wall clock, for the report header */
	bool not_probed;               /* the run's deadline came before its turn */
	char *not_probed_why;
};

void port_result_free(struct port_result *r);
void host_result_free(struct host_result *h);

/* The capabilities the session ended with (after TLS if it got there). */
const struct ehlo_caps *port_result_final_caps(const struct port_result *r);

/*
 * Would a mail program accept this port's certificate? Programs verify the
 * CA way only; where validated TLSA records decided tls.verified (DANE, for
 * mail servers), the CAs' verdict is what a program would see.
 */
bool port_result_programs_trust(const struct port_result *r);

#endif
