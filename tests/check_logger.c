/* SPDX-License-Identifier: ISC */
/*
 * Tests for logger.c, the master's side of logging: how it reads what
 * workers send on the log socket, and how it opens log files (no link
 * followed, no FIFO waited on, only a plain file).  The records are
 * record.c's, tested in check_record.c.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "logger.h"
#include "suites.h"

/* --- opening the files: no link followed, no FIFO waited on ---------- */

struct file_env {
	char	dir[HARNESS_PATH_MAX];
	char	path[HARNESS_PATH_MAX + 32];	/* the access_log */
	char	victim[HARNESS_PATH_MAX + 32];
};

static void
file_env(struct file_env *e, struct config *cfg)
{
	ck_assert_int_eq(harness_tmpdir(e->dir, sizeof(e->dir)), 0);
	snprintf(e->path, sizeof(e->path), "%s/access.log", e->dir);
	snprintf(e->victim, sizeof(e->victim), "%s/victim", e->dir);
	ck_assert_int_eq(harness_write_file(e->victim, "precious\n"), 0);
	memset(cfg, 0, sizeof(*cfg));
	cfg->error_log = LOG_SINK_STDERR;
	cfg->access_log = LOG_SINK_FILE;
	snprintf(cfg->access_log_path, sizeof(cfg->access_log_path), "%s",
	    e->path);
}

/* logger_files_open() fails naming the file and `cause`; victim intact. */
static void
open_refused(const struct file_env *e, const struct config *cfg,
    const char *cause)
{
	struct logger_files	 f;
	char			 err[CONFIG_PATH_MAX + 128], *text;

	err[0] = '\0';
	ck_assert_int_eq(logger_files_open(cfg, &f, err, sizeof(err)), -1);
	ck_assert_int_eq(f.access, -1);
	ck_assert_msg(strstr(err, "access_log ") != NULL && strstr(err,
	    e->path) != NULL && strstr(err, cause) != NULL,
	    "error: \"%s\", want one naming %s: %s", err, e->path, cause);
	ck_assert_ptr_nonnull(text = harness_read_file(e->victim));
	ck_assert_str_eq(text, "precious\n");
	free(text);
}

