# Python ping latency under computing threads (issue 14): N threads each run
# 1 s of pure Python while a server thread answers a UDP ping; a client in
# another process (bench/ref/preempt_ping_client.py, run natively) pings
# every 10 ms for N seconds (the computing lasts about that long on one
# core, and natively too: the GIL) and reports percentiles. This script starts the client itself
# and prints its line.
#   python3 preempt_ping.py [N]
import os
import socket
import subprocess
import sys
import threading
import time

n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 0))
port = srv.getsockname()[1]


def serve():
    while True:
        d, a = srv.recvfrom(64)
        if d == b"bye":
            return
        srv.sendto(d, a)


def compute():
    t0 = time.monotonic()
    x = 0
    while time.monotonic() - t0 < 1.0:
        for i in range(10000):
            x += i


s = threading.Thread(target=serve)
s.start()
env = dict(os.environ)
env.pop("LD_PRELOAD", None)
client = subprocess.Popen(
    [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "preempt_ping_client.py"), str(port), str(n * 1.0)],
    stdout=subprocess.PIPE,
    env=env,
)
time.sleep(0.1)
ws = [threading.Thread(target=compute) for _ in range(n)]
for w in ws:
    w.start()
for w in ws:
    w.join()
out = client.communicate()[0].decode().strip()
srv.sendto(b"bye", ("127.0.0.1", port))
s.join()
print("threads=%d %s" % (n, out))
