/* SPDX-License-Identifier: ISC */
/*
 * Responses the proxy itself generates.  Nothing here copies request bytes
 * into a header (response splitting); error bodies are proxy-chosen text.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "response.h"
#include "utc.h"

static const struct {
	int		 code;
	const char	*reason;
} reasons[] = {
	{ 200, "Connection established" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 407, "Proxy Authentication Required" },
	{ 408, "Request Timeout" },
	{ 414, "URI Too Long" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 502, "Bad Gateway" },
	{ 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" },
	{ 505, "HTTP Version Not Supported" },
};

const char *
response_reason(int status)
{
	size_t	i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			return reasons[i].reason;
	return "Unknown";
}

/* RFC 9110 5.6.7 IMF-fixdate, always in English and GMT. */
static void
http_date(char *buf, size_t len, time_t now)
{
	static const char	days[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char	months[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct utc		u;

	utc_civil(now < 0 ? 0 : (long long)now, &u);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    days[u.wday], u.mday, months[u.mon - 1], u.year, u.hour, u.min,
	    u.sec);
}

static size_t
clamp(int n, size_t len)
{
	if (n < 0)
		return 0;
	return (size_t)n >= len ? len - 1 : (size_t)n;
}

size_t
response_established(char *buf, size_t len, time_t now)
{
	char	date[40];

	http_date(date, sizeof(date), now);
	return clamp(snprintf(buf, len,
	    "HTTP/1.1 200 Connection established\r\n"
	    "Date: %s\r\n"
	    "\r\n", date), len);
}

size_t
response_error(char *buf, size_t len, int status, const char *detail,
    const char *extra, time_t now)
{
	char		date[40], body[256];
	const char	*reason = response_reason(status);
	int		blen;

	http_date(date, sizeof(date), now);
	blen = snprintf(body, sizeof(body), "%d %s: %s\n", status, reason,
	    detail != NULL ? detail : reason);
	if (blen < 0 || (size_t)blen >= sizeof(body))
		blen = (int)strlen(body);
	return clamp(snprintf(buf, len,
	    "HTTP/1.1 %d %s\r\n"
	    "Date: %s\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %d\r\n"
	    "Connection: close\r\n"
	    "%s"
	    "\r\n"
	    "%s", status, reason, date, blen, extra != NULL ? extra : "",
	    body), len);
}

void
response_date(char *buf, size_t len, time_t now)
{
	http_date(buf, len, now);
}
