#!/bin/sh
# A real thread-per-connection server from Debian under the preload: iperf
# (iperf2) serving 8 parallel clients, each sending 64 MiB over 127.0.0.1.
# The server must receive the same 512 MiB as a native server does, on one
# OS thread (its GREENIFY_STATS line), and finish by itself (-P 8).
# Usage: tests/run-iperf.sh BUILD_DIR
set -u
build=${1:-build}
lib=$(cd "$build" && pwd)/libgreenify.so
out=$build/tests/iperf
mkdir -p "$out"
if ! command -v iperf >/dev/null; then
	echo "iperf: not installed (scripts/deps.sh test installs it): 0 passed, 1 failed"
	exit 1
fi
passed=0
failed=0
port=$((20000 + $$ % 10000))
for mode in native preload; do
	port=$((port + 1))
	if [ "$mode" = preload ]; then
		timeout 60 env LD_PRELOAD="$lib" GREENIFY_STATS=1 iperf -s -p "$port" -P 8 >"$out/$mode.server" 2>&1 &
	else
		timeout 60 iperf -s -p "$port" -P 8 >"$out/$mode.server" 2>&1 &
	fi
	server=$!
	ok=
	for _ in 1 2 3 4 5 6 7 8 9 10; do # wait for the listener
		sleep 0.2
		if timeout 30 iperf -c 127.0.0.1 -p "$port" -P 8 -n 64M >"$out/$mode.client" 2>&1; then
			ok=1
			break
		fi
	done
	wait "$server"
	sum=$(grep '\[SUM\]' "$out/$mode.server" | tail -n 1)
	why=
	[ -n "$ok" ] || why="the client could not run"
	case $sum in
	*" 512 MBytes "*) ;;
	*) why="${why:+$why; }server total: '$sum', not 512 MBytes" ;;
	esac
	if [ "$mode" = preload ] && ! grep -q 'greenify: stats threads=[1-9].* os_threads=1' "$out/$mode.server"; then
		why="${why:+$why; }no one-OS-thread stats line"
	fi
	if [ -z "$why" ]; then
		echo "PASS iperf [$mode]: $sum"
		passed=$((passed + 1))
	else
		echo "FAIL iperf [$mode]: $why"
		sed 's/^/    /' "$out/$mode.server"
		failed=$((failed + 1))
	fi
done
echo "iperf: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
