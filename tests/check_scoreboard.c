/*
 * Scoreboard: shared between processes, idle count kept in step with the
 * slot states, counts per generation, per-client tunnel counts, and text
 * fields read back consistently.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "scoreboard.h"
#include "suites.h"

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
	pid_t			 pid;
	int			 st;

	ck_assert_ptr_nonnull(sb);
	ck_assert_int_eq(scoreboard_free_slot(sb), 0);
	atomic_store(&sb->slots[0].pid, 1);
	ck_assert_int_eq(scoreboard_free_slot(sb), 1);
	if ((pid = fork()) == 0) {
		scoreboard_set_state(sb, &sb->slots[1], SB_IDLE);
		scoreboard_set_target(&sb->slots[1], "example.org:443");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(atomic_load(&sb->slots[1].state), SB_IDLE);
	ck_assert_int_eq(atomic_load(&sb->idle), 1);
	ck_assert_str_eq(sb->slots[1].target, "example.org:443");
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_idle_count)
{
	struct scoreboard	*sb = scoreboard_create(3);
	struct sb_counts	 c;

	atomic_store(&sb->slots[0].pid, 10);
	atomic_store(&sb->slots[1].pid, 11);
	atomic_store(&sb->slots[2].pid, 12);
	atomic_store(&sb->slots[2].generation, 1);
	scoreboard_set_state(sb, &sb->slots[0], SB_STARTING);
	scoreboard_set_state(sb, &sb->slots[1], SB_IDLE);
	scoreboard_set_state(sb, &sb->slots[2], SB_IDLE);
	ck_assert_int_eq(atomic_load(&sb->idle), 2);
	scoreboard_set_state(sb, &sb->slots[1], SB_IDLE);
	ck_assert_int_eq(atomic_load(&sb->idle), 2);
	scoreboard_count(sb, 0, &c);
	ck_assert_uint_eq(c.starting, 1);
	ck_assert_uint_eq(c.idle, 1);
	ck_assert_uint_eq(c.total, 2);
	ck_assert_uint_eq(c.others, 1);
	scoreboard_set_state(sb, &sb->slots[1], SB_RELAYING);
	scoreboard_count(sb, 0, &c);
	ck_assert_uint_eq(c.busy, 1);
	ck_assert_int_eq(atomic_load(&sb->idle), 1);
	/* A reaped idle worker leaves the count too. */
	scoreboard_set_state(sb, &sb->slots[2], SB_FREE);
	ck_assert_int_eq(atomic_load(&sb->idle), 0);
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_client_tunnels)
{
	struct scoreboard	*sb = scoreboard_create(5);
	struct sockaddr_storage	 a = v4("192.0.2.7"), b = v4("192.0.2.8");
	struct sockaddr_storage	 mapped = v6("::ffff:192.0.2.7");
	unsigned		 i;

	for (i = 0; i < 5; i++)
		atomic_store(&sb->slots[i].pid, (int)(100 + i));
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, 64, "a");
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	scoreboard_begin(&sb->slots[1], (struct sockaddr *)&mapped, 64,
	    "a6");
	scoreboard_set_state(sb, &sb->slots[1], SB_READING);
	scoreboard_begin(&sb->slots[2], (struct sockaddr *)&b, 64, "b");
	scoreboard_set_state(sb, &sb->slots[2], SB_RELAYING);
	/* Idle slots keep the last client but no longer count. */
	scoreboard_begin(&sb->slots[3], (struct sockaddr *)&a, 64, "a");
	scoreboard_set_state(sb, &sb->slots[3], SB_IDLE);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, &sb->slots[4],
	    (struct sockaddr *)&a, 64), 2);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, &sb->slots[0],
	    (struct sockaddr *)&a, 64), 1);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, &sb->slots[4],
	    (struct sockaddr *)&b, 64), 1);
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_snapshot)
{
	struct scoreboard	*sb = scoreboard_create(1);
	struct sockaddr_storage	 a = v4("198.51.100.1");
	struct sb_slot		 copy;

	atomic_store(&sb->slots[0].pid, 42);
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, 64,
	    "198.51.100.1:5000");
	scoreboard_set_target(&sb->slots[0], "example.org:443");
	atomic_fetch_add(&sb->slots[0].bytes.up, 1000);
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	scoreboard_snapshot(&sb->slots[0], &copy);
	ck_assert_int_eq(atomic_load(&copy.pid), 42);
	ck_assert_str_eq(copy.client, "198.51.100.1:5000");
	ck_assert_str_eq(copy.target, "example.org:443");
	ck_assert_uint_eq(atomic_load(&copy.bytes.up), 1000);
	ck_assert_str_eq(scoreboard_state_name(
	    (enum sb_state)atomic_load(&copy.state)), "relaying");
	/* A new tunnel starts from zero bytes and no target. */
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, 64, "x");
	ck_assert_uint_eq(atomic_load(&sb->slots[0].bytes.up), 0);
	ck_assert_str_eq(sb->slots[0].target, "");
	scoreboard_destroy(sb);
}
END_TEST

