/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for auth.c: strict base64, Proxy-Authorization parsing (RFC
 * 7617, rfc-connect.md C51, C53), the auth_file parser and its
 * FILE:LINE messages, the challenge (C49, C52), the verified-credential
 * cache and crypt(3) verification; plus the auth_file / auth_realm
 * directives through config_parse_buffer() and config_load().
 */
#ifdef __linux__
#include <crypt.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "suites.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

/* openssl passwd -6 -salt abcdefgh secret, and friends. */
#define HASH6	"$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwG" \
		"fQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG."
#define HASH5	"$5$abcdefgh$AVvWwgJgPEYpE8DJ7x0ZUHLCDfrjH/Oq2SToYvzh1U1"
#define HASHY	"$y$j9T$abcdefghijklmnop$3dL1LkYnZM.OVXuVdnnaKVDlLYT92dRwOzD" \
		"Z5XiVCe."
#define HASH2B	"$2b$05$abcdefghijklmnopqrstuuOQiyCxlgf/oeuTqixKmWdcYUh4Hjl0a"
/* `htpasswd -nbB alice 'correct horse'` and `htpasswd -nb bob secret`. */
#define HASH2Y	"$2y$05$xEiTlR.iwuNbzUfggi8aEeOm/1RJrIMLDOVy40Boli6NekLya9jrG"
#define HASHAPR1 "$apr1$nPIijsaj$9ESOYMlQaVqxJIsPXfqTA."

/* --- base64 ----------------------------------------------------------- */

static const struct {
	const char	*in;
	const char	*out;	/* NULL: must be refused */
} b64_cases[] = {
	{ "dXNlcjpwYXNz", "user:pass" },
	{ "dQ==", "u" },
	{ "dXM=", "us" },
	{ "dXNl", "use" },
	{ "", NULL },
	{ "dXNlcjpwYXNz=", NULL },	/* length not a multiple of 4 */
	{ "dQ=", NULL },
	{ "dQ", NULL },			/* padding required */
	{ "d===", NULL },
	{ "====", NULL },
	{ "dR==", NULL },		/* non-zero pad bits */
	{ "dXN=", NULL },
	{ "dX=M", NULL },		/* '=' inside */
	{ "dQ==dQ==", NULL },
	{ "dXM!", NULL },
	{ "dXNl cjpw", NULL },
	{ "dXNl\tcjpw", NULL },
	{ "dX-l", NULL },		/* base64url alphabet */
	{ "dX_l", NULL },
	{ "dXNl\0cjp", NULL },		/* keep last */
};

START_TEST(test_base64_decode)
{
	unsigned char	out[64];
	size_t		len = 0, inlen;
	int		rc;

	/* The last case has a NUL inside its 8 octets. */
	inlen = _i == (int)NITEMS(b64_cases) - 1 ? 8 :
	    strlen(b64_cases[_i].in);
	rc = auth_base64_decode(b64_cases[_i].in, inlen, out, sizeof(out),
	    &len);
	if (b64_cases[_i].out == NULL) {
		ck_assert_msg(rc == -1, "\"%s\" accepted", b64_cases[_i].in);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" refused", b64_cases[_i].in);
	ck_assert_uint_eq(len, strlen(b64_cases[_i].out));
	ck_assert(memcmp(out, b64_cases[_i].out, len) == 0);
}
END_TEST

START_TEST(test_base64_bounds)
{
	unsigned char	out[8], in[256];
	char		enc[400];
	size_t		len, i, n;

	/* Output that does not fit is refused, not truncated. */
	ck_assert_int_eq(auth_base64_decode("dXNlcjpwYXNz", 12, out, 8,
	    &len), -1);
	ck_assert_int_eq(auth_base64_decode("dXNlcjpw", 8, out, 6, &len), 0);
	ck_assert_uint_eq(len, 6);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(i * 7 + 3);
	for (n = 1; n < 40; n++) {
		unsigned char	back[64];

		ck_assert_uint_eq(auth_base64_encode(in, n, enc, sizeof(enc)),
		    ((n + 2) / 3) * 4);
		ck_assert_int_eq(auth_base64_decode(enc, strlen(enc), back,
		    sizeof(back), &len), 0);
		ck_assert_uint_eq(len, n);
		ck_assert(memcmp(back, in, n) == 0);
	}
	ck_assert_uint_eq(auth_base64_encode(in, 3, enc, 4), 0);
	ck_assert_uint_eq(auth_base64_encode(in, 3, enc, 5), 4);
}
END_TEST

/* --- Proxy-Authorization ----------------------------------------------- */

