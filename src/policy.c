/* SPDX-License-Identifier: ISC */
/*
 * Policy: client ACL, port ranges, destination rules and the built-in
 * address denials.  Everything here is pure: addresses are compared as
 * numbers (never as strings).  A destination in an IPv6 form that embeds
 * an IPv4 address is judged as that IPv4 address only; a client only in
 * the IPv4-mapped form a dual-stack socket reports.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>
#include <strings.h>

#include "config.h"
#include "net.h"
#include "policy.h"

#define V4(a, b, c, d, p)	{ AF_INET, { a, b, c, d }, p }
#define V6(a, b, p)		{ AF_INET6, { a, b }, p }

struct builtin {
	const char	*name;
	struct cidr	 cidr;
};

/*
 * Denied unless an allow_dest CIDR says otherwise.  IPv4 entries also
 * catch their mapped, translated, compatible, NAT64 and 6to4 forms
 * through policy_cidr_match().  The metadata entry comes before
 * link-local only so that logs name it.  The local-use NAT64 prefix
 * (RFC 8215) is denied whole: its translator and prefix length are the
 * network's own, so the IPv4 address it stands for cannot be told here.
 */
static const struct builtin builtins[] = {
	{ "builtin:unspecified",	V4(0, 0, 0, 0, 8) },
	{ "builtin:loopback",		V4(127, 0, 0, 0, 8) },
	{ "builtin:metadata",		V4(169, 254, 169, 254, 32) },
	{ "builtin:link-local",		V4(169, 254, 0, 0, 16) },
	{ "builtin:multicast",		V4(224, 0, 0, 0, 4) },
	{ "builtin:reserved",		V4(240, 0, 0, 0, 4) },
	{ "builtin:private",		V4(10, 0, 0, 0, 8) },
	{ "builtin:private",		V4(172, 16, 0, 0, 12) },
	{ "builtin:private",		V4(192, 168, 0, 0, 16) },
	{ "builtin:cgnat",		V4(100, 64, 0, 0, 10) },
	{ "builtin:unspecified",	V6(0x00, 0x00, 128) },
	{ "builtin:loopback",		{ AF_INET6, { [15] = 1 }, 128 } },
	{ "builtin:link-local",		V6(0xfe, 0x80, 10) },
	{ "builtin:site-local",		V6(0xfe, 0xc0, 10) },
	{ "builtin:multicast",		V6(0xff, 0x00, 8) },
	{ "builtin:unique-local",	V6(0xfc, 0x00, 7) },
	{ "builtin:nat64-local",
	    { AF_INET6, { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48 } }
};

#define NBUILTINS	(sizeof(builtins) / sizeof(builtins[0]))

static const uint8_t	v4mapped[12] = { [10] = 0xff, [11] = 0xff };
static const uint8_t	nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
static const uint8_t	siit[12] = { [8] = 0xff, [9] = 0xff };
static const uint8_t	zero16[16];

/*
 * Copy the IPv4 address that `sa` stands for into v4: its own for
 * AF_INET, the embedded one for the mapped (::ffff:0:0/96), translated
 * (SIIT, ::ffff:0:0:0/96), NAT64 (64:ff9b::/96) and compatible (::/96)
 * IPv6 forms, and for 6to4 (2002::/16) the site's IPv4 address in bits
 * 16-47, which is where its packets go.  :: and ::1 are excluded from
 * the compatible form: they are IPv6 addresses in their own right.
 * Returns 1 when there is one, else 0.
 */
static int
embedded_v4(const struct sockaddr *sa, uint8_t v4[4])
{
	const struct sockaddr_in	*sin;
	const struct sockaddr_in6	*sin6;
	const uint8_t			*a;

	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *)(const void *)sa;
		memcpy(v4, &sin->sin_addr, 4);
		return 1;
	}
	if (sa->sa_family != AF_INET6)
		return 0;
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	a = sin6->sin6_addr.s6_addr;
	if (a[0] == 0x20 && a[1] == 0x02) {
		memcpy(v4, a + 2, 4);
		return 1;
	}
	if (memcmp(a, zero16, 12) == 0) {
		if (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] <= 1)
			return 0;
	} else if (memcmp(a, v4mapped, 12) != 0 && memcmp(a, nat64, 12) != 0 &&
	    memcmp(a, siit, 12) != 0)
		return 0;
	memcpy(v4, a + 12, 4);
	return 1;
}

