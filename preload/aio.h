/* The system calls that syscall() hands to aio.c: waits for kernel AIO and
 * io_uring completions. */
#ifndef GR_PRELOAD_AIO_H
#define GR_PRELOAD_AIO_H

/* Whether syscall(nr, a[0..5]) waits for completions (aio.c takes it). */
int gr_aio_syscall_waits(long nr, const long *a);

/* That call for a green thread, on a worker; libc's convention. */
long gr_aio_syscall(long nr, const long *a);

#endif
