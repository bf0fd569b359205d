/* SPDX-License-Identifier: ISC */
/*
 * PROXY protocol header parser (HAProxy's proxy-protocol.txt, versions 1
 * and 2).  Strict where the specification is: anything that does not
 * match exactly is refused, since a header is only ever sent by a
 * balancer we trust and anything else on such a listener is an attack
 * or a misconfiguration.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "net.h"
#include "proxyproto.h"

#define V2_HEAD		16	/* signature, version/command, family, length */
#define V2_CMD_LOCAL	0x0
#define V2_CMD_PROXY	0x1
#define V2_AF_UNSPEC	0x0
#define V2_AF_INET	0x1
#define V2_AF_INET6	0x2
#define V2_AF_UNIX	0x3
#define V2_PROTO_UNSPEC	0x0
#define V2_PROTO_STREAM	0x1
#define V2_PROTO_DGRAM	0x2
#define V2_INET_LEN	(2 * 4 + 2 * 2)
#define V2_INET6_LEN	(2 * 16 + 2 * 2)
#define V2_TLV_HEAD	3	/* type, length (2 bytes) */
#define V1_ADDR_MAX	45	/* INET6_ADDRSTRLEN - 1 */

static const unsigned char	v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char		v1_sig[] = "PROXY ";

static enum proxyproto_status
bad(struct proxyproto_result *out, const char *why)
{
	out->reason = why;
	return PROXYPROTO_BAD;
}

/* Whether the first min(len, n) bytes of buf are those of sig. */
static int
prefix_of(const unsigned char *buf, size_t len, const void *sig, size_t n)
{
	return memcmp(buf, sig, len < n ? len : n) == 0;
}

/* Exactly four decimal bytes separated by single dots. */
static int
v1_ipv4(const char *s, size_t n, unsigned char addr[4])
{
	const char	*end = s + n, *dot;
	unsigned	 k, v;

	for (k = 0; k < 4; k++) {
		dot = memchr(s, '.', (size_t)(end - s));
		if ((k < 3) != (dot != NULL))
			return -1;
		if (dot == NULL)
			dot = end;
		if (net_parse_decimal(s, (size_t)(dot - s), 3, 255, &v) == -1)
			return -1;
		addr[k] = (unsigned char)v;
		s = dot + 1;
	}
	return 0;
}

/* An IPv6 address in any form inet_pton(3) takes, at most 45 bytes. */
static int
v1_ipv6(const char *s, size_t n, unsigned char addr[16])
{
	char	tmp[V1_ADDR_MAX + 1];

	if (n == 0 || n > V1_ADDR_MAX)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, addr) == 1 ? 0 : -1;
}

/*
 * The next space-separated word of [*sp, end): its start and length,
 * *sp left after it and the one space that must follow it (`last`: the
 * line end must).  Empty words (two spaces) are refused.  0 or -1.
 */
static int
v1_word(const char **sp, const char *end, int last, const char **w,
    size_t *n)
{
	const char	*s = *sp, *sp_at;

	sp_at = memchr(s, ' ', (size_t)(end - s));
	if (last && sp_at != NULL)
		return -1;
	if (!last && sp_at == NULL)
		return -1;
	if (sp_at == NULL)
		sp_at = end;
	if (sp_at == s)
		return -1;
	*w = s;
	*n = (size_t)(sp_at - s);
	*sp = sp_at == end ? end : sp_at + 1;
	return 0;
}

/*
 * The source address and port of a header into out.  An IPv4-mapped
 * IPv6 address (what a dual-stack balancer sends for an IPv4 client) is
 * stored as the IPv4 address it is, so that the records, the status
 * table and the logs spell a client one way whatever the balancer's
 * socket was.
 */
