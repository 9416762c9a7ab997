#!/usr/bin/env bash
# make demo: replay contrib/demo.pcap into a real nfcapd on 127.0.0.1 and
# show what the collector stored, then check that every IP packet and byte
# softflowd accounted arrived in an exported flow.
#   tests/demo.sh [pcap]        (default contrib/demo.pcap)
# Environment: SOFTFLOWD (the binary, default ./softflowd), DEMO_SHOW (flow
# lines printed, default 20), DEMO_KEEP=1 keeps the collector's files.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac
pcap=${1:-$top/contrib/demo.pcap}
show=${DEMO_SHOW:-20}

die() {
	echo "demo: $*" >&2
	exit 1
}

for t in nfcapd nfdump; do
	command -v $t >/dev/null ||
	    die "$t not found: run sudo contrib/install-deps.sh (Debian package nfdump)"
done
[ -x "$probe" ] || die "$probe not built: run make"
[ -r "$pcap" ] || die "$pcap not found: run make demo (it builds the demo capture) or give a pcap"

work=$(mktemp -d "${TMPDIR:-/tmp}/softflowd-demo.XXXXXX") ||
    die "cannot create a temporary directory: set TMPDIR to a writable one"
npid=
cleanup() {
	[ -n "$npid" ] && kill -TERM "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	if [ "${DEMO_KEEP:-0}" = 1 ]; then
		echo "demo: kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$work/nf"

# True when something listens on UDP port $1 of 127.0.0.1.
udp_listening() {
	if command -v ss >/dev/null; then
		ss -Hlun "sport = :$1" 2>/dev/null | grep -q .
	else
		sleep 0.5		# no ss: give nfcapd time to bind
	fi
}

# A random high port; retried when taken so parallel runs don't collide.
port=
for _ in $(seq 20); do
	p=$((20000 + RANDOM % 40000))
	command -v ss >/dev/null && udp_listening $p && continue
	nfcapd -w "$work/nf" -p $p -b 127.0.0.1 >"$work/nfcapd.log" 2>&1 &
	npid=$!
	for _ in $(seq 50); do
		kill -0 $npid 2>/dev/null || break
		udp_listening $p && break
		sleep 0.1
	done
	if kill -0 $npid 2>/dev/null && udp_listening $p; then
		port=$p
		break
	fi
	wait $npid 2>/dev/null
	npid=
done
[ -n "$port" ] || die "nfcapd did not start (see its messages below)
$(cat "$work/nfcapd.log" 2>/dev/null)"

cmd="softflowd -r ${pcap#$top/} -n 127.0.0.1:$port -v 9 -c none"
echo "demo: nfcapd listening on 127.0.0.1:$port, storing in $work/nf"
echo "demo: $cmd"
"$probe" -r "$pcap" -n 127.0.0.1:$port -v 9 -c none \
    >"$work/softflowd.out" 2>"$work/softflowd.err"
rc=$?
# nfcapd flushes its file on SIGTERM; the datagrams are on loopback, so
# a short pause lets the last of them be read before it stops.
sleep 0.5
kill -TERM $npid 2>/dev/null
wait $npid 2>/dev/null
npid=
if [ $rc -ne 0 ]; then
	cat "$work/softflowd.err" >&2
	die "softflowd exited $rc"
fi

# softflowd's exit statistics: what it read and what it accounted.
stat() {	# group name
	awk -v g="$1:" -v n="  $2:" '
	    /^[a-z_]+:$/ { grp = $0 }
	    grp == g && index($0, n) == 1 { print $2; exit }' \
	    "$work/softflowd.err"
}
seen=$(stat capture packets_seen)
acc_pkts=$(stat flows packets)
acc_octs=$(stat flows octets)
flows=$(stat export flows)
[ -n "$seen" ] && [ -n "$acc_pkts" ] ||
    die "softflowd printed no statistics; see $work/softflowd.err (DEMO_KEEP=1)"

TZ=UTC nfdump -R "$work/nf" -o extended -O tstart >"$work/flows.txt" \
    2>"$work/nfdump.err" || die "nfdump cannot read $work/nf: $(cat "$work/nfdump.err")"
TZ=UTC nfdump -R "$work/nf" -I >"$work/stat.txt" 2>/dev/null
nf_flows=$(awk '$1 == "Flows:" { print $2 }' "$work/stat.txt")
nf_pkts=$(awk '$1 == "Packets:" { print $2 }' "$work/stat.txt")
nf_octs=$(awk '$1 == "Bytes:" { print $2 }' "$work/stat.txt")

echo
echo "demo: nfdump -R DIR -o extended (first $show flows by start time):"
nlines=$(grep -c '^[0-9]' "$work/flows.txt")
head -n $((show + 1)) "$work/flows.txt"
[ "$nlines" -gt "$show" ] && echo "... $((nlines - show)) more flows"
echo
grep -E '^Summary:' "$work/flows.txt"
echo
if [ "${nf_pkts:-0}" = "$acc_pkts" ] && [ "${nf_octs:-0}" = "$acc_octs" ]; then
	echo "demo: $seen packets read, $acc_pkts IP packets and $acc_octs bytes" \
	    "accounted in $flows flows; nfcapd stored them as $nf_flows one-way records with" \
	    "exactly those packets and bytes"
else
	echo "demo: MISMATCH: softflowd accounted $acc_pkts packets / $acc_octs" \
	    "bytes but nfcapd stored ${nf_pkts:-0} / ${nf_octs:-0};" \
	    "rerun with DEMO_KEEP=1 and compare" >&2
	exit 1
fi
