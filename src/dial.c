/* SPDX-License-Identifier: ISC */
/*
 * Dialling the target.  Resolution and every connect attempt share one
 * deadline (connect_timeout), and the policy sees each resolved address
 * right before it is dialled, so nothing is resolved twice between the
 * check and the connect.  An address the policy allows only by default
 * is also checked against this host's own addresses, which Linux would
 * deliver over loopback to services bound to the wildcard.  The
 * addresses of a name are raced as RFC 8305 (Happy Eyeballs) says, on
 * non-blocking sockets and one poll(), so that a family that drops
 * every SYN (broken IPv6, common in small offices) costs
 * connect_attempt_delay, not a share of connect_timeout.
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

#define DIAL_SELF_RULE		"builtin:self"
#define DIAL_WAIT_SLICE_MS	1000	/* longest poll() of a race */

/* Clear a result, keeping the caller's scratch space and stop flag. */
static void
reset(struct dial_result *res)
{
	const volatile sig_atomic_t	*stop = res->stop;
	char				*early = res->early;
	size_t				 size = res->early_size;

	memset(res, 0, sizeof(*res));
	res->early = early;
	res->early_size = size;
	res->stop = stop;
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

/* Whether the caller was told to stop (TERM): the dial ends at once. */
static int
stopped(const struct dial_result *res)
{
	return res->stop != NULL && *res->stop;
}

static int
fail_stopped(struct dial_result *res)
{
	res->error = EINTR;
	return fail(res, 503, "shutdown", "shutting down");
}

/*
 * Start one non-blocking connect.  Returns the socket, connected (*done
 * set) or in progress, or -1 with errno set.
 */
static int
connect_start(const struct addrinfo *ai, int *done)
{
	int	fd, saved;

	*done = 0;
#ifdef SOCK_NONBLOCK
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, ai->ai_protocol);
	if (fd == -1)
		return -1;
#else
	fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
	if (fd == -1)
		return -1;
	if (net_set_nonblock(fd, 1) == -1)
		goto failed;
#endif
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		*done = 1;
		return fd;
	}
	if (errno == EINPROGRESS)
		return fd;
#ifndef SOCK_NONBLOCK
failed:
#endif
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
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

/* The first address of family `af` at or after ai, or NULL. */
static struct addrinfo *
next_of(struct addrinfo *ai, int af)
{
	while (ai != NULL && ai->ai_family != af)
		ai = ai->ai_next;
	return ai;
}

/*
 * Two cursors walk the list, one per family, so each family keeps the
 * order getaddrinfo() gave it (RFC 6724's, which also put the preferred
 * family first) and no copy is needed.
 */
size_t
dial_order(struct addrinfo *list, struct addrinfo **out, size_t max)
{
	struct addrinfo	*cur[2];
	size_t		 n = 0;
	int		 af[2], turn = 0;

	while (list != NULL && list->ai_family != AF_INET &&
	    list->ai_family != AF_INET6)
		list = list->ai_next;
	if (list == NULL)
		return 0;
	af[0] = list->ai_family;
	af[1] = af[0] == AF_INET ? AF_INET6 : AF_INET;
	cur[0] = list;
	cur[1] = next_of(list, af[1]);
	while (n < max && (cur[0] != NULL || cur[1] != NULL)) {
		if (cur[turn] == NULL)
			turn = !turn;
		out[n++] = cur[turn];
		cur[turn] = next_of(cur[turn]->ai_next, af[turn]);
		turn = !turn;
	}
	return n;
}

/*
 * Keep the addresses of in[0..n) the policy allows, in order; remember
 * the last denying rule.  self[i] says whether out[i] was allowed by
 * default only, so that it must not be this host.
 */
static size_t
filter_addrs(const struct config *cfg, struct addrinfo *const *in, size_t n,
    struct addrinfo **out, int *self, struct dial_result *res)
{
	const char	*rule;
	size_t		 i, k = 0;
	char		 text[NET_ADDRSTR];

