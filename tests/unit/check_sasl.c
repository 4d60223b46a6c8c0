/*
 * check_sasl.c - the AUTH mechanisms against their RFCs' own examples
 * (RFC 2195 CRAM-MD5, RFC 5802 SCRAM-SHA-1, RFC 7677 SCRAM-SHA-256), and
 * what the transcript may show of them.
 */
#include <string.h>

#include "ehlo.h"
#include "sasl.h"
#include "suites.h"

static struct buf L, S, E;
static struct sasl X;

static void setup(void)
{
	buf_init(&L);
	buf_init(&S);
	buf_init(&E);
	memset(&X, 0, sizeof X);
}

static void teardown(void)
{
	sasl_clear(&X);
	buf_free(&L);
	buf_free(&S);
	buf_free(&E);
}

static const char *b64(const char *s)
{
	static struct buf b;
	buf_free(&b);
	buf_init(&b);
	base64_encode(s, strlen(s), &b);
	return buf_cstr(&b);
}

static const char *unb64(const char *s)
{
	static struct buf b;
	buf_free(&b);
	buf_init(&b);
	ck_assert_int_eq(base64_decode(s, &b), 0);
	return buf_cstr(&b);
}

static void reset(void)
{
	buf_reset(&L);
	buf_reset(&S);
	buf_reset(&E);
}

START_TEST(base64_roundtrip)
{
	ck_assert_str_eq(b64(""), "");
	ck_assert_str_eq(b64("f"), "Zg==");
	ck_assert_str_eq(b64("fo"), "Zm8=");
	ck_assert_str_eq(b64("foo"), "Zm9v");
	ck_assert_str_eq(unb64("Zm9vYg=="), "foob");
	ck_assert_str_eq(unb64("VXNlcm5hbWU6"), "Username:");
	struct buf b;
	buf_init(&b);
	ck_assert_int_eq(base64_decode("abc", &b), -1);
	ck_assert_int_eq(base64_decode("a$c=", &b), -1);
	buf_free(&b);
}
END_TEST

START_TEST(choice)
{
	ck_assert_uint_eq(sasl_choose(MECH_PLAIN | MECH_LOGIN), MECH_PLAIN);
	ck_assert_uint_eq(sasl_choose(MECH_LOGIN | MECH_CRAM_MD5), MECH_CRAM_MD5);
	ck_assert_uint_eq(sasl_choose(MECH_SCRAM_SHA_256 | MECH_PLAIN | MECH_SCRAM_SHA_1),
			  MECH_SCRAM_SHA_256);
	ck_assert_uint_eq(sasl_choose(MECH_NTLM | MECH_GSSAPI | MECH_XOAUTH2), 0);
}
END_TEST

START_TEST(plain)
{
	ck_assert_int_eq(sasl_start(&X, MECH_PLAIN, "alice@example.test", "s3cret", &L, &S, &E), 0);
	/* AUTH PLAIN base64("\0alice@example.test\0s3cret") */
	ck_assert_str_eq(buf_cstr(&L), "AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQ=");
	ck_assert_str_eq(buf_cstr(&S), "AUTH PLAIN <redacted>");
	/* A server that ignores the initial response asks with an empty 334. */
	reset();
	ck_assert_int_eq(sasl_step(&X, "", &L, &S, &E), 0);
	ck_assert_str_eq(buf_cstr(&L), "AGFsaWNlQGV4YW1wbGUudGVzdABzM2NyZXQ=");
	ck_assert_str_eq(buf_cstr(&S), "<redacted>");
}
END_TEST

START_TEST(login)
{
	ck_assert_int_eq(sasl_start(&X, MECH_LOGIN, "alice", "s3cret", &L, &S, &E), 0);
	ck_assert_str_eq(buf_cstr(&L), "AUTH LOGIN");
	reset();
	ck_assert_int_eq(sasl_step(&X, "VXNlcm5hbWU6", &L, &S, &E), 0);
	ck_assert_str_eq(buf_cstr(&L), b64("alice"));
	reset();
	ck_assert_int_eq(sasl_step(&X, "UGFzc3dvcmQ6", &L, &S, &E), 0);
	ck_assert_str_eq(buf_cstr(&L), b64("s3cret"));
	ck_assert_str_eq(buf_cstr(&S), "<redacted>");
	reset();
	ck_assert_int_eq(sasl_step(&X, "UGFzc3dvcmQ6", &L, &S, &E), -1);
}
END_TEST

START_TEST(cram_md5_rfc2195)
{
	ck_assert_int_eq(sasl_start(&X, MECH_CRAM_MD5, "tim", "tanstaaftanstaaf", &L, &S, &E), 0);
	ck_assert_str_eq(buf_cstr(&L), "AUTH CRAM-MD5");
	reset();
	ck_assert_int_eq(sasl_step(&X, b64("<1896.697170952@postoffice.reston.mci.net>"),
				   &L, &S, &E), 0);
	ck_assert_str_eq(unb64(buf_cstr(&L)), "tim b913a602c7eda7a495b4e6e7334d3890");
}
END_TEST

