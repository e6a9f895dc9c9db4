/* The readiness calls' waits (readiness.c): poll and epoll_wait as the
 * blocking calls behave, on top of fdwait.c. Each asks the kernel first
 * without waiting (so a call that finds something ready is one system
 * call, as natively), and if nothing is and the caller would wait, parks
 * until one of the fds may be ready or the timeout, then asks again. As
 * natively, they are never restarted after a signal handler: -EINTR. */
#ifndef GR_READINESS_H
#define GR_READINESS_H

#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>

/* poll(fds, n) with a timeout in ns (-1: none). masked: the call runs
 * with a signal mask of its own (ppoll, pselect), whose signals, pending
 * before or arriving during the wait, end it with -EINTR unless an fd was
 * ready first. Returns poll's count or -errno. *waited (when not NULL):
 * 1 if the answer came after the thread parked, so that a POLLNVAL in it
 * is of an fd closed during the wait (select answers those as the kernel
 * does), else 0. */
int gr_poll(struct pollfd *fds, nfds_t n, int64_t timeout_ns, int masked, int *waited);

/* epoll_wait(ep, ev, max) with a timeout in ns (-1: none), masked as for
 * gr_poll (epoll_pwait). Returns the count or -errno. */
int gr_epoll_wait(int ep, struct epoll_event *ev, int max, int64_t timeout_ns, int masked);

#endif
