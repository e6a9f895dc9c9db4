#!/bin/sh
# A real threaded client from Debian under the preload: siege with 50
# simulated users (a thread each, glibc's default stack: siege's threads
# need more than a small green stack), 10 requests each, against Python's
# threading HTTP server on 127.0.0.1 (run natively). Natively and under
# the preload, all 500 transactions must succeed (0 failed), and the
# preloaded run must say it ran on one OS thread (its GREENIFY_STATS line).
# Bounded: 500 requests for a 27 KB file, 60 s at most per run.
# Usage: tests/run-siege.sh BUILD_DIR
set -u
build=${1:-build}
lib=$(cd "$build" && pwd)/libgreenify.so
out=$(cd "$build" && pwd)/tests/siege
mkdir -p "$out/www"
if ! command -v siege >/dev/null; then
	echo "siege: not installed (scripts/deps.sh test installs it): 0 passed, 1 failed"
	exit 1
fi
head -c 20000 /dev/zero | tr '\0' 'g' >"$out/www/index.html"
port=$((30000 + $$ % 10000))
(cd "$out/www" && exec timeout 150 python3 -m http.server "$port" --bind 127.0.0.1) \
	>"$out/server.log" 2>&1 &
server=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do # wait for the listener
	python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break
	sleep 0.2
done
# siege keeps its settings in $HOME/.siege: a scratch home of its own.
passed=0
failed=0
for mode in native preload; do
	if [ "$mode" = preload ]; then
		set -- env LD_PRELOAD="$lib" GREENIFY_STATS=1
	else
		set -- env
	fi
	HOME=$out timeout 60 "$@" siege -c 50 -r 10 -b "http://127.0.0.1:$port/index.html" \
		>"$out/$mode.out" 2>"$out/$mode.err"
	rc=$?
	ok=$(grep -c '"successful_transactions":[[:space:]]*500,' "$out/$mode.out")
	bad=$(grep -c '"failed_transactions":[[:space:]]*0,' "$out/$mode.out")
	why=
	[ "$rc" -eq 0 ] || why="siege exited $rc"
	[ "$ok" -eq 1 ] || why="${why:+$why; }not 500 successful transactions"
	[ "$bad" -eq 1 ] || why="${why:+$why; }failed transactions"
	if [ "$mode" = preload ] && ! grep -q 'greenify: stats threads=[1-9].* os_threads=1' "$out/$mode.err"; then
		why="${why:+$why; }no one-OS-thread stats line"
	fi
	if [ -z "$why" ]; then
		echo "PASS siege [$mode]: 500 transactions, 0 failed"
		passed=$((passed + 1))
	else
		echo "FAIL siege [$mode]: $why"
		sed 's/^/    /' "$out/$mode.out" "$out/$mode.err" | tail -n 30
		failed=$((failed + 1))
	fi
done
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
echo "siege: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
