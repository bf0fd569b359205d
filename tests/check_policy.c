/* SPDX-License-Identifier: ISC */
/*
 * Tests for policy.c: CIDR parsing and matching (with the embedded IPv4
 * forms), ports, destination rules in order, and every built-in denial
 * under several spellings of its addresses.  Configs are built by hand.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "policy.h"
#include "suites.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A literal as a sockaddr, port `port`; fails the test when unparsable. */
static const struct sockaddr *
addr(const char *s, uint16_t port, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	} else
		ck_abort_msg("bad test address %s", s);
	return (const struct sockaddr *)(void *)ss;
}

/* A dest rule as config.c would make it: ".x" suffix, CIDR, or name. */
static void
mkrule(struct dest_rule *d, int allow, const char *spec)
{
	memset(d, 0, sizeof(*d));
	d->allow = allow;
	if (spec[0] == '.')
		d->kind = DEST_SUFFIX;
	else if (policy_cidr_parse(spec, &d->cidr) == 0)
		d->kind = DEST_CIDR;
	else
		d->kind = DEST_NAME;
	if (d->kind != DEST_CIDR)
		snprintf(d->name, sizeof(d->name), "%s", spec);
	snprintf(d->text, sizeof(d->text), "%s %s",
	    allow ? "allow_dest" : "deny_dest", spec);
}

static void
mkconfig(struct config *cfg, struct dest_rule *d, size_t n)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dests = d;
	cfg->ndests = n;
}

/* --- CIDR parsing ------------------------------------------------- */

static const struct {
	const char	*text;
	int		 family;
	unsigned	 prefix;
	const char	*addr;		/* expected network address */
} parse_ok[] = {
	{ "10.0.0.0/8",		AF_INET,  8,   "10.0.0.0" },
	{ "192.168.1.5",	AF_INET,  32,  "192.168.1.5" },
	{ "192.168.1.5/32",	AF_INET,  32,  "192.168.1.5" },
	{ "0.0.0.0/0",		AF_INET,  0,   "0.0.0.0" },
	{ "172.16.0.0/12",	AF_INET,  12,  "172.16.0.0" },
	{ "100.64.0.0/10",	AF_INET,  10,  "100.64.0.0" },
	{ "fc00::/7",		AF_INET6, 7,   "fc00::" },
	{ "::1",		AF_INET6, 128, "::1" },
	{ "::/0",		AF_INET6, 0,   "::" },
	{ "2001:db8::/32",	AF_INET6, 32,  "2001:db8::" },
	{ "FE80::/10",		AF_INET6, 10,  "fe80::" },
	{ "::ffff:10.0.0.0/104", AF_INET6, 104, "::ffff:10.0.0.0" },
	{ "2001:db8::1/128",	AF_INET6, 128, "2001:db8::1" }
};

START_TEST(test_cidr_parse_ok)
{
	struct cidr	c, want;
	uint8_t		bytes[16];

	memset(bytes, 0, sizeof(bytes));
	ck_assert_int_eq(policy_cidr_parse(parse_ok[_i].text, &c), 0);
	ck_assert_int_eq(c.family, parse_ok[_i].family);
	ck_assert_uint_eq(c.prefix, parse_ok[_i].prefix);
	ck_assert_int_eq(inet_pton(c.family, parse_ok[_i].addr, bytes), 1);
	ck_assert_int_eq(memcmp(c.addr, bytes,
	    c.family == AF_INET ? 4 : 16), 0);
	/* A bare address reparsed with its full prefix gives the same. */
	ck_assert_int_eq(policy_cidr_parse(parse_ok[_i].addr, &want), 0);
	ck_assert_int_eq(memcmp(c.addr, want.addr, 16), 0);
}
END_TEST

static const char *const parse_bad[] = {
	"",
	"/8",
	"10.0.0.0/",
	"10.0.0.0/33",
	"10.0.0.0/-1",
	"10.0.0.0/+8",
	"10.0.0.0/08",
	"10.0.0.0/8a",
	"10.0.0.0/ 8",
	"10.0.0.0/8/8",
	"10.0.0.0/1000",
	"10.0.0.1/8",		/* host bits set */
	"192.168.1.0/23",
	"fc00::1/7",
	"::1/127",
	"::/129",
	"127.1",		/* rare forms getaddrinfo would accept */
	"0x7f.0.0.1",
	"0177.0.0.1",
	"010.0.0.1",
	"2130706433",
	"1.2.3.4.5",
	"256.0.0.0",
	" 10.0.0.0/8",
	"10.0.0.0/8 ",
	"10.0.0.0 /8",
	"fe80::1%eth0",
	"fe80::%1/64",
	"[::1]",
	"[::1]/128",
	"example.com",
	"::1::2",
	"garbage/8",
	"10.0.0.0\n",
	"1111:2222:3333:4444:5555:6666:7777:8888:9999"
};

START_TEST(test_cidr_parse_bad)
{
	struct cidr	c;

	memset(&c, 0xa5, sizeof(c));
	ck_assert_msg(policy_cidr_parse(parse_bad[_i], &c) == -1,
	    "accepted \"%s\"", parse_bad[_i]);
}
END_TEST

/* --- CIDR matching ------------------------------------------------ */

