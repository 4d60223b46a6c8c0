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
	VERIFY_OTHER = 1u << 5
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
	bool verified;         /* chain and name both good */
	unsigned verify_flags; /* enum verify_flag */
	char *verify_error;    /* OpenSSL's words for the first problem */
	char *error;           /* why the handshake failed */
	struct cert_info cert;
	char *injected;        /* plaintext after the STARTTLS 220, escaped */
	size_t injected_len;
};

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

	/* The reply that stopped the session, if one did (421, 554, ...). */
	int stop_code;
	char stop_enhanced[16];
	char *stop_text;
	int stop_state;

	bool reply_bare_lf;            /* a reply line ended in bare LF */
	bool reply_overlong;           /* a reply line over 512 octets */

	uint64_t timing_us[PH_COUNT];
	bool timed[PH_COUNT];
	uint64_t total_us;

	struct transcript transcript;
};

/* What was learnt about one host: its addresses and every port tried. */
struct host_result {
	char *name;                    /* as given on the command line */
	bool dns_ok;
	int dns_status;                /* c-ares status, ARES_SUCCESS if ok */
	char *dns_error;               /* sentence naming the query */
	uint64_t dns_us;
	char **addrs;                  /* textual addresses probed */
	size_t naddrs;
	struct port_result *ports;     /* address-major, then port order */
	size_t nports;
	uint64_t elapsed_us;
	long long started_unix;        /* wall clock, for the report header */
};

void port_result_free(struct port_result *r);
void host_result_free(struct host_result *h);

/* The capabilities the session ended with (after TLS if it got there). */
const struct ehlo_caps *port_result_final_caps(const struct port_result *r);

#endif
