/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for scrape_parse(), the request heads the master (as
 * root) reads on metrics_listen: any byte string.  The verdict must be
 * one the contract names, HEAD only with a method, and final: once a
 * head has its verdict, a byte more never changes it (only the first
 * empty line ends a head).  Each verdict's answer (scrape_answer()) is
 * framed: its Content-Length is the body it carries, none with HEAD.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scrape.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_answer(int status, int head)
{
	static const char	 body[] = "# TYPE a gauge\na 1\n";
	const char		*cl, *end;
	char			*a;
	size_t			 len;

	if ((a = scrape_answer(status, head, body, 0, &len)) == NULL)
		return;		/* out of memory */
	if (len != strlen(a) || (cl = strstr(a, "\r\nContent-Length: ")) ==
	    NULL || (end = strstr(a, "\r\n\r\n")) == NULL)
		abort();
	end += 4;
	if (head ? *end != '\0' : strtoul(cl + 18, NULL, 10) != strlen(end))
		abort();
	free(a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf, *more;
	int	 status, again, head = -1, head2 = -1;

	/* Exact-size copies, so ASan sees any read past the end. */
	if ((buf = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	memcpy(buf, data, size);
	status = scrape_parse(buf, size, &head);
	free(buf);
	if ((status != 0 && status != 200 && status != 400 && status != 404 &&
	    status != 405) || (head != 0 && head != 1))
		abort();
	if (status == 0) {
		if (head != 0)
			abort();
		return 0;
	}
	if ((more = malloc(size + 1)) == NULL)
		return 0;
	memcpy(more, data, size);
	more[size] = '\n';
	again = scrape_parse(more, size + 1, &head2);
	free(more);
	if (again != status || head2 != head)
		abort();
	check_answer(status, head);
	return 0;
}
