/* SPDX-License-Identifier: ISC */
/*
 * Policy: who may use the proxy and where they may go.  Pure functions
 * over a struct config and socket addresses: no I/O, no resolution.
 * Destination decisions happen in two stages, first on the requested name
 * (policy_check_name) and then on every resolved address, right before
 * it is dialled (policy_check_addr).
 */
#ifndef POLICY_H
#define POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

struct config;

struct cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network order; first 4 bytes for v4 */
	unsigned	prefix;		/* 0-32 or 0-128 */
};

struct port_range {
	uint16_t	lo;
	uint16_t	hi;
};

enum dest_kind {
	DEST_NAME,	/* exact host name, lowercase, no trailing dot */
	DEST_SUFFIX,	/* ".example.com": example.com and any name below it */
	DEST_CIDR	/* an address block */
};

struct dest_rule {
	int		allow;		/* 1 allow_dest, 0 deny_dest */
	enum dest_kind	kind;
	char		name[256];	/* DEST_NAME, DEST_SUFFIX (with the dot) */
	struct cidr	cidr;		/* DEST_CIDR */
	char		text[300];	/* the rule as written, for logs */
};

enum policy_verdict {
	POLICY_ALLOW,
	POLICY_DENY
};

/*
 * "10.0.0.0/8", "fc00::/7", or a bare address (a host prefix).  Host bits
 * below the prefix must be zero.  Returns 0 or -1.
 */
int	policy_cidr_parse(const char *s, struct cidr *out);

/*
 * Whether the destination `sa` (AF_INET or AF_INET6) lies in `c`.  An
 * IPv6 address that embeds an IPv4 one (IPv4-mapped ::ffff:0:0/96,
 * IPv4-translated ::ffff:0:0:0/96, IPv4-compatible ::/96 except :: and
 * ::1, NAT64 64:ff9b::/96, 6to4 2002::/16 by its bits 16-47) is judged as
 * that IPv4 address only: IPv4 blocks match it, IPv6 blocks never do.
 */
int	policy_cidr_match(const struct cidr *c, const struct sockaddr *sa);

/*
 * When the destination `sa` is judged as an IPv4 address (AF_INET, or an
 * IPv6 form that embeds one, as above): that address, with sa's port, in
 * *out, and 1.  Else 0.
 */
int	policy_dest_v4(const struct sockaddr *sa, struct sockaddr_in *out);

/*
 * When every address of the IPv6 block `c` embeds IPv4, so that it can
 * never match (client 0: a destination, any form above; client 1: a
 * client, for which only the IPv4-mapped form is read as IPv4): the
 * range it lies in, as text for a message.  Else NULL.
 */
const char *policy_cidr_embeds_v4(const struct cidr *c, int client);

/*
 * allow_client: 1 when `sa` matches one of cfg->clients, else 0.  An
 * AF_INET client, or an IPv4-mapped one (what a dual-stack socket
 * reports), is matched by IPv4 blocks only; any other IPv6 client by
 * IPv6 blocks only, whatever IPv4 address its bits may spell.
 */
int	policy_client_allowed(const struct config *cfg,
	    const struct sockaddr *sa);

/*
 * proxy_protocol_from: 1 when the peer `sa` of a proxy_protocol listener
 * is one of the balancers allowed to send a PROXY header (matched as
 * policy_client_allowed() matches), else 0.
 */
int	policy_proxy_allowed(const struct config *cfg,
	    const struct sockaddr *sa);

/*
 * 1 when the client `sa` matches one of the n blocks of `list`, matched
 * as policy_client_allowed() matches allow_client (metrics_client).
 */
int	policy_client_in(const struct cidr *list, size_t n,
	    const struct sockaddr *sa);

/* allow_port: 1 when port lies in one of cfg->ports, else 0. */
int	policy_port_allowed(const struct config *cfg, uint16_t port);

/*
 * Name stage.  `host` is the parsed request host (lowercase name, or an
 * IPv4/IPv6 literal without brackets).  The first rule matching the name
 * (DEST_NAME, DEST_SUFFIX; DEST_CIDR when host is a literal) decides;
 * no match allows.  On deny, *rule names it (the rule text, or
 * "builtin:..." for literals caught by the built-in denials).
 */
enum policy_verdict policy_check_name(const struct config *cfg,
	    const char *host, const char **rule);

/*
 * Address stage, on the exact address about to be dialled.  The first
 * DEST_CIDR rule that matches decides; with none, the built-in denials
 * (loopback, unspecified, link-local, multicast, broadcast and reserved,
 * RFC 1918, CGNAT, unique-local, site-local, the proxy's own listen
 * addresses; embedded IPv4 forms count as their IPv4 address) deny, and
 * anything else is allowed.  A name rule never unlocks an address.
 * On deny, *rule is the rule text or "builtin:<name>"; on allow, the
 * allow_dest text, or NULL when no rule matched (allowed by default:
 * the caller may still find the address to be one of this host's).
 */
enum policy_verdict policy_check_addr(const struct config *cfg,
	    const struct sockaddr *sa, const char **rule);

/*
 * Whether one rule's pattern matches the requested `host` (as for
 * policy_check_name): names and .suffix rules match names, CIDR rules
 * match IP literals only.  Used by upstream selection.  1 or 0.
 */
int	policy_dest_match(const struct dest_rule *r, const char *host);

#endif
