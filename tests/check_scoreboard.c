/* SPDX-License-Identifier: ISC */
/*
 * Scoreboard: shared between processes, idle count kept in step with the
 * slot states, counts per generation, per-client tunnel counts, and text
 * fields read back consistently; the refusal reasons, read from the
 * sources, each counted under its own label; and what the master and the
 * status view read from it, when a hostile worker wrote the whole mapping.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "harness.h"
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

/* Slot i taken by pid, of generation gen, as proc_spawn() records it. */
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
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, 5, &sb->slots[4],
	    (struct sockaddr *)&a, 64), 2);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, 5, &sb->slots[0],
	    (struct sockaddr *)&a, 64), 1);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, 5, &sb->slots[4],
	    (struct sockaddr *)&b, 64), 1);
	/* Only the slots the master said there are. */
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, 1, &sb->slots[4],
	    (struct sockaddr *)&a, 64), 1);
	scoreboard_destroy(sb, 5);
}
END_TEST

START_TEST(test_snapshot)
{
	struct scoreboard	*sb = scoreboard_create(1);
	struct sockaddr_storage	 a = v4("198.51.100.1");
	struct sb_slot		 copy;

	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, 64,
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
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, 64, "x");
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
	    (struct sockaddr *)&a, 64);
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

/* --- refusal reasons: one counter each, and none forgotten --------- */

#define REASONS_FOUND_MAX	64

/* The reasons found in the sources, each once. */
struct reasons_found {
	char	name[REASONS_FOUND_MAX][40];
	size_t	n;
};

/*
 * A reason the code sets that is never a refused request's: "error" is
 * a tunnel's (set once 200 is being written), counted under status 200;
 * "pac" is a PAC file answer's, counted on its own.
 */
static const char *const	tunnel_only_reasons[] = { "error", "pac" };

static int
is_reason_word(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || n >= 40 || s[0] == '_' || s[n - 1] == '_')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return 0;
	return 1;
}

static void
found_add(struct reasons_found *f, const char *s, size_t n)
{
	size_t	i;

	for (i = 0; i < f->n; i++)
		if (strlen(f->name[i]) == n && memcmp(f->name[i], s, n) == 0)
			return;
	ck_assert_uint_lt(f->n, REASONS_FOUND_MAX);
	memcpy(f->name[f->n], s, n);
	f->name[f->n++][n] = '\0';
}

static int
is_ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

/* Whether the n octets at s end with `suffix`, or hold `part`. */
static int
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t	len = strlen(suffix);

	return n >= len && memcmp(s + n - len, suffix, len) == 0;
}

static int
holds(const char *s, size_t n, const char *part)
{
	size_t	len = strlen(part), i;

	for (i = 0; i + len <= n; i++)
		if (memcmp(s + i, part, len) == 0)
			return 1;
	return 0;
}

/*
 * Whether a statement (code only: comments and literal contents blanked)
 * sets a reason: it calls a refusing or failing function (refuse(w, t,
 * 403, "client_denied", ...), fail(res, 502, "upstream_refused", ...)),
 * or assigns to a reason (t->reason = r == ... ? "a" : "b").
 */
static int
sets_reason(const char *code, size_t n)
{
	size_t	i = 0, start, len, k;

	while (i < n) {
		if (!is_ident(code[i]) || (i > 0 && is_ident(code[i - 1]))) {
			i++;
			continue;
		}
		for (start = i; i < n && is_ident(code[i]); i++)
			;
		len = i - start;
		for (k = i; k < n && (code[k] == ' ' || code[k] == '\t' ||
		    code[k] == '\n'); k++)
			;
		if (k < n && code[k] == '(' && (holds(code + start, len,
		    "refuse") || ends_with(code + start, len, "fail")))
			return 1;
		if (k + 1 < n && code[k] == '=' && code[k + 1] != '=' &&
		    ends_with(code + start, len, "reason"))
			return 1;
	}
	return 0;
}

/*
 * C text `src` with comments and the contents of literals blanked, the
 * quotes kept: the same length, so offsets match.  The caller frees.
 */
static char *
code_only(const char *src)
{
	char	*code = strdup(src), *p, *q;

	ck_assert_ptr_nonnull(code);
	for (p = code; *p != '\0'; p = q) {
		if (p[0] == '/' && p[1] == '*') {
			q = strstr(p + 2, "*/");
			q = q != NULL ? q + 2 : p + strlen(p);
			memset(p, ' ', (size_t)(q - p));
		} else if (p[0] == '/' && p[1] == '/') {
			q = p + strcspn(p, "\n");
			memset(p, ' ', (size_t)(q - p));
		} else if (*p == '"' || *p == '\'') {
			/* q: the closing quote (or the end of the text). */
			for (q = p + 1; *q != '\0' && *q != *p; q++)
				if (*q == '\\' && q[1] != '\0')
					q++;
			memset(p + 1, ' ', (size_t)(q - p - 1));
			if (*q != '\0')
				q++;
		} else
			q = p + 1;
	}
	return code;
}

/*
 * Each one-word snake_case string literal of a statement that sets a
 * reason, statements split at ';', '{' and '}' outside comments and
 * literals.
 */
static void
scan_source(const char *src, struct reasons_found *f)
{
	char	*code = code_only(src);
	size_t	 i, stmt = 0, k, end;

	for (i = 0; code[i] != '\0'; i++) {
		if (code[i] != ';' && code[i] != '{' && code[i] != '}')
			continue;
		if (sets_reason(code + stmt, i - stmt))
			for (k = stmt; k < i; k++) {
				if (code[k] != '"')
					continue;
				for (end = k + 1; end < i && code[end] != '"';
				    end++)
					;
				if (is_reason_word(src + k + 1, end - k - 1))
					found_add(f, src + k + 1, end - k - 1);
				k = end;
			}
		stmt = i + 1;
	}
	free(code);
}

