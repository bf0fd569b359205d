/* SPDX-License-Identifier: ISC */
/*
 * The control socket.  The master polls the listener and its few clients
 * along with its other fds; every socket is non-blocking and every client
 * has a deadline, so a client that connects and never speaks (or never
 * reads) costs a slot for CONTROL_DEADLINE_MS, never the master's loop.
 * The answers are built from the scoreboard alone.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "net.h"
#include "scoreboard.h"
#include "version.h"

#define RUN_DIR			"/run/connectproxy"
#define HOME_DIR		".connectproxy"	/* in $HOME */
#define QUERY_TIMEOUT_MS	5000

/*
 * Where the default socket goes, in this order: systemd's runtime
 * directory; /run/connectproxy when we may write there (root by hand);
 * else a directory of this user's own, so that a proxy started from a
 * terminal answers `status` from another one: the session's
 * $XDG_RUNTIME_DIR, else ~/.connectproxy.  Never a fixed name in /tmp,
 * which another user could take first.  A client also looks in a
 * /run/connectproxy it may only enter: a proxy under systemd without
 * the client's RUNTIME_DIRECTORY, asked by a member of its group.
 */
enum where {
	WHERE_RUNTIME,
	WHERE_RUN,
	WHERE_XDG,
	WHERE_HOME,
	WHERE_RUN_CLIENT,
	WHERE_END
};

/* When the master started (realtime ms): see control_started(). */
static long long	started_ms;

/* A growing text buffer; `failed` once out of memory. */
struct text {
	char	*buf;
	size_t	 len;
	size_t	 cap;
	int	 failed;
};

static void __attribute__((format(printf, 2, 3)))
text_add(struct text *t, const char *fmt, ...)
{
	va_list	ap;
	char	*p;
	int	n;

	if (t->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->failed = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		if ((p = realloc(t->buf, 2 * t->cap + (size_t)n)) == NULL) {
			t->failed = 1;
			return;
		}
		t->buf = p;
		t->cap = 2 * t->cap + (size_t)n;
	}
}

static int
text_start(struct text *t)
{
	t->len = 0;
	t->cap = 4096;
	t->failed = 0;
	if ((t->buf = malloc(t->cap)) == NULL)
		return -1;
	t->buf[0] = '\0';
	return 0;
}

static char *
text_end(struct text *t)
{
	if (t->failed) {
		free(t->buf);
		return NULL;
	}
	return t->buf;
}

static int
busy_state(int state)
{
	return state >= SB_READING && state <= SB_CLOSING;
}

/*
 * The state of the worker p as the status view shows it: the one its
 * slot reports when valid (see scoreboard_state()), else -1.
 */
static int
view_state(const struct sb_slot *slot, const struct sb_proc *p)
{
	return p->bad ? -1 : scoreboard_state(slot, p->reserve);
}

/*
 * Seconds since the tunnel in slot s started, into buf; "-" when the
 * time the worker wrote cannot be right (before it was forked, or in
 * the future): it is untrusted, and arithmetic on it must not overflow.
 */
static void
format_age(char *buf, size_t len, const struct sb_slot *s,
    const struct sb_proc *p, long long now_ms)
{
	long long	start = atomic_load(&s->start_ms);

	/* Tunnel starts are whole seconds: a worker forked at x.9 s may
	 * take a client in the same second. */
	if (start < p->started_ms - 1000 || start > now_ms)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%llds", (now_ms - start) / 1000);
}

/*
 * Everything shown comes from the master's table (pid, generation) or is
 * checked on the way (states validated, text cleaned by the snapshot,
 * sums saturated): the slots are written by workers, which may be
 * compromised, and this runs in the master.
 */
