/* SPDX-License-Identifier: ISC */
/*
 * Tests for config.c: every directive and default, every error with its
 * exact "FILE:LINE: message", the value parsers by table, config_load()
 * on real files, and the shipped conf/connectproxy.conf.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "policy.h"
#include "request.h"
#include "suites.h"
#include "upstream.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Parse text as "test.conf"; the result is checked by the caller. */
static int
parse(const char *text, struct config *cfg, char *err)
{
	memset(err, 0, CONFIG_ERR_MAX);
	return config_parse_buffer("test.conf", text, cfg, err,
	    CONFIG_ERR_MAX);
}

static void
parse_ok(const char *text, struct config *cfg)
{
	char	err[CONFIG_ERR_MAX];

	ck_assert_msg(parse(text, cfg, err) == 0, "unexpected error: %s", err);
}

static void
assert_empty(const struct config *cfg)
{
	ck_assert_ptr_null(cfg->listen);
	ck_assert_ptr_null(cfg->clients);
	ck_assert_ptr_null(cfg->ports);
	ck_assert_ptr_null(cfg->dests);
	ck_assert_uint_eq(cfg->nlisten + cfg->nclients + cfg->nports +
	    cfg->ndests, 0);
}

START_TEST(test_defaults)
{
	struct config	cfg;
	char		a[INET6_ADDRSTRLEN];

	parse_ok("", &cfg);
	ck_assert_uint_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen[0].text, "127.0.0.1:3128");
	ck_assert_int_eq(cfg.listen[0].ss.ss_family, AF_INET);
	ck_assert_uint_eq(cfg.listen[0].len, sizeof(struct sockaddr_in));
	ck_assert_uint_eq(cfg.nclients, 2);
	ck_assert_int_eq(cfg.clients[0].family, AF_INET);
	ck_assert_uint_eq(cfg.clients[0].prefix, 8);
	ck_assert_str_eq(inet_ntop(AF_INET, cfg.clients[0].addr, a,
	    sizeof(a)), "127.0.0.0");
	ck_assert_int_eq(cfg.clients[1].family, AF_INET6);
	ck_assert_uint_eq(cfg.clients[1].prefix, 128);
	ck_assert_str_eq(inet_ntop(AF_INET6, cfg.clients[1].addr, a,
	    sizeof(a)), "::1");
	ck_assert_uint_eq(cfg.nports, 1);
	ck_assert_uint_eq(cfg.ports[0].lo, 443);
	ck_assert_uint_eq(cfg.ports[0].hi, 443);
	ck_assert_uint_eq(cfg.ndests, 0);
	ck_assert_int_eq(cfg.header_timeout_ms, 10000);
	ck_assert_int_eq(cfg.connect_timeout_ms, 10000);
	ck_assert_int_eq(cfg.idle_timeout_ms, 300000);
	ck_assert_uint_eq(cfg.max_header_size, 8192);
	ck_assert_uint_eq(cfg.max_header_fields, 100);
	ck_assert_uint_eq(cfg.relay_buffer, 524288);
	ck_assert_uint_eq(cfg.workers_start, 4);
	ck_assert_uint_eq(cfg.workers_min_spare, 2);
	ck_assert_uint_eq(cfg.workers_max_spare, 8);
	ck_assert_uint_eq(cfg.workers_max, 2048);
	ck_assert_uint_eq(cfg.worker_max_tunnels, 0);
	ck_assert_uint_eq(cfg.max_tunnels_per_client, 0);
	ck_assert_uint_eq(cfg.listen_backlog, 65535);
	ck_assert_int_eq(cfg.when_full, WHEN_FULL_QUEUE);
	ck_assert_int_eq(cfg.drain_timeout_ms, 0);
	ck_assert_int_eq(cfg.shutdown_timeout_ms, 10000);
	ck_assert_str_eq(cfg.pidfile, "");
	ck_assert_str_eq(cfg.user, "");
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_INFO);
	config_free(&cfg);
	assert_empty(&cfg);
	config_free(&cfg);
}
END_TEST

START_TEST(test_scalars)
{
	struct config	cfg;

	parse_ok("header_timeout 2500ms\n"
	    "connect_timeout 3s\n"
	    "idle_timeout 5m\n"
	    "max_header_size 16K\n"
	    "max_header_fields 1000\n"
	    "relay_buffer 1M\n"
	    "workers_start 1024\n"
	    "workers_max 4096\n"
	    "user _connectproxy\n"
	    "log_level debug\n", &cfg);
	ck_assert_int_eq(cfg.header_timeout_ms, 2500);
	ck_assert_int_eq(cfg.connect_timeout_ms, 3000);
	ck_assert_int_eq(cfg.idle_timeout_ms, 300000);
	ck_assert_uint_eq(cfg.max_header_size, 16384);
	ck_assert_uint_eq(cfg.max_header_fields, 1000);
	ck_assert_uint_eq(cfg.relay_buffer, 1048576);
	ck_assert_uint_eq(cfg.workers_start, 1024);
	ck_assert_str_eq(cfg.user, "_connectproxy");
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	config_free(&cfg);

	parse_ok("idle_timeout 1h\nheader_timeout 7\nlog_level error\n"
	    "max_header_size 1024\nrelay_buffer 4k\nworkers_start 1\n"
	    "max_header_fields 1\nuser nobody\n", &cfg);
	ck_assert_int_eq(cfg.idle_timeout_ms, 3600000);
	ck_assert_int_eq(cfg.header_timeout_ms, 7000);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_ERROR);
	ck_assert_uint_eq(cfg.max_header_size, 1024);
	ck_assert_uint_eq(cfg.relay_buffer, 4096);
	ck_assert_uint_eq(cfg.workers_start, 1);
	ck_assert_uint_eq(cfg.max_header_fields, 1);
	ck_assert_str_eq(cfg.user, "nobody");
	config_free(&cfg);

	parse_ok("log_level warn\nmax_header_size 64K\nrelay_buffer 16M\n"
	    "user machine$\n", &cfg);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_WARN);
	ck_assert_uint_eq(cfg.max_header_size, 65536);
	ck_assert_uint_eq(cfg.relay_buffer, 16 * 1048576);
	ck_assert_str_eq(cfg.user, "machine$");
	config_free(&cfg);
}
END_TEST

START_TEST(test_pool)
{
	struct config	cfg;

	parse_ok("workers_start 8\nworkers_min_spare 0\n"
	    "workers_max_spare 16\nworkers_max 1000\n"
	    "worker_max_tunnels 500\nmax_tunnels_per_client 64\n"
	    "listen_backlog 1024\nwhen_full reject\ndrain_timeout 0\n"
	    "shutdown_timeout 2500ms\npidfile /run/cp/cp.pid\n", &cfg);
	ck_assert_uint_eq(cfg.workers_start, 8);
	ck_assert_uint_eq(cfg.workers_min_spare, 0);
	ck_assert_uint_eq(cfg.workers_max_spare, 16);
	ck_assert_uint_eq(cfg.workers_max, 1000);
	ck_assert_uint_eq(cfg.worker_max_tunnels, 500);
	ck_assert_uint_eq(cfg.max_tunnels_per_client, 64);
	ck_assert_uint_eq(cfg.listen_backlog, 1024);
	ck_assert_int_eq(cfg.when_full, WHEN_FULL_REJECT);
	ck_assert_int_eq(cfg.drain_timeout_ms, 0);
	ck_assert_int_eq(cfg.shutdown_timeout_ms, 2500);
	ck_assert_str_eq(cfg.pidfile, "/run/cp/cp.pid");
	config_free(&cfg);
	parse_ok("when_full queue\ndrain_timeout 1m\n", &cfg);
	ck_assert_int_eq(cfg.when_full, WHEN_FULL_QUEUE);
	ck_assert_int_eq(cfg.drain_timeout_ms, 60000);
	config_free(&cfg);
}
END_TEST

/*
 * Each pool bound holds with equality: a pool that starts at its maximum,
 * a spare range of one value, spares as many as the maximum.
 */
static const struct {
	const char	*text;
	unsigned	 start, min_spare, max_spare, max;
} pool_bounds[] = {
	{ "workers_start 16\nworkers_max 16\n", 16, 2, 8, 16 },
	{ "workers_max 16\nworkers_start 16\n", 16, 2, 8, 16 },
	{ "workers_max 4\n", 4, 2, 8, 4 },
	{ "workers_start 4096\nworkers_max 4096\n", 4096, 2, 8, 4096 },
	{ "workers_start 1\nworkers_max 1\nworkers_min_spare 1\n"
	  "workers_max_spare 1\n", 1, 1, 1, 1 },
	{ "workers_min_spare 8\n", 4, 8, 8, 2048 },
	{ "workers_start 2\nworkers_max 5\nworkers_min_spare 5\n"
	  "workers_max_spare 9\n", 2, 5, 9, 5 },
};

START_TEST(test_pool_bounds)
{
	struct config	cfg;

	parse_ok(pool_bounds[_i].text, &cfg);
	ck_assert_uint_eq(cfg.workers_start, pool_bounds[_i].start);
	ck_assert_uint_eq(cfg.workers_min_spare, pool_bounds[_i].min_spare);
	ck_assert_uint_eq(cfg.workers_max_spare, pool_bounds[_i].max_spare);
	ck_assert_uint_eq(cfg.workers_max, pool_bounds[_i].max);
	config_free(&cfg);
}
END_TEST

