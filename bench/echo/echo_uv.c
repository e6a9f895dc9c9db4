/*
 * echo_uv: the same echo server written for an event loop, on libuv: the
 * reference for what one OS thread can do when the program is written for
 * it.
 *
 *   echo_uv PORT
 *
 * Prints "ready" on stdout once it listens on 127.0.0.1:PORT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

static uv_loop_t *loop;

struct conn {
	uv_tcp_t tcp;
	char buf[4096];
};

struct wreq {
	uv_write_t req;
	char data[4096];
};

static void on_close(uv_handle_t *h)
{
	free(h);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct conn *c = (struct conn *)h;

	(void)hint;
	*buf = uv_buf_init(c->buf, sizeof(c->buf));
}

static void on_written(uv_write_t *req, int status)
{
	(void)status;
	free(req);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	if (n < 0) {
		uv_close((uv_handle_t *)s, on_close);
		return;
	}
	if (n == 0)
		return;
	struct wreq *w = malloc(sizeof(*w));
	memcpy(w->data, buf->base, (size_t)n);
	uv_buf_t out = uv_buf_init(w->data, (unsigned)n);
	if (uv_write(&w->req, s, &out, 1, on_written) < 0)
		free(w);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct conn *c;

	if (status < 0)
		return;
	c = malloc(sizeof(*c));
	uv_tcp_init(loop, &c->tcp);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) == 0) {
		uv_tcp_nodelay(&c->tcp, 1);
		uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	} else {
		uv_close((uv_handle_t *)&c->tcp, on_close);
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	uv_tcp_t server;

	if (argc != 2) {
		fprintf(stderr, "usage: echo_uv PORT\n");
		return 2;
	}
	loop = uv_default_loop();
	uv_ip4_addr("127.0.0.1", atoi(argv[1]), &a);
	uv_tcp_init(loop, &server);
	if (uv_tcp_bind(&server, (const struct sockaddr *)&a, 0) < 0 ||
	    uv_listen((uv_stream_t *)&server, 4096, on_connection) < 0) {
		fprintf(stderr, "echo_uv: bind/listen failed\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	return uv_run(loop, UV_RUN_DEFAULT);
}
