/*
 * Configuration parser: a table of directives, each with its argument
 * count, whether it may repeat, and a handler that validates and stores
 * its value.  config_parse_buffer() is pure; only config_load() touches
 * the file system.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "net.h"
#include "upstream.h"

#define CONFIG_LINE_MAX		4096	/* bytes, without the line end */
#define CONFIG_TOKENS_MAX	24	/* a directive and its arguments */
#define CONFIG_LIST_MAX		1024	/* entries per repeatable list */
#define CONFIG_FILE_MAX		(1024 * 1024)
#define CONFIG_QUOTE_MAX	44	/* echoed value, with its NUL */
#define CONFIG_REPEATABLE	0x01

#define MS_PER_YEAR		(365LL * 24 * 3600 * 1000)
#define SIZE_LIMIT		(1024ULL * 1024 * 1024)

#define NITEMS(a)		(sizeof(a) / sizeof((a)[0]))

struct parse_ctx {
	struct config	*cfg;
	char		 msg[CONFIG_ERR_MAX];	/* without "FILE:LINE: " */
};

/*
 * A directive is either a plain value stored at `offset` in struct config
 * and checked against [lo, hi] (most of them), or parsed by its own
 * handler.  A new directive is one row in the table below.
 */
enum value_kind {
	VALUE_CUSTOM,		/* handler does everything */
	VALUE_UINT,		/* unsigned, plain digits */
	VALUE_SIZE,		/* size_t, bytes or K/M */
	VALUE_DURATION		/* long long ms, seconds or ms/s/m/h */
};

struct directive {
	const char		*name;
	int			 min_args;
	int			 max_args;
	int			 flags;
	int			(*handler)(struct parse_ctx *, const char *, int,
				    const char *const *);
	enum value_kind		 kind;
	size_t			 offset;
	unsigned long long	 lo;
	unsigned long long	 hi;
};

static int	ctx_err(struct parse_ctx *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));

