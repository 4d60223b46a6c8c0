/*
 * loop.h - the one event loop: every socket, timer and c-ares socket of a
 * run waits here, in a single poll(2). No threads; callbacks never block.
 */
#ifndef SMTPCHECK_LOOP_H
#define SMTPCHECK_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <ares.h>

enum {
	LOOP_READ = 1u << 0,
	LOOP_WRITE = 1u << 1,
	LOOP_ERROR = 1u << 2    /* POLLERR / POLLHUP / POLLNVAL, with READ */
};

typedef void (*loop_io_fn)(void *arg, int fd, unsigned events);
typedef void (*loop_timer_fn)(void *arg);

struct loop_timer {
	uint64_t when_us;
	loop_timer_fn fn;
	void *arg;
	size_t heap_index;      /* position in the heap, while armed */
	bool armed;
};

struct loop;

struct loop *loop_new(void);
void loop_free(struct loop *l);

/* Watch fd for events (LOOP_READ|LOOP_WRITE); 0 stops watching. */
void loop_io(struct loop *l, int fd, unsigned events, loop_io_fn fn, void *arg);

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn, void *arg);
/* Arm (or re-arm) t to fire once at when_us on the monotonic clock. */
void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t when_us);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Let the loop serve this c-ares channel's sockets and timeouts. */
void loop_set_ares(struct loop *l, ares_channel ch);

/*
 * Run until done(arg) is true, checked after every round of callbacks.
 * Returns 0, or -1 if poll() failed for a reason other than EINTR.
 */
int loop_run(struct loop *l, bool (*done)(void *arg), void *arg);

#endif