static const struct {
	const char	*cidr;
	const char	*addr;
	int		 match;
} match_tab[] = {
	{ "10.0.0.0/8",		"10.255.255.255",	1 },
	{ "10.0.0.0/8",		"11.0.0.0",		0 },
	{ "10.0.0.0/8",		"9.255.255.255",	0 },
	{ "172.16.0.0/12",	"172.31.255.255",	1 },
	{ "172.16.0.0/12",	"172.32.0.0",		0 },
	{ "0.0.0.0/0",		"8.8.8.8",		1 },
	{ "192.0.2.1",		"192.0.2.1",		1 },
	{ "192.0.2.1",		"192.0.2.2",		0 },
	/* A v4 block matches every embedded form of its addresses. */
	{ "10.0.0.0/8",		"::ffff:10.1.2.3",	1 },
	{ "10.0.0.0/8",		"::ffff:a01:203",	1 },
	{ "10.0.0.0/8",		"64:ff9b::10.1.2.3",	1 },
	{ "10.0.0.0/8",		"64:ff9b::a01:203",	1 },
	{ "10.0.0.0/8",		"::10.1.2.3",		1 },
	{ "10.0.0.0/8",		"::ffff:11.1.2.3",	0 },
	{ "10.0.0.0/8",		"64:ff9b:1::10.1.2.3",	0 },
	{ "10.0.0.0/8",		"::ffff:0:10.1.2.3",	1 },
	{ "10.0.0.0/8",		"::ffff:0:a01:203",	1 },
	{ "10.0.0.0/8",		"::ffff:1:a01:203",	0 },
	{ "10.0.0.0/8",		"2002:a01:203::",	1 },
	{ "10.0.0.0/8",		"2002:a01:203:ffff::1",	1 },
	{ "10.0.0.0/8",		"2002:b01:203::1",	0 },
	{ "10.0.0.0/8",		"2003:a01:203::1",	0 },
	{ "10.0.0.0/8",		"1::ffff:10.1.2.3",	0 },
	{ "10.0.0.0/8",		"2001:db8::a01:203",	0 },
	{ "0.0.0.0/0",		"::ffff:0.0.0.0",	1 },
	/* :: and ::1 are not ::0.0.0.0 and ::0.0.0.1. */
	{ "0.0.0.0/8",		"::",			0 },
	{ "0.0.0.0/8",		"::1",			0 },
	{ "0.0.0.0/0",		"::",			0 },
	{ "0.0.0.0/8",		"::2",			1 },
	/* v6 blocks: v6 addresses only, never AF_INET. */
	{ "fc00::/7",		"fd12::1",		1 },
	{ "fc00::/7",		"fe00::1",		0 },
	{ "fe80::/10",		"febf:ffff::1",		1 },
	{ "fe80::/10",		"fec0::1",		0 },
	{ "::/0",		"2001:db8::1",		1 },
	{ "::/0",		"10.0.0.1",		0 },
	{ "::ffff:0:0/96",	"::ffff:10.0.0.1",	0 },
	{ "::ffff:0:0/96",	"10.0.0.1",		0 },
	{ "::1",		"::1",			1 },
	{ "::1",		"127.0.0.1",		0 },
	{ "2001:db8::/127",	"2001:db8::1",		1 },
	{ "2001:db8::/127",	"2001:db8::2",		0 },
	/* An address that embeds IPv4 is that IPv4 address only. */
	{ "::/0",		"::ffff:127.0.0.1",	0 },
	{ "::/0",		"::ffff:0:7f00:1",	0 },
	{ "::/0",		"64:ff9b::7f00:1",	0 },
	{ "::/0",		"::7f00:1",		0 },
	{ "::/0",		"2002:7f00:1::1",	0 },
	{ "::/0",		"::",			1 },
	{ "::/0",		"::1",			1 },
	{ "::/0",		"64:ff9b:1::7f00:1",	1 },
	{ "::/0",		"2003::1",		1 },
	{ "2000::/3",		"2002:808:808::1",	0 },
	{ "64:ff9b::/96",	"64:ff9b::808:808",	0 },
	{ "::ffff:0:0:0/96",	"::ffff:0:808:808",	0 }
};

START_TEST(test_cidr_match)
{
	struct sockaddr_storage	ss;
	struct cidr		c;

	ck_assert_int_eq(policy_cidr_parse(match_tab[_i].cidr, &c), 0);
	ck_assert_msg(policy_cidr_match(&c, addr(match_tab[_i].addr, 443,
	    &ss)) == match_tab[_i].match, "%s vs %s: want %d",
	    match_tab[_i].cidr, match_tab[_i].addr, match_tab[_i].match);
}
END_TEST

START_TEST(test_cidr_match_other_family)
{
	struct sockaddr_storage	ss;
	struct cidr		c;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	ck_assert_int_eq(policy_cidr_parse("0.0.0.0/0", &c), 0);
	ck_assert_int_eq(policy_cidr_match(&c,
	    (const struct sockaddr *)(void *)&ss), 0);
	ck_assert_int_eq(policy_cidr_parse("::/0", &c), 0);
	ck_assert_int_eq(policy_cidr_match(&c,
	    (const struct sockaddr *)(void *)&ss), 0);
}
END_TEST

/* --- clients and ports -------------------------------------------- */