	for (i = 0; i < n; i++) {
		if (policy_check_addr(cfg, in[i]->ai_addr, &rule) ==
		    POLICY_DENY) {
			res->rule = rule;
			log_debug("address %s denied by %s", net_format(
			    in[i]->ai_addr, text, sizeof(text)), rule);
			continue;
		}
		self[k] = rule == NULL;
		out[k++] = in[i];
	}
	return k;
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
 * How much a failed attempt's error tells about the destination, for
 * the one a 502 reports: a refusal (a host answered: nothing listens
 * there) says most, then a network or host without a route (a router,
 * or this host, said so), then any other error.
 */
static int
error_rank(int err)
{
	switch (err) {
	case 0:
		return 0;
	case ECONNREFUSED:
		return 3;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return 2;
	default:
		return 1;
	}
}

/* One race of connect attempts (RFC 8305 section 5). */
struct race {
	struct addrinfo	*const *addrs;
	const int	*self;		/* NULL for parents: trusted */
	size_t		 next;		/* addrs[] index of the next to start */
	struct pollfd	 pfd[DIAL_PARALLEL_MAX];	/* pending attempts */
	size_t		 which[DIAL_PARALLEL_MAX];	/* their addrs[] index */
	size_t		 pending;
	size_t		 denied;	/* found to be this host's */
	int		 error;		/* the most telling errno so far */
};

static void
race_failed(struct race *r, size_t i, int err)
{
	char	text[NET_ADDRSTR];

	log_debug("connect %s: %s", net_format(r->addrs[i]->ai_addr, text,
	    sizeof(text)), strerror(err));
	if (error_rank(err) > error_rank(r->error))
		r->error = err;
}

/* Close every pending attempt. */
static void
race_close(struct race *r)
{
	size_t	k;

	for (k = 0; k < r->pending; k++)
		close(r->pfd[k].fd);
	r->pending = 0;
}

/* fd, connected to addrs[i], wins: the others are closed. */
static int
race_won(struct race *r, size_t i, int fd, struct dial_result *res)
{
	race_close(r);
	memcpy(&res->addr, r->addrs[i]->ai_addr, r->addrs[i]->ai_addrlen);
	res->addrlen = r->addrs[i]->ai_addrlen;
	return fd;
}

/*
 * fd just connected to addrs[i]: the winner, unless it must not be this
 * host's and is (then closed and denied, or failed when it cannot tell).
 * Returns fd or -1.
 */
static int
race_connected(struct race *r, size_t i, int fd, struct dial_result *res)
{
	int	x, err;

	if (r->self == NULL || !r->self[i] ||
	    (x = connected_to_self(fd, r->addrs[i])) == 0)
		return race_won(r, i, fd, res);
	err = errno;
	close(fd);
	if (x == 1) {
		deny_self(r->addrs[i], "connected", res);
		r->denied++;
	} else
		race_failed(r, i, err);
	return -1;
}

/*
 * Start the attempt on the next address, after its own-address check.
 * Returns a socket that connected at once (the winner), or -1; *started
 * says whether an attempt is now pending (else it was denied or failed).
 */
static int
race_start(struct race *r, struct dial_result *res, int *started)
{
	size_t	i = r->next++;
	int	fd, done, x, err;
	char	text[NET_ADDRSTR];

	*started = 0;
	if (r->self != NULL && r->self[i] &&
	    (x = dest_is_self(r->addrs[i])) != 0) {
		/* Cannot tell (no socket): not dialled, a failure. */
		if (x == -1) {
			err = errno;
			log_warn("cannot tell whether %s is this host's",
			    net_format(r->addrs[i]->ai_addr, text,
			    sizeof(text)));
			race_failed(r, i, err);
		} else {
			deny_self(r->addrs[i], "before connect", res);
			r->denied++;
		}
		return -1;
	}
	if ((fd = connect_start(r->addrs[i], &done)) == -1) {
		race_failed(r, i, errno);
		return -1;
	}
	if (done)
		return race_connected(r, i, fd, res);
	r->pfd[r->pending].fd = fd;
	r->pfd[r->pending].events = POLLOUT;
	r->pfd[r->pending].revents = 0;
	r->which[r->pending++] = i;
	*started = 1;
	return -1;
}

/*
 * Wait for the pending attempts until the monotonic `until`, and settle
 * those that ended.  Returns the winner's socket, or -1; *failed is set
 * when an attempt failed (the next one starts at once).
 */
static int
race_wait(struct race *r, long long until, struct dial_result *res,
    int *failed)
{
	long long	ms = until - net_mono_ms();
	socklen_t	len;
	size_t		k, i;
	short		ev;
	int		fd, err;

	*failed = 0;
	/*
	 * In slices, so that a TERM that came between the caller's look at
	 * the stop flag and this poll() is seen within one (the caller
	 * loops); this also keeps a long connect_timeout within an int.
	 */
	if (ms > DIAL_WAIT_SLICE_MS)
		ms = DIAL_WAIT_SLICE_MS;
	if (poll(r->pfd, r->pending, ms > 0 ? (int)ms : 0) == -1) {
		/* A signal is ridden out; any other error fails them all. */
		if (errno == EINTR)
			return -1;
		err = errno;
		for (k = 0; k < r->pending; k++)
			race_failed(r, r->which[k], err);
		race_close(r);
		*failed = 1;
		return -1;
	}
	/* Downwards, so that the last one can fill a settled one's place. */
	for (k = r->pending; k-- > 0;) {
		if ((ev = r->pfd[k].revents) == 0)
			continue;
		fd = r->pfd[k].fd;
		i = r->which[k];
		r->pending--;
		r->pfd[k] = r->pfd[r->pending];
		r->which[k] = r->which[r->pending];
		err = 0;
		len = sizeof(err);
#ifdef __linux__
		/* A failed connect() reports POLLERR: a bare POLLOUT is done. */
		if (ev == POLLOUT)
			len = 0;
#endif
		/* POLLOUT, POLLERR or POLLHUP: SO_ERROR says which. */
		if (len != 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
		    &len) == -1)
			err = errno;
		if (err == 0) {
			if ((fd = race_connected(r, i, fd, res)) != -1)
				return fd;
		} else {
			close(fd);
			race_failed(r, i, err);
		}
		*failed = 1;
	}
	return -1;
}