static const struct {
	const char	*value;
	const char	*user;		/* NULL: malformed */
	const char	*pass;
} hdr_cases[] = {
	{ "Basic dXNlcjpwYXNz", "user", "pass" },
	{ "basic dXNlcjpwYXNz", "user", "pass" },
	{ "BASIC dXNlcjpwYXNz", "user", "pass" },
	{ "bAsIc dXNlcjpwYXNz", "user", "pass" },
	{ "Basic    dXNlcjpwYXNz", "user", "pass" },	/* 1*SP */
	{ "Basic dTpwOnc=", "u", "p:w" },		/* u:p:w */
	{ "Basic dTo6", "u", ":" },			/* u:: */
	{ "Basic dTo=", "u", "" },			/* u: */
	{ "Basic w6k6cA==", "\xc3\xa9", "p" },		/* UTF-8 user */
	{ "Basic\tdXNlcjpwYXNz", NULL, NULL },
	{ "Basic", NULL, NULL },
	{ "Basic ", NULL, NULL },
	{ "Basicx dXNlcjpwYXNz", NULL, NULL },
	{ "Bearer dXNlcjpwYXNz", NULL, NULL },
	{ "Digest username=\"u\"", NULL, NULL },
	{ "dXNlcjpwYXNz", NULL, NULL },
	{ "Basic dXNlcjpwYXNz x", NULL, NULL },
	{ "Basic dXNlcnBhc3M=", NULL, NULL },		/* userpass: no colon */
	{ "Basic OnA=", NULL, NULL },			/* :p, empty user */
	{ "Basic dQE6cA==", NULL, NULL },		/* u\x01:p */
	{ "Basic dTpwAQ==", NULL, NULL },		/* u:p\x01 */
	{ "Basic dTpwfw==", NULL, NULL },		/* u:p DEL */
	{ "Basic dTpwCg==", NULL, NULL },		/* u:p LF */
	{ "Basic dTpwAA==", NULL, NULL },		/* u:p NUL */
	{ "Basic dXNlcjpwYXNz=", NULL, NULL },
	{ "Basic dR==", NULL, NULL },
};

START_TEST(test_parse_header)
{
	struct auth_creds	c;
	int			rc;

	rc = auth_parse_header(hdr_cases[_i].value,
	    strlen(hdr_cases[_i].value), &c);
	if (hdr_cases[_i].user == NULL) {
		ck_assert_msg(rc == -1, "\"%s\" accepted",
		    hdr_cases[_i].value);
		return;
	}
	ck_assert_msg(rc == 0, "\"%s\" refused", hdr_cases[_i].value);
	ck_assert_str_eq(c.user, hdr_cases[_i].user);
	ck_assert_uint_eq(c.pass_len, strlen(hdr_cases[_i].pass));
	ck_assert(memcmp(c.pass, hdr_cases[_i].pass, c.pass_len) == 0);
}
END_TEST

START_TEST(test_parse_header_limits)
{
	struct auth_creds	 c;
	unsigned char		 raw[AUTH_CRED_MAX + 8];
	char			 hdr[AUTH_B64_MAX + 64];
	size_t			 n;

	/* A user name of AUTH_USER_MAX octets passes, one more does not. */
	memset(raw, 'a', sizeof(raw));
	raw[AUTH_USER_MAX] = ':';
	memcpy(hdr, "Basic ", 6);
	n = auth_base64_encode(raw, AUTH_USER_MAX + 2, hdr + 6,
	    sizeof(hdr) - 6);
	ck_assert_int_eq(auth_parse_header(hdr, 6 + n, &c), 0);
	raw[AUTH_USER_MAX] = 'a';
	raw[AUTH_USER_MAX + 1] = ':';
	n = auth_base64_encode(raw, AUTH_USER_MAX + 3, hdr + 6,
	    sizeof(hdr) - 6);
	ck_assert_int_eq(auth_parse_header(hdr, 6 + n, &c), -1);
	/* A credential longer than AUTH_CRED_MAX is refused. */
	raw[1] = ':';
	n = auth_base64_encode(raw, AUTH_CRED_MAX + 1, hdr + 6,
	    sizeof(hdr) - 6);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(auth_parse_header(hdr, 6 + n, &c), -1);
	/* The value is bounded by its length, not by a NUL. */
	ck_assert_int_eq(auth_parse_header("Basic dXNlcjpwYXNzXXXX", 18, &c),
	    0);
	ck_assert_str_eq(c.user, "user");
}
END_TEST

/* --- auth_file ---------------------------------------------------------- */

