/*
 * util.h - small helpers every module shares: a region allocator for
 * results, a growable byte buffer, the monotonic clock, and the escaping
 * used whenever server bytes are shown to a person.
 *
 * Results of a run (port results, findings, transcripts) are allocated
 * from an arena owned by the host being probed and freed at once when its
 * report is written, so no result string has an owner of its own.
 */
#ifndef SMTPCHECK_UTIL_H
#define SMTPCHECK_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Process-wide out-of-memory policy: print a message and exit UNKNOWN. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
_Noreturn void die_oom(void);

struct arena_chunk;
struct arena {
	struct arena_chunk *head;
};

void *arena_alloc(struct arena *a, size_t n);          /* zeroed */
char *arena_strdup(struct arena *a, const char *s);    /* NULL stays NULL */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void arena_free(struct arena *a);
/* Forget every allocation but keep one chunk, for an arena used again. */
void arena_reset(struct arena *a);

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_append(struct buf *b, const void *p, size_t n);
/* Make room for extra more bytes (and the terminating NUL) at once. */
void buf_reserve(struct buf *b, size_t extra);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_consume(struct buf *b, size_t n);   /* drop n bytes from the front */
void buf_reset(struct buf *b);
void buf_free(struct buf *b);
/* Wipe the contents (for buffers that held secrets), then free. */
void buf_wipe_free(struct buf *b);
const char *buf_cstr(struct buf *b);         /* NUL-terminated view */

/* Microseconds on the monotonic clock. */
uint64_t now_us(void);

/*
 * Wait until fd has something to read (or its end) or deadline_us
 * (now_us() time) passes: 1 ready, 0 the deadline passed, -1 an error
 * (errno). A deadline already past gives 0 even when data waits, so a
 * source that is always ready (a large file, /dev/zero) cannot outrun it.
 */
int fd_wait_readable(int fd, uint64_t deadline_us);

/*
 * Append s (n bytes, any bytes at all) to out so that the result is
 * printable ASCII: backslash, and bytes outside 0x20..0x7e become \\, \t,
 * \r, \n, \xHH. Nothing is dropped, so a person sees what the server sent.
 */
void escape_ascii(struct buf *out, const char *s, size_t n);

/*
 * Append UTF-8 text (our own data: knowledge base, messages) as ASCII:
 * common punctuation is transliterated (an ellipsis becomes "..."), any
 * other non-ASCII character is written as \u{XXXX}, so nothing is lost.
 */
void ascii_text(struct buf *out, const char *s);

/* strcasecmp for ASCII only, independent of locale. */
int ascii_casecmp(const char *a, const char *b);
int ascii_ncasecmp(const char *a, const char *b, size_t n);
int ascii_ncasecmp(const char *a, const char *b, size_t n);

#endif