START_TEST(test_client_allowed)
{
	struct sockaddr_storage	ss;
	struct cidr		cl[2];
	struct config		cfg;

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(policy_client_allowed(&cfg,
	    addr("127.0.0.1", 5000, &ss)), 0);
	ck_assert_int_eq(policy_cidr_parse("127.0.0.0/8", &cl[0]), 0);
	ck_assert_int_eq(policy_cidr_parse("::1", &cl[1]), 0);
	cfg.clients = cl;
	cfg.nclients = 2;
	ck_assert_int_eq(policy_client_allowed(&cfg,
	    addr("127.0.0.1", 5000, &ss)), 1);
	ck_assert_int_eq(policy_client_allowed(&cfg,
	    addr("::ffff:127.0.0.1", 5000, &ss)), 1);
	ck_assert_int_eq(policy_client_allowed(&cfg,
	    addr("::1", 5000, &ss)), 1);
	ck_assert_int_eq(policy_client_allowed(&cfg,
	    addr("192.0.2.1", 5000, &ss)), 0);
	ck_assert_int_eq(policy_client_allowed(&cfg,
	    addr("::2", 5000, &ss)), 0);
}
END_TEST

static struct port_range port_cfg[] = {
	{ 1, 1 }, { 443, 443 }, { 8000, 8080 }, { 65535, 65535 }
};

static const struct {
	uint16_t	port;
	int		allowed;
} port_tab[] = {
	{ 0, 0 }, { 1, 1 }, { 2, 0 }, { 442, 0 }, { 443, 1 }, { 444, 0 },
	{ 7999, 0 }, { 8000, 1 }, { 8040, 1 }, { 8080, 1 }, { 8081, 0 },
	{ 65534, 0 }, { 65535, 1 }, { 25, 0 }, { 80, 0 }
};

START_TEST(test_port_allowed)
{
	struct config	cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ports = port_cfg;
	cfg.nports = NELEM(port_cfg);
	ck_assert_msg(policy_port_allowed(&cfg, port_tab[_i].port) ==
	    port_tab[_i].allowed, "port %u", (unsigned)port_tab[_i].port);
}
END_TEST

START_TEST(test_port_none_or_full)
{
	struct port_range	all = { 1, 65535 };
	struct config		cfg;

	memset(&cfg, 0, sizeof(cfg));
	ck_assert_int_eq(policy_port_allowed(&cfg, 443), 0);
	cfg.ports = &all;
	cfg.nports = 1;
	ck_assert_int_eq(policy_port_allowed(&cfg, 1), 1);
	ck_assert_int_eq(policy_port_allowed(&cfg, 65535), 1);
	ck_assert_int_eq(policy_port_allowed(&cfg, 0), 0);
}
END_TEST

/* --- name stage --------------------------------------------------- */

static const struct {
	int		 allow;
	const char	*spec;
} name_rules[] = {
	{ 0, "evil.test" },
	{ 0, ".example.com" },
	{ 1, ".ok.example.org" },
	{ 0, ".example.org" },
	{ 1, "10.1.0.0/16" },
	{ 0, "203.0.113.0/24" }
};

static const struct {
	const char	*host;
	int		 verdict;
	const char	*rule;		/* NULL: allowed by no rule */
} name_tab[] = {
	{ "evil.test",		POLICY_DENY,  "deny_dest evil.test" },
	{ "www.evil.test",	POLICY_ALLOW, NULL },
	{ "notevil.test",	POLICY_ALLOW, NULL },
	{ "evil.test.com",	POLICY_ALLOW, NULL },
	{ "example.com",	POLICY_DENY,  "deny_dest .example.com" },
	{ "www.example.com",	POLICY_DENY,  "deny_dest .example.com" },
	{ "a.b.c.example.com",	POLICY_DENY,  "deny_dest .example.com" },
	{ "badexample.com",	POLICY_ALLOW, NULL },
	{ "example.com.evil",	POLICY_ALLOW, NULL },
	{ "xample.com",		POLICY_ALLOW, NULL },
	{ "com",		POLICY_ALLOW, NULL },
	{ "ok.example.org",	POLICY_ALLOW, "allow_dest .ok.example.org" },
	{ "a.ok.example.org",	POLICY_ALLOW, "allow_dest .ok.example.org" },
	{ "notok.example.org",	POLICY_DENY,  "deny_dest .example.org" },
	{ "example.org",	POLICY_DENY,  "deny_dest .example.org" },
	{ "www.example.net",	POLICY_ALLOW, NULL },
	/* CIDR rules apply to literals only, built-ins after them. */
	{ "10.1.2.3",		POLICY_ALLOW, "allow_dest 10.1.0.0/16" },
	{ "::ffff:10.1.2.3",	POLICY_ALLOW, "allow_dest 10.1.0.0/16" },
	{ "10.2.0.1",		POLICY_DENY,  "builtin:private" },
	{ "203.0.113.9",	POLICY_DENY,  "deny_dest 203.0.113.0/24" },
	{ "64:ff9b::203.0.113.9", POLICY_DENY, "deny_dest 203.0.113.0/24" },
	{ "203.0.114.9",	POLICY_ALLOW, NULL },
	{ "127.0.0.1",		POLICY_DENY,  "builtin:loopback" },
	{ "::1",		POLICY_DENY,  "builtin:loopback" },
	{ "2606:2800:220:1::1",	POLICY_ALLOW, NULL },
	/* Names that only look numeric are names here (DNS decides). */
	{ "10.1.2.3.example.com", POLICY_DENY, "deny_dest .example.com" }
};

