/*
 * resolve.h - DNS through c-ares, on the run's event loop. One channel
 * per run; queries never block.
 */
#ifndef SMTPCHECK_RESOLVE_H
#define SMTPCHECK_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

#include <ares.h>

#include "loop.h"
#include "util.h"

struct resolver {
	ares_channel ch;
	struct loop *loop;
};

/* 0 on success; -1 with a reason in err. */
int resolver_init(struct resolver *r, struct loop *loop, struct buf *err);
void resolver_free(struct resolver *r);

struct resolved_addr {
	struct sockaddr_storage sa;
	socklen_t len;
	int ttl;
};

/*
 * Look up A and AAAA (or one of them, by family) at once. The callback
 * gets the c-ares status and the addresses, without duplicates, in the
 * order c-ares sorted them (RFC 6724).
 */
typedef void (*resolve_addrs_fn)(void *arg, int status,
				 const struct resolved_addr *addrs, size_t n);
void resolve_addrs(struct resolver *r, const char *name, int family,
		   resolve_addrs_fn fn, void *arg);

/* "127.0.0.1, [::1]:5353": the DNS servers the channel asks. */
void resolver_servers(struct resolver *r, struct buf *out);

/* A sentence for a failed status, naming what the answer meant. */
const char *resolve_status_sentence(int status);

#endif
