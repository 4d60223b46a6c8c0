/*
 * session.h - the driver of one port probe: a non-blocking TCP socket,
 * TLS over it when the probe asks, reading into the reply parser and
 * writing commands, all from loop callbacks. It turns what happens on
 * the wire into probe events and carries out the actions the probe
 * returns; it decides nothing about SMTP itself.
 */
#ifndef SMTPCHECK_SESSION_H
#define SMTPCHECK_SESSION_H

#include <stdbool.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "loop.h"
#include "probe.h"
#include "reply.h"
#include "result.h"

/* What the sessions of one run share. */
struct session_env {
	struct loop *loop;
	SSL_CTX *ssl_ctx;
	const char *ehlo_name;     /* NULL: use the local address literal */
	bool trace;                /* keep the transcript (-v) */
	const struct probe_opts *opts;
	bool injection_test;       /* also test STARTTLS ports for CVE-2011-0411 */
};

struct session;
typedef void (*session_done_fn)(void *arg, struct session *s);

struct session {
	const struct session_env *env;
	const char *host;          /* SNI and certificate name */
	struct port_result *res;
	struct arena *arena;
	struct probe probe;
	struct sockaddr_storage addr;
	socklen_t addrlen;

	int fd;
	SSL *ssl;
	bool handshaking;          /* SSL_connect not finished */
	bool tls_checked;          /* first server byte of TLS seen */
	bool want_write;           /* OpenSSL asked for POLLOUT */
	bool got_bytes;            /* the server sent something */
	bool finished;
	struct buf in, out;
	struct reply_parser parser;

	/* A second connection that asks a silent port whether it speaks TLS. */
	struct loop_timer sniff_timer;
	int sniff_fd;
	SSL *sniff_ssl;
	bool sniff_connected;

	/* The wait the probe asked for (probe_action.wait_us). */
	struct loop_timer wait_timer;

	session_done_fn on_done;
	void *done_arg;
	const struct dns_answer *tlsa;
};

/*
 * Start probing addr:port. res must have port, address and family set;
 * it is filled in as the session goes. on_done is called once, from a
 * loop callback, when the session has ended.
 */
struct dns_answer;

/*
 * tlsa: the TLSA answer for this port (port 25 of an MX host), checked
 * against the chain after the handshake when it holds records (see
 * tls_dane_check); NULL otherwise.
 */
void session_start(struct session *s, const struct session_env *env,
		   const char *host, const struct sockaddr *addr, socklen_t len,
		   enum tls_mode mode, struct port_result *res, struct arena *a,
		   const struct dns_answer *tlsa, session_done_fn on_done, void *done_arg);

/* The same for the STARTTLS injection test of a port (see probe.c). */
void session_start_injection(struct session *s, const struct session_env *env,
			     const char *host, const struct sockaddr *addr, socklen_t len,
			     struct port_result *res, struct arena *a,
			     session_done_fn on_done, void *done_arg);

/* The run's deadline came: end the session now, naming its state. */
void session_timeout(struct session *s);

#endif
