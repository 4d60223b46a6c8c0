/*
 * util.c - allocation with one out-of-memory policy, the result arena,
 * growable buffers, the monotonic clock and the ASCII escaping of server
 * bytes.
 */
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

_Noreturn void die_oom(void)
{
	static const char msg[] = "SMTPCHECK UNKNOWN - out of memory\n";
	fwrite(msg, 1, sizeof msg - 1, stdout);
	fflush(stdout);
	exit(3);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die_oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom();
	return q;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xmalloc(n);
	memcpy(d, s, n);
	return d;
}

/* ---- arena ---- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	max_align_t data[];
};

#define ARENA_CHUNK 4096

void *arena_alloc(struct arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	n = (n + align - 1) / align * align;
	if (n == 0)
		n = align;
	struct arena_chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof *c + size);
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	char *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	struct buf b;
	buf_init(&b);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *s = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;
	if (!c)
		return;
	/* Keep the oldest chunk (the first, of the usual size): free the rest. */
	while (c->next) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	c->used = 0;
	a->head = c;
}

void arena_free(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
	a->head = NULL;
}

/* ---- buf ---- */

void buf_init(struct buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void buf_reserve(struct buf *b, size_t extra)
{
	if (b->cap - b->len > extra)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap - b->len <= extra)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
	/* The reports are written a byte at a time in places: keep it short. */
	if (b->cap - b->len > 1) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
		return;
	}
	buf_append(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	/* Format into the room there is; only a longer text formats twice. */
	buf_reserve(b, 64);
	va_list ap2;
	va_copy(ap2, ap);
	size_t room = b->cap - b->len;
	int n = vsnprintf(b->data + b->len, room, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		b->len = 0;
	} else {
		memmove(b->data, b->data + n, b->len - n);
		b->len -= n;
	}
	if (b->data)
		b->data[b->len] = '\0';
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b);
}

void buf_wipe_free(struct buf *b)
{
	if (b->data)
		OPENSSL_cleanse(b->data, b->cap);
	buf_free(b);
}

const char *buf_cstr(struct buf *b)
{
	if (!b->data)
		return "";
	return b->data;
}

uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int fd_wait_readable(int fd, uint64_t deadline_us)
{
	for (;;) {
		uint64_t now = now_us();
		if (now >= deadline_us)
			return 0;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int ready = poll(&pfd, 1, (int)((deadline_us - now + 999) / 1000));
		if (ready < 0 && errno == EINTR)
			continue;
		return ready < 0 ? -1 : ready > 0;
	}
}

void escape_ascii(struct buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '\\': buf_puts(out, "\\\\"); break;
		case '\t': buf_puts(out, "\\t"); break;
		case '\r': buf_puts(out, "\\r"); break;
		case '\n': buf_puts(out, "\\n"); break;
		default:
			if (c >= 0x20 && c < 0x7f) {
				buf_putc(out, (char)c);
			} else {
				char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
				buf_append(out, e, 4);
			}
		}
	}
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int ascii_ncasecmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int x = lower((unsigned char)a[i]), y = lower((unsigned char)b[i]);
		if (x != y || !x)
			return x - y;
	}
	return 0;
}

int ascii_casecmp(const char *a, const char *b)
{
	return ascii_ncasecmp(a, b, (size_t)-1);
}

static const struct {
	unsigned cp;
	const char *ascii;
} translit[] = {
	{ 0x2026, "..." }, { 0x2018, "'" }, { 0x2019, "'" }, { 0x201c, "\"" },
	{ 0x201d, "\"" }, { 0x2013, "-" }, { 0x2014, "-" }, { 0x00a0, " " },
	{ 0x2022, "*" }, { 0x2192, "->" }, { 0x2261, "menu button" }, { 0x00d7, "x" },
};

void ascii_text(struct buf *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	while (*s) {
		if (*s < 0x80) {
			if ((*s < 0x20 && *s != '\n') || *s == 0x7f) {
				buf_printf(out, "\\x%02x", *s);
				s++;
				continue;
			}
			/* A run of plain ASCII goes in at once. */
			const unsigned char *run = s + 1;
			while (*run >= 0x20 && *run < 0x7f)
				run++;
			buf_append(out, s, (size_t)(run - s));
			s = run;
			continue;
		}
		unsigned cp = 0;
		int len = *s >= 0xf0 ? 4 : *s >= 0xe0 ? 3 : *s >= 0xc0 ? 2 : 1;
		cp = len == 1 ? *s : *s & (0x3f >> (len - 1));
		int i = 1;
		for (; i < len && (s[i] & 0xc0) == 0x80; i++)
			cp = (cp << 6) | (s[i] & 0x3f);
		if (i < len) {
			/* Not UTF-8: show the byte. */
			buf_printf(out, "\\x%02x", *s);
			s++;
			continue;
		}
		s += len;
		const char *rep = NULL;
		for (size_t k = 0; k < ARRAY_LEN(translit); k++)
			if (translit[k].cp == cp)
				rep = translit[k].ascii;
		if (rep)
			buf_puts(out, rep);
		else
			buf_printf(out, "\\u{%04X}", cp);
	}
}
