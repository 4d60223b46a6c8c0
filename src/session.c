/*
 * session.c - wire-level driver of a port probe (see session.h).
 *
 * Manners kept here, because they are about bytes and timing:
 *  - nothing is written before the probe has a complete greeting (the
 *    probe only asks to send in answer to a complete reply);
 *  - every command leaves in one write, with TCP_NODELAY, so no delayed
 *    ACK waits between small segments;
 *  - after a STARTTLS 220, every clear-text byte that follows is thrown
 *    away and recorded, never parsed as a reply (CVE-2011-0411 class);
 *  - QUIT is sent and the socket closed without waiting for the 221;
 *    unread input is drained first so the close is a FIN, not a RST.
 */
#include "session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "dns.h"
#include "tls.h"

/* How long a clear-text port may stay silent before we ask it for TLS. */
#define SNIFF_DELAY_US 2000000u
/* Clear text we skip after STARTTLS before we call the handshake broken. */
#define MAX_INJECTED 4096

static void pump(struct session *s);
static void dispatch(struct session *s, enum probe_event_kind ev,
		     const struct reply *r);
static void on_io(void *arg, int fd, unsigned events);
static void start_connect(struct session *s);

static void trace(struct session *s, char dir, const char *text, size_t len)
{
	probe_trace(&s->probe, now_us(), dir, text, len);
}

