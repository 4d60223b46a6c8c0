/*
 * loop.c - poll(2) event loop with a binary heap of timers and c-ares
 * integration through ares_getsock / ares_process_fd / ares_timeout.
 *
 * Watchers live in a table indexed by fd; the poll set is rebuilt each
 * round from the fds in use, which keeps adding and removing watchers
 * inside callbacks safe: a callback only ever changes the table, and the
 * round that is being dispatched checks the table before each call.
 */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct watcher {
	unsigned events;
	loop_io_fn fn;
	void *arg;
};

struct loop {
	struct watcher *w;      /* indexed by fd */
	size_t nw;
	int *active;            /* fds with events != 0 */
	size_t nactive, capactive;

	struct loop_timer **heap;
	size_t nheap, capheap;

	ares_channel ares;

	struct pollfd *pfd;
	size_t cappfd;
};

struct loop *loop_new(void)
{
	return xcalloc(1, sizeof(struct loop));
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	free(l->w);
	free(l->active);
	free(l->heap);
	free(l->pfd);
	free(l);
}

void loop_io(struct loop *l, int fd, unsigned events, loop_io_fn fn, void *arg)
{
	if (fd < 0)
		return;
	if ((size_t)fd >= l->nw) {
		size_t n = l->nw ? l->nw : 64;
		while (n <= (size_t)fd)
			n *= 2;
		l->w = xrealloc(l->w, n * sizeof *l->w);
		memset(l->w + l->nw, 0, (n - l->nw) * sizeof *l->w);
		l->nw = n;
	}
	struct watcher *w = &l->w[fd];
	bool was = w->events != 0;
	w->events = events;
	w->fn = fn;
	w->arg = arg;
	if (events && !was) {
		if (l->nactive == l->capactive) {
			l->capactive = l->capactive ? l->capactive * 2 : 64;
			l->active = xrealloc(l->active, l->capactive * sizeof *l->active);
		}
		l->active[l->nactive++] = fd;
	} else if (!events && was) {
		for (size_t i = 0; i < l->nactive; i++) {
			if (l->active[i] == fd) {
				l->active[i] = l->active[--l->nactive];
				break;
			}
		}
	}
}

/* ---- timers: a binary min-heap on when_us ---- */

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg)
{
	memset(t, 0, sizeof *t);
	t->fn = fn;
	t->arg = arg;
}

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_index = a;
	l->heap[b]->heap_index = b;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (l->heap[parent]->when_us <= l->heap[i]->when_us)
			break;
		heap_swap(l, i, parent);
		i = parent;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t left = 2 * i + 1, right = left + 1, min = i;
		if (left < l->nheap && l->heap[left]->when_us < l->heap[min]->when_us)
			min = left;
		if (right < l->nheap && l->heap[right]->when_us < l->heap[min]->when_us)
			min = right;
		if (min == i)
			return;
		heap_swap(l, i, min);
		i = min;
	}
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	if (!t->armed)
		return;
	size_t i = t->heap_index;
	t->armed = false;
	l->nheap--;
	if (i != l->nheap) {
		l->heap[i] = l->heap[l->nheap];
		l->heap[i]->heap_index = i;
		heap_down(l, i);
		heap_up(l, i);
	}
}

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t when_us)
{
	loop_timer_cancel(l, t);
	if (l->nheap == l->capheap) {
		l->capheap = l->capheap ? l->capheap * 2 : 64;
		l->heap = xrealloc(l->heap, l->capheap * sizeof *l->heap);
	}
	t->when_us = when_us;
	t->armed = true;
	t->heap_index = l->nheap;
	l->heap[l->nheap++] = t;
	heap_up(l, t->heap_index);
}

static void run_timers(struct loop *l)
{
	uint64_t now = now_us();
	while (l->nheap > 0 && l->heap[0]->when_us <= now) {
		struct loop_timer *t = l->heap[0];
		loop_timer_cancel(l, t);
		t->fn(t->arg);
	}
}

