#!/usr/bin/env bash
# The talk's demo: the same unmodified pthread programs (bench/*.c) run as
# native threads and with greenify preloaded, printed side by side.
#
#   scripts/demo.sh BUILD_DIR          native vs greenify; under 2 minutes
#   scripts/demo.sh --refs BUILD_DIR   the same tables with Go, gevent and
#                                      Python threads added (scripts/bench-refs.sh)
#
# BUILD_DIR holds bench/prog1, bench/prog2, bench/switch, bench/create_join and
# libgreenify.so. Raw result lines and the tables go to
# bench/results/<mode>-<date>.txt, copied to bench/results/latest.txt (demo) or
# refs-latest.txt (--refs); plots go to bench/results/*.png when gnuplot exists.
#
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
	sizes="1000 10000 100000 1000000"
else
	timeout_s=${BENCH_TIMEOUT:-60}
	sizes="100 1000 10000 100000 1000000"
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
py=""
gevent_py=""
if [ "$mode" = refs ]; then
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
	if [ -n "$py" ]; then
		runners="$runners pythreads"
	else
		warn "no python3: no Python threads column"
	fi
fi

label() {
	case $1 in
	native) echo "native pthreads" ;;
	greenify) echo "greenify" ;;
	go) echo "Go goroutines" ;;
	gevent) echo "gevent greenlets" ;;
	pythreads) echo "Python threads" ;;
	esac
}

# Largest N each implementation is asked for. Native threads stop near 32.7K
# here, so 1M is pointless for them; gevent at 1M takes half a minute for prog1
# and Python threads take half a minute already at 100K.
maxn() {
	case $1:$2 in
	*:switch | *:create_join) echo 1000000000 ;;
	native:*) echo 100000 ;;
	greenify:* | go:*) echo 1000000 ;;
	gevent:prog1) echo 1000000 ;;
	*) echo 100000 ;;
	esac
}

# --- running ------------------------------------------------------------------

stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p "$results" || exit 1
raw=$results/$mode-$stamp.txt
errf=$(mktemp) || exit 1
trap 'rm -f "$errf"' EXIT

declare -A LINE RC STOP

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

# run RUNNER PROG N [ARGS...]: run once, remember the result line and status,
# log both (and any stderr) to the raw file, show progress on stderr.
run() {
	local runner=$1 prog=$2 n=$3 key=$1.$2.$3 out rc t0 t1
	shift 3
	if [ -n "${STOP[$runner.$prog]:-}" ]; then
		return
	fi
	t0=$(date +%s%N)
	out=$(invoke "$runner" "$prog" "$@" 2>"$errf")
	rc=$?
	t1=$(date +%s%N)
	LINE[$key]=$(printf '%s\n' "$out" | grep "^$prog " | tail -n 1)
	RC[$key]=$rc
	if [ "$rc" -ge 124 ]; then
		STOP[$runner.$prog]=1
	fi
	{
		printf '%s %s %s: rc=%s secs=%s: %s\n' "$runner" "$prog" "$n" "$rc" \
			"$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')" \
			"${LINE[$key]:-(no result line)}"
		head -n 20 "$errf" | sed 's/^/    stderr: /'
	} >>"$raw"
	printf '  %-16s %-11s %9s  %s\n' "$(label "$runner")" "$prog" "$(commas "$n")" \
		"$(cell "$runner" "$prog" "$n")" >&2
}

# --- formatting ---------------------------------------------------------------

commas() {
	printf '%s' "$1" | sed ':a;s/\B[0-9]\{3\}\>/,&/;ta'
}

# field NAME LINE: the value of NAME=value in a result line.
field() {
	printf '%s\n' "$2" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"
}

fmt_ms() {
	awk -v v="$1" 'BEGIN {
		if (v < 10) printf "%.1f ms", v
		else if (v < 1000) printf "%.0f ms", v
		else printf "%.2f s", v / 1000 }'
}

fmt_ns() {
	awk -v v="$1" 'BEGIN {
		if (v < 1000) printf "%.1f ns", v
		else if (v < 1e6) printf "%.1f us", v / 1e3
		else printf "%.1f ms", v / 1e6 }'
}

fmt_bytes() {
	awk -v v="$1" 'BEGIN {
		if (v < 1024 && v > -1024) printf "%d B", v
		else printf "%.1f KiB", v / 1024 }'
}

