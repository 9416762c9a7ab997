#!/usr/bin/env bash
# The traffic generator: same arguments, same bytes; its own totals equal
# pcap-truth's; the traffic has the mix it promises; and a generated
# capture replayed through softflowd into nfcapd passes flow-compare
# --times, with idle, active, FIN and RST expiry all taking part.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-.}
gen=$top/$B/tests/gen_traffic
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac
tools=${SHARED:-$top/../shared}/tools
out=$top/tests/out/gen_traffic
rm -rf "$out"; mkdir -p "$out"
pass=0; fail=0

ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() {	# description command...
	local what=$1; shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
fails() { ! "$@" 2>/dev/null; }

[ -x "$gen" ] || { echo "build it first: make gen_traffic"; echo "0 passed, 1 failed"; exit 1; }

# Determinism: twice the same, and the seed matters.
"$gen" -n 2000 -f 200 -s 42 -r 50 -o "$out/a.pcap" -T "$out/a.truth"
"$gen" -n 2000 -f 200 -s 42 -r 50 -o "$out/b.pcap" -T "$out/b.truth"
"$gen" -n 2000 -f 200 -s 43 -r 50 -o "$out/c.pcap"
check "same seed, same capture" cmp -s "$out/a.pcap" "$out/b.pcap"
check "same seed, same totals" cmp -s "$out/a.truth" "$out/b.truth"
check "another seed, another capture" fails cmp -s "$out/a.pcap" "$out/c.pcap"
"$gen" -n 2000 -f 200 -s 42 -r 50 >"$out/stdout.pcap"
check "stdout output equals -o output" cmp -s "$out/a.pcap" "$out/stdout.pcap"

# Bad arguments say what to do and exit non-zero.
check "missing -r is refused" fails "$gen" -n 10 -f 2 -s 1 -o "$out/x.pcap"
check "more flows than packets is refused" fails "$gen" -n 10 -f 20 -s 1 -r 1 \
	-o "$out/x.pcap"

count() {	# pcap filter -> packets matching
	tcpdump -nr "$1" "$2" 2>/dev/null | wc -l
}
has() {		# pcap filter description
	local n
	n=$(count "$1" "$2")
	if [ "$n" -gt 0 ]; then ok "capture has $3 ($n)"; else bad "capture has no $3"; fi
}

# A capture long enough for idle timeouts and for pauses past them.
mid=$out/mid.pcap
"$gen" -n 3000 -f 300 -s 5 -r 20 -o "$mid" -T "$out/mid.truth"
check "3000 packets written" test "$(count "$mid" '')" -eq 3000
has "$mid" 'tcp[13] = 2 or (vlan and tcp[13] = 2)' "TCP SYN"
has "$mid" 'tcp[13] = 0x12 or (vlan and tcp[13] = 0x12)' "TCP SYN-ACK"
has "$mid" 'tcp[13] & 1 != 0 or (vlan and tcp[13] & 1 != 0)' "TCP FIN"
has "$mid" 'tcp[13] & 4 != 0 or (vlan and tcp[13] & 4 != 0)' "TCP RST"
has "$mid" 'udp or (vlan and udp)' "UDP"
has "$mid" 'icmp[0] = 8 or (vlan and icmp[0] = 8)' "ICMP echo request"
has "$mid" 'icmp[0] = 0 or (vlan and icmp[0] = 0)' "ICMP echo reply"
has "$mid" 'ip6 and tcp or (vlan and ip6 and tcp)' "IPv6 TCP"
has "$mid" 'ip6 and udp or (vlan and ip6 and udp)' "IPv6 UDP"
has "$mid" 'icmp6 or (vlan and icmp6)' "ICMPv6"
has "$mid" 'vlan' "802.1Q tags"
small=$(count "$mid" 'less 64')
large=$(count "$mid" 'greater 1000')
check "frames from 60 bytes up to 1514" test "$small" -gt 0 -a "$large" -gt 0 \
	-a "$(count "$mid" 'greater 1515')" -eq 0

# The generator's totals are pcap-truth's, byte for byte.
if [ -x "$tools/pcap-truth" ] && command -v tshark >/dev/null; then
	"$tools/pcap-truth" "$mid" >"$out/mid.pcap-truth"
	check "generator totals equal pcap-truth" cmp -s "$out/mid.truth" \
		"$out/mid.pcap-truth"
else
	bad "pcap-truth or tshark missing (contrib/install-deps.sh)"
fi

# Capture duration: PACKETS / PPS seconds.
dur=$(tcpdump -tt -nr "$mid" 2>/dev/null | awk 'NR == 1 {f = $1} {l = $1}
	END {printf "%d", l - f}')
check "3000 packets at 20/s span about 150 s ($dur)" test "$dur" -ge 140 \
	-a "$dur" -le 150

# softflowd reads a classic pcap file itself; a named pipe goes through
# libpcap.  Both must see the same packets, filtered or not, and stop at
# the same record of a cut file with the same message.
stats_of() {	# stderr file -> the flow and decoder counters
	sed -n '/^decoder:/,/^export:/p' "$1" | grep -v '^export:'
}
same_reader() {	# name pcap [filter]
	local name=$1 pcap=$2 fifo=$out/reader.fifo
	shift 2
	rm -f "$fifo"; mkfifo "$fifo"
	"$probe" -r "$pcap" -c none -v 9 "$@" >/dev/null 2>"$out/$name.file"
	cat "$pcap" >"$fifo" &
	"$probe" -r "$fifo" -c none -v 9 "$@" >/dev/null 2>"$out/$name.pipe"
	wait
	if [ -n "$(stats_of "$out/$name.file")" ] &&
	    [ "$(stats_of "$out/$name.file")" = "$(stats_of "$out/$name.pipe")" ]; then
		ok "$name: file and pipe readers agree"
	else
		bad "$name: file and pipe readers differ (see $out/$name.*)"
	fi
}
same_reader reader-all "$mid"
same_reader reader-filter "$mid" "tcp or (vlan and tcp)"
head -c 100000 "$mid" >"$out/cut.pcap"
same_reader reader-cut "$out/cut.pcap"
msg_file=$(grep -o 'truncated dump file.*' "$out/reader-cut.file")
msg_pipe=$(grep -o 'truncated dump file.*' "$out/reader-cut.pipe")
check "cut file: same error from both readers (${msg_file:-none})" \
	test -n "$msg_file" -a "$msg_file" = "$msg_pipe"

# Through softflowd into nfcapd: flow-compare --times against the truth.
replay() {	# pcap truth name extra-args...
	local pcap=$1 truth=$2 name=$3 dir=$out/$3 port npid rc
	shift 3
	mkdir -p "$dir/nf"
	port=$((20000 + RANDOM % 40000))
	nfcapd -w "$dir/nf" -p $port -b 127.0.0.1 >"$dir/nfcapd.log" 2>&1 &
	npid=$!
	for _ in $(seq 50); do
		ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	"$probe" -r "$pcap" -n 127.0.0.1:$port -c none "$@" \
		>"$dir/probe.out" 2>"$dir/probe.err"
	rc=$?
	sleep 0.3
	kill -TERM $npid; wait $npid 2>/dev/null
	TZ=UTC nfdump -R "$dir/nf" -o json >"$dir/flows.json" 2>/dev/null
	check "$name: softflowd exits 0" test $rc -eq 0
	if "$tools/flow-compare" --times "$truth" "$dir/flows.json" \
		>"$dir/compare.txt" 2>&1; then
		ok "$name: flow-compare --times"
	else
		bad "$name: flow-compare --times (see $dir)"
		head -5 "$dir/compare.txt"
	fi
}
expired() {	# name reason -> count from the exit statistics
	sed -n "s/.*expired_by{reason=$2}: //p" "$out/$1/probe.err"
}
positive() {	# name reason
	local n
	n=$(expired "$1" "$2")
	check "$1: flows expired by $2 (${n:-none})" test "${n:-0}" -gt 0
}

if command -v nfcapd >/dev/null && command -v nfdump >/dev/null; then
	replay "$mid" "$out/mid.truth" mid-v9 -v 9
	positive mid-v9 idle_timeout
	positive mid-v9 tcp_fin
	positive mid-v9 tcp_rst
	created=$(sed -n 's/^  created: //p' "$out/mid-v9/probe.err")
	check "mid-v9: flows that paused past the idle timeout are split \
(${created:-?} records from 300 flows)" test "${created:-0}" -gt 300
	replay "$mid" "$out/mid.truth" mid-v10 -v 10
	# Over an hour: some flows outlive the 30-minute active timeout.
	"$gen" -n 5000 -f 10 -s 3 -r 1 -o "$out/long.pcap" -T "$out/long.truth"
	replay "$out/long.pcap" "$out/long.truth" long-v9 -v 9
	positive long-v9 active_timeout
	# A table smaller than the live flows exports early, losing nothing.
	replay "$mid" "$out/mid.truth" mid-m16 -v 9 -m 16
	positive mid-m16 table_full
else
	bad "nfcapd/nfdump missing (contrib/install-deps.sh)"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
