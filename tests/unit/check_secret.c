/*
 * check_secret.c - where the password comes from, and that it leaves the
 * environment and the process's dumpable state as secret.h promises.
 * Check forks each test, so the hardening and the environment changes of
 * one test do not reach the next.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "suites.h"

#define ENV_NAME "SMTPCHECK_PASSWORD"

static void assert_hardened(void)
{
	struct rlimit r;
	ck_assert_int_eq(getrlimit(RLIMIT_CORE, &r), 0);
	ck_assert(r.rlim_cur == 0 && r.rlim_max == 0);
	ck_assert_int_eq(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
}

/* The password must not be readable in this process's environment block. */
static void assert_not_in_environ(const char *secret)
{
	ck_assert_ptr_null(getenv(ENV_NAME));
	int fd = open("/proc/self/environ", O_RDONLY);
	if (fd < 0)
		return;  /* no /proc: getenv above is all we can ask */
	char data[65536];
	ssize_t n = read(fd, data, sizeof data);
	close(fd);
	ck_assert_int_ge(n, 0);
	ck_assert_ptr_null(memmem(data, (size_t)n, secret, strlen(secret)));
}

/* Write text to a fresh temporary file; returns its path (static). */
static const char *password_file(const char *text)
{
	static char path[] = "/tmp/smtpcheck-unit-secret.XXXXXX";
	strcpy(path, "/tmp/smtpcheck-unit-secret.XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(env_taken_at_start)
{
	ck_assert_int_eq(setenv(ENV_NAME, "envpw-456", 1), 0);
	secret_take_env();
	assert_not_in_environ("envpw-456");
	ck_assert(secret_env_held());
	assert_hardened();
	secret_drop_env();
	ck_assert(!secret_env_held());
}
END_TEST

START_TEST(env_used_by_load)
{
	ck_assert_int_eq(setenv(ENV_NAME, "envpw-456\n", 1), 0);
	secret_take_env();
	struct secret s;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice@example.test", NULL, 5, &err), 0);
	ck_assert_str_eq(s.value, "envpw-456");
	ck_assert_str_eq(s.source, ENV_NAME);
	ck_assert(!secret_env_held());  /* one copy at most: the one in s */
	assert_not_in_environ("envpw-456");
	secret_wipe(&s);
	ck_assert_ptr_null(s.value);
	buf_free(&err);
}
END_TEST

/* The case an audit caught: a file and the variable both given. The file
 * wins, and the variable must still leave the environment. */
START_TEST(file_wins_env_still_wiped)
{
	ck_assert_int_eq(setenv(ENV_NAME, "envpw-456", 1), 0);
	secret_take_env();
	const char *path = password_file("filepw-123\nsecond line\n");
	struct secret s;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice@example.test", path, 5, &err), 0);
	ck_assert_str_eq(s.value, "filepw-123");
	ck_assert_str_eq(s.source, "--password-file");
	ck_assert(!secret_env_held());
	assert_not_in_environ("envpw-456");
	assert_hardened();
	secret_wipe(&s);
	unlink(path);
	buf_free(&err);
}
END_TEST

/* A caller that forgot secret_take_env(): secret_load() does it. */
START_TEST(load_takes_env_itself)
{
	ck_assert_int_eq(setenv(ENV_NAME, "envpw-789", 1), 0);
	struct secret s;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice", NULL, 5, &err), 0);
	ck_assert_str_eq(s.value, "envpw-789");
	assert_not_in_environ("envpw-789");
	assert_hardened();
	secret_wipe(&s);
	buf_free(&err);
}
END_TEST

START_TEST(empty_env_is_no_password)
{
	ck_assert_int_eq(setenv(ENV_NAME, "", 1), 0);
	secret_take_env();
	ck_assert(!secret_env_held());
	ck_assert_ptr_null(getenv(ENV_NAME));
	struct secret s;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice", NULL, 5, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "empty"));
	ck_assert_ptr_null(s.value);
	buf_free(&err);
}
END_TEST

START_TEST(no_source_without_terminal)
{
	unsetenv(ENV_NAME);
	int null = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(null, 0);
	ck_assert_int_eq(dup2(null, STDIN_FILENO), STDIN_FILENO);
	close(null);
	struct secret s;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice", NULL, 5, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), ENV_NAME));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "--password-file"));
	ck_assert_ptr_null(s.value);
	buf_free(&err);
}
END_TEST

START_TEST(file_errors_named)
{
	unsetenv(ENV_NAME);
	struct secret s;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice", "/nonexistent/pw", 5, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "cannot open /nonexistent/pw"));
	buf_free(&err);

	const char *path = password_file("\n");
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice", path, 5, &err), -1);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "empty"));
	unlink(path);
	buf_free(&err);
}
END_TEST

/* --password-file <(pass show x): a pipe, read through /dev/fd. */
START_TEST(file_may_be_a_pipe)
{
	unsetenv(ENV_NAME);
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "piped-pw\nrest\n", 15), 15);
	close(p[1]);
	char path[64];
	snprintf(path, sizeof path, "/dev/fd/%d", p[0]);
	struct secret s;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice", path, 5, &err), 0);
	ck_assert_str_eq(s.value, "piped-pw");
	secret_wipe(&s);
	close(p[0]);
	buf_free(&err);
}
END_TEST

/* A FIFO nobody writes: an error once the wait is over, not a hang (the
 * test's own time limit catches one). */
START_TEST(silent_fifo_is_an_error)
{
	unsetenv(ENV_NAME);
	char path[] = "/tmp/smtpcheck-unit-fifo.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(path));
	char fifo[64];
	snprintf(fifo, sizeof fifo, "%s/pw", path);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	struct secret s;
	struct buf err;
	buf_init(&err);
	ck_assert_int_eq(secret_load(&s, "alice", fifo, 0.2, &err), -1);
	ck_assert_ptr_null(s.value);
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "--password-file: nothing came from"));
	ck_assert_ptr_nonnull(strstr(buf_cstr(&err), "within 0.2 s"));
	unlink(fifo);
	rmdir(path);
	buf_free(&err);
}
END_TEST

Suite *secret_suite(void)
{
	Suite *s = suite_create("secret");
	TCase *tc = tcase_create("sources");
	tcase_add_test(tc, env_taken_at_start);
	tcase_add_test(tc, env_used_by_load);
	tcase_add_test(tc, file_wins_env_still_wiped);
	tcase_add_test(tc, load_takes_env_itself);
	tcase_add_test(tc, empty_env_is_no_password);
	tcase_add_test(tc, no_source_without_terminal);
	tcase_add_test(tc, file_errors_named);
	tcase_add_test(tc, file_may_be_a_pipe);
	tcase_add_test(tc, silent_fifo_is_an_error);
	suite_add_tcase(s, tc);
	return s;
}
