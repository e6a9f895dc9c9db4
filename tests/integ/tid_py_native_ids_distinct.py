#!/usr/bin/python3
# Hazard: CPython's threading.get_native_id() (syscall(SYS_gettid) on
# Linux) must tell threads apart: 16 threads alive at once each have an id
# of their own, none is main's, main's is the pid, and a thread's id stays
# the same across a sleep (a switch).
import os
import threading
import time

ids = {}
lock = threading.Lock()
start = threading.Barrier(17)


def work(n):
    first = threading.get_native_id()
    start.wait()
    time.sleep(0.01)
    with lock:
        ids[n] = (first, threading.get_native_id())


threads = [threading.Thread(target=work, args=(n,)) for n in range(16)]
for t in threads:
    t.start()
start.wait()
for t in threads:
    t.join()
firsts = [ids[n][0] for n in range(16)]
print("main's native id is the pid", "yes" if threading.get_native_id() == os.getpid() else "NO")
print("16 threads, 16 ids", "yes" if len(set(firsts)) == 16 else "NO")
print("none is main's", "yes" if os.getpid() not in firsts else "NO")
print("an id stays across a sleep", "yes" if all(a == b for a, b in ids.values()) else "NO")
