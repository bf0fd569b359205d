/* SPDX-License-Identifier: ISC */
/*
 * floor-proxy: the least any CONNECT proxy can do for one tunnel, to
 * measure what is left for a real one to take.  Each process serves one
 * tunnel at a time: accept, one read of the head, a blocking connect to
 * the loopback address it names, the 200, then a poll() relay until both
 * sides have closed.  No policy, no log, no deadline; it checks nothing a
 * real proxy must.  -j processes (2) accept on one socket, so that one
 * tunnel's teardown (passing on the client's EOF, waiting for the
 * target's) overlaps the next client's start, as it does in any proxy
 * that serves more than one tunnel.  For the one-client figures only
 * (rate at c=1, ping-pong latency).
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lg.h"

#define FLOOR_BUF	(64 * 1024)

static const char	 ok200[] = "HTTP/1.1 200 Connection established\r\n\r\n";
static char		 buf[FLOOR_BUF];

/* "CONNECT ADDR:PORT HTTP/1.1\r\n...": the loopback address, or -1. */
static int
floor_dest(const char *head, size_t len, struct lg_addr *a)
{
	char		 hp[LG_ADDRSTR + 8];
	const char	*p = head + 8, *sp;

	if (len < 8 || memcmp(head, "CONNECT ", 8) != 0 ||
	    (sp = memchr(p, ' ', len - 8)) == NULL ||
	    (size_t)(sp - p) >= sizeof(hp))
		return -1;
	memcpy(hp, p, (size_t)(sp - p));
	hp[sp - p] = '\0';
	return lg_addr_parse(hp, 0, a);
}

/* Relay until both directions ended; the sockets stay open. */
static void
floor_relay(int c, int s)
{
	struct pollfd	 pfd[2] = { { c, POLLIN, 0 }, { s, POLLIN, 0 } };
	ssize_t		 n;
	int		 i;

	while (pfd[0].fd != -1 || pfd[1].fd != -1) {
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (i = 0; i < 2; i++) {
			if (pfd[i].fd == -1 || pfd[i].revents == 0)
				continue;
			if ((n = read(pfd[i].fd, buf, sizeof(buf))) <= 0) {
				(void)shutdown(i ? c : s, SHUT_WR);
				pfd[i].fd = -1;
				continue;
			}
			if (lg_write_all(i ? c : s, buf, (size_t)n) == -1)
				return;
		}
	}
}

static _Noreturn void
floor_serve(int lfd)
{
	struct lg_addr	 dest;
	ssize_t		 n;
	int		 c, s, on = 1;

	for (;;) {
		if ((c = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		s = -1;
		if ((n = read(c, buf, sizeof(buf) - 1)) > 0 &&
		    floor_dest(buf, (size_t)n, &dest) == 0 &&
		    (s = socket(dest.ss.ss_family, SOCK_STREAM, 0)) != -1 &&
		    connect(s, (struct sockaddr *)&dest.ss, dest.len) == 0 &&
		    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on,
		    sizeof(on)) == 0 &&
		    lg_write_all(c, ok200, sizeof(ok200) - 1) == 0)
			floor_relay(c, s);
		if (s != -1)
			(void)close(s);
		(void)close(c);
	}
}

int
lg_floor_run(const struct lg_opts *o)
{
	struct lg_addr	 bound;
	int		 lfd, i, on = 1;

	signal(SIGPIPE, SIG_IGN);
	if ((lfd = lg_listen(&o->listen, &bound)) == -1)
		return -1;
	/* Accepted sockets inherit it, as connectproxy's do. */
	(void)setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	printf("listen %s:%u\n", bound.host, bound.port);
	fflush(stdout);
	for (i = 0; i < o->threads; i++) {
		switch (fork()) {
		case -1:
			perror("loadgen: floor-proxy: fork");
			return -1;
		case 0:
			/* Stopped with us: the driver ends our pid only. */
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0);
			floor_serve(lfd);
		}
	}
	while (wait(NULL) != -1 || errno == EINTR)
		;
	return 0;
}
