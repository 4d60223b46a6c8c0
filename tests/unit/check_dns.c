/*
 * check_dns.c - the DNS message parser (SRV, MX, TLSA, PTR), names for
 * reverse lookups, and the texts of records and answer codes.
 */
#include <string.h>

#include "dns.h"
#include "suites.h"

/* A message under construction, written the way a server would. */
struct msg {
	unsigned char b[1024];
	size_t n;
};

static void put8(struct msg *m, unsigned v) { m->b[m->n++] = (unsigned char)v; }
static void put16(struct msg *m, unsigned v) { put8(m, v >> 8); put8(m, v & 0xff); }
static void put32(struct msg *m, unsigned long v)
{
	put16(m, (unsigned)(v >> 16));
	put16(m, (unsigned)(v & 0xffff));
}

static void put_name(struct msg *m, const char *name)
{
	while (*name) {
		size_t l = strcspn(name, ".");
		put8(m, (unsigned)l);
		memcpy(m->b + m->n, name, l);
		m->n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	put8(m, 0);
}

static void header(struct msg *m, unsigned flags, unsigned an, const char *q, unsigned qtype)
{
	m->n = 0;
	put16(m, 0x1234);
	put16(m, flags);
	put16(m, 1);
	put16(m, an);
	put16(m, 0);
	put16(m, 0);
	put_name(m, q);
	put16(m, qtype);
	put16(m, 1);
}

/* An answer record whose owner points at the question (offset 12). */
static size_t rr_start(struct msg *m, unsigned type, unsigned long ttl)
{
	put16(m, 0xc00c);
	put16(m, type);
	put16(m, 1);
	put32(m, ttl);
	put16(m, 0); /* rdlength, patched by rr_end */
	return m->n;
}

static void rr_end(struct msg *m, size_t start)
{
	size_t len = m->n - start;
	m->b[start - 2] = (unsigned char)(len >> 8);
	m->b[start - 1] = (unsigned char)(len & 0xff);
}

START_TEST(srv_records)
{
	struct msg m;
	header(&m, 0x81a0 /* QR RD RA AD */, 2, "_submissions._tcp.example.net", DNS_T_SRV);
	size_t s = rr_start(&m, DNS_T_SRV, 3600);
	put16(&m, 10);
	put16(&m, 5);
	put16(&m, 465);
	put_name(&m, "mail.example.net");
	rr_end(&m, s);
	s = rr_start(&m, DNS_T_SRV, 300);
	put16(&m, 0);
	put16(&m, 0);
	put16(&m, 0);
	put8(&m, 0); /* target "." */
	rr_end(&m, s);

	struct arena a = { 0 };
	struct dns_answer ans = { 0 };
	ck_assert(dns_parse(m.b, m.n, DNS_T_SRV, &a, &ans));
	ck_assert_int_eq(ans.rcode, DNS_NOERROR);
	ck_assert(ans.ad);
	ck_assert_uint_eq(ans.nrecords, 2);
	ck_assert_str_eq(ans.records[0].name, "_submissions._tcp.example.net");
	ck_assert_str_eq(ans.records[0].target, "mail.example.net");
	ck_assert_uint_eq(ans.records[0].port, 465);
	ck_assert_uint_eq(ans.records[0].priority, 10);
	ck_assert_uint_eq(ans.records[0].weight, 5);
	ck_assert_uint_eq(ans.records[0].ttl, 3600);
	ck_assert_str_eq(dns_record_text(&ans.records[0], &a), "10 5 465 mail.example.net");
	ck_assert_str_eq(dns_record_text(&ans.records[1], &a), "0 0 0 .");
	arena_free(&a);
}
END_TEST

START_TEST(mx_tlsa_ptr)
{
	struct arena a = { 0 };
	struct msg m;
	header(&m, 0x8180, 1, "example.net", DNS_T_MX);
	size_t s = rr_start(&m, DNS_T_MX, 86400);
	put16(&m, 20);
	put_name(&m, "mx2.example.net");
	rr_end(&m, s);
	struct dns_answer mx = { 0 };
	ck_assert(dns_parse(m.b, m.n, DNS_T_MX, &a, &mx));
	ck_assert(!mx.ad);
	ck_assert_uint_eq(mx.nrecords, 1);
	ck_assert_str_eq(dns_record_text(&mx.records[0], &a), "20 mx2.example.net");

	header(&m, 0x8180, 1, "_25._tcp.mx2.example.net", DNS_T_TLSA);
	s = rr_start(&m, DNS_T_TLSA, 60);
	put8(&m, 3);
	put8(&m, 1);
	put8(&m, 1);
	for (unsigned i = 0; i < 32; i++)
		put8(&m, i);
	rr_end(&m, s);
	struct dns_answer tlsa = { 0 };
	ck_assert(dns_parse(m.b, m.n, DNS_T_TLSA, &a, &tlsa));
	ck_assert_uint_eq(tlsa.records[0].usage, 3);
	ck_assert_uint_eq(tlsa.records[0].datalen, 32);
	ck_assert_str_eq(dns_record_text(&tlsa.records[0], &a),
			 "3 1 1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");

	header(&m, 0x8180, 1, "1.0.0.127.in-addr.arpa", DNS_T_PTR);
	s = rr_start(&m, DNS_T_PTR, 120);
	put_name(&m, "localhost");
	rr_end(&m, s);
	struct dns_answer ptr = { 0 };
	ck_assert(dns_parse(m.b, m.n, DNS_T_PTR, &a, &ptr));
	ck_assert_str_eq(ptr.records[0].target, "localhost");
	arena_free(&a);
}
END_TEST

START_TEST(rcodes_and_other_types)
{
	struct arena a = { 0 };
	struct msg m;
	header(&m, 0x8183, 0, "nx.example", DNS_T_MX);
	struct dns_answer ans = { 0 };
	ck_assert(dns_parse(m.b, m.n, DNS_T_MX, &a, &ans));
	ck_assert_int_eq(ans.rcode, DNS_NXDOMAIN);
	ck_assert_str_eq(dns_rcode_name(ans.rcode), "NXDOMAIN");
	ck_assert(strstr(dns_rcode_sentence(DNS_SERVFAIL), "SERVFAIL"));

	/* A CNAME before the MX: skipped, the MX kept. */
	header(&m, 0x8180, 2, "alias.example", DNS_T_MX);
	size_t s = rr_start(&m, 5 /* CNAME */, 60);
	put_name(&m, "real.example");
	rr_end(&m, s);
	s = rr_start(&m, DNS_T_MX, 60);
	put16(&m, 0);
	put8(&m, 0);
	rr_end(&m, s);
	struct dns_answer cn = { 0 };
	ck_assert(dns_parse(m.b, m.n, DNS_T_MX, &a, &cn));
	ck_assert_uint_eq(cn.nrecords, 1);
	ck_assert_str_eq(dns_record_text(&cn.records[0], &a), "0 .");
	arena_free(&a);
}
END_TEST

START_TEST(malformed)
{
	struct arena a = { 0 };
	struct msg m;
	struct dns_answer ans = { 0 };
	ck_assert(!dns_parse((const unsigned char *)"\x12\x34", 2, DNS_T_MX, &a, &ans));
	ck_assert_int_eq(ans.rcode, DNS_BAD_ANSWER);

	/* rdlength beyond the end */
	header(&m, 0x8180, 1, "example.net", DNS_T_MX);
	size_t s = rr_start(&m, DNS_T_MX, 60);
	put16(&m, 10);
	put_name(&m, "mx.example.net");
	rr_end(&m, s);
	m.b[s - 1] += 40;
	memset(&ans, 0, sizeof ans);
	ck_assert(!dns_parse(m.b, m.n, DNS_T_MX, &a, &ans));

	/* a count of answers the message cannot hold */
	header(&m, 0x8180, 0xffff, "example.net", DNS_T_MX);
	memset(&ans, 0, sizeof ans);
	ck_assert(!dns_parse(m.b, m.n, DNS_T_MX, &a, &ans));

	/* a compression pointer to itself */
	header(&m, 0x8180, 1, "example.net", DNS_T_PTR);
	s = rr_start(&m, DNS_T_PTR, 60);
	put16(&m, 0xc000 | (unsigned)m.n);
	rr_end(&m, s);
	memset(&ans, 0, sizeof ans);
	ck_assert(!dns_parse(m.b, m.n, DNS_T_PTR, &a, &ans));

	/* an MX record too short for its name */
	header(&m, 0x8180, 1, "example.net", DNS_T_MX);
	s = rr_start(&m, DNS_T_MX, 60);
	put16(&m, 10);
	rr_end(&m, s);
	memset(&ans, 0, sizeof ans);
	ck_assert(!dns_parse(m.b, m.n, DNS_T_MX, &a, &ans));
	arena_free(&a);
}
END_TEST

START_TEST(reverse_names)
{
	struct arena a = { 0 };
	ck_assert_str_eq(dns_ptr_name("192.0.2.25", &a), "25.2.0.192.in-addr.arpa");
	ck_assert_str_eq(dns_ptr_name("2001:db8::1", &a),
			 "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	ck_assert_ptr_null(dns_ptr_name("mail.example.net", &a));
	ck_assert_str_eq(dns_type_name(DNS_T_TLSA), "TLSA");
	arena_free(&a);
}
END_TEST

Suite *dns_suite(void)
{
	Suite *s = suite_create("dns");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, srv_records);
	tcase_add_test(tc, mx_tlsa_ptr);
	tcase_add_test(tc, rcodes_and_other_types);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, reverse_names);
	suite_add_tcase(s, tc);
	return s;
}
