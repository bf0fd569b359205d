/*
 * Logging in the shape of OpenBSD's log.c: printf-checked helpers that
 * write one line per call with a single write(2), fatal()/fatalx() for
 * startup and impossible states, and the access records (one per tunnel
 * or refusal, text or JSON).  Destinations: stderr (the journal under
 * systemd), syslog (LOG_DAEMON) or a file.  Workers never hold a log
 * file: they send file-bound lines, one datagram each, to the master, which
 * alone opens, writes and reopens the files (see log.c).
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#include "config.h"
#include "record.h"

#define LOG_PRINTF(a, b)	__attribute__((format(printf, a, b)))

/* Set the process role shown in each line ("master", "worker"). */
void	log_init(enum log_level level, const char *role);
void	log_set_level(enum log_level level);
enum log_level log_get_level(void);

void	log_warn(const char *fmt, ...) LOG_PRINTF(1, 2);	/* + strerror */
void	log_warnx(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_error(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_info(const char *fmt, ...) LOG_PRINTF(1, 2);
void	log_debug(const char *fmt, ...) LOG_PRINTF(1, 2);
void	fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

/* The realtime clock in ms. */
long long log_now_ms(void);

/* Write one access record to the access_log, in its format. */
void	log_access_record(const struct record *r);

/*
 * Master, before privileges drop: open access_log and error_log as cfg
 * says (files O_APPEND|O_CREAT|O_CLOEXEC|O_NOFOLLOW, mode 0640; a
 * symbolic link, anything but a regular file, or a file with more than
 * one hard link is refused; syslog with LOG_NDELAY|LOG_PID), and the pipe
 * workers send file-bound lines into.  Then, with a `user`, warn for each
 * log file and the pidfile whose directory that user could write to.
 * Returns 0, or -1 with a message in err and nothing changed.
 */
int	log_open(const struct config *cfg, char *err, size_t errlen);
/*
 * Master, for a reload: the log files of the next configuration, opened
 * before it is committed so that a path that cannot be opened fails the
 * reload.  -1 where cfg names no file.
 */
struct log_files {
	int	access;
	int	error;
};
/*
 * Open the access_log and error_log files cfg names (as log_open() does,
 * with its warnings for the log files) into *f.  Returns 0, or -1 with a
 * message naming the directive and the file in err and nothing left open.
 */
int	log_files_open(const struct config *cfg, struct log_files *f,
	    char *err, size_t errlen);
/*
 * Switch to cfg's destinations, with the files of *f, which it takes
 * (left at -1): lines workers sent before go to the old files first.
 */
void	log_files_install(const struct config *cfg, struct log_files *f);
/* Close what *f holds (a reload that failed after opening them). */
void	log_files_close(struct log_files *f);
/*
 * Master, on USR1: open the files of cfg again (as log_open() does, but
 * without its warnings) and switch to them; on failure the previous
 * destinations stay (logged).  Returns 0 or -1.
 */
int	log_reopen(const struct config *cfg);
/* Master: the pipe's read end to poll for POLLIN, or -1. */
int	log_pipe_fd(void);
/* Master: write the lines workers sent, a bounded amount per call. */
void	log_pipe_drain(void);
/*
 * One message read from the log pipe, as a worker sent it: a tag ('A' an
 * access record, 'E' any other line), the line, a newline.  A worker may
 * be compromised, so msg may hold any len bytes: *access is set when the
 * tag is 'A'; the line, tag and one final newline removed, is copied into
 * out, cut to outlen - 1 bytes and NUL-terminated, each control byte
 * (NUL, newline, ...) and DEL replaced by '?', so that it stays one line.
 * out may be msg itself.  Returns its length; 0 (out "" when outlen > 0)
 * when there is nothing to write.  Pure: no I/O.
 */
size_t	log_pipe_record(const char *msg, size_t len, int *access, char *out,
	    size_t outlen);
/* Master, at exit: write what is left in the pipe, close the files. */
void	log_close(void);

#endif
