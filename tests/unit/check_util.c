/*
 * check_util.c - escaping, buffers and the arena.
 */
#include <string.h>

#include <stdlib.h>

#include "address.h"
#include "range.h"
#include "suites.h"
#include "util.h"

START_TEST(escape)
{
	struct buf b;
	buf_init(&b);
	escape_ascii(&b, "a\\b\r\n\t\x01\xff~", 9);
	ck_assert_str_eq(buf_cstr(&b), "a\\\\b\\r\\n\\t\\x01\\xff~");
	buf_free(&b);
}
END_TEST

START_TEST(buffers)
{
	struct buf b;
	buf_init(&b);
	ck_assert_str_eq(buf_cstr(&b), "");
	for (int i = 0; i < 1000; i++)
		buf_printf(&b, "%d,", i);
	ck_assert(b.len > 3000);
	buf_consume(&b, 2);
	ck_assert(!strncmp(buf_cstr(&b), "1,2,", 4));
	buf_consume(&b, b.len + 5);
	ck_assert_uint_eq(b.len, 0);
	buf_puts(&b, "secret");
	buf_wipe_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(arena)
{
	struct arena a = { 0 };
	char *s = arena_strdup(&a, "hello");
	char *big = arena_alloc(&a, 100000);
	ck_assert_str_eq(s, "hello");
	ck_assert_int_eq(big[99999], 0);
	ck_assert_str_eq(arena_printf(&a, "%d-%s", 7, "x"), "7-x");
	ck_assert_ptr_null(arena_strdup(&a, NULL));
	arena_free(&a);
	ck_assert_ptr_null(a.head);
}
END_TEST

START_TEST(casecmp)
{
	ck_assert_int_eq(ascii_casecmp("StartTLS", "STARTTLS"), 0);
	ck_assert(ascii_casecmp("a", "b") < 0);
	ck_assert_int_eq(ascii_ncasecmp("AUTH=x", "auth", 4), 0);
}
END_TEST

/* The examples of the Nagios plugin development guidelines. */
START_TEST(ranges)
{
	struct range r;
	ck_assert(range_parse("10", &r));           /* outside 0..10 */
	ck_assert(range_alert(&r, -1) && range_alert(&r, 11));
	ck_assert(!range_alert(&r, 0) && !range_alert(&r, 10));
	ck_assert(range_parse("10:", &r));          /* below 10 */
	ck_assert(range_alert(&r, 9.9) && !range_alert(&r, 1e9));
	ck_assert(range_parse("~:10", &r));         /* above 10 */
	ck_assert(range_alert(&r, 10.1) && !range_alert(&r, -1e9));
	ck_assert(range_parse("10:20", &r));        /* outside 10..20 */
	ck_assert(range_alert(&r, 9) && range_alert(&r, 21) && !range_alert(&r, 15));
	ck_assert(range_parse("@10:20", &r));       /* inside 10..20 */
	ck_assert(!range_alert(&r, 9) && range_alert(&r, 10) && range_alert(&r, 20));
	ck_assert(range_parse("0.5", &r));
	ck_assert(range_alert(&r, 0.51));
	ck_assert(!range_parse("", &r));
	ck_assert(!range_parse("20:10", &r));
	ck_assert(!range_parse("abc", &r));
	ck_assert(!range_parse("1:2:3", &r));
	ck_assert(!range_parse("@", &r));
	range_below(7, &r);
	ck_assert(range_alert(&r, 6) && !range_alert(&r, 7));
	ck_assert_str_eq(r.text, "7:");
	struct range unset = { 0 };
	ck_assert(!range_alert(&unset, 1e9));
}
END_TEST

START_TEST(addresses)
{
	ck_assert(address_valid("alice@example.test", false));
	ck_assert(address_valid("", true));
	ck_assert(!address_valid("", false));
	ck_assert(!address_valid("alice", false));
	ck_assert(!address_valid("@example.test", false));
	ck_assert(!address_valid("a b@example.test", false));
	ck_assert(!address_valid("a<b@example.test", false));
	ck_assert(!address_valid("alice@ex..test", false));
	ck_assert(!address_valid("alice@-", false) || domain_valid("-"));
	ck_assert(domain_valid("mail.example.test"));
	ck_assert(!domain_valid("mail..test"));
	ck_assert(!domain_valid(".test"));
	ck_assert(!domain_valid("test."));
	ck_assert(!domain_valid("a_b.test"));

	char *s = username_other_form("alice@example.test", NULL);
	ck_assert_str_eq(s, "alice");
	free(s);
	s = username_other_form("alice", "example.test");
	ck_assert_str_eq(s, "alice@example.test");
	free(s);
	ck_assert_ptr_null(username_other_form("alice", NULL));
	ck_assert_ptr_null(username_other_form("@example.test", NULL));
	s = username_other_form("a@b@example.test", NULL);
	ck_assert_str_eq(s, "a@b");
	free(s);

	s = envelope_sender_for(NULL, "alice@example.test", NULL);
	ck_assert_str_eq(s, "alice@example.test");
	free(s);
	s = envelope_sender_for(NULL, "alice", "example.test");
	ck_assert_str_eq(s, "alice@example.test");
	free(s);
	s = envelope_sender_for(NULL, NULL, NULL);
	ck_assert_str_eq(s, "");
	free(s);
	s = envelope_sender_for("bob@example.org", "alice", NULL);
	ck_assert_str_eq(s, "bob@example.org");
	free(s);
}
END_TEST

Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");
	tcase_add_test(tc, escape);
	tcase_add_test(tc, buffers);
	tcase_add_test(tc, arena);
	tcase_add_test(tc, casecmp);
	tcase_add_test(tc, ranges);
	tcase_add_test(tc, addresses);
	suite_add_tcase(s, tc);
	return s;
}
