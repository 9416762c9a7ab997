#!/usr/bin/env python3
"""notify_listen: play systemd's side of sd_notify for tests/t_signals.sh.

Usage: notify_listen.py ADDRESS READYFILE
ADDRESS is a path, or @name for the abstract namespace, as $NOTIFY_SOCKET
would hold it.  Prints each datagram on one line as "PID MESSAGE", the
sender's pid from its credentials (what systemd checks for
NotifyAccess=main) and the message with its newlines shown as "|".
Exits after STOPPING=1 or 60 s.  READYFILE is created once bound.
"""
import socket
import struct
import sys
import time

addr, ready = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(ready, "w").close()
s.settimeout(1.0)
deadline = time.monotonic() + 60
creds_len = socket.CMSG_SPACE(struct.calcsize("3i"))
while time.monotonic() < deadline:
    try:
        data, anc, _, _ = s.recvmsg(4096, creds_len)
    except socket.timeout:
        continue
    pid = 0
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("3i", value[:12])[0]
    msg = data.decode(errors="replace")
    print(pid, msg.replace("\n", "|"), flush=True)
    if "STOPPING=1" in msg.split("\n"):
        break
