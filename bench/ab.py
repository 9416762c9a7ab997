#!/usr/bin/env python3
"""Alternating A/B timing of probe binaries on one bench capture.

    bench/ab.py CAPTURE RUNS BINARY...

CAPTURE is a pcap, or a / b for bench/out's cached captures (run
`make bench` once to make them).  Each round runs every binary once, in
a new random order, against one nfcapd on CPU 0 (the probe on CPU 1),
with the benchmark's options; prints per binary the median and minimum
of wall, user and system time in ms.  On a shared VM one run varies by
a third, so a 10% difference needs tens of runs; shuffling keeps a slow
spell, or going first, from favouring one binary.
"""
import os, random, resource, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
CAPS = {'a': 'gen-n2000000-f200000-s1-r10000-S96-v1.pcap',
        'b': 'gen-n2000000-f1000000-s2-r100000-S96-v1.pcap'}
TIMEOUTS = ('-t general=15s -t tcp=15s -t tcp.rst=5s -t tcp.fin=5s '
            '-t udp=15s -t icmp=15s -t maxlife=1800s -t expint=1s').split()


def warm(path):
    """Read the capture untimed, so no run waits on the disk."""
    with open(path, 'rb') as f:
        while f.read(1 << 24):
            pass


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__.strip())
    cap = sys.argv[1]
    if cap in CAPS:
        cap = os.path.join(HERE, 'out', CAPS[cap])
    if not os.path.exists(cap):
        sys.exit('ab.py: %s not found (run make bench once)' % cap)
    runs, bins = int(sys.argv[2]), [os.path.abspath(b) for b in sys.argv[3:]]
    work = tempfile.mkdtemp(prefix='ab.')
    port = str(20000 + random.randrange(30000))
    nf = subprocess.Popen(['taskset', '-c', '0', 'nfcapd', '-w', work, '-p',
                           port, '-b', '127.0.0.1', '-B', '67108864'],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    res = {b: [] for b in bins}
    try:
        for _ in range(runs):
            for b in random.sample(bins, len(bins)):
                warm(cap)
                r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                t0 = time.perf_counter()
                subprocess.run(['taskset', '-c', '1', b, '-r', cap, '-n',
                                '127.0.0.1:' + port, '-v', '9', '-m',
                                '1000000', '-c', 'none'] + TIMEOUTS,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, check=True)
                t1 = time.perf_counter()
                r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                res[b].append(((t1 - t0) * 1000,
                               (r1.ru_utime - r0.ru_utime) * 1000,
                               (r1.ru_stime - r0.ru_stime) * 1000))
                time.sleep(0.2)
    finally:
        nf.terminate()
        try:
            nf.wait(timeout=5)
        except subprocess.TimeoutExpired:    # it can linger on its file
            nf.kill()
            nf.wait()
        subprocess.run(['rm', '-rf', work])
    for b in bins:
        cols = list(zip(*res[b]))
        print('%-30s' % os.path.basename(b) + ' | '.join(
            ' %s med %6.1f min %6.1f' % (name, statistics.median(c), min(c))
            for name, c in zip(('wall', 'user', 'sys'), cols)) +
            '  (n=%d)' % len(res[b]))


if __name__ == '__main__':
    main()
