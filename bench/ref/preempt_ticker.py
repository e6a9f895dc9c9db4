# Compute + ticker in Python (issue 14): the main thread runs a pure-Python
# loop for SECONDS while a ticker thread sleeps TICK_MS and counts. With
# gevent (GEVENT=1: monkey-patched) the same script.
#   python3 preempt_ticker.py [SECONDS [TICK_MS]]
import os
import sys

if os.environ.get("GEVENT") == "1":
    from gevent import monkey

    monkey.patch_all()
import threading
import time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
tick = (int(sys.argv[2]) if len(sys.argv) > 2 else 10) / 1000.0
ticks = 0
stop = False


def ticker():
    global ticks
    while not stop:
        time.sleep(tick)
        ticks += 1


t = threading.Thread(target=ticker)
t.start()
t0 = time.monotonic()
n = 0
while time.monotonic() - t0 < seconds:
    for i in range(10000):
        n += i
got = ticks
wall = time.monotonic() - t0
stop = True
t.join()
print("seconds=%.2f tick_ms=%d ticks=%d wall_s=%.3f" % (seconds, tick * 1000, got, wall))
