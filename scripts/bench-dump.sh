#!/bin/sh
# Time and size of `greenify dump` of a process with N sleeping green threads.
# Usage: scripts/bench-dump.sh [N [DEPTHS]] (default 100000, 1); run after
# make. Thread i sleeps i % DEPTHS calls deep in a recursive function, so
# DEPTHS > 1 gives that many distinct stacks. DUMP_OUT=FILE keeps the dump.
set -eu
N=${1:-100000}
DEPTHS=${2:-1}
B=${BUILD:-build}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat >"$tmp/p.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static __attribute__((noinline)) int deep(long n)
{
	int r = n ? deep(n - 1) : (int)sleep(60);
	__asm__ volatile("" ::: "memory"); /* no tail call: one frame a level */
	return r;
}
static long depths;
static void *sl(void *a) { deep((long)a % depths); return 0; }
int main(int argc, char **argv)
{
	pthread_attr_t at;
	pthread_t t;
	depths = atol(argv[2]);
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 65536);
	for (long i = 0, n = atol(argv[1]); i < n; i++)
		pthread_create(&t, &at, sl, (void *)i);
	puts("ready");
	fflush(stdout);
	sleep(60);
	return 0;
}
C
cc -O1 -pthread "$tmp/p.c" -o "$tmp/p"
mkfifo "$tmp/ready"
GREENIFY_DUMP=1 "$B/greenify" "$tmp/p" "$N" "$DEPTHS" >"$tmp/ready" &
pid=$!
read -r _ <"$tmp/ready"
s=$(date +%s%N)
"$B/greenify" dump "$pid" >"$tmp/out"
e=$(date +%s%N)
[ -z "${DUMP_OUT:-}" ] || cp "$tmp/out" "$DUMP_OUT"
echo "dump of $N sleeping threads: $(( (e - s) / 1000000 )) ms, $(wc -c <"$tmp/out") bytes"