char *
control_status(const struct scoreboard *sb, const struct sb_table *tab,
    long long now_ms)
{
	const struct sb_totals	*tot = &sb->totals;
	const struct sb_proc	*p;
	struct sb_slot		 s;
	struct text		 t;
	unsigned long long	 done = 0, ok, up, down;
	unsigned		 i, n[SB_RESERVE + 1] = { 0 }, live = 0;
	unsigned		 invalid = 0;
	char			 age[32];
	int			 state, busy;

	if (text_start(&t) == -1)
		return NULL;
	text_add(&t, "%-8s %-4s %-10s %6s %12s %12s  %-22s %s\n", "PID",
	    "GEN", "STATE", "AGE", "UP", "DOWN", "CLIENT", "TARGET");
	for (i = 0; i < tab->nslots; i++) {
		p = &tab->procs[i];
		if (p->pid == 0)
			continue;
		scoreboard_snapshot(&sb->slots[i], &s);
		state = view_state(&s, p);
		live++;
		if (state == -1)
			invalid++;
		else
			n[state]++;
		busy = busy_state(state);
		if (busy)
			format_age(age, sizeof(age), &s, p, now_ms);
		else
			snprintf(age, sizeof(age), "-");
		text_add(&t, "%-8ld %-4u %-10s %6s %12llu %12llu  %-22s %s\n",
		    (long)p->pid, p->generation, scoreboard_state_name(state),
		    age, busy ? (unsigned long long)s.bytes.up : 0,
		    busy ? (unsigned long long)s.bytes.down : 0,
		    busy && s.client[0] != '\0' ? s.client : "-",
		    busy && s.target[0] != '\0' ? s.target : "-");
	}
	for (i = 0; i < SB_STATUS_MAX; i++)
		done = scoreboard_add_sat(done, atomic_load(&tot->status[i]));
	ok = atomic_load(&tot->status[200]);	/* <= done: a term of it */
	up = atomic_load(&tot->bytes_up);
	down = atomic_load(&tot->bytes_down);
	text_add(&t, "\nworkers: %u (starting %u, idle %u, busy %u", live,
	    n[SB_STARTING], n[SB_IDLE], n[SB_READING] + n[SB_CONNECTING] +
	    n[SB_RELAYING] + n[SB_CLOSING]);
	if (invalid > 0)
		text_add(&t, ", invalid %u", invalid);
	text_add(&t, ")\n");
	text_add(&t, "tunnels: %u open, %llu ended (%llu tunnels, %llu "
	    "refused)\n", n[SB_RELAYING], done, ok, done - ok);
	text_add(&t, "bytes of ended tunnels: up %llu, down %llu\n", up, down);
	text_add(&t, "reloads: %llu ok, %llu failed; auth failures: %llu\n",
	    (unsigned long long)atomic_load(&tot->reloads_ok),
	    (unsigned long long)atomic_load(&tot->reloads_failed),
	    (unsigned long long)atomic_load(&tot->auth_failures));
	return text_end(&t);
}

static void
metric_head(struct text *t, const char *name, const char *type,
    const char *help)
{
	text_add(t, "# HELP connectproxy_%s %s\n# TYPE connectproxy_%s %s\n",
	    name, help, name, type);
}

void
control_started(long long wall_ms)
{
	started_ms = wall_ms;
}

