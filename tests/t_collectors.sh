#!/usr/bin/env bash
# Several collectors.  Mirroring to a closed port and to nfcapd: nfcapd
# still receives every flow (flow-compare --times against pcap-truth), the
# closed one's failures are counted (every message either sent or counted
# refused) and logged once.  Round-robin (-l) over two nfcapd: each gets
# some messages, and the union of what they stored passes flow-compare.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$top/../shared}
pcaps=$shared/pcaps
tools=$shared/tools
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac
# A private directory per run: parallel runs (make check beside
# make check-asan) never share one; kept only when something failed.
mkdir -p "$top/tests/out"
out=$(mktemp -d "$top/tests/out/t_collectors.XXXXXX") || exit 1
for t in nfcapd nfdump; do
	command -v $t >/dev/null || { echo "t_collectors: $t not installed"; echo "0 passed, 1 failed"; exit 1; }
done

pass=0; fail=0; port=$((20000 + RANDOM % 30000))
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

# A port nothing listens on: bind it, note it, close it.
closed_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

nfcapd_start() {	# dir port -> pid in $npid
	mkdir -p "$1"
	nfcapd -w "$1" -p "$2" -b 127.0.0.1 >"$1.log" 2>&1 &
	npid=$!
	for _ in $(seq 50); do
		ss -Hlun "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

nfcapd_json() {		# dir... -> stdout: one JSON array of all records
	local d
	for d in "$@"; do
		TZ=UTC nfdump -R "$d" -o json 2>/dev/null
	done | python3 -c '
import json, sys, re
text = sys.stdin.read()
recs = []
for chunk in re.split(r"(?m)^(?=\[)", text):
    chunk = chunk.strip()
    if chunk.startswith("["):
        try:
            recs += json.loads(chunk)
        except ValueError:
            pass
print(json.dumps(recs))'
}

stat() {	# file name{collector=X} -> value
	sed -n "s/^  $2: //p" "$1" | head -1
}

# Mirror: the closed port first, so it cannot hide behind the open one.
mirror() {	# tag capture version-args
	local tag=$1 f=$2 dir=$out/mirror-$1 cport nport cmpopt="--times"
	shift 2
	cport=$(closed_port); port=$((port + 1)); nport=$port
	nfcapd_start "$dir/nf" $nport || { bad "$tag: nfcapd did not start"; return; }
	# shellcheck disable=SC2086
	"$probe" -r "$pcaps/$f" -n 127.0.0.1:$cport -n 127.0.0.1:$nport \
		-c none "$@" >"$dir/probe.out" 2>"$dir/probe.err"
	local rc=$?
	sleep 0.3; kill -TERM $npid; wait $npid 2>/dev/null
	"$tools/pcap-truth" "$pcaps/$f" >"$dir/truth"
	nfcapd_json "$dir/nf" >"$dir/flows.json"
	case "$*" in *"-v 5"*) cmpopt="--times --ipv4-only" ;; esac
	if [ $rc -eq 0 ] && "$tools/flow-compare" $cmpopt "$dir/truth" \
	    "$dir/flows.json" >"$dir/compare.txt" 2>&1; then
		ok "$tag: nfcapd beside a closed port got every flow"
	else
		bad "$tag: nfcapd beside a closed port (exit $rc; see $dir)"
		head -5 "$dir/compare.txt"
	fi
	local c=127.0.0.1:$cport n=127.0.0.1:$nport e="$dir/probe.err"
	local sent err ref nsent nerr lost
	sent=$(stat "$e" "packets{collector=$c}")
	err=$(stat "$e" "errors{collector=$c}")
	ref=$(stat "$e" "refused{collector=$c}")
	lost=$(stat "$e" "lost_records{collector=$c}")
	nsent=$(stat "$e" "packets{collector=$n}")
	nerr=$(stat "$e" "errors{collector=$n}")
	if [ -n "$err" ] && [ "$err" -gt 0 ] && [ "$err" = "$ref" ] &&
	    [ "$lost" -gt 0 ] && [ "$nerr" = 0 ] &&
	    [ $((sent + err)) = "$nsent" ]; then
		ok "$tag: closed port: $err of $nsent messages refused, counted"
	else
		bad "$tag: counts: closed sent=$sent errors=$err refused=$ref" \
		    "lost_records=$lost; nfcapd sent=$nsent errors=$nerr"
	fi
	local logs
	logs=$(grep -c "collector $c: refused" "$e")
	if [ "$logs" = 1 ]; then
		ok "$tag: refusals logged once"
	else
		bad "$tag: refusals logged $logs times"
	fi
}

mirror v10 eth_mixed_telegram.pcap -v 10
mirror v9-ipv6 eth_ipv6_tcp_udp.pcap -v 9
mirror v5 eth_mixed_telegram.pcap -v 5

# Round-robin over two nfcapd, small messages so each gets several.
roundrobin() {	# tag capture args
	local tag=$1 f=$2 dir=$out/rr-$1 p1 p2 pid1 pid2
	shift 2
	printf 'mtu = 400\n' >"$dir.conf"
	port=$((port + 1)); p1=$port; port=$((port + 1)); p2=$port
	nfcapd_start "$dir/nf1" $p1 || { bad "$tag: nfcapd did not start"; return; }
	pid1=$npid
	nfcapd_start "$dir/nf2" $p2 || { bad "$tag: nfcapd did not start"; kill $pid1; return; }
	pid2=$npid
	# shellcheck disable=SC2086
	"$probe" -r "$pcaps/$f" -l -n 127.0.0.1:$p1 -n 127.0.0.1:$p2 \
		-f "$dir.conf" -c none "$@" >"$dir/probe.out" 2>"$dir/probe.err"
	local rc=$?
	sleep 0.3; kill -TERM $pid1 $pid2; wait $pid1 $pid2 2>/dev/null
	"$tools/pcap-truth" "$pcaps/$f" >"$dir/truth"
	nfcapd_json "$dir/nf1" "$dir/nf2" >"$dir/flows.json"
	local n1 n2
	n1=$(nfcapd_json "$dir/nf1" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	n2=$(nfcapd_json "$dir/nf2" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	if [ $rc -eq 0 ] && [ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] &&
	    "$tools/flow-compare" --times "$dir/truth" "$dir/flows.json" \
	    >"$dir/compare.txt" 2>&1; then
		ok "$tag: round-robin: $n1 + $n2 records, union exact"
	else
		bad "$tag: round-robin (exit $rc, $n1 + $n2 records; see $dir)"
		head -5 "$dir/compare.txt"
	fi
}

roundrobin v10 eth_mixed_telegram.pcap -v 10
roundrobin v9 eth_mixed_telegram.pcap -v 9

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && rm -rf "$out"
[ $fail -eq 0 ]
