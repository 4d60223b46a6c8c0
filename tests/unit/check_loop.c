/*
 * check_loop.c - the event loop's timers (order, cancel, re-arm) and
 * socket dispatch, on a real socketpair.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop.h"
#include "suites.h"
#include "util.h"

static int order[16];
static int norder;
static int fired_total;

static void record(void *arg)
{
	order[norder++] = (int)(long)arg;
	fired_total++;
}

static bool all_fired(void *arg)
{
	return fired_total >= (int)(long)arg;
}

START_TEST(timers_fire_in_order)
{
	struct loop *l = loop_new();
	struct loop_timer t[5];
	uint64_t now = now_us();
	int delays[5] = { 30, 10, 50, 20, 40 };
	norder = fired_total = 0;
	for (int i = 0; i < 5; i++) {
		loop_timer_init(&t[i], record, (void *)(long)delays[i]);
		loop_timer_arm(l, &t[i], now + (uint64_t)delays[i] * 1000);
	}
	loop_timer_cancel(l, &t[4]);           /* 40 never fires */
	loop_timer_arm(l, &t[0], now + 60000);  /* 30 moves to the end */
	ck_assert_int_eq(loop_run(l, all_fired, (void *)4L), 0);
	ck_assert_int_eq(norder, 4);
	ck_assert_int_eq(order[0], 10);
	ck_assert_int_eq(order[1], 20);
	ck_assert_int_eq(order[2], 50);
	ck_assert_int_eq(order[3], 30);
	ck_assert(!t[4].armed);
	loop_free(l);
}
END_TEST

static int reads;

static void on_read(void *arg, int fd, unsigned ev)
{
	struct loop *l = arg;
	char c;
	ck_assert(ev & LOOP_READ);
	ck_assert_int_eq(read(fd, &c, 1), 1);
	ck_assert_int_eq(c, 'x');
	reads++;
	fired_total++;
	loop_io(l, fd, 0, NULL, NULL);
}

START_TEST(io_dispatch)
{
	struct loop *l = loop_new();
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	reads = fired_total = 0;
	loop_io(l, sv[0], LOOP_READ, on_read, l);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	ck_assert_int_eq(loop_run(l, all_fired, (void *)1L), 0);
	ck_assert_int_eq(reads, 1);
	/* Nothing left to wait for: the loop returns instead of hanging. */
	ck_assert_int_eq(loop_run(l, all_fired, (void *)2L), 0);
	close(sv[0]);
	close(sv[1]);
	loop_free(l);
}
END_TEST

Suite *loop_suite(void)
{
	Suite *s = suite_create("loop");
	TCase *tc = tcase_create("loop");
	tcase_add_test(tc, timers_fire_in_order);
	tcase_add_test(tc, io_dispatch);
	suite_add_tcase(s, tc);
	return s;
}
