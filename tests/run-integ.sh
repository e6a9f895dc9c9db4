#!/usr/bin/env bash
# Integration tests: run every tests/integ/<name>.c (or .cc, .py, .rs) program
# natively, then under the preload (default switch, then
# GREENIFY_SWITCH=ucontext), and compare.  The native run is the reference: a
# preload run passes when it prints the same stdout and ends the same way
# (exit status or signal), and its stderr carries the library's stats line
# with os_threads=1, the proof that every program thread ran on the one OS
# thread.
# A fork child that exits through exit() prints a stats line of its own (its
# own figures): every line must say os_threads=1, and one must count green
# threads.
# This script only runs and judges: the Makefile builds every program
# (`make integ` builds, then runs this; `make integ INTEG_NAMES="a b"` only
# those).  Programs run in parallel, INTEG_JOBS at a time, each one's native
# run then its preloaded runs in one job; the reports come out in the order
# of the names all the same.
#
# Usage: tests/run-integ.sh BUILD_DIR [NAME...]
#   BUILD_DIR/libgreenify.so          the library (or $INTEG_LIB)
#   BUILD_DIR/tests/integ/<name>      the programs (a .py one is a launcher
#                                     of /usr/bin/python3), built by the
#                                     Makefile; a missing or stale one fails
#                                     ("build"), except a .rs one when
#                                     $RUSTC (default Debian's
#                                     /usr/bin/rustc) is missing, which is
#                                     skipped and said so (scripts/deps.sh
#                                     test installs rustc)
#   NAME...                           run only these programs
# Environment:
#   INTEG_MODES    preload modes to run, default "preload ucontext shared disable
#                  deadlock" (shared: GREENIFY_TLS=shared, one TLS for all
#                  green threads) ("" runs natively only: checks the programs
#                  themselves); "memcheck" runs the programs tagged for it
#                  preloaded under valgrind's memcheck, where any error it
#                  reports fails; disable, memcheck and deadlock run only the
#                  programs tagged run-also for them
#   INTEG_LIB      the library to preload, default BUILD_DIR/libgreenify.so
#                  (make sanitize: the UBSan build's, with these programs)
#   INTEG_MEMCHECK_LIB  the library for the memcheck mode, built with
#                  -DGR_VALGRIND (green stacks registered with valgrind),
#                  default BUILD_DIR/vg/libgreenify.so
#   INTEG_TIMEOUT  seconds per run, default 30
#   INTEG_JOBS     programs run at the same time, default twice the CPUs
#                  (nproc): the programs spend most of their time asleep or
#                  waiting (131 s of jobs' wall time against 30 s of CPU for
#                  the preload mode on two cores), and a program that needs
#                  the CPU to itself is tagged run-alone
#   INTEG_SLOWEST  N: after the summary, list on stderr the N programs whose
#                  job took longest (wall seconds), default 0
#   INTEG_RUNNER   command that runs every program, native runs too, default
#                  none; for a BUILD_DIR built for another architecture, an
#                  emulator such as tests/arch/qemu-aarch64.sh. It gets the
#                  library to preload as GUEST_LD_PRELOAD, never as
#                  LD_PRELOAD, which would reach the host's loader (of the
#                  runner itself) too. .py and .rs programs are skipped, and
#                  said so: the host's python3 and Debian's rustc serve the
#                  host only
#   GREENIFY_*     passed through, except SWITCH, DISABLE, STATS and
#                  DEADLOCK, which each mode sets itself
#
# Tags, in a /* */ comment line of the program's source (C, C++ or Rust), or
# a "# tag: value" line of a Python one:
#   /* expect: exit N */          exit status N instead of 0
#   /* expect: signal SIGSEGV */  dies of that signal (then no stats line is
#                                 required: the library cannot print at exit)
#   /* expect-stderr-preload: TEXT */  preload runs' stderr must contain TEXT
#                                 (one tag a line; every one is checked)
#   /* expect-stderr-preload-once: TEXT */  ... on exactly one line
#   /* needs: private-tls */      not run in the shared mode (about per-thread
#                                 state, which that mode shares by design)
#   /* run-also: disable */       also run with GREENIFY_DISABLE=1, which must
#                                 behave natively
#   /* run-also: memcheck */      also run in the memcheck mode when it is
#                                 asked for (both: "disable memcheck")
#   /* run-also: deadlock */      a program that deadlocks for sure (natively
#                                 it hangs until its own alarm: expect:
#                                 signal SIGALRM, and so do the preloaded
#                                 runs, whose report the expect-stderr tags
#                                 check): also run with
#                                 GREENIFY_DEADLOCK=abort, where it must die
#                                 of SIGABRT after the same stdout and with
#                                 the same report
#   /* run-alone: WHY */          run when no other program runs (after the
#                                 others): its checks depend on having the
#                                 CPU, as WHY says
#   /* env-preload: VAR=value */  adds a setting to the preloaded runs
#                                 (one tag a setting; every one is added)
#   /* expect-stderr-preload-not: TEXT */  preload runs' stderr must not
#                                 contain TEXT
#   /* link: FLAGS */             (.c, .cc; read by the Makefile) link with
#                                 FLAGS too (-luv: the system's libuv)
#   /* cflags: FLAGS */           (.c only; read by the Makefile) compile
#                                 with these flags after the usual ones
#                                 (-D_FORTIFY_SOURCE=2 -O2: a fortified
#                                 build, as Debian builds its packages)
#   /* ldlibs: -lfoo */           (.c only; read by the Makefile) libraries
#                                 to link, after the source
#   /* build-also: shared */      (.c only; read by the Makefile) also
#                                 compiled with -DINTEG_SHARED -shared -fPIC
#                                 into BUILD_DIR/tests/integ/<name>.so, a
#                                 library the program dlopens (found next to
#                                 itself through /proc/self/exe): one file
#                                 holds both halves
#   /* build-also: shared2 */     (.c only; read by the Makefile) also
#                                 compiled with -DINTEG_SHARED2 into
#                                 BUILD_DIR/tests/integ/<name>.2.so, a
#                                 second library
# A program that prints "probe: os_tasks=K program_threads=N" on stderr
# (the kernel tasks it counted while N threads were alive) is checked for
# K >= N natively and when disabled, and for K <= N/10 under the preload;
# every such line is checked (a fork child may print its own).
#
# Prints "PASS name [mode]", "FAIL name [mode]: reason" (then the details:
# the stdout diff, stderr) or "SKIP name: reason" per run, ends with
# "N passed, M failed" (", K skipped" when K > 0), and exits 1 if M > 0.
set -u

