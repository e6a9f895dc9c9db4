#!/bin/sh
# Time and size of `greenify dump` of a process with N sleeping green threads.
# Usage: scripts/bench-dump.sh [N] (default 100000); run after make.
set -eu
N=${1:-100000}
B=${BUILD:-build}
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
cat >"$tmp/p.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
static void *sl(void *a) { (void)a; sleep(60); return 0; }
int main(int argc, char **argv)
{
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 65536);
	for (int i = 0, n = atoi(argv[1]); i < n; i++)
		pthread_create(&t, &at, sl, 0);
	puts("ready");
	fflush(stdout);
	sleep(60);
	return 0;
}
C
cc -O1 -pthread "$tmp/p.c" -o "$tmp/p"
mkfifo "$tmp/ready"
GREENIFY_DUMP=1 "$B/greenify" "$tmp/p" "$N" >"$tmp/ready" &
pid=$!
read -r _ <"$tmp/ready"
s=$(date +%s%N)
"$B/greenify" dump "$pid" >"$tmp/out"
[ -z "${DUMP_OUT:-}" ] || cp "$tmp/out" "$DUMP_OUT"
e=$(date +%s%N)
echo "dump of $N sleeping threads: $(( (e - s) / 1000000 )) ms, $(wc -c <"$tmp/out") bytes"
