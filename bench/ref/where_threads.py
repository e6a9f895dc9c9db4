"""Where the memory of a sleeping Python thread goes, and what waking them costs.

    python3 where_threads.py N [threads|daemon|gevent] [switch_interval_s]

Starts N sleepers as prog2_threads.py does (prog2_gevent.py for "gevent"),
then prints, per sleeper, the growth of VmRSS + VmPTE and of each kind of
mapping (from /proc/self/smaps); under greenify also how many pages of each
green stack slot are resident (/proc/self/pagemap, page 0 being the top one)
and how far from the slot's top the lowest non-zero byte lies (the control
block, TLS and the deepest the stack ever went, since fresh slots are
zeros). Last it wakes them all and times release + join: every woken
thread waits for the GIL with a timeout of sys.getswitchinterval(), which
the optional last argument sets. A diagnostic for bench/RESULTS.md, not a
benchmark that scripts run.
"""

import os
import struct
import sys
import threading
import time

PAGE = 4096


def slot_bytes():
    """A green stack slot: GREENIFY_STACK_SIZE (default 256k) + a guard page."""
    text = os.environ.get("GREENIFY_STACK_SIZE", "256k").lower().rstrip("b")
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(text[-1:], 1)
    size = int(text.rstrip("kmg")) * mult
    return (size + PAGE - 1) // PAGE * PAGE + PAGE


SLOT = slot_bytes()


def smaps():
    """[(lo, hi, name, rss_kb)] for every mapping of this process."""
    maps = []
    with open("/proc/self/smaps", encoding="ascii", errors="replace") as f:
        for line in f:
            parts = line.split()
            if parts[0] == "Rss:":
                lo, hi, name, _ = maps[-1]
                maps[-1] = (lo, hi, name, int(parts[1]))
            elif "-" in parts[0] and not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                maps.append((lo, hi, parts[5] if len(parts) > 5 else "", 0))
    return maps


def vm_kb():
    """VmRSS + VmPTE, and VmPTE, in kB."""
    vm = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmPTE"):
                vm[key] = int(rest.split()[0])
    return vm["VmRSS"] + vm["VmPTE"], vm["VmPTE"]


def kind(lo, hi, name):
    """What a mapping holds, as far as its name and size tell."""
    if name == "[heap]":
        return "heap (brk: malloc)"
    if name:
        return "file " + os.path.basename(name)
    if (hi - lo) % SLOT == 0 and hi - lo >= 16 * SLOT:
        return "greenify stack slots"
    return "anonymous (pymalloc arenas, CPython frame stacks, malloc mmaps)"


def slots_report(maps, n):
    """Resident pages per green stack slot, and the lowest non-zero byte."""
    by_index, by_count, marks = {}, {}, []
    with open("/proc/self/pagemap", "rb") as pm, open("/proc/self/mem", "rb") as mem:
        for lo, hi, name, _ in maps:
            if kind(lo, hi, name) != "greenify stack slots":
                continue
            for top in range(lo + SLOT, hi + 1, SLOT):
                pm.seek((top // PAGE - 8) * 8)
                ents = struct.unpack("8Q", pm.read(64))
                present = [k for k in range(8) if ents[7 - k] >> 63 & 1]
                if not present:
                    continue
                for k in present:
                    by_index[k] = by_index.get(k, 0) + 1
                by_count[len(present)] = by_count.get(len(present), 0) + 1
                if len(marks) < 500 and present == list(range(len(present))):
                    size = len(present) * PAGE
                    mem.seek(top - size)
                    buf = mem.read(size)
                    low = next((i for i, b in enumerate(buf) if b), None)
                    if low is not None:
                        marks.append(size - low)
    if not by_count:
        return
    slots = sum(by_count.values())
    print(f"  greenify slots with resident pages: {slots} ({slots - n} beyond the {n} sleepers)")
    print("    resident pages by index from the top: "
          + ", ".join(f"page {k}: {v}" for k, v in sorted(by_index.items())))
    print("    slots by resident pages: "
          + ", ".join(f"{k}: {v}" for k, v in sorted(by_count.items())))
    if marks:
        marks.sort()
        print(f"    lowest non-zero byte, bytes below the slot top ({len(marks)} slots): "
              f"min {marks[0]} median {marks[len(marks) // 2]} max {marks[-1]}")


def main():
    args = sys.argv[1:]
    if not 1 <= len(args) <= 3 or not args[0].isdigit() or \
            (len(args) > 1 and args[1] not in ("threads", "daemon", "gevent")):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    n = int(args[0])
    how = args[1] if len(args) > 1 else "threads"
    if len(args) > 2:
        sys.setswitchinterval(float(args[2]))
    state = {"in": 0, "released": False}
    if how == "gevent":
        import gevent  # pylint: disable=import-outside-toplevel

        def sleeper():
            state["in"] += 1
            while not state["released"]:
                gevent.sleep(max(1.0, n * 3e-6))

        gevent.spawn(lambda: None).join()
        base_maps, (base, base_pte) = smaps(), vm_kb()
        workers = [gevent.spawn(sleeper) for _ in range(n)]
        while state["in"] < n:
            gevent.sleep(0.001)
    else:
        lock, released = threading.Lock(), threading.Event()

        def sleeper():
            with lock:
                state["in"] += 1
            released.wait()

        warm = threading.Thread(target=lambda: None)
        warm.start()
        warm.join()
        base_maps, (base, base_pte) = smaps(), vm_kb()
        workers = [threading.Thread(target=sleeper, daemon=how == "daemon") for _ in range(n)]
        for t in workers:
            t.start()
        while state["in"] < n:
            time.sleep(0.001)
    maps, (now, now_pte) = smaps(), vm_kb()

    print(f"where n={n} how={how} switch_interval_s={sys.getswitchinterval()} "
          f"per_thread_bytes={(now - base) * 1024 // n} pte_bytes={(now_pte - base_pte) * 1024 // n}")
    grown = {}
    for sign, ms in ((1, maps), (-1, base_maps)):
        for lo, hi, name, rss in ms:
            k = kind(lo, hi, name)
            grown[k] = grown.get(k, 0) + sign * rss
    for k, kb in sorted(grown.items(), key=lambda kv: -kv[1]):
        if kb * 1024 // n:
            print(f"  {k}: {kb * 1024 // n} B per thread")
    slots_report(maps, n)

    t0 = time.monotonic()
    if how == "gevent":
        state["released"] = True
        gevent.joinall(workers)
    else:
        released.set()
        for t in workers:
            t.join()
    print(f"  release_join_ms={(time.monotonic() - t0) * 1000:.0f}")


main()
