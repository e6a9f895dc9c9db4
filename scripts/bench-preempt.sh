#!/usr/bin/env bash
# Preemption (issue 14), side by side in one run, BENCH_REPS times each
# (default 5), the runners interleaved:
#   - compute + ticker in C (bench/preempt_ticker.c: one thread computes
#     for 1 s, a ticker sleeps 10 ms and counts): native, greenify,
#     greenify with GREENIFY_PREEMPT=off, and Go (bench/ref/preempt_ticker.go,
#     goroutines, when go is installed);
#   - the same in Python (bench/ref/preempt_ticker.py: main in a pure-Python
#     loop): native, greenify, preemption off, gevent (monkey-patched);
#   - Python ping latency (bench/ref/preempt_ping.py: 4 threads each
#     computing 1 s of pure Python, a server thread answering a UDP ping
#     that a native client process sends every 10 ms): p50/p99 native and
#     greenify;
#   - spin-wait handoffs (bench/preempt_spin.c): native on two cores, native
#     on one (taskset -c 0), greenify;
#   - two JVM workloads (bench/ref/java: Jit, hot loops the JIT compiler
#     threads must compile; ForkJoin, parallel streams and G1), when java
#     is installed: native, native on one core, greenify, preemption off.
# Prints the medians; raw lines go to bench/results/preempt-<date>.txt.
#
#   scripts/bench-preempt.sh BUILD_DIR
set -u
[ $# -eq 1 ] || {
	echo "usage: scripts/bench-preempt.sh BUILD_DIR" >&2
	exit 2
}
# shellcheck source=scripts/bench-lib.sh
. "$(dirname "$0")/bench-lib.sh"
bench_init preempt "$1"
reps=${BENCH_REPS:-5}
py=/usr/bin/python3
ref=$root/bench/ref
gobin=
if command -v go >/dev/null 2>&1; then
	gobin=$build/bench/preempt_ticker_go
	(cd "$ref" && GOCACHE=${GOCACHE:-/tmp/greenify-gocache} go build -o "$gobin" preempt_ticker.go) || gobin=
fi

jdir=
if command -v javac >/dev/null 2>&1; then
	jdir=$build/bench/java
	mkdir -p "$jdir" && javac -d "$jdir" "$ref"/java/*.java || jdir=
fi

run() { # LABEL CMD...
	local label=$1
	shift
	printf '%s %s\n' "$label" "$("$@" 2>/dev/null | tail -n 1)" | tee -a "$raw"
}

for _ in $(seq "$reps"); do
	run c-native "$bin/preempt_ticker" 1 1 10
	run c-greenify env LD_PRELOAD="$lib" "$bin/preempt_ticker" 1 1 10
	run c-off env LD_PRELOAD="$lib" GREENIFY_PREEMPT=off "$bin/preempt_ticker" 1 1 10
	[ -n "$gobin" ] && run c-go env GOMAXPROCS=1 "$gobin" 1 1 10
	run py-native "$py" "$ref/preempt_ticker.py" 1 10
	run py-greenify env LD_PRELOAD="$lib" "$py" "$ref/preempt_ticker.py" 1 10
	run py-off env LD_PRELOAD="$lib" GREENIFY_PREEMPT=off "$py" "$ref/preempt_ticker.py" 1 10
	if "$py" -c 'import gevent' 2>/dev/null; then
		run py-gevent env GEVENT=1 "$py" "$ref/preempt_ticker.py" 1 10
	fi
	run ping-native "$py" "$ref/preempt_ping.py" 4
	run ping-greenify env LD_PRELOAD="$lib" "$py" "$ref/preempt_ping.py" 4
	run spin-native "$bin/preempt_spin"
	run spin-1cpu taskset -c 0 "$bin/preempt_spin"
	run spin-greenify env LD_PRELOAD="$lib" "$bin/preempt_spin"
	if [ -n "$jdir" ]; then
		for p in Jit ForkJoin; do
			run "$p-native" java -cp "$jdir" "$p"
			run "$p-1cpu" taskset -c 0 java -cp "$jdir" "$p"
			run "$p-greenify" env LD_PRELOAD="$lib" java -cp "$jdir" "$p"
			run "$p-off" env LD_PRELOAD="$lib" GREENIFY_PREEMPT=off java -cp "$jdir" "$p"
		done
	fi
done
bench_latest
"$py" - "$raw" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    label, _, rest = line.partition(" ")
    kv = dict(re.findall(r"(\w+)=([\d.]+)", rest))
    rows.setdefault(label, []).append(kv)
def med(label, key):
    v = [float(r[key]) for r in rows.get(label, []) if key in r]
    return statistics.median(v) if v else None
print("| compute + ticker (ticks in 1 s, tick 10 ms) | native | greenify | preempt off | Go / gevent | greenify / native |")
print("|---|---|---|---|---|---|")
for lang, other in (("c", "c-go"), ("py", "py-gevent")):
    n, g, o, x = med(lang + "-native", "ticks"), med(lang + "-greenify", "ticks"), med(lang + "-off", "ticks"), med(other, "ticks")
    fmt = lambda v: "-" if v is None else "%g" % v
    print("| %s | %s | %s | %s | %s | %s |" % ("C" if lang == "c" else "Python", fmt(n), fmt(g), fmt(o), fmt(x),
          "-" if not n or g is None else "%.0f%%" % (100 * g / n)))
pn, pg = med("ping-native", "p99_ms"), med("ping-greenify", "p99_ms")
print()
print("| Python ping, 4 threads computing | p50 ms | p99 ms |")
print("|---|---|---|")
print("| native | %s | %s |" % (med("ping-native", "p50_ms"), pn))
print("| greenify | %s | %s |" % (med("ping-greenify", "p50_ms"), pg))
if pn and pg:
    print("\ngreenify p99 / native p99: %.2f" % (pg / pn))
sn, s1, sg = med("spin-native", "us_per_handoff"), med("spin-1cpu", "us_per_handoff"), med("spin-greenify", "us_per_handoff")
print()
print("| spin-wait handoff (us) | native | native, one core | greenify |")
print("|---|---|---|---|")
print("| 50 handoffs | %s | %s | %s |" % (sn, s1, sg))
if rows.get("Jit-native"):
    print()
    print("| JVM (ms) | native | native, one core | greenify | preempt off | greenify / one core |")
    print("|---|---|---|---|---|---|")
    for p in ("Jit", "ForkJoin"):
        n, o1, g, off = (med(p + x, "ms") for x in ("-native", "-1cpu", "-greenify", "-off"))
        print("| %s | %s | %s | %s | %s | %s |" % (p, n, o1, g, off, "%.2f" % (g / o1) if g and o1 else "-"))
PY
