/*
 * check_reply.c - the SMTP reply parser: well-formed replies, the ways
 * servers bend the format, and the bounds that keep memory finite.
 */
#include <stdio.h>
#include <string.h>

#include "reply.h"
#include "suites.h"

static struct reply_parser P;

static void setup(void)
{
	reply_parser_init(&P);
}

static void teardown(void)
{
	reply_parser_free(&P);
}

/* Feed all of s; expect exactly one complete reply using all bytes. */
static const struct reply *one(const char *s)
{
	size_t used;
	enum reply_status st = reply_parser_feed(&P, s, strlen(s), &used);
	ck_assert_int_eq(st, REPLY_COMPLETE);
	ck_assert_uint_eq(used, strlen(s));
	return &P.reply;
}

static enum reply_status feed_all(const char *s, size_t n)
{
	size_t used;
	return reply_parser_feed(&P, s, n, &used);
}

START_TEST(single_line)
{
	const struct reply *r = one("220 mail.test ESMTP Postfix\r\n");
	ck_assert_int_eq(r->code, 220);
	ck_assert_uint_eq(r->nlines, 1);
	ck_assert_str_eq(r->lines[0], "mail.test ESMTP Postfix");
	ck_assert_str_eq(r->text, "mail.test ESMTP Postfix");
	ck_assert_str_eq(r->enhanced, "");
	ck_assert(!r->bare_lf);
}
END_TEST

START_TEST(continuation_lines)
{
	const struct reply *r = one("250-mail.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
				    "250 STARTTLS\r\n");
	ck_assert_int_eq(r->code, 250);
	ck_assert_uint_eq(r->nlines, 4);
	ck_assert_str_eq(r->lines[0], "mail.test");
	ck_assert_str_eq(r->lines[2], "SIZE 10240000");
	ck_assert_str_eq(r->lines[3], "STARTTLS");
	ck_assert_str_eq(r->text, "mail.test\nPIPELINING\nSIZE 10240000\nSTARTTLS");
}
END_TEST

START_TEST(code_only_line)
{
	const struct reply *r = one("250\r\n");
	ck_assert_int_eq(r->code, 250);
	ck_assert_str_eq(r->lines[0], "");
}
END_TEST

START_TEST(enhanced_code)
{
	const struct reply *r = one("554 5.7.1 <x@example.com>: Relay access denied\r\n");
	ck_assert_int_eq(r->code, 554);
	ck_assert_str_eq(r->enhanced, "5.7.1");
	r = one("535 5.7.8 Error: authentication failed\r\n");
	ck_assert_str_eq(r->enhanced, "5.7.8");
	r = one("250 2.1.5 Ok\r\n");
	ck_assert_str_eq(r->enhanced, "2.1.5");
	r = one("451 4.7.1 Try again later\r\n");
	ck_assert_str_eq(r->enhanced, "4.7.1");
}
END_TEST

START_TEST(enhanced_code_rejected)
{
	/* The class must match the code; no leading zeros; digits only. */
	ck_assert_str_eq(one("550 4.7.1 mismatch\r\n")->enhanced, "");
	ck_assert_str_eq(one("550 5.07.1 leading zero\r\n")->enhanced, "");
	ck_assert_str_eq(one("550 5.7 short\r\n")->enhanced, "");
	ck_assert_str_eq(one("550 5.7.1000 too long\r\n")->enhanced, "");
	ck_assert_str_eq(one("550 5.7.1x glued\r\n")->enhanced, "");
	ck_assert_str_eq(one("550 5.7.10\r\n")->enhanced, "5.7.10");
}
END_TEST

