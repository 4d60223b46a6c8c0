/*
 * secret.c - password input and wiping (see secret.h).
 */
#include "secret.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "sasl.h"

#define ENV_NAME "SMTPCHECK_PASSWORD"

static void harden(void)
{
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static int take(struct secret *s, const char *p, size_t n, const char *source,
		struct buf *err)
{
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	if (n == 0) {
		buf_printf(err, "the password from %s is empty", source);
		return -1;
	}
	if (n > SASL_MAX_CRED) {
		buf_printf(err, "the password from %s is longer than %d bytes", source,
			   SASL_MAX_CRED);
		return -1;
	}
	if (memchr(p, '\0', n)) {
		buf_printf(err, "the password from %s contains a NUL byte", source);
		return -1;
	}
	s->cap = n + 1;
	s->value = xmalloc(s->cap);
	memcpy(s->value, p, n);
	s->value[n] = '\0';
	s->source = source;
	return 0;
}

/*
 * The first line of FILE. A pipe is legitimate (--password-file
 * <(pass show mail)), but a pipe or FIFO nobody writes would block open()
 * and read() for ever: the file is opened without blocking and read only
 * when poll() says so, within wait_s seconds (the run's -t).
 */
static int from_file(struct secret *s, const char *path, double wait_s, struct buf *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		buf_printf(err, "--password-file: cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	uint64_t end = now_us() + (uint64_t)(wait_s * 1e6);
	char data[SASL_MAX_CRED + 4];
	size_t len = 0;
	int rc = -1;
	for (;;) {
		int ready = fd_wait_readable(fd, end);
		if (ready == 0) {
			buf_printf(err, "--password-file: nothing came from %s within %.1f s "
				   "(the time -t left): a pipe or FIFO must be written before the "
				   "deadline", path, wait_s);
			goto done;
		}
		ssize_t n = ready < 0 ? -1 : read(fd, data + len, sizeof data - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			buf_printf(err, "--password-file: cannot read %s: %s", path,
				   strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		char *nl = memchr(data, '\n', len);
		if (nl || len == sizeof data) {
			if (nl)
				len = (size_t)(nl - data);
			break;
		}
	}
	rc = take(s, data, len, "--password-file", err);
done:
	close(fd);
	OPENSSL_cleanse(data, sizeof data);
	return rc;
}

static int from_terminal(struct secret *s, const char *user, struct buf *err)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		buf_printf(err, "no password: set %s, use --password-file, or run on a "
			   "terminal", ENV_NAME);
		return -1;
	}
	struct termios old, quiet;
	bool restore = tcgetattr(fd, &old) == 0;
	if (restore) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char prompt[320];
	int pn = snprintf(prompt, sizeof prompt, "Password for %s: ", user);
	if (pn > 0 && write(fd, prompt, (size_t)pn) < 0)
		pn = 0;
	char data[SASL_MAX_CRED + 4];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, data + len, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || data[len] == '\n')
			break;
		if (++len == sizeof data)
			break;
	}
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		len += 0;
	close(fd);
	int rc = take(s, data, len, "terminal", err);
	OPENSSL_cleanse(data, sizeof data);
	return rc;
}

/*
 * SMTPCHECK_PASSWORD, taken out of the environment at start-up by
 * secret_take_env(): its bytes in the environment block are overwritten and
 * the variable removed, whatever the run turns out to do, so that
 * /proc/PID/environ never shows it. The copy lives here until
 * secret_load() uses it or secret_drop_env() wipes it.
 */
static char *env_value;
static size_t env_len;

void secret_drop_env(void)
{
	if (env_value) {
		OPENSSL_cleanse(env_value, env_len + 1);
		free(env_value);
	}
	env_value = NULL;
	env_len = 0;
}

void secret_take_env(void)
{
	char *env = getenv(ENV_NAME);
	if (!env)
		return;
	harden();
	secret_drop_env();
	env_len = strlen(env);
	env_value = xmalloc(env_len + 1);
	memcpy(env_value, env, env_len + 1);
	OPENSSL_cleanse(env, env_len);
	unsetenv(ENV_NAME);
}

bool secret_env_held(void)
{
	return env_value != NULL && env_len > 0;
}

int secret_load(struct secret *s, const char *user, const char *password_file,
		double wait_s, struct buf *err)
{
	memset(s, 0, sizeof *s);
	harden();
	secret_take_env();  /* in case the caller did not */
	int rc;
	if (password_file) {
		rc = from_file(s, password_file, wait_s, err);
	} else if (env_value) {
		rc = take(s, env_value, env_len, ENV_NAME, err);
	} else if (isatty(STDIN_FILENO)) {
		rc = from_terminal(s, user, err);
	} else {
		buf_printf(err, "no password for %s: set %s, use --password-file FILE, or "
			   "run on a terminal to be asked", user, ENV_NAME);
		rc = -1;
	}
	secret_drop_env();  /* one copy at most: the one in s */
	return rc;
}

void secret_wipe(struct secret *s)
{
	if (s->value) {
		OPENSSL_cleanse(s->value, s->cap);
		free(s->value);
	}
	memset(s, 0, sizeof *s);
}
