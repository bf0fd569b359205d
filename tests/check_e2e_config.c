/* SPDX-License-Identifier: ISC */
/*
 * End-to-end suite for the configuration as an administrator meets it,
 * through the real binary: `-t` as a pre-flight that fails, at the
 * directive to blame, on everything that would stop the start (the
 * user, the directories of the files, the auth_file and credentials), a
 * pidfile that cannot be written at start, include read again on reload,
 * socket activation naming the listen lines it replaces, and passwords
 * from htpasswd -B.  What is right for the `user` checks depends on the
 * uid the tests run as; as root they are also run as nobody (setpriv),
 * from a copy of the binary that nobody may execute.  Only loopback.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define SKIP(why)	do {						\
	fprintf(stderr, "SKIP %s: %s\n", __func__, (why));		\
	return;								\
} while (0)

#define OUT_MAX		4096
#define NOBODY		65534	/* Debian's nobody and nogroup */

/* `htpasswd -nbB alice 'correct horse'`, `htpasswd -nb bob secret`. */
#define HTPASSWD_B	"$2y$05$xEiTlR.iwuNbzUfggi8aEeOm/1RJrIMLDOVy40Boli" \
			"6NekLya9jrG"
#define HTPASSWD_MD5	"$apr1$nPIijsaj$9ESOYMlQaVqxJIsPXfqTA."

/* A private directory others may enter (for the runs as nobody). */
static void
open_tmpdir(char *dir, size_t len)
{
	ck_assert_int_eq(harness_tmpdir(dir, len), 0);
	ck_assert_int_eq(chmod(dir, 0755), 0);
}

static void
rm_tree(const char *dir)
{
	char	*argv[] = { "rm", "-rf", (char *)dir, NULL };
	char	 out[256];

	(void)harness_run(argv, NULL, out, sizeof(out), harness_ms(10000));
}

/* Write dir/name (mode 0644), its path into path. */
static void
put(const char *dir, const char *name, const char *text, char *path,
    size_t len)
{
	snprintf(path, len, "%s/%s", dir, name);
	ck_assert_int_eq(harness_write_file(path, text), 0);
	ck_assert_int_eq(chmod(path, 0644), 0);
}

/* A copy of the binary under test in dir, executable by anyone. */
static void
copy_bin(const char *dir, char *path, size_t len)
{
	char	buf[65536];
	ssize_t	n;
	int	in, out;

	snprintf(path, len, "%s/connectproxy", dir);
	ck_assert_int_ne(in = open(harness_bin(), O_RDONLY | O_CLOEXEC), -1);
	ck_assert_int_ne(out = open(path, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0755), -1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		ck_assert_int_eq(write(out, buf, (size_t)n), n);
	ck_assert_int_eq(n, 0);
	close(in);
	ck_assert_int_eq(close(out), 0);
}

/*
 * Whether the checks can also run as nobody here: as root, with setpriv,
 * and dir reachable by others (TMPDIR may be under a private home).
 */
static int
as_nobody(const char *dir)
{
	struct stat	st;
	char		path[HARNESS_PATH_MAX], *slash;

	if (geteuid() != 0 || !harness_have("setpriv"))
		return 0;
	snprintf(path, sizeof(path), "%s", dir);
	while ((slash = strrchr(path, '/')) != NULL && slash != path) {
		*slash = '\0';
		if (stat(path, &st) == -1 || (st.st_mode & S_IXOTH) == 0)
			return 0;
	}
	return 1;
}

/*
 * `connectproxy -t -c conf`, as this uid, or with `bin` set (a copy from
 * copy_bin()) as nobody.  Returns the wait status; output into out.
 */
static int
check_conf(const char *conf, const char *bin, char *out, size_t len)
{
	char	*self[] = { (char *)harness_bin(), "-t", "-c", (char *)conf,
	    NULL };
	char	*other[] = { "setpriv", "--reuid=65534", "--regid=65534",
	    "--clear-groups", (char *)bin, "-t", "-c", (char *)conf, NULL };

	return harness_run(bin == NULL ? self : other, NULL, out, len,
	    harness_ms(10000));
}

/* -t fails with exactly `want` (all of its output) and exit status 1. */
static void
expect_fail(const char *conf, const char *bin, const char *want)
{
	char	out[OUT_MAX];
	int	st;

	st = check_conf(conf, bin, out, sizeof(out));
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1,
	    "-t: wait status 0x%x, expected exit 1; output: %s", st, out);
	ck_assert_msg(strcmp(out, want) == 0, "-t printed\n%s\nexpected\n%s",
	    out, want);
}

