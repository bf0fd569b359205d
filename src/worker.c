/*
 * A worker runs one tunnel at a time: accept, client ACL, read and parse
 * the head within header_timeout, port and destination policy, dial within
 * connect_timeout, answer 200, relay until the tunnel ends, log one record.
 * Every step has a deadline, and a failed tunnel never ends the worker.
 */
#ifdef __linux__
#define _DEFAULT_SOURCE		/* prctl(2) */
#include <sys/prctl.h>
#endif

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dial.h"
#include "log.h"
#include "net.h"
#include "policy.h"
#include "relay.h"
#include "request.h"
#include "response.h"
#include "worker.h"

#define LINGER_MS		2000
#define ACCEPT_SICK_LIMIT	10
#define EXIT_SICK		3

static volatile sig_atomic_t	worker_stop;

struct worker {
	const struct config	*cfg;
	const int		*lfds;
	size_t			 nlfds;
	pid_t			 master;
	char			*head;		/* max_header_size bytes */
	struct relay_buffers	 bufs;
	unsigned long long	 served;
};

struct tunnel {
	int			 client;
	struct sockaddr_storage	 peer;
	socklen_t		 peerlen;
	long long		 start;		/* monotonic ms */
	char			 client_text[NET_ADDRSTR];
	char			 target[REQUEST_TARGET_MAX + 1];
	char			 dialed[NET_ADDRSTR];
	int			 status;
	const char		*reason;
	const char		*rule;		/* the policy rule that denied */
	struct relay_stats	 st;
};

static void
on_stop(int sig)
{
	(void)sig;
	worker_stop = 1;
}

static void
worker_signals(void)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking accept() or poll() must see EINTR. */
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	/* ^C reaches the whole process group; the master decides. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

static void
iso_time(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;

	size_t		n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03uZ",
	    (unsigned)(ts.tv_nsec / 1000000) % 1000);
}

static void
log_tunnel(struct worker *w, const struct tunnel *t)
{
	char	now[48];

	iso_time(now, sizeof(now));
	log_access("time=%s id=%ld-%llu worker=%ld client=%s target=%s "
	    "dialed=%s status=%d bytes_up=%llu bytes_down=%llu "
	    "duration_ms=%lld reason=%s%s%s%s", now, (long)getpid(),
	    w->served, (long)getpid(), t->client_text,
	    t->target[0] != '\0' ? t->target : "-",
	    t->dialed[0] != '\0' ? t->dialed : "-", t->status,
	    (unsigned long long)t->st.up, (unsigned long long)t->st.down,
	    net_now_ms() - t->start, t->reason,
	    t->rule != NULL ? " rule=\"" : "",
	    t->rule != NULL ? t->rule : "", t->rule != NULL ? "\"" : "");
}

/*
 * Answer with an error, close so the client can read it, and log.  Bytes
 * the client sent after its head are never parsed: the connection ends.
 */
static void
refuse(struct worker *w, struct tunnel *t, int status, const char *reason,
    const char *detail)
{
	char	buf[RESPONSE_MAX];
	size_t	len;

	len = response_error(buf, sizeof(buf), status, detail,
	    status == 405 ? "Allow: CONNECT\r\n" : NULL, time(NULL));
	(void)net_write_all(t->client, buf, len, net_now_ms() + LINGER_MS);
	net_lingering_close(t->client, LINGER_MS);
	t->status = status;
	t->reason = reason;
	log_tunnel(w, t);
}

enum head_result {
	HEAD_OK,
	HEAD_BAD,
	HEAD_TIMEOUT,
	HEAD_CLOSED
};

/* Read until the parser has a verdict or header_timeout (total) passes. */
static enum head_result
read_head(struct worker *w, struct tunnel *t, struct request *req,
    size_t *len, int *status, const char **why)
{
	struct request_limits	 lim = { w->cfg->max_header_size,
	    w->cfg->max_header_fields };
	struct pollfd		 pfd = { .fd = t->client, .events = POLLIN };
	long long		 deadline = t->start + w->cfg->header_timeout_ms;
	long long		 left;
	ssize_t			 n;

	*len = 0;
	for (;;) {
		if (worker_stop || (left = deadline - net_now_ms()) <= 0)
			return HEAD_TIMEOUT;
		if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) <= 0)
			continue;
		n = recv(t->client, w->head + *len,
		    w->cfg->max_header_size - *len, MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			return HEAD_CLOSED;
		if (n < 0)
			continue;
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
	if (req->host_kind == REQUEST_HOST_IPV6)
		snprintf(buf, len, "[%s]:%u", req->host, (unsigned)req->port);
	else
		snprintf(buf, len, "%s:%u", req->host, (unsigned)req->port);
}

/*
 * Port and destination policy, then dial.  Returns the connected socket,
 * or -1 after refusing the client.
 */
