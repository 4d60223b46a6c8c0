/*
 * range.c - Nagios threshold ranges (see range.h).
 */
#include "range.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool number(const char *s, size_t n, double *out)
{
	char tmp[32];
	if (n == 0 || n >= sizeof tmp)
		return false;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (errno || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool range_parse(const char *text, struct range *r)
{
	memset(r, 0, sizeof *r);
	if (!text || !*text || strlen(text) >= sizeof r->text)
		return false;
	snprintf(r->text, sizeof r->text, "%s", text);
	const char *s = text;
	if (*s == '@') {
		r->inside = true;
		s++;
	}
	const char *colon = strchr(s, ':');
	if (!colon) {
		r->low = 0;
		if (!number(s, strlen(s), &r->high))
			return false;
	} else {
		size_t n = (size_t)(colon - s);
		if (n == 1 && *s == '~')
			r->low_infinite = true;
		else if (n == 0)
			r->low = 0;
		else if (!number(s, n, &r->low))
			return false;
		if (!colon[1])
			r->high_infinite = true;
		else if (!number(colon + 1, strlen(colon + 1), &r->high))
			return false;
	}
	if (!r->low_infinite && !r->high_infinite && r->low > r->high)
		return false;
	r->set = true;
	return true;
}

void range_below(double n, struct range *r)
{
	memset(r, 0, sizeof *r);
	r->set = true;
	r->low = n;
	r->high_infinite = true;
	snprintf(r->text, sizeof r->text, "%g:", n);
}

bool range_alert(const struct range *r, double v)
{
	if (!r->set)
		return false;
	bool in = (r->low_infinite || v >= r->low) && (r->high_infinite || v <= r->high);
	return r->inside ? in : !in;
}
