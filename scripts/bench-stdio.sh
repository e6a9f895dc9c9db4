#!/bin/sh
# stdio benchmark, native and under greenify side by side in one run:
# fgets over a socketpair, 1M lines of 100 B written with fputs by one thread
# and read by another (the target: greenify >= 0.8x native throughput), and the same lines read back from a regular file (the cost of
# the hooks on the plain path). Each case runs REPS times, native and greenify
# alternating; the table gives the median MB/s of each and their ratio, and
# the CPU time (user + system, both threads) of the socket case. Natively the
# writer and the reader run on two cores at once, greenify runs both on one:
# the socket case is also run with both pinned to one CPU (taskset), the
# same core for each. Raw lines go to bench/results/stdio-<date>.txt and
# stdio-latest.txt.
# Usage: scripts/bench-stdio.sh BUILD_DIR [REPS=5]
set -eu
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_init stdio "${1:-build}"
reps=${2:-5}
prog=$bin/stdio_fgets

run() { # mode case
	case $1 in
	greenify) set -- env LD_PRELOAD="$lib" "$prog" "$2" ;;
	native1) set -- taskset -c 0 "$prog" "$2" ;;
	greenify1) set -- taskset -c 0 env LD_PRELOAD="$lib" "$prog" "$2" ;;
	*) set -- "$prog" "$2" ;;
	esac
	# GNU time's "cpu=" after the program's own line.
	timeout -k 5 300 /usr/bin/time -f "cpu=%U+%S" "$@" 2>&1
}

{
	echo "# scripts/bench-stdio.sh $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
	for what in socket file; do
		i=0
		while [ "$i" -lt "$reps" ]; do
			for mode in native greenify; do
				echo "$mode $(run "$mode" "$what" | tr '\n' ' ')"
			done
			if [ "$what" = socket ]; then
				for mode in native1 greenify1; do
					echo "$mode $(run "$mode" "$what" | tr '\n' ' ')"
				done
			fi
			i=$((i + 1))
		done
	done
} >"$raw"
bench_latest

# median KEY MODE CASE: the median of KEY= over the raw lines of MODE, CASE
# (user+system CPU times added up).
median() {
	grep "^$2 stdio_fgets $3 " "$raw" | tr ' ' '\n' | sed -n "s/^$1=//p" |
		awk -F+ '{ print ($2 == "" ? $1 : $1 + $2) }' | present median
}

# row LABEL MODE CASE: a table row of native MODE and greenify MODE.
row() {
	n=$(median mb_per_s "native$2" "$3")
	g=$(median mb_per_s "greenify$2" "$3")
	printf '%s\t%s\t%s\t%s\n' "$1" "$n" "$g" "$(present ratio "$n" "$g")"
}

{
	printf '\tnative\tgreenify\tratio\n'
	row "fgets, socketpair, 1M x 100 B lines (MB/s)" "" socket
	row "fgets, regular file, 1M x 100 B lines (MB/s)" "" file
	row "the same, both on one CPU (MB/s)" 1 socket
	printf '%s\t%s\t%s\n' "socket case, CPU time of both threads (s)" \
		"$(median cpu native socket)" "$(median cpu greenify socket)"
} | present table --right
echo "median of $reps runs each; raw: $raw"
