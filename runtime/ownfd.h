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

/* A stretch in which the runtime makes fds of its own: the soft limit is
 * raised for it (its hard one too when the process may), so that a full
 * table of the program's leaves it a number, and gr_own_fd_put moves each
 * fd made out of the program's numbering: a dup from the soft limit on,
 * fd closed, or when no number can be had there, the highest free below
 * the limit; fd itself when none. errno is kept. */
void gr_own_fd_begin(void);
int gr_own_fd_put(int fd);
void gr_own_fd_end(void);
/* fd moved out of the program's numbering: a dup from the soft
 * RLIMIT_NOFILE on (the limit raised for the moment, its hard one too when
 * the process may), fd closed; when no number there can be had, the
 * highest free below the limit; fd itself when none. errno is kept. */
int gr_own_fd_high(int fd);
/* A dup of fd as gr_own_fd_high makes (any free number when none is
 * there), or -1; errno is kept. */
int gr_own_fd_dup(int fd);
/* dup3(fd, target, O_CLOEXEC) onto a number of ours, which may be above
 * the soft limit (remade in a fork child). */
int gr_own_fd_onto(int fd, int target);
/* In a fork child: a new file (make's) under our number target, whose
 * file is the parent's too: 0 or -errno. */
int gr_own_fd_renew(int target, int (*make)(void));
/* Held while the runtime raises the limit for a moment, and by a
 * setrlimit of the program's. */
void gr_own_fd_limit_lock(void);
void gr_own_fd_limit_unlock(void);
/* fd of ours can be moved to another number: moved(from, to) makes every
 * holder of the number use the new one (from is closed after). */
void gr_own_fd_mover(int fd, void (*moved)(int from, int to));
/* For a mover: libuv's watcher w of the loop watches number to now. */
struct uv_loop_s;
struct uv__io_s;
void gr_own_fd_rewatch(struct uv_loop_s *loop, struct uv__io_s *w, int to);
/* The program takes number fd, one of ours (dup2 onto it): ours moves to
 * another, on the runtime's thread outside libuv. 0, or -1 when it cannot
 * (no mover, no free number, another OS thread). */
int gr_own_fd_move_away(int fd);
/* libuv's calls that make the loop's fds (the Makefile's -D for libuv):
 * made high, and the runtime's. */
int gr_uv_epoll_create1(int flags);
int gr_uv_epoll_create(int size);
int gr_uv_eventfd(unsigned count, int flags);
int gr_uv_pipe2(int fds[2], int flags);

#endif
