#!/usr/bin/env python3
"""cflow_check: decode what a probe exported with tshark and check it.

Usage: cflow_check.py --pcap OUT.pcap --port PORT --stats PROBE.err
                      [--sampling N] [--psamp] [--orig CAPTURE]
                      [--truth TRUTH.tsv --prec 0|1|2|3] [--mpls N]

OUT.pcap holds every message the probe sent to 127.0.0.1:PORT (one
collector, nothing lost); PROBE.err holds its exit statistics.  Checks:
- tshark's expert system reports no error or warning (malformed packets,
  unexpected sequence numbers, bad lengths) on any message;
- headers: IPFIX length equals the UDP payload, IPFIX sequence numbers
  advance by the data records before them, v9 by one, v5 by the flows,
  v9 counts equal the records (templates included) each message holds;
- the data records tshark decodes, and their packets and octets, equal
  the records, packets and octets the probe says it exported, and the
  messages equal what it says it sent to the collector;
- each exporter statistics options record reports exactly the messages,
  octets and flow records sent before it;
- --domain: every v9/IPFIX header carries that observation domain;
- --refresh N: templates come back exactly every N+1 messages;
- --interval T: no data message is more than T s (export times) after
  the last templates, and templates came at least three times;
- statistics: ignoredPacketTotalCount never decreases nor passes the
  decoder's drops; the last message is a statistics record with the
  final decoder drops and unexportable records and packets;
- sampling: announced as 1 in N (v5 header, v9 SAMPLING_INTERVAL, IPFIX
  selector with samplingPacketSpace N-1), or not announced at all;
- --orig: every TCP/UDP record's inner VLAN, MPLS labels (--mpls N),
  direction and interfaces, and with --vlan (-T vlan) its VLAN, are those
  tshark decodes from the original capture;
- --truth: each key's earliest start and latest end, read back at the -A
  precision PREC, equal the first and last packet times.
Prints each problem and a summary line; exits 1 on any problem.
"""
import argparse
import collections
import datetime
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

FLOW_TMPL = range(256, 260)
TMPL_SAMPLING, TMPL_STATS = 264, 265
SET_RE = re.compile(r"^(?:Set|FlowSet) \d+ \[id=(\d+)\]")
FLOW_RE = re.compile(r"^Flow \d+$")
PDU_RE = re.compile(r"^pdu \d+/\d+$")

problems = []


def problem(msg):
    problems.append(msg)
    print("  " + msg)


def fields_of(node):
    """All named descendant fields: name -> list of (show, showname)."""
    out = collections.defaultdict(list)
    for f in node.iter("field"):
        name = f.get("name")
        if name:
            out[name].append((f.get("show", ""), f.get("showname", "")))
    return out


def first(fields, name, default=None):
    v = fields.get(name)
    return v[0][0] if v else default


def num(s):
    return int(s, 0) if s not in (None, "") else 0


