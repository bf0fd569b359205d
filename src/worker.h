/*
 * A worker: accepts one client at a time on the inherited listeners and
 * runs a tunnel's whole life (DESIGN.md section 2).  Never returns.
 */
#ifndef WORKER_H
#define WORKER_H

#include <stddef.h>
#include <sys/types.h>

struct config;

/*
 * Run the worker loop on the listening sockets `lfds` with `cfg`, right
 * after fork and the privilege drop.  `master` is the parent's pid: the
 * worker exits when it is gone.  Installs its own signal handlers.  Exits
 * the process: 0 when told to stop, 3 when out of resources.
 */
void	worker_main(const struct config *cfg, const int *lfds, size_t nlfds,
	    pid_t master) __attribute__((noreturn));

#endif
