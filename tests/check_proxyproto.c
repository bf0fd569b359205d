/* SPDX-License-Identifier: ISC */
/*
 * Tests for proxyproto.c, the PROXY protocol header parser: the
 * specification's examples in both versions, every truncation point of
 * a valid header, and hostile headers (wrong signature or version,
 * lengths past the bound, a v1 line without its CRLF, bad addresses and
 * ports, mixed families, malformed TLVs).  Pure: no socket.
 */
#include "proxyproto.h"	/* first: it stands alone */

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "net.h"
#include "suites.h"

/* A binary string literal and its length, NUL bytes included. */
#define B(s)		s, sizeof(s) - 1
#define V2SIG		"\r\n\r\n\0\r\nQUIT\n"
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A valid header, then bytes of the connection that must stay unread. */
struct good_case {
	const char	*name;
	const char	*hdr;
	size_t		 hdrlen;
	int		 version;
	const char	*src;	/* "ip:port" of the client; NULL: local */
};

static const struct good_case	goods[] = {
	{ "v1 spec example",
	    B("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"), 1,
	    "192.168.0.1:56324" },
	{ "v1 longest TCP4",
	    B("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"),
	    1, "255.255.255.255:65535" },
	{ "v1 zeros",
	    B("PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n"), 1, "0.0.0.0:0" },
	{ "v1 TCP6",
	    B("PROXY TCP6 2001:db8::1 2001:db8::2 40000 3128\r\n"), 1,
	    "[2001:db8::1]:40000" },
	{ "v1 longest TCP6",
	    B("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"), 1,
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe]:65535" },
	{ "v1 UNKNOWN short",
	    B("PROXY UNKNOWN\r\n"), 1, NULL },
	{ "v1 UNKNOWN worst case, 107 bytes",
	    B("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"), 1,
	    NULL },
	{ "v2 PROXY TCP4",
	    B(V2SIG "\x21\x11\x00\x0c" "\xc0\xa8\x00\x01" "\xc0\xa8\x00\x0b"
	    "\xdc\x04" "\x01\xbb"), 2, "192.168.0.1:56324" },
	{ "v2 PROXY TCP6",
	    B(V2SIG "\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x9c\x40" "\x0c\x38"), 2, "[2001:db8::7]:40000" },
	{ "v2 PROXY TCP4 with TLVs",
	    B(V2SIG "\x21\x11\x00\x17" "\x0a\x00\x00\x05" "\x0a\x00\x00\x01"
	    "\x04\xd2" "\x0c\x38" "\x01\x00\x02" "h2" "\x04\x00\x03" "\0\0\0"),
	    2, "10.0.0.5:1234" },
	{ "v2 LOCAL, no addresses",
	    B(V2SIG "\x20\x00\x00\x00"), 2, NULL },
	{ "v2 LOCAL with addresses (a health check)",
	    B(V2SIG "\x20\x11\x00\x0c" "\x7f\x00\x00\x01" "\x7f\x00\x00\x01"
	    "\x9c\x40" "\x0c\x38"), 2, NULL },
	{ "v2 LOCAL, any family byte",
	    B(V2SIG "\x20\xff\x00\x00"), 2, NULL },
	{ "v2 PROXY UNSPEC",
	    B(V2SIG "\x21\x00\x00\x00"), 2, NULL },
	{ "v2 PROXY TCP4, UNSPEC transport",
	    B(V2SIG "\x21\x10\x00\x0c" "\x0a\x00\x00\x05" "\x0a\x00\x00\x01"
	    "\x04\xd2" "\x0c\x38"), 2, NULL },
	/* An IPv4 client of a dual-stack balancer: one spelling, IPv4's. */
	{ "v1 TCP6, IPv4-mapped",
	    B("PROXY TCP6 ::ffff:10.1.2.3 ::1 40000 3128\r\n"), 1,
	    "10.1.2.3:40000" },
	{ "v2 PROXY TCP6, IPv4-mapped",
	    B(V2SIG "\x21\x21\x00\x24"
	    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x0a\x01\x02\x09"
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x1e\x61" "\x0c\x38"), 2, "10.1.2.9:7777" },
};

static const char	*const trailers[] = {
	"",
	"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n",
	/* A second header is the connection's data, not ours. */
	"PROXY TCP4 6.6.6.6 6.6.6.6 1 1\r\n",
};

struct bad_case {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*reason;	/* a substring of out.reason */
};

static const struct bad_case	bads[] = {
	{ "HTTP request", B("CONNECT a:443 HTTP/1.1\r\n\r\n"), "not a PROXY" },
	{ "lowercase proxy", B("proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n"),
	    "not a PROXY" },
	{ "no space", B("PROXY\r\n"), "not a PROXY" },
	{ "TLS hello", B("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
	    "not a PROXY" },
	{ "LF only", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "LF without CR" },
	{ "CR only", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rGET"),
	    "CR without LF" },
	{ "NUL in line", B("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"),
	    "printable" },
	{ "8-bit byte", B("PROXY TCP4 1.2.3.\xb9 5.6.7.8 1 2\r\n"),
	    "printable" },
	{ "no protocol", B("PROXY \r\n"), "protocol" },
	{ "double space", B("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
	    "protocol" },
	{ "unknown protocol", B("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"),
	    "unknown protocol" },
	{ "lowercase protocol", B("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n"),
	    "unknown protocol" },
	{ "UNKNOWN glued", B("PROXY UNKNOWNX\r\n"), "unknown protocol" },
	{ "TCP4 alone", B("PROXY TCP4\r\n"), "source address" },
	{ "leading zero", B("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "byte over 255", B("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "three bytes", B("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "five bytes", B("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "empty byte", B("PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "trailing dot", B("PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "hex byte", B("PROXY TCP4 0x1.2.3.4 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "name", B("PROXY TCP4 localhost 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "bad destination", B("PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n"),
	    "destination address" },
	{ "IPv6 under TCP4", B("PROXY TCP4 ::1 ::1 1 2\r\n"),
	    "source address" },
	{ "IPv4 under TCP6", B("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),
	    "source address" },
	{ "mixed under TCP6", B("PROXY TCP6 ::1 5.6.7.8 1 2\r\n"),
	    "destination address" },
	{ "mixed under TCP4", B("PROXY TCP4 1.2.3.4 ::1 1 2\r\n"),
	    "destination address" },
	{ "IPv6 with zone", B("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"),
	    "source address" },
	{ "IPv6 too long", B("PROXY TCP6 0000:0000:0000:0000:0000:0000:"
	    "0000:0000:0 ::1 1 2\r\n"), "source address" },
	{ "port over 65535", B("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
	    "source port" },
	{ "port sign", B("PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"),
	    "source port" },
	{ "port leading zero", B("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
	    "source port" },
	{ "port six digits", B("PROXY TCP4 1.2.3.4 5.6.7.8 000001 2\r\n"),
	    "source port" },
	{ "no destination port", B("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
	    "source port" },
	{ "negative port", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n"),
	    "destination port" },
	{ "trailing space", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
	    "destination port" },
	{ "extra field", B("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
	    "destination port" },
	{ "v1 too long, no CRLF", B("PROXY UNKNOWN "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    "no CRLF" },
	{ "v1 CRLF at 108", B("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:"
	    "ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655350\r\n"),
	    "no CRLF" },
	{ "v2 signature off by one bit", B("\r\n\r\n\0\r\nQUIU\n\x21\x11"),
	    "not a PROXY" },
	{ "v2 signature short", B("\r\n\r\nGET"), "not a PROXY" },
	{ "v2 version 1", B(V2SIG "\x11\x11\x00\x0c"), "version" },
	{ "v2 version 3", B(V2SIG "\x31\x11\x00\x0c"), "version" },
	{ "v2 version 0", B(V2SIG "\x01\x11\x00\x0c"), "version" },
	{ "v2 command 2", B(V2SIG "\x22\x11\x00\x0c"), "command" },
	{ "v2 command 15", B(V2SIG "\x2f\x11\x00\x0c"), "command" },
	{ "v2 family 4", B(V2SIG "\x21\x41\x00\x0c"), "family" },
	{ "v2 family 15", B(V2SIG "\x21\xf1\x00\x0c"), "family" },
	{ "v2 transport 3", B(V2SIG "\x21\x13\x00\x0c"), "transport" },
	{ "v2 UDP", B(V2SIG "\x21\x12\x00\x0c"), "datagram" },
	{ "v2 length 65535", B(V2SIG "\x21\x11\xff\xff"), "too long" },
	{ "v2 length 521", B(V2SIG "\x21\x11\x02\x09"), "too long" },
	{ "v2 LOCAL length 65535", B(V2SIG "\x20\x00\xff\xff"), "too long" },
	{ "v2 TCP4 block short", B(V2SIG "\x21\x11\x00\x08"
	    "\x0a\x00\x00\x05" "\x0a\x00\x00\x01"), "too short" },
	{ "v2 TCP6 block short", B(V2SIG "\x21\x21\x00\x0c"
	    "\x0a\x00\x00\x05" "\x0a\x00\x00\x01" "\x04\xd2" "\x0c\x38"),
	    "too short" },
	{ "v2 TLV past the end", B(V2SIG "\x21\x11\x00\x10"
	    "\x0a\x00\x00\x05" "\x0a\x00\x00\x01" "\x04\xd2" "\x0c\x38"
	    "\x01\x00\x02" "h"), "TLV" },
	{ "v2 TLV head cut", B(V2SIG "\x21\x11\x00\x0e"
	    "\x0a\x00\x00\x05" "\x0a\x00\x00\x01" "\x04\xd2" "\x0c\x38"
	    "\x01\x00"), "TLV" },
	{ "v2 TLV length 65535", B(V2SIG "\x21\x11\x00\x0f"
	    "\x0a\x00\x00\x05" "\x0a\x00\x00\x01" "\x04\xd2" "\x0c\x38"
	    "\x01\xff\xff"), "TLV" },
};

static void
expect_src(const struct good_case *g, const struct proxyproto_result *r)
{
	char	text[NET_ADDRSTR];

	if (g->src == NULL) {
		ck_assert_msg(r->local, "%s: not local", g->name);
		return;
	}
	ck_assert_msg(!r->local, "%s: local", g->name);
	net_format((const struct sockaddr *)&r->src, text, sizeof(text));
	ck_assert_msg(strcmp(text, g->src) == 0, "%s: client %s, not %s",
	    g->name, text, g->src);
	ck_assert_uint_eq(r->srclen, r->src.ss_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
}

/* The whole header, and the connection's first bytes after it. */
START_TEST(test_good)
{
	const struct good_case		*g = &goods[_i];
	struct proxyproto_result	 r;
	char				 buf[1024];
	size_t				 i, n;

	for (i = 0; i < NELEM(trailers); i++) {
		memcpy(buf, g->hdr, g->hdrlen);
		n = strlen(trailers[i]);
		memcpy(buf + g->hdrlen, trailers[i], n);
		ck_assert_msg(proxyproto_parse(buf, g->hdrlen + n, &r) ==
		    PROXYPROTO_OK, "%s: %s", g->name, r.reason);
		ck_assert_uint_eq(r.len, g->hdrlen);
		ck_assert_int_eq(r.version, g->version);
		expect_src(g, &r);
	}
}
END_TEST

/* Every proper prefix of a valid header asks for more, nothing else. */
START_TEST(test_truncated)
{
	const struct good_case		*g = &goods[_i];
	struct proxyproto_result	 r;
	size_t				 k;

	for (k = 0; k < g->hdrlen; k++)
		ck_assert_msg(proxyproto_parse(g->hdr, k, &r) ==
		    PROXYPROTO_NEED_MORE, "%s: cut at %zu: %s", g->name, k,
		    r.reason != NULL ? r.reason : "OK");
}
END_TEST

/* Refused, with the reason; no prefix of it is ever taken as a header. */
START_TEST(test_bad)
{
	const struct bad_case		*b = &bads[_i];
	struct proxyproto_result	 r;
	size_t				 k;

	ck_assert_msg(proxyproto_parse(b->in, b->len, &r) == PROXYPROTO_BAD,
	    "%s: not refused", b->name);
	ck_assert_msg(r.reason != NULL && strstr(r.reason, b->reason) != NULL,
	    "%s: reason \"%s\", not \"%s\"", b->name, r.reason, b->reason);
	for (k = 0; k < b->len; k++)
		ck_assert_msg(proxyproto_parse(b->in, k, &r) != PROXYPROTO_OK,
		    "%s: a header at %zu", b->name, k);
}
END_TEST

/* A v2 header of TCP4 addresses and then `tlv` bytes of one NOOP TLV. */
static size_t
v2_noop(unsigned char *buf, size_t tlv)
{
	static const unsigned char	head[] = { V2SIG "\x21\x11" };
	size_t				addrlen = 12 + tlv;

	memcpy(buf, head, 14);
	buf[14] = (unsigned char)(addrlen >> 8);
	buf[15] = (unsigned char)addrlen;
	memset(buf + 16, 0x7f, 12);
	buf[28] = 0x04;
	buf[29] = (unsigned char)((tlv - 3) >> 8);
	buf[30] = (unsigned char)(tlv - 3);
	memset(buf + 31, 0, tlv - 3);
	return 16 + addrlen;
}

/* The bound is the smallest segment, 536 bytes: met, then passed. */
START_TEST(test_v2_bound)
{
	unsigned char			buf[PROXYPROTO_MAX + 64];
	struct proxyproto_result	r;
	size_t				n;

	n = v2_noop(buf, PROXYPROTO_MAX - 16 - 12);
	ck_assert_uint_eq(n, PROXYPROTO_MAX);
	ck_assert_int_eq(proxyproto_parse(buf, n, &r), PROXYPROTO_OK);
	ck_assert_uint_eq(r.len, PROXYPROTO_MAX);
	ck_assert_int_eq(proxyproto_parse(buf, n - 1, &r),
	    PROXYPROTO_NEED_MORE);
	n = v2_noop(buf, PROXYPROTO_MAX - 16 - 12 + 1);
	ck_assert_int_eq(proxyproto_parse(buf, 16, &r), PROXYPROTO_BAD);
	ck_assert_str_eq(r.reason, "v2: header too long");
}
END_TEST

/* AF_UNIX addresses (216 bytes) are the balancer's business: local. */
START_TEST(test_v2_unix)
{
	unsigned char			buf[16 + 216 + 8];
	struct proxyproto_result	r;

	memcpy(buf, V2SIG "\x21\x31\x00\xd8", 16);
	memset(buf + 16, 'u', 216);
	memcpy(buf + 16 + 216, "CONNECT ", 8);
	ck_assert_int_eq(proxyproto_parse(buf, 16 + 100, &r),
	    PROXYPROTO_NEED_MORE);
	ck_assert_int_eq(proxyproto_parse(buf, sizeof(buf), &r),
	    PROXYPROTO_OK);
	ck_assert_uint_eq(r.len, 16 + 216);
	ck_assert(r.local);
}
END_TEST

/* A v1 line is refused at its 106th byte without a CR: not later. */
START_TEST(test_v1_bound)
{
	char				buf[PROXYPROTO_V1_MAX + 1];
	struct proxyproto_result	r;

	memset(buf, 'f', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	ck_assert_int_eq(proxyproto_parse(buf, PROXYPROTO_V1_MAX - 2, &r),
	    PROXYPROTO_NEED_MORE);
	ck_assert_int_eq(proxyproto_parse(buf, PROXYPROTO_V1_MAX - 1, &r),
	    PROXYPROTO_BAD);
	buf[PROXYPROTO_V1_MAX - 2] = '\r';
	ck_assert_int_eq(proxyproto_parse(buf, PROXYPROTO_V1_MAX - 1, &r),
	    PROXYPROTO_NEED_MORE);
	buf[PROXYPROTO_V1_MAX - 1] = '\n';
	ck_assert_int_eq(proxyproto_parse(buf, sizeof(buf), &r),
	    PROXYPROTO_OK);
	ck_assert_uint_eq(r.len, PROXYPROTO_V1_MAX);
}
END_TEST

Suite *
proxyproto_suite(void)
{
	Suite	*s = suite_create("proxyproto_parse");
	TCase	*tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_good, 0, (int)NELEM(goods));
	tcase_add_loop_test(tc, test_truncated, 0, (int)NELEM(goods));
	tcase_add_loop_test(tc, test_bad, 0, (int)NELEM(bads));
	tcase_add_test(tc, test_v2_bound);
	tcase_add_test(tc, test_v2_unix);
	tcase_add_test(tc, test_v1_bound);
	suite_add_tcase(s, tc);
	return s;
}
