/* SPDX-License-Identifier: ISC */
/*
 * The CONNECT request-head parser (DESIGN.md section 3).  A stateless scan
 * over the bytes received so far; on AGAIN the caller calls it again with
 * the longer buffer.  Errors are decided left to right, at the first octet
 * that makes the head invalid, so a verdict never changes as bytes arrive.
 * The one exception to left to right is the method: it is judged (405,
 * 501) only once the whole request-line is known valid, since an invalid
 * request-line is a 400 whatever its first word (RFC 9112 section 3).
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "request.h"

#define LABEL_MAX	63
#define IPV4_MAX	15	/* "255.255.255.255" */
#define PORT_DIGITS	5

struct parser {
	const char			*buf;
	size_t				 len;	/* octets received */
	size_t				 end;	/* min(len, size limit) */
	size_t				 pos;
	const struct request_limits	*lim;
	struct request			*req;
	int				 have_host;
	size_t				 method;	/* its offset */
	size_t				 method_len;
	char				 major;		/* of HTTP-version */
	int				*status;
	const char			**why;
};

struct authority {
	char			host[REQUEST_HOST_MAX + 1];
	enum request_host_kind	kind;
	uint16_t		port;
};

static const char *const other_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"
};

/* What a GET or HEAD may ask for when lim->pac is set. */
static const char *const pac_paths[] = { "/proxy.pac", "/wpad.dat" };

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int
request_is_tchar(unsigned char c)
{
	return is_alpha(c) || is_digit(c) ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

size_t
request_head_end(const char *buf, size_t start, size_t len)
{
	size_t	i;

	for (i = start; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

static int
is_ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Octets allowed inside a field value: VCHAR, obs-text, SP, HTAB. */
static int
is_field_octet(unsigned char c)
{
	return is_ows(c) || (c >= 0x21 && c != 0x7f);
}

static int
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

/* ASCII only: the head is octets, never locale text (RFC 9112 2.2). */
static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int
name_is(const char *name, size_t n, const char *want)
{
	size_t	i;

	if (strlen(want) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower(name[i]) != want[i])
			return 0;
	return 1;
}

static enum request_result
bad(struct parser *p, int status, const char *why)
{
	*p->status = status;
	*p->why = why;
	return REQUEST_BAD;
}

/* The scan reached the end of its window: wait, or the head is too big. */
static enum request_result
more(struct parser *p, int in_target)
{
	if (p->len < p->lim->max_header_size)
		return REQUEST_AGAIN;
	if (in_target)
		return bad(p, 414, "request-target too long");
	return bad(p, 431, "request header section too large");
}

/*
 * Step over the line end at pos, or fail with `why' if there is none.  A
 * CR must be followed by LF: a bare CR read as a line end by one parser
 * and as data by another is what request smuggling feeds on.
 */
static enum request_result
eat_eol(struct parser *p, const char *why)
{
	if (p->pos >= p->end)
		return more(p, 0);
	if (p->buf[p->pos] == '\n') {
		p->pos++;
		return REQUEST_OK;
	}
	if (p->buf[p->pos] != '\r')
		return bad(p, 400, why);
	if (p->pos + 1 >= p->end)
		return more(p, 0);
	if (p->buf[p->pos + 1] != '\n')
		return bad(p, 400, "bare CR");
	p->pos += 2;
	return REQUEST_OK;
}

static int
at_eol(const struct parser *p)
{
	return p->buf[p->pos] == '\r' || p->buf[p->pos] == '\n';
}

/* RFC 9112 2.2: empty lines before the request line are ignored. */
static enum request_result
skip_empty_lines(struct parser *p)
{
	enum request_result	r;

	while (p->pos < p->end) {
		if (!at_eol(p))
			return REQUEST_OK;
		if ((r = eat_eol(p, "invalid line end")) != REQUEST_OK)
			return r;
	}
	return more(p, 0);
}

static int
is_other_method(const char *m, size_t n)
{
	size_t	i;

	for (i = 0; i < sizeof(other_methods) / sizeof(other_methods[0]); i++)
		if (strlen(other_methods[i]) == n &&
		    memcmp(other_methods[i], m, n) == 0)
			return 1;
	return 0;
}

/*
 * The method token and the SP after it, only noted here: whether we
 * implement it is judged by judge_method() once the rest of the line is
 * known valid.  A method that fills the whole head is 431, as any other
 * head without its end.
 */
static enum request_result
parse_method(struct parser *p)
{
	size_t	start = p->pos;

	while (p->pos < p->end && request_is_tchar(p->buf[p->pos]))
		p->pos++;
	if (p->pos == p->end)
		return more(p, 0);
	if (p->buf[p->pos] != ' ' || p->pos == start)
		return bad(p, 400, is_ows(p->buf[p->pos]) || at_eol(p) ?
		    "invalid request line" : "invalid method");
	p->method = start;
	p->method_len = p->pos - start;
	p->pos++;
	return REQUEST_OK;
}

static int
method_is(const struct parser *p, const char *m)
{
	return p->method_len == strlen(m) && memcmp(p->buf + p->method, m,
	    p->method_len) == 0;
}

static int
method_is_connect(const struct parser *p)
{
	return method_is(p, "CONNECT");
}

/*
 * Methods are case-sensitive (RFC 9112 3.1): CONNECT goes on, and so
 * does a PAC request (note_pac()); another method we know is 405, any
 * other token 501 (however long: RFC 9112 3).
 */
static enum request_result
judge_method(struct parser *p)
{
	if (method_is_connect(p) || p->req->kind != REQUEST_CONNECT)
		return REQUEST_OK;
	if (is_other_method(p->buf + p->method, p->method_len))
		return bad(p, 405, "method not allowed");
	return bad(p, 501, "method not implemented");
}

/* An optional (Host) or required (target) ":" port; s is at the colon. */
static const char *
port_parse(const char *s, size_t n, int target, struct authority *a)
{
	unsigned long	v = 0;
	size_t		i;

	if (n == 0)
		return target ? "missing port" : NULL;
	if (s[0] != ':')
		return "invalid host";
	if (memchr(s + 1, ':', n - 1) != NULL)
		return "IPv6 address needs brackets";
	if (n - 1 > PORT_DIGITS)
		return "invalid port";
	for (i = 1; i < n; i++) {
		if (!is_digit(s[i]))
			return "invalid port";
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	/*
	 * The value counts, not the spelling: "00443" is 443.  Host is only
	 * checked for shape (RFC 3986 port = *DIGIT); we never route on it.
	 */
	if (target && (v == 0 || v > 65535))
		return "invalid port";
	a->port = (uint16_t)v;
	return NULL;
}

/* "[" IPv6address "]": no zone id, no IPvFuture (RFC 3986 3.2.2). */
static const char *
ip_literal_parse(const char *s, size_t n, int target, struct authority *a)
{
	const char	*close;
	char		 tmp[INET6_ADDRSTRLEN];
	struct in6_addr	 in6;
	size_t		 clen;

	if ((close = memchr(s, ']', n)) == NULL)
		return "invalid IPv6 literal";
	clen = (size_t)(close - s) - 1;
	if (clen > 0 && (s[1] == 'v' || s[1] == 'V'))
		return "IPvFuture not supported";
	if (clen == 0 || clen >= sizeof(tmp))
		return "invalid IPv6 address";
	memcpy(tmp, s + 1, clen);
	tmp[clen] = '\0';
	if (inet_pton(AF_INET6, tmp, &in6) != 1)
		return "invalid IPv6 address";
	if (inet_ntop(AF_INET6, &in6, a->host, sizeof(a->host)) == NULL)
		return "invalid IPv6 address";
	a->kind = REQUEST_HOST_IPV6;
	return port_parse(close + 1, n - clen - 2, target, a);
}

/*
 * True when every label is decimal or 0x-hex: shapes that inet_aton(3),
 * and so getaddrinfo(3), reads as a legacy IPv4 spelling (127.1, 0x7f.1,
 * 2130706433, 010.0.0.1 as octal).  Such a host is a strict dotted quad
 * or is rejected; never a name the resolver would turn into an address.
 */
static int
looks_numeric(const char *s, size_t n)
{
	size_t	i = 0, start;

	while (i < n) {
		start = i;
		if (n - i >= 2 && s[i] == '0' && s[i + 1] == 'x') {
			for (i += 2; i < n && is_hex(s[i]); i++)
				;
		} else {
			while (i < n && is_digit(s[i]))
				i++;
			if (i == start)
				return 0;
		}
		if (i < n && s[i] != '.')
			return 0;
		i++;
	}
	return 1;
}

/* DNS LDH labels, plus "_" which real names carry (RFC 3986 3.2.2). */
const char *
request_name_check(const char *s, size_t n)
{
	size_t	i, start = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!is_alpha(s[i]) && !is_digit(s[i]) &&
			    s[i] != '-' && s[i] != '_')
				return "invalid host name";
			continue;
		}
		if (i == start || i - start > LABEL_MAX ||
		    s[start] == '-' || s[i - 1] == '-')
			return "invalid host name label";
		start = i + 1;
	}
	return NULL;
}

/* A reg-name or IPv4address, lowercased, without its trailing dot. */
static const char *
host_parse(const char *s, size_t n, struct authority *a)
{
	char		 name[REQUEST_HOST_MAX + 2];
	const char	*why;
	struct in_addr	 in;
	size_t		 i;
	int		 dot;

	if (n == 0)
		return "empty host";
	if (n > REQUEST_HOST_MAX + 1)
		return "host name too long";
	for (i = 0; i < n; i++)
		name[i] = lower(s[i]);
	if ((dot = name[n - 1] == '.'))
		n--;
	name[n] = '\0';
	if (n > REQUEST_HOST_MAX)
		return "host name too long";
	if (n > 0 && looks_numeric(name, n)) {
		if (dot || n > IPV4_MAX || inet_pton(AF_INET, name, &in) != 1)
			return "invalid IPv4 address";
		a->kind = REQUEST_HOST_IPV4;
	} else {
		if ((why = request_name_check(name, n)) != NULL)
			return why;
		a->kind = REQUEST_HOST_NAME;
	}
	memcpy(a->host, name, n + 1);
	return NULL;
}

/*
 * uri-host ":" port for a target (port required, 1-65535), or uri-host
 * [":" port] for Host.  Returns NULL, or a fixed text saying what is wrong.
 */
static const char *
authority_parse(const char *s, size_t n, int target, struct authority *a)
{
	const char	*colon, *why;
	size_t		 hlen;

	if (memchr(s, '@', n) != NULL)
		return "userinfo not allowed";
	if (memchr(s, '/', n) != NULL)
		return "request-target must be host:port";
	if (memchr(s, '%', n) != NULL)
		return "percent-encoding or zone id not allowed";
	if (n > 0 && s[0] == '[')
		return ip_literal_parse(s, n, target, a);
	colon = memchr(s, ':', n);
	hlen = colon != NULL ? (size_t)(colon - s) : n;
	if ((why = host_parse(s, hlen, a)) != NULL)
		return why;
	return port_parse(s + hlen, n - hlen, target, a);
}

/* An octet of a request-target: visible ASCII (RFC 3986 has no other). */
static int
is_target_octet(unsigned char c)
{
	return c > ' ' && c < 0x7f;
}

/*
 * With lim->pac, a GET or HEAD of a PAC path is a PAC request: the path
 * exactly, or followed by a query, which is ignored (a client may add
 * one to get past a cache).  No percent-decoding, no other spelling.
 * Another method on that path is noted too (path set, kind left), for
 * its 405's Allow: that resource takes GET and HEAD (RFC 9110 10.2.1).
 */
static void
note_pac(struct parser *p, const char *t, size_t n)
{
	size_t	i, len;
	int	get = method_is(p, "GET");

	if (!p->lim->pac)
		return;
	for (i = 0; i < sizeof(pac_paths) / sizeof(pac_paths[0]); i++) {
		len = strlen(pac_paths[i]);
		if (n >= len && memcmp(t, pac_paths[i], len) == 0 &&
		    (n == len || t[len] == '?')) {
			p->req->path = pac_paths[i];
			if (get || method_is(p, "HEAD"))
				p->req->kind = get ? REQUEST_PAC_GET :
				    REQUEST_PAC_HEAD;
		}
	}
}

/*
 * The request-target of a method other than CONNECT: only its shape
 * matters (visible octets up to the SP), since the method is refused
 * once the line is whole, unless it asks for the PAC file.  Bounded by
 * the head size alone (414 there).
 */
static enum request_result
skip_target(struct parser *p)
{
	size_t	start = p->pos;

	while (p->pos < p->end && is_target_octet(p->buf[p->pos]))
		p->pos++;
	if (p->pos == p->end)
		return more(p, 1);
	if (p->buf[p->pos] != ' ' || p->pos == start)
		return bad(p, 400, "invalid request line");
	note_pac(p, p->buf + start, p->pos - start);
	p->pos++;
	return REQUEST_OK;
}

/*
 * Authority-form only (RFC 9112 3.2.3); no whitespace inside it.  A
 * CONNECT target is judged as it arrives: 414 as soon as it is longer
 * than any host:port, 400 for a bad host or port.
 */
static enum request_result
parse_target(struct parser *p)
{
	struct authority	 a;
	const char		*why;
	size_t			 start = p->pos;

	if (!method_is_connect(p))
		return skip_target(p);
	while (p->pos < p->end && is_target_octet(p->buf[p->pos])) {
		if (p->pos - start >= REQUEST_TARGET_MAX)
			return bad(p, 414, "request-target too long");
		p->pos++;
	}
	if (p->pos == p->end)
		return more(p, 1);
	if (p->buf[p->pos] != ' ' || p->pos == start)
		return bad(p, 400, "invalid request line");
	memset(&a, 0, sizeof(a));
	if ((why = authority_parse(p->buf + start, p->pos - start, 1,
	    &a)) != NULL)
		return bad(p, 400, why);
	p->pos++;
	memcpy(p->req->host, a.host, sizeof(a.host));
	p->req->host_kind = a.kind;
	p->req->port = a.port;
	return REQUEST_OK;
}

/*
 * "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3), then the line
 * end: the last of the request-line's shape.  The major version is only
 * noted; judge_version() refuses it once the method is judged.
 */
static enum request_result
parse_version(struct parser *p)
{
	static const char	 shape[] = "HTTP/d.d";
	size_t			 i;
	char			 c;

	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (p->pos + i >= p->end)
			return more(p, 0);
		c = p->buf[p->pos + i];
		if (shape[i] == 'd' ? !is_digit(c) : c != shape[i])
			return bad(p, 400, "invalid HTTP version");
	}
	p->major = p->buf[p->pos + 5];
	p->req->version_minor = p->buf[p->pos + 7] == '0' ? 0 : 1;
	p->pos += sizeof(shape) - 1;
	return eat_eol(p, "invalid HTTP version");
}