static void tracef(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tracef(struct session *s, const char *fmt, ...)
{
	if (!s->env->trace)
		return;
	struct buf b;
	buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	trace(s, '*', buf_cstr(&b), b.len);
	buf_free(&b);
}

static void update_interest(struct session *s)
{
	if (s->finished || s->fd < 0)
		return;
	unsigned ev = LOOP_READ;
	if (s->probe.state == PS_CONNECTING)
		ev = LOOP_WRITE;
	else if (s->out.len > 0 || s->want_write)
		ev |= LOOP_WRITE;
	loop_io(s->env->loop, s->fd, ev, on_io, s);
}

/* ---- the sniff connection ---- */

static void sniff_close(struct session *s)
{
	loop_timer_cancel(s->env->loop, &s->sniff_timer);
	if (s->sniff_ssl) {
		SSL_free(s->sniff_ssl);
		s->sniff_ssl = NULL;
	}
	if (s->sniff_fd >= 0) {
		loop_io(s->env->loop, s->sniff_fd, 0, NULL, NULL);
		close(s->sniff_fd);
		s->sniff_fd = -1;
	}
}

static void sniff_io(void *arg, int fd, unsigned events)
{
	struct session *s = arg;
	(void)events;
	if (!s->sniff_connected) {
		int err = 0;
		socklen_t len = sizeof err;
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err) {
			sniff_close(s);
			return;
		}
		s->sniff_connected = true;
		s->sniff_ssl = tls_session_new(s->env->ssl_ctx, fd, s->host);
		if (!s->sniff_ssl) {
			sniff_close(s);
			return;
		}
		tls_hold_reads(s->sniff_ssl); /* the answer is read raw below */
		SSL_connect(s->sniff_ssl); /* sends the ClientHello */
		loop_io(s->env->loop, fd, LOOP_READ, sniff_io, s);
		return;
	}
	char b[200];
	ssize_t n = recv(fd, b, sizeof b, MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	bool speaks_tls = n >= 1 && tls_record_byte((unsigned char)b[0]);
	if (n > 0 && !speaks_tls) {
		/* Clear text: keep its first line (a web server says "HTTP/1.1"). */
		size_t line = 0;
		while (line < (size_t)n && b[line] != '\r' && b[line] != '\n')
			line++;
		struct buf e;
		buf_init(&e);
		escape_ascii(&e, b, line);
		s->res->sniff_text = arena_strndup(s->arena, buf_cstr(&e), e.len);
		buf_free(&e);
	}
	sniff_close(s);
	if (speaks_tls) {
		tracef(s, "a second connection was answered in TLS: the port "
			  "expects implicit TLS");
		dispatch(s, EV_SPEAKS_TLS, NULL);
	} else if (s->res->sniff_text && strlen(s->res->sniff_text) >= 4 &&
		   !looks_like_smtp(s->res->sniff_text)) {
		tracef(s, "a second connection was answered in another protocol: '%s'",
		       s->res->sniff_text);
		dispatch(s, EV_SPEAKS_OTHER, NULL);
	}
}

static void sniff_start(void *arg)
{
	struct session *s = arg;
	if (s->finished || s->probe.state != PS_GREETING || s->got_bytes ||
	    s->res->mode != MODE_STARTTLS || s->probe.reconnected ||
	    s->probe.injection_probe)
		return;
	int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	tracef(s, "no greeting after %u s: asking a second connection for TLS",
	       SNIFF_DELAY_US / 1000000u);
	s->sniff_fd = fd;
	s->sniff_connected = false;
	if (connect(fd, (struct sockaddr *)&s->addr, s->addrlen) != 0 &&
	    errno != EINPROGRESS) {
		sniff_close(s);
		return;
	}
	loop_io(s->env->loop, fd, LOOP_WRITE, sniff_io, s);
}

/* ---- connection teardown ---- */

static void close_conn(struct session *s, bool polite)
{
	if (s->fd < 0)
		return;
	if (polite) {
		if (s->ssl && !s->handshaking)
			SSL_shutdown(s->ssl);
		/* Drain what the server sent so close() sends FIN, not RST. */
		char tmp[4096];
		for (int i = 0; i < 16; i++) {
			ssize_t n = recv(s->fd, tmp, sizeof tmp, MSG_DONTWAIT);
			if (n <= 0)
				break;
		}
	}
	loop_io(s->env->loop, s->fd, 0, NULL, NULL);
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	close(s->fd);
	s->fd = -1;
	s->handshaking = false;
	s->tls_checked = false;
	s->want_write = false;
}

static void finish(struct session *s)
{
	if (s->finished)
		return;
	sniff_close(s);
	loop_timer_cancel(s->env->loop, &s->wait_timer);
	close_conn(s, false);
	s->finished = true;
	buf_free(&s->in);
	buf_wipe_free(&s->out);
	reply_parser_free(&s->parser);
	probe_free(&s->probe);
	s->on_done(s->done_arg, s);
}

/* ---- writing ---- */

/* Returns false when the connection broke (and the probe was told). */
static bool flush(struct session *s)
{
	while (s->out.len > 0 && s->fd >= 0) {
		ssize_t n;
		if (s->ssl) {
			int r = SSL_write(s->ssl, s->out.data, (int)s->out.len);
			if (r <= 0) {
				int e = SSL_get_error(s->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					s->want_write = e == SSL_ERROR_WANT_WRITE;
					return true;
				}
				s->res->fail = FAIL_CLOSED;
				s->res->error = arena_printf(s->arena, "sending failed: %s",
					tls_describe_error(s->ssl, r, s->arena));
				dispatch(s, EV_CLOSED, NULL);
				return false;
			}
			n = r;
		} else {
			n = send(s->fd, s->out.data, s->out.len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return true;
				s->res->fail = errno == ECONNRESET || errno == EPIPE
					       ? FAIL_RESET : FAIL_CLOSED;
				dispatch(s, EV_CLOSED, NULL);
				return false;
			}
		}
		buf_consume(&s->out, (size_t)n);
	}
	s->want_write = false;
	return true;
}

/*
 * Send a group of commands (CRLF between them) in one write. A group
 * that carries credentials is wiped from the output buffer once written;
 * the transcript only ever sees the shown form.
 */
static void send_group(struct session *s, int ncmds, const char *line,
		       const char *shown, bool secret)
{
	if (ncmds == 0)
		return;
	for (const char *p = shown;;) {
		size_t n = strcspn(p, "\r\n");
		trace(s, 'C', p, n);
		p += n;
		if (!*p)
			break;
		p += *p == '\r' && p[1] == '\n' ? 2 : 1;
	}
	buf_puts(&s->out, line);
	buf_puts(&s->out, "\r\n");
	flush(s);
	if (secret && s->out.data) {
		/* Unsent bytes stay; what was sent must not linger. */
		size_t keep = s->out.len;
		OPENSSL_cleanse(s->out.data + keep, s->out.cap - keep);
	}
}

/* ---- TLS ---- */

static void record_injection(struct session *s, const char *data, size_t len)
{
	struct tls_result *t = &s->res->tls;
	struct buf b;
	buf_init(&b);
	if (t->injected)
		buf_puts(&b, t->injected);
	escape_ascii(&b, data, len);
	t->injected = arena_strndup(s->arena, buf_cstr(&b), b.len);
	t->injected_len += len;
	buf_free(&b);
	tracef(s, "discarded %zu bytes of clear text sent after the STARTTLS reply",
	       len);
	trace(s, 'S', data, len);
}

/*
 * The clear text a port sent instead of a TLS ServerHello: its first line,
 * at most MISMATCH_QUOTE bytes of it, escaped, for the tls-mode-mismatch
 * finding. A longer line is cut, and the result says so and how long it
 * was (or how much of it came before the end was seen), so the quote
 * never ends silently. prefix marks text OpenSSL took part of ("...").
 */
#define MISMATCH_QUOTE 200
static void keep_mismatch(struct session *s, const char *prefix, const char *data,
			  size_t n)
{
	size_t line = 0;
	while (line < n && data[line] != '\r' && data[line] != '\n')
		line++;
	struct port_result *r = s->res;
	r->mismatch_cut = line > MISMATCH_QUOTE;
	r->mismatch_len = line;
	r->mismatch_line_whole = line < n;
	struct buf b;
	buf_init(&b);
	buf_puts(&b, prefix);
	escape_ascii(&b, data, line > MISMATCH_QUOTE ? MISMATCH_QUOTE : line);
	r->mismatch_text = arena_strndup(s->arena, buf_cstr(&b), b.len);
	buf_free(&b);
}

static void handshake_step(struct session *s)
{
	/*
	 * Before OpenSSL reads, look at what the server sent: clear text
	 * where a TLS record should be means the wrong mode (implicit TLS)
	 * or injected lines after STARTTLS, never a bare OpenSSL error.
	 */
	while (!s->tls_checked) {
		char peek[MAX_INJECTED];
		ssize_t n = recv(s->fd, peek, sizeof peek, MSG_PEEK);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			s->res->tls.error = arena_strdup(s->arena, n == 0
				? "the server closed the connection during the TLS handshake"
				: "the connection was reset during the TLS handshake");
			if (n < 0)
				s->res->fail = FAIL_RESET;
			dispatch(s, EV_TLS_FAILED, NULL);
			return;
		}
		s->got_bytes = true;
		if (tls_record_byte((unsigned char)peek[0])) {
			s->tls_checked = true;
			if (!tls_release_reads(s->ssl, s->fd)) {
				s->res->tls.error = arena_strdup(s->arena, "out of memory");
				s->res->fail = FAIL_INTERNAL;
				dispatch(s, EV_TLS_FAILED, NULL);
				return;
			}
			break;
		}
		if (s->probe.state == PS_TLS_HANDSHAKE) {
			keep_mismatch(s, "", peek, (size_t)n);
			trace(s, 'S', peek, (size_t)n);
			dispatch(s, EV_TLS_CLEARTEXT, NULL);
			return;
		}
		/* After STARTTLS: skip whole clear-text lines, and say so. */
		char *nl = memrchr(peek, '\n', (size_t)n);
		if (!nl || s->res->tls.injected_len + (size_t)n > MAX_INJECTED) {
			if ((size_t)n < sizeof peek && !nl)
				break; /* wait for the end of the line */
			record_injection(s, peek, (size_t)n);
			s->res->tls.error = arena_strdup(s->arena,
				"the server sent clear text instead of a TLS ServerHello");
			dispatch(s, EV_TLS_CLEARTEXT, NULL);
			return;
		}
		size_t skip = (size_t)(nl - peek) + 1;
		ssize_t got = recv(s->fd, peek, skip, 0);
		if (got <= 0)
			break;
		record_injection(s, peek, (size_t)got);
	}

	ERR_clear_error();
	int r = SSL_connect(s->ssl);
	if (r == 1) {
		s->handshaking = false;
		s->want_write = false;
		tls_collect(s->ssl, &s->res->tls, s->arena);
		if (s->tlsa && s->tlsa->rcode == DNS_NOERROR && s->tlsa->nrecords)
			tls_dane_check(s->ssl, s->host, s->tlsa, s->res, s->arena);
		tracef(s, "TLS established: %s %s, certificate %s",
		       s->res->tls.version, s->res->tls.cipher,
		       s->res->tls.verified ? "verified"
					    : (s->res->tls.verify_error
						       ? s->res->tls.verify_error
						       : "not verified"));
		if (s->res->dane_checked)
			tracef(s, "DANE: %s (%s)", s->res->dane_detail ? s->res->dane_detail : "?",
			       s->res->dane_authoritative ? "validated, it decides"
							  : "not validated, information only");
		dispatch(s, EV_TLS_OK, NULL);
		if (!s->finished)
			pump(s);
		return;
	}
	int e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		s->want_write = e == SSL_ERROR_WANT_WRITE;
		update_interest(s);
		return;
	}
	/*
	 * The server's first bytes can arrive between our look and OpenSSL's
	 * own read: then OpenSSL took clear text for a record header. Say so
	 * as the wrong mode, with what is left to see.
	 */
	int reason = ERR_GET_REASON(ERR_peek_error());
	if (!s->tls_checked && s->probe.state == PS_TLS_HANDSHAKE &&
	    (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
	     reason == SSL_R_HTTP_REQUEST)) {
		char rest[MAX_INJECTED];
		ssize_t n = recv(s->fd, rest, sizeof rest, MSG_PEEK | MSG_DONTWAIT);
		keep_mismatch(s, "...", rest, n > 0 ? (size_t)n : 0);
		ERR_clear_error();
		dispatch(s, EV_TLS_CLEARTEXT, NULL);
		return;
	}
	s->res->tls.error = tls_describe_error(s->ssl, r, s->arena);
	tracef(s, "TLS handshake failed: %s", s->res->tls.error);
	dispatch(s, EV_TLS_FAILED, NULL);
}

