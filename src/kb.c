/*
 * kb.c - parser of the mail-program knowledge base (see kb.h and
 * data/clients/README for the format).
 */
#include "kb.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"

static const char *const placeholders[] = { "server", "port", "user", "address", "local" };

static void error(struct kb *kb, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void error(struct kb *kb, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	buf_printf(&kb->errors, "%s:%d: ", file, line);
	va_start(ap, fmt);
	buf_vprintf(&kb->errors, fmt, ap);
	va_end(ap);
	buf_putc(&kb->errors, '\n');
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/*
 * Room for n items in an arena array that doubles (8, 16, 32 ...): the
 * capacity follows from n, so the lists need no field for it. The arena
 * keeps every old copy until kb_free(); doubling keeps that to twice the
 * final size (copying on every add cost some 200 kB for the whole base).
 */
static size_t room_for(size_t n)
{
	size_t cap = 8;
	while (cap < n)
		cap *= 2;
	return n ? cap : 0;
}

/* The array *items of n elements, with room for one more. */
static void *grow(struct kb *kb, void *items, size_t n, size_t size)
{
	if (n < room_for(n))
		return items;
	void *more = arena_alloc(&kb->arena, (n ? n * 2 : 8) * size);
	if (n)
		memcpy(more, items, n * size);
	return more;
}

static void list_add(struct kb *kb, struct kb_list *l, const char *item)
{
	l->items = grow(kb, l->items, l->n, sizeof *l->items);
	l->items[l->n++] = arena_strdup(&kb->arena, item);
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "no")) {
		*out = false;
		return true;
	}
	return false;
}

static bool parse_ability(const char *v, enum ability *out)
{
	if (!strcmp(v, "yes"))
		*out = ABLE_YES;
	else if (!strcmp(v, "no"))
		*out = ABLE_NO;
	else if (!strcmp(v, "unknown"))
		*out = ABLE_UNKNOWN;
	else
		return false;
	return true;
}

/*
 * "any", "unknown", or the fixed ports of a program without a port box:
 * "tls 465, starttls 25, none 25", or "25" for every mode.
 */
static bool parse_ports(const char *v, struct kb_program *p)
{
	static const char *const modes[PORT_MODES] = { "tls", "starttls", "none" };
	memset(p->fixed_port, 0, sizeof p->fixed_port);
	if (!strcmp(v, "any")) {
		p->ports = PORTS_ANY;
		return true;
	}
	if (!strcmp(v, "unknown")) {
		p->ports = PORTS_UNKNOWN;
		return true;
	}
	p->ports = PORTS_FIXED;
	char copy[256];
	if (strlen(v) >= sizeof copy)
		return false;
	strcpy(copy, v);
	bool any = false;
	char *save = NULL;
	for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		item = trim(item);
		int mode = -1;
		for (int m = 0; m < PORT_MODES; m++) {
			size_t n = strlen(modes[m]);
			if (!strncmp(item, modes[m], n) && item[n] == ' ') {
				mode = m;
				item = trim(item + n);
			}
		}
		char *end;
		long port = strtol(item, &end, 10);
		if (end == item || *end || port < 1 || port > 65535)
			return false;
		for (int m = 0; m < PORT_MODES; m++) {
			if (mode >= 0 && m != mode)
				continue;
			if (p->fixed_port[m])
				return false;                   /* a mode named twice */
			p->fixed_port[m] = (int)port;
		}
		any = true;
	}
	return any;
}

static const struct {
	const char *name;
	int rank;
	const char *words;
} tls_versions[] = {
	{ "SSLv2", 2, "SSL 2" }, { "SSLv3", 3, "SSL 3" },
	{ "TLSv1", 10, "TLS 1.0" }, { "TLSv1.0", 10, "TLS 1.0" }, { "1.0", 10, "TLS 1.0" },
	{ "TLSv1.1", 11, "TLS 1.1" }, { "1.1", 11, "TLS 1.1" },
	{ "TLSv1.2", 12, "TLS 1.2" }, { "1.2", 12, "TLS 1.2" },
	{ "TLSv1.3", 13, "TLS 1.3" }, { "1.3", 13, "TLS 1.3" },
};

int kb_tls_rank(const char *version)
{
	for (size_t i = 0; version && i < ARRAY_LEN(tls_versions); i++)
		if (!strcmp(version, tls_versions[i].name))
			return tls_versions[i].rank;
	return 0;
}

