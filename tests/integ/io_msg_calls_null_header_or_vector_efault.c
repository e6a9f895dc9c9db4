/* Hazard: a NULL message header or I/O vector reaches the kernel, which
 * answers EBADF for a bad fd first, else EFAULT, for recvmsg, sendmsg,
 * readv, writev, recvmmsg and sendmmsg (glibc's
 * sysdeps/unix/sysv/linux/tst-socket-timestamp calls recvmsg (-1, NULL,
 * 0)). The hooks read the header before any call and died of SIGSEGV.
 *
 * From a thread, so that every call is a green one. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "check.h"

/* Hidden from the compiler, which refuses a literal NULL for some. */
static struct msghdr *volatile no_msg;
static struct iovec *volatile no_iov;
static struct mmsghdr *volatile no_mmsg;

static int errno_of(long r)
{
	return r < 0 ? errno : 0;
}

static void *calls(void *arg)
{
	int sv[2];
	struct msghdr no_vec = {.msg_iov = no_iov, .msg_iovlen = 1};

	(void)arg;
	MUST(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_ERR(errno_of(recvmsg(-1, no_msg, 0)), EBADF, "recvmsg(-1, NULL)");
	CHECK_ERR(errno_of(sendmsg(-1, no_msg, 0)), EBADF, "sendmsg(-1, NULL)");
	CHECK_ERR(errno_of(recvmsg(sv[0], no_msg, 0)), EFAULT, "recvmsg(socket, NULL)");
	CHECK_ERR(errno_of(sendmsg(sv[0], no_msg, 0)), EFAULT, "sendmsg(socket, NULL)");
	CHECK_ERR(errno_of(recvmsg(sv[0], &no_vec, 0)), EFAULT, "recvmsg with a NULL msg_iov");
	CHECK_ERR(errno_of(sendmsg(sv[0], &no_vec, 0)), EFAULT, "sendmsg with a NULL msg_iov");
	CHECK_ERR(errno_of(readv(sv[0], no_iov, 1)), EFAULT, "readv(socket, NULL, 1)");
	CHECK_ERR(errno_of(writev(sv[0], no_iov, 1)), EFAULT, "writev(socket, NULL, 1)");
	CHECK_ERR(errno_of(readv(-1, no_iov, 1)), EBADF, "readv(-1, no_iov, 1)");
	CHECK_ERR(errno_of(recvmmsg(-1, no_mmsg, 0, 0, NULL)), EBADF, "recvmmsg(-1, NULL, 0)");
	CHECK_ERR(errno_of(recvmmsg(sv[0], no_mmsg, 1, MSG_DONTWAIT, NULL)), EFAULT,
		  "recvmmsg(socket, NULL, 1, MSG_DONTWAIT)");
	CHECK_ERR(errno_of(sendmmsg(sv[0], no_mmsg, 1, 0)), EFAULT, "sendmmsg(socket, NULL, 1)");
	/* The socket still works. */
	CHECK(write(sv[1], "x", 1) == 1, "a write after them");
	char c = 0;
	CHECK(read(sv[0], &c, 1) == 1 && c == 'x', "and the read of it");
	close(sv[0]);
	close(sv[1]);
	return NULL;
}

int main(void)
{
	run_thread(calls, NULL);
	return check_done();
}
