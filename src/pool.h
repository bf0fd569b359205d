/* SPDX-License-Identifier: ISC */
/*
 * Pool arithmetic: how many workers to fork or retire, from the counts
 * the master reads off the scoreboard.  Pure, so it is tested by tables.
 */
#ifndef POOL_H
#define POOL_H

#define POOL_MAX_SPAWN_RATE	32

struct pool_limits {
	unsigned	min_spare;
	unsigned	max_spare;
	unsigned	max;
};

struct pool_plan {
	unsigned	spawn;		/* workers to fork now */
	int		retire;		/* retire one idle worker */
	int		full;		/* at max with nobody idle */
};

struct pool_view {
	unsigned	idle;		/* in accept(), current generation */
	unsigned	starting;	/* forked, not yet in accept() */
	unsigned	total;		/* live workers, current generation */
	unsigned	slots;		/* free scoreboard slots */
	unsigned	queued;		/* connections waiting in the backlog */
};

/*
 * Spares are idle and starting workers.  There is a shortage while there
 * are fewer than min_spare of them, or while more connections wait in the
 * backlog than the spares will take (a burst: only the backlog shows its
 * size).  During a shortage fork *rate workers, but never more than the
 * shortage (the spares missing to min_spare, or the backlog beyond the
 * spares), past max or past the free slots; and double *rate up to
 * POOL_MAX_SPAWN_RATE for the next call; otherwise *rate falls back to 1.  With more than max_spare spares,
 * retire one, but only when `may_retire` (the caller paces retirement).
 */
void	pool_plan(const struct pool_limits *lim, const struct pool_view *v,
	    int may_retire, unsigned *rate, struct pool_plan *plan);

#endif
