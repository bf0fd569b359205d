/* SPDX-License-Identifier: ISC */
/*
 * Files of the end-to-end harness: a private temporary directory per
 * proxy or test, whole files written and read, directories removed.
 */
#ifndef HARNESS_FILES_H
#define HARNESS_FILES_H

#include <stddef.h>

#define HARNESS_PATH_MAX	256

/* Create a private temporary directory into buf.  Returns 0 or -1. */
int	harness_tmpdir(char *buf, size_t len);
/* Write text to path (created or truncated).  Returns 0 or -1. */
int	harness_write_file(const char *path, const char *text);
/* Read a whole file; the caller frees.  NULL on failure. */
char	*harness_read_file(const char *path);
/* How many times needle occurs in the file at path (0 when absent). */
int	harness_file_count(const char *path, const char *needle);
/*
 * Wait, at most harness_ms(10000), until the file at path holds needle n
 * times; returns the count then.
 */
int	harness_file_wait(const char *path, const char *needle, int n);
/* Remove a directory made by harness_tmpdir() and the files in it. */
void	harness_rmdir(const char *dir);

#endif
