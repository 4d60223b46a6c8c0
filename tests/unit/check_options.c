/*
 * check_options.c - the command line: defaults, every value check, and
 * the messages that name the option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "suites.h"

static struct config C;
static struct buf E;

static enum options_result parse(int argc, const char **argv)
{
	config_free(&C);
	buf_free(&E);
	buf_init(&E);
	return options_parse(argc, (char **)argv, &C, &E);
}

#define PARSE(...) parse((int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)), \
			 (const char *[]){ __VA_ARGS__ })

static void teardown(void)
{
	config_free(&C);
	buf_free(&E);
}

START_TEST(defaults)
{
	ck_assert_int_eq(PARSE("smtpcheck", "mail.example.net"), OPTIONS_RUN);
	ck_assert_uint_eq(C.nports, 3);
	ck_assert_int_eq(C.ports[0].port, 25);
	ck_assert_int_eq(C.ports[0].mode, MODE_STARTTLS);
	ck_assert_int_eq(C.ports[1].port, 465);
	ck_assert_int_eq(C.ports[1].mode, MODE_TLS);
	ck_assert_int_eq(C.ports[2].port, 587);
	ck_assert_int_eq(C.ports[2].mode, MODE_STARTTLS);
	ck_assert_int_eq(C.family, AF_UNSPEC);
	ck_assert(C.timeout == 15);
	ck_assert(range_alert(&C.cert_warn, 29) && !range_alert(&C.cert_warn, 30));
	ck_assert(range_alert(&C.cert_crit, 6) && !range_alert(&C.cert_crit, 7));
	ck_assert(!C.warn_time.set && !C.crit_time.set);
	ck_assert_uint_eq(C.nhosts, 1);
	ck_assert_str_eq(C.hosts[0], "mail.example.net");
}
END_TEST

START_TEST(ports_with_modes)
{
	ck_assert_int_eq(PARSE("smtpcheck", "-p", "2525/tls,465/starttls,587", "h"), OPTIONS_RUN);
	ck_assert_uint_eq(C.nports, 3);
	ck_assert_int_eq(C.ports[0].mode, MODE_TLS);
	ck_assert_int_eq(C.ports[1].mode, MODE_STARTTLS);
	ck_assert_int_eq(C.ports[2].mode, MODE_STARTTLS);
}
END_TEST

START_TEST(bad_ports)
{
	const char *bad[] = { "", "0", "65536", "25,", ",25", "25/ssl3", "abc", "25,25",
			      "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_int_eq(PARSE("smtpcheck", "-p", bad[i], "h"), OPTIONS_USAGE);
		ck_assert_msg(strstr(buf_cstr(&E), "--ports") != NULL, "%s: %s", bad[i],
			      buf_cstr(&E));
	}
}
END_TEST

START_TEST(timeouts_and_days)
{
	ck_assert_int_eq(PARSE("smtpcheck", "-t", "2.5", "-D", "20,5", "h"), OPTIONS_RUN);
	ck_assert(C.timeout == 2.5);
	ck_assert(range_alert(&C.cert_warn, 19) && !range_alert(&C.cert_warn, 20));
	ck_assert(range_alert(&C.cert_crit, 4) && !range_alert(&C.cert_crit, 5));
	ck_assert_str_eq(C.cert_warn.text, "20:");
	ck_assert_int_eq(PARSE("smtpcheck", "-D", "3", "h"), OPTIONS_RUN);
	ck_assert(range_alert(&C.cert_crit, 2) && !range_alert(&C.cert_crit, 3));
	ck_assert_int_eq(PARSE("smtpcheck", "-D", "40:,@0:10", "h"), OPTIONS_RUN);
	ck_assert(range_alert(&C.cert_warn, 39));
	ck_assert(range_alert(&C.cert_crit, 5) && !range_alert(&C.cert_crit, 11));
	ck_assert_int_eq(PARSE("smtpcheck", "-w", "0.5", "-c", "2", "h"), OPTIONS_RUN);
	ck_assert(range_alert(&C.warn_time, 0.6) && !range_alert(&C.warn_time, 0.4));
	ck_assert_str_eq(C.crit_time.text, "2");
	ck_assert_int_eq(PARSE("smtpcheck", "-w", "~:3", "h"), OPTIONS_RUN);
	ck_assert_int_eq(PARSE("smtpcheck", "-t", "0", "h"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "-t", "x", "h"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "-t", "nan", "h"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "-D", "5,20", "h"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "-D", "a", "h"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "-w", "2", "-c", "1", "h"), OPTIONS_USAGE);
}
END_TEST

/* What strtod took and a monitoring engine would not: refused, exit 3. */
START_TEST(time_thresholds_strict)
{
	static const char *const bad[] = { " 5", "5 ", "1e3", "0x10", "+5", "inf", "5." };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_int_eq(PARSE("smtpcheck", "-w", bad[i], "h"), OPTIONS_USAGE);
		ck_assert_msg(strstr(buf_cstr(&E), "--warning: '") == buf_cstr(&E), "%s", buf_cstr(&E));
		ck_assert(strstr(buf_cstr(&E), "Nagios range") != NULL);
		ck_assert_int_eq(PARSE("smtpcheck", "-c", bad[i], "h"), OPTIONS_USAGE);
		ck_assert(strstr(buf_cstr(&E), "--critical: '") == buf_cstr(&E));
	}
	/* Seconds for -t and --host-timeout are plain decimals too. */
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_int_eq(PARSE("smtpcheck", "-t", bad[i], "h"), OPTIONS_USAGE);
		ck_assert(strstr(buf_cstr(&E), "--timeout: '") == buf_cstr(&E));
		ck_assert_int_eq(PARSE("smtpcheck", "--host-timeout", bad[i], "h"),
				 OPTIONS_USAGE);
	}
	ck_assert_int_eq(PARSE("smtpcheck", "-t", ".5", "h"), OPTIONS_RUN);
	ck_assert(C.timeout == 0.5);
	/* Perfdata gets the normal form, not what was typed. */
	ck_assert_int_eq(PARSE("smtpcheck", "-w", "00.50", "-c", "@~:2.0", "h"), OPTIONS_RUN);
	ck_assert_str_eq(C.warn_time.text, "0.5");
	ck_assert_str_eq(C.crit_time.text, "@~:2");
}
END_TEST