START_TEST(test_listen)
{
	struct config			 cfg;
	const struct sockaddr_in6	*sin6;
	const struct sockaddr_in	*sin;

	parse_ok("listen 0.0.0.0:8080\nlisten [::]:8080\n"
	    "listen [::1]:3128\nlisten 127.0.0.1:3128\n", &cfg);
	ck_assert_uint_eq(cfg.nlisten, 4);
	ck_assert_str_eq(cfg.listen[0].text, "0.0.0.0:8080");
	ck_assert_str_eq(cfg.listen[1].text, "[::]:8080");
	ck_assert_str_eq(cfg.listen[2].text, "[::1]:3128");
	ck_assert_str_eq(cfg.listen[3].text, "127.0.0.1:3128");
	sin = (const struct sockaddr_in *)(const void *)&cfg.listen[0].ss;
	ck_assert_int_eq(sin->sin_family, AF_INET);
	ck_assert_uint_eq(ntohs(sin->sin_port), 8080);
	sin6 = (const struct sockaddr_in6 *)(const void *)&cfg.listen[2].ss;
	ck_assert_int_eq(sin6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(sin6->sin6_port), 3128);
	ck_assert_uint_eq(cfg.listen[2].len, sizeof(struct sockaddr_in6));
	ck_assert(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	config_free(&cfg);
}
END_TEST

/*
 * proxy_protocol marks the address before it on its line only, and
 * proxy_protocol_from is matched as allow_client is.
 */
START_TEST(test_listen_proxy_protocol)
{
	struct config		cfg;
	struct sockaddr_in	sin;

	parse_ok("listen 127.0.0.1:1 proxy_protocol 127.0.0.1:2\n"
	    "listen [::1]:3 proxy_protocol\n"
	    "proxy_protocol_from 10.0.0.2 fd00::/8\n"
	    "proxy_protocol_from 192.168.7.0/24\n", &cfg);
	ck_assert_uint_eq(cfg.nlisten, 3);
	ck_assert_int_eq(cfg.listen[0].proxy_protocol, 1);
	ck_assert_int_eq(cfg.listen[1].proxy_protocol, 0);
	ck_assert_int_eq(cfg.listen[2].proxy_protocol, 1);
	ck_assert_uint_eq(cfg.nproxy_from, 3);
	ck_assert_ptr_null(cfg.warnings);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.168.7.9", &sin.sin_addr);
	ck_assert(policy_proxy_allowed(&cfg, (struct sockaddr *)&sin));
	inet_pton(AF_INET, "10.0.0.3", &sin.sin_addr);
	ck_assert(!policy_proxy_allowed(&cfg, (struct sockaddr *)&sin));
	config_free(&cfg);

	/* Balancers for no proxy_protocol listener: harmless, but said. */
	parse_ok("listen 127.0.0.1:1\nproxy_protocol_from 10.0.0.2\n", &cfg);
	ck_assert_int_eq(cfg.listen[0].proxy_protocol, 0);
	ck_assert_ptr_nonnull(cfg.warnings);
	ck_assert_msg(strstr(cfg.warnings, "test.conf:2: proxy_protocol_from: "
	    "no listen address has proxy_protocol") != NULL, "%s",
	    cfg.warnings);
	config_free(&cfg);
}
END_TEST

START_TEST(test_lists)
{
	struct config	cfg;
	char		a[INET6_ADDRSTRLEN];

	parse_ok("allow_client 192.168.1.0/24\nallow_client fd00::/8\n"
	    "allow_client 10.1.2.3\n"
	    "allow_port 443\nallow_port 8000-8080\nallow_port 1-65535\n",
	    &cfg);
	ck_assert_uint_eq(cfg.nclients, 3);
	ck_assert_int_eq(cfg.clients[0].family, AF_INET);
	ck_assert_uint_eq(cfg.clients[0].prefix, 24);
	ck_assert_str_eq(inet_ntop(AF_INET, cfg.clients[0].addr, a,
	    sizeof(a)), "192.168.1.0");
	ck_assert_int_eq(cfg.clients[1].family, AF_INET6);
	ck_assert_uint_eq(cfg.clients[1].prefix, 8);
	ck_assert_uint_eq(cfg.clients[2].prefix, 32);
	ck_assert_uint_eq(cfg.nports, 3);
	ck_assert_uint_eq(cfg.ports[0].lo, 443);
	ck_assert_uint_eq(cfg.ports[0].hi, 443);
	ck_assert_uint_eq(cfg.ports[1].lo, 8000);
	ck_assert_uint_eq(cfg.ports[1].hi, 8080);
	ck_assert_uint_eq(cfg.ports[2].lo, 1);
	ck_assert_uint_eq(cfg.ports[2].hi, 65535);
	/* An explicit list replaces the default; it is not added to it. */
	ck_assert_uint_eq(cfg.nlisten, 1);
	config_free(&cfg);
}
END_TEST

START_TEST(test_dests)
{
	struct config		 cfg;
	const struct dest_rule	*r;

	parse_ok("deny_dest Bad.Example.COM.\n"
	    "allow_dest .Corp.Example\n"
	    "allow_dest 192.168.1.10\n"
	    "deny_dest 10.0.0.0/8\n"
	    "allow_dest fd00::/8\n"
	    "allow_dest localhost\n"
	    "deny_dest _sip._tcp.example.net\n", &cfg);
	ck_assert_uint_eq(cfg.ndests, 7);
	r = cfg.dests;
	ck_assert_int_eq(r[0].allow, 0);
	ck_assert_int_eq(r[0].kind, DEST_NAME);
	ck_assert_str_eq(r[0].name, "bad.example.com");
	ck_assert_str_eq(r[0].text, "deny_dest Bad.Example.COM.");
	ck_assert_int_eq(r[1].allow, 1);
	ck_assert_int_eq(r[1].kind, DEST_SUFFIX);
	ck_assert_str_eq(r[1].name, ".corp.example");
	ck_assert_str_eq(r[1].text, "allow_dest .Corp.Example");
	ck_assert_int_eq(r[2].kind, DEST_CIDR);
	ck_assert_int_eq(r[2].cidr.family, AF_INET);
	ck_assert_uint_eq(r[2].cidr.prefix, 32);
	ck_assert_str_eq(r[2].text, "allow_dest 192.168.1.10");
	ck_assert_int_eq(r[3].allow, 0);
	ck_assert_int_eq(r[3].kind, DEST_CIDR);
	ck_assert_uint_eq(r[3].cidr.prefix, 8);
	ck_assert_int_eq(r[4].cidr.family, AF_INET6);
	ck_assert_int_eq(r[5].kind, DEST_NAME);
	ck_assert_str_eq(r[5].name, "localhost");
	ck_assert_str_eq(r[6].name, "_sip._tcp.example.net");
	config_free(&cfg);
}
END_TEST

START_TEST(test_name_lengths)
{
	struct config	cfg;
	char		text[400], label[64];

	/* 63-byte labels: four of them with dots make 255 bytes. */
	memset(label, 'a', 63);
	label[63] = '\0';
	snprintf(text, sizeof(text), "deny_dest %s.%s.%s.%s.\n", label, label,
	    label, label);
	parse_ok(text, &cfg);
	ck_assert_uint_eq(strlen(cfg.dests[0].name), 255);
	config_free(&cfg);
	/* A suffix stores its dot: 254 bytes of name at most. */
	snprintf(text, sizeof(text), "deny_dest .%s.%s.%s.%.62s\n", label,
	    label, label, label);
	parse_ok(text, &cfg);
	ck_assert_uint_eq(strlen(cfg.dests[0].name), 255);
	config_free(&cfg);
}
END_TEST


/*
 * One host-name rule: a name rule is accepted exactly when the request
 * parser takes the same name as a name (request_name_check()), save the
 * all-digit last label that only the configuration refuses.
 */
static const char *const agree_names[] = {
	"example.com", "a-b.example", "_sip._tcp.example", "1e100.net",
	"-a.example", "a-.example", "a.-b.example", "a.b-", "-", "a..b",
	"ex!ample.com", "a_-b", "xn--bcher-kva.example",
};

START_TEST(test_name_agreement)
{
	const char	*name = agree_names[_i];
	struct config	 cfg;
	char		 text[128], err[CONFIG_ERR_MAX];
	int		 valid;

	valid = request_name_check(name, strlen(name)) == NULL;
	snprintf(text, sizeof(text), "deny_dest %s\nallow_dest .%s\n", name,
	    name);
	ck_assert_msg((parse(text, &cfg, err) == 0) == valid,
	    "%s: request parser says %s, configuration says %s", name,
	    valid ? "valid" : "invalid", err[0] ? err : "valid");
	config_free(&cfg);
}
END_TEST

START_TEST(test_comments_blank)
{
	struct config	cfg;

	parse_ok("# a comment\n"
	    "\n"
	    "   \t  \n"
	    "\t# indented comment, with # inside and \x01 control\n"
	    "listen\t127.0.0.1:8080   # trailing comment\n"
	    "  allow_port\t\t8443 #8444\n"
	    "#listen 127.0.0.1:9\n"
	    "log_level warn", &cfg);
	ck_assert_uint_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen[0].text, "127.0.0.1:8080");
	ck_assert_uint_eq(cfg.nports, 1);
	ck_assert_uint_eq(cfg.ports[0].lo, 8443);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_WARN);
	config_free(&cfg);
}
END_TEST

