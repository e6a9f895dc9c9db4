/* Name lookups: getaddrinfo, getnameinfo, gethostbyname, gethostbyname_r,
 * gethostbyname2_r, gethostbyaddr_r. glibc's resolver reads files and
 * sockets through internal calls no hook sees, so a green thread that looks
 * a name up would block the OS thread: the lookup runs on libuv's thread
 * pool instead while the thread parks (runtime/pool.c). errno and h_errno
 * are per OS thread in the pool: their values come back with the result.
 *
 * Left to libc: lookups by threads that are not green; the non-reentrant
 * gethostbyaddr, getservby*, getprotoby* (local files, no waiting on the
 * network). */
#include "hook.h"

#include <errno.h>
#include <netdb.h>

#include "../runtime/pool.h"

struct lookup {
	int kind;
	const char *node, *service;
	const struct addrinfo *hints;
	struct addrinfo **res;
	const struct sockaddr *sa;
	socklen_t salen;
	char *host, *serv;
	socklen_t hostlen, servlen;
	int flags, af;
	struct hostent *ret, **result;
	char *buf;
	size_t buflen;
	const void *addr;
	socklen_t addrlen;
	struct hostent *static_result;
	int rc, err, herr; /* the call's result, errno and h_errno */
};

enum { GAI, GNI, GHBN, GHBN_R, GHBN2_R, GHBA_R };

static void run(void *arg)
{
	struct lookup *l = arg;

	errno = 0;
	h_errno = 0;
	switch (l->kind) {
	case GAI: l->rc = GR_REAL(getaddrinfo)(l->node, l->service, l->hints, l->res); break;
	case GNI:
		l->rc = GR_REAL(getnameinfo)(l->sa, l->salen, l->host, l->hostlen, l->serv,
					     l->servlen, l->flags);
		break;
	case GHBN: l->static_result = GR_REAL(gethostbyname)(l->node); break;
	case GHBN_R:
		l->rc = GR_REAL(gethostbyname_r)(l->node, l->ret, l->buf, l->buflen, l->result,
						 &l->herr);
		break;
	case GHBN2_R:
		l->rc = GR_REAL(gethostbyname2_r)(l->node, l->af, l->ret, l->buf, l->buflen,
						  l->result, &l->herr);
		break;
	case GHBA_R:
		l->rc = GR_REAL(gethostbyaddr_r)(l->addr, l->addrlen, l->af, l->ret, l->buf,
						 l->buflen, l->result, &l->herr);
		break;
	}
	l->err = errno;
	if (l->kind == GHBN)
		l->herr = h_errno;
}

/* Runs the lookup on the pool; 0, or -errno if the pool refused it (the
 * caller then looks the name up itself, blocking, rather than fail). */
static int on_pool(struct lookup *l)
{
	int r = gr_pool_run(run, l);

	if (r < 0)
		return r;
	errno = l->err;
	return 0;
}

/* What a reentrant gethostby* lookup gives back: its result and h_errno. */
static int answer_r(const struct lookup *l, int *h_errnop)
{
	if (h_errnop)
		*h_errnop = l->herr;
	return l->rc;
}

GR_EXPORT int getaddrinfo(const char *restrict node, const char *restrict service,
			  const struct addrinfo *restrict hints, struct addrinfo **restrict res)
{
	struct lookup l = {
		.kind = GAI, .node = node, .service = service, .hints = hints, .res = res};

	if (!gr_green() || on_pool(&l) < 0)
		return GR_REAL(getaddrinfo)(node, service, hints, res);
	return l.rc;
}

GR_EXPORT int getnameinfo(const struct sockaddr *restrict sa, socklen_t salen, char *restrict host,
			  socklen_t hostlen, char *restrict serv, socklen_t servlen, int flags)
{
	struct lookup l = {.kind = GNI,
			   .sa = sa,
			   .salen = salen,
			   .host = host,
			   .hostlen = hostlen,
			   .serv = serv,
			   .servlen = servlen,
			   .flags = flags};

	if (!gr_green() || on_pool(&l) < 0)
		return GR_REAL(getnameinfo)(sa, salen, host, hostlen, serv, servlen, flags);
	return l.rc;
}

GR_EXPORT struct hostent *gethostbyname(const char *name)
{
	struct lookup l = {.kind = GHBN, .node = name};

	if (!gr_green() || on_pool(&l) < 0)
		return GR_REAL(gethostbyname)(name);
	h_errno = l.herr;
	return l.static_result;
}

GR_EXPORT int gethostbyname_r(const char *restrict name, struct hostent *restrict ret,
			      char *restrict buf, size_t buflen, struct hostent **restrict result,
			      int *restrict h_errnop)
{
	struct lookup l = {.kind = GHBN_R,
			   .node = name,
			   .ret = ret,
			   .buf = buf,
			   .buflen = buflen,
			   .result = result};

	if (!gr_green() || on_pool(&l) < 0)
		return GR_REAL(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop);
	return answer_r(&l, h_errnop);
}

GR_EXPORT int gethostbyname2_r(const char *restrict name, int af, struct hostent *restrict ret,
			       char *restrict buf, size_t buflen, struct hostent **restrict result,
			       int *restrict h_errnop)
{
	struct lookup l = {.kind = GHBN2_R,
			   .node = name,
			   .af = af,
			   .ret = ret,
			   .buf = buf,
			   .buflen = buflen,
			   .result = result};

	if (!gr_green() || on_pool(&l) < 0)
		return GR_REAL(gethostbyname2_r)(name, af, ret, buf, buflen, result, h_errnop);
	return answer_r(&l, h_errnop);
}

GR_EXPORT int gethostbyaddr_r(const void *restrict addr, socklen_t len, int af,
			      struct hostent *restrict ret, char *restrict buf, size_t buflen,
			      struct hostent **restrict result, int *restrict h_errnop)
{
	struct lookup l = {.kind = GHBA_R,
			   .addr = addr,
			   .addrlen = len,
			   .af = af,
			   .ret = ret,
			   .buf = buf,
			   .buflen = buflen,
			   .result = result};

	if (!gr_green() || on_pool(&l) < 0)
		return GR_REAL(gethostbyaddr_r)(addr, len, af, ret, buf, buflen, result, h_errnop);
	return answer_r(&l, h_errnop);
}
