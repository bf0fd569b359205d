/*
 * Scoreboard: shared between processes, idle count kept in step with the
 * slot states, counts per generation, per-client tunnel counts, and text
 * fields read back consistently; and the refusal reasons, read from the
 * sources, each counted under its own label.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "control.h"
#include "harness.h"
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
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, "a");
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	scoreboard_begin(&sb->slots[1], (struct sockaddr *)&mapped, "a6");
	scoreboard_set_state(sb, &sb->slots[1], SB_READING);
	scoreboard_begin(&sb->slots[2], (struct sockaddr *)&b, "b");
	scoreboard_set_state(sb, &sb->slots[2], SB_RELAYING);
	/* Idle slots keep the last client but no longer count. */
	scoreboard_begin(&sb->slots[3], (struct sockaddr *)&a, "a");
	scoreboard_set_state(sb, &sb->slots[3], SB_IDLE);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, &sb->slots[4],
	    (struct sockaddr *)&a), 2);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, &sb->slots[0],
	    (struct sockaddr *)&a), 1);
	ck_assert_uint_eq(scoreboard_client_tunnels(sb, &sb->slots[4],
	    (struct sockaddr *)&b), 1);
	scoreboard_destroy(sb);
}
END_TEST

START_TEST(test_snapshot)
{
	struct scoreboard	*sb = scoreboard_create(1);
	struct sockaddr_storage	 a = v4("198.51.100.1");
	struct sb_slot		 copy;

	atomic_store(&sb->slots[0].pid, 42);
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a,
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
	scoreboard_begin(&sb->slots[0], (struct sockaddr *)&a, "x");
	ck_assert_uint_eq(atomic_load(&sb->slots[0].bytes.up), 0);
	ck_assert_str_eq(sb->slots[0].target, "");
	scoreboard_destroy(sb);
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
 * a tunnel's (set once 200 is being written), counted under status 200.
 */
static const char *const	tunnel_only_reasons[] = { "error" };

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
	char			*text, want[128];
	unsigned		 i, k;

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
		ck_assert_ptr_nonnull(text = control_metrics(sb));
		snprintf(want, sizeof(want), "\nconnectproxy_refusals_total{"
		    "reason=\"%s\"} 1\n", scoreboard_reason_name(i));
		ck_assert_msg(strstr(text, want) != NULL, "metrics lack %s",
		    want + 1);
		free(text);
		scoreboard_destroy(sb);
	}
	ck_assert_ptr_nonnull(sb = scoreboard_create(1));
	scoreboard_account(sb, 502, "never_a_reason", 0, 0);
	ck_assert_uint_eq(atomic_load(&sb->totals.refusals[SB_REASONS - 1]),
	    1);
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
	suite_add_tcase(s, tc);

	tc = tcase_create("reasons");
	tcase_add_test(tc, test_reasons_from_sources);
	tcase_add_test(tc, test_reasons_each_counted);
	suite_add_tcase(s, tc);
	return s;
}