if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [NAME...]" >&2
	exit 2
fi
build=$(cd "$1" 2>/dev/null && pwd) || {
	echo "$0: no such directory: $1" >&2
	exit 2
}
shift
here=$(cd "$(dirname "$0")" && pwd)
src_dir=$here/integ
bin_dir=$build/tests/integ
lib=${INTEG_LIB:-$build/libgreenify.so}
memcheck_lib=${INTEG_MEMCHECK_LIB:-$build/vg/libgreenify.so}
modes=${INTEG_MODES-preload ucontext shared disable deadlock}
limit=${INTEG_TIMEOUT:-30}
jobs=${INTEG_JOBS:-$((2 * $(nproc)))}
runner=${INTEG_RUNNER:-}
preload_var=LD_PRELOAD
if [ -n "$runner" ]; then
	preload_var=GUEST_LD_PRELOAD
fi
rustc=${RUSTC:-/usr/bin/rustc}

for mode in $modes; do
	case $mode in
	preload | ucontext | shared | disable | memcheck | deadlock) ;;
	*)
		echo "$0: unknown mode '$mode' in INTEG_MODES" >&2
		exit 2
		;;
	esac
done
case $jobs in
'' | *[!0-9]* | 0)
	echo "$0: INTEG_JOBS must be a positive number, not '$jobs'" >&2
	exit 2
	;;
esac

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
# A program that dies of a signal must not leave a core file behind.
ulimit -c 0
unset GREENIFY_SWITCH GREENIFY_DISABLE GREENIFY_STATS GREENIFY_TLS GREENIFY_DEADLOCK GUEST_LD_PRELOAD

# Everything below up to the scheduling runs inside one program's job, whose
# stdout is that program's report.
probe_why= # why probe_ok failed

pass() {
	echo "PASS $1 [$2]"
}

