/* SPDX-License-Identifier: ISC */
#include "harness.h"
#include "suites.h"

Suite *
proxyproto_e2e_suite(void)
{
	return suite_create("proxyproto");
}