static int
ctx_err(struct parse_ctx *ctx, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(ctx->msg, sizeof(ctx->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* A printable, bounded copy of an operator's value, for messages. */
static const char *
quote(const char *s, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	buf[i] = '\0';
	if (s[i] != '\0' && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return buf;
}

static int
bad_value(struct parse_ctx *ctx, const char *name, const char *what,
    const char *arg, const char *hint)
{
	char	q[CONFIG_QUOTE_MAX];

	return ctx_err(ctx, "%s: bad %s \"%s\"%s", name, what,
	    quote(arg, q, sizeof(q)), hint);
}

/* Decimal digits only: strtoull would also take a sign, spaces, "0x". */
static int
parse_digits(const char **sp, unsigned long long *out)
{
	const char		*s = *sp;
	unsigned long long	 v = 0;
	unsigned		 d;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned)(*s - '0');
		if (v > (ULLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return 0;
}

/* Look up s's suffix in a unit table; returns the multiplier or 0. */
static unsigned long long
unit_of(const char *s, const char *const *suffix,
    const unsigned long long *mult, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(s, suffix[i]) == 0)
			return mult[i];
	return 0;
}

int
config_parse_duration(const char *s, long long *ms, char *err, size_t errlen)
{
	static const char *const	 suffix[] = { "", "ms", "s", "m", "h" };
	static const unsigned long long	 mult[] = { 1000, 1, 1000, 60000,
					    3600000 };
	const char			*p = s;
	unsigned long long		 v, m;
	char				 q[CONFIG_QUOTE_MAX];

	if (parse_digits(&p, &v) == -1 ||
	    (m = unit_of(p, suffix, mult, NITEMS(suffix))) == 0) {
		snprintf(err, errlen, "bad duration \"%s\" (seconds, or a "
		    "number with ms, s, m or h)", quote(s, q, sizeof(q)));
		return -1;
	}
	/* MS_PER_YEAR is a multiple of every unit, so this is exact. */
	if (v >= (unsigned long long)MS_PER_YEAR / m) {
		snprintf(err, errlen, "duration \"%s\" too long (max 1 year)",
		    quote(s, q, sizeof(q)));
		return -1;
	}
	*ms = (long long)(v * m);
	return 0;
}

int
config_parse_size(const char *s, size_t *out, char *err, size_t errlen)
{
	static const char *const	 suffix[] = { "", "K", "k", "M", "m" };
	static const unsigned long long	 mult[] = { 1, 1024, 1024,
					    1024 * 1024, 1024 * 1024 };
	const char			*p = s;
	unsigned long long		 v, m;
	char				 q[CONFIG_QUOTE_MAX];

	if (parse_digits(&p, &v) == -1 ||
	    (m = unit_of(p, suffix, mult, NITEMS(suffix))) == 0) {
		snprintf(err, errlen, "bad size \"%s\" (bytes, or a number "
		    "with K or M)", quote(s, q, sizeof(q)));
		return -1;
	}
	if (v == 0 || v > SIZE_LIMIT / m) {
		snprintf(err, errlen, "size \"%s\" out of range (1 byte to "
		    "1024M)", quote(s, q, sizeof(q)));
		return -1;
	}
	*out = (size_t)(v * m);
	return 0;
}

/*
 * Room for one more zeroed element at arr[n]; returns the (possibly
 * moved) array or NULL with the message set, arr still valid.  Capacity
 * is implicitly the next power of two, so struct config needs no field.
 */
static void *
list_grow(struct parse_ctx *ctx, const char *name, void *arr, size_t n,
    size_t size)
{
	void	*p = arr;

	if (n >= CONFIG_LIST_MAX) {
		ctx_err(ctx, "%s: too many entries (max %d)", name,
		    CONFIG_LIST_MAX);
		return NULL;
	}
	if ((n & (n - 1)) == 0 &&
	    (p = realloc(arr, (n == 0 ? 1 : 2 * n) * size)) == NULL) {
		ctx_err(ctx, "%s: out of memory", name);
		return NULL;
	}
	memset((char *)p + n * size, 0, size);
	return p;
}

static int
uint_arg(struct parse_ctx *ctx, const char *name, const char *arg,
    unsigned lo, unsigned hi, unsigned *out)
{
	const char		*p = arg;
	unsigned long long	 v;
	char			 q[CONFIG_QUOTE_MAX];

	if (parse_digits(&p, &v) == -1 || *p != '\0')
		return bad_value(ctx, name, "number", arg, "");
	if (v < lo || v > hi)
		return ctx_err(ctx, "%s: \"%s\" out of range (%u to %u)", name,
		    quote(arg, q, sizeof(q)), lo, hi);
	*out = (unsigned)v;
	return 0;
}

static int
size_arg(struct parse_ctx *ctx, const char *name, const char *arg,
    size_t lo, size_t hi, size_t *out)
{
	char	m[CONFIG_ERR_MAX / 2], q[CONFIG_QUOTE_MAX];

	if (config_parse_size(arg, out, m, sizeof(m)) == -1)
		return ctx_err(ctx, "%s: %s", name, m);
	if (*out < lo || *out > hi)
		return ctx_err(ctx, "%s: \"%s\" out of range (%zu to %zu "
		    "bytes)", name, quote(arg, q, sizeof(q)), lo, hi);
	return 0;
}

static int
duration_arg(struct parse_ctx *ctx, const char *name, const char *arg,
    long long lo, long long *out)
{
	char	m[CONFIG_ERR_MAX / 2];

	if (config_parse_duration(arg, out, m, sizeof(m)) == -1)
		return ctx_err(ctx, "%s: %s", name, m);
	if (*out < lo)
		return ctx_err(ctx, "%s: must be greater than 0", name);
	return 0;
}

/* The plain-value directives: parse argv[0] into the field at d->offset. */
static int
set_value(struct parse_ctx *ctx, const struct directive *d, const char *arg)
{
	char	*field = (char *)ctx->cfg + d->offset;

	switch (d->kind) {
	case VALUE_UINT:
		return uint_arg(ctx, d->name, arg, (unsigned)d->lo,
		    (unsigned)d->hi, (unsigned *)(void *)field);
	case VALUE_SIZE:
		return size_arg(ctx, d->name, arg, (size_t)d->lo,
		    (size_t)d->hi, (size_t *)(void *)field);
	case VALUE_DURATION:
		return duration_arg(ctx, d->name, arg, (long long)d->lo,
		    (long long *)(void *)field);
	case VALUE_CUSTOM:
		break;
	}
	return ctx_err(ctx, "%s: no parser", d->name);
}

static int
set_listen(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	struct config		*cfg = ctx->cfg;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	size_t			 i;
	void			*p;

	(void)argc;
	if (net_parse_addrport(argv[0], &ss, &len) == -1)
		return bad_value(ctx, name, "address", argv[0],
		    " (numeric IPv4:PORT or [IPv6]:PORT)");
	if (cfg->nlisten == CONFIG_LISTEN_MAX)
		return ctx_err(ctx, "%s: too many addresses (max %d)", name,
		    CONFIG_LISTEN_MAX);
	for (i = 0; i < cfg->nlisten; i++) {
		if (cfg->listen[i].len == len &&
		    memcmp(&cfg->listen[i].ss, &ss, len) == 0)
			return ctx_err(ctx, "%s: duplicate address \"%s\"",
			    name, cfg->listen[i].text);
	}
	if ((p = list_grow(ctx, name, cfg->listen, cfg->nlisten,
	    sizeof(*cfg->listen))) == NULL)
		return -1;
	cfg->listen = p;
	cfg->listen[cfg->nlisten].ss = ss;
	cfg->listen[cfg->nlisten].len = len;
	net_format((struct sockaddr *)&ss, cfg->listen[cfg->nlisten].text,
	    sizeof(cfg->listen[cfg->nlisten].text));
	cfg->nlisten++;
	return 0;
}

/*
 * An IPv6 block every address of which embeds IPv4 would never match:
 * such addresses are judged as the IPv4 address they hold (policy.h).
 * Refused, so that a rule never silently does nothing.
 */
static int
embedded_block(struct parse_ctx *ctx, const char *name, const char *what,
    const char *arg, const struct cidr *c, int client)
{
	const char	*range;
	char		 hint[160];

	if ((range = policy_cidr_embeds_v4(c, client)) == NULL)
		return 0;
	snprintf(hint, sizeof(hint), " (inside %s, whose addresses are "
	    "judged as the IPv4 address they hold: write an IPv4 block)",
	    range);
	return bad_value(ctx, name, what, arg, hint);
}

static int
set_client(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	struct config	*cfg = ctx->cfg;
	struct cidr	 c;
	void		*p;

	(void)argc;
	if (policy_cidr_parse(argv[0], &c) == -1)
		return bad_value(ctx, name, "CIDR", argv[0], "");
	if (embedded_block(ctx, name, "CIDR", argv[0], &c, 1) == -1)
		return -1;
	if ((p = list_grow(ctx, name, cfg->clients, cfg->nclients,
	    sizeof(*cfg->clients))) == NULL)
		return -1;
	cfg->clients = p;
	cfg->clients[cfg->nclients++] = c;
	return 0;
}

static int
set_port(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	struct config		*cfg = ctx->cfg;
	const char		*s = argv[0];
	unsigned long long	 lo, hi;
	void			*p;

	(void)argc;
	if (parse_digits(&s, &lo) == -1)
		return bad_value(ctx, name, "port range", argv[0], "");
	hi = lo;
	if (*s == '-') {
		s++;
		if (parse_digits(&s, &hi) == -1)
			return bad_value(ctx, name, "port range", argv[0], "");
	}
	if (*s != '\0' || lo < 1 || hi > 65535 || lo > hi)
		return bad_value(ctx, name, "port range", argv[0], "");
	if ((p = list_grow(ctx, name, cfg->ports, cfg->nports,
	    sizeof(*cfg->ports))) == NULL)
		return -1;
	cfg->ports = p;
	cfg->ports[cfg->nports].lo = (uint16_t)lo;
	cfg->ports[cfg->nports].hi = (uint16_t)hi;
	cfg->nports++;
	return 0;
}

static int
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/*
 * Lowercase a host name into dst (at most dstsize - 1 bytes) without its
 * trailing dot: LDH labels plus '_', 1-63 bytes each.  A last label of
 * digits only is refused: resolvers read "127.1" as an address, and the
 * request parser never hands such a name to the name rules.
 */
static int
normalize_name(const char *src, char *dst, size_t dstsize)
{
	size_t	i, len, label = 0;
	int	digits = 1;

	len = strlen(src);
	if (len > 0 && src[len - 1] == '.')
		len--;
	if (len == 0 || len >= dstsize)
		return -1;
	for (i = 0; i < len; i++) {
		if (src[i] == '.') {
			if (label == 0)
				return -1;
			label = 0;
			digits = 1;
		} else if (!is_name_char(src[i]) || ++label > 63)
			return -1;
		else if (src[i] < '0' || src[i] > '9')
			digits = 0;
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ?
		    (char)(src[i] - 'A' + 'a') : src[i];
	}
	dst[len] = '\0';
	return (label == 0 || digits) ? -1 : 0;
}

static int
parse_dest(struct parse_ctx *ctx, const char *name, const char *arg,
    struct dest_rule *r)
{
	unsigned char	a[4];

	if (strchr(arg, ':') != NULL || strchr(arg, '/') != NULL ||
	    inet_pton(AF_INET, arg, a) == 1) {
		r->kind = DEST_CIDR;
		if (policy_cidr_parse(arg, &r->cidr) == -1)
			return bad_value(ctx, name, "address or CIDR", arg, "");
		if (embedded_block(ctx, name, "address or CIDR", arg,
		    &r->cidr, 0) == -1)
			return -1;
	} else if (arg[0] == '.') {
		r->kind = DEST_SUFFIX;
		r->name[0] = '.';
		if (normalize_name(arg + 1, r->name + 1,
		    sizeof(r->name) - 1) == -1)
			return bad_value(ctx, name, "domain suffix", arg, "");
	} else {
		r->kind = DEST_NAME;
		if (normalize_name(arg, r->name, sizeof(r->name)) == -1)
			return bad_value(ctx, name, "host name", arg,
			    strncmp(arg, "*.", 2) == 0 ? " (write .domain "
			    "for a domain and every name below it)" : "");
	}
	snprintf(r->text, sizeof(r->text), "%s %s", name, arg);
	return 0;
}

static int
add_dest(struct parse_ctx *ctx, const char *name, const char *arg,
    int allow)
{
	struct config	*cfg = ctx->cfg;
	void		*p;

	if ((p = list_grow(ctx, name, cfg->dests, cfg->ndests,
	    sizeof(*cfg->dests))) == NULL)
		return -1;
	cfg->dests = p;
	if (parse_dest(ctx, name, arg, &cfg->dests[cfg->ndests]) == -1)
		return -1;
	cfg->dests[cfg->ndests++].allow = allow;
	return 0;
}

static int
set_allow_dest(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	return add_dest(ctx, name, argv[0], 1);
}

static int
set_deny_dest(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	return add_dest(ctx, name, argv[0], 0);
}

/*
 * The portable user name set ([A-Za-z0-9._-], no leading '-', an optional
 * trailing '$').  All digits is refused: it reads as a uid, and
 * getpwnam() would not take it as one.
 */
static int
set_user(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	const char	*s = argv[0];
	size_t		 i, len = strlen(s);
	int		 digits = 1;

	(void)argc;
	if (len == 0 || len >= CONFIG_USER_MAX || s[0] == '-')
		return bad_value(ctx, name, "user name", s, "");
	for (i = 0; i < len; i++) {
		if (s[i] == '$' && i == len - 1 && i > 0)
			continue;
		if (!is_name_char(s[i]) && s[i] != '.')
			return bad_value(ctx, name, "user name", s, "");
		if (s[i] < '0' || s[i] > '9')
			digits = 0;
	}
	if (digits)
		return bad_value(ctx, name, "user name", s,
		    " (give a name, not a uid)");
	memcpy(ctx->cfg->user, s, len + 1);
	return 0;
}

static int
set_log_level(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	static const char *const levels[] = { "error", "warn", "info",
					       "debug" };
	size_t	i;

	(void)argc;
	for (i = 0; i < NITEMS(levels); i++) {
		if (strcmp(argv[0], levels[i]) == 0) {
			ctx->cfg->log_level = (enum log_level)i;
			return 0;
		}
	}
	return bad_value(ctx, name, "level", argv[0],
	    " (error, warn, info or debug)");
}

/* A path value into dst (CONFIG_PATH_MAX bytes). */
static int
path_arg(struct parse_ctx *ctx, const char *name, const char *arg, char *dst)
{
	size_t	len = strlen(arg);

	if (len == 0 || len >= CONFIG_PATH_MAX)
		return bad_value(ctx, name, "path", arg, "");
	memcpy(dst, arg, len + 1);
	return 0;
}

/* stderr | syslog | off | PATH; "off" only when `off_ok`. */
static int
log_sink_arg(struct parse_ctx *ctx, const char *name, const char *arg,
    int off_ok, enum log_sink *sink, char *path)
{
	path[0] = '\0';
	if (strcmp(arg, "stderr") == 0)
		*sink = LOG_SINK_STDERR;
	else if (strcmp(arg, "syslog") == 0)
		*sink = LOG_SINK_SYSLOG;
	else if (strcmp(arg, "off") == 0 && off_ok)
		*sink = LOG_SINK_OFF;
	else if (strcmp(arg, "off") == 0)
		return bad_value(ctx, name, "destination", arg,
		    " (stderr, syslog or a path)");
	else {
		*sink = LOG_SINK_FILE;
		return path_arg(ctx, name, arg, path);
	}
	return 0;
}

static int
set_access_log(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	return log_sink_arg(ctx, name, argv[0], 1, &ctx->cfg->access_log,
	    ctx->cfg->access_log_path);
}

static int
set_error_log(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	return log_sink_arg(ctx, name, argv[0], 0, &ctx->cfg->error_log,
	    ctx->cfg->error_log_path);
}

static int
set_access_log_format(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	if (strcmp(argv[0], "text") == 0)
		ctx->cfg->access_log_format = LOG_FORMAT_TEXT;
	else if (strcmp(argv[0], "json") == 0)
		ctx->cfg->access_log_format = LOG_FORMAT_JSON;
	else
		return bad_value(ctx, name, "format", argv[0],
		    " (text or json)");
	return 0;
}

/* A Unix socket path must fit sun_path (108 bytes on Linux). */
static int
set_control_socket(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	if (strlen(argv[0]) >= 104)
		return bad_value(ctx, name, "path", argv[0],
		    " (at most 103 bytes, or off)");
	return path_arg(ctx, name, argv[0], ctx->cfg->control_socket);
}

/* New directives slot in here; a handler only sees a valid arg count. */
static int
set_when_full(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	if (strcmp(argv[0], "queue") == 0)
		ctx->cfg->when_full = WHEN_FULL_QUEUE;
	else if (strcmp(argv[0], "reject") == 0)
		ctx->cfg->when_full = WHEN_FULL_REJECT;
	else
		return bad_value(ctx, name, "mode", argv[0],
		    " (queue or reject)");
	return 0;
}

static int
set_pidfile(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	size_t	len = strlen(argv[0]);

	(void)argc;
	if (len == 0 || len >= sizeof(ctx->cfg->pidfile))
		return bad_value(ctx, name, "path", argv[0], "");
	memcpy(ctx->cfg->pidfile, argv[0], len + 1);
	return 0;
}

static int
set_auth_file(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	size_t	len = strlen(argv[0]);

	(void)argc;
	if (len == 0 || len >= sizeof(ctx->cfg->auth_file))
		return bad_value(ctx, name, "path", argv[0], "");
	memcpy(ctx->cfg->auth_file, argv[0], len + 1);
	return 0;
}

/* The realm may hold spaces: the arguments are joined with one space. */
static int
set_auth_realm(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	char	realm[CONFIG_REALM_MAX + 2] = "";
	size_t	len = 0, n;
	int	i;

	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		if (len + n + (i > 0) > CONFIG_REALM_MAX)
			return ctx_err(ctx, "%s: longer than %d bytes", name,
			    CONFIG_REALM_MAX);
		if (i > 0)
			realm[len++] = ' ';
		memcpy(realm + len, argv[i], n + 1);
		len += n;
	}
	if (!auth_realm_valid(realm))
		return bad_value(ctx, name, "realm", realm,
		    " (no quotes, backslashes or control characters)");
	memcpy(ctx->cfg->auth_realm, realm, len + 1);
	return 0;
}

/*
 * "name:port", "a.b.c.d:port" or "[v6]:port" into host (no brackets)
 * and port.  Returns 0 or -1.
 */
static int
parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char		*colon, *end;
	unsigned char		 a[16];
	unsigned long long	 v;
	size_t			 len;
	int			 v6 = s[0] == '[';

	if (v6) {
		if ((end = strchr(s, ']')) == NULL || end[1] != ':')
			return -1;
		s++;
		colon = end + 1;
	} else if ((colon = strchr(s, ':')) == NULL ||
	    strchr(colon + 1, ':') != NULL)
		return -1;
	else
		end = colon;
	len = (size_t)(end - s);
	if (len == 0 || len >= hostlen)
		return -1;
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, host, a) != 1 &&
	    (v6 || normalize_name(host, host, hostlen) == -1))
		return -1;
	s = colon + 1;
	if (parse_digits(&s, &v) == -1 || *s != '\0' || v < 1 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/* "credentials FILE" and "for PATTERN..." after the parent. */
static int
upstream_options(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv, struct upstream *u)
{
	int	i = 1;
	void	*p;

	if (i + 1 < argc && strcmp(argv[i], "credentials") == 0 &&
	    !u->direct) {
		if (strlen(argv[i + 1]) >= sizeof(u->cred_file))
			return bad_value(ctx, name, "path", argv[i + 1], "");
		memcpy(u->cred_file, argv[i + 1], strlen(argv[i + 1]) + 1);
		i += 2;
	}
	if (i < argc && (strcmp(argv[i], "for") != 0 || i + 1 == argc))
		return ctx_err(ctx, "%s: expected [credentials FILE] "
		    "[for PATTERN...] after the proxy", name);
	for (i++; i < argc; i++) {
		if ((p = list_grow(ctx, name, u->patterns, u->npatterns,
		    sizeof(*u->patterns))) == NULL)
			return -1;
		u->patterns = p;
		if (parse_dest(ctx, name, argv[i],
		    &u->patterns[u->npatterns]) == -1)
			return -1;
		u->npatterns++;
	}
	if (u->direct && u->npatterns == 0)
		return ctx_err(ctx, "%s: direct needs for PATTERN...", name);
	return 0;
}

static int
set_upstream(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	struct config	*cfg = ctx->cfg;
	struct upstream	*u;
	void		*p;

	if ((p = list_grow(ctx, name, cfg->upstreams, cfg->nupstreams,
	    sizeof(*cfg->upstreams))) == NULL)
		return -1;
	cfg->upstreams = p;
	u = &cfg->upstreams[cfg->nupstreams++];
	if (strcmp(argv[0], "direct") == 0)
		u->direct = 1;
	else if (parse_hostport(argv[0], u->host, sizeof(u->host),
	    &u->port) == -1)
		return bad_value(ctx, name, "proxy", argv[0],
		    " (HOST:PORT, [IPv6]:PORT or direct)");
	snprintf(u->text, sizeof(u->text), "%s", argv[0]);
	return upstream_options(ctx, name, argc, argv, u);
}

#define FIELD(f)	offsetof(struct config, f)
#define CUSTOM(fn)	fn, VALUE_CUSTOM, 0, 0, 0
#define UINT(f, lo, hi)	NULL, VALUE_UINT, FIELD(f), lo, hi
#define SIZE(f, lo, hi)	NULL, VALUE_SIZE, FIELD(f), lo, hi
#define DURATION(f, lo)	NULL, VALUE_DURATION, FIELD(f), lo, 0

static const struct directive directives[] = {
	{ "listen",		1, 1, CONFIG_REPEATABLE, CUSTOM(set_listen) },
	{ "allow_client",	1, 1, CONFIG_REPEATABLE, CUSTOM(set_client) },
	{ "allow_port",		1, 1, CONFIG_REPEATABLE, CUSTOM(set_port) },
	{ "allow_dest",		1, 1, CONFIG_REPEATABLE,
	    CUSTOM(set_allow_dest) },
	{ "deny_dest",		1, 1, CONFIG_REPEATABLE, CUSTOM(set_deny_dest) },
	{ "header_timeout",	1, 1, 0, DURATION(header_timeout_ms, 1) },
	{ "connect_timeout",	1, 1, 0, DURATION(connect_timeout_ms, 1) },
	{ "idle_timeout",	1, 1, 0, DURATION(idle_timeout_ms, 1) },
	{ "drain_timeout",	1, 1, 0, DURATION(drain_timeout_ms, 0) },
	{ "shutdown_timeout",	1, 1, 0, DURATION(shutdown_timeout_ms, 1) },
	{ "max_header_size",	1, 1, 0, SIZE(max_header_size, 1024,
	    64 * 1024) },
	{ "max_header_fields",	1, 1, 0, UINT(max_header_fields, 1, 1000) },
	{ "relay_buffer",	1, 1, 0, SIZE(relay_buffer, 4 * 1024,
	    16 * 1024 * 1024) },
	{ "workers_start",	1, 1, 0, UINT(workers_start, 1,
	    CONFIG_WORKERS_MAX) },
	{ "workers_min_spare",	1, 1, 0, UINT(workers_min_spare, 0,
	    CONFIG_WORKERS_MAX) },
	{ "workers_max_spare",	1, 1, 0, UINT(workers_max_spare, 1,
	    CONFIG_WORKERS_MAX) },
	{ "workers_max",	1, 1, 0, UINT(workers_max, 1,
	    CONFIG_WORKERS_MAX) },
	{ "worker_max_tunnels",	1, 1, 0, UINT(worker_max_tunnels, 0,
	    1000000000) },
	{ "max_tunnels_per_client", 1, 1, 0, UINT(max_tunnels_per_client, 0,
	    CONFIG_WORKERS_MAX) },
	{ "max_tunnels_ipv6_prefix", 1, 1, 0, UINT(max_tunnels_ipv6_prefix,
	    32, 128) },
	{ "listen_backlog",	1, 1, 0, UINT(listen_backlog, 1, 65535) },
	{ "when_full",		1, 1, 0, CUSTOM(set_when_full) },
	{ "user",		1, 1, 0, CUSTOM(set_user) },
	{ "pidfile",		1, 1, 0, CUSTOM(set_pidfile) },
	{ "log_level",		1, 1, 0, CUSTOM(set_log_level) },
	{ "access_log",		1, 1, 0, CUSTOM(set_access_log) },
	{ "access_log_format",	1, 1, 0, CUSTOM(set_access_log_format) },
	{ "error_log",		1, 1, 0, CUSTOM(set_error_log) },
	{ "control_socket",	1, 1, 0, CUSTOM(set_control_socket) },
	{ "auth_file",		1, 1, 0, CUSTOM(set_auth_file) },
	{ "auth_realm",		1, 8, 0, CUSTOM(set_auth_realm) },
	{ "upstream",		1, CONFIG_TOKENS_MAX - 1, CONFIG_REPEATABLE,
	    CUSTOM(set_upstream) },
};

/*
 * Split s in place on spaces and tabs; a token starting with '#' ends the
 * line.  *argc counts every token, so a surplus is reported rather than
 * dropped, but only the first CONFIG_TOKENS_MAX are stored.
 */
static int
split_line(struct parse_ctx *ctx, char *s, const char **argv, int *argc)
{
	*argc = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			return 0;
		if (*argc < CONFIG_TOKENS_MAX)
			argv[*argc] = s;
		(*argc)++;
		for (; *s != '\0' && *s != ' ' && *s != '\t'; s++) {
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				return ctx_err(ctx, "control character in "
				    "line");
		}
		if (*s != '\0')
			*s++ = '\0';
	}
}

static int
parse_line(struct parse_ctx *ctx, unsigned *seen, unsigned lineno,
    char *line)
{
	const char		*argv[CONFIG_TOKENS_MAX];
	const struct directive	*d = NULL;
	char			 q[CONFIG_QUOTE_MAX];
	size_t			 i;
	int			 argc;

	if (split_line(ctx, line, argv, &argc) == -1)
		return -1;
	if (argc == 0)
		return 0;
	for (i = 0; i < NITEMS(directives) && d == NULL; i++)
		if (strcmp(argv[0], directives[i].name) == 0)
			d = &directives[i];
	if (d == NULL)
		return ctx_err(ctx, "unknown directive \"%s\"",
		    quote(argv[0], q, sizeof(q)));
	if (argc - 1 < d->min_args || argc - 1 > d->max_args) {
		if (d->min_args == d->max_args)
			return ctx_err(ctx, "%s: expects %d argument%s",
			    d->name, d->min_args, d->min_args == 1 ? "" : "s");
		return ctx_err(ctx, "%s: expects %d to %d arguments", d->name,
		    d->min_args, d->max_args);
	}
	i = (size_t)(d - directives);
	if ((d->flags & CONFIG_REPEATABLE) == 0) {
		if (seen[i] != 0)
			return ctx_err(ctx, "%s given twice (first at line "
			    "%u)", d->name, seen[i]);
		seen[i] = lineno;
	}
	if (d->kind != VALUE_CUSTOM)
		return set_value(ctx, d, argv[1]);
	return d->handler(ctx, d->name, argc - 1, argv + 1);
}

const char *
config_directive(size_t i, int *repeatable)
{
	if (i >= NITEMS(directives))
		return NULL;
	*repeatable = (directives[i].flags & CONFIG_REPEATABLE) != 0;
	return directives[i].name;
}

static void
config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->header_timeout_ms = 10 * 1000;
	cfg->connect_timeout_ms = 10 * 1000;
	cfg->idle_timeout_ms = 300 * 1000;
	cfg->max_header_size = 8 * 1024;
	cfg->max_header_fields = 100;
	cfg->relay_buffer = 512 * 1024;
	cfg->drain_timeout_ms = 0;
	cfg->shutdown_timeout_ms = 10 * 1000;
	cfg->workers_start = 4;
	cfg->workers_min_spare = 2;
	cfg->workers_max_spare = 8;
	cfg->workers_max = 2048;	/* a 50-person office: see the man page */
	cfg->worker_max_tunnels = 0;
	cfg->max_tunnels_per_client = 0;
	cfg->max_tunnels_ipv6_prefix = 64;
	cfg->listen_backlog = 511;
	cfg->when_full = WHEN_FULL_QUEUE;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->access_log = LOG_SINK_STDERR;
	cfg->access_log_format = LOG_FORMAT_TEXT;
	cfg->error_log = LOG_SINK_STDERR;
	memcpy(cfg->auth_realm, "connectproxy", sizeof("connectproxy"));
}

