/*
 * Logging in the shape of OpenBSD's log.c: printf-checked helpers that
 * write one line per call with a single write(2) to stderr (the journal
 * under systemd), and fatal()/fatalx() for startup and impossible states.
 */
#ifndef LOG_H
#define LOG_H

#include "config.h"

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
/* One access record: "access key=value ...", always written. */
void	log_access(const char *fmt, ...) LOG_PRINTF(1, 2);
void	fatal(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));
void	fatalx(const char *fmt, ...) LOG_PRINTF(1, 2) __attribute__((noreturn));

#endif
