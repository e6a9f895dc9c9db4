#!/usr/bin/env python3
"""The bench scripts' presenter: tables and plots from raw result lines.

The scripts in scripts/ measure and write raw lines; this formats them, so
that a figure is turned into text (units, thousands separators, the cell of
a failed or timed-out run) in one place.

  present.py progress RAW RUNNER PROG N
      the progress line of one demo run (stderr of scripts/demo.sh)
  present.py demo RAW [--plots DIR]
      the demo's tables, printed and appended to RAW; with --plots, the
      Prog 1 and Prog 2 plots through gnuplot into DIR
  present.py table [--right | --align SPEC] < TSV
      any table: tab-separated rows on stdin, the first the header; the
      columns left-aligned, but for the first the others right-aligned
      with --right; with --align one letter a column, l or r (the last
      letter holds for the columns after it)
  present.py median < NUMBERS
      the median of one number a line ("?" when there is none)
  present.py spread < NUMBERS
      "median (min-max)" of one number a line ("-" when there is none)
  present.py ratio [--inverse] A B
      B / A as "1.23x"; with --inverse A / B as "12x" (a time: lower wins)

RAW is the demo's raw file (scripts/demo.sh writes it): a header of
"# key: value" lines, among them "# mode: demo|refs", "# runners: ...",
"# sizes: ...", "# timeout: SECONDS", then one record a run:
  RUNNER PROG N: rc=EXIT secs=WALL: RESULT LINE
  RUNNER PROG N: not run          (above what that runner is asked for)
  RUNNER PROG N: skipped          (it hung or crashed at a smaller N)
with the run's stderr after it on "    stderr: " lines.
"""
import re
import shutil
import signal
import subprocess
import sys

LABELS = {
    "native": "native pthreads",
    "greenify": "greenify",
    "go": "Go goroutines",
    "gevent": "gevent greenlets",
    "pythreads": "Python threads",
}
COLORS = {
    "native": "#c0392b",
    "greenify": "#27ae60",
    "go": "#2471a3",
    "gevent": "#d68910",
    "pythreads": "#7d3c98",
}
RECORD = re.compile(r"^(\S+) (\S+) (\d+): (?:rc=(\d+) secs=([\d.]+): (.*)|(not run|skipped))$")


def commas(n):
    return f"{int(n):,}"


def field(name, line):
    """The value of NAME=value in a result line, or ""."""
    m = re.match(r".* " + re.escape(name) + r"=([^ ]*)", line)
    return m.group(1) if m else ""


def fmt_ms(v):
    v = float(v)
    if v < 10:
        return "%.1f ms" % v
    if v < 1000:
        return "%.0f ms" % v
    return "%.2f s" % (v / 1000)


def fmt_ns(v):
    v = float(v)
    if v < 1000:
        return "%.1f ns" % v
    if v < 1e6:
        return "%.1f us" % (v / 1e3)
    return "%.1f ms" % (v / 1e6)


def fmt_bytes(v):
    v = float(v)
    if -1024 < v < 1024:
        return "%d B" % int(v)
    return "%.1f KiB" % (v / 1024)


def num(v):
    """A number as awk's print shows it (%.6g)."""
    return "%.6g" % v


class Raw:
    """A demo raw file: its header and its runs."""

    def __init__(self, path):
        self.path = path
        self.head = {}
        self.runs = {}  # (runner, prog, n) -> (rc, line) or "not run"/"skipped"
        with open(path) as f:
            for text in f:
                text = text.rstrip("\n")
                m = re.match(r"^# (\w+): (.*)$", text)
                if m:
                    self.head.setdefault(m.group(1), m.group(2))
                    continue
                m = RECORD.match(text)
                if not m:
                    continue
                key = (m.group(1), m.group(2), int(m.group(3)))
                if m.group(7):
                    self.runs[key] = m.group(7)
                else:
                    line = m.group(6)
                    self.runs[key] = (int(m.group(4)), "" if line == "(no result line)" else line)
        self.mode = self.head.get("mode", "demo")
        self.runners = self.head.get("runners", "native").split()
        self.sizes = [int(n) for n in self.head.get("sizes", "").split()]
        self.timeout = self.head.get("timeout", "?")

    def columns(self):
        # greenify stays in the demo even when the library is missing, as an
        # "n/a" column, so the table keeps its shape; so do gevent and Go,
        # the talk's comparison (threads, greenify, greenlets, goroutines).
        if self.mode == "demo":
            return ["native", "greenify", "gevent", "go"]
        return ["native", "greenify", "go", "gevent", "pythreads"]

    def cell(self, runner, prog, n):
        """What the table shows for one run."""
        if runner not in self.runners:
            return "n/a"
        run = self.runs.get((runner, prog, n))
        if run is None or run == "skipped":
            return "skipped (see above)"
        if run == "not run":
            return "not run"
        rc, line = run
        if not line:
            if rc in (124, 137):
                return "timeout (%s s)" % self.timeout
            if rc > 128:
                try:
                    sig = signal.Signals(rc - 128).name[3:]
                except ValueError:
                    sig = str(rc - 128)
                return "crash (SIG%s)" % sig
            return "error (exit %d)" % rc
        if " fail errno=" in line:
            if prog == "prog1":
                return "fail at %s (%s)" % (commas(field("created", line)), field("errno", line))
            if prog == "prog2":
                return "fail at %s (%s)" % (
                    commas(field("created", line)),
                    fmt_bytes(field("per_thread_bytes", line)),
                )
            return "fail (%s)" % field("errno", line)
        if prog == "prog1":
            v = fmt_ms(field("wall_ms", line))
        elif prog == "prog2":
            v = fmt_bytes(field("per_thread_bytes", line))
        elif prog == "switch":
            v = fmt_ns(field("ns_per_yield", line))
            v += " (1 OS thread)" if field("os_threads", line) == "1" else " (syscall)"
        else:
            v = fmt_ns(field("ns_per_pair", line))
        # A result followed by a bad exit (say, a crash at exit) is still
        # shown, but flagged.
        if rc != 0:
            v += " (exit %d!)" % rc
        return v