/* -D: whole days, or a range that says it is one; nothing in between. */
START_TEST(certificate_days_strict)
{
	static const char *const bad[] = { "30.5", "21, 7", " 21", "21 ", "21,7.5", "1e2",
					   "0x10", "+5", "-5", "21,", ",7", "30:40.5",
					   "100001", "21,7,3" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ck_assert_msg(PARSE("smtpcheck", "-D", bad[i], "h") == OPTIONS_USAGE,
			      "-D '%s' accepted", bad[i]);
		ck_assert(strstr(buf_cstr(&E), "--certificate-days: '") == buf_cstr(&E));
	}
	/* Far too long: refused, never cut to something that parses. */
	char lng[200];
	memset(lng, ' ', sizeof lng);
	memcpy(lng, "30", 2);
	lng[sizeof lng - 1] = '\0';
	ck_assert_int_eq(PARSE("smtpcheck", "-D", lng, "h"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "-D", "21,7", "h"), OPTIONS_RUN);
	ck_assert_str_eq(C.cert_warn.text, "21:");
	ck_assert_str_eq(C.cert_crit.text, "7:");
	ck_assert_int_eq(PARSE("smtpcheck", "-D", "@0:10", "h"), OPTIONS_RUN);
	ck_assert(range_alert(&C.cert_warn, 10) && !range_alert(&C.cert_warn, 11));
	ck_assert_int_eq(PARSE("smtpcheck", "-D", "030:,~:7", "h"), OPTIONS_RUN);
	ck_assert_str_eq(C.cert_warn.text, "30:");
	ck_assert_str_eq(C.cert_crit.text, "~:7");
}
END_TEST

