/* SPDX-License-Identifier: ISC */
/*
 * Logging in the shape of OpenBSD's log.c: printf-checked helpers that
 * write one line per call with a single write(2), fatal()/fatalx() for
 * startup and impossible states, and the access records (one per tunnel
 * or refusal, formatted by record.c).  Destinations: stderr (the journal
 * under systemd), syslog (LOG_DAEMON) or a file.  Workers never hold a
 * log file: they send file-bound lines (and, once retiring, every line),
 * one datagram each, to the master, whose logger (logger.c) alone opens,
 * writes and reopens the files.
 */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#include "record.h"

/* Which lines are written (log_level); errors always are. */
enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG
};

/* Where access_log and error_log write (error_log is never off). */
enum log_sink {
	LOG_SINK_STDERR,
	LOG_SINK_SYSLOG,	/* LOG_DAEMON */
	LOG_SINK_OFF,
	LOG_SINK_FILE		/* a file the master's logger opened */
};

#define LOG_PRINTF(a, b)	__attribute__((format(printf, a, b)))
/*
 * Longest message a child sends on the log socket: a tag ('A' an access
 * record, 'E' any other line), the line, a newline.
 */
#define LOG_MSG_MAX		(RECORD_MAX + 96)

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
 * What follows is for the master's logger (logger.c), which decides
 * where lines go; a child of the master inherits that across fork.
 *
 * Make this process the one that holds the log files, its children
 * sending every line as one message each on `child_end` of the log
 * socket; log_init() in a child closes `master_end`, the logger's read
 * end.  The logger keeps both ends and closes them, after calling this
 * with -1, -1.
 */
void	log_set_socket(int master_end, int child_end);
/*
 * Send access records and other lines to these sinks from now on.  A
 * LOG_SINK_FILE sink writes to its fd, which log.c takes (-1 for the
 * other kinds); the descriptors it held before are closed.
 */
void	log_set_sinks(enum log_sink access, int access_fd,
	    enum log_sink error, int error_fd);
/* Format access records this way from now on. */
void	log_set_format(enum record_format format);
/* Whether this is a child of the process that holds the log files. */
int	log_in_child(void);
/*
 * In a worker: from now on send every line, whatever the sink, to the
 * master, which writes it where its current configuration says (a
 * reload retires the worker, and may have moved the logs since it was
 * forked).  Async-signal-safe: the worker's HUP handler calls it.
 */
void	log_forward_all(void);
/*
 * Write one line a child sent ("role[pid]: body"), made safe by
 * logger_message(), to the access sink (`access`) or the error sink, in
 * that sink's shape: a file gets the bare record, or the error line
 * after the time; stderr the line, "access " before a record's body;
 * each with a newline in one writev(2), using line[len] for the newline
 * (so line must have room for len + 1 bytes; line[len] is restored to
 * NUL); syslog gets the line.
 */
void	log_forward(int access, char *line, size_t len);

#endif