/* The lists an operator left empty get the safe defaults. */
static int
list_defaults(struct parse_ctx *ctx)
{
	static const char *const	addr[] = { "127.0.0.1:3128" };
	static const char *const	v4[] = { "127.0.0.0/8" };
	static const char *const	v6[] = { "::1/128" };
	static const char *const	port[] = { "443" };
	struct config			*cfg = ctx->cfg;

	if (cfg->nlisten == 0 && set_listen(ctx, "listen", 1, addr) == -1)
		return -1;
	if (cfg->nclients == 0 && (set_client(ctx, "allow_client", 1,
	    v4) == -1 || set_client(ctx, "allow_client", 1, v6) == -1))
		return -1;
	if (cfg->nports == 0 && set_port(ctx, "allow_port", 1, port) == -1)
		return -1;
	return 0;
}

/* Pool sizes that only make sense together, checked after the last line. */
static int
check_pool(struct parse_ctx *ctx)
{
	const struct config	*cfg = ctx->cfg;

	if (cfg->workers_start > cfg->workers_max)
		return ctx_err(ctx, "workers_start %u is above workers_max %u",
		    cfg->workers_start, cfg->workers_max);
	if (cfg->workers_min_spare > cfg->workers_max_spare)
		return ctx_err(ctx, "workers_min_spare %u is above "
		    "workers_max_spare %u", cfg->workers_min_spare,
		    cfg->workers_max_spare);
	if (cfg->workers_min_spare > cfg->workers_max)
		return ctx_err(ctx, "workers_min_spare %u is above "
		    "workers_max %u", cfg->workers_min_spare,
		    cfg->workers_max);
	return 0;
}