# cell RUNNER PROG N: what the table shows for one run.
cell() {
	local runner=$1 prog=$2 n=$3 key=$1.$2.$3 line rc sig v
	case " $runners " in
	*" $runner "*) ;;
	*) echo "n/a" && return ;;
	esac
	if [ "$n" -gt "$(maxn "$runner" "$prog")" ]; then
		echo "not run"
		return
	fi
	if [ -z "${RC[$key]:-}" ]; then
		echo "skipped (see above)"
		return
	fi
	line=${LINE[$key]}
	rc=${RC[$key]}
	if [ -z "$line" ]; then
		if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
			echo "timeout (${timeout_s} s)"
		elif [ "$rc" -gt 128 ]; then
			sig=$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))
			echo "crash (SIG$sig)"
		else
			echo "error (exit $rc)"
		fi
		return
	fi
	case $line in
	*" fail errno="*)
		case $prog in
		prog1) echo "fail at $(commas "$(field created "$line")") ($(field errno "$line"))" ;;
		prog2) echo "fail at $(commas "$(field created "$line")") ($(fmt_bytes "$(field per_thread_bytes "$line")"))" ;;
		*) echo "fail ($(field errno "$line"))" ;;
		esac
		return
		;;
	esac
	case $prog in
	prog1) v=$(fmt_ms "$(field wall_ms "$line")") ;;
	prog2) v=$(fmt_bytes "$(field per_thread_bytes "$line")") ;;
	switch)
		v=$(fmt_ns "$(field ns_per_yield "$line")")
		if [ "$(field os_threads "$line")" = 1 ]; then
			v="$v (1 OS thread)"
		else
			v="$v (syscall)"
		fi
		;;
	create_join) v=$(fmt_ns "$(field ns_per_pair "$line")") ;;
	esac
	# A result followed by a bad exit (say, a crash at exit) is still shown,
	# but flagged.
	if [ "$rc" -ne 0 ]; then
		v="$v (exit $rc!)"
	fi
	echo "$v"
}

# Table output goes to the raw results file and to the terminal; the file
# first, so that a closed terminal (demo | head) cannot lose it.
out() {
	printf '%s\n' "$*" >>"$raw"
	printf '%s\n' "$*"
}

# Table and plot columns: greenify stays in the demo even when the library is
# missing, as an "n/a" column, so the table keeps its shape.
columns() {
	if [ "$mode" = demo ]; then
		echo native greenify
	else
		echo native greenify go gevent pythreads
	fi
}

table() {
	local prog=$1 n r row
	row=$(printf '%12s' N)
	for r in $(columns); do
		row="$row  $(printf '%-27s' "$(label "$r")")"
	done
	out "${row%"${row##*[! ]}"}"
	for n in $sizes; do
		row=$(printf '%12s' "$(commas "$n")")
		for r in $(columns); do
			row="$row  $(printf '%-27s' "$(cell "$r" "$prog" "$n")")"
		done
		out "${row%"${row##*[! ]}"}"
	done
}

# --- plots --------------------------------------------------------------------

color() {
	case $1 in
	native) echo "#c0392b" ;;
	greenify) echo "#27ae60" ;;
	go) echo "#2471a3" ;;
	gevent) echo "#d68910" ;;
	pythreads) echo "#7d3c98" ;;
	esac
}

# plot_script PROG PNG: a log-log gnuplot script for one program, on stdout;
# fails when there is nothing to plot. Prog 2 points sit at the number of
# threads that really existed, so a native run that hit the limit still shows
# what those threads cost; a Prog 1 failure becomes a label instead.
plot_script() {
	local prog=$1 png=$2 r n line created y any plots="" labels="" nlabels=0
	if gnuplot -e 'set terminal' 2>&1 | grep -q pngcairo; then
		echo 'set terminal pngcairo size 960,600 font "sans,11"'
	else
		echo 'set terminal png size 960,600'
	fi
	echo "set output '$png'"
	echo 'set logscale xy'
	echo 'set grid'
	echo 'set xlabel "threads (N)"'
	echo 'set xrange [50:2000000]'
	echo 'set format x "%.0s%c"'
	if [ "$prog" = prog1 ]; then
		echo 'set title "Prog 1: N threads each sleep 200 ms, then all are joined"'
		echo 'set ylabel "wall time (s)"'
		echo 'set key top left'
	else
		echo 'set title "Prog 2: memory per sleeping thread (growth of RSS + page tables / threads)"'
		echo 'set ylabel "bytes per thread"'
		echo 'set key top right'
	fi
	for r in $(columns); do
		any=""
		echo "\$$r << EOD"
		for n in $sizes; do
			line=${LINE[$r.$prog.$n]:-}
			[ -n "$line" ] || continue
			created=$(field created "$line")
			case $prog:$line in
			prog1:*" ok")
				awk -v n="$n" -v v="$(field wall_ms "$line")" 'BEGIN { print n, v / 1000 }'
				any=1
				;;
			prog1:*" fail errno="*)
				nlabels=$((nlabels + 1))
				labels="${labels}set label $nlabels \"$(label "$r"): fail at $(commas "$created")\" at graph 0.02, graph $(awk -v i="$nlabels" 'BEGIN { print 0.75 - 0.05 * i }')
