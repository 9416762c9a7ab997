#!/usr/bin/env bash
# Every export format decoded by tshark: each datagram the probe sends is
# written to a pcap (tests/lib/udp2pcap.py), then tests/lib/cflow_check.py
# has tshark decode it: no malformed packet, no expert error or warning,
# records, packets and octets equal to what the probe says it exported,
# statistics and sampling options records exact, and the VLAN, MPLS,
# interface, direction and time fields true to the original capture.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$top/../shared}
pcaps=$shared/pcaps
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac
lib=$top/tests/lib
# A private directory per run: parallel runs (make check beside
# make check-asan) never share one; kept only when something failed.
mkdir -p "$top/tests/out"
out=$(mktemp -d "$top/tests/out/t_tshark.XXXXXX") || exit 1
command -v tshark >/dev/null || { echo "t_tshark: tshark not installed"; echo "0 passed, 1 failed"; exit 1; }

pass=0; fail=0; port=$((20000 + RANDOM % 30000))

# case NAME CAPTURE "PROBE ARGS" [CHECK ARGS...]
case_() {
	local name=$1 pcap=$pcaps/$2 args=$3 dir=$out/$1 rx rc=0
	shift 3
	mkdir -p "$dir"
	port=$((port + 1))
	python3 "$lib/udp2pcap.py" -p $port -w "$dir/export.pcap" \
		-r "$dir/ready" -t 60 2>"$dir/rx.err" &
	rx=$!
	for _ in $(seq 50); do [ -f "$dir/ready" ] && break; sleep 0.1; done
	# shellcheck disable=SC2086
	"$probe" -r "$pcap" -n 127.0.0.1:$port -c none $args \
		>"$dir/probe.out" 2>"$dir/probe.err" || rc=$?
	sleep 0.3
	kill -TERM $rx; wait $rx 2>/dev/null
	if [ $rc -eq 0 ] && python3 "$lib/cflow_check.py" \
	    --pcap "$dir/export.pcap" --port $port --stats "$dir/probe.err" \
	    "$@" >"$dir/check.txt" 2>&1; then
		pass=$((pass + 1)); echo "ok   $name"
	else
		fail=$((fail + 1)); echo "FAIL $name (probe exit $rc; see $dir)"
		sed 's/^/     /' "$dir/check.txt" | head -12
	fi
}

mixed=eth_mixed_telegram.pcap
http=eth_ipv4_tcp_http_full_session_fin.pcap
v6=eth_ipv6_tcp_udp.pcap
icmp=eth_ipv6_icmpv6_mixed.pcap

# Each version, IPv4 and IPv6, ICMP templates.
case_ v1-mixed $mixed "-v 1"
case_ v5-mixed $mixed "-v 5"
case_ v9-mixed $mixed "-v 9"
case_ v10-mixed $mixed "-v 10"
case_ v9-ipv6 $v6 "-v 9"
case_ v10-ipv6 $v6 "-v 10"
case_ v10-icmpv6 $icmp "-v 10"
case_ v10b-http $http "-v 10 -b"
case_ v10b-mixed $mixed "-v 10 -b"

# Sampling: announced in each format, counts unscaled.
case_ v5-s10 $mixed "-v 5 -s 10" --sampling 10
case_ v9-s10 $mixed "-v 9 -s 10" --sampling 10
case_ v10-s10 $mixed "-v 10 -s 10" --sampling 10

# PSAMP: a record per packet, with and without sampling.
case_ psamp-mixed $mixed "-v psamp" --psamp
case_ psamp-s10 $mixed "-v psamp -s 10" --psamp --sampling 10
case_ psamp-ipv6 $v6 "-v psamp -A nano" --psamp

# Observation domain and template refresh every N datagrams (config keys).
conf=$out/refresh.conf
printf 'domain_id = 4242\ntemplate_packets = 3\n' >"$conf"
case_ v10-refresh3 $mixed "-v 10 -f $conf" --domain 4242 --refresh 3
case_ v9-refresh3 $mixed "-v 9 -f $conf" --domain 4242 --refresh 3

# Template refresh every T seconds of (replayed) time.
tconf=$out/interval.conf
printf 'template_interval = 2\ntemplate_packets = 100000\n' >"$tconf"
case_ v10-interval2 $mixed "-v 10 -f $tconf" --interval 2
case_ v9-interval2 $mixed "-v 9 -f $tconf" --interval 2

# Packets the decoder drops reach ignoredPacketTotalCount.
case_ v10-ignored eth_gre_various_vlan.pcap "-v 10 -f $conf" --domain 4242
case_ v9-ignored eth_pppoe_session.pcap "-v 9 -f $conf" --domain 4242

# Small messages: templates and options records split across several.
small=$out/mtu.conf
printf 'mtu = 256\n' >"$small"
case_ v10-mtu256 $mixed "-v 10 -s 10 -f $small" --sampling 10
case_ v9-mtu256 $v6 "-v 9 -f $small"
case_ v10b-mtu256 $v6 "-v 10 -b -x 10 -f $small"

# Element values true to the original packets: VLANs (keyed with -T
# vlan), QinQ inner VLAN, MPLS labels (-x), interfaces and direction.
for f in eth_vlan_8021q_http.pcap eth_qinq_8100x2_http.pcap \
    eth_qinq_8100x2_udp.pcap; do
	case_ "vlan-${f%.pcap}" $f "-v 10 -T vlan" --orig "$pcaps/$f" --vlan
done
case_ mpls-x3 eth_vlan_mpls_label_stack.pcap "-v 10 -x 3" \
	--orig "$pcaps/eth_vlan_mpls_label_stack.pcap" --mpls 3
case_ mpls-x3-v9 eth_mpls_tcp_telnet_mixed_vlan.pcap "-v 9 -x 3" \
	--orig "$pcaps/eth_mpls_tcp_telnet_mixed_vlan.pcap" --mpls 3
case_ sll2-direction sll2_ipv4_tcp_http_bulk.pcap "-v 10" \
	--orig "$pcaps/sll2_ipv4_tcp_http_bulk.pcap"
case_ sll-direction sll_ipv4_tcp_irc.pcap "-v 9" \
	--orig "$pcaps/sll_ipv4_tcp_irc.pcap"

# -A: each time precision decodes back to the packets' times.
for f in $http $mixed; do
	truth=$out/${f%.*}.truth
	"$shared/tools/pcap-truth" "$pcaps/$f" >"$truth"
	for p in sec:0 milli:1 micro:2 nano:3; do
		case_ "times-${p%:*}-${f%.pcap}" $f "-v 10 -A ${p%:*}" \
			--truth "$truth" --prec ${p#*:}
	done
done

# Biflows: each direction's first and last packet times, forward and
# reverse elements read back separately (nfdump keeps one pair per record,
# so flow-compare cannot check them).
for f in $http $mixed eth_ipv4_tcp_dns.pcap sll_ipv4_tcp_irc.pcap $v6; do
	truth=$out/${f%.*}.truth
	[ -s "$truth" ] || "$shared/tools/pcap-truth" "$pcaps/$f" >"$truth"
	case_ "biflow-times-${f%.pcap}" $f "-v 10 -b" --truth "$truth" --prec 1
done

echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && rm -rf "$out"
[ $fail -eq 0 ]
