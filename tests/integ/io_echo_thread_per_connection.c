/* Hazard: a thread-per-connection server on one OS thread. A listening
 * thread accepts 200 connections and starts a thread per connection that
 * echoes until EOF; 200 client threads each connect to 127.0.0.1, send
 * 64 KiB of their own pseudo-random bytes in uneven pieces, read the echo
 * back and compare a checksum. Natively 400 OS threads; green, one. Every
 * blocking accept, read, write, send and recv must park only its thread,
 * and a write must go on until everything is written. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"

#define CLIENTS 200
#define BYTES (64 * 1024)

static int listener;
static struct sockaddr_in addr;
static atomic_int good;

static void *echo(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[3000];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
	return NULL;
}

static void *serve(void *arg)
{
	(void)arg;
	for (int i = 0; i < CLIENTS; i++) {
		pthread_t t;
		int fd = accept(listener, NULL, NULL);
		if (fd < 0)
			return (void *)1;
		MUST(pthread_create(&t, NULL, echo, (void *)(intptr_t)fd));
		MUST(pthread_detach(t));
	}
	return NULL;
}

static uint32_t next(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void *client(void *arg)
{
	char *out = malloc(BYTES), *in = malloc(BYTES);
	uint32_t seed = (uint32_t)(intptr_t)arg, sum_out = 0, sum_in = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t sent = 0, got = 0;

	if (!out || !in || fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return NULL;
	for (int i = 0; i < BYTES; i++) {
		out[i] = (char)next(&seed);
		sum_out = sum_out * 31 + (unsigned char)out[i];
	}
	while (sent < BYTES || got < BYTES) {
		if (sent < BYTES) {
			size_t piece = 1 + next(&seed) % 9000;
			if (piece > BYTES - sent)
				piece = BYTES - sent;
			ssize_t w = send(fd, out + sent, piece, 0);
			if (w <= 0)
				break;
			sent += (size_t)w;
		}
		ssize_t r = recv(fd, in + got, BYTES - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	for (size_t i = 0; i < got; i++)
		sum_in = sum_in * 31 + (unsigned char)in[i];
	close(fd);
	if (got == BYTES && sum_in == sum_out)
		atomic_fetch_add(&good, 1);
	free(out);
	free(in);
	return NULL;
}

int main(void)
{
	socklen_t len = sizeof(addr);
	pthread_t server, c[CLIENTS];
	void *r;

	alarm(60);
	listener = socket(AF_INET, SOCK_STREAM, 0);
	MUST(listener < 0);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	MUST(bind(listener, (struct sockaddr *)&addr, sizeof(addr)));
	MUST(listen(listener, CLIENTS));
	MUST(getsockname(listener, (struct sockaddr *)&addr, &len));
	MUST(pthread_create(&server, NULL, serve, NULL));
	for (int i = 0; i < CLIENTS; i++)
		MUST(pthread_create(&c[i], NULL, client, (void *)(intptr_t)(i + 1)));
	for (int i = 0; i < CLIENTS; i++)
		MUST(pthread_join(c[i], NULL));
	MUST(pthread_join(server, &r));
	CHECK(r == NULL, "the server accepted %d connections", CLIENTS);
	CHECK(atomic_load(&good) == CLIENTS, "all %d clients got their %d bytes back intact",
	      CLIENTS, BYTES);
	close(listener);
	return check_done();
}
