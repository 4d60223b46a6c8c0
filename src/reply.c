/*
 * reply.c - SMTP reply parser (RFC 5321 4.2, enhanced codes RFC 3463).
 *
 * Lines end in CRLF; a bare LF is accepted and noted, because some servers
 * send it and a diagnostic tool must still read them. Every line of a
 * reply must carry the same code; the last one has a space (or nothing)
 * after the code, the others a hyphen.
 */
#include "reply.h"

#include <string.h>

void reply_parser_init(struct reply_parser *p)
{
	memset(p, 0, sizeof *p);
	buf_init(&p->line);
	buf_init(&p->text);
	buf_init(&p->split);
	buf_init(&p->raw);
}

void reply_parser_free(struct reply_parser *p)
{
	buf_free(&p->line);
	buf_free(&p->text);
	buf_free(&p->split);
	buf_free(&p->raw);
}

static void start_reply(struct reply_parser *p)
{
	buf_reset(&p->text);
	p->nlines = 0;
	p->code = 0;
	p->bare_lf = p->overlong = false;
}

void reply_parser_reset(struct reply_parser *p)
{
	buf_reset(&p->line);
	buf_reset(&p->raw);
	start_reply(p);
	p->error = REPLY_OK;
}

bool reply_parser_partial(const struct reply_parser *p)
{
	return p->nlines > 0 || p->line.len > 0;
}

