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

/*
 * `idle` counts idle and starting workers of the current generation,
 * `total` all its live workers, `slots` the free scoreboard slots.
 * While idle < min_spare, fork *rate workers (never past max or the free
 * slots) and double *rate up to POOL_MAX_SPAWN_RATE for the next call;
 * otherwise *rate falls back to 1.  Above max_spare, retire one, but only
 * when `may_retire` (the caller paces retirement to one a second).
 */
void	pool_plan(const struct pool_limits *lim, unsigned idle,
	    unsigned total, unsigned slots, int may_retire, unsigned *rate,
	    struct pool_plan *plan);

#endif
