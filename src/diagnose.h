/*
 * diagnose.h - from what the probe measured to findings, the recommended
 * settings and the Nagios state. A pure function: no I/O, no clock; the
 * same results always give the same diagnosis.
 */
#ifndef SMTPCHECK_DIAGNOSE_H
#define SMTPCHECK_DIAGNOSE_H

#include <stdbool.h>
#include <stddef.h>

#include "range.h"
#include "result.h"
#include "util.h"

enum severity {
	SEV_OK,
	SEV_INFO,
	SEV_WARNING,
	SEV_CRITICAL
};

/* Nagios plugin states, which are also the exit codes. */
enum status {
	STATUS_OK = 0,
	STATUS_WARNING = 1,
	STATUS_CRITICAL = 2,
	STATUS_UNKNOWN = 3
};

struct finding {
	const char *id;            /* stable, see finding_ids */
	enum severity severity;
	int port;                  /* 0: about the host */
	const char *address;       /* NULL: about the host */
	const char *server;        /* the server name of the port, if any */
	char *message;             /* one sentence, ASCII */
	const char *const *advice; /* NULL-terminated, may be NULL */
};

enum security {
	SECURITY_TLS,              /* implicit TLS: "SSL/TLS" */
	SECURITY_STARTTLS,
	SECURITY_NONE
};

enum username_form {
	USERNAME_UNKNOWN,
	USERNAME_FULL_ADDRESS,
	USERNAME_LOCAL_PART
};

/* What became of the credentials given with -u, for the user-name line. */
enum rec_login {
	REC_LOGIN_NOT_GIVEN,           /* no -u */
	REC_LOGIN_ACCEPTED,            /* username_value logged in */
	REC_LOGIN_REFUSED,             /* rejected in every form tried */
	REC_LOGIN_TEMPORARY,           /* the server could not check it (4xx) */
	REC_LOGIN_NOT_SENT,            /* held back: no TLS on this port */
	REC_LOGIN_NOT_TRIED            /* the session never got to AUTH */
};

struct recommendation {
	bool present;
	const char *server;            /* the name to enter in the program */
	int port;
	enum security security;
	bool auth;
	enum username_form username;
	const char *username_value;    /* the name that logged in, if any */
	const char *address;
	/*
	 * With -u and a login that did not succeed anywhere, the settings are
	 * still those the probe measured (port, security, AUTH): only the
	 * credentials stand in the way, and login_note says so and what to
	 * check, for the user-name line.
	 */
	enum rec_login login;
	const char *login_note;
};

/* A working way to submit mail, in the order it is recommended. */
struct path_option {
	const char *server;
	int port;
	enum security security;
};

#define MAX_PATH_OPTIONS 16

struct diag_params {
	struct range cert_warn, cert_crit;   /* certificate days left */
	struct range warn_time, crit_time;   /* seconds per port */
	bool credentials;              /* -u given: a path needs a good login */
};

struct diagnosis {
	struct finding *findings;
	size_t n, cap;
	enum status status;
	char *summary;                 /* for the status line */
	struct recommendation rec;
	struct path_option options[MAX_PATH_OPTIONS];
	size_t noptions;
};

void diagnose(const struct host_result *h, const struct diag_params *p,
	      struct arena *a, struct diagnosis *d);
void diagnosis_free(struct diagnosis *d);

const char *severity_name(enum severity s);
const char *status_name(enum status s);

/*
 * The worse of two states, for a run of several hosts: CRITICAL, then
 * UNKNOWN, then WARNING, then OK. A known outage outweighs a host that
 * could not be checked; a host that could not be checked outweighs a
 * warning, which would otherwise hide it.
 */
enum status status_worse(enum status a, enum status b);
/* Its order: 0 for OK up to 3 for CRITICAL. */
int status_rank(enum status s);
const char *security_name(enum security s);

/* A greeting that waits this long is a deliberate delay (greeting-delayed). */
#define GREETING_DELAY_US 900000

/*
 * A port's response time: what -w and -c judge and what time_PORT shows,
 * one number for both. The session's wall time, less the wait for the
 * greeting when that wait was a deliberate delay (greeting-delayed, a
 * phase of its own, shown as greeting_PORT): a greeting that comes late
 * on purpose is no slowness, an ordinary wait for it is part of the time.
 */
uint64_t port_response_us(const struct port_result *r);

/*
 * How long ago an expired certificate ran out, in words ("1 day ago",
 * "less than a day ago"): false, and buf untouched, when it has not.
 */
bool cert_expired_ago(const struct cert_info *c, char *buf, size_t n);

/*
 * What went wrong on a port, for the reports: r->error, except that a
 * reply that ended the session, or refused STARTTLS, is given whole, its
 * lines joined (reply_show), where the probe quoted its first line.
 */
void port_error_words(const struct port_result *r, struct buf *out);
void port_tls_error_words(const struct port_result *r, struct buf *out);

/* The plain-words meaning of a finding id; NULL if the id is unknown. */
const char *finding_meaning(const char *id);

#endif
