/*
 * check_range.c - Nagios threshold ranges: the syntax accepted, what is
 * refused (what strtod would have let through), the normal form printed
 * in perfdata, and when a value alerts.
 */
#include <string.h>

#include "range.h"
#include "suites.h"
#include "util.h"

START_TEST(accepted_and_normalised)
{
	static const struct {
		const char *in, *text;
	} ok[] = {
		{ "10", "10" }, { "0.5", "0.5" }, { "10:", "10:" }, { "~:10", "~:10" },
		{ "10:20", "10:20" }, { "@10:20", "@10:20" }, { "@5", "@5" },
		{ "-5:-1", "-5:-1" }, { "~:", "~:" }, { ".5", "0.5" }, { "-.5:", "-0.5:" },
		{ "007", "7" }, { "2.50", "2.5" }, { "3.0", "3" }, { "-0", "0" },
		{ "-0.00:1", "0:1" }, { ":10", "0:10" }, { "@:3", "@0:3" }, { "0", "0" },
		{ "123456789012345678901234", "123456789012345678901234" },
	};
	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		struct range r;
		ck_assert_msg(range_parse(ok[i].in, &r), "'%s' refused", ok[i].in);
		ck_assert(r.set);
		ck_assert_str_eq(r.text, ok[i].text);
	}
}
END_TEST

START_TEST(refused)
{
	static const char *const bad[] = {
		"", " 5", "5 ", "+5", "1e3", "1E3", "0x10", "inf", "nan", "-inf", "5.",
		"5..1", "1.2.3", "--5", "-", ".", ":", "@", "@:", "~", "~5", "5:~", "10:5",
		"5,", "5:6:7", "@@5", "5s", "\xc2\xb5" "5", "1\t", "1234567890123456789012345",
		"1:1234567890123456789012345",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct range r;
		ck_assert_msg(!range_parse(bad[i], &r), "'%s' accepted", bad[i]);
		ck_assert(!r.set);
	}
	struct range r;
	ck_assert(!range_parse(NULL, &r));
}
END_TEST

START_TEST(alerts)
{
	struct range r;
	ck_assert(range_parse("10", &r));
	ck_assert(!range_alert(&r, 0) && !range_alert(&r, 10) && range_alert(&r, 10.5));
	ck_assert(range_alert(&r, -1));
	ck_assert(range_parse("10:", &r));
	ck_assert(range_alert(&r, 9.9) && !range_alert(&r, 10) && !range_alert(&r, 1e9));
	ck_assert(range_parse("~:10", &r));
	ck_assert(!range_alert(&r, -1e9) && range_alert(&r, 11));
	ck_assert(range_parse("@10:20", &r));
	ck_assert(range_alert(&r, 10) && range_alert(&r, 20) && !range_alert(&r, 21));
	ck_assert(range_parse("0.25", &r));
	ck_assert(range_alert(&r, 0.26) && !range_alert(&r, 0.25));
	range_below(30, &r);
	ck_assert_str_eq(r.text, "30:");
	ck_assert(range_alert(&r, 29) && !range_alert(&r, 30));
	struct range unset = { 0 };
	ck_assert(!range_alert(&unset, 1e9));
}
END_TEST

Suite *range_suite(void)
{
	Suite *s = suite_create("range");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, accepted_and_normalised);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, alerts);
	suite_add_tcase(s, tc);
	return s;
}
