#!/usr/bin/env bash
# Prog 1 and Prog 2 in Python (bench/ref/*_threads.py, *_gevent.py) on
# Debian's /usr/bin/python3: threading.Thread natively, the same scripts
# with greenify preloaded (private TLS, the default, and GREENIFY_TLS=shared),
# and gevent greenlets; N = 1K, 10K, 100K, each BENCH_REPS times (default 3),
# the runners interleaved. Prints median and min per cell in two tables
# (scripts/present.py), appended to the raw file too; raw lines go to
# bench/results/python-<date>.txt and python-latest.txt.
#
#   scripts/bench-python.sh BUILD_DIR
#
# BENCH_SIZES="100 1000" asks for other thread counts (a quick check of the
# script itself).
#
# Prog 2 measures every runner the same way (bench/ref/common.py: growth of
# VmRSS + VmPTE over the threads, one warm-up thread before the baseline).
# Its threads are not daemons, so CPython walks every live thread's lock at
# each start (O(N^2)); a second 100K row uses daemon threads, which skip
# that walk (bench/ref/prog2_threads.py says more): a second row of the
# largest N. A run that fails or
# times out (BENCH_TIMEOUT, default 120 s) is not repeated.
set -u

usage() {
	echo "usage: scripts/bench-python.sh BUILD_DIR" >&2
	exit 2
}

[ $# -eq 1 ] || usage
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_init python "$1"
ref=$root/bench/ref
py=/usr/bin/python3
reps=${BENCH_REPS:-3}
timeout_s=${BENCH_TIMEOUT:-120}
sizes=${BENCH_SIZES:-1000 10000 100000}
# Rows: N, and N:daemon for the daemon-thread variant of Prog 2.
rows_prog1=$sizes
rows_prog2="$sizes ${sizes##* }:daemon"

[ -x "$py" ] || {
	echo "bench-python: no $py (package python3)" >&2
	exit 2
}
[ -f "$lib" ] || {
	echo "bench-python: no $lib; build first (make)" >&2
	exit 2
}
runners="native green green_shared"
if "$py" -c 'import gevent' >/dev/null 2>&1; then
	runners="$runners gevent"
else
	echo "bench-python: $py has no gevent (package python3-gevent): no gevent column" >&2
fi
# Keep bench/ref free of __pycache__ directories.
export PYTHONDONTWRITEBYTECODE=1
errf=$(mktemp) || exit 1
trap 'rm -f "$errf"' EXIT

label() {
	case $1 in
	native) echo "Python threads" ;;
	green) echo "Python threads, greenify" ;;
	green_shared) echo "same, GREENIFY_TLS=shared" ;;
	gevent) echo "gevent greenlets" ;;
	esac
}

# invoke RUNNER PROG N [daemon]: one run under a timeout. LD_PRELOAD is set
# by env inside timeout so that timeout itself does not run under greenify.
invoke() {
	local runner=$1 prog=$2
	shift 2
	case $runner in
	native) timeout -k 5 "$timeout_s" "$py" "$ref/${prog}_threads.py" "$@" ;;
	green) timeout -k 5 "$timeout_s" env GREENIFY_TLS=private LD_PRELOAD="$lib" \
		"$py" "$ref/${prog}_threads.py" "$@" ;;
	green_shared) timeout -k 5 "$timeout_s" env GREENIFY_TLS=shared LD_PRELOAD="$lib" \
		"$py" "$ref/${prog}_threads.py" "$@" ;;
	gevent) timeout -k 5 "$timeout_s" "$py" "$ref/${prog}_gevent.py" "$@" ;;
	esac
}

commas() {
	printf '%s' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}

{
	echo "# scripts/bench-python.sh $(date '+%Y-%m-%d %H:%M:%S %z') on $(uname -n), $(nproc) CPUs, $(uname -r), $(getconf GNU_LIBC_VERSION)"
	echo "# $($py --version 2>&1) ($py); gevent $("$py" -c 'import gevent; print(gevent.__version__)' 2>/dev/null || echo none)"
	echo "# kernel.pid_max=$(cat /proc/sys/kernel/pid_max) kernel.threads-max=$(cat /proc/sys/kernel/threads-max) vm.max_map_count=$(cat /proc/sys/vm/max_map_count)"
	echo "# library: $lib; $reps repetitions, runners interleaved; timeout $timeout_s s"
	echo "# raw lines: RUNNER PROG ROW REP: rc=EXIT secs=WALL: RESULT LINE"
} >"$raw"