static const struct {
	const char	*text;
	const char	*err;	/* NULL: accepted; else the exact message */
	size_t		 n;
} file_cases[] = {
	{ "alice:" HASH6 "\n", NULL, 1 },
	{ "# users\n\nalice:" HASH6 "\r\nbob:" HASH5 "\n  carol:" HASHY
	    "  \ndave:" HASH2B, NULL, 4 },
	{ "alice:" HASH6 "\nbob:$2y$05$abcdefghijklmnopqrstuu\n", NULL, 2 },
	{ "alice:" HASH6 "\nbob:" HASH5 "\ncarol:hunter2\n",
	    "users:3: plaintext password refused; store a crypt(3) hash "
	    "(htpasswd -B or openssl passwd -6)", 0 },
	{ "alice:\n", "users:1: empty hash", 0 },
	{ "alice\n", "users:1: expected user:hash", 0 },
	{ ":" HASH6 "\n", "users:1: user name empty or too long", 0 },
	{ "al ice:" HASH6 "\n", "users:1: blank in user name", 0 },
	{ "alice:$1$abc$def\n", "users:1: unsupported hash scheme (use $y$, "
	    "$6$, $5$ or $2b$)", 0 },
	{ "alice:" HASHAPR1 "\n", "users:1: $apr1$ (htpasswd's default MD5) "
	    "is too weak and not supported; make the hash with htpasswd -B "
	    "(bcrypt) or openssl passwd -6", 0 },
	{ "alice:{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ=\n", "users:1: {SHA} "
	    "(htpasswd -s) is too weak and not supported; make the hash with "
	    "htpasswd -B (bcrypt) or openssl passwd -6", 0 },
	{ "alice:" HASH6 "\nbob:" HASH2Y "\n", NULL, 2 },
	{ "alice:abJnggxhB/yWI\n", "users:1: plaintext password refused; "
	    "store a crypt(3) hash (htpasswd -B or openssl passwd -6)", 0 },
	{ "alice:$6$abc\n", "users:1: truncated hash", 0 },
	{ "alice:$6$ab c$def\n", "users:1: bad character in hash", 0 },
	{ "alice:" HASH6 ":1000:1000\n", "users:1: expected user:hash (a "
	    "second ':' on the line)", 0 },
	{ "alice:" HASH6 "\nalice:" HASH5 "\n", "users:2: duplicate user",
	    0 },
	{ "alice:" HASH6 "\x01\n", "users:1: control character in line", 0 },
	{ "", "users: no users", 0 },
	{ "# nobody\n\n", "users: no users", 0 },
};

START_TEST(test_auth_file)
{
	struct auth_entry	*e = NULL;
	size_t			 n = 99;
	char			 err[512] = "";
	int			 rc;

	rc = auth_parse_file("users", file_cases[_i].text, &e, &n, err,
	    sizeof(err));
	if (file_cases[_i].err != NULL) {
		ck_assert_msg(rc == -1, "case %d accepted", _i);
		ck_assert_str_eq(err, file_cases[_i].err);
		ck_assert_ptr_null(e);
		ck_assert_uint_eq(n, 0);
		return;
	}
	ck_assert_msg(rc == 0, "case %d: %s", _i, err);
	ck_assert_uint_eq(n, file_cases[_i].n);
	ck_assert_str_eq(e[0].user, "alice");
	ck_assert_str_eq(e[0].hash, HASH6);
	if (n == 4) {
		ck_assert_str_eq(e[2].user, "carol");
		ck_assert_str_eq(e[2].hash, HASHY);
		ck_assert_str_eq(e[3].hash, HASH2B);
	}
	free(e);
}
END_TEST

/* The message never echoes the line: it could be someone's password. */
START_TEST(test_auth_file_no_echo)
{
	struct auth_entry	*e;
	size_t			 n;
	char			 err[512];

	ck_assert_int_eq(auth_parse_file("u", "x:Sup3rSecret\n", &e, &n, err,
	    sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "Sup3rSecret"));
}
END_TEST

START_TEST(test_realm_and_challenge)
{
	char	buf[256];

	ck_assert_int_eq(auth_realm_valid("connectproxy"), 1);
	ck_assert_int_eq(auth_realm_valid("Office proxy, 2nd floor"), 1);
	ck_assert_int_eq(auth_realm_valid(""), 0);
	ck_assert_int_eq(auth_realm_valid("a\"b"), 0);
	ck_assert_int_eq(auth_realm_valid("a\\b"), 0);
	ck_assert_int_eq(auth_realm_valid("a\tb"), 0);
	ck_assert_int_eq(auth_realm_valid("a\x7f"), 0);
	memset(buf, 'x', AUTH_REALM_MAX + 1);
	buf[AUTH_REALM_MAX + 1] = '\0';
	ck_assert_int_eq(auth_realm_valid(buf), 0);
	buf[AUTH_REALM_MAX] = '\0';
	ck_assert_int_eq(auth_realm_valid(buf), 1);
	ck_assert_uint_gt(auth_challenge(buf, sizeof(buf), "connectproxy"), 0);
	ck_assert_str_eq(buf, "Proxy-Authenticate: Basic "
	    "realm=\"connectproxy\", charset=\"UTF-8\"\r\n");
	ck_assert_uint_eq(auth_challenge(buf, 10, "connectproxy"), 0);
	ck_assert_str_eq(buf, "");
}
END_TEST

/* --- constant-time compare and the cache -------------------------------- */

START_TEST(test_equal)
{
	ck_assert_int_eq(auth_equal("abcdef", "abcdef", 6), 1);
	ck_assert_int_eq(auth_equal("abcdef", "abcdeg", 6), 0);
	ck_assert_int_eq(auth_equal("xbcdef", "abcdef", 6), 0);
	ck_assert_int_eq(auth_equal("ab\0def", "ab\0deX", 6), 0);
	ck_assert_int_eq(auth_equal("", "", 0), 1);
}
END_TEST

