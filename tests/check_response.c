/* SPDX-License-Identifier: ISC */
/*
 * Responses: the 200 has no framing fields and no body (RFC 9110 9.3.6);
 * errors carry a Content-Length that matches the body, Connection: close,
 * a Date, and the reason phrase.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"
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
	return s;
}
