/* SPDX-License-Identifier: ISC */
/*
 * The master's logger, in the shape of OpenBSD httpd's logger.c: it
 * alone opens, reopens and writes the log files, before the privilege
 * drop and again on USR1 or a reload, and copies into them the lines
 * workers send on the log socket (an AF_UNIX datagram socket pair, one
 * line per message).  It tells log.c, whose calls every process uses,
 * where lines go.  Every function here is the master's.
 */
#ifndef LOGGER_H
#define LOGGER_H

#include <stddef.h>

#include "config.h"

/*
 * Before privileges drop: open access_log and error_log as cfg says
 * (files O_APPEND|O_CREAT|O_CLOEXEC|O_NOFOLLOW, a file created mode 0640
 * whatever the umask, an existing one left as it is; a symbolic
 * link, anything but a regular file, or a file with more than one hard
 * link is refused; syslog with LOG_NDELAY|LOG_PID), and the log socket
 * workers send their lines on.  Then, with a `user`, warn for each
 * log file and the pidfile whose directory that user could write to.
 * Returns 0, or -1 with a message in err and nothing changed.
 */
int	logger_open(const struct config *cfg, char *err, size_t errlen);
/*
 * For a reload: the log files of the next configuration, opened before
 * it is committed so that a path that cannot be opened fails the reload.
 * -1 where cfg names no file.
 */
struct logger_files {
	int	access;
	int	error;
};
/*
 * Open the access_log and error_log files cfg names (as logger_open()
 * does, with its warnings for the log files) into *f.  Returns 0, or -1
 * with a message naming the directive and the file in err and nothing
 * left open.
 */
int	logger_files_open(const struct config *cfg, struct logger_files *f,
	    char *err, size_t errlen);
/*
 * Switch to cfg's destinations, with the files of *f, which it takes
 * (left at -1): lines workers sent before go to the old files first.
 */
void	logger_files_install(const struct config *cfg,
	    struct logger_files *f);
/* Close what *f holds (a reload that failed after opening them). */
void	logger_files_close(struct logger_files *f);
/*
 * On USR1: open the files of cfg again (as logger_open() does, but
 * without its warnings) and switch to them; on failure the previous
 * destinations stay (logged).  Returns 0 or -1.
 */
int	logger_reopen(const struct config *cfg);
/* The log socket's read end to poll for POLLIN, or -1. */
int	logger_fd(void);
/* Write the lines workers sent, a bounded amount per call. */
void	logger_drain(void);
/*
 * One message read from the log socket, as a worker sent it: a tag ('A'
 * an access record, 'E' any other line), the line, a newline.  A worker
 * may be compromised, so msg may hold any len bytes: *access is set when
 * the tag is 'A'; the line, tag and one final newline removed, is copied
 * into out, cut to outlen - 1 bytes and NUL-terminated, each control
 * byte (NUL, newline, ...) and DEL replaced by '?', so that it stays one
 * line.  out may be msg itself.  Returns its length; 0 (out "" when
 * outlen > 0) when there is nothing to write.  Pure: no I/O.
 */
size_t	logger_message(const char *msg, size_t len, int *access, char *out,
	    size_t outlen);
/* At exit: write what is left in the log socket, close the files. */
void	logger_close(void);

#endif
