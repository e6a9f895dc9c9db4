#!/bin/sh
# Node.js under the preload: a worker thread that spins in JIT code
# (`for(;;){}`) must not keep the one OS thread from the main thread, whose
# timer and SIGTERM handler end the program; nor main, spinning until a
# worker sets a flag, from the worker. Natively the main thread runs
# on its own CPU; under the preload only preemption lets it run, where the
# walk proves the JIT loop safe through V8's frame records (runtime/
# preempt.c). Each script must print the same as natively, exit 0, and say
# os_threads=1 in its GREENIFY_STATS line. The timeout is a hang guard
# only. scripts/deps.sh test installs Debian's nodejs; without a node (a
# machine set up by hand) this says so.
# Usage: tests/run-node.sh BUILD_DIR
set -u
build=${1:-build}
lib=$(cd "$build" && pwd)/libgreenify.so
out=$build/tests/node
mkdir -p "$out"
node=${NODE:-node}
if ! command -v "$node" >/dev/null; then
	echo "node: not installed (scripts/deps.sh test installs it): FAIL"
	exit 1
fi

# The worker spins; the main thread's timer ends the program.
timer='const {Worker} = require("worker_threads");
new Worker("for(;;){}", {eval: true});
setTimeout(() => { console.log("timer ran"); process.exit(0); }, 500);'
# Main spins in JS until the worker sets a shared flag.
main='const {Worker} = require("worker_threads");
const sab = new SharedArrayBuffer(4), f = new Int32Array(sab);
new Worker("const {workerData} = require(\"worker_threads\"); Atomics.store(new Int32Array(workerData), 0, 1);", {eval: true, workerData: sab});
while (Atomics.load(f, 0) === 0) {}
console.log("worker ran"); process.exit(0);'
# The worker says it spins, then spins; the main thread sends itself a
# SIGTERM, which its handler answers.
term='const {Worker} = require("worker_threads");
const w = new Worker("require(\"worker_threads\").parentPort.postMessage(1); for(;;){}", {eval: true});
process.on("SIGTERM", () => { console.log("SIGTERM handled"); process.exit(0); });
w.on("message", () => { console.log("worker spinning"); process.kill(process.pid, "SIGTERM"); });'

passed=0
failed=0
# check NAME SCRIPT: natively, then preloaded with each switch.
check() {
	timeout -s KILL 60 "$node" -e "$2" >"$out/$1.native" 2>"$out/$1.native.err"
	native=$?
	for switch in asm ucontext; do
		run=$out/$1.$switch
		timeout -s KILL 60 env LD_PRELOAD="$lib" GREENIFY_STATS=1 GREENIFY_SWITCH="$switch" \
			"$node" -e "$2" >"$run" 2>"$run.err"
		rc=$?
		why=
		[ "$native" -eq 0 ] || why="native run ended with $native"
		[ "$rc" -eq 0 ] || why="${why:+$why; }ended with $rc (137: killed by the hang guard)"
		cmp -s "$out/$1.native" "$run" || why="${why:+$why; }stdout differs"
		grep -q 'greenify: stats threads=[1-9].* os_threads=1 ' "$run.err" ||
			why="${why:+$why; }no one-OS-thread stats line"
		if [ -z "$why" ]; then
			echo "PASS node $1 [$switch]"
			passed=$((passed + 1))
		else
			echo "FAIL node $1 [$switch]: $why"
			sed 's/^/    /' "$run" "$run.err" | head -n 40
			failed=$((failed + 1))
		fi
	done
}

check timer "$timer"
check term "$term"
check main "$main"
echo "node: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
