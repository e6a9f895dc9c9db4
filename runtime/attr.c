/* Thread defaults and stack rules, from glibc itself (attr.h says why). */
#include "attr.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "real.h"
#include "thread.h"
#include "tls.h"

struct gr_thread_defaults gr_thread_defaults = {
	.stack_size = 8 << 20,
	.guard_size = 4096,
};

static size_t page_size(void)
{
	static size_t page;

	if (!page)
		page = (size_t)sysconf(_SC_PAGESIZE);
	return page;
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) & ~(to - 1);
}

void gr_attr_refresh(void)
{
	pthread_attr_t a;
	struct sched_param sp = {0};
	size_t size, guard;
	int v;

	if (pthread_getattr_default_np(&a) != 0)
		return;
	if (pthread_attr_getstacksize(&a, &size) == 0 && size)
		gr_thread_defaults.stack_size = size;
	if (pthread_attr_getguardsize(&a, &guard) == 0)
		gr_thread_defaults.guard_size = guard;
	if (pthread_attr_getdetachstate(&a, &v) == 0)
		gr_thread_defaults.detached = v == PTHREAD_CREATE_DETACHED;
	if (pthread_attr_getinheritsched(&a, &v) == 0)
		gr_thread_defaults.explicit_sched = v == PTHREAD_EXPLICIT_SCHED;
	if (pthread_attr_getschedpolicy(&a, &v) == 0)
		gr_thread_defaults.policy = v;
	if (pthread_attr_getschedparam(&a, &sp) == 0)
		gr_thread_defaults.priority = sp.sched_priority;
	gr_thread_defaults.has_sigmask =
		pthread_attr_getsigmask_np(&a, &gr_thread_defaults.sigmask) == 0;
	pthread_attr_destroy(&a);
}

void gr_attr_start(void)
{
	pthread_attr_t a;

	if (gr_config.stack_size && pthread_getattr_default_np(&a) == 0) {
		int err = pthread_attr_setstacksize(&a, gr_config.stack_size);
		if (err == 0)
			err = gr_real.pthread_setattr_default_np(&a);
		if (err)
			gr_log(GR_LOG_WARN, "GREENIFY_STACK_SIZE=%zu refused by glibc (error %d)",
			       gr_config.stack_size, err);
		pthread_attr_destroy(&a);
	}
	gr_attr_refresh();
	if (gr_config.stack_size)
		gr_thread_defaults.stack_size = gr_config.stack_size;
}

size_t gr_attr_tls_static(void)
{
	static size_t room = (size_t)-1;

	if (room == (size_t)-1) {
		void (*info)(size_t *, size_t *) =
			dlvsym(RTLD_DEFAULT, "_dl_get_tls_static_info", "GLIBC_PRIVATE");
		size_t size = 0, align = 64;
		if (info)
			info(&size, &align);
		if (!align || (align & (align - 1)))
			align = 64;
		room = round_up(size, align);
	}
	return room;
}

int gr_attr_check_stack(size_t size, size_t guard)
{
	size_t page = page_size();

	/* allocate_stack: the size aligned down for the TLS, the guard in
	 * whole pages on top, and both must hold the guard, the static TLS and
	 * the minimum rest. */
	size &= ~(size_t)63;
	guard = round_up(guard, page);
	if (size + guard < guard)
		return -EINVAL;
	if (size + guard < round_up(guard + gr_attr_tls_static() + GR_ATTR_REST_STACK, page))
		return -EINVAL;
	return 0;
}

int gr_attr_check_user_stack(size_t size)
{
	return size < gr_attr_tls_static() + GR_ATTR_REST_STACK ? -EINVAL : 0;
}

size_t gr_attr_slot_size(size_t size)
{
	/* Our block, its colour (at most 7 steps of 64 bytes) and, with TLS
	 * of its own, the vector in the slot come on top of what glibc puts
	 * there: a stack glibc only just accepts keeps glibc's rest. */
	size_t need = sizeof(struct gr_thread) + 8 * 64 + GR_ATTR_REST_STACK;

	need += gr_tls_private ? gr_tls_room() : 0;
	return size < need ? round_up(need, page_size()) : size;
}
