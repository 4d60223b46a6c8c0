/*
 * tls.c - OpenSSL client context, per-connection sessions, and what a
 * handshake revealed.
 *
 * The context allows TLS 1.0 and security level 0 on purpose: a probe
 * must be able to talk to an old server to say that it is old
 * (tls-protocol-old) instead of failing with a cryptic alert.
 */
#include "tls.h"

#include "dns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static int verify_index = -1;

/* Per-session record of verification problems (SSL ex_data). */
struct tls_verify {
	unsigned flags;
	int first_error;
};

/* Record every problem in the chain and carry on (see file head). */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
	if (ok)
		return 1;
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_verify *v = ssl ? SSL_get_ex_data(ssl, verify_index) : NULL;
	if (!v)
		return 1;
	int e = X509_STORE_CTX_get_error(store);
	if (!v->first_error)
		v->first_error = e;
	switch (e) {
	case X509_V_ERR_CERT_HAS_EXPIRED:
		v->flags |= VERIFY_EXPIRED;
		break;
	case X509_V_ERR_CERT_NOT_YET_VALID:
		v->flags |= VERIFY_NOT_YET_VALID;
		break;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		v->flags |= VERIFY_SELF_SIGNED | VERIFY_UNTRUSTED;
		break;
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_CERT_UNTRUSTED:
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		v->flags |= VERIFY_UNTRUSTED;
		break;
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		v->flags |= VERIFY_HOSTNAME;
		break;
	case X509_V_ERR_DANE_NO_MATCH:
		v->flags |= VERIFY_DANE;
		break;
	default:
		v->flags |= VERIFY_OTHER;
	}
	return 1;
}

static void free_verify(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
			long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

/*
 * The system's CA directory with OpenSSL's hash links ("4042bcee.0"):
 * then certificates are read only when a chain needs them. Loading the
 * whole bundle file instead costs some 20 ms and 1 MB at every start.
 * SSL_CERT_FILE set by the user (or a list of directories in SSL_CERT_DIR):
 * the default paths, which honour them.
 */
static bool hashed_ca_dir(void)
{
	const char *file = getenv(X509_get_default_cert_file_env());
	if (file && *file)
		return false;
	const char *dir = getenv(X509_get_default_cert_dir_env());
	if (!dir || !*dir || strchr(dir, ':'))
		dir = strchr(dir ? dir : "", ':') ? NULL : X509_get_default_cert_dir();
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		found = len == 10 && n[8] == '.' && n[9] >= '0' && n[9] <= '9' &&
			strspn(n, "0123456789abcdef") == 8;
	}
	closedir(d);
	return found;
}

SSL_CTX *tls_ctx_new(const char *ca_file, struct buf *err)
{
	if (verify_index < 0)
		verify_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_verify);
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		buf_puts(err, "cannot create the TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_dane_enable(ctx); /* for tls_dane_check's second SSL, not the handshake */
	int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
		 : hashed_ca_dir() ? SSL_CTX_set_default_verify_dir(ctx)
				   : SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		unsigned long e = ERR_get_error();
		buf_printf(err, "cannot load the CA certificates%s%s: %s",
			   ca_file ? " from " : "", ca_file ? ca_file : "",
			   e ? ERR_reason_error_string(e) : "unknown error");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static bool is_ip_literal(const char *host)
{
	unsigned char b[16];
	return inet_pton(AF_INET, host, b) == 1 || inet_pton(AF_INET6, host, b) == 1;
}

SSL *tls_session_new(SSL_CTX *ctx, int fd, const char *host)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	struct tls_verify *v = xcalloc(1, sizeof *v);
	SSL_set_ex_data(ssl, verify_index, v);
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	if (host && *host) {
		if (is_ip_literal(host)) {
			X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
		} else {
			SSL_set_tlsext_host_name(ssl, host);
			SSL_set1_host(ssl, host);
		}
	}
	return ssl;
}

static char *name_oneline(X509_NAME *name, struct arena *a)
{
	BIO *bio = BIO_new(BIO_s_mem());
	if (!bio)
		return NULL;
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	struct buf b;
	buf_init(&b);
	escape_ascii(&b, data, n > 0 ? (size_t)n : 0);
	char *s = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
	BIO_free(bio);
	return s;
}

static char *asn1_time_iso(const ASN1_TIME *t, struct arena *a)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return NULL;
	char s[32];
	strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return arena_strdup(a, s);
}

static void add_name(struct cert_info *c, struct arena *a, size_t *cap,
		     const char *s, size_t n)
{
	if (c->nnames == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		char **names = arena_alloc(a, ncap * sizeof *names);
		if (c->nnames)
			memcpy(names, c->names, c->nnames * sizeof *names);
		c->names = names;
		*cap = ncap;
	}
	struct buf b;
	buf_init(&b);
	escape_ascii(&b, s, n);
	c->names[c->nnames++] = arena_strndup(a, buf_cstr(&b), b.len);
	buf_free(&b);
}