static void
creds(struct auth_creds *c, const char *user, const char *pass)
{
	char	raw[AUTH_CRED_MAX], hdr[AUTH_B64_MAX + 16] = "Basic ";
	int	n;

	n = snprintf(raw, sizeof(raw), "%s:%s", user, pass);
	auth_base64_encode((unsigned char *)raw, (size_t)n, hdr + 6,
	    sizeof(hdr) - 6);
	ck_assert_int_eq(auth_parse_header(hdr, strlen(hdr), c), 0);
}

START_TEST(test_cache)
{
	static struct auth_cache	cache;
	struct auth_creds		c, d;
	char				user[16];
	int				i;

	memset(&cache, 0, sizeof(cache));
	creds(&c, "alice", "secret");
	ck_assert_int_eq(auth_cache_lookup(&cache, &c, HASH6), 0);
	auth_cache_insert(&cache, &c, HASH6);
	ck_assert_int_eq(auth_cache_lookup(&cache, &c, HASH6), 1);
	/* Another password, a prefix, a changed hash: all miss. */
	creds(&d, "alice", "secreT");
	ck_assert_int_eq(auth_cache_lookup(&cache, &d, HASH6), 0);
	creds(&d, "alice", "secre");
	ck_assert_int_eq(auth_cache_lookup(&cache, &d, HASH6), 0);
	creds(&d, "alice", "secret\x7e");
	ck_assert_int_eq(auth_cache_lookup(&cache, &d, HASH6), 0);
	ck_assert_int_eq(auth_cache_lookup(&cache, &c, HASH5), 0);
	/* Re-inserting the same credential takes no second slot. */
	auth_cache_insert(&cache, &c, HASH5);
	ck_assert_int_eq(auth_cache_lookup(&cache, &c, HASH5), 1);
	ck_assert_uint_eq(cache.next, 1);
	/* AUTH_CACHE_SIZE more users evict alice, round robin. */
	for (i = 0; i < AUTH_CACHE_SIZE; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		creds(&d, user, "pw");
		auth_cache_insert(&cache, &d, HASH6);
	}
	ck_assert_int_eq(auth_cache_lookup(&cache, &c, HASH5), 0);
	for (i = 1; i < AUTH_CACHE_SIZE; i++) {
		snprintf(user, sizeof(user), "u%d", i);
		creds(&d, user, "pw");
		ck_assert_msg(auth_cache_lookup(&cache, &d, HASH6) == 1,
		    "u%d evicted too early", i);
	}
	/* An empty credential never matches an unused slot. */
	memset(&d, 0, sizeof(d));
	memset(&cache, 0, sizeof(cache));
	ck_assert_int_eq(auth_cache_lookup(&cache, &d, ""), 0);
}
END_TEST

/* --- auth_check with crypt(3) ------------------------------------------- */

static const struct auth_entry users[] = {
	{ "alice", HASH6 },
	{ "bob", HASH5 },
	{ "carol", HASHY },
	{ "dave", HASH2B },
};

static enum auth_result
check(struct auth_cache *cache, const char *value, char *user)
{
	static struct auth_dummy	dummy;

	if (dummy.n == 0)
		auth_dummy_make(&dummy, users, NITEMS(users));
	return auth_check(users, NITEMS(users), &dummy, cache, value,
	    value != NULL ? strlen(value) : 0, user, 32);
}

START_TEST(test_check)
{
	static struct auth_cache	cache;
	char				user[32];

	memset(&cache, 0, sizeof(cache));
	ck_assert_int_eq(check(&cache, NULL, user), AUTH_MISSING);
	ck_assert_str_eq(user, "-");
	ck_assert_int_eq(check(&cache, "", user), AUTH_MALFORMED);
	ck_assert_int_eq(check(&cache, "Bearer abc", user), AUTH_MALFORMED);
	/* alice:secret, bob:pa:ss, carol:secret, dave:secret */
	ck_assert_int_eq(check(&cache, "Basic YWxpY2U6c2VjcmV0", user),
	    AUTH_OK);
	ck_assert_str_eq(user, "alice");
	ck_assert_int_eq(check(&cache, "basic Ym9iOnBhOnNz", user), AUTH_OK);
	ck_assert_int_eq(check(&cache, "BASIC Y2Fyb2w6c2VjcmV0", user),
	    AUTH_OK);
	ck_assert_int_eq(check(&cache, "Basic ZGF2ZTpzZWNyZXQ=", user),
	    AUTH_OK);
	ck_assert_uint_eq(cache.hits, 0);
	ck_assert_int_eq(check(&cache, "Basic YWxpY2U6c2VjcmV0", user),
	    AUTH_OK);
	ck_assert_uint_eq(cache.hits, 1);
	/* alice:Secret, bob:pa, mallory:secret, ALICE:secret */
	ck_assert_int_eq(check(&cache, "Basic YWxpY2U6U2VjcmV0", user),
	    AUTH_BAD_PASSWORD);
	ck_assert_int_eq(check(&cache, "Basic Ym9iOnBh", user),
	    AUTH_BAD_PASSWORD);
	ck_assert_int_eq(check(&cache, "Basic bWFsbG9yeTpzZWNyZXQ=", user),
	    AUTH_UNKNOWN_USER);
	ck_assert_str_eq(user, "mallory");
	ck_assert_int_eq(check(&cache, "Basic QUxJQ0U6c2VjcmV0", user),
	    AUTH_UNKNOWN_USER);
	/* A user name is made printable for the log: "a b\"c" */
	ck_assert_int_eq(check(&cache, "Basic YSBiImM6eA==", user),
	    AUTH_UNKNOWN_USER);
	ck_assert_str_eq(user, "a?b?c");
	ck_assert_str_eq(auth_result_name(AUTH_BAD_PASSWORD), "bad_password");
}
END_TEST