/* Workers counted from the master's table, states validated. */
char *
control_metrics(const struct scoreboard *sb, const struct sb_table *tab)
{
	const struct sb_totals	*tot = &sb->totals;
	struct text		 t;
	unsigned long long	 up, down;
	unsigned		 i, n[SB_RESERVE + 1] = { 0 };
	int			 state;

	if (text_start(&t) == -1)
		return NULL;
	for (i = 0; i < tab->nslots; i++) {
		if (tab->procs[i].pid == 0)
			continue;
		state = view_state(&sb->slots[i], &tab->procs[i]);
		if (state != -1)
			n[state]++;
	}
	metric_head(&t, "tunnels_active", "gauge", "Tunnels open now.");
	text_add(&t, "connectproxy_tunnels_active %u\n", n[SB_RELAYING]);
	metric_head(&t, "tunnels_total", "counter", "Tunnels and refused "
	    "requests that ended, by the HTTP status sent.");
	for (i = 0; i < SB_STATUS_MAX; i++)
		if (i == 200 || atomic_load(&tot->status[i]) > 0)
			text_add(&t, "connectproxy_tunnels_total{status=\"%u\"} "
			    "%llu\n", i, (unsigned long long)
			    atomic_load(&tot->status[i]));
	metric_head(&t, "bytes_total", "counter", "Bytes relayed by ended "
	    "tunnels: up is client to target.");
	text_add(&t, "connectproxy_bytes_total{direction=\"up\"} %llu\n"
	    "connectproxy_bytes_total{direction=\"down\"} %llu\n",
	    (unsigned long long)atomic_load(&tot->bytes_up),
	    (unsigned long long)atomic_load(&tot->bytes_down));
	scoreboard_open_bytes(sb, tab, &up, &down);
	metric_head(&t, "bytes_active", "gauge", "Bytes relayed so far by "
	    "the tunnels open now: up is client to target.");
	text_add(&t, "connectproxy_bytes_active{direction=\"up\"} %llu\n"
	    "connectproxy_bytes_active{direction=\"down\"} %llu\n", up, down);
	metric_head(&t, "workers", "gauge", "Worker processes by state.");
	for (i = SB_STARTING; i <= SB_RESERVE; i++)
		text_add(&t, "connectproxy_workers{state=\"%s\"} %u\n",
		    scoreboard_state_name((enum sb_state)i), n[i]);
	metric_head(&t, "reloads_total", "counter", "Configuration reloads.");
	text_add(&t, "connectproxy_reloads_total{result=\"ok\"} %llu\n"
	    "connectproxy_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)atomic_load(&tot->reloads_ok),
	    (unsigned long long)atomic_load(&tot->reloads_failed));
	metric_head(&t, "auth_failures_total", "counter", "Requests with "
	    "wrong proxy credentials.");
	text_add(&t, "connectproxy_auth_failures_total %llu\n",
	    (unsigned long long)atomic_load(&tot->auth_failures));
	metric_head(&t, "refusals_total", "counter", "Refused requests, by "
	    "reason.");
	for (i = 0; i < SB_REASONS; i++)
		text_add(&t, "connectproxy_refusals_total{reason=\"%s\"} "
		    "%llu\n", scoreboard_reason_name(i), (unsigned long long)
		    atomic_load(&tot->refusals[i]));
	metric_head(&t, "pac_answers_total", "counter", "PAC file answers "
	    "(pac_file), not counted as tunnels.");
	text_add(&t, "connectproxy_pac_answers_total %llu\n",
	    (unsigned long long)atomic_load(&tot->pac_answers));
	metric_head(&t, "build_info", "gauge", "The version running, as "
	    "connectproxy -V prints it; always 1.");
	text_add(&t, "connectproxy_build_info{version=\"%s\"} 1\n",
	    CONNECTPROXY_VERSION);
	metric_head(&t, "process_start_time_seconds", "gauge", "When the "
	    "master started, in seconds since the epoch.");
	text_add(&t, "connectproxy_process_start_time_seconds %lld.%03lld\n",
	    started_ms / 1000, started_ms % 1000);
	return text_end(&t);
}

/*
 * 1 when dir is a directory, not a link, that this user owns and no one
 * else may enter: nobody else can put a socket there, or take ours.
 */
static int
private_dir(const char *dir)
{
	struct stat	st;
	int		fd, ok;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return 0;
	ok = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 077) == 0;
	close(fd);
	return ok;
}

/* 1 when path exists, without following a link. */
static int
exists(const char *path)
{
	struct stat	st;

	return lstat(path, &st) == 0;
}

