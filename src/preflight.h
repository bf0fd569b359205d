/* SPDX-License-Identifier: ISC */
/*
 * Pre-flight: what would stop the proxy from starting with a loaded
 * configuration, found without starting anything, for `-t` (so that
 * ExecStartPre=connectproxy -t catches it) and again right before a start.
 */
#ifndef PREFLIGHT_H
#define PREFLIGHT_H

#include <stddef.h>

#include "config.h"

#define PREFLIGHT_ERR_MAX	(4 * CONFIG_ERR_MAX)

/*
 * Check, as the process calling it (run it as the proxy would start):
 *   user: only when running as root, an existing user, not root;
 *   access_log, error_log (files): the file exists as a regular file with
 *     one link and is writable, or its directory exists and new files can
 *     be made there;
 *   pidfile: new files can be made in its directory, and it is not a
 *     directory;
 *   control_socket (when a path is given): likewise, and nothing but a
 *     socket is at the path.
 * The files config_load() reads (auth_file, credentials, pac_file) it
 * has checked already.  Returns the number of problems, each a line
 * "FILE:LINE: directive VALUE: reason" (at its directive) in err, 0 when
 * none.
 */
int	preflight_check(const struct config *cfg, char *err, size_t errlen);

/*
 * Log each warning config_load() left in cfg (log_warnx()), as -t prints
 * them: at start once the logs are open, and after each reload.
 */
void	preflight_warn(const struct config *cfg);

#endif