# fail NAME MODE REASON [FILE...]: the files (a diff, a stderr) follow, indented.
fail() {
	local name=$1 mode=$2 reason=$3 f
	shift 3
	echo "FAIL $name [$mode]: $reason"
	for f in "$@"; do
		[ -s "$f" ] || continue
		echo "  ${f##*.}:"
		sed -n '1,40s/^/    /p' "$f"
	done
}

# tags SRC TAG: every value of a tag such as "expect" in a source file, one
# a line; tag SRC TAG: the first.
tags() {
	sed -n -e "s|^/\* $2: \(.*\) \*/\$|\1|p" -e "s|^# $2: \(.*\)\$|\1|p" "$1"
}
tag() {
	tags "$@" | head -n 1
}

# How a run ended, from the status the shell saw through timeout(1): timeout
# exits 124 when it had to kill the program, and re-raises the signal a
# program died of, which the shell reports as 128 + signal.
describe() {
	if [ "$1" -eq 124 ]; then
		echo "timeout after ${limit} s"
	elif [ "$1" -gt 128 ]; then
		echo "signal SIG$(kill -l $(($1 - 128)))"
	else
		echo "exit $1"
	fi
}

# run MODE BIN OUT: run BIN once in MODE; OUT.stdout, OUT.stderr, OUT.end get its
# stdout, stderr and how it ended.
run() {
	local mode=$1 bin=$2 out=$3 rc run_with=$runner
	local -a envs=(-u LD_PRELOAD)
	case $mode in
	preload) envs=("$preload_var=$lib" GREENIFY_STATS=1 "${extra_env[@]}") ;;
	ucontext) envs=("$preload_var=$lib" GREENIFY_STATS=1 GREENIFY_SWITCH=ucontext "${extra_env[@]}") ;;
	shared) envs=("$preload_var=$lib" GREENIFY_STATS=1 GREENIFY_TLS=shared "${extra_env[@]}") ;;
	disable) envs=("$preload_var=$lib" GREENIFY_STATS=1 GREENIFY_DISABLE=1) ;;
	deadlock) envs=("$preload_var=$lib" GREENIFY_STATS=1 GREENIFY_DEADLOCK=abort "${extra_env[@]}") ;;
	memcheck)
		envs=(LD_PRELOAD="$memcheck_lib" GREENIFY_STATS=1)
		run_with="valgrind -q --error-exitcode=99"
		;;
	esac
	# env after timeout, so that timeout itself never runs under the preload.
	# The braces catch the shell's own "Segmentation fault" notice.
	# shellcheck disable=SC2086 # the runner is a command with its arguments
	{ timeout -k 5 "$limit" env "${envs[@]}" $run_with "$bin" >"$out.stdout" 2>"$out.stderr"; } 2>/dev/null
	rc=$?
	describe "$rc" >"$out.end"
}

# probe_ok ERRFILE MODE: check the os_tasks probe lines, if the program prints any.
probe_ok() {
	local line k n
	while read -r line; do
		k=${line#probe: os_tasks=}
		k=${k%% *}
		n=${line##*program_threads=}
		case $2 in
		native | disable)
			[ "$k" -ge "$n" ] || {
				probe_why="$k kernel tasks for $n threads: threads are not OS threads"
				return 1
			}
			;;
		*)
			[ "$((k * 10))" -le "$n" ] || {
				probe_why="$k kernel tasks for $n threads: threads are not green"
				return 1
			}
			;;
		esac
	done < <(grep -E '^probe: os_tasks=[0-9]+ program_threads=[0-9]+$' "$1")
}

# check_native NAME OUT EXPECT
check_native() {
	local name=$1 out=$2 expect=$3 got
	got=$(cat "$out.end")
	if [ "$got" != "$expect" ]; then
		fail "$name" native "$got, expected $expect" "$out.stdout" "$out.stderr"
	elif grep -qE ' NO$|checks FAILED$' "$out.stdout"; then
		fail "$name" native "its own checks failed" "$out.stdout" "$out.stderr"
	elif ! probe_ok "$out.stderr" native; then
		fail "$name" native "$probe_why" "$out.stderr"
	else
		pass "$name" native
		return 0
	fi
	return 1
}