/* The cache is keyed on the hash too: a reload with a new one misses. */
START_TEST(test_check_hash_changed)
{
	static struct auth_cache	cache;
	struct auth_entry		u[1] = { { "alice", HASH6 } };
	char				user[32];

	memset(&cache, 0, sizeof(cache));
	ck_assert_int_eq(auth_check(u, 1, NULL, &cache,
	    "Basic YWxpY2U6c2VjcmV0", 22, user, sizeof(user)), AUTH_OK);
	/* Same password under another salt: verified again, still fine. */
	snprintf(u[0].hash, sizeof(u[0].hash), "%s", HASHY);
	ck_assert_int_eq(auth_check(u, 1, NULL, &cache,
	    "Basic YWxpY2U6c2VjcmV0", 22, user, sizeof(user)), AUTH_OK);
	ck_assert_uint_eq(cache.hits, 0);
	/* A new password: the cached old one no longer opens. */
	snprintf(u[0].hash, sizeof(u[0].hash), "%s", HASH5);
	ck_assert_int_eq(auth_check(u, 1, NULL, &cache,
	    "Basic YWxpY2U6c2VjcmV0", 22, user, sizeof(user)),
	    AUTH_BAD_PASSWORD);
}
END_TEST

/* --- the password bound ------------------------------------------------- */

/* "Basic " + base64 of user:pass with a pass of `plen` 'p' octets. */
static void
long_cred(char *hdr, size_t hdrlen, const char *user, size_t plen)
{
	unsigned char	raw[AUTH_CRED_MAX + 16];
	size_t		ulen = strlen(user);

	ck_assert_uint_le(ulen + 1 + plen, sizeof(raw));
	memcpy(raw, user, ulen);
	raw[ulen] = ':';
	memset(raw + ulen + 1, 'p', plen);
	memcpy(hdr, "Basic ", 6);
	ck_assert_uint_gt(auth_base64_encode(raw, ulen + 1 + plen, hdr + 6,
	    hdrlen - 6), 0);
}

/*
 * A password of AUTH_PASS_MAX (256) octets is verified and opens; one
 * more octet is malformed, for a known user and an unknown one alike,
 * before any hash is computed.
 */
START_TEST(test_password_bound)
{
	static struct auth_cache	 cache;
	struct auth_entry		 u[1] = { { "u", "" } };
	struct auth_creds		 c;
	char				 pass[AUTH_PASS_MAX + 2], user[32];
	char				 hdr[AUTH_B64_MAX + 64], longuser[80];
	const char			*h;

	ck_assert_int_eq(AUTH_PASS_MAX, 256);
	memset(pass, 'p', AUTH_PASS_MAX);
	pass[AUTH_PASS_MAX] = '\0';
	ck_assert_ptr_nonnull(h = crypt(pass, "$6$boundary$"));
	ck_assert_int_eq(h[0], '$');
	snprintf(u[0].hash, sizeof(u[0].hash), "%s", h);
	memset(&cache, 0, sizeof(cache));

	long_cred(hdr, sizeof(hdr), "u", AUTH_PASS_MAX);
	ck_assert_int_eq(auth_parse_header(hdr, strlen(hdr), &c), 0);
	ck_assert_uint_eq(c.pass_len, AUTH_PASS_MAX);
	ck_assert_int_eq(auth_check(u, 1, NULL, &cache, hdr, strlen(hdr),
	    user, sizeof(user)), AUTH_OK);
	/* One octet short is another password. */
	long_cred(hdr, sizeof(hdr), "u", AUTH_PASS_MAX - 1);
	ck_assert_int_eq(auth_check(u, 1, NULL, &cache, hdr, strlen(hdr),
	    user, sizeof(user)), AUTH_BAD_PASSWORD);

	long_cred(hdr, sizeof(hdr), "u", AUTH_PASS_MAX + 1);
	ck_assert_int_eq(auth_parse_header(hdr, strlen(hdr), &c), -1);
	ck_assert_int_eq(auth_check(u, 1, NULL, &cache, hdr, strlen(hdr),
	    user, sizeof(user)), AUTH_MALFORMED);
	long_cred(hdr, sizeof(hdr), "nobody", AUTH_PASS_MAX + 1);
	ck_assert_int_eq(auth_check(u, 1, NULL, &cache, hdr, strlen(hdr),
	    user, sizeof(user)), AUTH_MALFORMED);

	/* The longest user name with the longest password still fits. */
	memset(longuser, 'n', AUTH_USER_MAX);
	longuser[AUTH_USER_MAX] = '\0';
	long_cred(hdr, sizeof(hdr), longuser, AUTH_PASS_MAX);
	ck_assert_int_eq(auth_parse_header(hdr, strlen(hdr), &c), 0);
	ck_assert_uint_eq(c.pass_len, AUTH_PASS_MAX);
	ck_assert_uint_eq(c.len, AUTH_CRED_MAX);
}
END_TEST

