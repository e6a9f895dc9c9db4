"""prog1 with gevent: N greenlets each gevent.sleep, then all are joined.

    python3 prog1_gevent.py N [sleep_ms=200]

Same output line as bench/prog1.c. Spawning a greenlet cannot hit a kernel
limit, so there is no fail line.
"""

import time

import gevent

from common import parse_args


def main():
    n, sleep_ms = parse_args("prog1_gevent.py", 200)
    seconds = sleep_ms / 1000
    t0 = time.monotonic()
    greenlets = [gevent.spawn(gevent.sleep, seconds) for _ in range(n)]
    gevent.joinall(greenlets)
    wall_ms = (time.monotonic() - t0) * 1000
    print(f"prog1 n={n} created={n} wall_ms={wall_ms:.1f} ok")


main()