/*
 * max_tunnels_per_client counts an IPv6 client by its first prefix6 bits
 * (a /64 by default): a host rotating addresses inside its prefix is
 * still one client.  IPv4, mapped or not, is counted per address.
 */
static const struct {
	unsigned	 prefix6;
	const char	*a;		/* holds a tunnel */
	const char	*b;		/* asks: does a count as b? */
	unsigned	 same;
} prefix_tab[] = {
	{ 64,  "2001:db8:1:2::1",	"2001:db8:1:2:ffff::ffff", 1 },
	{ 64,  "2001:db8:1:2:aaaa::1",	"2001:db8:1:2:bbbb::2", 1 },
	{ 64,  "2001:db8:1:2::1",	"2001:db8:1:3::1",	0 },
	{ 64,  "2001:db8:1:2::1",	"2001:db9:1:2::1",	0 },
	{ 64,  "2002:c000:207::1",	"2002:c000:207::2",	1 },
	{ 64,  "64:ff9b::c000:207",	"64:ff9b::c000:208",	1 },
	{ 128, "2001:db8:1:2::1",	"2001:db8:1:2::2",	0 },
	{ 128, "2001:db8:1:2::1",	"2001:db8:1:2::1",	1 },
	{ 56,  "2001:db8:1:200::1",	"2001:db8:1:2ff::1",	1 },
	{ 56,  "2001:db8:1:200::1",	"2001:db8:1:300::1",	0 },
	{ 60,  "2001:db8:1:20::1",	"2001:db8:1:2f::1",	1 },
	{ 60,  "2001:db8:1:20::1",	"2001:db8:1:30::1",	0 },
	{ 32,  "2001:db8:1::1",		"2001:db8:ffff::1",	1 },
	{ 64,  "192.0.2.7",		"192.0.2.8",		0 },
	{ 64,  "192.0.2.7",		"192.0.2.7",		1 },
	{ 64,  "::ffff:192.0.2.7",	"::ffff:192.0.2.8",	0 },
	{ 64,  "::ffff:192.0.2.7",	"192.0.2.7",		1 },
	{ 64,  "192.0.2.7",		"::ffff:192.0.2.7",	1 }
};

static struct sockaddr_storage
any_addr(const char *ip)
{
	return strchr(ip, ':') != NULL ? v6(ip) : v4(ip);
}

START_TEST(test_client_ipv6_prefix)
{
	struct scoreboard	*sb = scoreboard_create(2);
	struct sockaddr_storage	 a = any_addr(prefix_tab[_i].a);
	struct sockaddr_storage	 b = any_addr(prefix_tab[_i].b);

	atomic_store(&sb->slots[0].pid, 100);
	atomic_store(&sb->slots[1].pid, 101);
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a,
	    prefix_tab[_i].prefix6, "a");
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	ck_assert_msg(scoreboard_client_tunnels(sb, &sb->slots[1],
	    (struct sockaddr *)&b, prefix_tab[_i].prefix6) ==
	    prefix_tab[_i].same, "/%u: %s counted as %s: want %u",
	    prefix_tab[_i].prefix6, prefix_tab[_i].a, prefix_tab[_i].b,
	    prefix_tab[_i].same);
	scoreboard_destroy(sb);
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
	tcase_add_loop_test(tc, test_client_ipv6_prefix, 0,
	    sizeof(prefix_tab) / sizeof(prefix_tab[0]));
	suite_add_tcase(s, tc);
	return s;
}