static void
expect_ok(const char *conf, const char *bin, const char *also)
{
	char	out[OUT_MAX];
	int	st;

	st = check_conf(conf, bin, out, sizeof(out));
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    strstr(out, "configuration OK\n") != NULL, "-t: wait status "
	    "0x%x, expected configuration OK; output: %s", st, out);
	ck_assert_msg(also == NULL || strstr(out, also) != NULL,
	    "-t: no \"%s\" in: %s", also, out);
}

/* A configuration written the way an office admin would. */
START_TEST(test_check_ok)
{
	char	dir[HARNESS_PATH_MAX], conf[HARNESS_PATH_MAX + 32];
	char	rules[HARNESS_PATH_MAX + 32], text[1024];

	open_tmpdir(dir, sizeof(dir));
	put(dir, "block.conf", "deny_dest .ads.example .tracker.example\n",
	    rules, sizeof(rules));
	snprintf(text, sizeof(text), "listen 127.0.0.1:3128 [::1]:3128\n"
	    "allow_client 10.0.0.0/8 192.168.0.0/16\n"
	    "allow_port 443 8443\nauth_realm \"Office proxy\"\n"
	    "log_level warning\ninclude block.conf\n"
	    "access_log %s/access.log\npidfile \"%s/cp.pid\"\n", dir, dir);
	put(dir, "c.conf", text, conf, sizeof(conf));
	expect_ok(conf, NULL, NULL);
	rm_tree(dir);
}
END_TEST

/* `user`: only for a proxy started as root, an existing user, not root. */
START_TEST(test_check_user)
{
	char	dir[HARNESS_PATH_MAX], conf[HARNESS_PATH_MAX + 32];
	char	bin[HARNESS_PATH_MAX + 32], want[1024];
	int	root = geteuid() == 0;

	open_tmpdir(dir, sizeof(dir));
	put(dir, "nobody.conf", "listen 127.0.0.1:3128\n\nuser nobody\n",
	    conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:3: user nobody: set, but not started "
	    "as root; remove it or start as root\n", conf);
	if (root)
		expect_ok(conf, NULL, NULL);
	else
		expect_fail(conf, NULL, want);
	/* As root, the same file checked as nobody fails as it would. */
	if (as_nobody(dir)) {
		copy_bin(dir, bin, sizeof(bin));
		expect_fail(conf, bin, want);
	}
	put(dir, "unknown.conf", "# office\nuser nosuchuser_cpx\n", conf,
	    sizeof(conf));
	if (root)
		snprintf(want, sizeof(want), "%s:2: user nosuchuser_cpx: no "
		    "such user\n", conf);
	else
		snprintf(want, sizeof(want), "%s:2: user nosuchuser_cpx: set, "
		    "but not started as root; remove it or start as root\n",
		    conf);
	expect_fail(conf, NULL, want);
	put(dir, "root.conf", "user root\n", conf, sizeof(conf));
	if (root)
		snprintf(want, sizeof(want), "%s:1: user root: is root; "
		    "workers must not run as root\n", conf);
	else
		snprintf(want, sizeof(want), "%s:1: user root: set, but not "
		    "started as root; remove it or start as root\n", conf);
	expect_fail(conf, NULL, want);
	rm_tree(dir);
}
END_TEST

