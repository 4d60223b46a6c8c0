/*
 * options.c - the command line (shared/SPEC section 2 in the design
 * papers; man/smtpcheck.1 for users) turned into a struct config.
 *
 * Every value is checked here, once, with a message that names the
 * option; nothing later has to doubt the config.
 */
#include "config.h"

#include "address.h"
#include "ehlo.h"
#include "sasl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char smtpcheck_version[] = "0.1.0";

static const char usage_text[] =
"Usage: smtpcheck [OPTIONS] HOST [HOST...]\n"
"       smtpcheck [OPTIONS] USER@DOMAIN    (find the servers in DNS: SRV, MX)\n"
"       smtpcheck [OPTIONS] --domain DOMAIN\n"
"       smtpcheck --explain 'REPLY OR ERROR TEXT' [--json]\n"
"       smtpcheck --list-clients\n"
"Probe the SMTP submission ports of HOST (25, 465 and 587 at once), check\n"
"TLS, certificates and AUTH, and say what works and what the mail program\n"
"must use.\n"
"\n"
"Options:\n"
"  -p, --ports LIST        ports to probe, default 25,465,587; PORT[/MODE]\n"
"                          with MODE starttls (default) or tls (default\n"
"                          for 465)\n"
"  -4, -6                  IPv4 or IPv6 addresses only\n"
"  -f, --file FILE         read more hosts from FILE, one per line ('-': stdin)\n"
"  -j, --jobs N            probe at most N hosts at once (default 50)\n"
"      --connect ADDR      connect to ADDR instead of resolving HOST; HOST\n"
"                          is still used for SNI and the certificate check\n"
"  -t, --timeout SEC       hard deadline for the whole run, every host and\n"
"                          reading -f included (default 15)\n"
"      --host-timeout SEC  deadline for each host (default: the -t value)\n"
"      --no-reverse-dns    do not look up the PTR records of the addresses\n"
"      --ca-file FILE      trust the CAs in FILE (default: system store)\n"
"  -D, --certificate-days W[,C]\n"
"                          warn / critical when the certificate expires\n"
"                          within W / C days (default 30,7)\n"
"  -w, --warning SEC       WARNING when a port's session takes longer\n"
"  -c, --critical SEC      CRITICAL when a port's session takes longer\n"
"      --ehlo NAME         name to send in EHLO (default: this host's\n"
"                          name, or its address literal)\n"
"\n"
"Credentials and relaying:\n"
"  -u, --user NAME         log in with NAME on every port offering AUTH\n"
"                          over TLS; the password comes from the\n"
"                          environment variable SMTPCHECK_PASSWORD, from\n"
"                          --password-file, or from a prompt (never argv)\n"
"      --password-file F   read the password from the first line of F\n"
"      --no-username-retry do not retry a rejected local@domain name as\n"
"                          local (or local as local@DOMAIN)\n"
"      --domain DOMAIN     the mail domain, for that retry; without a host:\n"
"                          find DOMAIN's servers in DNS and probe them\n"
"      --auth-mech MECH    use this SASL mechanism instead of the\n"
"                          strongest one both sides support\n"
"      --insecure-auth     also log in on ports without TLS (the password\n"
"                          then crosses the network readable) and over\n"
"                          TLS whose certificate does not verify\n"
"      --try-mechanisms    start and cancel AUTH for every advertised\n"
"                          mechanism, without credentials\n"
"      --injection-test    on a second connection per STARTTLS port, send a\n"
"                          command in the same packet as STARTTLS and see\n"
"                          whether it runs after the upgrade (CVE-2011-0411)\n"
"      --from ADDR         envelope sender of the relay test\n"
"      --rcpt ADDR         envelope recipient of the relay test (default\n"
"                          " DEFAULT_RELAY_RCPT ")\n"
"      --no-relay-test     skip MAIL FROM / RCPT TO (never DATA anyway)\n"
"\n"
"Advice:\n"
"      --client NAME       the steps for this mail program (loose names:\n"
"                          oe6, outlook express 6, eudora, thunderbird,\n"
"                          mail); without it, pointers for common programs\n"
"      --list-clients      list the mail programs smtpcheck knows\n"
"      --list-findings     list every finding id with its meaning\n"
"\n"
"Offline:\n"
"      --explain TEXT      interpret a reply or an error message a mail\n"
"                          program showed, without connecting\n"
"      --json              print one JSON document\n"
"      --brief             print only the status line\n"
"      --prometheus        print Prometheus metrics (textfile collector)\n"
"  -v, --verbose           add the SMTP transcript of every port\n"
"  -V, --version           print the version\n"
"  -h, --help              print this help\n"
"\n"
"Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (Nagios plugin\n"
"guidelines).\n";

