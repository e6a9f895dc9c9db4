#!/usr/bin/env python3
"""Helpers for tests/run-privoxy.sh, run natively (never preloaded).

  privoxy-load.py origin PORTFILE
      an HTTP origin server on 127.0.0.1 (a thread per connection) that
      answers every GET with 4 KiB; writes its port to PORTFILE.
  privoxy-load.py load PROXYPORT ORIGINPORT REQUESTS CONCURRENCY
      REQUESTS GETs of the origin through the proxy, CONCURRENCY at a time,
      one connection each; prints "ok N of M, S s, R req/s"; exit 1 unless
      all came back whole.
"""
import http.server
import socket
import socketserver
import sys
import threading
import time

BODY = bytes(range(256)) * 16


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256


def origin(portfile):
    srv = Server(("127.0.0.1", 0), Handler)
    with open(portfile, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    srv.serve_forever()


def one(proxy, origin_port):
    s = socket.create_connection(("127.0.0.1", proxy), timeout=30)
    try:
        s.sendall(("GET http://127.0.0.1:%d/ HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n"
                   % (origin_port, origin_port)).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0] and body == BODY


def load(proxy, origin_port, n, c):
    ok = [0]
    lock = threading.Lock()
    todo = list(range(n))

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                todo.pop()
            try:
                good = one(proxy, origin_port)
            except OSError:
                good = False
            with lock:
                ok[0] += good

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    print("ok %d of %d, %.2f s, %.0f req/s" % (ok[0], n, dt, n / dt))
    return 0 if ok[0] == n else 1


if __name__ == "__main__":
    if sys.argv[1] == "origin":
        origin(sys.argv[2])
    else:
        sys.exit(load(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])))