/* --- the unknown user's dummy -------------------------------------------- */

/*
 * Within one scheme, the dearest parameters win, in whatever order the
 * users come: no timing is involved (one family only).
 */
#define SALT16	"abcdefghijklmnop"
#define SALT22	"abcdefghijklmnopqrstuu"

/*
 * Within one scheme, the dearest parameters win, in whatever order the
 * users come: no timing is involved (one family only).  A setting that
 * crypt(3) refuses fails at once, so it is never the dearest.
 */
static const struct {
	const char	*hash[3];
	const char	*dearest;
} rank_cases[] = {
	{ { "$6$rounds=1000$s$h", HASH6, "$6$rounds=20000$s$h" },
	    "$6$rounds=20000$s$h" },
	{ { "$6$rounds=4999$s$h", HASH6, "$6$rounds=999$s$h" }, HASH6 },
	{ { "$6$rounds=1000000000$s$h", "$6$rounds=01000$s$h",
	    "$6$rounds=1000$s$h" }, "$6$rounds=1000$s$h" },
	{ { HASH5, "$5$rounds=5001$s$h", "$5$rounds=5000$s$h" },
	    "$5$rounds=5001$s$h" },
	{ { "$2a$04$" SALT22, "$2y$07$" SALT22, HASH2B }, "$2y$07$" SALT22 },
	{ { "$2b$32$" SALT22, "$2b$03$" SALT22, HASH2B }, HASH2B },
	{ { "$2b$09$abc", "$2b$04$" SALT22, HASH2B }, HASH2B },
	{ { HASHY, "$y$jAT$" SALT16 "$h", "$y$j8T$" SALT16 "$h" },
	    "$y$jAT$" SALT16 "$h" },
	{ { "$y$j9U$" SALT16 "$h", HASHY, "$y$j9S$" SALT16 "$h" },
	    "$y$j9U$" SALT16 "$h" },
	{ { HASHY, "$y$jZT$" SALT16 "$h", "$y$j9$" SALT16 "$h" }, HASHY },
};

START_TEST(test_dummy_rank)
{
	struct auth_entry	u[3];
	struct auth_dummy	d;
	size_t			i, k;

	/* Every rotation of the three users picks the same one. */
	for (k = 0; k < 3; k++) {
		memset(u, 0, sizeof(u));
		for (i = 0; i < 3; i++) {
			snprintf(u[i].user, sizeof(u[i].user), "u%zu", i);
			snprintf(u[i].hash, sizeof(u[i].hash), "%s",
			    rank_cases[_i].hash[(i + k) % 3]);
		}
		auth_dummy_make(&d, u, 3);
		ck_assert_uint_eq(d.n, 1);
		ck_assert_str_eq(d.cand[0].hash, rank_cases[_i].dearest);
		ck_assert_str_eq(auth_dummy_hash(&d, 8),
		    rank_cases[_i].dearest);
	}
}
END_TEST

/*
 * Between schemes the costs are measured: yescrypt at its default cost
 * (about 20 ms) is dearer than sha512-crypt at its default (1-6 ms,
 * growing with the password), whatever the order of the users and the
 * length of the password.
 */
START_TEST(test_dummy_mixed)
{
	struct auth_entry	u[3] = { { "alice", HASH6 }, { "bob", HASH6 },
				    { "carol", HASHY } };
	struct auth_entry	v[3] = { { "carol", HASHY }, { "alice", HASH6 },
				    { "bob", HASH5 } };
	struct auth_dummy	d;

	auth_dummy_make(&d, u, 3);
	ck_assert_uint_eq(d.n, 2);
	ck_assert_str_eq(auth_dummy_hash(&d, 1), HASHY);
	ck_assert_str_eq(auth_dummy_hash(&d, 8), HASHY);
	ck_assert_str_eq(auth_dummy_hash(&d, AUTH_PASS_MAX), HASHY);
	auth_dummy_make(&d, v, 3);
	ck_assert_uint_eq(d.n, 3);
	ck_assert_str_eq(auth_dummy_hash(&d, 1), HASHY);
	ck_assert_str_eq(auth_dummy_hash(&d, AUTH_PASS_MAX), HASHY);
}
END_TEST

