/* SPDX-License-Identifier: ISC */
/*
 * Responses: the 200 has no framing fields and no body (RFC 9110 9.3.6);
 * errors carry a Content-Length that matches the body, Connection: close,
 * a Date, and the reason phrase.
 */
#define _GNU_SOURCE		/* EAI_NODATA */

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"
#include "scoreboard.h"
#include "suites.h"

/* Bytes after the blank line, checked against Content-Length. */
static void
assert_framed(const char *resp)
{
	const char	*cl, *body;
	long		 n;

	cl = strstr(resp, "\r\nContent-Length: ");
	body = strstr(resp, "\r\n\r\n");
	ck_assert_ptr_nonnull(cl);
	ck_assert_ptr_nonnull(body);
	n = strtol(cl + 18, NULL, 10);
	ck_assert_int_eq((long)strlen(body + 4), n);
}

START_TEST(test_established)
{
	char	buf[RESPONSE_MAX];
	size_t	n;

	n = response_established(buf, sizeof(buf), 0);
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert_str_eq(buf, "HTTP/1.1 200 Connection established\r\n"
	    "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n");
}
END_TEST

static const struct {
	int		 status;
	const char	*line;
} errors[] = {
	{ 400, "HTTP/1.1 400 Bad Request\r\n" },
	{ 403, "HTTP/1.1 403 Forbidden\r\n" },
	{ 405, "HTTP/1.1 405 Method Not Allowed\r\n" },
	{ 408, "HTTP/1.1 408 Request Timeout\r\n" },
	{ 414, "HTTP/1.1 414 URI Too Long\r\n" },
	{ 431, "HTTP/1.1 431 Request Header Fields Too Large\r\n" },
	{ 501, "HTTP/1.1 501 Not Implemented\r\n" },
	{ 502, "HTTP/1.1 502 Bad Gateway\r\n" },
	{ 503, "HTTP/1.1 503 Service Unavailable\r\n" },
	{ 504, "HTTP/1.1 504 Gateway Timeout\r\n" },
	{ 505, "HTTP/1.1 505 HTTP Version Not Supported\r\n" },
};

START_TEST(test_error)
{
	char	buf[RESPONSE_MAX];
	size_t	n;

	n = response_error(buf, sizeof(buf), errors[_i].status, "why", NULL,
	    1700000000);
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert_msg(strncmp(buf, errors[_i].line, strlen(errors[_i].line))
	    == 0, "status line for %d: %s", errors[_i].status, buf);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nConnection: close\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\r\nContent-Type: text/plain\r\n"));
	ck_assert_ptr_nonnull(strstr(buf,
	    "\r\nDate: Tue, 14 Nov 2023 22:13:20 GMT\r\n"));
	ck_assert_ptr_nonnull(strstr(buf, ": why\n"));
	assert_framed(buf);
}
END_TEST

START_TEST(test_extra_header)
{
	char	buf[RESPONSE_MAX];

	response_error(buf, sizeof(buf), 405, "only CONNECT",
	    "Allow: CONNECT\r\n", 0);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nAllow: CONNECT\r\n"));
	assert_framed(buf);
}
END_TEST

