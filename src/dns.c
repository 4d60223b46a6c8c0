/*
 * dns.c - raw DNS queries through c-ares and a small parser for the
 * records smtpcheck reads (see dns.h).
 */
#include "dns.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

const char *dns_type_name(int type)
{
	switch (type) {
	case DNS_T_A: return "A";
	case DNS_T_AAAA: return "AAAA";
	case DNS_T_PTR: return "PTR";
	case DNS_T_MX: return "MX";
	case DNS_T_SRV: return "SRV";
	case DNS_T_TLSA: return "TLSA";
	default: return "?";
	}
}

const char *dns_rcode_name(int rcode)
{
	switch (rcode) {
	case DNS_NOERROR: return "NOERROR";
	case DNS_FORMERR: return "FORMERR";
	case DNS_SERVFAIL: return "SERVFAIL";
	case DNS_NXDOMAIN: return "NXDOMAIN";
	case DNS_REFUSED: return "REFUSED";
	case DNS_NO_ANSWER: return "no answer";
	case DNS_BAD_ANSWER: return "malformed answer";
	default: return "other error";
	}
}

const char *dns_rcode_sentence(int rcode)
{
	switch (rcode) {
	case DNS_NXDOMAIN: return "NXDOMAIN, the name does not exist";
	case DNS_SERVFAIL: return "SERVFAIL, the resolver could not get an answer (broken DNSSEC, "
				  "or the domain's name servers do not answer)";
	case DNS_REFUSED: return "REFUSED, the resolver will not answer for this name";
	case DNS_FORMERR: return "FORMERR, the resolver did not understand the question";
	case DNS_NO_ANSWER: return "no answer";
	case DNS_BAD_ANSWER: return "an answer that cannot be read";
	default: return dns_rcode_name(rcode);
	}
}

bool dns_answer_failed(const struct dns_answer *a)
{
	return a && a->rcode != DNS_NOERROR && a->rcode != DNS_NXDOMAIN;
}

static uint16_t get16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A (possibly compressed) name at p, expanded with c-ares. */
static bool name_at(const unsigned char *msg, size_t len, const unsigned char *p,
		    struct arena *a, char **out, long *enclen)
{
	char *name = NULL;
	if (p >= msg + len)
		return false;
	if (ares_expand_name(p, msg, (int)len, &name, enclen) != ARES_SUCCESS)
		return false;
	*out = arena_strdup(a, name);
	ares_free_string(name);
	return true;
}

bool dns_parse(const unsigned char *msg, size_t len, int qtype, struct arena *a,
	       struct dns_answer *out)
{
	if (len < 12) {
		out->rcode = DNS_BAD_ANSWER;
		return false;
	}
	out->rcode = msg[3] & 0x0f;
	out->ad = (msg[3] & 0x20) != 0;
	unsigned qd = get16(msg + 4), an = get16(msg + 6);
	/* A record takes at least 11 octets: more than fit is a lie. */
	if (an > len / 11 || qd > len / 5) {
		out->rcode = DNS_BAD_ANSWER;
		return false;
	}
	const unsigned char *p = msg + 12, *end = msg + len;
	for (unsigned i = 0; i < qd; i++) {
		char *q;
		long n;
		if (!name_at(msg, len, p, a, &q, &n) || p + n + 4 > end) {
			out->rcode = DNS_BAD_ANSWER;
			return false;
		}
		p += n + 4;
	}
	out->records = arena_alloc(a, (an ? an : 1) * sizeof *out->records);
	for (unsigned i = 0; i < an; i++) {
		char *owner;
		long n;
		if (!name_at(msg, len, p, a, &owner, &n) || p + n + 10 > end) {
			out->rcode = DNS_BAD_ANSWER;
			return false;
		}
		p += n;
		int type = get16(p);
		uint32_t ttl = get32(p + 4);
		size_t rdlen = get16(p + 8);
		p += 10;
		const unsigned char *rd = p;
		if (p + rdlen > end) {
			out->rcode = DNS_BAD_ANSWER;
			return false;
		}
		p += rdlen;
		if (type != qtype)
			continue; /* a CNAME on the way, say */
		struct dns_record *r = &out->records[out->nrecords];
		memset(r, 0, sizeof *r);
		r->type = type;
		r->ttl = ttl;
		r->name = owner;
		bool ok = true;
		switch (type) {
		case DNS_T_SRV:
			ok = rdlen >= 7 && name_at(msg, len, rd + 6, a, &r->target, &n);
			if (ok) {
				r->priority = get16(rd);
				r->weight = get16(rd + 2);
				r->port = get16(rd + 4);
			}
			break;
		case DNS_T_MX:
			ok = rdlen >= 3 && name_at(msg, len, rd + 2, a, &r->target, &n);
			if (ok)
				r->priority = get16(rd);
			break;
		case DNS_T_PTR:
			ok = rdlen >= 1 && name_at(msg, len, rd, a, &r->target, &n);
			break;
		case DNS_T_TLSA:
			ok = rdlen >= 3;
			if (ok) {
				r->usage = rd[0];
				r->selector = rd[1];
				r->mtype = rd[2];
				r->datalen = rdlen - 3;
				r->data = arena_alloc(a, r->datalen ? r->datalen : 1);
				memcpy(r->data, rd + 3, r->datalen);
			}
			break;
		default:
			break;
		}
		if (!ok) {
			out->rcode = DNS_BAD_ANSWER;
			return false;
		}
		out->nrecords++;
	}
	return true;
}

