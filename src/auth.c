/* SPDX-License-Identifier: ISC */
/*
 * Proxy authentication (RFC 7617 Basic, RFC 9110 section 11): strict
 * parsing of Proxy-Authorization, auth_file parsing, crypt(3)
 * verification and a per-worker cache of verified credentials.  The
 * caller logs; nothing here ever sees a log line.
 */
/*
 * crypt() is XSI: unistd.h declares it for _XOPEN_SOURCE (musl), glibc in
 * crypt.h (libxcrypt), which musl does not have.
 */
#define _XOPEN_SOURCE	700
#if defined(__has_include)
#if __has_include(<crypt.h>)
#include <crypt.h>
#endif
#endif
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"

#ifdef CONNECTPROXY_NO_CRYPT
/*
 * Built against a C library without crypt(3) (see the Makefile): no hash
 * can be checked, and auth_parse_file() refuses every auth_file.
 */
static char *
no_crypt(const char *key, const char *setting)
{
	(void)key;
	(void)setting;
	errno = ENOSYS;
	return NULL;
}
#define crypt(key, setting)	no_crypt(key, setting)
#endif

#define AUTH_LINE_MAX		1024
#define AUTH_USERS_MAX		10000
#define DUMMY_TRIES		8	/* refused settings tried per family */
#define DUMMY_ROUNDS		8	/* timings of a cheap candidate */
#define DUMMY_DEAR_ROUNDS	2	/* of one above DUMMY_DEAR_NS */
#define DUMMY_DEAR_NS		10000000LL

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
	/* What htpasswd writes without -B: name the fix, not just "no". */
	if (strncmp(hash, "$apr1$", 6) == 0)
		return "$apr1$ (htpasswd's default MD5) is too weak and not "
		    "supported; make the hash with htpasswd -B (bcrypt) or "
		    "openssl passwd -6";
	if (strncmp(hash, "{SHA}", 5) == 0)
		return "{SHA} (htpasswd -s) is too weak and not supported; "
		    "make the hash with htpasswd -B (bcrypt) or openssl "
		    "passwd -6";
	if (hash[0] != '$')
		return "plaintext password refused; store a crypt(3) hash "
		    "(htpasswd -B or openssl passwd -6)";
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
#ifdef CONNECTPROXY_NO_CRYPT
	(void)text;
	(void)lineno;
	(void)len;
	(void)line;
	(void)eol;
	snprintf(err, errlen, "%s: this build has no crypt(3) to check "
	    "passwords with (its C library lacks it)", file);
	return -1;
#endif
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

/*
 * The unknown user's dummy.  Which hash of a file costs the most is
 * found in two steps.  Within one scheme the cost parameters order the
 * hashes exactly (sha-crypt rounds, bcrypt's log2 cost, yescrypt's N, r,
 * p and t), so the dearest of each scheme is chosen by reading them: no
 * timing, whatever the number of users.  Between schemes no formula
 * does: yescrypt is bound by memory, bcrypt and sha-crypt by the CPU,
 * sha-crypt grows with the password and the others do not, and the
 * ratios depend on the machine and the libcrypt build.  So the (at most
 * four) candidates are timed, once, when the file is loaded.  The CPU
 * time of the process is used, not the wall clock, so that a busy
 * machine does not reorder them; the least of a few runs is kept.
 */
enum family {
	FAMILY_YESCRYPT,
	FAMILY_SHA512,
	FAMILY_SHA256,
	FAMILY_BCRYPT,
	FAMILY_NONE
};

static enum family
family_of(const char *hash)
{
	if (strncmp(hash, "$y$", 3) == 0)
		return FAMILY_YESCRYPT;
	if (strncmp(hash, "$6$", 3) == 0)
		return FAMILY_SHA512;
	if (strncmp(hash, "$5$", 3) == 0)
		return FAMILY_SHA256;
	if (strncmp(hash, "$2", 2) == 0)
		return FAMILY_BCRYPT;
	return FAMILY_NONE;
}

/* a * b, held at ULLONG_MAX rather than wrapping. */
static unsigned long long
mul_sat(unsigned long long a, unsigned long long b)
{
	return b != 0 && a > ULLONG_MAX / b ? ULLONG_MAX : a * b;
}