/* CRLF is accepted (the CR is dropped) and does not shift line numbers. */
START_TEST(test_crlf)
{
	struct config	cfg;
	char		err[CONFIG_ERR_MAX];

	parse_ok("# windows\r\nlisten 127.0.0.1:8080\r\n\r\n"
	    "header_timeout 5s\r\nuser proxy\r\n", &cfg);
	ck_assert_str_eq(cfg.listen[0].text, "127.0.0.1:8080");
	ck_assert_int_eq(cfg.header_timeout_ms, 5000);
	ck_assert_str_eq(cfg.user, "proxy");
	config_free(&cfg);
	ck_assert_int_eq(parse("listen 127.0.0.1:1\r\n\r\nlisen x\r\n", &cfg,
	    err), -1);
	ck_assert_str_eq(err, "test.conf:3: unknown directive \"lisen\"");
	/* A CR anywhere but at the line end is a stray control character. */
	ck_assert_int_eq(parse("user a\rb\n", &cfg, err), -1);
	ck_assert_str_eq(err, "test.conf:1: control character in line");
}
END_TEST

/* List directives take several values a line, in the order written. */
START_TEST(test_several_values)
{
	struct config	cfg;
	char		a[INET6_ADDRSTRLEN];

	parse_ok("allow_port 443 8443\nallow_port 8000-8080\n"
	    "allow_client 10.0.0.0/8 192.168.0.0/16\n"
	    "deny_dest bad.example\t10.9.0.0/16\n"
	    "allow_dest 10.0.0.0/8 .corp.example\n"
	    "listen 127.0.0.1:3128 [::1]:3128\n", &cfg);
	ck_assert_uint_eq(cfg.nports, 3);
	ck_assert_uint_eq(cfg.ports[0].lo, 443);
	ck_assert_uint_eq(cfg.ports[1].lo, 8443);
	ck_assert_uint_eq(cfg.ports[2].hi, 8080);
	ck_assert_uint_eq(cfg.nclients, 2);
	ck_assert_str_eq(inet_ntop(AF_INET, cfg.clients[1].addr, a,
	    sizeof(a)), "192.168.0.0");
	ck_assert_uint_eq(cfg.clients[1].prefix, 16);
	/* Each value a rule of its own, in the order written. */
	ck_assert_uint_eq(cfg.ndests, 4);
	ck_assert_str_eq(cfg.dests[0].text, "deny_dest bad.example");
	ck_assert_str_eq(cfg.dests[1].text, "deny_dest 10.9.0.0/16");
	ck_assert_int_eq(cfg.dests[1].allow, 0);
	ck_assert_str_eq(cfg.dests[2].text, "allow_dest 10.0.0.0/8");
	ck_assert_int_eq(cfg.dests[2].allow, 1);
	ck_assert_str_eq(cfg.dests[3].text, "allow_dest .corp.example");
	ck_assert_uint_eq(cfg.nlisten, 2);
	ck_assert_str_eq(cfg.listen[0].text, "127.0.0.1:3128");
	ck_assert_str_eq(cfg.listen[1].text, "[::1]:3128");
	config_free(&cfg);
}
END_TEST

/* Quoted values: blanks and '#' inside, \" and \\ the only escapes. */
START_TEST(test_quotes)
{
	struct config	cfg;

	parse_ok("auth_realm \"Office proxy\"   # the realm\n"
	    "access_log \"/var/log/my proxy/#1.log\"\n"
	    "error_log \"/tmp/a\\\\b \\\"c\\\".log\"\n"
	    "deny_dest \"bad.example\" good.example\n"
	    "pidfile \"/run/cp.pid\"\n"
	    "user\t\"nobody\"\n", &cfg);
	ck_assert_str_eq(cfg.auth_realm, "Office proxy");
	ck_assert_str_eq(cfg.access_log_path, "/var/log/my proxy/#1.log");
	ck_assert_str_eq(cfg.error_log_path, "/tmp/a\\b \"c\".log");
	ck_assert_uint_eq(cfg.ndests, 2);
	ck_assert_str_eq(cfg.dests[0].name, "bad.example");
	ck_assert_str_eq(cfg.pidfile, "/run/cp.pid");
	ck_assert_str_eq(cfg.user, "nobody");
	config_free(&cfg);
	/* Unquoted, a realm's words are still joined with one blank. */
	parse_ok("auth_realm Office   proxy\n", &cfg);
	ck_assert_str_eq(cfg.auth_realm, "Office proxy");
	config_free(&cfg);
	/* Outside quotes a backslash is just a character. */
	parse_ok("pidfile /tmp/a\\b\n", &cfg);
	ck_assert_str_eq(cfg.pidfile, "/tmp/a\\b");
	config_free(&cfg);
}
END_TEST

/* syslog's "warning" is taken for "warn". */
START_TEST(test_log_level_warning)
{
	struct config	cfg;

	parse_ok("log_level warning\n", &cfg);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_WARN);
	config_free(&cfg);
}
END_TEST

/* Where each directive was given is kept for later checks' messages. */
START_TEST(test_locations)
{
	struct config	cfg;
	char		buf[128];

	parse_ok("# c\nuser nobody\n\nlisten 127.0.0.1:1 127.0.0.1:2\n"
	    "pidfile /run/x.pid\nupstream 192.0.2.1:3128\n", &cfg);
	ck_assert_uint_eq(config_at(&cfg, "user").line, 2);
	ck_assert_str_eq(config_where(&cfg, config_at(&cfg, "user"), buf,
	    sizeof(buf)), "test.conf:2");
	ck_assert_str_eq(config_where(&cfg, config_at(&cfg, "pidfile"), buf,
	    sizeof(buf)), "test.conf:5");
	ck_assert_uint_eq(cfg.listen[0].at.line, 4);
	ck_assert_uint_eq(cfg.listen[1].at.line, 4);
	ck_assert_uint_eq(cfg.upstreams[0].at_line, 6);
	/* Not given: the file alone; an unknown name: line 0. */
	ck_assert_uint_eq(config_at(&cfg, "auth_file").line, 0);
	ck_assert_str_eq(config_where(&cfg, config_at(&cfg, "auth_file"), buf,
	    sizeof(buf)), "test.conf");
	ck_assert_uint_eq(config_at(&cfg, "nosuch").line, 0);
	config_free(&cfg);
	/* A default list entry has no line. */
	parse_ok("user nobody\n", &cfg);
	ck_assert_uint_eq(cfg.listen[0].at.line, 0);
	config_free(&cfg);
}
END_TEST

struct bad_case {
	const char	*text;
	const char	*err;
};

