/*
 * fuzz_ehlo.c - libFuzzer harness for EHLO capability parsing: whatever
 * reply a server sends, the capability set stays within its bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ehlo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reply_parser p;
	reply_parser_init(&p);
	size_t i = 0;
	while (i < size) {
		size_t used;
		enum reply_status st = reply_parser_feed(&p, (const char *)data + i, size - i, &used);
		i += used ? used : size - i;
		if (st == REPLY_ERROR)
			break;
		if (st != REPLY_COMPLETE)
			continue;
		struct ehlo_caps c, copy;
		if (ehlo_parse(&p.reply, &c)) {
			if (c.nmech > EHLO_MAX_MECHS || c.next > EHLO_MAX_EXTS)
				abort();
			for (size_t k = 0; k < c.nmech; k++)
				if (strlen(c.mech_names[k]) >= sizeof c.mech_names[k])
					abort();
			ehlo_caps_copy(&copy, &c);
			ehlo_caps_free(&copy);
		}
		ehlo_caps_free(&c);
	}
	reply_parser_free(&p);
	return 0;
}
