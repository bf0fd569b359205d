/* SPDX-License-Identifier: ISC */
/*
 * Upstream chaining, the pure part: rule selection (first match decides,
 * matching parents form a failover list), the CONNECT we send a parent,
 * a small reader for its response head, and the credentials file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "request.h"
#include "upstream.h"

static int
rule_matches(const struct upstream *u, const char *host)
{
	size_t	i;

	if (u->npatterns == 0)
		return 1;
	for (i = 0; i < u->npatterns; i++)
		if (policy_dest_match(&u->patterns[i], host))
			return 1;
	return 0;
}

size_t
upstream_select(const struct upstream *ups, size_t n, const char *host,
    const struct upstream **chain, size_t max)
{
	size_t	i, k = 0;

	for (i = 0; i < n && k < max; i++) {
		if (!rule_matches(&ups[i], host))
			continue;
		if (ups[i].direct)
			break;
		chain[k++] = &ups[i];
	}
	return k;
}

size_t
upstream_request(const struct upstream *u, const char *target, char *buf,
    size_t len)
{
	int	n;

	n = snprintf(buf, len, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s"
	    "\r\n", target, target,
	    u->auth != NULL ? "Proxy-Authorization: Basic " : "",
	    u->auth != NULL ? u->auth : "", u->auth != NULL ? "\r\n" : "");
	if (n < 0 || (size_t)n >= len)
		return 0;
	return (size_t)n;
}

enum upstream_head
upstream_parse_head(const char *buf, size_t len, int *status,
    size_t *head_len)
{
	size_t	end, i;

	if ((end = request_head_end(buf, 0, len)) == 0)
		return len >= UPSTREAM_HEAD_MAX ? UPSTREAM_HEAD_BAD :
		    UPSTREAM_HEAD_AGAIN;
	/* "HTTP/1.x NNN" then a space or the line end. */
	if (end < 13 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[7] < '0' ||
	    buf[7] > '9' || buf[8] != ' ' || (buf[12] != ' ' &&
	    buf[12] != '\r' && buf[12] != '\n'))
		return UPSTREAM_HEAD_BAD;
	*status = 0;
	for (i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return UPSTREAM_HEAD_BAD;
		*status = *status * 10 + (buf[i] - '0');
	}
	if (*status < 100)
		return UPSTREAM_HEAD_BAD;
	*head_len = end;
	return UPSTREAM_HEAD_OK;
}

int
upstream_credentials(const char *text, char **auth, char *err,
    size_t errlen)
{
	size_t	len = strlen(text), i, enc;
	char	*colon, *out;

	*auth = NULL;
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len > 0 && text[len - 1] == '\r')
		len--;
	if (len == 0 || len > AUTH_CRED_MAX) {
		snprintf(err, errlen, "expected one line user:password");
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) {
			snprintf(err, errlen, "expected one line user:password "
			    "(control character or second line)");
			return -1;
		}
	}
	colon = memchr(text, ':', len);
	if (colon == NULL || colon == text) {
		snprintf(err, errlen, "expected user:password");
		return -1;
	}
	enc = ((len + 2) / 3) * 4 + 1;
	if ((out = malloc(enc)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	auth_base64_encode((const unsigned char *)text, len, out, enc);
	*auth = out;
	return 0;
}

void
upstream_free(struct upstream *u)
{
	volatile char	*p;

	if (u->auth != NULL) {
		/* The parent's password should not linger in freed memory. */
		for (p = u->auth; *p != '\0'; p++)
			*p = '\0';
		free(u->auth);
	}
	free(u->patterns);
	u->auth = NULL;
	u->patterns = NULL;
	u->npatterns = 0;
}
