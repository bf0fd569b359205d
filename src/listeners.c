/* SPDX-License-Identifier: ISC */
/*
 * Listening sockets across reloads: an address that stays keeps its
 * socket (and its accept queue), a new address is bound before any old one
 * is closed, and a bind failure leaves the running set as it was.
 */
#ifdef __linux__
#define _GNU_SOURCE		/* struct tcp_info (musl: only with _GNU_SOURCE) */
#include <netinet/in.h>
#include <netinet/tcp.h>
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "listeners.h"
#include "log.h"
#include "net.h"

static int
find(const struct listener_set *set, const struct listen_addr *la)
{
	size_t	i;

	if (set == NULL)
		return -1;
	for (i = 0; i < set->n; i++)
		if (set->addrs[i].len == la->len &&
		    memcmp(&set->addrs[i].ss, &la->ss, la->len) == 0)
			return (int)i;
	return -1;
}

/*
 * TCP_DEFER_ACCEPT (Linux): the kernel hands a connection to accept()
 * only once its first bytes have come, so a worker wakes once per tunnel,
 * with the request head there to read, not at the handshake and again
 * for the head.  A client that sends nothing is handed over when the
 * period ends (the kernel sends its SYN-ACK again and the client's ACK
 * completes the connection), and the worker counts that wait toward
 * header_timeout (read_head() in worker.c), so the 408 comes on time.
 * One second, the kernel's least (its first SYN-ACK timeout): a client
 * speaks at once, and anything that watches connections (a refusal of
 * allow_client, the status of workers reading) sees a silent one a
 * second late, no more.  None with a header_timeout below a second.
 * Returns seconds, 0 for none.
 */
static int
defer_accept_s(const struct config *cfg)
{
	return cfg->header_timeout_ms >= 1000 ? 1 : 0;
}

/*
 * Settings every listener of a set gets, new or kept; defer < 0 leaves
 * TCP_DEFER_ACCEPT as it is (systemd's DeferAcceptSec= rules its sockets).
 */
static void
tune(int fd, size_t n, int backlog, int defer)
{
	struct timeval	tv = { 1, 0 };

#ifdef TCP_DEFER_ACCEPT
	if (defer >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer,
		    sizeof(defer));
#else
	(void)defer;
#endif

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Accepted sockets inherit it: no setsockopt() per tunnel. */
	net_set_nodelay(fd);
	(void)net_set_nonblock(fd, n > 1);
	/* listen() again on a listening socket just changes its backlog. */
	if (backlog > 0)
		(void)listen(fd, backlog);
}

static int
alloc_set(struct listener_set *set, size_t n)
{
	memset(set, 0, sizeof(*set));
	set->fds = calloc(n, sizeof(*set->fds));
	set->addrs = calloc(n, sizeof(*set->addrs));
	if (set->fds == NULL || set->addrs == NULL) {
		free(set->fds);
		free(set->addrs);
		return -1;
	}
	return 0;
}

int
listeners_open(const struct config *cfg, const struct listener_set *cur,
    struct listener_set *next, char *err, size_t errlen)
{
	const struct listen_addr	*la;
	size_t				 i;
	int				 k;

	if (cur != NULL && cur->inherited)
		return listeners_adopt(cur->fds, cur->n, next);
	if (alloc_set(next, cfg->nlisten) == -1) {
		snprintf(err, errlen, "listen: out of memory");
		return -1;
	}
	for (i = 0; i < cfg->nlisten; i++) {
		la = &cfg->listen[i];
		next->addrs[i] = *la;
		if ((k = find(cur, la)) != -1)
			next->fds[i] = cur->fds[k];
		else if ((next->fds[i] = net_listen((const struct sockaddr *)
		    &la->ss, la->len, (int)cfg->listen_backlog)) == -1) {
			snprintf(err, errlen, "listen %s: %s", la->text,
			    strerror(errno));
			next->n = i;
			listeners_retire(next, cur);
			return -1;
		}
		next->n++;
	}
	for (i = 0; i < next->n; i++)
		tune(next->fds[i], next->n, (int)cfg->listen_backlog,
		    defer_accept_s(cfg));
	return 0;
}

