/*
 * connectproxy: command line, configuration check, and hand-over to the
 * master.  Always runs in the foreground (systemd, a terminal, or any
 * supervisor keeps it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "master.h"
#include "preflight.h"

#define CONNECTPROXY_VERSION	"0.1.0"
#define DEFAULT_CONFIG		SYSCONFDIR "/connectproxy/connectproxy.conf"

static void
usage(FILE *f)
{
	fprintf(f, "usage: connectproxy [-c FILE] [-t] [-d] [-V] [-h] "
	    "[status | metrics]\n"
	    "  -c FILE  configuration file (default %s)\n"
	    "  -t       check the configuration and exit\n"
	    "  -d       log at debug level\n"
	    "  -V       print the version and exit\n"
	    "  -h       print this help and exit\n"
	    "  status   print the running proxy's workers and totals\n"
	    "  metrics  print its metrics (Prometheus text format)\n",
	    DEFAULT_CONFIG);
}

/*
 * Resolve exactly the name the policy checked.  glibc's resolver would
 * otherwise append the resolv.conf (or hostname) search domains, so that
 * "CONNECT payroll:443" dials payroll.office.lan past a deny_dest rule
 * on that name; dotted names are searched too once they fail as given.
 * An empty LOCALDOMAIN replaces the search list with nothing; the
 * resolver reads it on every (re)load of resolv.conf, unlike flags
 * cleared in _res, which a reload resets.  A trailing dot would do the
 * same in DNS but makes /etc/hosts names miss, so it is not used.
 * HOSTALIASES maps names the same way.  An operator's own LOCALDOMAIN is
 * overridden with a warning: it would reopen the bypass.  Other libcs
 * ignore or honour both the same way, so this is harmless there.
 */
static void
resolve_as_given(void)
{
	const char	*v;

	if ((v = getenv("LOCALDOMAIN")) != NULL && *v != '\0')
		log_warnx("LOCALDOMAIN ignored: names are resolved as given");
	if (getenv("HOSTALIASES") != NULL)
		log_warnx("HOSTALIASES ignored: names are resolved as given");
	setenv("LOCALDOMAIN", "", 1);
	unsetenv("HOSTALIASES");
}

/*
 * What would stop the start, at the directive to blame: for -t, and
 * before a start, so that the message is the same in both.  Prints the
 * problems and returns 1, or 0 when there are none.
 */
static int
preflight(const struct config *cfg)
{
	char	err[PREFLIGHT_ERR_MAX];

	if (preflight_check(cfg, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "%s\n", err);
	return 1;
}

/* -t: the configuration, the files it names, and what the start needs. */
static int
check_only(const struct config *cfg)
{
	const char	*p, *eol;

	if (preflight(cfg) != 0)
		return 1;
	for (p = cfg->warnings; p != NULL && (eol = strchr(p, '\n')) != NULL;
	    p = eol + 1)
		fprintf(stderr, "warning: %.*s\n", (int)(eol - p), p);
	printf("configuration OK\n");
	return 0;
}

/*
 * status, metrics: ask the running proxy over its control socket.  Only
 * the configuration itself is read (with the files it includes), for
 * control_socket: the files it names (an auth_file) may be readable by
 * the proxy alone.
 */
static int
query(const char *path, const char *cmd)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_MAX];
	int		 rc;

	if (config_parse_file(path, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rc = control_query(&cfg, cmd, STDOUT_FILENO, err, sizeof(err));
	config_free(&cfg);
	if (rc == -1) {
		fprintf(stderr, "connectproxy %s: %s\n", cmd, err);
		return 1;
	}
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
#ifdef CONNECTPROXY_NO_CRYPT
			printf("connectproxy %s (built without crypt(3): "
			    "no auth_file)\n", CONNECTPROXY_VERSION);
#else
			printf("connectproxy %s\n", CONNECTPROXY_VERSION);
#endif
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind + 1 == argc && !test && (strcmp(argv[optind], "status") ==
	    0 || strcmp(argv[optind], "metrics") == 0))
		return query(path, argv[optind]);
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (config_load(path, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (test || preflight(&cfg) != 0) {
		rc = test ? check_only(&cfg) : 1;
		config_free(&cfg);
		return rc;
	}
	log_init(debug ? LOG_LEVEL_DEBUG : cfg.log_level, "master");
	if (debug)
		cfg.log_level = LOG_LEVEL_DEBUG;
	resolve_as_given();
	/*
	 * syslog(3) loads the time zone on first use (a file read and a
	 * malloc); do it once here so no worker pays for it.
	 */
	tzset();
	rc = master_run(&cfg, path);
	config_free(&cfg);
	return rc;
}