/* The files the start creates: each problem at its line, in line order. */
START_TEST(test_check_directories)
{
	char	dir[HARNESS_PATH_MAX], conf[HARNESS_PATH_MAX + 32];
	char	bin[HARNESS_PATH_MAX + 32], path[HARNESS_PATH_MAX + 32];
	char	text[2048], want[4096];

	open_tmpdir(dir, sizeof(dir));
	put(dir, "file", "x\n", path, sizeof(path));
	snprintf(text, sizeof(text), "listen 127.0.0.1:3128\n"
	    "error_log %s/gone/error.log\n"
	    "pidfile %s/gone/cp.pid\n"
	    "control_socket %s/file\n"
	    "access_log %s/gone/access.log\n"
	    "allow_port 443\n", dir, dir, dir, dir);
	put(dir, "c.conf", text, conf, sizeof(conf));
	snprintf(want, sizeof(want),
	    "%s:2: error_log %s/gone/error.log: directory %s/gone does not "
	    "exist\n"
	    "%s:3: pidfile %s/gone/cp.pid: directory %s/gone does not exist\n"
	    "%s:4: control_socket %s/file: is a regular file, not a socket; "
	    "left as it is: remove it or choose another path\n"
	    "%s:5: access_log %s/gone/access.log: directory %s/gone does not "
	    "exist\n", conf, dir, dir, conf, dir, dir, conf, dir, conf, dir,
	    dir);
	expect_fail(conf, NULL, want);

	/* A directory this uid cannot write to. */
	snprintf(path, sizeof(path), "%s/ro", dir);
	ck_assert_int_eq(mkdir(path, 0555), 0);
	snprintf(text, sizeof(text), "pidfile %s/ro/cp.pid\n", dir);
	put(dir, "ro.conf", text, conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:1: pidfile %s/ro/cp.pid: cannot "
	    "create files in directory %s/ro: %s\n", conf, dir, dir,
	    strerror(EACCES));
	if (geteuid() != 0)
		expect_fail(conf, NULL, want);
	else if (as_nobody(dir)) {
		/* Root may write anywhere: nobody may not. */
		expect_ok(conf, NULL, NULL);
		copy_bin(dir, bin, sizeof(bin));
		expect_fail(conf, bin, want);
	}
	rm_tree(dir);
}
END_TEST

/* The files config_load() reads, named at their directive. */
START_TEST(test_check_read_files)
{
	char	dir[HARNESS_PATH_MAX], conf[HARNESS_PATH_MAX + 32];
	char	bin[HARNESS_PATH_MAX + 32], users[HARNESS_PATH_MAX + 32];
	char	text[2048], want[4096];

	open_tmpdir(dir, sizeof(dir));
	snprintf(text, sizeof(text), "\nauth_file %s/nonexistent\n", dir);
	put(dir, "a.conf", text, conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:2: auth_file %s/nonexistent: No such "
	    "file or directory\n", conf, dir);
	expect_fail(conf, NULL, want);
	snprintf(text, sizeof(text), "upstream 127.0.0.1:3129 credentials "
	    "%s/cred for .corp.example\n", dir);
	put(dir, "u.conf", text, conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:1: upstream 127.0.0.1:3129: "
	    "credentials %s/cred: No such file or directory\n", conf, dir);
	expect_fail(conf, NULL, want);

	if (!harness_bin_has_crypt())
		SKIP("built without crypt(3)");
	/* Unreadable: as root, only when checked as someone else. */
	put(dir, "users", "alice:" HTPASSWD_B "\n", users, sizeof(users));
	ck_assert_int_eq(chmod(users, 0600), 0);
	snprintf(text, sizeof(text), "auth_file %s\n", users);
	put(dir, "r.conf", text, conf, sizeof(conf));
	snprintf(want, sizeof(want), "%s:1: auth_file %s: %s\n", conf, users,
	    strerror(EACCES));
	if (geteuid() != 0) {
		ck_assert_int_eq(chmod(users, 0200), 0);
		expect_fail(conf, NULL, want);
	} else if (as_nobody(dir)) {
		copy_bin(dir, bin, sizeof(bin));
		expect_fail(conf, bin, want);
	}
	/* Readable by every user: OK, with a warning that says the fix. */
	ck_assert_int_eq(chmod(users, 0644), 0);
	snprintf(want, sizeof(want), "warning: %s:1: auth_file %s: every user "
	    "of this host can read it (mode 0644); make it readable by the "
	    "proxy only (chmod o-r %s)\n", conf, users, users);
	expect_ok(conf, NULL, want);
	/* htpasswd's default MD5: refused, with the command that works. */
	put(dir, "users", "alice:" HTPASSWD_B "\nbob:" HTPASSWD_MD5 "\n",
	    users, sizeof(users));
	snprintf(want, sizeof(want), "%s:2: $apr1$ (htpasswd's default MD5) "
	    "is too weak and not supported; make the hash with htpasswd -B "
	    "(bcrypt) or openssl passwd -6\n", users);
	expect_fail(conf, NULL, want);
	rm_tree(dir);
}
END_TEST

