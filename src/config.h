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

enum when_full {
	WHEN_FULL_QUEUE,	/* connections wait in the listen backlog */
	WHEN_FULL_REJECT	/* a reserve process answers 503 at once */
};

struct listen_addr {
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			text[64];	/* as "ip:port" / "[ip]:port" */
};

struct config {
	struct listen_addr	*listen;
	size_t			 nlisten;
	struct cidr		*clients;	/* allow_client */
	size_t			 nclients;
	struct port_range	*ports;		/* allow_port */
	size_t			 nports;
	struct dest_rule	*dests;		/* allow_dest / deny_dest, in order */
	size_t			 ndests;

	long long		 header_timeout_ms;
	long long		 connect_timeout_ms;
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

	/* auth_file, auth_realm: the users are read by config_load(). */
	char			 auth_file[CONFIG_PATH_MAX];	/* "" off */
	char			 auth_realm[CONFIG_REALM_MAX + 1];
	struct auth_entry	*auth_users;
	size_t			 nauth_users;
	struct auth_dummy	*auth_dummy;	/* for unknown users */
	struct upstream		*upstreams;	/* upstream, in order */
	size_t			 nupstreams;
};

/*
 * Parse `text` (NUL-terminated) as a configuration file called `file`
 * (used only in messages) into `cfg`, which is first set to defaults.
 * After the last line, empty lists get their defaults (listen
 * 127.0.0.1:3128, allow_client loopback, allow_port 443).  Returns 0, or -1
 * with "FILE:LINE: message" in err; on -1 cfg is freed and reset.
 * The caller owns cfg and frees it with config_free().
 */
int	config_parse_buffer(const char *file, const char *text,
	    struct config *cfg, char *err, size_t errlen);

/*
 * Read `path` and parse it as config_parse_buffer() does, then read the
 * files it names: the auth_file users (errors "AUTHFILE:LINE: message")
 * and each upstream credentials file.  A file that cannot be read is
 * "FILE: strerror" in err.
 */
int	config_load(const char *path, struct config *cfg, char *err,
	    size_t errlen);

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
