/* SPDX-License-Identifier: ISC */
/*
 * The scoreboard lives in MAP_SHARED|MAP_ANONYMOUS memory so that every
 * worker forked after its creation sees the same slots.  No locks: each
 * field has one writer at a time, and readers tolerate a slot changing
 * under them (a count may be off by a connection in flight, never worse).
 */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS (POSIX only from 2024) */

#include <netinet/in.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>

#include "scoreboard.h"

size_t
scoreboard_size(unsigned nslots)
{
	return sizeof(struct scoreboard) + (size_t)nslots *
	    sizeof(struct sb_slot);
}

struct scoreboard *
scoreboard_create(unsigned nslots)
{
	struct scoreboard	*sb;

	sb = mmap(NULL, scoreboard_size(nslots), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sb == MAP_FAILED)
		return NULL;
	/* Anonymous memory is zeroed: every slot starts as SB_FREE. */
	return sb;
}

void
scoreboard_destroy(struct scoreboard *sb, unsigned nslots)
{
	if (sb != NULL)
		munmap(sb, scoreboard_size(nslots));
}

int
scoreboard_free_slot(const struct sb_table *t)
{
	unsigned	i;

	for (i = 0; i < t->nslots; i++)
		if (t->procs[i].pid == 0)
			return (int)i;
	return -1;
}

int
scoreboard_state(const struct sb_slot *slot, int reserve)
{
	int	state = atomic_load(&slot->state);

	if (reserve)
		return state == SB_RESERVE ? state : -1;
	return state >= SB_STARTING && state <= SB_CLOSING ? state : -1;
}

void
scoreboard_count(const struct scoreboard *sb, const struct sb_table *t,
    unsigned generation, struct sb_counts *c)
{
	const struct sb_proc	*p;
	unsigned		 i;
	int			 state;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < t->nslots; i++) {
		p = &t->procs[i];
		if (p->pid == 0)
			continue;
		state = scoreboard_state(&sb->slots[i], p->reserve);
		if (p->bad || state == -1) {
			c->invalid++;
			continue;
		}
		if (p->reserve)
			continue;
		if (p->generation != generation) {
			c->others++;
			continue;
		}
		c->total++;
		if (state == SB_STARTING)
			c->starting++;
		else if (state == SB_IDLE)
			c->idle++;
		else
			c->busy++;
	}
}

void
scoreboard_clear(struct scoreboard *sb, struct sb_slot *slot)
{
	scoreboard_set_state(sb, slot, SB_FREE);
	atomic_store(&slot->client_hi, 0);
	atomic_store(&slot->client_lo, 0);
	atomic_store(&slot->start_ms, 0);
	atomic_store(&slot->served, 0);
	atomic_store(&slot->bytes.up, 0);
	atomic_store(&slot->bytes.down, 0);
	atomic_store(&slot->seq, 0);
	memset(slot->client, 0, sizeof(slot->client));
	memset(slot->target, 0, sizeof(slot->target));
}

unsigned
scoreboard_tidy(struct scoreboard *sb, const struct sb_table *t)
{
	unsigned	i, n = 0, idle = 0;
	int		v;

	for (i = 0; i < t->nslots; i++) {
		if (t->procs[i].pid != 0) {
			idle += atomic_load(&sb->slots[i].state) == SB_IDLE;
			continue;
		}
		if (atomic_load(&sb->slots[i].state) != SB_FREE ||
		    atomic_load(&sb->slots[i].served) != 0) {
			scoreboard_clear(sb, &sb->slots[i]);
			n++;
		}
	}
	/*
	 * Workers keep the idle count in step as they go; one that is
	 * killed between its two steps, or a hostile one, leaves it off.
	 * Out of range, it is surely wrong: take ours.
	 */
	v = atomic_load(&sb->idle);
	if (v < 0 || (unsigned)v > t->nslots)
		atomic_store(&sb->idle, (int)idle);
	return n;
}

