#!/bin/sh
# Process-shared benchmarks, side by side in one run:
#   - a cross-process semaphore ping-pong (bench/pshared_pingpong, 100,000
#     round trips): two native processes, two greenified ones, a greenified
#     one with a native peer; placed by the kernel, then (20,000 round
#     trips) both on one CPU and one on each of two, since on an idle VM
#     the kernel's choice between those decides the time (a wake-up of an
#     idle CPU costs tens of microseconds there) and differs run to run;
#   - the private lock handoffs of bench-locks.sh (handoff cond / sem,
#     contended plain / yield) with this library and, when BASE_LIB names
#     another build of it (say, main's), with that one too, run in turn so
#     that load on the machine hits both alike; and the handoffs once a
#     foreign OS thread exists (handoff ... atomic: locks work the atomic
#     way).
# Each case runs REPS times (default 5); the table (scripts/present.py) shows
# the median and the range. Raw lines go to bench/results/pshared-<date>.txt and
# pshared-latest.txt.
# Usage: [BASE_LIB=/path/to/old/libgreenify.so] [REPS=5] scripts/bench-pshared.sh [BUILD_DIR]
set -eu
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_init pshared "${1:-build}"
base=${BASE_LIB:-}
reps=${REPS:-5}
make --no-print-directory -s BUILD="${1:-build}" all "${1:-build}/bench/pshared_pingpong" \
	"${1:-build}/bench/handoff" "${1:-build}/bench/contended"

run() { # label preload prog args...
	label=$1
	pre=$2
	shift 2
	if [ -n "$pre" ]; then
		line=$(timeout -k 5 300 env LD_PRELOAD="$pre" "$@")
	else
		line=$(timeout -k 5 300 "$@")
	fi
	echo "$label $line"
}

placements="any one"
[ "$(nproc)" -lt 2 ] || placements="$placements two"

{
	echo "# scripts/bench-pshared.sh $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	i=0
	while [ "$i" -lt "$reps" ]; do
		for c in $placements; do
			n=20000
			[ "$c" != any ] || n=100000
			run native-native "" "$build/bench/pshared_pingpong" $n same "$c"
			run green-green "$lib" "$build/bench/pshared_pingpong" $n same "$c"
			run green-native "$lib" "$build/bench/pshared_pingpong" $n native "$c"
		done
		for m in cond sem; do
			run new "$lib" "$build/bench/handoff" "$m" 2000000
			[ -z "$base" ] || run base "$base" "$build/bench/handoff" "$m" 2000000
			run new "$lib" "$build/bench/handoff" "$m" 2000000 atomic
		done
		for m in plain yield; do
			run new "$lib" "$build/bench/contended" "$m" 1000 1000
			[ -z "$base" ] || run base "$base" "$build/bench/contended" "$m" 1000 1000
		done
		i=$((i + 1))
	done
} >"$raw"
bench_latest

# stats LABEL PATTERN KEY: "median (min-max)" of KEY over the matching lines.
stats() {
	grep "^$1 $2" "$raw" | tr ' ' '\n' | sed -n "s/^$3=//p" | present spread
}

echo "cross-process semaphore ping-pong, ns per round trip, median (range) of $reps:"
{
	for c in $placements; do
		case $c in
		any) where="placed by the kernel" ;;
		one) where="one CPU" ;;
		two) where="two CPUs" ;;
		esac
		p="pshared_pingpong peer=[a-z]* cpus=$c"
		nn=$(stats native-native "$p" ns_per_round_trip)
		printf '  %s\t%s\t%s\n' "two native processes" "$where" "$nn"
		for l in green-green green-native; do
			v=$(stats "$l" "$p" ns_per_round_trip)
			printf '  %s\t%s\t%s\t%s native\n' "$l" "$where" "$v" \
				"$(present ratio "${nn%% *}" "${v%% *}")"
		done
	done
} | present table
echo "private lock handoffs (ns), median (range) of $reps:"
{
	for what in "handoff cond rounds" "handoff sem rounds" "contended plain" "contended yield" \
		"handoff cond atomic" "handoff sem atomic"; do
		case $what in
		handoff*) key=ns_per_handoff ;;
		*) key=ns_per_lock ;;
		esac
		base_cell=
		case $what in *atomic) ;; *) [ -z "$base" ] || base_cell="base $(stats base "$what" $key)" ;; esac
		printf '  %s\tthis build %s\t%s\n' "${what% rounds}" "$(stats new "$what" $key)" "$base_cell"
	done
} | present table
echo "raw: $raw"
