"""prog2 with Python threads: what a sleeping threading.Thread costs in memory.

    python3 prog2_threads.py N [sleep_ms=auto]

N threads check in, then block until released; main measures
/proc/self/status once all have checked in. Same output line as bench/prog2.c;
a failed start is reported as in prog1_threads.py.

Unlike the other versions the threads wait on a threading.Event rather than
waking every sleep_ms to look at a flag: tens of thousands of Python threads
waking every second fight over the GIL with the thread creating them, and
creation slows to a crawl (100K did not finish in two minutes). A thread
blocked in Event.wait() sleeps in the kernel exactly like one in time.sleep(),
so the memory measured is the same; sleep_ms is accepted and ignored.
"""

import sys
import threading
import time

from common import parse_args, prog2_line, read_vm

lock = threading.Lock()
checked_in = 0
released = threading.Event()


def sleeper():
    global checked_in
    with lock:
        checked_in += 1
    released.wait()


def main():
    n, _ = parse_args("prog2_threads.py", None)

    # As in prog2.c: pay one-time costs before the baseline.
    warm = threading.Thread(target=lambda: None)
    warm.start()
    warm.join()
    base = read_vm()

    threads = []
    failed = False
    for _ in range(n):
        t = threading.Thread(target=sleeper)
        try:
            t.start()
        except RuntimeError:
            failed = True
            break
        threads.append(t)
    while checked_in < len(threads):
        time.sleep(0.001)
    now = read_vm()
    released.set()
    for t in threads:
        t.join()
    status = "fail errno=RuntimeError" if failed else "ok"
    print(prog2_line(n, len(threads), base, now) + " " + status)
    sys.exit(1 if failed else 0)


main()
