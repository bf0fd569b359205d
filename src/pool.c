/*
 * Spawn and retire decisions, Apache prefork's shape with its timer taken
 * out: a shortage is answered at once with 1, 2, 4, ... up to 32 forks per
 * wake-up while it lasts, and a surplus shrinks by one worker a second.
 */
#include <string.h>

#include "pool.h"

void
pool_plan(const struct pool_limits *lim, const struct pool_view *v,
    int may_retire, unsigned *rate, struct pool_plan *plan)
{
	unsigned	room, spares;
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
		plan->spawn = *rate < room ? *rate : room;
		*rate = *rate * 2 > POOL_MAX_SPAWN_RATE ?
		    POOL_MAX_SPAWN_RATE : *rate * 2;
		return;
	}
	*rate = 1;
	if (spares > lim->max_spare && may_retire)
		plan->retire = 1;
}