static const struct bad_case bad_cases[] = {
	/* the frame: directives, arguments, repeats */
	{ "listen 127.0.0.1:1\nlisen 1.2.3.4:5\n",
	  "test.conf:2: unknown directive \"lisen\"" },
	{ "LISTEN 127.0.0.1:1\n", "test.conf:1: unknown directive \"LISTEN\"" },
	{ "\n\n# c\nlisten\n",
	  "test.conf:4: listen: expects at least 1 argument" },
	{ "pidfile /run/a.pid /run/b.pid\n",
	  "test.conf:1: pidfile: expects 1 argument" },
	{ "user a b c d e f g h i j k\n",
	  "test.conf:1: user: expects 1 argument" },
	{ "header_timeout 10s\n\nheader_timeout 5s\n",
	  "test.conf:3: header_timeout given twice (first at line 1)" },
	{ "\nlog_level info\nuser a\nlog_level info\n",
	  "test.conf:4: log_level given twice (first at line 2)" },
	{ "user a\vb\n", "test.conf:1: control character in line" },
	{ "user a\x7f\n", "test.conf:1: control character in line" },
	{ "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	  "test.conf:1: unknown directive "
	  "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...\"" },
	{ "\n\xc3\xa9t\xc3\xa9 1\n",
	  "test.conf:2: unknown directive \"??t??\"" },
	/* listen */
	{ "listen 127.0.0.1:3128\nlisten 127.0.0.1:3128\n",
	  "test.conf:2: listen: duplicate address \"127.0.0.1:3128\"" },
	{ "listen [::1]:80\nlisten [0:0::1]:80\n",
	  "test.conf:2: listen: duplicate address \"[::1]:80\"" },
	{ "listen localhost:3128\n", "test.conf:1: listen: bad address "
	  "\"localhost:3128\" (numeric IPv4:PORT or [IPv6]:PORT)" },
	{ "listen 127.0.0.1\n", "test.conf:1: listen: bad address "
	  "\"127.0.0.1\" (numeric IPv4:PORT or [IPv6]:PORT)" },
	{ "listen 127.0.0.1:0\n", "test.conf:1: listen: bad address "
	  "\"127.0.0.1:0\" (numeric IPv4:PORT or [IPv6]:PORT)" },
	{ "listen 127.0.0.1:65536\n", "test.conf:1: listen: bad address "
	  "\"127.0.0.1:65536\" (numeric IPv4:PORT or [IPv6]:PORT)" },
	{ "listen ::1:3128\n", "test.conf:1: listen: bad address "
	  "\"::1:3128\" (numeric IPv4:PORT or [IPv6]:PORT)" },
	{ "listen 127.1:3128\n", "test.conf:1: listen: bad address "
	  "\"127.1:3128\" (numeric IPv4:PORT or [IPv6]:PORT)" },
	/* allow_client */
	{ "allow_client 10.0.0.0/33\n", "test.conf:1: allow_client: bad CIDR "
	  "\"10.0.0.0/33\" (prefix length 0 to 32)" },
	{ "allow_client 10.0.0.1/8\n", "test.conf:1: allow_client: 10.0.0.1/8: "
	  "host bits set (did you mean 10.0.0.0/8?)" },
	{ "allow_client lan\n", "test.conf:1: allow_client: bad CIDR \"lan\" "
	  "(not an IPv4 or IPv6 address)" },
	{ "allow_client fe80::1%eth0\n", "test.conf:1: allow_client: bad CIDR "
	  "\"fe80::1%eth0\" (not an IPv4 or IPv6 address)" },
	{ "allow_client fd00::1/8\n", "test.conf:1: allow_client: fd00::1/8: "
	  "host bits set (did you mean fd00::/8?)" },
	{ "allow_client 10.0.0.0/08\n", "test.conf:1: allow_client: bad CIDR "
	  "\"10.0.0.0/08\" (prefix length 0 to 32)" },
	{ "allow_client ::/129\n", "test.conf:1: allow_client: bad CIDR "
	  "\"::/129\" (prefix length 0 to 128)" },
	{ "allow_client 10.0.0.0/\n", "test.conf:1: allow_client: bad CIDR "
	  "\"10.0.0.0/\" (prefix length 0 to 32)" },
	{ "allow_client /8\n", "test.conf:1: allow_client: bad CIDR \"/8\" "
	  "(not an IPv4 or IPv6 address)" },
	/* several values a line: the one at fault is named */
	{ "allow_client 10.0.0.0/8 192.168.1.1/24 172.16.0.0/12\n",
	  "test.conf:1: allow_client: 192.168.1.1/24: host bits set (did you "
	  "mean 192.168.1.0/24?)" },
	{ "allow_port 443 https\n",
	  "test.conf:1: allow_port: bad port range \"https\"" },
	{ "listen 127.0.0.1:1 127.0.0.1:1\n",
	  "test.conf:1: listen: duplicate address \"127.0.0.1:1\"" },
	/* allow_port */
	{ "\n\n\n\nallow_port 70000\n",
	  "test.conf:5: allow_port: bad port range \"70000\"" },
	{ "allow_port 0\n",
	  "test.conf:1: allow_port: bad port range \"0\"" },
	{ "allow_port 90-80\n",
	  "test.conf:1: allow_port: bad port range \"90-80\"" },
	{ "allow_port 80-\n",
	  "test.conf:1: allow_port: bad port range \"80-\"" },
	{ "allow_port -80\n",
	  "test.conf:1: allow_port: bad port range \"-80\"" },
	{ "allow_port +80\n",
	  "test.conf:1: allow_port: bad port range \"+80\"" },
	{ "allow_port 80-90-100\n",
	  "test.conf:1: allow_port: bad port range \"80-90-100\"" },
	{ "allow_port https\n",
	  "test.conf:1: allow_port: bad port range \"https\"" },
	{ "allow_port 1-65536\n",
	  "test.conf:1: allow_port: bad port range \"1-65536\"" },
	{ "allow_port 99999999999999999999999\n", "test.conf:1: allow_port: "
	  "bad port range \"99999999999999999999999\"" },
	/* allow_dest, deny_dest */
	{ "deny_dest foo!.com\n",
	  "test.conf:1: deny_dest: bad host name \"foo!.com\"" },
	{ "deny_dest a..b\n",
	  "test.conf:1: deny_dest: bad host name \"a..b\"" },
	{ "deny_dest 127.1\n",
	  "test.conf:1: deny_dest: bad host name \"127.1\"" },
	{ "deny_dest *.example.com\n", "test.conf:1: deny_dest: bad host name "
	  "\"*.example.com\" (write .domain for a domain and every name "
	  "below it)" },
	{ "deny_dest .\n", "test.conf:1: deny_dest: bad domain suffix \".\"" },
	{ "deny_dest ..com\n",
	  "test.conf:1: deny_dest: bad domain suffix \"..com\"" },
	{ "allow_dest example.com:443\n", "test.conf:1: allow_dest: "
	  "bad address or CIDR \"example.com:443\" (not an IPv4 or IPv6 "
	  "address)" },
	{ "allow_dest 10.0.0.0/33\n", "test.conf:1: allow_dest: bad address "
	  "or CIDR \"10.0.0.0/33\" (prefix length 0 to 32)" },
	{ "allow_dest 192.168.1.1/24\n", "test.conf:1: allow_dest: "
	  "192.168.1.1/24: host bits set (did you mean 192.168.1.0/24?)" },
	{ "deny_dest .example.com 10.1.2.3/16\n", "test.conf:1: deny_dest: "
	  "10.1.2.3/16: host bits set (did you mean 10.1.0.0/16?)" },
	/* a hyphen at either end of a label, as the request parser says */
	{ "deny_dest -a.example\n",
	  "test.conf:1: deny_dest: bad host name \"-a.example\"" },
	{ "allow_dest a-.example\n",
	  "test.conf:1: allow_dest: bad host name \"a-.example\"" },
	{ "deny_dest .-corp.example\n",
	  "test.conf:1: deny_dest: bad domain suffix \".-corp.example\"" },
	{ "allow_dest .corp-.example\n",
	  "test.conf:1: allow_dest: bad domain suffix \".corp-.example\"" },
	/* a 64-byte label */
	{ "deny_dest aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaa.com\n", "test.conf:1: deny_dest: bad host name "
	  "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\"" },
	/* durations */
	{ "header_timeout 10x\n", "test.conf:1: header_timeout: bad duration "
	  "\"10x\" (seconds, or a number with ms, s, m or h)" },
	{ "header_timeout 1.5s\n", "test.conf:1: header_timeout: bad duration "
	  "\"1.5s\" (seconds, or a number with ms, s, m or h)" },
	{ "connect_timeout -1\n", "test.conf:1: connect_timeout: bad duration "
	  "\"-1\" (seconds, or a number with ms, s, m or h)" },
	{ "connect_timeout 0\n",
	  "test.conf:1: connect_timeout: must be greater than 0" },
	{ "header_timeout 0ms\n",
	  "test.conf:1: header_timeout: must be greater than 0" },
	{ "idle_timeout 0s\n",
	  "test.conf:1: idle_timeout: must be greater than 0" },
	{ "idle_timeout 9000h\n", "test.conf:1: idle_timeout: duration "
	  "\"9000h\" too long (max 1 year)" },
	/* sizes and counts */
	{ "max_header_size 512\n", "test.conf:1: max_header_size: \"512\" "
	  "out of range (1024 to 65536 bytes)" },
	{ "max_header_size 65K\n", "test.conf:1: max_header_size: \"65K\" "
	  "out of range (1024 to 65536 bytes)" },
	{ "max_header_size 0\n", "test.conf:1: max_header_size: size \"0\" "
	  "out of range (1 byte to 1024M)" },
	{ "relay_buffer 1G\n", "test.conf:1: relay_buffer: bad size \"1G\" "
	  "(bytes, or a number with K or M)" },
	{ "relay_buffer 2K\n", "test.conf:1: relay_buffer: \"2K\" "
	  "out of range (4096 to 16777216 bytes)" },
	{ "relay_buffer 17M\n", "test.conf:1: relay_buffer: \"17M\" "
	  "out of range (4096 to 16777216 bytes)" },
	{ "max_header_fields 0\n", "test.conf:1: max_header_fields: \"0\" "
	  "out of range (1 to 1000)" },
	{ "max_header_fields 1001\n", "test.conf:1: max_header_fields: "
	  "\"1001\" out of range (1 to 1000)" },
	{ "max_header_fields 1K\n",
	  "test.conf:1: max_header_fields: bad number \"1K\"" },
	{ "workers_start 0\n", "test.conf:1: workers_start: \"0\" "
	  "out of range (1 to 4096)" },
	{ "workers_start 4097\n", "test.conf:1: workers_start: \"4097\" "
	  "out of range (1 to 4096)" },
	/*
	 * The pool's sizes, checked together after the last line: the line
	 * blamed is the later of the two (a default has none).  One above
	 * the bound is refused; test_pool_bounds accepts the bound itself.
	 */
	{ "workers_start 3000\n", "test.conf:1: workers_start 3000 is above "
	  "workers_max 2048" },
	{ "workers_max 8\nworkers_start 9\n", "test.conf:2: workers_start 9 "
	  "is above workers_max 8" },
	{ "workers_start 17\n# sized for the office\nworkers_max 16\n",
	  "test.conf:3: workers_start 17 is above workers_max 16" },
	{ "workers_max 3\n", "test.conf:1: workers_start 4 is above "
	  "workers_max 3" },
	{ "workers_start 4096\nworkers_max 4095\n", "test.conf:2: "
	  "workers_start 4096 is above workers_max 4095" },
	{ "workers_min_spare 9\n", "test.conf:1: workers_min_spare 9 is "
	  "above workers_max_spare 8" },
	{ "workers_max_spare 5\nworkers_min_spare 6\n", "test.conf:2: "
	  "workers_min_spare 6 is above workers_max_spare 5" },
	{ "workers_max 4\nworkers_start 1\nworkers_min_spare 5\n"
	  "workers_max_spare 6\n", "test.conf:3: workers_min_spare 5 is "
	  "above workers_max 4" },
	{ "workers_max 0\n", "test.conf:1: workers_max: \"0\" "
	  "out of range (1 to 4096)" },
	{ "workers_max_spare 0\n", "test.conf:1: workers_max_spare: \"0\" "
	  "out of range (1 to 4096)" },
	{ "listen_backlog 0\n", "test.conf:1: listen_backlog: \"0\" "
	  "out of range (1 to 65535)" },
	{ "max_tunnels_per_client -1\n",
	  "test.conf:1: max_tunnels_per_client: bad number \"-1\"" },
	{ "when_full drop\n", "test.conf:1: when_full: bad mode \"drop\" "
	  "(queue or reject)" },
	{ "shutdown_timeout 0\n",
	  "test.conf:1: shutdown_timeout: must be greater than 0" },
	{ "drain_timeout soon\n",
	  "test.conf:1: drain_timeout: bad duration \"soon\" "
	  "(seconds, or a number with ms, s, m or h)" },
	{ "workers_start many\n",
	  "test.conf:1: workers_start: bad number \"many\"" },
	/* user, log_level */
	{ "user -root\n", "test.conf:1: user: bad user name \"-root\"" },
	{ "user r@@t\n", "test.conf:1: user: bad user name \"r@@t\"" },
	{ "user $\n", "test.conf:1: user: bad user name \"$\"" },
	{ "user 1000\n", "test.conf:1: user: bad user name \"1000\" "
	  "(give a name, not a uid)" },
	{ "user uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu"
	  "uu\n", "test.conf:1: user: bad user name "
	  "\"uuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu...\"" },
	{ "log_level INFO\n", "test.conf:1: log_level: bad level \"INFO\" "
	  "(error, warn, info or debug)" },
	{ "log_level verbose\n", "test.conf:1: log_level: bad level "
	  "\"verbose\" (error, warn, info or debug)" },
	{ "log_level WARNING\n", "test.conf:1: log_level: bad level "
	  "\"WARNING\" (error, warn, info or debug)" },
	/* quoted values */
	{ "\nauth_realm \"Office proxy\n", "test.conf:2: unterminated "
	  "quoted value (the closing \" is missing)" },
	{ "auth_realm \"Office\\ proxy\"\n", "test.conf:1: bad escape in "
	  "quoted value (only \\\" and \\\\)" },
	{ "auth_realm \"Office\\\n", "test.conf:1: bad escape in "
	  "quoted value (only \\\" and \\\\)" },
	{ "auth_realm Bob's\"proxy\"\n",
	  "test.conf:1: quote inside a word (quote the whole value)" },
	{ "auth_realm \"Office\"proxy\n",
	  "test.conf:1: a blank must follow a quoted value" },
	{ "auth_realm \"Office\"#x\n",
	  "test.conf:1: a blank must follow a quoted value" },
	{ "auth_realm \"a\tb\"\n", "test.conf:1: control character in line" },
	{ "pidfile \"\"\n", "test.conf:1: pidfile: bad path \"\"" },
	{ "user \"\"\n", "test.conf:1: user: bad user name \"\"" },
	{ "auth_realm \"a\\\"b\"\n", "test.conf:1: auth_realm: bad realm "
	  "\"a\"b\" (no quotes, backslashes or control characters)" },
	/* include needs a file to be relative to (config_parse_file) */
	{ "include x.conf\n",
	  "test.conf:1: include: only in a file (config_parse_file)" },
	/* max_tunnels_ipv6_prefix */
	{ "\nmax_tunnels_ipv6_prefix 31\n", "test.conf:2: "
	  "max_tunnels_ipv6_prefix: \"31\" out of range (32 to 128)" },
	{ "max_tunnels_ipv6_prefix 129\n", "test.conf:1: "
	  "max_tunnels_ipv6_prefix: \"129\" out of range (32 to 128)" },
	{ "max_tunnels_ipv6_prefix /64\n", "test.conf:1: "
	  "max_tunnels_ipv6_prefix: bad number \"/64\"" },
	/* listen ... proxy_protocol, proxy_protocol_from */
	{ "listen proxy_protocol 127.0.0.1:1\n", "test.conf:1: listen: "
	  "proxy_protocol must follow the address it applies to" },
	{ "listen 127.0.0.1:1\nlisten proxy_protocol\n", "test.conf:2: "
	  "listen: proxy_protocol must follow the address it applies to" },
	{ "listen 127.0.0.1:1 proxy_protocol proxy_protocol\n",
	  "test.conf:1: listen: proxy_protocol given twice for 127.0.0.1:1" },
	{ "listen 127.0.0.1:1 proxy-protocol\n", "test.conf:1: listen: bad "
	  "address \"proxy-protocol\" (numeric IPv4:PORT or [IPv6]:PORT)" },
	{ "listen 127.0.0.1:1\n\nlisten 127.0.0.1:2 proxy_protocol\n",
	  "test.conf:3: listen 127.0.0.1:2 proxy_protocol: no "
	  "proxy_protocol_from names the balancers that may send the header" },
	{ "proxy_protocol_from 10.0.0.1/8\n", "test.conf:1: "
	  "proxy_protocol_from: 10.0.0.1/8: host bits set (did you mean "
	  "10.0.0.0/8?)" },
	{ "proxy_protocol_from balancer.lan\n", "test.conf:1: "
	  "proxy_protocol_from: bad CIDR \"balancer.lan\" (not an IPv4 or "
	  "IPv6 address)" },
	/* connect_attempt_delay: RFC 8305's bounds */
	{ "connect_attempt_delay 9ms\n", "test.conf:1: connect_attempt_delay: "
	  "\"9ms\" out of range (10ms to 2000ms)" },
	{ "connect_attempt_delay 0\n", "test.conf:1: connect_attempt_delay: "
	  "\"0\" out of range (10ms to 2000ms)" },
	{ "connect_attempt_delay 3s\n", "test.conf:1: connect_attempt_delay: "
	  "\"3s\" out of range (10ms to 2000ms)" },
	{ "connect_attempt_delay 2001ms\n", "test.conf:1: "
	  "connect_attempt_delay: \"2001ms\" out of range (10ms to 2000ms)" },
};