void loop_set_ares(struct loop *l, ares_channel ch)
{
	l->ares = ch;
}

static void add_pfd(struct loop *l, size_t *n, int fd, short events)
{
	if (*n == l->cappfd) {
		l->cappfd = l->cappfd ? l->cappfd * 2 : 64;
		l->pfd = xrealloc(l->pfd, l->cappfd * sizeof *l->pfd);
	}
	l->pfd[*n].fd = fd;
	l->pfd[*n].events = events;
	l->pfd[*n].revents = 0;
	(*n)++;
}

int loop_run(struct loop *l, bool (*done)(void *arg), void *arg)
{
	while (!done(arg)) {
		size_t n = 0;
		for (size_t i = 0; i < l->nactive; i++) {
			int fd = l->active[i];
			short ev = 0;
			if (l->w[fd].events & LOOP_READ)
				ev |= POLLIN;
			if (l->w[fd].events & LOOP_WRITE)
				ev |= POLLOUT;
			add_pfd(l, &n, fd, ev);
		}
		size_t first_ares = n;
		ares_socket_t socks[ARES_GETSOCK_MAXNUM];
		int bits = 0;
		if (l->ares) {
			bits = ares_getsock(l->ares, socks, ARES_GETSOCK_MAXNUM);
			/* c-ares's own macros shift a signed int into its sign bit. */
			unsigned ubits = (unsigned)bits;
			for (unsigned i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
				short ev = 0;
				if (ubits & (1u << i))
					ev |= POLLIN;
				if (ubits & (1u << (i + ARES_GETSOCK_MAXNUM)))
					ev |= POLLOUT;
				if (ev)
					add_pfd(l, &n, socks[i], ev);
			}
		}

		/* Sleep until the next timer, c-ares timeout, or event. */
		int timeout_ms = -1;
		uint64_t now = now_us();
		if (l->nheap > 0) {
			uint64_t when = l->heap[0]->when_us;
			uint64_t wait = when > now ? when - now : 0;
			timeout_ms = (int)((wait + 999) / 1000);
		}
		if (l->ares && bits) {
			struct timeval tv, *tvp = ares_timeout(l->ares, NULL, &tv);
			if (tvp) {
				int ams = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
				if (timeout_ms < 0 || ams < timeout_ms)
					timeout_ms = ams;
			}
		}
		if (n == 0 && timeout_ms < 0)
			return 0; /* nothing could ever happen: avoid sleeping forever */

		int r = poll(l->pfd, n, timeout_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}

		for (size_t i = 0; i < first_ares && r > 0; i++) {
			struct pollfd *p = &l->pfd[i];
			if (!p->revents)
				continue;
			int fd = p->fd;
			/* A callback may have stopped or replaced this watcher. */
			if ((size_t)fd >= l->nw || !l->w[fd].events)
				continue;
			unsigned ev = 0;
			if (p->revents & POLLIN)
				ev |= LOOP_READ;
			if (p->revents & POLLOUT)
				ev |= LOOP_WRITE;
			if (p->revents & (POLLERR | POLLHUP | POLLNVAL))
				ev |= LOOP_ERROR | LOOP_READ;
			l->w[fd].fn(l->w[fd].arg, fd, ev);
		}
		if (l->ares) {
			bool any = false;
			for (size_t i = first_ares; i < n; i++) {
				struct pollfd *p = &l->pfd[i];
				if (!p->revents)
					continue;
				any = true;
				bool rd = p->revents & (POLLIN | POLLERR | POLLHUP);
				bool wr = p->revents & POLLOUT;
				ares_process_fd(l->ares, rd ? p->fd : ARES_SOCKET_BAD,
						wr ? p->fd : ARES_SOCKET_BAD);
			}
			if (!any && bits)
				ares_process_fd(l->ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		}
		run_timers(l);
	}
	return 0;
}
