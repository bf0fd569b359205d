/* SPDX-License-Identifier: ISC */
/*
 * Configuration parser: a table of directives, each with its argument
 * count, whether it may repeat, and a handler that validates and stores
 * its value.  config_parse_buffer() is pure; only config_load() touches
 * the file system.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "net.h"
#include "request.h"
#include "upstream.h"

#define CONFIG_LINE_MAX		4096	/* bytes, without the line end */
#define CONFIG_TOKENS_MAX	256	/* a directive and its arguments */
#define CONFIG_LIST_MAX		1024	/* entries per repeatable list */
#define CONFIG_FILE_MAX		(1024 * 1024)
#define CONFIG_QUOTE_MAX	44	/* echoed value, with its NUL */
#define CONFIG_WARNINGS_MAX	4096	/* bytes of warnings kept */
#define CONFIG_REPEATABLE	0x01
#define CONFIG_EACH		0x02	/* the handler takes one value at a
					   time, however many a line has */

#define MS_PER_YEAR		(365LL * 24 * 3600 * 1000)
#define SIZE_LIMIT		(1024ULL * 1024 * 1024)

#define NITEMS(a)		(sizeof(a) / sizeof((a)[0]))

/* A file being read, so that an include cannot read it again. */
struct file_id {
	dev_t	dev;
	ino_t	ino;
};

struct parse_ctx {
	struct config	*cfg;
	unsigned	 file;		/* cfg->files[] index being read */
	unsigned	 line;		/* its line; 0 once all are read */
	unsigned	 depth;		/* includes being read */
	int		 may_read;	/* include may read files */
	struct file_id	 reading[CONFIG_INCLUDE_DEPTH + 1];
	int		 located;	/* err is complete */
	char		 msg[CONFIG_ERR_MAX];	/* without "FILE:LINE: " */
	char		 err[2 * CONFIG_ERR_MAX];	/* with it */
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

/* hi 0: no upper bound, and lo is 0 or 1 ("greater than 0"). */
static int
duration_arg(struct parse_ctx *ctx, const char *name, const char *arg,
    long long lo, long long hi, long long *out)
{
	char	m[CONFIG_ERR_MAX / 2], q[CONFIG_QUOTE_MAX];

	if (config_parse_duration(arg, out, m, sizeof(m)) == -1)
		return ctx_err(ctx, "%s: %s", name, m);
	if (hi > 0 && (*out < lo || *out > hi))
		return ctx_err(ctx, "%s: \"%s\" out of range (%lldms to "
		    "%lldms)", name, quote(arg, q, sizeof(q)), lo, hi);
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
		    (long long)d->hi, (long long *)(void *)field);
	case VALUE_CUSTOM:
		break;
	}
	return ctx_err(ctx, "%s: no parser", d->name);
}

/*
 * "proxy_protocol" after a listen address: that address's connections
 * begin with a PROXY header.  It marks the address right before it on
 * the same line, so that "listen A proxy_protocol B" reads as written.
 */
