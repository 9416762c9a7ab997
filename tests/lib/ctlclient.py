#!/usr/bin/env python3
"""ctlclient: talk to a softflowd control socket the way no well-behaved
client would, for tests/t_ctl.sh.

Usage: ctlclient.py SOCKET send HEX          send bytes (hex), print reply
       ctlclient.py SOCKET idle              send nothing, print reply
       ctlclient.py SOCKET many N M COMMAND  N clients at once, of which
                                             the daemon should hold M; prints
                                             "served S refused R other O"
       ctlclient.py SOCKET stale             leave a dead socket at SOCKET
Every wait is bounded (20 s), so a test can never hang on it.
"""
import select
import socket
import struct
import sys
import time

LIMIT = 20.0


def read_all(s):
    s.settimeout(LIMIT)
    out = b""
    deadline = time.monotonic() + LIMIT
    while time.monotonic() < deadline:
        try:
            b = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not b:
            break
        out += b
    return out


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # A blocking connect waits while the listen queue is full; the send
    # timeout bounds that wait (a non-blocking one would fail at once).
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                 struct.pack("ll", int(LIMIT), 0))
    s.connect(path)
    s.settimeout(LIMIT)
    return s


def main():
    path, mode = sys.argv[1], sys.argv[2]
    if mode == "send":
        s = connect(path)
        try:
            s.sendall(bytes.fromhex(sys.argv[3]))
        except (BrokenPipeError, ConnectionResetError):
            pass
        sys.stdout.buffer.write(read_all(s))
    elif mode == "idle":
        s = connect(path)
        sys.stdout.buffer.write(read_all(s))
    elif mode == "many":
        n, hold = int(sys.argv[3]), int(sys.argv[4])
        cmd = sys.argv[5].encode() + b"\n"
        socks = [connect(path) for _ in range(n)]
        # Every client is connected before any speaks, and speaks only once
        # the daemon has answered all it should turn away: otherwise a
        # slot freed by a served client could go to a late one.
        deadline = time.monotonic() + LIMIT
        while time.monotonic() < deadline:
            ready, _, _ = select.select(socks, [], [], 0.1)
            if len(ready) >= n - hold:
                break
        for s in socks:
            try:
                s.sendall(cmd)
            except (BrokenPipeError, ConnectionResetError):
                pass
        served = refused = other = 0
        for s in socks:
            r = read_all(s)
            if r.startswith(b"error: too many control clients"):
                refused += 1
            elif r.startswith(b"softflowd[") or r.startswith(b"Valid"):
                served += 1
            else:
                other += 1
            s.close()
        print("served %d refused %d other %d" % (served, refused, other))
    elif mode == "stale":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.close()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