/* A link planted at the path (by whoever may write the directory). */
START_TEST(test_file_symlink_refused)
{
	struct file_env	e;
	struct config	cfg;
	struct stat	st;

	file_env(&e, &cfg);
	ck_assert_int_eq(symlink(e.victim, e.path), 0);
	open_refused(&e, &cfg, "is a symbolic link");
	/* Left as it is. */
	ck_assert_int_eq(lstat(e.path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	harness_rmdir(e.dir);
}
END_TEST

/* A hard link to another file is the same trap as a symbolic link. */
START_TEST(test_file_hardlink_refused)
{
	struct file_env	e;
	struct config	cfg;

	file_env(&e, &cfg);
	ck_assert_int_eq(link(e.victim, e.path), 0);
	open_refused(&e, &cfg, "has 2 hard links");
	harness_rmdir(e.dir);
}
END_TEST

/* A FIFO with no reader would block an O_WRONLY open(2) for ever. */
START_TEST(test_file_fifo_refused)
{
	struct file_env	e;
	struct config	cfg;
	long long	t0 = harness_now_ms();

	file_env(&e, &cfg);
	ck_assert_int_eq(mkfifo(e.path, 0600), 0);
	open_refused(&e, &cfg, "not a regular file");
	ck_assert_int_lt(harness_now_ms() - t0, 1000);
	harness_rmdir(e.dir);
}
END_TEST

/* A plain file: created 0640, appended to, close-on-exec, blocking. */
START_TEST(test_file_regular)
{
	struct file_env		 e;
	struct config		 cfg;
	struct logger_files	 f;
	struct stat		 st;
	char			 err[CONFIG_PATH_MAX + 128], *text;
	mode_t			 old = umask(022);
	int			 fl;

	file_env(&e, &cfg);
	ck_assert_int_eq(logger_files_open(&cfg, &f, err, sizeof(err)), 0);
	umask(old);
	ck_assert_int_ge(f.access, 0);
	ck_assert_int_eq(f.error, -1);
	ck_assert_int_eq(fstat(f.access, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	ck_assert_int_ne(fcntl(f.access, F_GETFD) & FD_CLOEXEC, 0);
	fl = fcntl(f.access, F_GETFL);
	ck_assert_int_ne(fl & O_APPEND, 0);
	ck_assert_int_eq(fl & O_NONBLOCK, 0);
	ck_assert_int_eq(write(f.access, "a\n", 2), 2);
	logger_files_close(&f);
	/* Again: appended, not truncated. */
	ck_assert_int_eq(logger_files_open(&cfg, &f, err, sizeof(err)), 0);
	ck_assert_int_eq(write(f.access, "b\n", 2), 2);
	logger_files_close(&f);
	ck_assert_ptr_nonnull(text = harness_read_file(e.path));
	ck_assert_str_eq(text, "a\nb\n");
	free(text);
	harness_rmdir(e.dir);
}
END_TEST

/*
 * The master's reading of what workers send on the log socket.  A
 * worker may be compromised, so any bytes at all: each message gives at
 * most one line, of printable bytes, never longer than the buffer, and
 * never touches a byte past it.
 */
static const struct {
	const char	*msg;
	size_t		 len;
	int		 access;
	const char	*line;
} records[] = {
	{ "Atime=x status=200\n", 19, 1, "time=x status=200" },
	{ "Eerror: boom\n", 13, 0, "error: boom" },
	{ "", 0, 0, "" },			/* nothing at all */
	{ "\n", 1, 0, "" },			/* the syslog crash */
	{ "A", 1, 1, "" },
	{ "A\n", 2, 1, "" },
	{ "E\n\n", 3, 0, "?" },
	{ "Eno newline", 11, 0, "no newline" },
	{ "Xunknown tag\n", 13, 0, "unknown tag" },
	{ "Ea\0b\n", 5, 0, "a?b" },		/* NUL inside */
	{ "\0\0\0\0", 4, 0, "???" },
	{ "Eone\nAtwo\n", 10, 0, "one?Atwo" },	/* stays one line */
	{ "E\r\x1b[31mred\x7f\t\n", 13, 0, "??[31mred??" },
	{ "Aj\xc3\xb6rg \xff\n", 9, 1, "j\xc3\xb6rg \xff" },
};

START_TEST(test_message)
{
	char	out[64];
	size_t	n;
	int	access = -1;

	memset(out, 'z', sizeof(out));
	n = logger_message(records[_i].msg, records[_i].len, &access, out,
	    sizeof(out));
	ck_assert_int_eq(access, records[_i].access);
	ck_assert_str_eq(out, records[_i].line);
	ck_assert_uint_eq(n, strlen(records[_i].line));
}
END_TEST

/* In place, as the master does it: the same lines as a copy gives. */
START_TEST(test_message_in_place)
{
	char	buf[64], copy[64];
	size_t	n, m;
	int	access, access2;

	memset(buf, 'z', sizeof(buf));
	memcpy(buf, records[_i].msg, records[_i].len);
	n = logger_message(buf, records[_i].len, &access, copy,
	    sizeof(copy));
	m = logger_message(buf, records[_i].len, &access2, buf, sizeof(buf));
	ck_assert_uint_eq(n, m);
	ck_assert_int_eq(access, access2);
	ck_assert_str_eq(buf, copy);
}
END_TEST

/* Longer than the buffer: cut, terminated, nothing written past it. */
START_TEST(test_message_long)
{
	static char	msg[70000];
	char		out[128];
	size_t		n;
	int		access;

	memset(msg, 'x', sizeof(msg));
	msg[0] = 'E';
	memset(out, 'z', sizeof(out));
	n = logger_message(msg, sizeof(msg), &access, out, 100);
	ck_assert_uint_eq(n, 99);
	ck_assert_uint_eq(strlen(out), 99);
	ck_assert_int_eq(out[100], 'z');
	ck_assert_int_eq(access, 0);
	/* No room at all: nothing written. */
	memset(out, 'z', sizeof(out));
	ck_assert_uint_eq(logger_message(msg, sizeof(msg), &access, out, 0),
	    0);
	ck_assert_int_eq(out[0], 'z');
	ck_assert_uint_eq(logger_message(msg, sizeof(msg), &access, out, 1),
	    0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* Every byte value in every position, a few lengths: stays in bounds. */
START_TEST(test_message_every_byte)
{
	char	msg[4], out[4];
	size_t	len, n, k;
	int	access, b;

	for (b = 0; b < 256; b++) {
		for (len = 0; len <= sizeof(msg); len++) {
			memset(msg, b, sizeof(msg));
			memset(out, 'z', sizeof(out));
			n = logger_message(msg, len, &access, out, 3);
			ck_assert_uint_le(n, 2);
			ck_assert_uint_eq(strlen(out), n);
			ck_assert_int_eq(out[3], 'z');
			for (k = 0; k < n; k++)
				ck_assert((unsigned char)out[k] >= 0x20 &&
				    out[k] != 0x7f);
		}
	}
}
END_TEST

Suite *
logger_suite(void)
{
	Suite	*s = suite_create("logger");
	TCase	*tc = tcase_create("messages");

	tcase_add_loop_test(tc, test_message, 0,
	    (int)(sizeof(records) / sizeof(records[0])));
	tcase_add_loop_test(tc, test_message_in_place, 0,
	    (int)(sizeof(records) / sizeof(records[0])));
	tcase_add_test(tc, test_message_long);
	tcase_add_test(tc, test_message_every_byte);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_file_symlink_refused);
	tcase_add_test(tc, test_file_hardlink_refused);
	tcase_add_test(tc, test_file_fifo_refused);
	tcase_add_test(tc, test_file_regular);
	suite_add_tcase(s, tc);
	return s;
}
