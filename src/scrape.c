/* SPDX-License-Identifier: ISC */
/*
 * The metrics endpoint (scrape.h).  Like the control socket, every
 * socket is non-blocking and every client has a deadline, so a client
 * that connects and never speaks, or never reads, costs a slot until its
 * deadline, never the master's loop.  And since a scraper speaks as soon
 * as it connects, a slot held by a client still silent is given to the
 * next client that comes when none is free, as nginx closes its idle
 * connections when it runs out: a handful of idle connections cannot
 * keep Prometheus out.
 */
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "net.h"
#include "policy.h"
#include "request.h"
#include "response.h"
#include "scrape.h"

#define CONTENT_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define PAUSE_MS	1000	/* no accept() after EMFILE and the like */

/* Request heads: pure. */

static size_t
token_len(const char *s, const char *end)
{
	const char	*p = s;

	while (p < end && request_is_tchar((unsigned char)*p))
		p++;
	return (size_t)(p - s);
}

/* The next line of [*p, end), which ends in LF, without its CRLF or LF. */
static void
next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char	*lf = memchr(*p, '\n', (size_t)(end - *p));

	*line = *p;
	*n = (size_t)(lf - *p);
	if (*n > 0 && (*p)[*n - 1] == '\r')
		(*n)--;
	*p = lf + 1;
}

/*
 * The path of request target t (n bytes): an origin-form's up to its
 * query, an absolute-form's after its authority, "*" as it is.  0, or
 * -1 for anything else.
 */
static int
target_path(const char *t, size_t n, const char **path, size_t *plen)
{
	const char	*p = t, *end = t + n;

	if (n >= 7 && strncasecmp(t, "http://", 7) == 0)
		p = t + 7;
	else if (n >= 8 && strncasecmp(t, "https://", 8) == 0)
		p = t + 8;
	else if (t[0] != '/' && !(n == 1 && t[0] == '*'))
		return -1;
	if (p != t)
		while (p < end && *p != '/' && *p != '?')
			p++;
	*path = p;
	while (p < end && *p != '?')
		p++;
	*plen = (size_t)(p - *path);
	return 0;
}

/*
 * The request line at line (n bytes): method SP target SP HTTP/1.x.
 * Returns the minor version, or -1; the method and target into the
 * pointers given.
 */