def decode(pcap, port):
    cmd = ["tshark", "-n", "-r", pcap, "-d", "udp.port==%d,cflow" % port,
           "-T", "pdml"]
    xml = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=False).stdout
    frames = []
    for pkt in ET.fromstring(xml).iter("packet"):
        udp = cflow = None
        for proto in pkt.findall("proto"):
            if proto.get("name") == "udp":
                udp = proto
            elif proto.get("name") == "cflow":
                cflow = proto
            elif proto.get("name") == "_ws.malformed":
                problem("frame %d: malformed" % (len(frames) + 1))
        if cflow is None:
            problem("frame %d: not decoded as NetFlow/IPFIX" %
                    (len(frames) + 1))
            continue
        top = {}
        for f in cflow.findall("field"):
            if f.get("name"):
                top.setdefault(f.get("name"), f.get("show"))
        hdr = fields_of(cflow)
        fr = {"udp_payload": num(first(fields_of(udp), "udp.length")) - 8,
              "version": num(top.get("cflow.version")),
              "len": num(top.get("cflow.len")),
              "count": num(top.get("cflow.count")),
              "sequence": num(top.get("cflow.sequence")),
              "export_time": num(first(hdr, "cflow.exporttime") or
                                 first(hdr, "cflow.unix_secs")),
              "domain": num(top.get("cflow.od_id") or
                            top.get("cflow.source_id")),
              "samplingmode": num(top.get("cflow.samplingmode")),
              "samplerate": num(top.get("cflow.samplerate")),
              "templates": 0, "sets": []}
        for f in cflow.findall("field"):
            show = f.get("show", "")
            if PDU_RE.match(show):
                fr["sets"].append((0, [fields_of(f)]))
                continue
            m = SET_RE.match(show)
            if not m:
                continue
            recs = []
            for c in f.findall("field"):
                cs = c.get("show", "")
                if FLOW_RE.match(cs):
                    recs.append(fields_of(c))
                elif cs.startswith("Template (Id") or \
                        cs.startswith("Options Template (Id"):
                    fr["templates"] += 1
            fr["sets"].append((int(m.group(1)), recs))
        frames.append(fr)
    return frames


