/* SPDX-License-Identifier: ISC */
/*
 * Tests for record.c, the access record: the text and JSON formats,
 * every field, which fields are left out, escaping of hostile values, the
 * size bound; and the timestamp (utc.c).  Pure: no file, no process.
 */
#include "record.h"	/* first: it stands alone */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "suites.h"
#include "utc.h"

#define T0	1795782278070LL		/* 2026-11-27T12:24:38.070Z */

static struct record
full_record(void)
{
	struct record		r;

	memset(&r, 0, sizeof(r));
	r.time_ms = T0;
	r.id = "4242-7";
	r.worker = 4242;
	r.client = "127.0.0.1:37912";
	r.user = "alice";
	r.target = "example.org:443";
	r.dialed = "93.184.215.14:443";
	r.upstream = "parent.lan:3128";
	r.status = 200;
	r.bytes_up = 722;
	r.bytes_down = 7071;
	r.duration_ms = 10;
	r.reason = "client_eof";
	return r;
}

START_TEST(test_time)
{
	char	buf[32];

	utc_format_ms(buf, sizeof(buf), 0);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	utc_format_ms(buf, sizeof(buf), T0);
	ck_assert_str_eq(buf, "2026-11-27T12:24:38.070Z");
	utc_format_ms(buf, sizeof(buf), 951782400999LL);
	ck_assert_str_eq(buf, "2000-02-29T00:00:00.999Z");
}
END_TEST

/*
 * The arithmetic agrees with gmtime_r() every day from 1970 to 2400
 * (leap centuries 2000 and 2400, common 2100 and 2200), at a second
 * that moves through the day.
 */
START_TEST(test_utc_matches_gmtime)
{
	struct utc	u;
	struct tm	tm;
	long long	day, secs;
	time_t		t;

	for (day = 0; day < 157000; day++) {
		secs = day * 86400 + (day * 7919) % 86400;
		t = (time_t)secs;
		ck_assert_ptr_nonnull(gmtime_r(&t, &tm));
		utc_civil(secs, &u);
		ck_assert_msg(u.year == tm.tm_year + 1900 &&
		    u.mon == tm.tm_mon + 1 && u.mday == tm.tm_mday &&
		    u.hour == tm.tm_hour && u.min == tm.tm_min &&
		    u.sec == tm.tm_sec && u.wday == tm.tm_wday,
		    "%lld: %04d-%02d-%02d %02d:%02d:%02d w%d, gmtime_r says "
		    "%04d-%02d-%02d %02d:%02d:%02d w%d", secs, u.year, u.mon,
		    u.mday, u.hour, u.min, u.sec, u.wday, tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec, tm.tm_wday);
	}
}
END_TEST

