/* SPDX-License-Identifier: ISC */
/*
 * Responses the proxy itself generates.  Nothing here copies request bytes
 * into a header (response splitting); error bodies are proxy-chosen text.
 * An error answer says why in RFC 9209's terms too (Proxy-Status).
 */
#define _GNU_SOURCE		/* EAI_NODATA in glibc's and musl's netdb.h */

#include <errno.h>
#include <netdb.h>
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

size_t
response_pac(char *buf, size_t len, size_t body_len, time_t now)
{
	char	date[40];

	http_date(date, sizeof(date), now);
	return clamp(snprintf(buf, len,
	    "HTTP/1.1 200 OK\r\n"
	    "Date: %s\r\n"
	    "Content-Type: application/x-ns-proxy-autoconfig\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: max-age=%d\r\n"
	    "Connection: close\r\n"
	    "\r\n", date, body_len, RESPONSE_PAC_MAX_AGE), len);
}

/*
 * RFC 9209 section 2.3 has no type for a missing or wrong password, a
 * method other than CONNECT or a worker pool that is stopping; the
 * choices made for them are explained in connectproxy(8), WHAT
 * CLIENTS SEE.  How each reason is mapped:
 */
enum ps_how {
	PS_FIXED,	/* always `error` */
	PS_DEST,	/* a name rule: `error`; an address: prohibited */
	PS_DNS,		/* by getaddrinfo() code, with its rcode */
	PS_CONNECT,	/* by errno; `error` when it says nothing */
	PS_PARENT,	/* a parent: its name (PS_DNS), else PS_CONNECT */
	PS_PARENT_TIME	/* a parent in time: resolve, connect or answer */
};

static const struct {
	const char	*reason;
	enum ps_how	 how;
	const char	*error;
} ps_map[] = {
	{ "client_denied",	PS_FIXED,	"http_request_denied" },
	{ "port_denied",	PS_FIXED,	"http_request_denied" },
	{ "dest_denied",	PS_DEST,	"http_request_denied" },
	{ "auth_required",	PS_FIXED,	"http_request_denied" },
	{ "auth_failed",	PS_FIXED,	"http_request_denied" },
	{ "bad_request",	PS_FIXED,	"http_request_error" },
	{ "header_too_large",	PS_FIXED,	"http_request_error" },
	{ "header_timeout",	PS_FIXED,	"http_request_error" },
	{ "method_not_allowed",	PS_FIXED,	"http_request_error" },
	{ "client_limit",	PS_FIXED,	"connection_limit_reached" },
	{ "pool_full",		PS_FIXED,	"connection_limit_reached" },
	{ "shutdown",		PS_FIXED,	"proxy_internal_response" },
	{ "resolve_failed",	PS_DNS,		"destination_not_found" },
	{ "resolve_error",	PS_DNS,		"dns_error" },
	{ "resolve_timeout",	PS_FIXED,	"dns_timeout" },
	{ "connect_failed",	PS_CONNECT,	"destination_unavailable" },
	{ "connect_timeout",	PS_FIXED,	"connection_timeout" },
	{ "upstream_failed",	PS_PARENT,	"destination_unavailable" },
	{ "upstream_timeout",	PS_PARENT_TIME,	"connection_timeout" },
	{ "upstream_refused",	PS_FIXED,	"http_protocol_error" },
};

/*
 * A resolver's failure, as getaddrinfo() reports it.  glibc turns the
 * answer's RCODE into its code: NXDOMAIN is EAI_NONAME, an empty NOERROR
 * answer EAI_NODATA, SERVFAIL (and no answer at all, which a recursive
 * resolver would itself report as SERVFAIL) EAI_AGAIN; EAI_FAIL stands
 * for FORMERR, NOTIMP and REFUSED alike, so it gets no rcode.  A code
 * that is no DNS answer (a literal that is not one, a family or service
 * problem) means no usable address was found: `dflt`.
 */
static void
ps_dns(int gai, const char *dflt, struct response_proxy_status *ps)
{
	ps->error = "dns_error";
	switch (gai) {
	case EAI_NONAME:
		ps->rcode = "NXDOMAIN";
		return;
#ifdef EAI_NODATA
	case EAI_NODATA:
		ps->rcode = "NOERROR";
		return;
#endif
	case EAI_AGAIN:
		ps->rcode = "SERVFAIL";
		return;
	case EAI_FAIL:
	case EAI_MEMORY:
	case EAI_SYSTEM:
		return;
	default:
		ps->error = dflt;
		return;
	}
}