START_TEST(test_truncates_safely)
{
	char	buf[32];
	size_t	n;

	memset(buf, 'x', sizeof(buf));
	n = response_error(buf, sizeof(buf), 400, "detail", NULL, 0);
	ck_assert_uint_lt(n, sizeof(buf));
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(test_unknown_reason)
{
	ck_assert_str_eq(response_reason(299), "Unknown");
	ck_assert_str_eq(response_reason(407),
	    "Proxy Authentication Required");
}
END_TEST

/* The PAC file's head: exact, and cut safely in a short buffer. */
START_TEST(test_pac_head)
{
	static const char	want[] = "HTTP/1.1 200 OK\r\n"
	    "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
	    "Content-Type: application/x-ns-proxy-autoconfig\r\n"
	    "Content-Length: 65536\r\n"
	    "Cache-Control: max-age=300\r\n"
	    "Connection: close\r\n\r\n";
	char			buf[RESPONSE_MAX], small[16];
	size_t			n;

	n = response_pac(buf, sizeof(buf), 65536, 0);
	ck_assert_uint_eq(n, strlen(buf));
	ck_assert_str_eq(buf, want);
	n = response_pac(small, sizeof(small), 1, 0);
	ck_assert_uint_eq(n, sizeof(small) - 1);
	ck_assert_uint_eq(strlen(small), n);
}
END_TEST

/*
 * Proxy-Status (RFC 9209): every refusal and failure, as the worker and
 * the dialer report it, and the error type and parameters its answer
 * carries.  One row at least per reason of SB_REASON_LIST (see
 * test_every_reason_mapped).
 */
static const struct {
	int		 status;
	const char	*reason;
	int		 dest_addr;
	int		 error;		/* errno */
	int		 gai;		/* getaddrinfo() code */
	const char	*next_hop;
	int		 received;
	const char	*type;		/* what the answer says */
	const char	*rcode;
} ps_rows[] = {
	{ 403, "client_denied", 0, 0, 0, NULL, 0, "http_request_denied",
	  NULL },
	{ 429, "client_limit", 0, 0, 0, NULL, 0, "connection_limit_reached",
	  NULL },
	{ 400, "bad_request", 0, 0, 0, NULL, 0, "http_request_error", NULL },
	{ 414, "header_too_large", 0, 0, 0, NULL, 0, "http_request_error",
	  NULL },
	{ 431, "header_too_large", 0, 0, 0, NULL, 0, "http_request_error",
	  NULL },
	{ 408, "header_timeout", 0, 0, 0, NULL, 0, "http_request_error",
	  NULL },
	{ 405, "method_not_allowed", 0, 0, 0, NULL, 0, "http_request_error",
	  NULL },
	{ 403, "port_denied", 0, 0, 0, NULL, 0, "http_request_denied", NULL },
	/* A name rule denies the request; an address is prohibited. */
	{ 403, "dest_denied", 0, 0, 0, NULL, 0, "http_request_denied", NULL },
	{ 403, "dest_denied", 1, 0, 0, NULL, 0, "destination_ip_prohibited",
	  NULL },
	{ 407, "auth_required", 0, 0, 0, NULL, 0, "http_request_denied",
	  NULL },
	{ 407, "auth_failed", 0, 0, 0, NULL, 0, "http_request_denied", NULL },
	{ 502, "resolve_failed", 0, 0, EAI_NONAME, NULL, 0, "dns_error",
	  "NXDOMAIN" },
	{ 502, "resolve_failed", 0, 0, EAI_NODATA, NULL, 0, "dns_error",
	  "NOERROR" },
	/* A literal that is no address: nothing to dial. */
	{ 502, "resolve_failed", 0, 0, 0, NULL, 0, "destination_not_found",
	  NULL },
	{ 502, "resolve_failed", 0, 0, EAI_FAMILY, NULL, 0,
	  "destination_not_found", NULL },
	{ 502, "resolve_error", 0, 0, EAI_AGAIN, NULL, 0, "dns_error",
	  "SERVFAIL" },
	{ 502, "resolve_error", 0, 0, EAI_FAIL, NULL, 0, "dns_error", NULL },
	{ 502, "resolve_error", 0, ENOMEM, EAI_SYSTEM, NULL, 0, "dns_error",
	  NULL },
	{ 504, "resolve_timeout", 0, 0, EAI_AGAIN, NULL, 0, "dns_timeout",
	  NULL },
	{ 502, "connect_failed", 0, ECONNREFUSED, 0, NULL, 0,
	  "connection_refused", NULL },
	{ 502, "connect_failed", 0, ENETUNREACH, 0, NULL, 0,
	  "destination_ip_unroutable", NULL },
	{ 502, "connect_failed", 0, EHOSTUNREACH, 0, NULL, 0,
	  "destination_ip_unroutable", NULL },
	{ 502, "connect_failed", 0, EPERM, 0, NULL, 0,
	  "destination_ip_prohibited", NULL },
	{ 502, "connect_failed", 0, ETIMEDOUT, 0, NULL, 0,
	  "connection_timeout", NULL },
	{ 502, "connect_failed", 0, 0, 0, NULL, 0, "destination_unavailable",
	  NULL },
	{ 502, "connect_failed", 0, EMFILE, 0, NULL, 0,
	  "destination_unavailable", NULL },
	{ 504, "connect_timeout", 0, ETIMEDOUT, 0, NULL, 0,
	  "connection_timeout", NULL },
	/* Whatever failed last, a 504 for the deadline says so. */
	{ 504, "connect_timeout", 0, ECONNREFUSED, 0, NULL, 0,
	  "connection_timeout", NULL },
	{ 502, "upstream_failed", 0, ECONNREFUSED, 0, "parent.test:3128", 0,
	  "connection_refused", NULL },
	{ 502, "upstream_failed", 0, 0, EAI_NONAME, "parent.test:3128", 0,
	  "dns_error", "NXDOMAIN" },
	{ 502, "upstream_failed", 0, EPROTO, 0, "parent.test:3128", 0,
	  "http_protocol_error", NULL },
	{ 502, "upstream_failed", 0, ECONNRESET, 0, "parent.test:3128", 0,
	  "connection_terminated", NULL },
	{ 502, "upstream_failed", 0, 0, 0, "parent.test:3128", 0,
	  "destination_unavailable", NULL },
	{ 504, "upstream_timeout", 0, ETIMEDOUT, 0, "parent.test:3128", 0,
	  "connection_timeout", NULL },
	{ 504, "upstream_timeout", 0, EAGAIN, 0, "parent.test:3128", 0,
	  "connection_read_timeout", NULL },
	{ 504, "upstream_timeout", 0, 0, EAI_AGAIN, "parent.test:3128", 0,
	  "dns_timeout", NULL },
	{ 502, "upstream_refused", 0, 0, 0, "[::1]:3128", 403,
	  "http_protocol_error", NULL },
	{ 503, "shutdown", 0, 0, 0, NULL, 0, "proxy_internal_response",
	  NULL },
	{ 503, "pool_full", 0, 0, 0, NULL, 0, "connection_limit_reached",
	  NULL },
};

START_TEST(test_proxy_status_map)
{
	struct response_failure		f = { ps_rows[_i].status,
	    ps_rows[_i].reason, ps_rows[_i].dest_addr, ps_rows[_i].error,
	    ps_rows[_i].gai, ps_rows[_i].next_hop, ps_rows[_i].received };
	struct response_proxy_status	ps;

	ck_assert_int_eq(response_proxy_status(&f, &ps), 0);
	/* RFC 8941 sf-token: ALPHA or "*", then tchar, ":" or "/". */
	ck_assert_msg(strchr("abcdefghijklmnopqrstuvwxyz*", ps.error[0]) !=
	    NULL && strspn(ps.error, "abcdefghijklmnopqrstuvwxyz0123456789"
	    "_-.:/*!#$%&'+^`|~") == strlen(ps.error), "%s: not an sf-token",
	    ps.error);
	ck_assert_msg(strcmp(ps.error, ps_rows[_i].type) == 0,
	    "%d %s (errno %d, gai %d): %s, not %s", f.status, f.reason,
	    f.error, f.gai_error, ps.error, ps_rows[_i].type);
	if (ps_rows[_i].rcode == NULL)
		ck_assert_ptr_null(ps.rcode);
	else
		ck_assert_str_eq(ps.rcode, ps_rows[_i].rcode);
	if (ps_rows[_i].next_hop == NULL)
		ck_assert_ptr_null(ps.next_hop);
	else
		ck_assert_str_eq(ps.next_hop, ps_rows[_i].next_hop);
	ck_assert_int_eq(ps.received_status, ps_rows[_i].received);
}
END_TEST

/*
 * Every reason a refusal can carry (SB_REASON_LIST, which the scoreboard
 * suite checks against the code) has a mapping and a row above: a new
 * reason fails here until both say what its answer tells the client.
 * "other", the counter of anything else, is the only one without.
 */
START_TEST(test_every_reason_mapped)
{
	struct response_failure		f;
	struct response_proxy_status	ps;
	const char			*name;
	size_t				 i, k;

	for (i = 0; i < SB_REASONS; i++) {
		name = scoreboard_reason_name((unsigned)i);
		memset(&f, 0, sizeof(f));
		f.status = 502;
		f.reason = name;
		if (strcmp(name, "other") == 0) {
			ck_assert_int_eq(response_proxy_status(&f, &ps), -1);
			ck_assert_str_eq(ps.error, "proxy_internal_error");
			continue;
		}
		ck_assert_msg(response_proxy_status(&f, &ps) == 0,
		    "reason %s has no Proxy-Status mapping", name);
		for (k = 0; k < sizeof(ps_rows) / sizeof(ps_rows[0]); k++)
			if (strcmp(ps_rows[k].reason, name) == 0)
				break;
		ck_assert_msg(k < sizeof(ps_rows) / sizeof(ps_rows[0]),
		    "reason %s has no row in ps_rows", name);
	}
	f.reason = NULL;
	ck_assert_int_eq(response_proxy_status(&f, &ps), -1);
}
END_TEST

/* The field: RFC 8941 List of one Token, parameters in order. */
START_TEST(test_proxy_status_field)
{
	struct response_proxy_status	ps = { "dns_error", "NXDOMAIN", NULL,
	    0 };
	char				buf[512];
	size_t				n;

	n = response_proxy_status_field(buf, sizeof(buf), &ps,
	    "name does not resolve");
	ck_assert_str_eq(buf, "Proxy-Status: connectproxy; error=dns_error; "
	    "rcode=\"NXDOMAIN\"; details=\"name does not resolve\"\r\n");
	ck_assert_uint_eq(n, strlen(buf));
	ps.error = "http_protocol_error";
	ps.rcode = NULL;
	ps.next_hop = "[::1]:3128";
	ps.received_status = 403;
	n = response_proxy_status_field(buf, sizeof(buf), &ps, NULL);
	ck_assert_str_eq(buf, "Proxy-Status: connectproxy; "
	    "error=http_protocol_error; next-hop=\"[::1]:3128\"; "
	    "received-status=403\r\n");
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

/* sf-string: quote and backslash escaped, CTLs and non-ASCII dropped. */
START_TEST(test_proxy_status_escaping)
{
	struct response_proxy_status	ps = { "http_request_error", NULL,
	    NULL, 0 };
	char				buf[512], big[1000];
	size_t				n;

	response_proxy_status_field(buf, sizeof(buf), &ps,
	    "a \"q\" b\\c\r\nInjected: 1\x7f\xc3\xa9\t.");
	ck_assert_str_eq(buf, "Proxy-Status: connectproxy; "
	    "error=http_request_error; details=\"a \\\"q\\\" b\\\\c"
	    "Injected: 1.\"\r\n");
	/* One field line, whatever the input. */
	ck_assert_ptr_eq(strchr(buf, '\n'), buf + strlen(buf) - 1);
	/* A long value is cut, and the line stays whole. */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = response_proxy_status_field(buf, sizeof(buf), &ps, big);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_lt(n, 400);
	ck_assert_ptr_nonnull(strstr(buf, "x\"\r\n"));
}
END_TEST

/* Too small a buffer gives nothing, never half a field. */
START_TEST(test_proxy_status_too_small)
{
	struct response_proxy_status	ps = { "dns_error", "NXDOMAIN",
	    "parent.test:3128", 502 };
	char				buf[160];
	size_t				len, full;

	full = response_proxy_status_field(buf, sizeof(buf), &ps, "details");
	ck_assert_uint_gt(full, 0);
	for (len = 0; len <= full; len++) {
		memset(buf, 'x', sizeof(buf));
		ck_assert_uint_eq(response_proxy_status_field(buf, len, &ps,
		    "details"), 0);
		if (len > 0)
			ck_assert_str_eq(buf, "");
	}
	ck_assert_uint_eq(response_proxy_status_field(buf, full + 1, &ps,
	    "details"), full);
}
END_TEST

/* With the longest challenge and Proxy-Status, the answer is whole. */
START_TEST(test_error_fits)
{
	struct response_proxy_status	ps = { "connection_read_timeout",
	    "NXDOMAIN", NULL, 502 };
	char				hop[RESPONSE_PS_STRING_MAX + 1];
	char				extra[1200], buf[RESPONSE_MAX];
	char				detail[300];
	size_t				n, e;

	memset(hop, 'h', sizeof(hop) - 1);
	hop[sizeof(hop) - 1] = '\0';
	memset(detail, 'd', sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	ps.next_hop = hop;
	e = (size_t)snprintf(extra, sizeof(extra), "Proxy-Authenticate: "
	    "Basic realm=\"%064d\", charset=\"UTF-8\"\r\n", 0);
	ck_assert_uint_gt(response_proxy_status_field(extra + e,
	    sizeof(extra) - e, &ps, detail), 0);
	n = response_error(buf, sizeof(buf), 407, detail, extra, 0);
	ck_assert_uint_lt(n, sizeof(buf) - 1);
	ck_assert_ptr_nonnull(strstr(buf, "\r\nProxy-Status: "));
	assert_framed(buf);
}
END_TEST

Suite *
response_suite(void)
{
	Suite	*s = suite_create("response");
	TCase	*tc = tcase_create("format");

	tcase_add_test(tc, test_established);
	tcase_add_loop_test(tc, test_error, 0,
	    (int)(sizeof(errors) / sizeof(errors[0])));
	tcase_add_test(tc, test_extra_header);
	tcase_add_test(tc, test_truncates_safely);
	tcase_add_test(tc, test_unknown_reason);
	tcase_add_test(tc, test_pac_head);
	suite_add_tcase(s, tc);
	tc = tcase_create("proxy_status");
	tcase_add_loop_test(tc, test_proxy_status_map, 0,
	    (int)(sizeof(ps_rows) / sizeof(ps_rows[0])));
	tcase_add_test(tc, test_every_reason_mapped);
	tcase_add_test(tc, test_proxy_status_field);
	tcase_add_test(tc, test_proxy_status_escaping);
	tcase_add_test(tc, test_proxy_status_too_small);
	tcase_add_test(tc, test_error_fits);
	suite_add_tcase(s, tc);
	return s;
}
