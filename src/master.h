/* SPDX-License-Identifier: ISC */
/*
 * The master: owns the listeners and the configuration, forks and
 * supervises the workers, and turns signals into actions in its loop.
 */
#ifndef MASTER_H
#define MASTER_H

struct config;

/*
 * Bind cfg's listeners, fork cfg->workers_start workers, supervise them
 * until TERM or INT, then stop them.  `config_path` is kept for reload.
 * Returns the process exit status (0 clean stop, 1 startup error).
 */
int	master_run(struct config *cfg, const char *config_path);

#endif