/* An include error names the included file and its line. */
START_TEST(test_check_include)
{
	char	dir[HARNESS_PATH_MAX], conf[HARNESS_PATH_MAX + 32];
	char	path[HARNESS_PATH_MAX + 32], want[1024];

	open_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/rules.d", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	put(dir, "rules.d/10-ok.conf", "deny_dest .ads.example\n", path,
	    sizeof(path));
	put(dir, "rules.d/20-bad.conf", "# lan\nallow_dest 192.168.1.1/24\n",
	    path, sizeof(path));
	put(dir, "c.conf", "allow_port 443\ninclude rules.d/*.conf\n", conf,
	    sizeof(conf));
	snprintf(want, sizeof(want), "%s:2: allow_dest: 192.168.1.1/24: host "
	    "bits set (did you mean 192.168.1.0/24?)\n", path);
	expect_fail(conf, NULL, want);
	put(dir, "c.conf", "allow_port 443\ninclude rule.d/*.conf\n", conf,
	    sizeof(conf));
	snprintf(want, sizeof(want), "warning: %s:2: include %s/rule.d/*.conf "
	    "matches no file\n", conf, dir);
	expect_ok(conf, NULL, want);
	rm_tree(dir);
}
END_TEST

/* At start: a pidfile that cannot be written, named at its line. */
START_TEST(test_start_pidfile)
{
	struct harness_proxy	p;
	char			dir[HARNESS_PATH_MAX], conf[512], want[1024];

	open_tmpdir(dir, sizeof(dir));
	snprintf(conf, sizeof(conf), "listen 127.0.0.1:%d\n# pid\n"
	    "pidfile %s/none/cp.pid\n", harness_free_port(AF_INET), dir);
	ck_assert_int_eq(harness_proxy_spawn(&p, conf), 0);
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "the proxy did not exit");
	EXPECT(&p, WIFEXITED(p.status) && WEXITSTATUS(p.status) == 1,
	    "wait status 0x%x, expected exit 1", p.status);
	snprintf(want, sizeof(want), "%s:3: pidfile %s/none/cp.pid: directory "
	    "%s/none does not exist", p.conf, dir, dir);
	EXPECT(&p, harness_proxy_count_log(&p, want) == 1, "no \"%s\"",
	    want);
	harness_proxy_free(&p);
	rm_tree(dir);
}
END_TEST

/* A CONNECT to 127.0.0.1:port through the proxy: its status. */
static int
connect_status(const struct harness_proxy *p, int port)
{
	char	target[64];
	int	fd, status = 0;

	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	fd = harness_tunnel(p->port, target, NULL, &status, harness_ms(5000));
	if (fd == -1)
		return status;
	close(fd);
	return 200;
}