START_TEST(hosts)
{
	ck_assert_int_eq(PARSE("smtpcheck", "127.0.0.1"), OPTIONS_RUN);
	ck_assert_int_eq(PARSE("smtpcheck", "::1"), OPTIONS_RUN);
	ck_assert_int_eq(PARSE("smtpcheck", "a.b", "c.d"), OPTIONS_RUN);
	ck_assert_uint_eq(C.nhosts, 2);
	ck_assert_int_eq(PARSE("smtpcheck", "mail.example.net."), OPTIONS_RUN);
	ck_assert_int_eq(PARSE("smtpcheck"), OPTIONS_USAGE);
	ck_assert_str_eq(buf_cstr(&E), "no host given");
	ck_assert_int_eq(PARSE("smtpcheck", "bad host"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "a..b"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", ""), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "x\x01y"), OPTIONS_USAGE);
	/* Raw here: main.c escapes every message where it prints it. */
	ck_assert(strstr(buf_cstr(&E), "'x\x01y' is not a valid host name") != NULL);
}
END_TEST

START_TEST(connect_and_families)
{
	ck_assert_int_eq(PARSE("smtpcheck", "--connect", "127.0.0.1", "mail.test"), OPTIONS_RUN);
	ck_assert_str_eq(C.connect_addr, "127.0.0.1");
	ck_assert_int_eq(PARSE("smtpcheck", "--connect", "mail.test", "mail.test"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "-6", "--connect", "127.0.0.1", "m"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "--connect", "::1", "a", "b"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "-4", "h"), OPTIONS_RUN);
	ck_assert_int_eq(C.family, AF_INET);
	ck_assert_int_eq(PARSE("smtpcheck", "-6", "h"), OPTIONS_RUN);
	ck_assert_int_eq(C.family, AF_INET6);
}
END_TEST

START_TEST(unknown_and_missing)
{
	ck_assert_int_eq(PARSE("smtpcheck", "--bogus", "h"), OPTIONS_USAGE);
	ck_assert(strstr(buf_cstr(&E), "--bogus") != NULL);
	ck_assert_int_eq(PARSE("smtpcheck", "h", "-t"), OPTIONS_USAGE);
	ck_assert(strstr(buf_cstr(&E), "needs a value") != NULL);
	ck_assert_int_eq(PARSE("smtpcheck", "--ca-file", "/nonexistent/ca.pem", "h"), OPTIONS_USAGE);
	ck_assert_int_eq(PARSE("smtpcheck", "--json", "--brief", "h"), OPTIONS_USAGE);
}
END_TEST

/* The value of an option getopt_long did not take is never repeated. */
START_TEST(unknown_option_value_hidden)
{
	ck_assert_int_eq(PARSE("smtpcheck", "--passw=hunter2", "h"), OPTIONS_USAGE);
	ck_assert_str_eq(buf_cstr(&E), "option '--passw' is ambiguous (--password-file, "
			 "--password); its value is not shown");
	ck_assert_int_eq(PARSE("smtpcheck", "--pass=hunter2", "-u", "a", "h"), OPTIONS_USAGE);
	ck_assert(strstr(buf_cstr(&E), "hunter2") == NULL);
	ck_assert_int_eq(PARSE("smtpcheck", "--secret=hunter2", "h"), OPTIONS_USAGE);
	ck_assert_str_eq(buf_cstr(&E), "unknown option '--secret'; its value is not shown");
	ck_assert_int_eq(PARSE("smtpcheck", "--json=hunter2", "h"), OPTIONS_USAGE);
	ck_assert_str_eq(buf_cstr(&E), "option '--json' takes no value");
	ck_assert_int_eq(PARSE("smtpcheck", "--password=hunter2", "h"), OPTIONS_USAGE);
	ck_assert(strstr(buf_cstr(&E), "hunter2") == NULL);
	ck_assert_int_eq(PARSE("smtpcheck", "-Z", "h"), OPTIONS_USAGE);
	ck_assert_str_eq(buf_cstr(&E), "unknown option '-Z'");
}
END_TEST

/*
 * A bad letter inside a group of short options is named as the letter,
 * not as the argument before the group, wherever it stands in the group.
 */
START_TEST(unknown_short_option_in_group)
{
	static const char *const cases[][4] = {
		{ "--brief", "-Zv", "h", "unknown option '-Z'" },
		{ "--no-relay-test", "-Zx", "h", "unknown option '-Z'" },
		{ "--json", "-vZ", "h", "unknown option '-Z'" },
		{ "-v", "-4Z6", "h", "unknown option '-Z'" },
		{ "--verbose=1", "-Zv", "h", "option '--verbose' takes no value" },
		{ "--verb=1", "-v", "h", "option '--verbose' takes no value" },
		{ "--bogus", "-v", "h", "unknown option '--bogus'" },
		{ "h", "--json", "-vt", "option '-t' needs a value" },
		{ "h", "-v", "--timeout", "option '--timeout' needs a value" },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		ck_assert_int_eq(PARSE("smtpcheck", cases[i][0], cases[i][1], cases[i][2]),
				 OPTIONS_USAGE);
		ck_assert_msg(!strcmp(buf_cstr(&E), cases[i][3]), "%s %s %s: %s", cases[i][0],
			      cases[i][1], cases[i][2], buf_cstr(&E));
	}
}
END_TEST

/* --json as getopt_long reads it, before the parse gets there. */
START_TEST(json_asked)
{
	static const struct { const char *arg; bool json; } cases[] = {
		{ "--json", true }, { "--jso", true }, { "--js", true },
		{ "--json=1", true },         /* an error, but JSON was asked for */
		{ "--j", false },             /* --jobs too */
		{ "--jobs", false }, { "--jsonx", false }, { "-json", false },
		{ "--", false }, { "json", false },
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *argv[] = { "smtpcheck", "-w", "1e3", (char *)cases[i].arg, "h", NULL };
		ck_assert_msg(options_json_asked(5, argv) == cases[i].json, "%s", cases[i].arg);
	}
	/* After "--" every word is a host. */
	char *after[] = { "smtpcheck", "--", "--json", NULL };
	ck_assert(!options_json_asked(3, after));
}
END_TEST

START_TEST(shown_args)
{
	ck_assert_int_eq(PARSE("smtpcheck", "-p", "587", "mail.test"), OPTIONS_RUN);
	ck_assert_str_eq(C.argv_shown, "-p 587 mail.test");
}
END_TEST

/* -t is the whole run, 15 s unless given, -f or not; each host its own. */
START_TEST(run_and_host_deadlines)
{
	ck_assert_int_eq(PARSE("smtpcheck", "a.test", "b.test"), OPTIONS_RUN);
	ck_assert(C.timeout == 15 && C.host_timeout == 15);
	ck_assert_int_eq(PARSE("smtpcheck", "-t", "4", "a.test"), OPTIONS_RUN);
	ck_assert(C.timeout == 4 && C.host_timeout == 4);
	ck_assert_int_eq(PARSE("smtpcheck", "-f", "/dev/null"), OPTIONS_RUN);
	ck_assert(C.timeout == 15 && C.host_timeout == 15);
	ck_assert_int_eq(PARSE("smtpcheck", "-f", "/dev/null", "-t", "90"), OPTIONS_RUN);
	ck_assert(C.timeout == 90 && C.host_timeout == 90);
	ck_assert_int_eq(PARSE("smtpcheck", "-f", "/dev/null", "-t", "60", "--host-timeout", "5"),
			 OPTIONS_RUN);
	ck_assert(C.timeout == 60 && C.host_timeout == 5);
	ck_assert_int_eq(PARSE("smtpcheck", "-f", "/dev/null", "--host-timeout", "2.5"),
			 OPTIONS_RUN);
	ck_assert(C.timeout == 15 && C.host_timeout == 2.5);
	ck_assert_int_eq(PARSE("smtpcheck", "--host-timeout", "0", "h"), OPTIONS_USAGE);
	ck_assert(strstr(buf_cstr(&E), "--host-timeout") != NULL);
	ck_assert_int_eq(PARSE("smtpcheck", "--host-timeout", "x", "h"), OPTIONS_USAGE);
	/* options_parse() itself never reads the list. */
	ck_assert_int_eq(PARSE("smtpcheck", "-f", "/nonexistent/list"), OPTIONS_RUN);
	ck_assert_uint_eq(C.nhosts, 0);
}
END_TEST

static char list_path[] = "/tmp/smtpcheck-unit-hosts.XXXXXX";
/* A deadline that does not come during a test. */
#define FAR (now_us() + 60000000u)

static void write_list(const char *text)
{
	int fd = mkstemp(strcpy(list_path, "/tmp/smtpcheck-unit-hosts.XXXXXX"));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(hosts_file)
{
	write_list("# list\n\n a.test \t# first\r\n\t\n127.0.0.2\nb.test");
	ck_assert_int_eq(PARSE("smtpcheck", "-f", list_path, "c.test"), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, FAR, &E), OPTIONS_RUN);
	ck_assert_uint_eq(C.nhosts, 4);
	ck_assert_str_eq(C.hosts[0], "c.test");
	ck_assert_str_eq(C.hosts[1], "a.test");
	ck_assert_str_eq(C.hosts[2], "127.0.0.2");
	ck_assert_str_eq(C.hosts[3], "b.test");
	unlink(list_path);

	/* Every bad line is named, with its number. */
	write_list("ok.test\nbad host\nx_y!\n\nc.test d.test\n");
	ck_assert_int_eq(PARSE("smtpcheck", "-f", list_path), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, FAR, &E), OPTIONS_USAGE);
	ck_assert_msg(strstr(buf_cstr(&E), " line 2: one host per line; line 3: 'x_y!' is not a "
			     "valid host name; line 5: one host per line") != NULL, "%s",
		      buf_cstr(&E));
	unlink(list_path);

	write_list("# nothing\n\n");
	ck_assert_int_eq(PARSE("smtpcheck", "-f", list_path), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, FAR, &E), OPTIONS_USAGE);
	ck_assert(strstr(buf_cstr(&E), "no host in") != NULL);
	unlink(list_path);

	/* What counts hosts waits for the list. */
	write_list("a.test\nb.test\n");
	ck_assert_int_eq(PARSE("smtpcheck", "-f", list_path, "--connect", "127.0.0.1"),
			 OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, FAR, &E), OPTIONS_USAGE);
	ck_assert_str_eq(buf_cstr(&E), "--connect takes one host");
	unlink(list_path);

	ck_assert_int_eq(PARSE("smtpcheck", "-f", "/nonexistent/list"), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, FAR, &E), OPTIONS_FAILED);
	ck_assert(strstr(buf_cstr(&E), "cannot open /nonexistent/list") != NULL);
}
END_TEST