const char *kb_tls_words(int rank)
{
	for (size_t i = 0; i < ARRAY_LEN(tls_versions); i++)
		if (tls_versions[i].rank == rank)
			return tls_versions[i].words;
	return "an unknown TLS version";
}

char *kb_tls_min_words(const struct kb_program *p, struct arena *a)
{
	if (!p->tls_min)
		return NULL;
	if (p->tls_min_since)
		return arena_printf(a, "accepts only %s or later (since version %s)",
				    kb_tls_words(p->tls_min), p->tls_min_since);
	return arena_printf(a, "accepts only %s or later in its current versions",
			    kb_tls_words(p->tls_min));
}

/* "1.2", or "1.2 since 78": a TLS version of the data (not SSL), then
 * optionally the release that brought it. */
static bool parse_tls_min(struct kb *kb, const char *v, struct kb_program *p)
{
	char version[8];
	size_t n = strcspn(v, " ");
	if (n >= sizeof version)
		return false;
	memcpy(version, v, n);
	version[n] = '\0';
	p->tls_min = isdigit((unsigned char)version[0]) ? kb_tls_rank(version) : 0;
	if (p->tls_min < 10)
		return false;
	const char *rest = v + n;
	while (*rest == ' ')
		rest++;
	if (!*rest)
		return true;
	if (strncmp(rest, "since ", 6))
		return false;
	rest += 6;
	while (*rest == ' ')
		rest++;
	if (!*rest)
		return false;
	p->tls_min_since = arena_strdup(&kb->arena, rest);
	return true;
}

/* Quotes come in pairs, so the labels between them can be found. */
static bool quotes_paired(const char *text)
{
	size_t n = 0;
	for (const char *q = strchr(text, '"'); q; q = strchr(q + 1, '"'))
		n++;
	return n % 2 == 0;
}

/* The label appears, in quotes, in one of the lines. */
static bool label_quoted(const struct kb_line *lines, size_t n, const char *label)
{
	size_t len = strlen(label);
	for (size_t i = 0; i < n; i++)
		for (const char *q = strchr(lines[i].text, '"'); q; q = strchr(q + 1, '"')) {
			const char *close = strchr(q + 1, '"');
			if (!close)
				break;
			if ((size_t)(close - q - 1) == len && !strncmp(q + 1, label, len))
				return true;
			q = close;
		}
	return false;
}

/* The label is one of the program's unconfirmed labels. */
static bool is_unconfirmed(const struct kb_program *prog, const char *label, size_t len)
{
	for (size_t i = 0; i < prog->unconfirmed_labels.n; i++)
		if (strlen(prog->unconfirmed_labels.items[i]) == len &&
		    !strncmp(prog->unconfirmed_labels.items[i], label, len))
			return true;
	return false;
}

/*
 * KB_HEDGE after each quoted unconfirmed label of the lines, once here
 * rather than at every rendering (quotes come in pairs: add_line checked).
 */
static void hedge_lines(struct kb *kb, const struct kb_program *prog, struct kb_line *lines,
			size_t n)
{
	struct buf out;
	buf_init(&out);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&out);
		const char *p = lines[i].text;
		for (const char *q = strchr(p, '"'); q; q = strchr(p, '"')) {
			const char *close = strchr(q + 1, '"');
			if (!close)
				break;
			buf_append(&out, p, (size_t)(close + 1 - p));
			if (is_unconfirmed(prog, q + 1, (size_t)(close - q - 1)))
				buf_puts(&out, KB_HEDGE);
			p = close + 1;
		}
		buf_puts(&out, p);
		if (strcmp(buf_cstr(&out), lines[i].text))
			lines[i].text = arena_strndup(&kb->arena, buf_cstr(&out), out.len);
	}
	buf_free(&out);
}

static const struct {
	const char *tag;
	unsigned bit;
} cond_tags[] = {
	{ "tls", COND_TLS }, { "starttls", COND_STARTTLS }, { "none", COND_NONE },
	{ "full", COND_FULL }, { "local", COND_LOCAL }, { "unknown", COND_UNKNOWN },
};