static int
request_line(const char *line, size_t n, size_t *mlen, const char **target,
    size_t *tlen)
{
	const char	*end = line + n, *sp, *v, *p;

	*mlen = token_len(line, end);
	if (*mlen == 0 || *mlen == n || line[*mlen] != ' ')
		return -1;
	*target = line + *mlen + 1;
	if ((sp = memchr(*target, ' ', (size_t)(end - *target))) == NULL ||
	    sp == *target)
		return -1;
	*tlen = (size_t)(sp - *target);
	for (p = *target; p < sp; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	v = sp + 1;
	if (end - v != 8 || memcmp(v, "HTTP/1.", 7) != 0 || v[7] < '0' ||
	    v[7] > '9')
		return -1;
	return v[7] - '0';
}

/*
 * The field lines up to the empty line: name ":" value, the value
 * without control characters but HTAB.  Returns how many Host fields
 * there are, or -1 for a bad line (one that starts with a blank, the
 * obsolete line folding, among them).
 */
static int
field_lines(const char **p, const char *end)
{
	const char	*line, *q;
	size_t		 n, m;
	int		 hosts = 0;

	for (;;) {
		next_line(p, end, &line, &n);
		if (n == 0)
			return hosts;
		m = token_len(line, line + n);
		if (m == 0 || m == n || line[m] != ':')
			return -1;
		for (q = line + m + 1; q < line + n; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') ||
			    *q == 0x7f)
				return -1;
		hosts += m == 4 && strncasecmp(line, "host", 4) == 0;
	}
}

int
scrape_parse(const char *buf, size_t len, int *head)
{
	const char	*p, *end, *line, *target, *path, *q;
	size_t		 start = 0, stop, n, mlen, tlen, plen;
	int		 minor, hosts;

	*head = 0;
	/* RFC 9112 2.2: empty lines before the request line are ignored. */
	while (start < len && (buf[start] == '\n' || (buf[start] == '\r' &&
	    start + 1 < len && buf[start + 1] == '\n')))
		start += buf[start] == '\r' ? 2 : 1;
	if ((stop = request_head_end(buf, start, len)) == 0)
		return 0;
	p = buf + start;
	end = buf + stop;
	for (q = p; q < end; q++)
		if (*q == '\r' && q[1] != '\n')
			return 400;	/* a bare CR */
	next_line(&p, end, &line, &n);
	if ((minor = request_line(line, n, &mlen, &target, &tlen)) == -1)
		return 400;
	*head = mlen == 4 && memcmp(line, "HEAD", 4) == 0;
	/* RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before. */
	if ((hosts = field_lines(&p, end)) == -1 || hosts > 1 ||
	    (minor >= 1 && hosts == 0))
		return 400;
	if (target_path(target, tlen, &path, &plen) == -1)
		return 400;
	if (plen != 8 || memcmp(path, "/metrics", 8) != 0)
		return 404;
	if (!*head && !(mlen == 3 && memcmp(line, "GET", 3) == 0))
		return 405;
	return 200;
}

/* The words of an error answer: proxy-chosen, never request bytes. */
static const char *
error_detail(int status)
{
	switch (status) {
	case 400:
		return "not an HTTP/1.x request head";
	case 403:
		return "this address is not a metrics_client";
	case 404:
		return "only /metrics is served here";
	case 405:
		return "only GET and HEAD";
	case 431:
		return "request head too large";
	default:
		return NULL;
	}
}

/* A malloc'd copy of len bytes of s, NUL-terminated. */
static char *
copy(const char *s, size_t len)
{
	char	*out;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

char *
scrape_answer(int status, int head, const char *body, time_t now,
    size_t *len)
{
	char		 hdr[RESPONSE_MAX], date[40], *out;
	const char	*cut;
	size_t		 hlen, blen;
	int		 n;

	if (status != 200) {
		hlen = response_error(hdr, sizeof(hdr), status,
		    error_detail(status), status == 405 ?
		    "Allow: GET, HEAD\r\n" : NULL, now);
		if (head && (cut = strstr(hdr, "\r\n\r\n")) != NULL)
			hlen = (size_t)(cut + 4 - hdr);
		*len = hlen;
		return copy(hdr, hlen);
	}
	blen = strlen(body);
	response_date(date, sizeof(date), now);
	n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nDate: %s\r\n"
	    "Content-Type: " CONTENT_TYPE "\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n", date, blen);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return NULL;
	hlen = (size_t)n;
	*len = hlen + (head ? 0 : blen);
	if ((out = malloc(*len + 1)) == NULL)
		return NULL;
	memcpy(out, hdr, hlen);
	if (!head)
		memcpy(out + hlen, body, blen);
	out[*len] = '\0';
	return out;
}

/* The listener. */

void
scrape_init(struct scrape *s)
{
	size_t	i;

	memset(s, 0, sizeof(*s));
	s->lfd = -1;
	for (i = 0; i < SCRAPE_CONNS; i++)
		s->conns[i].fd = -1;
}

static int
same_addr(const struct listen_addr *a, const struct listen_addr *b)
{
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

int
scrape_bind(const struct scrape *cur, const struct config *cfg, int *fd,
    char *err, size_t errlen)
{
	const struct listen_addr	*m = &cfg->metrics_listen;
	char				 at[CONFIG_ERR_MAX];
	int				 saved;

	*fd = -1;
	if (m->len == 0)
		return 0;
	if (cur->lfd != -1 && same_addr(&cur->addr, m)) {
		*fd = cur->lfd;
		return 0;
	}
	/* Close-on-exec from net_listen(); closed in every child too. */
	if ((*fd = net_listen((const struct sockaddr *)&m->ss, m->len,
	    SCRAPE_BACKLOG)) == -1 || net_set_nonblock(*fd, 1) == -1) {
		saved = errno;
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		snprintf(err, errlen, "%s: metrics_listen %s: %s",
		    config_where(cfg, m->at, at, sizeof(at)), m->text,
		    strerror(saved));
		return -1;
	}
	return 0;
}

void
scrape_unbind(const struct scrape *cur, int fd)
{
	if (fd != -1 && fd != cur->lfd)
		close(fd);
}

void
scrape_install(struct scrape *s, const struct config *cfg, int fd)
{
	if (s->lfd != -1 && s->lfd != fd) {
		log_info("metrics no longer on %s", s->addr.text);
		close(s->lfd);
	}
	if (fd != -1 && fd != s->lfd)
		log_info("metrics on http://%s/metrics",
		    cfg->metrics_listen.text);
	s->lfd = fd;
	if (fd != -1)
		s->addr = cfg->metrics_listen;
	else
		memset(&s->addr, 0, sizeof(s->addr));
	s->paused_until = 0;
}

/* The clients. */

static void
conn_close(struct scrape_conn *k)
{
	if (k->fd != -1)
		net_close_now(k->fd);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

void
scrape_pollfds(const struct scrape *s, struct pollfd *pfd)
{
	const struct scrape_conn	*k;
	size_t				 i;

	for (i = 0; i < SCRAPE_CONNS; i++) {
		k = &s->conns[i];
		pfd[1 + i].fd = k->fd;
		pfd[1 + i].events = k->out != NULL ? POLLOUT : POLLIN;
		pfd[1 + i].revents = 0;
	}
	/* Always, unless accept() failed lately: a slot can be freed. */
	pfd[0].fd = net_mono_ms() >= s->paused_until ? s->lfd : -1;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
}

/* Read what the client sent; once the head is in (or cannot be), answer. */
static void
conn_read(struct scrape_conn *k, const struct scoreboard *sb,
    const struct sb_table *tab)
{
	char	*body = NULL;
	ssize_t	 n;
	int	 status, head;

	n = recv(k->fd, k->in + k->inlen, sizeof(k->in) - k->inlen,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n == -1 || (n == 0 && k->inlen == 0)) {
		conn_close(k);
		return;
	}
	k->inlen += (size_t)n;
	if ((status = scrape_parse(k->in, k->inlen, &head)) == 0) {
		if (n > 0 && k->inlen < sizeof(k->in))
			return;
		status = n == 0 ? 400 : 431;
	}
	if (status == 200 && (body = control_metrics(sb, tab)) == NULL) {
		conn_close(k);
		return;
	}
	k->out = scrape_answer(status, head, body, time(NULL), &k->outlen);
	free(body);
	if (k->out == NULL)
		conn_close(k);
}

/*
 * Write the answer; once it is all out, send our FIN and read what the
 * client may still send until its own: closing with unread bytes would
 * reset the connection and could destroy the answer on its way.
 */
static void
conn_write(struct scrape_conn *k)
{
	int	r;

	if ((r = net_send_rest(k->fd, k->out, k->outlen, &k->outoff)) == -1)
		conn_close(k);
	if (r != 1)
		return;
	free(k->out);
	k->out = NULL;
	k->draining = 1;
	if (shutdown(k->fd, SHUT_WR) == -1)
		conn_close(k);
}

static void
conn_drain(struct scrape_conn *k)
{
	char	buf[4096];
	ssize_t	n;

	n = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0 || (k->drained += (size_t)n) >= SCRAPE_DRAIN_MAX)
		conn_close(k);
}

/* Whether a and b are the same host, their ports aside. */
static int
same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in	*a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in	*b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6	*a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6	*b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	return a->ss_family == AF_INET6 &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, 16) == 0;
}

