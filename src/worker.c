/* SPDX-License-Identifier: ISC */
/*
 * A worker runs one tunnel at a time: accept, the PROXY header on a
 * proxy_protocol listener, client ACL, per-client limit, read and parse
 * the head within header_timeout, authentication, port and name policy,
 * dial within connect_timeout, answer 200, relay
 * until the tunnel ends; then tunnel_end() closes it and logs its one
 * record, however it ended.  Every step has a deadline, and a failed
 * tunnel never ends the worker.
 */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS; prctl(2) on Linux */
#define _GNU_SOURCE		/* accept4(2) on Linux */

#ifdef __linux__
#include <sys/prctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>	/* TCP_DEFER_ACCEPT */
#endif
#include <sys/mman.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "dial.h"
#include "log.h"
#include "net.h"
#include "policy.h"
#include "proxyproto.h"
#include "relay.h"
#include "request.h"
#include "response.h"
#include "scoreboard.h"
#include "worker.h"

#define LINGER_MS		2000
#define LINGER_SHORT_MS		100
/* Refusals of one address outside allow_client that may linger at once. */
#define DENIED_LINGERING	2
#define ACCEPT_SICK_LIMIT	10
#define EXIT_SICK		3

#define RETRY_AFTER		"Retry-After: 5\r\n"
/* Room for a Proxy-Status field: a parent's name and the details. */
#define PROXY_STATUS_MAX	1024

/* TERM: end the tunnel now (2: USR2, the reload's drain_timeout). */
static volatile sig_atomic_t	worker_stop;
static volatile sig_atomic_t	worker_retire;	/* HUP: exit when idle */
/*
 * The listeners, closed by the retire handler itself.  Thread-local, in a
 * process without threads, for where that puts them: beside errno, whose
 * page every worker writes anyway, instead of on a page of .bss that
 * would become each worker's own copy (log.c's log_pid does the same).
 */
static _Thread_local const int	*retire_fds;
static _Thread_local size_t	 retire_nfds;

struct worker {
	const struct config	*cfg;
	const struct worker_env	*env;
	struct scoreboard	*sb;
	struct sb_slot		*slot;
	char			*head;		/* max_header_size bytes */
	struct relay_buffers	 bufs;
	char			*scratch;	/* a parent's answer */
	size_t			 mapped;	/* all of them, one mapping */
	unsigned long long	 served;
	long long		 defer_ms;	/* TCP_DEFER_ACCEPT, least */
};

/*
 * One tunnel, from accept to its record.  Each step of serve() fills in
 * what it learns; the one that ends the tunnel sets status and reason,
 * and tunnel_end() acts on them: status 0, the client left before a
 * request (closed, nothing answered or recorded); 200, the tunnel was
 * opened (both sides closed as the relay says); any other, an error
 * answered with detail, the client lingered on for linger_ms.
 */
struct tunnel {
	int			 client;
	int			 server;	/* -1 until dialled */
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	long long		 start;		/* monotonic ms */
	char			 client_text[NET_ADDRSTR];
	char			 target[REQUEST_TARGET_MAX + 1];
	char			 dialed[NET_ADDRSTR];
	int			 status;
	const char		*reason;
	const char		*detail;	/* of an error answer */
	long long		 linger_ms;	/* after an error answer */
	int			 relay_linger;	/* RELAY_LINGER_* */
	const char		*rule;		/* the policy rule that denied */
	struct relay_stats	*st;		/* in the scoreboard slot */
	char			 user[AUTH_USER_MAX + 1]; /* "" no auth */
	const char		*upstream;	/* the parent proxy used */
	int			 proxied;	/* on a proxy_protocol listener */
	char			 via[NET_ADDRSTR]; /* its balancer, or "" */
	size_t			 early;		/* request bytes read with the
						   PROXY header, in w->head */
	int			 dropped;	/* closed without an answer */
	/* Of a failure, for its Proxy-Status (response_failure). */
	int			 dest_addr;	/* an address denied, not a name */
	int			 dial_error;	/* dial_result's error, */
	int			 gai_error;	/* gai_error and */
	int			 upstream_status; /* upstream_status */
	/* Of a 405: the Allow value its target calls for. */
	const char		*allow;
};

/*
 * HUP closes our copies of the listeners right here (close(2) is
 * async-signal-safe), so a retiring worker takes no new client even in
 * the instant before accept(), and a listener dropped by a reload stops
 * queueing connections once the master closes its copy too.
 */
