#!/usr/bin/env bash
# A third decoder: pmacct's nfacctd receives v9 and IPFIX from the probe on
# 127.0.0.1 and aggregates per src/dst/proto/ports with its print plugin;
# per key and in total its packets and bytes equal pcap-truth's.  v5 with
# -s 10 and nfacctd_renormalize: nfacctd scales by the header's sampling
# interval, so it reports exactly 10 times what the probe exported.
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
out=$(mktemp -d "$top/tests/out/t_pmacct.XXXXXX") || exit 1
command -v nfacctd >/dev/null || { echo "t_pmacct: nfacctd not installed (apt-get install pmacct)"; echo "0 passed, 1 failed"; exit 1; }

pass=0; fail=0; port=$((20000 + RANDOM % 30000))

# run DIR "NFACCTD EXTRA" CAPTURE PROBE-ARGS...: nfacctd's CSV in DIR/out.csv
run() {
	local dir=$1 extra=$2 f=$3 npid
	shift 3
	mkdir -p "$dir"
	port=$((port + 1))
	cat >"$dir/nfacctd.conf" <<-EOF
	daemonize: false
	nfacctd_ip: 127.0.0.1
	nfacctd_port: $port
	plugins: print[t]
	aggregate[t]: src_host, dst_host, proto, src_port, dst_port
	print_output[t]: csv
	print_output_file[t]: $dir/out.csv
	print_output_file_append[t]: true
	print_refresh_time[t]: 1
	$extra
	EOF
	nfacctd -f "$dir/nfacctd.conf" >"$dir/nfacctd.log" 2>&1 &
	npid=$!
	for _ in $(seq 50); do
		ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	"$probe" -r "$pcaps/$f" -n 127.0.0.1:$port -c none "$@" \
		>"$dir/probe.out" 2>"$dir/probe.err"
	rc=$?
	# The print plugin writes its cache every second and at exit.
	sleep 1.5
	kill -INT $npid; wait $npid 2>/dev/null
}

# compare TRUTH CSV: per key (fragments per src/dst/proto) and in total.
compare() {
	python3 - "$1" "$2" <<-'EOF'
	import collections, csv, ipaddress, sys
	PROTO = {"icmp": 1, "tcp": 6, "udp": 17, "ipv6-icmp": 58, "gre": 47,
	         "esp": 50, "ah": 51, "ospf": 89, "sctp": 132, "igmp": 2,
	         "pim": 103, "vrrp": 112, "ipv6": 41, "ipencap": 4}
	truth, frag = {}, set()
	for line in open(sys.argv[1]):
	    s, d, p, sp, dp, n, b, _, _, fr = line.rstrip("\n").split("\t")
	    k = (s, d, int(p), int(sp), int(dp))
	    truth[k] = [int(n), int(b)]
	    if fr == "1":
	        frag.add(k[:3])
	got = collections.defaultdict(lambda: [0, 0])
	# Each append of the print plugin repeats the header line.
	lines = open(sys.argv[2]).read().splitlines()
	rows = [lines[0]] + [l for l in lines[1:] if l != lines[0]]
	for r in csv.DictReader(rows):
	    p = r["PROTOCOL"]
	    p = PROTO[p] if p in PROTO else int(p)
	    k = (str(ipaddress.ip_address(r["SRC_IP"])),
	         str(ipaddress.ip_address(r["DST_IP"])), p,
	         int(r["SRC_PORT"]), int(r["DST_PORT"]))
	    got[k][0] += int(r["PACKETS"])
	    got[k][1] += int(r["BYTES"])
	def fold(m):
	    out = collections.defaultdict(lambda: [0, 0])
	    for k, v in m.items():
	        kk = k[:3] if k[:3] in frag else k
	        out[kk][0] += v[0]
	        out[kk][1] += v[1]
	    return out
	t, g = fold(truth), fold(got)
	bad = [k for k in set(t) | set(g) if t.get(k) != g.get(k)]
	for k in sorted(bad, key=str)[:10]:
	    print("  %s: nfacctd %s, truth %s" % (k, g.get(k), t.get(k)))
	tot = lambda m, i: sum(v[i] for v in m.values())
	print("  %d keys; nfacctd %d packets %d bytes, truth %d %d" %
	      (len(t), tot(g, 0), tot(g, 1), tot(t, 0), tot(t, 1)))
	sys.exit(1 if bad else 0)
	EOF
}

for spec in "10 eth_mixed_telegram.pcap" "10 eth_ipv6_tcp_udp.pcap" \
    "10 eth_ipv4_tcp_http_full_session_fin.pcap" "10 pcapng_eth_http.pcapng" \
    "10 eth_ipv6_icmpv6_mixed.pcap" "10 eth_ipv4_fragments_udp.pcap" \
    "9 eth_mixed_telegram.pcap" "9 eth_ipv6_tcp_udp.pcap" \
    "9 eth_ipv4_icmp_echo.pcap"; do
	v=${spec%% *}; f=${spec#* }
	dir=$out/v$v-${f%.*}
	run "$dir" "" "$f" -v "$v"
	"$tools/pcap-truth" "$pcaps/$f" >"$dir/truth"
	if [ $rc -eq 0 ] && [ -s "$dir/out.csv" ] &&
	    compare "$dir/truth" "$dir/out.csv" >"$dir/compare.txt" 2>&1; then
		pass=$((pass + 1)); echo "ok   -v $v $f:$(tail -1 "$dir/compare.txt")"
	else
		fail=$((fail + 1)); echo "FAIL -v $v $f (exit $rc; see $dir)"
		head -6 "$dir/compare.txt" 2>/dev/null
	fi
done

# v5 header sampling, read by nfacctd: its totals are 10x the exported.
dir=$out/v5-s10
run "$dir" "nfacctd_renormalize: true" eth_mixed_telegram.pcap -v 5 -s 10
want=$(awk '/^export:/ {e = 1} e && /^  packets:/ {p = $2} e && /^  octets:/ {print p * 10, $2 * 10; exit}' "$dir/probe.err")
got=$(awk -F, 'NR > 1 && $1 != "SRC_IP" {p += $6; b += $7} END {print p + 0, b + 0}' "$dir/out.csv" 2>/dev/null)
if [ $rc -eq 0 ] && [ -n "$want" ] && [ "$got" = "$want" ]; then
	pass=$((pass + 1)); echo "ok   -v 5 -s 10: nfacctd renormalized to $got (10x exported)"
else
	fail=$((fail + 1)); echo "FAIL -v 5 -s 10: nfacctd $got, want $want (see $dir)"
fi

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && rm -rf "$out"
[ $fail -eq 0 ]
