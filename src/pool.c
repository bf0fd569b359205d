/*
 * Spawn and retire decisions, Apache prefork's shape with its timer taken
 * out: a shortage is answered at once with 1, 2, 4, ... up to 32 forks per
 * wake-up while it lasts, and a surplus shrinks by one worker a second.
 */
#include <string.h>

#include "pool.h"

void
pool_plan(const struct pool_limits *lim, unsigned idle, unsigned total,
    unsigned slots, int may_retire, unsigned *rate, struct pool_plan *plan)
{
	unsigned	room;

	memset(plan, 0, sizeof(*plan));
	if (*rate == 0)
		*rate = 1;
	room = total < lim->max ? lim->max - total : 0;
	if (room > slots)
		room = slots;
	plan->full = room == 0 && idle == 0;
	if (idle < lim->min_spare && room > 0) {
		plan->spawn = *rate < room ? *rate : room;
		*rate = *rate * 2 > POOL_MAX_SPAWN_RATE ?
		    POOL_MAX_SPAWN_RATE : *rate * 2;
		return;
	}
	*rate = 1;
	if (idle > lim->max_spare && may_retire)
		plan->retire = 1;
}
