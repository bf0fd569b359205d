/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for upstream.c and the `upstream` directive: rule syntax,
 * selection (first match decides, matching parents fail over in order),
 * the CONNECT sent to a parent, the parent's response head and the
 * credentials file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "upstream.h"
#include "suites.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static void
parse_ok(const char *text, struct config *cfg)
{
	char	err[512];

	ck_assert_msg(config_parse_buffer("c", text, cfg, err,
	    sizeof(err)) == 0, "%s", err);
}

static const struct {
	const char	*line;
	const char	*err;
} bad_lines[] = {
	{ "upstream", "c:1: upstream: expects at least 1 argument" },
	{ "upstream proxy", "c:1: upstream: bad proxy \"proxy\" (HOST:PORT, "
	    "[IPv6]:PORT or direct)" },
	{ "upstream proxy:0", NULL },
	{ "upstream proxy:65536", NULL },
	{ "upstream ::1:3128", NULL },
	{ "upstream [::1]3128", NULL },
	{ "upstream [nothost]:3128", NULL },
	{ "upstream 127.1:3128", NULL },
	{ "upstream bad_host!:3128", NULL },
	{ "upstream -parent.lan:3128", NULL },
	{ "upstream parent-.lan:3128", NULL },
	{ "upstream p:1 for -a.example", "c:1: upstream: bad host name "
	    "\"-a.example\"" },
	{ "upstream direct", "c:1: upstream: direct needs for PATTERN..." },
	{ "upstream direct credentials /x for a.com", "c:1: upstream: "
	    "expected [credentials FILE] [for PATTERN...] after the proxy" },
	{ "upstream p:1 for", NULL },
	{ "upstream p:1 credentials", NULL },
	{ "upstream p:1 with a.com", NULL },
	{ "upstream p:1 for 10.0.0.0/33", "c:1: upstream: bad address or "
	    "CIDR \"10.0.0.0/33\" (prefix length 0 to 32)" },
	{ "upstream p:1 for *.example.com", NULL },
};

START_TEST(test_bad_lines)
{
	struct config	cfg;
	char		text[256], err[512];

	snprintf(text, sizeof(text), "%s\n", bad_lines[_i].line);
	ck_assert_msg(config_parse_buffer("c", text, &cfg, err, sizeof(err))
	    == -1, "\"%s\" accepted", bad_lines[_i].line);
	if (bad_lines[_i].err != NULL)
		ck_assert_str_eq(err, bad_lines[_i].err);
	else
		ck_assert_msg(strncmp(err, "c:1: upstream: ", 15) == 0, "%s",
		    err);
}
END_TEST

START_TEST(test_good_lines)
{
	struct config	cfg;

	parse_ok("upstream parent.lan:3128\n"
	    "upstream 192.0.2.1:8080 credentials /etc/p for .corp 10.0.0.0/8\n"
	    "upstream [2001:db8::1]:3128 for intranet\n"
	    "upstream direct for .example.com 192.0.2.0/24 fd00::/8\n"
	    "upstream Parent.LAN.:3129 credentials /c\n", &cfg);
	ck_assert_uint_eq(cfg.nupstreams, 5);
	ck_assert_str_eq(cfg.upstreams[0].host, "parent.lan");
	ck_assert_uint_eq(cfg.upstreams[0].port, 3128);
	ck_assert_uint_eq(cfg.upstreams[0].npatterns, 0);
	ck_assert_str_eq(cfg.upstreams[1].cred_file, "/etc/p");
	ck_assert_uint_eq(cfg.upstreams[1].npatterns, 2);
	ck_assert_ptr_null(cfg.upstreams[1].auth);
	ck_assert_str_eq(cfg.upstreams[2].host, "2001:db8::1");
	ck_assert_str_eq(cfg.upstreams[2].text, "[2001:db8::1]:3128");
	ck_assert_int_eq(cfg.upstreams[3].direct, 1);
	ck_assert_uint_eq(cfg.upstreams[3].npatterns, 3);
	ck_assert_str_eq(cfg.upstreams[4].host, "parent.lan");
	config_free(&cfg);
}
END_TEST