static void
on_signal(int sig)
{
	size_t	i;

	if (sig == SIGTERM)
		worker_stop = 1;
	else if (sig == SIGUSR2)
		worker_stop = 2;
	else if (!worker_retire) {
		worker_retire = 1;
		/* A reload may have moved the logs: the master knows where. */
		log_forward_all();
		for (i = 0; i < retire_nfds; i++)
			close(retire_fds[i]);
	}
}

static void
worker_signals(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking accept() or poll() must see EINTR. */
	sa.sa_handler = on_signal;
	/* Each handler runs with the others blocked: one close pass only. */
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaddset(&sa.sa_mask, SIGHUP);
	sigaddset(&sa.sa_mask, SIGUSR2);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	/* ^C reaches the whole process group; the master decides. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

/* The RFC 9209 Proxy-Status of t's error answer: its error type, etc. */
static void
tunnel_proxy_status(const struct tunnel *t, struct response_proxy_status *ps)
{
	struct response_failure	f;

	f.status = t->status;
	f.reason = t->reason;
	f.dest_addr = t->dest_addr;
	f.error = t->dial_error;
	f.gai_error = t->gai_error;
	f.next_hop = t->upstream;
	f.received_status = t->upstream_status;
	(void)response_proxy_status(&f, ps);
}

/*
 * The access record of a tunnel or refusal, and its share of the
 * scoreboard's totals.  The id is this worker's pid and a number unique
 * for the master's lifetime, so a reused pid never repeats an id.
 */
static void
log_tunnel(struct worker *w, const struct tunnel *t)
{
	struct record		r;
	struct response_proxy_status ps;
	char			id[48];

	memset(&r, 0, sizeof(r));
	snprintf(id, sizeof(id), "%ld-%llu", (long)w->env->self,
	    scoreboard_next_id(w->sb));
	r.time_ms = net_wall_ms();
	r.id = id;
	r.worker = (long)w->env->self;
	r.client = t->client_text;
	r.via = t->via;
	r.user = t->user;
	r.target = t->target;
	r.dialed = t->dialed;
	r.upstream = t->upstream;
	r.status = t->status;
	r.bytes_up = (unsigned long long)t->st->up;
	r.bytes_down = (unsigned long long)t->st->down;
	r.duration_ms = net_mono_ms() - t->start;
	r.reason = t->reason;
	r.rule = t->rule;
	/* The words the client got, so that a refusal says its cause. */
	if (t->status != 200) {
		r.detail = t->detail;
		/* The error type the answer's Proxy-Status gave. */
		tunnel_proxy_status(t, &ps);
		r.error = ps.error;
	}
	/* Counted first: whoever reads the record finds it in the metrics. */
	scoreboard_account(w->sb, r.status, r.reason, r.bytes_up,
	    r.bytes_down);
	log_access_record(&r);
}

/*
 * How long to wait for the client to close after our error answer.  The
 * answers of a proxy under pressure (a client over its limit, a head that
 * never came, every worker busy) get a short wait: those clients are the
 * ones least likely to close, and each wait holds a worker.
 */
static long long
linger_for(int status)
{
	if (status == 429 || status == 408 || status == 503)
		return LINGER_SHORT_MS;
	return LINGER_MS;
}

/*
 * A step of serve() ends the tunnel with an error answer: record which,
 * for tunnel_end().  Returns 0, the step's "do not go on".
 */
static int
refuse(struct tunnel *t, int status, const char *reason, const char *detail)
{
	t->status = status;
	t->reason = reason;
	t->detail = detail;
	t->linger_ms = linger_for(status);
	return 0;
}

/*
 * Write the error answer t->status calls for, within LINGER_MS, with its
 * Proxy-Status (RFC 9209) after any field the status itself calls for.
 */
static void
answer_error(struct worker *w, const struct tunnel *t)
{
	char				buf[RESPONSE_MAX];
	char				extra[AUTH_REALM_MAX + 64 +
					    PROXY_STATUS_MAX];
	struct response_proxy_status	ps;
	size_t				len = 0;

	extra[0] = '\0';
	if (t->status == 405)
		len = (size_t)snprintf(extra, sizeof(extra), "Allow: %s\r\n",
		    t->allow != NULL ? t->allow : "CONNECT");
	else if (t->status == 429 || t->status == 503)
		len = (size_t)snprintf(extra, sizeof(extra), "%s",
		    RETRY_AFTER);
	else if (t->status == 407)
		len = auth_challenge(extra, sizeof(extra), w->cfg->auth_realm);
	tunnel_proxy_status(t, &ps);
	/* The same words as the body (response_error()'s default too). */
	(void)response_proxy_status_field(extra + len, sizeof(extra) - len,
	    &ps, t->detail != NULL ? t->detail : response_reason(t->status));
	len = response_error(buf, sizeof(buf), t->status, t->detail, extra,
	    time(NULL));
	(void)net_write_all(t->client, buf, len, net_mono_ms() + LINGER_MS);
}

/*
 * Close one side of an opened tunnel.  A side the relay says may still be
 * sending gets a lingering close: its late bytes are read and dropped, so
 * they do not make the kernel reset the connection and throw away what
 * is still queued toward it.
 */
static void
close_side(int fd, int linger)
{
	if (linger)
		net_lingering_close(fd, LINGER_MS);
	else
		close(fd);
}

/*
 * End the tunnel, however it ends (relayd's relay_close()): answer an
 * error, close what is open, write the access record.  Bytes the client
 * sent after its head are never parsed: the connection ends.
 */
static void
tunnel_end(struct worker *w, struct tunnel *t)
{
	if (t->status == 0) {
		if (t->dropped) {
			/* Drop what it sent: a FIN, not a reset. */
			net_lingering_close(t->client, 0);
			return;
		}
		log_debug("client %s closed before a request", t->client_text);
		close(t->client);
		return;
	}
	/* The reserve stays SB_RESERVE: that is how the master finds it. */
	if (!w->env->reserve)
		scoreboard_set_state(w->sb, w->slot, SB_CLOSING);
	if (t->server != -1)
		close_side(t->server, t->relay_linger & RELAY_LINGER_SERVER);
	if (t->status == 200)
		close_side(t->client, t->relay_linger & RELAY_LINGER_CLIENT);
	else {
		answer_error(w, t);
		net_lingering_close(t->client, t->linger_ms);
	}
	log_tunnel(w, t);
}

/*
 * Read the PROXY header into w->head by `deadline`: *len bytes read, the
 * header and perhaps what followed it.  Returns NULL with the header in
 * r, or why there is none ("" when the peer closed without sending a
 * byte, as a balancer's plain TCP check does).  It stops reading as soon
 * as the parser has a verdict: the request is never waited for here.
 */
static const char *
proxy_read(struct worker *w, struct tunnel *t, long long deadline,
    struct proxyproto_result *r, size_t *len)
{
	enum proxyproto_status	st = PROXYPROTO_NEED_MORE;
	ssize_t			n;

	*len = 0;
	/* NEED_MORE only below PROXYPROTO_MAX: the head buffer is larger. */
	while (st == PROXYPROTO_NEED_MORE) {
		if (worker_stop)
			return "shutting down";
		if (deadline - net_mono_ms() <= 0)
			return "no complete header within header_timeout";
		n = recv(t->client, w->head + *len,
		    w->cfg->max_header_size - *len, MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR))
			return *len == 0 ? "" : "closed within its header";
		if (n < 0) {
			(void)net_wait(t->client, POLLIN, deadline,
			    &worker_stop);
			continue;
		}
		*len += (size_t)n;
		st = proxyproto_parse(w->head, *len, r);
	}
	return st == PROXYPROTO_OK ? NULL : r->reason;
}

