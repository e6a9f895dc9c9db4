"""prog1 with Python threads: N threading.Thread each time.sleep, then join.

    python3 prog1_threads.py N [sleep_ms=200]

Same output line as bench/prog1.c. CPython reports a failed pthread_create as
RuntimeError("can't start new thread") without the errno, so a failure is
printed as "fail errno=RuntimeError" after joining the threads that started.
"""

import sys
import threading
import time

from common import parse_args


def main():
    n, sleep_ms = parse_args("prog1_threads.py", 200)
    seconds = sleep_ms / 1000
    threads = []
    failed = False
    t0 = time.monotonic()
    for _ in range(n):
        t = threading.Thread(target=time.sleep, args=(seconds,))
        try:
            t.start()
        except RuntimeError:
            failed = True
            break
        threads.append(t)
    for t in threads:
        t.join()
    wall_ms = (time.monotonic() - t0) * 1000
    status = "fail errno=RuntimeError" if failed else "ok"
    print(f"prog1 n={n} created={len(threads)} wall_ms={wall_ms:.1f} {status}")
    sys.exit(1 if failed else 0)


main()
