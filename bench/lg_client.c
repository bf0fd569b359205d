/* SPDX-License-Identifier: ISC */
/*
 * loadgen clients over blocking sockets: bulk throughput over one tunnel
 * (`bulk`), the CONNECT rate at a concurrency with per-tunnel latency
 * (`rate`), and ping-pong round trips over one tunnel (`ping`).  Each
 * prints one line of key=value pairs for the driver.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg.h"

#define TUNNEL_TMO_MS	10000	/* every blocking call of a client */
#define BULK_ASK	(1ULL << 40)	/* source bytes asked; we stop first */
#define RATE_THREADS_MAX 1024
#define RATE_SAMPLES_MAX 4000000	/* latencies kept, all threads */
#define PING_WARMUP	200

static double
secs_since(long long t0)
{
	return (double)(lg_now_ns() - t0) / 1e9;
}

static void
print_bulk(const char *dir, unsigned long long bytes, double secs)
{
	printf("bulk dir=%s bytes=%llu secs=%.3f mib_s=%.1f\n", dir, bytes,
	    secs, secs > 0 ? (double)bytes / secs / 1048576.0 : 0.0);
}

/*
 * Send for duration_s, then the end mark; the target's count stops the
 * clock.
 */
static int
bulk_up(const struct lg_opts *o, int fd, char *buf)
{
	unsigned char		 reply[8];
	unsigned long long	 sent = 0;
	long long		 t0, end;
	ssize_t			 n;

	buf[0] = 'S';
	t0 = lg_now_ns();
	end = t0 + (long long)(o->duration_s * 1e9);
	do {
		if ((n = send(fd, buf, o->size, MSG_NOSIGNAL)) == -1) {
			perror("loadgen: bulk send");
			return -1;
		}
		sent += (unsigned long long)n;
		buf[0] = 'u';
	} while (lg_now_ns() < end);
	buf[0] = LG_END_MARK;
	if (lg_write_all(fd, buf, 1) == -1 ||
	    lg_read_full(fd, reply, sizeof(reply)) == -1) {
		perror("loadgen: bulk count");
		return -1;
	}
	if (lg_get64(reply) != sent - 1) {
		fprintf(stderr, "loadgen: target counted %llu of %llu bytes\n",
		    (unsigned long long)lg_get64(reply), sent - 1);
		return -1;
	}
	print_bulk("up", sent - 1, secs_since(t0));
	return 0;
}

/* Ask for more than we take, read for duration_s, then hang up. */
static int
bulk_down(const struct lg_opts *o, int fd, char *buf)
{
	unsigned char		 req[9];
	unsigned long long	 got = 0;
	long long		 t0, end;
	ssize_t			 n;

	req[0] = 'R';
	lg_put64(req + 1, BULK_ASK);
	if (lg_write_all(fd, req, sizeof(req)) == -1) {
		perror("loadgen: bulk request");
		return -1;
	}
	t0 = lg_now_ns();
	end = t0 + (long long)(o->duration_s * 1e9);
	do {
		if ((n = recv(fd, buf, o->size, 0)) <= 0) {
			fprintf(stderr, "loadgen: bulk recv: %s\n", n == 0 ?
			    "early EOF" : strerror(errno));
			return -1;
		}
		got += (unsigned long long)n;
	} while (lg_now_ns() < end);
	print_bulk("down", got, secs_since(t0));
	return 0;
}

/* Bulk throughput over one tunnel; the clock starts after the 200. */
int
lg_bulk_run(const struct lg_opts *o)
{
	char	*buf;
	int	 fd, r;

	if ((buf = malloc(o->size)) == NULL)
		return -1;
	memset(buf, 'u', o->size);
	if ((fd = lg_open_tunnel(o, TUNNEL_TMO_MS)) == -1) {
		perror("loadgen: bulk tunnel");
		free(buf);
		return -1;
	}
	r = o->dir == LG_UP ? bulk_up(o, fd, buf) : bulk_down(o, fd, buf);
	close(fd);
	free(buf);
	return r;
}

struct rate_thread {
	pthread_t		 tid;
	const struct lg_opts	*o;
	pthread_barrier_t	*start;
	long long		 end;		/* monotonic ns */
	long long		*lat;		/* ns per completed tunnel */
	size_t			 cap;
	size_t			 done;
	size_t			 errors;
	int			 first_errno;
};

/* One CONNECT-rate operation: tunnel, 64-byte echo, close. */
static int
rate_once(const struct lg_opts *o)
{
	char	out[LG_ECHO_SIZE], in[LG_ECHO_SIZE];
	int	fd, r = -1;

	memset(out, 'E', sizeof(out));
	if ((fd = lg_open_tunnel(o, TUNNEL_TMO_MS)) == -1)
		return -1;
	if (lg_write_all(fd, out, sizeof(out)) == 0 &&
	    lg_read_full(fd, in, sizeof(in)) == 0) {
		r = memcmp(in, out, sizeof(in)) == 0 ? 0 : -1;
		if (r == -1)
			errno = EPROTO;
	}
	close(fd);
	return r;
}