"
				;;
			prog2:*)
				y=$(field per_thread_bytes "$line")
				if [ "$created" -gt 0 ] && [ "$y" -gt 0 ]; then
					echo "$created $y"
					any=1
				fi
				;;
			esac
		done
		echo "EOD"
		if [ -n "$any" ]; then
			plots="$plots${plots:+, }\$$r with linespoints lw 2 pt 7 lc rgb \"$(color "$r")\" title \"$(label "$r")\""
		fi
	done
	[ -n "$plots" ] || return 1
	printf '%s' "$labels"
	if [ "$prog" = prog1 ]; then
		plots="$plots, 0.2 with lines dt 2 lc rgb \"#808080\" title \"the 200 ms sleep\""
	fi
	echo "plot $plots"
}

plot() {
	local prog=$1 png=$2 script
	if ! script=$(plot_script "$prog" "$png"); then
		warn "nothing to plot for $prog"
		return
	fi
	if printf '%s\n' "$script" | gnuplot 2>"$errf"; then
		echo "  $png" >&2
	else
		warn "gnuplot failed for $png: $(tail -n 3 "$errf")"
	fi
}

# --- the demo -----------------------------------------------------------------

started=$(date +%s)
{
	echo "# greenify $mode, $(date '+%Y-%m-%d %H:%M:%S %z')"
	echo "# $(uname -srm), $(nproc) CPUs, $(getconf GNU_LIBC_VERSION 2>/dev/null || echo 'libc ?')"
	echo "# kernel.pid_max=$(cat /proc/sys/kernel/pid_max) vm.max_map_count=$(cat /proc/sys/vm/max_map_count) kernel.threads-max=$(cat /proc/sys/kernel/threads-max)"
	echo "# build: $build; library: $([ -f "$lib" ] && echo "$lib" || echo missing)"
	echo "# GREENIFY_* in the environment: $(env | grep '^GREENIFY_' | tr '\n' ' ')"
	echo "# runners: $runners; timeout ${timeout_s} s per run"
	echo "# raw lines: RUNNER PROG N: rc=EXIT secs=WALL: RESULT LINE"
} >"$raw"

echo "greenify $mode: $(uname -sr), $(nproc) CPUs; timeout ${timeout_s} s per run" >&2
echo "note: native runs at 100,000 take every free pid on this machine for a few" >&2
echo "      seconds; other programs' fork() may fail with EAGAIN meanwhile." >&2

for prog in prog1 prog2; do
	for n in $sizes; do
		for r in $runners; do
			[ "$n" -le "$(maxn "$r" "$prog")" ] || continue
			run "$r" "$prog" "$n" "$n"
		done
	done
done
if [ "$mode" = demo ]; then
	for r in $runners; do
		run "$r" switch 1000000 1000000
		run "$r" create_join 20000 20000
	done
fi

out ""
out "Prog 1: N threads each sleep 200 ms, then all are joined (wall time)"
table prog1
out ""
out "Prog 2: memory per sleeping thread: growth of RSS + page tables, / threads"
table prog2
if [ "$mode" = demo ]; then
	out ""
	row=$(printf '%-24s  %-27s  %s' "" "$(label native)" "$(label greenify)")
	out "${row%"${row##*[! ]}"}"
	out "$(printf '%-24s  %-27s  %s' "sched_yield, 2 threads" \
		"$(cell native switch 1000000)" "$(cell greenify switch 1000000)")"
	out "$(printf '%-24s  %-27s  %s' "create + join" \
		"$(cell native create_join 20000)" "$(cell greenify create_join 20000)")"
fi
out ""
out "Native threads stop near 32.7K here: each needs a pid (kernel.pid_max,"
out "shared by the whole machine) and two memory mappings, stack and guard"
out "(vm.max_map_count); the runs above name the errno. Prog 2 cannot see a"
out "native thread's 16 KiB kernel stack: no per-process counter reports it."
if [ "$mode" = demo ]; then
	out "sched_yield: CPU time per call; natively a syscall, with 2 cores each"
	out "thread yields to nobody; on 1 OS thread each call switches threads."
fi

if command -v gnuplot >/dev/null 2>&1; then
	echo "plots:" >&2
	if [ "$mode" = demo ]; then
		plot prog1 "$results/prog1.png"
		plot prog2 "$results/prog2.png"
	else
		plot prog1 "$results/refs-prog1.png"
		plot prog2 "$results/refs-prog2.png"
	fi
else
	warn "gnuplot not found (package gnuplot-nox): no plots"
fi

if [ "$mode" = demo ]; then
	cp "$raw" "$results/latest.txt"
else
	cp "$raw" "$results/refs-latest.txt"
fi
echo "results: $raw ($(($(date +%s) - started)) s)" >&2
