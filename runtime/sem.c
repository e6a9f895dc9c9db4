/* Green unnamed semaphores, in glibc's sem_t layout (64-bit): the value in
 * the low 32 bits of the first word, so sem_init, sem_getvalue and a value
 * set before the runtime started stay glibc's. A post with waiters hands
 * the unit straight to the oldest waiter. */
#include <limits.h>
#include <stdint.h>

#include "lock.h"
#include "wait.h"

#define VALUE(s) (*(uint32_t *)(s)) /* little-endian low half of data */

int gr_sem_wait(sem_t *s, const struct gr_timeout *to)
{
	int64_t deadline;
	int r;

	for (;;) {
		if (VALUE(s) > 0) {
			VALUE(s)--;
			return 0;
		}
		r = gr_timeout_deadline(to, &deadline);
		if (r == -EBUSY)
			return -EAGAIN;
		if (r < 0)
			return r;
		r = gr_wait_addr(s, GR_BITSET_ANY, GR_WAIT_SEM, s, deadline);
		/* A handler ran: an untimed wait restarts if every handler had
		 * SA_RESTART (the kernel restarts the futex wait), else EINTR. */
		if (r != -EINTR || to->abs || !gr_rt.cur->sig_restart)
			return r;
	}
}

int gr_sem_post(sem_t *s)
{
	int more;

	if (gr_wake_first(s, 0, &more))
		return 0;
	if (VALUE(s) >= SEM_VALUE_MAX)
		return -EOVERFLOW;
	VALUE(s)++;
	return 0;
}