static void start_tls(struct session *s)
{
	if (s->in.len > 0) {
		record_injection(s, s->in.data, s->in.len);
		buf_reset(&s->in);
	}
	reply_parser_reset(&s->parser);
	s->ssl = tls_session_new(s->env->ssl_ctx, s->fd, s->host);
	if (!s->ssl) {
		s->res->tls.error = arena_strdup(s->arena, "cannot create a TLS session");
		s->res->fail = FAIL_INTERNAL;
		dispatch(s, EV_TLS_FAILED, NULL);
		return;
	}
	/*
	 * A session spends its life waiting for the next reply: give the
	 * record buffers (about 34 kB) back meanwhile. With -f and -j 200,
	 * 600 sessions are open at once.
	 */
	SSL_set_mode(s->ssl, SSL_MODE_RELEASE_BUFFERS);
	tls_hold_reads(s->ssl);
	s->handshaking = true;
	s->tls_checked = false;
	handshake_step(s);
}

/* ---- reading ---- */

static void trace_reply(struct session *s, const struct reply *r)
{
	if (!s->env->trace)
		return;
	for (size_t i = 0; i < r->nlines; i++) {
		char head[8];
		snprintf(head, sizeof head, "%03d%c", r->code,
			 i + 1 < r->nlines ? '-' : ' ');
		struct buf b;
		buf_init(&b);
		buf_puts(&b, head);
		buf_puts(&b, r->lines[i]);
		trace(s, 'S', b.data, b.len);
		buf_free(&b);
	}
}

