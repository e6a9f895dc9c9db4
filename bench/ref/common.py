"""Helpers shared by the Python reference programs in bench/ref/.

They print exactly the lines the C programs print (see bench/prog1.c and
bench/prog2.c) so scripts/bench-refs.sh parses every implementation alike.
"""

import sys


def parse_count(text):
    """Parse "100", "10k" or "1M", the way the C programs do; None if not a count."""
    mult = 1
    if text[-1:] in ("k", "K"):
        mult, text = 1000, text[:-1]
    elif text[-1:] in ("m", "M"):
        mult, text = 1000000, text[:-1]
    if not text.isdigit():
        return None
    return int(text) * mult


def parse_args(prog, default_sleep):
    """Return (n, sleep_ms) from argv; sleep_ms is None for "auto"."""
    args = sys.argv[1:]
    n = parse_count(args[0]) if 1 <= len(args) <= 2 else None
    sleep_ms = default_sleep
    if n is not None and len(args) == 2 and args[1] != "auto":
        sleep_ms = parse_count(args[1])
        if sleep_ms is None:
            n = None
    if not n:
        print(f"usage: {prog} N [sleep_ms={default_sleep or 'auto'}]", file=sys.stderr)
        sys.exit(2)
    return n, sleep_ms


def auto_interval_ms(n):
    """How often a prog2 sleeper looks at the release flag: max(1 s, 3 us * N),
    long enough that waking up does not dominate what is being measured."""
    return max(1000, n * 3 // 1000)


def read_vm():
    """VmRSS, VmHWM, VmPTE and VmSize of this process, in kB."""
    vm = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM", "VmPTE", "VmSize"):
                vm[key] = int(rest.split()[0])
    return vm


def prog2_line(n, created, base, now):
    """The prog2 result line, without its final ok/fail word."""
    grown = (now["VmRSS"] + now["VmPTE"]) - (base["VmRSS"] + base["VmPTE"])
    per_thread = grown * 1024 // created if created else 0
    return (f"prog2 n={n} created={created} rss_kb={now['VmRSS']} hwm_kb={now['VmHWM']} "
            f"pte_kb={now['VmPTE']} vsz_kb={now['VmSize']} base_rss_kb={base['VmRSS']} "
            f"base_pte_kb={base['VmPTE']} per_thread_bytes={per_thread}")