/* The choice follows the password's length between the two measured. */
START_TEST(test_dummy_by_length)
{
	struct auth_dummy	d;

	memset(&d, 0, sizeof(d));
	ck_assert_ptr_null(auth_dummy_hash(NULL, 8));
	ck_assert_ptr_null(auth_dummy_hash(&d, 8));
	d.n = 2;
	/* sha-like: 1 us at 1 octet, 9 us at 256; bcrypt-like: 3 us. */
	snprintf(d.cand[0].hash, sizeof(d.cand[0].hash), "%s", HASH6);
	d.cand[0].ns_short = 1000;
	d.cand[0].ns_long = 9000;
	snprintf(d.cand[1].hash, sizeof(d.cand[1].hash), "%s", HASH2B);
	d.cand[1].ns_short = d.cand[1].ns_long = 3000;
	ck_assert_str_eq(auth_dummy_hash(&d, 0), HASH2B);
	ck_assert_str_eq(auth_dummy_hash(&d, 1), HASH2B);
	/* 1000 + 8000 * (L - 1) / 255 passes 3000 after L = 64.75. */
	ck_assert_str_eq(auth_dummy_hash(&d, 64), HASH2B);
	ck_assert_str_eq(auth_dummy_hash(&d, 66), HASH6);
	ck_assert_str_eq(auth_dummy_hash(&d, AUTH_PASS_MAX), HASH6);
	ck_assert_str_eq(auth_dummy_hash(&d, AUTH_PASS_MAX + 100), HASH6);
}
END_TEST

/*
 * An unknown user is checked against the dummy, a real user's hash: the
 * right password for that hash still gets no further than "unknown".
 */
START_TEST(test_unknown_user_dummy)
{
	static struct auth_cache	cache;
	struct auth_entry		u[2] = { { "alice", HASH6 },
					    { "carol", HASHY } };
	struct auth_dummy		d;
	char				user[32];
	const char			*mallory = "Basic bWFsbG9yeTpzZWNyZXQ=";

	memset(&cache, 0, sizeof(cache));
	auth_dummy_make(&d, u, 2);
	ck_assert_str_eq(auth_dummy_hash(&d, 6), HASHY);
	/* mallory:secret, and "secret" is the dummy's password. */
	ck_assert_int_eq(auth_check(u, 2, &d, &cache, mallory,
	    strlen(mallory), user, sizeof(user)), AUTH_UNKNOWN_USER);
	ck_assert_str_eq(user, "mallory");
	ck_assert_int_eq(auth_check(u, 2, NULL, &cache, mallory,
	    strlen(mallory), user, sizeof(user)), AUTH_UNKNOWN_USER);
	/* carol:secret is fine, and nothing unknown was cached. */
	ck_assert_int_eq(auth_check(u, 2, &d, &cache,
	    "Basic Y2Fyb2w6c2VjcmV0", 22, user, sizeof(user)), AUTH_OK);
	ck_assert_uint_eq(cache.hits, 0);
}
END_TEST

/* htpasswd -B writes bcrypt as $2y$: crypt(3) here must check it. */
START_TEST(test_htpasswd_bcrypt)
{
	static struct auth_cache	cache;
	struct auth_entry		u;
	struct auth_dummy		d;
	/* alice:correct horse, alice:correct horsf */
	const char			*ok = "Basic "
					    "YWxpY2U6Y29ycmVjdCBob3JzZQ==";
	const char			*bad = "Basic "
					    "YWxpY2U6Y29ycmVjdCBob3JzZg==";
	char				user[32];

	memset(&u, 0, sizeof(u));
	snprintf(u.user, sizeof(u.user), "alice");
	snprintf(u.hash, sizeof(u.hash), "%s", HASH2Y);
	auth_dummy_make(&d, &u, 1);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(auth_check(&u, 1, &d, &cache, ok, strlen(ok), user,
	    sizeof(user)), AUTH_OK);
	ck_assert_str_eq(user, "alice");
	ck_assert_int_eq(auth_check(&u, 1, &d, &cache, bad, strlen(bad), user,
	    sizeof(user)), AUTH_BAD_PASSWORD);
}
END_TEST

/* --- the directives ------------------------------------------------------ */

