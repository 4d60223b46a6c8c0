/*
 * result.c - freeing and reading results.
 */
#include "result.h"

#include <stdlib.h>
#include <string.h>

void port_result_free(struct port_result *r)
{
	ehlo_caps_free(&r->caps_before);
	ehlo_caps_free(&r->caps_after);
	free(r->transcript.lines);
	r->transcript.lines = NULL;
	r->transcript.n = r->transcript.cap = 0;
}

void host_result_free(struct host_result *h)
{
	for (size_t i = 0; i < h->nports; i++)
		port_result_free(&h->ports[i]);
	free(h->ports);
	h->ports = NULL;
	h->nports = 0;
}

const struct ehlo_caps *port_result_final_caps(const struct port_result *r)
{
	if (r->caps_after.valid)
		return &r->caps_after;
	return &r->caps_before;
}

bool port_result_programs_trust(const struct port_result *r)
{
	return r->dane_authoritative ? r->tls.pkix_verified : r->tls.verified;
}