/* qmail's "(#5.7.1)" at the end of the text, as --explain and the probe read it. */
START_TEST(enhanced_code_after_hash)
{
	static const struct {
		const char *text;
		int code;
		const char *want;      /* "" when none is found */
	} cases[] = {
		{ "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", 553, "5.7.1" },
		{ "authorization failed (#5.7.0)", 535, "5.7.0" },
		{ "sorry, no mailbox here by that name (#5.1.1 - chkuser)", 511, "5.1.1" },
		{ "qq temporary problem (#4.3.0)", 451, "4.3.0" },
		{ "no mailbox (#5.1.1)", 0, "5.1.1" },               /* code unknown: any class */
		{ "ends with the code #5.7.1", 553, "5.7.1" },
		{ "#4.7.1, then words", 450, "4.7.1" },
		{ "#5.7.1; then words", 553, "5.7.1" },
		{ "ticket #12 (#5.7.1)", 553, "5.7.1" },              /* a '#' that is not a code first */
		{ "class differs (#4.7.1)", 553, "" },                /* 4.x.x does not go with 553 */
		{ "two parts only (#5.7)", 553, "" },
		{ "leading zero (#5.07.1)", 553, "" },
		{ "four digits (#5.1000.1)", 553, "" },
		{ "glued to a word (#5.7.1x)", 553, "" },
		{ "class 3 (#3.7.1)", 0, "" },
		{ "no hash 5.7.1", 553, "" },
		{ "#", 553, "" },
		{ "", 553, "" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char out[16] = "unchanged";
		size_t n = reply_find_enhanced(cases[i].text, cases[i].code, out);
		if (cases[i].want[0]) {
			ck_assert_msg(n > 0, "%s: not found", cases[i].text);
			ck_assert_str_eq(out, cases[i].want);
		} else {
			ck_assert_msg(n == 0, "%s: found %s", cases[i].text, out);
			ck_assert_str_eq(out, "unchanged");
		}
	}
}
END_TEST

START_TEST(bare_lf)
{
	const struct reply *r = one("250-one\n250 two\n");
	ck_assert_uint_eq(r->nlines, 2);
	ck_assert_str_eq(r->lines[1], "two");
	ck_assert(r->bare_lf);
}
END_TEST

START_TEST(byte_by_byte)
{
	const char *s = "250-a\r\n250 b\r\n";
	size_t n = strlen(s), used;
	for (size_t i = 0; i + 1 < n; i++) {
		ck_assert_int_eq(reply_parser_feed(&P, s + i, 1, &used), REPLY_NEED_MORE);
		ck_assert_uint_eq(used, 1);
		ck_assert(reply_parser_partial(&P));
	}
	ck_assert_int_eq(reply_parser_feed(&P, s + n - 1, 1, &used), REPLY_COMPLETE);
	ck_assert_str_eq(P.reply.text, "a\nb");
	ck_assert(!reply_parser_partial(&P));
}
END_TEST

START_TEST(stops_after_each_reply)
{
	/* What follows a reply (here: injected text after a STARTTLS 220)
	 * is left to the caller, byte-exactly. */
	const char *s = "220 2.0.0 Ready\r\n250 injected\r\n";
	size_t used;
	ck_assert_int_eq(reply_parser_feed(&P, s, strlen(s), &used), REPLY_COMPLETE);
	ck_assert_uint_eq(used, strlen("220 2.0.0 Ready\r\n"));
	ck_assert_int_eq(P.reply.code, 220);
	ck_assert_int_eq(reply_parser_feed(&P, s + used, strlen(s) - used, &used),
			 REPLY_COMPLETE);
	ck_assert_int_eq(P.reply.code, 250);
}
END_TEST

START_TEST(mixed_codes)
{
	const char *s = "250-mail.test\r\n251 other\r\n";
	ck_assert_int_eq(feed_all(s, strlen(s)), REPLY_ERROR);
	ck_assert_int_eq(P.error, REPLY_ERR_MIXED_CODES);
	/* A failed parser stays failed. */
	ck_assert_int_eq(feed_all("250 ok\r\n", 8), REPLY_ERROR);
}
END_TEST

START_TEST(non_digit_codes)
{
	const char *cases[] = {
		"SSH-2.0-OpenSSH_9.2\r\n", "HTTP/1.1 400 Bad Request\r\n",
		"2x0 nope\r\n", "22\r\n", "220x\r\n", "\r\n",
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		reply_parser_reset(&P);
		ck_assert_int_eq(feed_all(cases[i], strlen(cases[i])), REPLY_ERROR);
		ck_assert_int_eq(P.error, REPLY_ERR_NOT_SMTP);
	}
}
END_TEST

START_TEST(codes_out_of_range)
{
	const char *cases[] = { "199 low\r\n", "600 high\r\n", "000 zero\r\n", "999 x\r\n" };
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		reply_parser_reset(&P);
		ck_assert_int_eq(feed_all(cases[i], strlen(cases[i])), REPLY_ERROR);
		ck_assert_int_eq(P.error, REPLY_ERR_BAD_CODE);
	}
}
END_TEST

START_TEST(overlong_line)
{
	char line[REPLY_LINE_MAX + 16];
	memset(line, 'A', sizeof line);
	memcpy(line, "220 ", 4);
	/* No CRLF in sight: the parser must give up at the limit. */
	size_t used;
	ck_assert_int_eq(reply_parser_feed(&P, line, sizeof line, &used), REPLY_ERROR);
	ck_assert_int_eq(P.error, REPLY_ERR_LINE_TOO_LONG);
	ck_assert(used <= sizeof line);
	ck_assert(strstr(reply_error_str(P.error), "1000") != NULL);
}
END_TEST

START_TEST(overlong_line_in_chunks)
{
	/* A megabyte without CRLF, fed as a network would: bounded memory. */
	char chunk[4096];
	memset(chunk, 'B', sizeof chunk);
	enum reply_status st = REPLY_NEED_MORE;
	size_t fed = 0;
	while (st == REPLY_NEED_MORE && fed < 1u << 20) {
		st = feed_all(chunk, sizeof chunk);
		fed += sizeof chunk;
	}
	ck_assert_int_eq(st, REPLY_ERROR);
	ck_assert_int_eq(P.error, REPLY_ERR_LINE_TOO_LONG);
	ck_assert(fed <= 2 * sizeof chunk);
	ck_assert(P.line.cap <= 4 * REPLY_LINE_MAX);
}
END_TEST