def expert(pcap, port):
    out = subprocess.run(["tshark", "-n", "-r", pcap, "-d",
                          "udp.port==%d,cflow" % port, "-q", "-z", "expert"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, check=False).stdout
    bad = re.findall(r"^(Errors|Warns) \((\d+)\)", out, re.M)
    for kind, n in bad:
        problem("tshark expert: %s %s" % (n, kind.lower()))
    if bad:
        for line in out.splitlines():
            if re.match(r"^\s+\d+\s+\S+\s+\S+\s+", line):
                print("    " + line.strip())


def probe_stats(path):
    """Section -> name -> value from the probe's text statistics."""
    stats, section = collections.defaultdict(dict), None
    with open(path) as f:
        for line in f:
            m = re.match(r"^(\w+):$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^\s+([\w{}=.:\[\]-]+): (\d+)$", line)
            if m and section:
                stats[section][m.group(1)] = int(m.group(2))
    return stats


def record_totals(rec, psamp):
    if psamp:
        return 1, sum(num(s) for s, _ in rec.get("cflow.ip_total_length", []))
    return (sum(num(s) for s, _ in rec.get("cflow.packets", [])),
            sum(num(s) for s, _ in rec.get("cflow.octets", [])))


def check_frames(frames, args, stats):
    version = frames[0]["version"] if frames else 0
    nrec = npk = noct = nopt = 0
    sent_msgs = sent_oct = sent_rec = 0
    next_seq = None
    last_tmpl = 0
    last_stats, last_ignored = None, 0
    tmpl_time, ntmpl = None, 0
    drops = sum(v for k, v in stats["decoder"].items()
                if k.startswith("dropped{"))
    sampling_seen = False
    for i, fr in enumerate(frames, 1):
        data = sum(len(r) for sid, r in fr["sets"] if sid != 0)
        flows = sum(len(r) for sid, r in fr["sets"]
                    if sid in FLOW_TMPL or sid == 0)
        if fr["version"] != version:
            problem("frame %d: version %d after %d" %
                    (i, fr["version"], version))
        if version == 10 and fr["len"] != fr["udp_payload"]:
            problem("frame %d: IPFIX length %d, datagram %d" %
                    (i, fr["len"], fr["udp_payload"]))
        if version == 9 and fr["count"] != fr["templates"] + data:
            problem("frame %d: v9 count %d, records %d" %
                    (i, fr["count"], fr["templates"] + data))
        if version in (9, 10) and fr["domain"] != args.domain:
            problem("frame %d: domain %d, want %d" %
                    (i, fr["domain"], args.domain))
        if fr["templates"]:
            tmpl_time, ntmpl = fr["export_time"], ntmpl + 1
        elif args.interval and flows and tmpl_time is not None and \
                fr["export_time"] - tmpl_time > args.interval:
            problem("frame %d: templates %d s old, refresh every %d s" %
                    (i, fr["export_time"] - tmpl_time, args.interval))
        if fr["templates"]:
            if args.refresh and last_tmpl and i - last_tmpl != \
                    args.refresh + 1:
                problem("frame %d: templates %d messages after the last, "
                        "want %d" % (i, i - last_tmpl, args.refresh + 1))
            last_tmpl = i
        if next_seq is not None and fr["sequence"] != next_seq:
            problem("frame %d: sequence %d, expected %d" %
                    (i, fr["sequence"], next_seq))
        step = {9: 1, 10: data}.get(version, flows)
        if version != 1:	# v1 has no sequence number
            next_seq = (fr["sequence"] + step) & 0xffffffff
        if version == 5:
            want = (1, args.sampling) if args.sampling > 1 else (0, 0)
            if (fr["samplingmode"], fr["samplerate"]) != want:
                problem("frame %d: v5 sampling mode %d rate %d, want %d %d"
                        % (i, fr["samplingmode"], fr["samplerate"], *want))
        for sid, recs in fr["sets"]:
            for rec in recs:
                if sid in FLOW_TMPL or sid == 0:
                    p, o = record_totals(rec, args.psamp)
                    nrec, npk, noct = nrec + 1, npk + p, noct + o
                    if version == 10 and args.sampling > 1 and \
                            num(first(rec, "cflow.selector_id")) != 1:
                        problem("frame %d: sampled record without selector"
                                % i)
                elif sid == TMPL_STATS:
                    nopt += 1
                    got = (num(first(rec, "cflow.packetsexp")),
                           num(first(rec, "cflow.octetsexp")),
                           num(first(rec, "cflow.flowsexp")))
                    if got != (sent_msgs, sent_oct, sent_rec):
                        problem("frame %d: statistics say messages %d octets"
                                " %d records %d; sent before it %d %d %d" %
                                (i, *got, sent_msgs, sent_oct, sent_rec))
                    last_stats = rec
                    ignored = num(first(rec, "cflow.ignore_packets"))
                    if ignored < last_ignored or ignored > drops:
                        problem("frame %d: ignoredPacketTotalCount %d after "
                                "%d, decoder dropped %d" %
                                (i, ignored, last_ignored, drops))
                    last_ignored = ignored
                elif sid == TMPL_SAMPLING:
                    nopt += 1
                    sampling_seen = True
                    check_sampling(i, rec, version, args)
                else:
                    problem("frame %d: records of unknown template %d" %
                            (i, sid))
        sent_msgs += 1
        sent_oct += fr["udp_payload"]
        sent_rec += flows
    if args.interval and ntmpl < 3:
        problem("only %d template messages: the interval went untested" %
                ntmpl)
    # The last statistics record, sent at exit, has the final totals.
    exp = stats["export"]
    if version in (9, 10) and (last_stats is None or
                               frames[-1]["sets"][-1][0] != TMPL_STATS):
        problem("no statistics record in the last message")
    elif version in (9, 10):
        final = (num(first(last_stats, "cflow.ignore_packets")),
                 num(first(last_stats, "cflow.notsent_flows")),
                 num(first(last_stats, "cflow.notsent_packets")))
        want = (drops, exp.get("unexportable_records", 0),
                exp.get("unexportable_packets", 0))
        if final != want:
            problem("final statistics ignored/notsent records/packets %s, "
                    "probe says %s" % (final, want))
    announced = args.sampling > 1 or args.psamp
    if version in (9, 10) and announced != sampling_seen:
        problem("sampling options record %s" %
                ("missing" if announced else "sent without -s"))
    exp, col = stats["export"], stats["collector"]
    msgs = sum(v for k, v in col.items() if k.startswith("packets{"))
    for what, got, want in (("records", nrec, exp.get("records")),
                            ("packets", npk, exp.get("packets")),
                            ("octets", noct, exp.get("octets")),
                            ("options records", nopt,
                             exp.get("options_records")),
                            ("messages", len(frames), msgs)):
        if got != want:
            problem("decoded %s %d, probe says %s" % (what, got, want))
    print("  %d messages, %d records, %d packets, %d octets, %d options "
          "records" % (len(frames), nrec, npk, noct, nopt))


def check_sampling(i, rec, version, args):
    n = args.sampling if args.sampling > 1 else 1
    if version == 9:
        got = (num(first(rec, "cflow.sampling_interval")),
               num(first(rec, "cflow.sampling_algorithm")))
        want = (n, 1)
    else:
        got = (num(first(rec, "cflow.selector_id")),
               num(first(rec, "cflow.selector_algorithm")),
               num(first(rec, "cflow.sampling_packet_interval")),
               num(first(rec, "cflow.sampling_packet_space")))
        want = (1, 1, 1, n - 1)
    if got != want:
        problem("frame %d: sampling record %s, want %s" % (i, got, want))


def tshark_fields(pcap, fields, extra=()):
    cmd = ["tshark", "-n", "-r", pcap, "-o", "ip.defragment:FALSE",
           "-o", "ipv6.defragment:FALSE", "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=\t"]
    cmd += list(extra)
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True,
                         check=False).stdout
    for line in out.splitlines():
        yield [v.split(",") if v else [] for v in line.split("\t")]