static int
listen_option(struct parse_ctx *ctx, const char *name)
{
	struct config		*cfg = ctx->cfg;
	struct listen_addr	*la;

	la = cfg->nlisten > 0 ? &cfg->listen[cfg->nlisten - 1] : NULL;
	if (la == NULL || la->at.file != ctx->file ||
	    la->at.line != ctx->line)
		return ctx_err(ctx, "%s: proxy_protocol must follow the "
		    "address it applies to", name);
	if (la->proxy_protocol)
		return ctx_err(ctx, "%s: proxy_protocol given twice for %s",
		    name, la->text);
	la->proxy_protocol = 1;
	return 0;
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
	if (strcmp(argv[0], "proxy_protocol") == 0)
		return listen_option(ctx, name);
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
	cfg->listen[cfg->nlisten].at.file = ctx->file;
	cfg->listen[cfg->nlisten].at.line = ctx->line;
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

/* The prefix length of a CIDR as policy_cidr_parse() takes it. */
static int
cidr_prefix(const char *s, unsigned max, unsigned *out)
{
	const char		*p = s;
	unsigned long long	 v;

	if (parse_digits(&p, &v) == -1 || *p != '\0' || p - s > 3 ||
	    (p - s > 1 && s[0] == '0') || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/*
 * policy_cidr_parse(), and when it fails, why: not an address, a bad
 * prefix length, or host bits set after the prefix, with the block the
 * operator most likely meant.
 */
static int
cidr_arg(struct parse_ctx *ctx, const char *name, const char *what,
    const char *arg, struct cidr *c)
{
	unsigned char	 a[16];
	char		 addr[INET6_ADDRSTRLEN], net[INET6_ADDRSTRLEN];
	char		 hint[64];
	const char	*slash = strchr(arg, '/');
	size_t		 len = slash != NULL ? (size_t)(slash - arg) :
			    strlen(arg);
	unsigned	 i, max, prefix;
	int		 af;

	if (policy_cidr_parse(arg, c) == 0)
		return 0;
	af = memchr(arg, ':', len) != NULL ? AF_INET6 : AF_INET;
	max = af == AF_INET ? 32 : 128;
	if (len == 0 || len >= sizeof(addr))
		return bad_value(ctx, name, what, arg, " (not an IPv4 or IPv6 "
		    "address)");
	memcpy(addr, arg, len);
	addr[len] = '\0';
	if (inet_pton(af, addr, a) != 1)
		return bad_value(ctx, name, what, arg, " (not an IPv4 or IPv6 "
		    "address)");
	if (slash == NULL || cidr_prefix(slash + 1, max, &prefix) == -1) {
		snprintf(hint, sizeof(hint), " (prefix length 0 to %u)", max);
		return bad_value(ctx, name, what, arg, hint);
	}
	for (i = prefix; i < max; i++)
		a[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	if (inet_ntop(af, a, net, sizeof(net)) == NULL)
		return bad_value(ctx, name, what, arg, "");
	/* arg is an address and a prefix here: printable, and short. */
	return ctx_err(ctx, "%s: %s: host bits set (did you mean %s/%u?)",
	    name, arg, net, prefix);
}

/*
 * One client address block, added to a list matched as allow_client is:
 * allow_client, proxy_protocol_from and metrics_client.
 */
static int
add_client_block(struct parse_ctx *ctx, const char *name, const char *arg,
    struct cidr **list, size_t *n)
{
	struct cidr	 c;
	void		*p;

	if (cidr_arg(ctx, name, "CIDR", arg, &c) == -1 ||
	    embedded_block(ctx, name, "CIDR", arg, &c, 1) == -1)
		return -1;
	if ((p = list_grow(ctx, name, *list, *n, sizeof(**list))) == NULL)
		return -1;
	*list = p;
	(*list)[(*n)++] = c;
	return 0;
}

static int
set_client(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	return add_client_block(ctx, name, argv[0], &ctx->cfg->clients,
	    &ctx->cfg->nclients);
}

/* proxy_protocol_from: the balancers that may send a PROXY header. */
static int
set_proxy_from(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	return add_client_block(ctx, name, argv[0], &ctx->cfg->proxy_from,
	    &ctx->cfg->nproxy_from);
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
 * Lowercase a host name (request_name_check(), the request parser's own
 * rule) into dst (at most dstsize - 1 bytes) without its trailing dot;
 * dst may be src.  A last label of digits only is refused as well:
 * resolvers read "127.1" as an address, and the request parser never
 * hands such a name to the name rules.
 */
static int
normalize_name(const char *src, char *dst, size_t dstsize)
{
	size_t	i, len, last;

	len = strlen(src);
	if (len > 0 && src[len - 1] == '.')
		len--;
	if (len == 0 || len >= dstsize || request_name_check(src, len) != NULL)
		return -1;
	for (i = 0; i < len; i++)
		dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ?
		    (char)(src[i] - 'A' + 'a') : src[i];
	dst[len] = '\0';
	for (last = len; last > 0 && dst[last - 1] != '.'; last--)
		continue;
	return dst[last + strspn(dst + last, "0123456789")] == '\0' ? -1 : 0;
}

static int
parse_dest(struct parse_ctx *ctx, const char *name, const char *arg,
    struct dest_rule *r)
{
	unsigned char	a[4];

	if (strchr(arg, ':') != NULL || strchr(arg, '/') != NULL ||
	    inet_pton(AF_INET, arg, a) == 1) {
		r->kind = DEST_CIDR;
		if (cidr_arg(ctx, name, "address or CIDR", arg, &r->cidr) ==
		    -1)
			return -1;
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
	/* syslog's own word for it, which an operator may well write. */
	if (strcmp(argv[0], "warning") == 0) {
		ctx->cfg->log_level = LOG_LEVEL_WARN;
		return 0;
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
		ctx->cfg->access_log_format = RECORD_FORMAT_TEXT;
	else if (strcmp(argv[0], "json") == 0)
		ctx->cfg->access_log_format = RECORD_FORMAT_JSON;
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

/*
 * metrics_listen ADDR:PORT | off: one address, like a listen line's.
 * "off" leaves it zeroed, as when the directive is absent.
 */
static int
set_metrics_listen(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	struct listen_addr	*m = &ctx->cfg->metrics_listen;

	(void)argc;
	if (strcmp(argv[0], "off") == 0)
		return 0;
	if (net_parse_addrport(argv[0], &m->ss, &m->len) == -1)
		return bad_value(ctx, name, "address", argv[0],
		    " (numeric IPv4:PORT or [IPv6]:PORT, or off)");
	m->at.file = ctx->file;
	m->at.line = ctx->line;
	net_format((struct sockaddr *)&m->ss, m->text, sizeof(m->text));
	return 0;
}

/* metrics_client CIDR: who may scrape, matched as allow_client is. */
static int
set_metrics_client(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	(void)argc;
	return add_client_block(ctx, name, argv[0],
	    &ctx->cfg->metrics_clients, &ctx->cfg->nmetrics_clients);
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

static int
set_pac_file(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	size_t	len = strlen(argv[0]);

	(void)argc;
	if (len == 0 || len >= sizeof(ctx->cfg->pac_file))
		return bad_value(ctx, name, "path", argv[0], "");
	memcpy(ctx->cfg->pac_file, argv[0], len + 1);
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
	u->at_file = ctx->file;
	u->at_line = ctx->line;
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
/* A duration in [lo, hi] ms. */
#define DURATION_IN(f, lo, hi)	NULL, VALUE_DURATION, FIELD(f), lo, hi
/* A list: one or more values a line, each handled on its own. */
#define LIST		1, CONFIG_TOKENS_MAX - 1, \
			    CONFIG_REPEATABLE | CONFIG_EACH

static int	set_include(struct parse_ctx *, const char *, int,
		    const char *const *);

static const struct directive directives[] = {
	{ "listen",		LIST, CUSTOM(set_listen) },
	{ "allow_client",	LIST, CUSTOM(set_client) },
	{ "allow_port",		LIST, CUSTOM(set_port) },
	{ "allow_dest",		LIST, CUSTOM(set_allow_dest) },
	{ "deny_dest",		LIST, CUSTOM(set_deny_dest) },
	{ "header_timeout",	1, 1, 0, DURATION(header_timeout_ms, 1) },
	{ "connect_timeout",	1, 1, 0, DURATION(connect_timeout_ms, 1) },
	/* RFC 8305 section 5: at least 10 ms, at most 2 s. */
	{ "connect_attempt_delay", 1, 1, 0, DURATION_IN(
	    connect_attempt_delay_ms, 10, 2000) },
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
	{ "pac_file",		1, 1, 0, CUSTOM(set_pac_file) },
	{ "include",		LIST, CUSTOM(set_include) },
	{ "proxy_protocol_from", LIST, CUSTOM(set_proxy_from) },
	{ "metrics_listen",	1, 1, 0, CUSTOM(set_metrics_listen) },
	{ "metrics_client",	LIST, CUSTOM(set_metrics_client) },
};

_Static_assert(NITEMS(directives) <= CONFIG_DIRECTIVES_MAX,
    "struct config records where each directive is");

/*
 * A word in double quotes, *sp at its opening quote: copied in place
 * without the quotes, \" and \\ its only escapes (any other backslash is
 * an error, so that none is ever silently taken as written).  It ends on
 * its line, and a blank or the line end follows it.  *sp is left after
 * the closing quote.
 */
static int
quoted_word(struct parse_ctx *ctx, char **sp)
{
	char	*r = *sp + 1, *w = *sp;

	for (;; r++) {
		if (*r == '\0')
			return ctx_err(ctx, "unterminated quoted value (the "
			    "closing \" is missing)");
		if (*r == '"')
			break;
		if ((unsigned char)*r < 0x20 || *r == 0x7f)
			return ctx_err(ctx, "control character in line");
		if (*r == '\\' && r[1] != '"' && r[1] != '\\')
			return ctx_err(ctx, "bad escape in quoted value (only "
			    "\\\" and \\\\)");
		if (*r == '\\')
			r++;
		*w++ = *r;
	}
	r++;
	if (*r != '\0' && *r != ' ' && *r != '\t')
		return ctx_err(ctx, "a blank must follow a quoted value");
	*w = '\0';
	*sp = r;
	return 0;
}

/*
 * Split s in place into words on spaces and tabs; a word starting with
 * '#' ends the line, a word starting with '"' is quoted (quoted_word()).
 * A quote inside a bare word is an error rather than part of it.
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
		if (*argc == CONFIG_TOKENS_MAX)
			return ctx_err(ctx, "too many words on one line (max "
			    "%d)", CONFIG_TOKENS_MAX);
		argv[(*argc)++] = s;
		if (*s == '"') {
			if (quoted_word(ctx, &s) == -1)
				return -1;
			continue;
		}
		for (; *s != '\0' && *s != ' ' && *s != '\t'; s++) {
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				return ctx_err(ctx, "control character in "
				    "line");
			if (*s == '"')
				return ctx_err(ctx, "quote inside a word "
				    "(quote the whole value)");
		}
		if (*s != '\0')
			*s++ = '\0';
	}
}

static int
arity_err(struct parse_ctx *ctx, const struct directive *d)
{
	if (d->min_args == d->max_args)
		return ctx_err(ctx, "%s: expects %d argument%s", d->name,
		    d->min_args, d->min_args == 1 ? "" : "s");
	if (d->max_args == CONFIG_TOKENS_MAX - 1)
		return ctx_err(ctx, "%s: expects at least %d argument%s",
		    d->name, d->min_args, d->min_args == 1 ? "" : "s");
	return ctx_err(ctx, "%s: expects %d to %d arguments", d->name,
	    d->min_args, d->max_args);
}

/* A directive given again that may be given once. */
static int
given_twice(struct parse_ctx *ctx, const struct directive *d,
    struct config_loc first)
{
	char	where[CONFIG_ERR_MAX / 2];

	if (first.file == ctx->file)
		return ctx_err(ctx, "%s given twice (first at line %u)",
		    d->name, first.line);
	return ctx_err(ctx, "%s given twice (first at %s)", d->name,
	    config_where(ctx->cfg, first, where, sizeof(where)));
}

static int
parse_line(struct parse_ctx *ctx, char *line)
{
	const char		*argv[CONFIG_TOKENS_MAX];
	const struct directive	*d = NULL;
	struct config_loc	*at;
	char			 q[CONFIG_QUOTE_MAX];
	size_t			 i;
	int			 argc, k;

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
	if (argc - 1 < d->min_args || argc - 1 > d->max_args)
		return arity_err(ctx, d);
	at = &ctx->cfg->at[d - directives];
	if ((d->flags & CONFIG_REPEATABLE) == 0 && at->line != 0)
		return given_twice(ctx, d, *at);
	at->file = ctx->file;
	at->line = ctx->line;
	if (d->kind != VALUE_CUSTOM)
		return set_value(ctx, d, argv[1]);
	if ((d->flags & CONFIG_EACH) == 0)
		return d->handler(ctx, d->name, argc - 1, argv + 1);
	for (k = 1; k < argc; k++)
		if (d->handler(ctx, d->name, 1, argv + k) == -1)
			return -1;
	return 0;
}

/*
 * Parse the lines of text as cfg->files[ctx->file].  On -1 ctx->err holds
 * "FILE:LINE: message" of the line at fault, in this file or in one it
 * includes.
 */
static int
parse_text(struct parse_ctx *ctx, const char *text)
{
	const char	*eol;
	char		 line[CONFIG_LINE_MAX + 1];
	size_t		 len;
	int		 rc = 0;

	ctx->line = 0;
	for (; *text != '\0' && rc == 0; text = *eol == '\0' ? eol : eol + 1) {
		ctx->line++;
		if ((eol = strchr(text, '\n')) == NULL)
			eol = text + strlen(text);
		len = (size_t)(eol - text);
		/* CRLF files from Windows editors are common enough. */
		if (len > 0 && text[len - 1] == '\r')
			len--;
		if (len > CONFIG_LINE_MAX)
			rc = ctx_err(ctx, "line too long (max %d bytes)",
			    CONFIG_LINE_MAX);
		else {
			memcpy(line, text, len);
			line[len] = '\0';
			rc = parse_line(ctx, line);
		}
	}
	if (rc == 0)
		return 0;
	if (!ctx->located)
		snprintf(ctx->err, sizeof(ctx->err), "%s:%u: %s",
		    ctx->cfg->files[ctx->file], ctx->line, ctx->msg);
	ctx->located = 1;
	return -1;
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
	cfg->connect_attempt_delay_ms = 250;	/* RFC 8305's */
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
	/* The kernel's maximum: listen() caps it at net.core.somaxconn. */
	cfg->listen_backlog = 65535;
	cfg->when_full = WHEN_FULL_QUEUE;
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->access_log = LOG_SINK_STDERR;
	cfg->access_log_format = RECORD_FORMAT_TEXT;
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
	if (cfg->nmetrics_clients == 0 && (set_metrics_client(ctx,
	    "metrics_client", 1, v4) == -1 || set_metrics_client(ctx,
	    "metrics_client", 1, v6) == -1))
		return -1;
	return 0;
}

/*
 * Where the later of two directives was given (line 0 when both have
 * their defaults): where the pair stopped making sense.  Across files,
 * the one given in the file read later.
 */
static struct config_loc
pair_at(const struct config *cfg, const char *a, const char *b)
{
	struct config_loc	la = config_at(cfg, a), lb = config_at(cfg, b);

	if (la.line == 0)
		return lb;
	if (lb.line == 0)
		return la;
	if (la.file != lb.file)
		return la.file > lb.file ? la : lb;
	return la.line > lb.line ? la : lb;
}

/* ctx_err() located at the later of directives a and b, when given. */
static int
pair_err(struct parse_ctx *ctx, const char *a, const char *b)
{
	struct config_loc	at = pair_at(ctx->cfg, a, b);
	char			where[CONFIG_PATH_MAX + 16];

	if (at.line == 0)
		return -1;
	snprintf(ctx->err, sizeof(ctx->err), "%s: %s", config_where(ctx->cfg,
	    at, where, sizeof(where)), ctx->msg);
	ctx->located = 1;
	return -1;
}

/* Pool sizes that only make sense together, checked after the last line. */
static int
check_pool(struct parse_ctx *ctx)
{
	const struct config	*cfg = ctx->cfg;

	if (cfg->workers_start > cfg->workers_max) {
		(void)ctx_err(ctx, "workers_start %u is above workers_max %u",
		    cfg->workers_start, cfg->workers_max);
		return pair_err(ctx, "workers_start", "workers_max");
	}
	if (cfg->workers_min_spare > cfg->workers_max_spare) {
		(void)ctx_err(ctx, "workers_min_spare %u is above "
		    "workers_max_spare %u", cfg->workers_min_spare,
		    cfg->workers_max_spare);
		return pair_err(ctx, "workers_min_spare", "workers_max_spare");
	}
	if (cfg->workers_min_spare > cfg->workers_max) {
		(void)ctx_err(ctx, "workers_min_spare %u is above "
		    "workers_max %u", cfg->workers_min_spare,
		    cfg->workers_max);
		return pair_err(ctx, "workers_min_spare", "workers_max");
	}
	return 0;
}

/*
 * The metrics endpoint cannot share a port with the proxy: one socket
 * per address, and a CONNECT client must never get the metrics.
 */
static int
check_metrics(struct parse_ctx *ctx)
{
	const struct config	*cfg = ctx->cfg;
	const struct listen_addr *m = &cfg->metrics_listen;
	char			 where[CONFIG_PATH_MAX + 16];
	size_t			 i;

	for (i = 0; m->len != 0 && i < cfg->nlisten; i++) {
		if (cfg->listen[i].len != m->len ||
		    memcmp(&cfg->listen[i].ss, &m->ss, m->len) != 0)
			continue;
		snprintf(ctx->err, sizeof(ctx->err), "%s: metrics_listen %s: "
		    "also a listen address (give the metrics a port of their "
		    "own)", config_where(cfg, m->at, where, sizeof(where)),
		    m->text);
		ctx->located = 1;
		return -1;
	}
	return 0;
}

/* Append a copy of path to cfg->files, its index into *idx.  0 or -1. */
static int
files_add(struct parse_ctx *ctx, const char *path, unsigned *idx)
{
	struct config	 *cfg = ctx->cfg;
	char		 *copy, **p;

	if (cfg->nfiles == CONFIG_FILES_MAX)
		return ctx_err(ctx, "include: too many files (max %d in all)",
		    CONFIG_FILES_MAX);
	if ((copy = strdup(path)) == NULL || (p = realloc(cfg->files,
	    (cfg->nfiles + 1) * sizeof(*p))) == NULL) {
		free(copy);
		return ctx_err(ctx, "out of memory");
	}
	cfg->files = p;
	cfg->files[cfg->nfiles] = copy;
	*idx = (unsigned)cfg->nfiles++;
	return 0;
}

/* Add a line to cfg->warnings (dropped past CONFIG_WARNINGS_MAX bytes). */
static void	warn_add(struct config *, const char *, ...)
		    __attribute__((__format__(__printf__, 2, 3)));

static void
warn_add(struct config *cfg, const char *fmt, ...)
{
	char	line[CONFIG_ERR_MAX], *p;
	size_t	have = cfg->warnings != NULL ? strlen(cfg->warnings) : 0, n;
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	n = strlen(line);
	if (have + n + 2 > CONFIG_WARNINGS_MAX ||
	    (p = realloc(cfg->warnings, have + n + 2)) == NULL)
		return;
	memcpy(p + have, line, n);
	memcpy(p + have + n, "\n", 2);
	cfg->warnings = p;
}

/*
 * A proxy_protocol listener trusts the address a PROXY header claims:
 * only from the balancers proxy_protocol_from names, and there is no
 * safe default for those.  Refused at the first such listen line; the
 * balancers named for no such listener are only a warning.
 */
static int
check_proxy(struct parse_ctx *ctx)
{
	const struct config	*cfg = ctx->cfg;
	char			 where[CONFIG_PATH_MAX + 16];
	size_t			 i;

	for (i = 0; i < cfg->nlisten; i++) {
		if (!cfg->listen[i].proxy_protocol)
			continue;
		if (cfg->nproxy_from > 0)
			return 0;
		snprintf(ctx->err, sizeof(ctx->err), "%s: listen %s "
		    "proxy_protocol: no proxy_protocol_from names the "
		    "balancers that may send the header", config_where(cfg,
		    cfg->listen[i].at, where, sizeof(where)),
		    cfg->listen[i].text);
		ctx->located = 1;
		return -1;
	}
	if (cfg->nproxy_from > 0) {
		config_where(cfg, config_at(cfg, "proxy_protocol_from"), where,
		    sizeof(where));
		warn_add(ctx->cfg, "%s: proxy_protocol_from: no listen address "
		    "has proxy_protocol, so no header is ever read", where);
	}
	return 0;
}

/* Defaults in cfg, and `file` its first file. */
static int
parse_start(struct parse_ctx *ctx, struct config *cfg, const char *file)
{
	unsigned	idx;

	config_defaults(cfg);
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	return files_add(ctx, file, &idx);
}

/*
 * After the last line (rc 0) the lists left empty get their defaults and
 * the directives that depend on each other are checked.  Returns 0, or -1
 * with the message in err and cfg freed.
 */
static int
parse_end(struct parse_ctx *ctx, const char *file, int rc, char *err,
    size_t errlen)
{
	ctx->file = 0;
	ctx->line = 0;
	if (rc == 0 && (list_defaults(ctx) == -1 || check_pool(ctx) == -1 ||
	    check_proxy(ctx) == -1 || check_metrics(ctx) == -1))
		rc = -1;
	if (rc == 0)
		return 0;
	if (ctx->located)
		snprintf(err, errlen, "%s", ctx->err);
	else
		snprintf(err, errlen, "%s: %s", file, ctx->msg);
	config_free(ctx->cfg);
	return -1;
}

int
config_parse_buffer(const char *file, const char *text, struct config *cfg,
    char *err, size_t errlen)
{
	struct parse_ctx	ctx;
	int			rc;

	if ((rc = parse_start(&ctx, cfg, file)) == 0)
		rc = parse_text(&ctx, text);
	return parse_end(&ctx, file, rc, err, errlen);
}

/*
 * Read at most `max` bytes of path into a NUL-terminated *out, its
 * status into *st.  With `regular`, anything but a regular file is
 * refused, opened without blocking so that a FIFO cannot hang us.  On -1
 * the reason, without the path, is in err.
 */
static int
read_file_max(const char *path, int regular, size_t max, char **out,
    size_t *outlen, struct stat *st, char *err, size_t errlen)
{
	char	*buf = NULL;
	size_t	 len = 0;
	ssize_t	 n = 0;
	int	 fd, saved = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC |
	    (regular ? O_NONBLOCK : 0))) == -1 || fstat(fd, st) == -1 ||
	    (buf = malloc(max + 2)) == NULL)
		saved = errno;
	else if (regular && !S_ISREG(st->st_mode))
		n = -2;
	while (saved == 0 && n >= 0) {
		n = read(fd, buf + len, max + 1 - len);
		if (n > 0 && (len += (size_t)n) > max)
			break;
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n == -1)
			saved = errno;
		else if (n == 0)
			break;
	}
	if (fd != -1)
		close(fd);
	if (saved == 0 && n != -2 && len <= max) {
		buf[len] = '\0';
		*out = buf;
		*outlen = len;
		return 0;
	}
	if (saved != 0)
		snprintf(err, errlen, "%s", strerror(saved));
	else if (n == -2)
		snprintf(err, errlen, "not a regular file");
	else
		snprintf(err, errlen, "file too large (max %zu bytes)", max);
	free(buf);
	return -1;
}

/* A configuration file, or one it names: at most CONFIG_FILE_MAX bytes. */
static int
read_file(const char *path, int regular, char **out, size_t *outlen,
    struct stat *st, char *err, size_t errlen)
{
	return read_file_max(path, regular, CONFIG_FILE_MAX, out, outlen, st,
	    err, errlen);
}

/*
 * parse_text() of the text of a file just read (len bytes): a NUL in it
 * would silently end the text that parse_text() sees.
 */
static int
parse_file_text(struct parse_ctx *ctx, const char *text, size_t len)
{
	const char	*nul = memchr(text, '\0', len), *p;
	unsigned	 line = 1;

	if (nul == NULL)
		return parse_text(ctx, text);
	for (p = text; p < nul; p++)
		line += *p == '\n';
	snprintf(ctx->err, sizeof(ctx->err), "%s:%u: NUL byte in line",
	    ctx->cfg->files[ctx->file], line);
	ctx->located = 1;
	return -1;
}

/*
 * Read and parse one included file, `path` as it is to be opened.  The
 * location of the include line is restored after it.
 */
static int
include_file(struct parse_ctx *ctx, const char *path)
{
	struct stat	 st;
	char		*text, why[CONFIG_ERR_MAX / 2], q[CONFIG_PATH_MAX];
	size_t		 len, i;
	unsigned	 file = ctx->file, line = ctx->line, idx;
	int		 rc;

	quote(path, q, sizeof(q));
	if (read_file(path, 1, &text, &len, &st, why, sizeof(why)) == -1)
		return ctx_err(ctx, "include %s: %s", q, why);
	for (i = 0; i <= ctx->depth; i++) {
		if (ctx->reading[i].dev == st.st_dev &&
		    ctx->reading[i].ino == st.st_ino) {
			free(text);
			return ctx_err(ctx, "include %s: a loop (that file is "
			    "being read already)", q);
		}
	}
	if (ctx->depth == CONFIG_INCLUDE_DEPTH) {
		free(text);
		return ctx_err(ctx, "include %s: nested too deep (max %d "
		    "levels)", q, CONFIG_INCLUDE_DEPTH);
	}
	if (files_add(ctx, path, &idx) == -1) {
		free(text);
		return -1;
	}
	ctx->depth++;
	ctx->reading[ctx->depth].dev = st.st_dev;
	ctx->reading[ctx->depth].ino = st.st_ino;
	ctx->file = idx;
	rc = parse_file_text(ctx, text, len);
	ctx->depth--;
	ctx->file = file;
	ctx->line = line;
	free(text);
	return rc;
}

/*
 * The include operand `arg` as a path: as written when absolute, else
 * after the directory of the file it is in, with that directory's own
 * wildcards escaped when the result is for glob(3).  0 or -1 (too long).
 */
static int
include_path(const struct parse_ctx *ctx, const char *arg, int for_glob,
    char *out, size_t outlen)
{
	const char	*file = ctx->cfg->files[ctx->file];
	const char	*slash = strrchr(file, '/');
	size_t		 o = 0, i, dirlen, n = strlen(arg);

	dirlen = arg[0] == '/' || slash == NULL ? 0 :
	    (size_t)(slash - file) + 1;
	for (i = 0; i < dirlen; i++) {
		if (o + 2 >= outlen)
			return -1;
		if (for_glob && strchr("*?[\\", file[i]) != NULL)
			out[o++] = '\\';
		out[o++] = file[i];
	}
	if (o + n >= outlen)
		return -1;
	memcpy(out + o, arg, n + 1);
	return 0;
}

/*
 * glob(3)'s report of a directory it could not read: a missing one is no
 * match, any other failure (EACCES) stops it, remembered for the message.
 * Static: glob(3) gives the callback no context (parsing is not threaded).
 */
static char	glob_failed[CONFIG_PATH_MAX];
static int	glob_errno;

static int
glob_error(const char *path, int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return 0;
	quote(path, glob_failed, sizeof(glob_failed));
	glob_errno = e;
	return 1;
}

/*
 * include PATTERN: each file the glob(3) pattern matches, in glob's
 * (sorted) order.  A pattern without a wildcard names one file, which
 * must exist; one with a wildcard may match none (an empty directory of
 * rules), which is only a warning.
 */
static int
set_include(struct parse_ctx *ctx, const char *name, int argc,
    const char *const *argv)
{
	char	 path[2 * CONFIG_PATH_MAX], where[CONFIG_ERR_MAX / 2];
	char	 q[CONFIG_PATH_MAX];
	glob_t	 g;
	size_t	 i;
	int	 rc = 0, wild = strpbrk(argv[0], "*?[") != NULL;

	(void)argc;
	if (!ctx->may_read)
		return ctx_err(ctx, "%s: only in a file (config_parse_file)",
		    name);
	if (argv[0][0] == '\0' || include_path(ctx, argv[0], wild, path,
	    sizeof(path)) == -1)
		return bad_value(ctx, name, "path", argv[0], "");
	if (!wild)
		return include_file(ctx, path);
	glob_errno = 0;
	switch (glob(path, 0, glob_error, &g)) {
	case 0:
		break;
	case GLOB_NOMATCH:
		config_where(ctx->cfg, (struct config_loc){ ctx->file,
		    ctx->line }, where, sizeof(where));
		warn_add(ctx->cfg, "%s: %s %s matches no file", where, name,
		    quote(path, q, sizeof(q)));
		return 0;
	case GLOB_ABORTED:
		if (glob_errno != 0)
			return ctx_err(ctx, "%s %s: %s: %s", name,
			    quote(path, q, sizeof(q)), glob_failed,
			    strerror(glob_errno));
		/* FALLTHROUGH */
	default:
		return ctx_err(ctx, "%s %s: %s", name, quote(path, q,
		    sizeof(q)), strerror(errno));
	}
	for (i = 0; i < g.gl_pathc && rc == 0; i++)
		rc = include_file(ctx, g.gl_pathv[i]);
	globfree(&g);
	return rc;
}

int
config_parse_file(const char *path, struct config *cfg, char *err,
    size_t errlen)
{
	struct parse_ctx	 ctx;
	struct stat		 st;
	char			*text, why[CONFIG_ERR_MAX / 2];
	size_t			 len;
	int			 rc;

	memset(cfg, 0, sizeof(*cfg));
	if (read_file(path, 0, &text, &len, &st, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	if ((rc = parse_start(&ctx, cfg, path)) == 0) {
		ctx.may_read = 1;
		ctx.reading[0].dev = st.st_dev;
		ctx.reading[0].ino = st.st_ino;
		rc = parse_file_text(&ctx, text, len);
	}
	free(text);
	return parse_end(&ctx, path, rc, err, errlen);
}

/*
 * A file the proxy reads secrets from that every user of the host can
 * read: worth a warning (hashes can be attacked offline, a password read).
 */
static void
warn_readable(struct config *cfg, const char *where, const char *what,
    const char *path, const struct stat *st)
{
	if ((st->st_mode & S_IROTH) == 0)
		return;
	warn_add(cfg, "%s: %s %s: every user of this host can read it (mode "
	    "%04o); make it readable by the proxy only (chmod o-r %s)", where,
	    what, path, (unsigned)(st->st_mode & 07777), path);
}

/* The auth_file users, and the dummy hash for unknown users. */
static int
load_auth_file(struct config *cfg, char *err, size_t errlen)
{
	struct stat	 st;
	char		*text, why[CONFIG_ERR_MAX / 2];
	char		 where[CONFIG_ERR_MAX / 2];
	size_t		 len;
	int		 rc;

	config_where(cfg, config_at(cfg, "auth_file"), where, sizeof(where));
	if (read_file(cfg->auth_file, 0, &text, &len, &st, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: auth_file %s: %s", where,
		    cfg->auth_file, why);
		return -1;
	}
	rc = auth_parse_file(cfg->auth_file, text, &cfg->auth_users,
	    &cfg->nauth_users, err, errlen);
	free(text);
	if (rc == -1)
		return -1;
	warn_readable(cfg, where, "auth_file", cfg->auth_file, &st);
	if ((cfg->auth_dummy = malloc(sizeof(*cfg->auth_dummy))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", cfg->auth_file);
		return -1;
	}
	auth_dummy_make(cfg->auth_dummy, cfg->auth_users, cfg->nauth_users);
	return 0;
}

/* An upstream's credentials file, never echoed in a message. */
static int
load_credentials(struct config *cfg, struct upstream *u, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*text, why[CONFIG_ERR_MAX / 2];
	char		 where[CONFIG_ERR_MAX / 2];
	size_t		 len;
	int		 rc;

	config_where(cfg, (struct config_loc){ u->at_file, u->at_line },
	    where, sizeof(where));
	if (read_file(u->cred_file, 0, &text, &len, &st, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: upstream %s: credentials %s: %s",
		    where, u->text, u->cred_file, why);
		return -1;
	}
	rc = upstream_credentials(text, &u->auth, why, sizeof(why));
	memset(text, 0, len);
	free(text);
	if (rc == -1) {
		snprintf(err, errlen, "%s: upstream %s: credentials %s: %s",
		    where, u->text, u->cred_file, why);
		return -1;
	}
	warn_readable(cfg, where, "credentials", u->cred_file, &st);
	return 0;
}

/*
 * The pac_file's bytes, kept for the workers to serve as they are: a
 * regular file, not empty, at most CONFIG_PAC_MAX bytes.  Read here, by
 * the master before any privilege drop, never by a worker.
 */
static int
load_pac_file(struct config *cfg, char *err, size_t errlen)
{
	struct stat	 st;
	char		*text, *p, why[CONFIG_ERR_MAX / 2];
	char		 where[CONFIG_ERR_MAX / 2];
	size_t		 len;

	config_where(cfg, config_at(cfg, "pac_file"), where, sizeof(where));
	if (read_file_max(cfg->pac_file, 1, CONFIG_PAC_MAX, &text, &len, &st,
	    why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: pac_file %s: %s", where,
		    cfg->pac_file, why);
		return -1;
	}
	if (len == 0) {
		free(text);
		snprintf(err, errlen, "%s: pac_file %s: empty file", where,
		    cfg->pac_file);
		return -1;
	}
	/* The buffer was sized for the bound: keep only the file. */
	if ((p = realloc(text, len + 1)) != NULL)
		text = p;
	cfg->pac = text;
	cfg->pac_len = len;
	return 0;
}

/*
 * The files a config names, read when it is loaded (so a reload re-reads
 * them and -t checks them): the auth_file users, then each upstream's
 * credentials, then the pac_file.
 */
static int
load_named_files(struct config *cfg, char *err, size_t errlen)
{
	size_t	i;

	if (cfg->auth_file[0] != '\0' && load_auth_file(cfg, err, errlen) ==
	    -1)
		return -1;
	for (i = 0; i < cfg->nupstreams; i++)
		if (cfg->upstreams[i].cred_file[0] != '\0' &&
		    load_credentials(cfg, &cfg->upstreams[i], err, errlen) ==
		    -1)
			return -1;
	if (cfg->pac_file[0] != '\0' && load_pac_file(cfg, err, errlen) == -1)
		return -1;
	return 0;
}

int
config_load(const char *path, struct config *cfg, char *err, size_t errlen)
{
	if (config_parse_file(path, cfg, err, errlen) == -1)
		return -1;
	if (load_named_files(cfg, err, errlen) == -1) {
		config_free(cfg);
		return -1;
	}
	return 0;
}

const char *
config_where(const struct config *cfg, struct config_loc at, char *buf,
    size_t len)
{
	const char	*first = cfg->nfiles > 0 ? cfg->files[0] :
			    "configuration";

	if (at.line == 0 || at.file >= cfg->nfiles)
		snprintf(buf, len, "%s", first);
	else
		snprintf(buf, len, "%s:%u", cfg->files[at.file], at.line);
	return buf;
}

struct config_loc
config_at(const struct config *cfg, const char *name)
{
	struct config_loc	none = { 0, 0 };
	size_t			i;

	for (i = 0; i < NITEMS(directives); i++)
		if (strcmp(directives[i].name, name) == 0)
			return cfg->at[i];
	return none;
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
	free(cfg->proxy_from);
	free(cfg->clients);
	free(cfg->metrics_clients);
	free(cfg->ports);
	free(cfg->dests);
	free(cfg->auth_users);
	free(cfg->auth_dummy);
	for (i = 0; i < cfg->nupstreams; i++)
		upstream_free(&cfg->upstreams[i]);
	free(cfg->upstreams);
	free(cfg->pac);
	for (i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	free(cfg->warnings);
	memset(cfg, 0, sizeof(*cfg));
}