static void
set_src(struct proxyproto_result *out, int family, const unsigned char *a,
    unsigned port)
{
	static const unsigned char	 mapped[12] = { [10] = 0xff,
					    [11] = 0xff };
	struct sockaddr_in		*sin = (struct sockaddr_in *)&out->src;
	struct sockaddr_in6		*sin6 =
					    (struct sockaddr_in6 *)&out->src;

	memset(&out->src, 0, sizeof(out->src));
	if (family == AF_INET6 && memcmp(a, mapped, sizeof(mapped)) == 0) {
		family = AF_INET;
		a += sizeof(mapped);
	}
	if (family == AF_INET) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		sin->sin_port = htons((unsigned short)port);
		out->srclen = sizeof(*sin);
	} else {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		sin6->sin6_port = htons((unsigned short)port);
		out->srclen = sizeof(*sin6);
	}
}

/* The words of a "TCP4"/"TCP6" line after the protocol, [s, end). */
static enum proxyproto_status
v1_inet(const char *s, const char *end, int family,
    struct proxyproto_result *out)
{
	unsigned char	 src[16], dst[16];
	unsigned	 sport, dport;
	const char	*w;
	size_t		 n;
	int		 (*addr)(const char *, size_t, unsigned char *) =
			    family == AF_INET ? v1_ipv4 : v1_ipv6;

	if (v1_word(&s, end, 0, &w, &n) == -1 || addr(w, n, src) == -1)
		return bad(out, "v1: bad source address");
	if (v1_word(&s, end, 0, &w, &n) == -1 || addr(w, n, dst) == -1)
		return bad(out, "v1: bad destination address");
	if (v1_word(&s, end, 0, &w, &n) == -1 ||
	    net_parse_decimal(w, n, 5, 65535, &sport) == -1)
		return bad(out, "v1: bad source port");
	if (v1_word(&s, end, 1, &w, &n) == -1 ||
	    net_parse_decimal(w, n, 5, 65535, &dport) == -1)
		return bad(out, "v1: bad destination port");
	set_src(out, family, src, sport);
	return PROXYPROTO_OK;
}

/*
 * Version 1: "PROXY " and a line of printable ASCII ending in CRLF within
 * 107 bytes; decoded only once the CRLF is there, as the specification
 * asks.
 */
static enum proxyproto_status
v1_parse(const char *b, size_t len, struct proxyproto_result *out)
{
	const char	*s, *end, *w;
	size_t		 i, n;

	out->version = 1;
	for (i = 0; i < len && i + 1 < PROXYPROTO_V1_MAX; i++) {
		if (b[i] == '\r')
			break;
		if (b[i] == '\n')
			return bad(out, "v1: LF without CR");
		if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] > 0x7e)
			return bad(out, "v1: not printable ASCII");
	}
	/* No CR in the first 106 bytes: the CRLF cannot end by 107. */
	if (i + 1 == PROXYPROTO_V1_MAX)
		return bad(out, "v1: no CRLF within 107 bytes");
	if (i == len || i + 1 == len)
		return PROXYPROTO_NEED_MORE;
	if (b[i + 1] != '\n')
		return bad(out, "v1: CR without LF");
	out->len = i + 2;
	s = b + sizeof(v1_sig) - 1;
	end = b + i;
	if (memchr(s, ' ', (size_t)(end - s)) == NULL) {
		w = s;			/* "PROXY UNKNOWN\r\n" */
		n = (size_t)(end - s);
		s = end;
	} else if (v1_word(&s, end, 0, &w, &n) == -1)
		return bad(out, "v1: no protocol");
	if (n == 7 && memcmp(w, "UNKNOWN", 7) == 0) {
		/* The rest of the line is the receiver's to ignore. */
		out->local = 1;
		return PROXYPROTO_OK;
	}
	if (n == 4 && memcmp(w, "TCP4", 4) == 0)
		return v1_inet(s, end, AF_INET, out);
	if (n == 4 && memcmp(w, "TCP6", 4) == 0)
		return v1_inet(s, end, AF_INET6, out);
	return bad(out, "v1: unknown protocol");
}

/* TLVs fill [off, total): each must fit whole; their values are unused. */
static int
v2_tlvs(const unsigned char *b, size_t off, size_t total)
{
	size_t	n;

	while (off < total) {
		if (total - off < V2_TLV_HEAD)
			return -1;
		n = (size_t)b[off + 1] << 8 | b[off + 2];
		if (n > total - off - V2_TLV_HEAD)
			return -1;
		off += V2_TLV_HEAD + n;
	}
	return 0;
}