unsigned long long
scoreboard_add_sat(unsigned long long a, unsigned long long b)
{
	return a > ULLONG_MAX - b ? ULLONG_MAX : a + b;
}

void
scoreboard_set_state(struct scoreboard *sb, struct sb_slot *slot,
    enum sb_state state)
{
	int	old = atomic_exchange(&slot->state, (int)state);

	if (old == SB_IDLE && state != SB_IDLE)
		atomic_fetch_sub(&sb->idle, 1);
	else if (old != SB_IDLE && state == SB_IDLE)
		atomic_fetch_add(&sb->idle, 1);
}

/*
 * The key a client is counted under: 16 bytes of IPv6, IPv4 (or the
 * IPv4-mapped form a dual-stack socket reports) as ::ffff:a.b.c.d, and
 * any other IPv6 address cut to its first `prefix6` bits.  A host given
 * a /64 (the least a link gets, and what SLAAC and privacy addresses
 * pick from) can use a new address for every connection; counted per
 * address, it would never reach max_tunnels_per_client.
 */
static void
addr_key(const struct sockaddr *sa, unsigned prefix6, unsigned long long *hi,
    unsigned long long *lo)
{
	static const unsigned char	mapped[12] = { [10] = 0xff,
	    [11] = 0xff };
	unsigned char			b[16] = { 0 };
	unsigned			i;

	if (sa->sa_family == AF_INET6) {
		memcpy(b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		if (memcmp(b, mapped, 12) != 0 && prefix6 < 128) {
			for (i = prefix6 / 8 + 1; i < 16; i++)
				b[i] = 0;
			b[prefix6 / 8] &= (unsigned char)(0xff00 >>
			    (prefix6 % 8));
		}
	} else if (sa->sa_family == AF_INET) {
		b[10] = b[11] = 0xff;
		memcpy(b + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
	*hi = *lo = 0;
	for (i = 0; i < 8; i++) {
		*hi = *hi << 8 | b[i];
		*lo = *lo << 8 | b[i + 8];
	}
}

static void
text_copy(char *dst, size_t len, const char *src)
{
	size_t	n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void
scoreboard_begin(struct sb_slot *slot, const struct sockaddr *client,
    unsigned prefix6, const char *client_text)
{
	unsigned long long	hi, lo;

	addr_key(client, prefix6, &hi, &lo);
	atomic_store(&slot->client_hi, hi);
	atomic_store(&slot->client_lo, lo);
	atomic_store(&slot->bytes.up, 0);
	atomic_store(&slot->bytes.down, 0);
	atomic_fetch_add(&slot->seq, 1);
	text_copy(slot->client, sizeof(slot->client), client_text);
	slot->target[0] = '\0';
	atomic_fetch_add(&slot->seq, 1);
}

void
scoreboard_set_target(struct sb_slot *slot, const char *target)
{
	atomic_fetch_add(&slot->seq, 1);
	text_copy(slot->target, sizeof(slot->target), target);
	atomic_fetch_add(&slot->seq, 1);
}

unsigned
scoreboard_client_tunnels(const struct scoreboard *sb, unsigned nslots,
    const struct sb_slot *self, const struct sockaddr *client,
    unsigned prefix6)
{
	const struct sb_slot	*s;
	unsigned long long	 hi, lo;
	unsigned		 i, n = 0;
	int			 state;

	addr_key(client, prefix6, &hi, &lo);
	for (i = 0; i < nslots; i++) {
		s = &sb->slots[i];
		state = atomic_load(&s->state);
		if (s == self || state < SB_READING || state > SB_CLOSING)
			continue;
		if (atomic_load(&s->client_hi) == hi &&
		    atomic_load(&s->client_lo) == lo)
			n++;
	}
	return n;
}

/* Terminate a copied text field and mask what is not printable ASCII. */
static void
text_clean(char *s, size_t len)
{
	size_t	i;

	s[len - 1] = '\0';
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			s[i] = '?';
}

void
scoreboard_snapshot(const struct sb_slot *slot, struct sb_slot *copy)
{
	unsigned	before, tries;

	memset(copy, 0, sizeof(*copy));
	for (tries = 0; tries < 100; tries++) {
		before = atomic_load(&slot->seq);
		if (before & 1)
			continue;
		memcpy(copy->client, slot->client, sizeof(copy->client));
		memcpy(copy->target, slot->target, sizeof(copy->target));
		if (atomic_load(&slot->seq) == before)
			break;
	}
	text_clean(copy->client, sizeof(copy->client));
	text_clean(copy->target, sizeof(copy->target));
	atomic_store(&copy->state, atomic_load(&slot->state));
	atomic_store(&copy->start_ms, atomic_load(&slot->start_ms));
	atomic_store(&copy->served, atomic_load(&slot->served));
	atomic_store(&copy->bytes.up, atomic_load(&slot->bytes.up));
	atomic_store(&copy->bytes.down, atomic_load(&slot->bytes.down));
}

const char *
scoreboard_state_name(int state)
{
	static const char *const	names[] = {
		"free", "starting", "idle", "reading", "connecting",
		"relaying", "closing", "reserve"
	};

	if (state < 0 || (unsigned)state >= sizeof(names) / sizeof(names[0]))
		return "invalid";
	return names[state];
}

#define SB_REASON_NAME(name)	#name,
static const char *const	reason_names[SB_REASONS] = {
	SB_REASON_LIST(SB_REASON_NAME)
};
#undef SB_REASON_NAME

unsigned long long
scoreboard_next_id(struct scoreboard *sb)
{
	return atomic_fetch_add(&sb->totals.records, 1) + 1;
}

void
scoreboard_account(struct scoreboard *sb, int status, const char *reason,
    unsigned long long up, unsigned long long down)
{
	struct sb_totals	*t = &sb->totals;
	unsigned		 i;

	if (reason != NULL && strcmp(reason, "pac") == 0) {
		atomic_fetch_add(&t->pac_answers, 1);
		return;
	}
	if (status >= 0 && status < SB_STATUS_MAX)
		atomic_fetch_add(&t->status[status], 1);
	atomic_fetch_add(&t->bytes_up, up);
	atomic_fetch_add(&t->bytes_down, down);
	if (reason != NULL && strcmp(reason, "auth_failed") == 0)
		atomic_fetch_add(&t->auth_failures, 1);
	if (status == 200)
		return;
	for (i = 0; i < SB_REASONS - 1; i++)
		if (reason != NULL && strcmp(reason, reason_names[i]) == 0)
			break;
	atomic_fetch_add(&t->refusals[i], 1);
}

void
scoreboard_open_bytes(const struct scoreboard *sb, const struct sb_table *t,
    unsigned long long *up, unsigned long long *down)
{
	const struct sb_proc	*p;
	unsigned		 i;

	*up = *down = 0;
	for (i = 0; i < t->nslots; i++) {
		p = &t->procs[i];
		if (p->pid == 0 || p->bad ||
		    scoreboard_state(&sb->slots[i], p->reserve) != SB_RELAYING)
			continue;
		/* Written by the worker: any value, summed not to wrap. */
		*up = scoreboard_add_sat(*up,
		    atomic_load(&sb->slots[i].bytes.up));
		*down = scoreboard_add_sat(*down,
		    atomic_load(&sb->slots[i].bytes.down));
	}
}

void
scoreboard_reload(struct scoreboard *sb, int ok)
{
	atomic_fetch_add(ok ? &sb->totals.reloads_ok :
	    &sb->totals.reloads_failed, 1);
}

const char *
scoreboard_reason_name(unsigned i)
{
	return i < SB_REASONS ? reason_names[i] : "other";
}