static int
is_dir(const char *path)
{
	struct stat	st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The directory for the default socket at `w` into dir, when it applies
 * to a server (which creates a missing ~/.connectproxy) or a client.
 * Returns 1, or 0 when it does not apply.
 */
static int
default_dir(enum where w, int server, char *dir, size_t len)
{
	const char	*v = NULL;
	int		 rc;

	switch (w) {
	case WHERE_RUNTIME:
		/* systemd lists several RuntimeDirectory= with ':'. */
		if ((v = getenv("RUNTIME_DIRECTORY")) == NULL || *v == '\0')
			return 0;
		rc = snprintf(dir, len, "%.*s", (int)strcspn(v, ":"), v);
		return rc > 0 && (size_t)rc < len;
	case WHERE_RUN:
		if (access(RUN_DIR, W_OK | X_OK) != 0)
			return 0;
		return snprintf(dir, len, "%s", RUN_DIR) > 0;
	case WHERE_RUN_CLIENT:
		if (server || access(RUN_DIR, X_OK) != 0)
			return 0;
		return snprintf(dir, len, "%s", RUN_DIR) > 0;
	case WHERE_XDG:
		if ((v = getenv("XDG_RUNTIME_DIR")) == NULL || *v != '/')
			return 0;
		rc = snprintf(dir, len, "%s", v);
		return rc > 0 && (size_t)rc < len && private_dir(dir);
	case WHERE_HOME:
		if ((v = getenv("HOME")) == NULL || *v != '/')
			return 0;
		rc = snprintf(dir, len, "%s%s%s", v, v[strlen(v) - 1] == '/' ?
		    "" : "/", HOME_DIR);
		if (rc <= 0 || (size_t)rc >= len)
			return 0;
		/* A home that does not exist (nobody's) is no place. */
		return private_dir(dir) || (server && !exists(dir) &&
		    is_dir(v));
	case WHERE_END:
		break;
	}
	return 0;
}

/* dir/connectproxy.sock into buf.  Returns 0 or -1 (too long). */
static int
socket_in(const char *dir, char *buf, size_t len)
{
	int	rc;

	rc = snprintf(buf, len, "%s/%s", dir, CONTROL_SOCKET_NAME);
	return rc < 0 || (size_t)rc >= len ? -1 : 0;
}

/*
 * The default socket path into buf and where it is into *wp.  A client
 * takes the first place that holds a socket: its session may differ
 * from the server's (no XDG_RUNTIME_DIR under su, say) without losing
 * the proxy.  Returns 0, or -1 when there is none.
 */
static int
default_path(int server, char *buf, size_t len, enum where *wp)
{
	char		dir[CONFIG_PATH_MAX];
	enum where	w;

	for (w = WHERE_RUNTIME; w < WHERE_END; w++) {
		if (!default_dir(w, server, dir, sizeof(dir)) ||
		    socket_in(dir, buf, len) == -1)
			continue;
		if (server || exists(buf)) {
			*wp = w;
			return 0;
		}
	}
	return -1;
}

int
control_path(const struct config *cfg, int server, char *buf, size_t len)
{
	enum where	w;
	int		rc;

	if (strcmp(cfg->control_socket, "off") == 0)
		return -1;
	if (cfg->control_socket[0] != '\0') {
		rc = snprintf(buf, len, "%s", cfg->control_socket);
		return rc < 0 || (size_t)rc >= len ? -1 : 0;
	}
	return default_path(server, buf, len, &w);
}

/*
 * Create ~/.connectproxy, 0700, and check it again once it exists: a
 * directory someone else made (or a link put there) in the meantime is
 * not used.  Returns 0 or -1.
 */
static int
make_home_dir(void)
{
	char	dir[CONFIG_PATH_MAX];

	if (!default_dir(WHERE_HOME, 1, dir, sizeof(dir))) {
		errno = EPERM;
		return -1;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return -1;
	if (!private_dir(dir)) {
		errno = EPERM;
		return -1;
	}
	return 0;
}

static int
unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return 0;
}

/* 1 when a process accepts connections on path (another proxy). */
static int
socket_live(const struct sockaddr_un *sun)
{
	int	fd, live;

	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return 0;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	close(fd);
	return live;
}

/*
 * Whether path is free for our socket: missing, or a socket no process
 * serves (stale: its proxy is gone), which is removed.  Anything else
 * there is left as it is: a live socket (another proxy: EADDRINUSE), or
 * a file, directory or symbolic link that we never delete (ENOTSOCK,
 * with what it is in *what).  Returns 0 or -1.
 */
static int
claim_path(const char *path, const struct sockaddr_un *sun,
    const char **what)
{
	struct stat	st;

	*what = NULL;
	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		*what = S_ISLNK(st.st_mode) ? "a symbolic link" :
		    S_ISDIR(st.st_mode) ? "a directory" : S_ISREG(st.st_mode) ?
		    "a regular file" : "not a socket";
		errno = ENOTSOCK;
		return -1;
	}
	if (socket_live(sun)) {
		errno = EADDRINUSE;
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

static int
bind_control(const char *path, const char **what)
{
	struct sockaddr_un	sun;
	mode_t			old;
	int			fd, saved;

	*what = NULL;
	if (unix_addr(path, &sun) == -1 || claim_path(path, &sun, what) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return -1;
	/* 0660 from the start: no window with a wider mode. */
	old = umask(0117);
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    net_set_nonblock(fd, 1) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, CONTROL_CONNS) == -1) {
		saved = errno;
		umask(old);
		close(fd);
		errno = saved;
		return -1;
	}
	umask(old);
	return fd;
}

void
control_init(struct control *c)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	c->lfd = -1;
	for (i = 0; i < CONTROL_CONNS; i++)
		c->conns[i].fd = -1;
}

