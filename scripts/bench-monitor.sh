#!/bin/bash
# What GREENIFY_MONITOR costs when nothing stalls: the same library without
# and with GREENIFY_MONITOR=100, in turn (off, on, off, ...), REPS times, on
# Prog 1 (100K sleepers), the switch, create + join, a condition handoff,
# and the echo server (1,000 connections, echo_load); prints the medians
# and on/off. Raw lines in bench/results/monitor-<date>.txt and
# monitor-latest.txt.
# Usage: scripts/bench-monitor.sh [BUILD_DIR=build] [REPS=5]
set -u
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
# shellcheck source=scripts/bench-server.sh
. "$(dirname "$0")/bench-server.sh"
bench_init monitor "${1:-build}"
reps=${2:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
port=$((20000 + $$ % 8000))

cases='prog1 100K (wall ms)|wall_ms|prog1 100000
switch (ns)|ns_per_yield|switch 1000000
create_join (ns)|ns_per_pair|create_join 20000
handoff cond (ns)|ns_per_handoff|handoff cond 200000'

menv() { # MODE: the environment of that mode
	if [ "$1" = on ]; then echo GREENIFY_MONITOR=100; else echo GREENIFY_MONITOR=0; fi
}

run() { # MODE KEY PROG ARGS...
	local mode=$1 key=$2 prog=$3 line
	shift 3
	line=$(timeout -k 5 300 env LD_PRELOAD="$lib" "$(menv "$mode")" "$bin/$prog" "$@" 2>/dev/null) || true
	echo "$mode $line" >>"$raw"
	field "$line" "$key"
}

echo_once() { # MODE: msgs_per_s of one 3 s run at 1,000 connections
	local mode=$1
	echo_load_run 1000 3 env LD_PRELOAD="$lib" "$(menv "$mode")" "$build/bench/echo_threads"
	echo "$mode echo $echo_line" >>"$raw"
	field "$echo_line" msgs_per_s
}

{
	echo "# scripts/bench-monitor.sh $(date '+%Y-%m-%d %H:%M:%S %z') on $(uname -n), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# lib=$lib reps=$reps"
} >"$raw"
printf 'case\toff\tGREENIFY_MONITOR=100\ton/off\n' >"$tmp/table"
printf '%s\n' "$cases" | while IFS='|' read -r name key cmd; do
	: >"$tmp/off"
	: >"$tmp/on"
	for ((i = 0; i < reps; i++)); do
		for mode in off on; do
			# shellcheck disable=SC2086 # cmd is words
			run "$mode" "$key" $cmd >>"$tmp/$mode"
		done
	done
	off=$(present median <"$tmp/off")
	on=$(present median <"$tmp/on")
	printf '%s\t%s\t%s\t%s\n' "$name" "$off" "$on" "$(present ratio "$off" "$on")" >>"$tmp/table"
done
: >"$tmp/off"
: >"$tmp/on"
for ((i = 0; i < reps; i++)); do
	for mode in off on; do
		echo_once "$mode" >>"$tmp/$mode"
	done
done
off=$(present median <"$tmp/off")
on=$(present median <"$tmp/on")
# every ratio is on / off (a time: lower wins; this rate: higher wins)
printf 'echo 1,000 conns (msgs/s)\t%s\t%s\t%s\n' "$off" "$on" "$(present ratio "$off" "$on")" >>"$tmp/table"
present table --right <"$tmp/table" | tee -a "$raw"
bench_latest
echo "raw: $raw"
