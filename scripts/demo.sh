#!/usr/bin/env bash
# The talk's demo: the same unmodified pthread programs (bench/*.c) run as
# native threads and with greenify preloaded, printed side by side. This
# script measures and writes the raw lines; scripts/present.py turns them
# into the progress lines, the tables and the plots.
#
#   scripts/demo.sh BUILD_DIR          native threads, greenify, gevent and Go
#                                      side by side; under 2 minutes
#   scripts/demo.sh --refs BUILD_DIR   the same up to 1M for gevent too, with
#                                      Python threads added (scripts/bench-refs.sh)
#
# BUILD_DIR holds bench/prog1, bench/prog2, bench/switch, bench/create_join and
# libgreenify.so. Raw result lines and the tables go to
# bench/results/<mode>-<date>.txt, copied to bench/results/latest.txt (demo) or
# refs-latest.txt (--refs); plots go to bench/results/*.png when gnuplot exists.
#
# DEMO_SIZES="100 1000" asks for other thread counts (a quick check of the
# scripts themselves).
# Every run has a timeout (BENCH_TIMEOUT seconds, default 60, 120 with --refs)
# so that a hang shows up as a table cell instead of a stuck demo, and a
# runner that hangs or crashes at some N is not tried at larger N.
set -u

usage() {
	echo "usage: scripts/demo.sh [--refs] BUILD_DIR" >&2
	exit 2
}

mode=demo
if [ "${1:-}" = --refs ]; then
	mode=refs
	shift
fi
[ $# -eq 1 ] || usage
build=$(cd "$1" 2>/dev/null && pwd) || {
	echo "demo: no build directory '$1'" >&2
	exit 2
}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$build/bench
lib=$build/libgreenify.so
results=$root/bench/results
if [ "$mode" = refs ]; then
	timeout_s=${BENCH_TIMEOUT:-120}
	sizes=${DEMO_SIZES:-1000 10000 100000 1000000}
else
	timeout_s=${BENCH_TIMEOUT:-60}
	sizes=${DEMO_SIZES:-100 1000 10000 100000 1000000}
fi

for p in prog1 prog2 switch create_join; do
	if [ ! -x "$bin/$p" ]; then
		echo "demo: $bin/$p is missing; build first (make)" >&2
		exit 2
	fi
done

warn() {
	echo "demo: $*" >&2
}

# --- which implementations can run --------------------------------------------

runners="native"
if [ -f "$lib" ]; then
	runners="$runners greenify"
else
	warn "no $lib: the greenify column will say n/a"
fi

# A Python with gevent: python3 on PATH may be a pyenv or venv without it,
# while the distribution's python3-gevent lives under /usr/bin.
# Go and gevent are in both modes: the talk compared threads with greenlets,
# so the demo's table puts threads, greenify, gevent and Go side by side;
# Python threads only with --refs (half a minute at 100K).
py=""
gevent_py=""
for cand in python3 /usr/bin/python3; do
	command -v "$cand" >/dev/null 2>&1 || continue
	[ -n "$py" ] || py=$cand
	if "$cand" -c 'import gevent' >/dev/null 2>&1; then
		gevent_py=$cand
		py=$cand
		break
	fi
done
# Keep bench/ref free of __pycache__ directories.
export PYTHONDONTWRITEBYTECODE=1

# Offline and without a module; caches stay inside the build directory.
gobuild() {
	env GOCACHE="$build/gocache" GOPATH="$build/gopath" GOPROXY=off GOFLAGS= \
		GOTOOLCHAIN=local go build -o "$bin/$1_go" "$root/bench/ref/$1.go"
}
if command -v go >/dev/null 2>&1; then
	if gobuild prog1 && gobuild prog2; then
		runners="$runners go"
	else
		warn "go build failed: no Go column"
	fi
else
	warn "no go: no Go column (package golang-go)"
fi
if [ -n "$gevent_py" ]; then
	runners="$runners gevent"
else
	warn "no python3 with gevent: no gevent column (package python3-gevent)"
fi
if [ "$mode" = refs ]; then
	if [ -n "$py" ]; then
		runners="$runners pythreads"
	else
		warn "no python3: no Python threads column"
	fi
fi

# Largest N each implementation is asked for. Native threads stop near 32.7K
# here, so 1M is pointless for them; gevent at 1M takes half a minute for prog1
# and Python threads take half a minute already at 100K.
maxn() {
	case $1:$2 in
	*:switch | *:create_join) echo 1000000000 ;;
	native:*) echo 100000 ;;
	greenify:* | go:*) echo 1000000 ;;
	gevent:prog1) [ "$mode" = refs ] && echo 1000000 || echo 100000 ;;
	*) echo 100000 ;;
	esac
}