START_TEST(test_check_name)
{
	struct dest_rule	 d[NELEM(name_rules)];
	struct config		 cfg;
	const char		*rule = "unset";
	size_t			 i;

	for (i = 0; i < NELEM(name_rules); i++)
		mkrule(&d[i], name_rules[i].allow, name_rules[i].spec);
	mkconfig(&cfg, d, NELEM(d));
	ck_assert_msg((int)policy_check_name(&cfg, name_tab[_i].host,
	    &rule) == name_tab[_i].verdict, "%s", name_tab[_i].host);
	if (name_tab[_i].rule == NULL)
		ck_assert_ptr_null(rule);
	else
		ck_assert_str_eq(rule, name_tab[_i].rule);
}
END_TEST

START_TEST(test_check_name_no_rules)
{
	struct config	 cfg;
	const char	*rule;

	mkconfig(&cfg, NULL, 0);
	ck_assert_int_eq(policy_check_name(&cfg, "example.com", &rule),
	    POLICY_ALLOW);
	ck_assert_int_eq(policy_check_name(&cfg, "localhost", &rule),
	    POLICY_ALLOW);
	ck_assert_int_eq(policy_check_name(&cfg, "169.254.169.254", &rule),
	    POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:metadata");
	/* rule may be NULL when the caller does not want it. */
	ck_assert_int_eq(policy_check_name(&cfg, "10.0.0.1", NULL),
	    POLICY_DENY);
}
END_TEST

/* First match wins, whichever way round. */
START_TEST(test_first_match_wins)
{
	struct dest_rule	 d[2];
	struct sockaddr_storage	 ss;
	struct config		 cfg;
	const char		*rule;

	mkrule(&d[0], 1, "www.example.com");
	mkrule(&d[1], 0, ".example.com");
	mkconfig(&cfg, d, 2);
	ck_assert_int_eq(policy_check_name(&cfg, "www.example.com", &rule),
	    POLICY_ALLOW);
	ck_assert_int_eq(policy_check_name(&cfg, "ftp.example.com", &rule),
	    POLICY_DENY);
	mkrule(&d[0], 0, ".example.com");
	mkrule(&d[1], 1, "www.example.com");
	ck_assert_int_eq(policy_check_name(&cfg, "www.example.com", &rule),
	    POLICY_DENY);
	ck_assert_str_eq(rule, "deny_dest .example.com");

	mkrule(&d[0], 1, "10.1.2.0/24");
	mkrule(&d[1], 0, "10.1.0.0/16");
	ck_assert_int_eq(policy_check_addr(&cfg, addr("10.1.2.3", 443, &ss),
	    &rule), POLICY_ALLOW);
	ck_assert_str_eq(rule, "allow_dest 10.1.2.0/24");
	ck_assert_int_eq(policy_check_addr(&cfg, addr("10.1.3.3", 443, &ss),
	    &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "deny_dest 10.1.0.0/16");
	mkrule(&d[0], 0, "10.1.0.0/16");
	mkrule(&d[1], 1, "10.1.2.0/24");
	ck_assert_int_eq(policy_check_addr(&cfg, addr("10.1.2.3", 443, &ss),
	    &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "deny_dest 10.1.0.0/16");
}
END_TEST

/* --- address stage and built-ins ---------------------------------- */

static const struct {
	const char	*addr;
	const char	*rule;		/* NULL: allowed */
} builtin_tab[] = {
	{ "0.0.0.0",			"builtin:unspecified" },
	{ "0.1.2.3",			"builtin:unspecified" },
	{ "::ffff:0.0.0.0",		"builtin:unspecified" },
	{ "::",				"builtin:unspecified" },
	{ "::0.0.0.2",			"builtin:unspecified" },
	{ "127.0.0.1",			"builtin:loopback" },
	{ "127.255.255.254",		"builtin:loopback" },
	{ "127.1.2.3",			"builtin:loopback" },
	{ "::1",			"builtin:loopback" },
	{ "0:0:0:0:0:0:0:1",		"builtin:loopback" },
	{ "::ffff:127.0.0.1",		"builtin:loopback" },
	{ "::ffff:7f00:1",		"builtin:loopback" },
	{ "64:ff9b::7f00:1",		"builtin:loopback" },
	{ "64:ff9b::127.0.0.1",		"builtin:loopback" },
	{ "::127.0.0.1",		"builtin:loopback" },
	{ "::7f00:1",			"builtin:loopback" },
	{ "169.254.169.254",		"builtin:metadata" },
	{ "::ffff:169.254.169.254",	"builtin:metadata" },
	{ "::ffff:a9fe:a9fe",		"builtin:metadata" },
	{ "64:ff9b::a9fe:a9fe",		"builtin:metadata" },
	{ "169.254.0.1",		"builtin:link-local" },
	{ "169.254.255.255",		"builtin:link-local" },
	{ "224.0.0.1",			"builtin:multicast" },
	{ "239.255.255.250",		"builtin:multicast" },
	{ "::ffff:224.0.0.1",		"builtin:multicast" },
	{ "240.0.0.1",			"builtin:reserved" },
	{ "255.255.255.255",		"builtin:reserved" },
	{ "::ffff:255.255.255.255",	"builtin:reserved" },
	{ "10.0.0.0",			"builtin:private" },
	{ "10.1.2.3",			"builtin:private" },
	{ "::ffff:10.1.2.3",		"builtin:private" },
	{ "64:ff9b::a01:203",		"builtin:private" },
	{ "172.16.0.1",			"builtin:private" },
	{ "172.31.255.255",		"builtin:private" },
	{ "192.168.0.1",		"builtin:private" },
	{ "::ffff:192.168.0.1",		"builtin:private" },
	{ "100.64.0.1",			"builtin:cgnat" },
	{ "100.127.255.255",		"builtin:cgnat" },
	{ "::ffff:100.64.0.1",		"builtin:cgnat" },
	{ "fe80::1",			"builtin:link-local" },
	{ "febf::1",			"builtin:link-local" },
	{ "fec0::1",			"builtin:site-local" },
	{ "feff::1",			"builtin:site-local" },
	{ "ff02::1",			"builtin:multicast" },
	{ "ff05::1:3",			"builtin:multicast" },
	{ "fc00::1",			"builtin:unique-local" },
	{ "fd12::1",			"builtin:unique-local" },
	{ "fd00:ec2::254",		"builtin:unique-local" },
	/* SIIT and 6to4 are judged by their IPv4; RFC 8215 is denied. */
	{ "::ffff:0:127.0.0.1",		"builtin:loopback" },
	{ "::ffff:0:a9fe:a9fe",		"builtin:metadata" },
	{ "::ffff:0:c0a8:1",		"builtin:private" },
	{ "2002:7f00:1::1",		"builtin:loopback" },
	{ "2002:a9fe:a9fe::",		"builtin:metadata" },
	{ "2002:a01:203:4::1",		"builtin:private" },
	{ "2002:6440:1::1",		"builtin:cgnat" },
	{ "2002::1",			"builtin:unspecified" },
	{ "64:ff9b:1::808:808",		"builtin:nat64-local" },
	{ "64:ff9b:1:ffff:ffff::1",	"builtin:nat64-local" },
	/* Neighbours and public addresses stay allowed. */
	{ "172.15.255.255",		NULL },
	{ "172.32.0.1",			NULL },
	{ "100.63.255.255",		NULL },
	{ "100.128.0.1",		NULL },
	{ "169.253.255.255",		NULL },
	{ "223.255.255.255",		NULL },
	{ "1.0.0.0",			NULL },
	{ "126.255.255.255",		NULL },
	{ "128.0.0.0",			NULL },
	{ "11.0.0.0",			NULL },
	{ "192.167.255.255",		NULL },
	{ "192.169.0.0",		NULL },
	{ "93.184.216.34",		NULL },
	{ "8.8.8.8",			NULL },
	{ "::ffff:8.8.8.8",		NULL },
	{ "64:ff9b::808:808",		NULL },
	{ "64:ff9b:2::808:808",		NULL },
	{ "::ffff:0:808:808",		NULL },
	{ "2002:808:808::1",		NULL },
	{ "2606:2800:220:1::1",		NULL },
	{ "2001:4860:4860::8888",	NULL },
	{ "fbff::1",			NULL },
	{ "fe00::1",			NULL }
};

START_TEST(test_builtin_addr)
{
	struct sockaddr_storage	 ss;
	struct config		 cfg;
	const char		*rule = "unset";
	const char		*want = builtin_tab[_i].rule;
	enum policy_verdict	 v;

	mkconfig(&cfg, NULL, 0);
	v = policy_check_addr(&cfg, addr(builtin_tab[_i].addr, 443, &ss),
	    &rule);
	ck_assert_msg(v == (want != NULL ? POLICY_DENY : POLICY_ALLOW),
	    "%s", builtin_tab[_i].addr);
	if (want == NULL)
		ck_assert_ptr_null(rule);
	else
		ck_assert_str_eq(rule, want);
}
END_TEST

/* The same table as literals in the name stage. */
START_TEST(test_builtin_name)
{
	struct config		 cfg;
	const char		*rule = "unset";
	const char		*want = builtin_tab[_i].rule;
	enum policy_verdict	 v;

	mkconfig(&cfg, NULL, 0);
	v = policy_check_name(&cfg, builtin_tab[_i].addr, &rule);
	ck_assert_msg(v == (want != NULL ? POLICY_DENY : POLICY_ALLOW),
	    "%s", builtin_tab[_i].addr);
	if (want == NULL)
		ck_assert_ptr_null(rule);
	else
		ck_assert_str_eq(rule, want);
}
END_TEST

START_TEST(test_allow_overrides_builtin)
{
	struct dest_rule	 d[2];
	struct sockaddr_storage	 ss;
	struct config		 cfg;
	const char		*rule;

	mkrule(&d[0], 1, "10.1.0.0/16");
	mkrule(&d[1], 1, "fd12::/16");
	mkconfig(&cfg, d, 2);
	ck_assert_int_eq(policy_check_addr(&cfg, addr("10.1.2.3", 443, &ss),
	    &rule), POLICY_ALLOW);
	ck_assert_str_eq(rule, "allow_dest 10.1.0.0/16");
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("::ffff:10.1.2.3", 443, &ss), &rule), POLICY_ALLOW);
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("64:ff9b::10.1.2.3", 443, &ss), &rule), POLICY_ALLOW);
	ck_assert_int_eq(policy_check_addr(&cfg, addr("10.2.0.1", 443, &ss),
	    &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:private");
	ck_assert_int_eq(policy_check_addr(&cfg, addr("fd12::1", 443, &ss),
	    &rule), POLICY_ALLOW);
	ck_assert_int_eq(policy_check_addr(&cfg, addr("fd13::1", 443, &ss),
	    &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:unique-local");
	ck_assert_int_eq(policy_check_addr(&cfg, addr("127.0.0.1", 443, &ss),
	    &rule), POLICY_DENY);
}
END_TEST

/* DNS is not trusted: allowing a name never allows what it resolves to. */
START_TEST(test_name_does_not_unlock_addr)
{
	struct dest_rule	 d[3];
	struct sockaddr_storage	 ss;
	struct config		 cfg;
	const char		*rule;

	mkrule(&d[0], 1, "intranet.example.com");
	mkrule(&d[1], 1, ".corp.example.com");
	mkrule(&d[2], 1, "localhost");
	mkconfig(&cfg, d, 3);
	ck_assert_int_eq(policy_check_name(&cfg, "intranet.example.com",
	    &rule), POLICY_ALLOW);
	ck_assert_int_eq(policy_check_addr(&cfg, addr("10.0.0.5", 443, &ss),
	    &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:private");
	ck_assert_int_eq(policy_check_addr(&cfg, addr("127.0.0.1", 443, &ss),
	    &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:loopback");
	/* Nor does a deny_dest name deny an address. */
	mkrule(&d[0], 0, "93.184.216.34.example");
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("93.184.216.34", 443, &ss), &rule), POLICY_ALLOW);
}
END_TEST

static void
mklisten(struct listen_addr *la, const char *ip, uint16_t port)
{
	struct sockaddr_storage	ss;

	memset(la, 0, sizeof(*la));
	addr(ip, port, &ss);
	la->ss = ss;
	la->len = ss.ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	snprintf(la->text, sizeof(la->text), "%s:%u", ip, (unsigned)port);
}

START_TEST(test_self_denied)
{
	struct listen_addr	 la[4];
	struct sockaddr_storage	 ss;
	struct config		 cfg;
	const char		*rule;

	mkconfig(&cfg, NULL, 0);
	mklisten(&la[0], "203.0.113.5", 3128);
	mklisten(&la[1], "2001:db8::5", 3128);
	mklisten(&la[2], "0.0.0.0", 8080);
	mklisten(&la[3], "::", 8080);
	cfg.listen = la;
	cfg.nlisten = 4;
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("203.0.113.5", 443, &ss), &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:self");
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("::ffff:203.0.113.5", 3128, &ss), &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:self");
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("2001:db8::5", 443, &ss), &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:self");
	ck_assert_int_eq(policy_check_name(&cfg, "203.0.113.5", &rule),
	    POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:self");
	/* Neighbours stay allowed; the wildcards do not deny everything. */
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("203.0.113.6", 443, &ss), &rule), POLICY_ALLOW);
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("2001:db8::6", 443, &ss), &rule), POLICY_ALLOW);
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("93.184.216.34", 443, &ss), &rule), POLICY_ALLOW);
}
END_TEST