START_TEST(long_but_allowed_line)
{
	char line[800];
	memset(line, 'C', sizeof line);
	memcpy(line, "250 ", 4);
	memcpy(line + sizeof line - 2, "\r\n", 2);
	size_t used;
	ck_assert_int_eq(reply_parser_feed(&P, line, sizeof line, &used), REPLY_COMPLETE);
	ck_assert(P.reply.overlong);
}
END_TEST

START_TEST(too_many_lines)
{
	enum reply_status st = REPLY_NEED_MORE;
	int i;
	for (i = 0; i < REPLY_LINES_MAX + 5 && st == REPLY_NEED_MORE; i++)
		st = feed_all("250-still going\r\n", 17);
	ck_assert_int_eq(st, REPLY_ERROR);
	ck_assert_int_eq(P.error, REPLY_ERR_TOO_MANY_LINES);
	ck_assert_int_eq(i, REPLY_LINES_MAX + 1);
}
END_TEST

START_TEST(nul_byte)
{
	const char s[] = "220 mail\0test\r\n";
	ck_assert_int_eq(feed_all(s, sizeof s - 1), REPLY_ERROR);
	ck_assert_int_eq(P.error, REPLY_ERR_NUL);
	ck_assert_uint_eq(P.raw.len, sizeof s - 3);
}
END_TEST

START_TEST(control_and_8bit_bytes_kept)
{
	const struct reply *r = one("220 caf\xc3\xa9 \x01\xff ok\r\n");
	ck_assert_str_eq(r->lines[0], "caf\xc3\xa9 \x01\xff ok");
}
END_TEST

START_TEST(reset_after_error)
{
	feed_all("xyz\r\n", 5);
	ck_assert_int_eq(P.error, REPLY_ERR_NOT_SMTP);
	reply_parser_reset(&P);
	ck_assert_int_eq(one("220 ok\r\n")->code, 220);
}
END_TEST

static const char *joined(const char *text, const char *enhanced)
{
	static char out[256];
	struct buf b;
	buf_init(&b);
	reply_join(&b, text, enhanced);
	snprintf(out, sizeof out, "%s", buf_cstr(&b));
	buf_free(&b);
	return out;
}

/* One line for every report: each line's repeated enhanced code once, no
 * line dropped, no line break left in. */
START_TEST(join_lines)
{
	ck_assert_str_eq(joined("5.7.9 Application-specific password required. Learn more at\n"
				"5.7.9  https://support.example/p=x d2sm - gsmtp", "5.7.9"),
			 "Application-specific password required. Learn more at "
			 "https://support.example/p=x d2sm - gsmtp");
	ck_assert_str_eq(joined("4.7.0 Try again later, closing connection. (MAIL)\n"
				"4.7.0  https://support.example/a", "4.7.0"),
			 "Try again later, closing connection. (MAIL) https://support.example/a");
	/* No enhanced code: the lines as they are, joined. */
	ck_assert_str_eq(joined("mail.test ESMTP\nsecond line", ""), "mail.test ESMTP second line");
	ck_assert_str_eq(joined("one\n\n  two  ", NULL), "one two");
	/* Another code inside a line, or a line that only looks like it, stays. */
	ck_assert_str_eq(joined("5.7.1 blocked\n5.7.10 more\n5.7.1x", "5.7.1"),
			 "blocked 5.7.10 more 5.7.1x");
	ck_assert_str_eq(joined("5.7.1", "5.7.1"), "");
	ck_assert_str_eq(joined("a\tb\x01\xff", ""), "a\\tb\\x01\\xff");
	ck_assert_str_eq(joined(NULL, "5.7.1"), "");
}
END_TEST

Suite *reply_suite(void)
{
	Suite *s = suite_create("reply");
	TCase *tc = tcase_create("parser");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, single_line);
	tcase_add_test(tc, continuation_lines);
	tcase_add_test(tc, code_only_line);
	tcase_add_test(tc, enhanced_code);
	tcase_add_test(tc, enhanced_code_rejected);
	tcase_add_test(tc, enhanced_code_after_hash);
	tcase_add_test(tc, bare_lf);
	tcase_add_test(tc, byte_by_byte);
	tcase_add_test(tc, stops_after_each_reply);
	tcase_add_test(tc, mixed_codes);
	tcase_add_test(tc, non_digit_codes);
	tcase_add_test(tc, codes_out_of_range);
	tcase_add_test(tc, overlong_line);
	tcase_add_test(tc, overlong_line_in_chunks);
	tcase_add_test(tc, long_but_allowed_line);
	tcase_add_test(tc, too_many_lines);
	tcase_add_test(tc, nul_byte);
	tcase_add_test(tc, control_and_8bit_bytes_kept);
	tcase_add_test(tc, reset_after_error);
	tcase_add_test(tc, join_lines);
	suite_add_tcase(s, tc);
	return s;
}
