#!/bin/bash
# Debian's privoxy under the preload: its accept loop waits in the fortified
# poll (__poll_chk), a thread per connection. Checks that requests through
# it all come back whole, and quickly (natively ~1,300 req/s here; a
# fortified poll that blocks every thread made it 13), that the stats line
# says one OS thread, and that SIGTERM ends it (its handler runs in the
# thread that polls). With --bench, also runs it natively and prints both
# rates side by side (make bench).
# Usage: tests/run-privoxy.sh BUILD_DIR [--bench]
set -u
build=$(cd "${1:-build}" && pwd)
bench=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
privoxy=/usr/sbin/privoxy
requests=${PRIVOXY_REQUESTS:-600}
conc=${PRIVOXY_CONCURRENCY:-16}
limit=${PRIVOXY_LIMIT_S:-30}
passed=0
failed=0
if [ ! -x "$privoxy" ]; then
	echo "FAIL privoxy: $privoxy missing (scripts/deps.sh test installs it)"
	echo "privoxy: 0 passed, 1 failed"
	exit 1
fi
tmp=$(mktemp -d) || exit 2
origin_pid=
cleanup() {
	[ -n "$origin_pid" ] && kill "$origin_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
pass() { passed=$((passed + 1)); echo "PASS privoxy: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL privoxy: $1"; [ -n "${2:-}" ] && sed -n '1,20s/^/    /p' "$2"; }

python3 "$here/privoxy-load.py" origin "$tmp/origin.port" &
origin_pid=$!
for _ in $(seq 50); do [ -s "$tmp/origin.port" ] && break; sleep 0.1; done
origin_port=$(cat "$tmp/origin.port")
proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/config" <<CFG
listen-address 127.0.0.1:$proxy_port
confdir $tmp
logdir $tmp
CFG

# run MODE: starts privoxy (preload or native), loads it, stops it.
run() {
	local mode=$1 pid rc t0 t1
	if [ "$mode" = preload ]; then
		GREENIFY_STATS=1 "$build/greenify" "$privoxy" --no-daemon "$tmp/config" \
			>"$tmp/$mode.out" 2>"$tmp/$mode.err" &
	else
		"$privoxy" --no-daemon "$tmp/config" >"$tmp/$mode.out" 2>"$tmp/$mode.err" &
	fi
	pid=$!
	for _ in $(seq 100); do
		python3 -c "import socket; socket.create_connection(('127.0.0.1', $proxy_port), 1).close()" 2>/dev/null && break
		sleep 0.1
	done
	timeout "$limit" python3 "$here/privoxy-load.py" load "$proxy_port" "$origin_port" \
		"$requests" "$conc" >"$tmp/$mode.load" 2>&1
	rc=$?
	echo "privoxy [$mode]: $(cat "$tmp/$mode.load")"
	if [ $rc -eq 0 ]; then
		pass "[$mode] $requests requests, $conc at a time, all whole within ${limit} s"
	else
		fail "[$mode] requests failed or took over ${limit} s" "$tmp/$mode.load"
	fi
	kill -TERM "$pid"
	t0=$(date +%s)
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		fail "[$mode] SIGTERM did not end it within 10 s"
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return
	fi
	wait "$pid"
	rc=$?
	t1=$(date +%s)
	pass "[$mode] SIGTERM ends it (status $rc, $((t1 - t0)) s)"
	if [ "$mode" = preload ]; then
		if grep -qE '^greenify: stats .* os_threads=1( |$)' "$tmp/$mode.err"; then
			pass "[$mode] one OS thread: $(grep -E '^greenify: stats' "$tmp/$mode.err")"
		else
			fail "[$mode] no stats line with os_threads=1" "$tmp/$mode.err"
		fi
	fi
}

run preload
[ "$bench" = --bench ] && run native
if [ "$bench" = --bench ]; then
	p=$(sed -n 's/.* \([0-9]*\) req\/s$/\1/p' "$tmp/preload.load")
	n=$(sed -n 's/.* \([0-9]*\) req\/s$/\1/p' "$tmp/native.load")
	echo "privoxy bench: $requests requests x $conc: native $n req/s, greenify $p req/s ($(python3 -c "print('%.2f' % ($p / $n))" 2>/dev/null)x)"
fi
echo "privoxy: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
