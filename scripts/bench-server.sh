#!/bin/bash
# Sourced by the bash benchmark scripts that start a server (bench-echo.sh,
# bench-monitor.sh), after bench-lib.sh.
# shellcheck disable=SC2034 # server_pid is the caller's
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