/* The connection ends here, unanswered: one line says why. */
static int
proxy_drop(struct tunnel *t, const char *why)
{
	if (why[0] == '\0')
		log_debug("proxy_protocol: %s closed before a PROXY header",
		    t->via);
	else
		log_warnx("proxy_protocol: connection from %s dropped "
		    "without an answer: %s", t->via, why);
	t->status = 0;
	t->dropped = 1;
	return 0;
}

/*
 * Whether the header's client is the peer itself, address and port: the
 * balancer describing its own connection, as HAProxy's health check
 * does with a v1 header (v2 sends LOCAL).
 */
static int
own_connection(const struct proxyproto_result *r, const struct tunnel *t)
{
	const struct sockaddr_in	*a, *b;
	const struct sockaddr_in6	*a6, *b6;

	if (r->local || r->src.ss_family != t->peer.ss_family)
		return r->local;
	if (r->src.ss_family == AF_INET) {
		a = (const struct sockaddr_in *)&r->src;
		b = (const struct sockaddr_in *)&t->peer;
		return a->sin_port == b->sin_port &&
		    a->sin_addr.s_addr == b->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)&r->src;
	b6 = (const struct sockaddr_in6 *)&t->peer;
	return a6->sin6_port == b6->sin6_port &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/*
 * A LOCAL (v1: UNKNOWN) header, or one naming the peer itself, is the
 * balancer connecting on its own: its health check, which sends the
 * header and closes.  From a balancer allow_client does not name,
 * client_allowed() would answer each check 403 at once and record it,
 * one client_denied every few seconds from every balancer, drowning the
 * real refusals in the records and the metrics.  So wait, by
 * `deadline`, for the request's first byte or the close: 1 when the
 * peer closed without sending one (a check, ended as a client that
 * leaves before its request), else 0 (refused as any client would be).
 * One byte peeked, only to see that one is there.
 */
static int
check_closed(struct worker *w, struct tunnel *t, long long deadline)
{
	char	c;
	ssize_t	n;

	if (t->early > 0 ||
	    policy_client_allowed(w->cfg, (struct sockaddr *)&t->peer))
		return 0;
	for (;;) {
		n = recv(t->client, &c, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n > 0)
			return 0;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR))
			return 1;
		if (worker_stop || deadline - net_mono_ms() <= 0)
			return 0;
		(void)net_wait(t->client, POLLIN, deadline, &worker_stop);
	}
}