/* "[tls,full] text": the condition bits and the text after it. */
static bool parse_cond(struct kb *kb, const char *file, int lineno, char *line,
		       unsigned *cond, char **text)
{
	*cond = 0;
	*text = line;
	if (*line != '[')
		return true;
	char *end = strchr(line, ']');
	if (!end) {
		error(kb, file, lineno, "condition without ']'");
		return false;
	}
	*end = '\0';
	char *tag = line + 1;
	while (tag && *tag) {
		char *comma = strchr(tag, ',');
		if (comma)
			*comma = '\0';
		char *t = trim(tag);
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(cond_tags); i++) {
			if (!strcmp(t, cond_tags[i].tag)) {
				*cond |= cond_tags[i].bit;
				known = true;
			}
		}
		if (!known) {
			error(kb, file, lineno, "unknown condition '%s' (use tls, starttls, none, "
			      "full, local, unknown)", t);
			return false;
		}
		tag = comma ? comma + 1 : NULL;
	}
	*text = trim(end + 1);
	if (!**text) {
		error(kb, file, lineno, "a condition without text");
		return false;
	}
	return true;
}

static bool check_placeholders(struct kb *kb, const char *file, int lineno, const char *text)
{
	for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
		const char *end = strchr(p, '}');
		if (!end) {
			error(kb, file, lineno, "'{' without '}'");
			return false;
		}
		bool known = false;
		for (size_t i = 0; i < ARRAY_LEN(placeholders); i++)
			if ((size_t)(end - p - 1) == strlen(placeholders[i]) &&
			    !strncmp(p + 1, placeholders[i], (size_t)(end - p - 1)))
				known = true;
		if (!known) {
			error(kb, file, lineno, "unknown placeholder %.*s", (int)(end - p + 1), p);
			return false;
		}
	}
	return true;
}

/*
 * A step, summary or note line: "[cond] text", its placeholders known and
 * its quotes paired, added to lines; a problem is reported, not added.
 */
static void add_line(struct kb *kb, const char *file, int lineno, char *line,
		     struct kb_line **lines, size_t *n)
{
	unsigned cond;
	char *t;
	if (!parse_cond(kb, file, lineno, line, &cond, &t) ||
	    !check_placeholders(kb, file, lineno, t))
		return;
	if (!quotes_paired(t)) {
		error(kb, file, lineno, "a '\"' without its pair");
		return;
	}
	*lines = grow(kb, *lines, *n, sizeof **lines);
	(*lines)[*n].cond = cond;
	(*lines)[*n].text = arena_strdup(&kb->arena, t);
	(*n)++;
}

