/*
 * resolve.c - c-ares queries for the probe.
 */
#include "resolve.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int resolver_init(struct resolver *r, struct loop *loop, struct buf *err)
{
	memset(r, 0, sizeof *r);
	struct ares_options opts;
	memset(&opts, 0, sizeof opts);
	/* The run's deadline bounds every query; these keep retries brisk. */
	opts.timeout = 2000;
	opts.tries = 2;
	/*
	 * Keep SERVFAIL and REFUSED answers: without this flag c-ares drops
	 * them, tries the next server and ends with "connection refused",
	 * which hides the resolver's own verdict. A diagnosis needs it.
	 */
	opts.flags = ARES_FLAG_NOCHECKRESP;
	int st = ares_init_options(&r->ch, &opts,
				   ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS);
	if (st != ARES_SUCCESS) {
		buf_printf(err, "cannot start the DNS resolver: %s", ares_strerror(st));
		return -1;
	}
	r->loop = loop;
	loop_set_ares(loop, r->ch);
	return 0;
}

void resolver_free(struct resolver *r)
{
	if (r->ch) {
		loop_set_ares(r->loop, NULL);
		ares_destroy(r->ch);
		r->ch = NULL;
	}
}

struct addr_query {
	resolve_addrs_fn fn;
	void *arg;
};

static void addrinfo_cb(void *arg, int status, int timeouts,
			struct ares_addrinfo *res)
{
	struct addr_query *q = arg;
	(void)timeouts;
	struct resolved_addr *addrs = NULL;
	size_t n = 0;
	if (status == ARES_SUCCESS && res) {
		size_t cap = 0;
		for (struct ares_addrinfo_node *node = res->nodes; node; node = node->ai_next) {
			if (node->ai_family != AF_INET && node->ai_family != AF_INET6)
				continue;
			if ((size_t)node->ai_addrlen > sizeof(struct sockaddr_storage))
				continue;
			bool dup = false;
			for (size_t i = 0; i < n; i++)
				if (addrs[i].len == (socklen_t)node->ai_addrlen &&
				    !memcmp(&addrs[i].sa, node->ai_addr, node->ai_addrlen))
					dup = true;
			if (dup)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				addrs = xrealloc(addrs, cap * sizeof *addrs);
			}
			memset(&addrs[n], 0, sizeof addrs[n]);
			memcpy(&addrs[n].sa, node->ai_addr, node->ai_addrlen);
			addrs[n].len = (socklen_t)node->ai_addrlen;
			addrs[n].ttl = node->ai_ttl;
			n++;
		}
		if (n == 0)
			status = ARES_ENODATA;
	}
	if (res)
		ares_freeaddrinfo(res);
	q->fn(q->arg, status, addrs, n);
	free(addrs);
	free(q);
}

void resolve_addrs(struct resolver *r, const char *name, int family,
		   resolve_addrs_fn fn, void *arg)
{
	struct addr_query *q = xcalloc(1, sizeof *q);
	q->fn = fn;
	q->arg = arg;
	struct ares_addrinfo_hints hints;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	ares_getaddrinfo(r->ch, name, NULL, &hints, addrinfo_cb, q);
}

const char *resolve_status_sentence(int status)
{
	switch (status) {
	case ARES_SUCCESS: return "ok";
	case ARES_ENOTFOUND: return "the name does not exist (NXDOMAIN)";
	case ARES_ENODATA: return "the name exists but has no address of the asked family";
	case ARES_ESERVFAIL: return "the DNS server failed to answer (SERVFAIL)";
	case ARES_EREFUSED: return "the DNS server refused the query (REFUSED)";
	case ARES_ETIMEOUT: return "no DNS server answered in time";
	case ARES_ECONNREFUSED: return "the DNS server could not be reached";
	case ARES_EBADNAME: return "the name is not a valid DNS name";
	case ARES_EFORMERR: return "the DNS server did not understand the query (FORMERR)";
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION: return "the lookup was cancelled at the deadline";
	default: return ares_strerror(status);
	}
}

void resolver_servers(struct resolver *r, struct buf *out)
{
	struct ares_addr_port_node *list = NULL;
	if (ares_get_servers_ports(r->ch, &list) != ARES_SUCCESS)
		return;
	for (struct ares_addr_port_node *n = list; n; n = n->next) {
		char text[INET6_ADDRSTRLEN];
		if (!inet_ntop(n->family, &n->addr, text, sizeof text))
			continue;
		int port = n->udp_port ? n->udp_port : 53;
		if (out->len)
			buf_puts(out, ", ");
		if (port == 53)
			buf_puts(out, text);
		else if (n->family == AF_INET6)
			buf_printf(out, "[%s]:%d", text, port);
		else
			buf_printf(out, "%s:%d", text, port);
	}
	ares_free_data(list);
}
