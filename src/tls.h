/*
 * tls.h - OpenSSL for the probe: one client context per run, a session
 * per connection with SNI and host-name verification, and the facts of a
 * finished handshake (version, cipher, certificate, every verification
 * problem) copied into a tls_result.
 *
 * The context accepts any certificate so the handshake completes and the
 * session can go on to show the AUTH list; what was wrong with the chain
 * is recorded, not enforced: deciding is diagnosis's job.
 */
#ifndef SMTPCHECK_TLS_H
#define SMTPCHECK_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/ssl.h>

#include "result.h"
#include "util.h"

/* NULL on failure, with a reason in err. ca_file NULL: system store. */
SSL_CTX *tls_ctx_new(const char *ca_file, struct buf *err);

/*
 * A client session on fd that will verify host (a name or an IP
 * literal). NULL on failure.
 */
SSL *tls_session_new(SSL_CTX *ctx, int fd, const char *host);

/* Copy version, cipher, verification result and certificate facts. */
void tls_collect(SSL *ssl, struct tls_result *t, struct arena *a);

/*
 * Describe why an OpenSSL call failed (SSL_get_error's ret, the error
 * queue, errno), in words for the report. Clears the error queue.
 */
char *tls_describe_error(SSL *ssl, int ret, struct arena *a);

/*
 * Keep OpenSSL from reading the socket: its first read would take clear
 * text ("HTTP/", "SSH-2") for a record header before we could look at it.
 * The ClientHello still goes out; reads say "try again" until
 * tls_release_reads() hands the socket back, once a peek saw TLS.
 */
void tls_hold_reads(SSL *ssl);
bool tls_release_reads(SSL *ssl, int fd);

struct dns_answer;

/*
 * DANE (RFC 6698, RFC 7672), after a handshake whose chain was verified
 * the usual way (CA store, host name): check the peer's chain against the
 * TLSA records of tlsa (a NOERROR answer with records) and fill in the
 * dane_* fields of res. The records bind only when DNSSEC validated them:
 * with the resolver's AD bit (and a usable record) the DANE verdict
 * replaces the CA verdict in res->tls, which keeps the latter in
 * pkix_verified; without it res->tls is left as it was and the match is
 * information only. A DANE-EE (usage 3) record is not checked against the
 * host name (RFC 7672 3.1.1).
 */
void tls_dane_check(SSL *ssl, const char *host, const struct dns_answer *tlsa,
		    struct port_result *res, struct arena *a);

/* True if b looks like the first byte of a TLS record. */
bool tls_record_byte(unsigned char b);

#endif