/* How many slots the host of slot k holds. */
static unsigned
host_slots(const struct scrape *s, const struct scrape_conn *k)
{
	unsigned	n = 0;
	size_t		i;

	for (i = 0; i < SCRAPE_CONNS; i++)
		n += s->conns[i].fd != -1 && same_host(&s->conns[i].peer,
		    &k->peer);
	return n;
}

/*
 * A slot for a new client: a free one, else, among the clients that have
 * not sent their whole request yet or have had their answer, the oldest
 * of the host holding the most slots (closed here), else none: every
 * slot is writing an answer.  By host first: one that opens connections
 * without end then pushes out its own, not the scraper that has just
 * connected from another.
 */
static struct scrape_conn *
take_slot(struct scrape *s)
{
	struct scrape_conn	*k, *victim = NULL;
	unsigned		 n, most = 0;
	size_t			 i;

	for (i = 0; i < SCRAPE_CONNS; i++) {
		k = &s->conns[i];
		if (k->fd == -1)
			return k;
		if (k->out != NULL)
			continue;
		n = host_slots(s, k);
		if (victim == NULL || n > most || (n == most &&
		    k->accepted < victim->accepted)) {
			victim = k;
			most = n;
		}
	}
	if (victim != NULL)
		conn_close(victim);
	return victim;
}