/*
 * The deadline is checked while reading, not only while waiting: a list
 * that is there at once is still not read after the deadline.
 */
START_TEST(hosts_file_deadline_passed)
{
	write_list("a.test\nb.test\n");
	ck_assert_int_eq(PARSE("smtpcheck", "-f", list_path, "-t", "0.5"), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, now_us() - 1, &E), OPTIONS_FAILED);
	ck_assert_msg(strstr(buf_cstr(&E), "had not ended when the run's deadline of 0.5 s "
			     "passed") != NULL, "%s", buf_cstr(&E));
	ck_assert_uint_eq(C.nhosts, 0);
	unlink(list_path);
}
END_TEST

/* The list is bounded: 16 MB (/dev/zero ends at once) and 100,000 hosts. */
START_TEST(hosts_file_limits)
{
	ck_assert_int_eq(PARSE("smtpcheck", "-f", "/dev/zero"), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, FAR, &E), OPTIONS_FAILED);
	ck_assert_str_eq(buf_cstr(&E), "--file: /dev/zero is longer than 16 MB, the most "
			 "smtpcheck reads; split the list");
	ck_assert_uint_eq(C.nhosts, 0);

	write_list("");
	FILE *f = fopen(list_path, "w");
	ck_assert_ptr_nonnull(f);
	for (int i = 0; i < 100000; i++)
		fputs("a.test\n", f);
	fclose(f);
	ck_assert_int_eq(PARSE("smtpcheck", "-f", list_path), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, FAR, &E), OPTIONS_RUN);
	ck_assert_uint_eq(C.nhosts, 100000);
	ck_assert_int_eq(PARSE("smtpcheck", "-f", list_path, "b.test"), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, FAR, &E), OPTIONS_USAGE);
	ck_assert_msg(strstr(buf_cstr(&E), "--file: more than 100000 hosts (") == buf_cstr(&E),
		      "%s", buf_cstr(&E));
	unlink(list_path);
}
END_TEST

