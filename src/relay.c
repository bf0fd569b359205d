/* SPDX-License-Identifier: ISC */
/*
 * The tunnel relay: a poll() loop over the client and the target socket,
 * one bounded buffer per direction.  Each direction is a `struct half`
 * that reads from one socket and writes to the other; EOF on its source
 * becomes shutdown(SHUT_WR) on its destination once the buffer drains.
 * A destination that closed and went away stops only its own direction.
 * A tunnel that goes quiet gives its buffers' pages back, so an idle
 * tunnel costs little memory however large relay_buffer is.
 */
#define _DEFAULT_SOURCE		/* madvise(2) */

#include <sys/mman.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "relay.h"

#define RELAY_GROW_START	(16 * 1024)	/* first read window */

struct half {
	int		 from;
	int		 to;
	char		*buf;
	size_t		 size;
	size_t		 off;		/* next byte of buf to write */
	size_t		 len;		/* bytes held in buf */
	const char	*early;		/* caller's bytes, written before buf */
	size_t		 early_len;
	int		 eof;		/* `from` returned EOF */
	int		 shut;		/* nothing more goes to `to` */
	int		 gone;		/* `to` went away; `from` dropped */
	_Atomic uint64_t *count;
	size_t		 grow;		/* most bytes one read() may take */
};

/* What a half did in one round, besides errors (-1). */
#define HALF_IDLE	0
#define HALF_MOVED	1

static void
half_init(struct half *h, int from, int to, char *buf, size_t size,
    _Atomic uint64_t *count)
{
	h->from = from;
	h->to = to;
	h->buf = buf;
	h->size = size;
	h->off = h->len = 0;
	h->early = NULL;
	h->early_len = 0;
	h->eof = h->shut = h->gone = 0;
	h->count = count;
	h->grow = size < RELAY_GROW_START ? size : RELAY_GROW_START;
}

static size_t
half_pending(const struct half *h)
{
	return h->early_len + (h->len - h->off);
}

static int
half_wants_read(const struct half *h)
{
	return !h->eof && h->len < h->size;
}

/* MSG_NOSIGNAL so a reset peer gives EPIPE instead of killing us. */
static ssize_t
send_some(int fd, const char *p, size_t n)
{
	ssize_t	 r;

	r = send(fd, p, n, MSG_NOSIGNAL);
	if (r == -1 && errno == ENOTSOCK)
		r = write(fd, p, n);
	return r;
}

/*
 * Read at most h->grow bytes: a tunnel that fills it is a bulk transfer,
 * and the window doubles up to the whole buffer, so interactive tunnels
 * touch a few pages and bulk ones get large reads, few system calls.
 */
static int
half_read(struct half *h)
{
	size_t	 room = h->size - h->len;
	ssize_t	 r;

	r = read(h->from, h->buf + h->len, room < h->grow ? room : h->grow);
	if (r == -1)
		return (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR) ? HALF_IDLE : -1;
	if (r == 0)
		h->eof = 1;
	else if ((size_t)r == h->grow && h->grow < h->size)
		h->grow *= 2;
	h->len += (size_t)r;
	return HALF_MOVED;
}

/*
 * Write early bytes, then the buffer, until done or the socket is full.
 * Returns -1 with errno set when the write fails.
 */
static int
half_write(struct half *h)
{
	const char	*p;
	size_t		 n;
	ssize_t		 r;
	int		 moved = HALF_IDLE;

	while (half_pending(h) > 0) {
		p = h->early_len > 0 ? h->early : h->buf + h->off;
		n = h->early_len > 0 ? h->early_len : h->len - h->off;
		if ((r = send_some(h->to, p, n)) == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			return -1;
		}
		moved = HALF_MOVED;
		/* One writer: a relaxed add keeps readers untorn, no fence. */
		atomic_fetch_add_explicit(h->count, (uint64_t)r,
		    memory_order_relaxed);
		if (h->early_len > 0) {
			h->early += r;
			h->early_len -= (size_t)r;
		} else if ((h->off += (size_t)r) == h->len)
			h->off = h->len = 0;
		if ((size_t)r < n)
			break;
	}
	return moved;
}

/*
 * A write to h->to failed.  When its peer had closed in order first (we
 * read its EOF, `peer_eof`, or the kernel had: Linux reports a reset
 * that follows a FIN as EPIPE, one without as ECONNRESET), it merely
 * refused what came after (RFC 9110 9.3.6: what is undelivered is
 * discarded).  Then only this direction stops: its bytes are dropped,
 * what its source still sends is read and thrown away so that the source
 * is not stuck writing, and the other direction goes on delivering what
 * the peer sent.  Returns HALF_IDLE so, or -1 for a failure that ends
 * the relay.
 */
static int
half_lost(struct half *h, int peer_eof)
{
	if (errno != EPIPE && !(errno == ECONNRESET && peer_eof))
		return -1;
	h->gone = h->shut = 1;
	h->early_len = 0;
	h->off = h->len = 0;
	return HALF_IDLE;
}