/*
 * A right-shaped major other than 1 is 505; HTTP/1.x above 1.1 is served
 * as 1.1 (RFC 9110 6.2).
 */
static enum request_result
judge_version(struct parser *p)
{
	if (p->major != '1')
		return bad(p, 505, "HTTP version not supported");
	return REQUEST_OK;
}

static void
trim_ows(const char **v, size_t *n)
{
	while (*n > 0 && is_ows((*v)[0])) {
		(*v)++;
		(*n)--;
	}
	while (*n > 0 && is_ows((*v)[*n - 1]))
		(*n)--;
}

/* The fields that matter to a CONNECT; all others are skipped. */
static enum request_result
field_apply(struct parser *p, const char *name, size_t nlen,
    const char *val, size_t vlen)
{
	struct authority	a;

	trim_ows(&val, &vlen);
	if (name_is(name, nlen, "host")) {
		if (p->have_host++)
			return bad(p, 400, "duplicate Host");
		if (authority_parse(val, vlen, 0, &a) != NULL)
			return bad(p, 400, "invalid Host");
	} else if (name_is(name, nlen, "content-length")) {
		/* A CONNECT has no content: a body would be smuggled. */
		if (vlen != 1 || val[0] != '0')
			return bad(p, 400, "request content not allowed");
	} else if (name_is(name, nlen, "transfer-encoding")) {
		return bad(p, 400, "Transfer-Encoding not allowed");
	} else if (name_is(name, nlen, "proxy-authorization")) {
		if (p->req->proxy_auth != NULL)
			return bad(p, 400, "duplicate Proxy-Authorization");
		p->req->proxy_auth = val;
		p->req->proxy_auth_len = vlen;
	}
	return REQUEST_OK;
}