/* Feed buffered input to the parser, one reply at a time. */
static void process_input(struct session *s)
{
	while (s->in.len > 0 && !s->finished && !s->handshaking && s->fd >= 0) {
		size_t used;
		enum reply_status st = reply_parser_feed(&s->parser, s->in.data,
							 s->in.len, &used);
		buf_consume(&s->in, used);
		if (st == REPLY_NEED_MORE)
			return;
		if (st == REPLY_ERROR) {
			struct buf b;
			buf_init(&b);
			escape_ascii(&b, s->parser.raw.data ? s->parser.raw.data : "",
				     s->parser.raw.len);
			s->res->error = arena_printf(s->arena, "%s: '%s'",
				reply_error_str(s->parser.error), buf_cstr(&b));
			buf_free(&b);
			trace(s, 'S', s->parser.raw.data ? s->parser.raw.data : "",
			      s->parser.raw.len);
			dispatch(s, EV_PROTOCOL_ERROR, NULL);
			return;
		}
		const struct reply *r = &s->parser.reply;
		s->res->reply_bare_lf |= r->bare_lf;
		s->res->reply_overlong |= r->overlong;
		trace_reply(s, r);
		dispatch(s, EV_REPLY, r);
	}
}

/*
 * Acknowledge at once what was just read. A server with Nagle's algorithm
 * on (Postfix) that writes its TLS session tickets and then its next reply
 * (the greeting on 465, the EHLO reply after STARTTLS) holds the reply until
 * the tickets are acknowledged, and Linux delays that ACK by 40 ms in a
 * request/reply exchange, hoping to send it with our next command - which
 * waits for that very reply. TCP_QUICKACK sends a pending ACK now; it does
 * not stick, so it is set again after every read. Costs a syscall per read
 * and at most one bare ACK.
 */