/*
 * On a proxy_protocol listener, before anything else: the peer must be
 * one of the balancers in proxy_protocol_from, and the connection must
 * begin with a valid PROXY header by `deadline`.  Otherwise it is
 * dropped without an answer: a forged header must get nothing back.
 * The header's client then replaces the peer for everything after (the
 * client ACL, the per-client limit, the logs, the status table, the
 * record), the balancer staying in t->via; v2 LOCAL and v1 UNKNOWN keep
 * the peer (see check_closed()).  What came after the header is the
 * start of the request.
 */
static int
proxy_header(struct worker *w, struct tunnel *t, long long deadline)
{
	struct proxyproto_result	 r;
	const char			*why;
	size_t				 len;

	if (!t->proxied)
		return 1;
	memcpy(t->via, t->client_text, sizeof(t->via));
	if (!policy_proxy_allowed(w->cfg, (struct sockaddr *)&t->peer))
		return proxy_drop(t, "not in proxy_protocol_from");
	if ((why = proxy_read(w, t, deadline, &r, &len)) != NULL)
		return proxy_drop(t, why);
	t->early = len - r.len;
	memmove(w->head, w->head + r.len, t->early);
	if (own_connection(&r, t) && check_closed(w, t, deadline)) {
		t->status = 0;
		return 0;
	}
	if (r.local)
		return 1;
	memcpy(&t->peer, &r.src, r.srclen);
	t->peerlen = r.srclen;
	net_format((struct sockaddr *)&t->peer, t->client_text,
	    sizeof(t->client_text));
	/* The reserve's slot is never a client's: nothing to count. */
	if (!w->env->reserve)
		scoreboard_begin(w->slot, (struct sockaddr *)&t->peer,
		    w->cfg->max_tunnels_ipv6_prefix, t->client_text);
	return 1;
}

/*
 * The client ACL.  A client outside allow_client gets its 403 at the
 * least cost, since the per-client limit is for clients we serve: a host
 * that may not use the proxy must not hold workers by opening
 * connections and never closing them.  Its first DENIED_LINGERING
 * refusals at a time linger LINGER_SHORT_MS, time for a client that sent
 * its request to read the answer and close; beyond that we close at
 * once, after dropping what it sent before the answer so that close()
 * sends a FIN, not a reset.  A request still in flight then draws a
 * reset, which some TCP stacks let destroy the answer: a price paid by a
 * host with more than DENIED_LINGERING connections refused at once, not
 * by a lone client.
 */
static int
client_allowed(struct worker *w, struct tunnel *t)
{
	if (policy_client_allowed(w->cfg, (struct sockaddr *)&t->peer))
		return 1;
	refuse(t, 403, "client_denied", "client not allowed");
	t->linger_ms = LINGER_SHORT_MS;
	if (scoreboard_client_tunnels(w->sb, w->env->nslots, w->slot,
	    (struct sockaddr *)&t->peer, w->cfg->max_tunnels_ipv6_prefix) >=
	    DENIED_LINGERING)
		t->linger_ms = 0;
	return 0;
}

/* max_tunnels_per_client, counted over the scoreboard. */
static int
client_under_limit(struct worker *w, struct tunnel *t)
{
	if (w->cfg->max_tunnels_per_client == 0 ||
	    scoreboard_client_tunnels(w->sb, w->env->nslots, w->slot,
	    (struct sockaddr *)&t->peer, w->cfg->max_tunnels_ipv6_prefix) <
	    w->cfg->max_tunnels_per_client)
		return 1;
	return refuse(t, 429, "client_limit", "too many tunnels from "
	    "this client");
}

enum head_result {
	HEAD_OK,
	HEAD_BAD,
	HEAD_TIMEOUT,
	HEAD_CLOSED
};

/*
 * Read until the parser has a verdict or header_timeout (total) passes.
 * Under TCP_DEFER_ACCEPT a connection with nothing to read at accept()
 * is one the kernel held for the whole period (listeners.c): that wait
 * counts toward header_timeout, so its 408 comes on time.
 */