static const char *
pick(const struct config *cfg, const char *host, size_t *n)
{
	static char		 out[256];
	const struct upstream	*chain[UPSTREAM_CHAIN_MAX];
	size_t			 i;

	*n = upstream_select(cfg->upstreams, cfg->nupstreams, host, chain,
	    UPSTREAM_CHAIN_MAX);
	out[0] = '\0';
	for (i = 0; i < *n; i++) {
		strcat(out, i > 0 ? " " : "");
		strcat(out, chain[i]->text);
	}
	return out;
}

START_TEST(test_select)
{
	struct config	cfg;
	size_t		n;

	parse_ok("upstream direct for .local.example 192.0.2.0/24\n"
	    "upstream a:1 for .corp.example 10.0.0.0/8 2001:db8::/32\n"
	    "upstream b:2 for .corp.example intranet\n"
	    "upstream direct for intranet\n"
	    "upstream c:3\n", &cfg);
	ck_assert_str_eq(pick(&cfg, "www.local.example", &n), "");
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(pick(&cfg, "192.0.2.9", &n), "");
	ck_assert_str_eq(pick(&cfg, "git.corp.example", &n), "a:1 b:2 c:3");
	ck_assert_str_eq(pick(&cfg, "corp.example", &n), "a:1 b:2 c:3");
	ck_assert_str_eq(pick(&cfg, "10.1.2.3", &n), "a:1 c:3");
	ck_assert_str_eq(pick(&cfg, "intranet", &n), "b:2");
	ck_assert_str_eq(pick(&cfg, "example.org", &n), "c:3");
	ck_assert_str_eq(pick(&cfg, "2001:db8::5", &n), "a:1 c:3");
	ck_assert_str_eq(pick(&cfg, "2001:db9::5", &n), "c:3");
	config_free(&cfg);
	/* A CIDR pattern never matches a name: names are not resolved. */
	parse_ok("upstream a:1 for 127.0.0.0/8\n", &cfg);
	ck_assert_str_eq(pick(&cfg, "localhost", &n), "");
	ck_assert_str_eq(pick(&cfg, "127.0.0.1", &n), "a:1");
	ck_assert_str_eq(pick(&cfg, "::ffff:127.0.0.1", &n), "a:1");
	config_free(&cfg);
	/* No upstream rule: direct. */
	parse_ok("listen 127.0.0.1:1\n", &cfg);
	ck_assert_str_eq(pick(&cfg, "example.org", &n), "");
	config_free(&cfg);
}
END_TEST

START_TEST(test_request)
{
	struct upstream	u;
	char		buf[512];
	size_t		n;

	memset(&u, 0, sizeof(u));
	n = upstream_request(&u, "example.org:443", buf, sizeof(buf));
	ck_assert_str_eq(buf, "CONNECT example.org:443 HTTP/1.1\r\n"
	    "Host: example.org:443\r\n\r\n");
	ck_assert_uint_eq(n, strlen(buf));
	u.auth = "dTpw";
	upstream_request(&u, "[2001:db8::1]:443", buf, sizeof(buf));
	ck_assert_str_eq(buf, "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n"
	    "Host: [2001:db8::1]:443\r\nProxy-Authorization: Basic dTpw\r\n"
	    "\r\n");
	ck_assert_uint_eq(upstream_request(&u, "example.org:443", buf, 20),
	    0);
}
END_TEST

static const struct {
	const char		*in;
	enum upstream_head	 want;
	int			 status;
	size_t			 head_len;
} heads[] = {
	{ "HTTP/1.1 200 Connection established\r\n\r\n", UPSTREAM_HEAD_OK,
	    200, 39 },
	{ "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy"
	    "\r\n\r\nSSH-2.0", UPSTREAM_HEAD_OK, 200, 63 },
	{ "HTTP/1.1 204\r\n\r\n", UPSTREAM_HEAD_OK, 204, 16 },
	{ "HTTP/1.1 200 OK\n\n", UPSTREAM_HEAD_OK, 200, 17 },
	{ "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate:"
	    " Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n", UPSTREAM_HEAD_OK,
	    407, 102 },
	{ "HTTP/1.1 200 Connection established\r\n", UPSTREAM_HEAD_AGAIN, 0,
	    0 },
	{ "HTTP/1.1 2", UPSTREAM_HEAD_AGAIN, 0, 0 },
	{ "", UPSTREAM_HEAD_AGAIN, 0, 0 },
	{ "HTTP/2 200 OK\r\n\r\n", UPSTREAM_HEAD_BAD, 0, 0 },
	{ "HTTP/1.1 2000 OK\r\n\r\n", UPSTREAM_HEAD_BAD, 0, 0 },
	{ "HTTP/1.1 20 OK\r\n\r\n", UPSTREAM_HEAD_BAD, 0, 0 },
	{ "HTTP/1.1 099 OK\r\n\r\n", UPSTREAM_HEAD_BAD, 0, 0 },
	{ "SSH-2.0-OpenSSH\r\n\r\n", UPSTREAM_HEAD_BAD, 0, 0 },
	{ "http/1.1 200 OK\r\n\r\n", UPSTREAM_HEAD_BAD, 0, 0 },
};

