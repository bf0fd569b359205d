/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target for config_parse_buffer(): any text as a config file.
 * The parser is pure (no file, no socket); a rejected text must leave a
 * "FILE:LINE: message" error and a freeable config.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	 cfg;
	char		 err[CONFIG_ERR_MAX], *text;

	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	if (config_parse_buffer("fuzz.conf", text, &cfg, err,
	    sizeof(err)) == -1 && strncmp(err, "fuzz.conf:", 10) != 0)
		abort();
	config_free(&cfg);
	free(text);
	return 0;
}
