/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for the Proxy-Authorization decoder: auth_parse_header()
 * on the raw value, and auth_base64_decode() round-tripped through
 * auth_base64_encode() (strict base64 has one encoding per octet string).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_header(const char *buf, size_t len)
{
	struct auth_creds	c;

	if (auth_parse_header(buf, len, &c) == -1)
		return;
	if (c.user_len == 0 || c.user_len > AUTH_USER_MAX ||
	    c.len > AUTH_CRED_MAX || strlen(c.user) != c.user_len ||
	    c.pass < c.cred || c.pass + c.pass_len > c.cred + c.len ||
	    memchr(c.user, ':', c.user_len) != NULL)
		abort();
}

static void
check_base64(const char *buf, size_t len)
{
	unsigned char	out[AUTH_B64_MAX];
	char		enc[((AUTH_B64_MAX + 2) / 3) * 4 + 1];
	size_t		outlen = 0, elen;

	if (auth_base64_decode(buf, len, out, sizeof(out), &outlen) == -1)
		return;
	if (outlen > sizeof(out))
		abort();
	elen = auth_base64_encode(out, outlen, enc, sizeof(enc));
	if (outlen > 0 && (elen != len || memcmp(enc, buf, len) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*buf;

	if ((buf = malloc(size == 0 ? 1 : size)) == NULL)
		return 0;
	memcpy(buf, data, size);
	check_header(buf, size);
	check_base64(buf, size);
	free(buf);
	return 0;
}
