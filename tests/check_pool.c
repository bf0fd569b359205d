/* SPDX-License-Identifier: ISC */
/*
 * Pool arithmetic: a shortage forks 1, 2, 4, ... 32 per wake-up, never
 * more than the shortage, never past workers_max or the free slots; a
 * surplus retires one worker when the caller allows; anything in between
 * resets the rate.
 */
#include "pool.h"
#include "suites.h"

static const struct pool_limits	lim = { 2, 8, 256 };

static void
plan_for(unsigned idle, unsigned total, unsigned slots, unsigned queued,
    int may_retire, unsigned *rate, struct pool_plan *plan)
{
	struct pool_view	v = { idle, 0, total, slots, queued };

	pool_plan(&lim, &v, may_retire, rate, plan);
}

START_TEST(test_ramp)
{
	static const unsigned	 expect[] = { 1, 2, 4, 8, 16, 32, 32, 32 };
	struct pool_plan	 plan;
	unsigned		 rate = 1, i;

	/* A burst that lasts (1000 waiting): the rate doubles, capped at 32. */
	for (i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		plan_for(0, 10, 1000, 1000, 0, &rate, &plan);
		ck_assert_uint_eq(plan.spawn, expect[i]);
		ck_assert_int_eq(plan.retire, 0);
	}
	/* Enough spares again: back to one at a time. */
	plan_for(2, 10, 1000, 0, 0, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 0);
	ck_assert_uint_eq(rate, 1);
	plan_for(1, 10, 1000, 0, 0, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 1);
}
END_TEST

/*
 * At the edge of a steady load the shortage is a spare or two: that is
 * what gets forked, however long it lasts, not a doubling batch.
 */
START_TEST(test_no_overshoot)
{
	struct pool_plan	 plan;
	unsigned		 rate = 1, i;

	for (i = 0; i < 8; i++) {
		plan_for(0, 80, 1000, 0, 0, &rate, &plan);
		ck_assert_uint_eq(plan.spawn, i == 0 ? 1 : 2);
		plan_for(1, 80, 1000, 0, 0, &rate, &plan);
		ck_assert_uint_eq(plan.spawn, 1);
	}
	/* Five waiting with one spare: four more, whatever the rate. */
	plan_for(1, 80, 1000, 5, 0, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 4);
}
END_TEST

static const struct {
	unsigned	idle, total, slots, queued, rate;
	int		may_retire;
	unsigned	spawn;
	int		retire, full;
} cases[] = {
	/* never past workers_max */
	{ 0, 250, 1000, 100, 32, 0, 6, 0, 0 },
	{ 0, 256, 1000, 100, 32, 0, 0, 0, 1 },
	{ 1, 256, 1000, 0, 32, 0, 0, 0, 0 },
	/* never past the free scoreboard slots */
	{ 0, 10, 3, 100, 32, 0, 3, 0, 0 },
	{ 0, 10, 0, 100, 32, 0, 0, 0, 1 },
	/* never past the shortage */
	{ 0, 10, 1000, 0, 32, 0, 2, 0, 0 },
	{ 0, 10, 1000, 7, 32, 0, 7, 0, 0 },
	/* surplus: retire only when the caller's pace allows */
	{ 9, 20, 1000, 0, 1, 1, 0, 1, 0 },
	{ 9, 20, 1000, 0, 1, 0, 0, 0, 0 },
	{ 8, 20, 1000, 0, 1, 1, 0, 0, 0 },
	/* in range: nothing */
	{ 2, 20, 1000, 0, 8, 1, 0, 0, 0 },
	{ 5, 20, 1000, 0, 8, 1, 0, 0, 0 },
	/* a rate of 0 is taken as 1 */
	{ 0, 0, 1000, 0, 0, 0, 1, 0, 0 },
};

START_TEST(test_cases)
{
	struct pool_plan	plan;
	unsigned		rate = cases[_i].rate;

	plan_for(cases[_i].idle, cases[_i].total, cases[_i].slots,
	    cases[_i].queued, cases[_i].may_retire, &rate, &plan);
	ck_assert_msg(plan.spawn == cases[_i].spawn, "case %d: spawn %u, "
	    "want %u", _i, plan.spawn, cases[_i].spawn);
	ck_assert_msg(plan.retire == cases[_i].retire, "case %d: retire", _i);
	ck_assert_msg(plan.full == cases[_i].full, "case %d: full", _i);
}
END_TEST

START_TEST(test_zero_min_spare)
{
	struct pool_limits	l = { 0, 0, 4 };
	struct pool_plan	plan;
	unsigned		rate = 1;

	struct pool_view	v = { 0, 0, 4, 100, 0 };

	/* No spares wanted: an idle pool shrinks to nothing, one a tick. */
	pool_plan(&l, &v, 1, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 0);
	ck_assert_int_eq(plan.retire, 0);
	ck_assert_int_eq(plan.full, 1);
	v.idle = 1;
	pool_plan(&l, &v, 1, &rate, &plan);
	ck_assert_int_eq(plan.retire, 1);
}
END_TEST

/* Starting workers count as spares, unless the backlog outgrows them. */
START_TEST(test_starting)
{
	struct pool_view	v = { 0, 2, 40, 1000, 0 };
	struct pool_plan	plan;
	unsigned		rate = 4;

	pool_plan(&lim, &v, 1, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 0);
	ck_assert_uint_eq(rate, 1);
	v.queued = 3;
	pool_plan(&lim, &v, 1, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 1);
	/* The backlog is one more than the spares: one, at any rate. */
	pool_plan(&lim, &v, 1, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 1);
	v.queued = 12;
	pool_plan(&lim, &v, 1, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 4);
	v.queued = 0;
	v.idle = 3;
	v.starting = 6;
	pool_plan(&lim, &v, 1, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 0);
	ck_assert_int_eq(plan.retire, 1);
}
END_TEST

/* More connections in the backlog than spares: a shortage at any min. */
START_TEST(test_queued)
{
	struct pool_limits	l = { 0, 4, 16 };
	struct pool_view	v = { 0, 0, 3, 100, 5 };
	struct pool_plan	plan;
	unsigned		rate = 1;

	pool_plan(&l, &v, 0, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 1);
	/* Spares enough for what waits: no more forks. */
	v.idle = 1;
	v.starting = 4;
	pool_plan(&l, &v, 0, &rate, &plan);
	ck_assert_uint_eq(plan.spawn, 0);
}
END_TEST

Suite *
pool_suite(void)
{
	Suite	*s = suite_create("pool");
	TCase	*tc = tcase_create("plan");

	tcase_add_test(tc, test_ramp);
	tcase_add_test(tc, test_no_overshoot);
	tcase_add_loop_test(tc, test_cases, 0,
	    (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_zero_min_spare);
	tcase_add_test(tc, test_starting);
	tcase_add_test(tc, test_queued);
	suite_add_tcase(s, tc);
	return s;
}
