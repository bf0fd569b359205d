/* SPDX-License-Identifier: ISC */
/*
 * Proxy authentication: the Basic scheme of RFC 7617 checked against
 * crypt(3) hashes from an auth_file, with a small per-worker cache of
 * recently verified credentials so a browser's many tunnels do not each
 * pay a full hash.  Parsing and base64 are pure; only auth_check() calls
 * crypt(3).
 */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

#define AUTH_USER_MAX		64	/* octets of a user name */
#define AUTH_PASS_MAX		256	/* octets of a password */
#define AUTH_HASH_MAX		256	/* octets of a crypt(3) hash */
#define AUTH_REALM_MAX		64	/* octets of auth_realm */
#define AUTH_CRED_MAX		(AUTH_USER_MAX + 1 + AUTH_PASS_MAX)
#define AUTH_B64_MAX		(((AUTH_CRED_MAX + 2) / 3) * 4)
#define AUTH_CACHE_SIZE		32

/* One auth_file line. */
struct auth_entry {
	char	user[AUTH_USER_MAX + 1];
	char	hash[AUTH_HASH_MAX + 1];
};

/* Credentials decoded from a Proxy-Authorization value. */
struct auth_creds {
	char	cred[AUTH_CRED_MAX + 1];	/* "user:password", NUL-ended */
	size_t	len;				/* octets in cred */
	char	user[AUTH_USER_MAX + 1];
	size_t	user_len;
	const char *pass;			/* into cred, so NUL-ended */
	size_t	pass_len;			/* at most AUTH_PASS_MAX */
};

enum auth_result {
	AUTH_OK,
	AUTH_MISSING,		/* no Proxy-Authorization field */
	AUTH_MALFORMED,		/* other scheme, bad base64, no colon, CTL */
	AUTH_UNKNOWN_USER,
	AUTH_BAD_PASSWORD
};

/*
 * Recently verified credentials of one worker.  An entry is found by a
 * constant-time comparison of the whole decoded credential and is used
 * only while the user's hash in the current configuration is the one it
 * was verified against, so a reload that changes a password misses.
 * Eviction is round robin.  Zero-initialise before first use.
 */
struct auth_cache {
	struct auth_cache_entry {
		unsigned char	cred[AUTH_CRED_MAX];	/* zero padded */
		size_t		len;			/* 0: unused */
		char		hash[AUTH_HASH_MAX + 1];
	}		entry[AUTH_CACHE_SIZE];
	unsigned	next;
	unsigned long	hits;
	unsigned long	misses;
};

/* Scheme families of auth_file hashes: yescrypt, sha512, sha256, bcrypt. */
#define AUTH_DUMMY_MAX		4

/*
 * What an unknown user's password is checked against, so that it costs
 * what the dearest hash of the file costs and timing does not tell which
 * names exist.  One candidate per scheme family present in the file: the
 * hash whose cost parameters ask the most of that scheme.  With several
 * families, each candidate's crypt(3) CPU time was measured for a
 * 1-octet and an AUTH_PASS_MAX-octet password: sha-crypt grows with the
 * password, yescrypt and bcrypt do not, so which family is dearest can
 * depend on the length a client sends.
 */
struct auth_dummy {
	size_t			n;		/* candidates, 0 none */
	struct auth_dummy_cand {
		char		hash[AUTH_HASH_MAX + 1];
		long long	ns_short;	/* 1 octet */
		long long	ns_long;	/* AUTH_PASS_MAX octets */
	}			cand[AUTH_DUMMY_MAX];
};

/*
 * Strict base64 (RFC 4648 section 4, padded): only the alphabet, length
 * a multiple of 4, '=' only as one or two final characters, and the pad
 * bits zero.  Decodes into out (outsize octets).  Returns 0 with *outlen
 * set, or -1.
 */
int	auth_base64_decode(const char *in, size_t inlen, unsigned char *out,
	    size_t outsize, size_t *outlen);

/* Padded base64 of in into out (NUL-ended).  Returns the length or 0. */
size_t	auth_base64_encode(const unsigned char *in, size_t inlen, char *out,
	    size_t outsize);

/*
 * Parse a Proxy-Authorization value (`value`, `len` octets, already OWS
 * trimmed): scheme "Basic" in any case, one or more spaces, a strict
 * base64 token, nothing after it.  The decoded text is split at the first
 * colon; CTL octets (0x00-0x1f, 0x7f) in either part, an empty or too
 * long user name, a password over AUTH_PASS_MAX octets are refused.
 * Returns 0 or -1 (AUTH_MALFORMED).
 */
int	auth_parse_header(const char *value, size_t len, struct auth_creds *c);

/*
 * Parse the text of an auth_file named `file` (for messages): one
 * "user:hash" per line, '#' comments and empty lines allowed.  Hashes
 * must be crypt(3) strings of a supported scheme ($y$, $6$, $5$, $2b$,
 * $2y$, $2a$); anything else (a plaintext password above all) is refused.
 * Returns 0 with a malloc'd array in *out (*n entries, caller frees), or
 * -1 with "FILE:LINE: message" in err.  An empty file is an error.
 */
int	auth_parse_file(const char *file, const char *text,
	    struct auth_entry **out, size_t *n, char *err, size_t errlen);

/*
 * Make the dummy of users[0..n) into d: run when the file is loaded (and
 * so on every reload), never per request.  Costs a few crypt(3) calls of
 * each family's dearest hash when the file mixes families, none
 * otherwise.
 */
void	auth_dummy_make(struct auth_dummy *d, const struct auth_entry *users,
	    size_t n);

/*
 * The hash an unknown user's password of pass_len octets is checked
 * against: the candidate whose measured cost, interpolated at pass_len,
 * is highest.  NULL when d is NULL or has no candidate.
 */
const char *auth_dummy_hash(const struct auth_dummy *d, size_t pass_len);

/* 1 when realm is 1-AUTH_REALM_MAX octets without '"', '\\' or CTL. */
int	auth_realm_valid(const char *realm);

/*
 * The challenge header line, "Proxy-Authenticate: Basic realm=\"R\",
 * charset=\"UTF-8\"\r\n", into buf.  Returns its length (0 if too small).
 */
size_t	auth_challenge(char *buf, size_t len, const char *realm);

/*
 * Check a Proxy-Authorization value (`value` NULL when the field is
 * absent) against users[0..n).  On return `user` holds the claimed user
 * name, made printable for logs ("-" when none), whatever the result.
 * An unknown user's password is checked against auth_dummy_hash(dummy),
 * made from the same users, so it costs what the dearest hash costs.  A
 * verified credential is cached in `cache`.
 */
enum auth_result auth_check(const struct auth_entry *users, size_t n,
	    const struct auth_dummy *dummy, struct auth_cache *cache,
	    const char *value, size_t len, char *user, size_t userlen);

/* "ok", "missing", "malformed", "unknown_user", "bad_password". */
const char	*auth_result_name(enum auth_result r);

/* 1 when a[0..n) equals b[0..n); time depends on n only. */
int	auth_equal(const void *a, const void *b, size_t n);

/* Cache primitives, exported for tests. */
int	auth_cache_lookup(struct auth_cache *cache, const struct auth_creds *c,
	    const char *hash);
void	auth_cache_insert(struct auth_cache *cache, const struct auth_creds *c,
	    const char *hash);

#endif
