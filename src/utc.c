/* SPDX-License-Identifier: ISC */
/*
 * Days to a Gregorian date, counting in 400-year eras of 146097 days from
 * a year that starts on March 1st, so the leap day falls at the end of
 * the year (the method H. Hinnant describes for civil_from_days).
 */
#include <stdio.h>

#include "utc.h"

void
utc_civil(long long secs, struct utc *u)
{
	long long	days = secs / 86400, rem = secs % 86400;
	long long	z = days + 719468;	/* days since 0000-03-01 */
	long long	era = z / 146097;
	long long	doe = z - era * 146097;			/* [0, 146096] */
	long long	yoe = (doe - doe / 1460 + doe / 36524 -
	    doe / 146096) / 365;				/* [0, 399] */
	long long	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	long long	mp = (5 * doy + 2) / 153;		/* March = 0 */

	u->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	u->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	u->year = (int)(yoe + era * 400 + (u->mon <= 2));
	u->hour = (int)(rem / 3600);
	u->min = (int)(rem / 60 % 60);
	u->sec = (int)(rem % 60);
	u->wday = (int)((days + 4) % 7);	/* 1970-01-01: a Thursday */
}

void
utc_format_ms(char *buf, size_t len, long long ms)
{
	struct utc	u;

	utc_civil(ms / 1000, &u);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", u.year,
	    u.mon, u.mday, u.hour, u.min, u.sec, (int)(ms % 1000));
}
