#!/usr/bin/python3
# Hazard: a pure-Python loop in the main thread holds the GIL and calls
# nothing greenify hooks; natively the GIL's switch interval (5 ms) lets a
# ticker thread run, because the waiter's timed wait expires and asks main
# to drop the GIL. Under the preload main must be preempted for that wait
# to expire. The loop waits for the ticker to tick 20 times (it would spin
# forever otherwise); then _thread.interrupt_main() from a thread while
# main spins raises KeyboardInterrupt in main, as natively (CPython's
# test_threading.InterruptMainTests.test_can_interrupt_tight_loops).
import _thread
import threading
import time

ticks = 0
stop = False


def ticker():
    global ticks
    while not stop:
        time.sleep(0.01)
        ticks += 1


t = threading.Thread(target=ticker)
t.start()
n = 0
while ticks < 20:
    n += 1
print("main's pure-Python loop saw the ticker tick 20 times yes")

started = threading.Event()


def interrupter():
    started.wait()
    _thread.interrupt_main()


i = threading.Thread(target=interrupter)
i.start()
interrupted = False
try:
    started.set()
    while True:
        n += 1
except KeyboardInterrupt:
    interrupted = True
print("interrupt_main ended main's tight loop with KeyboardInterrupt", "yes" if interrupted else "NO")
i.join()
stop = True
t.join()
