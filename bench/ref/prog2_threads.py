"""prog2 with Python threads: what a sleeping threading.Thread costs in memory.

    python3 prog2_threads.py N [sleep_ms=auto] [daemon]

N threads check in, then block until released; main measures
/proc/self/status once all have checked in. Same output line as bench/prog2.c;
a failed start is reported as in prog1_threads.py.

Unlike the other versions the threads wait on a threading.Event rather than
waking every sleep_ms to look at a flag: tens of thousands of Python threads
waking every second fight over the GIL with the thread creating them, and
creation slows to a crawl (100K did not finish in two minutes). A thread
blocked in Event.wait() sleeps in the kernel exactly like one in time.sleep(),
so the memory measured is the same; sleep_ms is accepted and ignored.

The threads are not daemons by default, as in a program that does not ask.
CPython 3.11 then walks every live non-daemon thread's lock each time a
thread starts (threading._maintain_shutdown_locks), so starting N threads
that all stay alive costs O(N^2): 20K threads take 42 s natively. "daemon"
starts daemon threads, which skip that walk and cost the same memory but
for one set entry, and exits once it has measured, without waking them:
waking 100K threads at once makes each of them wait for the GIL with a
5 ms timeout (sys.getswitchinterval()), over and over, which is a
benchmark of its own (bench/ref/where_threads.py times it). It is there to
measure 100K sleeping threads where a thread runtime can hold them.
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
    daemon = sys.argv[-1] == "daemon"
    if daemon:
        del sys.argv[-1]
    n, _ = parse_args("prog2_threads.py", None)

    # As in prog2.c: pay one-time costs before the baseline.
    warm = threading.Thread(target=lambda: None)
    warm.start()
    warm.join()
    base = read_vm()

    threads = []
    failed = False
    for _ in range(n):
        t = threading.Thread(target=sleeper, daemon=daemon)
        try:
            t.start()
        except RuntimeError:
            failed = True
            break
        threads.append(t)
    while checked_in < len(threads):
        time.sleep(0.001)
    now = read_vm()
    status = "fail errno=RuntimeError" if failed else "ok"
    if daemon:
        print(prog2_line(n, len(threads), base, now) + " " + status, flush=True)
        sys.exit(1 if failed else 0)
    released.set()
    for t in threads:
        t.join()
    print(prog2_line(n, len(threads), base, now) + " " + status)
    sys.exit(1 if failed else 0)


main()