enum {
	OPT_CONNECT = 256,
	OPT_CA_FILE,
	OPT_EHLO,
	OPT_JSON,
	OPT_BRIEF,
	OPT_PASSWORD_FILE,
	OPT_NO_USERNAME_RETRY,
	OPT_DOMAIN,
	OPT_AUTH_MECH,
	OPT_INSECURE_AUTH,
	OPT_TRY_MECHANISMS,
	OPT_FROM,
	OPT_RCPT,
	OPT_NO_RELAY_TEST,
	OPT_EXPLAIN,
	OPT_PASSWORD,
	OPT_CLIENT,
	OPT_LIST_CLIENTS,
	OPT_PROMETHEUS,
	OPT_LIST_FINDINGS,
	OPT_INJECTION_TEST,
	OPT_NO_REVERSE_DNS,
	OPT_HOST_TIMEOUT,
};

static const struct option long_options[] = {
	{ "ports", required_argument, NULL, 'p' },
	{ "jobs", required_argument, NULL, 'j' },
	{ "file", required_argument, NULL, 'f' },
	{ "connect", required_argument, NULL, OPT_CONNECT },
	{ "timeout", required_argument, NULL, 't' },
	{ "host-timeout", required_argument, NULL, OPT_HOST_TIMEOUT },
	{ "ca-file", required_argument, NULL, OPT_CA_FILE },
	{ "certificate-days", required_argument, NULL, 'D' },
	{ "warning", required_argument, NULL, 'w' },
	{ "critical", required_argument, NULL, 'c' },
	{ "ehlo", required_argument, NULL, OPT_EHLO },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "user", required_argument, NULL, 'u' },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "password", required_argument, NULL, OPT_PASSWORD },
	{ "no-username-retry", no_argument, NULL, OPT_NO_USERNAME_RETRY },
	{ "domain", required_argument, NULL, OPT_DOMAIN },
	{ "auth-mech", required_argument, NULL, OPT_AUTH_MECH },
	{ "insecure-auth", no_argument, NULL, OPT_INSECURE_AUTH },
	{ "try-mechanisms", no_argument, NULL, OPT_TRY_MECHANISMS },
	{ "injection-test", no_argument, NULL, OPT_INJECTION_TEST },
	{ "no-reverse-dns", no_argument, NULL, OPT_NO_REVERSE_DNS },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "rcpt", required_argument, NULL, OPT_RCPT },
	{ "no-relay-test", no_argument, NULL, OPT_NO_RELAY_TEST },
	{ "explain", required_argument, NULL, OPT_EXPLAIN },
	{ "client", required_argument, NULL, OPT_CLIENT },
	{ "list-clients", no_argument, NULL, OPT_LIST_CLIENTS },
	{ "list-findings", no_argument, NULL, OPT_LIST_FINDINGS },
	{ "brief", no_argument, NULL, OPT_BRIEF },
	{ "prometheus", no_argument, NULL, OPT_PROMETHEUS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/*
 * The long option name[0..n) stands for, as getopt_long reads it: the one
 * of that name, or the only one it begins. *matches counts the options it
 * begins (1 for an exact name); cands, if not NULL, lists them.
 */
static const struct option *long_option_for(const char *name, size_t n, size_t *matches,
					    struct buf *cands)
{
	const struct option *match = NULL;
	*matches = 0;
	for (const struct option *o = long_options; o->name; o++) {
		if (strncmp(o->name, name, n) != 0)
			continue;
		if (strlen(o->name) == n) {        /* exact: no ambiguity */
			*matches = 1;
			return o;
		}
		if (cands)
			buf_printf(cands, "%s--%s", *matches ? ", " : "", o->name);
		(*matches)++;
		match = o;
	}
	return match;
}

bool options_json_asked(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (strncmp(a, "--", 2) != 0)
			continue;
		size_t n = strcspn(a + 2, "="), matches;
		const struct option *o = n ? long_option_for(a + 2, n, &matches, NULL) : NULL;
		if (o && matches == 1 && o->val == OPT_JSON)
			return true;
	}
	return false;
}

