/*
 * json.c - streaming JSON writer (RFC 8259).
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void json_init(struct json *j, struct buf *out)
{
	memset(j, 0, sizeof *j);
	j->out = out;
	j->first[0] = true;
}

/* Comma before a value, unless it follows its key or opens a container. */
static void value_prefix(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		buf_putc(j->out, ',');
	j->first[j->depth] = false;
}

static void begin_container(struct json *j, char c)
{
	value_prefix(j);
	buf_putc(j->out, c);
	if (j->depth + 1 < JSON_MAX_DEPTH)
		j->depth++;
	j->first[j->depth] = true;
}

static void end_container(struct json *j, char c)
{
	buf_putc(j->out, c);
	if (j->depth > 0)
		j->depth--;
}

void json_object_begin(struct json *j) { begin_container(j, '{'); }
void json_object_end(struct json *j) { end_container(j, '}'); }
void json_array_begin(struct json *j) { begin_container(j, '['); }
void json_array_end(struct json *j) { end_container(j, ']'); }

void json_key(struct json *j, const char *key)
{
	value_prefix(j);
	buf_putc(j->out, '"');
	json_escape(j->out, key, strlen(key));
	buf_puts(j->out, "\":");
	j->after_key = true;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned min;
	unsigned cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2; min = 0x80; cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3; min = 0x800; cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4; min = 0x10000; cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void json_escape(struct buf *out, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			buf_putc(out, '\\');
			buf_putc(out, (char)c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			switch (c) {
			case '\n': buf_puts(out, "\\n"); break;
			case '\r': buf_puts(out, "\\r"); break;
			case '\t': buf_puts(out, "\\t"); break;
			default: buf_printf(out, "\\u%04x", c);
			}
			i++;
		} else if (c < 0x80) {
			/* The common case: a run of plain ASCII, copied at once. */
			size_t run = i + 1;
			while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' &&
			       s[run] != '\\')
				run++;
			buf_append(out, s + i, run - i);
			i = run;
		} else {
			size_t len = utf8_len(s + i, n - i);
			if (len == 0) {
				buf_puts(out, "\\ufffd");
				i++;
			} else {
				buf_append(out, s + i, len);
				i += len;
			}
		}
	}
}

void json_stringn(struct json *j, const char *s, size_t n)
{
	value_prefix(j);
	buf_putc(j->out, '"');
	json_escape(j->out, s, n);
	buf_putc(j->out, '"');
}

void json_string(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	json_stringn(j, s, strlen(s));
}

void json_int(struct json *j, long long v)
{
	value_prefix(j);
	buf_printf(j->out, "%lld", v);
}

void json_double(struct json *j, double v, int decimals)
{
	value_prefix(j);
	if (!isfinite(v))
		buf_puts(j->out, "null");
	else
		buf_printf(j->out, "%.*f", decimals, v);
}

void json_bool(struct json *j, bool v)
{
	value_prefix(j);
	buf_puts(j->out, v ? "true" : "false");
}

void json_null(struct json *j)
{
	value_prefix(j);
	buf_puts(j->out, "null");
}
