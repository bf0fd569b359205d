/* SPDX-License-Identifier: ISC */
/*
 * Time in the end-to-end harness (see harness_time.h): the monotonic
 * clock, deadlines, and timeouts stretched for a sanitizer build.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <check.h>

#include "harness_proxy.h"
#include "harness_time.h"

long long
harness_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
harness_remaining_ms(long long deadline)
{
	long long	left;

	left = deadline - harness_now_ms();
	return left < 0 ? 0 : (int)left;
}

int
harness_ms(int ms)
{
	const char	*s;
	int		 scale = 1;

	s = getenv("HARNESS_TIMEOUT_SCALE");
	if (s != NULL && atoi(s) > 0)
		scale = atoi(s);
	else if (strstr(harness_bin(), "debug") != NULL)
		scale = 3;
	return ms * scale;
}

TCase *
harness_tcase(Suite *s, const char *name, int timeout_s)
{
	TCase	*tc = tcase_create(name);

	tcase_set_timeout(tc, timeout_s * harness_ms(1));
	suite_add_tcase(s, tc);
	return tc;
}

void
harness_pause_ms(int ms)
{
	struct timespec	ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}
