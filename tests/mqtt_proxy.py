#!/usr/bin/env python3
"""A TCP proxy between MQTT clients and a broker that breaks chosen connections, for the
transport tests: the Nth connection (from 1) is closed DROP_AT seconds after it opened, and
connections listed in --short are closed --short-after seconds after the broker's CONNACK
passed through, the way Mosquitto closes a client whose first packet after connecting is
malformed. Prints "port N" once listening; logs one line per connection event to stderr.
Standard library only."""
import argparse
import socket
import sys
import threading
import time


def pipe(src, dst, on_first=None):
    first = True
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            if first and on_first:
                first = False
                on_first()
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker-port", type=int, required=True)
    ap.add_argument("--drop", type=int, default=0, help="this connection (from 1) is closed --drop-at s after it opened")
    ap.add_argument("--drop-at", type=float, default=1.0)
    ap.add_argument("--short", default="", help="comma-separated connection numbers closed soon after their CONNACK")
    ap.add_argument("--short-after", type=float, default=0.1)
    a = ap.parse_args()
    short = {int(x) for x in a.short.split(",") if x}

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    print(f"port {ls.getsockname()[1]}", flush=True)
    n = 0
    while True:
        c, _ = ls.accept()
        n += 1
        try:
            b = socket.create_connection(("127.0.0.1", a.broker_port))
        except OSError as e:
            print(f"conn {n}: broker unreachable: {e}", file=sys.stderr, flush=True)
            c.close()
            continue
        for s in (c, b):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        print(f"conn {n}: open", file=sys.stderr, flush=True)

        def close_later(delay, k=n, c=c, b=b, why=""):
            def run():
                time.sleep(delay)
                print(f"conn {k}: closed by the proxy ({why})", file=sys.stderr, flush=True)
                for s in (c, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
            threading.Thread(target=run, daemon=True).start()

        on_connack = None
        if n in short:
            on_connack = lambda k=n, c=c, b=b: close_later(a.short_after, k, c, b, "short after CONNACK")
        if n == a.drop:
            close_later(a.drop_at, n, c, b, f"{a.drop_at} s after it opened")
        threading.Thread(target=pipe, args=(c, b), daemon=True).start()
        threading.Thread(target=pipe, args=(b, c, on_connack), daemon=True).start()


if __name__ == "__main__":
    main()
