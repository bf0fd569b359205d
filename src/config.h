/* SPDX-License-Identifier: ISC */
/*
 * Configuration: the directive table, the parsed result (one immutable
 * struct config per generation) and the value parsers it is built from.
 * Parsing is pure: config_parse_buffer() touches no file and no socket.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"
#include "policy.h"
#include "record.h"

struct auth_dummy;
struct auth_entry;
struct upstream;

#define CONFIG_ERR_MAX		512
#define CONFIG_USER_MAX		64
#define CONFIG_PATH_MAX		1024
#define CONFIG_REALM_MAX	64	/* AUTH_REALM_MAX */
#define CONFIG_WORKERS_MAX	4096	/* scoreboard slots are sized by it */
#define CONFIG_LISTEN_MAX	64	/* an idle worker polls every listener */
#define CONFIG_FILES_MAX	64	/* the file given and all it includes */
#define CONFIG_INCLUDE_DEPTH	8	/* includes within includes */
#define CONFIG_DIRECTIVES_MAX	64	/* rows of the directive table */
#define CONFIG_PAC_MAX		(64 * 1024)	/* bytes of a pac_file */

enum when_full {
	WHEN_FULL_QUEUE,	/* connections wait in the listen backlog */
	WHEN_FULL_REJECT	/* a reserve process answers 503 at once */
};

/*
 * Where a directive was given: line `line` of the configuration's
 * files[file].  Line 0: not given (its default applies).
 */
struct config_loc {
	unsigned	file;
	unsigned	line;
};

struct listen_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[64];	/* as "ip:port" / "[ip]:port" */
	struct config_loc	at;		/* its listen line */
	int			proxy_protocol;	/* every connection starts with
						   a PROXY header (proxyproto.h) */
};

struct config {
	struct listen_addr	*listen;
	size_t			 nlisten;
	struct cidr		*clients;	/* allow_client */
	size_t			 nclients;
	struct cidr		*metrics_clients;	/* metrics_client */
	size_t			 nmetrics_clients;
	struct port_range	*ports;		/* allow_port */
	size_t			 nports;
	struct dest_rule	*dests;		/* allow_dest / deny_dest, in order */
	size_t			 ndests;
	struct cidr		*proxy_from;	/* proxy_protocol_from */
	size_t			 nproxy_from;

	long long		 header_timeout_ms;
	long long		 connect_timeout_ms;
	long long		 connect_attempt_delay_ms;	/* RFC 8305 */
	long long		 idle_timeout_ms;
	long long		 drain_timeout_ms;	/* 0: unlimited */
	long long		 shutdown_timeout_ms;
	size_t			 max_header_size;
	unsigned		 max_header_fields;
	size_t			 relay_buffer;
	unsigned		 workers_start;
	unsigned		 workers_min_spare;
	unsigned		 workers_max_spare;
	unsigned		 workers_max;
	unsigned		 worker_max_tunnels;	/* 0: never recycle */
	unsigned		 max_tunnels_per_client; /* 0: no limit */
	unsigned		 max_tunnels_ipv6_prefix; /* IPv6 per /N */
	unsigned		 listen_backlog;
	enum when_full		 when_full;
	char			 pidfile[CONFIG_PATH_MAX];	/* "" unset */
	char			 user[CONFIG_USER_MAX];	/* "" when unset */
	enum log_level		 log_level;
	enum log_sink		 access_log;
	char			 access_log_path[CONFIG_PATH_MAX];
	enum record_format	 access_log_format;
	enum log_sink		 error_log;
	char			 error_log_path[CONFIG_PATH_MAX];
	/* "" the runtime directory's connectproxy.sock; "off" none. */
	char			 control_socket[CONFIG_PATH_MAX];
	/* metrics_listen; len 0: off (the default). */
	struct listen_addr	 metrics_listen;

	/* auth_file, auth_realm: the users are read by config_load(). */
	char			 auth_file[CONFIG_PATH_MAX];	/* "" off */
	char			 auth_realm[CONFIG_REALM_MAX + 1];
	struct auth_entry	*auth_users;
	size_t			 nauth_users;
	struct auth_dummy	*auth_dummy;	/* for unknown users */
	struct upstream		*upstreams;	/* upstream, in order */
	size_t			 nupstreams;

