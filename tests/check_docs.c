/* SPDX-License-Identifier: ISC */
/*
 * The reference keeps up with the parser: every directive in the parser's
 * table has an entry in connectproxy.conf(5) and a block in the sample
 * configuration, both stating the same default, and that default is what
 * the parser does when the directive is left out.
 */
#include <check.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "suites.h"

#define MAN_PAGE	"man/connectproxy.conf.5"
#define SAMPLE		"conf/connectproxy.conf"
#define WORD_MAX	128

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*buf;
	size_t	 n;

	ck_assert_msg(f != NULL, "%s: cannot open (run from the tree's top)",
	    path);
	buf = malloc(256 * 1024);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, 256 * 1024 - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* The line after `p` (or NULL at the end). */
static const char *
next_line(const char *p)
{
	p = strchr(p, '\n');
	return p == NULL ? NULL : p + 1;
}

static int
starts_with(const char *p, const char *prefix)
{
	return strncmp(p, prefix, strlen(prefix)) == 0;
}

/*
 * Does the roff line at p name `name` first, as ".BI name ...",
 * ".BR name ..." or ".B name"?
 */
static int
names_directive(const char *p, const char *name)
{
	size_t	n = strlen(name);

	if (!starts_with(p, ".BI ") && !starts_with(p, ".BR ") &&
	    !starts_with(p, ".B "))
		return 0;
	p = strchr(p, ' ') + 1;
	return strncmp(p, name, n) == 0 && (p[n] == ' ' || p[n] == '\n');
}

/*
 * Append the text of the roff line at p to out: a font macro's
 * arguments run together without their quotes, as groff prints them;
 * other requests are dropped.
 */
static void
append_text(const char *p, char *out, size_t len)
{
	size_t	o = strlen(out);
	int	macro = *p == '.';

	if (macro && !starts_with(p, ".B") && !starts_with(p, ".I"))
		return;
	if (macro)
		p = strchr(p, ' ') == NULL ? "" : strchr(p, ' ') + 1;
	if (o > 0 && o + 1 < len)
		out[o++] = ' ';
	for (; *p != '\n' && *p != '\0' && o + 1 < len; p++)
		if (!macro || (*p != '"' && *p != ' '))
			out[o++] = *p;
	out[o] = '\0';
}

/* The first word after "Default:" in text, less a closing '.' or ','. */
static int
default_word(const char *text, char *word, size_t len)
{
	const char	*p = strstr(text, "Default:");
	size_t		 n;

	if (p == NULL)
		return -1;
	for (p += strlen("Default:"); *p == ' '; p++)
		continue;
	n = strcspn(p, " \n");
	if (n > 0 && (p[n - 1] == '.' || p[n - 1] == ','))
		n--;
	if (n == 0 || n >= len)
		return -1;
	memcpy(word, p, n);
	word[n] = '\0';
	return 0;
}

/* The default the man page states in the entry of `name`. */
static int
man_default(const char *man, const char *name, char *word, size_t len)
{
	char		 text[4096] = "";
	const char	*p, *prev = NULL;

	for (p = man; p != NULL; prev = p, p = next_line(p))
		if (prev != NULL && (starts_with(prev, ".TP") ||
		    starts_with(prev, ".TQ")) && names_directive(p, name))
			break;
	if (p == NULL)
		return -1;
	/* The entry runs to the next entry or section; .TQ continues it. */
	for (p = next_line(p); p != NULL && !starts_with(p, ".SH") &&
	    !starts_with(p, ".SS"); p = next_line(p)) {
		if (starts_with(p, ".TP"))
			break;
		append_text(p, text, sizeof(text));
	}
	return default_word(text, word, len);
}

/* The default the sample states in the comment block of `name`. */
static int
sample_default(const char *sample, const char *name, char *word, size_t len)
{
	char		 text[4096] = "";
	char		 head[64];
	const char	*p;

	snprintf(head, sizeof(head), "# %s ", name);
	for (p = sample; p != NULL && !starts_with(p, head); p = next_line(p))
		continue;
	for (; p != NULL && starts_with(p, "#"); p = next_line(p))
		append_text(p + 1, text, sizeof(text));
	return default_word(text, word, len);
}