/* A reload reads the included files again. */
START_TEST(test_include_reload)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			dir[HARNESS_PATH_MAX], conf[1024];
	char			rules[HARNESS_PATH_MAX + 32];
	int			status;

	open_tmpdir(dir, sizeof(dir));
	put(dir, "block.conf", "# nothing blocked yet\n", rules,
	    sizeof(rules));
	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "include %s\nallow_dest 127.0.0.1\n"
	    "allow_port %d\nworkers_start 1\n", rules, t.port);
	EXPECT(&p, harness_proxy_start(&p, conf) == 0, "no start");
	EXPECT(&p, connect_status(&p, t.port) == 200, "no tunnel before");
	/* The first rule that matches decides: the included one, first. */
	ck_assert_int_eq(harness_write_file(rules, "deny_dest 127.0.0.1\n"),
	    0);
	ck_assert_int_eq(harness_proxy_signal(&p, SIGHUP), 0);
	EXPECT(&p, harness_proxy_wait_log(&p, "reloaded: generation 1", NULL,
	    NULL, 0, harness_ms(10000)) == 0, "no reload");
	/*
	 * The old generation's worker, if the connection reached its
	 * accept() before it ran its HUP handler, serves one more tunnel
	 * under the old rules and then exits: the next one is the new
	 * generation's.
	 */
	status = connect_status(&p, t.port);
	if (status == 200)
		status = connect_status(&p, t.port);
	EXPECT(&p, status == 403, "the included rule was not read again");
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", "status=403",
	    NULL, 0, harness_ms(5000)) == 0 && harness_proxy_count_log(&p,
	    "rule=\"deny_dest 127.0.0.1\"") == 1, "no record of the rule");
	harness_proxy_free(&p);
	harness_target_stop(&t);
	rm_tree(dir);
}
END_TEST

/* CONNECT with credentials on a raw socket: the status, or -1. */
static int
connect_auth(const struct harness_proxy *p, int port, const char *b64)
{
	char	req[512], head[HARNESS_HEAD_MAX];
	int	fd, status = -1;

	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: "
	    "127.0.0.1:%d\r\nProxy-Authorization: Basic %s\r\n\r\n", port,
	    port, b64);
	if ((fd = harness_connect("127.0.0.1", p->port, harness_ms(5000))) ==
	    -1)
		return -1;
	if (harness_send_str(fd, req) == 0 && harness_recv_head(fd, head,
	    sizeof(head), harness_ms(10000)) > 0 &&
	    strncmp(head, "HTTP/1.1 ", 9) == 0)
		status = atoi(head + 9);
	close(fd);
	return status;
}

/* The hash `htpasswd -B` makes now, or the one it made before. */
static void
bcrypt_hash(char *out, size_t len)
{
	char	*argv[] = { "htpasswd", "-nbB", "alice", "correct horse",
	    NULL };
	char	 line[256];
	int	 st;

	snprintf(out, len, "%s", HTPASSWD_B);
	if (!harness_have("htpasswd"))
		return;
	st = harness_run(argv, NULL, line, sizeof(line), harness_ms(10000));
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    strncmp(line, "alice:$2y$", 10) == 0, "htpasswd -nbB: %s", line);
	line[strcspn(line, "\r\n")] = '\0';
	snprintf(out, len, "%s", line + strlen("alice:"));
}

/*
 * A user made by htpasswd -B opens a tunnel; an auth_file every user may
 * read draws a warning at start and on each reload, until it is fixed.
 */
