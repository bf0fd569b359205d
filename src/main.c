/*
 * connectproxy: command line, configuration check, and hand-over to the
 * master.  Always runs in the foreground (systemd, a terminal, or any
 * supervisor keeps it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "priv.h"

#define CONNECTPROXY_VERSION	"0.1.0"
#define DEFAULT_CONFIG		SYSCONFDIR "/connectproxy/connectproxy.conf"

static void
usage(FILE *f)
{
	fprintf(f, "usage: connectproxy [-c FILE] [-t] [-d] [-V] [-h]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -t       check the configuration and exit\n"
	    "  -d       log at debug level\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n", DEFAULT_CONFIG);
}

/*
 * glibc's resolver would otherwise retry for up to 30 s per server; keep a
 * lookup inside connect_timeout unless the operator chose RES_OPTIONS.
 */
static void
bound_resolver(const struct config *cfg)
{
	char		opts[64];
	long long	secs = cfg->connect_timeout_ms / 1000 / 4;

	if (getenv("RES_OPTIONS") != NULL)
		return;
	snprintf(opts, sizeof(opts), "timeout:%lld attempts:2",
	    secs < 1 ? 1 : secs > 30 ? 30 : secs);
	setenv("RES_OPTIONS", opts, 1);
}

/* -t: the configuration parses and its user exists. */
static int
check_only(const char *path, const struct config *cfg)
{
	struct priv_user	pu;
	char			err[CONFIG_ERR_MAX];

	if (priv_lookup(cfg->user, &pu, 0, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", path, err);
		return 1;
	}
	printf("configuration OK\n");
	return 0;
}

int
main(int argc, char *argv[])
{
	struct config	 cfg;
	const char	*path = DEFAULT_CONFIG;
	char		 err[CONFIG_ERR_MAX];
	int		 ch, test = 0, debug = 0, rc;

	while ((ch = getopt(argc, argv, "c:tdVh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'd':
			debug = 1;
			break;
		case 'V':
			printf("connectproxy %s\n", CONNECTPROXY_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (config_load(path, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (test) {
		rc = check_only(path, &cfg);
		config_free(&cfg);
		return rc;
	}
	log_init(debug ? LOG_LEVEL_DEBUG : cfg.log_level, "master");
	if (debug)
		cfg.log_level = LOG_LEVEL_DEBUG;
	bound_resolver(&cfg);
	rc = master_run(&cfg, path);
	config_free(&cfg);
	return rc;
}