/* Every error: exact message and line, and cfg left empty, not leaked. */
START_TEST(test_bad)
{
	const struct bad_case	*c = &bad_cases[_i];
	struct config		 cfg;
	char			 err[CONFIG_ERR_MAX];

	ck_assert_int_eq(parse(c->text, &cfg, err), -1);
	ck_assert_str_eq(err, c->err);
	assert_empty(&cfg);
	config_free(&cfg);
}
END_TEST

/* A valid value for every directive, to drive the arity and repeat tests. */
static const struct {
	const char	*name;
	const char	*value;
	int		 repeatable;
} directives[] = {
	{ "listen",		"127.0.0.1:3128",	1 },
	{ "allow_client",	"10.0.0.0/8",		1 },
	{ "allow_port",		"443",			1 },
	{ "allow_dest",		"192.168.1.0/24",	1 },
	{ "deny_dest",		".example.com",		1 },
	{ "header_timeout",	"10s",			0 },
	{ "connect_timeout",	"10s",			0 },
	{ "idle_timeout",	"300s",			0 },
	{ "max_header_size",	"8K",			0 },
	{ "max_header_fields",	"100",			0 },
	{ "relay_buffer",	"64K",			0 },
	{ "workers_start",	"16",			0 },
	{ "workers_min_spare",	"2",			0 },
	{ "workers_max_spare",	"8",			0 },
	{ "workers_max",	"256",			0 },
	{ "worker_max_tunnels",	"1000",			0 },
	{ "max_tunnels_per_client", "64",		0 },
	{ "listen_backlog",	"511",			0 },
	{ "when_full",		"reject",		0 },
	{ "drain_timeout",	"0",			0 },
	{ "shutdown_timeout",	"10s",			0 },
	{ "pidfile",		"/run/connectproxy.pid", 0 },
	{ "user",		"nobody",		0 },
	{ "log_level",		"info",			0 },
	{ "auth_file",		"/etc/connectproxy/users", 0 },
	{ "max_tunnels_ipv6_prefix", "56",		0 },
	{ "pac_file",		"/etc/connectproxy/proxy.pac", 0 },
	{ "proxy_protocol_from", "10.0.0.2",		1 },
	{ "connect_attempt_delay", "100ms",		0 },
};

