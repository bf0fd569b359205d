/* SPDX-License-Identifier: ISC */
/*
 * loadgen: the load generator of connectproxy's benchmark.  This header is
 * shared by its modules: lg_util.c (loopback-only addresses, clocks, the
 * CONNECT handshake), lg_target.c (the echo/sink/source target),
 * lg_client.c (bulk, rate, ping), lg_open.c (many tunnels at once),
 * lg_spawn.c (the cost of a process pool, without sockets) and
 * lg_floor.c (the least a CONNECT proxy can do, for one client).
 *
 * Wire protocol to the target, decided by the first byte a client sends:
 *   'E'  echo: every byte (the 'E' included) is sent back;
 *   'S'  sink: bytes ('u') are counted until a 'Z' (or EOF), then the
 *        count goes back as 8 bytes, big-endian ('S' and 'Z' not counted);
 *   'R'  source: 8 more bytes (big-endian N) ask for N bytes, then EOF.
 */
#ifndef LG_H
#define LG_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define LG_ADDRSTR	64
#define LG_HEAD_MAX	1024		/* a proxy's 200 answer, head only */
#define LG_ECHO_SIZE	64		/* the rate test's round trip */
#define LG_END_MARK	'Z'		/* ends a sink's upload */

struct lg_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 host[LG_ADDRSTR];	/* "127.0.0.1", "[::1]" */
	unsigned		 port;
};

enum lg_dir {
	LG_UP,			/* client to target */
	LG_DOWN			/* target to client */
};

struct lg_opts {
	struct lg_addr	 target;	/* -t: the echo target */
	struct lg_addr	 proxy;		/* -x: tunnel through this proxy */
	struct lg_addr	 listen;	/* -l: echo-target's address */
	int		 has_target;
	int		 has_proxy;
	int		 has_listen;
	unsigned	 cap_s;		/* -T: hard wall-clock cap of the run */
	double		 duration_s;	/* -D: measuring time */
	long		 count;		/* -n: operations, tunnels, round trips */
	int		 conc;		/* -c: concurrent clients */
	size_t		 size;		/* -s: payload or chunk bytes */
	enum lg_dir	 dir;		/* -d up|down */
	int		 threads;	/* -j: echo-target poll threads */
	double		 hold_s;	/* -H: keep tunnels open, at most this */
	double		 wait_s;	/* -W: give up on a tunnel after this */
};

/* lg_util.c */
int		 lg_addr_parse(const char *, int, struct lg_addr *);
int		 lg_is_loopback(const struct sockaddr *);
long long	 lg_now_ns(void);
void		 lg_cap(unsigned);
int		 lg_raise_nofile(long);
int		 lg_set_timeouts(int, long long);
int		 lg_connect(const struct lg_addr *, int, long long);
int		 lg_listen(const struct lg_addr *, struct lg_addr *);
size_t		 lg_connect_request(char *, size_t, const struct lg_addr *);
int		 lg_head_check(const char *, size_t);
int		 lg_open_tunnel(const struct lg_opts *, long long);
int		 lg_write_all(int, const void *, size_t);
int		 lg_read_full(int, void *, size_t);
void		 lg_put64(unsigned char *, uint64_t);
uint64_t	 lg_get64(const unsigned char *);
void		 lg_sort(long long *, size_t);
long long	 lg_pct(const long long *, size_t, double);

/* lg_target.c */
int		 lg_target_run(const struct lg_opts *);

/* lg_floor.c */
int		 lg_floor_run(const struct lg_opts *);

/* lg_client.c */
int		 lg_bulk_run(const struct lg_opts *);
int		 lg_rate_run(const struct lg_opts *);
int		 lg_ping_run(const struct lg_opts *);

/* lg_open.c */
int		 lg_open_run(const struct lg_opts *);
/* lg_spawn.c: fork -n idle children; the floor of a process pool. */
int		 lg_spawn_run(const struct lg_opts *);

#endif
