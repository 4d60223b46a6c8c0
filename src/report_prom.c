/*
 * report_prom.c - --prometheus: the results as Prometheus text exposition
 * lines, for node_exporter's textfile collector (write to a .prom file
 * from cron; README shows how). One family per measurement, labelled by
 * host, port and address; findings as a 1-valued series per id.
 */
#include "report.h"

#include <string.h>

#include "probe.h"

/* Label values: backslash, quote and newline escaped (exposition format). */
static void label_value(struct buf *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_printf(out, "\\%c", *s);
		else if (*s == '\n')
			buf_puts(out, "\\n");
		else if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
			buf_putc(out, *s);
	}
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void port_labels(struct buf *out, const struct host_result *h,
			const struct port_result *r)
{
	buf_puts(out, "{host=\"");
	label_value(out, h->name);
	buf_puts(out, "\",server=\"");
	label_value(out, r->server ? r->server : h->name);
	buf_printf(out, "\",port=\"%d\",address=\"", r->port);
	label_value(out, r->address);
	buf_printf(out, "\",mode=\"%s\"}", r->mode == MODE_TLS ? "tls" : "starttls");
}

static void family(struct buf *out, const char *name, const char *help)
{
	buf_printf(out, "# HELP smtpcheck_%s %s\n# TYPE smtpcheck_%s gauge\n", name, help, name);
}

/* One value of a port: false when the port has none (no sample). */
typedef bool (*port_value_fn)(const struct port_result *r, double *v);

static bool v_up(const struct port_result *r, double *v) { *v = r->connected; return true; }
static bool v_tls(const struct port_result *r, double *v) { *v = r->tls.ok; return true; }
static bool v_verified(const struct port_result *r, double *v)
{
	*v = r->tls.ok && r->tls.verified;
	return true;
}
static bool v_auth(const struct port_result *r, double *v)
{
	*v = port_result_final_caps(r)->nmech > 0;
	return true;
}
static bool v_days(const struct port_result *r, double *v)
{
	*v = (double)r->tls.cert.days_left;
	return r->tls.ok && r->tls.cert.present;
}
static bool v_seconds(const struct port_result *r, double *v)
{
	*v = (double)r->total_us / 1e6;
	return r->connected;
}
static bool v_dane(const struct port_result *r, double *v)
{
	*v = r->dane_match;
	return r->dane_checked;
}
static bool v_login(const struct port_result *r, double *v)
{
	*v = r->auth_ok_index >= 0;
	return r->nauth > 0;
}

static const struct {
	const char *name, *help;
	port_value_fn fn;
} port_families[] = {
	{ "port_up", "1 when the port accepted a connection.", v_up },
	{ "port_tls", "1 when TLS (implicit or STARTTLS) was established.", v_tls },
	{ "port_cert_verified", "1 when the certificate verifies for the host.", v_verified },
	{ "port_auth_offered", "1 when AUTH is offered (over TLS where there is TLS).", v_auth },
	{ "cert_days_left", "Days until the certificate expires.", v_days },
	{ "port_seconds", "Wall time of the port's session.", v_seconds },
	{ "port_login_ok", "1 when the credentials given were accepted.", v_login },
	{ "port_dane_match", "1 when a TLSA record matches the certificate (DANE).", v_dane },
};

/*
 * With several hosts the families repeat per host; the textfile
 * collector wants one group per family, so write one host per file, or
 * use --json for many hosts.
 */
void report_prometheus(const struct host_result *h, const struct diagnosis *d,
		       bool first, struct buf *out)
{
	(void)first;
	family(out, "status", "Nagios state of the host: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.");
	buf_puts(out, "smtpcheck_status{host=\"");
	label_value(out, h->name);
	buf_printf(out, "\"} %d\n", (int)d->status);
	family(out, "elapsed_seconds", "Wall time of the whole probe of the host.");
	buf_puts(out, "smtpcheck_elapsed_seconds{host=\"");
	label_value(out, h->name);
	buf_printf(out, "\"} %.6f\n", (double)h->elapsed_us / 1e6);

	for (size_t f = 0; f < ARRAY_LEN(port_families); f++) {
		bool any = false;
		for (size_t i = 0; i < h->nports; i++) {
			double v;
			if (!port_families[f].fn(&h->ports[i], &v))
				continue;
			if (!any)
				family(out, port_families[f].name, port_families[f].help);
			any = true;
			buf_printf(out, "smtpcheck_%s", port_families[f].name);
			port_labels(out, h, &h->ports[i]);
			buf_printf(out, " %g\n", v);
		}
	}
	bool any = false;
	for (size_t i = 0; i < h->nports; i++) {
		const struct port_result *r = &h->ports[i];
		for (int ph = 0; ph < PH_COUNT; ph++) {
			if (!r->timed[ph])
				continue;
			if (!any)
				family(out, "phase_seconds", "Time spent in each phase of the session.");
			any = true;
			buf_puts(out, "smtpcheck_phase_seconds");
			port_labels(out, h, r);
			out->len--; /* reopen the label set */
			buf_printf(out, ",phase=\"%s\"} %.6f\n", phase_key(ph),
				   (double)r->timing_us[ph] / 1e6);
		}
	}
	static const char *const sev[] = { "ok", "info", "warning", "critical" };
	if (d->n)
		family(out, "finding", "A finding of the diagnosis (value 1).");
	for (size_t i = 0; i < d->n; i++) {
		const struct finding *fd = &d->findings[i];
		/* A series appears once, however many messages share its labels. */
		bool seen = false;
		for (size_t k = 0; k < i && !seen; k++) {
			const struct finding *g = &d->findings[k];
			seen = !strcmp(g->id, fd->id) && g->severity == fd->severity &&
			       g->port == fd->port && same_text(g->address, fd->address) &&
			       same_text(g->server, fd->server);
		}
		if (seen)
			continue;
		buf_puts(out, "smtpcheck_finding{host=\"");
		label_value(out, h->name);
		buf_puts(out, "\",server=\"");
		label_value(out, fd->server);
		buf_printf(out, "\",id=\"%s\",severity=\"%s\",port=\"", fd->id, sev[fd->severity]);
		if (fd->port)
			buf_printf(out, "%d", fd->port);
		buf_puts(out, "\",address=\"");
		label_value(out, fd->address);
		buf_puts(out, "\"} 1\n");
	}
}