static enum head_result
read_head(struct worker *w, struct tunnel *t, struct request *req,
    size_t *len, int *status, const char **why)
{
	struct request_limits	 lim = { w->cfg->max_header_size,
	    w->cfg->max_header_fields, w->cfg->pac != NULL };
	long long		 deadline = t->start + w->cfg->header_timeout_ms;
	/* A PROXY header came first: the kernel handed it over at once. */
	long long		 deferred = t->proxied ? 0 : w->defer_ms;
	ssize_t			 n;

	/* A whole request may have come with the PROXY header. */
	*len = t->early;
	if (*len > 0)
		switch (request_parse(w->head, *len, &lim, req, status, why)) {
		case REQUEST_OK:
			return HEAD_OK;
		case REQUEST_BAD:
			return HEAD_BAD;
		case REQUEST_AGAIN:
			break;
		}
	for (;;) {
		if (worker_stop || deadline - net_mono_ms() <= 0)
			return HEAD_TIMEOUT;
		/* Read first: the head has usually arrived with the SYN's ACK. */
		n = recv(t->client, w->head + *len,
		    w->cfg->max_header_size - *len, MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != EINTR))
			return HEAD_CLOSED;
		if (n < 0) {
			deadline -= *len == 0 ? deferred : 0;
			deferred = 0;
			/* Back here to look at worker_stop when TERM comes. */
			(void)net_wait(t->client, POLLIN, deadline,
			    &worker_stop);
			continue;
		}
		*len += (size_t)n;
		switch (request_parse(w->head, *len, &lim, req, status, why)) {
		case REQUEST_OK:
			return HEAD_OK;
		case REQUEST_BAD:
			return HEAD_BAD;
		case REQUEST_AGAIN:
			break;
		}
	}
}

static void
format_target(char *buf, size_t len, const struct request *req)
{
	if (req->kind != REQUEST_CONNECT)
		snprintf(buf, len, "%s", req->path);	/* the PAC file's */
	else if (req->host_kind == REQUEST_HOST_IPV6)
		snprintf(buf, len, "[%s]:%u", req->host, (unsigned)req->port);
	else
		snprintf(buf, len, "%s:%u", req->host, (unsigned)req->port);
}

/*
 * The request head, within header_timeout; *len is what was read, head
 * and any tunnel bytes after it.  A client that leaves first is closed
 * without an answer (status 0).
 */
static int
head_read(struct worker *w, struct tunnel *t, struct request *req,
    size_t *len)
{
	const char	*why = NULL;
	int		 status = 400;

	switch (read_head(w, t, req, len, &status, &why)) {
	case HEAD_OK:
		format_target(t->target, sizeof(t->target), req);
		scoreboard_set_target(w->slot, t->target);
		return 1;
	case HEAD_BAD:
		/* The PAC file's paths take GET and HEAD; the rest CONNECT. */
		t->allow = req->path != NULL ? "GET, HEAD" : "CONNECT";
		return refuse(t, status, status == 405 ? "method_not_allowed" :
		    status == 431 || status == 414 ? "header_too_large" :
		    "bad_request", why);
	case HEAD_TIMEOUT:
		if (worker_stop)
			return refuse(t, 503, "shutdown", "shutting down");
		return refuse(t, 408, "header_timeout",
		    "request head not received in time");
	case HEAD_CLOSED:
		break;
	}
	t->status = 0;
	return 0;
}

/*
 * A PAC request (pac_file) is answered here and ends the connection: the
 * file's bytes as the configuration holds them (a worker never opens
 * it), written within header_timeout, then a lingering close (none
 * when the write failed or timed out: the answer is lost).  No
 * credentials are asked for, since a browser fetches the file before it
 * has any; the client ACL and the per-client limit have applied.  The
 * record: status 200, the path as target, reason "pac" ("error" when
 * the answer could not be written).
 */
static int
wants_tunnel(struct worker *w, struct tunnel *t, const struct request *req)
{
	char		head[RESPONSE_MAX];
	size_t		n, body;
	long long	deadline;

	if (req->kind == REQUEST_CONNECT)
		return 1;
	body = req->kind == REQUEST_PAC_GET ? w->cfg->pac_len : 0;
	n = response_pac(head, sizeof(head), w->cfg->pac_len, time(NULL));
	deadline = net_mono_ms() + w->cfg->header_timeout_ms;
	t->status = 200;
	t->reason = "error";
	t->relay_linger = RELAY_LINGER_CLIENT;
	if (net_write_all(t->client, head, n, deadline) == 0 &&
	    net_write_all(t->client, w->cfg->pac, body, deadline) == 0) {
		t->st->down += body;
		t->reason = "pac";
	} else {
		/*
		 * The answer is lost (a client that does not read): no
		 * lingering close for it, or the worker would be held
		 * LINGER_MS past the write's deadline.
		 */
		t->relay_linger = 0;
	}
	return 0;
}

