/*
 * Dialling the target.  Resolution and every connect attempt share one
 * deadline (connect_timeout), and the policy sees each resolved address
 * right before it is dialled, so nothing is resolved twice between the
 * check and the connect.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "dial.h"
#include "log.h"
#include "net.h"
#include "policy.h"
#include "request.h"

#define DIAL_MAX_ADDRS	16

enum attempt {
	ATTEMPT_OK,
	ATTEMPT_FAILED,
	ATTEMPT_TIMEOUT
};

static int
fail(struct dial_result *res, int status, const char *reason,
    const char *detail)
{
	res->status = status;
	res->reason = reason;
	res->detail = detail;
	return -1;
}

/* One non-blocking connect, waited for until `deadline`. */
static enum attempt
connect_one(const struct addrinfo *ai, long long deadline, int *fdp)
{
	struct pollfd	pfd;
	socklen_t	elen = sizeof(int);
	long long	left;
	int		fd, err = 0, n;

	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1 || net_set_nonblock(fd, 1) == -1)
		goto failed;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto connected;
	if (errno != EINPROGRESS)
		goto failed;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do {
		if ((left = deadline - net_now_ms()) <= 0) {
			close(fd);
			return ATTEMPT_TIMEOUT;
		}
		n = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
	} while (n == 0 || (n == -1 && errno == EINTR));
	if (n == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1
	    || err != 0)
		goto failed;
connected:
	*fdp = fd;
	return ATTEMPT_OK;
failed:
	if (fd != -1)
		close(fd);
	return ATTEMPT_FAILED;
}

/* Keep the addresses the policy allows; remember the last denying rule. */
static size_t
filter_addrs(const struct config *cfg, struct addrinfo *list,
    struct addrinfo **out, struct dial_result *res)
{
	struct addrinfo	*ai;
	const char	*rule;
	size_t		 n = 0;
	char		 text[NET_ADDRSTR];

	for (ai = list; ai != NULL && n < DIAL_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		if (policy_check_addr(cfg, ai->ai_addr, &rule) == POLICY_DENY) {
			res->rule = rule;
			log_debug("address %s denied by %s", net_format(
			    ai->ai_addr, text, sizeof(text)), rule);
			continue;
		}
		out[n++] = ai;
	}
	return n;
}

static int
try_addrs(struct addrinfo **addrs, size_t n, long long deadline,
    struct dial_result *res)
{
	enum attempt	a;
	long long	now, share;
	size_t		i;
	int		fd = -1, timedout = 0;

	for (i = 0; i < n; i++) {
		now = net_now_ms();
		if (now >= deadline)
			break;
		/* Each remaining address gets an equal share of the time. */
		share = (deadline - now) / (long long)(n - i);
		a = connect_one(addrs[i], now + share, &fd);
		if (a == ATTEMPT_OK) {
			memcpy(&res->addr, addrs[i]->ai_addr,
			    addrs[i]->ai_addrlen);
			res->addrlen = addrs[i]->ai_addrlen;
			return fd;
		}
		if (a == ATTEMPT_TIMEOUT)
			timedout = 1;
	}
	if (timedout || i < n)
		return fail(res, 504, "connect_timeout", "connect timed out");
	return fail(res, 502, "connect_failed", "connect failed");
}

int
dial_connect(const struct config *cfg, const struct request *req,
    long long deadline, struct dial_result *res)
{
	struct addrinfo	 hints, *list, *addrs[DIAL_MAX_ADDRS];
	char		 port[8];
	size_t		 n;
	int		 rc, fd;

	memset(res, 0, sizeof(*res));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (req->host_kind != REQUEST_HOST_NAME)
		hints.ai_flags |= AI_NUMERICHOST;
	snprintf(port, sizeof(port), "%u", (unsigned)req->port);
	rc = getaddrinfo(req->host, port, &hints, &list);
	if (rc != 0) {
		if (rc == EAI_AGAIN || net_now_ms() >= deadline)
			return fail(res, 504, "resolve_timeout",
			    "name resolution timed out");
		return fail(res, 502, "resolve_failed",
		    "name does not resolve");
	}
	n = filter_addrs(cfg, list, addrs, res);
	if (n == 0) {
		freeaddrinfo(list);
		return fail(res, 403, "dest_denied", "destination not allowed");
	}
	fd = try_addrs(addrs, n, deadline, res);
	freeaddrinfo(list);
	return fd;
}
