/*
 * report.h - rendering a host's results and diagnosis: the text report
 * (status line first, for monitoring engines and tickets) and the JSON
 * document. Pure functions from data to text; printing is the caller's.
 */
#ifndef SMTPCHECK_REPORT_H
#define SMTPCHECK_REPORT_H

#include "config.h"
#include "diagnose.h"
#include "kb.h"
#include "result.h"
#include "util.h"

/* The knowledge base and the program the user named, for the advice. */
struct report_advice {
	const struct kb *kb;
	const struct kb_program *client;   /* --client, or NULL */
	const struct kb_program *thunderbird; /* for its automatic setup, or NULL */
};

void report_json(const struct config *cfg, const struct host_result *h,
		 const struct diagnosis *d, const struct report_advice *ra,
		 struct buf *out);

/* --json when nothing was probed: report_json's keys, status UNKNOWN,
 * message (printable ASCII) as summary and error. */
void report_error_json(const char *message, struct buf *out);

/* The Nagios status line with perfdata, without a newline. */
void report_status_line(const struct config *cfg, const struct host_result *h,
			const struct diagnosis *d, struct buf *out);

/* A host of a run of several, for the run's own status line. */
struct host_status {
	const char *name;
	enum status status;
};

/*
 * With several hosts the first line speaks for the run: the worst state
 * (status_worse), how many hosts are in each state, the hosts that are not
 * OK named (a few per state), perfdata with the counts. No newline.
 */
void report_run_status_line(const struct host_status *hosts, size_t n, struct buf *out);

/* The whole text report, status line first. */
void report_text(const struct config *cfg, const struct host_result *h,
		 const struct diagnosis *d, const struct report_advice *ra,
		 struct buf *out);

/* --prometheus: text exposition format; first resets the HELP/TYPE lines. */
void report_prometheus(const struct host_result *h, const struct diagnosis *d,
		       bool first, struct buf *out);

/* --list-clients */
void report_clients_text(const struct kb *kb, struct buf *out);
/* --list-findings: every finding id and its meaning, within 80 columns. */
void report_findings_text(struct buf *out);
void report_clients_json(const struct kb *kb, struct buf *out);

const char *phase_key(enum phase ph);

struct explanation;
void report_explain_json(const char *input, const struct explanation *e, struct buf *out);
void report_explain_text(const char *input, const struct explanation *e, struct buf *out);

#endif