/*
 * With an auth_file, the request must carry a user and password from it;
 * otherwise 407 with the challenge.  A failed attempt is logged with the
 * client and the claimed user name, never the password; the 407 a
 * browser gets before it sends credentials is only in the access record.
 */
static int
authorized(struct worker *w, struct tunnel *t, const struct request *req)
{
	static struct auth_cache	cache;	/* this worker's */
	enum auth_result		r;

	if (w->cfg->auth_file[0] == '\0')
		return 1;
	r = auth_check(w->cfg->auth_users, w->cfg->nauth_users,
	    w->cfg->auth_dummy, &cache, req->proxy_auth, req->proxy_auth_len,
	    t->user, sizeof(t->user));
	if (r == AUTH_OK)
		return 1;
	/* No credentials, or none we could parse: no user is known. */
	if (r == AUTH_MISSING || r == AUTH_MALFORMED)
		t->user[0] = '\0';
	if (r != AUTH_MISSING)
		log_warnx("authentication failed: client=%s user=%s "
		    "reason=%s", t->client_text, t->user[0] != '\0' ?
		    t->user : "-", auth_result_name(r));
	return refuse(t, 407, r == AUTH_MISSING ? "auth_required" :
	    "auth_failed", "proxy authentication required");
}

/*
 * The port, then the name rules on the requested name.  The slot says
 * connecting from here to the 200: the policy, the resolver, the dial.
 */
static int
target_allowed(struct worker *w, struct tunnel *t, const struct request *req)
{
	const char	*rule;

	scoreboard_set_state(w->sb, w->slot, SB_CONNECTING);
	if (!policy_port_allowed(w->cfg, req->port))
		return refuse(t, 403, "port_denied", "port not allowed");
	if (policy_check_name(w->cfg, req->host, &rule) == POLICY_DENY) {
		t->rule = rule;
		/* An IP literal is judged as the address it is. */
		t->dest_addr = req->host_kind != REQUEST_HOST_NAME;
		return refuse(t, 403, "dest_denied", "destination not allowed");
	}
	return 1;
}

/*
 * Dial the target, or the parents the upstream rules choose (they
 * resolve the name, we do not), within connect_timeout.  On success
 * t->server is the connected socket and res holds what the parent sent
 * after its answer.
 */
static int
target_dialled(struct worker *w, struct tunnel *t, const struct request *req,
    struct dial_result *res)
{
	const struct upstream	*chain[UPSTREAM_CHAIN_MAX];
	long long		 deadline;
	size_t			 n;

	res->early = w->scratch;
	res->early_size = UPSTREAM_HEAD_MAX;
	/* TERM ends the dial at once (503), not after connect_timeout. */
	res->stop = &worker_stop;
	deadline = net_mono_ms() + w->cfg->connect_timeout_ms;
	n = upstream_select(w->cfg->upstreams, w->cfg->nupstreams, req->host,
	    chain, UPSTREAM_CHAIN_MAX);
	if (n > 0)
		t->server = dial_upstream(w->cfg, t->target, chain, n,
		    deadline, res);
	else
		t->server = dial_connect(w->cfg, req, deadline, res);
	t->upstream = res->upstream;
	if (t->server == -1) {
		t->rule = res->rule;
		t->dest_addr = 1;	/* what dial_connect() denies */
		t->dial_error = res->error;
		t->gai_error = res->gai_error;
		t->upstream_status = res->upstream_status;
		return refuse(t, res->status, res->reason, res->detail);
	}
	net_format((struct sockaddr *)&res->addr, t->dialed,
	    sizeof(t->dialed));
	return 1;
}

/* Why a tunnel ended, as the access record says it. */
static const char *
end_reason(enum relay_end end)
{
	if (end == RELAY_SHUTDOWN && worker_stop == 2)
		return "reload_drain_timeout";
	return relay_end_name(end);
}

/*
 * Answer 200, hand the client what the parent sent after its answer,
 * and relay until the tunnel ends; the record says why it ended
 * ("error" when the 200 could not be written).
 */