int
control_open(struct control *c, const struct config *cfg)
{
	const char	*what;
	enum where	 w;
	int		 explicit = cfg->control_socket[0] != '\0' &&
			    strcmp(cfg->control_socket, "off") != 0;

	control_init(c);
	if (strcmp(cfg->control_socket, "off") == 0)
		return 0;
	if (explicit)
		snprintf(c->path, sizeof(c->path), "%s", cfg->control_socket);
	else if (default_path(1, c->path, sizeof(c->path), &w) == -1) {
		c->path[0] = '\0';
		log_info("no control socket: no $RUNTIME_DIRECTORY, %s is not "
		    "writable, and neither $XDG_RUNTIME_DIR nor $HOME/%s is "
		    "a directory this user alone may enter", RUN_DIR,
		    HOME_DIR);
		return 0;
	} else if (w == WHERE_HOME && make_home_dir() == -1) {
		log_warn("no control socket: the directory of %s (must be "
		    "this user's, mode 0700)", c->path);
		c->path[0] = '\0';
		return 0;
	}
	if ((c->lfd = bind_control(c->path, &what)) == -1) {
		if (what != NULL && explicit)
			log_error("control_socket %s: is %s, not a socket; "
			    "left as it is: remove it or choose another path",
			    c->path, what);
		else if (what != NULL)
			log_warnx("no control socket: %s is %s, not a socket; "
			    "left as it is", c->path, what);
		else if (explicit)
			log_error("control_socket %s: %s", c->path,
			    strerror(errno));
		else
			log_warn("no control socket: %s", c->path);
		c->path[0] = '\0';
		return explicit ? -1 : 0;
	}
	log_info("control socket %s", c->path);
	return 0;
}

static void
conn_close(struct control_conn *k)
{
	if (k->fd != -1)
		net_close_now(k->fd);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

void
control_pollfds(const struct control *c, struct pollfd *pfd)
{
	const struct control_conn	*k;
	size_t				 i;
	int				 room = 0;

	for (i = 0; i < CONTROL_CONNS; i++) {
		k = &c->conns[i];
		room |= k->fd == -1;
		pfd[1 + i].fd = k->fd;
		pfd[1 + i].events = k->out != NULL ? POLLOUT : POLLIN;
		pfd[1 + i].revents = 0;
	}
	/* With every slot taken, new clients wait in the backlog. */
	pfd[0].fd = room ? c->lfd : -1;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
}

/* Wrap body in an HTTP/1.0 answer. */
static char *
http_answer(int code, const char *reason, char *body)
{
	struct text	t;

	if (body == NULL || text_start(&t) == -1) {
		free(body);
		return NULL;
	}
	text_add(&t, "HTTP/1.0 %d %s\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", code, reason, strlen(body), body);
	free(body);
	return text_end(&t);
}

/* The answer to one request line (no line end). */
static char *
answer(const char *req, const struct scoreboard *sb,
    const struct sb_table *tab)
{
	long long	now = net_wall_ms();

	if (strcmp(req, "status") == 0)
		return control_status(sb, tab, now);
	if (strcmp(req, "metrics") == 0)
		return control_metrics(sb, tab);
	if (strncmp(req, "GET /metrics ", 13) == 0)
		return http_answer(200, "OK", control_metrics(sb, tab));
	if (strncmp(req, "GET /status ", 12) == 0)
		return http_answer(200, "OK", control_status(sb, tab, now));
	if (strncmp(req, "GET ", 4) == 0 || strncmp(req, "HEAD ", 5) == 0)
		return http_answer(404, "Not Found", strdup("not found\n"));
	return strdup("error: unknown command (status or metrics)\n");
}

/* Read what the client sent; once a line (or EOF) is in, answer. */
static void
conn_read(struct control_conn *k, const struct scoreboard *sb,
    const struct sb_table *tab)
{
	char	*nl;
	ssize_t	 n;

	n = recv(k->fd, k->in + k->inlen, sizeof(k->in) - 1 - k->inlen,
	    MSG_DONTWAIT);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n == -1 || (n == 0 && k->inlen == 0)) {
		conn_close(k);
		return;
	}
	k->inlen += (size_t)n;
	k->in[k->inlen] = '\0';
	if ((nl = strchr(k->in, '\n')) == NULL && n > 0 &&
	    k->inlen < sizeof(k->in) - 1)
		return;
	if (nl == NULL && n > 0)
		k->out = strdup("error: request too long\n");
	else {
		if (nl != NULL)
			*nl = '\0';
		k->in[strcspn(k->in, "\r")] = '\0';
		k->out = answer(k->in, sb, tab);
	}
	if (k->out == NULL) {
		conn_close(k);
		return;
	}
	k->outlen = strlen(k->out);
}

static void
conn_write(struct control_conn *k)
{
	if (net_send_rest(k->fd, k->out, k->outlen, &k->outoff) != 0)
		conn_close(k);
}

