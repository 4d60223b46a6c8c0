/*
 * dns.h - DNS records beyond addresses: SRV (RFC 6186, RFC 8314), MX,
 * TLSA (RFC 6698) and PTR, with their TTLs, and whether the resolver set
 * the AD bit.
 *
 * c-ares sends the queries (on the run's event loop); the answers are
 * parsed here, in pure code, from the raw message, so every record type is
 * read the same way and its TTL is kept. c-ares does not validate DNSSEC:
 * the AD bit only says that the resolver claims it validated.
 */
#ifndef SMTPCHECK_DNS_H
#define SMTPCHECK_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "resolve.h"
#include "util.h"

enum {
	DNS_T_A = 1,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_AAAA = 28,
	DNS_T_SRV = 33,
	DNS_T_TLSA = 52
};

/* DNS response codes, and our own for "no answer at all". */
enum {
	DNS_NOERROR = 0,
	DNS_FORMERR = 1,
	DNS_SERVFAIL = 2,
	DNS_NXDOMAIN = 3,
	DNS_REFUSED = 5,
	DNS_NO_ANSWER = 1000,     /* timeout, no server, cancelled */
	DNS_BAD_ANSWER = 1001     /* the message could not be parsed */
};

struct dns_record {
	int type;
	uint32_t ttl;
	char *name;              /* owner name */
	/* SRV and MX */
	uint16_t priority, weight, port;
	char *target;            /* SRV/MX target, PTR name */
	/* TLSA */
	uint8_t usage, selector, mtype;
	unsigned char *data;
	size_t datalen;
};

struct dns_answer {
	char *qname;
	int qtype;
	int rcode;               /* DNS_NOERROR ... or DNS_NO_ANSWER */
	bool ad;                 /* the resolver set Authenticated Data */
	char *error;             /* c-ares's words when there was no answer */
	int status;              /* c-ares's status then (ARES_ETIMEOUT, ...), else 0 */
	struct dns_record *records;
	size_t nrecords;
	uint64_t elapsed_us;
};

/*
 * Parse a raw DNS response for records of qtype. Returns false (rcode
 * DNS_BAD_ANSWER) when the message is malformed. Strings from arena.
 */
bool dns_parse(const unsigned char *msg, size_t len, int qtype, struct arena *a,
	       struct dns_answer *out);

typedef void (*dns_done_fn)(void *arg, struct dns_answer *ans);

/*
 * Ask for qname/qtype with the AD bit set (so a validating resolver
 * reports its verdict) and EDNS. The answer is allocated from a and
 * handed to fn once.
 */
void dns_query(struct resolver *r, const char *qname, int qtype, struct arena *a,
	       dns_done_fn fn, void *arg);

/* "_25._tcp.mx.example.net", "1.0.0.127.in-addr.arpa", ... */
char *dns_ptr_name(const char *address, struct arena *a);

const char *dns_type_name(int type);
const char *dns_rcode_name(int rcode);
/* "NXDOMAIN, the name does not exist": the code and what it means. */
const char *dns_rcode_sentence(int rcode);

/*
 * The question got no answer we can use (SERVFAIL, REFUSED, FORMERR, a
 * timeout, a malformed reply): what DNS holds is unknown. NOERROR (with or
 * without records) and NXDOMAIN are answers. False for NULL.
 */
bool dns_answer_failed(const struct dns_answer *a);

/* "10 mx.example.net", "0 1 587 mail.example.net", "3 1 1 ab12..." */
char *dns_record_text(const struct dns_record *r, struct arena *a);

#endif
