/* SPDX-License-Identifier: ISC */
/*
 * Pre-flight checks: each looks at the file system as the start would
 * use it (stat(2) and faccessat(2) with the effective ids, which also see
 * a read-only mount and ACLs), without creating or changing anything, so
 * that running it while the proxy serves is harmless.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "preflight.h"
#include "priv.h"

#define PREFLIGHT_CHECKS	5	/* user, two logs, pidfile, socket */

/* The problems found, reported in the order of their lines. */
struct problems {
	const struct config	*cfg;
	size_t			 n;
	struct problem {
		struct config_loc	at;
		char			text[2 * CONFIG_PATH_MAX + 512];
	}			 p[PREFLIGHT_CHECKS];
};

/* A problem at directive `name`: "name value: why", or `why` alone. */
static void
add(struct problems *p, const char *name, const char *value, const char *why)
{
	struct problem	*q = &p->p[p->n++];

	q->at = config_at(p->cfg, name);
	if (value != NULL)
		snprintf(q->text, sizeof(q->text), "%s %s: %s", name, value,
		    why);
	else
		snprintf(q->text, sizeof(q->text), "%s", why);
}

static int
by_line(const void *a, const void *b)
{
	const struct config_loc	*x = &((const struct problem *)a)->at;
	const struct config_loc	*y = &((const struct problem *)b)->at;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* The directory of path: "." when it names none, "/" for the root. */
static void
dir_of(const char *path, char *dir, size_t len)
{
	const char	*slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, len, ".");
	else if (slash == path)
		snprintf(dir, len, "/");
	else
		snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* Whether a file can be created beside path: 0, or -1 with why. */
static int
dir_ok(const char *path, char *why, size_t len)
{
	struct stat	st;
	char		dir[CONFIG_PATH_MAX];

	dir_of(path, dir, sizeof(dir));
	if (stat(dir, &st) == -1) {
		if (errno == ENOENT)
			snprintf(why, len, "directory %s does not exist", dir);
		else
			snprintf(why, len, "directory %s: %s", dir,
			    strerror(errno));
	} else if (!S_ISDIR(st.st_mode))
		snprintf(why, len, "%s is not a directory", dir);
	else if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) == -1)
		snprintf(why, len, "cannot create files in directory %s: %s",
		    dir, strerror(errno));
	else
		return 0;
	return -1;
}

/*
 * A log file as log.c opens it (O_APPEND | O_CREAT | O_NOFOLLOW, a
 * regular file with one link): 0, or -1 with why.
 */
static int
log_file_ok(const char *path, char *why, size_t len)
{
	struct stat	st;

	if (lstat(path, &st) == -1) {
		if (errno == ENOENT)
			return dir_ok(path, why, len);
		snprintf(why, len, "%s", strerror(errno));
	} else if (S_ISLNK(st.st_mode))
		snprintf(why, len, "is a symbolic link, which is never "
		    "followed: name the file itself");
	else if (!S_ISREG(st.st_mode))
		snprintf(why, len, "not a regular file");
	else if (st.st_nlink != 1)
		snprintf(why, len, "has %ju hard links; a log file must have "
		    "one", (uintmax_t)st.st_nlink);
	else if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) == -1)
		snprintf(why, len, "cannot be written: %s", strerror(errno));
	else
		return 0;
	return -1;
}

/* The pidfile is written beside itself and renamed over PATH. */
static int
pidfile_ok(const char *path, char *why, size_t len)
{
	struct stat	st;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(why, len, "is a directory");
		return -1;
	}
	return dir_ok(path, why, len);
}

/* A configured control socket: bound anew, only a socket replaced. */
static int
socket_ok(const char *path, char *why, size_t len)
{
	struct stat	st;

	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		snprintf(why, len, "is %s, not a socket; left as it is: "
		    "remove it or choose another path", S_ISLNK(st.st_mode) ?
		    "a symbolic link" : S_ISDIR(st.st_mode) ? "a directory" :
		    S_ISREG(st.st_mode) ? "a regular file" : "not a socket");
		return -1;
	}
	return dir_ok(path, why, len);
}

int
preflight_check(const struct config *cfg, char *err, size_t errlen)
{
	struct problems		p;
	struct priv_user	pu;
	char			why[CONFIG_PATH_MAX + 256];
	char			where[CONFIG_ERR_MAX];
	size_t			i, used = 0;

	p.cfg = cfg;
	p.n = 0;
	/* priv_lookup() names the user itself: "user NAME: why". */
	if (priv_lookup(cfg->user, &pu, 1, why, sizeof(why)) == -1)
		add(&p, "user", NULL, why);
	if (cfg->access_log == LOG_SINK_FILE &&
	    log_file_ok(cfg->access_log_path, why, sizeof(why)) == -1)
		add(&p, "access_log", cfg->access_log_path, why);
	if (cfg->error_log == LOG_SINK_FILE &&
	    log_file_ok(cfg->error_log_path, why, sizeof(why)) == -1)
		add(&p, "error_log", cfg->error_log_path, why);
	if (cfg->pidfile[0] != '\0' &&
	    pidfile_ok(cfg->pidfile, why, sizeof(why)) == -1)
		add(&p, "pidfile", cfg->pidfile, why);
	if (cfg->control_socket[0] != '\0' &&
	    strcmp(cfg->control_socket, "off") != 0 &&
	    socket_ok(cfg->control_socket, why, sizeof(why)) == -1)
		add(&p, "control_socket", cfg->control_socket, why);
	qsort(p.p, p.n, sizeof(p.p[0]), by_line);
	if (errlen > 0)
		err[0] = '\0';
	for (i = 0; i < p.n && used < errlen; i++) {
		snprintf(err + used, errlen - used, "%s%s: %s", i > 0 ? "\n" :
		    "", config_where(cfg, p.p[i].at, where, sizeof(where)),
		    p.p[i].text);
		used += strlen(err + used);
	}
	return (int)p.n;
}

void
preflight_warn(const struct config *cfg)
{
	const char	*p, *eol;

	for (p = cfg->warnings; p != NULL && (eol = strchr(p, '\n')) != NULL;
	    p = eol + 1)
		log_warnx("%.*s", (int)(eol - p), p);
}
