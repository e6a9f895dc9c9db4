#!/usr/bin/python3
# Hazard: Python's multiprocessing between processes, with the fork and the
# spawn contexts (under the preload: green fork children, and greenified
# interpreters started anew). Its Lock, RLock, Semaphore, Condition and
# Event are sem_open named semaphores shared by the processes; its Queue
# adds a pipe and a feeder thread; its Pool adds worker processes and
# threads of the parent. Checked, in a fixed order, for each context:
#   Lock: 4 processes x 200 increments of a shared Value under the lock;
#   RLock: taken 3 deep in a child while the parent's acquire(timeout)
#     fails, then the parent gets it;
#   Semaphore(2): 4 processes, never more than 2 inside;
#   Event: a child waits for the parent's, set by a thread of the parent
#     after sleeps, and sets its own that the parent waits on;
#   Condition: parent and child take 20 turns through wait_for/notify;
#   Queue: 4 processes put 50 items each, the parent gets all 200;
#   Pool(3): map of 60 items, apply_async, imap_unordered;
# and a thread of the parent keeps ticking while the parent waits.
import multiprocessing as mp
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


def add_under_lock(lock, counter, n):
    for _ in range(n):
        with lock:
            v = counter.value
            time.sleep(0)
            counter.value = v + 1


def hold_rlock(rl, held, release):
    with rl:
        with rl:
            with rl:
                held.set()
                release.wait(10)


def inside_sem(sem, inside, peak, lock):
    for _ in range(5):
        with sem:
            with lock:
                inside.value += 1
                peak.value = max(peak.value, inside.value)
            time.sleep(0.002)
            with lock:
                inside.value -= 1


def event_child(theirs, mine):
    if theirs.wait(10):
        mine.set()


def cond_child(cond, turn, n):
    with cond:
        for i in range(n):
            if not cond.wait_for(lambda: turn.value == 1, 10):
                return
            turn.value = 0
            cond.notify()


def put_items(q, base, n):
    for i in range(n):
        q.put(base + i)


def square(x):
    return x * x


def run(name):
    ctx = mp.get_context(name)

    lock = ctx.Lock()
    counter = ctx.Value("i", 0, lock=False)
    ps = [ctx.Process(target=add_under_lock, args=(lock, counter, 200)) for _ in range(4)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    check(counter.value == 800 and all(p.exitcode == 0 for p in ps),
          f"{name}: Lock: 4 processes x 200 increments")

    rl = ctx.RLock()
    held, release = ctx.Event(), ctx.Event()
    p = ctx.Process(target=hold_rlock, args=(rl, held, release))
    p.start()
    held.wait(10)
    t0 = time.monotonic()
    got = rl.acquire(timeout=0.05)
    waited = time.monotonic() - t0
    release.set()
    p.join()
    got_after = rl.acquire(timeout=10)
    if got_after:
        rl.release()
    check(not got and waited >= 0.049 and got_after,
          f"{name}: RLock: held 3 deep by a child, then ours")

    sem = ctx.Semaphore(2)
    inside, peak = ctx.Value("i", 0, lock=False), ctx.Value("i", 0, lock=False)
    slock = ctx.Lock()
    ps = [ctx.Process(target=inside_sem, args=(sem, inside, peak, slock)) for _ in range(4)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    check(peak.value <= 2 and peak.value >= 1 and inside.value == 0,
          f"{name}: Semaphore(2): never more than 2 inside")

    theirs, mine = ctx.Event(), ctx.Event()
    p = ctx.Process(target=event_child, args=(theirs, mine))
    p.start()

    def setter():
        for _ in range(3):
            time.sleep(0.005)
        theirs.set()

    st = threading.Thread(target=setter)
    st.start()
    ok = mine.wait(10)
    st.join()
    p.join()
    check(ok and p.exitcode == 0, f"{name}: Event: set by a thread, answered by a child")

    cond = ctx.Condition()
    turn = ctx.Value("i", 0, lock=False)
    p = ctx.Process(target=cond_child, args=(cond, turn, 20))
    p.start()
    turns = 0
    with cond:
        for _ in range(20):
            turn.value = 1
            cond.notify()
            if not cond.wait_for(lambda: turn.value == 0, 10):
                break
            turns += 1
    p.join()
    check(turns == 20, f"{name}: Condition: 20 turns with a child")

    q = ctx.Queue()
    ps = [ctx.Process(target=put_items, args=(q, 1000 * k, 50)) for k in range(4)]
    for p in ps:
        p.start()
    got = sorted(q.get(timeout=10) for _ in range(200))
    for p in ps:
        p.join()
    check(got == sorted(1000 * k + i for k in range(4) for i in range(50)),
          f"{name}: Queue: 200 items from 4 processes")

    with ctx.Pool(3) as pool:
        m = pool.map(square, range(60))
        a = pool.apply_async(square, (7,)).get(10)
        u = sorted(pool.imap_unordered(square, range(10)))
    check(m == [x * x for x in range(60)] and a == 49 and u == [x * x for x in range(10)],
          f"{name}: Pool(3): map, apply_async, imap_unordered")


def main():
    ticks = [0]
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            time.sleep(0.001)
            ticks[0] += 1

    t = threading.Thread(target=ticker)
    t.start()
    for name in ("fork", "spawn"):
        run(name)
    stop.set()
    t.join()
    check(ticks[0] > 0, "a thread of the parent ticked all along")
    print("all checks passed" if failures == 0 else f"{failures} checks FAILED")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
