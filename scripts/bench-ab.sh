#!/bin/sh
# Before and after of the library on the same benchmark programs: each case
# runs natively, under the BEFORE library and under this build's library,
# in turn (native, before, after, native, ...), REPS times, so that a noisy
# neighbour hits all three alike; prints the median of each and the ratios
# after/before and after/native. Prog 1 and Prog 2 have no native column:
# 100K OS threads are past this machine's pid_max. Raw lines go to
# bench/results/ab-<date>.txt and ab-latest.txt.
# Usage: scripts/bench-ab.sh BEFORE_LIB [BUILD_DIR=build] [REPS=5]
# (BEFORE_LIB: a libgreenify.so built from an older tree, e.g. with
#  git worktree add /tmp/old COMMIT && make -C /tmp/old.)
set -eu
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
[ $# -ge 1 ] && [ -f "$1" ] || {
	echo "usage: scripts/bench-ab.sh BEFORE_LIB [BUILD_DIR] [REPS]" >&2
	exit 2
}
before=$(realpath "$1")
bench_init ab "${2:-build}"
reps=${3:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name|key|program and arguments
cases='prog1 100K (wall ms)|wall_ms|prog1 100000
prog2 100K (bytes/thread)|per_thread_bytes|prog2 100000
switch (ns)|ns_per_yield|switch 1000000
create_join (ns)|ns_per_pair|create_join 20000
handoff cond (ns)|ns_per_handoff|handoff cond 200000
handoff sem (ns)|ns_per_handoff|handoff sem 200000
contended plain (ns)|ns_per_lock|contended plain 1000 1000
contended yield (ns)|ns_per_lock|contended yield 1000 1000'

run() { # MODE KEY PROG ARGS...
	mode=$1 key=$2 prog=$3
	shift 3
	case $mode in
	native) line=$(timeout -k 5 300 "$bin/$prog" "$@" 2>/dev/null) || true ;;
	before) line=$(timeout -k 5 300 env LD_PRELOAD="$before" "$bin/$prog" "$@" 2>/dev/null) || true ;;
	after) line=$(timeout -k 5 300 env LD_PRELOAD="$lib" "$bin/$prog" "$@" 2>/dev/null) || true ;;
	esac
	echo "$mode $line" >>"$raw"
	field "$line" "$key"
}

{
	echo "# scripts/bench-ab.sh $(date '+%Y-%m-%d %H:%M:%S %z') on $(uname -n), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# before=$before after=$lib reps=$reps"
} >"$raw"
printf 'case\tnative\tbefore\tafter\tafter/before\tafter/native\n' >"$tmp/table"
printf '%s\n' "$cases" | while IFS='|' read -r name key cmd; do
	: >"$tmp/native"
	: >"$tmp/before"
	: >"$tmp/after"
	i=0
	while [ "$i" -lt "$reps" ]; do
		for mode in native before after; do
			case $mode:$name in
			native:prog*) continue ;;
			esac
			# shellcheck disable=SC2086 # cmd is words
			run "$mode" "$key" $cmd >>"$tmp/$mode"
		done
		i=$((i + 1))
	done
	n=$(present median <"$tmp/native")
	b=$(present median <"$tmp/before")
	a=$(present median <"$tmp/after")
	# a time, a size: lower wins, so the ratio is after / before
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$n" "$b" "$a" \
		"$(present ratio "$b" "$a")" "$(present ratio "$n" "$a")" >>"$tmp/table"
done
present table --right <"$tmp/table" | tee -a "$raw"
bench_latest
