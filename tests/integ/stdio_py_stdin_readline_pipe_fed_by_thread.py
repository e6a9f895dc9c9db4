#!/usr/bin/python3
# Hazard: sys.stdin.readline() in CPython (Debian's /usr/bin/python3) when
# stdin is a pipe that another thread of the process writes, in pieces,
# each once a ticker thread has moved on. CPython's io reads fd 0 with
# read() itself (no stdio), so the read must park only the reading thread;
# lines come whole, then EOF gives "". Also input() on the same stdin.
import os
import sys
import threading
import time

failures = 0


def check(ok, what):
    global failures
    print(f"{what} {'yes' if ok else 'NO'}", flush=True)
    if not ok:
        failures += 1
        print(f"check failed: {what}", file=sys.stderr)


ticks = 0
stop = False


def ticker():
    global ticks
    while not stop:
        ticks += 1
        time.sleep(0.001)


def piece(fd, data):
    t = ticks
    while ticks < t + 2:
        time.sleep(0.001)
    os.write(fd, data)


r, w = os.pipe()
os.dup2(r, 0)
os.close(r)
sys.stdin = open(0, "r", closefd=False)


def feeder():
    piece(w, b"hel")
    piece(w, b"lo\nwor")
    piece(w, b"ld\ninput ")
    piece(w, b"line\n")
    os.close(w)


tk = threading.Thread(target=ticker)
fe = threading.Thread(target=feeder)
tk.start()
fe.start()
check(sys.stdin.readline() == "hello\n", "readline joins two pieces")
check(sys.stdin.readline() == "world\n", "readline gets the next line")
check(input() == "input line", "input() gets a line")
check(sys.stdin.readline() == "", "then EOF gives an empty string")
fe.join()
check(ticks >= 8, "the ticker ran meanwhile")
stop = True
tk.join()
print("all checks passed" if failures == 0 else f"{failures} checks FAILED")
sys.exit(1 if failures else 0)
