/* Reading a caller's argument that the kernel would read, without dying
 * where the kernel answers EFAULT: a hook that must look at a timeout
 * before it makes the call copies it with this. */
#ifndef GR_UACCESS_H
#define GR_UACCESS_H

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Copies n bytes from the caller's src to dst. 0, or -EFAULT when src is
 * not readable. process_vm_readv on our own process is a copy the kernel
 * checks; where it is not allowed (a seccomp filter), a plain copy. */
static inline int gr_copy_in(void *dst, const void *src, size_t n)
{
	struct iovec local = {dst, n}, remote = {(void *)src, n};
	ssize_t r = process_vm_readv(getpid(), &local, 1, &remote, 1, 0);

	if (r == (ssize_t)n)
		return 0;
	if (r < 0 && errno == EFAULT)
		return -EFAULT;
	memcpy(dst, src, n);
	return 0;
}

/* Copies n bytes from src to the caller's dst, as gr_copy_in the other
 * way: 0, or -EFAULT when dst is not writable. */
static inline int gr_copy_out(void *dst, const void *src, size_t n)
{
	struct iovec local = {(void *)src, n}, remote = {dst, n};
	ssize_t r = process_vm_writev(getpid(), &local, 1, &remote, 1, 0);

	if (r == (ssize_t)n)
		return 0;
	if (r < 0 && errno == EFAULT)
		return -EFAULT;
	memcpy(dst, src, n);
	return 0;
}

#endif
