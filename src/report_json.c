/*
 * report_json.c - the --json document. Field names are the product's
 * contract (man page, section JSON); every field is present, null where
 * it does not apply, so consumers never guess whether a key exists.
 */
#include "report.h"

#include <string.h>

#include "advice.h"
#include "autoconfig.h"
#include "dns.h"
#include "explain.h"
#include "json.h"
#include "probe.h"

static const char *const phase_keys[PH_COUNT] = {
	[PH_CONNECT] = "connect",
	[PH_GREETING] = "banner",
	[PH_EHLO] = "ehlo",
	[PH_STARTTLS] = "starttls",
	[PH_TLS] = "tls",
	[PH_EHLO_TLS] = "ehlo_tls",
	[PH_AUTH] = "auth",
	[PH_MAIL] = "mail",
	[PH_RCPT] = "rcpt",
	[PH_QUIT] = "quit",
};

const char *phase_key(enum phase ph)
{
	return ph < PH_COUNT ? phase_keys[ph] : "?";
}

static const char *fail_name(enum fail_kind f)
{
	static const char *const names[] = {
		[FAIL_NONE] = NULL,
		[FAIL_REFUSED] = "refused",
		[FAIL_UNREACHABLE] = "unreachable",
		[FAIL_CONNECT] = "connect",
		[FAIL_TIMEOUT] = "timeout",
		[FAIL_CLOSED] = "closed",
		[FAIL_RESET] = "reset",
		[FAIL_PROTOCOL] = "protocol",
		[FAIL_TLS] = "tls",
		[FAIL_REJECTED] = "rejected",
		[FAIL_INTERNAL] = "internal",
	};
	return names[f];
}

static void mechs(struct json *j, const struct ehlo_caps *c, bool applies)
{
	if (!applies || !c->valid) {
		json_null(j);
		return;
	}
	json_array_begin(j);
	for (size_t i = 0; i < c->nmech; i++)
		json_string(j, c->mech_names[i]);
	json_array_end(j);
}

static void exts(struct json *j, const struct ehlo_caps *c)
{
	if (!c->valid) {
		json_null(j);
		return;
	}
	json_array_begin(j);
	for (size_t i = 0; i < c->next; i++)
		json_string(j, c->exts[i]);
	json_array_end(j);
}

static void cert(struct json *j, const struct cert_info *c)
{
	if (!c->present) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key(j, "subject");
	json_string(j, c->subject);
	json_key(j, "issuer");
	json_string(j, c->issuer);
	json_key(j, "not_before");
	json_string(j, c->not_before);
	json_key(j, "not_after");
	json_string(j, c->not_after);
	json_key(j, "days_left");
	json_int(j, c->days_left);
	json_key(j, "names");
	json_array_begin(j);
	for (size_t i = 0; i < c->nnames; i++)
		json_string(j, c->names[i]);
	json_array_end(j);
	json_key(j, "key_type");
	json_string(j, c->key_type);
	json_key(j, "key_bits");
	json_int(j, c->key_bits);
	json_key(j, "signature");
	json_string(j, c->sig_alg);
	json_object_end(j);
}

static void tls(struct json *j, const struct tls_result *t)
{
	if (!t->attempted) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key(j, "ok");
	json_bool(j, t->ok);
	json_key(j, "version");
	json_string(j, t->version);
	json_key(j, "cipher");
	json_string(j, t->cipher);
	json_key(j, "verified");
	json_bool(j, t->ok && t->verified);
	json_key(j, "verify_error");
	json_string(j, t->ok ? t->verify_error : NULL);
	json_key(j, "pkix_verified");
	json_bool(j, t->ok && t->pkix_verified);
	json_key(j, "pkix_error");
	json_string(j, t->ok ? t->pkix_error : NULL);
	json_key(j, "error");
	json_string(j, t->error);
	json_key(j, "injected_plaintext");
	json_string(j, t->injected);
	json_key(j, "cert");
	cert(j, &t->cert);
	json_object_end(j);
}

