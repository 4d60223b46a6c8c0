/*
 * findings.h - the catalogue of finding ids: every id smtpcheck can
 * report, what it means in plain words, and the generic advice that goes
 * with it. Probe diagnosis and --explain both speak these ids, so a
 * pasted error and a live probe read the same.
 */
#ifndef SMTPCHECK_FINDINGS_H
#define SMTPCHECK_FINDINGS_H

#include <stdbool.h>

struct finding_info {
	const char *id;
	const char *meaning;          /* one line, plain words */
	const char *const *advice;    /* NULL-terminated; NULL when nothing to do */
	bool actionable;              /* the user must change something */
};

/* NULL if id is not in the catalogue. */
const struct finding_info *finding_lookup(const char *id);

/* The whole catalogue, terminated by an entry with id NULL. */
extern const struct finding_info finding_catalogue[];

#endif
