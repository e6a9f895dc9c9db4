#!/bin/bash
# bench/pipe: fd reads and writes when the data is there. hackbench -T (Debian's
# rt-tests: 10 groups of 20 senders and 20 receivers, 100 loops, 400,000
# messages of 100 bytes) over pipes (-p) and over unix sockets, and
# bench/small_files (a grep's open, read to the end, close of 20,000 files of
# 0.5-8 KiB, 4 threads), natively, under greenify and, when a second library
# is given, under that one (a baseline). Wall time: the median of REPS runs
# (hyperfine, alternating); system calls: strace -f -c of one run of each
# (hackbench with 2 groups, a fifth of the calls, to keep strace's time
# small), the total and the ones per transfer. Raw lines go to
# bench/results/pipe-<date>.txt and pipe-latest.txt, a markdown table to
# stdout. Natively the threads run on every core, greenify's on one.
# Usage: scripts/bench-pipe.sh BUILD_DIR [REPS=5] [BASELINE_LIB]
set -eu
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_init pipe "${1:-build}"
reps=${2:-5}
base=${3:-}
for tool in hackbench hyperfine strace; do
	command -v "$tool" >/dev/null || {
		echo "bench-pipe: no $tool (scripts/deps.sh bench)" >&2
		exit 2
	}
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$work/files" <<'EOF'
import os, random, sys
random.seed(1)
os.mkdir(sys.argv[1])
for i in range(20000):
    with open(os.path.join(sys.argv[1], "f%05d" % i), "w") as f:
        f.write("x" * random.randint(512, 8192))
EOF

labels="native greenify"
[ -n "$base" ] && labels="native baseline greenify"
prefix() { # LABEL: the command's prefix
	case $1 in
	native) echo "" ;;
	greenify) echo "env LD_PRELOAD=$lib " ;;
	baseline) echo "env LD_PRELOAD=$base " ;;
	esac
}
cases="pipes sockets files"
cmd() { # CASE [GROUPS]
	case $1 in
	pipes) echo "hackbench -T -p -g ${2:-10} -l 100" ;;
	sockets) echo "hackbench -T -g ${2:-10} -l 100" ;;
	files) echo "$bin/small_files $work/files 4" ;;
	esac
}

{
	echo "# scripts/bench-pipe.sh $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n), $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg), $reps runs${base:+, baseline $base}"
	for c in $cases; do
		set --
		for l in $labels; do
			set -- "$@" "$(prefix "$l")$(cmd "$c")"
		done
		hyperfine -N -w 1 -r "$reps" --export-json "$work/hf.json" "$@" >/dev/null 2>&1
		python3 - "$work/hf.json" "$c" $labels <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
for label, r in zip(sys.argv[3:], res):
    print("time case=%s mode=%s median_s=%.3f min_s=%.3f" % (sys.argv[2], label, r["median"], r["min"]))
EOF
		for l in $labels; do
			# shellcheck disable=SC2046 # the prefix and command split into words
			strace -f -c -o "$work/st" $(prefix "$l") $(cmd "$c" 2) >/dev/null 2>&1
			total=$(awk '$NF == "total" { print $4 }' "$work/st")
			rw=$(awk '$NF ~ /^(read|write|readv|writev|preadv2|pwritev2|recvfrom|sendto)$/ { n += $4 } END { print n + 0 }' "$work/st")
			top=$(grep -vE '^(%|-|[ ]*$)' "$work/st" | grep -v total | sort -k4 -nr | head -n 6 | awk '{ printf "%s:%s,", $NF, $4 }')
			echo "calls case=$c mode=$l total=$total rw=$rw top=$top"
		done
	done
} >"$raw"
bench_latest

median() { grep "^time case=$1 mode=$2 " "$raw" | sed 's/.*median_s=\([0-9.]*\).*/\1/'; }
calls() { grep "^calls case=$1 mode=$2 " "$raw" | sed "s/.* $3=\([0-9]*\).*/\1/"; }
echo "| case | $(echo "$labels" | sed 's/ / | /g') |"
echo "|---|$(for _ in $labels; do printf -- '---:|'; done)"
for c in $cases; do
	printf '| %s: wall s (median of %s) |' "$c" "$reps"
	for l in $labels; do printf ' %s |' "$(median "$c" "$l")"; done
	echo
	printf '| %s: system calls (strace -c) |' "$c"
	for l in $labels; do printf ' %s |' "$(calls "$c" "$l" total)"; done
	echo
done
