#!/usr/bin/env bash
# Live capture end to end: a network namespace with a veth pair, softflowd
# on the root-namespace end, tcpreplay of a shared clean capture on the
# other end, nfcapd on 127.0.0.1.  Every IP packet and byte of the capture
# must reach the collector (flow-compare against pcap-truth; times differ
# from the file's, so they are not compared).
. "$(dirname "$0")/lib/svc.sh"

for t in tcpreplay nfcapd nfdump tshark; do
	command -v $t >/dev/null || skip "$t not installed"
done
setup_veth

port=$(rand_port)
sock=$work/ctl

run_case() {	# capture version
	local f=$1 v=$2 name n dir
	name=$(basename "${f%.*}").v$v
	dir=$work/$name
	n=$(frames "$pcaps/$f")
	"$tools/pcap-truth" "$pcaps/$f" >"$dir.truth"
	port=$((port + 1))
	start_nfcapd "$dir" $port || { nok "$name: nfcapd did not start"; return; }
	# Long timeouts: nothing leaves the table before the final expiry.
	start_probe "$name" -i "$svc_veth" -c "$sock" -p "$work/pid" \
	    -n 127.0.0.1:$port -v "$v" -t maxlife=1h -t general=1h
	if ! wait_until 10 test -S "$sock"; then
		nok "$name: no control socket"; sed 's/^/     /' "$work/$name.log"
		return
	fi
	replay_into "$pcaps/$f" || { nok "$name: tcpreplay failed"; return; }
	if ! wait_until 30 seen_is "$sock" "$n"; then
		nok "$name: read $(stat_of "$sock" capture packets_seen) of $n frames"
		return
	fi
	drops=$(stat_of "$sock" capture "kernel_drops{source=$svc_veth}")
	ctl "$sock" shutdown
	wait_exit $sf_pid 30
	stop_nfcapd "$dir"
	if [ "$rc" -eq 0 ] && [ "$drops" = 0 ] &&
	    "$tools/flow-compare" $cmpopt "$dir.truth" "$dir.json" \
	    >"$dir.compare" 2>&1; then
		ok "$name: $n frames live through $svc_veth, $(wc -l <"$dir.truth") keys match pcap-truth"
	else
		nok "$name: exit $rc, kernel drops $drops"
		sed 's/^/     /' "$dir.compare" | head -10
	fi
}

cmpopt=""
run_case eth_mixed_telegram.pcap 9
run_case eth_ipv6_tcp_udp.pcap 10
cmpopt="--ipv4-only"
run_case eth_ipv4_tcp_http_full_session_fin.pcap 5
finish