struct query {
	struct arena *a;
	struct dns_answer *ans;
	dns_done_fn fn;
	void *arg;
	uint64_t started;
};

static void query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query *q = arg;
	(void)timeouts;
	q->ans->elapsed_us = now_us() - q->started;
	if (status == ARES_SUCCESS || (abuf && alen >= 12)) {
		dns_parse(abuf, (size_t)alen, q->ans->qtype, q->a, q->ans);
	} else {
		q->ans->rcode = DNS_NO_ANSWER;
		q->ans->status = status;
		q->ans->error = arena_strdup(q->a, resolve_status_sentence(status));
	}
	/* c-ares reports NXDOMAIN/SERVFAIL as errors without abuf at times. */
	if (status == ARES_ENOTFOUND && q->ans->rcode == DNS_NO_ANSWER)
		q->ans->rcode = DNS_NXDOMAIN;
	if (status == ARES_ESERVFAIL && q->ans->rcode == DNS_NO_ANSWER)
		q->ans->rcode = DNS_SERVFAIL;
	if (status == ARES_EREFUSED && q->ans->rcode == DNS_NO_ANSWER)
		q->ans->rcode = DNS_REFUSED;
	q->fn(q->arg, q->ans);
	free(q);
}

void dns_query(struct resolver *r, const char *qname, int qtype, struct arena *a,
	       dns_done_fn fn, void *arg)
{
	struct query *q = xcalloc(1, sizeof *q);
	q->a = a;
	q->fn = fn;
	q->arg = arg;
	q->started = now_us();
	q->ans = arena_alloc(a, sizeof *q->ans);
	q->ans->qname = arena_strdup(a, qname);
	q->ans->qtype = qtype;
	q->ans->rcode = DNS_NO_ANSWER;

	unsigned char *buf = NULL;
	int len = 0;
	int st = ares_create_query(qname, 1 /* IN */, qtype, 0, 1, &buf, &len, 1232);
	if (st != ARES_SUCCESS) {
		q->ans->error = arena_strdup(a, ares_strerror(st));
		fn(arg, q->ans);
		free(q);
		return;
	}
	/* AD=1 in the query: the resolver tells whether it validated. */
	buf[3] |= 0x20;
	ares_send(r->ch, buf, len, query_cb, q);
	ares_free_string(buf);
}

char *dns_ptr_name(const char *address, struct arena *a)
{
	unsigned char b[16];
	struct buf n;
	buf_init(&n);
	if (inet_pton(AF_INET, address, b) == 1) {
		buf_printf(&n, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
	} else if (inet_pton(AF_INET6, address, b) == 1) {
		static const char hex[] = "0123456789abcdef";
		for (int i = 15; i >= 0; i--)
			buf_printf(&n, "%c.%c.", hex[b[i] & 15], hex[b[i] >> 4]);
		buf_puts(&n, "ip6.arpa");
	} else {
		buf_free(&n);
		return NULL;
	}
	char *s = arena_strndup(a, buf_cstr(&n), n.len);
	buf_free(&n);
	return s;
}

char *dns_record_text(const struct dns_record *r, struct arena *a)
{
	struct buf b;
	buf_init(&b);
	switch (r->type) {
	case DNS_T_SRV:
		buf_printf(&b, "%u %u %u %s", r->priority, r->weight, r->port,
			   r->target[0] ? r->target : ".");
		break;
	case DNS_T_MX:
		buf_printf(&b, "%u %s", r->priority, r->target[0] ? r->target : ".");
		break;
	case DNS_T_PTR:
		buf_puts(&b, r->target);
		break;
	case DNS_T_TLSA:
		buf_printf(&b, "%u %u %u ", r->usage, r->selector, r->mtype);
		for (size_t i = 0; i < r->datalen; i++)
			buf_printf(&b, "%02x", r->data[i]);
		break;
	default:
		buf_puts(&b, "?");
	}
	char *s = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	return s;
}