START_TEST(test_arity_and_repeat)
{
	struct config	cfg;
	char		text[256], want[CONFIG_ERR_MAX], err[CONFIG_ERR_MAX];
	const char	*n = directives[_i].name, *v = directives[_i].value;

	snprintf(text, sizeof(text), "%s %s\n", n, v);
	parse_ok(text, &cfg);
	config_free(&cfg);

	snprintf(text, sizeof(text), "# x\n%s\n", n);
	snprintf(want, sizeof(want), "test.conf:2: %s: expects %s1 argument",
	    n, directives[_i].repeatable ? "at least " : "");
	ck_assert_int_eq(parse(text, &cfg, err), -1);
	ck_assert_str_eq(err, want);

	/* A list takes several values a line; the others take one. */
	snprintf(text, sizeof(text), "%s %s %s\n", n, v, v);
	snprintf(want, sizeof(want), "test.conf:1: %s: expects 1 argument", n);
	if (strcmp(n, "listen") == 0)
		snprintf(want, sizeof(want), "test.conf:1: listen: duplicate "
		    "address \"%s\"", v);
	if (directives[_i].repeatable && strcmp(n, "listen") != 0) {
		parse_ok(text, &cfg);
		config_free(&cfg);
	} else {
		ck_assert_int_eq(parse(text, &cfg, err), -1);
		ck_assert_str_eq(err, want);
	}

	/* Repeatable lists may hold the same value twice, except listen. */
	snprintf(text, sizeof(text), "%s %s\n\n%s %s\n", n, v, n, v);
	if (strcmp(n, "listen") == 0)
		snprintf(want, sizeof(want), "test.conf:3: listen: duplicate "
		    "address \"%s\"", v);
	else
		snprintf(want, sizeof(want), "test.conf:3: %s given twice "
		    "(first at line 1)", n);
	if (directives[_i].repeatable && strcmp(n, "listen") != 0) {
		parse_ok(text, &cfg);
		config_free(&cfg);
		return;
	}
	ck_assert_int_eq(parse(text, &cfg, err), -1);
	ck_assert_str_eq(err, want);
	assert_empty(&cfg);
}
END_TEST

START_TEST(test_listen_cap)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_MAX];
	char		 text[CONFIG_LISTEN_MAX * 32 + 64], *p = text;
	unsigned	 i;

	for (i = 1; i <= CONFIG_LISTEN_MAX; i++)
		p += sprintf(p, "listen 127.0.0.1:%u\n", 20000 + i);
	parse_ok(text, &cfg);
	ck_assert_uint_eq(cfg.nlisten, CONFIG_LISTEN_MAX);
	config_free(&cfg);
	sprintf(p, "listen [::1]:20000\n");
	ck_assert_int_eq(parse(text, &cfg, err), -1);
	ck_assert_str_eq(err, "test.conf:65: listen: too many addresses "
	    "(max 64)");
	assert_empty(&cfg);
}
END_TEST

/* Build "allow_port 1\nallow_port 2\n..." with n lines. */
static char *
port_lines(unsigned n)
{
	char		*text, *p;
	unsigned	 i;

	ck_assert_ptr_nonnull(text = malloc((size_t)n * 20 + 1));
	p = text;
	for (i = 1; i <= n; i++)
		p += sprintf(p, "allow_port %u\n", i);
	return text;
}

START_TEST(test_list_cap)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_MAX];
	char		*text;

	text = port_lines(1024);
	parse_ok(text, &cfg);
	ck_assert_uint_eq(cfg.nports, 1024);
	ck_assert_uint_eq(cfg.ports[1023].lo, 1024);
	config_free(&cfg);
	free(text);
	text = port_lines(1025);
	ck_assert_int_eq(parse(text, &cfg, err), -1);
	ck_assert_str_eq(err,
	    "test.conf:1025: allow_port: too many entries (max 1024)");
	assert_empty(&cfg);
	free(text);
}
END_TEST

START_TEST(test_line_length)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_MAX];
	char		*text;

	ck_assert_ptr_nonnull(text = malloc(4200));
	/* 4096 bytes of comment, then a CR that does not count. */
	strcpy(text, "user a\n");
	memset(text + 7, '#', 4096);
	strcpy(text + 7 + 4096, "\r\nlog_level debug\n");
	parse_ok(text, &cfg);
	ck_assert_int_eq(cfg.log_level, LOG_LEVEL_DEBUG);
	config_free(&cfg);
	memset(text + 7, '#', 4097);
	strcpy(text + 7 + 4097, "\nlog_level debug\n");
	ck_assert_int_eq(parse(text, &cfg, err), -1);
	ck_assert_str_eq(err, "test.conf:2: line too long (max 4096 bytes)");
	assert_empty(&cfg);
	free(text);
}
END_TEST

static const struct {
	const char	*s;
	int		 ok;
	long long	 ms;
} durations[] = {
	{ "10", 1, 10000 },
	{ "0", 1, 0 },
	{ "250ms", 1, 250 },
	{ "10s", 1, 10000 },
	{ "5m", 1, 300000 },
	{ "1h", 1, 3600000 },
	{ "8759h", 1, 8759LL * 3600000 },
	{ "31535999999ms", 1, 31535999999LL },
	{ "31536000000ms", 0, 0 },
	{ "8760h", 0, 0 },
	{ "525600m", 0, 0 },
	{ "31536000", 0, 0 },
	{ "18446744073709551616", 0, 0 },
	{ "99999999999999999999h", 0, 0 },
	{ "", 0, 0 },
	{ "s", 0, 0 },
	{ "ms", 0, 0 },
	{ "10S", 0, 0 },
	{ "10 s", 0, 0 },
	{ " 10", 0, 0 },
	{ "+10", 0, 0 },
	{ "-10", 0, 0 },
	{ "0x10", 0, 0 },
	{ "10sec", 0, 0 },
	{ "10d", 0, 0 },
	{ "1.5", 0, 0 },
	{ "10mss", 0, 0 },
};

START_TEST(test_duration)
{
	long long	ms = -1;
	char		err[CONFIG_ERR_MAX] = "";
	int		rc;

	rc = config_parse_duration(durations[_i].s, &ms, err, sizeof(err));
	ck_assert_msg(rc == (durations[_i].ok ? 0 : -1), "\"%s\": rc %d",
	    durations[_i].s, rc);
	if (durations[_i].ok)
		ck_assert_int_eq(ms, durations[_i].ms);
	else
		ck_assert_msg(err[0] != '\0' && ms == -1, "\"%s\"",
		    durations[_i].s);
}
END_TEST

static const struct {
	const char	*s;
	int		 ok;
	size_t		 size;
} sizes[] = {
	{ "1", 1, 1 },
	{ "8192", 1, 8192 },
	{ "8K", 1, 8192 },
	{ "8k", 1, 8192 },
	{ "1M", 1, 1048576 },
	{ "16m", 1, 16777216 },
	{ "1024M", 1, 1073741824 },
	{ "1048576K", 1, 1073741824 },
	{ "1073741824", 1, 1073741824 },
	{ "1073741825", 0, 0 },
	{ "1025M", 0, 0 },
	{ "0", 0, 0 },
	{ "0K", 0, 0 },
	{ "", 0, 0 },
	{ "K", 0, 0 },
	{ "1G", 0, 0 },
	{ "1KB", 0, 0 },
	{ "1 K", 0, 0 },
	{ "-1", 0, 0 },
	{ "+1", 0, 0 },
	{ "1.5K", 0, 0 },
	{ "18446744073709551616", 0, 0 },
	{ "18014398509481984K", 0, 0 },
};

START_TEST(test_size)
{
	size_t	size = 7;
	char	err[CONFIG_ERR_MAX] = "";
	int	rc;

	rc = config_parse_size(sizes[_i].s, &size, err, sizeof(err));
	ck_assert_msg(rc == (sizes[_i].ok ? 0 : -1), "\"%s\": rc %d",
	    sizes[_i].s, rc);
	if (sizes[_i].ok)
		ck_assert_uint_eq(size, sizes[_i].size);
	else
		ck_assert_msg(err[0] != '\0' && size == 7, "\"%s\"",
		    sizes[_i].s);
}
END_TEST

START_TEST(test_parser_messages)
{
	long long	ms;
	size_t		size;
	char		err[CONFIG_ERR_MAX];

	ck_assert_int_eq(config_parse_duration("5y", &ms, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "bad duration \"5y\" (seconds, or a number "
	    "with ms, s, m or h)");
	ck_assert_int_eq(config_parse_size("2G", &size, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "bad size \"2G\" (bytes, or a number with K "
	    "or M)");
	/* A short buffer truncates, never overflows. */
	ck_assert_int_eq(config_parse_size("2G", &size, err, 5), -1);
	ck_assert_str_eq(err, "bad ");
}
END_TEST

/* Write len bytes to a fresh temporary file; its name goes to path. */
static void
write_temp(char *path, const char *data, size_t len)
{
	int	fd;

	strcpy(path, "/tmp/check_config.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

START_TEST(test_load_missing)
{
	struct config	cfg;
	char		err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];

	ck_assert_int_eq(config_load("/nonexistent/connectproxy.conf", &cfg,
	    err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "/nonexistent/connectproxy.conf: %s",
	    strerror(ENOENT));
	ck_assert_str_eq(err, want);
	assert_empty(&cfg);
	config_free(&cfg);
	ck_assert_int_eq(config_load("/tmp", &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "/tmp: %s", strerror(EISDIR));
	ck_assert_str_eq(err, want);
	assert_empty(&cfg);
}
END_TEST

START_TEST(test_load_files)
{
	static const char	 good[] = "listen 127.0.0.1:8080\r\n";
	static const char	 bad[] = "listen 127.0.0.1:8080\n\nuser a b\n";
	static const char	 nul[] = "user a\nuser\0b\n";
	struct config		 cfg;
	char			 path[64], err[CONFIG_ERR_MAX];
	char			 want[CONFIG_ERR_MAX];

	write_temp(path, good, sizeof(good) - 1);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.listen[0].text, "127.0.0.1:8080");
	config_free(&cfg);
	unlink(path);

	write_temp(path, bad, sizeof(bad) - 1);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: user: expects 1 argument", path);
	ck_assert_str_eq(err, want);
	assert_empty(&cfg);
	unlink(path);

	write_temp(path, nul, sizeof(nul) - 1);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	ck_assert_str_eq(err, want);
	unlink(path);
}
END_TEST

START_TEST(test_load_too_large)
{
	struct config	 cfg;
	char		 path[64], err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];
	char		*big;
	size_t		 len = 1024 * 1024;

	/* Exactly 1 MiB of comments is accepted; one byte more is not. */
	ck_assert_ptr_nonnull(big = malloc(len + 1));
	memset(big, '\n', len + 1);
	big[0] = '#';
	write_temp(path, big, len);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), 0);
	config_free(&cfg);
	unlink(path);
	write_temp(path, big, len + 1);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: file too large (max 1048576 bytes)",
	    path);
	ck_assert_str_eq(err, want);
	assert_empty(&cfg);
	unlink(path);
	free(big);
}
END_TEST