def check_orig(frames, args):
    """Per TCP/UDP key, what the original packets carried."""
    seen = collections.defaultdict(set)
    fields = ["ip.src", "ip.dst", "ipv6.src", "ipv6.dst", "tcp.srcport",
              "tcp.dstport", "udp.srcport", "udp.dstport", "vlan.id",
              "mpls.label", "sll.pkttype", "sll.ifindex"]
    for v in tshark_fields(args.orig, fields, ("-Y", "tcp or udp")):
        src = (v[0] or v[2])[:1]
        dst = (v[1] or v[3])[:1]
        if v[4]:
            proto, sp, dp = 6, v[4][0], v[5][0]
        else:
            proto, sp, dp = 17, v[6][0], v[7][0]
        if not src or not dst:
            continue
        vlans = [int(x) for x in v[8]] + [0, 0]
        if not args.vlan:	# not keyed on: not exported either
            vlans[0] = 0
        labels = [int(x) for x in v[9]][:args.mpls]
        labels += [0] * (args.mpls - len(labels))
        egress = 1 if v[10] and v[10][0] == "4" else 0
        ifindex = int(v[11][0]) if v[11] else 0
        seen[(src[0], dst[0], proto, int(sp), int(dp))].add(
            (vlans[0], vlans[1], tuple(labels), egress, ifindex))
    checked = 0
    for i, fr in enumerate(frames, 1):
        for sid, recs in fr["sets"]:
            if sid not in FLOW_TMPL:
                continue
            for rec in recs:
                proto = num(first(rec, "cflow.protocol"))
                if proto not in (6, 17):
                    continue
                src = first(rec, "cflow.srcaddr") or \
                    first(rec, "cflow.srcaddr_v6")
                dst = first(rec, "cflow.dstaddr") or \
                    first(rec, "cflow.dstaddr_v6")
                key = (src, dst, proto, num(first(rec, "cflow.srcport")),
                       num(first(rec, "cflow.dstport")))
                egress = num(first(rec, "cflow.direction"))
                ifin = num(first(rec, "cflow.inputint"))
                ifout = num(first(rec, "cflow.outputint"))
                labels = tuple(num(s) for s, _ in
                               rec.get("cflow.mpls_label", []))
                got = (num(first(rec, "cflow.vlanid")),
                       num(first(rec, "cflow.dot1q_customer_vlan_id")),
                       labels, egress, ifout if egress else ifin)
                if (ifin if egress else ifout) != 0:
                    problem("frame %d: %s: both interfaces set" % (i, key))
                if key not in seen:
                    problem("frame %d: %s: no such packets" % (i, key))
                elif got not in seen[key]:
                    problem("frame %d: %s: vlan/inner/mpls/direction/if %s,"
                            " packets had %s" % (i, key, got,
                                                 sorted(seen[key])))
                checked += 1
    print("  %d TCP/UDP records match the original packets" % checked)