int
config_parse_buffer(const char *file, const char *text, struct config *cfg,
    char *err, size_t errlen)
{
	struct parse_ctx	 ctx = { .cfg = cfg };
	unsigned		 seen[NITEMS(directives)] = { 0 };
	unsigned		 lineno = 0;
	const char		*eol;
	char			 line[CONFIG_LINE_MAX + 1];
	size_t			 len;

	config_defaults(cfg);
	for (; *text != '\0'; text = *eol == '\0' ? eol : eol + 1) {
		lineno++;
		if ((eol = strchr(text, '\n')) == NULL)
			eol = text + strlen(text);
		len = (size_t)(eol - text);
		/* CRLF files from Windows editors are common enough. */
		if (len > 0 && text[len - 1] == '\r')
			len--;
		if (len > CONFIG_LINE_MAX) {
			ctx_err(&ctx, "line too long (max %d bytes)",
			    CONFIG_LINE_MAX);
			goto fail;
		}
		memcpy(line, text, len);
		line[len] = '\0';
		if (parse_line(&ctx, seen, lineno, line) == -1)
			goto fail;
	}
	if (list_defaults(&ctx) == 0 && check_pool(&ctx) == 0)
		return 0;
	lineno = 0;
fail:
	if (lineno == 0)
		snprintf(err, errlen, "%s: %s", file, ctx.msg);
	else
		snprintf(err, errlen, "%s:%u: %s", file, lineno, ctx.msg);
	config_free(cfg);
	return -1;
}

