/*
 * echo_load: load generator for the echo servers, in a process of its own.
 * One thread, epoll, CONNS connections to 127.0.0.1:PORT; each keeps one
 * MSG-byte message in flight (send, wait for the whole echo, send again)
 * for SECONDS. Before the timed run every connection makes one round trip,
 * so the server has a thread (or a handle) per connection by then, and the
 * server's memory (VmRSS + VmPTE of SERVER_PID, over the baseline read
 * before connecting) is divided by CONNS.
 *
 *   echo_load PORT CONNS SECONDS SERVER_PID [MSG=64]
 *
 * Prints one line: conns, msgs/s, p50 and p99 round-trip latency, server
 * bytes per connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_US 2000000 /* latency histogram: 1 us buckets up to 2 s */

struct conn {
	int fd;
	size_t sent, got; /* of the message in flight */
	int64_t t0;	  /* when it was sent */
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long server_kb(int pid)
{
	char path[64], line[256];
	long rss = 0, pte = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmRSS: %ld", &rss);
		sscanf(line, "VmPTE: %ld", &pte);
	}
	fclose(f);
	return rss + pte;
}

static char msg[4096];
static size_t msglen = 64;

/* Sends what is left of c's message; 0, or -1 on error. */
static int push(struct conn *c)
{
	while (c->sent < msglen) {
		ssize_t n = send(c->fd, msg + c->sent, msglen - c->sent, MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->sent += (size_t)n;
	}
	return 0;
}

/* Reads echo bytes; 1 when the whole message is back, 0 if not yet, -1. */
static int pull(struct conn *c)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN ? (c->got >= msglen) : -1;
		c->got += (size_t)n;
		if (c->got >= msglen)
			return 1;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int nconns, seconds, pid, ep, one = 1;
	struct conn *conns;
	struct epoll_event ev, evs[1024];
	static uint32_t hist[MAX_US + 1];
	long base_kb, loaded_kb;
	uint64_t msgs = 0;

	if (argc < 5) {
		fprintf(stderr, "usage: echo_load PORT CONNS SECONDS SERVER_PID [MSG=64]\n");
		return 2;
	}
	a.sin_port = htons((uint16_t)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	nconns = atoi(argv[2]);
	seconds = atoi(argv[3]);
	pid = atoi(argv[4]);
	if (argc > 5)
		msglen = (size_t)atoi(argv[5]);
	if (msglen < 1 || msglen > sizeof(msg) || nconns < 1)
		return 2;
	memset(msg, 'x', sizeof(msg));
	conns = calloc((size_t)nconns, sizeof(*conns));
	ep = epoll_create1(0);
	base_kb = server_kb(pid);

	/* Connect (blocking, one by one: the backlog is 4096) and make one
	 * round trip on each, so the server holds every connection. */
	for (int i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(c->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
			printf("echo_load conns=%d fail connect %d: %s\n", nconns, i, strerror(errno));
			return 1;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		c->t0 = now_ns();
		push(c);
	}
	for (int left = nconns; left > 0;) {
		int n = epoll_wait(ep, evs, 1024, 10000);
		if (n <= 0) {
			printf("echo_load conns=%d fail warm-up: %d left\n", nconns, left);
			return 1;
		}
		for (int k = 0; k < n; k++) {
			struct conn *c = &conns[evs[k].data.u32];
			int r = pull(c);
			if (r < 0)
				return 1;
			if (r == 1 && c->got == msglen) {
				c->got++; /* counted */
				left--;
			}
		}
	}
	loaded_kb = server_kb(pid);

	/* The timed run: every connection keeps one message in flight. */
	int64_t start = now_ns(), end = start + (int64_t)seconds * 1000000000LL;
	for (int i = 0; i < nconns; i++) {
		conns[i].sent = conns[i].got = 0;
		conns[i].t0 = now_ns();
		push(&conns[i]);
	}
	while (now_ns() < end) {
		int n = epoll_wait(ep, evs, 1024, 100);
		int64_t t = now_ns();
		for (int k = 0; k < n; k++) {
			struct conn *c = &conns[evs[k].data.u32];
			int r = pull(c);
			if (r < 0)
				return 1;
			if (r == 1) {
				int64_t us = (t - c->t0) / 1000;
				hist[us > MAX_US ? MAX_US : us]++;
				msgs++;
				c->sent = c->got = 0;
				c->t0 = t;
				push(c);
			}
		}
	}
	double secs = (double)(now_ns() - start) / 1e9;
	uint64_t seen = 0, p50 = 0, p99 = 0;
	for (int us = 0; us <= MAX_US; us++) {
		seen += hist[us];
		if (!p50 && seen * 2 >= msgs)
			p50 = (uint64_t)us;
		if (!p99 && seen * 100 >= msgs * 99) {
			p99 = (uint64_t)us;
			break;
		}
	}
	printf("echo_load conns=%d msgs_per_s=%.0f p50_us=%llu p99_us=%llu server_per_conn_bytes=%ld\n",
	       nconns, (double)msgs / secs, (unsigned long long)p50, (unsigned long long)p99,
	       base_kb >= 0 && loaded_kb >= 0 ? (loaded_kb - base_kb) * 1024 / nconns : -1L);
	return 0;
}