START_TEST(test_head)
{
	int	status = 0;
	size_t	len = 0;

	ck_assert_int_eq(upstream_parse_head(heads[_i].in,
	    strlen(heads[_i].in), &status, &len), heads[_i].want);
	if (heads[_i].want != UPSTREAM_HEAD_OK)
		return;
	ck_assert_int_eq(status, heads[_i].status);
	ck_assert_uint_eq(len, heads[_i].head_len);
}
END_TEST

START_TEST(test_head_too_long)
{
	static char	buf[UPSTREAM_HEAD_MAX];
	int		status;
	size_t		len;

	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "HTTP/1.1 200 OK\r\n", 17);
	ck_assert_int_eq(upstream_parse_head(buf, sizeof(buf) - 1, &status,
	    &len), UPSTREAM_HEAD_AGAIN);
	ck_assert_int_eq(upstream_parse_head(buf, sizeof(buf), &status,
	    &len), UPSTREAM_HEAD_BAD);
}
END_TEST

START_TEST(test_credentials)
{
	char	*auth, err[256];

	ck_assert_int_eq(upstream_credentials("puser:ppass\n", &auth, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(auth, "cHVzZXI6cHBhc3M=");
	free(auth);
	ck_assert_int_eq(upstream_credentials("u:p:w\r\n", &auth, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(auth, "dTpwOnc=");
	free(auth);
	ck_assert_int_eq(upstream_credentials("u:p", &auth, err,
	    sizeof(err)), 0);
	free(auth);
	ck_assert_int_eq(upstream_credentials("", &auth, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(upstream_credentials("userpass\n", &auth, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(upstream_credentials(":pass\n", &auth, err,
	    sizeof(err)), -1);
	ck_assert_int_eq(upstream_credentials("u:p\nzzz:yyy\n", &auth,
	    err, sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "zzz"));
	ck_assert_ptr_null(auth);
}
END_TEST

START_TEST(test_load_credentials)
{
	char		dir[] = "/tmp/check_upstream.XXXXXX", conf[128];
	char		cred[128], text[512], err[512];
	struct config	cfg;
	FILE		*f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	snprintf(cred, sizeof(cred), "%s/cred", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "upstream 127.0.0.1:3128 credentials %s\n", cred);
	fclose(f);
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), -1);
	snprintf(text, sizeof(text), "%s:1: upstream 127.0.0.1:3128: "
	    "credentials %s: No such file or directory", conf, cred);
	ck_assert_str_eq(err, text);
	ck_assert_ptr_nonnull(f = fopen(cred, "w"));
	fputs("TopSecret\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "TopSecret"));
	ck_assert_ptr_nonnull(f = fopen(cred, "w"));
	fputs("puser:ppass\n", f);
	fclose(f);
	ck_assert_int_eq(config_load(conf, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.upstreams[0].auth, "cHVzZXI6cHBhc3M=");
	config_free(&cfg);
	unlink(cred);
	unlink(conf);
	rmdir(dir);
}
END_TEST

Suite *
upstream_suite(void)
{
	Suite	*s = suite_create("upstream");
	TCase	*tc = tcase_create("upstream");

	tcase_add_loop_test(tc, test_bad_lines, 0, NITEMS(bad_lines));
	tcase_add_test(tc, test_good_lines);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_request);
	tcase_add_loop_test(tc, test_head, 0, NITEMS(heads));
	tcase_add_test(tc, test_head_too_long);
	tcase_add_test(tc, test_credentials);
	tcase_add_test(tc, test_load_credentials);
	suite_add_tcase(s, tc);
	return s;
}
