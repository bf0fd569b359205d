/* SPDX-License-Identifier: ISC */
/*
 * `make install` into a DESTDIR, then the installed pieces checked the way
 * a packager would: the layout and path substitution, the configuration
 * never overwritten, systemd-analyze verify and security on the units,
 * groff -ww on the man pages, and `make uninstall`.  Run from the
 * repository root, as `make check` does; skipped when a tool is missing.
 */
#include <sys/socket.h>

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define OUT_MAX		16384
#define TOOL_MS		60000	/* one make or systemd-analyze run */
#define BUILD_MS	300000	/* building ./connectproxy when missing */

/* Installed paths, below DESTDIR, for PREFIX=/usr SYSCONFDIR=/etc. */
static const char *const installed[] = {
	"/usr/sbin/connectproxy",
	"/etc/connectproxy/connectproxy.conf",
	"/usr/lib/systemd/system/connectproxy.service",
	"/usr/lib/systemd/system/connectproxy.socket",
	"/usr/lib/sysusers.d/connectproxy.conf",
	"/usr/share/doc/connectproxy/notify-reload.conf",
	"/usr/share/man/man8/connectproxy.8",
	"/usr/share/man/man5/connectproxy.conf.5",
	"/etc/logrotate.d/connectproxy",
	"/etc/connectproxy/proxy.pac",
};

/* The configuration, which install never overwrites nor uninstall
 * removes: connectproxy.conf and the sample PAC file. */
static int
is_configuration(const char *path)
{
	return strcmp(path, "/etc/connectproxy/connectproxy.conf") == 0 ||
	    strcmp(path, "/etc/connectproxy/proxy.pac") == 0;
}

#define UNIT_DIR	"/usr/lib/systemd/system"

/* A tool's exit status 0 and, when `quiet`, no output at all. */
static int
run_ok(char *const argv[], int quiet, int timeout_ms, char *out, size_t len)
{
	int	st;

	st = harness_run(argv, NULL, out, len, harness_ms(timeout_ms));
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 0;
	return !quiet || out[0] == '\0';
}

/* make, sed and `tool` (may be NULL), else a message and 0. */
static int
have_tools(const char *test, const char *tool)
{
	const char	*tools[] = { "make", "sed", tool };
	size_t		 i;

	if (access("Makefile", R_OK) != 0 ||
	    access("systemd/connectproxy.service", R_OK) != 0) {
		fprintf(stderr, "install: %s skipped: not run from the "
		    "repository root\n", test);
		return 0;
	}
	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++) {
		if (tools[i] != NULL && !harness_have(tools[i])) {
			fprintf(stderr, "install: %s skipped: %s not found\n",
			    test, tools[i]);
			return 0;
		}
	}
	return 1;
}

/*
 * `make TARGET DESTDIR=dir PREFIX=/usr SYSCONFDIR=/etc` with the binary
 * taken as it is (-o): these tests check the layout, and rebuilding it
 * with these paths would replace ./connectproxy, the binary the other
 * suites test, under them.  test_binary_paths builds its own.
 */
static int
make_target(const char *target, const char *dir, char *out, size_t len)
{
	char	 destdir[HARNESS_PATH_MAX + 16];
	char	*argv[] = { "make", "-s", "--no-print-directory", "-o",
		    "connectproxy", (char *)target, destdir, "PREFIX=/usr",
		    "SYSCONFDIR=/etc", NULL };
	char	*build[] = { "make", "-s", "--no-print-directory",
		    "connectproxy", NULL };

	/* The outer make's jobserver descriptors are not ours. */
	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");
	if (access("connectproxy", X_OK) != 0 &&
	    !run_ok(build, 0, BUILD_MS, out, len))
		return -1;
	snprintf(destdir, sizeof(destdir), "DESTDIR=%s", dir);
	return run_ok(argv, 0, TOOL_MS, out, len) ? 0 : -1;
}

static void
install_into(char *dir, size_t len)
{
	char	out[OUT_MAX];

	ck_assert_int_eq(harness_tmpdir(dir, len), 0);
	ck_assert_msg(make_target("install", dir, out, sizeof(out)) == 0,
	    "make install: %s", out);
}

static void
remove_tree(const char *dir)
{
	char	 out[256];
	char	*argv[] = { "rm", "-rf", (char *)dir, NULL };

	(void)harness_run(argv, NULL, out, sizeof(out), harness_ms(TOOL_MS));
}

