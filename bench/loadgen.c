/* SPDX-License-Identifier: ISC */
/*
 * loadgen: the load generator of connectproxy's benchmark (bench/run.py
 * drives it).  One mode per run: the loopback echo target, or a client
 * measuring bulk throughput, CONNECT rate, ping-pong latency or many
 * tunnels at once.  Every address must be numeric loopback, and every run
 * ends by its wall-clock cap (-T) whatever happens.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg.h"

#define CAP_DEFAULT_S	120
#define CAP_TARGET_S	3600
#define CAP_MAX_S	86400

static _Noreturn void
usage(void)
{
	fprintf(stderr,
	    "usage: loadgen echo-target -l ADDR:PORT [-j threads] [-T cap]\n"
	    "       loadgen floor-proxy -l ADDR:PORT [-j processes] [-T cap]\n"
	    "       loadgen bulk -t TARGET [-x PROXY] -d up|down [-D secs] "
	    "[-s chunk]\n"
	    "       loadgen rate -t TARGET [-x PROXY] [-c conc] [-D secs] "
	    "[-n max]\n"
	    "       loadgen ping -t TARGET [-x PROXY] [-n trips] [-s size]\n"
	    "       loadgen open -t TARGET [-x PROXY] [-n tunnels] [-W secs] "
	    "[-H hold]\n"
	    "       loadgen spawn [-n children]\n"
	    "every ADDR is numeric loopback (127.0.0.0/8, [::1]) with a port;"
	    " -T caps any run\n(seconds, default %d; echo-target %d)\n",
	    CAP_DEFAULT_S, CAP_TARGET_S);
	exit(2);
}

/* A number in [lo, hi], or usage. */
static double
num(const char *s, double lo, double hi)
{
	char	*end;
	double	 v;

	v = strtod(s, &end);
	if (end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		fprintf(stderr, "loadgen: %s: not a number in [%g, %g]\n", s,
		    lo, hi);
		usage();
	}
	return v;
}

static void
defaults(struct lg_opts *o, const char *mode)
{
	memset(o, 0, sizeof(*o));
	o->cap_s = strcmp(mode, "echo-target") == 0 ||
	    strcmp(mode, "floor-proxy") == 0 ? CAP_TARGET_S :
	    CAP_DEFAULT_S;
	o->duration_s = 2;
	o->count = strcmp(mode, "ping") == 0 ? 10000 :
	    strcmp(mode, "open") == 0 || strcmp(mode, "spawn") == 0 ? 1000 :
	    4000000;
	o->conc = 1;
	o->size = strcmp(mode, "ping") == 0 ? 1 : 128 * 1024;
	o->dir = LG_UP;
	o->threads = 2;
	o->wait_s = 30;
}

static void
parse(struct lg_opts *o, int argc, char **argv)
{
	int	ch;

	while ((ch = getopt(argc, argv, "c:d:D:H:j:l:n:s:t:T:W:x:")) != -1) {
		switch (ch) {
		case 'c':
			o->conc = (int)num(optarg, 1, 1024);
			break;
		case 'd':
			if (strcmp(optarg, "up") != 0 &&
			    strcmp(optarg, "down") != 0)
				usage();
			o->dir = optarg[0] == 'u' ? LG_UP : LG_DOWN;
			break;
		case 'D':
			o->duration_s = num(optarg, 0.01, 600);
			break;
		case 'H':
			o->hold_s = num(optarg, 0, 3600);
			break;
		case 'j':
			o->threads = (int)num(optarg, 1, 16);
			break;
		case 'l':
			if (lg_addr_parse(optarg, 1, &o->listen) == -1)
				exit(2);
			o->has_listen = 1;
			break;
		case 'n':
			o->count = (long)num(optarg, 1, 1e8);
			break;
		case 's':
			o->size = (size_t)num(optarg, 1, 16 * 1024 * 1024);
			break;
		case 't':
			if (lg_addr_parse(optarg, 0, &o->target) == -1)
				exit(2);
			o->has_target = 1;
			break;
		case 'T':
			o->cap_s = (unsigned)num(optarg, 1, CAP_MAX_S);
			break;
		case 'W':
			o->wait_s = num(optarg, 0.1, 600);
			break;
		case 'x':
			if (lg_addr_parse(optarg, 0, &o->proxy) == -1)
				exit(2);
			o->has_proxy = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

int
main(int argc, char **argv)
{
	struct lg_opts	 o;
	const char	*mode;
	int		 r = 1;

	if (argc < 2)
		usage();
	mode = argv[1];
	defaults(&o, mode);
	parse(&o, argc - 1, argv + 1);
	lg_cap(o.cap_s);
	if (strcmp(mode, "echo-target") == 0) {
		if (!o.has_listen)
			usage();
		return lg_target_run(&o) == 0 ? 0 : 1;
	}
	if (strcmp(mode, "floor-proxy") == 0) {
		if (!o.has_listen)
			usage();
		return lg_floor_run(&o) == 0 ? 0 : 1;
	}
	if (strcmp(mode, "spawn") == 0)
		return lg_spawn_run(&o) == 0 ? 0 : 1;
	if (!o.has_target)
		usage();
	if (strcmp(mode, "bulk") == 0)
		r = lg_bulk_run(&o);
	else if (strcmp(mode, "rate") == 0)
		r = lg_rate_run(&o);
	else if (strcmp(mode, "ping") == 0)
		r = lg_ping_run(&o);
	else if (strcmp(mode, "open") == 0)
		r = lg_open_run(&o);
	else
		usage();
	fflush(stdout);
	return r == 0 ? 0 : 1;
}