/* Write len bytes of data to path. */
static void
write_at(const char *path, const char *data, size_t len)
{
	FILE	*f;

	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Write text to dir/name, making the directories on the way. */
static void
put(const char *dir, const char *name, const char *text)
{
	char	path[512], *slash;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		ck_assert_msg(mkdir(path, 0700) == 0 || errno == EEXIST,
		    "mkdir %s", path);
		*slash = '/';
	}
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

/* config_parse_file() of dir/name: the error (or "" when it parsed). */
static int
parse_in(const char *dir, const char *name, struct config *cfg, char *err)
{
	char	path[512];
	int	rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	err[0] = '\0';
	rc = config_parse_file(path, cfg, err, CONFIG_ERR_MAX);
	return rc;
}

/* config_parse_file() of dir/name fails with the message fmt makes. */
static void	expect_err(const char *, const char *, const char *, ...)
		    __attribute__((__format__(__printf__, 3, 4)));

static void
expect_err(const char *dir, const char *name, const char *fmt, ...)
{
	struct config	cfg;
	char		err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	ck_assert_int_eq(parse_in(dir, name, &cfg, err), -1);
	ck_assert_str_eq(err, want);
	assert_empty(&cfg);
}

static void
rm_tree(const char *dir)
{
	char	cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* include: a glob, relative to the including file, in sorted order. */
START_TEST(test_include)
{
	static const char nul[] = "deny_dest b.example\nuser\0x\n";
	char		dir[] = "/tmp/check_config.XXXXXX", path[512];
	char		err[CONFIG_ERR_MAX];
	struct config	cfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	put(dir, "main.conf", "user nobody\ninclude rules.d/*.conf\n"
	    "allow_port 443\n");
	put(dir, "rules.d/b.conf", "deny_dest b.example\n"
	    "include more/x.conf\n");
	put(dir, "rules.d/a.conf", "deny_dest a.example a2.example\n# c\n"
	    "allow_dest 10.0.0.0/8\n");
	put(dir, "rules.d/more/x.conf", "deny_dest x.example\n");
	put(dir, "rules.d/c.txt", "bogus\n");
	ck_assert_msg(parse_in(dir, "main.conf", &cfg, err) == 0, "%s", err);
	ck_assert_uint_eq(cfg.ndests, 5);
	ck_assert_str_eq(cfg.dests[0].name, "a.example");
	ck_assert_str_eq(cfg.dests[1].name, "a2.example");
	ck_assert_int_eq(cfg.dests[2].allow, 1);
	ck_assert_str_eq(cfg.dests[3].name, "b.example");
	ck_assert_str_eq(cfg.dests[4].name, "x.example");
	ck_assert_uint_eq(cfg.nports, 1);
	ck_assert_uint_eq(cfg.nfiles, 4);
	snprintf(path, sizeof(path), "%s/rules.d/more/x.conf", dir);
	ck_assert_str_eq(cfg.files[3], path);
	ck_assert_ptr_null(cfg.warnings);
	config_free(&cfg);

	/* An error names the included file and its line. */
	put(dir, "rules.d/b.conf", "deny_dest b.example\n"
	    "deny_dest 10.0.0.1/8\n");
	expect_err(dir, "main.conf", "%s/rules.d/b.conf:2: deny_dest: "
	    "10.0.0.1/8: host bits set (did you mean 10.0.0.0/8?)", dir);
	/* A directive that may be given once, again in another file. */
	put(dir, "rules.d/b.conf", "\nuser other\n");
	expect_err(dir, "main.conf", "%s/rules.d/b.conf:2: user given twice "
	    "(first at %s/main.conf:1)", dir, dir);
	snprintf(path, sizeof(path), "%s/rules.d/b.conf", dir);
	write_at(path, nul, sizeof(nul) - 1);
	expect_err(dir, "main.conf", "%s/rules.d/b.conf:2: NUL byte in line",
	    dir);
	rm_tree(dir);
}
END_TEST

START_TEST(test_include_errors)
{
	char		dir[] = "/tmp/check_config.XXXXXX", name[32];
	char		err[CONFIG_ERR_MAX], text[64];
	struct config	cfg;
	int		i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* A plain path must exist; a pattern may match nothing. */
	put(dir, "missing.conf", "\ninclude nothing.conf\n");
	expect_err(dir, "missing.conf", "%s/missing.conf:2: include "
	    "%s/nothing.conf: No such file or directory", dir, dir);
	put(dir, "empty.conf", "include none.d/*.conf\n");
	ck_assert_int_eq(parse_in(dir, "empty.conf", &cfg, err), 0);
	snprintf(text, sizeof(text), "/empty.conf:1: include ");
	ck_assert_ptr_nonnull(cfg.warnings);
	ck_assert_ptr_nonnull(strstr(cfg.warnings, text));
	ck_assert_ptr_nonnull(strstr(cfg.warnings,
	    "/none.d/*.conf matches no file\n"));
	config_free(&cfg);
	/* A file that includes itself, directly or through another. */
	put(dir, "self.conf", "include self.conf\n");
	expect_err(dir, "self.conf", "%s/self.conf:1: include %s/self.conf: "
	    "a loop (that file is being read already)", dir, dir);
	put(dir, "a.conf", "allow_port 443\ninclude b.conf\n");
	put(dir, "b.conf", "include a.conf\n");
	expect_err(dir, "a.conf", "%s/b.conf:1: include %s/a.conf: a loop "
	    "(that file is being read already)", dir, dir);
	/* Eight levels of include, not nine. */
	for (i = 0; i < 10; i++) {
		snprintf(name, sizeof(name), "d%d.conf", i);
		snprintf(text, sizeof(text), "include d%d.conf\n", i + 1);
		put(dir, name, i == 9 ? "allow_port 443\n" : text);
	}
	ck_assert_int_eq(parse_in(dir, "d1.conf", &cfg, err), 0);
	config_free(&cfg);
	expect_err(dir, "d0.conf", "%s/d8.conf:1: include %s/d9.conf: nested "
	    "too deep (max 8 levels)", dir, dir);
	/* What a pattern matches must be a regular file. */
	put(dir, "sub/x/y.conf", "allow_port 443\n");
	put(dir, "dirs.conf", "include sub/*\n");
	expect_err(dir, "dirs.conf", "%s/dirs.conf:1: include %s/sub/x: not a "
	    "regular file", dir, dir);
	rm_tree(dir);
}
END_TEST

/* At most CONFIG_FILES_MAX files; wildcards in the directory are its. */
START_TEST(test_include_many)
{
	char		dir[] = "/tmp/check_config.XXXXXX", name[64];
	char		err[CONFIG_ERR_MAX], sub[300];
	struct config	cfg;
	int		i;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (i = 0; i < CONFIG_FILES_MAX - 1; i++) {
		snprintf(name, sizeof(name), "many[1]/r/%03d.conf", i);
		put(dir, name, "allow_port 443\n");
	}
	/* "many[1]" would be a pattern matching "many1": not here. */
	put(dir, "many[1]/main.conf", "include r/*.conf\n");
	put(dir, "many1/r/000.conf", "bogus\n");
	snprintf(sub, sizeof(sub), "%s/many[1]", dir);
	ck_assert_msg(parse_in(sub, "main.conf", &cfg, err) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nports, CONFIG_FILES_MAX - 1);
	ck_assert_uint_eq(cfg.nfiles, CONFIG_FILES_MAX);
	config_free(&cfg);
	put(dir, "many[1]/r/999.conf", "allow_port 443\n");
	ck_assert_int_eq(parse_in(sub, "main.conf", &cfg, err), -1);
	snprintf(name, sizeof(name), "/many[1]/main.conf:1: include: too "
	    "many files (max %d in all)", CONFIG_FILES_MAX);
	ck_assert_msg(strstr(err, name) != NULL, "%s", err);
	rm_tree(dir);
}
END_TEST

/* config_load(): the files a configuration names, at their line. */
START_TEST(test_named_files)
{
	char		dir[] = "/tmp/check_config.XXXXXX", path[256];
	char		err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];
	struct config	cfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "# office\n\nauth_file %s/users\n", dir);
	put(dir, "a.conf", path);
	snprintf(path, sizeof(path), "%s/a.conf", dir);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/a.conf:3: auth_file %s/users: "
	    "No such file or directory", dir, dir);
	ck_assert_str_eq(err, want);
	/* A credentials file is named at its upstream line. */
	snprintf(path, sizeof(path), "listen 127.0.0.1:1\nupstream "
	    "127.0.0.1:3129 credentials %s/cred\n", dir);
	put(dir, "u.conf", path);
	snprintf(path, sizeof(path), "%s/u.conf", dir);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s/u.conf:2: upstream 127.0.0.1:3129: "
	    "credentials %s/cred: No such file or directory", dir, dir);
	ck_assert_str_eq(err, want);
	/* Readable by every user: loaded, with a warning. */
	put(dir, "cred", "puser:ppass\n");
	snprintf(want, sizeof(want), "%s/cred", dir);
	ck_assert_int_eq(chmod(want, 0644), 0);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/u.conf:2: credentials %s/cred: every "
	    "user of this host can read it (mode 0644); make it readable by "
	    "the proxy only (chmod o-r %s/cred)\n", dir, dir, dir);
	ck_assert_str_eq(cfg.warnings, want);
	config_free(&cfg);
	snprintf(want, sizeof(want), "%s/cred", dir);
	ck_assert_int_eq(chmod(want, 0640), 0);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), 0);
	ck_assert_ptr_null(cfg.warnings);
	config_free(&cfg);
	rm_tree(dir);
}
END_TEST

