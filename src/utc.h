/* SPDX-License-Identifier: ISC */
/*
 * Civil time in UTC from a Unix time, by arithmetic alone.  gmtime_r()
 * and strftime() take the C library's time zone lock, a write to libc's
 * data: in a forked worker that write costs a private 4 KiB page.
 */
#ifndef UTC_H
#define UTC_H

#include <stddef.h>

struct utc {
	int	year;		/* e.g. 2026 */
	int	mon;		/* 1-12 */
	int	mday;		/* 1-31 */
	int	hour;
	int	min;
	int	sec;
	int	wday;		/* 0 Sunday - 6 Saturday */
};

/* secs: seconds since 1970-01-01T00:00:00Z, not negative. */
void	utc_civil(long long secs, struct utc *u);
/*
 * "2026-11-27T12:24:38.070Z" for ms since the epoch (not negative), into
 * buf, NUL-terminated; len >= 25 holds it whole.
 */
void	utc_format_ms(char *buf, size_t len, long long ms);

#endif
