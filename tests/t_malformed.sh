#!/usr/bin/env bash
# Hostile and odd captures: every capture of ../shared/pcaps whose Status
# in SOURCES.md is malformed, edge or broken-file is replayed through
# softflowd into nfcapd on 127.0.0.1.  softflowd must never die of a
# signal; it must name in its final statistics why each packet it did not
# account was dropped; what it accounts must reach the collector with the
# real byte counts; and a file it cannot read must be reported, with the
# flows read before the error still exported.
#   tests/t_malformed.sh [capture ...]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$top/../shared}
pcaps=$shared/pcaps
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac

for t in nfcapd nfdump python3; do
	command -v $t >/dev/null ||
		{ echo "t_malformed: $t not installed (contrib/install-deps.sh)"; exit 1; }
done
[ -x "$probe" ] || { echo "t_malformed: build softflowd first (make)"; exit 1; }

# What each capture must yield, decided by reading it with tshark -V:
#   file | drop and note counters | packets bytes at the collector
# Counters are the names softflowd's statistics print as
# dropped{reason=NAME} and noted{note=NAME}; every other one must be 0.
expect() {
	case $1 in
	# 32 nested Ethernet/MPLS/pseudowire layers and no IP at the bottom.
	eth_mpls_deep_stack_malformed.pcap)
		echo "too_many_encapsulations=1|0 0" ;;
	# 8 of 78 bytes captured: the Ethernet header itself is cut.
	trunc_eth_snaplen1.pcap)	echo "truncated_link_header=1|0 0" ;;
	# 6 bytes of the IPv4 header captured.
	trunc_eth_ipv4_header.pcap)	echo "truncated_ip_header=1|0 0" ;;
	# 34 bytes of the 40-byte IPv6 header captured.
	trunc_eth_ipv6_header.pcap)	echo "truncated_ip_header=1|0 0" ;;
	# Not cut by the capture (54 of 54 bytes): the IPv6 header promises 20
	# payload bytes (a hop-by-hop header) and the frame ends after it;
	# tshark: "IPv6 payload length exceeds framing length (0 bytes)".
	trunc_eth_ipv6_exthdr.pcap)	echo "bad_ip_total_length=1|0 0" ;;
	# Two pings cut by the snaplen 6 bytes into the ICMP header: type and
	# code are there, and the IPv4 total length (84) is what the wire
	# carried, so both are accounted in full.
	trunc_eth_icmp_header.pcap)	echo "|2 168" ;;
	# Total length 0 in a 46-byte datagram: not BIG TCP, which only
	# zeroes the length of datagrams over 64 KiB.
	bad_eth_ipv4_bogus_ihl.pcap)	echo "bad_ip_total_length=1|0 0" ;;
	# Total length 85 in 84 bytes of datagram (tshark: "IPv4 total
	# length exceeds packet length").
	bad_eth_ipv4_invalid_total_length.pcap)
		echo "bad_ip_total_length=1|0 0" ;;
	# IHL 4: a 16-byte IPv4 header.
	bad_eth_ipv4_invalid_hdr_length.pcap)
		echo "bad_ip_header_length=1|0 0" ;;
	# 53-byte frame, not cut: 39 bytes of IPv6 header (tshark: "IPv6
	# header must be exactly 40 bytes").
	bad_eth_ipv6_invalid_length.pcap)
		echo "truncated_ip_header=1|0 0" ;;
	# Two neighbour solicitations (64 bytes each) and two frames whose
	# IPv6 ethertype carries version 0.
	bad_eth_ipv6_bad_version.pcap)	echo "bad_ip_version=2|2 128" ;;
	# One 80066-byte frame, IPv4 total length 0: the datagram is the
	# frame less the Ethernet header, 80052 bytes.
	eth_ipv4_bigtcp_zero_totlen.pcap)
		echo "ipv4_total_length_zero=1|1 80052" ;;
	# Payload length 0 and a Jumbo Payload option of 65536: 65576 bytes.
	eth_ipv6_jumbogram.pcap)	echo "ipv6_jumbogram=1|1 65576" ;;
	# An IPv4 TCP datagram of 174 bytes, then a record whose caplen
	# libpcap refuses.
	bad_file_caplen_gt_snaplen.pcap) echo "|1 174" ;;
	# One record whose loopback header (0x6c002f00) is no address family,
	# then the file ends inside the next record header.
	bad_file_truncated_last_record.pcap) echo "non_ip=1|0 0" ;;
	# Empty, or refused before the first packet.
	bad_file_*)			echo "|0 0" ;;
	*)				return 1 ;;
	esac
}