/*
 * Race connects to addrs[0..n), in that order, as RFC 8305 section 5
 * says: the next attempt starts `delay` ms after the last one while
 * earlier ones are still pending, at once when one fails, and the first
 * to connect wins.  With `self` (NULL for parents, which are trusted), an
 * address whose self[i] is set is first checked not to be this host's,
 * and so is the connection made to it; when that leaves no address, 403.
 * One poll() over at most DIAL_PARALLEL_MAX sockets, bounded by the
 * deadline.
 */
static int
try_addrs(struct addrinfo *const *addrs, const int *self, size_t n,
    long long delay, long long deadline, struct dial_result *res)
{
	struct race	r;
	long long	now, next_at, until;
	int		fd, started, failed;

	memset(&r, 0, sizeof(r));
	r.addrs = addrs;
	r.self = self;
	next_at = net_mono_ms();
	while ((now = net_mono_ms()) < deadline) {
		if (stopped(res)) {
			race_close(&r);
			return fail_stopped(res);
		}
		if (r.next < n && r.pending < DIAL_PARALLEL_MAX &&
		    (now >= next_at || r.pending == 0)) {
			if ((fd = race_start(&r, res, &started)) != -1)
				return fd;
			/* Denied or failed at once: the next one now. */
			next_at = started ? now + delay : now;
			continue;
		}
		if (r.pending == 0)
			break;		/* every address tried, none left */
		until = deadline;
		if (r.next < n && r.pending < DIAL_PARALLEL_MAX &&
		    next_at < deadline)
			until = next_at;
		if ((fd = race_wait(&r, until, res, &failed)) != -1)
			return fd;
		if (failed)
			next_at = now;
	}
	race_close(&r);
	if (r.denied > 0 && r.denied == n)
		return fail(res, 403, "dest_denied", "destination not allowed");
	if (now >= deadline) {
		res->error = ETIMEDOUT;
		return fail(res, 504, "connect_timeout", "connect timed out");
	}
	res->error = r.error;
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
	struct addrinfo		 lit, *list = &lit, *all[DIAL_MAX_ADDRS];
	struct addrinfo		*addrs[DIAL_MAX_ADDRS];
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
	if (rc == 0 && stopped(res)) {
		if (list != &lit)
			freeaddrinfo(list);
		return fail_stopped(res);
	}
	if (rc != 0)
		return resolve_failure(req->host, rc, deadline, res);
	n = dial_order(list, all, DIAL_MAX_ADDRS);
	n = filter_addrs(cfg, all, n, addrs, self, res);
	fd = n == 0 ? fail(res, 403, "dest_denied",
	    "destination not allowed") : try_addrs(addrs, self, n,
	    cfg->connect_attempt_delay_ms, deadline, res);
	if (list != &lit)
		freeaddrinfo(list);
	return fd;
}