/*
 * One field line: token ":" OWS value OWS.  A line that starts with
 * whitespace is rejected rather than ignored or folded (RFC 9112 2.2,
 * 5.2), as is whitespace before the colon (RFC 9112 5.1).
 */
static enum request_result
parse_field(struct parser *p)
{
	enum request_result	r;
	size_t			name = p->pos, colon, vend;

	if (is_ows(p->buf[p->pos]))
		return bad(p, 400, p->req->nfields == 0 ?
		    "whitespace before first field" : "obs-fold not allowed");
	if (++p->req->nfields > p->lim->max_header_fields)
		return bad(p, 431, "too many header fields");
	while (p->pos < p->end && request_is_tchar(p->buf[p->pos]))
		p->pos++;
	if (p->pos == p->end)
		return more(p, 0);
	if (p->buf[p->pos] != ':' || p->pos == name)
		return bad(p, 400, is_ows(p->buf[p->pos]) ?
		    "whitespace before colon" : "invalid field name");
	colon = p->pos++;
	while (p->pos < p->end && is_field_octet(p->buf[p->pos]))
		p->pos++;
	vend = p->pos;
	if ((r = eat_eol(p, "invalid octet in field value")) != REQUEST_OK)
		return r;
	return field_apply(p, p->buf + name, colon - name,
	    p->buf + colon + 1, vend - colon - 1);
}

