/* SPDX-License-Identifier: ISC */
/*
 * The control socket: a Unix stream socket the master serves from the
 * scoreboard, and the client side behind `connectproxy status` and
 * `connectproxy metrics`.  One request per connection: a line "status" or
 * "metrics", or an HTTP "GET /metrics" (or "GET /status") head; the
 * answer follows and the connection closes.
 */
#ifndef CONTROL_H
#define CONTROL_H

#include <poll.h>
#include <stddef.h>

#include "config.h"

struct scoreboard;
struct sb_table;

#define CONTROL_CONNS		8	/* clients served at once */
#define CONTROL_POLLFDS		(1 + CONTROL_CONNS)
#define CONTROL_REQUEST_MAX	256	/* bytes of the first line */
#define CONTROL_DEADLINE_MS	2000	/* per client, request and answer */
#define CONTROL_SOCKET_NAME	"connectproxy.sock"

struct control_conn {
	int		 fd;		/* -1: free */
	long long	 deadline;	/* monotonic ms */
	char		 in[CONTROL_REQUEST_MAX];
	size_t		 inlen;
	char		*out;		/* the answer, once known */
	size_t		 outlen;
	size_t		 outoff;
};

struct control {
	int			 lfd;	/* -1: no control socket */
	char			 path[CONFIG_PATH_MAX];
	struct control_conn	 conns[CONTROL_CONNS];
};

/*
 * The socket path for cfg into buf: control_socket when set; else
 * connectproxy.sock in $RUNTIME_DIRECTORY (its first entry), else in
 * /run/connectproxy when writable, else in $XDG_RUNTIME_DIR, else in
 * $HOME/.connectproxy, each only when a directory that this user owns
 * and no one else may enter (the server's ~/.connectproxy may be yet to
 * create: control_open() makes it).  A client (server 0) takes the first
 * of these that holds a socket, then also a /run/connectproxy it may
 * only enter.  Nothing is created.  Returns 0, or -1 when there is none.
 */
int	control_path(const struct config *cfg, int server, char *buf,
	    size_t len);

/* An empty control: no socket, no client.  Safe to close. */
void	control_init(struct control *c);
/*
 * Master, at start: bind and listen on control_path() with mode 0660,
 * first creating ~/.connectproxy (0700) when that is the place.
 * A stale socket file is replaced; a live one (another proxy answers) is
 * not, and nothing else (a file, a directory, a symbolic link) is ever
 * removed, there or at exit.  Returns 0 (possibly with no socket:
 * logged), or -1 when an explicitly configured control_socket cannot be
 * served.
 */
int	control_open(struct control *c, const struct config *cfg);
/*
 * Fill pfd[0 .. CONTROL_POLLFDS - 1] for poll(): the listener while a
 * client slot is free, then each client (fd -1 when unused).
 */
void	control_pollfds(const struct control *c, struct pollfd *pfd);
/*
 * After poll(): serve what pfd reports, without blocking: accept, read the
 * request, write the answer, close; and drop clients past their deadline.
 */
void	control_service(struct control *c, const struct pollfd *pfd,
	    const struct scoreboard *sb, const struct sb_table *tab);
/* Close every client and the listener, and remove the socket file. */
void	control_close(struct control *c);
/*
 * The open descriptors of c (the listener, then the clients), at most max
 * into fds: what a child must close after fork.  Returns how many.
 */
size_t	control_fds(const struct control *c, int *fds, size_t max);

/*
 * The answers, as malloc'd NUL-terminated text (the caller frees), or
 * NULL when out of memory.  status: a table of the live workers and the
 * totals; metrics: Prometheus text exposition format 0.0.4.  The workers
 * are those of the master's table tab (pids and generations from it);
 * what their slots in sb say is validated, never trusted.
 */
char	*control_status(const struct scoreboard *sb,
	    const struct sb_table *tab, long long now_ms);
char	*control_metrics(const struct scoreboard *sb,
	    const struct sb_table *tab);
/*
 * Master, at start: record when it started (realtime ms), which
 * control_metrics() reports as connectproxy_process_start_time_seconds.
 */
void	control_started(long long wall_ms);

/*
 * Client: send `cmd` ("status", "metrics") to the proxy that cfg
 * describes and copy the answer to fd `out`.  Returns 0, or -1 with a
 * message in err.
 */
int	control_query(const struct config *cfg, const char *cmd, int out,
	    char *err, size_t errlen);

#endif
