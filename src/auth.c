/*
 * Proxy authentication (RFC 7617 Basic, RFC 9110 section 11): strict
 * parsing of Proxy-Authorization, auth_file parsing, crypt(3)
 * verification and a per-worker cache of verified credentials.  The
 * caller logs; nothing here ever sees a log line.
 */
#ifdef __linux__
/* glibc declares crypt() in unistd.h only for _DEFAULT_SOURCE. */
#include <crypt.h>
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"

#define AUTH_LINE_MAX		1024
#define AUTH_USERS_MAX		10000

static const char	b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The crypt(3) schemes we accept; the rest are weak or unknown. */
static const char *const schemes[] = { "$y$", "$6$", "$5$", "$2b$", "$2y$",
				       "$2a$" };

static int
is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
b64_value(char c)
{
	const char	*p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

int
auth_base64_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outsize, size_t *outlen)
{
	uint32_t	acc;
	size_t		i, j, o = 0, pad = 0;
	int		v;

	if (inlen == 0 || inlen % 4 != 0)
		return -1;
	if (in[inlen - 1] == '=')
		pad = in[inlen - 2] == '=' ? 2 : 1;
	if ((inlen / 4) * 3 - pad > outsize)
		return -1;
	for (i = 0; i < inlen; i += 4) {
		acc = 0;
		for (j = 0; j < 4; j++) {
			if (i + j >= inlen - pad) {
				acc <<= 6;
				continue;
			}
			if ((v = b64_value(in[i + j])) == -1)
				return -1;
			acc = (acc << 6) | (uint32_t)v;
		}
		/* Non-zero pad bits would be a second spelling. */
		if ((pad == 1 && i + 4 == inlen && (acc & 0xff) != 0) ||
		    (pad == 2 && i + 4 == inlen && (acc & 0xffff) != 0))
			return -1;
		out[o++] = (unsigned char)(acc >> 16);
		if (i + 4 < inlen || pad < 2)
			out[o++] = (unsigned char)(acc >> 8);
		if (i + 4 < inlen || pad < 1)
			out[o++] = (unsigned char)acc;
	}
	*outlen = o;
	return 0;
}

