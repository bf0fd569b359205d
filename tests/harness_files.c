/* SPDX-License-Identifier: ISC */
/*
 * Files of the end-to-end harness (see harness_files.h): private
 * temporary directories and whole-file reads and writes.
 */
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_files.h"
#include "harness_time.h"

int
harness_tmpdir(char *buf, size_t len)
{
	const char	*base;

	base = getenv("TMPDIR");
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(buf, len, "%s/cpxtest.XXXXXX", base) >= len)
		return -1;
	return mkdtemp(buf) == NULL ? -1 : 0;
}

int
harness_write_file(const char *path, const char *text)
{
	FILE	*f;
	int	 rc;

	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	rc = fputs(text, f) == EOF ? -1 : 0;
	if (fclose(f) == EOF)
		rc = -1;
	return rc;
}

char *
harness_read_file(const char *path)
{
	FILE	*f;
	char	*buf;
	size_t	 len = 0, cap = 4096, n;

	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	buf = malloc(cap);
	while (buf != NULL) {
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
		if (n == 0)
			break;
		if (cap - len - 1 == 0) {
			char *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	if (buf != NULL)
		buf[len] = '\0';
	return buf;
}

void
harness_rmdir(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	char		 path[HARNESS_PATH_MAX * 2];
	int		 n = 0;

	if (dir == NULL || *dir == '\0' || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL && n++ < 1000) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

int
harness_file_count(const char *path, const char *needle)
{
	char	*text = harness_read_file(path), *s;
	int	 n = 0;

	if (text == NULL)
		return 0;
	for (s = text; (s = strstr(s, needle)) != NULL; s++)
		n++;
	free(text);
	return n;
}

int
harness_file_wait(const char *path, const char *needle, int n)
{
	long long	deadline = harness_now_ms() + harness_ms(10000);

	while (harness_file_count(path, needle) < n &&
	    harness_now_ms() < deadline)
		(void)poll(NULL, 0, HARNESS_POLL_STEP_MS);
	return harness_file_count(path, needle);
}