# --- running ------------------------------------------------------------------

stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$results" || exit 1
raw=$results/$mode-$stamp.txt
errf=$(mktemp) || exit 1
trap 'rm -f "$errf"' EXIT

declare -A STOP

# invoke RUNNER PROG ARGS...: one run under a timeout. LD_PRELOAD is set by
# env inside timeout so that timeout itself does not run under greenify.
invoke() {
	local runner=$1 prog=$2
	shift 2
	case $runner in
	native) timeout -k 5 "$timeout_s" "$bin/$prog" "$@" ;;
	greenify) timeout -k 5 "$timeout_s" env LD_PRELOAD="$lib" "$bin/$prog" "$@" ;;
	go) timeout -k 5 "$timeout_s" "$bin/${prog}_go" "$@" ;;
	gevent) timeout -k 5 "$timeout_s" "$gevent_py" "$root/bench/ref/${prog}_gevent.py" "$@" ;;
	pythreads) timeout -k 5 "$timeout_s" "$py" "$root/bench/ref/${prog}_threads.py" "$@" ;;
	esac
}

present() {
	/usr/bin/python3 "$root/scripts/present.py" "$@"
}

# run RUNNER PROG N [ARGS...]: run once, write the result line (the last
# line the program printed that starts with its name) and status, and any
# stderr, to the raw file; show progress on stderr.
run() {
	local runner=$1 prog=$2 n=$3 out rc t0 t1 line
	shift 3
	if [ -n "${STOP[$runner.$prog]:-}" ]; then
		echo "$runner $prog $n: skipped" >>"$raw"
		return
	fi
	t0=$(date +%s%N)
	out=$(invoke "$runner" "$prog" "$@" 2>"$errf")
	rc=$?
	t1=$(date +%s%N)
	line=$(printf '%s\n' "$out" | grep "^$prog " | tail -n 1)
	if [ "$rc" -ge 124 ]; then
		STOP[$runner.$prog]=1
	fi
	{
		printf '%s %s %s: rc=%s secs=%s: %s\n' "$runner" "$prog" "$n" "$rc" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
			"${line:-(no result line)}"
		head -n 20 "$errf" | sed 's/^/    stderr: /'
	} >>"$raw"
	present progress "$raw" "$runner" "$prog" "$n" >&2
}

# --- the demo -----------------------------------------------------------------

started=$(date +%s)
{
	echo "# greenify $mode, $(date '+%Y-%m-%d %H:%M:%S %z')"
	echo "# $(uname -srm), $(nproc) CPUs, $(getconf GNU_LIBC_VERSION 2>/dev/null || echo 'libc ?')"
	echo "# kernel.pid_max=$(cat /proc/sys/kernel/pid_max) vm.max_map_count=$(cat /proc/sys/vm/max_map_count) kernel.threads-max=$(cat /proc/sys/kernel/threads-max)"
	echo "# build: $build; library: $([ -f "$lib" ] && echo "$lib" || echo missing)"
	echo "# GREENIFY_* in the environment: $(env | grep '^GREENIFY_' | tr '\n' ' ')"
	echo "# mode: $mode"
	echo "# runners: $runners"
	echo "# sizes: $sizes"
	echo "# timeout: $timeout_s"
	echo "# raw lines: RUNNER PROG N: rc=EXIT secs=WALL: RESULT LINE (or: not run, skipped)"
} >"$raw"

echo "greenify $mode: $(uname -sr), $(nproc) CPUs; timeout ${timeout_s} s per run" >&2
echo "note: native runs at 100,000 take every free pid on this machine for a few" >&2
echo "      seconds; other programs' fork() may fail with EAGAIN meanwhile." >&2

for prog in prog1 prog2; do
	for n in $sizes; do
		for r in $runners; do
			if [ "$n" -gt "$(maxn "$r" "$prog")" ]; then
				echo "$r $prog $n: not run" >>"$raw"
				continue
			fi
			run "$r" "$prog" "$n" "$n"
		done
	done
done
if [ "$mode" = demo ]; then
	for r in native greenify; do
		case " $runners " in *" $r "*) ;; *) continue ;; esac
		run "$r" switch 1000000 1000000
		run "$r" create_join 20000 20000
	done
fi

if command -v gnuplot >/dev/null 2>&1; then
	present demo "$raw" --plots "$results"
else
	present demo "$raw"
	warn "gnuplot not found (package gnuplot-nox): no plots"
fi

if [ "$mode" = demo ]; then
	cp "$raw" "$results/latest.txt"
else
	cp "$raw" "$results/refs-latest.txt"
fi
echo "results: $raw ($(($(date +%s) - started)) s)" >&2