static void ack_now(struct session *s)
{
#ifdef TCP_QUICKACK
	int one = 1;
	if (s->fd >= 0 && !s->finished)
		setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
	(void)s;
#endif
}

/* Read what is there, feeding replies as they complete. */
static void read_input(struct session *s)
{
	bool eof = false;
	while (!s->finished && s->fd >= 0 && !s->handshaking) {
		char tmp[16384];
		ssize_t n;
		if (s->ssl) {
			ERR_clear_error();
			int r = SSL_read(s->ssl, tmp, sizeof tmp);
			if (r <= 0) {
				int e = SSL_get_error(s->ssl, r);
				if (e == SSL_ERROR_WANT_READ)
					break;
				if (e == SSL_ERROR_WANT_WRITE) {
					s->want_write = true;
					break;
				}
				if (e != SSL_ERROR_ZERO_RETURN) {
					if (errno == ECONNRESET)
						s->res->fail = FAIL_RESET;
				}
				ERR_clear_error();
				eof = true;
				break;
			}
			n = r;
		} else {
			n = recv(s->fd, tmp, sizeof tmp, 0);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					break;
				if (errno == ECONNRESET)
					s->res->fail = FAIL_RESET;
				eof = true;
				break;
			}
			if (n == 0) {
				eof = true;
				break;
			}
		}
		s->got_bytes = true;
		buf_append(&s->in, tmp, (size_t)n);
		process_input(s);
	}
	if (eof && !s->finished)
		dispatch(s, EV_CLOSED, NULL);
	else
		ack_now(s);
}

static void pump(struct session *s)
{
	if (s->finished || s->fd < 0)
		return;
	if (!flush(s))
		return;
	read_input(s);
	update_interest(s);
}

/* ---- connecting ---- */

static const char *fail_sentence(int err, enum fail_kind *kind)
{
	switch (err) {
	case ECONNREFUSED:
		*kind = FAIL_REFUSED;
		return "connection refused (nothing listens on this port, or a "
		       "firewall rejects it)";
	case ENETUNREACH:
		*kind = FAIL_UNREACHABLE;
		return "network unreachable";
	case EHOSTUNREACH:
		*kind = FAIL_UNREACHABLE;
		return "host unreachable";
	case ETIMEDOUT:
		*kind = FAIL_TIMEOUT;
		return "connection timed out";
	default:
		*kind = FAIL_CONNECT;
		return NULL;
	}
}

static void connect_failed(struct session *s, int err)
{
	enum fail_kind kind;
	const char *why = fail_sentence(err, &kind);
	s->res->fail = kind;
	s->res->error = why ? arena_strdup(s->arena, why)
			    : arena_printf(s->arena, "connect failed: %s", strerror(err));
	tracef(s, "%s", s->res->error);
	dispatch(s, EV_CONNECT_FAILED, NULL);
}

static void set_ehlo_name(struct session *s)
{
	struct probe *p = &s->probe;
	if (s->env->ehlo_name) {
		snprintf(p->ehlo_name, sizeof p->ehlo_name, "%s", s->env->ehlo_name);
		return;
	}
	/* RFC 5321 4.1.3: without a name, the address literal. */
	struct sockaddr_storage local;
	socklen_t len = sizeof local;
	char text[INET6_ADDRSTRLEN] = "127.0.0.1";
	if (getsockname(s->fd, (struct sockaddr *)&local, &len) == 0) {
		if (local.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&local)->sin6_addr,
				  text, sizeof text);
			snprintf(p->ehlo_name, sizeof p->ehlo_name, "[IPv6:%s]", text);
			return;
		}
		inet_ntop(AF_INET, &((struct sockaddr_in *)&local)->sin_addr, text,
			  sizeof text);
	}
	snprintf(p->ehlo_name, sizeof p->ehlo_name, "[%s]", text);
}

static void connected(struct session *s)
{
	tracef(s, "connected to %s port %d", s->res->address, s->res->port);
	set_ehlo_name(s);
	dispatch(s, EV_CONNECTED, NULL);
	if (!s->finished && s->probe.state == PS_GREETING) {
		uint64_t when = now_us() + SNIFF_DELAY_US;
		loop_timer_arm(s->env->loop, &s->sniff_timer, when);
	}
}