def progress(args):
    raw = Raw(args[0])
    runner, prog, n = args[1], args[2], int(args[3])
    print("  %-16s %-11s %9s  %s" % (LABELS[runner], prog, commas(n), raw.cell(runner, prog, n)))


def demo_text(raw):
    lines = []

    def table(prog):
        row = "%12s" % "N"
        for r in raw.columns():
            row += "  %-27s" % LABELS[r]
        lines.append(row.rstrip())
        for n in raw.sizes:
            row = "%12s" % commas(n)
            for r in raw.columns():
                row += "  %-27s" % raw.cell(r, prog, n)
            lines.append(row.rstrip())

    lines.append("")
    lines.append("Prog 1: N threads each sleep 200 ms, then all are joined (wall time)")
    table("prog1")
    lines.append("")
    lines.append("Prog 2: memory per sleeping thread: growth of RSS + page tables, / threads")
    table("prog2")
    if raw.mode == "demo":
        lines.append("")
        lines.append(("%-24s  %-27s  %s" % ("", LABELS["native"], LABELS["greenify"])).rstrip())
        for what, prog, n in (
            ("sched_yield, 2 threads", "switch", 1000000),
            ("create + join", "create_join", 20000),
        ):
            lines.append(
                "%-24s  %-27s  %s"
                % (what, raw.cell("native", prog, n), raw.cell("greenify", prog, n))
            )
    lines.append("")
    lines.append("Native threads stop near 32.7K here: each needs a pid (kernel.pid_max,")
    lines.append("shared by the whole machine) and two memory mappings, stack and guard")
    lines.append("(vm.max_map_count); the runs above name the errno. Prog 2 cannot see a")
    lines.append("native thread's 16 KiB kernel stack: no per-process counter reports it.")
    if raw.mode == "demo":
        lines.append("sched_yield: CPU time per call; natively a syscall, with 2 cores each")
        lines.append("thread yields to nobody; on 1 OS thread each call switches threads.")
    return lines


def plot_script(raw, prog, png, cairo):
    """A log-log gnuplot script for one program, or None when there is
    nothing to plot. Prog 2 points sit at the number of threads that really
    existed, so a native run that hit the limit still shows what those
    threads cost; a Prog 1 failure becomes a label instead."""
    s = []
    if cairo:
        s.append('set terminal pngcairo size 960,600 font "sans,11"')
    else:
        s.append("set terminal png size 960,600")
    s += [
        "set output '%s'" % png,
        "set logscale xy",
        "set grid",
        'set xlabel "threads (N)"',
        "set xrange [50:2000000]",
        'set format x "%.0s%c"',
    ]
    if prog == "prog1":
        s += [
            'set title "Prog 1: N threads each sleep 200 ms, then all are joined"',
            'set ylabel "wall time (s)"',
            "set key top left",
        ]
    else:
        s += [
            'set title "Prog 2: memory per sleeping thread (growth of RSS + page tables / threads)"',
            'set ylabel "bytes per thread"',
            "set key top right",
        ]
    plots, labels = [], []
    for r in raw.columns():
        s.append("$%s << EOD" % r)
        any_point = False
        for n in raw.sizes:
            run = raw.runs.get((r, prog, n))
            if not isinstance(run, tuple) or not run[1]:
                continue
            line = run[1]
            created = field("created", line)
            if prog == "prog1" and line.endswith(" ok"):
                s.append("%d %s" % (n, num(float(field("wall_ms", line)) / 1000)))
                any_point = True
            elif prog == "prog1" and " fail errno=" in line:
                i = len(labels) + 1
                labels.append(
                    'set label %d "%s: fail at %s" at graph 0.02, graph %s'
                    % (i, LABELS[r], commas(created), num(0.75 - 0.05 * i))
                )
            elif prog == "prog2":
                y = field("per_thread_bytes", line)
                if created and y and int(created) > 0 and int(y) > 0:
                    s.append("%s %s" % (created, y))
                    any_point = True
        s.append("EOD")
        if any_point:
            plots.append(
                '$%s with linespoints lw 2 pt 7 lc rgb "%s" title "%s"' % (r, COLORS[r], LABELS[r])
            )
    if not plots:
        return None
    s += labels
    if prog == "prog1":
        plots.append('0.2 with lines dt 2 lc rgb "#808080" title "the 200 ms sleep"')
    s.append("plot " + ", ".join(plots))
    return "\n".join(s) + "\n"


