"""prog2 with gevent: what a sleeping greenlet costs in memory.

    python3 prog2_gevent.py N [sleep_ms=auto]

N greenlets check in, then sleep until released, looking at the flag every
sleep_ms; main measures /proc/self/status once all have checked in. Same
output line as bench/prog2.c.
"""

import gevent

from common import auto_interval_ms, parse_args, prog2_line, read_vm

checked_in = 0
released = False


def sleeper(seconds):
    global checked_in
    checked_in += 1
    while not released:
        gevent.sleep(seconds)


def main():
    global released
    n, sleep_ms = parse_args("prog2_gevent.py", None)
    seconds = (sleep_ms or auto_interval_ms(n)) / 1000

    # As in prog2.c: pay one-time costs (the hub, the loop) before the baseline.
    gevent.spawn(lambda: None).join()
    base = read_vm()

    greenlets = [gevent.spawn(sleeper, seconds) for _ in range(n)]
    while checked_in < n:
        gevent.sleep(0.001)
    now = read_vm()
    released = True
    gevent.joinall(greenlets)
    print(prog2_line(n, n, base, now) + " ok")


main()
