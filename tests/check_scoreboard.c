/*
 * Scoreboard: shared between processes, idle count kept in step with the
 * slot states, counts per generation, per-client tunnel counts, and text
 * fields read back consistently.  And what the master and the status
 * view read from it, when a hostile worker wrote the whole mapping.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "scoreboard.h"
#include "suites.h"

/* The master's table for n slots, every slot free. */
static struct sb_table *
table(unsigned n)
{
	struct sb_table	*t;

	t = calloc(1, sizeof(*t) + n * sizeof(t->procs[0]));
	ck_assert_ptr_nonnull(t);
	t->nslots = n;
	return t;
}

/* Slot i taken by pid, of generation gen, as spawn() records it. */
static void
take(struct sb_table *t, unsigned i, pid_t pid, unsigned gen)
{
	t->procs[i].pid = pid;
	t->procs[i].generation = gen;
}

static struct sockaddr_storage
v4(const char *ip)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage
v6(const char *ip)
{
	struct sockaddr_storage	ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
	return ss;
}

START_TEST(test_shared_across_fork)
{
	struct scoreboard	*sb = scoreboard_create(4);
	struct sb_table		*t = table(4);
	pid_t			 pid;
	int			 st;

	ck_assert_ptr_nonnull(sb);
	ck_assert_int_eq(scoreboard_free_slot(t), 0);
	take(t, 0, 1, 0);
	ck_assert_int_eq(scoreboard_free_slot(t), 1);
	if ((pid = fork()) == 0) {
		scoreboard_set_state(sb, &sb->slots[1], SB_IDLE);
		scoreboard_set_target(&sb->slots[1], "example.org:443");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(atomic_load(&sb->slots[1].state), SB_IDLE);
	ck_assert_int_eq(atomic_load(&sb->idle), 1);
	ck_assert_str_eq(sb->slots[1].target, "example.org:443");
	scoreboard_destroy(sb, 4);
	free(t);
}
END_TEST

START_TEST(test_idle_count)
{
	struct scoreboard	*sb = scoreboard_create(3);
	struct sb_table		*t = table(3);
	struct sb_counts	 c;

	take(t, 0, 10, 0);
	take(t, 1, 11, 0);
	take(t, 2, 12, 1);
	scoreboard_set_state(sb, &sb->slots[0], SB_STARTING);
	scoreboard_set_state(sb, &sb->slots[1], SB_IDLE);
	scoreboard_set_state(sb, &sb->slots[2], SB_IDLE);
	ck_assert_int_eq(atomic_load(&sb->idle), 2);
	scoreboard_set_state(sb, &sb->slots[1], SB_IDLE);
	ck_assert_int_eq(atomic_load(&sb->idle), 2);
	scoreboard_count(sb, t, 0, &c);
	ck_assert_uint_eq(c.starting, 1);
	ck_assert_uint_eq(c.idle, 1);
	ck_assert_uint_eq(c.total, 2);
	ck_assert_uint_eq(c.others, 1);
	scoreboard_set_state(sb, &sb->slots[1], SB_RELAYING);
	scoreboard_count(sb, t, 0, &c);
	ck_assert_uint_eq(c.busy, 1);
	ck_assert_int_eq(atomic_load(&sb->idle), 1);
	/* A reaped idle worker leaves the count too. */
	scoreboard_clear(sb, &sb->slots[2]);
	ck_assert_int_eq(atomic_load(&sb->idle), 0);
	ck_assert_uint_eq(c.invalid, 0);
	scoreboard_destroy(sb, 3);
	free(t);
}
END_TEST

START_TEST(test_client_tunnels)
{
	struct scoreboard	*sb = scoreboard_create(5);
	struct sockaddr_storage	 a = v4("192.0.2.7"), b = v4("192.0.2.8");
	struct sockaddr_storage	 mapped = v6("::ffff:192.0.2.7");

	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, "a");
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	scoreboard_begin(&sb->slots[1], (struct sockaddr *)&mapped, "a6");
	scoreboard_set_state(sb, &sb->slots[1], SB_READING);
	scoreboard_begin(&sb->slots[2], (struct sockaddr *)&b, "b");
	scoreboard_set_state(sb, &sb->slots[2], SB_RELAYING);
	/* Idle slots keep the last client but no longer count. */
	scoreboard_begin(&sb->slots[3], (struct sockaddr *)&a, "a");
	scoreboard_set_state(sb, &sb->slots[3], SB_IDLE);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, 5, &sb->slots[4],
	    (struct sockaddr *)&a), 2);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, 5, &sb->slots[0],
	    (struct sockaddr *)&a), 1);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, 5, &sb->slots[4],
	    (struct sockaddr *)&b), 1);
	/* Only the slots the master said there are. */
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, 1, &sb->slots[4],
	    (struct sockaddr *)&a), 1);
	scoreboard_destroy(sb, 5);
}
END_TEST

