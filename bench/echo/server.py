"""The echo scenario's CPython peer: a single-threaded selectors.DefaultSelector echo server.

Listens on 127.0.0.1 (kernel-chosen port), prints "port N", then echoes every byte back until
killed.
"""
import selectors
import socket
import sys


def main():
    sel = selectors.DefaultSelector()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4096)
    lsock.setblocking(False)
    sel.register(lsock, selectors.EVENT_READ)
    print(f"port {lsock.getsockname()[1]}", flush=True)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if sock is lsock:
                while True:
                    try:
                        conn, _ = lsock.accept()
                    except BlockingIOError:
                        break
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if data:
                sock.setblocking(True)  # a full socket (rare: one message in flight) is waited out
                sock.sendall(data)
                sock.setblocking(False)
            else:
                sel.unregister(sock)
                sock.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
