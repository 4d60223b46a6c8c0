/*
 * reply.h - the SMTP reply parser: bytes in, complete replies out.
 *
 * Pure code, no I/O. The parser is fed whatever the transport read and
 * stops after each complete reply, saying how many bytes it used, so the
 * caller sees exactly which bytes followed a reply (after a STARTTLS 220,
 * those bytes are an injection and must never be read as a TLS-protected
 * reply). Memory is bounded: a line longer than REPLY_LINE_MAX or a reply
 * of more than REPLY_LINES_MAX lines is an error, not an endless read.
 */
#ifndef SMTPCHECK_REPLY_H
#define SMTPCHECK_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/*
 * RFC 5321 4.5.3.1.5 limits a reply line to 512 octets with its CRLF. Real
 * servers stay within it, but some banners and Microsoft 5xx texts do not,
 * so the parser accepts up to the RFC's general text-line limit (1000
 * octets, 4.5.3.1.6) and notes the excess; beyond that it is an error.
 */
#define REPLY_LINE_RFC_MAX 512
#define REPLY_LINE_MAX 1000
#define REPLY_LINES_MAX 100

enum reply_status {
	REPLY_NEED_MORE,  /* all input used, no complete reply yet */
	REPLY_COMPLETE,   /* a reply is complete: see reply_parser.reply */
	REPLY_ERROR       /* see reply_parser.error; the parser stays failed */
};

enum reply_error {
	REPLY_OK = 0,
	REPLY_ERR_LINE_TOO_LONG,
	REPLY_ERR_TOO_MANY_LINES,
	REPLY_ERR_NOT_SMTP,        /* the line does not start with a code */
	REPLY_ERR_BAD_CODE,        /* a code outside 200..599 */
	REPLY_ERR_MIXED_CODES,     /* continuation lines with another code */
	REPLY_ERR_NUL              /* a NUL byte inside a reply line */
};

struct reply {
	int code;              /* 200..599 */
	char enhanced[16];     /* "5.7.1", or "" when the server sent none */
	size_t nlines;
	char **lines;          /* text after "250-"/"250 ", NUL-terminated */
	char *text;            /* all lines joined with '\n' */
	bool bare_lf;          /* some line ended in LF without CR */
	bool overlong;         /* some line exceeded the RFC's 512 octets */
};

struct reply_parser {
	struct buf line;       /* the line being read */
	struct buf text;       /* joined text of the reply so far */
	struct buf split;      /* the same text, lines NUL-separated */
	size_t offsets[REPLY_LINES_MAX];
	size_t nlines;
	int code;
	bool bare_lf, overlong;
	enum reply_error error;
	char *lines[REPLY_LINES_MAX];
	struct reply reply;    /* valid after REPLY_COMPLETE until next feed */
	struct buf raw;        /* first bytes of the last line, for errors */
};

void reply_parser_init(struct reply_parser *p);
void reply_parser_free(struct reply_parser *p);
/* Forget any partial reply and error (for a new connection). */
void reply_parser_reset(struct reply_parser *p);

/*
 * Feed up to len bytes. Stops after the first complete reply; *used tells
 * how many bytes were consumed. Call again with the rest.
 */
enum reply_status reply_parser_feed(struct reply_parser *p, const char *data,
				    size_t len, size_t *used);

/* True while a reply has started but is not complete. */
bool reply_parser_partial(const struct reply_parser *p);

const char *reply_error_str(enum reply_error e);

/*
 * Parse an RFC 3463 enhanced status code at the start of text whose class
 * digit must match the reply code's first digit. Writes it to out (at
 * least 16 bytes) and returns its length including trailing space, or 0.
 */
size_t reply_parse_enhanced(const char *text, int code, char out[16]);

/* The same, where the code may end in ')', '-', ',' or ';'. */
size_t reply_parse_enhanced_loose(const char *text, int code, char out[16]);

/* An enhanced code written "#5.7.1" inside the text (qmail). */
size_t reply_find_enhanced(const char *text, int code, char out[16]);

/* The reply's words after its enhanced code, if the text starts with it. */
const char *reply_words(const char *text, const char *enhanced);

/*
 * A reply's text as every report shows it, on one line: its lines (text
 * holds them separated by '\n') joined by one space, the enhanced code
 * left out where a line starts with it (the caller shows it once, after
 * the reply code), blanks around the joins squeezed, every byte outside
 * printable ASCII escaped (escape_ascii). Nothing else is left out.
 */
void reply_join(struct buf *out, const char *text, const char *enhanced);

/* "554 5.7.1 Relay access denied": the code (left out when 0), the
 * enhanced code, then reply_join's words. */
void reply_show(struct buf *out, int code, const char *enhanced, const char *text);

#endif
