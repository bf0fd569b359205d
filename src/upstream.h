/* SPDX-License-Identifier: ISC */
/*
 * Upstream chaining, the pure part: which parent proxies handle a
 * destination, the CONNECT request we send them and the reading of their
 * answer.  The sockets are in dial.c.
 */
#ifndef UPSTREAM_H
#define UPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define UPSTREAM_CHAIN_MAX	8	/* parents tried for one tunnel */
#define UPSTREAM_HEAD_MAX	8192	/* a parent's response head */
#define UPSTREAM_REQ_MAX	1024

/* One `upstream` line. */
struct upstream {
	int			 direct;	/* `upstream direct for ...` */
	char			 host[256];	/* no brackets */
	uint16_t		 port;
	char			 text[300];	/* "host:port" as written */
	char			 cred_file[1024];	/* "" none */
	char			*auth;		/* base64 user:pass, NULL */
	struct dest_rule	*patterns;	/* none: every destination */
	size_t			 npatterns;
	unsigned		 at_file;	/* where the line is: a */
	unsigned		 at_line;	/* struct config_loc */
};

enum upstream_head {
	UPSTREAM_HEAD_OK,	/* *status and *head_len set */
	UPSTREAM_HEAD_AGAIN,	/* no empty line yet */
	UPSTREAM_HEAD_BAD	/* not an HTTP/1.x status line, or too long */
};

/*
 * The parents for a request to `host` (a name or an IP literal without
 * brackets), in failover order: every non-direct rule that matches, up to
 * the first matching `direct` rule; at most `max`.  A name or .suffix
 * pattern matches names, a CIDR pattern IP literals only (names are not
 * resolved locally when a parent handles them).  Returns the count; 0
 * means dial directly.
 */
size_t	upstream_select(const struct upstream *ups, size_t n, const char *host,
	    const struct upstream **chain, size_t max);

/*
 * Format "CONNECT target HTTP/1.1", Host and, when u->auth is set,
 * Proxy-Authorization into buf.  `target` is "host:port" or
 * "[v6]:port".  Returns the length, or 0 if buf is too small.
 */
size_t	upstream_request(const struct upstream *u, const char *target,
	    char *buf, size_t len);

/*
 * Read a parent's response head in buf[0..len): status line
 * "HTTP/1.x NNN ...", fields, an empty line (CRLF or LF).  Returns OK
 * with *status and *head_len (bytes up to and with the empty line),
 * AGAIN, or BAD (also when len reaches UPSTREAM_HEAD_MAX without the end).
 */
enum upstream_head upstream_parse_head(const char *buf, size_t len,
	    int *status, size_t *head_len);

/*
 * The credentials file text: one line "user:password" (a final line end
 * allowed).  Stores base64 of it in a malloc'd *auth.  Returns 0, or -1
 * with a message (never echoing the file) in err.
 */
int	upstream_credentials(const char *text, char **auth, char *err,
	    size_t errlen);

/* Free what upstream_credentials() and the config put in u. */
void	upstream_free(struct upstream *u);

#endif
