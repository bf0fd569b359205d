/* SPDX-License-Identifier: ISC */
/*
 * Dialling the target: resolve the requested host, check every address
 * against the destination policy, and connect to the allowed ones in order,
 * all within one deadline.
 */
#ifndef DIAL_H
#define DIAL_H

#include <sys/socket.h>

#include "upstream.h"

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
	 * The caller's scratch space (at least UPSTREAM_HEAD_MAX bytes, kept
	 * across calls) for the parent's answer; after a 2xx it holds the
	 * early_len bytes the parent sent after its head.
	 */
	char			*early;
	size_t			 early_size;
	size_t			 early_len;
	/*
	 * On failure, what failed, for the answer's Proxy-Status: the errno
	 * of the last connect that failed (ETIMEDOUT when it ran out of
	 * time), or of the exchange with a parent (EPROTO: its answer is
	 * not HTTP; ECONNRESET: it closed first; EAGAIN: its answer did not
	 * come in time); and the getaddrinfo() code of a name (the
	 * destination's or a parent's) that did not resolve.  0: none.
	 */
	int			 error;
	int			 gai_error;
};

/*
 * Connect to req->host:req->port before the monotonic deadline (ms).
 * IP literals are not resolved; names go through getaddrinfo().  Each
 * resolved address is checked with policy_check_addr() and only allowed
 * ones are dialled, each with a share of the remaining time.  One that
 * no allow_dest CIDR allowed (allowed by default) must not be an address
 * of this host, any of them, at the time of the dial: the kernel is
 * asked right before the connect (a UDP socket's route lookup), and a
 * connection whose local address is its peer's is dropped; either is
 * denied as "builtin:self".  Returns a connected, non-blocking socket
 * with *res describing it, or -1 with res->status: 403 when every
 * address is denied (res->rule the last denying rule), 502 when the name
 * does not resolve or every connect failed, 504 when the deadline passed.
 */
int	dial_connect(const struct config *cfg, const struct request *req,
	    long long deadline, struct dial_result *res);

/*
 * Open the tunnel through the parents chain[0..n) (upstream_select()), in
 * order, before the deadline; each gets an equal share of the time left.
 * A parent's address is trusted as configured: no destination policy.
 * It is sent "CONNECT target" (and its credentials); on a 2xx the
 * connected socket is returned with res->upstream set and any bytes the
 * parent sent after its head in res->early (they belong to the client).
 * A non-2xx answer is final: -1 with 502 and res->upstream_status.  A
 * parent that cannot be reached, answers garbage or runs out of time
 * lets the next one try; after the last, -1 with 502, or 504 when a
 * timeout was involved.
 */
int	dial_upstream(const char *target, const struct upstream *const *chain,
	    size_t n, long long deadline, struct dial_result *res);

#endif