/*
 * pac_file: read by config_load() alone, a regular file of 1 to 64 KiB,
 * else an error at its line.
 */
START_TEST(test_pac_file)
{
	char		dir[] = "/tmp/check_config.XXXXXX", path[256];
	char		pac[64], err[CONFIG_ERR_MAX], want[CONFIG_ERR_MAX];
	char		*big;
	struct config	cfg;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(pac, sizeof(pac), "%s/proxy.pac", dir);
	snprintf(path, sizeof(path), "# office\npac_file %s\n", pac);
	put(dir, "p.conf", path);
	snprintf(path, sizeof(path), "%s/p.conf", dir);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: pac_file %s: No such file or "
	    "directory", path, pac);
	ck_assert_str_eq(err, want);
	assert_empty(&cfg);

	put(dir, "proxy.pac", "");
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: pac_file %s: empty file", path,
	    pac);
	ck_assert_str_eq(err, want);

	/* Exactly CONFIG_PAC_MAX bytes are kept as they are; one more not. */
	ck_assert_ptr_nonnull(big = malloc(CONFIG_PAC_MAX + 1));
	memset(big, 'x', CONFIG_PAC_MAX + 1);
	big[0] = '\0';		/* bytes, not text */
	write_at(pac, big, CONFIG_PAC_MAX);
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_uint_eq(cfg.pac_len, CONFIG_PAC_MAX);
	ck_assert_int_eq(memcmp(cfg.pac, big, CONFIG_PAC_MAX), 0);
	config_free(&cfg);
	ck_assert_ptr_null(cfg.pac);
	write_at(pac, big, CONFIG_PAC_MAX + 1);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: pac_file %s: file too large (max "
	    "65536 bytes)", path, pac);
	ck_assert_str_eq(err, want);
	free(big);

	/* Anything but a regular file, a FIFO without hanging. */
	ck_assert_int_eq(unlink(pac), 0);
	ck_assert_int_eq(mkfifo(pac, 0600), 0);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: pac_file %s: not a regular file",
	    path, pac);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(unlink(pac), 0);
	ck_assert_int_eq(mkdir(pac, 0700), 0);
	ck_assert_int_eq(config_load(path, &cfg, err, sizeof(err)), -1);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(rmdir(pac), 0);

	/* config_parse_file() (for `status`) reads no named file. */
	ck_assert_int_eq(config_parse_file(path, &cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(cfg.pac_file, pac);
	ck_assert_ptr_null(cfg.pac);
	config_free(&cfg);

	/* The shipped sample loads. */
	put(dir, "s.conf", "pac_file conf/proxy.pac\n");
	snprintf(path, sizeof(path), "%s/s.conf", dir);
	ck_assert_msg(config_load(path, &cfg, err, sizeof(err)) == 0, "%s",
	    err);
	ck_assert_uint_gt(cfg.pac_len, 1000);
	ck_assert_ptr_nonnull(strstr(cfg.pac, "FindProxyForURL"));
	config_free(&cfg);
	rm_tree(dir);
}
END_TEST

/* The shipped sample parses, listens on loopback, names every directive. */
START_TEST(test_shipped_conf)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_MAX], buf[65536];
	FILE		*fp;
	size_t		 i, n;

	ck_assert_msg(config_load("conf/connectproxy.conf", &cfg, err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cfg.nlisten, 1);
	ck_assert_str_eq(cfg.listen[0].text, "127.0.0.1:3128");
	ck_assert_uint_eq(cfg.nports, 1);
	ck_assert_uint_eq(cfg.ports[0].lo, 443);
	ck_assert_uint_eq(cfg.ndests, 0);
	ck_assert_str_eq(cfg.user, "");
	config_free(&cfg);

	ck_assert_ptr_nonnull(fp = fopen("conf/connectproxy.conf", "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	for (i = 0; i < NELEM(directives); i++)
		ck_assert_msg(strstr(buf, directives[i].name) != NULL,
		    "%s not documented", directives[i].name);
}
END_TEST

/* RES_OPTIONS from connect_timeout: a quarter, in seconds, 1 to 30. */
static const struct {
	long long	 ms;
	const char	*want;
} resolver_cases[] = {
	{ 1, "timeout:1 attempts:2" },
	{ 3999, "timeout:1 attempts:2" },
	{ 8000, "timeout:2 attempts:2" },
	{ 10000, "timeout:2 attempts:2" },
	{ 20000, "timeout:5 attempts:2" },
	{ 120000, "timeout:30 attempts:2" },
	{ 3600000, "timeout:30 attempts:2" },
};

START_TEST(test_resolver_options)
{
	struct config	cfg;
	char		buf[64];

	memset(&cfg, 0, sizeof(cfg));
	cfg.connect_timeout_ms = resolver_cases[_i].ms;
	config_resolver_options(&cfg, buf, sizeof(buf));
	ck_assert_str_eq(buf, resolver_cases[_i].want);
}
END_TEST

/* IPv6 clients are counted per /64 unless max_tunnels_ipv6_prefix says. */
START_TEST(test_ipv6_prefix)
{
	struct config	cfg;

	parse_ok("", &cfg);
	ck_assert_uint_eq(cfg.max_tunnels_ipv6_prefix, 64);
	config_free(&cfg);
	parse_ok("max_tunnels_ipv6_prefix 128\n", &cfg);
	ck_assert_uint_eq(cfg.max_tunnels_ipv6_prefix, 128);
	config_free(&cfg);
	parse_ok("max_tunnels_ipv6_prefix 32\n", &cfg);
	ck_assert_uint_eq(cfg.max_tunnels_ipv6_prefix, 32);
	config_free(&cfg);
}
END_TEST

/* connect_attempt_delay: 250 ms unless set, its bounds included. */
START_TEST(test_connect_attempt_delay)
{
	struct config	cfg;

	parse_ok("", &cfg);
	ck_assert_int_eq(cfg.connect_attempt_delay_ms, 250);
	config_free(&cfg);
	parse_ok("connect_attempt_delay 10ms\n", &cfg);
	ck_assert_int_eq(cfg.connect_attempt_delay_ms, 10);
	config_free(&cfg);
	parse_ok("connect_attempt_delay 2\n", &cfg);
	ck_assert_int_eq(cfg.connect_attempt_delay_ms, 2000);
	config_free(&cfg);
}
END_TEST

Suite *
config_suite(void)
{
	Suite	*s = suite_create("config");
	TCase	*tc;

	tc = tcase_create("directives");
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_scalars);
	tcase_add_test(tc, test_pool);
	tcase_add_loop_test(tc, test_pool_bounds, 0,
	    (int)(sizeof(pool_bounds) / sizeof(pool_bounds[0])));
	tcase_add_test(tc, test_listen);
	tcase_add_test(tc, test_listen_proxy_protocol);
	tcase_add_test(tc, test_lists);
	tcase_add_test(tc, test_dests);
	tcase_add_test(tc, test_name_lengths);
	tcase_add_loop_test(tc, test_name_agreement, 0, NELEM(agree_names));
	tcase_add_test(tc, test_comments_blank);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_several_values);
	tcase_add_test(tc, test_quotes);
	tcase_add_test(tc, test_log_level_warning);
	tcase_add_test(tc, test_locations);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_bad, 0, NELEM(bad_cases));
	tcase_add_loop_test(tc, test_arity_and_repeat, 0, NELEM(directives));
	tcase_add_test(tc, test_list_cap);
	tcase_add_test(tc, test_listen_cap);
	tcase_add_test(tc, test_line_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_loop_test(tc, test_duration, 0, NELEM(durations));
	tcase_add_loop_test(tc, test_size, 0, NELEM(sizes));
	tcase_add_test(tc, test_parser_messages);
	tcase_add_loop_test(tc, test_resolver_options, 0,
	    NELEM(resolver_cases));
	tcase_add_test(tc, test_connect_attempt_delay);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_load_missing);
	tcase_add_test(tc, test_load_files);
	tcase_add_test(tc, test_load_too_large);
	tcase_add_test(tc, test_shipped_conf);
	tcase_add_test(tc, test_include);
	tcase_add_test(tc, test_include_errors);
	tcase_add_test(tc, test_include_many);
	tcase_add_test(tc, test_named_files);
	tcase_add_test(tc, test_pac_file);
	tcase_add_test(tc, test_ipv6_prefix);
	suite_add_tcase(s, tc);
	return s;
}