	/* pac_file: its bytes are read by config_load() (else NULL). */
	char			 pac_file[CONFIG_PATH_MAX];	/* "" off */
	char			*pac;
	size_t			 pac_len;

	/* Where each directive was given, for messages: config_where(). */
	char			**files;	/* [0] the file read first, then
						   each one it includes */
	size_t			  nfiles;
	struct config_loc	  at[CONFIG_DIRECTIVES_MAX];	/* by table
						   row; a list's last line */
	char			 *warnings;	/* lines, or NULL: see
						   preflight_warn() */
};

/*
 * Parse `text` (NUL-terminated) as a configuration file called `file`
 * (used only in messages) into `cfg`, which is first set to defaults.
 * After the last line, empty lists get their defaults (listen
 * 127.0.0.1:3128, allow_client loopback, allow_port 443, metrics_client
 * loopback); a listen address with proxy_protocol and no
 * proxy_protocol_from is an error at its line.  Returns 0, or -1
 * with "FILE:LINE: message" in err; on -1 cfg is freed and reset.
 * The caller owns cfg and frees it with config_free().  Pure: an
 * `include` line is an error here (see config_parse_file()).
 */
int	config_parse_buffer(const char *file, const char *text,
	    struct config *cfg, char *err, size_t errlen);

/*
 * Read `path` and parse it as config_parse_buffer() does, reading the
 * files each `include` names (a glob(3) pattern, relative to the
 * directory of the file it is in; at most CONFIG_INCLUDE_DEPTH deep and
 * CONFIG_FILES_MAX files; a file that includes itself is an error).
 * Errors are "FILE:LINE: message" of the file where they are, or "PATH:
 * strerror" when `path` itself cannot be read.  Nothing else is read:
 * for `status`, which may not be allowed to read the auth_file.
 */
int	config_parse_file(const char *path, struct config *cfg, char *err,
	    size_t errlen);

/*
 * config_parse_file(), then read the files it names: the auth_file users
 * (a file that cannot be read "FILE:LINE: auth_file PATH: strerror" at
 * its directive, a bad line "AUTHFILE:LINE: message"), each upstream
 * credentials file ("FILE:LINE: upstream HOST:PORT: credentials PATH:
 * reason") and the pac_file's bytes into cfg->pac ("FILE:LINE: pac_file
 * PATH: reason" when it cannot be read, is not a regular file, is empty
 * or is larger than CONFIG_PAC_MAX).  An auth_file that every user may
 * read adds a warning.
 */
int	config_load(const char *path, struct config *cfg, char *err,
	    size_t errlen);

/*
 * "FILE:LINE" of `at` into buf (just "FILE", the file read first, for a
 * directive not given).  Returns buf.
 */
const char *config_where(const struct config *cfg, struct config_loc at,
	    char *buf, size_t len);

/*
 * Where the directive `name` was given (its last line for a list); line
 * 0 when it was not, or is unknown.
 */
struct config_loc config_at(const struct config *cfg, const char *name);

/*
 * The directive table, for tests and documentation checks: the name of
 * directive i and whether it may be repeated, or NULL past the last.
 */
const char *config_directive(size_t i, int *repeatable);

/* Free every list in cfg and reset it to an empty, freeable state. */
void	config_free(struct config *cfg);

/*
 * The RES_OPTIONS value that keeps a name lookup within connect_timeout
 * (glibc's resolver would otherwise retry for up to 30 s a server):
 * "timeout:T attempts:2", T a quarter of connect_timeout in whole
 * seconds, at least 1 and at most 30, into buf (NUL-terminated).  Pure.
 */
void	config_resolver_options(const struct config *cfg, char *buf,
	    size_t len);

/*
 * Value parsers, exported for tests.  Each returns 0, or -1 with a short
 * message (no file or line) in err.
 *   duration: "10" (seconds), "250ms", "10s", "5m", "1h"; >= 0, < 1 year.
 *   size: "8192", "8K", "1M"; > 0, <= 1 GiB.
 */
int	config_parse_duration(const char *s, long long *ms, char *err,
	    size_t errlen);
int	config_parse_size(const char *s, size_t *out, char *err, size_t errlen);

#endif
