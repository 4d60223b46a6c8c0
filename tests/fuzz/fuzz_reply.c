/*
 * fuzz_reply.c - libFuzzer harness for the SMTP reply parser: arbitrary
 * bytes, fed in chunks whose sizes come from the input itself, must never
 * crash, leak or read out of bounds, and every complete reply must be
 * well-formed (code 200..599, lines present, text NUL-terminated).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_parser p;
	reply_parser_init(&p);
	size_t chunk = size ? (size_t)data[0] % 17 + 1 : 1;
	size_t i = size ? 1 : 0;
	while (i < size) {
		size_t n = size - i < chunk ? size - i : chunk;
		size_t used;
		enum reply_status st = reply_parser_feed(&p, (const char *)data + i, n, &used);
		if (used > n)
			abort();
		if (st == REPLY_COMPLETE) {
			const struct reply *r = &p.reply;
			if (r->code < 200 || r->code > 599 || r->nlines == 0 ||
			    r->nlines > REPLY_LINES_MAX || strlen(r->text) > REPLY_LINES_MAX * (REPLY_LINE_MAX + 1))
				abort();
			(void)reply_words(r->text, r->enhanced);
		}
		if (st == REPLY_ERROR) {
			if (!reply_error_str(p.error))
				abort();
			reply_parser_reset(&p);
		}
		i += used ? used : n;
	}
	reply_parser_free(&p);
	return 0;
}
