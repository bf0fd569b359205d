/* SPDX-License-Identifier: ISC */
/*
 * The access record, formatted: a bounded writer that never overflows,
 * and the escaping that keeps every value on one line whatever a client
 * sent (text: plain or quoted; JSON: a valid string).  Pure.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "record.h"
#include "utc.h"

#define RECORD_VALUE_MAX	390		/* escaped bytes of one value */
/*
 * The error key's value is a proxy error type (RFC 9209): a lowercase
 * token the proxy chose, never escaped.  Anything else, or longer, is
 * left out, so that a record with every value at its worst still fits
 * RECORD_MAX.
 */
#define RECORD_TOKEN_MAX	40

struct out {
	char	*buf;
	size_t	 len;
	size_t	 cap;		/* bytes usable, the NUL excluded */
	int	 full;
};

static void
out_raw(struct out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = 1;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void
out_str(struct out *o, const char *s)
{
	out_raw(o, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
out_fmt(struct out *o, const char *fmt, ...)
{
	char	tmp[64];
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		o->full = 1;
	else
		out_raw(o, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s (2 to 4), or 0. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t		n, i;
	unsigned long	cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * A quoted value, cut at RECORD_VALUE_MAX: quotes and backslashes escaped,
 * \n \r \t, printable ASCII as is.  JSON keeps valid UTF-8 and writes any
 * other byte as the code point of the same value (so the line is always
 * valid JSON); text writes it as \xHH.
 */
static void
out_quoted(struct out *o, const char *str, int json)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 start = o->len, n;
	char			 esc[8];

	out_raw(o, "\"", 1);
	for (; *s != '\0'; s += n) {
		n = 1;
		if (o->len - start > RECORD_VALUE_MAX) {
			out_str(o, "...");
			break;
		}
		if (*s == '"' || *s == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*s;
			out_raw(o, esc, 2);
		} else if (*s == '\n')
			out_str(o, "\\n");
		else if (*s == '\r')
			out_str(o, "\\r");
		else if (*s == '\t')
			out_str(o, "\\t");
		else if (*s >= 0x20 && *s < 0x7f)
			out_raw(o, (const char *)s, 1);
		else if (json && *s >= 0x80 && (n = utf8_len(s)) > 0)
			out_raw(o, (const char *)s, n);
		else {
			n = 1;
			snprintf(esc, sizeof(esc), json ? "\\u%04x" : "\\x%02x",
			    *s);
			out_str(o, esc);
		}
	}
	out_raw(o, "\"", 1);
}

static int
text_plain(const unsigned char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s <= 0x20 || *s >= 0x7f || *s == '"' || *s == '\\' ||
		    *s == '=')
			return 0;
	return 1;
}

/*
 * A text value: as is when it is plain printable ASCII without spaces,
 * quotes, backslashes or '='; otherwise quoted by out_quoted().
 */
static void
out_text_value(struct out *o, const char *str)
{
	if (text_plain((const unsigned char *)str) &&
	    strlen(str) <= RECORD_VALUE_MAX)
		out_str(o, str);
	else
		out_quoted(o, str, 0);
}

/*
 * One key and string value.  An unknown value (NULL or "") has one
 * spelling per format, so that a search finds every such record: JSON
 * leaves the key out, text writes "-" when `always` (a key every text
 * record has) and leaves the key out otherwise.
 */
static void
out_string_field(struct out *o, enum record_format f, const char *key,
    const char *val, int always)
{
	int	absent = val == NULL || val[0] == '\0';

	if (absent && (!always || f == RECORD_FORMAT_JSON))
		return;
	if (o->len > 1 || (f == RECORD_FORMAT_TEXT && o->len > 0))
		out_raw(o, f == RECORD_FORMAT_JSON ? "," : " ", 1);
	if (f == RECORD_FORMAT_JSON) {
		out_fmt(o, "\"%s\":", key);
		out_quoted(o, val, 1);
	} else {
		out_fmt(o, "%s=", key);
		if (absent)
			out_str(o, "-");
		else
			out_text_value(o, val);
	}
}

static void
out_number_field(struct out *o, enum record_format f, const char *key,
    long long sign, unsigned long long val)
{
	out_raw(o, f == RECORD_FORMAT_JSON ? "," : " ", 1);
	if (f == RECORD_FORMAT_JSON)
		out_fmt(o, "\"%s\":%s%llu", key, sign < 0 ? "-" : "", val);
	else
		out_fmt(o, "%s=%s%llu", key, sign < 0 ? "-" : "", val);
}

static void
out_signed_field(struct out *o, enum record_format f, const char *key,
    long long v)
{
	out_number_field(o, f, key, v, v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v);
}

/* s when it is a short lowercase token (RECORD_TOKEN_MAX), else NULL. */
static const char *
token(const char *s)
{
	size_t	n;

	if (s == NULL)
		return NULL;
	for (n = 0; s[n] != '\0'; n++)
		if (n >= RECORD_TOKEN_MAX || !((s[n] >= 'a' && s[n] <= 'z') ||
		    (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
		    s[n] == '-'))
			return NULL;
	return s;
}

size_t
record_format(char *buf, size_t len, enum record_format format,
    const struct record *r)
{
	struct out	o = { buf, 0, len > 0 ? len - 1 : 0, len == 0 };
	char		now[32];

	utc_format_ms(now, sizeof(now), r->time_ms);
	if (format == RECORD_FORMAT_JSON)
		out_raw(&o, "{", 1);
	out_string_field(&o, format, "time", now, 1);
	out_string_field(&o, format, "id", r->id, 1);
	out_signed_field(&o, format, "worker", r->worker);
	out_string_field(&o, format, "client", r->client, 1);
	out_string_field(&o, format, "via", r->via, 0);
	out_string_field(&o, format, "user", r->user, 0);
	out_string_field(&o, format, "target", r->target, 1);
	out_string_field(&o, format, "dialed", r->dialed, 0);
	out_string_field(&o, format, "upstream", r->upstream, 0);
	out_signed_field(&o, format, "status", r->status);
	out_number_field(&o, format, "bytes_up", 1, r->bytes_up);
	out_number_field(&o, format, "bytes_down", 1, r->bytes_down);
	out_signed_field(&o, format, "duration_ms", r->duration_ms);
	out_string_field(&o, format, "reason", r->reason, 1);
	out_string_field(&o, format, "error", token(r->error), 0);
	out_string_field(&o, format, "rule", r->rule, 0);
	out_string_field(&o, format, "detail", r->detail, 0);
	if (format == RECORD_FORMAT_JSON)
		out_raw(&o, "}", 1);
	if (o.full) {
		if (len > 0)
			buf[0] = '\0';
		return 0;
	}
	buf[o.len] = '\0';
	return o.len;
}