/*
 * Did getopt_long fail on the long option in arg (argv[optind - 1]), or
 * on a letter of a short group? A letter that is not the last of its
 * group ("-Zv") leaves optind on that group, so arg is then the argument
 * before it ("--brief"). getopt_long sets optopt to the letter, or, for a
 * long option, to 0 (unknown, ambiguous) or to its value (given a value
 * it takes none): a letter only when that option is arg's.
 */
static bool long_option_failed(const char *arg, int opt)
{
	if (strncmp(arg, "--", 2) != 0)
		return false;
	if (opt <= 0 || opt >= 128)
		return true;
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == opt && n > 0 && !strncmp(o->name, name, n))
			return true;
	return false;
}

/*
 * An option getopt_long did not take, named without its value: in
 * "--passw=hunter2" (--password or --password-file?) the value is the
 * very password the user meant to keep off the screen.
 */
static void unknown_option(const char *arg, int short_opt, struct buf *err)
{
	if (!long_option_failed(arg, short_opt)) {
		if (short_opt > 0 && short_opt < 128)
			buf_printf(err, "unknown option '-%c'", short_opt);
		else
			buf_puts(err, "unknown option");
		return;
	}
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	bool has_value = name[n] == '=';
	struct buf cands;
	buf_init(&cands);
	size_t matches;
	const struct option *match = long_option_for(name, n, &matches, &cands);
	if (matches > 1)
		buf_printf(err, "option '--%.*s' is ambiguous (%s)", (int)n, name,
			   buf_cstr(&cands));
	else if (matches == 1 && has_value && match->has_arg == no_argument)
		buf_printf(err, "option '--%s' takes no value", match->name);
	else
		buf_printf(err, "unknown option '--%.*s'", (int)n, name);
	if (has_value && matches != 1)
		buf_puts(err, "; its value is not shown");
	buf_free(&cands);
}

