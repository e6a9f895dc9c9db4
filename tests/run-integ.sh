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
#
# Usage: tests/run-integ.sh BUILD_DIR [NAME...]
#   BUILD_DIR/libgreenify.so          the library
#   BUILD_DIR/tests/integ/<name>      the programs, built by the Makefile; a
#                                     missing or stale one is built here with
#                                     $CC (default cc), $CXX (default g++) or
#                                     $RUSTC (default Debian's /usr/bin/rustc,
#                                     not a rustup one), so this also works
#                                     before the Makefile knows about it; .rs
#                                     programs are skipped, and said so, when
#                                     $RUSTC is missing (scripts/deps.sh test
#                                     installs it); a .py program runs with
#                                     /usr/bin/python3 through a launcher
#   NAME...                           run only these programs
# Environment:
#   INTEG_MODES    preload modes to run, default "preload ucontext shared disable"
#                  (shared: GREENIFY_TLS=shared, one TLS for all green threads)
#                  ("" runs natively only: checks the programs themselves);
#                  "memcheck" runs the programs tagged for it preloaded under
#                  valgrind's memcheck, where any error it reports fails
#   INTEG_MEMCHECK_LIB  the library for the memcheck mode, built with
#                  -DGR_VALGRIND (green stacks registered with valgrind),
#                  default BUILD_DIR/vg/libgreenify.so
#   INTEG_TIMEOUT  seconds per run, default 30
#   INTEG_RUNNER   command that runs every program, native runs too, default
#                  none; for a BUILD_DIR built for another architecture, an
#                  emulator such as tests/arch/qemu-aarch64.sh, with CC and
#                  CXX set to that architecture's compilers. It gets the
#                  library to preload as GUEST_LD_PRELOAD, never as
#                  LD_PRELOAD, which would reach the host's loader (of the
#                  runner itself) too. .py and .rs programs are skipped, and
#                  said so: the host's python3 and Debian's rustc serve the
#                  host only
#   GREENIFY_*     passed through, except SWITCH, DISABLE and STATS, which
#                  each mode sets itself
#
# Tags, in a /* */ comment line of the program's source (C, C++ or Rust):
#   /* expect: exit N */          exit status N instead of 0
#   /* expect: signal SIGSEGV */  dies of that signal (then no stats line is
#                                 required: the library cannot print at exit)
#   /* expect-stderr-preload: TEXT */  preload runs' stderr must contain TEXT
#   /* needs: private-tls */      not run in the shared mode (about per-thread
#                                 state, which that mode shares by design)
#   /* run-also: disable */       also run with GREENIFY_DISABLE=1, which must
#                                 behave natively
#   /* run-also: memcheck */      also run in the memcheck mode when it is
#                                 asked for (both: "disable memcheck")
#   /* link: FLAGS */             (.c, .cc) link with FLAGS too (-luv: the
#                                 system's libuv)
#   /* cflags: FLAGS */           (.c only) compile with these flags after
#                                 the usual ones (-D_FORTIFY_SOURCE=2 -O2:
#                                 a fortified build, as Debian builds its
#                                 packages); -l libraries too
#   /* ldlibs: -lfoo */           (.c only) libraries to link, after the source
#   /* build-also: shared */      (.c only) also compile the source with
#                                 -DINTEG_SHARED -shared -fPIC into
#                                 BUILD_DIR/tests/integ/<name>.so, a library
#                                 the program dlopens (found next to itself
#                                 through /proc/self/exe): one file holds
#                                 both halves
# A program that prints "probe: os_tasks=K program_threads=N" on stderr
# (the kernel tasks it counted while N threads were alive) is checked for
# K >= N natively and when disabled, and for K <= N/10 under the preload;
# every such line is checked (a fork child may print its own).
#
# Prints "PASS name [mode]", "FAIL name [mode]: reason" (then the details) or
# "SKIP name: reason" per run, ends with "N passed, M failed" (", K skipped"
# when K > 0), and exits 1 if M > 0.
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
lib=$build/libgreenify.so
memcheck_lib=${INTEG_MEMCHECK_LIB:-$build/vg/libgreenify.so}
modes=${INTEG_MODES-preload ucontext shared disable}
limit=${INTEG_TIMEOUT:-30}
cc=${CC:-cc}
cxx=${CXX:-g++}
runner=${INTEG_RUNNER:-}
preload_var=LD_PRELOAD
if [ -n "$runner" ]; then
	preload_var=GUEST_LD_PRELOAD
fi
rustc=${RUSTC:-/usr/bin/rustc}
cflags="-O1 -g -pthread -Wall -Wextra -Werror -std=gnu11"
cxxflags="-O1 -g -pthread -Wall -Wextra -Werror -std=gnu++20"
rustflags="-O --edition 2021 -C debuginfo=1 -D warnings"

for mode in $modes; do
	case $mode in
	preload | ucontext | shared | disable | memcheck) ;;
	*)
		echo "$0: unknown mode '$mode' in INTEG_MODES" >&2
		exit 2
		;;
	esac
done

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
# A program that dies of a signal must not leave a core file behind.
ulimit -c 0
unset GREENIFY_SWITCH GREENIFY_DISABLE GREENIFY_STATS GREENIFY_TLS GUEST_LD_PRELOAD

passed=0
failed=0
skipped=0
probe_why= # why probe_ok failed

pass() {
	echo "PASS $1 [$2]"
	passed=$((passed + 1))
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
	failed=$((failed + 1))
}

