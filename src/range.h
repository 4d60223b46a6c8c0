/*
 * range.h - threshold ranges of the Nagios plugin development guidelines:
 * "[@]start:end", start omitted = 0, "~" = minus infinity, end omitted =
 * plus infinity; alert when the value is outside the range, or inside it
 * with "@". "10" means "0:10", "10:" means "alert below 10".
 */
#ifndef SMTPCHECK_RANGE_H
#define SMTPCHECK_RANGE_H

#include <stdbool.h>

struct range {
	bool set;
	bool inside;          /* "@": alert inside the range */
	bool low_infinite;    /* "~" */
	bool high_infinite;   /* nothing after ':' */
	double low, high;
	char text[64];        /* normalised, for perfdata */
};

/*
 * Parse text; false if it is not a range. Numbers are plain decimals
 * ("-1.5", "0.25", ".5"), at most 24 characters: no blanks, no "+", no
 * exponent, no hexadecimal. text is set to the normal form ("007.50:"
 * gives "7.5:", ":10" gives "0:10").
 */
bool range_parse(const char *text, struct range *r);

/*
 * A plain decimal number and nothing else: [-]DIGITS[.DIGITS] or
 * [-].DIGITS (no blanks, sign "+", exponent, hex, inf or nan), as in the
 * ranges. For the other options that take seconds.
 */
bool decimal_parse(const char *text, double *out);

/* A range from a plain number n meaning "alert when below n". */
void range_below(double n, struct range *r);

/* True when v must raise the alert. An unset range never alerts. */
bool range_alert(const struct range *r, double v);

#endif