/* Only the address counts: a listen on an IPv4-mapped address too. */
START_TEST(test_self_mapped_listen)
{
	struct listen_addr	 la;
	struct sockaddr_storage	 ss;
	struct config		 cfg;
	const char		*rule;

	mkconfig(&cfg, NULL, 0);
	mklisten(&la, "::ffff:198.51.100.7", 3128);
	cfg.listen = &la;
	cfg.nlisten = 1;
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("198.51.100.7", 80, &ss), &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:self");
	ck_assert_int_eq(policy_check_addr(&cfg,
	    addr("::ffff:0:0", 80, &ss), &rule), POLICY_DENY);
	ck_assert_str_eq(rule, "builtin:unspecified");
}
END_TEST

/* --- IPv6 rules and embedded IPv4 ----------------------------------- */

/*
 * One rule each: an IPv6 block never judges an address that embeds
 * IPv4, in the address stage or as a literal in the name stage.
 */
static const struct {
	int		 allow;
	const char	*spec;
	const char	*addr;
	int		 verdict;
	const char	*rule;		/* NULL: allowed by no rule */
} v6rule_tab[] = {
	{ 1, "::/0", "::ffff:127.0.0.1", POLICY_DENY, "builtin:loopback" },
	{ 1, "::/0", "::ffff:7f00:1", POLICY_DENY, "builtin:loopback" },
	{ 1, "::/0", "::ffff:0:127.0.0.1", POLICY_DENY, "builtin:loopback" },
	{ 1, "::/0", "::7f00:1", POLICY_DENY, "builtin:loopback" },
	{ 1, "::/0", "2002:7f00:1::1", POLICY_DENY, "builtin:loopback" },
	{ 1, "::/0", "64:ff9b::a9fe:a9fe", POLICY_DENY, "builtin:metadata" },
	{ 1, "::/0", "::ffff:10.1.2.3", POLICY_DENY, "builtin:private" },
	{ 1, "::/0", "2002:c0a8:1::1", POLICY_DENY, "builtin:private" },
	{ 1, "::/0", "::ffff:8.8.8.8", POLICY_ALLOW, NULL },
	{ 1, "::/0", "2001:db8::1", POLICY_ALLOW, "allow_dest ::/0" },
	{ 1, "::/0", "::1", POLICY_ALLOW, "allow_dest ::/0" },
	{ 1, "::/0", "fd00::1", POLICY_ALLOW, "allow_dest ::/0" },
	{ 1, "::/0", "64:ff9b:1::1", POLICY_ALLOW, "allow_dest ::/0" },
	{ 1, "2000::/3", "2002:a01:203::1", POLICY_DENY, "builtin:private" },
	{ 1, "fc00::/7", "fd00::1", POLICY_ALLOW, "allow_dest fc00::/7" },
	{ 0, "::/0", "::ffff:8.8.8.8", POLICY_ALLOW, NULL },
	{ 0, "2000::/3", "2002:808:808::1", POLICY_ALLOW, NULL },
	{ 0, "::/0", "2001:db8::1", POLICY_DENY, "deny_dest ::/0" },
	/* IPv4 blocks still judge every embedded form. */
	{ 1, "127.0.0.0/8", "::ffff:127.0.0.1", POLICY_ALLOW,
	    "allow_dest 127.0.0.0/8" },
	{ 1, "127.0.0.0/8", "2002:7f00:1::1", POLICY_ALLOW,
	    "allow_dest 127.0.0.0/8" },
	{ 0, "8.8.8.0/24", "64:ff9b::808:808", POLICY_DENY,
	    "deny_dest 8.8.8.0/24" }
};

