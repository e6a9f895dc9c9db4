/* needs: private-tls */
/* Hazard: pthread_attr_setstack gives a thread the caller's own memory: the
 * thread must run there (its locals inside it, its TLS at its top, as
 * glibc puts it), pthread_getattr_np must report that memory, the handle
 * must work for join, name and pthread_kill(0) although the memory is no
 * stack of the library's, and after the join the memory is the caller's
 * again: it is filled, and used for the next thread, with a thread on a
 * normal stack beside it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>

#include "check.h"

#define SIZE (256 * 1024)

static __thread int tls_word = 42;
static char *mem;

struct seen {
	int local_inside, tls_inside, tls_initial, attr_ok;
};

static void *on_memory(void *arg)
{
	struct seen *s = arg;
	char local;
	pthread_attr_t a;
	void *addr = NULL;
	size_t size = 0;

	s->local_inside = &local >= mem && &local < mem + SIZE;
	s->tls_inside = (char *)&tls_word >= mem && (char *)&tls_word < mem + SIZE;
	s->tls_initial = tls_word == 42;
	tls_word = 7;
	MUST(pthread_getattr_np(pthread_self(), &a));
	MUST(pthread_attr_getstack(&a, &addr, &size));
	pthread_attr_destroy(&a);
	s->attr_ok = addr == mem && size == SIZE;
	sleep_ms(20);
	return (void *)0x5e7;
}

static void *plain(void *arg)
{
	sleep_ms(10);
	return arg;
}

int main(void)
{
	pthread_attr_t a;
	pthread_t t, u;
	struct seen s[2];
	char name[16];
	void *r;

	mem = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 2;
	for (int round = 0; round < 2; round++) {
		memset(mem, 0xee, SIZE); /* not zeros: glibc clears what it needs */
		memset(&s[round], 0, sizeof(s[round]));
		MUST(pthread_attr_init(&a));
		MUST(pthread_attr_setstack(&a, mem, SIZE));
		MUST(pthread_create(&t, &a, on_memory, &s[round]));
		pthread_attr_destroy(&a);
		MUST(pthread_create(&u, NULL, plain, (void *)3));
		CHECK_ERR(pthread_setname_np(t, "onmem"), 0, "round %d: name it", round);
		CHECK_ERR(pthread_getname_np(t, name, sizeof(name)), 0, "round %d: its name", round);
		CHECK(strcmp(name, "onmem") == 0, "round %d: the name is kept", round);
		CHECK_ERR(pthread_kill(t, 0), 0, "round %d: pthread_kill(0) finds it", round);
		MUST(pthread_join(t, &r));
		CHECK(r == (void *)0x5e7, "round %d: join gets its value", round);
		MUST(pthread_join(u, &r));
		CHECK(r == (void *)3, "round %d: the thread beside it too", round);
		CHECK(s[round].local_inside, "round %d: its locals are in the memory", round);
		CHECK(s[round].tls_inside, "round %d: its TLS is in the memory", round);
		CHECK(s[round].tls_initial, "round %d: its TLS starts from the image", round);
		CHECK(s[round].attr_ok, "round %d: getattr_np reports the memory", round);
		CHECK(tls_word == 42, "round %d: main's TLS untouched", round);
		memset(mem, 0, SIZE); /* the caller's again */
	}
	munmap(mem, SIZE);
	return check_done();
}
