#!/bin/sh
# Thread benchmarks of the glibc-sized stacks and the handles, under
# greenify, medians of REPS runs (default 5): Prog 1 and Prog 2 at 100K and
# 1M threads with glibc's default stack and with GREENIFY_STACK_SIZE=256k
# side by side (the page-table cost of 8 MiB stacks), create + join, and
# the two long checks the test suite runs smaller: two million threads
# created before their joins (each join its own value), and a 4 MiB-deep
# thread followed by 1,000,000 short ones (resident memory flat). Raw
# lines go to bench/results/thread-<date>.txt and thread-latest.txt.
# Usage: scripts/bench-thread.sh BUILD_DIR [REPS]
set -eu
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_init thread "${1:-build}"
reps=${2:-5}
make --no-print-directory -s -C "$root" BUILD="$build" "$build/bench/prog1" "$build/bench/prog2" \
	"$build/bench/create_join" "$build/tests/integ/thread_handles_unique_two_million_unjoined" \
	"$build/tests/integ/stack_deep_thread_then_short_ones_rss_flat"

g() { # env... prog args: one run under greenify
	timeout -k 5 300 env LD_PRELOAD="$lib" "$@"
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

{
	for n in 100000 1000000; do
		for stack in default 256k; do
			set --
			[ "$stack" = default ] || set -- GREENIFY_STACK_SIZE=$stack
			p1=$(for _ in $(seq "$reps"); do
				field "$(g "$@" "$build/bench/prog1" "$n")" wall_ms
			done | median)
			p2=$(for _ in $(seq "$reps"); do
				field "$(g "$@" "$build/bench/prog2" "$n")" per_thread_bytes
			done | median)
			echo "prog n=$n stack=$stack prog1_wall_ms=$p1 prog2_per_thread_bytes=$p2"
		done
	done
	cj=$(for _ in $(seq "$reps"); do
		field "$(g "$build/bench/create_join" 2000000)" ns_per_pair
	done | median)
	echo "create_join ns_per_pair=$cj"
	start=$(date +%s.%N)
	g "$build/tests/integ/thread_handles_unique_two_million_unjoined" | tail -n 1 |
		sed 's/^/handles_2m: /'
	echo "handles_2m_s=$(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN { print b - a }")"
	g "$build/tests/integ/stack_deep_thread_then_short_ones_rss_flat" 1000000 2>&1 |
		grep -E 'rss before|checks' | sed 's/^/deep_then_1m: /'
} | tee "$raw"
bench_latest
