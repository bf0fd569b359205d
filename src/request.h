/* SPDX-License-Identifier: ISC */
/*
 * The CONNECT request parser: a pure function over a byte buffer (no I/O,
 * no allocation), so it can be driven by tables and by a fuzzer.  It
 * implements DESIGN.md section 3 (RFC 9110 9.3.6, RFC 9112, RFC 3986).
 */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <stdint.h>

#define REQUEST_HOST_MAX	255	/* octets of a name, without NUL */
#define REQUEST_TARGET_MAX	263	/* "[" 255 "]" ":" 5 digits */

enum request_result {
	REQUEST_OK,	/* a complete, valid head; *req is filled */
	REQUEST_AGAIN,	/* no complete head yet and no error so far */
	REQUEST_BAD	/* invalid: *status and *why say why */
};

/* What a valid head asks for. */
enum request_kind {
	REQUEST_CONNECT,	/* a tunnel to host:port */
	REQUEST_PAC_GET,	/* the PAC file (lim->pac): path says which */
	REQUEST_PAC_HEAD	/* its head only */
};

enum request_host_kind {
	REQUEST_HOST_NAME,
	REQUEST_HOST_IPV4,
	REQUEST_HOST_IPV6
};

struct request_limits {
	size_t		max_header_size;	/* whole head, request line included */
	unsigned	max_header_fields;
	/* Nonzero: a GET or HEAD of a PAC path is a request (pac_file). */
	int		pac;
};

struct request {
	char			host[REQUEST_HOST_MAX + 1];
	enum request_host_kind	host_kind;
	uint16_t		port;
	int			version_minor;	/* HTTP/1.0 or HTTP/1.1 */
	size_t			head_len;	/* octets up to and with the empty line */
	unsigned		nfields;
	/* Proxy-Authorization value, OWS-trimmed; points into the buffer. */
	const char		*proxy_auth;
	size_t			proxy_auth_len;
	/*
	 * REQUEST_CONNECT: host, host_kind and port are set.  Otherwise
	 * path is "/proxy.pac" or "/wpad.dat" (a static string, never the
	 * request's bytes) and host is empty.  On a 405 with lim->pac, path
	 * is set when the target was a PAC path (another method on it),
	 * else NULL: the answer's Allow says what that target takes.
	 */
	enum request_kind	kind;
	const char		*path;
};

/*
 * Parse the request head at the start of buf[0..len).  Leading empty
 * lines are skipped; bare LF line ends are accepted.  On REQUEST_OK, *req
 * describes the request and buf[req->head_len..len) is tunnel data the
 * client sent early.  On REQUEST_BAD, *status is the HTTP status to answer
 * (400, 405, 414, 431, 501, 505) and *why a short fixed text for the
 * response body and the log (never a copy of request bytes).  AGAIN is
 * returned only while len < lim->max_header_size; a head that reaches the
 * limit without its end is BAD with 431 (or 414 while still in the
 * request-target).  An invalid request line is reported as soon as it is
 * known invalid, before the rest of the head arrives.  The request-line is
 * judged in this order: its shape (method SP request-target SP
 * HTTP-version, line end: 400 when it is not so, whatever the method),
 * then a CONNECT target as it arrives (414, 400), then the method (405,
 * 501) and the major version (505) once the line is whole.
 *
 * With lim->pac set, GET and HEAD of the origin-form target "/proxy.pac"
 * or "/wpad.dat" (exactly; a "?query" after it is allowed and ignored)
 * are valid too, and req->kind says so; the rest of their head is held
 * to the same rules as a CONNECT's (Host, no content, the limits).  Any
 * other GET or HEAD target is 405, as is every GET without lim->pac.
 * On REQUEST_BAD, req->path says whether a 405's target was a PAC path.
 */
/*
 * Whether s[0..n) is a host name: labels of 1-63 letters, digits, '-' and
 * '_' (RFC 1123 LDH, plus the '_' that real names carry), separated by
 * single dots, none starting or ending with '-'.  No trailing dot; the
 * length of the whole is the caller's to bound.  Returns NULL, or a
 * fixed text saying what is wrong.  The one definition of a host name:
 * the request parser and the configuration's name rules both use it.
 */
const char *request_name_check(const char *s, size_t n);
/* Whether c is an RFC 9110 5.6.2 tchar (what a method or field name is
 * made of). */
int	request_is_tchar(unsigned char c);
/*
 * The offset just past the empty line that ends the head begun at
 * buf[start] (lines end in LF or CRLF), or 0 when it has not come yet.
 * For the heads read besides a CONNECT: a parent's answer, a scrape.
 */
size_t	request_head_end(const char *buf, size_t start, size_t len);

enum request_result request_parse(const char *buf, size_t len,
	    const struct request_limits *lim, struct request *req,
	    int *status, const char **why);

#endif