static void
accept_clients(struct control *c)
{
	struct control_conn	*k;
	size_t			 i;
	int			 fd;

	for (i = 0; i < CONTROL_CONNS; i++) {
		k = &c->conns[i];
		if (k->fd != -1)
			continue;
		if ((fd = accept(c->lfd, NULL, NULL)) == -1)
			return;
		if (net_set_nonblock(fd, 1) == -1 ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			close(fd);
			continue;
		}
		k->fd = fd;
		k->deadline = net_mono_ms() + CONTROL_DEADLINE_MS;
	}
}

void
control_service(struct control *c, const struct pollfd *pfd,
    const struct scoreboard *sb, const struct sb_table *tab)
{
	struct control_conn	*k;
	long long		 now = net_mono_ms();
	size_t			 i;

	for (i = 0; i < CONTROL_CONNS; i++) {
		k = &c->conns[i];
		if (k->fd == -1 || pfd[1 + i].fd != k->fd)
			continue;
		if (now >= k->deadline)
			conn_close(k);
		else if (pfd[1 + i].revents & (POLLERR | POLLNVAL))
			conn_close(k);
		else if (k->out == NULL && (pfd[1 + i].revents &
		    (POLLIN | POLLHUP)))
			conn_read(k, sb, tab);
		else if (k->out != NULL && (pfd[1 + i].revents &
		    (POLLOUT | POLLHUP)))
			conn_write(k);
	}
	if (c->lfd != -1 && pfd[0].fd == c->lfd && (pfd[0].revents & POLLIN))
		accept_clients(c);
}

void
control_close(struct control *c)
{
	struct stat	st;
	size_t		i;

	for (i = 0; i < CONTROL_CONNS; i++)
		if (c->conns[i].fd != -1)
			conn_close(&c->conns[i]);
	if (c->lfd != -1) {
		close(c->lfd);
		c->lfd = -1;
		/* Ours, unless something else was put in its place. */
		if (c->path[0] != '\0' && lstat(c->path, &st) == 0 &&
		    S_ISSOCK(st.st_mode))
			(void)unlink(c->path);
	}
}

size_t
control_fds(const struct control *c, int *fds, size_t max)
{
	size_t	i, n = 0;

	if (c->lfd != -1 && n < max)
		fds[n++] = c->lfd;
	for (i = 0; i < CONTROL_CONNS && n < max; i++)
		if (c->conns[i].fd != -1)
			fds[n++] = c->conns[i].fd;
	return n;
}

/* Client side. */

static int
query_fail(char *err, size_t errlen, const char *what, const char *path)
{
	snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno));
	return -1;
}

/* Copy the answer on fd to out until EOF or the deadline. */
static int
copy_answer(int fd, int out, long long deadline)
{
	char		buf[8192];
	ssize_t		n;

	for (;;) {
		/* A poll() error is left for read() to report. */
		if (net_wait(fd, POLLIN, deadline, NULL) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = read(fd, buf, sizeof(buf))) == 0)
			return 0;
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1 || write(out, buf, (size_t)n) != n)
			return -1;
	}
}

int
control_query(const struct config *cfg, const char *cmd, int out, char *err,
    size_t errlen)
{
	struct sockaddr_un	sun;
	char			path[CONFIG_PATH_MAX], req[64];
	long long		deadline = net_mono_ms() + QUERY_TIMEOUT_MS;
	int			fd, rc;

	if (control_path(cfg, 0, path, sizeof(path)) == -1) {
		if (strcmp(cfg->control_socket, "off") == 0)
			snprintf(err, errlen, "no control socket "
			    "(control_socket off)");
		else
			snprintf(err, errlen, "no control socket in "
			    "$RUNTIME_DIRECTORY, %s, $XDG_RUNTIME_DIR or "
			    "$HOME/%s: is the proxy running, as this user, "
			    "with this configuration?", RUN_DIR, HOME_DIR);
		return -1;
	}
	if (unix_addr(path, &sun) == -1)
		return query_fail(err, errlen, "control socket", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return query_fail(err, errlen, "socket for", path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		rc = query_fail(err, errlen, "connect to", path);
		close(fd);
		return rc;
	}
	snprintf(req, sizeof(req), "%s\n", cmd);
	if (net_write_all(fd, req, strlen(req), deadline) == -1 ||
	    copy_answer(fd, out, deadline) == -1) {
		rc = query_fail(err, errlen, "reading the answer from", path);
		close(fd);
		return rc;
	}
	close(fd);
	return 0;
}