/*
 * One round of a direction: read what fits, write what is pending (at
 * once after a read: the socket is likely writable and it saves a poll),
 * and pass on an EOF once everything before it was written.  Bytes read
 * after the destination went away are discarded, and are not traffic:
 * they do not hold the tunnel open past its idle timeout.
 */
static int
half_step(struct half *h, short rev_from, short rev_to, int peer_eof)
{
	int	 moved = HALF_IDLE, r;

	if ((rev_from | rev_to) & POLLNVAL) {
		errno = EBADF;
		return -1;
	}
	if (half_wants_read(h) && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
		if ((moved = half_read(h)) == -1)
			return -1;
		if (h->gone) {
			h->len = 0;
			moved = HALF_IDLE;
		}
	}
	if (half_pending(h) > 0 &&
	    (moved || (rev_to & (POLLOUT | POLLHUP | POLLERR)))) {
		if ((r = half_write(h)) == -1)
			return half_lost(h, peer_eof);
		moved |= r;
	}
	if (h->eof && !h->shut && half_pending(h) == 0) {
		/* ENOTCONN: the peer is gone already; nothing to tell it. */
		(void)shutdown(h->to, SHUT_WR);
		h->shut = 1;
	}
	return moved;
}

static short
half_events_from(const struct half *h)
{
	return half_wants_read(h) ? POLLIN : 0;
}

static short
half_events_to(const struct half *h)
{
	return half_pending(h) > 0 ? POLLOUT : 0;
}

/*
 * A socket with nothing asked of it is left out (fd -1): POLLHUP is
 * reported whether asked or not, and would spin the loop while the other
 * direction is the one waiting.
 */
static void
set_events(struct pollfd *pfd, const struct half *up, const struct half *down)
{
	pfd[0].fd = up->from;
	pfd[0].events = half_events_from(up) | half_events_to(down);
	pfd[1].fd = up->to;
	pfd[1].events = half_events_to(up) | half_events_from(down);
	if (pfd[0].events == 0)
		pfd[0].fd = -1;
	if (pfd[1].events == 0)
		pfd[1].fd = -1;
	pfd[0].revents = pfd[1].revents = 0;
}

#define RELAY_RELEASE_MS	1000	/* quiet this long: buffers released */

void
relay_discard(void *buf, size_t len)
{
	uintptr_t	page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	start = ((uintptr_t)buf + page - 1) & ~(page - 1);
	uintptr_t	end = ((uintptr_t)buf + len) & ~(page - 1);

#ifdef MADV_DONTNEED
	int		saved = errno;

	/* Private anonymous pages read back as zeroes once touched again. */
	if (end > start)
		(void)madvise((void *)start, end - start, MADV_DONTNEED);
	errno = saved;
#else
	(void)start;
	(void)end;
#endif
}

/*
 * How far below the caller the stack is given back.  The worker's deepest
 * calls (resolving, hashing a password, formatting a log record) stay well
 * inside it.  Linux keeps at least 128 MiB between the top of the stack and
 * the lowest mapping placed by mmap(), so nothing but the stack (or
 * nothing at all: madvise() skips holes) lives in this span.
 */
#define STACK_DISCARD_SPAN	(512 * 1024)
#define STACK_DISCARD_MARGIN	1024	/* kept below the frame address */

void
relay_discard_stack(void)
{
#if defined(__linux__) && defined(MADV_DONTNEED) && defined(__GNUC__)
	uintptr_t	page = (uintptr_t)sysconf(_SC_PAGESIZE);
	/*
	 * The frame address, not a local's: sanitizers may move locals off
	 * the stack.  What is live below it during the call is this frame's
	 * few locals and madvise()'s return address (glibc's madvise() is a
	 * bare system call, and the kernel does not use this stack);
	 * STACK_DISCARD_MARGIN covers them with room to spare.  A signal
	 * frame is no concern: a handler runs and returns before or after
	 * the system call, never across it, so it at most touches a
	 * discarded page again.  Everything lower is unused, since the stack
	 * grows down and no caller keeps pointers beneath itself.  The
	 * margin used to be two whole pages below this frame's page: an idle
	 * worker kept one or two pages of a deeper call's leftovers, 4 KiB
	 * each.
	 */
	uintptr_t	top = ((uintptr_t)__builtin_frame_address(0) -
	    STACK_DISCARD_MARGIN) & ~(page - 1);
	int		saved = errno;

	/* The span's unmapped part makes madvise() fail with ENOMEM: the
	 * caller's errno (a quiet accept's EAGAIN) must survive it. */
	if (top > STACK_DISCARD_SPAN)
		(void)madvise((void *)(top - STACK_DISCARD_SPAN),
		    STACK_DISCARD_SPAN, MADV_DONTNEED);
	errno = saved;
#endif
}

/*
 * Release both buffers once the tunnel has been quiet for a while with
 * nothing held; otherwise shorten the poll timeout to look again then.
 * Returns the timeout to use.
 */
