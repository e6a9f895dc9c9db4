/* The audit's probe of a C11 program: it imports mtx_lock, which the
 * catalogue lists as green (tests/run-audit.sh reads only its imports; it
 * is never run). */
#include <threads.h>

int main(void)
{
	mtx_t m;

	mtx_init(&m, mtx_plain);
	return mtx_lock(&m);
}
