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
 * DANE (RFC 6698, RFC 7672): give OpenSSL the TLSA records before the
 * handshake. Returns how many records it could use.
 */
size_t tls_dane_setup(SSL *ssl, const char *host, const struct dns_answer *tlsa);

/* After the handshake: did a TLSA record match the chain, and which. */
void tls_dane_result(SSL *ssl, const struct dns_answer *tlsa, size_t usable,
		     struct port_result *res, struct arena *a);

/* True if b looks like the first byte of a TLS record. */
bool tls_record_byte(unsigned char b);

#endif
