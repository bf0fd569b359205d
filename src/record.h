/* SPDX-License-Identifier: ISC */
/*
 * The access record: one line per tunnel or refusal, key=value text or a
 * JSON object, formatted by a pure function.  Writing it is log.c's
 * business (log_access_record()); nothing here does I/O.
 */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>

/* Longest record a worker sends the master, in one message. */
#define RECORD_MAX		4000

/* access_log_format */
enum record_format {
	RECORD_FORMAT_TEXT,	/* key=value */
	RECORD_FORMAT_JSON	/* one object per line */
};

/*
 * One access record.  A NULL or empty string is an unknown value: JSON
 * leaves its key out; text writes the keys every record has (time, id,
 * client, target, reason) as "-" and leaves out via, user, dialed,
 * upstream, rule, detail and error.  The caller owns every string.
 */
struct record {
	long long		 time_ms;	/* CLOCK_REALTIME, ms */
	const char		*id;
	long			 worker;	/* pid */
	const char		*client;
	const char		*via;		/* the balancer that sent a
						   PROXY header */
	const char		*user;
	const char		*target;
	const char		*dialed;
	const char		*upstream;
	int			 status;
	unsigned long long	 bytes_up;	/* client to target */
	unsigned long long	 bytes_down;
	long long		 duration_ms;
	const char		*reason;
	const char		*rule;		/* the policy rule that denied */
	const char		*detail;	/* a refusal's answer body */
	const char		*error;		/* its Proxy-Status error type */
};

/*
 * Format r into buf (without a newline) as `format` says, NUL-terminated.
 * Each value is escaped (text: quoted when it holds a space, quote,
 * backslash, '=' or a non-printable byte; JSON: a valid string) and cut
 * at 390 bytes (error, a token, is left out when it is not one of up
 * to 40 bytes), so that a record always fits RECORD_MAX.
 * Returns the length, or 0 (buf "" when len > 0) when len is too small.
 * Pure: no I/O.
 */
size_t	record_format(char *buf, size_t len, enum record_format format,
	    const struct record *r);

#endif