static enum request_result
parse_fields(struct parser *p)
{
	enum request_result	r;

	for (;;) {
		if (p->pos >= p->end)
			return more(p, 0);
		if (at_eol(p))
			return eat_eol(p, "invalid line end");
		if ((r = parse_field(p)) != REQUEST_OK)
			return r;
	}
}

enum request_result
request_parse(const char *buf, size_t len, const struct request_limits *lim,
    struct request *req, int *status, const char **why)
{
	struct parser		p;
	enum request_result	r;

	memset(req, 0, sizeof(*req));
	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.len = len;
	p.end = len < lim->max_header_size ? len : lim->max_header_size;
	p.lim = lim;
	p.req = req;
	p.status = status;
	p.why = why;
	*status = 0;
	*why = NULL;
	if ((r = skip_empty_lines(&p)) != REQUEST_OK ||
	    (r = parse_method(&p)) != REQUEST_OK ||
	    (r = parse_target(&p)) != REQUEST_OK ||
	    (r = parse_version(&p)) != REQUEST_OK ||
	    (r = judge_method(&p)) != REQUEST_OK ||
	    (r = judge_version(&p)) != REQUEST_OK ||
	    (r = parse_fields(&p)) != REQUEST_OK)
		return r;
	if (req->version_minor == 1 && !p.have_host)
		return bad(&p, 400, "missing Host");
	req->head_len = p.pos;
	return REQUEST_OK;
}