declare -A VALS OUTCOME
# run RUNNER PROG ROW REP: one run; a number goes to VALS, anything else
# (failure, timeout, crash) to OUTCOME, which stops the cell's repetitions.
run() {
	local runner=$1 prog=$2 row=$3 rep=$4 key=$1.$2.$3 n=${3%%:*} out rc t0 t1 line v
	local args=("$n")
	[ -z "${OUTCOME[$key]:-}" ] || return 0
	[ "$row" = "$n" ] || args+=(daemon)
	# gevent has no daemon threads; its 100K row is the same measurement.
	[ "$runner" != gevent ] || [ "$row" = "$n" ] || return 0
	t0=$(date +%s%N)
	out=$(invoke "$runner" "$prog" "${args[@]}" 2>"$errf")
	rc=$?
	t1=$(date +%s%N)
	line=$(printf '%s\n' "$out" | grep "^$prog " | tail -n 1)
	{
		printf '%s %s %s %s: rc=%s secs=%s: %s\n' "$runner" "$prog" "$row" "$rep" "$rc" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
			"${line:-(no result line)}"
		head -n 5 "$errf" | sed 's/^/    stderr: /'
	} >>"$raw"
	case $line in
	*" ok")
		if [ "$prog" = prog1 ]; then
			v=$(field "$line" wall_ms)
		else
			v=$(field "$line" per_thread_bytes)
		fi
		VALS[$key]="${VALS[$key]:-} $v"
		;;
	*" fail errno="*)
		OUTCOME[$key]="fails at $(commas "$(field "$line" created)")"
		if [ "$prog" = prog2 ]; then
			OUTCOME[$key]="${OUTCOME[$key]} ($(field "$line" per_thread_bytes) B each)"
		fi
		;;
	*)
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			OUTCOME[$key]="timeout (${timeout_s} s)"
		elif [ "$rc" -gt 128 ]; then
			OUTCOME[$key]="crash (signal $((rc - 128)))"
		else
			OUTCOME[$key]="error (exit $rc)"
		fi
		;;
	esac
	printf '  rep %s  %-27s %s %-14s %s\n' "$rep" "$(label "$runner")" "$prog" "$row" \
		"${v:-${OUTCOME[$key]:-}}" >&2
}

for rep in $(seq 1 "$reps"); do
	for row in $rows_prog1; do
		for r in $runners; do
			run "$r" prog1 "$row" "$rep"
		done
	done
	for row in $rows_prog2; do
		for r in $runners; do
			run "$r" prog2 "$row" "$rep"
		done
	done
done

# cell RUNNER PROG ROW: "median (min X)" of the runs, or what stopped them.
cell() {
	local key=$1.$2.$3 unit
	if [ "$1" = gevent ] && [ "$3" != "${3%%:*}" ]; then
		echo "(as above)"
		return
	fi
	if [ -n "${OUTCOME[$key]:-}" ]; then
		# A failure after good runs still shows the good ones.
		if [ -n "${VALS[$key]:-}" ]; then
			echo "${OUTCOME[$key]} in a later run"
		else
			echo "${OUTCOME[$key]}"
		fi
		return
	fi
	[ "$2" = prog1 ] && unit=ms || unit=B
	# shellcheck disable=SC2086 # one number per word
	printf '%s\n' ${VALS[$key]:-} | sort -g | awk -v u="$unit" '
		function f(v) {
			if (u == "B") return sprintf("%.1f KiB", v / 1024)
			if (v < 1000) return sprintf("%.0f ms", v)
			return sprintf("%.2f s", v / 1000)
		}
		NF { v[++n] = $1 }
		END {
			if (n == 0) { print "?"; exit }
			m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
			printf "%s (min %s, %d runs)\n", f(m), f(v[1]), n
		}'
}

out() {
	printf '%s\n' "$*" >>"$raw"
	printf '%s\n' "$*"
}

# table PROG ROWS: one row of cells per N, one column per runner.
table() {
	local prog=$1 rows=$2 row r line name
	{
		line=N
		for r in $runners; do
			line+=$'\t'$(label "$r")
		done
		printf '%s\n' "$line"
		for row in $rows; do
			name=$(commas "${row%%:*}")
			[ "$row" = "${row%%:*}" ] || name="$name daemon"
			line=$name
			for r in $runners; do
				line+=$'\t'$(cell "$r" "$prog" "$row")
			done
			printf '%s\n' "$line"
		done
	} | present table | tee -a "$raw"
}

out ""
out "Prog 1 in Python: N threads each sleep 200 ms, then all are joined (wall time)"
table prog1 "$rows_prog1"
out ""
out "Prog 2 in Python: memory per sleeping thread (growth of VmRSS + VmPTE / N)"
table prog2 "$rows_prog2"
out ""
out "median (min) of the runs; a run that failed or timed out was not repeated."
out "Native threads stop near 22K here: each takes about three mappings (stack,"
out "guard, CPython's 16 KiB frame stack) and the process hits vm.max_map_count."
bench_latest
echo "raw: $raw" >&2