/*
 * Resolve a parent (no policy: it is trusted as configured) and race its
 * addresses.
 */
static int
connect_parent(const struct upstream *u, long long delay, long long deadline,
    struct dial_result *res)
{
	struct addrinfo	*list, *addrs[DIAL_MAX_ADDRS];
	size_t		 n;
	int		 rc, fd;

	/* As for a destination (resolve_failure()): 504 only past it. */
	if ((rc = resolve(u->host, u->port, &list)) != 0) {
		log_warnx("upstream %s: %s", u->text, gai_strerror(rc));
		res->gai_error = rc;
		if (net_mono_ms() >= deadline) {
			res->error = ETIMEDOUT;
			return fail(res, 504, "upstream_timeout",
			    "upstream proxy timed out");
		}
		return fail(res, 502, "upstream_failed",
		    "upstream proxy unreachable");
	}
	n = dial_order(list, addrs, DIAL_MAX_ADDRS);
	fd = try_addrs(addrs, NULL, n, delay, deadline, res);
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
		/* errno only when the write failed: n == 0 set none. */
		res->error = n == 0 ? 0 : errno;
		memset(req, 0, sizeof(req));
		return fail(res, res->error == ETIMEDOUT ? 504 : 502,
		    res->error == ETIMEDOUT ? "upstream_timeout" :
		    "upstream_failed", "upstream proxy failed");
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
		if (stopped(res))
			return fail_stopped(res);
		if (net_wait(fd, POLLIN, deadline, res->stop) == 0) {
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
dial_upstream(const struct config *cfg, const char *target,
    const struct upstream *const *chain, size_t n, long long deadline,
    struct dial_result *res)
{
	const char	*late = NULL;
	long long	 now, until;
	size_t		 i;
	int		 fd, late_error = 0, late_gai = 0;

	reset(res);
	for (i = 0; i < n; i++) {
		if ((now = net_mono_ms()) >= deadline)
			break;
		res->upstream = chain[i]->text;
		res->upstream_status = 0;
		res->error = res->gai_error = 0;
		/* Each parent left gets an equal share of the time. */
		until = now + (deadline - now) / (long long)(n - i);
		fd = connect_parent(chain[i], cfg->connect_attempt_delay_ms,
		    until, res);
		if (fd != -1 && ask_parent(fd, chain[i], target, until,
		    res) == 0)
			return fd;
		if (fd != -1)
			close(fd);
		if (res->status == 503)
			return -1;	/* stopped: no next parent */
		if (res->upstream_status != 0) {
			log_warnx("upstream %s answered %d to CONNECT %s",
			    chain[i]->text, res->upstream_status, target);
			return -1;
		}
		log_warnx("upstream %s: %s", chain[i]->text, res->reason);
		if (res->status == 504) {
			late = chain[i]->text;
			late_error = res->error;
			late_gai = res->gai_error;
		}
	}
	/*
	 * The answer names one parent (Proxy-Status next-hop) and says what
	 * went wrong with that one: the last that ran out of time for a
	 * 504, else the last tried, with its own errno and resolver code.
	 */
	if (late != NULL || i < n) {
		if (late != NULL) {
			res->upstream = late;
			res->error = late_error;
			res->gai_error = late_gai;
		} else
			res->error = ETIMEDOUT;
		return fail(res, 504, "upstream_timeout",
		    "upstream proxy timed out");
	}
	return fail(res, 502, "upstream_failed", "upstream proxy failed");
}
