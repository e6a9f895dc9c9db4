#!/bin/bash
# Sourced by the bash benchmark scripts that start a server (bench-echo.sh,
# bench-monitor.sh, bench-ab-echo.sh), after bench-lib.sh.
# shellcheck disable=SC2034,SC2154 # server_pid, echo_line: the caller's to read; build (bench-lib.sh's) and port: its to set
# start_server FIFO CMD...: runs CMD PORT in the background (its stdout to
# FIFO) on the next port ($port + 1, and so on: a port still held by a
# closing connection is skipped), up to 5 tries; sets port and server_pid;
# 0 once the server said "ready".
start_server() {
	local fifo=$1 line
	shift
	for _ in 1 2 3 4 5; do
		port=$((port + 1))
		"$@" "$port" >"$fifo" 2>/dev/null &
		server_pid=$!
		if read -r -t 10 line <"$fifo" && [ "$line" = ready ]; then
			return 0
		fi
		wait "$server_pid" 2>/dev/null
	done
	return 1
}

# echo_load_run CONNS SECS CMD...: starts the echo server CMD PORT, loads it
# with $build/bench/echo_load (CONNS connections for SECS seconds), stops
# it; echo_line is echo_load's last line, empty when the server did not
# start.
echo_load_run() {
	local conns=$1 secs=$2 fifo
	shift 2
	echo_line=
	fifo=$(mktemp -u)
	mkfifo "$fifo"
	if start_server "$fifo" "$@"; then
		echo_line=$(timeout -k 5 $((secs + 60)) "$build/bench/echo_load" "$port" "$conns" \
			"$secs" "$server_pid" 2>&1 | tail -n 1)
	fi
	kill "$server_pid" 2>/dev/null
	wait "$server_pid" 2>/dev/null
	rm -f "$fifo"
}
