/*
 * Dialling the target: resolve the requested host, check every address
 * against the destination policy, and connect to the allowed ones in order,
 * all within one deadline.
 */
#ifndef DIAL_H
#define DIAL_H

#include <sys/socket.h>

struct config;
struct request;

struct dial_result {
	struct sockaddr_storage	addr;		/* the address connected to */
	socklen_t		addrlen;
	int			status;		/* on failure: 403, 502, 504 */
	const char		*reason;	/* "dest_denied", "connect_failed", ... */
	const char		*detail;	/* short text for the body */
	const char		*rule;		/* on 403: the rule that denied */
};

/*
 * Connect to req->host:req->port before the monotonic deadline (ms).
 * IP literals are not resolved; names go through getaddrinfo().  Each
 * resolved address is checked with policy_check_addr() and only allowed
 * ones are dialled, each with a share of the remaining time.  Returns a
 * connected, blocking socket with *res describing it, or -1 with
 * res->status: 403 when every address is denied, 502 when the name does
 * not resolve or every connect failed, 504 when the deadline passed.
 */
int	dial_connect(const struct config *cfg, const struct request *req,
	    long long deadline, struct dial_result *res);

#endif
