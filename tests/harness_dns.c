/* SPDX-License-Identifier: ISC */
/*
 * The test DNS server of the end-to-end harness (see harness_dns.h): a
 * resolver for a namespace, answering A questions from a list.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "harness_dns.h"
#include "harness_net.h"
#include "harness_proc.h"
#include "harness_target.h"
#include "harness_time.h"

/*
 * The query name of a DNS message, lower-cased, into name; *qend gets
 * the offset past the question and *qtype its type.  Returns 0 or -1.
 */
static int
dns_question(const unsigned char *q, size_t len, char *name, size_t nlen,
    size_t *qend, int *qtype)
{
	size_t	i = 12, o = 0, n, k;

	if (len < 12 || q[4] != 0 || q[5] != 1)
		return -1;
	while (i < len && q[i] != 0) {
		n = q[i++];
		if (n > 63 || i + n >= len || o + n + 2 > nlen)
			return -1;
		if (o > 0)
			name[o++] = '.';
		for (k = 0; k < n; k++)
			name[o++] = (char)tolower(q[i + k]);
		i += n;
	}
	if (i + 5 > len)
		return -1;
	name[o] = '\0';
	*qtype = q[i + 1] << 8 | q[i + 2];
	*qend = i + 5;
	return 0;
}

/* One answer: A `a4` for a listed name, no data for its other types. */
static size_t
dns_answer(const unsigned char *q, size_t qend, int known, int qtype,
    const unsigned char a4[4], unsigned char *r)
{
	static const unsigned char rr[] = { 0xc0, 0x0c, 0, 1, 0, 1,
	    0, 0, 0, 60, 0, 4 };
	size_t	len = qend;

	memcpy(r, q, qend);
	r[2] = 0x80 | (q[2] & 0x01);	/* a response; RD echoed */
	r[3] = known ? 0x80 : 0x83;	/* RA; NOERROR or NXDOMAIN */
	memset(r + 6, 0, 6);
	if (known && qtype == 1) {
		r[7] = 1;
		memcpy(r + len, rr, sizeof(rr));
		memcpy(r + len + sizeof(rr), a4, 4);
		len += sizeof(rr) + 4;
	}
	return len;
}

static void __attribute__((noreturn))
dns_loop(int fd, int rep, const char *const *names, const unsigned char a4[4])
{
	struct sockaddr_storage	ss;
	socklen_t		slen;
	unsigned char		q[512], r[512 + 16];
	char			name[256], line[300];
	long long		deadline = harness_now_ms() + 300000;
	size_t			qend;
	ssize_t			n;
	int			i, k, known, qtype;

	for (i = 0; i < 10000 && harness_now_ms() < deadline; i++) {
		if (harness_wait_fd(fd, POLLIN, 1000) <= 0)
			continue;
		slen = sizeof(ss);
		n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&ss,
		    &slen);
		if (n <= 0 || dns_question(q, (size_t)n, name, sizeof(name),
		    &qend, &qtype) == -1)
			continue;
		snprintf(line, sizeof(line), "query %s %d\n", name, qtype);
		harness_report(rep, line);
		for (k = 0, known = 0; names[k] != NULL && !known; k++)
			known = strcasecmp(names[k], name) == 0;
		sendto(fd, r, dns_answer(q, qend, known, qtype, a4, r), 0,
		    (struct sockaddr *)&ss, slen);
	}
	_exit(0);
}

int
harness_dns_start(struct harness_target *t, const char *const *names,
    const char *addr)
{
	struct sockaddr_in	sin;
	unsigned char		a4[4];
	int			fd, rep[2];

	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->report = -1;
	t->family = AF_INET;
	t->port = 53;
	snprintf(t->addr, sizeof(t->addr), "127.0.0.1");
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(53);
	if (inet_pton(AF_INET, addr, a4) != 1 ||
	    inet_pton(AF_INET, t->addr, &sin.sin_addr) != 1)
		return -1;
	/* Bound before the fork: ready as soon as this returns. */
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    pipe2(rep, O_CLOEXEC) == -1) {
		close(fd);
		return -1;
	}
	fflush(NULL);
	if ((t->pid = fork()) == 0) {
		harness_child_setup();
		close(rep[0]);
		fcntl(rep[1], F_SETFL, O_NONBLOCK);
		dns_loop(fd, rep[1], names, a4);
	}
	close(fd);
	close(rep[1]);
	t->report = rep[0];
	fcntl(t->report, F_SETFL, O_NONBLOCK);
	return t->pid == -1 ? -1 : 0;
}
