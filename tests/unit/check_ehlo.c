/*
 * check_ehlo.c - EHLO replies as real servers send them, turned into
 * capability sets.
 */
#include <string.h>

#include "ehlo.h"
#include "suites.h"

static struct reply_parser P;
static struct ehlo_caps C;

static void setup(void)
{
	reply_parser_init(&P);
	memset(&C, 0, sizeof C);
}

static void teardown(void)
{
	ehlo_caps_free(&C);
	reply_parser_free(&P);
}

static bool parse(const char *s)
{
	size_t used;
	ck_assert_int_eq(reply_parser_feed(&P, s, strlen(s), &used), REPLY_COMPLETE);
	ehlo_caps_free(&C);
	return ehlo_parse(&P.reply, &C);
}

START_TEST(postfix_before_tls)
{
	ck_assert(parse("250-mail.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
			"250-VRFY\r\n250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n"
			"250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n"));
	ck_assert(C.valid);
	ck_assert_str_eq(C.server_name, "mail.test");
	unsigned want = CAP_PIPELINING | CAP_SIZE | CAP_STARTTLS |
			CAP_ENHANCEDSTATUSCODES | CAP_8BITMIME | CAP_DSN |
			CAP_SMTPUTF8 | CAP_CHUNKING;
	ck_assert_uint_eq(C.caps, want);
	ck_assert_uint_eq(C.size, 10240000);
	ck_assert_uint_eq(C.nmech, 0);
	ck_assert_uint_eq(C.next, 10);
	ck_assert_str_eq(C.exts[1], "SIZE 10240000");
}
END_TEST

START_TEST(auth_list_in_order)
{
	ck_assert(parse("250-smtp.example Hello\r\n250-AUTH LOGIN PLAIN CRAM-MD5 XOAUTH2\r\n"
			"250 HELP\r\n"));
	ck_assert(C.caps & CAP_AUTH);
	ck_assert_uint_eq(C.nmech, 4);
	ck_assert_str_eq(C.mech_names[0], "LOGIN");
	ck_assert_str_eq(C.mech_names[3], "XOAUTH2");
	ck_assert_uint_eq(C.mechs, MECH_LOGIN | MECH_PLAIN | MECH_CRAM_MD5 | MECH_XOAUTH2);
}
END_TEST

START_TEST(auth_legacy_and_duplicates)
{
	/* Exchange sends both forms; old Outlook only read "AUTH=". */
	ck_assert(parse("250-ex.example\r\n250-AUTH GSSAPI NTLM LOGIN\r\n"
			"250-AUTH=LOGIN\r\n250 OK\r\n"));
	ck_assert(C.caps & CAP_AUTH_LEGACY);
	ck_assert_uint_eq(C.nmech, 3);
	ck_assert_uint_eq(C.mechs, MECH_GSSAPI | MECH_NTLM | MECH_LOGIN);
}
END_TEST

START_TEST(lowercase_and_unknown_mechs)
{
	ck_assert(parse("250-x\r\n250-auth plain scram-sha-256 X-FANCY\r\n250 starttls\r\n"));
	ck_assert(C.caps & CAP_STARTTLS);
	ck_assert_uint_eq(C.nmech, 3);
	ck_assert_str_eq(C.mech_names[1], "SCRAM-SHA-256");
	ck_assert_str_eq(C.mech_names[2], "X-FANCY");
	ck_assert_uint_eq(C.mechs, MECH_PLAIN | MECH_SCRAM_SHA_256);
}
END_TEST

START_TEST(empty_auth_and_keyword_prefixes)
{
	/* "AUTH" alone offers nothing; STARTTLSX is not STARTTLS. */
	ck_assert(parse("250-x\r\n250-AUTH\r\n250-STARTTLSX\r\n250 SIZE\r\n"));
	ck_assert(C.caps & CAP_AUTH);
	ck_assert(!(C.caps & CAP_STARTTLS));
	ck_assert_uint_eq(C.nmech, 0);
	ck_assert_uint_eq(C.size, 0);
}
END_TEST

START_TEST(single_line_ehlo)
{
	ck_assert(parse("250 tiny.example\r\n"));
	ck_assert_uint_eq(C.caps, 0);
	ck_assert_str_eq(C.server_name, "tiny.example");
}
END_TEST

START_TEST(not_250)
{
	ck_assert(!parse("502 5.5.2 Error: command not recognized\r\n"));
	ck_assert(!C.valid);
}
END_TEST

START_TEST(mech_names)
{
	ck_assert_uint_eq(sasl_mech_bit("cram-md5"), MECH_CRAM_MD5);
	ck_assert_uint_eq(sasl_mech_bit("NOPE"), 0);
	ck_assert_str_eq(sasl_mech_name(MECH_SCRAM_SHA_256_PLUS), "SCRAM-SHA-256-PLUS");
}
END_TEST

START_TEST(copy_is_deep)
{
	ck_assert(parse("250-x\r\n250-AUTH PLAIN\r\n250 PIPELINING\r\n"));
	struct ehlo_caps copy;
	ehlo_caps_copy(&copy, &C);
	ehlo_caps_free(&C);
	ck_assert_str_eq(copy.exts[0], "AUTH PLAIN");
	ck_assert_str_eq(copy.server_name, "x");
	ehlo_caps_free(&copy);
}
END_TEST

Suite *ehlo_suite(void)
{
	Suite *s = suite_create("ehlo");
	TCase *tc = tcase_create("capabilities");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, postfix_before_tls);
	tcase_add_test(tc, auth_list_in_order);
	tcase_add_test(tc, auth_legacy_and_duplicates);
	tcase_add_test(tc, lowercase_and_unknown_mechs);
	tcase_add_test(tc, empty_auth_and_keyword_prefixes);
	tcase_add_test(tc, single_line_ehlo);
	tcase_add_test(tc, not_250);
	tcase_add_test(tc, mech_names);
	tcase_add_test(tc, copy_is_deep);
	suite_add_tcase(s, tc);
	return s;
}
