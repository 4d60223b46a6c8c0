/*
 * fuzz_explain.c - libFuzzer harness for --explain: any pasted text gives
 * a verdict (recognised or not) with findings from the catalogue, and the
 * JSON and text renderings of it are produced without fault.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "explain.h"
#include "findings.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	struct arena a = { 0 };
	struct explanation e;
	explain(text, &a, &e);
	if (e.recognised != (e.d.n > 0))
		abort();
	for (size_t i = 0; i < e.d.n; i++)
		if (!finding_lookup(e.d.findings[i].id))
			abort();
	struct buf out;
	buf_init(&out);
	report_explain_json(text, &e, &out);
	report_explain_text(text, &e, &out);
	buf_free(&out);
	explanation_free(&e);
	arena_free(&a);
	free(text);
	return 0;
}