static void
relay(struct worker *w, struct tunnel *t, const struct request *req,
    size_t len, const struct dial_result *res)
{
	char	buf[RESPONSE_MAX];
	size_t	n;

	net_set_nodelay(t->server);
	n = response_established(buf, sizeof(buf), time(NULL));
	t->status = 200;
	t->reason = "error";
	scoreboard_set_state(w->sb, w->slot, SB_RELAYING);
	/* Bytes a parent sent after its 2xx head belong to the client. */
	t->st->down += res->early_len;
	if (net_write_all(t->client, buf, n, net_mono_ms() +
	    w->cfg->idle_timeout_ms) == 0 && net_write_all(t->client,
	    res->early, res->early_len, net_mono_ms() +
	    w->cfg->idle_timeout_ms) == 0)
		t->reason = end_reason(relay_run(t->client, t->server,
		    w->head + req->head_len, len - req->head_len, &w->bufs,
		    w->cfg->idle_timeout_ms, &worker_stop, t->st,
		    &t->relay_linger));
}

/*
 * A tunnel's whole life, in its order (DESIGN.md section 2).  Each step
 * returns 1 to go on, or 0 with t->status saying how the tunnel ends;
 * every way ends in tunnel_end().
 */
static void
serve(struct worker *w, struct tunnel *t)
{
	struct request		req;
	struct dial_result	res;
	size_t			len;

	if (proxy_header(w, t, t->start + w->cfg->header_timeout_ms) &&
	    client_allowed(w, t) && client_under_limit(w, t) &&
	    head_read(w, t, &req, &len) && wants_tunnel(w, t, &req) &&
	    authorized(w, t, &req) &&
	    target_allowed(w, t, &req) && target_dialled(w, t, &req, &res))
		relay(w, t, &req, len, &res);
	tunnel_end(w, t);
}

/*
 * accept() a client socket that is already non-blocking (everything after
 * uses poll() with deadlines), where accept4(2) exists: one fcntl() less
 * per tunnel.  TCP_NODELAY comes from the listener.
 */
