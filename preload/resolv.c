/* The resolver's own queries: res_query, res_search, res_querydomain,
 * res_send, their res_n* forms on a resolver state of the caller's, and
 * the __res_* names programs linked before glibc 2.34 call. Each sends
 * DNS packets and waits for the answer through glibc's internal calls, so
 * it runs on a worker thread while the green thread parks, to its end (a
 * handler does not end it natively either). h_errno and errno come back
 * with the answer.
 *
 * The calls without a state use the calling thread's _res. A thread that
 * never initialized its own (the common case) gets the worker's, set up by
 * glibc from /etc/resolv.conf exactly as its own would be; one that did
 * (res_init, or options of its own in _res) has its state used on the
 * worker through the res_n* call, without glibc's reload of a resolv.conf
 * that changed meanwhile.
 *
 * Left to libc: res_init, res_mkquery and the other calls that send
 * nothing; calls of threads that are not green. */
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>

#include "work.h"

enum { DO_QUERY, DO_SEARCH, DO_QUERYDOMAIN, DO_SEND };

struct res {
	int kind;
	res_state statp; /* NULL: the worker's own _res */
	const char *name, *domain;
	int class, type;
	const unsigned char *msg;
	int msglen;
	unsigned char *answer;
	int anslen;
	int r, err, herr;
};

static long run(void *p)
{
	struct res *q = p;

	errno = q->err;
	h_errno = q->herr;
	if (q->statp) {
		switch (q->kind) {
		case DO_QUERY:
			q->r = GR_REAL(res_nquery)(q->statp, q->name, q->class, q->type, q->answer,
						   q->anslen);
			break;
		case DO_SEARCH:
			q->r = GR_REAL(res_nsearch)(q->statp, q->name, q->class, q->type, q->answer,
						    q->anslen);
			break;
		case DO_QUERYDOMAIN:
			q->r = GR_REAL(res_nquerydomain)(q->statp, q->name, q->domain, q->class,
							 q->type, q->answer, q->anslen);
			break;
		default:
			q->r = GR_REAL(res_nsend)(q->statp, q->msg, q->msglen, q->answer,
						  q->anslen);
		}
	} else {
		switch (q->kind) {
		case DO_QUERY:
			q->r = GR_REAL(res_query)(q->name, q->class, q->type, q->answer, q->anslen);
			break;
		case DO_SEARCH:
			q->r = GR_REAL(res_search)(q->name, q->class, q->type, q->answer,
						   q->anslen);
			break;
		case DO_QUERYDOMAIN:
			q->r = GR_REAL(res_querydomain)(q->name, q->domain, q->class, q->type,
							q->answer, q->anslen);
			break;
		default: q->r = GR_REAL(res_send)(q->msg, q->msglen, q->answer, q->anslen);
		}
	}
	q->err = errno;
	q->herr = h_errno;
	return 0;
}

/* Runs q on a worker: 0, or -ENOSYS when there is none (the caller asks
 * itself, blocking). own: a call without a state, on the caller's _res. */
static int ask(struct res *q, int own)
{
	long r;

	if (!gr_green())
		return -ENOSYS;
	if (own && (_res.options & RES_INIT))
		q->statp = &_res;
	q->err = errno;
	q->herr = h_errno;
	if (gr_work(run, q, 0, &r) < 0)
		return -ENOSYS;
	errno = q->err;
	h_errno = q->herr;
	gr_maybe_yield();
	return 0;
}

GR_EXPORT int res_query(const char *name, int class, int type, unsigned char *answer, int anslen)
{
	struct res q = {.kind = DO_QUERY,
			.name = name,
			.class = class,
			.type = type,
			.answer = answer,
			.anslen = anslen};

	if (ask(&q, 1) < 0)
		return GR_REAL(res_query)(name, class, type, answer, anslen);
	return q.r;
}

GR_EXPORT int res_search(const char *name, int class, int type, unsigned char *answer, int anslen)
{
	struct res q = {.kind = DO_SEARCH,
			.name = name,
			.class = class,
			.type = type,
			.answer = answer,
			.anslen = anslen};

	if (ask(&q, 1) < 0)
		return GR_REAL(res_search)(name, class, type, answer, anslen);
	return q.r;
}

