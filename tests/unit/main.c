/*
 * main.c - runs every unit suite and prints Check's summary line.
 */
#include <stdlib.h>

#include "suites.h"

int main(void)
{
	SRunner *sr = srunner_create(reply_suite());
	srunner_add_suite(sr, ehlo_suite());
	srunner_add_suite(sr, probe_suite());
	srunner_add_suite(sr, json_suite());
	srunner_add_suite(sr, options_suite());
	srunner_add_suite(sr, diagnose_suite());
	srunner_add_suite(sr, loop_suite());
	srunner_add_suite(sr, util_suite());
	srunner_add_suite(sr, sasl_suite());
	srunner_add_suite(sr, interpret_suite());
	srunner_add_suite(sr, kb_suite());
	srunner_add_suite(sr, dns_suite());
	srunner_add_suite(sr, secret_suite());
	srunner_add_suite(sr, range_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
