#!/usr/bin/env bash
# make bench: replay two generated captures through ./softflowd and
# Debian's softflowd 1.1 with the same options, each exporting NetFlow v9
# to its own nfcapd on 127.0.0.1, and print per capture and probe:
# packets/s (median of runs), peak RSS, RSS per active flow, flows and
# records exported, what the collector stored, and ours/softflowd ratios.
# It checks that the collector received every record each probe sent and
# that its packet and byte totals are the capture's (the generator's own
# pcap-truth totals).
#
#   bench/bench.sh [-k runs] [-c a,b] [-l] [-s]
#     -k runs   runs per capture and probe (default 5; the median counts)
#     -c list   captures to run: a (2 M packets, 200 k flows),
#               b (2 M packets, 1 M flows); default both
#     -l        live mode instead (root): tcpreplay --topspeed into a veth
#               pair in a network namespace, each probe capturing the other
#               end; reports capture drops and tcpreplay's rate
#     -s        small captures (200 k packets) to try the script quickly
#
# Environment: B (build directory), SOFTFLOWD_REF (the reference probe,
# default /usr/sbin/softflowd), BENCH_OUT (captures and results, default
# bench/out).  Each probe runs pinned to one core (taskset), its collector
# on another when there is one.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-.}
ours=$top/$B/softflowd
gen=$top/$B/tests/gen_traffic
ref=${SOFTFLOWD_REF:-/usr/sbin/softflowd}
out=${BENCH_OUT:-$top/bench/out}
runs=5
which="a b"
live=0
small=0
while getopts "k:c:ls" o; do
	case $o in
	k) runs=$OPTARG ;;
	c) which=${OPTARG//,/ } ;;
	l) live=1 ;;
	s) small=1 ;;
	*) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done

die() { echo "bench: $*" >&2; exit 1; }
for t in nfcapd nfdump taskset; do
	command -v $t >/dev/null ||
	    die "$t not found: run sudo contrib/install-deps.sh"
done
[ -x "$ours" ] || die "$ours not built: run make"
[ -x "$gen" ] || die "$gen not built: run make gen_traffic"
if [ ! -x "$ref" ]; then
	echo "bench: $ref not installed (Debian package softflowd):" \
	    "measuring ours alone" >&2
	ref=
fi
mkdir -p "$out" || die "cannot create $out"

# Capture name -> generator arguments: packets flows seed rate.
declare -A spec=(
	[a]="2000000 200000 1 10000"
	[b]="2000000 1000000 2 100000"
)
if [ $small = 1 ]; then
	spec[a]="200000 20000 1 1000"
	spec[b]="200000 100000 2 10000"
fi
# Same timeouts for both probes: Cisco's defaults, expiry every second.
TIMEOUTS="-t general=15s -t tcp=15s -t tcp.rst=5s -t tcp.fin=5s \
-t udp=15s -t icmp=15s -t maxlife=1800s -t expint=1s"
MAXFLOWS=1000000
NCPU=$(nproc)
PROBE_CPU=$((NCPU > 1 ? 1 : 0))
COLL_CPU=0
SOCKBUF=$((64 << 20))

# The collector must not lose datagrams: a large receive buffer, which
# the kernel caps at net.core.rmem_max.
rmem_saved=
if [ "$(id -u)" = 0 ] && [ -w /proc/sys/net/core/rmem_max ]; then
	rmem_saved=$(cat /proc/sys/net/core/rmem_max)
	[ "$rmem_saved" -lt $SOCKBUF ] &&
		echo $SOCKBUF >/proc/sys/net/core/rmem_max
else
	echo "bench: not root: nfcapd's socket buffer stays at" \
	    "net.core.rmem_max; the collector may drop datagrams" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/softflowd-bench.XXXXXX") ||
    die "cannot create a temporary directory: set TMPDIR"
