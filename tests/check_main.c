/* SPDX-License-Identifier: ISC */
/*
 * The one test runner: every suite, in fork mode so a crash fails one
 * test and not the run.  CK_RUN_SUITE=<name> (Check's own variable) limits
 * the run to one suite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/*
 * The proxies the suites start must stay out of the user's session: no
 * default control socket in $XDG_RUNTIME_DIR or ~/.connectproxy (a test
 * that wants one sets its own), nothing read from or written to ~.
 * HOME is a directory that does not exist, in tmp (removed at the end).
 */
static void
isolate_session(char *tmp, size_t len)
{
	char	home[HARNESS_PATH_MAX + 16];

	if (harness_tmpdir(tmp, len) == -1) {
		perror("temporary directory");
		exit(EXIT_FAILURE);
	}
	snprintf(home, sizeof(home), "%s/no-home", tmp);
	setenv("HOME", home, 1);
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("RUNTIME_DIRECTORY");
}

int
main(void)
{
	SRunner	*sr;
	char	 tmp[HARNESS_PATH_MAX];
	int	 failed;

	isolate_session(tmp, sizeof(tmp));
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
	srunner_add_suite(sr, pac_suite());
	srunner_add_suite(sr, proxyproto_suite());
	srunner_add_suite(sr, proxyproto_e2e_suite());
	srunner_add_suite(sr, proxy_status_suite());
	srunner_add_suite(sr, metrics_suite());
	srunner_add_suite(sr, dial_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	rmdir(tmp);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