int
listeners_adopt(const int *fds, size_t n, struct listener_set *set)
{
	size_t	i;

	if (alloc_set(set, n) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		set->fds[i] = fds[i];
		set->addrs[i].len = sizeof(set->addrs[i].ss);
		if (getsockname(fds[i], (struct sockaddr *)&set->addrs[i].ss,
		    &set->addrs[i].len) == 0)
			net_format((struct sockaddr *)&set->addrs[i].ss,
			    set->addrs[i].text, sizeof(set->addrs[i].text));
		tune(fds[i], n, 0, -1);
	}
	set->n = n;
	set->inherited = 1;
	return 0;
}

/*
 * The listen lines the passed sockets replace, each at its line: an
 * operator who edits one and reloads sees why nothing changed, and a line
 * no passed socket has the address of is not served at all.
 */
static void
log_replaced(const struct listener_set *set, const struct config *cfg)
{
	const struct listen_addr	*la;
	char				 at[CONFIG_ERR_MAX];
	size_t				 i;

	for (i = 0; i < cfg->nlisten; i++) {
		la = &cfg->listen[i];
		config_where(cfg, la->at, at, sizeof(at));
		if (la->at.line == 0)
			log_info("socket activation: the sockets systemd "
			    "passed replace the default listen %s", la->text);
		else if (find(set, la) >= 0)
			log_info("%s: listen %s replaced by the socket systemd "
			    "passed for it", at, la->text);
		else
			log_warnx("%s: listen %s replaced by the sockets "
			    "systemd passed, none of which has its address: it "
			    "is not served", at, la->text);
	}
}

/*
 * The options of the listen line with each passed socket's address: an
 * activated socket is a PROXY protocol listener exactly when the line
 * for its address says so (a socket no line names never is: it would
 * otherwise trust headers from peers nobody chose).
 */
static void
take_options(struct listener_set *set, const struct config *cfg)
{
	size_t	i, j;

	for (i = 0; i < set->n; i++) {
		set->addrs[i].proxy_protocol = 0;
		for (j = 0; j < cfg->nlisten; j++)
			if (cfg->listen[j].len == set->addrs[i].len &&
			    memcmp(&cfg->listen[j].ss, &set->addrs[i].ss,
			    set->addrs[i].len) == 0)
				set->addrs[i].proxy_protocol =
				    cfg->listen[j].proxy_protocol;
	}
}

int
listeners_to_config(struct listener_set *set, struct config *cfg)
{
	struct listen_addr	*addrs;

	take_options(set, cfg);
	log_replaced(set, cfg);
	if ((addrs = calloc(set->n, sizeof(*addrs))) == NULL)
		return -1;
	memcpy(addrs, set->addrs, set->n * sizeof(*addrs));
	free(cfg->listen);
	cfg->listen = addrs;
	cfg->nlisten = set->n;
	return 0;
}

unsigned
listeners_queued(const struct listener_set *set)
{
	unsigned	n = 0;
#ifdef TCP_INFO
	struct tcp_info	ti;
	socklen_t	len;
	size_t		i;

	/* On a listening socket tcpi_unacked is the accept queue length. */
	for (i = 0; i < set->n; i++) {
		len = sizeof(ti);
		if (getsockopt(set->fds[i], IPPROTO_TCP, TCP_INFO, &ti,
		    &len) == 0 && ti.tcpi_state == 10 /* TCP_LISTEN */)
			n += ti.tcpi_unacked;
	}
#else
	(void)set;
#endif
	return n;
}

void
listeners_retire(struct listener_set *old, const struct listener_set *next)
{
	size_t	i, j;
	int	shared;

	for (i = 0; i < old->n; i++) {
		shared = 0;
		for (j = 0; next != NULL && j < next->n; j++)
			shared |= next->fds[j] == old->fds[i];
		if (!shared)
			close(old->fds[i]);
	}
	free(old->fds);
	free(old->addrs);
	memset(old, 0, sizeof(*old));
}

void
listeners_close(struct listener_set *set)
{
	listeners_retire(set, NULL);
}
