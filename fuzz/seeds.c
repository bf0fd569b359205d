/* SPDX-License-Identifier: ISC */
/*
 * Seed corpus generator: compiled once per fuzz target with SEED_REQUEST,
 * SEED_CONFIG, SEED_AUTH, SEED_PROXYPROTO or SEED_SCRAPE, it includes
 * that module's unit-test file (for SCRAPE, that file's table) and
 * writes every input of its tables as one file in the directory
 * argv[1], so the seeds follow the tables.  Linked with Check (the test
 * file's suite function is compiled in, never called).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(SEED_REQUEST)
#include "../tests/check_request.c"
#elif defined(SEED_CONFIG)
#include "../tests/check_config.c"
#elif defined(SEED_AUTH)
#include "../tests/check_auth.c"
#elif defined(SEED_PROXYPROTO)
#include "../tests/check_proxyproto.c"
#elif defined(SEED_SCRAPE)
#include "../tests/scrape_heads.h"
#else
#error "define SEED_REQUEST, SEED_CONFIG, SEED_AUTH, SEED_PROXYPROTO or \
    SEED_SCRAPE"
#endif

#ifndef NELEM
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#endif

int	main(int, char **);

static const char	*seed_dir;
static unsigned		 seed_n;

static void
seed(const void *buf, size_t len)
{
	char	 path[1024];
	FILE	*f;

	snprintf(path, sizeof(path), "%s/seed-%04u", seed_dir, seed_n++);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static void
seed_str(const char *s)
{
	seed(s, strlen(s));
}

#if defined(SEED_REQUEST)
static void
seeds(void)
{
	size_t	i, j;

	for (i = 0; i < NELEM(tables); i++)
		for (j = 0; j < tables[i].n; j++)
			seed(tables[i].cases[j].in,
			    case_len(&tables[i].cases[j]));
	for (i = 0; i < NELEM(early); i++)
		seed_str(early[i].in);
	for (i = 0; i < NELEM(whys); i++)
		seed_str(whys[i].in);
	for (i = 0; i < NELEM(pac_cases); i++)
		seed_str(pac_cases[i].in);
}
#elif defined(SEED_CONFIG)
static void
seeds(void)
{
	char	 line[512], text[16384];
	size_t	 i, n;
	FILE	*f;

	static const char *const	 syntax[] = {
		"auth_realm \"Office \\\"2\\\\3\\\" proxy\"  # realm\n",
		"allow_port 443 8443 5222-5223\nallow_client 10.0.0.0/8 ::1\n",
		"deny_dest \"a.example\" .b.example 10.0.0.0/8\n",
	};

	for (i = 0; i < NELEM(bad_cases); i++)
		seed_str(bad_cases[i].text);
	for (i = 0; i < NELEM(syntax); i++)
		seed_str(syntax[i]);
	for (i = 0; i < NELEM(directives); i++) {
		snprintf(line, sizeof(line), "%s %s\n", directives[i].name,
		    directives[i].value);
		seed_str(line);
	}
	/* The sample configuration: every directive, documented. */
	if ((f = fopen("conf/connectproxy.conf", "rb")) != NULL) {
		n = fread(text, 1, sizeof(text), f);
		fclose(f);
		seed(text, n);
	}
}
#elif defined(SEED_AUTH)
static void
seeds(void)
{
	size_t	i;

	for (i = 0; i < NELEM(hdr_cases); i++)
		seed_str(hdr_cases[i].value);
	for (i = 0; i < NELEM(b64_cases); i++)
		seed_str(b64_cases[i].in);
}
#elif defined(SEED_PROXYPROTO)
static void
seeds(void)
{
	size_t	i;

	for (i = 0; i < NELEM(goods); i++)
		seed(goods[i].hdr, goods[i].hdrlen);
	for (i = 0; i < NELEM(bads); i++)
		seed(bads[i].in, bads[i].len);
	for (i = 0; i < NELEM(trailers); i++)
		seed_str(trailers[i]);
}
#elif defined(SEED_SCRAPE)
static void
seeds(void)
{
	size_t	i;

	for (i = 0; i < NELEM(heads); i++)
		seed_str(heads[i].head);
}
#endif

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	seeds();
	printf("%s: %u seeds\n", seed_dir, seed_n);
	return 0;
}
