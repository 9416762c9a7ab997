#!/usr/bin/env python3
"""udp2pcap: receive UDP datagrams on 127.0.0.1 and write them to a pcap.

Usage: udp2pcap.py -p PORT -w FILE [-r READYFILE] [-t MAXSECS]

Each datagram is written as a raw IPv4/UDP packet (LINKTYPE_RAW) from the
sender's address and port to 127.0.0.1:PORT, so tshark can decode the
capture with `-d udp.port==PORT,cflow` and no capture privileges are
needed.  READYFILE is created once the socket is bound.  Stops on SIGTERM
or SIGINT, or after MAXSECS (default 120) so a test can never hang on it.
"""
import argparse
import signal
import socket
import struct
import sys
import time

LINKTYPE_RAW = 101


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_udp(src, sport, dst, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000,
                      64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + udp


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-p", type=int, required=True, help="UDP port")
    ap.add_argument("-w", required=True, help="pcap file to write")
    ap.add_argument("-r", help="file created once listening")
    ap.add_argument("-t", type=float, default=120.0, help="give up after")
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", a.p))
    s.settimeout(0.1)
    deadline = time.monotonic() + a.t
    n = 0
    with open(a.w, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535,
                              LINKTYPE_RAW))
        out.flush()
        if a.r:
            open(a.r, "w").close()
        while not stop and time.monotonic() < deadline:
            try:
                data, (src, sport) = s.recvfrom(65535)
            except socket.timeout:
                continue
            except InterruptedError:
                continue
            pkt = ipv4_udp(src, sport, "127.0.0.1", a.p, data)
            now = time.time()
            out.write(struct.pack("<IIII", int(now), int(now % 1 * 1e6),
                                  len(pkt), len(pkt)) + pkt)
            out.flush()
            n += 1
    sys.stderr.write("udp2pcap: %d datagrams\n" % n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
