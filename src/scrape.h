/* SPDX-License-Identifier: ISC */
/*
 * The metrics endpoint.  With metrics_listen set, the master answers an
 * HTTP/1.x GET /metrics on a TCP socket of its own with the text of
 * `connectproxy metrics` (control_metrics()), for Prometheus, to the
 * clients metrics_client allows.  It is served from the master's loop as
 * the control socket is (control.h): non-blocking sockets, a bounded
 * number of clients, a deadline each, a bounded request head.  One
 * request per connection; every answer ends with the connection.
 */
#ifndef SCRAPE_H
#define SCRAPE_H

#include <sys/socket.h>

#include <poll.h>
#include <stddef.h>
#include <time.h>

#include "config.h"

struct scoreboard;
struct sb_table;

#define SCRAPE_CONNS		8	/* clients served at once */
#define SCRAPE_POLLFDS		(1 + SCRAPE_CONNS)
#define SCRAPE_HEAD_MAX		4096	/* bytes of a request head */
#define SCRAPE_DEADLINE_MS	2000	/* per client, accept to close */
#define SCRAPE_BACKLOG		16
#define SCRAPE_ACCEPTS		16	/* accepted per round */
#define SCRAPE_DRAIN_MAX	(64 * 1024)	/* read and dropped after
						   the answer */

struct scrape_conn {
	int		 fd;		/* -1: free */
	struct sockaddr_storage peer;	/* the client */
	long long	 accepted;	/* monotonic ms */
	long long	 deadline;	/* monotonic ms */
	char		 in[SCRAPE_HEAD_MAX];
	size_t		 inlen;
	char		*out;		/* the answer, once known */
	size_t		 outlen;
	size_t		 outoff;
	size_t		 drained;
	int		 draining;	/* answered: read to its EOF */
};

struct scrape {
	int			 lfd;	/* -1: no metrics_listen */
	struct listen_addr	 addr;	/* what lfd is bound to */
	long long		 paused_until;	/* monotonic ms: accept()
						   failed for want of fds */
	struct scrape_conn	 conns[SCRAPE_CONNS];
};

/* An empty endpoint: no socket, no client.  Safe to close. */
void	scrape_init(struct scrape *s);
/*
 * The listening socket cfg's metrics_listen asks for, into *fd: cur's
 * own when the address is the same (a reload that keeps it), else a new
 * one (bound before cur's is closed, so that a failed bind changes
 * nothing), or -1 when metrics_listen is off.  Returns 0, or -1 with
 * "FILE:LINE: metrics_listen ADDR: reason" in err.
 */
int	scrape_bind(const struct scrape *cur, const struct config *cfg,
	    int *fd, char *err, size_t errlen);
/* Undo scrape_bind() when the reload fails: close fd unless it is cur's. */
void	scrape_unbind(const struct scrape *cur, int fd);
/*
 * Serve on fd, from scrape_bind() with cfg, from now on: the old
 * listener is closed unless it is fd (and the change logged); clients
 * being served keep their answer.
 */
void	scrape_install(struct scrape *s, const struct config *cfg, int fd);
/*
 * Fill pfd[0 .. SCRAPE_POLLFDS - 1] for poll(): the listener (even with
 * every slot taken: see scrape_service(); not for a second after
 * accept() failed for want of descriptors or memory), then each client
 * (fd -1 when unused).
 */
void	scrape_pollfds(const struct scrape *s, struct pollfd *pfd);
/*
 * After poll(): serve what pfd reports without blocking: accept (a client
 * outside cfg's metrics_client gets 403 at once, unread; with every slot
 * taken, a new client takes the slot of the oldest one whose request is
 * not complete among those of the host that holds the most slots, else
 * it is closed at once), read the head, answer, drain
 * to the client's EOF; and close clients past their deadline.
 */
void	scrape_service(struct scrape *s, const struct pollfd *pfd,
	    const struct config *cfg, const struct scoreboard *sb,
	    const struct sb_table *tab);
/* Close every client and the listener. */
void	scrape_close(struct scrape *s);
/*
 * The open descriptors of s (the listener, then the clients), at most
 * max into fds: what a child must close after fork.  Returns how many.
 */
size_t	scrape_fds(const struct scrape *s, int *fds, size_t max);

/*
 * The verdict on the request head at buf (len bytes, not NUL-terminated;
 * empty lines before it are skipped): 0 while the head is incomplete,
 * else the status to answer: 200 for GET or HEAD of /metrics (a query
 * is ignored), 404 for another path, 405 for another method, 400 for
 * anything that is not an HTTP/1.x request head (a bad request line or
 * field line, a bare CR, no Host in HTTP/1.1, two Host fields).  *head
 * is 1 when the method is HEAD.  Pure.
 */
int	scrape_parse(const char *buf, size_t len, int *head);
/*
 * The whole answer for `status` as malloc'd text (the caller frees), or
 * NULL when out of memory: for 200, the Prometheus content type and
 * `body`; for an error, a short text/plain body (405 with "Allow: GET,
 * HEAD").  Always Date, Content-Length and Connection: close; with
 * `head`, the head alone.  *len gets the length.  Pure but for malloc.
 */
char	*scrape_answer(int status, int head, const char *body, time_t now,
	    size_t *len);

#endif
