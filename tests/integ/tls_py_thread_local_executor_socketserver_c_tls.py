#!/usr/bin/python3
# Hazard: per-thread state of an unmodified CPython (Debian's /usr/bin/python3)
# when its threads are green threads on one OS thread.  CPython finds the
# running thread's state through a pthread key and C TLS, and threading.local
# hangs a dict on that state; a switch that kept the wrong one would hand one
# thread's locals to another.  Checked, and printed by the main thread after
# the joins, in a fixed order:
#   threading.local: 100 threads each keep a value and a list in one local
#     across time.sleep and yields, 5 rounds, and see only their own; a
#     subclass's __init__ runs once in each thread that touches it; main's
#     own values survive; threading.get_ident() is distinct in live threads;
#   concurrent.futures.ThreadPoolExecutor(8) maps a function that sleeps and
#     counts its calls in a threading.local: results in order, at most 8
#     workers, and each worker's count is exactly the number of calls it ran;
#   socketserver.ThreadingTCPServer (request_queue_size 128; the default 5
#     overflows when all clients connect before the acceptor runs, README)
#     with 40 client threads, each sending a length-prefixed 64 KiB payload
#     and getting back its SHA-256; the handler keeps the connection's
#     number in a threading.local across a sleep and finds it unchanged;
#   C TLS reached from Python threads through ctypes: glibc formats
#     strerror() of an unknown number into a per-thread buffer; 20 threads
#     each get theirs, sleep while the others get their own, and still read
#     their own message; libc's __errno_location() differs in 20 live
#     threads.
# needs: private-tls
import concurrent.futures
import ctypes
import hashlib
import socket
import socketserver
import struct
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


def pause_a_little(i, r):
    if (i + r) % 3 == 0:
        time.sleep(0)
    else:
        time.sleep((1 + (i * 7 + r) % 3) / 1000)


# ---- threading.local ----

NTHREADS = 100
ROUNDS = 5


class Counted(threading.local):
    inits = 0
    lock = threading.Lock()

    def __init__(self):
        with Counted.lock:
            Counted.inits += 1
        self.mine = threading.get_ident()


def thread_locals():
    local = threading.local()
    counted = Counted()  # main's own
    local.value = "main"
    ok = []
    idents = []
    counted_ok = []
    all_alive = threading.Barrier(NTHREADS)  # idents are reused after an exit

    def work(i):
        fresh = not hasattr(local, "value")
        local.value = i
        local.log = []
        good = fresh
        for r in range(ROUNDS):
            local.log.append(r)
            pause_a_little(i, r)
            good &= local.value == i and local.log == list(range(r + 1))
        ok.append(good)
        idents.append(threading.get_ident())
        counted_ok.append(counted.mine == threading.get_ident())
        all_alive.wait()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(NTHREADS)]
    idle = threading.Thread(target=lambda: time.sleep(0.005))  # never touches them
    for t in threads + [idle]:
        t.start()
    for t in threads + [idle]:
        t.join()
    check(sum(ok) == NTHREADS,
          "threading.local: 100 threads start empty and keep their own value and list across sleeps")
    check(len(set(idents)) == NTHREADS, "threading.get_ident() distinct in 100 live threads")
    check(Counted.inits == NTHREADS + 1 and sum(counted_ok) == NTHREADS,
          "threading.local subclass: __init__ once per thread that touched it (100 + main)")
    check(local.value == "main" and not hasattr(local, "log") and counted.mine == threading.get_ident(),
          "main's own threading.local values untouched")


# ---- ThreadPoolExecutor ----

def executor():
    calls = threading.local()
    lock = threading.Lock()
    per_worker = {}  # ident -> calls seen by that worker, reported by it

    def task(i):
        calls.n = getattr(calls, "n", 0) + 1
        time.sleep(0.001 * (1 + i % 3))
        with lock:
            per_worker[threading.get_ident()] = calls.n
        return i * i, threading.get_ident()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as ex:
        results = list(ex.map(task, range(200)))
    check([r for r, _ in results] == [i * i for i in range(200)],
          "ThreadPoolExecutor(8).map of 200 sleeping calls: results in order")
    ran = {}
    for _, ident in results:
        ran[ident] = ran.get(ident, 0) + 1
    check(1 <= len(ran) <= 8, "ThreadPoolExecutor: at most 8 worker threads")
    check(per_worker == ran, "ThreadPoolExecutor: each worker's threading.local count = calls it ran")


# ---- socketserver.ThreadingTCPServer ----

CLIENTS = 40
PAYLOAD = 64 * 1024


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        b = sock.recv(n - len(buf))
        if not b:
            raise EOFError(f"{len(buf)} of {n} bytes")
        buf += b
    return bytes(buf)


conn_local = threading.local()
handler_kept = []


class Digest(socketserver.BaseRequestHandler):
    def handle(self):
        (n,) = struct.unpack("!I", recv_exact(self.request, 4))
        data = recv_exact(self.request, n)
        conn_local.tag = data[:8]
        time.sleep(0.002)
        handler_kept.append(conn_local.tag == data[:8])
        self.request.sendall(hashlib.sha256(data).digest())


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


def payload(i):
    seed = hashlib.sha256(b"client %d" % i).digest()
    return (seed * (PAYLOAD // len(seed) + 1))[:PAYLOAD]


def tcp():
    srv = Server(("127.0.0.1", 0), Digest)
    port = srv.server_address[1]
    acceptor = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    acceptor.start()
    ok = []

    def client(i):
        data = payload(i)
        with socket.create_connection(("127.0.0.1", port)) as c:
            c.sendall(struct.pack("!I", len(data)))
            for k in range(0, len(data), 8192):
                c.sendall(data[k:k + 8192])
            ok.append(recv_exact(c, 32) == hashlib.sha256(data).digest())

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    srv.shutdown()
    acceptor.join()
    srv.server_close()
    check(sum(ok) == CLIENTS,
          "ThreadingTCPServer: 40 client threads, 64 KiB each, SHA-256 digests match")
    check(len(handler_kept) == CLIENTS and all(handler_kept),
          "ThreadingTCPServer: each handler thread kept its own threading.local across a sleep")


# ---- C TLS through ctypes ----

CTHREADS = 20


def c_tls():
    libc = ctypes.CDLL(None)
    libc.strerror.restype = ctypes.c_void_p
    libc.strerror.argtypes = [ctypes.c_int]
    libc.__errno_location.restype = ctypes.c_void_p
    all_alive = threading.Barrier(CTHREADS)
    kept = []
    errno_at = []

    def work(i):
        want = b"Unknown error %d" % (100000 + i)
        p = libc.strerror(100000 + i)
        all_alive.wait()  # everybody has formatted theirs
        time.sleep(0.001 * (1 + i % 3))
        kept.append(ctypes.string_at(p) == want)
        errno_at.append(libc.__errno_location())
        all_alive.wait()  # addresses are reused after an exit

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CTHREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(sum(kept) == CTHREADS,
          "ctypes: 20 threads each read back their own strerror() buffer after a sleep")
    check(len(set(errno_at)) == CTHREADS and libc.__errno_location() not in errno_at,
          "ctypes: __errno_location() differs in 20 live threads and main")


thread_locals()
executor()
tcp()
c_tls()
print("all checks passed" if failures == 0 else f"{failures} checks FAILED")
sys.exit(0 if failures == 0 else 1)