START_TEST(test_config_directives)
{
	struct config	cfg;
	char		err[512];

	ck_assert_int_eq(config_parse_buffer("c", "listen 127.0.0.1:1\n",
	    &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.auth_realm, "connectproxy");
	ck_assert_str_eq(cfg.auth_file, "");
	config_free(&cfg);
	ck_assert_int_eq(config_parse_buffer("c", "auth_file /x/users\n"
	    "auth_realm Office  proxy 2\n", &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.auth_file, "/x/users");
	ck_assert_str_eq(cfg.auth_realm, "Office proxy 2");
	/* config_parse_buffer() is pure: the users are not read. */
	ck_assert_uint_eq(cfg.nauth_users, 0);
	config_free(&cfg);
	ck_assert_int_eq(config_parse_buffer("c", "auth_realm \"a\\\"b\"\n",
	    &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "c:1: auth_realm: bad realm \"a\"b\" (no "
	    "quotes, backslashes or control characters)");
	ck_assert_int_eq(config_parse_buffer("c", "auth_realm \"Office "
	    "proxy\"\n", &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.auth_realm, "Office proxy");
	config_free(&cfg);
	ck_assert_int_eq(config_parse_buffer("c", "auth_realm a\\b\n", &cfg,
	    err, sizeof(err)), -1);
	ck_assert_int_eq(config_parse_buffer("c", "auth_file a\nauth_file "
	    "b\n", &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "c:2: auth_file given twice (first at line 1)");
	ck_assert_int_eq(config_parse_buffer("c", "auth_file\n", &cfg, err,
	    sizeof(err)), -1);
}
END_TEST

/* Directives with several arguments, missing from check_config's table. */
START_TEST(test_documented)
{
	static const char *const	names[] = { "auth_file", "auth_realm",
					    "upstream" };
	char				buf[65536], want[64];
	FILE				*fp;
	size_t				i, n;

	ck_assert_ptr_nonnull(fp = fopen("conf/connectproxy.conf", "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	for (i = 0; i < NITEMS(names); i++) {
		snprintf(want, sizeof(want), "\n# %s ", names[i]);
		ck_assert_msg(strstr(buf, want) != NULL, "%s not documented",
		    names[i]);
	}
}
END_TEST

START_TEST(test_config_load_users)
{
	char		dir[] = "/tmp/check_auth.XXXXXX", conf[128], upath[128];
	char		text[512], err[512];
	struct config	cfg;
	FILE		*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	snprintf(upath, sizeof(upath), "%s/users", dir);
	snprintf(text, sizeof(text), "auth_file %s\n", upath);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fputs(text, f);
	fclose(f);
	/* Missing file: at its directive, "FILE:LINE: auth_file PATH: ...". */
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%s:1: auth_file %s: No such file or "
	    "directory", conf, upath);
	ck_assert_str_eq(err, text);
	ck_assert_ptr_nonnull(f = fopen(upath, "w"));
	fputs("# office\nalice:" HASH6 "\nbob:hunter2\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%s:3: plaintext password refused; "
	    "store a crypt(3) hash (htpasswd -B or openssl passwd -6)",
	    upath);
	ck_assert_str_eq(err, text);
	ck_assert_ptr_nonnull(f = fopen(upath, "w"));
	fputs("alice:" HASH6 "\nbob:" HASH5 "\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nauth_users, 2);
	ck_assert_str_eq(cfg.auth_users[1].user, "bob");
	/* Two schemes of close cost: either may be the dummy. */
	ck_assert_ptr_nonnull(cfg.auth_dummy);
	ck_assert_uint_eq(cfg.auth_dummy->n, 2);
	config_free(&cfg);
	/* Loading (so reloading) the file makes the dummy anew. */
	ck_assert_ptr_nonnull(f = fopen(upath, "w"));
	fputs("alice:" HASH6 "\ncarol:" HASHY "\nbob:" HASH5 "\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(auth_dummy_hash(cfg.auth_dummy, 8), HASHY);
	config_free(&cfg);
	unlink(upath);
	unlink(conf);
	rmdir(dir);
}
END_TEST

Suite *
auth_suite(void)
{
	Suite	*s = suite_create("auth");
	TCase	*tc = tcase_create("auth");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_base64_decode, 0, NITEMS(b64_cases));
	tcase_add_test(tc, test_base64_bounds);
	tcase_add_loop_test(tc, test_parse_header, 0, NITEMS(hdr_cases));
	tcase_add_test(tc, test_parse_header_limits);
	tcase_add_loop_test(tc, test_auth_file, 0, NITEMS(file_cases));
	tcase_add_test(tc, test_auth_file_no_echo);
	tcase_add_test(tc, test_realm_and_challenge);
	tcase_add_test(tc, test_equal);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_check_hash_changed);
	tcase_add_test(tc, test_password_bound);
	tcase_add_loop_test(tc, test_dummy_rank, 0, NITEMS(rank_cases));
	tcase_add_test(tc, test_dummy_mixed);
	tcase_add_test(tc, test_dummy_by_length);
	tcase_add_test(tc, test_unknown_user_dummy);
	tcase_add_test(tc, test_htpasswd_bcrypt);
	tcase_add_test(tc, test_config_directives);
	tcase_add_test(tc, test_documented);
	tcase_add_test(tc, test_config_load_users);
	suite_add_tcase(s, tc);
	return s;
}