static char *
read_below(const char *dir, const char *path)
{
	char	full[HARNESS_PATH_MAX * 2];

	snprintf(full, sizeof(full), "%s%s", dir, path);
	return harness_read_file(full);
}

/* Copy src to dst with every `from` replaced by `to`.  Returns 0 or -1. */
static int
copy_replacing(const char *src, const char *dst, const char *from,
    const char *to)
{
	char	*text, *out, *p, *q, *m;
	size_t	 n = 0, flen = strlen(from), tlen = strlen(to);
	int	 rc;

	if (flen == 0 || (text = harness_read_file(src)) == NULL)
		return -1;
	for (p = text; (p = strstr(p, from)) != NULL; p += flen)
		n++;
	if ((out = malloc(strlen(text) + n * tlen + 1)) == NULL) {
		free(text);
		return -1;
	}
	q = out;
	for (p = text; (m = strstr(p, from)) != NULL; p = m + flen) {
		memcpy(q, p, (size_t)(m - p));
		q += m - p;
		memcpy(q, to, tlen);
		q += tlen;
	}
	strcpy(q, p);
	rc = harness_write_file(dst, out);
	free(out);
	free(text);
	return rc;
}

START_TEST(test_layout)
{
	char		 dir[HARNESS_PATH_MAX], path[HARNESS_PATH_MAX * 2];
	char		 pacpath[HARNESS_PATH_MAX * 2];
	char		 out[OUT_MAX], *text, *pac;
	struct stat	 st;
	size_t		 i;

	if (!have_tools("layout", NULL))
		return;
	install_into(dir, sizeof(dir));
	for (i = 0; i < sizeof(installed) / sizeof(installed[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, installed[i]);
		ck_assert_msg(stat(path, &st) == 0, "%s missing",
		    installed[i]);
		ck_assert_msg((st.st_mode & 0777) == (i == 0 ? 0755 : 0644),
		    "%s mode %o", installed[i], st.st_mode & 0777);
	}

	text = read_below(dir, UNIT_DIR "/connectproxy.service");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, "@SBINDIR@"));
	ck_assert_ptr_null(strstr(text, "@SYSCONFDIR@"));
	ck_assert_ptr_nonnull(strstr(text, "\nExecStart=/usr/sbin/"
	    "connectproxy -c /etc/connectproxy/connectproxy.conf\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nExecReload=/usr/sbin/"
	    "connectproxy -t -c /etc/connectproxy/connectproxy.conf\n"
	    "ExecReload=/bin/kill -HUP $MAINPID\n"));
	free(text);
	text = read_below(dir, "/usr/share/man/man8/connectproxy.8");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, "@SYSCONFDIR@"));
	ck_assert_ptr_nonnull(strstr(text,
	    "/etc/connectproxy/connectproxy.conf"));
	free(text);

	/* The sample PAC file is the one of the tree, byte for byte. */
	text = read_below(dir, "/etc/connectproxy/proxy.pac");
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(pac = harness_read_file("conf/proxy.pac"));
	ck_assert_str_eq(text, pac);
	free(pac);
	free(text);

	/* An operator's configuration survives a second install. */
	snprintf(path, sizeof(path), "%s/etc/connectproxy/connectproxy.conf",
	    dir);
	ck_assert_int_eq(harness_write_file(path, "# mine\n"), 0);
	snprintf(pacpath, sizeof(pacpath), "%s/etc/connectproxy/proxy.pac",
	    dir);
	ck_assert_int_eq(harness_write_file(pacpath, "// mine\n"), 0);
	ck_assert_msg(make_target("install", dir, out, sizeof(out)) == 0,
	    "make install again: %s", out);
	text = harness_read_file(path);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "# mine\n");
	free(text);
	text = harness_read_file(pacpath);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "// mine\n");
	free(text);

	/* Uninstall removes everything but the configuration. */
	ck_assert_msg(make_target("uninstall", dir, out, sizeof(out)) == 0,
	    "make uninstall: %s", out);
	for (i = 0; i < sizeof(installed) / sizeof(installed[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", dir, installed[i]);
		ck_assert_msg((stat(path, &st) == 0) ==
		    is_configuration(installed[i]), "%s after uninstall",
		    installed[i]);
	}
	remove_tree(dir);
}
END_TEST

/* `bin -h` names conf as its default configuration file. */
static int
help_names(const char *bin, const char *conf, char *out, size_t len)
{
	char	*argv[] = { (char *)bin, "-h", NULL };
	char	 want[HARNESS_PATH_MAX];

	if (!run_ok(argv, 0, TOOL_MS, out, len))
		return 0;
	snprintf(want, sizeof(want), "(default %s)", conf);
	return strstr(out, want) != NULL;
}

/*
 * The binary installed is built with the install's paths: `make` with
 * the defaults, then `make install PREFIX=/usr SYSCONFDIR=/etc`, and the
 * installed connectproxy's default configuration is under /etc.  In a
 * build tree of its own (at -O0: only the paths matter here).
 */
START_TEST(test_binary_paths)
{
	char	 dir[HARNESS_PATH_MAX], out[OUT_MAX];
	char	 build[HARNESS_PATH_MAX + 16], bin[HARNESS_PATH_MAX + 32];
	char	 destdir[HARNESS_PATH_MAX + 16];
	char	 installed_bin[HARNESS_PATH_MAX + 32];
	char	*make[] = { "make", "-s", "--no-print-directory", build, bin,
		    "CFLAGS=-O0", bin + 4, NULL };
	char	*install[] = { "make", "-s", "--no-print-directory", build,
		    bin, "CFLAGS=-O0", "install", destdir, "PREFIX=/usr",
		    "SYSCONFDIR=/etc", NULL };

	if (!have_tools("binary paths", "cc"))
		return;
	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(build, sizeof(build), "BUILD=%s/build", dir);
	snprintf(bin, sizeof(bin), "BIN=%s/build/connectproxy", dir);
	snprintf(destdir, sizeof(destdir), "DESTDIR=%s/root", dir);
	snprintf(installed_bin, sizeof(installed_bin),
	    "%s/root/usr/sbin/connectproxy", dir);

	ck_assert_msg(run_ok(make, 0, BUILD_MS, out, sizeof(out)),
	    "make: %s", out);
	ck_assert_msg(help_names(bin + 4, "/usr/local/etc/connectproxy/"
	    "connectproxy.conf", out, sizeof(out)), "make: %s", out);
	ck_assert_msg(run_ok(install, 0, BUILD_MS, out, sizeof(out)),
	    "make install: %s", out);
	ck_assert_msg(help_names(installed_bin, "/etc/connectproxy/"
	    "connectproxy.conf", out, sizeof(out)),
	    "the installed binary was built with other paths: %s", out);
	remove_tree(dir);
}
END_TEST

/*
 * verify checks that Exec*= binaries exist, and --root= would need the
 * whole of systemd's own units under the root, so the units are checked
 * as copies whose binary path points into DESTDIR.
 */
static void
units_for_verify(const char *dir, char *vdir, size_t len)
{
	char	src[HARNESS_PATH_MAX * 2], dst[HARNESS_PATH_MAX * 2];
	char	bin[HARNESS_PATH_MAX + 32];
	size_t	i;
	static const char *const units[] = { "connectproxy.service",
					     "connectproxy.socket" };

	snprintf(vdir, len, "%s/verify", dir);
	ck_assert_int_eq(mkdir(vdir, 0700), 0);
	snprintf(bin, sizeof(bin), "%s/usr/sbin/connectproxy", dir);
	for (i = 0; i < 2; i++) {
		snprintf(src, sizeof(src), "%s%s/%s", dir, UNIT_DIR, units[i]);
		snprintf(dst, sizeof(dst), "%s/%s", vdir, units[i]);
		ck_assert_int_eq(copy_replacing(src, dst,
		    "/usr/sbin/connectproxy", bin), 0);
	}
}

/* The systemd version, from "systemd 252 (252.38-1~deb12u1)". */
static int
systemd_version(void)
{
	char	 out[OUT_MAX];
	char	*argv[] = { "systemd-analyze", "--version", NULL };
	int	 v = 0;

	if (run_ok(argv, 0, TOOL_MS, out, sizeof(out)))
		(void)sscanf(out, "systemd %d", &v);
	return v;
}

START_TEST(test_units)
{
	char	 dir[HARNESS_PATH_MAX], vdir[HARNESS_PATH_MAX + 16];
	char	 service[HARNESS_PATH_MAX + 64], sock[HARNESS_PATH_MAX + 64];
	char	 dropin[HARNESS_PATH_MAX + 96], doc[HARNESS_PATH_MAX + 96];
	char	 out[OUT_MAX];
	char	*verify[] = { "systemd-analyze", "verify", "--man=no",
		    service, sock, NULL };
	char	*security[] = { "systemd-analyze", "security",
		    "--offline=true", "--threshold=20", service, NULL };
	char	*p;

	if (!have_tools("units", "systemd-analyze"))
		return;
	install_into(dir, sizeof(dir));
	units_for_verify(dir, vdir, sizeof(vdir));
	snprintf(service, sizeof(service), "%s/connectproxy.service", vdir);
	snprintf(sock, sizeof(sock), "%s/connectproxy.socket", vdir);
	ck_assert_msg(run_ok(verify, 1, TOOL_MS, out, sizeof(out)),
	    "systemd-analyze verify: %s", out);
	ck_assert_msg(run_ok(security, 0, TOOL_MS, out, sizeof(out)),
	    "systemd-analyze security above 2.0: %s",
	    (p = strstr(out, "Overall")) != NULL ? p : out);

	/* The notify-reload drop-in only parses on systemd 253 and later. */
	if (systemd_version() < 253) {
		fprintf(stderr, "install: notify-reload.conf not verified: "
		    "systemd %d is older than 253\n", systemd_version());
	} else {
		snprintf(dropin, sizeof(dropin), "%s/connectproxy.service.d",
		    vdir);
		ck_assert_int_eq(mkdir(dropin, 0700), 0);
		snprintf(dropin, sizeof(dropin), "%s/connectproxy.service.d/"
		    "notify-reload.conf", vdir);
		snprintf(doc, sizeof(doc), "%s/usr/share/doc/connectproxy/"
		    "notify-reload.conf", dir);
		ck_assert_int_eq(copy_replacing(doc, dropin, "ExecReload=",
		    "ExecReload="), 0);
		ck_assert_msg(run_ok(verify, 1, TOOL_MS, out, sizeof(out)),
		    "systemd-analyze verify with notify-reload: %s", out);
	}
	remove_tree(dir);
}
END_TEST

START_TEST(test_man)
{
	static const char *const pages[] = {
		"/usr/share/man/man8/connectproxy.8",
		"/usr/share/man/man5/connectproxy.conf.5",
	};
	char	 dir[HARNESS_PATH_MAX], page[HARNESS_PATH_MAX * 2];
	char	 out[OUT_MAX];
	/* Warnings only: the rendered page goes nowhere. */
	char	*argv[] = { "sh", "-c",
		    "groff -ww -man -Tutf8 \"$1\" 2>&1 >/dev/null", "sh", page,
		    NULL };
	size_t	 i;

	if (!have_tools("man", "groff"))
		return;
	install_into(dir, sizeof(dir));
	for (i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		snprintf(page, sizeof(page), "%s%s", dir, pages[i]);
		ck_assert_msg(run_ok(argv, 1, TOOL_MS, out, sizeof(out)),
		    "groff %s: %s", pages[i], out);
	}
	remove_tree(dir);
}
END_TEST

/* A tunnel to the echo target, `n` bytes through it; the client's fd. */
static int
echo_tunnel(const struct harness_proxy *p, int port, int fd, size_t n)
{
	char	target[64], out[64], in[64];
	int	status;

	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	if (fd == -1)
		fd = harness_tunnel(p->port, target, NULL, &status,
		    harness_ms(10000));
	EXPECT(p, fd != -1, "CONNECT %s: status %d", target, status);
	ck_assert_uint_le(n, sizeof(out));
	memset(out, 'r', n);
	ck_assert_int_eq(harness_send(fd, out, n), 0);
	EXPECT(p, harness_recv_exact(fd, in, n, harness_ms(10000)) ==
	    (ssize_t)n, "echo of %zu bytes", n);
	return fd;
}


/*
 * The installed logrotate snippet, its paths moved into a temporary
 * directory, rotates the logs of a proxy started with the unit's
 * UMask=0077, with no systemd to signal (the pidfile it falls back to):
 * logrotate prints nothing, the master creates the new files (mode 0640,
 * not the umask's 0600), the records of a new tunnel and of one open
 * across the rotation land in the new file, the rotated one keeps the
 * one before, and nothing is lost.
 */
START_TEST(test_logrotate)
{
	char			 dir[HARNESS_PATH_MAX], tmp[HARNESS_PATH_MAX];
	char			 path[HARNESS_PATH_MAX * 2], out[OUT_MAX];
	char			 snip[HARNESS_PATH_MAX + 32];
	char			 logdir[HARNESS_PATH_MAX + 32];
	char			 rundir[HARNESS_PATH_MAX + 32];
	char			 acc[HARNESS_PATH_MAX + 64];
	char			 err[HARNESS_PATH_MAX + 64];
	char			 old[HARNESS_PATH_MAX + 96];
	char			 state[HARNESS_PATH_MAX + 32];
	char			 conf[2048];
	char			*argv[] = { "logrotate", "-f", "-s", state, snip,
				    NULL };
	struct harness_proxy	 p = { .pid = -1 };
	struct harness_target	 t = { .pid = -1, .report = -1 };
	struct stat		 st;
	int			 busy;

	if (!have_tools("logrotate", "logrotate"))
		return;
	install_into(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/etc/logrotate.d/connectproxy", dir);
	ck_assert_int_eq(harness_file_count(path, "@"), 0);
	ck_assert_int_eq(harness_tmpdir(tmp, sizeof(tmp)), 0);
	snprintf(logdir, sizeof(logdir), "%s/log", tmp);
	snprintf(rundir, sizeof(rundir), "%s/run", tmp);
	snprintf(snip, sizeof(snip), "%s/logrotate.conf", tmp);
	snprintf(state, sizeof(state), "%s/logrotate.state", tmp);
	ck_assert_int_eq(mkdir(logdir, 0755), 0);
	ck_assert_int_eq(mkdir(rundir, 0755), 0);
	ck_assert_int_eq(copy_replacing(path, snip, "/var/log/connectproxy",
	    logdir), 0);
	ck_assert_int_eq(copy_replacing(snip, snip, "/run/connectproxy",
	    rundir), 0);
	/* logrotate refuses a configuration others may write. */
	ck_assert_int_eq(chmod(snip, 0644), 0);
	snprintf(acc, sizeof(acc), "%s/access.log", logdir);
	snprintf(err, sizeof(err), "%s/error.log", logdir);
	snprintf(old, sizeof(old), "%s.1", acc);

	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	umask(0077);		/* the unit's UMask= */
	snprintf(conf, sizeof(conf), "access_log %s\nerror_log %s\n"
	    "access_log_format text\npidfile %s/connectproxy.pid\n"
	    "control_socket %s/ctl.sock\nallow_port 1-65535\n"
	    "allow_dest 127.0.0.0/8\nworkers_start 2\n", acc, err, rundir,
	    tmp);
	ck_assert_msg(harness_proxy_start(&p, conf) == 0,
	    "proxy did not start");
	harness_tunnel_end(echo_tunnel(&p, t.port, -1, 11));
	EXPECT(&p, harness_file_wait(acc, "bytes_up=11 ", 1) == 1,
	    "first record");
	busy = echo_tunnel(&p, t.port, -1, 22);

	EXPECT(&p, run_ok(argv, 1, TOOL_MS, out, sizeof(out)),
	    "logrotate failed or said something: %s", out);
	EXPECT(&p, harness_file_wait(err, "log files reopened", 1) == 1,
	    "no reopen in a new error_log");
	ck_assert_int_eq(stat(acc, &st), 0);
	ck_assert_msg((st.st_mode & 0777) == 0640, "new access_log mode %o",
	    st.st_mode & 0777);
	ck_assert_int_eq(stat(err, &st), 0);
	ck_assert_msg((st.st_mode & 0777) == 0640, "new error_log mode %o",
	    st.st_mode & 0777);

	harness_tunnel_end(echo_tunnel(&p, t.port, -1, 33));
	harness_tunnel_end(echo_tunnel(&p, t.port, busy, 44));
	EXPECT(&p, harness_file_wait(acc, "bytes_up=33 ", 1) == 1,
	    "a new tunnel's record is not in the new file");
	EXPECT(&p, harness_file_wait(acc, "bytes_up=66 ", 1) == 1,
	    "the record of the tunnel open across the rotation is not in "
	    "the new file");
	harness_proxy_stop(&p);
	ck_assert_int_eq(harness_file_count(acc, "bytes_up="), 2);
	ck_assert_int_eq(harness_file_count(old, "bytes_up="), 1);
	ck_assert_int_eq(harness_file_count(old, "bytes_up=11 "), 1);
	harness_proxy_free(&p);
	harness_target_stop(&t);
	remove_tree(tmp);
	remove_tree(dir);
}
END_TEST

Suite *
install_suite(void)
{
	Suite	*s = suite_create("install");
	TCase	*tc = tcase_create("install");

	tcase_set_timeout(tc, (double)harness_ms(BUILD_MS + 3 * TOOL_MS) /
	    1000);
	tcase_add_test(tc, test_layout);
	tcase_add_test(tc, test_units);
	tcase_add_test(tc, test_man);
	tcase_add_test(tc, test_binary_paths);
	tcase_add_test(tc, test_logrotate);
	suite_add_tcase(s, tc);
	return s;
}