/* sha-crypt: "rounds=N$" (libxcrypt: 1000-999999999, no leading 0). */
static unsigned long long
sha_work(const char *p)
{
	unsigned long long	rounds = 0;

	if (strncmp(p, "rounds=", 7) != 0)
		return 5000;
	if (p[7] < '1' || p[7] > '9')
		return 0;
	for (p += 7; *p >= '0' && *p <= '9' && rounds <= 999999999; p++)
		rounds = rounds * 10 + (unsigned long long)(*p - '0');
	if (*p != '$' || rounds < 1000 || rounds > 999999999)
		return 0;
	return rounds;
}

/* bcrypt: a two-digit log2 cost, 04-31. */
static unsigned long long
bcrypt_work(const char *p)
{
	unsigned	cost;

	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' ||
	    p[2] != '$')
		return 0;
	cost = (unsigned)(p[0] - '0') * 10 + (unsigned)(p[1] - '0');
	return cost < 4 || cost > 31 ? 0 : 1ULL << cost;
}

/*
 * One yescrypt parameter as libxcrypt encodes it: the first character
 * says how many follow and gives the high bits, the others the lower
 * ones, six at a time.  Returns the end, or NULL if bad.
 */
static const char *
yes_decode(const char *p, unsigned long long min, unsigned long long *v)
{
	static const char	itoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTU"
				    "VWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned long long	start = 0, end = 47, chars = 1, bits = 0, c;
	const char		*q;

	if (*p == '\0' || (q = strchr(itoa64, *p++)) == NULL)
		return NULL;
	c = (unsigned long long)(q - itoa64);
	*v = min;
	for (; c > end; chars++, bits += 6) {
		*v += (end + 1 - start) << bits;
		start = end + 1;
		end = start + (62 - end) / 2;
	}
	*v += (c - start) << bits;
	while (--chars > 0) {
		if (*p == '\0' || (q = strchr(itoa64, *p++)) == NULL)
			return NULL;
		bits -= 6;
		*v += (unsigned long long)(q - itoa64) << bits;
	}
	return p;
}

/*
 * yescrypt: flavour, log2 N, r, then optionally which of p, t (and
 * others) follow.  Its work is N * r * p times a pass factor: t 0 reads
 * the memory 4/3 times, t 1 5/3 times, t n >= 2 n times (in thirds).
 */
static unsigned long long
yescrypt_work(const char *p)
{
	unsigned long long	flavor, nlog2, r, have = 0, par = 1, t = 0;

	if ((p = yes_decode(p, 0, &flavor)) == NULL ||
	    (p = yes_decode(p, 1, &nlog2)) == NULL || nlog2 > 62 ||
	    (p = yes_decode(p, 1, &r)) == NULL)
		return 0;
	if (*p != '$' && ((p = yes_decode(p, 1, &have)) == NULL ||
	    ((have & 1) && (p = yes_decode(p, 2, &par)) == NULL) ||
	    ((have & 2) && (p = yes_decode(p, 1, &t)) == NULL)))
		return 0;
	(void)flavor;
	return mul_sat(mul_sat(mul_sat(1ULL << nlog2, r), par),
	    t == 0 ? 4 : t == 1 ? 5 : mul_sat(t, 3));
}

/*
 * The work hash's parameters ask of its scheme, in that scheme's own
 * unit (comparable within a family only); 0 for parameters crypt(3)
 * refuses, as it then fails at once.
 */
static unsigned long long
hash_work(const char *hash)
{
	switch (family_of(hash)) {
	case FAMILY_YESCRYPT:
		return yescrypt_work(hash + 3);
	case FAMILY_SHA512:
	case FAMILY_SHA256:
		return sha_work(hash + 3);
	case FAMILY_BCRYPT:
		return strlen(hash) > 4 ? bcrypt_work(hash + 4) : 0;
	case FAMILY_NONE:
		break;
	}
	return 0;
}

static long long
cpu_ns(void)
{
	struct timespec	ts;

#ifdef CLOCK_PROCESS_CPUTIME_ID
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == 0)
		return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
#endif
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CPU time of one crypt() with a pass_len-octet password. */
static long long
crypt_ns(const char *hash, size_t pass_len)
{
	char		pass[AUTH_PASS_MAX + 1];
	long long	t;

	if (pass_len > AUTH_PASS_MAX)
		pass_len = AUTH_PASS_MAX;
	memset(pass, 'x', pass_len);
	pass[pass_len] = '\0';
	t = cpu_ns();
	(void)crypt(pass, hash);
	return cpu_ns() - t;
}