static const char *auth_status_name(enum auth_status s)
{
	static const char *const names[] = {
		[AUTH_NOT_TRIED] = "not-tried",
		[AUTH_TRIED] = "tried",
		[AUTH_SKIPPED_NO_AUTH] = "skipped-no-auth",
		[AUTH_SKIPPED_NO_MECH] = "skipped-no-common-mechanism",
		[AUTH_SKIPPED_CLEARTEXT] = "skipped-no-tls",
		[AUTH_SKIPPED_UNVERIFIED] = "skipped-certificate-not-verified",
		[AUTH_SKIPPED_SESSION] = "skipped-session-ended",
	};
	return names[s];
}

static void reply_obj(struct json *j, int code, const char *enh, const char *text)
{
	if (!code) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	json_key(j, "code");
	json_int(j, code);
	json_key(j, "enhanced");
	json_string(j, enh && enh[0] ? enh : NULL);
	json_key(j, "text");
	json_string(j, text);
	json_object_end(j);
}

static void attempt(struct json *j, const struct auth_attempt *a)
{
	json_key(j, "mechanism");
	json_string(j, a->mech);
	json_key(j, "username");
	json_string(j, a->username);
	json_key(j, "username_form");
	json_string(j, a->full_address ? "full-address" : "local-part");
	json_key(j, "code");
	if (a->code)
		json_int(j, a->code);
	else
		json_null(j);
	json_key(j, "enhanced");
	json_string(j, a->enhanced[0] ? a->enhanced : NULL);
	json_key(j, "text");
	json_string(j, a->text);
	json_key(j, "ok");
	json_bool(j, a->ok);
	json_key(j, "server_verified");
	if (!strncmp(a->mech, "SCRAM-", 6))
		json_bool(j, a->server_verified);
	else
		json_null(j);  /* only SCRAM lets the server prove itself */
	json_key(j, "error");
	json_string(j, a->error);
}

