/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for proxyproto_parse(): any byte string.  The verdict
 * must be consistent with itself: a header is never longer than the
 * input or the bound, parses the same on its own bytes and asks for more
 * one byte short; more is asked for only below the bound.
 */
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ok(const char *buf, const struct proxyproto_result *r)
{
	struct proxyproto_result	again;

	if (r->len == 0 || r->len > PROXYPROTO_MAX ||
	    (r->version != 1 && r->version != 2) ||
	    (r->version == 1 && r->len > PROXYPROTO_V1_MAX))
		abort();
	if (!r->local && !(r->src.ss_family == AF_INET &&
	    r->srclen == sizeof(struct sockaddr_in)) &&
	    !(r->src.ss_family == AF_INET6 &&
	    r->srclen == sizeof(struct sockaddr_in6)))
		abort();
	if (proxyproto_parse(buf, r->len, &again) != PROXYPROTO_OK ||
	    again.len != r->len || again.local != r->local ||
	    memcmp(&again.src, &r->src, sizeof(r->src)) != 0)
		abort();
	if (proxyproto_parse(buf, r->len - 1, &again) != PROXYPROTO_NEED_MORE)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyproto_result	 r;
	char				*buf;

	/* An exact-size copy, so ASan sees any read past the end. */
	if ((buf = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	memcpy(buf, data, size);
	switch (proxyproto_parse(buf, size, &r)) {
	case PROXYPROTO_OK:
		if (r.len > size)
			abort();
		check_ok(buf, &r);
		break;
	case PROXYPROTO_NEED_MORE:
		if (size >= PROXYPROTO_MAX)
			abort();
		break;
	case PROXYPROTO_BAD:
		if (r.reason == NULL)
			abort();
		break;
	default:
		abort();
	}
	free(buf);
	return 0;
}