/*
 * An address as the rules judge it: as an IPv4 address (v4 set, a[0..4))
 * or as an IPv6 address (a[0..16)); `ok` is 0 for any other family.
 */
struct judged {
	int	ok;
	int	v4;
	uint8_t	a[16];
};

/*
 * A destination is judged as the IPv4 address it embeds, in any form
 * embedded_v4() knows, and only as that: an IPv6 block (`allow_dest
 * ::/0`) never unlocks an IPv4 address spelt as IPv6.
 */
static void
judge_dest(const struct sockaddr *sa, struct judged *j)
{
	memset(j, 0, sizeof(*j));
	if (embedded_v4(sa, j->a))
		j->ok = j->v4 = 1;
	else if (sa->sa_family == AF_INET6) {
		j->ok = 1;
		memcpy(j->a, ((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr.s6_addr, 16);
	}
}

/*
 * A client is judged as IPv4 only when it is one: AF_INET, or the
 * IPv4-mapped form a dual-stack socket reports.  Any other IPv6 source
 * (6to4, NAT64, compatible) is a host on the IPv6 side and is matched by
 * IPv6 blocks only: a translator's clients are not the IPv4 hosts their
 * addresses spell.
 */
static void
judge_client(const struct sockaddr *sa, struct judged *j)
{
	const uint8_t	*a;

	memset(j, 0, sizeof(*j));
	if (sa->sa_family == AF_INET) {
		j->ok = j->v4 = 1;
		memcpy(j->a, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		a = ((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr.s6_addr;
		j->ok = 1;
		j->v4 = memcmp(a, v4mapped, 12) == 0;
		memcpy(j->a, j->v4 ? a + 12 : a, j->v4 ? 4 : 16);
	}
}

/* Whether the first `prefix` bits of a and b agree. */
static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned	full = prefix / 8, rest = prefix % 8;
	uint8_t		mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[full] ^ b[full]) & mask) == 0;
}

/* Whether any bit of the address after the prefix is set. */
static int
host_bits_set(const struct cidr *c)
{
	unsigned	bits = c->family == AF_INET ? 32 : 128;
	unsigned	i;

	for (i = c->prefix; i < bits; i++)
		if (c->addr[i / 8] & (0x80 >> (i % 8)))
			return 1;
	return 0;
}

int
policy_cidr_parse(const char *s, struct cidr *out)
{
	char		 buf[INET6_ADDRSTRLEN];
	const char	*slash;
	size_t		 len;
	struct cidr	 c;

	memset(&c, 0, sizeof(c));
	slash = strchr(s, '/');
	len = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* inet_pton only: no "127.1", no octal, no zone ids. */
	c.family = strchr(buf, ':') != NULL ? AF_INET6 : AF_INET;
	if (inet_pton(c.family, buf, c.addr) != 1)
		return -1;
	c.prefix = c.family == AF_INET ? 32 : 128;
	if (slash != NULL && net_parse_decimal(slash + 1, strlen(slash + 1), 3,
	    c.prefix, &c.prefix) == -1)
		return -1;
	if (host_bits_set(&c))
		return -1;
	*out = c;
	return 0;
}

int
policy_dest_v4(const struct sockaddr *sa, struct sockaddr_in *out)
{
	uint8_t	v4[4];

	if (!embedded_v4(sa, v4))
		return 0;
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = sa->sa_family == AF_INET ?
	    ((const struct sockaddr_in *)(const void *)sa)->sin_port :
	    ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port;
	memcpy(&out->sin_addr, v4, 4);
	return 1;
}

/* Whether the judged address lies in c: blocks of its own family only. */
static int
judged_match(const struct cidr *c, const struct judged *j)
{
	if (!j->ok || c->family != (j->v4 ? AF_INET : AF_INET6))
		return 0;
	return prefix_equal(c->addr, j->a, c->prefix);
}

int
policy_cidr_match(const struct cidr *c, const struct sockaddr *sa)
{
	struct judged	j;

	judge_dest(sa, &j);
	return judged_match(c, &j);
}

/* Whether the client sa lies in one of the n blocks of list. */
static int
client_in(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	struct judged	j;
	size_t		i;

	judge_client(sa, &j);
	for (i = 0; i < n; i++)
		if (judged_match(&list[i], &j))
			return 1;
	return 0;
}

int
policy_client_allowed(const struct config *cfg, const struct sockaddr *sa)
{
	return client_in(cfg->clients, cfg->nclients, sa);
}

int
policy_proxy_allowed(const struct config *cfg, const struct sockaddr *sa)
{
	return client_in(cfg->proxy_from, cfg->nproxy_from, sa);
}

int
policy_client_in(const struct cidr *list, size_t n, const struct sockaddr *sa)
{
	return client_in(list, n, sa);
}

int
policy_port_allowed(const struct config *cfg, uint16_t port)
{
	size_t	i;

	for (i = 0; i < cfg->nports; i++)
		if (port >= cfg->ports[i].lo && port <= cfg->ports[i].hi)
			return 1;
	return 0;
}

/*
 * The listen address as a host block, in its IPv4 form when it embeds
 * one so that every spelling of it matches.  Returns 0, or -1 for a
 * wildcard or unknown family: "any local address" needs I/O, which
 * dial.c does on every address allowed by default.
 */
static int
listen_cidr(const struct listen_addr *la, struct cidr *c)
{
	const struct sockaddr		*sa;
	const struct sockaddr_in6	*sin6;

	sa = (const struct sockaddr *)(const void *)&la->ss;
	memset(c, 0, sizeof(*c));
	if (embedded_v4(sa, c->addr)) {
		c->family = AF_INET;
		c->prefix = 32;
		return memcmp(c->addr, zero16, 4) == 0 ? -1 : 0;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	sin6 = (const struct sockaddr_in6 *)(const void *)sa;
	memcpy(c->addr, sin6->sin6_addr.s6_addr, 16);
	c->family = AF_INET6;
	c->prefix = 128;
	return memcmp(c->addr, zero16, 16) == 0 ? -1 : 0;
}

/* The built-in denial that catches the judged address, or NULL. */
static const char *
builtin_denial(const struct config *cfg, const struct judged *j)
{
	struct cidr	c;
	size_t		i;

	for (i = 0; i < NBUILTINS; i++)
		if (judged_match(&builtins[i].cidr, j))
			return builtins[i].name;
	for (i = 0; i < cfg->nlisten; i++)
		if (listen_cidr(&cfg->listen[i], &c) == 0 &&
		    judged_match(&c, j))
			return "builtin:self";
	return NULL;
}

/*
 * The IPv6 ranges whose addresses embed an IPv4 one (as embedded_v4()
 * reads them), so that an IPv6 block inside one can never match a
 * destination.  The IPv4-compatible range holds :: and ::1 too, which
 * are IPv6 addresses: see policy_cidr_embeds_v4().
 */
static const struct builtin embeddings[] = {
	{ "::ffff:0:0/96 (IPv4-mapped)",
	    { AF_INET6, { [10] = 0xff, [11] = 0xff }, 96 } },
	{ "::ffff:0:0:0/96 (IPv4-translated)",
	    { AF_INET6, { [8] = 0xff, [9] = 0xff }, 96 } },
	{ "64:ff9b::/96 (NAT64)",
	    { AF_INET6, { 0x00, 0x64, 0xff, 0x9b }, 96 } },
	{ "2002::/16 (6to4)",	V6(0x20, 0x02, 16) },
	{ "::/96 (IPv4-compatible)", V6(0x00, 0x00, 96) }
};

#define NEMBEDDINGS	(sizeof(embeddings) / sizeof(embeddings[0]))

const char *
policy_cidr_embeds_v4(const struct cidr *c, int client)
{
	static const uint8_t	one[16] = { [15] = 1 };
	const struct cidr	*r;
	size_t			 i;

	if (c->family != AF_INET6)
		return NULL;
	/* For clients, only the mapped form is read as IPv4. */
	for (i = 0; i < (client ? 1 : NEMBEDDINGS); i++) {
		r = &embeddings[i].cidr;
		if (c->prefix < r->prefix ||
		    !prefix_equal(c->addr, r->addr, r->prefix))
			continue;
		if (i == NEMBEDDINGS - 1 &&
		    (prefix_equal(c->addr, zero16, c->prefix) ||
		    prefix_equal(c->addr, one, c->prefix)))
			return NULL;
		return embeddings[i].name;
	}
	return NULL;
}

static enum policy_verdict
verdict(int allow, const char *text, const char **rule)
{
	if (rule != NULL)
		*rule = text;
	return allow ? POLICY_ALLOW : POLICY_DENY;
}

/* ".example.com" takes "example.com" and "a.example.com", on a label. */
static int
suffix_match(const char *suffix, const char *host)
{
	size_t	slen = strlen(suffix), hlen = strlen(host);

	if (suffix[0] != '.')
		return 0;
	if (strcasecmp(host, suffix + 1) == 0)
		return 1;
	return hlen > slen && strcasecmp(host + hlen - slen, suffix) == 0;
}

/* Fill `ss` from an IPv4 or IPv6 literal; -1 when host is a name. */
static int
parse_literal(const char *host, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	memset(ss, 0, sizeof(*ss));
	sin = (struct sockaddr_in *)(void *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}
	sin6 = (struct sockaddr_in6 *)(void *)ss;
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}

int
policy_dest_match(const struct dest_rule *r, const char *host)
{
	struct sockaddr_storage	ss;

	if (parse_literal(host, &ss) == 0)
		return r->kind == DEST_CIDR && policy_cidr_match(&r->cidr,
		    (const struct sockaddr *)(const void *)&ss);
	return (r->kind == DEST_NAME && strcasecmp(r->name, host) == 0) ||
	    (r->kind == DEST_SUFFIX && suffix_match(r->name, host));
}

enum policy_verdict
policy_check_name(const struct config *cfg, const char *host,
    const char **rule)
{
	struct sockaddr_storage	 ss;
	const struct dest_rule	*d;
	size_t			 i;

	/*
	 * For a literal only CIDR rules and the built-ins can apply, which
	 * is exactly the address stage; name rules never see a literal.
	 */
	if (parse_literal(host, &ss) == 0)
		return policy_check_addr(cfg,
		    (const struct sockaddr *)(const void *)&ss, rule);
	for (i = 0; i < cfg->ndests; i++) {
		d = &cfg->dests[i];
		if ((d->kind == DEST_NAME && strcasecmp(d->name, host) == 0) ||
		    (d->kind == DEST_SUFFIX && suffix_match(d->name, host)))
			return verdict(d->allow, d->text, rule);
	}
	return verdict(1, NULL, rule);
}

enum policy_verdict
policy_check_addr(const struct config *cfg, const struct sockaddr *sa,
    const char **rule)
{
	const struct dest_rule	*d;
	const char		*name;
	struct judged		 j;
	size_t			 i;

	judge_dest(sa, &j);
	for (i = 0; i < cfg->ndests; i++) {
		d = &cfg->dests[i];
		if (d->kind == DEST_CIDR && judged_match(&d->cidr, &j))
			return verdict(d->allow, d->text, rule);
	}
	if ((name = builtin_denial(cfg, &j)) != NULL)
		return verdict(0, name, rule);
	return verdict(1, NULL, rule);
}
