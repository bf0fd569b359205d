/* SPDX-License-Identifier: ISC */
/*
 * Responses the proxy generates: the 200 that opens a tunnel and the short
 * text/plain error answers.  Pure formatting into a caller's buffer.
 */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <stddef.h>
#include <time.h>

#define RESPONSE_MAX	1024

/* Reason phrase for a status code ("Bad Request"), "Unknown" otherwise. */
const char	*response_reason(int status);

/*
 * Format "HTTP/1.1 200 Connection established" with a Date and nothing
 * else (no Content-Length, no body).  Returns the length written.
 */
size_t	response_established(char *buf, size_t len, time_t now);

/*
 * Format an error response: status line, Date, Content-Type: text/plain,
 * Content-Length, Connection: close, any `extra` header lines (each ending
 * in CRLF, e.g. "Allow: CONNECT\r\n"; NULL for none), then a one-line body
 * "<code> <reason>: <detail>\n".  `detail` must be proxy-chosen text.
 * Returns the length written (truncated safely to len).
 */
size_t	response_error(char *buf, size_t len, int status, const char *detail,
	    const char *extra, time_t now);

/* The Date value for `now`: RFC 9110 IMF-fixdate, into buf (>= 30). */
void	response_date(char *buf, size_t len, time_t now);

#endif
