/*
 * fuzz_kb.c - libFuzzer harness for the knowledge-base parser and the
 * step renderer: a broken data file is reported, never a crash, and what
 * parses renders without unfilled placeholders.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "advice.h"
#include "kb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct kb kb = { 0 };
	buf_init(&kb.errors);
	if (kb_parse(&kb, "fuzz.client", text)) {
		const struct kb_program *p = &kb.programs[0];
		struct arena a = { 0 };
		struct advice adv;
		struct advice_target t = { "mail.example.net", 465, SECURITY_TLS,
					   USERNAME_LOCAL_PART, "alice" };
		advice_render(p, &t, &a, &adv);
		(void)kb_find(&kb, "example", NULL);
		arena_free(&a);
	}
	kb_free(&kb);
	free(text);
	return 0;
}
