/* SPDX-License-Identifier: ISC */
/*
 * Time in the end-to-end harness: the monotonic clock, deadlines, and
 * timeouts scaled for slow builds.  Every wait of the harness is a
 * bounded poll on a condition, in steps of HARNESS_POLL_STEP_MS.
 */
#ifndef HARNESS_TIME_H
#define HARNESS_TIME_H

#include <check.h>

/*
 * Timeouts: `ms` scaled for slow (sanitizer) builds: by
 * $HARNESS_TIMEOUT_SCALE when set, else by 3 when the binary under test
 * has "debug" in its name.
 */
int	harness_ms(int ms);
/* Milliseconds on CLOCK_MONOTONIC. */
long long harness_now_ms(void);
/*
 * A test case named `name` added to s, with a timeout of timeout_s
 * seconds, stretched like every other wait for a sanitizer build.
 */
TCase	*harness_tcase(Suite *s, const char *name, int timeout_s);
/*
 * Let ms pass: only where a rate or a duration is what is observed (a
 * condition has a wait helper, which polls with this).
 */
void	harness_pause_ms(int ms);

/* Building blocks of the harness's other files. */
/* The step of the harness's polling waits, in milliseconds. */
#define HARNESS_POLL_STEP_MS	20
/* Milliseconds left until deadline (on harness_now_ms()), 0 once past. */
int	harness_remaining_ms(long long deadline);

#endif
