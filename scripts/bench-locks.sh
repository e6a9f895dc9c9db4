#!/bin/sh
# Lock benchmarks, native and under greenify side by side in one run:
# a handoff between two threads through mutex + condition and through two
# semaphores, and one mutex contended by 1,000 threads (plain, and holding it
# across a sched_yield). Prints a table (scripts/present.py); raw lines go to
# bench/results/locks-<date>.txt and locks-latest.txt.
# Usage: scripts/bench-locks.sh BUILD_DIR
set -eu
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_init locks "${1:-build}"

run() { # mode prog args...
	mode=$1
	shift
	if [ "$mode" = greenify ]; then
		timeout -k 5 120 env LD_PRELOAD="$lib" "$@"
	else
		timeout -k 5 120 "$@"
	fi
}

{
	echo "# scripts/bench-locks.sh $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) CPUs, $(uname -r)"
	for mode in native greenify; do
		for m in cond sem; do
			echo "$mode $(run "$mode" "$build/bench/handoff" "$m" 200000)"
		done
		for m in plain yield; do
			echo "$mode $(run "$mode" "$build/bench/contended" "$m" 1000 1000)"
		done
	done
} >"$raw"
bench_latest

{
	printf '\tnative\tgreenify\tratio\n'
	for what in "handoff cond" "handoff sem" "contended plain" "contended yield"; do
		n=$(grep "^native $what " "$raw" || true)
		g=$(grep "^greenify $what " "$raw" || true)
		case $what in
		handoff*) key=ns_per_handoff ;;
		*) key=ns_per_lock ;;
		esac
		nv=$(field "$n" "$key")
		gv=$(field "$g" "$key")
		case $what in
		"handoff cond") label="handoff through mutex + condition" ;;
		"handoff sem") label="handoff through two semaphores" ;;
		"contended plain") label="1,000 threads, one mutex (ns per lock)" ;;
		*) label="1,000 threads, mutex held across a yield" ;;
		esac
		printf '%s\t%s ns\t%s ns\t%s\n' "$label" "$nv" "$gv" "$(present ratio --inverse "$nv" "$gv")"
	done
} | present table --right
echo "raw: $raw"