/* A 403 at once, the request unread, and no slot taken. */
static void
refuse(int fd)
{
	char	*out;
	size_t	 len;

	if ((out = scrape_answer(403, 0, NULL, time(NULL), &len)) != NULL) {
		/* A fresh socket's buffer holds these few bytes. */
		(void)send(fd, out, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(out);
	}
	/* 0 ms: what has arrived is read (no reset), nothing waited for. */
	net_lingering_close(fd, 0);
}

static void
accept_clients(struct scrape *s, const struct config *cfg, long long now)
{
	struct sockaddr_storage	 ss;
	struct scrape_conn	*k;
	socklen_t		 len;
	char			 peer[NET_ADDRSTR];
	int			 fd, i;

	for (i = 0; i < SCRAPE_ACCEPTS; i++) {
		len = sizeof(ss);
		if ((fd = accept(s->lfd, (struct sockaddr *)&ss, &len)) == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("metrics: accept");
				s->paused_until = now + PAUSE_MS;
			}
			return;
		}
		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
		    net_set_nonblock(fd, 1) == -1) {
			close(fd);
			continue;
		}
		if (!policy_client_in(cfg->metrics_clients,
		    cfg->nmetrics_clients, (struct sockaddr *)&ss)) {
			log_debug("metrics: %s is not a metrics_client: 403",
			    net_format((struct sockaddr *)&ss, peer,
			    sizeof(peer)));
			refuse(fd);
			continue;
		}
		if ((k = take_slot(s)) == NULL) {
			close(fd);
			continue;
		}
		k->fd = fd;
		k->peer = ss;
		k->accepted = now;
		k->deadline = now + SCRAPE_DEADLINE_MS;
	}
}

void
scrape_service(struct scrape *s, const struct pollfd *pfd,
    const struct config *cfg, const struct scoreboard *sb,
    const struct sb_table *tab)
{
	struct scrape_conn	*k;
	long long		 now = net_mono_ms();
	size_t			 i;
	short			 ev;

	for (i = 0; i < SCRAPE_CONNS; i++) {
		k = &s->conns[i];
		if (k->fd == -1 || pfd[1 + i].fd != k->fd)
			continue;
		ev = pfd[1 + i].revents;
		if (now >= k->deadline || (ev & (POLLERR | POLLNVAL)))
			conn_close(k);
		else if (k->out != NULL && (ev & (POLLOUT | POLLHUP)))
			conn_write(k);
		else if (k->out == NULL && k->draining &&
		    (ev & (POLLIN | POLLHUP)))
			conn_drain(k);
		else if (k->out == NULL && (ev & (POLLIN | POLLHUP)))
			conn_read(k, sb, tab);
	}
	if (s->lfd != -1 && pfd[0].fd == s->lfd && (pfd[0].revents & POLLIN))
		accept_clients(s, cfg, now);
}

void
scrape_close(struct scrape *s)
{
	size_t	i;

	for (i = 0; i < SCRAPE_CONNS; i++)
		if (s->conns[i].fd != -1)
			conn_close(&s->conns[i]);
	if (s->lfd != -1)
		close(s->lfd);
	s->lfd = -1;
}

size_t
scrape_fds(const struct scrape *s, int *fds, size_t max)
{
	size_t	i, n = 0;

	if (s->lfd != -1 && n < max)
		fds[n++] = s->lfd;
	for (i = 0; i < SCRAPE_CONNS && n < max; i++)
		if (s->conns[i].fd != -1)
			fds[n++] = s->conns[i].fd;
	return n;
}