GR_EXPORT int res_querydomain(const char *name, const char *domain, int class, int type,
			      unsigned char *answer, int anslen)
{
	struct res q = {.kind = DO_QUERYDOMAIN,
			.name = name,
			.domain = domain,
			.class = class,
			.type = type,
			.answer = answer,
			.anslen = anslen};

	if (ask(&q, 1) < 0)
		return GR_REAL(res_querydomain)(name, domain, class, type, answer, anslen);
	return q.r;
}

GR_EXPORT int res_send(const unsigned char *msg, int msglen, unsigned char *answer, int anslen)
{
	struct res q = {
		.kind = DO_SEND, .msg = msg, .msglen = msglen, .answer = answer, .anslen = anslen};

	if (ask(&q, 1) < 0)
		return GR_REAL(res_send)(msg, msglen, answer, anslen);
	return q.r;
}

GR_EXPORT int res_nquery(res_state statp, const char *name, int class, int type,
			 unsigned char *answer, int anslen)
{
	struct res q = {.kind = DO_QUERY,
			.statp = statp,
			.name = name,
			.class = class,
			.type = type,
			.answer = answer,
			.anslen = anslen};

	if (ask(&q, 0) < 0)
		return GR_REAL(res_nquery)(statp, name, class, type, answer, anslen);
	return q.r;
}

GR_EXPORT int res_nsearch(res_state statp, const char *name, int class, int type,
			  unsigned char *answer, int anslen)
{
	struct res q = {.kind = DO_SEARCH,
			.statp = statp,
			.name = name,
			.class = class,
			.type = type,
			.answer = answer,
			.anslen = anslen};

	if (ask(&q, 0) < 0)
		return GR_REAL(res_nsearch)(statp, name, class, type, answer, anslen);
	return q.r;
}

GR_EXPORT int res_nquerydomain(res_state statp, const char *name, const char *domain, int class,
			       int type, unsigned char *answer, int anslen)
{
	struct res q = {.kind = DO_QUERYDOMAIN,
			.statp = statp,
			.name = name,
			.domain = domain,
			.class = class,
			.type = type,
			.answer = answer,
			.anslen = anslen};

	if (ask(&q, 0) < 0)
		return GR_REAL(res_nquerydomain)(statp, name, domain, class, type, answer, anslen);
	return q.r;
}

GR_EXPORT int res_nsend(res_state statp, const unsigned char *msg, int msglen,
			unsigned char *answer, int anslen)
{
	struct res q = {.kind = DO_SEND,
			.statp = statp,
			.msg = msg,
			.msglen = msglen,
			.answer = answer,
			.anslen = anslen};

	if (ask(&q, 0) < 0)
		return GR_REAL(res_nsend)(statp, msg, msglen, answer, anslen);
	return q.r;
}

/* The names of glibc before 2.34 (resolv.h defined res_query as
 * __res_query): the same calls. */
#define SAME(old, new, params, args)                                                               \
	GR_EXPORT int gr_##old params __asm__(#old);                                               \
	GR_EXPORT int gr_##old params                                                              \
	{                                                                                          \
		return new args;                                                                   \
	}
SAME(__res_query, res_query,
     (const char *name, int class, int type, unsigned char *answer, int anslen),
     (name, class, type, answer, anslen))
SAME(__res_search, res_search,
     (const char *name, int class, int type, unsigned char *answer, int anslen),
     (name, class, type, answer, anslen))
SAME(__res_querydomain, res_querydomain,
     (const char *name, const char *domain, int class, int type, unsigned char *answer, int anslen),
     (name, domain, class, type, answer, anslen))
SAME(__res_send, res_send,
     (const unsigned char *msg, int msglen, unsigned char *answer, int anslen),
     (msg, msglen, answer, anslen))
SAME(__res_nquery, res_nquery,
     (res_state statp, const char *name, int class, int type, unsigned char *answer, int anslen),
     (statp, name, class, type, answer, anslen))
SAME(__res_nsearch, res_nsearch,
     (res_state statp, const char *name, int class, int type, unsigned char *answer, int anslen),
     (statp, name, class, type, answer, anslen))
SAME(__res_nquerydomain, res_nquerydomain,
     (res_state statp, const char *name, const char *domain, int class, int type,
      unsigned char *answer, int anslen),
     (statp, name, domain, class, type, answer, anslen))
SAME(__res_nsend, res_nsend,
     (res_state statp, const unsigned char *msg, int msglen, unsigned char *answer, int anslen),
     (statp, msg, msglen, answer, anslen))
