/*
 * json.h - a small streaming JSON writer. Strings may hold any bytes:
 * control bytes are escaped and byte sequences that are not UTF-8 become
 * U+FFFD, so the output is always valid JSON whatever a server sent.
 */
#ifndef SMTPCHECK_JSON_H
#define SMTPCHECK_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define JSON_MAX_DEPTH 32

struct json {
	struct buf *out;
	int depth;
	bool first[JSON_MAX_DEPTH];
	bool after_key;
};

void json_init(struct json *j, struct buf *out);
void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);        /* NULL: null */
void json_stringn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, long long v);
void json_double(struct json *j, double v, int decimals);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Append s as the contents of a JSON string (no quotes). */
void json_escape(struct buf *out, const char *s, size_t n);

#endif