START_TEST(test_snapshot)
{
	struct scoreboard	*sb = scoreboard_create(1);
	struct sockaddr_storage	 a = v4("198.51.100.1");
	struct sb_slot		 copy;

	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a,
	    "198.51.100.1:5000");
	scoreboard_set_target(&sb->slots[0], "example.org:443");
	atomic_fetch_add(&sb->slots[0].bytes.up, 1000);
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	scoreboard_snapshot(&sb->slots[0], &copy);
	ck_assert_str_eq(copy.client, "198.51.100.1:5000");
	ck_assert_str_eq(copy.target, "example.org:443");
	ck_assert_uint_eq(atomic_load(&copy.bytes.up), 1000);
	ck_assert_str_eq(scoreboard_state_name(
	    (enum sb_state)atomic_load(&copy.state)), "relaying");
	/* A new tunnel starts from zero bytes and no target. */
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, "x");
	ck_assert_uint_eq(atomic_load(&sb->slots[0].bytes.up), 0);
	ck_assert_str_eq(sb->slots[0].target, "");
	scoreboard_destroy(sb, 1);
}
END_TEST

/* The fills a hostile worker writes over the whole mapping. */
enum fill { FILL_WORD, FILL_FF, FILL_MAXINT, FILL_RANDOM, FILL_COUNT };

static void
fill(void *mem, size_t len, enum fill how, uint32_t word)
{
	uint32_t	*w = mem, x = 0x9e3779b9u;
	size_t		 i;

	for (i = 0; i < len / 4; i++) {
		switch (how) {
		case FILL_WORD:
			w[i] = word;
			break;
		case FILL_FF:
			w[i] = 0xffffffffu;
			break;
		case FILL_MAXINT:
			w[i] = 0x7fffffffu;
			break;
		default:
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			w[i] = x;
			break;
		}
	}
}

/* Only the states a worker can be in pass; the reserve only as itself. */
START_TEST(test_state_validated)
{
	struct scoreboard	*sb = scoreboard_create(1);
	static const int	 bad[] = { SB_FREE, SB_RESERVE, -1, 8, 2000,
	    INT_MAX, INT_MIN };
	size_t			 i;
	int			 st;

	for (st = SB_STARTING; st <= SB_CLOSING; st++) {
		atomic_store(&sb->slots[0].state, st);
		ck_assert_int_eq(scoreboard_state(&sb->slots[0], 0), st);
		ck_assert_int_eq(scoreboard_state(&sb->slots[0], 1), -1);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		atomic_store(&sb->slots[0].state, bad[i]);
		ck_assert_int_eq(scoreboard_state(&sb->slots[0], 0), -1);
	}
	atomic_store(&sb->slots[0].state, SB_RESERVE);
	ck_assert_int_eq(scoreboard_state(&sb->slots[0], 1), SB_RESERVE);
	ck_assert_str_eq(scoreboard_state_name(-1), "invalid");
	ck_assert_str_eq(scoreboard_state_name(INT_MAX), "invalid");
	scoreboard_destroy(sb, 1);
}
END_TEST

/*
 * Whatever a worker wrote over the whole mapping: counting, tidying, a
 * client's tunnels, snapshots and the status and metrics views read only
 * the slots the master's table has, find every live worker invalid
 * (except where the fill happens to be a valid state), never show a
 * control byte, and sum counters without wrapping.
 */
