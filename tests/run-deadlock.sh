#!/bin/sh
# Deadlock reports: programs in tests/integ/deadlock/ deadlock for sure, so
# natively they hang (their own alarm ends them). Under the preload with
# GREENIFY_DEADLOCK=abort the runtime must see the deadlock, say on stderr
# who waits for what held by whom, and abort; and without the variable it
# must report once and keep waiting as the native program does.
# Usage: tests/run-deadlock.sh BUILD_DIR
set -u
build=${1:-build}
lib=$(cd "$build" && pwd)/libgreenify.so
out=$build/tests/deadlock
mkdir -p "$out"
passed=0
failed=0

for src in tests/integ/deadlock/*.c; do
	name=$(basename "$src" .c)
	bin=$out/$name
	cc -std=gnu11 -O1 -g -pthread -Wall -Wextra -Werror -I tests/integ -o "$bin" "$src" || {
		echo "FAIL $name: does not build"
		failed=$((failed + 1))
		continue
	}
	timeout -k 5 20 env LD_PRELOAD="$lib" GREENIFY_DEADLOCK=abort "$bin" >"$out/$name.out" 2>"$out/$name.err"
	rc=$?
	why=
	[ "$rc" -eq 134 ] || why="ended with status $rc, not SIGABRT (134)"
	for want in "deadlock" '"left"' '"right"' "held by thread"; do
		grep -qF "$want" "$out/$name.err" || why="${why:+$why; }no '$want' in the report"
	done
	# Without abort: one report, then the program waits until its alarm.
	timeout -k 5 20 env LD_PRELOAD="$lib" "$bin" >/dev/null 2>"$out/$name.wait.err"
	rc=$?
	[ "$rc" -eq 142 ] || why="${why:+$why; }without abort: status $rc, not SIGALRM (142)"
	n=$(grep -c "deadlock:" "$out/$name.wait.err")
	[ "$n" -eq 1 ] || why="${why:+$why; }without abort: $n reports, not 1"
	if [ -z "$why" ]; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: $why"
		sed 's/^/    /' "$out/$name.err"
		failed=$((failed + 1))
	fi
done
echo "deadlock reports: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
