/* SPDX-License-Identifier: ISC */
/*
 * Dialling the target.  Resolution and every connect attempt share one
 * deadline (connect_timeout), and the policy sees each resolved address
 * right before it is dialled, so nothing is resolved twice between the
 * check and the connect.  An address the policy allows only by default
 * is also checked against this host's own addresses, which Linux would
 * deliver over loopback to services bound to the wildcard.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "dial.h"
#include "log.h"
#include "net.h"
#include "policy.h"
#include "request.h"

#define DIAL_MAX_ADDRS	16
#define DIAL_SELF_RULE	"builtin:self"

enum attempt {
	ATTEMPT_OK,
	ATTEMPT_FAILED,
	ATTEMPT_TIMEOUT
};

/* Clear a result, keeping the caller's scratch space. */
static void
reset(struct dial_result *res)
{
	char	*early = res->early;
	size_t	 size = res->early_size;

	memset(res, 0, sizeof(*res));
	res->early = early;
	res->early_size = size;
}

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
	socklen_t	elen = sizeof(int);
	int		fd, err = 0, r, saved;

#ifdef SOCK_NONBLOCK
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		goto failed;
#else
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1 || net_set_nonblock(fd, 1) == -1)
		goto failed;
#endif
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		goto connected;
	if (errno != EINPROGRESS)
		goto failed;
	if ((r = net_wait(fd, POLLOUT, deadline, NULL)) == 0) {
		close(fd);
		return ATTEMPT_TIMEOUT;
	}
#ifdef __linux__
	/* A failed connect() reports POLLERR: a bare POLLOUT is connected. */
	if (r == POLLOUT)
		goto connected;
#endif
	if (r == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1
	    || err != 0)
		goto failed;
connected:
	*fdp = fd;
	return ATTEMPT_OK;
failed:
	/* Why, for the caller (res->error): the connect's own error. */
	saved = err != 0 ? err : errno;
	if (fd != -1)
		close(fd);
	errno = saved;
	return ATTEMPT_FAILED;
}

