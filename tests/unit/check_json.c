/*
 * check_json.c - the JSON writer: structure, and escaping of any bytes a
 * server may send.
 */
#include <string.h>

#include "json.h"
#include "suites.h"

static char *escaped(const char *s, size_t n)
{
	static struct buf b;
	buf_free(&b);
	buf_init(&b);
	json_escape(&b, s, n);
	return b.data ? b.data : "";
}

START_TEST(structure)
{
	struct buf out;
	buf_init(&out);
	struct json j;
	json_init(&j, &out);
	json_object_begin(&j);
	json_key(&j, "a");
	json_int(&j, 1);
	json_key(&j, "b");
	json_array_begin(&j);
	json_string(&j, "x");
	json_null(&j);
	json_bool(&j, true);
	json_object_begin(&j);
	json_object_end(&j);
	json_array_end(&j);
	json_key(&j, "c");
	json_string(&j, NULL);
	json_key(&j, "d");
	json_double(&j, 1.5, 3);
	json_object_end(&j);
	ck_assert_str_eq(buf_cstr(&out), "{\"a\":1,\"b\":[\"x\",null,true,{}],\"c\":null,\"d\":1.500}");
	buf_free(&out);
}
END_TEST

START_TEST(escapes)
{
	ck_assert_str_eq(escaped("a\"b\\c", 5), "a\\\"b\\\\c");
	ck_assert_str_eq(escaped("\r\n\t", 3), "\\r\\n\\t");
	ck_assert_str_eq(escaped("\x01\x1f\x7f", 3), "\\u0001\\u001f\\u007f");
	ck_assert_str_eq(escaped("a\0b", 3), "a\\u0000b");
}
END_TEST

START_TEST(utf8)
{
	/* Valid UTF-8 passes; everything else becomes U+FFFD. */
	ck_assert_str_eq(escaped("caf\xc3\xa9", 5), "caf\xc3\xa9");
	ck_assert_str_eq(escaped("\xe2\x82\xac", 3), "\xe2\x82\xac");
	ck_assert_str_eq(escaped("\xf0\x9f\x98\x80", 4), "\xf0\x9f\x98\x80");
	ck_assert_str_eq(escaped("\xff", 1), "\\ufffd");
	ck_assert_str_eq(escaped("\xc3", 1), "\\ufffd");               /* truncated */
	ck_assert_str_eq(escaped("\xc0\xaf", 2), "\\ufffd\\ufffd");    /* overlong */
	ck_assert_str_eq(escaped("\xed\xa0\x80", 3), "\\ufffd\\ufffd\\ufffd"); /* surrogate */
	ck_assert_str_eq(escaped("\xf4\x90\x80\x80", 4), "\\ufffd\\ufffd\\ufffd\\ufffd");
	ck_assert_str_eq(escaped("\xe2\x28\xa1", 3), "\\ufffd(\\ufffd");
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("writer");
	tcase_add_test(tc, structure);
	tcase_add_test(tc, escapes);
	tcase_add_test(tc, utf8);
	suite_add_tcase(s, tc);
	return s;
}
