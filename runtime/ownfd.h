/* The runtime's own file descriptors (ownfd.c). */
#ifndef GR_OWNFD_H
#define GR_OWNFD_H

/* fd is the runtime's from now (gr_own_fd_add) or no longer (del). */
void gr_own_fd_add(int fd);
void gr_own_fd_del(int fd);
/* Set while the runtime makes fds through calls the hooks see (libuv's
 * pipe2 for its signal lock, in uv_loop_init): they are the runtime's. */
extern int gr_own_fd_capture;
/* A pipe made while gr_own_fd_capture is set (the pipe hooks). */
void gr_own_fd_captured(const int fds[2]);
/* The child handler to register in place of child, a pthread_atfork
 * registration's: libuv's, made while capturing, is wrapped so that the
 * signal lock pipe it remakes in a fork child stays the runtime's. */
void (*gr_own_fd_atfork_child(void (*child)(void)))(void);
/* Whether fd is one of the runtime's. */
int gr_own_fd(int fd);
/* The smallest of the runtime's fds in [lo, hi], or -1. */
int gr_own_fd_in(unsigned lo, unsigned hi);

#endif