START_TEST(test_text_full)
{
	struct record		r = full_record();
	char			buf[RECORD_MAX];
	size_t			n;

	n = record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_str_eq(buf, "time=2026-11-27T12:24:38.070Z id=4242-7 "
	    "worker=4242 client=127.0.0.1:37912 user=alice "
	    "target=example.org:443 dialed=93.184.215.14:443 "
	    "upstream=parent.lan:3128 status=200 bytes_up=722 "
	    "bytes_down=7071 duration_ms=10 reason=client_eof");
	ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(test_json_full)
{
	struct record		r = full_record();
	char			buf[RECORD_MAX];

	ck_assert_uint_gt(record_format(buf, sizeof(buf),
	    RECORD_FORMAT_JSON, &r), 0);
	ck_assert_str_eq(buf, "{\"time\":\"2026-11-27T12:24:38.070Z\","
	    "\"id\":\"4242-7\",\"worker\":4242,"
	    "\"client\":\"127.0.0.1:37912\",\"user\":\"alice\","
	    "\"target\":\"example.org:443\","
	    "\"dialed\":\"93.184.215.14:443\","
	    "\"upstream\":\"parent.lan:3128\",\"status\":200,"
	    "\"bytes_up\":722,\"bytes_down\":7071,\"duration_ms\":10,"
	    "\"reason\":\"client_eof\"}");
}
END_TEST

/*
 * A refusal before any head: no user, target, dialed or upstream.  An
 * unknown value has one spelling per format: text writes "-" for a key
 * every record has (target) and leaves the others out; JSON leaves every
 * such key out (never null, never "-").
 */
START_TEST(test_absent_fields)
{
	struct record		r = full_record();
	char			buf[RECORD_MAX];

	r.user = "";
	r.target = "";
	r.dialed = NULL;
	r.upstream = NULL;
	r.status = 403;
	r.bytes_up = r.bytes_down = 0;
	r.reason = "client_denied";
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_str_eq(buf, "time=2026-11-27T12:24:38.070Z id=4242-7 "
	    "worker=4242 client=127.0.0.1:37912 target=- status=403 "
	    "bytes_up=0 bytes_down=0 duration_ms=10 reason=client_denied");
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_str_eq(buf, "{\"time\":\"2026-11-27T12:24:38.070Z\","
	    "\"id\":\"4242-7\",\"worker\":4242,"
	    "\"client\":\"127.0.0.1:37912\",\"status\":403,"
	    "\"bytes_up\":0,\"bytes_down\":0,\"duration_ms\":10,"
	    "\"reason\":\"client_denied\"}");
}
END_TEST

/* The rule that denied comes last, quoted in text (it has a space). */
START_TEST(test_rule)
{
	struct record		r = full_record();
	char			buf[RECORD_MAX];

	r.user = NULL;
	r.dialed = NULL;
	r.upstream = NULL;
	r.status = 403;
	r.reason = "dest_denied";
	r.rule = "deny_dest .example.org";
	r.bytes_up = r.bytes_down = 0;
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_str_eq(buf, "time=2026-11-27T12:24:38.070Z id=4242-7 "
	    "worker=4242 client=127.0.0.1:37912 target=example.org:443 "
	    "status=403 bytes_up=0 bytes_down=0 duration_ms=10 "
	    "reason=dest_denied rule=\"deny_dest .example.org\"");
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_ptr_nonnull(strstr(buf, ",\"reason\":\"dest_denied\","
	    "\"rule\":\"deny_dest .example.org\"}"));
}
END_TEST

/* via: the balancer a PROXY header came from, right after the client. */
START_TEST(test_via)
{
	struct record		r = full_record();
	char			buf[RECORD_MAX];

	r.client = "203.0.113.7:50123";
	r.via = "10.0.0.2:41000";
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_ptr_nonnull(strstr(buf, " client=203.0.113.7:50123 "
	    "via=10.0.0.2:41000 user=alice "));
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_ptr_nonnull(strstr(buf, ",\"client\":\"203.0.113.7:50123\","
	    "\"via\":\"10.0.0.2:41000\",\"user\":\"alice\","));
	r.via = "";
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_ptr_null(strstr(buf, "via"));
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_ptr_null(strstr(buf, "via"));
}
END_TEST

/* Hostile user names, as a client may send them in Basic credentials. */
static const struct {
	const char	*user;
	const char	*text;		/* the user=... part */
	const char	*json;		/* the "user":... part */
} escapes[] = {
	{ "bob", "user=bob ", "\"user\":\"bob\"" },
	{ "two words", "user=\"two words\" ", "\"user\":\"two words\"" },
	{ "a\"b", "user=\"a\\\"b\" ", "\"user\":\"a\\\"b\"" },
	{ "back\\slash", "user=\"back\\\\slash\" ",
	  "\"user\":\"back\\\\slash\"" },
	{ "x status=200", "user=\"x status=200\" ",
	  "\"user\":\"x status=200\"" },
	{ "k=v", "user=\"k=v\" ", "\"user\":\"k=v\"" },
	{ "nl\nfake=1", "user=\"nl\\nfake=1\" ", "\"user\":\"nl\\nfake=1\"" },
	{ "cr\rtab\t", "user=\"cr\\rtab\\t\" ", "\"user\":\"cr\\rtab\\t\"" },
	{ "bell\x07" "del\x7f", "user=\"bell\\x07del\\x7f\" ",
	  "\"user\":\"bell\\u0007del\\u007f\"" },
	{ "j\xc3\xb6rg", "user=\"j\\xc3\\xb6rg\" ", "\"user\":\"j\xc3\xb6rg\"" },
	{ "bad\xff\xc3", "user=\"bad\\xff\\xc3\" ",
	  "\"user\":\"bad\\u00ff\\u00c3\"" },
	{ "\xed\xa0\x80", "user=\"\\xed\\xa0\\x80\" ",
	  "\"user\":\"\\u00ed\\u00a0\\u0080\"" },	/* a surrogate */
	{ "\xc0\xaf", "user=\"\\xc0\\xaf\" ",
	  "\"user\":\"\\u00c0\\u00af\"" },		/* overlong '/' */
};

START_TEST(test_escaping)
{
	struct record		r = full_record();
	char			buf[RECORD_MAX];

	r.user = escapes[_i].user;
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_msg(strstr(buf, escapes[_i].text) != NULL, "text: %s",
	    buf);
	ck_assert_ptr_null(strchr(buf, '\n'));
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_msg(strstr(buf, escapes[_i].json) != NULL, "json: %s",
	    buf);
	ck_assert_ptr_null(strchr(buf, '\n'));
}
END_TEST

/* Every value at its worst still fits one pipe write. */
/*
 * A refusal's detail (the words of its answer body) comes last, quoted in
 * text; a record without one has no detail key.
 */
START_TEST(test_detail)
{
	struct record		r = full_record();
	char			buf[RECORD_MAX];

	r.user = NULL;
	r.dialed = NULL;
	r.upstream = NULL;
	r.status = 400;
	r.reason = "bad_request";
	r.detail = "invalid \"request\" line";
	r.bytes_up = r.bytes_down = 0;
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_str_eq(buf, "time=2026-11-27T12:24:38.070Z id=4242-7 "
	    "worker=4242 client=127.0.0.1:37912 target=example.org:443 "
	    "status=400 bytes_up=0 bytes_down=0 duration_ms=10 "
	    "reason=bad_request detail=\"invalid \\\"request\\\" line\"");
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_ptr_nonnull(strstr(buf, ",\"reason\":\"bad_request\","
	    "\"detail\":\"invalid \\\"request\\\" line\"}"));
	r.detail = "";
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_ptr_null(strstr(buf, "detail"));
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_ptr_null(strstr(buf, "detail"));
}
END_TEST

/*
 * A refusal's Proxy-Status error type follows its reason, a bare token
 * in text; a record without one (a tunnel) has no error key.
 */
START_TEST(test_error_type)
{
	struct record		r = full_record();
	char			buf[RECORD_MAX];

	r.user = NULL;
	r.dialed = NULL;
	r.upstream = NULL;
	r.status = 403;
	r.reason = "dest_denied";
	r.error = "destination_ip_prohibited";
	r.rule = "builtin:loopback";
	r.bytes_up = r.bytes_down = 0;
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_str_eq(buf, "time=2026-11-27T12:24:38.070Z id=4242-7 "
	    "worker=4242 client=127.0.0.1:37912 target=example.org:443 "
	    "status=403 bytes_up=0 bytes_down=0 duration_ms=10 "
	    "reason=dest_denied error=destination_ip_prohibited "
	    "rule=builtin:loopback");
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_ptr_nonnull(strstr(buf, ",\"reason\":\"dest_denied\","
	    "\"error\":\"destination_ip_prohibited\",\"rule\":"));
	r.error = NULL;
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_ptr_null(strstr(buf, "error"));
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_ptr_null(strstr(buf, "error"));
	r.error = "";
	record_format(buf, sizeof(buf), RECORD_FORMAT_JSON, &r);
	ck_assert_ptr_null(strstr(buf, "error"));
	/* Only ever a proxy error type: anything else is left out. */
	r.error = "dns_error rcode=x";
	record_format(buf, sizeof(buf), RECORD_FORMAT_TEXT, &r);
	ck_assert_ptr_null(strstr(buf, "error"));
}
END_TEST

START_TEST(test_bounded)
{
	struct record		r = full_record();
	static char		big[4000];
	char			buf[RECORD_MAX - 64], *end;
	size_t			n;

	memset(big, '\x01', sizeof(big) - 1);
	r.user = r.target = r.dialed = r.upstream = r.reason = r.rule =
	    r.detail = r.client = r.id = big;
	/* The longest error type a record takes, alongside. */
	r.error = "connection_write_timeout_a_long_token__";
	n = record_format(buf, sizeof(buf), _i ? RECORD_FORMAT_JSON :
	    RECORD_FORMAT_TEXT, &r);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_lt(n, sizeof(buf));
	end = strstr(buf, "...\"");
	ck_assert_ptr_nonnull(end);
	ck_assert_int_eq(buf[n - 1], _i ? '}' : '"');
}
END_TEST

START_TEST(test_too_small)
{
	struct record		r = full_record();
	char			buf[64];

	ck_assert_uint_eq(record_format(buf, sizeof(buf),
	    RECORD_FORMAT_TEXT, &r), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_uint_eq(record_format(buf, sizeof(buf),
	    RECORD_FORMAT_JSON, &r), 0);
}
END_TEST

Suite *
record_suite(void)
{
	Suite	*s = suite_create("record");
	TCase	*tc = tcase_create("records");

	tcase_add_test(tc, test_time);
	tcase_add_test(tc, test_utc_matches_gmtime);
	tcase_add_test(tc, test_text_full);
	tcase_add_test(tc, test_json_full);
	tcase_add_test(tc, test_absent_fields);
	tcase_add_test(tc, test_rule);
	tcase_add_test(tc, test_detail);
	tcase_add_test(tc, test_error_type);
	tcase_add_loop_test(tc, test_escaping, 0,
	    (int)(sizeof(escapes) / sizeof(escapes[0])));
	tcase_add_loop_test(tc, test_bounded, 0, 2);
	tcase_add_test(tc, test_too_small);
	tcase_add_test(tc, test_via);
	suite_add_tcase(s, tc);
	return s;
}
