#!/bin/sh
# The greenify wrapper: --help and --version answer, bad options are
# refused with status 2, the command's exit status and the signal that ends
# it come through, the library is really preloaded (GREENIFY_STATS line),
# and options reach the library (GREENIFY_PREEMPT with build/bench/preempt_ticker);
# waits for other processes are the hub's own (kwaits, bench/pshared_pingpong).
set -u
build=${1:-build}
g=$build/greenify
passed=0
failed=0
check() { # description, then a command that must succeed
	desc=$1
	shift
	if "$@" >/dev/null 2>&1; then
		passed=$((passed + 1))
		echo "PASS cli: $desc"
	else
		failed=$((failed + 1))
		echo "FAIL cli: $desc"
	fi
}
status_is() { # want, command...
	want=$1
	shift
	"$@" >/dev/null 2>&1
	[ $? -eq "$want" ]
}
check "--help prints usage" sh -c "'$g' --help | grep -q '^Usage: greenify'"
check "--help lists dump and every option" sh -c \
	"h=\$('$g' --help) && for w in 'greenify dump PID' --stack-size --stats --monitor --log --ucontext --audit --help --version GREENIFY_DUMP_TIMEOUT; do echo \"\$h\" | grep -q -e \"\$w\" || exit 1; done"
check "the man page names every GREENIFY_* variable of the README" sh -c \
	"for v in \$(grep -o '^| \`GREENIFY_[A-Z_]*' README.md | tr -d '|\` '); do grep -q \"^.B \$v\\\$\" '$build/greenify.1' || exit 1; done"
check "--version prints the version" sh -c "'$g' --version | grep -q '^greenify [0-9]'"
check "an unknown option exits 2" status_is 2 "$g" --no-such-option true
check "no command exits 2" status_is 2 "$g"
check "the command's exit status comes through" status_is 7 "$g" sh -c 'exit 7'
check "a terminating signal comes through (143 = SIGTERM)" status_is 143 "$g" sh -c 'kill -TERM $$'
check "the library is preloaded: --stats reports green threads" sh -c \
	"'$g' --stats '$build/tests/integ/sleep_1000_sleepers_overlap' 2>&1 >/dev/null | grep -q 'greenify: stats threads=1000 .*os_threads=1'"
check "--monitor reaches the library: a raw 400 ms sleep is named" sh -c \
	"GREENIFY_PREEMPT=off '$g' --monitor 100 '$build/tests/integ/monitor_names_raw_syscall_and_compute' 2>&1 >/dev/null | grep -q 'blocked every thread for [0-9]* ms in nanosleep (raw syscall) ← stall_here ← sys_worker'"
check "--monitor needs milliseconds" status_is 2 "$g" --monitor
check "GREENIFY_MONITOR with a bad value warns and stays off" sh -c \
	"GREENIFY_MONITOR=soon '$g' '$build/tests/integ/monitor_names_raw_syscall_and_compute' 2>&1 >/dev/null | grep -q 'GREENIFY_MONITOR=soon: expected' &&
	! GREENIFY_MONITOR=soon '$g' '$build/tests/integ/monitor_names_raw_syscall_and_compute' 2>&1 >/dev/null | grep -q 'greenify: monitor'"
check "--stack-size reaches the library" sh -c \
	"'$g' --stack-size 64k --stats '$build/tests/integ/sleep_1000_sleepers_overlap' 2>&1 >/dev/null | grep -q 'peak_stack_kib=6[0-9][0-9][0-9][0-9] '"
check "dump of a pid with no listener fails with a message" sh -c \
	"'$g' dump 999999999 2>&1 | grep -q 'no greenified process' && ! '$g' dump 999999999 2>/dev/null"
# A process whose one OS thread spins: the client gives up after
# GREENIFY_DUMP_TIMEOUT with its message and status 1.
spin=$(mktemp -d)
# (A thread first: the runtime, and with it the listener, starts with it.)
printf '%s\n' '#include <pthread.h>' '#include <stdio.h>' '#include <unistd.h>' \
	'static void *nap(void *a) { sleep(60); return a; }' \
	'int main(void) { pthread_t t; pthread_create(&t, 0, nap, 0); puts("ready"); fflush(stdout);' \
	'	for (;;) __asm__ volatile("" ::: "memory"); }' >"$spin/s.c"
cc -O1 -pthread -o "$spin/s" "$spin/s.c" && mkfifo "$spin/ready"
# Preemption off, or the spinning main would be preempted and answer.
GREENIFY_PREEMPT=off GREENIFY_DUMP=1 "$g" "$spin/s" >"$spin/ready" &
spinner=$!
read -r _ <"$spin/ready"
check "dump of a process whose OS thread is busy gives up after GREENIFY_DUMP_TIMEOUT" sh -c \
	"GREENIFY_DUMP_TIMEOUT=1 '$g' dump $spinner 2>&1 | grep -q 'did not answer within 1 s' &&
	! GREENIFY_DUMP_TIMEOUT=1 '$g' dump $spinner 2>/dev/null"