/* Every reason the sources under src/ set; fails when none is found. */
static void
scan_sources(struct reasons_found *f)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[512], *text;
	size_t		 len, files = 0;

	memset(f, 0, sizeof(*f));
	d = opendir("src");
	ck_assert_msg(d != NULL, "src/ not found: run the tests from the "
	    "top of the source tree");
	while ((e = readdir(d)) != NULL) {
		len = strlen(e->d_name);
		if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0)
			continue;
		snprintf(path, sizeof(path), "src/%s", e->d_name);
		ck_assert_ptr_nonnull(text = harness_read_file(path));
		scan_source(text, f);
		free(text);
		files++;
	}
	closedir(d);
	ck_assert_uint_gt(files, 10);
}

static int
listed_reason(const char *name)
{
	unsigned	i;

	for (i = 0; i < SB_REASONS; i++)
		if (strcmp(scoreboard_reason_name(i), name) == 0)
			return 1;
	return 0;
}

static int
tunnel_only(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(tunnel_only_reasons) /
	    sizeof(tunnel_only_reasons[0]); i++)
		if (strcmp(tunnel_only_reasons[i], name) == 0)
			return 1;
	return 0;
}

/*
 * The reasons are read from the code itself: every reason a refusal can
 * be recorded with has its own counter (none falls to "other"), and
 * every counter names a reason the code still sets.
 */
START_TEST(test_reasons_from_sources)
{
	struct reasons_found	f;
	size_t			i;
	unsigned		k;
	int			seen;

	scan_sources(&f);
	/* The scan works: reasons of the worker and of the dialer. */
	ck_assert_msg(f.n >= 15, "only %zu reasons found in src/", f.n);
	for (i = 0; i < f.n; i++)
		ck_assert_msg(listed_reason(f.name[i]) ||
		    tunnel_only(f.name[i]), "src/ sets reason \"%s\", which "
		    "SB_REASON_LIST (scoreboard.h) lacks: it would count as "
		    "\"other\"", f.name[i]);
	/* The last, "other", is the catch-all no code sets. */
	for (k = 0; k < SB_REASONS - 1; k++) {
		for (i = 0, seen = 0; i < f.n; i++)
			seen |= strcmp(f.name[i], scoreboard_reason_name(k)) ==
			    0;
		ck_assert_msg(seen, "SB_REASON_LIST names \"%s\", which no "
		    "code in src/ sets", scoreboard_reason_name(k));
	}
}
END_TEST

/* Each listed reason counts under its own label, "other" last. */
START_TEST(test_reasons_each_counted)
{
	struct scoreboard	*sb;
	struct sb_table		*tab;
	char			*text, want[128];
	unsigned		 i, k;

	/* One slot, no worker: the metrics read only the totals. */
	tab = calloc(1, sizeof(*tab) + sizeof(tab->procs[0]));
	ck_assert_ptr_nonnull(tab);
	tab->nslots = 1;
	ck_assert_str_eq(scoreboard_reason_name(SB_REASONS - 1), "other");
	for (i = 0; i < SB_REASONS; i++) {
		for (k = 0; k < i; k++)
			ck_assert_str_ne(scoreboard_reason_name(k),
			    scoreboard_reason_name(i));
		ck_assert_ptr_nonnull(sb = scoreboard_create(1));
		scoreboard_account(sb, 502, scoreboard_reason_name(i), 0, 0);
		/* A tunnel that ended well is no refusal, whatever it says. */
		scoreboard_account(sb, 200, scoreboard_reason_name(i), 0, 0);
		for (k = 0; k < SB_REASONS; k++)
			ck_assert_msg(atomic_load(&sb->totals.refusals[k]) ==
			    (k == i), "\"%s\" counted under \"%s\"",
			    scoreboard_reason_name(i),
			    scoreboard_reason_name(k));
		ck_assert_ptr_nonnull(text = control_metrics(sb, tab));
		snprintf(want, sizeof(want), "\nconnectproxy_refusals_total{"
		    "reason=\"%s\"} 1\n", scoreboard_reason_name(i));
		ck_assert_msg(strstr(text, want) != NULL, "metrics lack %s",
		    want + 1);
		free(text);
		scoreboard_destroy(sb, 1);
	}
	ck_assert_ptr_nonnull(sb = scoreboard_create(1));
	scoreboard_account(sb, 502, "never_a_reason", 0, 0);
	ck_assert_uint_eq(atomic_load(&sb->totals.refusals[SB_REASONS - 1]),
	    1);
	scoreboard_destroy(sb, 1);
	free(tab);
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

	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a,
	    prefix_tab[_i].prefix6, "a");
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	ck_assert_msg(scoreboard_client_tunnels(sb, 2, &sb->slots[1],
	    (struct sockaddr *)&b, prefix_tab[_i].prefix6) ==
	    prefix_tab[_i].same, "/%u: %s counted as %s: want %u",
	    prefix_tab[_i].prefix6, prefix_tab[_i].a, prefix_tab[_i].b,
	    prefix_tab[_i].same);
	scoreboard_destroy(sb, 2);
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

	tc = tcase_create("reasons");
	tcase_add_test(tc, test_reasons_from_sources);
	tcase_add_test(tc, test_reasons_each_counted);
	suite_add_tcase(s, tc);

	tc = tcase_create("prefix");
	tcase_add_loop_test(tc, test_client_ipv6_prefix, 0,
	    sizeof(prefix_tab) / sizeof(prefix_tab[0]));
	suite_add_tcase(s, tc);
	return s;
}
