/* SPDX-License-Identifier: ISC */
/*
 * Dialling the target: resolve the requested host, check every address
 * against the destination policy, and race connects to the allowed ones
 * as RFC 8305 (Happy Eyeballs) says, all within one deadline.
 */
#ifndef DIAL_H
#define DIAL_H

#include <sys/socket.h>

#include <signal.h>
#include <stddef.h>

#include "upstream.h"

#define DIAL_MAX_ADDRS		16	/* addresses of one name dialled */
#define DIAL_PARALLEL_MAX	8	/* connect attempts in flight at once */

struct addrinfo;
struct config;
struct request;

struct dial_result {
	struct sockaddr_storage	addr;		/* the address connected to */
	socklen_t		addrlen;
	int			status;		/* on failure: 403, 502, 504 */
	const char		*reason;	/* "dest_denied", "connect_failed", ... */
	const char		*detail;	/* short text for the body */
	const char		*rule;		/* on 403: the rule that denied */
	const char		*upstream;	/* the parent used, last tried */
	int			 upstream_status; /* its answer, 0 when none */
	/*
	 * On failure, the errno of the failure that decided the answer:
	 * ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ... for 502
	 * connect_failed (the most telling attempt: a refusal, then an
	 * unreachable network or host, then any other error), ETIMEDOUT
	 * for every 504 of a destination, and for a parent what the
	 * exchange with the one res->upstream names reported: its
	 * socket's errno (ETIMEDOUT for a connect or write out of time),
	 * EPROTO when its answer is not HTTP, ECONNRESET when it closed
	 * first, EAGAIN when its answer did not come in time (0 when it
	 * answered non-2xx).  0 for a refusal by policy (403) and for a
	 * name that did not resolve, which gai_error describes instead.
	 */
	int			 error;
	/*
	 * getaddrinfo()'s code when the name (or a parent's) did not
	 * resolve: EAI_NONAME, EAI_NODATA (no such name, no address),
	 * EAI_AGAIN, EAI_FAIL (the resolver could not answer), ...; else 0.
	 */
	int			 gai_error;
	/*
	 * The caller's scratch space (at least UPSTREAM_HEAD_MAX bytes, kept
	 * across calls) for the parent's answer; after a 2xx it holds the
	 * early_len bytes the parent sent after its head.
	 */
	char			*early;
	size_t			 early_size;
	size_t			 early_len;
	/*
	 * The caller's stop flag (kept across calls; NULL: none): once it
	 * is set (TERM), the dial ends at once, every attempt closed, with
	 * 503 "shutdown", so that a fast stop does not wait connect_timeout.
	 */
	const volatile sig_atomic_t	*stop;
};

/*
 * Connect to req->host:req->port before the monotonic deadline (ms).
 * IP literals are not resolved; names go through getaddrinfo().  The
 * addresses are put in dial_order(), and each is checked with
 * policy_check_addr(); the allowed ones are raced as RFC 8305 section 5
 * says: the first attempt (a non-blocking connect) starts at once, the
 * next one cfg->connect_attempt_delay_ms later while earlier ones are
 * still pending, or at once when one fails; at most DIAL_PARALLEL_MAX
 * are pending; the first to connect wins and the others are closed.
 * An address that no allow_dest CIDR allowed (allowed by default) must
 * not be an address of this host, any of them, at the time of the dial:
 * the kernel is asked right before its connect (a UDP socket's route
 * lookup), and a connection whose local address is its peer's is
 * dropped; either is denied as "builtin:self".  Returns a connected,
 * non-blocking socket with *res describing it, or -1 with res->status:
 * 403 when every address is denied (res->rule the last denying rule),
 * 502 when the name does not resolve or every attempt failed, 504 when
 * the deadline passed (an attempt still pending, or an address not yet
 * tried), 503 when res->stop was set; res->error and res->gai_error say
 * why.
 */
int	dial_connect(const struct config *cfg, const struct request *req,
	    long long deadline, struct dial_result *res);

/*
 * RFC 8305 section 4, pure: write the IPv4 and IPv6 addresses of the
 * getaddrinfo() list to out[], the families alternating, starting with
 * the family of the first one in the list (a First Address Family Count
 * of one), each family in the list's order (RFC 6724's); when one family
 * runs out, the rest of the other follows.  Other families are left out.
 * Only the first `max` are written, so both families are among them.
 * Returns the count written.
 */
size_t	dial_order(struct addrinfo *list, struct addrinfo **out, size_t max);

/*
 * Open the tunnel through the parents chain[0..n) (upstream_select()), in
 * order, before the deadline; each gets an equal share of the time left.
 * A parent given by name has its addresses raced as a destination's are
 * (dial_order(), cfg->connect_attempt_delay_ms), within its share.
 * A parent's address is trusted as configured: no destination policy.
 * It is sent "CONNECT target" (and its credentials); on a 2xx the
 * connected socket is returned with res->upstream set and any bytes the
 * parent sent after its head in res->early (they belong to the client).
 * A non-2xx answer is final: -1 with 502 and res->upstream_status.  A
 * parent that cannot be reached, answers garbage or runs out of time
 * lets the next one try; after the last, -1 with 502, or 504 when a
 * timeout was involved.  res->upstream, error and gai_error then
 * describe one parent: for a 504 the last that ran out of time, for a
 * 502 the last tried.  res->stop ends it as for dial_connect().
 */
int	dial_upstream(const struct config *cfg, const char *target,
	    const struct upstream *const *chain, size_t n, long long deadline,
	    struct dial_result *res);

#endif