# stderr_lacks SRC ERRFILE: what of the expect-stderr-preload tags the
# stderr of a preloaded run lacks, or nothing.
stderr_lacks() {
	local text n
	while IFS= read -r text; do
		grep -qF -- "$text" "$2" || {
			echo "stderr lacks '$text'"
			return
		}
	done < <(tags "$1" expect-stderr-preload)
	while IFS= read -r text; do
		n=$(grep -cF -- "$text" "$2")
		[ "$n" -eq 1 ] || {
			echo "stderr has '$text' on $n lines, not 1"
			return
		}
	done < <(tags "$1" expect-stderr-preload-once)
	while IFS= read -r text; do
		! grep -qF -- "$text" "$2" || {
			echo "stderr has '$text'"
			return
		}
	done < <(tags "$1" expect-stderr-preload-not)
}

# check_mode NAME SRC NATIVE OUT MODE
check_mode() {
	local name=$1 src=$2 ref=$3 out=$4 mode=$5 got want stats lacks bad counted
	got=$(cat "$out.end")
	want=$(cat "$ref.end")
	# Told to abort on a deadlock, the program does.
	[ "$mode" = deadlock ] && want="signal SIGABRT"
	# One line per process that exited through exit(): the program's, and
	# those of fork children.
	stats=$(grep -E '^greenify: stats ' "$out.stderr")
	bad=$(grep -vE ' os_threads=1( |$)' <<<"$stats" | head -n 1)
	counted=$(grep -E ' threads=[1-9]' <<<"$stats" | head -n 1)
	diff -u --label native --label "$mode" "$ref.stdout" "$out.stdout" >"$out.stdout-diff"
	if [ "$got" != "$want" ]; then
		fail "$name" "$mode" "$got, natively $want" "$out.stdout-diff" "$out.stderr"
		return
	fi
	if [ -s "$out.stdout-diff" ]; then
		fail "$name" "$mode" "stdout differs from the native run" "$out.stdout-diff" "$out.stderr"
		return
	fi
	if ! probe_ok "$out.stderr" "$mode"; then
		fail "$name" "$mode" "$probe_why" "$out.stderr"
		return
	fi
	if [ "$mode" = disable ]; then
		if [ -n "$counted" ]; then
			fail "$name" "$mode" "green threads ran although disabled: $counted" "$out.stderr"
			return
		fi
		pass "$name" "$mode"
		return
	fi
	lacks=$(stderr_lacks "$src" "$out.stderr")
	if [ -n "$lacks" ]; then
		fail "$name" "$mode" "$lacks" "$out.stderr"
		return
	fi
	# A process killed by a signal cannot print its stats.
	case $want in
	signal*)
		pass "$name" "$mode"
		return
		;;
	esac
	if [ -z "$stats" ]; then
		fail "$name" "$mode" "no 'greenify: stats' line on stderr" "$out.stderr"
	elif [ -n "$bad" ]; then
		fail "$name" "$mode" "not on one OS thread: $bad" "$out.stderr"
	elif grep -qE 'pthread_create|std::j?thread|threading\.Thread|thread::(spawn|scope)' "$src" && [ -z "$counted" ]; then
		fail "$name" "$mode" "no green threads counted: $stats" "$out.stderr"
	else
		pass "$name" "$mode"
	fi
}

# ready NAME SRC: the program is built and newer than its source, or say why
# not (a SKIP or a FAIL line) and fail.
ready() {
	local name=$1 src=$2 bin=$bin_dir/$1
	case $src in
	*.py | *.rs)
		if [ -n "$runner" ]; then
			echo "SKIP $name: .${src##*.} programs do not run under INTEG_RUNNER (the host's python3 and rustc serve the host only)"
			return 1
		fi
		;;
	esac
	if [ ! -x "$bin" ]; then
		if [ "${src##*.}" = rs ] && [ ! -x "$rustc" ]; then
			echo "SKIP $name: no $rustc to build it (scripts/deps.sh test installs Debian's rustc)"
		else
			fail "$name" build "$bin is missing (make integ builds it)"
		fi
		return 1
	fi
	if [ "$src" -nt "$bin" ]; then
		fail "$name" build "$bin is older than its source (make integ builds it)"
		return 1
	fi
}