START_TEST(test_v6_rule_embedded)
{
	struct dest_rule	 d;
	struct sockaddr_storage	 ss;
	struct config		 cfg;
	const char		*rule = "unset", *want = v6rule_tab[_i].rule;
	int			 stage;

	mkrule(&d, v6rule_tab[_i].allow, v6rule_tab[_i].spec);
	mkconfig(&cfg, &d, 1);
	for (stage = 0; stage < 2; stage++) {
		rule = "unset";
		ck_assert_msg((int)(stage == 0 ? policy_check_addr(&cfg,
		    addr(v6rule_tab[_i].addr, 443, &ss), &rule) :
		    policy_check_name(&cfg, v6rule_tab[_i].addr, &rule)) ==
		    v6rule_tab[_i].verdict, "%s %s: want %s (stage %d)",
		    v6rule_tab[_i].spec, v6rule_tab[_i].addr,
		    v6rule_tab[_i].verdict == POLICY_DENY ? "deny" : "allow",
		    stage);
		if (want == NULL)
			ck_assert_msg(rule == NULL, "%s: rule %s",
			    v6rule_tab[_i].addr, rule);
		else
			ck_assert_str_eq(rule, want);
	}
}
END_TEST

/*
 * Clients: only the IPv4-mapped form (a dual-stack socket's) is an IPv4
 * client; 6to4, NAT64, SIIT and compatible sources are IPv6 hosts.
 */
