/*
 * fuzz_dns.c - libFuzzer harness for the DNS answer parser: a hostile or
 * broken resolver's bytes must never crash, leak or read out of bounds,
 * whatever record type was asked, and every record it keeps must render
 * as text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int types[] = { DNS_T_SRV, DNS_T_MX, DNS_T_TLSA, DNS_T_PTR };
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		struct arena a = { 0 };
		struct dns_answer ans;
		memset(&ans, 0, sizeof ans);
		bool ok = dns_parse(data, size, types[t], &a, &ans);
		if (!ok && ans.rcode != DNS_BAD_ANSWER)
			abort();
		if (ok && ans.nrecords > size / 11)
			abort();
		for (size_t i = 0; ok && i < ans.nrecords; i++) {
			if (ans.records[i].type != types[t])
				abort();
			char *text = dns_record_text(&ans.records[i], &a);
			if (!text)
				abort();
		}
		(void)dns_rcode_sentence(ans.rcode);
		arena_free(&a);
	}
	return 0;
}
