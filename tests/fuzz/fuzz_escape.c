/*
 * fuzz_escape.c - libFuzzer harness for the escaping of server bytes:
 * JSON strings must come out as valid UTF-8 without control bytes, and
 * the text report's escaping as printable ASCII only, whatever the input.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8_no_controls(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x20)
			abort();
		size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c >= 0x80 && (c < 0xc2 || c > 0xf4))
			abort();
		if (i + len > n)
			abort();
		for (size_t k = 1; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				abort();
		i += len;
	}
}

/*
 * The output is the body of a JSON string (RFC 8259): no bare quote, and
 * every backslash starts an escape JSON knows, so the string can neither
 * end early nor carry an escape a parser refuses. Escapes are skipped as
 * pairs, so an escaped backslash followed by a bare quote is caught.
 */
static void check_json_string_body(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			abort();
		if (s[i] != '\\')
			continue;
		if (++i >= n)
			abort();
		if (s[i] != '\0' && strchr("\"\\/bfnrt", s[i]))
			continue;
		if (s[i] != 'u' || n - i < 5)
			abort();
		for (size_t k = 1; k <= 4; k++)
			if (!isxdigit((unsigned char)s[i + k]))
				abort();
		i += 4;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf b;
	buf_init(&b);
	json_escape(&b, (const char *)data, size);
	check_utf8_no_controls((const unsigned char *)b.data, b.len);
	check_json_string_body(b.data, b.len);
	buf_reset(&b);
	escape_ascii(&b, (const char *)data, size);
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20 || (unsigned char)b.data[i] > 0x7e)
			abort();
	char *z = malloc(size + 1);
	if (z) {
		memcpy(z, data, size);
		z[size] = '\0';
		buf_reset(&b);
		ascii_text(&b, z);
		for (size_t i = 0; i < b.len; i++) {
			unsigned char ch = (unsigned char)b.data[i];
			if (ch > 0x7e || (ch < 0x20 && ch != '\n'))
				abort();
		}
		free(z);
	}
	buf_free(&b);
	return 0;
}