static const struct {
	const char	*clients;	/* space-separated CIDRs */
	const char	*addr;
	int		 allowed;
} client_tab[] = {
	{ "127.0.0.0/8 2001:db8:1::/48", "127.0.0.1",		1 },
	{ "127.0.0.0/8 2001:db8:1::/48", "::ffff:127.0.0.1",	1 },
	{ "127.0.0.0/8 2001:db8:1::/48", "2002:7f00:1::1",	0 },
	{ "127.0.0.0/8 2001:db8:1::/48", "64:ff9b::7f00:1",	0 },
	{ "127.0.0.0/8 2001:db8:1::/48", "::7f00:5",		0 },
	{ "127.0.0.0/8 2001:db8:1::/48", "::ffff:0:7f00:1",	0 },
	{ "127.0.0.0/8 2001:db8:1::/48", "2001:db8:1::5",	1 },
	{ "127.0.0.0/8 2001:db8:1::/48", "2001:db8:2::5",	0 },
	{ "192.168.1.0/24",		 "2002:c0a8:105::1",	0 },
	{ "192.168.1.0/24",		 "::ffff:192.168.1.5",	1 },
	/* An IPv6 rule does not take IPv4 clients. */
	{ "::/0",			 "::ffff:192.0.2.1",	0 },
	{ "::/0",			 "192.0.2.1",		0 },
	{ "::/0",			 "2002:7f00:1::1",	1 },
	{ "::/0",			 "::1",			1 },
	{ "64:ff9b::/96",		 "64:ff9b::7f00:1",	1 },
	{ "2002::/16",			 "2002:7f00:1::1",	1 },
	{ "0.0.0.0/0",			 "::ffff:0:7f00:1",	0 },
	{ "0.0.0.0/0",			 "::ffff:203.0.113.1",	1 }
};

