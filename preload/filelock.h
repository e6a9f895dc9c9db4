/* fcntl's lock-waiting commands, for fd.c's fcntl hook (filelock.c). */
#ifndef GR_PRELOAD_FILELOCK_H
#define GR_PRELOAD_FILELOCK_H

/* fcntl(fd, F_SETLKW or F_OFD_SETLKW, arg) for a green thread: waits for
 * the lock on a worker thread. libc's convention (-1 and errno). */
int gr_fcntl_lock_wait(int fd, int cmd, void *arg);

#endif