START_TEST(scram_sha1_rfc5802)
{
	ck_assert_int_eq(sasl_start_nonce(&X, MECH_SCRAM_SHA_1, "user", "pencil",
					  "fyko+d2lbbFgONRv9qkxdawL", &L, &S, &E), 0);
	ck_assert_str_eq(buf_cstr(&S), "AUTH SCRAM-SHA-1 <redacted>");
	ck_assert_str_eq(unb64(buf_cstr(&L) + strlen("AUTH SCRAM-SHA-1 ")),
			 "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
	reset();
	ck_assert_int_eq(sasl_step(&X, b64("r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
					   "s=QSXCR+Q6sek8bf92,i=4096"), &L, &S, &E), 0);
	ck_assert_str_eq(unb64(buf_cstr(&L)),
			 "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,"
			 "p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
	ck_assert(!sasl_server_verified(&X));
	reset();
	ck_assert_int_eq(sasl_step(&X, b64("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="), &L, &S, &E), 0);
	ck_assert_str_eq(buf_cstr(&L), "");
	ck_assert(sasl_server_verified(&X));
}
END_TEST

START_TEST(scram_sha256_rfc7677)
{
	ck_assert_int_eq(sasl_start_nonce(&X, MECH_SCRAM_SHA_256, "user", "pencil",
					  "rOprNGfwEbeRWgbNEkqO", &L, &S, &E), 0);
	reset();
	ck_assert_int_eq(sasl_step(&X, b64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
					   "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"), &L, &S, &E), 0);
	ck_assert_str_eq(unb64(buf_cstr(&L)),
			 "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			 "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	reset();
	ck_assert_int_eq(sasl_step(&X, b64("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
				   &L, &S, &E), 0);
	ck_assert(sasl_server_verified(&X));
}
END_TEST

START_TEST(scram_rejects_liars)
{
	/* A server signature that does not match: a man in the middle. */
	sasl_start_nonce(&X, MECH_SCRAM_SHA_256, "user", "pencil", "rOprNGfwEbeRWgbNEkqO",
			 &L, &S, &E);
	reset();
	sasl_step(&X, b64("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
			  "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"), &L, &S, &E);
	reset();
	ck_assert_int_eq(sasl_step(&X, b64("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="),
				   &L, &S, &E), -1);
	ck_assert(!sasl_server_verified(&X));
	ck_assert(strstr(buf_cstr(&E), "signature") != NULL);
	/* A nonce that does not extend ours. */
	sasl_start_nonce(&X, MECH_SCRAM_SHA_256, "user", "pencil", "abc", &L, &S, &E);
	reset();
	ck_assert_int_eq(sasl_step(&X, b64("r=xyz123,s=QSXCR+Q6sek8bf92,i=4096"), &L, &S, &E), -1);
	/* An iteration count meant to burn CPU. */
	sasl_start_nonce(&X, MECH_SCRAM_SHA_256, "user", "pencil", "abc", &L, &S, &E);
	reset();
	ck_assert_int_eq(sasl_step(&X, b64("r=abc123,s=QSXCR+Q6sek8bf92,i=999999999"), &L, &S, &E),
			 -1);
	/* Garbage instead of base64. */
	reset();
	ck_assert_int_eq(sasl_step(&X, "not base64!", &L, &S, &E), -1);
}
END_TEST

START_TEST(scram_escapes_names)
{
	sasl_start_nonce(&X, MECH_SCRAM_SHA_256, "a=b,c", "x", "n0nce", &L, &S, &E);
	ck_assert_str_eq(unb64(buf_cstr(&L) + strlen("AUTH SCRAM-SHA-256 ")),
			 "n,,n=a=3Db=2Cc,r=n0nce");
}
END_TEST

START_TEST(limits)
{
	char big[SASL_MAX_CRED + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	ck_assert_int_eq(sasl_start(&X, MECH_PLAIN, big, "p", &L, &S, &E), -1);
	ck_assert_int_eq(sasl_start(&X, MECH_NTLM, "u", "p", &L, &S, &E), -1);
}
END_TEST

Suite *sasl_suite(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("mechanisms");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, base64_roundtrip);
	tcase_add_test(tc, choice);
	tcase_add_test(tc, plain);
	tcase_add_test(tc, login);
	tcase_add_test(tc, cram_md5_rfc2195);
	tcase_add_test(tc, scram_sha1_rfc5802);
	tcase_add_test(tc, scram_sha256_rfc7677);
	tcase_add_test(tc, scram_rejects_liars);
	tcase_add_test(tc, scram_escapes_names);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	return s;
}
