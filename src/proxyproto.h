/* SPDX-License-Identifier: ISC */
/*
 * The PROXY protocol header a load balancer puts before a connection's
 * own bytes (HAProxy's proxy-protocol.txt, versions 1 and 2), to pass on
 * the client's address.  Pure: a parser over the bytes read so far, no
 * I/O, so the worker decides how to read and the tests and the fuzzer
 * can throw anything at it.
 */
#ifndef PROXYPROTO_H
#define PROXYPROTO_H

#include <stddef.h>
#include <sys/socket.h>

/*
 * The longest header accepted, either version: the smallest TCP segment
 * every host must take (576 - 40), which the specification designs both
 * formats to fit in.  A v1 line is at most 107 bytes with its CRLF.
 */
#define PROXYPROTO_MAX		536
#define PROXYPROTO_V1_MAX	107

enum proxyproto_status {
	PROXYPROTO_NEED_MORE,	/* a valid header so far: read more */
	PROXYPROTO_OK,		/* a whole, valid header */
	PROXYPROTO_BAD		/* not a valid header: drop the connection */
};

struct proxyproto_result {
	size_t			 len;		/* header bytes, OK only */
	int			 version;	/* 1 or 2, once known */
	/*
	 * 1: use the connection's own peer (v2 LOCAL, a health check; v1
	 * UNKNOWN; v2 PROXY of an AF_UNSPEC or AF_UNIX connection), and
	 * src is unset.  0: src is the client.
	 */
	int			 local;
	struct sockaddr_storage	 src;		/* AF_INET or AF_INET6; an
						   IPv4-mapped one as AF_INET */
	socklen_t		 srclen;
	const char		*reason;	/* BAD: a short, static why */
};

/*
 * Parse the `len` bytes at buf, the first bytes of a connection.  OK:
 * the header is out->len bytes long (anything after it is the
 * connection's own data, never looked at) and out says whose it is.
 * NEED_MORE: every byte so far fits a header; len < PROXYPROTO_MAX.
 * BAD: out->reason says why, as soon as a byte cannot fit.  Strict:
 * v1 "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" with single spaces,
 * addresses of the family named, ports 0-65535 without leading zeros
 * or signs; "PROXY UNKNOWN" then anything up to the CRLF.  v2: the
 * 12-byte signature, version 2, command LOCAL or PROXY, a family and
 * protocol the specification defines (a datagram one is refused), an
 * address block as long as its family needs, TLVs well formed (and
 * skipped).
 */
enum proxyproto_status proxyproto_parse(const void *buf, size_t len,
	    struct proxyproto_result *out);

#endif