/* The deciding attempt (the one that worked, else the last), and all. */
static void auth(struct json *j, const struct port_result *r)
{
	if (r->nauth == 0) {
		json_null(j);
		return;
	}
	const struct auth_attempt *main =
		&r->auth[r->auth_ok_index >= 0 ? (size_t)r->auth_ok_index : r->nauth - 1];
	json_object_begin(j);
	attempt(j, main);
	json_key(j, "attempts");
	json_array_begin(j);
	for (size_t i = 0; i < r->nauth; i++) {
		json_object_begin(j);
		attempt(j, &r->auth[i]);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void relay(struct json *j, const struct relay_result *t, bool unauthenticated)
{
	if (!t->mail_code) {
		json_null(j);
		return;
	}
	bool mail_failed = t->mail_code / 100 != 2 || !t->rcpt_code;
	json_object_begin(j);
	json_key(j, "code");
	json_int(j, mail_failed ? t->mail_code : t->rcpt_code);
	json_key(j, "enhanced");
	const char *enh = mail_failed ? t->mail_enhanced : t->rcpt_enhanced;
	json_string(j, enh[0] ? enh : NULL);
	json_key(j, "text");
	json_string(j, mail_failed ? t->mail_text : t->rcpt_text);
	json_key(j, "accepted");
	json_bool(j, t->accepted);
	json_key(j, "open_relay");
	json_bool(j, unauthenticated && t->accepted);
	json_key(j, "mail");
	reply_obj(j, t->mail_code, t->mail_enhanced, t->mail_text);
	json_key(j, "rcpt");
	reply_obj(j, t->rcpt_code, t->rcpt_enhanced, t->rcpt_text);
	json_key(j, "pipelined");
	json_bool(j, t->pipelined);
	json_object_end(j);
}

/*
 * How long the addresses of a server took to find (discovery included, from
 * the start of the host), in microseconds; 0 when nothing was looked up
 * (--connect, an IP literal).
 */
static uint64_t server_dns_us(const struct host_result *h, const char *name)
{
	for (size_t s = 0; s < h->nservers; s++)
		if (h->servers[s].asked && name && !strcmp(h->servers[s].name, name))
			return h->servers[s].dns_us;
	return 0;
}

static uint64_t host_dns_us(const struct host_result *h)
{
	uint64_t most = 0;
	for (size_t s = 0; s < h->nservers; s++)
		if (h->servers[s].asked && h->servers[s].dns_us > most)
			most = h->servers[s].dns_us;
	return most;
}

static void port(struct json *j, const struct host_result *h, const struct port_result *r,
		 bool verbose)
{
	json_object_begin(j);
	json_key(j, "server");
	json_string(j, r->server);
	json_key(j, "port");
	json_int(j, r->port);
	json_key(j, "mode");
	json_string(j, r->mode == MODE_TLS ? "tls" : "starttls");
	json_key(j, "mode_requested");
	json_string(j, r->mode_requested == MODE_TLS ? "tls" : "starttls");
	json_key(j, "address");
	json_string(j, r->address);
	json_key(j, "connected");
	json_bool(j, r->connected);
	json_key(j, "error");
	json_string(j, r->error);
	json_key(j, "failure");
	json_string(j, fail_name(r->fail));
	json_key(j, "stalled_in");
	json_string(j, r->fail != FAIL_NONE && r->fail_state < PS_DONE
		       ? probe_states[r->fail_state].name : NULL);
	json_key(j, "greeting_code");
	if (r->greeting_code)
		json_int(j, r->greeting_code);
	else
		json_null(j);
	json_key(j, "banner");
	json_string(j, r->banner);
	json_key(j, "helo_fallback");
	json_bool(j, r->helo_used);
	json_key(j, "starttls_offered");
	if (r->mode == MODE_STARTTLS && (r->caps_before.valid || r->helo_used))
		json_bool(j, r->starttls_offered);
	else
		json_null(j);
	json_key(j, "starttls_reply");
	if (r->starttls_code) {
		json_object_begin(j);
		json_key(j, "code");
		json_int(j, r->starttls_code);
		json_key(j, "enhanced");
		json_string(j, r->starttls_enhanced[0] ? r->starttls_enhanced : NULL);
		json_key(j, "text");
		json_string(j, r->starttls_text);
		json_object_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "tls");
	tls(j, &r->tls);
	json_key(j, "tls_mode_mismatch");
	json_bool(j, r->mismatch != MISMATCH_NONE);
	json_key(j, "auth_before_tls");
	mechs(j, &r->caps_before, r->mode == MODE_STARTTLS);
	json_key(j, "auth_after_tls");
	mechs(j, &r->caps_after, true);
	json_key(j, "extensions");
	exts(j, port_result_final_caps(r));
	json_key(j, "extensions_before_tls");
	if (r->mode == MODE_STARTTLS)
		exts(j, &r->caps_before);
	else
		json_null(j);
	json_key(j, "auth");
	auth(j, r);
	json_key(j, "auth_status");
	json_string(j, auth_status_name(r->auth_status));
	json_key(j, "relay");
	relay(j, &r->relay, true);
	json_key(j, "relay_after_auth");
	relay(j, &r->relay_auth, false);
	json_key(j, "mechanism_tests");
	if (r->nmech_tests) {
		json_array_begin(j);
		for (size_t i = 0; i < r->nmech_tests; i++) {
			const struct mech_test *t = &r->mech_tests[i];
			json_object_begin(j);
			json_key(j, "mechanism");
			json_string(j, t->mech);
			json_key(j, "before_tls");
			json_bool(j, t->before_tls);
			json_key(j, "code");
			json_int(j, t->code);
			json_key(j, "enhanced");
			json_string(j, t->enhanced[0] ? t->enhanced : NULL);
			json_key(j, "text");
			json_string(j, t->text);
			json_key(j, "cancel_code");
			if (t->cancel_code)
				json_int(j, t->cancel_code);
			else
				json_null(j);
			json_key(j, "works");
			json_bool(j, t->works);
			json_object_end(j);
		}
		json_array_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "dane");
	if (r->dane_checked) {
		json_object_begin(j);
		json_key(j, "match");
		json_bool(j, r->dane_match);
		json_key(j, "usable_records");
		json_int(j, (long long)r->dane_usable);
		json_key(j, "ad");
		json_bool(j, r->dane_ad);
		json_key(j, "authoritative");
		json_bool(j, r->dane_authoritative);
		json_key(j, "detail");
		json_string(j, r->dane_detail);
		json_object_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "injection_test");
	if (r->injection_verdict != INJECTION_UNTESTED || r->injection_error) {
		static const char *const verdicts[] = {
			[INJECTION_UNTESTED] = "untested", [INJECTION_SAFE] = "safe",
			[INJECTION_VULNERABLE] = "vulnerable",
			[INJECTION_INCONCLUSIVE] = "inconclusive",
		};
		bool known = r->injection_verdict == INJECTION_SAFE ||
			     r->injection_verdict == INJECTION_VULNERABLE;
		json_object_begin(j);
		json_key(j, "tested");
		json_bool(j, r->injection_verdict != INJECTION_UNTESTED);
		json_key(j, "verdict");
		json_string(j, verdicts[r->injection_verdict]);
		json_key(j, "vulnerable");
		if (known)
			json_bool(j, r->injection_verdict == INJECTION_VULNERABLE);
		else
			json_null(j);
		json_key(j, "code");
		if (r->injection_code)
			json_int(j, r->injection_code);
		else
			json_null(j);
		json_key(j, "replies");
		json_int(j, r->injection_replies);
		json_key(j, "error");
		json_string(j, known ? NULL : r->injection_error);
		json_object_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "stop_reply");
	if (r->stop_code) {
		json_object_begin(j);
		json_key(j, "code");
		json_int(j, r->stop_code);
		json_key(j, "enhanced");
		json_string(j, r->stop_enhanced[0] ? r->stop_enhanced : NULL);
		json_key(j, "text");
		json_string(j, r->stop_text);
		json_object_end(j);
	} else {
		json_null(j);
	}
	json_key(j, "timings_ms");
	json_object_begin(j);
	uint64_t dns_us = server_dns_us(h, r->server);
	json_key(j, "dns");
	if (dns_us)
		json_double(j, (double)dns_us / 1000.0, 3);
	else
		json_null(j);
	for (int ph = 0; ph < PH_COUNT; ph++) {
		json_key(j, phase_keys[ph]);
		if (r->timed[ph])
			json_double(j, (double)r->timing_us[ph] / 1000.0, 3);
		else
			json_null(j);
	}
	json_key(j, "total");
	json_double(j, (double)r->total_us / 1000.0, 3);
	json_object_end(j);
	json_key(j, "transcript");
	if (verbose) {
		json_array_begin(j);
		for (size_t i = 0; i < r->transcript.n; i++) {
			const struct transcript_line *l = &r->transcript.lines[i];
			json_object_begin(j);
			json_key(j, "ms");
			json_double(j, (double)l->at_us / 1000.0, 3);
			json_key(j, "dir");
			json_stringn(j, &l->dir, 1);
			json_key(j, "text");
			json_string(j, l->text);
			json_object_end(j);
		}
		json_array_end(j);
	} else {
		json_null(j);
	}
	json_object_end(j);
}

static void dns_records(struct json *j, const struct dns_answer *a)
{
	struct arena tmp = { 0 };
	json_array_begin(j);
	for (size_t i = 0; a->rcode == DNS_NOERROR && i < a->nrecords; i++) {
		const struct dns_record *r = &a->records[i];
		json_object_begin(j);
		json_key(j, "name");
		json_string(j, r->name);
		json_key(j, "type");
		json_string(j, dns_type_name(r->type));
		json_key(j, "ttl");
		json_int(j, r->ttl);
		json_key(j, "data");
		json_string(j, dns_record_text(r, &tmp));
		switch (r->type) {
		case DNS_T_SRV:
			json_key(j, "priority");
			json_int(j, r->priority);
			json_key(j, "weight");
			json_int(j, r->weight);
			json_key(j, "port");
			json_int(j, r->port);
			json_key(j, "target");
			json_string(j, r->target[0] ? r->target : ".");
			break;
		case DNS_T_MX:
			json_key(j, "preference");
			json_int(j, r->priority);
			json_key(j, "exchange");
			json_string(j, r->target[0] ? r->target : ".");
			break;
		case DNS_T_PTR:
			json_key(j, "target");
			json_string(j, r->target);
			break;
		case DNS_T_TLSA:
			json_key(j, "usage");
			json_int(j, r->usage);
			json_key(j, "selector");
			json_int(j, r->selector);
			json_key(j, "matching_type");
			json_int(j, r->mtype);
			break;
		default:
			break;
		}
		json_object_end(j);
	}
	json_array_end(j);
	arena_free(&tmp);
}

/* Every DNS question asked for the host and its answer, with TTLs. */
static void dns_object(struct json *j, const struct host_result *h)
{
	static const char *const src[] = { "given", "srv", "guess", "mx" };
	json_object_begin(j);
	json_key(j, "resolvers");
	json_string(j, h->resolvers);
	json_key(j, "validated_by_smtpcheck");
	json_bool(j, false); /* c-ares does not check DNSSEC; "ad" is the resolver's word */
	json_key(j, "servers_guessed");
	json_bool(j, h->guessed);
	json_key(j, "submission_not_offered");
	json_bool(j, h->submission_not_offered);
	json_key(j, "srv_lookup_failed");
	json_bool(j, h->srv_lookup_failed);
	json_key(j, "mx_lookup_failed");
	json_bool(j, h->mx_lookup_failed);
	json_key(j, "answers");
	json_array_begin(j);
	for (size_t i = 0; i < h->nanswers; i++) {
		const struct dns_answer *a = h->answers[i];
		json_object_begin(j);
		json_key(j, "name");
		json_string(j, a->qname);
		json_key(j, "type");
		json_string(j, dns_type_name(a->qtype));
		json_key(j, "rcode");
		json_string(j, dns_rcode_name(a->rcode));
		json_key(j, "ad");
		json_bool(j, a->ad);
		json_key(j, "error");
		json_string(j, a->error);
		json_key(j, "elapsed_ms");
		json_double(j, (double)a->elapsed_us / 1000.0, 3);
		json_key(j, "records");
		dns_records(j, a);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "servers");
	json_array_begin(j);
	for (size_t i = 0; i < h->nservers; i++) {
		const struct server_result *sr = &h->servers[i];
		json_object_begin(j);
		json_key(j, "name");
		json_string(j, sr->name);
		json_key(j, "source");
		json_string(j, src[sr->source]);
		json_key(j, "looked_up");
		json_bool(j, sr->asked);
		json_key(j, "ok");
		json_bool(j, sr->dns_ok);
		json_key(j, "error");
		json_string(j, sr->dns_ok ? NULL : sr->dns_error);
		json_key(j, "addresses");
		json_array_begin(j);
		for (size_t k = 0; sr->dns_ok && k < sr->naddrs; k++) {
			json_object_begin(j);
			json_key(j, "address");
			json_string(j, sr->addrs[k]);
			json_key(j, "ttl");
			if (sr->asked && sr->ttls)
				json_int(j, sr->ttls[k]);
			else
				json_null(j);
			json_object_end(j);
		}
		json_array_end(j);
		json_key(j, "tlsa");
		if (sr->tlsa) {
			json_object_begin(j);
			json_key(j, "name");
			json_string(j, sr->tlsa->qname);
			json_key(j, "rcode");
			json_string(j, dns_rcode_name(sr->tlsa->rcode));
			json_key(j, "ad");
			json_bool(j, sr->tlsa->ad);
			json_key(j, "records");
			dns_records(j, sr->tlsa);
			json_object_end(j);
		} else {
			json_null(j);
		}
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "mx_not_probed");
	json_array_begin(j);
	for (size_t i = 0; i < h->nmx_not_probed; i++) {
		json_object_begin(j);
		json_key(j, "name");
		json_string(j, h->mx_not_probed[i].name);
		json_key(j, "reason");
		json_string(j, h->mx_not_probed[i].why);
		json_object_end(j);
	}
	json_array_end(j);
	json_key(j, "reverse");
	json_array_begin(j);
	for (size_t i = 0; i < h->nptrs; i++) {
		const struct ptr_result *p = &h->ptrs[i];
		json_object_begin(j);
		json_key(j, "address");
		json_string(j, p->address);
		json_key(j, "ptr");
		json_string(j, p->name);
		json_key(j, "ttl");
		if (p->name)
			json_int(j, p->ttl);
		else
			json_null(j);
		json_key(j, "rcode");
		json_string(j, dns_rcode_name(p->rcode));
		json_key(j, "forward_confirmed");
		if (p->forward_checked)
			json_bool(j, p->forward_ok);
		else
			json_null(j);
		json_object_end(j);
	}
	json_array_end(j);
	json_object_end(j);
}

static void finding(struct json *j, const struct finding *f)
{
	json_object_begin(j);
	json_key(j, "id");
	json_string(j, f->id);
	json_key(j, "severity");
	json_string(j, severity_name(f->severity));
	json_key(j, "port");
	if (f->port)
		json_int(j, f->port);
	else
		json_null(j);
	json_key(j, "address");
	json_string(j, f->address);
	json_key(j, "server");
	json_string(j, f->server);
	json_key(j, "message");
	json_string(j, f->message);
	json_key(j, "meaning");
	json_string(j, finding_meaning(f->id));
	json_key(j, "advice");
	json_array_begin(j);
	for (const char *const *a = f->advice; a && *a; a++)
		json_string(j, *a);
	json_array_end(j);
	json_object_end(j);
}

static void string_list(struct json *j, char **items, size_t n)
{
	json_array_begin(j);
	for (size_t i = 0; i < n; i++)
		json_string(j, items[i]);
	json_array_end(j);
}

/* "port_box": can the program be told the port ("yes"), not ("no", then
 * "fixed_ports" says where each kind of security goes), or no source says. */
static void port_setting(struct json *j, const struct kb_program *p)
{
	static const char *const box[] = { "yes", "unknown", "no" };
	static const char *const modes[PORT_MODES] = { "tls", "starttls", "none" };
	json_key(j, "port_box");
	json_string(j, box[p->ports]);
	json_key(j, "fixed_ports");
	if (p->ports != PORTS_FIXED) {
		json_null(j);
		return;
	}
	json_object_begin(j);
	for (int m = 0; m < PORT_MODES; m++) {
		if (!p->fixed_port[m])
			continue;
		json_key(j, modes[m]);
		json_int(j, p->fixed_port[m]);
	}
	json_object_end(j);
}

static void advice_obj(struct json *j, const struct advice *adv, bool full)
{
	const struct kb_program *p = adv->program;
	json_object_begin(j);
	json_key(j, "client");
	json_string(j, p->id);
	json_key(j, "name");
	json_string(j, p->name);
	json_key(j, "platform");
	json_string(j, p->platform);
	json_key(j, "possible");
	json_bool(j, adv->possible);
	json_key(j, "reason");
	json_string(j, adv->reason);
	json_key(j, "port");
	if (adv->possible)
		json_int(j, adv->target.port);
	else
		json_null(j);
	json_key(j, "security");
	json_string(j, adv->possible ? security_name(adv->target.security) : NULL);
	if (full) {
		json_key(j, "steps");
		string_list(j, adv->steps, adv->nsteps);
		json_key(j, "notes");
		string_list(j, adv->notes, adv->nnotes);
		json_key(j, "unconfirmed");
		string_list(j, p->unconfirmed.items, p->unconfirmed.n);
		json_key(j, "upgrade");
		string_list(j, p->upgrade.items, p->upgrade.n);
		json_key(j, "cautions");
		string_list(j, adv->cautions, adv->ncautions);
		port_setting(j, p);
	}
	json_key(j, "summary");
	json_string(j, adv->nsummary ? adv->summary[0] : NULL);
	json_object_end(j);
}

static void client_advice(struct json *j, const struct host_result *h,
			  const struct diagnosis *d, const struct report_advice *ra)
{
	struct arena a = { 0 };
	/*
	 * A host the deadline left unprobed has nothing to advise, and a long
	 * list (-f) can leave a hundred thousand of them: empty lists, no
	 * work in the knowledge base.
	 */
	if (h->not_probed)
		ra = NULL;
	/* A list, so that asking for several programs stays the same shape. */
	json_key(j, "client_steps");
	json_array_begin(j);
	if (ra && ra->client) {
		struct advice adv;
		advice_for(ra->client, h, d, &a, &adv);
		advice_obj(j, &adv, true);
	}
	json_array_end(j);
	json_key(j, "client_summaries");
	json_array_begin(j);
	for (size_t i = 0; ra && !ra->client && ra->kb && i < ra->kb->n; i++) {
		const struct kb_program *p = &ra->kb->programs[i];
		if (!p->common)
			continue;
		struct advice adv;
		advice_for(p, h, d, &a, &adv);
		advice_obj(j, &adv, false);
	}
	json_array_end(j);
	arena_free(&a);
}

void report_clients_json(const struct kb *kb, struct buf *out)
{
	struct json j;
	json_init(&j, out);
	static const char *const able[] = { "no", "yes", "unknown" };
	json_array_begin(&j);
	for (size_t i = 0; i < kb->n; i++) {
		const struct kb_program *p = &kb->programs[i];
		json_object_begin(&j);
		json_key(&j, "id");
		json_string(&j, p->id);
		json_key(&j, "name");
		json_string(&j, p->name);
		json_key(&j, "platform");
		json_string(&j, p->platform);
		json_key(&j, "aliases");
		string_list(&j, p->aliases.items, p->aliases.n);
		json_key(&j, "auth");
		json_bool(&j, p->auth);
		json_key(&j, "tls");
		json_string(&j, able[p->tls]);
		json_key(&j, "starttls");
		json_string(&j, able[p->starttls]);
		json_key(&j, "common");
		json_bool(&j, p->common);
		port_setting(&j, p);
		json_object_end(&j);
	}
	json_array_end(&j);
}

/*
 * The keys every host document starts with, in report_json's and
 * report_error_json's documents alike. error: set only when nothing was
 * probed; host NULL then too.
 */
static void doc_head(struct json *j, const char *host, enum status status,
		     const char *summary, const char *error)
{
	json_key(j, "version");
	json_string(j, smtpcheck_version);
	json_key(j, "host");
	json_string(j, host);
	json_key(j, "status");
	json_string(j, status_name(status));
	json_key(j, "exit_code");
	json_int(j, (int)status);
	json_key(j, "summary");
	json_string(j, summary);
	json_key(j, "error");
	json_string(j, error);
}

void report_json(const struct config *cfg, const struct host_result *h,
		 const struct diagnosis *d, const struct report_advice *ra,
		 struct buf *out)
{
	struct json j;
	json_init(&j, out);
	json_object_begin(&j);
	doc_head(&j, h->name, d->status, d->summary, NULL);
	json_key(&j, "elapsed_ms");
	json_double(&j, (double)h->elapsed_us / 1000.0, 3);
	json_key(&j, "addresses");
	json_array_begin(&j);
	for (size_t i = 0; i < h->naddrs; i++)
		json_string(&j, h->addrs[i]);
	json_array_end(&j);
	json_key(&j, "dns_error");
	json_string(&j, h->dns_ok ? NULL : h->dns_error);
	json_key(&j, "dns_ms");
	uint64_t dns_us = host_dns_us(h);
	if (dns_us)
		json_double(&j, (double)dns_us / 1000.0, 3);
	else
		json_null(&j);
	json_key(&j, "discovery");
	json_bool(&j, h->discovery);
	json_key(&j, "domain");
	json_string(&j, h->domain);
	json_key(&j, "dns");
	if (h->not_probed)
		json_null(&j);     /* nothing was asked */
	else
		dns_object(&j, h);
	json_key(&j, "ports");
	json_array_begin(&j);
	for (size_t i = 0; i < h->nports; i++)
		port(&j, h, &h->ports[i], cfg->verbose);
	json_array_end(&j);
	json_key(&j, "findings");
	json_array_begin(&j);
	for (size_t i = 0; i < d->n; i++)
		finding(&j, &d->findings[i]);
	json_array_end(&j);
	json_key(&j, "recommendation");
	if (d->rec.present) {
		json_object_begin(&j);
		json_key(&j, "server");
		json_string(&j, d->rec.server ? d->rec.server : h->name);
		json_key(&j, "port");
		json_int(&j, d->rec.port);
		json_key(&j, "security");
		json_string(&j, security_name(d->rec.security));
		json_key(&j, "auth");
		json_bool(&j, d->rec.auth);
		json_key(&j, "username");
		json_string(&j, d->rec.username == USERNAME_FULL_ADDRESS ? "full-address"
				: d->rec.username == USERNAME_LOCAL_PART ? "local-part"
				: "unknown");
		json_key(&j, "username_value");
		json_string(&j, d->rec.username_value);
		/* What became of -u's credentials; the settings stand either way. */
		static const char *const login[] = {
			[REC_LOGIN_NOT_GIVEN] = "not-given", [REC_LOGIN_ACCEPTED] = "accepted",
			[REC_LOGIN_REFUSED] = "refused",
			[REC_LOGIN_TEMPORARY] = "temporary-failure",
			[REC_LOGIN_NOT_SENT] = "not-sent", [REC_LOGIN_NOT_TRIED] = "not-tried",
		};
		json_key(&j, "login");
		json_string(&j, login[d->rec.login]);
		json_key(&j, "login_note");
		json_string(&j, d->rec.login_note);
		json_key(&j, "spa");
		json_bool(&j, false);
		json_key(&j, "password_remembered");
		json_bool(&j, true);
		json_object_end(&j);
	} else {
		json_null(&j);
	}
	client_advice(&j, h, d, ra);
	json_key(&j, "thunderbird_autoconfig");
	struct arena a = { 0 };
	struct tb_guess g = { 0 };
	if (!h->not_probed)
		tb_guess(h, d, ra ? ra->thunderbird : NULL, &a, &g);
	if (!g.applicable) {
		json_null(&j);
		arena_free(&a);
		json_object_end(&j);
		return;
	}
	json_object_begin(&j);
	json_key(&j, "server");
	json_string(&j, g.server);
	json_key(&j, "decided");
	json_bool(&j, g.decided);
	json_key(&j, "port");
	if (g.decided)
		json_int(&j, g.port);
	else
		json_null(&j);
	json_key(&j, "security");
	json_string(&j, g.decided ? security_name(g.security) : NULL);
	json_key(&j, "auth_method");
	json_string(&j, g.decided ? g.auth : NULL);
	json_key(&j, "works");
	json_bool(&j, g.works);
	json_key(&j, "weaker");
	json_bool(&j, g.weaker);
	json_key(&j, "verdict");
	json_string(&j, g.verdict);
	json_key(&j, "notes");
	json_array_begin(&j);
	for (size_t i = 0; i < g.nnotes; i++)
		json_string(&j, g.notes[i]);
	json_array_end(&j);
	json_object_end(&j);
	arena_free(&a);
	json_object_end(&j);
}

/*
 * The document for a run that probed nothing (bad usage, no password, a
 * failure before the first host): the keys of report_json, so a consumer
 * reads one shape, with null or empty where nothing applies.
 */
void report_error_json(const char *message, struct buf *out)
{
	struct json j;
	json_init(&j, out);
	json_object_begin(&j);
	doc_head(&j, NULL, STATUS_UNKNOWN, message, message);
	/* Lists stay lists, empty: "for port in doc['ports']" just works. */
	enum { NUL, EMPTY_LIST, FALSE };
	static const struct { const char *key; int is; } rest[] = {
		{ "elapsed_ms", NUL }, { "addresses", EMPTY_LIST }, { "dns_error", NUL },
		{ "dns_ms", NUL }, { "discovery", FALSE }, { "domain", NUL }, { "dns", NUL },
		{ "ports", EMPTY_LIST }, { "findings", EMPTY_LIST },
		{ "recommendation", NUL }, { "client_steps", EMPTY_LIST },
		{ "client_summaries", EMPTY_LIST }, { "thunderbird_autoconfig", NUL },
	};
	for (size_t i = 0; i < ARRAY_LEN(rest); i++) {
		json_key(&j, rest[i].key);
		if (rest[i].is == EMPTY_LIST) {
			json_array_begin(&j);
			json_array_end(&j);
		} else if (rest[i].is == FALSE) {
			json_bool(&j, false);
		} else {
			json_null(&j);
		}
	}
	json_object_end(&j);
}

void report_explain_json(const char *input, const struct explanation *e, struct buf *out)
{
	struct json j;
	json_init(&j, out);
	json_object_begin(&j);
	json_key(&j, "version");
	json_string(&j, smtpcheck_version);
	json_key(&j, "input");
	json_string(&j, input);
	json_key(&j, "recognised");
	json_bool(&j, e->recognised);
	json_key(&j, "status");
	json_string(&j, status_name(e->d.status));
	json_key(&j, "exit_code");
	json_int(&j, (int)e->d.status);
	json_key(&j, "summary");
	json_string(&j, e->d.summary);
	json_key(&j, "code");
	if (e->code && !e->code_inferred)
		json_int(&j, e->code);
	else
		json_null(&j);
	json_key(&j, "enhanced");
	json_string(&j, e->enhanced[0] ? e->enhanced : NULL);
	json_key(&j, "reply_text");
	json_string(&j, e->reply_text);
	json_key(&j, "client_code");
	json_string(&j, e->client_code);
	json_key(&j, "findings");
	json_array_begin(&j);
	for (size_t i = 0; i < e->d.n; i++)
		finding(&j, &e->d.findings[i]);
	json_array_end(&j);
	json_object_end(&j);
}