def plot(raw, prog, png, cairo):
    script = plot_script(raw, prog, png, cairo)
    if script is None:
        print("demo: nothing to plot for %s" % prog, file=sys.stderr)
        return
    p = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
    if p.returncode == 0:
        print("  %s" % png, file=sys.stderr)
    else:
        tail = " ".join(p.stderr.strip().splitlines()[-3:])
        print("demo: gnuplot failed for %s: %s" % (png, tail), file=sys.stderr)


def demo(args):
    raw = Raw(args[0])
    lines = demo_text(raw)
    # The raw file first, so that a closed terminal (demo | head) cannot
    # lose the tables.
    with open(raw.path, "a") as f:
        f.write("".join(line + "\n" for line in lines))
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()
    if len(args) >= 3 and args[1] == "--plots":
        out = args[2]
        if not shutil.which("gnuplot"):
            print("demo: gnuplot not found (package gnuplot-nox): no plots", file=sys.stderr)
            return
        terms = subprocess.run(
            ["gnuplot", "-e", "set terminal"], text=True, capture_output=True
        )
        cairo = "pngcairo" in terms.stdout + terms.stderr
        prefix = "" if raw.mode == "demo" else "refs-"
        print("plots:", file=sys.stderr)
        plot(raw, "prog1", "%s/%sprog1.png" % (out, prefix), cairo)
        plot(raw, "prog2", "%s/%sprog2.png" % (out, prefix), cairo)


def table(args):
    rows = [line.rstrip("\n").split("\t") for line in sys.stdin if line.strip()]
    if not rows:
        return
    ncol = max(len(r) for r in rows)
    rows = [r + [""] * (ncol - len(r)) for r in rows]
    width = [max(len(r[c]) for r in rows) for c in range(ncol)]
    align = "l"
    if "--right" in args:
        align = "lr"
    if "--align" in args and args.index("--align") + 1 < len(args):
        align = args[args.index("--align") + 1]
    align += align[-1] * ncol
    for r in rows:
        cells = [
            r[c].rjust(width[c]) if align[c] == "r" else r[c].ljust(width[c]) for c in range(ncol)
        ]
        print("  ".join(cells).rstrip())


def median(_args):
    """The middle value as it was written, or the mean of the two middle
    ones to two decimals."""
    v = sorted(sys.stdin.read().split(), key=float)
    if not v:
        print("?")
        return
    k = len(v) // 2
    print(v[k] if len(v) % 2 else "%.2f" % ((float(v[k - 1]) + float(v[k])) / 2))


def spread(_args):
    """"median (min-max)" to one decimal, "-" when there is no number."""
    v = sorted(float(x) for x in sys.stdin.read().split())
    if not v:
        print("-")
        return
    k = len(v) // 2
    m = v[k] if len(v) % 2 else (v[k - 1] + v[k]) / 2
    print("%.1f (%.1f-%.1f)" % (m, v[0], v[-1]))


def ratio(args):
    """B / A as "1.23x" (or A / B with --inverse, "12x"), "?" without A."""
    inverse = "--inverse" in args
    a, b = [x for x in args if x != "--inverse"][:2]
    try:
        a, b = float(a), float(b)
        if inverse:
            print("%.0fx" % (a / b))
        else:
            print("%.2fx" % (b / a))
    except (ValueError, ZeroDivisionError):
        print("?")


COMMANDS = {
    "progress": progress,
    "demo": demo,
    "table": table,
    "median": median,
    "ratio": ratio,
    "spread": spread,
}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    COMMANDS[sys.argv[1]](sys.argv[2:])