/* Whether a and b hold the same IP address (ports aside). */
static int
same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)(const void *)
		    a)->sin_addr, &((const struct sockaddr_in *)(const void *)
		    b)->sin_addr, sizeof(struct in_addr)) == 0;
	if (a->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)(const void *)
		    a)->sin6_addr, &((const struct sockaddr_in6 *)(const void *)
		    b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

/*
 * Ask the kernel whether `sa` is an address of this host: connect() a UDP
 * socket to it (a route lookup; no packet is sent) and see whether the
 * source address it picks is `sa` itself, which happens only for an
 * address of this host.  Four system calls; no netlink (getifaddrs()) and
 * no /proc, so it works under the shipped unit, and an address that
 * appeared after start (DHCP) is seen at once.  bind() would answer the
 * same with EADDRNOTAVAIL, but ip_nonlocal_bind (common on gateways
 * running keepalived or haproxy) makes it succeed for every address.
 * A route the kernel cannot find means not local: the TCP connect will
 * fail on its own.  Returns 1 local, 0 not, -1 when it cannot tell.
 */
static int
probe_local(const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_storage	src;
	socklen_t		slen = sizeof(src);
	int			fd, local = 0, saved;

#ifdef SOCK_CLOEXEC
	fd = socket(sa->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
#else
	fd = socket(sa->sa_family, SOCK_DGRAM, 0);
#endif
	if (fd == -1)
		return -1;
	if (connect(fd, sa, len) == 0) {
		if (getsockname(fd, (struct sockaddr *)&src, &slen) == -1)
			local = -1;
		else
			local = same_ip(sa, (struct sockaddr *)&src);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return local;
}

/*
 * Whether the destination is this host: its own address, and for the
 * IPv6 forms that embed IPv4 (which the policy judges as that IPv4
 * address; a translator on this host would deliver them to it) the
 * IPv4 address too.  1, 0, or -1 when it cannot tell.
 */
static int
dest_is_self(const struct addrinfo *ai)
{
	const struct sockaddr_in6	*sin6;
	struct sockaddr_in		 v4;
	int				 r;

	if (policy_dest_v4(ai->ai_addr, &v4)) {
		if ((r = probe_local((struct sockaddr *)&v4, sizeof(v4))) != 0)
			return r;
		if (ai->ai_family == AF_INET)
			return 0;
		/* A mapped address is dialled as its IPv4 address. */
		sin6 = (const struct sockaddr_in6 *)(const void *)ai->ai_addr;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			return 0;
	}
	return probe_local(ai->ai_addr, ai->ai_addrlen);
}

/*
 * The belt after the probe: a connection whose local address is its
 * peer's went to this host, whatever the probe saw (an address added
 * between the two).  One getsockname().
 */
static int
connected_to_self(int fd, const struct addrinfo *ai)
{
	struct sockaddr_storage	local;
	socklen_t		len = sizeof(local);

	if (getsockname(fd, (struct sockaddr *)&local, &len) == -1)
		return -1;
	return same_ip((struct sockaddr *)&local, ai->ai_addr);
}

/*
 * Keep the addresses the policy allows; remember the last denying rule.
 * self[i] says whether out[i] was allowed by default only, so that it
 * must not be this host.
 */
static size_t
filter_addrs(const struct config *cfg, struct addrinfo *list,
    struct addrinfo **out, int *self, struct dial_result *res)
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
		self[n] = rule == NULL;
		out[n++] = ai;
	}
	return n;
}

/* An address found to be this host's: denied, as the policy would. */
static void
deny_self(const struct addrinfo *ai, const char *when,
    struct dial_result *res)
{
	char	text[NET_ADDRSTR];

	res->rule = DIAL_SELF_RULE;
	log_debug("address %s denied by %s (%s)", net_format(ai->ai_addr,
	    text, sizeof(text)), DIAL_SELF_RULE, when);
}

/*
 * Connect to addrs[0..n) in order, each with an equal share of the time
 * left.  With `self` (NULL for parents, which are trusted), an address
 * whose self[i] is set is first checked not to be this host's, and so is
 * the connection made to it; when that leaves no address, 403.
 */
static int
try_addrs(struct addrinfo **addrs, const int *self, size_t n,
    long long deadline, struct dial_result *res)
{
	enum attempt	a;
	long long	now, share;
	size_t		i, denied = 0;
	int		fd = -1, timedout = 0, r;
	char		text[NET_ADDRSTR];

	for (i = 0; i < n; i++) {
		now = net_mono_ms();
		if (now >= deadline)
			break;
		if (self != NULL && self[i] &&
		    (r = dest_is_self(addrs[i])) != 0) {
			/* Cannot tell (no socket): not dialled, a failure. */
			if (r == -1)
				log_warn("cannot tell whether %s is this "
				    "host's", net_format(addrs[i]->ai_addr,
				    text, sizeof(text)));
			else {
				deny_self(addrs[i], "before connect", res);
				denied++;
			}
			continue;
		}
		/* Each remaining address gets an equal share of the time. */
		share = (deadline - now) / (long long)(n - i);
		a = connect_one(addrs[i], now + share, &fd);
		if (a == ATTEMPT_FAILED)
			res->error = errno;
		else if (a == ATTEMPT_TIMEOUT)
			res->error = ETIMEDOUT;
		if (a == ATTEMPT_OK && self != NULL && self[i] &&
		    (r = connected_to_self(fd, addrs[i])) != 0) {
			close(fd);
			if (r == 1) {
				deny_self(addrs[i], "connected", res);
				denied++;
			}
			continue;
		}
		if (a == ATTEMPT_OK) {
			memcpy(&res->addr, addrs[i]->ai_addr,
			    addrs[i]->ai_addrlen);
			res->addrlen = addrs[i]->ai_addrlen;
			return fd;
		}
		if (a == ATTEMPT_TIMEOUT)
			timedout = 1;
	}
	if (denied > 0 && denied == n)
		return fail(res, 403, "dest_denied", "destination not allowed");
	if (timedout || i < n)
		return fail(res, 504, "connect_timeout", "connect timed out");
	return fail(res, 502, "connect_failed", "connect failed");
}

/*
 * getaddrinfo() for a destination or parent name, as given: never under a
 * domain of the resolver's search list, so that a rule sees the name that
 * is dialled.  glibc is kept from searching by the empty LOCALDOMAIN the
 * master sets (see main.c).  Other C libraries (musl) ignore it; there a
 * name is made absolute with a trailing dot, unless /etc/hosts names it:
 * those libraries read /etc/hosts first, with the name as given, and an
 * absolute name would miss it.
 */
#ifndef __GLIBC__
static int
in_hosts_file(const char *host)
{
	char	 line[512], *tok, *save;
	FILE	*f;
	int	 found = 0;

	if ((f = fopen("/etc/hosts", "re")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "#\n")] = '\0';
		if ((tok = strtok_r(line, " \t", &save)) == NULL)
			continue;
		while (!found && (tok = strtok_r(NULL, " \t", &save)) != NULL)
			found = strcasecmp(tok, host) == 0;
	}
	fclose(f);
	return found;
}
#endif

