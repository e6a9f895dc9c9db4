#!/bin/bash
# sendfile of a file (1 GiB by default, in the page cache) into a socketpair
# that another thread drains, against a read/write loop of 64 KiB, natively
# and under greenify, median of REPS runs each; MiB/s side by side.
# Usage: scripts/bench-sendfile.sh BUILD_DIR [MIB=1024] [REPS=3]
set -u
build=$(cd "${1:-build}" && pwd)
mib=${2:-1024}
reps=${3:-3}
file=$(mktemp /tmp/greenify-sendfile.XXXXXX)
trap 'rm -f "$file"' EXIT
head -c "$((mib << 20))" /dev/urandom >"$file"
cat "$file" >/dev/null # into the page cache
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
printf '%-10s %12s %12s\n' "MiB/s" native greenify
for mode in sendfile readwrite; do
	n=$(for _ in $(seq "$reps"); do "$build/bench/sendfile" "$file" "$mode" | awk '{print $6}'; done | median)
	g=$(for _ in $(seq "$reps"); do LD_PRELOAD="$build/libgreenify.so" "$build/bench/sendfile" "$file" "$mode" | awk '{print $6}'; done | median)
	printf '%-10s %12s %12s\n' "$mode" "$n" "$g"
done
