# The client of preempt_ping.py: pings 127.0.0.1:PORT every 10 ms for
# SECONDS (default 1.2), prints p50/p99/max round trip in ms.
import socket
import sys
import time

port = int(sys.argv[1])
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1.2
c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.settimeout(2.0)
rtts = []
end = time.monotonic() + seconds
while time.monotonic() < end:
    t0 = time.monotonic()
    c.sendto(b"ping", ("127.0.0.1", port))
    try:
        c.recvfrom(64)
        rtts.append((time.monotonic() - t0) * 1000)
    except socket.timeout:
        rtts.append(2000.0)
    time.sleep(0.01)
rtts.sort()
p = lambda q: rtts[min(len(rtts) - 1, int(q * len(rtts)))]
print("pings=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f" % (len(rtts), p(0.5), p(0.99), rtts[-1]))
