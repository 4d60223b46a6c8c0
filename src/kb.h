/*
 * kb.h - the mail-program knowledge base: data/clients/NAME.client files, embedded
 * at build time, parsed here into programs with their abilities, quirks
 * and conditional steps (format: data/clients/README).
 *
 * Pure code over the embedded text. kb_load() parses every file once and
 * reports the first error of each file, so the test suite can hold the
 * data to its format.
 */
#ifndef SMTPCHECK_KB_H
#define SMTPCHECK_KB_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Condition bits of a step: security, then user-name form. */
enum {
	COND_TLS = 1u << 0,
	COND_STARTTLS = 1u << 1,
	COND_NONE = 1u << 2,
	COND_SECURITY = COND_TLS | COND_STARTTLS | COND_NONE,
	COND_FULL = 1u << 3,
	COND_LOCAL = 1u << 4,
	COND_UNKNOWN = 1u << 5,
	COND_USER = COND_FULL | COND_LOCAL | COND_UNKNOWN
};

enum ability {
	ABLE_NO,
	ABLE_YES,
	ABLE_UNKNOWN
};

/*
 * How the program sets the outgoing port ("ports" in the file): a box
 * that takes any number, no source saying, or no box at all, so that
 * each kind of security goes to one fixed port.
 */
enum port_setting {
	PORTS_ANY,
	PORTS_UNKNOWN,
	PORTS_FIXED
};

/* Index of fixed_port[] for a security mode, in the order of COND_*. */
enum {
	PORT_TLS,
	PORT_STARTTLS,
	PORT_NONE,
	PORT_MODES
};

struct kb_line {
	unsigned cond;      /* 0: always */
	char *text;
};

struct kb_list {
	char **items;
	size_t n;
};

struct kb_program {
	const char *file;
	char *id;
	char *name;
	char *platform;
	char *family;
	struct kb_list aliases;
	bool common;
	bool auth;
	enum ability tls, starttls;
	bool none;
	bool spa;
	char *username;           /* any | full | local */
	int tls_min;              /* oldest TLS its current releases accept by
				     default, kb_tls_rank() of it; 0: not known */
	char *tls_min_since;      /* the release that brought that floor, or NULL */
	enum port_setting ports;
	int fixed_port[PORT_MODES]; /* PORTS_FIXED: the port per mode, 0: none */
	struct kb_list upgrade, sources, unconfirmed;
	struct kb_line *notes;    /* quirks; conditions as on steps */
	size_t nnotes;
	struct kb_list unconfirmed_labels; /* printed with KB_HEDGE after them */
	struct kb_line *steps;
	size_t nsteps;
	struct kb_line *summary;
	size_t nsummary;
};

struct kb {
	struct kb_program *programs;
	size_t n;
	struct arena arena;
	struct buf errors;        /* one line per problem, empty when clean */
};

/* What follows an unconfirmed label wherever steps or summary quote it. */
#define KB_HEDGE_MARK "(not confirmed)"
#define KB_HEDGE " " KB_HEDGE_MARK

/* Parse the embedded files. Never fails; problems go to kb->errors. */
void kb_load(struct kb *kb);
void kb_free(struct kb *kb);

/* Parse one file's text (for tests). Returns false with errors in kb. */
bool kb_parse(struct kb *kb, const char *file, const char *text);

/*
 * Find the program a user means by a loose name. Returns NULL when none
 * or several match; then `candidates` (if not NULL) lists the matches.
 */
const struct kb_program *kb_find(const struct kb *kb, const char *name,
				 struct buf *candidates);

/*
 * A TLS version as a number that orders: "TLSv1" and "1.0" -> 10,
 * "TLSv1.1" -> 11, "1.2" -> 12, "TLSv1.3" -> 13, "SSLv3" -> 3; 0 for
 * anything else (not known).
 */
int kb_tls_rank(const char *version);

/* "TLS 1.2" for a rank of kb_tls_rank(). */
const char *kb_tls_words(int rank);

/*
 * What the program's TLS floor means, after its name: "accepts only TLS
 * 1.2 or later (since version 78)", or "accepts only TLS 1.2 or later in
 * its current versions"; NULL when the floor is not known.
 */
char *kb_tls_min_words(const struct kb_program *p, struct arena *a);

/* "oe 6", "Outlook-Express.6" -> "oe6", "outlookexpress6". */
void kb_normalize(const char *in, char *out, size_t outlen);

#endif
