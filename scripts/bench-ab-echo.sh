#!/bin/bash
# Before and after of the library on the echo server (bench/echo_threads,
# 1,000 connections from echo_load, 3 s a run): the BEFORE library and this
# build's, in turn, REPS times; prints the medians of messages per second
# and p99 latency and the ratios after/before. The echo half of
# scripts/bench-ab.sh (which runs the other benchmark programs), apart
# because it needs a server and a load generator. Raw lines go to
# bench/results/ab-echo-<date>.txt and ab-echo-latest.txt.
# Usage: scripts/bench-ab-echo.sh BEFORE_LIB [BUILD_DIR=build] [REPS=5]
set -u
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
# shellcheck source=scripts/bench-server.sh
. "$(dirname "$0")/bench-server.sh"
[ $# -ge 1 ] && [ -f "$1" ] || {
	echo "usage: scripts/bench-ab-echo.sh BEFORE_LIB [BUILD_DIR] [REPS]" >&2
	exit 2
}
before=$(realpath "$1")
bench_init ab-echo "${2:-build}"
reps=${3:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
port=$((20000 + $$ % 8000))

once() { # LABEL LIB
	echo_load_run 1000 3 env LD_PRELOAD="$2" "$build/bench/echo_threads"
	echo "$1 $echo_line" >>"$raw"
	field "$echo_line" msgs_per_s >>"$tmp/$1.rate"
	field "$echo_line" p99_us >>"$tmp/$1.p99"
}

{
	echo "# scripts/bench-ab-echo.sh $(date '+%Y-%m-%d %H:%M:%S %z') on $(uname -n), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# before=$before after=$lib reps=$reps"
} >"$raw"
: >"$tmp/before.rate" && : >"$tmp/after.rate" && : >"$tmp/before.p99" && : >"$tmp/after.p99"
for ((i = 0; i < reps; i++)); do
	once before "$before"
	once after "$lib"
done
{
	printf 'echo, 1,000 conns\tbefore\tafter\tafter/before\n'
	b=$(present median <"$tmp/before.rate")
	a=$(present median <"$tmp/after.rate")
	printf 'msgs/s\t%s\t%s\t%s\n' "$b" "$a" "$(present ratio "$b" "$a")"
	b=$(present median <"$tmp/before.p99")
	a=$(present median <"$tmp/after.p99")
	printf 'p99 (us)\t%s\t%s\t%s\n' "$b" "$a" "$(present ratio "$b" "$a")"
} | present table --right | tee -a "$raw"
bench_latest
echo "raw: $raw"
