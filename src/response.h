/* SPDX-License-Identifier: ISC */
/*
 * Responses the proxy generates: the 200 that opens a tunnel and the short
 * text/plain error answers.  Pure formatting into a caller's buffer.
 */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <stddef.h>
#include <time.h>

/*
 * An error answer with every extra field at its longest (a challenge, or
 * a Proxy-Status naming a parent) and its body.
 */
#define RESPONSE_MAX	2048

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

/* How long a client may keep the PAC file before asking again. */
#define RESPONSE_PAC_MAX_AGE	300	/* seconds */

/*
 * Format the head of a PAC file answer (pac_file): "HTTP/1.1 200 OK",
 * Date, Content-Type: application/x-ns-proxy-autoconfig, Content-Length
 * `body_len`, Cache-Control: max-age=RESPONSE_PAC_MAX_AGE, Connection:
 * close.  The body, the file's bytes, is the caller's to send after it
 * (not after a HEAD).  Returns the length written.
 */
size_t	response_pac(char *buf, size_t len, size_t body_len, time_t now);

/*
 * RFC 9209 Proxy-Status on the proxy's own error answers.  What the
 * proxy knows of a refusal or failure (status and reason as the access
 * record has them, what the dial learnt) maps to one proxy error type
 * of the IANA registry and its parameters, by response_proxy_status();
 * response_proxy_status_field() writes the field.
 */
#define RESPONSE_PROXY_NAME	"connectproxy"	/* an sf-token */

/* What is known of a tunnel that ends in an error answer. */
struct response_failure {
	int		 status;	/* the answer's: 400 to 599 */
	const char	*reason;	/* SB_REASON_LIST */
	int		 dest_addr;	/* dest_denied: an address was denied
					   (a literal or a resolved address),
					   not a name */
	int		 error;		/* errno of the failed step, 0 */
	int		 gai_error;	/* getaddrinfo() code, 0 */
	const char	*next_hop;	/* the parent proxy tried, or NULL */
	int		 received_status; /* its answer, 0 when none */
};

/* The Proxy-Status member the proxy adds for that failure. */
struct response_proxy_status {
	const char	*error;		/* the proxy error type (sf-token) */
	const char	*rcode;		/* dns_error: the DNS RCODE, or NULL */
	const char	*next_hop;	/* or NULL */
	int		 received_status; /* 0: none */
};

/*
 * Map a failure to its Proxy-Status (pure).  Every reason of
 * SB_REASON_LIST has a mapping; the reason decides the type, and for
 * the dial's failures the errno or getaddrinfo() code refines it
 * (connection_refused, destination_ip_unroutable, dns_error's rcode).
 * Returns 0, or -1 for a reason it does not know (ps then says
 * proxy_internal_error): a test keeps that from happening.  The table
 * is in connectproxy(8), WHAT CLIENTS SEE.
 */
int	response_proxy_status(const struct response_failure *f,
	    struct response_proxy_status *ps);

/*
 * Format the field line, CRLF-terminated:
 *   Proxy-Status: connectproxy; error=TYPE; rcode="..."; next-hop="...";
 *       received-status=N; details="..."
 * each parameter after error only when known: a well-formed RFC 8941
 * List of one Token with parameters.  The strings are sf-strings: a
 * quote and a backslash escaped, bytes outside printable ASCII dropped,
 * each cut at RESPONSE_PS_STRING_MAX bytes.  `details`
 * (NULL: none) is proxy-chosen text, the same words as the body.
 * Returns the length, or 0 (buf "") when it does not fit in len.
 */
#define RESPONSE_PS_STRING_MAX	300
size_t	response_proxy_status_field(char *buf, size_t len,
	    const struct response_proxy_status *ps, const char *details);

/* The Date value for `now`: RFC 9110 IMF-fixdate, into buf (>= 30). */
void	response_date(char *buf, size_t len, time_t now);

#endif