npid=
cleanup() {
	[ -n "$npid" ] && kill -TERM "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	[ -n "$rmem_saved" ] && echo "$rmem_saved" >/proc/sys/net/core/rmem_max
	[ $live = 1 ] && live_teardown
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Generated once per generator source and arguments, then reused.
capture() {	# name -> sets pcap, truth, npackets, nflows
	local n f s r tag
	read -r n f s r <<<"${spec[$1]}"
	tag=$(md5sum "$top/tests/gen_traffic.c" | cut -c1-8)
	pcap=$out/gen-n$n-f$f-s$s-r$r-$tag.pcap
	truth=${pcap%.pcap}.truth
	npackets=$n
	nflows=$f
	if [ ! -s "$pcap" ] || [ ! -s "$truth" ]; then
		echo "bench: generating $pcap" >&2
		"$gen" -n "$n" -f "$f" -s "$s" -r "$r" -S 96 -o "$pcap.tmp" \
		    -T "$truth.tmp" || die "gen_traffic failed"
		mv "$pcap.tmp" "$pcap" && mv "$truth.tmp" "$truth"
	fi
	if [ ! -s "$truth.sum" ]; then
		awk -F'\t' '{p += $6; b += $7} END {print p, b}' "$truth" \
		    >"$truth.sum"
	fi
}

collector_start() {	# dir -> sets npid, port
	local try
	mkdir -p "$1/nf"
	for try in $(seq 20); do
		port=$((20000 + RANDOM % 40000))
		ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && continue
		taskset -c $COLL_CPU nfcapd -w "$1/nf" -p $port -b 127.0.0.1 \
		    -B $SOCKBUF >"$1/nfcapd.log" 2>&1 &
		npid=$!
		for _ in $(seq 50); do
			ss -Hlun "sport = :$port" 2>/dev/null | grep -q . &&
				return 0
			kill -0 $npid 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM $npid 2>/dev/null; wait $npid 2>/dev/null
	done
	die "nfcapd does not start (see $1/nfcapd.log)"
}

# Wait until nfcapd has read everything queued on its socket, then stop it
# so it writes its file.
collector_stop() {	# dir
	local q
	for _ in $(seq 300); do
		q=$(ss -Hlun "sport = :$port" 2>/dev/null | awk '{print $2}')
		[ "${q:-0}" = 0 ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -TERM $npid 2>/dev/null; wait $npid 2>/dev/null
	npid=
	nfdump -R "$1/nf" -I >"$1/nfdump.txt" 2>&1
}

stat_of() {	# file "Key:" -> value
	awk -v k="$2" '$1 == k {print $2; exit}' "$1"
}

median() {
	sort -g | awk '{v[NR] = $1} END {
		if (NR == 0) print "nan";
		else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Our exit statistics: "  name: value" lines under "section:".
ours_stat() {	# file section name
	awk -v s="$2:" -v k="  $3:" '$0 == s {in_s = 1; next}
		/^[a-z]/ {in_s = 0}
		in_s && index($0, k) == 1 {print $2; exit}' "$1"
}

# One replay: sets pps, rss_kb, exported, sent_records, coll_* and peak.
replay_once() {	# probe-label binary dir
	local label=$1 bin=$2 dir=$3 t0 t1 extra=""
	mkdir -p "$dir"
	collector_start "$dir"
	[ "$label" = softflowd ] && extra="-d"
	t0=$(date +%s%N)
	taskset -c $PROBE_CPU /usr/bin/time -f "%M" -o "$dir/rss" \
	    "$bin" -r "$pcap" -n 127.0.0.1:$port -v 9 -m $MAXFLOWS -c none \
	    $extra $TIMEOUTS >"$dir/probe.out" 2>&1
	t1=$(date +%s%N)
	collector_stop "$dir"
	pps=$(( npackets * 1000000000 / (t1 - t0) ))
	rss_kb=$(tail -1 "$dir/rss")
	if [ "$label" = ours ]; then
		exported=$(ours_stat "$dir/probe.out" export flows)
		sent_records=$(ours_stat "$dir/probe.out" export records)
		peak=$(ours_stat "$dir/probe.out" flows peak_active)
	else
		# "Flows exported: F (R records) in D packets (E failures)"
		exported=$(sed -n 's/^Flows exported: \([0-9]*\) .*/\1/p' \
		    "$dir/probe.out")
		sent_records=$(sed -n 's/^Flows exported: .*(\([0-9]*\) records).*/\1/p' \
		    "$dir/probe.out")
		# softflowd expires nothing by time in a replay, so its table
		# only grows: it peaks at -m when it had to make room, else
		# at the flows it flushed at the end.
		if grep -Eq 'maxflows = +[1-9]' "$dir/probe.out"; then
			peak=$MAXFLOWS
		else
			peak=$(sed -n 's/.*flushed = *\([0-9]*\).*/\1/p' \
			    "$dir/probe.out")
		fi
	fi
	coll_flows=$(stat_of "$dir/nfdump.txt" Flows:)
	coll_packets=$(stat_of "$dir/nfdump.txt" Packets:)
	coll_bytes=$(stat_of "$dir/nfdump.txt" Bytes:)
	coll_seqfail=$(awk '/^Sequence failures:/ {print $3}' "$dir/nfdump.txt")
}

failures=0
report_checks() {	# label
	local want_p want_b ok="ok"
	read -r want_p want_b <"$truth.sum"
	if [ "${coll_flows:-x}" != "${sent_records:-y}" ]; then
		ok="MISMATCH"; failures=$((failures + 1))
	fi
	printf '    %-10s collector received %s of %s records sent (%s)\n' \
	    "$1" "${coll_flows:-?}" "${sent_records:-?}" "$ok"
	ok="ok"
	if [ "${coll_packets:-x}" != "$want_p" ] ||
	    [ "${coll_bytes:-x}" != "$want_b" ]; then
		# Ours must be exact; the reference is only reported.
		if [ "$1" = ours ]; then
			ok="MISMATCH"; failures=$((failures + 1))
		else
			ok="differs"
		fi
	fi
	printf '    %-10s collector packets %s bytes %s, capture %s / %s (%s)\n' \
	    "$1" "${coll_packets:-?}" "${coll_bytes:-?}" "$want_p" "$want_b" "$ok"
	[ "${coll_seqfail:-0}" != 0 ] &&
		printf '    %-10s nfcapd counted %s sequence failures\n' "$1" \
		    "$coll_seqfail"
	return 0
}

bench_replay() {
	local name label bin i p r
	printf 'softflowd replay benchmark: %s runs each, NetFlow v9 to nfcapd, -m %s,\n' \
	    "$runs" $MAXFLOWS
	printf 'timeouts: %s\n' "$TIMEOUTS"
	printf 'probe on CPU %s, collector on CPU %s (%s CPUs: %s)\n\n' \
	    $PROBE_CPU $COLL_CPU "$NCPU" \
	    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
	for name in $which; do
		[ -n "${spec[$name]:-}" ] || die "no capture \"$name\" (a or b)"
		capture "$name"
		printf 'capture %s: %s packets, %s flows (%s)\n' "$name" \
		    "$npackets" "$nflows" "$(basename "$pcap")"
		printf '  %-10s %12s %10s %9s %10s %9s %10s %10s\n' probe \
		    "packets/s" "peak RSS" "B/flow" "peak flows" exported \
		    records collector
		for label in ours softflowd; do
			bin=$ours
			[ $label = softflowd ] && bin=$ref
			[ -n "$bin" ] || continue
			: >"$work/pps"; : >"$work/rss"
			for i in $(seq "$runs"); do
				replay_once $label "$bin" "$work/$name.$label.$i"
				echo "$pps" >>"$work/pps"
				echo "$rss_kb" >>"$work/rss"
			done
			p=$(median <"$work/pps")
			r=$(median <"$work/rss")
			eval "pps_$label=$p rss_$label=$r peak_$label=$peak"
			printf '  %-10s %12s %8s MB %9s %10s %9s %10s %10s\n' \
			    $label "$p" "$((r / 1024))" \
			    "$((r * 1024 / (peak > 0 ? peak : 1)))" \
			    "$peak" "$exported" "$sent_records" "$coll_flows"
			report_checks $label
		done
		if [ -n "$ref" ]; then
			awk -v a="$pps_ours" -v b="$pps_softflowd" \
			    -v ra="$rss_ours" -v rb="$rss_softflowd" \
			    -v pa="$peak_ours" -v pb="$peak_softflowd" 'BEGIN {
				printf "  ours/softflowd: packets/s %.1fx, peak RSS %.2fx, RSS per active flow %.2fx\n\n",
				    a / b, ra / rb, (ra / pa) / (rb / pb) }'
		else
			echo
		fi
	done
}

# --- live mode: tcpreplay into a veth pair inside a namespace -----------

NS=sfbench$$
live_teardown() {
	ip netns del $NS 2>/dev/null
	ip link del sfb$$a 2>/dev/null
	return 0
}

bench_live() {
	local name label bin dir tr rate drops kd
	[ "$(id -u)" = 0 ] || die "-l needs root (network namespace, veth)"
	for t in ip tcpreplay; do
		command -v $t >/dev/null ||
		    die "$t not found: run sudo contrib/install-deps.sh"
	done
	# tcpreplay sends from the host side; the probes listen inside the
	# namespace on the peer, so nothing else on the host is captured.
	ip netns add $NS || die "cannot create network namespace $NS"
	ip link add sfb$$a type veth peer name sfb$$b netns $NS ||
	    die "cannot create a veth pair"
	ip link set sfb$$a up mtu 9000
	ip -n $NS link set sfb$$b up mtu 9000
	ip -n $NS link set lo up
	printf 'softflowd live benchmark: tcpreplay --topspeed into veth, %s runs each\n\n' "$runs"
	for name in $which; do
		capture "$name"
		printf 'capture %s: %s packets, %s flows\n' "$name" \
		    "$npackets" "$nflows"
		printf '  %-10s %14s %12s %12s %12s\n' probe "tcpreplay pps" \
		    received "kernel drops" "flows"
		for label in ours softflowd; do
			bin=$ours
			[ $label = softflowd ] && bin=$ref
			[ -n "$bin" ] || continue
			for i in $(seq "$runs"); do
				dir=$work/live.$name.$label.$i
				live_once
				printf '  %-10s %14s %12s %12s %12s\n' $label \
				    "$rate" "$received" "$drops" "$flows"
			done
		done
		echo
	done
}

# One live run inside the namespace: the probe captures sfb$$b, tcpreplay
# sends on sfb$$a, then the probe is stopped and its counters read.
live_once() {
	local ppid ctl=$work/ctl.$$ extra=""
	mkdir -p "$dir"
	if [ $label = softflowd ]; then
		ip netns exec $NS taskset -c $PROBE_CPU "$bin" -i sfb$$b -d \
		    -v 9 -m $MAXFLOWS -c "$ctl" $TIMEOUTS -B $((64 << 20)) \
		    -p "$dir/pid" >"$dir/probe.out" 2>&1 &
	else
		ip netns exec $NS taskset -c $PROBE_CPU "$bin" -i sfb$$b -d \
		    -v 9 -m $MAXFLOWS -c none $TIMEOUTS -B $((64 << 20)) \
		    -p "$dir/pid" >"$dir/probe.out" 2>&1 &
	fi
	ppid=$!
	sleep 1
	taskset -c $COLL_CPU tcpreplay --topspeed -i sfb$$a "$pcap" \
	    >"$dir/tcpreplay.out" 2>&1
	sleep 1
	rate=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' \
	    "$dir/tcpreplay.out" | head -1)
	if [ $label = softflowd ]; then
		command -v softflowctl >/dev/null &&
			ip netns exec $NS softflowctl -c "$ctl" statistics \
			    >"$dir/ctl.out" 2>&1
		kill -TERM $ppid; wait $ppid 2>/dev/null
		received=$(sed -n 's/^Packets processed: //p' "$dir/probe.out" \
		    "$dir/ctl.out" 2>/dev/null | head -1)
		drops=$(sed -n 's/.*[Dd]ropped packets*: *\([0-9]*\).*/\1/p; s/.*pcap: *\([0-9]*\) drop.*/\1/p' \
		    "$dir/probe.out" "$dir/ctl.out" 2>/dev/null | head -1)
		flows=$(sed -n 's/^Flows expired: \([0-9]*\).*/\1/p' \
		    "$dir/probe.out" | head -1)
	else
		kill -TERM $ppid; wait $ppid 2>/dev/null
		received=$(sed -n 's/^  received{[^}]*}: //p' "$dir/probe.out")
		kd=$(sed -n 's/^  kernel_drops{[^}]*}: //p' "$dir/probe.out")
		drops=$kd
		flows=$(ours_stat "$dir/probe.out" flows created)
	fi
	rate=${rate:-?}; received=${received:-?}; drops=${drops:-?}
	flows=${flows:-?}
}

if [ $live = 1 ]; then
	bench_live
else
	bench_replay
	if [ $failures -gt 0 ]; then
		echo "bench: $failures check(s) failed (see above)"
		exit 1
	fi
fi