START_TEST(test_hostile_fill)
{
	const unsigned		 n = 9;
	struct scoreboard	*sb = scoreboard_create(n);
	struct sb_table		*t = table(n);
	struct sockaddr_storage	 a = v4("127.0.0.1");
	struct sb_counts	 c;
	struct sb_slot		 copy;
	char			*text, *metrics, *p;
	unsigned		 i, tunnels;
	uint32_t		 word = 2;	/* a bystander's pid: SB_IDLE */

	take(t, 0, 100, 0);
	take(t, 1, 101, 0);
	t->procs[2].pid = 102;
	t->procs[2].reserve = 1;
	fill(sb, scoreboard_size(n), (enum fill)_i, word);

	scoreboard_count(sb, t, 0, &c);
	if (_i != FILL_WORD)
		ck_assert_uint_eq(c.invalid, 3);
	else	/* the two as idle, the reserve invalid */
		ck_assert(c.idle == 2 && c.total == 2 && c.invalid == 1);
	tunnels = scoreboard_client_tunnels(sb, n, &sb->slots[0],
	    (struct sockaddr *)&a);
	ck_assert_uint_lt(tunnels, n);
	for (i = 0; i < n; i++) {
		scoreboard_snapshot(&sb->slots[i], &copy);
		ck_assert_uint_lt(strlen(copy.client), sizeof(copy.client));
		ck_assert_uint_lt(strlen(copy.target), sizeof(copy.target));
		for (p = copy.target; *p != '\0'; p++)
			ck_assert(*p >= 0x20 && *p < 0x7f);
	}

	ck_assert_ptr_nonnull(text = control_status(sb, t, 1795782278070LL));
	ck_assert_ptr_nonnull(metrics = control_metrics(sb, t));
	for (p = text; *p != '\0'; p++)
		ck_assert_msg(*p == '\n' || (*p >= 0x20 && *p < 0x7f),
		    "byte 0x%02x in status", (unsigned char)*p);
	ck_assert_msg(strstr(text, "\n100 ") != NULL &&
	    strstr(text, "\n101 ") != NULL && strstr(text, "\n102 ") != NULL,
	    "pids not from the master's table:\n%s", text);
	ck_assert_msg(strstr(text, "\nworkers: 3 ") != NULL, "%s", text);
	if (_i == FILL_FF)
		ck_assert_msg(strstr(text, "18446744073709551615 ended") !=
		    NULL, "no saturated sum:\n%s", text);
	free(text);
	free(metrics);

	/* The master's tidy: free slots clean again, idle in range. */
	ck_assert_uint_eq(scoreboard_tidy(sb, t), n - 3);
	for (i = 3; i < n; i++)
		ck_assert_int_eq(atomic_load(&sb->slots[i].state), SB_FREE);
	ck_assert_int_ge(atomic_load(&sb->idle), 0);
	ck_assert_int_le(atomic_load(&sb->idle), (int)n);
	scoreboard_destroy(sb, n);
	free(t);
}
END_TEST

START_TEST(test_add_sat)
{
	ck_assert(scoreboard_add_sat(1, 2) == 3);
	ck_assert(scoreboard_add_sat(ULLONG_MAX - 1, 1) == ULLONG_MAX);
	ck_assert(scoreboard_add_sat(ULLONG_MAX, ULLONG_MAX) == ULLONG_MAX);
	ck_assert(scoreboard_add_sat(2, ULLONG_MAX - 1) == ULLONG_MAX);
}
END_TEST

Suite *
scoreboard_suite(void)
{
	Suite	*s = suite_create("scoreboard");
	TCase	*tc = tcase_create("slots");

	tcase_add_test(tc, test_shared_across_fork);
	tcase_add_test(tc, test_idle_count);
	tcase_add_test(tc, test_client_tunnels);
	tcase_add_test(tc, test_snapshot);
	tcase_add_test(tc, test_state_validated);
	tcase_add_loop_test(tc, test_hostile_fill, 0, FILL_COUNT);
	tcase_add_test(tc, test_add_sat);
	suite_add_tcase(s, tc);
	return s;
}
