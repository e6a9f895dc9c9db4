#!/usr/bin/env bash
# Prog 1 (N threads sleep 200 ms, then joined: wall time) and Prog 2 (memory
# per sleeping thread) for Go's goroutines, greenify with private TLS (the
# default) and greenify with shared TLS, side by side in one run: the three
# alternate within each repetition (Go, private, shared, Go, ...) so that a
# noisy neighbour hits all alike, BENCH_REPS times (default 5). Prints the
# median of each and its ratio to Go's. Raw lines go to
# bench/results/vs-go-<date>.txt and vs-go-latest.txt.
#
#   scripts/bench-vs-go.sh BUILD_DIR
#
# Environment: BENCH_REPS (5), BENCH_NS (the thread counts, "100000
# 1000000"). A million sleeping threads with glibc's 8 MiB stacks take about
# 8 GB (a data page and a page-table page each, bench/RESULTS.md). Go comes
# from scripts/deps.sh bench (golang-go); without it the Go column is empty
# and no ratios are printed.
set -u

usage() {
	echo "usage: scripts/bench-vs-go.sh BUILD_DIR" >&2
	exit 2
}

[ $# -eq 1 ] || usage
build=$(cd "$1" 2>/dev/null && pwd) || usage
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/bench
lib=$build/libgreenify.so
reps=${BENCH_REPS:-5}
ns=${BENCH_NS:-"100000 1000000"}
out_dir=$root/bench/results
stamp=$(date +%Y%m%d-%H%M%S)
raw=$out_dir/vs-go-$stamp.txt

for p in prog1 prog2; do
	[ -x "$bin/$p" ] || {
		echo "bench-vs-go: $bin/$p is missing; build first (make all, then the bench/ programs)" >&2
		exit 2
	}
done
[ -f "$lib" ] || {
	echo "bench-vs-go: no $lib" >&2
	exit 2
}
mkdir -p "$out_dir" || exit 1

gobin=""
if command -v go >/dev/null 2>&1; then
	gobin=$build/bench/go
	mkdir -p "$gobin"
	for p in prog1 prog2; do
		if [ ! -x "$gobin/$p" ] || [ "$root/bench/ref/$p.go" -nt "$gobin/$p" ]; then
			(cd "$gobin" && GOTOOLCHAIN=local GOCACHE=${GOCACHE:-$build/bench/go/cache} \
				go build -o "$gobin/$p" "$root/bench/ref/$p.go") || gobin=""
		fi
	done
fi
[ -n "$gobin" ] || echo "bench-vs-go: no go (package golang-go): no Go column" >&2

field() { # LINE KEY
	printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

median() { # VALUES...
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

{
	echo "# scripts/bench-vs-go.sh $(date '+%Y-%m-%d %H:%M:%S %z') on $(uname -n), $(nproc) CPUs, $(uname -r), $(getconf GNU_LIBC_VERSION)"
	echo "# library: $lib; $reps repetitions, Go / private / shared interleaved"
} >"$raw"

declare -A VALS
modes="go private shared"
for n in $ns; do
	for prog in prog1 prog2; do
		key=wall_ms
		[ "$prog" = prog2 ] && key=per_thread_bytes
		for rep in $(seq 1 "$reps"); do
			for mode in $modes; do
				case $mode in
				go)
					[ -n "$gobin" ] || continue
					line=$(timeout -k 5 600 "$gobin/$prog" "$n" 2>&1 | grep "^$prog " | tail -n 1)
					;;
				*)
					line=$(GREENIFY_TLS=$mode timeout -k 5 600 env LD_PRELOAD="$lib" \
						"$bin/$prog" "$n" 2>&1 | grep "^$prog " | tail -n 1)
					;;
				esac
				echo "$mode $prog $n $rep: ${line:-(no result line)}" >>"$raw"
				v=$(field "$line" "$key")
				[ -n "$v" ] && VALS[$mode|$prog|$n]="${VALS[$mode|$prog|$n]:-} $v"
				printf '  %s %-8s rep %s  %-8s %s\n' "$prog" "$n" "$rep" "$mode" "${v:-?}" >&2
			done
		done
	done
done

{
	echo
	printf '%-34s %12s %12s %12s %10s %10s\n' "median of $reps" go private shared "priv/go" "shared/go"
	for n in $ns; do
		for prog in prog1 prog2; do
			what="prog1 $n: wall ms"
			[ "$prog" = prog2 ] && what="prog2 $n: bytes per thread"
			declare -A M=()
			for mode in $modes; do
				# shellcheck disable=SC2086 # a list of numbers
				M[$mode]=$(median ${VALS[$mode|$prog|$n]:-})
			done
			rp=-
			rs=-
			if [ -n "${M[go]}" ]; then
				[ -n "${M[private]}" ] && rp=$(awk -v a="${M[private]}" -v b="${M[go]}" 'BEGIN { printf "%.2f", a / b }')
				[ -n "${M[shared]}" ] && rs=$(awk -v a="${M[shared]}" -v b="${M[go]}" 'BEGIN { printf "%.2f", a / b }')
			fi
			printf '%-34s %12s %12s %12s %10s %10s\n' "$what" "${M[go]:--}" \
				"${M[private]:--}" "${M[shared]:--}" "$rp" "$rs"
		done
	done
} | tee -a "$raw"
cp "$raw" "$out_dir/vs-go-latest.txt"
