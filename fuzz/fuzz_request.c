/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for request_parse(): any byte string, under the
 * default limits and under tiny ones (so the 431/414 paths are reached),
 * and with PAC requests allowed (pac_file).  On REQUEST_OK the parsed
 * fields must be consistent with the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(const char *buf, size_t len, const struct request_limits *lim)
{
	struct request	 req;
	const char	*why = NULL;
	int		 status = 0;

	switch (request_parse(buf, len, lim, &req, &status, &why)) {
	case REQUEST_OK:
		if (req.head_len == 0 || req.head_len > len ||
		    req.head_len > lim->max_header_size)
			abort();
		if (req.kind != REQUEST_CONNECT ? !lim->pac || req.path ==
		    NULL || req.host[0] != '\0' : req.port == 0 ||
		    strlen(req.host) == 0 || strlen(req.host) > REQUEST_HOST_MAX)
			abort();
		if (req.proxy_auth != NULL && (req.proxy_auth < buf ||
		    req.proxy_auth + req.proxy_auth_len > buf + req.head_len))
			abort();
		break;
	case REQUEST_AGAIN:
		if (len >= lim->max_header_size)
			abort();
		break;
	case REQUEST_BAD:
		if (status < 400 || status > 505 || why == NULL)
			abort();
		break;
	default:
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct request_limits	deflim = { 8192, 100, 0 };
	static const struct request_limits	tiny = { 64, 3, 0 };
	static const struct request_limits	pac = { 8192, 100, 1 };
	char					*buf;

	/* An exact-size copy, so ASan sees any read past the end. */
	if ((buf = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	memcpy(buf, data, size);
	check(buf, size, &deflim);
	check(buf, size, &tiny);
	check(buf, size, &pac);
	free(buf);
	return 0;
}