static int
accept_one(int lfd, struct tunnel *t)
{
#ifdef SOCK_NONBLOCK
	return accept4(lfd, (struct sockaddr *)&t->peer, &t->peerlen,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
#else
	int	fd = accept(lfd, (struct sockaddr *)&t->peer, &t->peerlen);

	if (fd != -1) {
		(void)net_set_nonblock(fd, 1);
		net_set_nodelay(fd);
	}
	return fd;
#endif
}

/*
 * Wait for a client.  With one listener this is a plain blocking accept()
 * (the kernel wakes one waiter); the listener's 1 s SO_RCVTIMEO brings us
 * back to check on the master.  With several, poll() them first.
 */
static int
accept_client(struct worker *w, struct tunnel *t)
{
	struct pollfd	pfd[CONFIG_LISTEN_MAX];	/* and SDNOTIFY_FDS_MAX */
	const int	*lfds = w->env->lfds;
	size_t		i, n = w->env->nlfds;

	t->peerlen = sizeof(t->peer);
	if (n == 1) {
		t->proxied = w->env->laddrs[0].proxy_protocol;
		return accept_one(lfds[0], t);
	}
	if (n > CONFIG_LISTEN_MAX)
		n = CONFIG_LISTEN_MAX;		/* config and activation cap it */
	for (i = 0; i < n; i++) {
		pfd[i].fd = lfds[i];
		pfd[i].events = POLLIN;
	}
	if (poll(pfd, n, 1000) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (pfd[i].revents & POLLIN) {
			t->proxied = w->env->laddrs[i].proxy_protocol;
			return accept_one(lfds[i], t);
		}
	/* A quiet second, as the single listener's SO_RCVTIMEO reports it. */
	errno = EAGAIN;
	return -1;
}

static int
accept_failed(int *sick)
{
	switch (errno) {
	case EMFILE:
	case ENFILE:
	case ENOBUFS:
	case ENOMEM:
		log_warn("accept");
		if (++*sick >= ACCEPT_SICK_LIMIT)
			return -1;
		(void)poll(NULL, 0, 100);
		return 0;
	default:
		/* Timeouts, EINTR, aborted or failed handshakes: try again. */
		return 0;
	}
}

/*
 * The when_full reject process: every client it accepts gets a 503.  On
 * a proxy_protocol listener only after a header, which it waits for as
 * briefly as it lingers: the reserve must stay free for the next client.
 */
static void
serve_reserve(struct worker *w, struct tunnel *t)
{
	net_format((struct sockaddr *)&t->peer, t->client_text,
	    sizeof(t->client_text));
	if (proxy_header(w, t, t->start + LINGER_SHORT_MS))
		refuse(t, 503, "pool_full", "all workers are busy");
	tunnel_end(w, t);
}

/* A client taken: mark the slot busy, and wake the master when that
 * leaves too few spare workers, so the pool grows without a timer. */
static void
take_client(struct worker *w, struct tunnel *t)
{
	const struct worker_env	*env = w->env;

	t->start = net_mono_ms();
	t->st = &w->slot->bytes;
	net_format((struct sockaddr *)&t->peer, t->client_text,
	    sizeof(t->client_text));
	scoreboard_begin(w->slot, (struct sockaddr *)&t->peer,
	    w->cfg->max_tunnels_ipv6_prefix, t->client_text);
	atomic_store(&w->slot->start_ms, (long long)time(NULL) * 1000);
	scoreboard_set_state(w->sb, w->slot, SB_READING);
	if (env->wakefd != -1 && (unsigned)atomic_load(&w->sb->idle) <
	    w->cfg->workers_min_spare)
		(void)write(env->wakefd, "", 1);
}

static int
keep_going(const struct worker *w)
{
	unsigned	max = w->cfg->worker_max_tunnels;

	if (worker_stop || worker_retire || (max != 0 && w->served >= max))
		return 0;
#ifdef __linux__
	/* PDEATHSIG stops us when the master goes: see worker_main(). */
	return 1;
#else
	return getppid() == w->env->master;
#endif
}

/*
 * The TCP_DEFER_ACCEPT period of the listeners, the least of them (they
 * differ only when systemd passed them), once per worker.
 */
static void
read_defer(struct worker *w)
{
#ifdef TCP_DEFER_ACCEPT
	socklen_t	len;
	size_t		i;
	int		s;

	for (i = 0; i < w->env->nlfds; i++) {
		len = sizeof(s);
		if (getsockopt(w->env->lfds[i], IPPROTO_TCP, TCP_DEFER_ACCEPT,
		    &s, &len) == -1 || s <= 0) {
			w->defer_ms = 0;
			return;
		}
		if (i == 0 || s * 1000LL < w->defer_ms)
			w->defer_ms = s * 1000LL;
	}
#else
	(void)w;
#endif
}

/*
 * One anonymous mapping for the request head and both relay buffers,
 * made once: no malloc() in a worker, and a page costs memory only once
 * it is written, so a large relay_buffer is paid for by bulk tunnels only.
 */
static void
map_buffers(struct worker *w)
{
	size_t	page = (size_t)sysconf(_SC_PAGESIZE);
	size_t	head = (w->cfg->max_header_size + page - 1) & ~(page - 1);
	size_t	buf = (w->cfg->relay_buffer + page - 1) & ~(page - 1);
	size_t	scratch = (UPSTREAM_HEAD_MAX + page - 1) & ~(page - 1);
	char	*p;

	w->mapped = head + 2 * buf + scratch;
	p = mmap(NULL, w->mapped, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fatal("worker buffers");
	w->head = p;
	w->bufs.head = p;
	w->bufs.head_size = head;
	w->bufs.up = p + head;
	w->bufs.down = p + head + buf;
	w->scratch = p + head + 2 * buf;
	w->bufs.size = w->cfg->relay_buffer;
}

void
worker_main(const struct worker_env *env)
{
	const struct config	*cfg = env->cfg;
	struct worker		 w = { cfg, env, env->sb, env->slot, NULL,
	    { 0 }, NULL, 0, 0, 0 };
	struct tunnel		 t;
	int			 sick = 0, released = 0;

	retire_fds = env->lfds;
	retire_nfds = env->nlfds;
	worker_signals();
#ifdef __linux__
	/* The master dying before this line sends nothing: look once. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != env->master)
		exit(0);
#endif
	map_buffers(&w);
	read_defer(&w);
	scoreboard_set_state(w.sb, w.slot, env->reserve ? SB_RESERVE : SB_IDLE);
	while (keep_going(&w)) {
		memset(&t, 0, sizeof(t));
		t.server = -1;
		if ((t.client = accept_client(&w, &t)) == -1) {
			if (accept_failed(&sick) == -1)
				exit(EXIT_SICK);
			/* A second without a client: give the pages back,
			 * once (later quiet seconds find them given). */
			if ((errno == EAGAIN || errno == EWOULDBLOCK) &&
			    !released) {
				relay_discard(w.head, w.mapped);
				relay_discard_stack();
				released = 1;
			}
			continue;
		}
		sick = released = 0;
		if (env->reserve) {
			t.start = net_mono_ms();
			t.st = &w.slot->bytes;
			serve_reserve(&w, &t);
			continue;
		}
		take_client(&w, &t);
		w.served++;
		serve(&w, &t);
		atomic_fetch_add(&w.slot->served, 1);
		scoreboard_set_state(w.sb, w.slot, SB_IDLE);
	}
	exit(0);
}