/*
 * Time each candidate at both lengths, keeping the least of several
 * runs: a run is only ever slowed (by another process on the same
 * cache, a slow clock), never sped up.  The candidates take turns, so
 * that a noisy moment hits all of them rather than one, and the cheap
 * ones, whose noise is largest against their cost, get more turns.
 */
static void
dummy_time(struct auth_dummy *d)
{
	struct auth_dummy_cand	*c;
	long long		 t;
	size_t			 i;
	int			 round;

	for (i = 0; i < d->n; i++)
		d->cand[i].ns_short = d->cand[i].ns_long = LLONG_MAX;
	for (round = 0; round < DUMMY_ROUNDS; round++)
		for (i = 0; i < d->n; i++) {
			c = &d->cand[i];
			if (round >= DUMMY_DEAR_ROUNDS &&
			    c->ns_short > DUMMY_DEAR_NS)
				continue;
			if ((t = crypt_ns(c->hash, 1)) < c->ns_short)
				c->ns_short = t;
			if ((t = crypt_ns(c->hash, AUTH_PASS_MAX)) < c->ns_long)
				c->ns_long = t;
		}
}

/*
 * The hash of family f in users[0..n) whose parameters ask the most
 * work, other than those in skip[0..nskip); NULL if none.
 */
static const char *
family_dearest(const struct auth_entry *users, size_t n, enum family f,
    const char *const *skip, size_t nskip)
{
	const char		*best = NULL;
	unsigned long long	 most = 0, w;
	size_t			 i, k;

	for (i = 0; i < n; i++) {
		if (family_of(users[i].hash) != f)
			continue;
		for (k = 0; k < nskip && strcmp(skip[k], users[i].hash) != 0;
		    k++)
			continue;
		if (k < nskip)
			continue;
		w = hash_work(users[i].hash);
		if (best == NULL || w > most) {
			best = users[i].hash;
			most = w;
		}
	}
	return best;
}

/* 1 when crypt(3) computes a hash with this setting, rather than fail. */
static int
crypt_accepts(const char *hash)
{
	const char	*out = crypt("x", hash);

	return out != NULL && out[0] != '*';
}

void
auth_dummy_make(struct auth_dummy *d, const struct auth_entry *users,
    size_t n)
{
	const char	*skip[DUMMY_TRIES], *h;
	enum family	 f;
	size_t		 nskip;

	memset(d, 0, sizeof(*d));
	/*
	 * A setting crypt(3) refuses (a bcrypt salt cut short, a yescrypt N
	 * too large to allocate) fails at once and so costs nothing: the
	 * next dearest of the family is tried.
	 */
	for (f = FAMILY_YESCRYPT; f < FAMILY_NONE; f++)
		for (nskip = 0; nskip < DUMMY_TRIES; nskip++) {
			if ((h = family_dearest(users, n, f, skip, nskip)) ==
			    NULL)
				break;
			if (crypt_accepts(h)) {
				snprintf(d->cand[d->n++].hash,
				    sizeof(d->cand[0].hash), "%s", h);
				break;
			}
			skip[nskip] = h;
		}
	if (d->n > 1)
		dummy_time(d);
}

const char *
auth_dummy_hash(const struct auth_dummy *d, size_t pass_len)
{
	const struct auth_dummy_cand	*c;
	long long			 cost, most = -1;
	size_t				 i, best = 0;

	if (d == NULL || d->n == 0)
		return NULL;
	if (pass_len < 1)
		pass_len = 1;
	if (pass_len > AUTH_PASS_MAX)
		pass_len = AUTH_PASS_MAX;
	for (i = 0; i < d->n && i < AUTH_DUMMY_MAX; i++) {
		c = &d->cand[i];
		/* Between the two lengths measured, sha-crypt grows evenly. */
		cost = c->ns_short + (c->ns_long - c->ns_short) *
		    (long long)(pass_len - 1) / (AUTH_PASS_MAX - 1);
		if (cost > most) {
			most = cost;
			best = i;
		}
	}
	return d->cand[best].hash;
}

enum auth_result
auth_check(const struct auth_entry *users, size_t n,
    const struct auth_dummy *dummy, struct auth_cache *cache,
    const char *value, size_t len, char *user, size_t userlen)
{
	struct auth_creds	 c;
	const struct auth_entry	*e = NULL;
	enum auth_result	 r;
	const char		*hash;
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
		/* Pay the dearest hash: timing must not reveal user names. */
		if ((hash = auth_dummy_hash(dummy, c.pass_len)) != NULL)
			(void)verify(&c, hash);
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
