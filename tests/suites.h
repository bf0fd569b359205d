/* SPDX-License-Identifier: ISC */
/*
 * Every Check suite of the project, run by check_main.c.  One per module
 * (check_<module>.c) plus the end-to-end suites that drive the binary.
 */
#ifndef SUITES_H
#define SUITES_H

#include <check.h>

Suite	*request_suite(void);
Suite	*response_suite(void);
Suite	*policy_suite(void);
Suite	*config_suite(void);
Suite	*relay_suite(void);
Suite	*net_suite(void);
Suite	*pool_suite(void);
Suite	*scoreboard_suite(void);
Suite	*sdnotify_suite(void);
Suite	*install_suite(void);
Suite	*auth_suite(void);
Suite	*upstream_suite(void);
Suite	*e2e_suite(void);
Suite	*pool_e2e_suite(void);
Suite	*access_suite(void);
Suite	*logger_suite(void);
Suite	*observe_suite(void);
Suite	*reload_suite(void);
Suite	*robust_suite(void);
Suite	*docs_suite(void);
Suite	*hostile_suite(void);
Suite	*record_suite(void);
Suite	*e2e_config_suite(void);
Suite	*proc_suite(void);
Suite	*pac_suite(void);
Suite	*proxyproto_suite(void);
Suite	*proxyproto_e2e_suite(void);
Suite	*proxy_status_suite(void);
Suite	*metrics_suite(void);
Suite	*dial_suite(void);

#endif
