/* SPDX-License-Identifier: ISC */
/*
 * The request heads scrape_parse() is tested on, with their verdicts:
 * a table of its own so that the fuzzer's seed writer (fuzz/seeds.c)
 * takes it without the test harness.
 */
#ifndef SCRAPE_HEADS_H
#define SCRAPE_HEADS_H

static const struct {
	const char	*head;
	int		 status;	/* 0: incomplete */
	int		 is_head;
} heads[] = {
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, 0 },
	{ "GET /metrics HTTP/1.0\r\n\r\n", 200, 0 },
	{ "GET /metrics HTTP/1.0\n\n", 200, 0 },
	{ "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, 1 },
	{ "GET /metrics?name[]=x HTTP/1.1\r\nHost: x\r\n\r\n", 200, 0 },
	{ "\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 200, 0 },
	{ "GET http://h:9/metrics HTTP/1.1\r\nHost: h:9\r\n\r\n", 200, 0 },
	{ ("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain;"
	    "version=0.0.4;q=0.5,*/*;q=0.1\r\nUser-Agent: Prometheus/2.53.0"
	    "\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n"), 200, 0 },
	{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 404, 0 },
	{ "GET /metricsx HTTP/1.1\r\nHost: x\r\n\r\n", 404, 0 },
	{ "GET /metrics/ HTTP/1.1\r\nHost: x\r\n\r\n", 404, 0 },
	{ "HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n", 404, 1 },
	{ "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 404, 0 },
	{ "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405, 0 },
	{ "get /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 405, 0 },
	{ "GET /metrics HTTP/1.1\r\n\r\n", 400, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, 0 },
	{ "GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", 400, 0 },
	{ "GET /metrics\r\n\r\n", 400, 0 },
	{ "GET  /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0 },
	{ "GET /metrics HTTP/1.1 \r\nHost: x\r\n\r\n", 400, 0 },
	{ "GET metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost x\r\n\r\n", 400, 0 },
	{ "GET /metrics HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n", 400, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\ry\r\n\r\n", 400, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\001\r\n\r\n", 400, 0 },
	{ "GET /m\001etrics HTTP/1.1\r\nHost: x\r\n\r\n", 400, 0 },
	{ "garbage\r\n\r\n", 400, 0 },
	{ "\x16\x03\x01\x02\x01\r\n\r\n", 400, 0 },
	{ "", 0, 0 },
	{ "\r\n\r\n", 0, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", 0, 0 },
	{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r", 0, 0 },
	{ "GET /metrics HTTP/1.1", 0, 0 },
};

#endif