/*
 * Directives whose stated default is not a value the directive takes:
 * control_socket's is a path computed at start-up from the runtime
 * directory, and a list's default has several entries.
 */
static int
default_is_a_value(const char *name, int repeatable, const char *word)
{
	return !repeatable && strcmp(word, "unset") != 0 &&
	    strcmp(word, "none") != 0 && strcmp(name, "control_socket") != 0;
}

/*
 * Setting `name` to its documented default must change nothing: every
 * scalar of the parsed configuration is as if the line were absent.
 */
static void
assert_parser_default(const char *name, const char *word)
{
	struct config	 given, absent;
	char		 text[256], err[CONFIG_ERR_MAX];
	size_t		 from = offsetof(struct config, header_timeout_ms);
	size_t		 to = offsetof(struct config, auth_users);

	snprintf(text, sizeof(text), "%s %s\n", name, word);
	ck_assert_msg(config_parse_buffer("docs.conf", text, &given, err,
	    sizeof(err)) == 0, "%s: documented default \"%s\" is refused: %s",
	    name, word, err);
	ck_assert_int_eq(config_parse_buffer("docs.conf", "", &absent, err,
	    sizeof(err)), 0);
	ck_assert_msg(memcmp((char *)&given + from, (char *)&absent + from,
	    to - from) == 0, "%s: the documented default \"%s\" is not what "
	    "the parser does without the directive", name, word);
	config_free(&given);
	config_free(&absent);
}

START_TEST(test_every_directive_documented_with_its_default)
{
	char		*man = slurp(MAN_PAGE), *sample = slurp(SAMPLE);
	char		 in_man[WORD_MAX], in_sample[WORD_MAX];
	const char	*name;
	size_t		 i;
	int		 repeatable;

	for (i = 0; (name = config_directive(i, &repeatable)) != NULL; i++) {
		ck_assert_msg(man_default(man, name, in_man,
		    sizeof(in_man)) == 0, "%s: no entry with a Default: in %s",
		    name, MAN_PAGE);
		ck_assert_msg(sample_default(sample, name, in_sample,
		    sizeof(in_sample)) == 0, "%s: no block with a Default: in "
		    "%s", name, SAMPLE);
		ck_assert_msg(strcmp(in_man, in_sample) == 0, "%s: default "
		    "\"%s\" in %s, \"%s\" in %s", name, in_man, MAN_PAGE,
		    in_sample, SAMPLE);
		if (default_is_a_value(name, repeatable, in_man))
			assert_parser_default(name, in_man);
	}
	ck_assert_uint_gt(i, 20);
	free(man);
	free(sample);
}
END_TEST

/* The checker itself: a default that differs is caught. */
START_TEST(test_checker_reads_both_formats)
{
	const char	*man = ".TP\n.BI header_timeout \" DURATION\"\n"
	    "Time a client has.\nDefault:\n.BR 10s .\n.TP\n.BI other\n";
	const char	*sample = "# header_timeout DURATION\n# Time.  "
	    "Default: 12s.\n#   header_timeout 10s\n\n# other\n";
	char		 a[WORD_MAX], b[WORD_MAX];

	ck_assert_int_eq(man_default(man, "header_timeout", a, sizeof(a)), 0);
	ck_assert_str_eq(a, "10s");
	ck_assert_int_eq(sample_default(sample, "header_timeout", b,
	    sizeof(b)), 0);
	ck_assert_str_eq(b, "12s");
	ck_assert_int_eq(man_default(man, "other", a, sizeof(a)), -1);
	ck_assert_int_eq(man_default(man, "header", a, sizeof(a)), -1);
}
END_TEST

Suite *
docs_suite(void)
{
	Suite	*s = suite_create("docs");
	TCase	*tc = tcase_create("directives");

	tcase_add_test(tc, test_every_directive_documented_with_its_default);
	tcase_add_test(tc, test_checker_reads_both_formats);
	suite_add_tcase(s, tc);
	return s;
}
