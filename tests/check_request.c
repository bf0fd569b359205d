/* SPDX-License-Identifier: ISC */
/*
 * Tests for request.c: table-driven cases for the request line, the
 * target, the fields and the framing fields (every parser probe of
 * reference/rfc-connect.md C01-C39, named by its number), then limits,
 * prefixes, early tunnel data and a bounded mutation run.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "request.h"
#include "suites.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define H	"Host: h\r\n"
#define CRLF	"\r\n"
/* A CONNECT to target t that is otherwise valid. */
#define TGT(t)	"CONNECT " t " HTTP/1.1\r\nHost: h\r\n\r\n"
/* A valid request line followed by the field lines f. */
#define FLD(f)	"CONNECT h:443 HTTP/1.1\r\n" f "\r\n"

struct pcase {
	const char		*name;
	const char		*in;
	size_t			 len;		/* 0: strlen(in) */
	enum request_result	 res;
	int			 status;
	const char		*host;
	enum request_host_kind	 kind;
	unsigned		 port;
	int			 minor;
};

#define T_OK(n, in, h, k, p) \
	{ n, in, 0, REQUEST_OK, 0, h, REQUEST_HOST_##k, p, 1 }
#define T_OK10(n, in, h, k, p) \
	{ n, in, 0, REQUEST_OK, 0, h, REQUEST_HOST_##k, p, 0 }
#define T_BAD(n, in, st) \
	{ n, in, 0, REQUEST_BAD, st, NULL, REQUEST_HOST_NAME, 0, 0 }
/* For inputs holding a NUL: in must be a string literal. */
#define T_BADL(n, in, st) \
	{ n, in, sizeof(in) - 1, REQUEST_BAD, st, NULL, REQUEST_HOST_NAME, \
	    0, 0 }

static const struct request_limits deflim = { 8192, 100, 0 };

/* --- request line: method, shape, version -------------------------- */

static const struct pcase line_cases[] = {
	T_OK("basic", "CONNECT example.com:443 HTTP/1.1\r\n"
	    "Host: example.com:443\r\n\r\n", "example.com", NAME, 443),
	T_OK("RFC 9110 example", "CONNECT server.example.com:80 HTTP/1.1\r\n"
	    "Host: server.example.com\r\n\r\n", "server.example.com", NAME, 80),
	T_OK10("HTTP/1.0 without Host", "CONNECT h:443 HTTP/1.0\r\n\r\n",
	    "h", NAME, 443),
	T_OK10("HTTP/1.0 with Host", "CONNECT h:443 HTTP/1.0\r\n" H CRLF,
	    "h", NAME, 443),
	T_OK("HTTP/1.9 served as 1.1", "CONNECT h:443 HTTP/1.9\r\n" H CRLF,
	    "h", NAME, 443),
	T_OK("LF-only line ends", "CONNECT h:443 HTTP/1.1\nHost: h\n\n",
	    "h", NAME, 443),
	T_OK("mixed line ends", "CONNECT h:443 HTTP/1.1\nHost: h\r\n\n",
	    "h", NAME, 443),
	T_OK("C17 one leading CRLF", "\r\nCONNECT h:443 HTTP/1.1\r\n" H CRLF,
	    "h", NAME, 443),
	T_OK("C17 leading CRLF and LF", "\r\n\n\r\nCONNECT h:443 HTTP/1.1\r\n"
	    H CRLF, "h", NAME, 443),
	T_BAD("C09 lowercase connect", "connect h:443 HTTP/1.1\r\n" H CRLF,
	    501),
	T_BAD("C09 mixed-case Connect", "Connect h:443 HTTP/1.1\r\n" H CRLF,
	    501),
	T_BAD("C02 GET authority-form", "GET example.com:443 HTTP/1.1\r\n"
	    H CRLF, 405),
	T_BAD("C10 GET absolute-form", "GET http://h/ HTTP/1.1\r\n" H CRLF,
	    405),
	T_BAD("C10 HEAD", "HEAD / HTTP/1.1\r\n" H CRLF, 405),
	T_BAD("C10 POST", "POST / HTTP/1.1\r\n" H CRLF, 405),
	T_BAD("C10 PUT", "PUT / HTTP/1.1\r\n" H CRLF, 405),
	T_BAD("C10 DELETE", "DELETE / HTTP/1.1\r\n" H CRLF, 405),
	T_BAD("C10 OPTIONS", "OPTIONS * HTTP/1.1\r\n" H CRLF, 405),
	T_BAD("C10 TRACE", "TRACE / HTTP/1.1\r\n" H CRLF, 405),
	T_BAD("C10 PATCH", "PATCH / HTTP/1.1\r\n" H CRLF, 405),
	T_BAD("C10 unknown BREW", "BREW h:443 HTTP/1.1\r\n" H CRLF, 501),
	T_BAD("C10 unknown get", "get / HTTP/1.1\r\n" H CRLF, 501),
	T_BAD("C06 CONNECTX", "CONNECTX h:443 HTTP/1.1\r\n" H CRLF, 501),
	T_BAD("C06 PROPFIND", "PROPFIND / HTTP/1.1\r\n" H CRLF, 501),
	T_BAD("C06 very long method", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAAAAA h:443 HTTP/1.1\r\n" H CRLF, 501),
	T_BAD("method not a token", "CON(NECT h:443 HTTP/1.1\r\n" H CRLF,
	    400),
	T_BAD("method with CTL", "CON\x01 h:443 HTTP/1.1\r\n" H CRLF, 400),
	T_BAD("empty method", " h:443 HTTP/1.1\r\n" H CRLF, 400),
	T_BADL("NUL in method", "CON\0NECT h:443 HTTP/1.1\r\n" H CRLF, 400),
	T_BAD("C19 TLS ClientHello to proxy", "\x16\x03\x01\x02\x00\x01", 400),
	T_BAD("C05 tab after method", "CONNECT\th:443 HTTP/1.1\r\n" H CRLF,
	    400),
	T_BAD("C05 double space after method", "CONNECT  h:443 HTTP/1.1\r\n"
	    H CRLF, 400),
	T_BAD("C05 double space before version", "CONNECT h:443  HTTP/1.1\r\n"
	    H CRLF, 400),
	T_BAD("C05 tab before version", "CONNECT h:443\tHTTP/1.1\r\n" H CRLF,
	    400),
	T_BAD("C05 space inside target", "CONNECT h :443 HTTP/1.1\r\n" H CRLF,
	    400),
	T_BAD("C05 trailing space", "CONNECT h:443 HTTP/1.1 \r\n" H CRLF, 400),
	T_BAD("no version", "CONNECT h:443\r\n" H CRLF, 400),
	T_BAD("method only", "CONNECT\r\n" H CRLF, 400),
	T_BAD("C16 bare CR ends request line", "CONNECT h:443 HTTP/1.1\r"
	    H CRLF, 400),
	T_BAD("C16 bare CR before request line", "\rCONNECT h:443 HTTP/1.1\r\n"
	    H CRLF, 400),
	T_BAD("C11 HTTP/2.0", "CONNECT h:443 HTTP/2.0\r\n" H CRLF, 505),
	T_BAD("C11 HTTP/0.9", "CONNECT h:443 HTTP/0.9\r\n" H CRLF, 505),
	T_BAD("C11 HTTP/3.0", "CONNECT h:443 HTTP/3.0\r\n" H CRLF, 505),
	T_BAD("version lowercase", "CONNECT h:443 http/1.1\r\n" H CRLF, 400),
	T_BAD("version HTTP/1", "CONNECT h:443 HTTP/1\r\n" H CRLF, 400),
	T_BAD("version HTTP/11.1", "CONNECT h:443 HTTP/11.1\r\n" H CRLF, 400),
	T_BAD("version HTTP/1.1.1", "CONNECT h:443 HTTP/1.1.1\r\n" H CRLF,
	    400),
	T_BAD("version HTTP/1.a", "CONNECT h:443 HTTP/1.a\r\n" H CRLF, 400),
	T_BAD("version HTTPS/1.1", "CONNECT h:443 HTTPS/1.1\r\n" H CRLF, 400),
	T_BAD("version HTTP/2", "CONNECT h:443 HTTP/2\r\n" H CRLF, 400),
	/*
	 * RFC 9112 3: an invalid request-line is 400, whatever its first
	 * word; a method is judged (405, 501) only on a valid line.
	 */
	T_BAD("invalid line HELLO WORLD", "HELLO WORLD\r\n\r\n", 400),
	T_BAD("invalid line HELLO WORLD LF", "HELLO WORLD\n\n", 400),
	T_BAD("invalid line unknown method only", "BREW\r\n\r\n", 400),
	T_BAD("invalid line GET without version", "GET /\r\n" H CRLF, 400),
	T_BAD("invalid line GET bad version", "GET / HTTP/1\r\n" H CRLF,
	    400),
	T_BAD("invalid line unknown, lowercase version", "BREW / http/1.1\r\n"
	    H CRLF, 400),
	T_BAD("invalid line unknown, double space", "BREW  / HTTP/1.1\r\n"
	    H CRLF, 400),
	T_BAD("invalid line unknown, trailing space", "BREW / HTTP/1.1 \r\n"
	    H CRLF, 400),
	T_BAD("invalid line unknown, bare CR", "BREW / HTTP/1.1\r" H CRLF,
	    400),
	T_BAD("invalid line unknown, 8-bit target", "BREW /\x80 HTTP/1.1\r\n"
	    H CRLF, 400),
	T_BAD("invalid line long method, no version", "AAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAA x\r\n\r\n", 400),
	T_BAD("valid line GET HTTP/2.0", "GET / HTTP/2.0\r\n" H CRLF, 405),
	T_BAD("valid line unknown HTTP/2.0", "BREW / HTTP/2.0\r\n" H CRLF,
	    501),
	T_BAD("valid line unknown, LF only", "BREW / HTTP/1.1\n\n", 501),
	T_BAD("valid line unknown, long target", "BREW /" "0123456789"
	    "0123456789012345678901234567890123456789012345678901234567890123"
	    "4567890123456789012345678901234567890123456789012345678901234567"
	    "8901234567890123456789012345678901234567890123456789012345678901"
	    "2345678901234567890123456789 HTTP/1.1\r\n" H CRLF, 501),
};

/* --- request-target: authority-form, host and port ---------------- */

static const struct pcase target_cases[] = {
	T_OK("C14 uppercase name lowercased", TGT("ExAmPle.COM:443"),
	    "example.com", NAME, 443),
	T_OK("C14 trailing dot removed", TGT("example.com.:443"),
	    "example.com", NAME, 443),
	T_OK("C14 underscore and hyphen", TGT("_a-b.x_y.example:443"),
	    "_a-b.x_y.example", NAME, 443),
	T_OK("C14 digit-led labels", TGT("1e100.net:443"), "1e100.net",
	    NAME, 443),
	T_OK("C14 numeric label, name TLD", TGT("123.example:443"),
	    "123.example", NAME, 443),
	T_OK("C14 numeric TLD after a name", TGT("example.123:443"),
	    "example.123", NAME, 443),
	T_OK("hex letters without 0x are a name", TGT("deadbeef:443"),
	    "deadbeef", NAME, 443),
	T_OK("0x label then a name", TGT("0xcafe.com:443"), "0xcafe.com",
	    NAME, 443),
	T_OK("C12 IPv4 loopback", TGT("127.0.0.1:443"), "127.0.0.1", IPV4,
	    443),
	T_OK("IPv4 broadcast", TGT("255.255.255.255:443"), "255.255.255.255",
	    IPV4, 443),
	T_OK("IPv4 zero", TGT("0.0.0.0:443"), "0.0.0.0", IPV4, 443),
	T_OK("C12 IPv6 loopback", TGT("[::1]:443"), "::1", IPV6, 443),
	T_OK("IPv6 normalised", TGT("[2001:DB8:0:0::0:1]:443"), "2001:db8::1",
	    IPV6, 443),
	T_OK("IPv6 full form", TGT("[0:0:0:0:0:0:0:1]:8443"), "::1", IPV6,
	    8443),
	T_OK("IPv6 mapped IPv4", TGT("[::FFFF:127.0.0.1]:443"),
	    "::ffff:127.0.0.1", IPV6, 443),
	T_OK("port 1", TGT("h:1"), "h", NAME, 1),
	T_OK("port 65535", TGT("h:65535"), "h", NAME, 65535),
	T_OK("port 0443 is 443", TGT("h:0443"), "h", NAME, 443),
	T_OK("port 00443 is 443", TGT("h:00443"), "h", NAME, 443),
	T_OK("IPv6 port 00001", TGT("[::1]:00001"), "::1", IPV6, 1),
	T_OK("C31 route on target, not Host", "CONNECT a.example:443 HTTP/1.1"
	    "\r\nHost: b.example:8443\r\n\r\n", "a.example", NAME, 443),
	T_BAD("C01 no port", TGT("example.com"), 400),
	T_BAD("C01 empty port", TGT("example.com:"), 400),
	T_BAD("C01 port 0", TGT("example.com:0"), 400),
	T_BAD("C01 port 00000", TGT("example.com:00000"), 400),
	T_BAD("C01 port 65536", TGT("example.com:65536"), 400),
	T_BAD("C01 port 99999", TGT("example.com:99999"), 400),
	T_BAD("C01 port 000443 (6 digits)", TGT("example.com:000443"), 400),
	T_BAD("C01 port 44x3", TGT("example.com:44x3"), 400),
	T_BAD("C01 port -1", TGT("example.com:-1"), 400),
	T_BAD("C01 port +443", TGT("example.com:+443"), 400),
	T_BAD("C01 two ports", TGT("example.com:443:443"), 400),
	T_BAD("C03 userinfo", TGT("user@h:443"), 400),
	T_BAD("C03 userinfo with password", TGT("user:pw@h:443"), 400),
	T_BAD("C03 scheme", TGT("http://h:443"), 400),
	T_BAD("C03 path", TGT("h:443/"), 400),
	T_BAD("C03 origin-form", TGT("/index.html"), 400),
	T_BAD("C03 asterisk-form", TGT("*"), 400),
	T_BAD("C04 empty host", TGT(":443"), 400),
	T_BAD("C12 IPv6 without brackets", TGT("::1:443"), 400),
	T_BAD("C12 IPv6 unbracketed name-ish", TGT("fe80::1:443"), 400),
	T_BAD("C12 bracketed IPv6, no port", TGT("[::1]"), 400),
	T_BAD("C12 bracketed IPv6, empty port", TGT("[::1]:"), 400),
	T_BAD("C12 bracketed IPv6, port 0", TGT("[::1]:0"), 400),
	T_BAD("C12 no colon after bracket", TGT("[::1]443"), 400),
	T_BAD("C12 zone id %25", TGT("[fe80::1%25eth0]:443"), 400),
	T_BAD("C12 zone id %", TGT("[fe80::1%eth0]:443"), 400),
	T_BAD("C12 IPvFuture", TGT("[v1.x]:443"), 400),
	T_BAD("C12 IPvFuture uppercase", TGT("[V7.abc]:443"), 400),
	T_BAD("C12 unclosed bracket", TGT("[::1:443"), 400),
	T_BAD("C12 empty brackets", TGT("[]:443"), 400),
	T_BAD("C12 bad IPv6", TGT("[::g]:443"), 400),
	T_BAD("C12 IPv4 in brackets", TGT("[127.0.0.1]:443"), 400),
	T_BAD("C12 bracket inside name", TGT("a[::1]:443"), 400),
	T_BAD("C13 127.1", TGT("127.1:443"), 400),
	T_BAD("C13 0x7f.1", TGT("0x7f.1:443"), 400),
	T_BAD("C13 0X7F.1 uppercase", TGT("0X7F.1:443"), 400),
	T_BAD("C13 2130706433", TGT("2130706433:443"), 400),
	T_BAD("C13 0x7f000001", TGT("0x7f000001:443"), 400),
	T_BAD("C13 010.0.0.1 octal", TGT("010.0.0.1:443"), 400),
	T_BAD("C13 0177.0.0.1 octal", TGT("0177.0.0.1:443"), 400),
	T_BAD("C13 127.0.0.01", TGT("127.0.0.01:443"), 400),
	T_BAD("C13 0x7f.0.0.1", TGT("0x7f.0.0.1:443"), 400),
	T_BAD("C13 1.2.3.4.5", TGT("1.2.3.4.5:443"), 400),
	T_BAD("C13 1.2.3", TGT("1.2.3:443"), 400),
	T_BAD("C13 256.1.1.1", TGT("256.1.1.1:443"), 400),
	T_BAD("C13 IPv4 with trailing dot", TGT("127.0.0.1.:443"), 400),
	T_BAD("C13 bare 0x", TGT("0x:443"), 400),
	T_BAD("C14 invalid char !", TGT("ex!ample.com:443"), 400),
	T_BAD("C14 tilde", TGT("ex~ample.com:443"), 400),
	T_BAD("C14 comma", TGT("a,b:443"), 400),
	T_BAD("C14 leading hyphen", TGT("-a.com:443"), 400),
	T_BAD("C14 trailing hyphen", TGT("a-.com:443"), 400),
	T_BAD("C14 empty label", TGT("a..com:443"), 400),
	T_BAD("C14 leading dot", TGT(".a.com:443"), 400),
	T_BAD("C14 dot only", TGT(".:443"), 400),
	T_BAD("C14 two trailing dots", TGT("a.com..:443"), 400),
	T_BAD("C14 percent-encoded", TGT("ex%41mple.com:443"), 400),
	T_BAD("C15 UTF-8 in target", TGT("caf\xc3\xa9.com:443"), 400),
	T_BAD("C15 DEL in target", TGT("a\x7f" "b:443"), 400),
};

/* --- field lines --------------------------------------------------- */

static const struct pcase field_cases[] = {
	T_OK("Host case-insensitive", FLD("HOST: h\r\n"), "h", NAME, 443),
	T_OK("Host without OWS", FLD("Host:h\r\n"), "h", NAME, 443),
	T_OK("C23 OWS trimmed", FLD("Host: \t h \t \r\n"), "h", NAME, 443),
	T_OK("Host with port", FLD("Host: h:443\r\n"), "h", NAME, 443),
	T_OK("Host with empty port", FLD("Host: h:\r\n"), "h", NAME, 443),
	T_OK("Host IPv6", FLD("Host: [::1]:443\r\n"), "h", NAME, 443),
	T_OK("Host IPv4", FLD("Host: 127.0.0.1\r\n"), "h", NAME, 443),
	T_OK("usual curl fields", FLD(H "User-Agent: curl/8.5.0\r\n"
	    "Proxy-Connection: Keep-Alive\r\n"), "h", NAME, 443),
	T_OK("C15 obs-text in a value", FLD(H "X-Note: caf\xc3\xa9\r\n"),
	    "h", NAME, 443),
	T_OK("HTAB inside a value", FLD(H "X-A: a\tb\r\n"), "h", NAME, 443),
	T_OK("empty value", FLD(H "X-Empty:\r\n"), "h", NAME, 443),
	T_OK("every tchar in a name", FLD(H "X!#$%&'*+-.^_`|~1: v\r\n"),
	    "h", NAME, 443),
	T_OK("Expect ignored", FLD(H "Expect: 100-continue\r\n"), "h", NAME,
	    443),
	T_BAD("C18 space before first field", FLD(" Host: h\r\n"), 400),
	T_BAD("C18 tab before first field", FLD("\tHost: h\r\n"), 400),
	T_BAD("C20 space before colon", FLD("Host : h\r\n"), 400),
	T_BAD("C20 tab before colon", FLD("Host\t: h\r\n"), 400),
	T_BAD("C21 obs-fold", FLD(H "X-A: a\r\n b\r\n"), 400),
	T_BAD("C21 obs-fold with tab", FLD(H "X-A: a\r\n\tb\r\n"), 400),
	T_BADL("C22 NUL in value", FLD(H "X-A: a\0b\r\n"), 400),
	T_BAD("C16 bare CR in value", FLD(H "X-A: a\rb\r\n"), 400),
	T_BAD("C16 bare CR ends field", FLD(H "X-A: a\rX-B: b\r\n"), 400),
	T_BAD("C16 bare CR as empty line", "CONNECT h:443 HTTP/1.1\r\n" H
	    "\r\r\n", 400),
	T_BAD("C22 CTL in value", FLD(H "X-A: a\x01" "b\r\n"), 400),
	T_BAD("C22 DEL in value", FLD(H "X-A: a\x7f" "b\r\n"), 400),
	T_BAD("C25 space in name", FLD(H "Ho st: x\r\n"), 400),
	T_BAD("C25 CTL in name", FLD(H "Host\x01: x\r\n"), 400),
	T_BADL("C25 NUL in name", FLD(H "Ho\0st: x\r\n"), 400),
	T_BAD("C25 empty name", FLD(H ": x\r\n"), 400),
	T_BAD("C25 no colon", FLD(H "Host\r\n"), 400),
	T_BAD("C25 separator in name", FLD(H "X(y): z\r\n"), 400),
	T_BAD("C25 non-ASCII name", FLD(H "H\xc3\xb4st: x\r\n"), 400),
	T_BAD("C29 HTTP/1.1 without Host", FLD(""), 400),
	T_BAD("C29 HTTP/1.9 without Host", "CONNECT h:443 HTTP/1.9\r\n\r\n",
	    400),
	T_BAD("C30 two Host", FLD(H H), 400),
	T_BAD("C30 two Host, other case", FLD(H "host: h\r\n"), 400),
	T_BAD("C30 two Host on HTTP/1.0", "CONNECT h:443 HTTP/1.0\r\n" H H
	    CRLF, 400),
	T_BAD("C30 empty Host", FLD("Host:\r\n"), 400),
	T_BAD("C30 Host userinfo", FLD("Host: u@h\r\n"), 400),
	T_BAD("C30 Host path", FLD("Host: h/p\r\n"), 400),
	T_BAD("C30 Host two words", FLD("Host: h h\r\n"), 400),
	T_BAD("C30 Host bad port", FLD("Host: h:x\r\n"), 400),
	T_BAD("C30 Host long port", FLD("Host: h:123456\r\n"), 400),
	T_BAD("C30 Host unbracketed IPv6", FLD("Host: ::1\r\n"), 400),
	T_BAD("C30 Host zone id", FLD("Host: [fe80::1%eth0]\r\n"), 400),
	T_BAD("C30 Host legacy IPv4", FLD("Host: 127.1\r\n"), 400),
	T_BAD("C30 Host with URI", FLD("Host: http://h\r\n"), 400),
};

/* --- framing fields and Proxy-Authorization ----------------------- */

static const struct pcase framing_cases[] = {
	T_OK("Content-Length 0", FLD(H "Content-Length: 0\r\n"), "h", NAME,
	    443),
	T_OK("two Content-Length 0", FLD(H "Content-Length: 0\r\n"
	    "content-length:0\r\n"), "h", NAME, 443),
	T_OK("Proxy-Authorization", FLD(H "Proxy-Authorization: Basic "
	    "dTpw\r\n"), "h", NAME, 443),
	T_BAD("C33 Content-Length 5", FLD(H "Content-Length: 5\r\n"), 400),
	T_BAD("C33 Content-Length 00", FLD(H "Content-Length: 00\r\n"), 400),
	T_BAD("C33 Content-Length list", FLD(H "Content-Length: 0, 0\r\n"),
	    400),
	T_BAD("C33 Content-Length 0 then 5", FLD(H "Content-Length: 0\r\n"
	    "Content-Length: 5\r\n"), 400),
	T_BAD("C36 Content-Length abc", FLD(H "Content-Length: abc\r\n"), 400),
	T_BAD("C36 Content-Length -1", FLD(H "Content-Length: -1\r\n"), 400),
	T_BAD("C36 Content-Length empty", FLD(H "Content-Length:\r\n"), 400),
	T_BAD("C33 Transfer-Encoding chunked", FLD(H "Transfer-Encoding: "
	    "chunked\r\n"), 400),
	T_BAD("C35 Transfer-Encoding gzip", FLD(H "Transfer-Encoding: "
	    "gzip\r\n"), 400),
	T_BAD("C35 Transfer-Encoding empty", FLD(H "transfer-encoding:\r\n"),
	    400),
	T_BAD("C34 CL and TE", FLD(H "Content-Length: 0\r\n"
	    "Transfer-Encoding: chunked\r\n"), 400),
	T_BAD("C37 HTTP/1.0 with TE", "CONNECT h:443 HTTP/1.0\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400),
	T_BAD("duplicate Proxy-Authorization", FLD(H "Proxy-Authorization: "
	    "Basic dTpw\r\nProxy-Authorization: Basic eDp5\r\n"), 400),
};

static const struct {
	const char		*name;
	const struct pcase	*cases;
	size_t			 n;
} tables[] = {
	{ "line", line_cases, NELEM(line_cases) },
	{ "target", target_cases, NELEM(target_cases) },
	{ "field", field_cases, NELEM(field_cases) },
	{ "framing", framing_cases, NELEM(framing_cases) },
};

static size_t
case_len(const struct pcase *c)
{
	return c->len != 0 ? c->len : strlen(c->in);
}

static int
is_known_status(int status)
{
	return status == 400 || status == 405 || status == 414 ||
	    status == 431 || status == 501 || status == 505;
}

/* *why is a fixed text: non-empty and never a pointer into the request. */
static void
check_why(const char *name, const char *buf, size_t len, const char *why)
{
	uintptr_t	w = (uintptr_t)why, b = (uintptr_t)buf;

	ck_assert_msg(why != NULL && why[0] != '\0', "%s: no why", name);
	ck_assert_msg(w < b || w >= b + len, "%s: why points into request",
	    name);
}

static void
run_case(const struct pcase *c)
{
	struct request		 req;
	enum request_result	 r;
	const char		*why;
	size_t			 len = case_len(c);
	int			 status;

	r = request_parse(c->in, len, &deflim, &req, &status, &why);
	ck_assert_msg(r == c->res, "%s: result %d, want %d (status %d, %s)",
	    c->name, r, c->res, status, why ? why : "-");
	if (r == REQUEST_BAD) {
		ck_assert_msg(status == c->status,
		    "%s: status %d, want %d (%s)", c->name, status,
		    c->status, why);
		check_why(c->name, c->in, len, why);
		return;
	}
	ck_assert_msg(strcmp(req.host, c->host) == 0, "%s: host \"%s\"",
	    c->name, req.host);
	ck_assert_msg(req.host_kind == c->kind, "%s: kind %d", c->name,
	    req.host_kind);
	ck_assert_msg(req.port == c->port, "%s: port %u", c->name,
	    (unsigned)req.port);
	ck_assert_msg(req.version_minor == c->minor, "%s: minor %d", c->name,
	    req.version_minor);
	ck_assert_msg(req.head_len == len, "%s: head_len %zu of %zu", c->name,
	    req.head_len, len);
}

START_TEST(test_line)
{
	run_case(&line_cases[_i]);
}
END_TEST

START_TEST(test_target)
{
	run_case(&target_cases[_i]);
}
END_TEST

START_TEST(test_field)
{
	run_case(&field_cases[_i]);
}
END_TEST

START_TEST(test_framing)
{
	run_case(&framing_cases[_i]);
}
END_TEST

/*
 * C28, and a verdict never changes as bytes arrive: every strict prefix
 * of a valid head is AGAIN; every prefix of a bad one is AGAIN or the
 * same status.
 */
static void
check_prefixes(const struct pcase *c)
{
	struct request		 req;
	enum request_result	 r;
	const char		*why;
	size_t			 cut, len = case_len(c);
	int			 status;

	for (cut = 0; cut < len; cut++) {
		r = request_parse(c->in, cut, &deflim, &req, &status, &why);
		if (r == REQUEST_AGAIN)
			continue;
		ck_assert_msg(c->res == REQUEST_BAD && r == REQUEST_BAD &&
		    status == c->status, "%s: prefix %zu gives %d/%d",
		    c->name, cut, r, status);
	}
}

START_TEST(test_prefixes)
{
	size_t	i;

	for (i = 0; i < tables[_i].n; i++)
		check_prefixes(&tables[_i].cases[i]);
}
END_TEST

/* C38: bytes after the empty line are tunnel data, never parsed. */
START_TEST(test_early_data)
{
	static const char	 tail[] = "\x16\x03\x01\x00\x05hello"
	    "GET / HTTP/1.1\r\n\r\n\r\n";
	const struct pcase	*c;
	struct request		 req;
	char			 buf[1024];
	const char		*why;
	size_t			 i, len;
	int			 status;

	for (i = 0; i < tables[_i].n; i++) {
		c = &tables[_i].cases[i];
		if (c->res != REQUEST_OK)
			continue;
		len = case_len(c);
		ck_assert(len + sizeof(tail) <= sizeof(buf));
		memcpy(buf, c->in, len);
		memcpy(buf + len, tail, sizeof(tail) - 1);
		ck_assert_msg(request_parse(buf, len + sizeof(tail) - 1,
		    &deflim, &req, &status, &why) == REQUEST_OK, "%s", c->name);
		ck_assert_msg(req.head_len == len, "%s: head_len %zu, want %zu",
		    c->name, req.head_len, len);
	}
}
END_TEST

/*
 * An invalid request line is answered as soon as it is known bad, without
 * waiting for the rest of the head; a valid one waits for the empty line.
 */
static const struct {
	const char		*in;
	enum request_result	 res;
	int			 status;
} early[] = {
	{ "CONNECT", REQUEST_AGAIN, 0 },
	{ "OPTIONS", REQUEST_AGAIN, 0 },
	/* A method is judged once the request-line is whole and valid. */
	{ "CONNECTX", REQUEST_AGAIN, 0 },
	{ "GET ", REQUEST_AGAIN, 0 },
	{ "GET / HTTP/1.1", REQUEST_AGAIN, 0 },
	{ "GET / HTTP/1.1\r\n", REQUEST_BAD, 405 },
	{ "BREW / HTTP/1.1\n", REQUEST_BAD, 501 },
	{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    REQUEST_AGAIN, 0 },
	{ "HELLO WORLD", REQUEST_AGAIN, 0 },
	{ "HELLO WORLD\r", REQUEST_BAD, 400 },
	{ "GET / HTTP/1.1 ", REQUEST_BAD, 400 },
	{ "\r\n\r\nCONNECT h", REQUEST_AGAIN, 0 },
	{ "CONNECT :443 ", REQUEST_BAD, 400 },
	{ "CONNECT h:443 X", REQUEST_BAD, 400 },
	{ "CONNECT h:443 HTTP/1.1\r", REQUEST_AGAIN, 0 },
	{ "CONNECT h:443 HTTP/1.1\r\n", REQUEST_AGAIN, 0 },
	{ "CONNECT h:443 HTTP/2.0\r\n", REQUEST_BAD, 505 },
	{ "CONNECT h:443 HTTP/1.1\r\n ", REQUEST_BAD, 400 },
	{ "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r", REQUEST_AGAIN, 0 },
	{ "CONNECT h:443 HTTP/1.1\r\nHost\r", REQUEST_BAD, 400 },
};

START_TEST(test_early_verdict)
{
	struct request	 req;
	const char	*why;
	int		 status;

	ck_assert_msg(request_parse(early[_i].in, strlen(early[_i].in),
	    &deflim, &req, &status, &why) == early[_i].res, "\"%s\"",
	    early[_i].in);
	ck_assert_msg(status == early[_i].status, "\"%s\": status %d",
	    early[_i].in, status);
}
END_TEST

/* The fixed texts the log and the error body show, for a few causes. */
static const struct {
	const char	*in;
	const char	*why;
} whys[] = {
	{ FLD(""), "missing Host" },
	{ FLD(H H), "duplicate Host" },
	{ FLD("Host: u@h\r\n"), "invalid Host" },
	{ "GET / HTTP/1.1\r\n", "method not allowed" },
	{ "BREW / HTTP/1.1\r\n", "method not implemented" },
	{ "HELLO WORLD\r\n\r\n", "invalid request line" },
	{ "GET / HTTP/1.1x\r\n", "invalid HTTP version" },
	{ TGT("h:0"), "invalid port" },
	{ TGT("h"), "missing port" },
	{ TGT(":443"), "empty host" },
	{ TGT("u@h:443"), "userinfo not allowed" },
	{ TGT("[v1.x]:443"), "IPvFuture not supported" },
	{ TGT("127.1:443"), "invalid IPv4 address" },
	{ TGT("h:443 HTTP/2.0"), "invalid HTTP version" },
	{ "CONNECT h:443 HTTP/2.0\r\n", "HTTP version not supported" },
	{ FLD("Host : h\r\n"), "whitespace before colon" },
	{ FLD(H "X: a\r\n b\r\n"), "obs-fold not allowed" },
	{ FLD(H "Transfer-Encoding: chunked\r\n"),
	    "Transfer-Encoding not allowed" },
};

START_TEST(test_why)
{
	struct request	 req;
	const char	*why;
	int		 status;

	ck_assert_int_eq(request_parse(whys[_i].in, strlen(whys[_i].in),
	    &deflim, &req, &status, &why), REQUEST_BAD);
	ck_assert_str_eq(why, whys[_i].why);
}
END_TEST

/* --- request_name_check: the one host-name rule ------------------- */

#define L63	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		"aaaaaaaaa"

static const struct {
	const char	*name;
	size_t		 n;	/* 0: strlen(name) */
	const char	*why;	/* NULL: a host name */
} names[] = {
	{ "a", 0, NULL },
	{ "example.com", 0, NULL },
	{ "ExAmPle.COM", 0, NULL },
	{ "a-b.example", 0, NULL },
	{ "a--b.example", 0, NULL },
	{ "xn--bcher-kva.example", 0, NULL },
	{ "_sip._tcp.example", 0, NULL },
	{ "_", 0, NULL },
	{ "a_-b", 0, NULL },
	{ "1e100.net", 0, NULL },
	{ "123.example", 0, NULL },
	{ L63 ".example", 0, NULL },
	{ "a.com-", 5, NULL },			/* only n octets are read */
	{ "-a.example", 0, "invalid host name label" },
	{ "a-.example", 0, "invalid host name label" },
	{ "a.-b.example", 0, "invalid host name label" },
	{ "a.b-", 0, "invalid host name label" },
	{ "-", 0, "invalid host name label" },
	{ "a..b", 0, "invalid host name label" },
	{ ".a", 0, "invalid host name label" },
	{ "a.", 0, "invalid host name label" },
	{ "", 0, "invalid host name label" },
	{ L63 "a.example", 0, "invalid host name label" },
	{ "ex!ample.com", 0, "invalid host name" },
	{ "a b", 0, "invalid host name" },
	{ "a:443", 0, "invalid host name" },
	{ "*.example", 0, "invalid host name" },
	{ "caf\xc3\xa9.example", 0, "invalid host name" },
};

START_TEST(test_name_check)
{
	const char	*why;
	size_t		 n = names[_i].n ? names[_i].n : strlen(names[_i].name);

	why = request_name_check(names[_i].name, n);
	if (names[_i].why == NULL)
		ck_assert_msg(why == NULL, "\"%s\": %s", names[_i].name, why);
	else
		ck_assert_msg(why != NULL && strcmp(why, names[_i].why) == 0,
		    "\"%s\": %s", names[_i].name, why ? why : "valid");
}
END_TEST

/* --- generated lengths: labels, names, targets -------------------- */

static const char	*last_why;

static enum request_result
parse_target(const char *host, const char *port, struct request *req,
    int *status)
{
	static char	 buf[1024];
	int		 n;

	n = snprintf(buf, sizeof(buf), "CONNECT %s:%s HTTP/1.1\r\nHost: h"
	    "\r\n\r\n", host, port);
	ck_assert(n > 0 && (size_t)n < sizeof(buf));
	return request_parse(buf, (size_t)n, &deflim, req, status,
	    &last_why);
}

/* A name of `len' octets: labels of `label' octets joined by dots. */
static void
mkname(char *buf, size_t len, size_t label)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = (i + 1) % (label + 1) == 0 ? '.' : 'a';
	if (len > 0 && buf[len - 1] == '.')
		buf[len - 1] = 'b';
	buf[len] = '\0';
}

START_TEST(test_label_lengths)
{
	struct request	req;
	char		name[300];
	int		status;

	mkname(name, 63, 63);
	ck_assert_int_eq(parse_target(name, "443", &req, &status), REQUEST_OK);
	ck_assert_str_eq(req.host, name);
	mkname(name, 64, 64);
	ck_assert_int_eq(parse_target(name, "443", &req, &status),
	    REQUEST_BAD);
	ck_assert_int_eq(status, 400);
	/* 63-octet label in the middle, 64 in the middle. */
	snprintf(name, sizeof(name), "a.%063d.b", 0);
	ck_assert_int_eq(parse_target(name, "443", &req, &status), REQUEST_OK);
	snprintf(name, sizeof(name), "a.x%063d.b", 0);
	ck_assert_int_eq(parse_target(name, "443", &req, &status),
	    REQUEST_BAD);
}
END_TEST

START_TEST(test_name_lengths)
{
	struct request	req;
	char		name[300];
	int		status;

	mkname(name, 255, 63);
	ck_assert_int_eq(parse_target(name, "443", &req, &status), REQUEST_OK);
	ck_assert_uint_eq(strlen(req.host), 255);
	ck_assert_str_eq(req.host, name);
	/* With its trailing dot: 256 octets on the wire, 255 stored. */
	name[255] = '.';
	name[256] = '\0';
	ck_assert_int_eq(parse_target(name, "65535", &req, &status),
	    REQUEST_OK);
	ck_assert_uint_eq(strlen(req.host), 255);
	mkname(name, 256, 50);
	ck_assert_int_eq(parse_target(name, "443", &req, &status),
	    REQUEST_BAD);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(last_why, "host name too long");
}
END_TEST

/* C07, C08: a target longer than REQUEST_TARGET_MAX is 414, even unended. */
START_TEST(test_target_too_long)
{
	struct request	 req;
	char		 buf[2048], name[REQUEST_TARGET_MAX + 2];
	const char	*why;
	size_t		 n;
	int		 status;

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	n = (size_t)snprintf(buf, sizeof(buf), "CONNECT %s HTTP/1.1\r\n"
	    "Host: h\r\n\r\n", name);
	ck_assert_int_eq(request_parse(buf, n, &deflim, &req, &status, &why),
	    REQUEST_BAD);
	ck_assert_int_eq(status, 414);
	n = (size_t)snprintf(buf, sizeof(buf), "CONNECT %s", name);
	ck_assert_int_eq(request_parse(buf, n, &deflim, &req, &status, &why),
	    REQUEST_BAD);
	ck_assert_int_eq(status, 414);
	/* Exactly REQUEST_TARGET_MAX octets: 400 for its host, not 414. */
	n = (size_t)snprintf(buf, sizeof(buf), "CONNECT %.*s:443 HTTP/1.1"
	    "\r\n", REQUEST_TARGET_MAX - 4, name);
	ck_assert_int_eq(request_parse(buf, n, &deflim, &req, &status, &why),
	    REQUEST_BAD);
	ck_assert_int_eq(status, 400);
}
END_TEST

/* --- limits: header size and field count ---------------------------- */

static const char good[] = "CONNECT h:443 HTTP/1.1\r\nHost: h\r\n"
    "User-Agent: t\r\n\r\n";

START_TEST(test_size_limit)
{
	struct request_limits	 lim = { sizeof(good) - 1, 100, 0 };
	struct request		 req;
	const char		*why;
	int			 status;

	/* A head of exactly the limit fits, even with early data after it. */
	ck_assert_int_eq(request_parse(good, sizeof(good) - 1, &lim, &req,
	    &status, &why), REQUEST_OK);
	ck_assert_int_eq(request_parse("CONNECT h:443 HTTP/1.1\r\nHost: h\r\n"
	    "User-Agent: t\r\n\r\nXYZ", sizeof(good) + 2, &lim, &req, &status,
	    &why), REQUEST_OK);
	ck_assert_uint_eq(req.head_len, sizeof(good) - 1);
	/* One octet less: AGAIN below the limit, 431 at it. */
	lim.max_header_size = sizeof(good) - 2;
	ck_assert_int_eq(request_parse(good, sizeof(good) - 3, &lim, &req,
	    &status, &why), REQUEST_AGAIN);
	ck_assert_int_eq(request_parse(good, sizeof(good) - 2, &lim, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 431);
	ck_assert_int_eq(request_parse(good, sizeof(good) - 1, &lim, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 431);
	/* The limit reached inside the request-target: 414. */
	lim.max_header_size = 12;
	ck_assert_int_eq(request_parse(good, sizeof(good) - 1, &lim, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 414);
	/* So too in another method's target, however long it may be. */
	ck_assert_int_eq(request_parse("GET /aaaaaaaaaaaaaaaaa", 22, &lim, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 414);
	/* A method that fills the whole head: 431, not a guess at 501. */
	ck_assert_int_eq(request_parse("AAAAAAAAAAAAAAAAAAAA", 20, &lim, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 431);
}
END_TEST

START_TEST(test_empty_line_flood)
{
	static char		 buf[8192 + 2];
	struct request		 req;
	const char		*why;
	size_t			 i;
	int			 status;

	for (i = 0; i + 1 < sizeof(buf); i += 2)
		memcpy(buf + i, "\r\n", 2);
	ck_assert_int_eq(request_parse(buf, 100, &deflim, &req, &status,
	    &why), REQUEST_AGAIN);
	ck_assert_int_eq(request_parse(buf, sizeof(buf), &deflim, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 431);
}
END_TEST

/* A head with Host and then nfields - 1 other fields. */
static size_t
mkfields(char *buf, size_t size, unsigned nfields)
{
	size_t		n;
	unsigned	i;

	n = (size_t)snprintf(buf, size, "CONNECT h:443 HTTP/1.1\r\nHost: h"
	    "\r\n");
	for (i = 1; i < nfields; i++)
		n += (size_t)snprintf(buf + n, size - n, "X-%u: v\r\n", i);
	n += (size_t)snprintf(buf + n, size - n, "\r\n");
	ck_assert(n < size);
	return n;
}

START_TEST(test_field_limit)
{
	static const unsigned	 max[] = { 1, 5, 100 };
	struct request_limits	 lim = { 8192, 0, 0 };
	struct request		 req;
	static char		 buf[4096];
	const char		*why;
	size_t			 n;
	int			 status;

	lim.max_header_fields = max[_i];
	n = mkfields(buf, sizeof(buf), max[_i]);
	ck_assert_int_eq(request_parse(buf, n, &lim, &req, &status, &why),
	    REQUEST_OK);
	ck_assert_uint_eq(req.nfields, max[_i]);
	n = mkfields(buf, sizeof(buf), max[_i] + 1);
	ck_assert_int_eq(request_parse(buf, n, &lim, &req, &status, &why),
	    REQUEST_BAD);
	ck_assert_int_eq(status, 431);
}
END_TEST

/* --- Proxy-Authorization -------------------------------------------- */

START_TEST(test_proxy_auth)
{
	static const char	 in[] = FLD(H "proxy-AUTHORIZATION: \t Basic "
	    "dXNlcjpwYXNz \t\r\nX-A: b\r\n");
	static const char	 empty[] = FLD(H "Proxy-Authorization:\r\n");
	struct request		 req;
	const char		*why;
	int			 status;

	ck_assert_int_eq(request_parse(in, sizeof(in) - 1, &deflim, &req,
	    &status, &why), REQUEST_OK);
	ck_assert_uint_eq(req.proxy_auth_len, strlen("Basic dXNlcjpwYXNz"));
	ck_assert(memcmp(req.proxy_auth, "Basic dXNlcjpwYXNz",
	    req.proxy_auth_len) == 0);
	ck_assert(req.proxy_auth > in && req.proxy_auth < in + sizeof(in));
	ck_assert_int_eq(request_parse(good, sizeof(good) - 1, &deflim, &req,
	    &status, &why), REQUEST_OK);
	ck_assert_ptr_null(req.proxy_auth);
	ck_assert_uint_eq(req.proxy_auth_len, 0);
	ck_assert_int_eq(request_parse(empty, sizeof(empty) - 1, &deflim,
	    &req, &status, &why), REQUEST_OK);
	ck_assert_ptr_nonnull(req.proxy_auth);
	ck_assert_uint_eq(req.proxy_auth_len, 0);
}
END_TEST

/* --- mutations: no crash, invariants hold --------------------------- */

static uint32_t
rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

START_TEST(test_mutations)
{
	static const char	 bytes[] = " \t\r\n:[]@%./0x9aZ"
	    "\x00\x7f\x80\xff";
	struct request_limits	 lim = { 96, 8, 0 };
	struct request		 req;
	char			 buf[128];
	const char		*why;
	uint32_t		 seed = 42;
	size_t			 len, i;
	int			 k, status;
	enum request_result	 r;

	for (k = 0; k < 20000; k++) {
		len = sizeof(good) - 1;
		memcpy(buf, good, len);
		for (i = rnd(&seed) % 4 + 1; i > 0; i--)
			buf[rnd(&seed) % len] = bytes[rnd(&seed) %
			    (sizeof(bytes) - 1)];
		len = rnd(&seed) % (len + 1);
		r = request_parse(buf, len, &lim, &req, &status, &why);
		if (r == REQUEST_OK)
			ck_assert(req.head_len <= len &&
			    req.head_len <= lim.max_header_size);
		if (r == REQUEST_BAD) {
			ck_assert_msg(is_known_status(status), "status %d",
			    status);
			check_why("mutation", buf, len, why);
		}
	}
}
END_TEST

/* --- PAC requests (pac_file): GET and HEAD of two paths ------------- */

struct paccase {
	const char		*name;
	const char		*in;
	int			 pac;		/* lim.pac */
	enum request_result	 res;
	int			 status;	/* of BAD */
	enum request_kind	 kind;		/* of OK */
	const char		*path;		/* of a PAC request, or the
						   PAC path a 405 named */
	int			 minor;
};

#define P_OK(n, in, k, path, minor) \
	{ n, in, 1, REQUEST_OK, 0, REQUEST_##k, path, minor }
#define P_BAD(n, in, pac, st) \
	{ n, in, pac, REQUEST_BAD, st, REQUEST_CONNECT, NULL, 0 }
/* Another method on a PAC path: 405, whose Allow is the file's. */
#define P_405(n, in, path) \
	{ n, in, 1, REQUEST_BAD, 405, REQUEST_CONNECT, path, 0 }

static const struct paccase pac_cases[] = {
	P_OK("GET /proxy.pac", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n",
	    PAC_GET, "/proxy.pac", 1),
	P_OK("GET /wpad.dat", "GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\n\r\n",
	    PAC_GET, "/wpad.dat", 1),
	P_OK("HEAD /proxy.pac", "HEAD /proxy.pac HTTP/1.1\r\nHost: p:3128\r\n"
	    "\r\n", PAC_HEAD, "/proxy.pac", 1),
	P_OK("HTTP/1.0 without Host", "GET /wpad.dat HTTP/1.0\r\n\r\n",
	    PAC_GET, "/wpad.dat", 0),
	P_OK("query ignored", "GET /proxy.pac?v=2&x HTTP/1.1\r\nHost: p\r\n"
	    "\r\n", PAC_GET, "/proxy.pac", 1),
	P_OK("empty query", "GET /wpad.dat? HTTP/1.1\r\nHost: p\r\n\r\n",
	    PAC_GET, "/wpad.dat", 1),
	P_OK("browser fields", "GET /proxy.pac HTTP/1.1\r\nHost: 10.0.0.1:"
	    "3128\r\nUser-Agent: x\r\nAccept: */*\r\nConnection: keep-alive\r\n"
	    "Content-Length: 0\r\nProxy-Authorization: Basic YTpi\r\n\r\n",
	    PAC_GET, "/proxy.pac", 1),
	P_OK("LF line ends", "GET /proxy.pac HTTP/1.1\nHost: p\n\n", PAC_GET,
	    "/proxy.pac", 1),
	P_BAD("pac off", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n", 0, 405),
	P_BAD("pac off HEAD", "HEAD /wpad.dat HTTP/1.1\r\nHost: p\r\n\r\n", 0,
	    405),
	P_BAD("other path", "GET / HTTP/1.1\r\nHost: p\r\n\r\n", 1, 405),
	P_BAD("longer path", "GET /proxy.pacx HTTP/1.1\r\nHost: p\r\n\r\n", 1,
	    405),
	P_BAD("trailing slash", "GET /proxy.pac/ HTTP/1.1\r\nHost: p\r\n\r\n",
	    1, 405),
	P_BAD("prefix only", "GET /proxy.pa HTTP/1.1\r\nHost: p\r\n\r\n", 1,
	    405),
	P_BAD("double slash", "GET //proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n", 1,
	    405),
	P_BAD("upper case", "GET /PROXY.PAC HTTP/1.1\r\nHost: p\r\n\r\n", 1,
	    405),
	P_BAD("percent-encoded", "GET /proxy%2epac HTTP/1.1\r\nHost: p\r\n"
	    "\r\n", 1, 405),
	P_BAD("fragment", "GET /proxy.pac#x HTTP/1.1\r\nHost: p\r\n\r\n", 1,
	    405),
	P_BAD("absolute-form", "GET http://p/proxy.pac HTTP/1.1\r\nHost: p\r\n"
	    "\r\n", 1, 405),
	P_405("POST", "POST /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n",
	    "/proxy.pac"),
	P_405("OPTIONS", "OPTIONS /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n",
	    "/proxy.pac"),
	P_405("PUT with a query", "PUT /wpad.dat?x HTTP/1.1\r\nHost: p\r\n"
	    "\r\n", "/wpad.dat"),
	P_BAD("POST, pac off", "POST /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n",
	    0, 405),
	P_BAD("dot segments", "GET /proxy.pac/../x HTTP/1.1\r\nHost: p\r\n"
	    "\r\n", 1, 405),
	P_BAD("lowercase get", "get /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n", 1,
	    501),
	P_BAD("HTTP/2.0", "GET /proxy.pac HTTP/2.0\r\nHost: p\r\n\r\n", 1,
	    505),
	P_BAD("two spaces", "GET  /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n", 1,
	    400),
	P_BAD("missing Host", "GET /proxy.pac HTTP/1.1\r\n\r\n", 1, 400),
	P_BAD("duplicate Host", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\n"
	    "Host: q\r\n\r\n", 1, 400),
	P_BAD("content", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\n"
	    "Content-Length: 3\r\n\r\nabc", 1, 400),
	P_BAD("chunked", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 1, 400),
	P_BAD("obs-fold", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\nX: a\r\n"
	    " b\r\n\r\n", 1, 400),
	P_BAD("bare CR", "GET /proxy.pac HTTP/1.1\rHost: p\r\n\r\n", 1, 400),
};

START_TEST(test_pac)
{
	const struct paccase	*c = &pac_cases[_i];
	struct request_limits	 lim = { 8192, 100, c->pac };
	struct request		 req;
	enum request_result	 r;
	const char		*why;
	size_t			 len = strlen(c->in), cut;
	int			 status;

	r = request_parse(c->in, len, &lim, &req, &status, &why);
	ck_assert_msg(r == c->res, "%s: result %d, want %d (status %d, %s)",
	    c->name, r, c->res, status, why ? why : "-");
	if (r == REQUEST_BAD) {
		ck_assert_msg(status == c->status, "%s: status %d, want %d "
		    "(%s)", c->name, status, c->status, why);
		check_why(c->name, c->in, len, why);
		/* A 405's Allow: GET, HEAD on a PAC path, else CONNECT. */
		if (status == 405 && c->path == NULL)
			ck_assert_msg(req.path == NULL, "%s: path %s", c->name,
			    req.path);
		else if (status == 405)
			ck_assert_msg(req.path != NULL && strcmp(req.path,
			    c->path) == 0, "%s: path %s, want %s", c->name,
			    req.path != NULL ? req.path : "NULL", c->path);
	} else {
		ck_assert_msg(req.kind == c->kind, "%s: kind %d", c->name,
		    req.kind);
		ck_assert_str_eq(req.path, c->path);
		ck_assert_str_eq(req.host, "");
		ck_assert_uint_eq(req.port, 0);
		ck_assert_int_eq(req.version_minor, c->minor);
		ck_assert_uint_eq(req.head_len, len);
	}
	/* The verdict never changes as the bytes arrive. */
	for (cut = 0; cut < len; cut++) {
		r = request_parse(c->in, cut, &lim, &req, &status, &why);
		ck_assert_msg(r == REQUEST_AGAIN || (c->res == REQUEST_BAD &&
		    r == REQUEST_BAD && status == c->status), "%s: prefix %zu "
		    "gives %d/%d", c->name, cut, r, status);
	}
}
END_TEST

/* A CONNECT is still a CONNECT with pac on; the limits still hold. */
START_TEST(test_pac_connect_and_limits)
{
	struct request_limits	 lim = { 8192, 100, 1 };
	struct request_limits	 small = { 1024, 2, 1 };
	static const char	 fields[] = "GET /proxy.pac HTTP/1.1\r\n"
	    "Host: p\r\nA: 1\r\nB: 2\r\n\r\n";
	struct request		 req;
	char			 big[2048];
	const char		*why;
	int			 status;

	ck_assert_int_eq(request_parse(TGT("h:443"), strlen(TGT("h:443")),
	    &lim, &req, &status, &why), REQUEST_OK);
	ck_assert_int_eq(req.kind, REQUEST_CONNECT);
	ck_assert_ptr_null(req.path);
	ck_assert_str_eq(req.host, "h");
	ck_assert_uint_eq(req.port, 443);
	/* Without pac too, every CONNECT says REQUEST_CONNECT. */
	ck_assert_int_eq(request_parse(TGT("h:443"), strlen(TGT("h:443")),
	    &deflim, &req, &status, &why), REQUEST_OK);
	ck_assert_int_eq(req.kind, REQUEST_CONNECT);
	/* max_header_fields. */
	ck_assert_int_eq(request_parse(fields, strlen(fields), &small, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 431);
	/* max_header_size: a head that never ends within it. */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /proxy.pac HTTP/1.1\r\nX: ", 28);
	ck_assert_int_eq(request_parse(big, sizeof(big), &small, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 431);
	/* A query as long as the head allows: 414, never a PAC answer. */
	memset(big, 'q', sizeof(big));
	memcpy(big, "GET /proxy.pac?", 15);
	ck_assert_int_eq(request_parse(big, sizeof(big), &small, &req,
	    &status, &why), REQUEST_BAD);
	ck_assert_int_eq(status, 414);
}
END_TEST

Suite *
request_suite(void)
{
	Suite	*s = suite_create("request");
	TCase	*tc;

	tc = tcase_create("tables");
	tcase_add_loop_test(tc, test_line, 0, NELEM(line_cases));
	tcase_add_loop_test(tc, test_target, 0, NELEM(target_cases));
	tcase_add_loop_test(tc, test_field, 0, NELEM(field_cases));
	tcase_add_loop_test(tc, test_framing, 0, NELEM(framing_cases));
	tcase_add_loop_test(tc, test_prefixes, 0, NELEM(tables));
	tcase_add_loop_test(tc, test_early_data, 0, NELEM(tables));
	tcase_add_loop_test(tc, test_early_verdict, 0, NELEM(early));
	tcase_add_loop_test(tc, test_why, 0, NELEM(whys));
	tcase_add_loop_test(tc, test_name_check, 0, NELEM(names));
	suite_add_tcase(s, tc);

	tc = tcase_create("lengths");
	tcase_add_test(tc, test_label_lengths);
	tcase_add_test(tc, test_name_lengths);
	tcase_add_test(tc, test_target_too_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_test(tc, test_size_limit);
	tcase_add_test(tc, test_empty_line_flood);
	tcase_add_loop_test(tc, test_field_limit, 0, 3);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_add_test(tc, test_proxy_auth);
	tcase_add_test(tc, test_mutations);
	suite_add_tcase(s, tc);

	tc = tcase_create("pac");
	tcase_add_loop_test(tc, test_pac, 0, NELEM(pac_cases));
	tcase_add_test(tc, test_pac_connect_and_limits);
	suite_add_tcase(s, tc);
	return s;
}