kill "$spinner"
wait "$spinner" 2>/dev/null
# With preemption (the default) the same spinning main is preempted at a
# safe point, and the hub answers between two slices.
mkfifo "$spin/ready2"
GREENIFY_DUMP=1 "$g" "$spin/s" >"$spin/ready2" &
spinner=$!
read -r _ <"$spin/ready2"
check "dump of a process whose main spins in a pure loop answers (preemption)" sh -c \
	"GREENIFY_DUMP_TIMEOUT=5 '$g' dump $spinner 2>&1 | grep -q 'green threads'"
# A reader that goes away after the first line (head): the process writes
# the rest into a closed socket, which must not end it with SIGPIPE.
check "a dump whose reader goes away early leaves the process running" sh -c \
	"GREENIFY_DUMP_TIMEOUT=5 '$g' dump $spinner | head -n 1 | grep -q 'green threads' &&
	sleep 0.3 && kill -0 $spinner"
# Another user's request is refused (the peer's credentials): as root, the
# client runs as nobody. Without root no other uid is at hand; the rule
# itself is the unit test dump_peer_same_uid_or_root_only's.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	check "dump asked by another user (nobody) is refused with a message and status 1" sh -c \
		"out=\$(GREENIFY_DUMP_TIMEOUT=5 setpriv --reuid=65534 --regid=65534 --clear-groups '$g' dump $spinner 2>&1); st=\$?;
		echo \"\$out\" | grep -q 'dump refused: only the process.s own user or root may ask' &&
		! echo \"\$out\" | grep -q 'green threads' && [ \$st -eq 1 ] && kill -0 $spinner"
else
	echo "SKIP cli: dump asked by another user: needs root (to run a client as nobody)"
fi
kill "$spinner"
wait "$spinner" 2>/dev/null
# GREENIFY_PREEMPT: a thread computing 300 ms while a ticker sleeps 10 ms:
# the ticker runs with preemption (natively ~30 ticks), never without.
check "GREENIFY_PREEMPT=on: the ticker ticks while another thread computes" sh -c \
	"out=\$(GREENIFY_STATS=1 '$g' '$build/bench/preempt_ticker' 1 0.3 10 2>&1) &&
	t=\$(echo \"\$out\" | sed -n 's/.* ticks=\\([0-9]*\\) .*/\\1/p') && [ \"\$t\" -ge 5 ] &&
	echo \"\$out\" | grep -q ' preempted=[1-9]'"
check "GREENIFY_PREEMPT=off: the ticker gets no tick while the other computes" sh -c \
	"out=\$(GREENIFY_PREEMPT=off GREENIFY_STATS=1 '$g' '$build/bench/preempt_ticker' 1 0.3 10 2>&1) &&
	t=\$(echo \"\$out\" | sed -n 's/.* ticks=\\([0-9]*\\) .*/\\1/p') && [ \"\$t\" -le 1 ] &&
	echo \"\$out\" | grep -q ' preempted=0 '"
rm -rf "$spin"
# kwaits=HUB/HELPER: in a ping-pong over process-shared semaphores the hub
# waits on the word itself (nothing else is runnable, nothing but timers to
# watch); a wait through the helper thread costs two more wake-ups. Each
# greenified side prints a line; both peers greenified, then a native peer.
kwaits_ok='[ "$(echo "$out" | grep -c " kwaits=")" -eq "$1" ] &&
	echo "$out" | sed -n "s/.* kwaits=\([0-9]*\)\/\([0-9]*\)\$/\1 \2/p" | {
	n=0; while read -r h k; do [ "$h" -ge 100 ] && [ $((k * 10)) -le "$h" ] || exit 1; n=$((n + 1)); done
	[ "$n" -eq "$1" ]; }'
check "kwaits: two greenified processes' shared-semaphore waits are the hub's own" sh -c \
	"out=\$(GREENIFY_STATS=1 '$g' '$build/bench/pshared_pingpong' 10000 same 2>&1 >/dev/null) && $kwaits_ok" sh 2
check "kwaits: with a native peer, the greenified side's waits are the hub's own" sh -c \
	"out=\$(GREENIFY_STATS=1 '$g' '$build/bench/pshared_pingpong' 10000 native 2>&1 >/dev/null) && $kwaits_ok" sh 1
dumped=$(mktemp)
check "dump groups 100000 sleeping threads into one entry of at most 4 KB" sh -c \
	"BUILD='$build' DUMP_OUT='$dumped' scripts/bench-dump.sh 100000 | grep -q '^dump of 100000 sleeping threads: ' &&
	grep -q '^100000 threads: sleeping, for ' '$dumped' && [ \$(wc -c <'$dumped') -le 4096 ]"
check "the 100000 threads' entry names the program's function in its backtrace" \
	grep -q '^    sl+0x[0-9a-f]* (p)$' "$dumped"
rm -f "$dumped"
echo "cli: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