START_TEST(test_htpasswd_users)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			dir[HARNESS_PATH_MAX], conf[1024];
	char			users[HARNESS_PATH_MAX + 32], text[512];
	char			hash[256], want[1024];

	if (!harness_bin_has_crypt())
		SKIP("built without crypt(3)");
	open_tmpdir(dir, sizeof(dir));
	bcrypt_hash(hash, sizeof(hash));
	snprintf(text, sizeof(text), "alice:%s\n", hash);
	put(dir, "users", text, users, sizeof(users));
	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.1\nallow_port %d\n"
	    "auth_file %s\nworkers_start 1\n", t.port, users);
	EXPECT(&p, harness_proxy_start(&p, conf) == 0, "no start");
	/* alice:correct horse, then a wrong password. */
	EXPECT(&p, connect_auth(&p, t.port, "YWxpY2U6Y29ycmVjdCBob3JzZQ==") ==
	    200, "the htpasswd -B user was refused");
	EXPECT(&p, connect_auth(&p, t.port, "YWxpY2U6Y29ycmVjdCBob3JzZg==") ==
	    407, "a wrong password passed");
	snprintf(want, sizeof(want), "warning: %s:4: auth_file %s: every user "
	    "of this host can read it (mode 0644); make it readable by the "
	    "proxy only (chmod o-r %s)", p.conf, users, users);
	EXPECT(&p, harness_proxy_count_log(&p, want) == 1, "no warning at "
	    "start: \"%s\"", want);
	ck_assert_int_eq(harness_proxy_signal(&p, SIGHUP), 0);
	EXPECT(&p, harness_proxy_wait_log(&p, "reloaded: generation 1", NULL,
	    NULL, 0, harness_ms(10000)) == 0, "no reload");
	EXPECT(&p, harness_proxy_count_log(&p, want) == 2, "no warning on "
	    "reload");
	ck_assert_int_eq(chmod(users, 0640), 0);
	ck_assert_int_eq(harness_proxy_signal(&p, SIGHUP), 0);
	EXPECT(&p, harness_proxy_wait_log(&p, "reloaded: generation 2", NULL,
	    NULL, 0, harness_ms(10000)) == 0, "no second reload");
	EXPECT(&p, harness_proxy_count_log(&p, want) == 2, "a warning for a "
	    "file mode 0640");
	harness_proxy_free(&p);
	harness_target_stop(&t);
	rm_tree(dir);
}
END_TEST

/* A listening socket on 127.0.0.1, its port in *port. */
static int
listening_socket(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1 || getsockname(fd, (struct sockaddr *)&sin,
	    &len) == -1)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Socket activation names the listen lines it replaces. */
START_TEST(test_activation_log)
{
	struct harness_proxy	p;
	char			conf[512], want[1024];
	int			fd, port, other = harness_free_port(AF_INET);

	ck_assert_int_ne(fd = listening_socket(&port), -1);
	snprintf(conf, sizeof(conf), "# listeners\nlisten 127.0.0.1:%d\n"
	    "listen 127.0.0.1:%d\nworkers_start 1\n", port, other);
	/* Spawned only for its files; started again below, activated. */
	ck_assert_int_eq(harness_proxy_spawn(&p, "listen 127.0.0.1:1\n"
	    "bogus\n"), 0);
	ck_assert_int_eq(harness_proxy_wait_exit(&p, harness_ms(10000)), 0);
	ck_assert_int_eq(harness_write_file(p.conf, conf), 0);
	ck_assert_int_eq(harness_write_file(p.log, ""), 0);
	ck_assert_int_gt(p.pid = harness_proxy_spawn_activated(&p, fd), 0);
	close(fd);
	p.port = port;
	EXPECT(&p, harness_proxy_wait_log(&p, "started 1 workers", NULL, NULL,
	    0, harness_ms(10000)) == 0, "the activated proxy did not start");
	snprintf(want, sizeof(want), "%s:2: listen 127.0.0.1:%d replaced by "
	    "the socket systemd passed for it", p.conf, port);
	EXPECT(&p, harness_proxy_count_log(&p, want) == 1, "no \"%s\"", want);
	snprintf(want, sizeof(want), "warning: %s:3: listen 127.0.0.1:%d "
	    "replaced by the sockets systemd passed, none of which has its "
	    "address: it is not served", p.conf, other);
	EXPECT(&p, harness_proxy_count_log(&p, want) == 1, "no \"%s\"", want);
	harness_proxy_free(&p);
}
END_TEST

Suite *
e2e_config_suite(void)
{
	Suite	*s = suite_create("e2e_config");
	TCase	*tc;

	tc = harness_tcase(s, "check", 60);
	tcase_add_test(tc, test_check_ok);
	tcase_add_test(tc, test_check_user);
	tcase_add_test(tc, test_check_directories);
	tcase_add_test(tc, test_check_read_files);
	tcase_add_test(tc, test_check_include);
	tc = harness_tcase(s, "start", 60);
	tcase_add_test(tc, test_start_pidfile);
	tcase_add_test(tc, test_include_reload);
	tcase_add_test(tc, test_htpasswd_users);
	tcase_add_test(tc, test_activation_log);
	return s;
}
