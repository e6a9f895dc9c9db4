# Hazard: CPython's blocking sockets from many threads on one OS thread. A
# socketserver.ThreadingTCPServer echoes for 50 client threads, each of
# which sends 128 KiB from a sender thread while it reads the echo back, and
# compares. (The listen backlog is raised from socketserver's 5: under the
# preload all 50 clients connect before the acceptor thread runs, and a
# backlog of 5 overflows; README, limitations.)
import hashlib
import socket
import socketserver
import sys
import threading


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            d = self.request.recv(65536)
            if not d:
                break
            self.request.sendall(d)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128


srv = Server(("127.0.0.1", 0), Echo)
port = srv.server_address[1]
threading.Thread(target=srv.serve_forever, daemon=True).start()
ok = []


def client(i):
    data = hashlib.sha256(str(i).encode()).digest() * 4096
    with socket.create_connection(("127.0.0.1", port)) as c:
        def send():
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=send)
        t.start()
        got = bytearray()
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
        t.join()
    ok.append(bytes(got) == data)


threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
for t in threads:
    t.start()
for t in threads:
    t.join()
srv.shutdown()
print("clients whose 128 KiB came back intact:", sum(ok), "of", len(threads))
sys.exit(0 if sum(ok) == len(threads) else 1)