static bool valid_id(const char *id)
{
	if (!*id)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

bool kb_parse(struct kb *kb, const char *file, const char *text)
{
	struct kb_program p;
	memset(&p, 0, sizeof p);
	p.file = file;
	p.none = true;
	p.tls = p.starttls = ABLE_UNKNOWN;
	size_t errors_before = kb->errors.len;
	bool seen_auth = false, seen_tls = false, seen_starttls = false, seen_ports = false;
	enum { HEADER, STEPS, SUMMARY } section = HEADER;

	char *copy = xstrdup(text);
	int lineno = 0;
	for (char *save = NULL, *raw = strtok_r(copy, "\n", &save); raw;
	     raw = strtok_r(NULL, "\n", &save)) {
		lineno++;
		char *line = trim(raw);
		if (!*line || *line == '#')
			continue;
		if (!strcmp(line, "steps:")) {
			section = STEPS;
			continue;
		}
		if (!strcmp(line, "summary:")) {
			section = SUMMARY;
			continue;
		}
		if (section != HEADER) {
			if (section == STEPS)
				add_line(kb, file, lineno, line, &p.steps, &p.nsteps);
			else
				add_line(kb, file, lineno, line, &p.summary, &p.nsummary);
			continue;
		}
		char *eq = strchr(line, '=');
		if (!eq) {
			error(kb, file, lineno, "expected 'key = value' or a block ('steps:')");
			continue;
		}
		*eq = '\0';
		char *key = trim(line), *val = trim(eq + 1);
		bool ok = true;
		if (!strcmp(key, "id")) {
			ok = valid_id(val);
			p.id = arena_strdup(&kb->arena, val);
		} else if (!strcmp(key, "name")) {
			p.name = arena_strdup(&kb->arena, val);
		} else if (!strcmp(key, "platform")) {
			p.platform = arena_strdup(&kb->arena, val);
		} else if (!strcmp(key, "family")) {
			p.family = arena_strdup(&kb->arena, val);
		} else if (!strcmp(key, "aliases")) {
			char *save2 = NULL;
			for (char *a = strtok_r(val, ",", &save2); a; a = strtok_r(NULL, ",", &save2))
				if (*trim(a))
					list_add(kb, &p.aliases, trim(a));
		} else if (!strcmp(key, "common")) {
			ok = parse_bool(val, &p.common);
		} else if (!strcmp(key, "auth")) {
			ok = parse_bool(val, &p.auth);
			seen_auth = true;
		} else if (!strcmp(key, "tls")) {
			ok = parse_ability(val, &p.tls);
			seen_tls = true;
		} else if (!strcmp(key, "starttls")) {
			ok = parse_ability(val, &p.starttls);
			seen_starttls = true;
		} else if (!strcmp(key, "tls-min")) {
			ok = parse_tls_min(kb, val, &p);
		} else if (!strcmp(key, "ports")) {
			ok = parse_ports(val, &p);
			seen_ports = true;
		} else if (!strcmp(key, "none")) {
			ok = parse_bool(val, &p.none);
		} else if (!strcmp(key, "spa")) {
			ok = parse_bool(val, &p.spa);
		} else if (!strcmp(key, "username")) {
			ok = !strcmp(val, "any") || !strcmp(val, "full") || !strcmp(val, "local");
			p.username = arena_strdup(&kb->arena, val);
		} else if (!strcmp(key, "upgrade")) {
			list_add(kb, &p.upgrade, val);
		} else if (!strcmp(key, "note")) {
			/* A note may hold only for some settings, as a step does
			 * ("[unknown] ..." when no login was tested). */
			add_line(kb, file, lineno, val, &p.notes, &p.nnotes);
		} else if (!strcmp(key, "source")) {
			list_add(kb, &p.sources, val);
		} else if (!strcmp(key, "unconfirmed")) {
			list_add(kb, &p.unconfirmed, val);
		} else if (!strcmp(key, "unconfirmed-label")) {
			ok = !strchr(val, '"');
			list_add(kb, &p.unconfirmed_labels, val);
		} else {
			error(kb, file, lineno, "unknown key '%s'", key);
			continue;
		}
		if (!ok || !*val)
			error(kb, file, lineno, "bad value for '%s': '%s'", key, val);
	}
	free(copy);

	if (!p.id)
		error(kb, file, 0, "missing 'id'");
	if (!p.name)
		error(kb, file, 0, "missing 'name'");
	if (!p.platform)
		error(kb, file, 0, "missing 'platform'");
	if (!seen_auth || !seen_tls || !seen_starttls)
		error(kb, file, 0, "missing one of 'auth', 'tls', 'starttls'");
	if (p.auth && p.nsteps == 0)
		error(kb, file, 0, "a program that can log in needs steps");
	if (!p.auth && p.upgrade.n == 0)
		error(kb, file, 0, "a program that cannot log in needs 'upgrade'");
	if (p.auth && !seen_ports)
		error(kb, file, 0, "a program that can log in needs 'ports' (how it sets the port)");
	if (!seen_ports)
		p.ports = PORTS_UNKNOWN;
	/* A label that no step quotes exactly would never be hedged. */
	for (size_t i = 0; i < p.unconfirmed_labels.n; i++)
		if (!label_quoted(p.steps, p.nsteps, p.unconfirmed_labels.items[i]) &&
		    !label_quoted(p.summary, p.nsummary, p.unconfirmed_labels.items[i]))
			error(kb, file, 0, "unconfirmed-label '%s' is quoted in no step or summary",
			      p.unconfirmed_labels.items[i]);
	if (!p.username)
		p.username = "any";
	if (p.id) {
		for (size_t i = 0; i < kb->n; i++)
			if (!strcmp(kb->programs[i].id, p.id))
				error(kb, file, 0, "id '%s' used twice", p.id);
	}
	if (kb->errors.len != errors_before || !p.id || !p.name || !p.platform)
		return false;
	hedge_lines(kb, &p, p.steps, p.nsteps);
	hedge_lines(kb, &p, p.summary, p.nsummary);
	hedge_lines(kb, &p, p.notes, p.nnotes);

	kb->programs = grow(kb, kb->programs, kb->n, sizeof *kb->programs);
	kb->programs[kb->n++] = p;
	return true;
}

void kb_load(struct kb *kb)
{
	memset(kb, 0, sizeof *kb);
	buf_init(&kb->errors);
	for (const struct embedded_file *f = kb_files; f->name; f++) {
		size_t n = strlen(f->name);
		if (n > 7 && !strcmp(f->name + n - 7, ".client"))
			kb_parse(kb, f->name, f->text);
	}
}

void kb_free(struct kb *kb)
{
	arena_free(&kb->arena);
	buf_free(&kb->errors);
	memset(kb, 0, sizeof *kb);
}

void kb_normalize(const char *in, char *out, size_t outlen)
{
	size_t j = 0;
	for (const char *p = in; *p && j + 1 < outlen; p++) {
		unsigned char c = (unsigned char)*p;
		if (isalnum(c))
			out[j++] = (char)tolower(c);
	}
	out[j] = '\0';
}

static bool name_matches(const struct kb_program *p, const char *q, bool exact)
{
	char n[128];
	const char *names[2] = { p->id, p->name };
	for (int k = 0; k < 2; k++) {
		kb_normalize(names[k], n, sizeof n);
		if (exact ? !strcmp(n, q) : strstr(n, q) == n)
			return true;
	}
	for (size_t i = 0; i < p->aliases.n; i++) {
		kb_normalize(p->aliases.items[i], n, sizeof n);
		if (exact ? !strcmp(n, q) : strstr(n, q) == n)
			return true;
	}
	return false;
}

/* Split into lower-case words; "macintosh" counts as "mac". */
static size_t tokens(const char *s, char out[][32], size_t max)
{
	size_t n = 0;
	while (*s && n < max) {
		while (*s && !isalnum((unsigned char)*s))
			s++;
		size_t len = 0;
		while (*s && (isalnum((unsigned char)*s) || *s == '.') && len < 31)
			out[n][len++] = (char)tolower((unsigned char)*s++);
		while (len && out[n][len - 1] == '.')
			len--;
		if (!len)
			continue;
		out[n][len] = '\0';
		if (!strcmp(out[n], "macintosh") || !strcmp(out[n], "macos"))
			strcpy(out[n], "mac");
		n++;
	}
	return n;
}

/* Every word of the query is a word of this name (in any order). */
static bool words_match(const char *name, const char *platform, char q[][32], size_t nq)
{
	char w[24][32];
	size_t nw = tokens(name, w, 20);
	nw += tokens(platform, w + nw, 24 - nw);
	for (size_t i = 0; i < nq; i++) {
		bool found = false;
		for (size_t k = 0; k < nw && !found; k++)
			found = !strcmp(q[i], w[k]);
		if (!found)
			return false;
	}
	return true;
}

static bool program_words_match(const struct kb_program *p, char q[][32], size_t nq)
{
	if (words_match(p->id, p->platform, q, nq) || words_match(p->name, p->platform, q, nq))
		return true;
	for (size_t i = 0; i < p->aliases.n; i++)
		if (words_match(p->aliases.items[i], p->platform, q, nq))
			return true;
	return false;
}

/* level 2: exact name; 1: the same words in any order; 0: a unique prefix */
static bool matches_at(const struct kb_program *p, int level, const char *q,
		       char words[][32], size_t nwords)
{
	if (level == 2)
		return name_matches(p, q, true);
	if (level == 1)
		return nwords && program_words_match(p, words, nwords);
	return name_matches(p, q, false);
}

const struct kb_program *kb_find(const struct kb *kb, const char *name,
				 struct buf *candidates)
{
	char q[128], words[16][32];
	kb_normalize(name, q, sizeof q);
	if (!*q)
		return NULL;
	size_t nwords = tokens(name, words, 16);
	for (int level = 2; level >= 0; level--) {
		const struct kb_program *found = NULL;
		size_t nfound = 0;
		for (size_t i = 0; i < kb->n; i++) {
			if (!matches_at(&kb->programs[i], level, q, words, nwords))
				continue;
			found = &kb->programs[i];
			nfound++;
		}
		if (nfound == 1)
			return found;
		if (nfound > 1) {
			if (candidates)
				for (size_t i = 0; i < kb->n; i++)
					if (matches_at(&kb->programs[i], level, q, words, nwords))
						buf_printf(candidates, "%s%s (%s, %s)",
							   candidates->len ? "; " : "",
							   kb->programs[i].id, kb->programs[i].name,
							   kb->programs[i].platform);
			return NULL;
		}
	}
	return NULL;
}