const char *reply_error_str(enum reply_error e)
{
	switch (e) {
	case REPLY_OK: return "no error";
	case REPLY_ERR_LINE_TOO_LONG: return "reply line longer than 1000 octets (RFC 5321 allows 512)";
	case REPLY_ERR_TOO_MANY_LINES: return "reply of more than 100 lines";
	case REPLY_ERR_NOT_SMTP: return "not an SMTP reply (no 3-digit code)";
	case REPLY_ERR_BAD_CODE: return "reply code outside 200..599";
	case REPLY_ERR_MIXED_CODES: return "multi-line reply with different codes";
	case REPLY_ERR_NUL: return "NUL byte in a reply line";
	}
	return "unknown reply error";
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Up to three digits, no leading zero unless the number is 0. */
static size_t parse_num3(const char *s)
{
	size_t n = 0;
	while (n < 3 && is_digit(s[n]))
		n++;
	if (n == 0 || is_digit(s[n]) || (n > 1 && s[0] == '0'))
		return 0;
	return n;
}

static size_t parse_enhanced_end(const char *text, int code, char out[16], const char *ends);

size_t reply_parse_enhanced(const char *text, int code, char out[16])
{
	return parse_enhanced_end(text, code, out, " \t");
}

size_t reply_parse_enhanced_loose(const char *text, int code, char out[16])
{
	return parse_enhanced_end(text, code, out, " \t)-,;");
}

static size_t parse_enhanced_end(const char *text, int code, char out[16], const char *ends)
{
	const char *s = text;
	char cls = s[0];
	if (cls != '2' && cls != '4' && cls != '5')
		return 0;
	if (code && cls - '0' != code / 100)
		return 0;
	if (s[1] != '.')
		return 0;
	size_t n1 = parse_num3(s + 2);
	if (!n1 || s[2 + n1] != '.')
		return 0;
	size_t n2 = parse_num3(s + 3 + n1);
	if (!n2)
		return 0;
	size_t len = 3 + n1 + n2;
	if (s[len] != '\0' && !strchr(ends, s[len]))
		return 0;
	memcpy(out, s, len);
	out[len] = '\0';
	return s[len] ? len + 1 : len;
}

/* qmail and others write "(#5.7.1)" at the end instead of a prefix. */
size_t reply_find_enhanced(const char *text, int code, char out[16])
{
	for (const char *p = strchr(text, '#'); p; p = strchr(p + 1, '#')) {
		char tmp[16];
		size_t n = reply_parse_enhanced_loose(p + 1, code, tmp);
		if (n) {
			memcpy(out, tmp, sizeof tmp);
			return n;
		}
	}
	return 0;
}

const char *reply_words(const char *text, const char *enhanced)
{
	if (!text)
		return "";
	size_t n = enhanced ? strlen(enhanced) : 0;
	if (n && !strncmp(text, enhanced, n) && (text[n] == ' ' || text[n] == '\0'))
		return text[n] ? text + n + 1 : text + n;
	return text;
}

void reply_join(struct buf *out, const char *text, const char *enhanced)
{
	if (!text)
		return;
	size_t n = enhanced ? strlen(enhanced) : 0;
	bool first = true;
	for (const char *line = text; ; ) {
		size_t len = strcspn(line, "\n");
		const char *w = line, *end = line + len;
		/* Gmail repeats "5.7.9" on every line, sometimes with two
		 * blanks after it. */
		if (n && len >= n && !strncmp(w, enhanced, n) && (len == n || w[n] == ' '))
			w += n;
		while (w < end && *w == ' ')
			w++;
		while (end > w && end[-1] == ' ')
			end--;
		if (end > w) {
			if (!first)
				buf_putc(out, ' ');
			escape_ascii(out, w, (size_t)(end - w));
			first = false;
		}
		if (!line[len])
			break;
		line += len + 1;
	}
}

void reply_show(struct buf *out, int code, const char *enhanced, const char *text)
{
	size_t start = out->len;
	if (code)
		buf_printf(out, "%d", code);
	if (enhanced && enhanced[0])
		buf_printf(out, "%s%s", out->len > start ? " " : "", enhanced);
	size_t before = out->len;
	if (before > start)
		buf_putc(out, ' ');
	size_t words = out->len;
	reply_join(out, text, enhanced);
	if (out->len == words && words > before) {
		out->len = before;
		out->data[before] = '\0';
	}
}

static enum reply_status fail(struct reply_parser *p, enum reply_error e)
{
	p->error = e;
	return REPLY_ERROR;
}

/* A complete line (without its terminator) is in p->line. */
static enum reply_status take_line(struct reply_parser *p, bool *done)
{
	const char *l = buf_cstr(&p->line);
	size_t n = p->line.len;
	*done = false;

	if (memchr(l, '\0', n))
		return fail(p, REPLY_ERR_NUL);
	if (n < 3 || !is_digit(l[0]) || !is_digit(l[1]) || !is_digit(l[2]))
		return fail(p, REPLY_ERR_NOT_SMTP);
	if (n > 3 && l[3] != ' ' && l[3] != '-')
		return fail(p, REPLY_ERR_NOT_SMTP);
	int code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (code < 200 || code > 599)
		return fail(p, REPLY_ERR_BAD_CODE);
	if (p->nlines > 0 && code != p->code)
		return fail(p, REPLY_ERR_MIXED_CODES);
	if (p->nlines == REPLY_LINES_MAX)
		return fail(p, REPLY_ERR_TOO_MANY_LINES);
	p->code = code;

	if (p->nlines > 0)
		buf_putc(&p->text, '\n');
	p->offsets[p->nlines++] = p->text.len;
	if (n > 4)
		buf_append(&p->text, l + 4, n - 4);
	else
		buf_append(&p->text, "", 0);

	*done = n == 3 || l[3] == ' ';
	return REPLY_NEED_MORE;
}

static void finish_reply(struct reply_parser *p)
{
	struct reply *r = &p->reply;

	buf_reset(&p->split);
	buf_append(&p->split, buf_cstr(&p->text), p->text.len);
	char *base = p->split.data;
	for (size_t i = 0; i < p->nlines; i++)
		p->lines[i] = base + p->offsets[i];
	for (size_t i = 1; i < p->nlines; i++)
		base[p->offsets[i] - 1] = '\0';

	memset(r, 0, sizeof *r);
	r->code = p->code;
	r->nlines = p->nlines;
	r->lines = p->lines;
	r->bare_lf = p->bare_lf;
	r->overlong = p->overlong;
	if (!reply_parse_enhanced(r->lines[0], r->code, r->enhanced))
		reply_find_enhanced(p->text.data, r->code, r->enhanced);

	r->text = p->text.data;
}

enum reply_status reply_parser_feed(struct reply_parser *p, const char *data,
				    size_t len, size_t *used)
{
	size_t i = 0;
	*used = 0;
	if (p->error)
		return REPLY_ERROR;
	if (p->nlines == 0 && p->line.len == 0)
		start_reply(p);

	while (i < len) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t chunk = nl ? (size_t)(nl - (data + i)) : len - i;
		if (p->line.len + chunk > REPLY_LINE_MAX + 1) {
			/* Show how the line began: what was kept, then this input. */
			buf_reset(&p->raw);
			buf_append(&p->raw, p->line.data ? p->line.data : "",
				   p->line.len < 64 ? p->line.len : 64);
			if (p->raw.len < 64)
				buf_append(&p->raw, data + i,
					   chunk < 64 - p->raw.len ? chunk : 64 - p->raw.len);
			*used = i + chunk;
			return fail(p, REPLY_ERR_LINE_TOO_LONG);
		}
		buf_append(&p->line, data + i, chunk);
		i += chunk;
		if (!nl)
			break;
		i++; /* the LF */

		if (p->line.len && p->line.data[p->line.len - 1] == '\r')
			p->line.data[--p->line.len] = '\0';
		else
			p->bare_lf = true;
		if (p->line.len + 2 > REPLY_LINE_RFC_MAX)
			p->overlong = true;
		if (p->line.len > REPLY_LINE_MAX) {
			*used = i;
			return fail(p, REPLY_ERR_LINE_TOO_LONG);
		}

		bool done;
		buf_reset(&p->raw);
		buf_append(&p->raw, buf_cstr(&p->line), p->line.len < 64 ? p->line.len : 64);
		enum reply_status st = take_line(p, &done);
		buf_reset(&p->line);
		if (st == REPLY_ERROR) {
			*used = i;
			return st;
		}
		if (done) {
			finish_reply(p);
			/* The next feed starts a new reply. */
			p->nlines = 0;
			*used = i;
			return REPLY_COMPLETE;
		}
	}
	*used = i;
	return REPLY_NEED_MORE;
}