static int
release_when_quiet(struct half *up, struct half *down,
    const struct relay_buffers *bufs, long long last, int timeout,
    int *released)
{
	long long	quiet = net_mono_ms() - last;

	if (*released || half_pending(up) > 0 || half_pending(down) > 0)
		return timeout;
	if (quiet >= RELAY_RELEASE_MS) {
		relay_discard(up->buf, up->size);
		relay_discard(down->buf, down->size);
		if (bufs->head != NULL)
			relay_discard(bufs->head, bufs->head_size);
		relay_discard_stack();
		up->grow = up->size < RELAY_GROW_START ? up->size :
		    RELAY_GROW_START;
		down->grow = down->size < RELAY_GROW_START ? down->size :
		    RELAY_GROW_START;
		*released = 1;
		return timeout;
	}
	if (timeout < 0 || timeout > RELAY_RELEASE_MS - quiet)
		return (int)(RELAY_RELEASE_MS - quiet);
	return timeout;
}

/* Milliseconds poll() may wait: -1 for ever, 0 when the tunnel is idle. */
static int
idle_left(long long last, long long idle_ms)
{
	long long	 left;

	if (idle_ms <= 0)
		return -1;
	left = last + idle_ms - net_mono_ms();
	if (left <= 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * The tunnel failed: a reset without an orderly close first, or a read,
 * write or poll() error.  Bytes were lost, so neither peer may be told
 * the stream ended in order: a FIN would make a transfer cut short look
 * complete.  With SO_LINGER 0, the caller's close() sends a reset.
 */
static enum relay_end
relay_abort(int client, int server)
{
	static const struct linger	 lg = { .l_onoff = 1, .l_linger = 0 };
	int				 saved = errno;

	/* Fails only for a descriptor that is no socket: nothing to reset. */
	(void)setsockopt(client, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	(void)setsockopt(server, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	errno = saved;
	return RELAY_ERROR;
}

/*
 * Both directions for one poll() result.  Returns HALF_IDLE/HALF_MOVED,
 * or -1 when a read or write failed.  *first records which side sent
 * EOF first.
 */
static int
relay_step(struct half *up, struct half *down, const struct pollfd *pfd,
    enum relay_end *first)
{
	int	 m1, m2;

	m1 = half_step(up, pfd[0].revents, pfd[1].revents, down->eof);
	m2 = m1 == -1 ? -1 :
	    half_step(down, pfd[1].revents, pfd[0].revents, up->eof);
	if (*first == RELAY_ERROR && (up->eof || down->eof))
		*first = up->eof ? RELAY_CLIENT_EOF : RELAY_SERVER_EOF;
	if (m1 == -1 || m2 == -1)
		return -1;
	return m1 | m2;
}

/*
 * A side whose peer is gone may still be sending to us; closing a socket
 * with bytes arriving resets it, and the reset destroys what is still
 * queued toward that side.
 */
static int
still_sending(const struct half *up, const struct half *down)
{
	return (up->gone && !up->eof ? RELAY_LINGER_CLIENT : 0) |
	    (down->gone && !down->eof ? RELAY_LINGER_SERVER : 0);
}

enum relay_end
relay_run(int client, int server, const char *early, size_t early_len,
    const struct relay_buffers *bufs, long long idle_ms,
    volatile sig_atomic_t *stop, struct relay_stats *st, int *linger)
{
	struct half		 up, down;
	struct pollfd		 pfd[2];
	struct relay_stats	 dummy;
	enum relay_end		 first = RELAY_ERROR;
	long long		 last;
	int			 timeout, r, released = 0;

	*linger = 0;
	if (st == NULL)
		st = &dummy;
	/* Both come non-blocking (relay.h): no fcntl() per tunnel here. */
	if (bufs->size == 0)
		return relay_abort(client, server);
	half_init(&up, client, server, bufs->up, bufs->size, &st->up);
	half_init(&down, server, client, bufs->down, bufs->size, &st->down);
	up.early = early;
	up.early_len = early != NULL ? early_len : 0;
	last = net_mono_ms();
	for (;;) {
		if (stop != NULL && *stop)
			return RELAY_SHUTDOWN;
		if (up.shut && down.shut) {
			*linger = still_sending(&up, &down);
			return first;
		}
		if ((timeout = idle_left(last, idle_ms)) == 0)
			return RELAY_IDLE;
		timeout = release_when_quiet(&up, &down, bufs, last, timeout,
		    &released);
		set_events(pfd, &up, &down);
		if ((r = poll(pfd, 2, timeout)) == -1 && errno != EINTR)
			return relay_abort(client, server);
		if (r <= 0)
			continue;
		if ((r = relay_step(&up, &down, pfd, &first)) == -1)
			return relay_abort(client, server);
		if (r == HALF_MOVED) {
			last = net_mono_ms();
			released = 0;
		}
	}
}

const char *
relay_end_name(enum relay_end end)
{
	switch (end) {
	case RELAY_CLIENT_EOF:
		return "client_eof";
	case RELAY_SERVER_EOF:
		return "server_eof";
	case RELAY_IDLE:
		return "idle";
	case RELAY_ERROR:
		return "error";
	case RELAY_SHUTDOWN:
		return "shutdown";
	}
	return "unknown";
}
