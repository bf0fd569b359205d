/* SPDX-License-Identifier: ISC */
/*
 * Spawn and retire decisions, Apache prefork's shape with its timer taken
 * out: a shortage is answered at once with 1, 2, 4, ... up to 32 forks per
 * wake-up while it lasts, never more than the shortage itself, and a
 * surplus shrinks by one worker a second.
 */
#include <string.h>

#include "pool.h"

void
pool_plan(const struct pool_limits *lim, const struct pool_view *v,
    int may_retire, unsigned *rate, struct pool_plan *plan)
{
	unsigned	room, spares, need;
	int		shortage;

	memset(plan, 0, sizeof(*plan));
	if (*rate == 0)
		*rate = 1;
	room = v->total < lim->max ? lim->max - v->total : 0;
	if (room > v->slots)
		room = v->slots;
	plan->full = room == 0 && v->idle == 0;
	spares = v->idle + v->starting;
	shortage = spares < lim->min_spare || v->queued > spares;
	if (shortage && room > 0) {
		/*
		 * What is missing: spares up to min_spare, or as many as wait
		 * in the backlog.  Forking more than that at the edge of a
		 * steady load only grew the pool (80 to 165 workers in 2 s
		 * at 64 clients), each fork costing a millisecond of CPU.
		 */
		need = lim->min_spare > spares ? lim->min_spare - spares : 0;
		if (v->queued > spares && v->queued - spares > need)
			need = v->queued - spares;
		plan->spawn = *rate < room ? *rate : room;
		if (plan->spawn > need)
			plan->spawn = need;
		*rate = *rate * 2 > POOL_MAX_SPAWN_RATE ?
		    POOL_MAX_SPAWN_RATE : *rate * 2;
		return;
	}
	*rate = 1;
	if (spares > lim->max_spare && may_retire)
		plan->retire = 1;
}