static int
resolve(const char *host, unsigned port, struct addrinfo **list)
{
	struct addrinfo	hints;
	char		serv[8];
#ifndef __GLIBC__
	char		absolute[REQUEST_HOST_MAX + 2];
	unsigned char	addr[sizeof(struct in6_addr)];
	size_t		len = strlen(host);

	/* A parent may be an IP literal, which a trailing dot would spoil. */
	if (len > 0 && host[len - 1] != '.' && len + 2 <= sizeof(absolute) &&
	    inet_pton(AF_INET, host, addr) != 1 &&
	    inet_pton(AF_INET6, host, addr) != 1 && !in_hosts_file(host)) {
		memcpy(absolute, host, len);
		memcpy(absolute + len, ".", 2);
		host = absolute;
	}
#endif
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", port);
	return getaddrinfo(host, serv, &hints, list);
}

/*
 * An IP literal needs no resolver: one address, built here, without the
 * allocation and the stack getaddrinfo() would cost every tunnel.
 */
static int
literal_addr(const struct request *req, struct sockaddr_storage *ss,
    struct addrinfo *ai)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	memset(ai, 0, sizeof(*ai));
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_addr = (struct sockaddr *)ss;
	if (req->host_kind == REQUEST_HOST_IPV4) {
		sin->sin_family = ai->ai_family = AF_INET;
		sin->sin_port = htons(req->port);
		ai->ai_addrlen = sizeof(*sin);
		return inet_pton(AF_INET, req->host, &sin->sin_addr) == 1 ?
		    0 : -1;
	}
	sin6->sin6_family = ai->ai_family = AF_INET6;
	sin6->sin6_port = htons(req->port);
	ai->ai_addrlen = sizeof(*sin6);
	return inet_pton(AF_INET6, req->host, &sin6->sin6_addr) == 1 ? 0 : -1;
}

/*
 * Why a name did not resolve.  getaddrinfo() does not take our deadline:
 * it returns when the resolver gives up, so only a return past the
 * deadline is a timeout (504).  Before it, an error the resolver reports
 * is a 502 at once: resolve_error when it could not answer (no server
 * reachable, SERVFAIL or REFUSED, its own retries spent: EAI_AGAIN, which
 * glibc uses for all of these, and EAI_FAIL), resolve_failed when it
 * answered that the name has no address (NXDOMAIN, no A or AAAA).
 */
static int
resolve_failure(const char *host, int rc, long long deadline,
    struct dial_result *res)
{
	log_debug("resolve %s: %s", host, gai_strerror(rc));
	res->gai_error = rc;
	if (net_mono_ms() >= deadline)
		return fail(res, 504, "resolve_timeout",
		    "name resolution timed out");
	if (rc == EAI_AGAIN || rc == EAI_FAIL || rc == EAI_SYSTEM ||
	    rc == EAI_MEMORY)
		return fail(res, 502, "resolve_error",
		    "name resolution failed");
	return fail(res, 502, "resolve_failed", "name does not resolve");
}

int
dial_connect(const struct config *cfg, const struct request *req,
    long long deadline, struct dial_result *res)
{
	struct addrinfo		 lit, *list = &lit, *addrs[DIAL_MAX_ADDRS];
	struct sockaddr_storage	 ss;
	size_t			 n;
	int			 rc = 0, fd, self[DIAL_MAX_ADDRS];

	reset(res);
	if (req->host_kind != REQUEST_HOST_NAME) {
		if (literal_addr(req, &ss, &lit) == -1)
			return fail(res, 502, "resolve_failed",
			    "bad address");
	} else
		rc = resolve(req->host, req->port, &list);
	if (rc != 0)
		return resolve_failure(req->host, rc, deadline, res);
	n = filter_addrs(cfg, list, addrs, self, res);
	fd = n == 0 ? fail(res, 403, "dest_denied",
	    "destination not allowed") : try_addrs(addrs, self, n, deadline,
	    res);
	if (list != &lit)
		freeaddrinfo(list);
	return fd;
}

/* Resolve a parent (no policy: it is trusted as configured) and connect. */
static int
connect_parent(const struct upstream *u, long long deadline,
    struct dial_result *res)
{
	struct addrinfo	 *list, *ai, *addrs[DIAL_MAX_ADDRS];
	size_t		 n = 0;
	int		 rc, fd;

