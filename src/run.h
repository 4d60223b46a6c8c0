/*
 * run.h - one run of smtpcheck: every host given, each resolved and then
 * probed on every address and port at once, all inside one event loop.
 * When a host is finished its result is handed to the caller (who
 * diagnoses and prints it) and its memory is released.
 */
#ifndef SMTPCHECK_RUN_H
#define SMTPCHECK_RUN_H

#include <stdint.h>

#include "config.h"
#include "probe.h"
#include "result.h"

/* Called once per host, in the order hosts finish. */
typedef void (*run_report_fn)(void *arg, const struct host_result *h);

/*
 * deadline_us: the run's deadline (-t) on the monotonic clock, 0 for none;
 * each host also has its own (cfg->host_timeout). Every host is reported,
 * those the deadline left unstarted as not probed (host_result.not_probed).
 * Returns 0 when every host was reported (whatever it showed), or -1 with
 * a reason in err when the run could not start (TLS context, resolver).
 */
int run_hosts(const struct config *cfg, const struct probe_opts *opts, uint64_t deadline_us,
	      run_report_fn report, void *arg, struct buf *err);

#endif