static int
dial_target(struct worker *w, struct tunnel *t, const struct request *req)
{
	struct dial_result	res;
	const char		*rule;
	int			server;

	if (!policy_port_allowed(w->cfg, req->port)) {
		refuse(w, t, 403, "port_denied", "port not allowed");
		return -1;
	}
	if (policy_check_name(w->cfg, req->host, &rule) == POLICY_DENY) {
		t->rule = rule;
		refuse(w, t, 403, "dest_denied", "destination not allowed");
		return -1;
	}
	server = dial_connect(w->cfg, req, net_now_ms() +
	    w->cfg->connect_timeout_ms, &res);
	if (server == -1) {
		t->rule = res.rule;
		refuse(w, t, res.status, res.reason, res.detail);
		return -1;
	}
	net_format((struct sockaddr *)&res.addr, t->dialed, sizeof(t->dialed));
	return server;
}

/* Everything after a valid head: dial, 200, relay, log. */
static void
open_tunnel(struct worker *w, struct tunnel *t, const struct request *req,
    size_t len)
{
	char	buf[RESPONSE_MAX];
	size_t	n;
	int	server;

	if ((server = dial_target(w, t, req)) == -1)
		return;
	net_set_nodelay(server);
	n = response_established(buf, sizeof(buf), time(NULL));
	t->status = 200;
	t->reason = "error";
	if (net_write_all(t->client, buf, n, net_now_ms() +
	    w->cfg->idle_timeout_ms) == 0)
		t->reason = relay_end_name(relay_run(t->client, server,
		    w->head + req->head_len, len - req->head_len, &w->bufs,
		    w->cfg->idle_timeout_ms, &worker_stop, &t->st));
	close(server);
	close(t->client);
	log_tunnel(w, t);
}

static void
serve(struct worker *w, struct tunnel *t)
{
	struct request	req;
	const char	*why = NULL;
	size_t		 len;
	int		 status = 400;

	net_format((struct sockaddr *)&t->peer, t->client_text,
	    sizeof(t->client_text));
	if (!policy_client_allowed(w->cfg, (struct sockaddr *)&t->peer)) {
		refuse(w, t, 403, "client_denied", "client not allowed");
		return;
	}
	switch (read_head(w, t, &req, &len, &status, &why)) {
	case HEAD_OK:
		format_target(t->target, sizeof(t->target), &req);
		open_tunnel(w, t, &req, len);
		break;
	case HEAD_BAD:
		refuse(w, t, status, status == 431 || status == 414 ?
		    "header_too_large" : "bad_request", why);
		break;
	case HEAD_TIMEOUT:
		if (worker_stop)
			refuse(w, t, 503, "shutdown", "shutting down");
		else
			refuse(w, t, 408, "header_timeout",
			    "request head not received in time");
		break;
	case HEAD_CLOSED:
		log_debug("client %s closed before a request", t->client_text);
		close(t->client);
		break;
	}
}

/*
 * Wait for a client.  With one listener this is a plain blocking accept()
 * (the kernel wakes one waiter); the listener's 1 s SO_RCVTIMEO brings us
 * back to check on the master.  With several, poll() them first.
 */
static int
accept_client(struct worker *w, struct tunnel *t)
{
	struct pollfd	pfd[16];
	size_t		i, n = w->nlfds < 16 ? w->nlfds : 16;

	t->peerlen = sizeof(t->peer);
	if (n == 1)
		return accept(w->lfds[0], (struct sockaddr *)&t->peer,
		    &t->peerlen);
	for (i = 0; i < n; i++) {
		pfd[i].fd = w->lfds[i];
		pfd[i].events = POLLIN;
	}
	if (poll(pfd, n, 1000) <= 0)
		return -1;
	for (i = 0; i < n; i++)
		if (pfd[i].revents & POLLIN)
			return accept(w->lfds[i], (struct sockaddr *)&t->peer,
			    &t->peerlen);
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

void
worker_main(const struct config *cfg, const int *lfds, size_t nlfds,
    pid_t master)
{
	struct worker	w = { cfg, lfds, nlfds, master, NULL, { 0 }, 0 };
	struct tunnel	t;
	int		sick = 0;

	worker_signals();
#ifdef __linux__
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
	/* Buffers are allocated once; pages are touched only when used. */
	w.head = malloc(cfg->max_header_size);
	w.bufs.size = cfg->relay_buffer;
	w.bufs.up = malloc(w.bufs.size);
	w.bufs.down = malloc(w.bufs.size);
	if (w.head == NULL || w.bufs.up == NULL || w.bufs.down == NULL)
		fatal("worker buffers");
	while (!worker_stop && getppid() == master) {
		memset(&t, 0, sizeof(t));
		if ((t.client = accept_client(&w, &t)) == -1) {
			if (accept_failed(&sick) == -1)
				exit(EXIT_SICK);
			continue;
		}
		sick = 0;
		t.start = net_now_ms();
		w.served++;
		net_set_nodelay(t.client);
		serve(&w, &t);
	}
	exit(0);
}
