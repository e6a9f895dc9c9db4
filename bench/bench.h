/*
 * Helpers shared by the benchmark programs in bench/.
 *
 * The programs are deliberately plain pthread programs: they must run the same
 * natively and under LD_PRELOAD=libgreenify.so, so nothing here knows about
 * greenify. Everything is static inline to keep each program a single
 * translation unit that the Makefile can build with one `cc` command.
 */
#ifndef BENCH_H
#define BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * Parse a positive count such as "100", "10k" or "1M". Suffixes exist because
 * the demo talks in 1K/100K/1M and typing zeros invites off-by-ten mistakes.
 * Returns 0 on success, -1 if the text is not a count within [min, max].
 */
static inline int bench_parse_count(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end == 'k' || *end == 'K') {
		if (v > max / 1000)
			return -1;
		v *= 1000;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		if (v > max / 1000000)
			return -1;
		v *= 1000000;
		end++;
	}
	if (*end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Symbolic name for the errno values pthread_create is documented to return,
 * so the demo table can say "EAGAIN" rather than a number that differs between
 * architectures. Anything else is printed as a number into buf.
 */
static inline const char *bench_errno_name(int err, char *buf, size_t len)
{
	switch (err) {
	case EAGAIN:
		return "EAGAIN";
	case ENOMEM:
		return "ENOMEM";
	case EINVAL:
		return "EINVAL";
	case EPERM:
		return "EPERM";
	default:
		snprintf(buf, len, "%d", err);
		return buf;
	}
}

/*
 * Sleep for ms milliseconds with nanosleep, resuming after a signal so a
 * stray signal cannot shorten the measured sleep.
 */
static inline void bench_sleep_ms(long ms)
{
	struct timespec req = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	struct timespec rem;

	while (nanosleep(&req, &rem) == -1 && errno == EINTR)
		req = rem;
}

#endif /* BENCH_H */
