#!/usr/bin/python3
# Hazard: an unmodified CPython (Debian's /usr/bin/python3) whose threads
# block in the interpreter's own locks.  CPython 3.11 builds threading.Lock
# on sem_clockwait/sem_timedwait, and the GIL on a mutex and a condition
# variable with timed waits on CLOCK_MONOTONIC; every blocked thread must park
# as a green thread, or the one OS thread stops.  Checked, with results
# printed by the main thread after the joins, in a fixed order:
#   Lock: acquire(timeout=0.05) fails after >= 50 ms while another thread
#     holds it; acquire(blocking=False) fails; 8 threads x 500 increments;
#   RLock: 3 deep, another thread's acquire(timeout) fails, release by a
#     non-owner raises RuntimeError;
#   Condition: wait(timeout) returns False after >= 50 ms; wait_for wakes on
#     notify_all; producer/consumer with notify;
#   Event: wait(timeout) False after >= 50 ms, then set() wakes 5 waiters;
#   Semaphore(2): never more than 2 inside; BoundedSemaphore: over-release
#     raises ValueError;
#   Barrier(4): each wait() index 0..3 given once per phase, the action runs
#     once per phase, 5 phases; abort() gives BrokenBarrierError;
#   queue.Queue(maxsize=4): 3 producers x 1000, 3 consumers, checksum;
#     get(timeout=0.05) raises queue.Empty after >= 50 ms;
#   threading.Timer fires after >= its interval; a cancelled one never does.
import queue
import signal
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


def since(t0):
    return time.monotonic() - t0


