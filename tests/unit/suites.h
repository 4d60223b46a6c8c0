/*
 * suites.h - the Check suites of the unit tests, one per src/ module.
 */
#ifndef SMTPCHECK_TEST_SUITES_H
#define SMTPCHECK_TEST_SUITES_H

#include <check.h>

Suite *reply_suite(void);
Suite *ehlo_suite(void);
Suite *probe_suite(void);
Suite *json_suite(void);
Suite *options_suite(void);
Suite *diagnose_suite(void);
Suite *loop_suite(void);
Suite *util_suite(void);
Suite *sasl_suite(void);
Suite *interpret_suite(void);
Suite *kb_suite(void);
Suite *dns_suite(void);
Suite *secret_suite(void);
Suite *range_suite(void);

#endif
