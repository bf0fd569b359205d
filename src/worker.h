/* SPDX-License-Identifier: ISC */
/*
 * A worker: accepts one client at a time on the inherited listeners and
 * runs a tunnel's whole life (DESIGN.md section 2).  Never returns.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stddef.h>
#include <sys/types.h>

struct config;
struct listen_addr;
struct scoreboard;
struct sb_slot;

struct worker_env {
	const struct config	*cfg;
	const int		*lfds;		/* the listeners */
	const struct listen_addr *laddrs;	/* laddrs[i]: lfds[i]'s */
	size_t			 nlfds;
	pid_t			 master;	/* exit when it is gone */
	pid_t			 self;		/* getpid(), asked once */
	struct scoreboard	*sb;
	unsigned		 nslots;	/* of sb, from the master: never
						   read from sb itself */
	struct sb_slot		*slot;		/* this worker's */
	int			 wakefd;	/* write a byte: wake the master */
	int			 reserve;	/* answer 503 to every client */
};

/*
 * Run the worker loop described by env, right after fork and the
 * privilege drop.  Installs its own signal handlers: TERM ends the tunnel
 * and the worker; HUP retires it (an idle worker exits at once, a busy one
 * after its tunnel).  Exits the process: 0 when told to stop, retired, or
 * after worker_max_tunnels; 3 when out of resources.
 */
void	worker_main(const struct worker_env *env) __attribute__((noreturn));

#endif