# file status tcpdump-check, from SOURCES.md's table.
list_captures() {
	awk -F'|' '/^\| `/ {
		f=$2; gsub(/[ `]/, "", f); st=$3; gsub(/ /, "", st);
		chk=$12; sub(/^ +/, "", chk); sub(/ +$/, "", chk);
		if (st == "malformed" || st == "edge" || st == "broken-file")
			print f "\t" st "\t" chk
	}' "$pcaps/SOURCES.md"
}

# A directory per run: parallel runs (make check beside check-asan) must
# not share one.  Kept when something failed.
mkdir -p "$top/tests/out"
out=$(mktemp -d "$top/tests/out/malformed.XXXXXX") || exit 1
pass=0; fail=0; port=$((20000 + RANDOM % 30000))
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# Value of "  name: N" in group "group:" of the text statistics.
stat() {	# file group name
	awk -v g="$2:" -v n="  $3:" '
		/^[a-z_]+:$/ { cur = $0; next }
		cur == g && index($0, n) == 1 { print $NF; exit }' "$1"
}

# Sums of the flows nfdump stored: "packets bytes".
collector_sums() {
	python3 -c '
import json, sys
text = open(sys.argv[1]).read()
# nfdump prints a bracketed "No matching flows" when it stored none.
recs = json.loads(text) if "FLOW" in text else []
p = b = 0
for r in recs:
    if r.get("type", "FLOW") == "FLOW":
        p += int(r.get("in_packets", 0)) + int(r.get("out_packets", 0))
        b += int(r.get("in_bytes", 0)) + int(r.get("out_bytes", 0))
print(p, b)' "$1"
}

run_one() {	# file status tcpdump-check
	local f=$1 status=$2 chk=$3 dir exp counters want got rc npid
	local name val c ok1=1 seen dropped accounted msg
	dir=$out/${f%.*}; mkdir -p "$dir/nf"
	if ! exp=$(expect "$f"); then
		bad "$f: no expectation in t_malformed.sh for this $status capture"
		return
	fi
	counters=${exp%%|*}; want=${exp#*|}
	port=$((port + 1))
	nfcapd -w "$dir/nf" -p $port -b 127.0.0.1 >"$dir/nfcapd.log" 2>&1 &
	npid=$!
	for _ in $(seq 50); do
		ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	timeout 60 "$probe" -r "$pcaps/$f" -n 127.0.0.1:$port -v 9 -c none \
		>"$dir/probe.out" 2>"$dir/probe.err"
	rc=$?
	sleep 0.3
	kill -TERM $npid; wait $npid 2>/dev/null
	TZ=UTC nfdump -R "$dir/nf" -o json >"$dir/flows.json" 2>/dev/null
	got=$(collector_sums "$dir/flows.json")

	if [ $rc -ge 124 ]; then
		bad "$f: softflowd died (exit $rc: signal or timeout; see $dir)"
		return
	fi
	case $chk in
	"tcpdump refuses to open:"*)
		# libpcap's own words, as tcpdump printed them.
		msg=${chk#*\`tcpdump: }; msg=${msg%\`}
		if [ $rc -eq 1 ] && grep -qF "cannot read $pcaps/$f: $msg" \
		    "$dir/probe.err"; then
			ok "$f: refused at open (\"$msg\"), exit 1"
		else
			bad "$f: want 'cannot read FILE: $msg' and exit 1, got" \
			    "exit $rc: $(head -1 "$dir/probe.err")"
		fi
		return ;;
	"opens; tcpdump stops with:"*)
		msg=${chk#*\`tcpdump: }; msg=${msg%\`}; msg=${msg#pcap_loop: }
		# libpcap names an unknown link type; softflowd, that it has none.
		case $msg in "unknown data link type "*)
			msg="link type $(echo "$msg" | awk '{print $5}')" ;;
		esac
		if [ $rc -eq 1 ] && grep -F "$pcaps/$f" "$dir/probe.err" |
		    grep -qF "$msg"; then
			ok "$f: read error named (\"$msg\"), exit 1"
		else
			bad "$f: want a warning naming \"$msg\" and exit 1, got" \
			    "exit $rc: $(head -1 "$dir/probe.err")"
			ok1=0
		fi ;;
	*)
		if [ $rc -eq 0 ]; then
			ok "$f: exit 0"
		else
			bad "$f: exit $rc, want 0: $(head -1 "$dir/probe.err")"
			ok1=0
		fi ;;
	esac

	# What was read before any error: the flows at the collector, and the
	# statistics (a run refused at open prints none).
	if [ "$got" = "$want" ]; then
		ok "$f: collector holds $want (packets bytes)"
	else
		bad "$f: collector holds $got (packets bytes), want $want"
	fi
	if ! grep -q '^decoder:$' "$dir/probe.err"; then
		# Only a file refused before its first packet may print none.
		if [ $rc -eq 1 ] && [ "$want" = "0 0" ]; then
			ok "$f: refused before reading, no statistics"
		else
			bad "$f: no statistics printed"
		fi
		return
	fi
	for c in $(grep -o '\(dropped{reason\|noted{note\)=[a-z0-9_]*}: [0-9]*' \
	    "$dir/probe.err" | sed 's/.*=\([a-z0-9_]*\)}: \([0-9]*\)/\1=\2/'); do
		name=${c%=*}; val=${c#*=}
		want_val=0
		for e in $counters; do
			[ "${e%=*}" = "$name" ] && want_val=${e#*=}
		done
		[ "$val" = "$want_val" ] || { ok1=0; bad "$f: $name is $val, want $want_val"; }
	done
	for e in $counters; do
		grep -q "[{=]${e%=*}}: " "$dir/probe.err" ||
			{ ok1=0; bad "$f: statistics do not name ${e%=*}"; }
	done
	[ $ok1 = 1 ] && ok "$f: statistics name ${counters:-no drop}"

	# Every packet read is either dropped for a named reason or accounted,
	# and everything accounted was exported.
	seen=$(stat "$dir/probe.err" capture packets_seen)
	dropped=$(grep -o 'dropped{reason=[a-z0-9_]*}: [0-9]*' "$dir/probe.err" |
		awk '{ s += $2 } END { print s + 0 }')
	accounted=$(stat "$dir/probe.err" flows packets)
	if [ -n "$seen" ] && [ -n "$accounted" ] &&
	    [ "$seen" -eq $((dropped + accounted)) ] &&
	    [ "$(stat "$dir/probe.err" export packets) $(stat "$dir/probe.err" export octets)" = "$got" ]; then
		ok "$f: $seen read = $dropped dropped + $accounted accounted, all exported"
	else
		bad "$f: read ${seen:-?}, dropped $dropped, accounted" \
		    "${accounted:-?}, exported" \
		    "$(stat "$dir/probe.err" export packets)/$(stat "$dir/probe.err" export octets)," \
		    "collector $got"
	fi
}

if [ $# -gt 0 ]; then
	for f in "$@"; do
		list_captures | grep "^$f	" || { echo "t_malformed: $f is not a malformed, edge or broken-file capture"; exit 2; }
	done >"$out/list"
else
	list_captures >"$out/list"
fi
[ -s "$out/list" ] || { echo "t_malformed: no captures found in $pcaps/SOURCES.md"; exit 1; }
while IFS=$'\t' read -r f status chk; do
	run_one "$f" "$status" "$chk"
done <"$out/list"
[ $fail -eq 0 ] && rm -rf "$out"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