START_TEST(test_client_embedded)
{
	struct sockaddr_storage	 ss;
	struct cidr		 cl[4];
	struct config		 cfg;
	char			 buf[128], *w, *save = NULL;

	memset(&cfg, 0, sizeof(cfg));
	snprintf(buf, sizeof(buf), "%s", client_tab[_i].clients);
	for (w = strtok_r(buf, " ", &save); w != NULL && cfg.nclients < 4;
	    w = strtok_r(NULL, " ", &save))
		ck_assert_int_eq(policy_cidr_parse(w, &cl[cfg.nclients++]),
		    0);
	cfg.clients = cl;
	ck_assert_msg(policy_client_allowed(&cfg, addr(client_tab[_i].addr,
	    5000, &ss)) == client_tab[_i].allowed, "clients %s, %s: want %d",
	    client_tab[_i].clients, client_tab[_i].addr,
	    client_tab[_i].allowed);
}
END_TEST

/*
 * An IPv6 block that could never match (every address in it embeds
 * IPv4) is a configuration error, not a rule that silently does nothing.
 */
static const struct {
	const char	*line;
	const char	*err;		/* NULL: accepted; else, in it */
} embedded_conf_tab[] = {
	{ "allow_dest ::ffff:10.0.0.0/104",
	    "test.conf:1: allow_dest: bad address or CIDR "
	    "\"::ffff:10.0.0.0/104\" (inside ::ffff:0:0/96 (IPv4-mapped)" },
	{ "allow_dest ::ffff:0:0/96", "IPv4-mapped" },
	{ "deny_dest 64:ff9b::/96", "test.conf:1: deny_dest: bad address "
	    "or CIDR \"64:ff9b::/96\" (inside 64:ff9b::/96 (NAT64)" },
	{ "deny_dest 2002::/16", "2002::/16 (6to4)" },
	{ "allow_dest 2002:a00::/24", "2002::/16 (6to4)" },
	{ "allow_dest ::ffff:0:0:0/96", "IPv4-translated" },
	{ "allow_dest ::7f00:1", "IPv4-compatible" },
	{ "allow_dest ::2/127", "IPv4-compatible" },
	{ "upstream direct for 2002:a00::/24", "test.conf:1: upstream: "
	    "bad address or CIDR \"2002:a00::/24\" (inside 2002::/16" },
	{ "allow_client ::ffff:192.168.1.0/120", "test.conf:1: "
	    "allow_client: bad CIDR \"::ffff:192.168.1.0/120\" (inside "
	    "::ffff:0:0/96 (IPv4-mapped)" },
	{ "allow_dest ::/0", NULL },
	{ "allow_dest ::/96", NULL },
	{ "allow_dest ::/127", NULL },
	{ "allow_dest ::1", NULL },
	{ "allow_dest 64:ff9b:1::/48", NULL },
	{ "deny_dest 2000::/3", NULL },
	{ "allow_client 64:ff9b::/96", NULL },
	{ "allow_client 2002::/16", NULL },
	{ "allow_client ::7f00:0/104", NULL }
};

START_TEST(test_embedded_block_refused)
{
	struct config	cfg;
	char		text[128], err[512];
	int		rc;

	snprintf(text, sizeof(text), "%s\n", embedded_conf_tab[_i].line);
	err[0] = '\0';
	rc = config_parse_buffer("test.conf", text, &cfg, err, sizeof(err));
	if (embedded_conf_tab[_i].err == NULL) {
		ck_assert_msg(rc == 0, "%s: %s", text, err);
		config_free(&cfg);
		return;
	}
	ck_assert_msg(rc == -1, "accepted %s", text);
	ck_assert_msg(strstr(err, embedded_conf_tab[_i].err) != NULL &&
	    strstr(err, "write an IPv4 block") != NULL, "%s: %s", text, err);
}
END_TEST

Suite *
policy_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("policy");
	tc = tcase_create("cidr");
	tcase_add_loop_test(tc, test_cidr_parse_ok, 0, NELEM(parse_ok));
	tcase_add_loop_test(tc, test_cidr_parse_bad, 0, NELEM(parse_bad));
	tcase_add_loop_test(tc, test_cidr_match, 0, NELEM(match_tab));
	tcase_add_test(tc, test_cidr_match_other_family);
	suite_add_tcase(s, tc);

	tc = tcase_create("client_port");
	tcase_add_test(tc, test_client_allowed);
	tcase_add_loop_test(tc, test_port_allowed, 0, NELEM(port_tab));
	tcase_add_test(tc, test_port_none_or_full);
	suite_add_tcase(s, tc);

	tc = tcase_create("dest");
	tcase_add_loop_test(tc, test_check_name, 0, NELEM(name_tab));
	tcase_add_test(tc, test_check_name_no_rules);
	tcase_add_test(tc, test_first_match_wins);
	tcase_add_loop_test(tc, test_builtin_addr, 0, NELEM(builtin_tab));
	tcase_add_loop_test(tc, test_builtin_name, 0, NELEM(builtin_tab));
	tcase_add_test(tc, test_allow_overrides_builtin);
	tcase_add_test(tc, test_name_does_not_unlock_addr);
	tcase_add_test(tc, test_self_denied);
	tcase_add_test(tc, test_self_mapped_listen);
	suite_add_tcase(s, tc);

	tc = tcase_create("embedded_v4");
	tcase_add_loop_test(tc, test_v6_rule_embedded, 0, NELEM(v6rule_tab));
	tcase_add_loop_test(tc, test_client_embedded, 0, NELEM(client_tab));
	tcase_add_loop_test(tc, test_embedded_block_refused, 0,
	    NELEM(embedded_conf_tab));
	suite_add_tcase(s, tc);
	return s;
}