def lock_tests():
    lock = threading.Lock()
    held = threading.Event()
    release = threading.Event()

    def holder():
        with lock:
            held.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    held.wait(5)
    t0 = time.monotonic()
    got = lock.acquire(timeout=0.05)
    waited = since(t0)
    check(not got and 0.05 <= waited < 2, "Lock.acquire(timeout=0.05) while held: False after >= 50 ms")
    check(not lock.acquire(blocking=False), "Lock.acquire(blocking=False) while held: False")
    release.set()
    t.join()
    check(lock.acquire(timeout=5), "Lock.acquire after release: True")
    lock.release()

    counter = [0]

    def add():
        for _ in range(500):
            with lock:
                v = counter[0]
                time.sleep(0)
                counter[0] = v + 1

    ts = [threading.Thread(target=add) for _ in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(counter[0] == 4000, f"Lock: 8 threads x 500 increments = {counter[0]}")


def rlock_tests():
    r = threading.RLock()
    r.acquire()
    r.acquire()
    r.acquire()
    res = {}

    def other():
        t0 = time.monotonic()
        res["got"] = r.acquire(timeout=0.05)
        res["waited"] = since(t0)
        try:
            r.release()
            res["release"] = "no error"
        except RuntimeError:
            res["release"] = "RuntimeError"

    t = threading.Thread(target=other)
    t.start()
    t.join()
    check(not res["got"] and res["waited"] >= 0.05, "RLock held 3 deep: another thread's acquire(timeout=0.05) fails")
    check(res["release"] == "RuntimeError", "RLock.release by a non-owner raises RuntimeError")
    r.release()
    r.release()
    r.release()

    def other2():
        res["after"] = r.acquire(timeout=5)
        if res["after"]:
            r.release()

    t = threading.Thread(target=other2)
    t.start()
    t.join()
    check(res["after"], "RLock: free for another thread after 3 releases")


def condition_tests():
    cv = threading.Condition()
    with cv:
        t0 = time.monotonic()
        got = cv.wait(timeout=0.05)
        waited = since(t0)
    check(not got and 0.05 <= waited < 2, "Condition.wait(timeout=0.05): False after >= 50 ms")

    state = {"ready": False}

    def setter():
        time.sleep(0.03)
        with cv:
            state["ready"] = True
            cv.notify_all()

    t = threading.Thread(target=setter)
    t.start()
    with cv:
        ok = cv.wait_for(lambda: state["ready"], timeout=5)
    t.join()
    check(ok, "Condition.wait_for woken by notify_all")

    items = []
    done = {"producers": 0}
    consumed = []

    def produce(base):
        for i in range(1, 501):
            with cv:
                items.append(base + i)
                cv.notify()
        with cv:
            done["producers"] += 1
            cv.notify_all()

    def consume():
        while True:
            with cv:
                cv.wait_for(lambda: items or done["producers"] == 2)
                if not items:
                    return
                consumed.append(items.pop(0))

    ts = [threading.Thread(target=consume) for _ in range(2)]
    ts += [threading.Thread(target=produce, args=(b,)) for b in (0, 500)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(len(consumed) == 1000 and sum(consumed) == 500500, "Condition producer/consumer: 1000 items, checksum 500500")


def event_tests():
    ev = threading.Event()
    t0 = time.monotonic()
    got = ev.wait(timeout=0.05)
    check(not got and 0.05 <= since(t0) < 2, "Event.wait(timeout=0.05): False after >= 50 ms")
    woken = []
    lock = threading.Lock()

    def waiter():
        if ev.wait(timeout=5):
            with lock:
                woken.append(1)

    ts = [threading.Thread(target=waiter) for _ in range(5)]
    for t in ts:
        t.start()
    time.sleep(0.03)
    ev.set()
    for t in ts:
        t.join()
    check(len(woken) == 5, "Event.set wakes all 5 waiters")


def semaphore_tests():
    sem = threading.Semaphore(2)
    inside = [0]
    most = [0]
    lock = threading.Lock()

    def worker():
        for _ in range(20):
            with sem:
                with lock:
                    inside[0] += 1
                    most[0] = max(most[0], inside[0])
                time.sleep(0.001)
                with lock:
                    inside[0] -= 1

    ts = [threading.Thread(target=worker) for _ in range(6)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(most[0] <= 2, "Semaphore(2): never more than 2 inside")
    check(sem.acquire(timeout=1) and sem.acquire(timeout=1), "Semaphore(2): both permits back at the end")
    t0 = time.monotonic()
    check(not sem.acquire(timeout=0.05) and since(t0) >= 0.05, "Semaphore at 0: acquire(timeout=0.05) False after >= 50 ms")
    sem.release(2)

    bs = threading.BoundedSemaphore(1)
    bs.acquire()
    bs.release()
    try:
        bs.release()
        over = "no error"
    except ValueError:
        over = "ValueError"
    check(over == "ValueError", "BoundedSemaphore released too often raises ValueError")


def barrier_tests():
    phases = 5
    actions = []
    bar = threading.Barrier(4, action=lambda: actions.append(1))
    indices = [[] for _ in range(phases)]
    lock = threading.Lock()

    def party():
        for p in range(phases):
            i = bar.wait(timeout=5)
            with lock:
                indices[p].append(i)

    ts = [threading.Thread(target=party) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(all(sorted(ix) == [0, 1, 2, 3] for ix in indices), "Barrier(4): indices 0..3 once each in every phase")
    check(len(actions) == phases, f"Barrier action ran once per phase ({len(actions)})")

    b2 = threading.Barrier(3)
    res = []

    def broken():
        try:
            b2.wait(timeout=5)
            res.append("passed")
        except threading.BrokenBarrierError:
            res.append("broken")

    t = threading.Thread(target=broken)
    t.start()
    time.sleep(0.03)
    b2.abort()
    t.join()
    check(res == ["broken"], "Barrier.abort: the waiter gets BrokenBarrierError")


def queue_tests():
    q = queue.Queue(maxsize=4)
    total = []
    lock = threading.Lock()

    def produce(base):
        for i in range(1, 1001):
            q.put(base + i)

    def consume():
        mine = 0
        n = 0
        while True:
            v = q.get()
            if v is None:
                break
            mine += v
            n += 1
        with lock:
            total.append((n, mine))

    cons = [threading.Thread(target=consume) for _ in range(3)]
    prods = [threading.Thread(target=produce, args=(b,)) for b in (0, 1000, 2000)]
    for t in cons + prods:
        t.start()
    for t in prods:
        t.join()
    for _ in cons:
        q.put(None)
    for t in cons:
        t.join()
    n = sum(x[0] for x in total)
    s = sum(x[1] for x in total)
    check(n == 3000 and s == 3000 * 3001 // 2, f"queue.Queue: {n} items, checksum {s}")
    t0 = time.monotonic()
    try:
        q.get(timeout=0.05)
        empty = "got something"
    except queue.Empty:
        empty = "Empty"
    check(empty == "Empty" and since(t0) >= 0.05, "Queue.get(timeout=0.05) on an empty queue raises Empty after >= 50 ms")


def timer_tests():
    fired = []
    t0 = time.monotonic()
    tm = threading.Timer(0.05, lambda: fired.append(since(t0)))
    never = threading.Timer(0.05, lambda: fired.append(-1))
    tm.start()
    never.start()
    never.cancel()
    tm.join()
    never.join()
    time.sleep(0.1)
    check(len(fired) == 1 and fired[0] >= 0.05, "Timer(0.05) fired once after >= 50 ms, the cancelled one never")


def main():
    signal.alarm(20)
    lock_tests()
    rlock_tests()
    condition_tests()
    event_tests()
    semaphore_tests()
    barrier_tests()
    queue_tests()
    timer_tests()
    print("all checks passed" if failures == 0 else f"{failures} checks FAILED", flush=True)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