static bool parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Plain decimal seconds, as in the ranges: no blanks, "+", "1e1" or "0x5". */
static bool parse_seconds(const char *s, double min, double max, double *out)
{
	double v;
	if (!decimal_parse(s, &v) || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_ports(const char *s, struct config *cfg, struct buf *err)
{
	cfg->nports = 0;
	const char *p = s;
	if (!*p) {
		buf_puts(err, "--ports: empty list");
		return false;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		char item[64];
		if (n == 0 || n >= sizeof item) {
			buf_printf(err, "--ports: bad entry '%.*s'", (int)n, p);
			return false;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		char *slash = strchr(item, '/');
		if (slash)
			*slash++ = '\0';
		long port;
		if (!parse_long(item, 1, 65535, &port)) {
			buf_printf(err, "--ports: '%s' is not a port number (1-65535)", item);
			return false;
		}
		enum tls_mode mode = port == 465 ? MODE_TLS : MODE_STARTTLS;
		if (slash) {
			if (!ascii_casecmp(slash, "tls") || !ascii_casecmp(slash, "ssl"))
				mode = MODE_TLS;
			else if (!ascii_casecmp(slash, "starttls"))
				mode = MODE_STARTTLS;
			else {
				buf_printf(err, "--ports: unknown mode '%s' (use starttls or tls)",
					   slash);
				return false;
			}
		}
		for (size_t i = 0; i < cfg->nports; i++) {
			if (cfg->ports[i].port == port) {
				buf_printf(err, "--ports: port %ld given twice", port);
				return false;
			}
		}
		if (cfg->nports == MAX_PORTS) {
			buf_printf(err, "--ports: at most %d ports", MAX_PORTS);
			return false;
		}
		cfg->ports[cfg->nports].port = (int)port;
		cfg->ports[cfg->nports].mode = mode;
		cfg->nports++;
		p += n;
		if (*p == ',') {
			p++;
			if (!*p) {
				buf_puts(err, "--ports: trailing comma");
				return false;
			}
		}
	}
	return true;
}

static bool is_ip(const char *s, int *family)
{
	unsigned char b[16];
	if (inet_pton(AF_INET, s, b) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* A DNS name as hosts are named (letters, digits, '-', '_'), or an IP. */
static bool valid_host(const char *h, struct buf *err)
{
	int family;
	size_t n = strlen(h);
	if (n == 0) {
		buf_puts(err, "empty host name");
		return false;
	}
	if (is_ip(h, &family))
		return true;
	const char *at = strchr(h, '@');
	if (at) {
		/* USER@DOMAIN: the servers are found in DNS (SRV, then MX). */
		if (!address_valid(h, false)) {
			buf_printf(err, "'%s' is not an e-mail address", h);
			return false;
		}
		return true;
	}
	if (n > 253) {
		buf_puts(err, "host name longer than 253 characters");
		return false;
	}
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (c == '.') {
			if (label == 0 && !(i == n - 1 && n > 1)) {
				buf_printf(err, "'%s' is not a valid host name (empty label)", h);
				return false;
			}
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_';
		if (!ok || ++label > 63) {
			/* Escaped where it is printed (main.c), as every message. */
			buf_printf(err, "'%.80s' is not a valid host name", h);
			return false;
		}
	}
	return true;
}

static void add_host(struct config *cfg, const char *h)
{
	if (cfg->nhosts == cfg->caphosts) {
		cfg->caphosts = cfg->caphosts ? cfg->caphosts * 2 : 8;
		cfg->hosts = xrealloc(cfg->hosts, cfg->caphosts * sizeof *cfg->hosts);
	}
	cfg->hosts[cfg->nhosts++] = xstrdup(h);
}

/*
 * -f: one host per line; blank lines and # comments are skipped. The list
 * is bounded: /dev/zero or a runaway pipe must end in a clear error, not
 * in all the memory there is, and every host given is reported, so the
 * hosts a deadline leaves unprobed must be few enough to report within
 * its half second of grace (about 0.2 s for 100,000 with --json).
 */
#define HOSTS_LINE_MAX 1024
#define HOSTS_ERRORS_SHOWN 5
#define HOSTS_FILE_MAX (16u << 20)
#define HOSTS_MAX 100000

/* One line of the list (without its newline); false with a reason in why. */
static bool hosts_line(struct config *cfg, char *line, struct buf *why)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	char *s = line + strspn(line, " \t\r");
	size_t n = strcspn(s, " \t\r");
	if (n == 0)
		return true;
	if (s[n + strspn(s + n, " \t\r")]) {
		buf_puts(why, "one host per line");
		return false;
	}
	s[n] = '\0';
	if (!valid_host(s, why))
		return false;
	add_host(cfg, s);
	return true;
}

/*
 * The whole list, then its lines. Reading polls with the deadline: a FIFO
 * whose writer never comes, or a terminal, must not hold the run. A FIFO
 * is opened without blocking for the same reason; poll() reports it only
 * once a writer has written or gone.
 */
static enum options_result read_hosts_file(struct config *cfg, const char *path,
					   uint64_t deadline_us, struct buf *err)
{
	bool is_stdin = !strcmp(path, "-");
	const char *shown = is_stdin ? "standard input" : path;
	int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		buf_printf(err, "--file: cannot open %s: %s", path, strerror(errno));
		return OPTIONS_FAILED;
	}
	struct buf text;
	buf_init(&text);
	enum options_result rc = OPTIONS_RUN;
	for (;;) {
		/* Checked on every round: a source that is always ready (a
		 * large file, /dev/zero) never lets poll() time out. */
		int ready = fd_wait_readable(fd, deadline_us);
		if (ready < 0) {
			buf_printf(err, "--file: cannot read %s: %s", shown, strerror(errno));
			rc = OPTIONS_FAILED;
			break;
		}
		if (ready == 0) {
			size_t lines = 0;
			for (size_t i = 0; i < text.len; i++)
				lines += text.data[i] == '\n';
			buf_printf(err, "--file: %s had not ended when the run's deadline of %g s "
				   "passed (%zu line%s read); nothing was probed", shown,
				   cfg->timeout, lines, lines == 1 ? "" : "s");
			rc = OPTIONS_FAILED;
			break;
		}
		char chunk[65536];
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (got < 0) {
			buf_printf(err, "--file: cannot read %s: %s", shown, strerror(errno));
			rc = OPTIONS_FAILED;
			break;
		}
		if (got == 0)
			break;
		if (text.len + (size_t)got > HOSTS_FILE_MAX) {
			buf_printf(err, "--file: %s is longer than %u MB, the most smtpcheck "
				   "reads; split the list", shown, HOSTS_FILE_MAX >> 20);
			rc = OPTIONS_FAILED;
			break;
		}
		buf_append(&text, chunk, (size_t)got);
	}
	if (!is_stdin)
		close(fd);
	if (rc != OPTIONS_RUN) {
		buf_free(&text);
		return rc;
	}

	/* Every bad line is counted; the first few are named. */
	size_t bad = 0;
	long lineno = 0;
	char *p = text.len ? text.data : NULL;
	char *end = p ? p + text.len : NULL;
	while (p && p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *stop = nl ? nl : end;
		lineno++;
		if (lineno % 1024 == 0 && now_us() >= deadline_us) {
			buf_reset(err);
			buf_printf(err, "--file: the run's deadline of %g s passed while the hosts "
				   "of %s were read (line %ld); nothing was probed", cfg->timeout,
				   shown, lineno);
			buf_free(&text);
			return OPTIONS_FAILED;
		}
		if (cfg->nhosts > HOSTS_MAX)
			break;  /* hosts_checks() says so; the rest need no reading */
		struct buf why;
		buf_init(&why);
		if (memchr(p, '\0', (size_t)(stop - p)))
			buf_puts(&why, "a NUL byte (is this a text file?)");
		else if (stop - p > HOSTS_LINE_MAX)
			buf_printf(&why, "longer than %d characters", HOSTS_LINE_MAX);
		if (!why.len) {
			*stop = '\0';
			hosts_line(cfg, p, &why);
		}
		if (why.len) {
			if (bad++ < HOSTS_ERRORS_SHOWN)
				buf_printf(err, "%s%s%sline %ld: %s",
					   bad == 1 ? "--file: " : "; ", bad == 1 ? shown : "",
					   bad == 1 ? " " : "", lineno, buf_cstr(&why));
		}
		buf_free(&why);
		p = stop + 1;
	}
	buf_free(&text);
	if (bad > HOSTS_ERRORS_SHOWN)
		buf_printf(err, "; %zu more bad lines", bad - HOSTS_ERRORS_SHOWN);
	return bad ? OPTIONS_USAGE : OPTIONS_RUN;
}

/* What depends on the hosts: known after -f is read. */
static bool hosts_checks(struct config *cfg, struct buf *err)
{
	/* USER@DOMAIN: the address is the user name unless -u says otherwise. */
	if (!cfg->user && cfg->nhosts == 1 && strchr(cfg->hosts[0], '@'))
		cfg->address_user = cfg->hosts[0];
	if (cfg->password_file && !cfg->user && !cfg->address_user) {
		buf_puts(err, "--password-file needs --user (or one USER@DOMAIN)");
		return false;
	}
	const char *source = !cfg->hosts_file ? "the command line"
			     : !strcmp(cfg->hosts_file, "-") ? "standard input" : cfg->hosts_file;
	if (cfg->nhosts == 0) {
		buf_printf(err, "--file: no host in %s", source);
		return false;
	}
	if (cfg->nhosts > HOSTS_MAX) {
		buf_printf(err, "%smore than %d hosts (%s), the most smtpcheck takes in "
			   "one run; split the list", cfg->hosts_file ? "--file: " : "",
			   HOSTS_MAX, source);
		return false;
	}
	if (cfg->prometheus && cfg->nhosts > 1) {
		buf_puts(err, "--prometheus takes one host (write one file per host for the "
			 "textfile collector)");
		return false;
	}
	if (cfg->connect_addr && cfg->nhosts > 1) {
		buf_puts(err, "--connect takes one host");
		return false;
	}
	return true;
}

enum options_result options_read_hosts(struct config *cfg, uint64_t deadline_us,
				       struct buf *err)
{
	if (!cfg->hosts_file)
		return OPTIONS_RUN;
	enum options_result rc = read_hosts_file(cfg, cfg->hosts_file, deadline_us, err);
	if (rc != OPTIONS_RUN)
		return rc;
	return hosts_checks(cfg, err) ? OPTIONS_RUN : OPTIONS_USAGE;
}

static bool plain_number(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/*
 * -D: a whole number of days means "alert below it"; anything else must
 * be a range that says so (a ':' or an '@'), in whole days. "30.5" or
 * " 7" read as the range 0:30.5 would alert on every healthy certificate.
 */
static bool days_threshold(const char *s, struct range *r)
{
	if (plain_number(s)) {
		long days;
		if (!parse_long(s, 0, 100000, &days))
			return false;
		range_below((double)days, r);
		return true;
	}
	if (!strchr(s, ':') && s[0] != '@')
		return false;
	return !strchr(s, '.') && range_parse(s, r);
}

static void show_args(struct config *cfg, int argc, char **argv)
{
	struct buf b;
	buf_init(&b);
	for (int i = 1; i < argc; i++) {
		if (i > 1)
			buf_putc(&b, ' ');
		escape_ascii(&b, argv[i], strlen(argv[i]));
	}
	cfg->argv_shown = xstrdup(buf_cstr(&b));
	buf_free(&b);
}

enum options_result options_parse(int argc, char **argv, struct config *cfg,
				  struct buf *err)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->family = AF_UNSPEC;
	cfg->timeout = 15;
	range_below(30, &cfg->cert_warn);
	range_below(7, &cfg->cert_crit);
	cfg->relay_test = true;
	cfg->username_retry = true;
	cfg->jobs = 50;
	parse_ports("25,465,587", cfg, err);

	/* 0, not 1: glibc then also forgets a group of short options that an
	 * earlier parse left half read (the unit tests parse many times). */
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":p:46t:D:w:c:u:j:f:vVh", long_options, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_ports(optarg, cfg, err))
				return OPTIONS_USAGE;
			break;
		case 'j': {
			long jobs;
			if (!parse_long(optarg, 1, 100000, &jobs)) {
				buf_printf(err, "--jobs: '%s' is not a number from 1 to 100000", optarg);
				return OPTIONS_USAGE;
			}
			cfg->jobs = (size_t)jobs;
			break;
		}
		case 'f':
			cfg->hosts_file = optarg;
			break;
		case '4':
			cfg->family = cfg->family == AF_INET6 ? AF_UNSPEC : AF_INET;
			break;
		case '6':
			cfg->family = cfg->family == AF_INET ? AF_UNSPEC : AF_INET6;
			break;
		case OPT_CONNECT: {
			int family;
			if (!is_ip(optarg, &family)) {
				buf_printf(err, "--connect: '%s' is not an IP address", optarg);
				return OPTIONS_USAGE;
			}
			cfg->connect_addr = optarg;
			break;
		}
		case 't':
		case OPT_HOST_TIMEOUT:
			if (!parse_seconds(optarg, 0.1, 3600,
					   c == 't' ? &cfg->timeout : &cfg->host_timeout)) {
				buf_printf(err, "--%s: '%s' is not a number of seconds "
					   "between 0.1 and 3600",
					   c == 't' ? "timeout" : "host-timeout", optarg);
				return OPTIONS_USAGE;
			}
			break;
		case OPT_CA_FILE:
			if (access(optarg, R_OK) != 0) {
				buf_printf(err, "--ca-file: cannot read '%s': %s", optarg,
					   strerror(errno));
				return OPTIONS_USAGE;
			}
			cfg->ca_file = optarg;
			break;
		case 'D': {
			char w[64], *comma;
			if (strlen(optarg) >= sizeof w) {
				buf_printf(err, "--certificate-days: '%.40s...' is too long", optarg);
				return OPTIONS_USAGE;
			}
			snprintf(w, sizeof w, "%s", optarg);
			comma = strchr(w, ',');
			if (comma)
				*comma++ = '\0';
			if (!days_threshold(w, &cfg->cert_warn) ||
			    (comma && !days_threshold(comma, &cfg->cert_crit))) {
				buf_printf(err, "--certificate-days: '%s' is not W[,C]: whole "
					   "numbers of days, or Nagios ranges of days such as "
					   "30: or @0:10", optarg);
				return OPTIONS_USAGE;
			}
			if (!comma)
				cfg->cert_crit = cfg->cert_warn.low < cfg->cert_crit.low
						 ? cfg->cert_warn : cfg->cert_crit;
			if (plain_number(w) && comma && plain_number(comma) &&
			    cfg->cert_crit.low > cfg->cert_warn.low) {
				buf_puts(err, "--certificate-days: the critical days must not "
					 "exceed the warning days");
				return OPTIONS_USAGE;
			}
			break;
		}
		case 'w':
		case 'c': {
			struct range *r = c == 'w' ? &cfg->warn_time : &cfg->crit_time;
			if (!range_parse(optarg, r)) {
				buf_printf(err, "--%s: '%s' is not a number of seconds or a "
					   "Nagios range ([@][START:][END], plain decimal numbers "
					   "such as 0.5, 2: or ~:3)",
					   c == 'w' ? "warning" : "critical", optarg);
				return OPTIONS_USAGE;
			}
			break;
		}
		case OPT_EHLO:
			if (!*optarg || strlen(optarg) > 255 || strpbrk(optarg, " \t\r\n")) {
				buf_puts(err, "--ehlo: give a host name or address literal");
				return OPTIONS_USAGE;
			}
			cfg->ehlo_name = optarg;
			break;
		case OPT_JSON:
			cfg->json = true;
			break;
		case 'u':
			if (!*optarg || strlen(optarg) > SASL_MAX_CRED ||
			    strpbrk(optarg, "\r\n")) {
				buf_puts(err, "--user: give a user name of 1 to 256 characters");
				return OPTIONS_USAGE;
			}
			cfg->user = optarg;
			break;
		case OPT_PASSWORD:
			buf_puts(err, "--password: a password on the command line is visible to "
				 "every user (ps); use SMTPCHECK_PASSWORD, --password-file or "
				 "the prompt");
			return OPTIONS_USAGE;
		case OPT_PASSWORD_FILE:
			cfg->password_file = optarg;
			break;
		case OPT_NO_USERNAME_RETRY:
			cfg->username_retry = false;
			break;
		case OPT_DOMAIN:
			if (!domain_valid(optarg)) {
				buf_printf(err, "--domain: '%s' is not a domain name", optarg);
				return OPTIONS_USAGE;
			}
			cfg->domain = optarg;
			break;
		case OPT_AUTH_MECH:
			cfg->auth_mech = sasl_mech_bit(optarg);
			if (!(cfg->auth_mech & sasl_supported())) {
				buf_printf(err, "--auth-mech: '%s' is not one of SCRAM-SHA-256, "
					   "SCRAM-SHA-1, CRAM-MD5, PLAIN, LOGIN", optarg);
				return OPTIONS_USAGE;
			}
			break;
		case OPT_INSECURE_AUTH:
			cfg->insecure_auth = true;
			break;
		case OPT_TRY_MECHANISMS:
			cfg->try_mechanisms = true;
			break;
		case OPT_INJECTION_TEST:
			cfg->injection_test = true;
			break;
		case OPT_NO_REVERSE_DNS:
			cfg->no_reverse_dns = true;
			break;
		case OPT_FROM:
		case OPT_RCPT:
			if (!address_valid(optarg, c == OPT_FROM)) {
				buf_printf(err, "--%s: '%s' is not an e-mail address",
					   c == OPT_FROM ? "from" : "rcpt", optarg);
				return OPTIONS_USAGE;
			}
			if (c == OPT_FROM)
				cfg->mail_from = optarg;
			else
				cfg->rcpt_to = optarg;
			break;
		case OPT_NO_RELAY_TEST:
			cfg->relay_test = false;
			break;
		case OPT_EXPLAIN:
			cfg->explain = optarg;
			break;
		case OPT_CLIENT:
			cfg->client = optarg;
			break;
		case OPT_LIST_CLIENTS:
			cfg->list_clients = true;
			break;
		case OPT_LIST_FINDINGS:
			cfg->list_findings = true;
			break;
		case OPT_BRIEF:
			cfg->brief = true;
			break;
		case OPT_PROMETHEUS:
			cfg->prometheus = true;
			break;
		case 'v':
			cfg->verbose = true;
			break;
		case 'V':
			printf("smtpcheck %s\n", smtpcheck_version);
			return OPTIONS_EXIT_OK;
		case 'h':
			fputs(usage_text, stdout);
			return OPTIONS_EXIT_OK;
		case ':':
			/* Missing, so it was the last argument: "--timeout" or "-vt". */
			if (long_option_failed(argv[optind - 1], optopt))
				buf_printf(err, "option '%s' needs a value", argv[optind - 1]);
			else
				buf_printf(err, "option '-%c' needs a value", optopt);
			return OPTIONS_USAGE;
		default:
			unknown_option(argv[optind - 1], optopt, err);
			return OPTIONS_USAGE;
		}
	}

	/*
	 * -t bounds the whole run in every mode, -f included: a FIFO nobody
	 * writes to, or a list too long for the time, must not run for ever.
	 * A long list wants a -t of its own, and perhaps --host-timeout.
	 */
	if (!cfg->host_timeout)
		cfg->host_timeout = cfg->timeout;

	if (cfg->list_clients || cfg->list_findings) {
		show_args(cfg, argc, argv);
		return OPTIONS_RUN;
	}
	if (cfg->explain) {
		if (optind < argc) {
			buf_puts(err, "--explain takes no host; quote the whole text");
			return OPTIONS_USAGE;
		}
		if (cfg->brief) {
			buf_puts(err, "--explain and --brief exclude each other");
			return OPTIONS_USAGE;
		}
		show_args(cfg, argc, argv);
		return OPTIONS_RUN;
	}
	if (optind >= argc && !cfg->hosts_file && cfg->domain) {
		/* --domain alone: find that domain's servers. */
		cfg->discover = true;
		add_host(cfg, cfg->domain);
	} else if (optind >= argc && !cfg->hosts_file) {
		buf_puts(err, "no host given");
		return OPTIONS_USAGE;
	}
	if (!cfg->rcpt_to)
		cfg->rcpt_to = DEFAULT_RELAY_RCPT;

	if (cfg->json + cfg->brief + cfg->prometheus > 1) {
		buf_puts(err, "--json, --brief and --prometheus exclude each other");
		return OPTIONS_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		if (!valid_host(argv[i], err))
			return OPTIONS_USAGE;
		add_host(cfg, argv[i]);
	}
	/* With -f the checks that count hosts wait for the list. */
	if (!cfg->hosts_file && !hosts_checks(cfg, err))
		return OPTIONS_USAGE;
	if (cfg->connect_addr) {
		int family = AF_UNSPEC;
		is_ip(cfg->connect_addr, &family);
		if (cfg->family != AF_UNSPEC && cfg->family != family) {
			buf_puts(err, "--connect address does not match -4/-6");
			return OPTIONS_USAGE;
		}
	}
	if (cfg->warn_time.set && cfg->crit_time.set && !cfg->warn_time.inside &&
	    !cfg->crit_time.inside && !cfg->warn_time.high_infinite &&
	    !cfg->crit_time.high_infinite && cfg->warn_time.high > cfg->crit_time.high) {
		buf_puts(err, "--warning must not exceed --critical");
		return OPTIONS_USAGE;
	}
	show_args(cfg, argc, argv);
	cfg->reverse_dns = !cfg->connect_addr && !cfg->no_reverse_dns;

	const char *nc = getenv("NO_COLOR");
	cfg->color = isatty(STDOUT_FILENO) && !(nc && *nc);
	const char *lc = getenv("LC_ALL");
	if (!lc || !*lc)
		lc = getenv("LC_CTYPE");
	if (!lc || !*lc)
		lc = getenv("LANG");
	cfg->utf8 = lc && (strstr(lc, "UTF-8") || strstr(lc, "utf8") || strstr(lc, "UTF8"));
	return OPTIONS_RUN;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nhosts; i++)
		free(cfg->hosts[i]);
	free(cfg->hosts);
	free(cfg->argv_shown);
	memset(cfg, 0, sizeof *cfg);
}