	/* As for a destination (resolve_failure()): 504 only past it. */
	if ((rc = resolve(u->host, u->port, &list)) != 0) {
		log_warnx("upstream %s: %s", u->text, gai_strerror(rc));
		res->gai_error = rc;
		if (net_mono_ms() >= deadline)
			return fail(res, 504, "upstream_timeout",
			    "upstream proxy timed out");
		return fail(res, 502, "upstream_failed",
		    "upstream proxy unreachable");
	}
	for (ai = list; ai != NULL && n < DIAL_MAX_ADDRS; ai = ai->ai_next)
		if (ai->ai_family == AF_INET || ai->ai_family == AF_INET6)
			addrs[n++] = ai;
	fd = try_addrs(addrs, NULL, n, deadline, res);
	freeaddrinfo(list);
	return fd;
}

/*
 * Send the CONNECT and read the parent's head before the deadline.
 * Returns 0 on a 2xx (bytes after the head left in res->early), or -1
 * with res->status: 502 for an answer that is not 2xx (final) or not
 * HTTP, 504 for a timeout.
 */
static int
ask_parent(int fd, const struct upstream *u, const char *target,
    long long deadline, struct dial_result *res)
{
	char	req[UPSTREAM_REQ_MAX];
	size_t	len = 0, n, head;
	ssize_t	r;
	int	status;

	n = upstream_request(u, target, req, sizeof(req));
	if (n == 0 || net_write_all(fd, req, n, deadline) == -1) {
		res->error = n == 0 ? 0 : errno;
		memset(req, 0, sizeof(req));
		return fail(res, errno == ETIMEDOUT ? 504 : 502, errno ==
		    ETIMEDOUT ? "upstream_timeout" : "upstream_failed",
		    "upstream proxy failed");
	}
	/* The request holds the parent's credentials. */
	memset(req, 0, sizeof(req));
	for (;;) {
		switch (upstream_parse_head(res->early, len, &status, &head)) {
		case UPSTREAM_HEAD_OK:
			res->upstream_status = status;
			if (status < 200 || status > 299)
				return fail(res, 502, "upstream_refused",
				    "upstream proxy refused");
			res->early_len = len - head;
			memmove(res->early, res->early + head, len - head);
			return 0;
		case UPSTREAM_HEAD_BAD:
			res->error = EPROTO;
			return fail(res, 502, "upstream_failed",
			    "bad answer from upstream proxy");
		case UPSTREAM_HEAD_AGAIN:
			break;
		}
		/* A poll() error is left for recv() to report. */
		if (net_wait(fd, POLLIN, deadline, NULL) == 0) {
			res->error = EAGAIN;	/* no answer in time */
			return fail(res, 504, "upstream_timeout",
			    "upstream proxy timed out");
		}
		r = recv(fd, res->early + len, res->early_size - len,
		    MSG_DONTWAIT);
		if (r == 0 || (r == -1 && errno != EAGAIN && errno != EINTR)) {
			res->error = r == 0 ? ECONNRESET : errno;
			return fail(res, 502, "upstream_failed",
			    "upstream proxy closed");
		}
		if (r > 0)
			len += (size_t)r;
	}
}

int
dial_upstream(const char *target, const struct upstream *const *chain,
    size_t n, long long deadline, struct dial_result *res)
{
	long long	now, until;
	size_t		i;
	int		fd, timedout = 0;

	reset(res);
	for (i = 0; i < n; i++) {
		res->upstream = chain[i]->text;
		res->upstream_status = 0;
		res->error = res->gai_error = 0;
		if ((now = net_mono_ms()) >= deadline) {
			timedout = 1;
			break;
		}
		/* Each parent left gets an equal share of the time. */
		until = now + (deadline - now) / (long long)(n - i);
		fd = connect_parent(chain[i], until, res);
		if (fd != -1 && ask_parent(fd, chain[i], target, until,
		    res) == 0)
			return fd;
		if (fd != -1)
			close(fd);
		if (res->upstream_status != 0) {
			log_warnx("upstream %s answered %d to CONNECT %s",
			    chain[i]->text, res->upstream_status, target);
			return -1;
		}
		log_warnx("upstream %s: %s", chain[i]->text, res->reason);
		timedout |= res->status == 504;
	}
	if (timedout)
		return fail(res, 504, "upstream_timeout",
		    "upstream proxy timed out");
	return fail(res, 502, "upstream_failed", "upstream proxy failed");
}
