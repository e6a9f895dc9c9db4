#!/bin/bash
# bench/echo: an unmodified thread-per-connection echo server, natively and
# under greenify, against an echo server written on libuv; 100, 1,000 and
# 10,000 concurrent connections from echo_load, a separate process. Prints
# messages per second, p99 latency and server memory per connection, side by
# side (scripts/present.py); raw lines in bench/results/echo-<date>.txt and
# echo-latest.txt. BENCH_CONNS="10 100" asks for other connection counts (a
# quick check of the script itself).
# Usage: scripts/bench-echo.sh BUILD_DIR [SECONDS=3]
set -u
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
# shellcheck source=scripts/bench-server.sh
. "$(dirname "$0")/bench-server.sh"
bench_init echo "${1:-build}"
secs=${2:-3}
conns_list=${BENCH_CONNS:-100 1000 10000}
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# Below the ephemeral range (32768-60999), which 10,000 client sockets fill.
port=$((20000 + $$ % 8000))

# run_one LABEL CONNS: start the server, wait for "ready", load it.
run_one() {
	local label=$1 conns=$2 line
	local -a cmd
	case $label in
	native) cmd=("$build/bench/echo_threads") ;;
	greenify) cmd=(env LD_PRELOAD="$lib" "$build/bench/echo_threads") ;;
	libuv) cmd=("$build/bench/echo_uv") ;;
	esac
	echo_load_run "$conns" "$secs" "${cmd[@]}"
	line=${echo_line:-"echo_load conns=$conns fail server did not start"}
	echo "$label $line" | tee -a "$raw" >/dev/null
}

{
	echo "# scripts/bench-echo.sh $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r), ${secs}s per run"
} >"$raw"
for conns in $conns_list; do
	for label in native greenify libuv; do
		run_one "$label" "$conns"
	done
done
bench_latest

# A failed run's cells are empty, and what its line says is the last column.
{
	printf 'conns\tserver\tmsgs/s\tp99 (us)\tserver B/conn\n'
	grep -v '^#' "$raw" | while read -r label rest; do
		if printf '%s' "$rest" | grep -q fail; then
			printf '%s\t%s\t\t\t\t%s\n' "$(field "$rest" conns)" "$label" "${rest#echo_load }"
			continue
		fi
		printf '%s\t%s\t%s\t%s\t%s\n' "$(field "$rest" conns)" "$label" \
			"$(field "$rest" msgs_per_s)" "$(field "$rest" p99_us)" \
			"$(field "$rest" server_per_conn_bytes)"
	done
} | present table --align rlrrrl
echo "raw: $raw"