static void collect_cert(X509 *x, struct cert_info *c, struct arena *a)
{
	c->present = true;
	c->subject = name_oneline(X509_get_subject_name(x), a);
	c->issuer = name_oneline(X509_get_issuer_name(x), a);
	c->not_before = asn1_time_iso(X509_get0_notBefore(x), a);
	c->not_after = asn1_time_iso(X509_get0_notAfter(x), a);

	int days = 0, secs = 0;
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x))) {
		long total = (long)days * 86400 + secs;
		c->days_left = total >= 0 ? total / 86400 : -((-total + 86399) / 86400);
	}

	size_t cap = 0;
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type == GEN_DNS) {
			const ASN1_STRING *s = g->d.dNSName;
			add_name(c, a, &cap, (const char *)ASN1_STRING_get0_data(s),
				 (size_t)ASN1_STRING_length(s));
		} else if (g->type == GEN_IPADD) {
			const ASN1_STRING *s = g->d.iPAddress;
			char text[INET6_ADDRSTRLEN] = "";
			int len = ASN1_STRING_length(s);
			if (len == 4 || len == 16)
				inet_ntop(len == 4 ? AF_INET : AF_INET6,
					  ASN1_STRING_get0_data(s), text, sizeof text);
			add_name(c, a, &cap, text, strlen(text));
		}
	}
	GENERAL_NAMES_free(sans);
	if (c->nnames == 0) {
		/* No subjectAltName: clients fall back to the CN, so list it. */
		char cn[256];
		int n = X509_NAME_get_text_by_NID(X509_get_subject_name(x),
						  NID_commonName, cn, sizeof cn);
		if (n > 0)
			add_name(c, a, &cap, cn, (size_t)n);
	}

	EVP_PKEY *key = X509_get0_pubkey(x);
	if (key) {
		c->key_bits = EVP_PKEY_get_bits(key);
		const char *type = OBJ_nid2sn(EVP_PKEY_get_base_id(key));
		c->key_type = arena_strdup(a, type ? type : "unknown");
	}
	const char *sig = OBJ_nid2ln(X509_get_signature_nid(x));
	c->sig_alg = arena_strdup(a, sig ? sig : "unknown");
}

void tls_collect(SSL *ssl, struct tls_result *t, struct arena *a)
{
	t->ok = true;
	t->version = arena_strdup(a, SSL_get_version(ssl));
	t->cipher = arena_strdup(a, SSL_get_cipher_name(ssl));

	struct tls_verify *v = SSL_get_ex_data(ssl, verify_index);
	X509 *peer = SSL_get1_peer_certificate(ssl);
	if (peer) {
		collect_cert(peer, &t->cert, a);
		X509_free(peer);
	}
	t->verify_flags = v ? v->flags : VERIFY_OTHER;
	long vr = SSL_get_verify_result(ssl);
	if (!peer) {
		t->verify_flags |= VERIFY_OTHER;
		t->verify_error = arena_strdup(a, "the server sent no certificate");
	} else if (t->verify_flags || vr != X509_V_OK) {
		int e = v && v->first_error ? v->first_error : (int)vr;
		t->verify_error = arena_strdup(a, X509_verify_cert_error_string(e));
		if (!t->verify_flags)
			t->verify_flags = VERIFY_OTHER;
	}
	t->verified = t->verify_flags == 0;
	t->pkix_verified = t->verified;
	t->pkix_error = t->verify_error;
}

char *tls_describe_error(SSL *ssl, int ret, struct arena *a)
{
	int e = SSL_get_error(ssl, ret);
	unsigned long code = ERR_get_error();
	char *s;
	if (code) {
		const char *reason = ERR_reason_error_string(code);
		s = arena_printf(a, "%s", reason ? reason : "TLS error");
	} else if (e == SSL_ERROR_SYSCALL) {
		s = arena_printf(a, "%s", errno == 0 || errno == EAGAIN
				 ? "the server closed the connection"
				 : strerror(errno));
	} else if (e == SSL_ERROR_ZERO_RETURN) {
		s = arena_strdup(a, "the server closed the TLS session");
	} else {
		s = arena_printf(a, "TLS error %d", e);
	}
	ERR_clear_error();
	return s;
}

bool tls_record_byte(unsigned char b)
{
	/* change_cipher_spec, alert, handshake, application_data */
	return b >= 0x14 && b <= 0x17;
}

void tls_hold_reads(SSL *ssl)
{
	BIO *empty = BIO_new(BIO_s_mem());
	if (!empty)
		return;
	BIO_set_mem_eof_return(empty, -1); /* empty means "try again" */
	SSL_set0_rbio(ssl, empty);
}