def ntp_ms(showname):
    m = re.search(r": (\w+ +\d+, \d+ [\d:]+)\.(\d+) UTC", showname)
    t = datetime.datetime.strptime(m.group(1), "%b %d, %Y %H:%M:%S")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000, m.group(2)


def check_truth(frames, args):
    scale = {0: 1000, 1: 1, 2: 1, 3: 1}[args.prec]
    want = {}
    with open(args.truth) as f:
        for line in f:
            src, dst, proto, sp, dp, _, _, t0, t1, frag = \
                line.rstrip("\n").split("\t")
            if frag == "0":
                want[(src, dst, int(proto), int(sp), int(dp))] = \
                    (int(t0) // scale, int(t1) // scale)
    got = {}
    for fr in frames:
        for sid, recs in fr["sets"]:
            if sid not in FLOW_TMPL:
                continue
            for rec in recs:
                src = first(rec, "cflow.srcaddr") or \
                    first(rec, "cflow.srcaddr_v6")
                dst = first(rec, "cflow.dstaddr") or \
                    first(rec, "cflow.dstaddr_v6")
                proto = num(first(rec, "cflow.protocol"))
                sp = num(first(rec, "cflow.srcport"))
                dp = num(first(rec, "cflow.dstport"))
                if proto in (1, 58):
                    sp = 0
                    dp = num(first(rec, "cflow.icmp_type_code_ipv4") or
                             first(rec, "cflow.icmp_type_code_ipv6"))
                starts = rec.get("cflow.abstimestart", [])
                ends = rec.get("cflow.abstimeend", [])
                if not starts or not ends:
                    problem("record %s without start/end" % src)
                    continue
                # The forward times are the last pair (reverse ones first).
                s = times_at(starts[-1][1], args.prec)
                e = times_at(ends[-1][1], args.prec)
                keyed = [((src, dst, proto, sp, dp), s, e)]
                # A biflow also carries the reverse direction's times
                # (the first pair) and packets (the second count).
                pkts = rec.get("cflow.packets", [])
                if len(starts) == 2 and len(ends) == 2 and len(pkts) == 2 \
                        and num(pkts[1][0]) > 0:
                    keyed.append(((dst, src, proto, dp, sp),
                                  times_at(starts[0][1], args.prec),
                                  times_at(ends[0][1], args.prec)))
                for k, s, e in keyed:
                    if k in got:
                        got[k] = (min(got[k][0], s), max(got[k][1], e))
                    else:
                        got[k] = (s, e)
    n = 0
    for k, t in want.items():
        if k in got and got[k] != t:
            problem("%s: start/end %s, packets at %s" % (k, got[k], t))
        n += k in got
    print("  %d keys' times match at precision %d" % (n, args.prec))


def times_at(showname, prec):
    ms, frac = ntp_ms(showname)
    if prec == 0:
        return ms // 1000
    return ms + int(frac[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pcap", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--stats", required=True)
    ap.add_argument("--sampling", type=int, default=0)
    ap.add_argument("--psamp", action="store_true")
    ap.add_argument("--orig")
    ap.add_argument("--mpls", type=int, default=0)
    ap.add_argument("--vlan", action="store_true")
    ap.add_argument("--truth")
    ap.add_argument("--prec", type=int, default=1)
    ap.add_argument("--domain", type=int, default=0)
    ap.add_argument("--refresh", type=int, default=0)
    ap.add_argument("--interval", type=int, default=0)
    args = ap.parse_args()
    expert(args.pcap, args.port)
    frames = decode(args.pcap, args.port)
    if not frames:
        problem("no messages captured")
    check_frames(frames, args, probe_stats(args.stats))
    if args.orig:
        check_orig(frames, args)
    if args.truth:
        check_truth(frames, args)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