/* A failed connect (or exchange with a parent), by its errno. */
static const char *
ps_errno(int error, const char *dflt)
{
	switch (error) {
	case ECONNREFUSED:
		return "connection_refused";
	case ENETUNREACH:
	case EHOSTUNREACH:
	case ENETDOWN:
#ifdef EHOSTDOWN
	case EHOSTDOWN:
#endif
		return "destination_ip_unroutable";
	case EACCES:
	case EPERM:
		/* A local firewall rule: the host's configuration. */
		return "destination_ip_prohibited";
	case ETIMEDOUT:
		return "connection_timeout";
	case ECONNRESET:
	case EPIPE:
		return "connection_terminated";
	case EPROTO:
		/* A parent's answer that is not HTTP (see dial.h). */
		return "http_protocol_error";
	case EAGAIN:
		/* A parent's answer that did not come in time (dial.h). */
		return "connection_read_timeout";
	default:
		return dflt;
	}
}

int
response_proxy_status(const struct response_failure *f,
    struct response_proxy_status *ps)
{
	size_t	i;

	memset(ps, 0, sizeof(*ps));
	if (f->next_hop != NULL && f->next_hop[0] != '\0')
		ps->next_hop = f->next_hop;
	if (f->received_status >= 100 && f->received_status <= 999)
		ps->received_status = f->received_status;
	for (i = 0; i < sizeof(ps_map) / sizeof(ps_map[0]); i++)
		if (f->reason != NULL && strcmp(ps_map[i].reason, f->reason)
		    == 0)
			break;
	if (i == sizeof(ps_map) / sizeof(ps_map[0])) {
		ps->error = "proxy_internal_error";
		return -1;
	}
	ps->error = ps_map[i].error;
	switch (ps_map[i].how) {
	case PS_FIXED:
		break;
	case PS_DEST:
		if (f->dest_addr)
			ps->error = "destination_ip_prohibited";
		break;
	case PS_DNS:
		ps_dns(f->gai_error, ps_map[i].error, ps);
		break;
	case PS_CONNECT:
		ps->error = ps_errno(f->error, ps_map[i].error);
		break;
	case PS_PARENT:
		if (f->gai_error != 0)
			ps_dns(f->gai_error, ps_map[i].error, ps);
		else
			ps->error = ps_errno(f->error, ps_map[i].error);
		break;
	case PS_PARENT_TIME:
		if (f->gai_error != 0)
			ps->error = "dns_timeout";
		else if (f->error == EAGAIN)
			ps->error = "connection_read_timeout";
		break;
	}
	return 0;
}

/* `; key="value"`: an sf-string, escaped, unprintables dropped, cut. */
static void
ps_string(char *buf, size_t len, size_t *at, const char *key,
    const char *val)
{
	size_t	n = 0;
	int	w;

	if (*at >= len)
		return;
	w = snprintf(buf + *at, len - *at, "; %s=\"", key);
	*at += w > 0 ? (size_t)w : 0;
	for (; *val != '\0' && n < RESPONSE_PS_STRING_MAX; val++, n++) {
		if (*val < 0x20 || *val > 0x7e)
			continue;
		if (*at + 2 < len && (*val == '"' || *val == '\\'))
			buf[(*at)++] = '\\';
		if (*at + 1 < len)
			buf[(*at)++] = *val;
		else
			*at = len;
	}
	if (*at + 1 < len) {
		buf[(*at)++] = '"';
		buf[*at] = '\0';
	} else
		*at = len;
}

size_t
response_proxy_status_field(char *buf, size_t len,
    const struct response_proxy_status *ps, const char *details)
{
	size_t	at;
	int	w;

	if (len == 0)
		return 0;
	w = snprintf(buf, len, "Proxy-Status: %s; error=%s",
	    RESPONSE_PROXY_NAME, ps->error != NULL ? ps->error :
	    "proxy_internal_error");
	at = w > 0 ? (size_t)w : len;
	if (ps->rcode != NULL)
		ps_string(buf, len, &at, "rcode", ps->rcode);
	if (ps->next_hop != NULL)
		ps_string(buf, len, &at, "next-hop", ps->next_hop);
	if (ps->received_status != 0 && at < len) {
		w = snprintf(buf + at, len - at, "; received-status=%d",
		    ps->received_status);
		at += w > 0 ? (size_t)w : 0;
	}
	if (details != NULL && details[0] != '\0')
		ps_string(buf, len, &at, "details", details);
	if (at + 2 >= len) {
		buf[0] = '\0';
		return 0;
	}
	memcpy(buf + at, "\r\n", 3);
	return at + 2;
}

void
response_date(char *buf, size_t len, time_t now)
{
	http_date(buf, len, now);
}