# The value of a tag such as "expect" in a source file, or nothing.
tag() {
	sed -n -e "s|^/\* $2: \(.*\) \*/\$|\1|p" -e "s|^# $2: \(.*\)\$|\1|p" "$1" | head -n 1
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
	preload) envs=("$preload_var=$lib" GREENIFY_STATS=1 ${extra_env:+"$extra_env"}) ;;
	ucontext) envs=("$preload_var=$lib" GREENIFY_STATS=1 GREENIFY_SWITCH=ucontext ${extra_env:+"$extra_env"}) ;;
	shared) envs=("$preload_var=$lib" GREENIFY_STATS=1 GREENIFY_TLS=shared ${extra_env:+"$extra_env"}) ;;
	disable) envs=("$preload_var=$lib" GREENIFY_STATS=1 GREENIFY_DISABLE=1) ;;
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

# fresh FILE SRC: FILE exists and is newer than SRC and check.h.
fresh() {
	[ -e "$1" ] && [ "$1" -nt "$2" ] && [ "$1" -nt "$src_dir/check.h" ]
}

# build NAME SRC: make sure the program (and the library it dlopens, if it is
# tagged build-also: shared) exists and is newer than its sources.
build() {
	local name=$1 src=$2 bin=$bin_dir/$1 compile shared=
	case $src in
	*.py | *.rs)
		if [ -n "$runner" ]; then
			echo "SKIP $name: .${src##*.} programs do not run under INTEG_RUNNER (the host's python3 and rustc serve the host only)"
			skipped=$((skipped + 1))
			return 1
		fi
		;;
	esac
	if [ "$(tag "$src" build-also)" = shared ]; then
		shared=$bin.so
	fi
	if [ -x "$bin" ] && fresh "$bin" "$src" && { [ -z "$shared" ] || fresh "$shared" "$src"; }; then
		return 0
	fi
	mkdir -p "$bin_dir" || return 1
	case $src in
	*.py)
		# Python programs run with Debian's interpreter (CPython threads
		# are pthreads); the "binary" is a launcher.
		printf '#!/bin/sh\nexec /usr/bin/python3 %s "$@"\n' "$(cd "${src%/*}" && pwd)/${src##*/}" >"$bin" &&
			chmod +x "$bin"
		return
		;;
	*.rs)
		if [ ! -x "$rustc" ]; then
			echo "SKIP $name: no $rustc to build it (scripts/deps.sh test installs Debian's rustc)"
			skipped=$((skipped + 1))
			return 1
		fi
		compile="$rustc $rustflags"
		;;
	*.cc) compile="$cxx $cxxflags" ;;
	*) compile="$cc $cflags $(tag "$src" cflags)" ;;
	esac
	if [ -n "$shared" ]; then
		# shellcheck disable=SC2086 # word splitting of the command is intended
		if ! $compile -DINTEG_SHARED -shared -fPIC -o "$shared" "$src" >"$tmp/$name.compiler" 2>&1; then
			fail "$name" build "${compile%% *} -shared failed" "$tmp/$name.compiler"
			return 1
		fi
	fi
	# shellcheck disable=SC2086 # word splitting of the command is intended
	if ! $compile -o "$bin" "$src" $(tag "$src" ldlibs) $(tag "$src" link) >"$tmp/$name.compiler" 2>&1; then
		fail "$name" build "${compile%% *} failed" "$tmp/$name.compiler"
		return 1
	fi
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

# check_mode NAME SRC NATIVE OUT MODE
check_mode() {
	local name=$1 src=$2 ref=$3 out=$4 mode=$5 got want stats want_err bad counted
	got=$(cat "$out.end")
	want=$(cat "$ref.end")
	want_err=$(tag "$src" expect-stderr-preload)
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
	if [ -n "$want_err" ] && ! grep -qF -- "$want_err" "$out.stderr"; then
		fail "$name" "$mode" "stderr lacks '$want_err'" "$out.stderr"
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

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	for src in "$src_dir"/*.c "$src_dir"/*.cc "$src_dir"/*.py "$src_dir"/*.rs; do
		[ -f "$src" ] || continue
		name=${src##*/}
		names+=("${name%.*}")
	done
fi

for name in "${names[@]}"; do
	src=$src_dir/$name.c
	[ -f "$src" ] || src=$src_dir/$name.cc
	[ -f "$src" ] || src=$src_dir/$name.py
	[ -f "$src" ] || src=$src_dir/$name.rs
	if [ ! -f "$src" ]; then
		fail "$name" build "no $src_dir/$name.c, .cc, .py or .rs"
		continue
	fi
	build "$name" "$src" || continue
	expect=$(tag "$src" expect)
	expect=${expect:-exit 0}
	ref=$tmp/$name.native
	run native "$bin_dir/$name" "$ref"
	# The native run is the reference: without a good one, compare nothing.
	check_native "$name" "$ref" "$expect" || continue
	also=" $(tag "$src" run-also) "
	for mode in $modes; do
		case $mode in
		disable | memcheck)
			[ "${also#* $mode }" != "$also" ] || continue
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
		# /* env-preload: VAR=value */ adds a setting to the preloaded runs.
		extra_env=$(tag "$src" env-preload)
		run "$mode" "$bin_dir/$name" "$tmp/$name.$mode"
		check_mode "$name" "$src" "$ref" "$tmp/$name.$mode" "$mode"
	done
done

if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