/* A FIFO nobody writes to: the deadline ends the reading, not a writer. */
START_TEST(hosts_file_deadline)
{
	char dir[] = "/tmp/smtpcheck-unit-fifo.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/hosts", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(PARSE("smtpcheck", "-f", path, "-t", "0.2"), OPTIONS_RUN);
	ck_assert_int_eq(options_read_hosts(&C, now_us() + 200000, &E), OPTIONS_FAILED);
	ck_assert_msg(strstr(buf_cstr(&E), "had not ended when the run's deadline of 0.2 s "
			     "passed (0 lines read)") != NULL, "%s", buf_cstr(&E));
	ck_assert_uint_eq(C.nhosts, 0);
	unlink(path);
	rmdir(dir);
}
END_TEST

Suite *options_suite(void)
{
	Suite *s = suite_create("options");
	TCase *tc = tcase_create("parse");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, ports_with_modes);
	tcase_add_test(tc, bad_ports);
	tcase_add_test(tc, timeouts_and_days);
	tcase_add_test(tc, time_thresholds_strict);
	tcase_add_test(tc, certificate_days_strict);
	tcase_add_test(tc, hosts);
	tcase_add_test(tc, connect_and_families);
	tcase_add_test(tc, unknown_and_missing);
	tcase_add_test(tc, unknown_option_value_hidden);
	tcase_add_test(tc, unknown_short_option_in_group);
	tcase_add_test(tc, json_asked);
	tcase_add_test(tc, shown_args);
	tcase_add_test(tc, run_and_host_deadlines);
	tcase_add_test(tc, hosts_file);
	tcase_add_test(tc, hosts_file_deadline);
	tcase_add_test(tc, hosts_file_deadline_passed);
	tcase_add_test(tc, hosts_file_limits);
	suite_add_tcase(s, tc);
	return s;
}