/* Read at most CONFIG_FILE_MAX bytes of path into a NUL-terminated *out. */
static int
read_file(const char *path, char **out, size_t *outlen, char *err,
    size_t errlen)
{
	char	*buf;
	size_t	 len = 0;
	ssize_t	 n;
	int	 fd, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    (buf = malloc(CONFIG_FILE_MAX + 2)) == NULL) {
		saved = errno;
		if (fd != -1)
			close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		return -1;
	}
	do {
		n = read(fd, buf + len, CONFIG_FILE_MAX + 1 - len);
		if (n > 0)
			len += (size_t)n;
	} while ((n > 0 && len <= CONFIG_FILE_MAX) ||
	    (n == -1 && errno == EINTR));
	saved = errno;
	close(fd);
	if (n == -1 || len > CONFIG_FILE_MAX) {
		if (n == -1)
			snprintf(err, errlen, "%s: %s", path, strerror(saved));
		else
			snprintf(err, errlen, "%s: file too large (max %d "
			    "bytes)", path, CONFIG_FILE_MAX);
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/*
 * The files a config names, read when it is loaded (so a reload re-reads
 * them and -t checks them): the auth_file users, then each upstream's
 * credentials.  A credentials file is never echoed in a message.
 */
static int
load_named_files(struct config *cfg, char *err, size_t errlen)
{
	char	*text, msg[CONFIG_ERR_MAX / 2];
	size_t	 len, i;
	int	 rc;

	if (cfg->auth_file[0] != '\0') {
		if (read_file(cfg->auth_file, &text, &len, err, errlen) == -1)
			return -1;
		rc = auth_parse_file(cfg->auth_file, text, &cfg->auth_users,
		    &cfg->nauth_users, err, errlen);
		free(text);
		if (rc == -1)
			return -1;
		if ((cfg->auth_dummy = malloc(sizeof(*cfg->auth_dummy))) ==
		    NULL) {
			snprintf(err, errlen, "%s: out of memory",
			    cfg->auth_file);
			return -1;
		}
		auth_dummy_make(cfg->auth_dummy, cfg->auth_users,
		    cfg->nauth_users);
	}
	for (i = 0; i < cfg->nupstreams; i++) {
		if (cfg->upstreams[i].cred_file[0] == '\0')
			continue;
		if (read_file(cfg->upstreams[i].cred_file, &text, &len, err,
		    errlen) == -1)
			return -1;
		rc = upstream_credentials(text, &cfg->upstreams[i].auth, msg,
		    sizeof(msg));
		memset(text, 0, len);
		free(text);
		if (rc == -1) {
			snprintf(err, errlen, "%s: %s",
			    cfg->upstreams[i].cred_file, msg);
			return -1;
		}
	}
	return 0;
}

int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	char		*buf;
	const char	*nul, *p;
	size_t		 len;
	unsigned	 lineno = 1;
	int		 rc;

	memset(cfg, 0, sizeof(*cfg));
	if (read_file(path, &buf, &len, err, errlen) == -1)
		return -1;
	/* A NUL would silently end the text config_parse_buffer() sees. */
	if ((nul = memchr(buf, '\0', len)) != NULL) {
		for (p = buf; p < nul; p++)
			lineno += *p == '\n';
		snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
		free(buf);
		return -1;
	}
	rc = config_parse_buffer(path, buf, cfg, err, errlen);
	free(buf);
	if (rc == 0 && (rc = load_named_files(cfg, err, errlen)) == -1)
		config_free(cfg);
	return rc;
}

void
config_resolver_options(const struct config *cfg, char *buf, size_t len)
{
	long long	secs = cfg->connect_timeout_ms / 1000 / 4;

	snprintf(buf, len, "timeout:%lld attempts:2",
	    secs < 1 ? 1 : secs > 30 ? 30 : secs);
}

void
config_free(struct config *cfg)
{
	size_t	i;

	free(cfg->listen);
	free(cfg->clients);
	free(cfg->ports);
	free(cfg->dests);
	free(cfg->auth_users);
	free(cfg->auth_dummy);
	for (i = 0; i < cfg->nupstreams; i++)
		upstream_free(&cfg->upstreams[i]);
	free(cfg->upstreams);
	memset(cfg, 0, sizeof(*cfg));
}