bool tls_release_reads(SSL *ssl, int fd)
{
	if (SSL_get_rbio(ssl) == SSL_get_wbio(ssl))
		return true;
	BIO *sock = BIO_new_socket(fd, BIO_NOCLOSE);
	if (!sock)
		return false;
	SSL_set0_rbio(ssl, sock);
	return true;
}

/* "TLSA 3 1 1 matches the server's certificate" */
static char *dane_matched(SSL *dane_ssl, struct arena *a)
{
	uint8_t usage, selector, mtype;
	const unsigned char *data;
	size_t dlen;
	int depth = SSL_get0_dane_tlsa(dane_ssl, &usage, &selector, &mtype, &data, &dlen);
	if (depth < 0)
		return NULL;
	return arena_printf(a, "TLSA %u %u %u matches the %s", usage, selector, mtype,
			    depth == 0 ? "server's certificate" : "issuer of the chain");
}

/*
 * The chain is checked again, away from the connection: a second SSL that
 * never connects holds the DANE state (SSL_dane_enable), and a store
 * context verifies the peer's chain with it, the way libssl's own
 * ssl_verify_cert_chain() would. verify_cb records every problem, so the
 * flags say all that is wrong with the chain under DANE's rules.
 */
void tls_dane_check(SSL *ssl, const char *host, const struct dns_answer *tlsa,
		    struct port_result *res, struct arena *a)
{
	res->dane_checked = true;
	res->dane_ad = tlsa->ad;
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	SSL *dane = SSL_new(ctx);
	X509_STORE_CTX *store = X509_STORE_CTX_new();
	struct tls_verify *v = xcalloc(1, sizeof *v);
	int ok = 0;
	if (!dane || !store || SSL_dane_enable(dane, host) <= 0) {
		free(v);
		res->dane_detail = arena_strdup(a, "the TLSA records could not be checked "
						"(OpenSSL refused the DANE set-up)");
		goto done;
	}
	SSL_set_ex_data(dane, verify_index, v); /* freed with dane */
	/* RFC 7672 3.1.1: a DANE-EE record names the key, not the host. */
	SSL_dane_set_flags(dane, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (size_t i = 0; i < tlsa->nrecords; i++) {
		const struct dns_record *r = &tlsa->records[i];
		if (SSL_dane_tlsa_add(dane, r->usage, r->selector, r->mtype, r->data,
				      r->datalen) > 0)
			res->dane_usable++;
	}
	if (res->dane_usable == 0) {
		res->dane_detail = arena_printf(a, "none of the %zu TLSA records is usable",
						tlsa->nrecords);
		goto done;
	}
	if (!leaf) {
		res->dane_detail = arena_strdup(a, "the server sent no certificate");
		goto done;
	}
	if (X509_STORE_CTX_init(store, SSL_CTX_get_cert_store(ctx), leaf, chain) != 1) {
		res->dane_detail = arena_strdup(a, "the TLSA records could not be checked "
						"(OpenSSL refused the chain)");
		goto done;
	}
	X509_STORE_CTX_set_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx(), dane);
	X509_STORE_CTX_set0_dane(store, SSL_get0_dane(dane));
	X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(store);
	X509_VERIFY_PARAM_set_auth_level(param, SSL_get_security_level(dane));
	X509_STORE_CTX_set_default(store, "ssl_server");
	X509_VERIFY_PARAM_set1(param, SSL_get0_param(dane));
	X509_STORE_CTX_set_verify_cb(store, verify_cb);
	ok = X509_verify_cert(store);
	if (ok != 1 && !v->flags) {
		v->flags = VERIFY_OTHER;
		v->first_error = X509_STORE_CTX_get_error(store);
	}
	char *matched = dane_matched(dane, a);
	res->dane_match = ok == 1 && !v->flags && matched;
	const char *why = v->first_error ? X509_verify_cert_error_string(v->first_error)
					 : "unknown reason";
	if (res->dane_match)
		res->dane_detail = matched;
	else if (matched)
		res->dane_detail = arena_printf(a, "%s, but the chain fails DANE's checks: %s",
						matched, why);
	else
		res->dane_detail = arena_printf(a, "none of the %zu usable TLSA records "
						"matches the certificate chain", res->dane_usable);

	/* RFC 7672: validated records are the authority for this port. */
	res->dane_authoritative = tlsa->ad;
	if (res->dane_authoritative) {
		res->tls.verified = res->dane_match;
		res->tls.verify_flags = res->dane_match ? 0 : v->flags;
		res->tls.verify_error = res->dane_match ? NULL : arena_strdup(a, why);
	}
done:
	X509_STORE_CTX_free(store);
	SSL_free(dane);
	ERR_clear_error();
}