static void start_connect(struct session *s)
{
	s->got_bytes = false;
	int fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		s->res->fail = FAIL_INTERNAL;
		s->res->error = arena_printf(s->arena, "cannot create a socket: %s",
					     strerror(errno));
		dispatch(s, EV_CONNECT_FAILED, NULL);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->fd = fd;
	if (connect(fd, (struct sockaddr *)&s->addr, s->addrlen) == 0) {
		connected(s);
		return;
	}
	if (errno != EINPROGRESS) {
		connect_failed(s, errno);
		return;
	}
	update_interest(s);
}

/* ---- the one place actions are carried out ---- */

static void dispatch(struct session *s, enum probe_event_kind ev,
		     const struct reply *r)
{
	struct probe_action act;
	if (s->finished)
		return;
	probe_event(&s->probe, ev, r, now_us(), &act);
	bool secret = act.secret;
	if (act.wait_us)
		loop_timer_arm(s->env->loop, &s->wait_timer, now_us() + act.wait_us);
	switch (act.kind) {
	case ACT_NONE:
		update_interest(s);
		break;
	case ACT_SEND:
		send_group(s, act.ncmds, act.line, act.shown, act.secret);
		update_interest(s);
		break;
	case ACT_START_TLS:
		start_tls(s);
		break;
	case ACT_QUIT:
		send_group(s, act.ncmds, act.line, act.shown, act.secret);
		close_conn(s, true);
		finish(s);
		break;
	case ACT_CLOSE:
		finish(s);
		break;
	case ACT_RECONNECT:
		tracef(s, "reconnecting in %s mode",
		       s->res->mode == MODE_TLS ? "implicit TLS" : "STARTTLS");
		sniff_close(s);
		close_conn(s, false);
		buf_reset(&s->in);
		buf_reset(&s->out);
		reply_parser_reset(&s->parser);
		start_connect(s);
		break;
	}
	if (secret)
		OPENSSL_cleanse(&act, sizeof act);
}

static void on_io(void *arg, int fd, unsigned events)
{
	struct session *s = arg;
	(void)events;
	if (s->finished || fd != s->fd)
		return;
	if (s->probe.state == PS_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err == 0) {
			connected(s);
		} else if (err != EINPROGRESS && err != EALREADY) {
			connect_failed(s, err);
		}
		return;
	}
	if (s->handshaking) {
		handshake_step(s);
		return;
	}
	pump(s);
}

static void wait_over(void *arg)
{
	struct session *s = arg;
	dispatch(s, EV_WAIT_OVER, NULL);
}

static void session_setup(struct session *s, const struct session_env *env,
			  const char *host, const struct sockaddr *addr, socklen_t len,
			  enum tls_mode mode, struct port_result *res, struct arena *a,
			  const struct dns_answer *tlsa, session_done_fn on_done,
			  void *done_arg, bool injection)
{
	memset(s, 0, sizeof *s);
	s->env = env;
	s->host = host;
	s->res = res;
	s->arena = a;
	s->fd = -1;
	s->sniff_fd = -1;
	memcpy(&s->addr, addr, len);
	s->addrlen = len;
	s->on_done = on_done;
	s->done_arg = done_arg;
	buf_init(&s->in);
	buf_init(&s->out);
	reply_parser_init(&s->parser);
	loop_timer_init(&s->sniff_timer, sniff_start, s);
	loop_timer_init(&s->wait_timer, wait_over, s);
	s->tlsa = tlsa;
	probe_init(&s->probe, res, a, mode, env->opts, now_us());
	s->probe.trace = env->trace;
	s->probe.injection_probe = injection;
	start_connect(s);
}

void session_start(struct session *s, const struct session_env *env,
		   const char *host, const struct sockaddr *addr, socklen_t len,
		   enum tls_mode mode, struct port_result *res, struct arena *a,
		   const struct dns_answer *tlsa, session_done_fn on_done, void *done_arg)
{
	session_setup(s, env, host, addr, len, mode, res, a, tlsa, on_done, done_arg, false);
}

void session_start_injection(struct session *s, const struct session_env *env,
			     const char *host, const struct sockaddr *addr, socklen_t len,
			     struct port_result *res, struct arena *a,
			     session_done_fn on_done, void *done_arg)
{
	session_setup(s, env, host, addr, len, MODE_STARTTLS, res, a, NULL, on_done,
		      done_arg, true);
}

void session_timeout(struct session *s)
{
	if (s->finished)
		return;
	dispatch(s, EV_TIMEOUT, NULL);
}
