/*
 * The one test runner: every suite, in fork mode so a crash fails one
 * test and not the run.  CK_RUN_SUITE=<name> (Check's own variable) limits
 * the run to one suite.
 */
#include <stdlib.h>

#include "suites.h"

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(request_suite());
	srunner_add_suite(sr, response_suite());
	srunner_add_suite(sr, policy_suite());
	srunner_add_suite(sr, config_suite());
	srunner_add_suite(sr, relay_suite());
	srunner_add_suite(sr, net_suite());
	srunner_add_suite(sr, pool_suite());
	srunner_add_suite(sr, scoreboard_suite());
	srunner_add_suite(sr, sdnotify_suite());
	srunner_add_suite(sr, install_suite());
	srunner_add_suite(sr, auth_suite());
	srunner_add_suite(sr, upstream_suite());
	srunner_add_suite(sr, e2e_suite());
	srunner_add_suite(sr, pool_e2e_suite());
	srunner_add_suite(sr, access_suite());
	srunner_add_suite(sr, logger_suite());
	srunner_add_suite(sr, observe_suite());
	srunner_add_suite(sr, reload_suite());
	srunner_add_suite(sr, robust_suite());
	srunner_add_suite(sr, docs_suite());
	srunner_add_suite(sr, hostile_suite());
	srunner_add_suite(sr, record_suite());
	srunner_add_suite(sr, e2e_config_suite());
	srunner_add_suite(sr, proc_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