static void *
rate_main(void *arg)
{
	struct rate_thread	*t = arg;
	long long		 s;

	pthread_barrier_wait(t->start);
	while (t->done < t->cap && (s = lg_now_ns()) < t->end) {
		if (rate_once(t->o) == -1) {
			if (t->errors++ == 0)
				t->first_errno = errno;
			/* Do not spin on a refusing proxy. */
			(void)poll(NULL, 0, 1);
			continue;
		}
		t->lat[t->done++] = lg_now_ns() - s;
	}
	return NULL;
}

static void
rate_report(struct rate_thread *t, int n, long long *all, double secs)
{
	size_t	ops = 0, errors = 0;
	int	i, first = 0;

	for (i = 0; i < n; i++) {
		memcpy(all + ops, t[i].lat, t[i].done * sizeof(*all));
		ops += t[i].done;
		errors += t[i].errors;
		if (first == 0)
			first = t[i].first_errno;
	}
	lg_sort(all, ops);
	printf("rate c=%d ops=%zu errors=%zu secs=%.3f ops_s=%.1f "
	    "p50_us=%.1f p99_us=%.1f first_error=%s\n", n, ops, errors, secs,
	    (double)ops / secs, (double)lg_pct(all, ops, 0.50) / 1e3,
	    (double)lg_pct(all, ops, 0.99) / 1e3,
	    first != 0 ? strerror(first) : "-");
}

/* CONNECT rate at concurrency conc for duration_s (or count tunnels). */
int
lg_rate_run(const struct lg_opts *o)
{
	struct rate_thread	*t;
	pthread_barrier_t	 start;
	long long		*all, t0;
	size_t			 cap;
	int			 i, n = o->conc;

	if (n < 1 || n > RATE_THREADS_MAX)
		return -1;
	cap = (size_t)o->count / (size_t)n + 1;
	if (cap * (size_t)n > RATE_SAMPLES_MAX)
		cap = RATE_SAMPLES_MAX / (size_t)n;
	t = calloc((size_t)n, sizeof(*t));
	all = calloc(cap * (size_t)n, sizeof(*all));
	if (t == NULL || all == NULL ||
	    pthread_barrier_init(&start, NULL, (unsigned)n + 1) != 0)
		return -1;
	(void)lg_raise_nofile(2L * n + 64);
	for (i = 0; i < n; i++) {
		t[i].o = o;
		t[i].start = &start;
		t[i].cap = cap;
		if ((t[i].lat = calloc(cap, sizeof(long long))) == NULL ||
		    pthread_create(&t[i].tid, NULL, rate_main, &t[i]) != 0)
			return -1;
	}
	t0 = lg_now_ns();
	for (i = 0; i < n; i++)
		t[i].end = t0 + (long long)(o->duration_s * 1e9);
	pthread_barrier_wait(&start);
	t0 = lg_now_ns();
	for (i = 0; i < n; i++)
		pthread_join(t[i].tid, NULL);
	rate_report(t, n, all, secs_since(t0));
	return 0;
}

/* Ping-pong: count round trips of size bytes over one tunnel. */
int
lg_ping_run(const struct lg_opts *o)
{
	long long	*lat, s, sum = 0;
	char		*out, *in;
	long		 i, n = o->count;
	int		 fd;

	out = malloc(o->size);
	in = malloc(o->size);
	lat = calloc((size_t)n, sizeof(*lat));
	if (out == NULL || in == NULL || lat == NULL || n < 1)
		return -1;
	memset(out, 'E', o->size);
	if ((fd = lg_open_tunnel(o, TUNNEL_TMO_MS)) == -1) {
		perror("loadgen: ping tunnel");
		return -1;
	}
	for (i = -PING_WARMUP; i < n; i++) {
		s = lg_now_ns();
		if (lg_write_all(fd, out, o->size) == -1 ||
		    lg_read_full(fd, in, o->size) == -1) {
			perror("loadgen: ping");
			return -1;
		}
		if (i >= 0)
			sum += lat[i] = lg_now_ns() - s;
	}
	close(fd);
	lg_sort(lat, (size_t)n);
	printf("ping size=%zu n=%ld p50_us=%.2f p99_us=%.2f mean_us=%.2f\n",
	    o->size, n, (double)lg_pct(lat, (size_t)n, 0.50) / 1e3,
	    (double)lg_pct(lat, (size_t)n, 0.99) / 1e3,
	    (double)sum / (double)n / 1e3);
	return 0;
}