size_t
auth_base64_encode(const unsigned char *in, size_t inlen, char *out,
    size_t outsize)
{
	uint32_t	acc;
	size_t		i, o = 0;

	if (((inlen + 2) / 3) * 4 + 1 > outsize)
		return 0;
	for (i = 0; i < inlen; i += 3) {
		acc = (uint32_t)in[i] << 16;
		if (i + 1 < inlen)
			acc |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < inlen)
			acc |= in[i + 2];
		out[o++] = b64[(acc >> 18) & 63];
		out[o++] = b64[(acc >> 12) & 63];
		out[o++] = i + 1 < inlen ? b64[(acc >> 6) & 63] : '=';
		out[o++] = i + 2 < inlen ? b64[acc & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

int
auth_parse_header(const char *value, size_t len, struct auth_creds *c)
{
	const char	*tok, *colon;
	size_t		 i, toklen;

	memset(c, 0, sizeof(*c));
	/* Scheme names are case-insensitive tokens (RFC 9110 11.1). */
	if (len < 6 || strncasecmp(value, "Basic", 5) != 0 || value[5] != ' ')
		return -1;
	for (i = 5; i < len && value[i] == ' '; i++)
		continue;
	tok = value + i;
	toklen = len - i;
	if (toklen > AUTH_B64_MAX || auth_base64_decode(tok, toklen,
	    (unsigned char *)c->cred, AUTH_CRED_MAX, &c->len) == -1)
		return -1;
	c->cred[c->len] = '\0';
	for (i = 0; i < c->len; i++)
		if (is_ctl((unsigned char)c->cred[i]))
			return -1;
	if ((colon = memchr(c->cred, ':', c->len)) == NULL)
		return -1;
	c->user_len = (size_t)(colon - c->cred);
	if (c->user_len == 0 || c->user_len > AUTH_USER_MAX)
		return -1;
	memcpy(c->user, c->cred, c->user_len);
	c->user[c->user_len] = '\0';
	c->pass = colon + 1;
	c->pass_len = c->len - c->user_len - 1;
	return c->pass_len > AUTH_PASS_MAX ? -1 : 0;
}

/* Messages for auth_parse_file(), "FILE:LINE: message". */
static int
file_err(char *err, size_t errlen, const char *file, unsigned line,
    const char *fmt, ...) __attribute__((__format__(__printf__, 5, 6)));

static int
file_err(char *err, size_t errlen, const char *file, unsigned line,
    const char *fmt, ...)
{
	va_list	ap;
	int	n;

	n = snprintf(err, errlen, "%s:%u: ", file, line);
	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Why `hash` is not acceptable, or NULL.  Never echoes the value. */
static const char *
hash_problem(const char *hash)
{
	size_t	i, len = strlen(hash), dollars = 0;

	if (len == 0)
		return "empty hash";
	if (hash[0] != '$')
		return "plaintext password refused; store a crypt(3) hash "
		    "(openssl passwd -6)";
	for (i = 0; i < sizeof(schemes) / sizeof(*schemes); i++)
		if (strncmp(hash, schemes[i], strlen(schemes[i])) == 0)
			break;
	if (i == sizeof(schemes) / sizeof(*schemes))
		return "unsupported hash scheme (use $y$, $6$, $5$ or $2b$)";
	if (len > AUTH_HASH_MAX)
		return "hash too long";
	for (i = 0; i < len; i++) {
		if (hash[i] == '$')
			dollars++;
		else if (!((hash[i] >= 'a' && hash[i] <= 'z') ||
		    (hash[i] >= 'A' && hash[i] <= 'Z') ||
		    (hash[i] >= '0' && hash[i] <= '9') ||
		    strchr("./=,", hash[i]) != NULL))
			return "bad character in hash";
	}
	return dollars < 3 ? "truncated hash" : NULL;
}

/* Parse one non-comment line into e; returns a message or NULL. */
static const char *
parse_entry(char *line, struct auth_entry *e)
{
	char		*colon, *hash;
	const char	*why;
	size_t		 i, ulen;

	for (i = 0; line[i] != '\0'; i++)
		if (is_ctl((unsigned char)line[i]) && line[i] != '\t')
			return "control character in line";
	if ((colon = strchr(line, ':')) == NULL)
		return "expected user:hash";
	ulen = (size_t)(colon - line);
	if (ulen == 0 || ulen > AUTH_USER_MAX)
		return "user name empty or too long";
	for (i = 0; i < ulen; i++)
		if (line[i] == ' ' || line[i] == '\t')
			return "blank in user name";
	hash = colon + 1;
	if (strchr(hash, ':') != NULL)
		return "expected user:hash (a second ':' on the line)";
	if ((why = hash_problem(hash)) != NULL)
		return why;
	memcpy(e->user, line, ulen);
	e->user[ulen] = '\0';
	memcpy(e->hash, hash, strlen(hash) + 1);
	return NULL;
}

/* Add the entry on `line` (NUL-ended, no line end) to *out. */
static int
add_line(const char *file, unsigned lineno, char *line,
    struct auth_entry **out, size_t *n, char *err, size_t errlen)
{
	struct auth_entry	 e, *p;
	const char		*why;
	size_t			 i;

	while (*line == ' ' || *line == '\t')
		line++;
	if (*line == '\0' || *line == '#')
		return 0;
	if ((why = parse_entry(line, &e)) != NULL)
		return file_err(err, errlen, file, lineno, "%s", why);
	for (i = 0; i < *n; i++)
		if (strcmp((*out)[i].user, e.user) == 0)
			return file_err(err, errlen, file, lineno,
			    "duplicate user");
	if (*n >= AUTH_USERS_MAX)
		return file_err(err, errlen, file, lineno, "too many users "
		    "(max %d)", AUTH_USERS_MAX);
	if ((*n & (*n - 1)) == 0) {
		if ((p = realloc(*out, (*n == 0 ? 1 : 2 * *n) *
		    sizeof(*p))) == NULL)
			return file_err(err, errlen, file, lineno,
			    "out of memory");
		*out = p;
	}
	(*out)[(*n)++] = e;
	return 0;
}

int
auth_parse_file(const char *file, const char *text, struct auth_entry **out,
    size_t *n, char *err, size_t errlen)
{
	char		 line[AUTH_LINE_MAX + 1];
	const char	*eol;
	unsigned	 lineno = 0;
	size_t		 len;

	*out = NULL;
	*n = 0;
	for (; *text != '\0'; text = *eol == '\0' ? eol : eol + 1) {
		lineno++;
		if ((eol = strchr(text, '\n')) == NULL)
			eol = text + strlen(text);
		len = (size_t)(eol - text);
		if (len > 0 && text[len - 1] == '\r')
			len--;
		while (len > 0 && (text[len - 1] == ' ' ||
		    text[len - 1] == '\t'))
			len--;
		if (len > AUTH_LINE_MAX) {
			file_err(err, errlen, file, lineno, "line too long");
			goto fail;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		if (add_line(file, lineno, line, out, n, err, errlen) == -1)
			goto fail;
	}
	if (*n > 0)
		return 0;
	snprintf(err, errlen, "%s: no users", file);
fail:
	free(*out);
	*out = NULL;
	*n = 0;
	return -1;
}

int
auth_realm_valid(const char *realm)
{
	size_t	i, len = strlen(realm);

	if (len == 0 || len > AUTH_REALM_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (is_ctl((unsigned char)realm[i]) || realm[i] == '"' ||
		    realm[i] == '\\')
			return 0;
	return 1;
}

size_t
auth_challenge(char *buf, size_t len, const char *realm)
{
	int	n;

	n = snprintf(buf, len, "Proxy-Authenticate: Basic realm=\"%s\", "
	    "charset=\"UTF-8\"\r\n", realm);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

int
auth_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char	*x = a, *y = b;
	unsigned char			 d = 0;
	size_t				 i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d == 0;
}

int
auth_cache_lookup(struct auth_cache *cache, const struct auth_creds *c,
    const char *hash)
{
	unsigned char	key[AUTH_CRED_MAX];
	size_t		i;
	int		found = -1;

	memset(key, 0, sizeof(key));
	memcpy(key, c->cred, c->len);
	/* Every entry is compared in full, so time says nothing of which. */
	for (i = 0; i < AUTH_CACHE_SIZE; i++) {
		if (auth_equal(cache->entry[i].cred, key, sizeof(key)) &
		    (cache->entry[i].len == c->len) & (c->len != 0))
			found = (int)i;
	}
	memset(key, 0, sizeof(key));
	if (found == -1 || strcmp(cache->entry[found].hash, hash) != 0) {
		cache->misses++;
		return 0;
	}
	cache->hits++;
	return 1;
}

void
auth_cache_insert(struct auth_cache *cache, const struct auth_creds *c,
    const char *hash)
{
	struct auth_cache_entry	*e;
	size_t			 i;

	/* A stale entry for the same credential is replaced in place. */
	for (i = 0; i < AUTH_CACHE_SIZE; i++)
		if (cache->entry[i].len == c->len &&
		    memcmp(cache->entry[i].cred, c->cred, c->len) == 0)
			break;
	if (i == AUTH_CACHE_SIZE) {
		i = cache->next;
		cache->next = (cache->next + 1) % AUTH_CACHE_SIZE;
	}
	e = &cache->entry[i];
	memset(e->cred, 0, sizeof(e->cred));
	memcpy(e->cred, c->cred, c->len);
	e->len = c->len;
	snprintf(e->hash, sizeof(e->hash), "%s", hash);
}

/* A log-safe copy of a user name: printable ASCII, no quotes. */
static void
printable(const char *s, char *out, size_t len)
{
	size_t	i;

	if (len == 0)
		return;
	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = (s[i] > 0x20 && s[i] < 0x7f && s[i] != '"' &&
		    s[i] != '\\') ? s[i] : '?';
	out[i] = '\0';
}

/*
 * crypt(3) of the password against hash, compared without early exit.
 * The password is passed where it lies, at the end of c->cred, which is
 * NUL-ended (and holds no NUL: CTLs are refused): no copy, so no buffer
 * whose size must agree with the AUTH_PASS_MAX bound of the parser.
 */
static int
verify(const struct auth_creds *c, const char *hash)
{
	char	*out;
	size_t	hlen = strlen(hash);

	out = crypt(c->pass, hash);
	return out != NULL && out[0] != '*' && strlen(out) == hlen &&
	    auth_equal(out, hash, hlen);
}

enum auth_result
auth_check(const struct auth_entry *users, size_t n, struct auth_cache *cache,
    const char *value, size_t len, char *user, size_t userlen)
{
	struct auth_creds	 c;
	const struct auth_entry	*e = NULL;
	enum auth_result	 r;
	size_t			 i;

	printable("-", user, userlen);
	if (value == NULL)
		return AUTH_MISSING;
	if (auth_parse_header(value, len, &c) == -1) {
		memset(&c, 0, sizeof(c));
		return AUTH_MALFORMED;
	}
	printable(c.user, user, userlen);
	for (i = 0; i < n && e == NULL; i++)
		if (strcmp(users[i].user, c.user) == 0)
			e = &users[i];
	if (e != NULL && auth_cache_lookup(cache, &c, e->hash)) {
		r = AUTH_OK;
	} else if (e == NULL) {
		/* Pay for a hash anyway: timing must not reveal user names. */
		if (n > 0)
			(void)verify(&c, users[0].hash);
		r = AUTH_UNKNOWN_USER;
	} else if (verify(&c, e->hash)) {
		auth_cache_insert(cache, &c, e->hash);
		r = AUTH_OK;
	} else {
		r = AUTH_BAD_PASSWORD;
	}
	memset(&c, 0, sizeof(c));
	return r;
}

const char *
auth_result_name(enum auth_result r)
{
	switch (r) {
	case AUTH_OK:
		return "ok";
	case AUTH_MISSING:
		return "missing";
	case AUTH_MALFORMED:
		return "malformed";
	case AUTH_UNKNOWN_USER:
		return "unknown_user";
	case AUTH_BAD_PASSWORD:
		return "bad_password";
	}
	return "unknown";
}
