#!/usr/bin/env python3
"""ipfix_rx: an IPFIX collector over TCP (or SCTP) that checks framing.

Usage: ipfix_rx.py -p PORT -o SUMMARY.json [-r READYFILE] [-t MAXSECS]
                   [--sctp]

Accepts connections on 127.0.0.1:PORT and reads IPFIX messages back to
back (RFC 7011 section 10.4).  For each message it checks the version, that
the length is at least a header and frames the stream exactly, that sets
tile the message, that a data set only uses templates sent earlier on the
same connection, that records fill their set (padding shorter than a
record), and that sequence numbers advance by the data records.  It sums
flow records, packets and octets (packetDeltaCount, octetDeltaCount and
their RFC 5103 reverse elements; ipTotalLength of PSAMP records).
SUMMARY.json is rewritten after every message: one entry per connection
with messages, records, packets, octets, whether templates came first and
every error.  READYFILE is created once listening.  Stops on SIGTERM or
after MAXSECS (default 120).
"""
import argparse
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

PEN_REVERSE = 29305
COUNTS = {(2, 0): "packets", (1, 0): "octets",
          (2, PEN_REVERSE): "packets", (1, PEN_REVERSE): "octets",
          (224, 0): "psamp_octets"}


class Conn:
    def __init__(self, sock, n):
        self.sock, self.n = sock, n
        self.buf = b""
        self.templates = {}
        self.seq = None
        self.s = {"connection": n, "messages": 0, "flow_records": 0,
                  "options_records": 0, "packets": 0, "octets": 0,
                  "templates_first": None, "closed": False, "errors": []}

    def error(self, msg):
        if len(self.s["errors"]) < 20:
            self.s["errors"].append("message %d: %s" %
                                    (self.s["messages"], msg))

    def feed(self, data, sctp):
        if sctp:
            self.message(data)
            return
        self.buf += data
        while len(self.buf) >= 4:
            version, length = struct.unpack("!HH", self.buf[:4])
            if version != 10 or length < 16:
                self.error("version %d length %d: stream out of frame"
                           % (version, length))
                self.buf = b""
                return
            if len(self.buf) < length:
                return
            msg, self.buf = self.buf[:length], self.buf[length:]
            self.message(msg)

    def message(self, msg):
        self.s["messages"] += 1
        if len(msg) < 16:
            self.error("short message of %d bytes" % len(msg))
            return
        version, length, _, seq, _ = struct.unpack("!HHIII", msg[:16])
        if version != 10 or length != len(msg):
            self.error("version %d, length %d in %d bytes" %
                       (version, length, len(msg)))
            return
        if self.seq is not None and seq != self.seq:
            self.error("sequence %d, expected %d" % (seq, self.seq))
        off, ndata, first_set = 16, 0, True
        while off < length:
            if length - off < 4:
                self.error("%d stray bytes after the sets" % (length - off))
                break
            sid, slen = struct.unpack("!HH", msg[off:off + 4])
            if slen < 4 or off + slen > length:
                self.error("set %d of length %d overruns" % (sid, slen))
                break
            body = msg[off + 4:off + slen]
            if first_set and self.s["templates_first"] is None:
                self.s["templates_first"] = sid in (2, 3)
            first_set = False
            if sid in (2, 3):
                self.template_set(sid, body)
            elif sid >= 256:
                ndata += self.data_set(sid, body)
            else:
                self.error("reserved set id %d" % sid)
            off += slen
        self.seq = (seq + ndata) & 0xffffffff

    def template_set(self, sid, body):
        off = 0
        while len(body) - off >= 4:
            tid, count = struct.unpack("!HH", body[off:off + 4])
            off += 4
            if sid == 3:
                off += 2        # scope field count
            fields = []
            for _ in range(count):
                if off + 4 > len(body):
                    self.error("template %d truncated" % tid)
                    return
                ie, ln = struct.unpack("!HH", body[off:off + 4])
                off += 4
                pen = 0
                if ie & 0x8000:
                    pen, = struct.unpack("!I", body[off:off + 4])
                    off += 4
                    ie &= 0x7fff
                fields.append((ie, pen, ln))
            self.templates[tid] = (sid, fields)

    def data_set(self, sid, body):
        if sid not in self.templates:
            self.error("data set %d before its template" % sid)
            return 0
        kind, fields = self.templates[sid]
        reclen = sum(f[2] for f in fields)
        n, off = 0, 0
        while len(body) - off >= reclen and reclen > 0:
            rec = body[off:off + reclen]
            off += reclen
            n += 1
            if kind == 3:
                self.s["options_records"] += 1
                continue
            self.s["flow_records"] += 1
            pos = 0
            for ie, pen, ln in fields:
                what = COUNTS.get((ie, pen))
                if what:
                    v = int.from_bytes(rec[pos:pos + ln], "big")
                    if what == "psamp_octets":
                        self.s["packets"] += 1
                        what = "octets"
                    self.s[what] += v
                pos += ln
        if len(body) - off >= max(reclen, 1):
            self.error("set %d: %d bytes left over" % (sid, len(body) - off))
        return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-p", type=int, required=True)
    ap.add_argument("-o", required=True)
    ap.add_argument("-r")
    ap.add_argument("-t", type=float, default=120.0)
    ap.add_argument("--sctp", action="store_true")
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    proto = socket.IPPROTO_SCTP if a.sctp else 0
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, proto)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.p))
    ls.listen(8)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    conns = []

    def dump():
        tmp = a.o + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"connections": [c.s for c in conns]}, f, indent=1)
        os.replace(tmp, a.o)

    dump()
    if a.r:
        open(a.r, "w").close()
    deadline = time.monotonic() + a.t
    while not stop and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.1):
            if key.fileobj is ls:
                s, _ = ls.accept()
                conns.append(Conn(s, len(conns) + 1))
                sel.register(s, selectors.EVENT_READ, conns[-1])
                dump()
                continue
            c = key.data
            try:
                data = c.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                c.s["closed"] = True
                sel.unregister(c.sock)
                c.sock.close()
            else:
                c.feed(data, a.sctp)
            dump()
    dump()
    return 0


if __name__ == "__main__":
    sys.exit(main())
