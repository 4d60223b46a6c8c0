/*
 * range.c - Nagios threshold ranges (see range.h).
 *
 * The syntax is checked by hand rather than by strtod, which takes
 * blanks, "+5", "1e3", "0x10", "inf" and "nan": a monitoring engine that
 * reads the perfdata knows none of those, and "0x10" meaning 16 would
 * surprise whoever typed it. What is accepted is printed back normalised.
 */
#include "range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NUMBER 24   /* characters of one number, sign and point included */

/*
 * A plain decimal number, the whole of s[0..n): [-]DIGITS[.DIGITS] or
 * [-].DIGITS. Writes its value and its normal form (no leading zeros, no
 * trailing zeros after the point, no "-0") into norm.
 */
static bool number(const char *s, size_t n, double *out, char norm[MAX_NUMBER + 2])
{
	if (n == 0 || n > MAX_NUMBER)
		return false;
	size_t i = 0;
	bool minus = s[0] == '-';
	if (minus)
		i++;
	size_t int_start = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	size_t int_len = i - int_start;
	size_t frac_start = i, frac_len = 0;
	if (i < n && s[i] == '.') {
		frac_start = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		frac_len = i - frac_start;
		if (frac_len == 0)
			return false;        /* "5." */
	}
	if (i != n || int_len + frac_len == 0)
		return false;
	while (int_len > 1 && s[int_start] == '0') {
		int_start++;
		int_len--;
	}
	while (frac_len > 0 && s[frac_start + frac_len - 1] == '0')
		frac_len--;
	bool zero = frac_len == 0 && (int_len == 0 || (int_len == 1 && s[int_start] == '0'));
	int len = snprintf(norm, MAX_NUMBER + 2, "%s%.*s%s%.*s", minus && !zero ? "-" : "",
			   int_len ? (int)int_len : 1, int_len ? s + int_start : "0",
			   frac_len ? "." : "", (int)frac_len, s + frac_start);
	if (len < 0 || len > MAX_NUMBER + 1)
		return false;
	*out = strtod(norm, NULL);
	return true;
}

bool decimal_parse(const char *text, double *out)
{
	char norm[MAX_NUMBER + 2];
	return text && number(text, strlen(text), out, norm);
}

bool range_parse(const char *text, struct range *r)
{
	memset(r, 0, sizeof *r);
	if (!text || !*text)
		return false;
	char low[MAX_NUMBER + 2] = "", high[MAX_NUMBER + 2] = "";
	const char *s = text;
	if (*s == '@') {
		r->inside = true;
		s++;
	}
	const char *colon = strchr(s, ':');
	if (!colon) {
		/* "10" is "0:10". */
		if (!number(s, strlen(s), &r->high, high))
			return false;
		snprintf(r->text, sizeof r->text, "%s%s", r->inside ? "@" : "", high);
	} else {
		size_t n = (size_t)(colon - s);
		if (n == 1 && *s == '~')
			r->low_infinite = true;
		else if (n == 0)
			snprintf(low, sizeof low, "0");     /* ":10" is "0:10" */
		else if (!number(s, n, &r->low, low))
			return false;
		if (!colon[1])
			r->high_infinite = true;
		else if (!number(colon + 1, strlen(colon + 1), &r->high, high))
			return false;
		if (n == 0 && r->high_infinite)
			return false;                       /* ":" says nothing */
		snprintf(r->text, sizeof r->text, "%s%s:%s", r->inside ? "@" : "",
			 r->low_infinite ? "~" : low, high);
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