/* The address block of a v2 PROXY command, whole in b[0, out->len). */
static enum proxyproto_status
v2_proxy(const unsigned char *b, unsigned fam, unsigned proto,
    struct proxyproto_result *out)
{
	const unsigned char	*a = b + V2_HEAD;
	size_t			 need;

	/* What the specification lets a receiver treat as UNSPEC. */
	if (fam == V2_AF_UNSPEC || fam == V2_AF_UNIX ||
	    proto == V2_PROTO_UNSPEC) {
		out->local = 1;
		return PROXYPROTO_OK;
	}
	need = fam == V2_AF_INET ? V2_INET_LEN : V2_INET6_LEN;
	if (v2_tlvs(b, V2_HEAD + need, out->len) == -1)
		return bad(out, "v2: malformed TLV");
	if (fam == V2_AF_INET)
		set_src(out, AF_INET, a, (unsigned)a[8] << 8 | a[9]);
	else
		set_src(out, AF_INET6, a, (unsigned)a[32] << 8 | a[33]);
	return PROXYPROTO_OK;
}

/*
 * Version 2: each fixed field is judged as soon as it is there, the
 * address block once it is whole.  A LOCAL command's family and
 * addresses are ignored, as the specification says.
 */
static enum proxyproto_status
v2_parse(const unsigned char *b, size_t len, struct proxyproto_result *out)
{
	unsigned	cmd, fam, proto;
	size_t		addrlen;

	out->version = 2;
	if (len <= sizeof(v2_sig))
		return PROXYPROTO_NEED_MORE;
	if (b[12] >> 4 != 2)
		return bad(out, "v2: version not 2");
	if ((cmd = b[12] & 0x0f) > V2_CMD_PROXY)
		return bad(out, "v2: unknown command");
	if (len < 14)
		return PROXYPROTO_NEED_MORE;
	fam = b[13] >> 4;
	proto = b[13] & 0x0f;
	if (cmd == V2_CMD_PROXY && fam > V2_AF_UNIX)
		return bad(out, "v2: unknown address family");
	if (cmd == V2_CMD_PROXY && proto > V2_PROTO_DGRAM)
		return bad(out, "v2: unknown transport protocol");
	if (cmd == V2_CMD_PROXY && proto == V2_PROTO_DGRAM)
		return bad(out, "v2: a datagram connection on a stream");
	if (len < V2_HEAD)
		return PROXYPROTO_NEED_MORE;
	addrlen = (size_t)b[14] << 8 | b[15];
	if (addrlen > PROXYPROTO_MAX - V2_HEAD)
		return bad(out, "v2: header too long");
	if (cmd == V2_CMD_PROXY && proto == V2_PROTO_STREAM &&
	    ((fam == V2_AF_INET && addrlen < V2_INET_LEN) ||
	    (fam == V2_AF_INET6 && addrlen < V2_INET6_LEN)))
		return bad(out, "v2: address block too short");
	if (len < V2_HEAD + addrlen)
		return PROXYPROTO_NEED_MORE;
	out->len = V2_HEAD + addrlen;
	if (cmd == V2_CMD_LOCAL) {
		out->local = 1;
		return PROXYPROTO_OK;
	}
	return v2_proxy(b, fam, proto, out);
}

enum proxyproto_status
proxyproto_parse(const void *buf, size_t len, struct proxyproto_result *out)
{
	const unsigned char	*b = buf;

	memset(out, 0, sizeof(*out));
	if (len == 0)
		return PROXYPROTO_NEED_MORE;
	if (b[0] == v1_sig[0]) {
		if (!prefix_of(b, len, v1_sig, sizeof(v1_sig) - 1))
			return bad(out, "not a PROXY header");
		if (len < sizeof(v1_sig) - 1)
			return PROXYPROTO_NEED_MORE;
		return v1_parse(buf, len, out);
	}
	if (!prefix_of(b, len, v2_sig, sizeof(v2_sig)))
		return bad(out, "not a PROXY header");
	return v2_parse(b, len, out);
}