# one NAME OUT: the job of one program, its native run then every mode's,
# with its files named OUT.*.
one() {
	local name=$1 out=$2 src expect ref also mode mode_lib
	src=$src_dir/$name.c
	[ -f "$src" ] || src=$src_dir/$name.cc
	[ -f "$src" ] || src=$src_dir/$name.py
	[ -f "$src" ] || src=$src_dir/$name.rs
	if [ ! -f "$src" ]; then
		fail "$name" build "no $src_dir/$name.c, .cc, .py or .rs"
		return
	fi
	ready "$name" "$src" || return
	expect=$(tag "$src" expect)
	expect=${expect:-exit 0}
	ref=$out.native
	run native "$bin_dir/$name" "$ref"
	# The native run is the reference: without a good one, compare nothing.
	check_native "$name" "$ref" "$expect" || return
	also=" $(tag "$src" run-also) "
	# /* env-preload: VAR=value */ adds a setting to the preloaded runs
	# (one tag a setting).
	mapfile -t extra_env < <(tags "$src" env-preload)
	for mode in $modes; do
		case $mode in
		disable | memcheck | deadlock)
			[ "${also#* "$mode" }" != "$also" ] || continue
			;;
		esac
		# Programs about per-thread state need TLS of their own: the
		# shared mode gives every green thread one TLS by design.
		if [ "$mode" = shared ] && [ "$(tag "$src" needs)" = private-tls ]; then
			continue
		fi
		mode_lib=$lib
		[ "$mode" = memcheck ] && mode_lib=$memcheck_lib
		if [ ! -f "$mode_lib" ]; then
			fail "$name" "$mode" "$mode_lib does not exist"
			continue
		fi
		run "$mode" "$bin_dir/$name" "$out.$mode"
		check_mode "$name" "$src" "$ref" "$out.$mode" "$mode"
	done
}

# --- scheduling -------------------------------------------------------------

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for src in "$src_dir"/*.c "$src_dir"/*.cc "$src_dir"/*.py "$src_dir"/*.rs; do
		[ -f "$src" ] || continue
		name=${src##*/}
		names+=("${name%.*}")
	done
fi
# The run-alone programs go last, one at a time; the order of the reports is
# that of this list whatever order the jobs end in.
together=()
alone=()
for name in "${names[@]}"; do
	src=
	for ext in c cc py rs; do
		[ -f "$src_dir/$name.$ext" ] && src=$src_dir/$name.$ext && break
	done
	if [ -n "$src" ] && [ -n "$(tag "$src" run-alone)" ]; then
		alone+=("$name")
	else
		together+=("$name")
	fi
done
order=("${together[@]}" "${alone[@]}")

passed=0
failed=0
skipped=0
shown=0 # reports printed, in order
# show: print the reports of the jobs that ended, in order, up to the first
# still running one.
show() {
	local report
	while [ "$shown" -lt "${#order[@]}" ] && [ -e "$tmp/$shown.done" ]; do
		report=$tmp/$shown.report
		cat "$report"
		passed=$((passed + $(grep -c '^PASS ' "$report")))
		failed=$((failed + $(grep -c '^FAIL ' "$report")))
		skipped=$((skipped + $(grep -c '^SKIP ' "$report")))
		shown=$((shown + 1))
	done
}
# start K: run the job of order[K] in the background.
start() {
	{
		local t0=$SECONDS
		one "${order[$1]}" "$tmp/$1.${order[$1]}" >"$tmp/$1.report" 2>&1
		echo "$((SECONDS - t0)) ${order[$1]}" >"$tmp/$1.secs"
		: >"$tmp/$1.done"
	} &
}

running=0
for k in "${!together[@]}"; do
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
		show
	fi
	start "$k"
	running=$((running + 1))
done
wait
show
for ((k = ${#together[@]}; k < ${#order[@]}; k++)); do
	start "$k"
	wait
	show
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
if [ "${INTEG_SLOWEST:-0}" -gt 0 ]; then
	echo "slowest jobs (seconds, program):" >&2
	cat "$tmp"/*.secs | sort -rn | head -n "$INTEG_SLOWEST" | sed 's/^/  /' >&2
fi
[ "$failed" -eq 0 ]
