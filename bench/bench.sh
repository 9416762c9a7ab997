#!/usr/bin/env bash
# make bench: replay two generated captures through ./softflowd and
# Debian's softflowd 1.1 with the same options, each exporting NetFlow v9
# to its own nfcapd on 127.0.0.1, and print per capture and probe:
# packets/s (median of runs, by the wall clock and per CPU second), peak
# RSS and RSS per active flow, flows and records exported, the records
# the collector stored, and ours/softflowd ratios.  It checks that the
# collector received every record each probe sent and that the stored
# packet and byte totals are the capture's (the generator's own
# pcap-truth totals; softflowd's are reported, ours must match).
#
#   bench/bench.sh [-k runs] [-c a,b] [-s]        replay
#   bench/bench.sh -l [-k runs] [-c a,b] [-s]     live (root)
#     -k runs   runs per capture and probe (default 5; the median counts)
#     -c list   captures: a (2 M packets, 200 k flows), b (2 M packets,
#               1 M flows); default both
#     -l        live: a network namespace with a veth pair, tcpreplay
#               --topspeed on one end, each probe capturing the other;
#               reports tcpreplay's rate, what each probe received and its
#               capture drops (ours: exit statistics; softflowd:
#               softflowctl statistics)
#     -s        small captures (200 k packets) to try the script quickly
#
# Environment: B (build directory), SOFTFLOWD_REF (the reference probe,
# default /usr/sbin/softflowd), BENCH_OUT (captures, default bench/out).
# Each probe runs pinned to one CPU, its collector on another when there
# is one; a replay is timed by runprobe, from its fork to its exit.  Before each timed replay the capture is read once,
# untimed, so that both probes read it from the page cache.  The machine
# should be otherwise idle: the wall-clock rate suffers from anything else
# running, the per-CPU-second rate less.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-.}
ours=$top/$B/softflowd
gen=$top/$B/tests/gen_traffic
runprobe=$top/$B/bench/runprobe
ref=${SOFTFLOWD_REF:-/usr/sbin/softflowd}
refctl=$(dirname "$ref")/softflowctl
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
[ -x "$runprobe" ] || die "$runprobe not built: run make bench"
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
# Same options for both probes: Cisco's timeouts, expiry every second.
TIMEOUTS="-t general=15s -t tcp=15s -t tcp.rst=5s -t tcp.fin=5s \
-t udp=15s -t icmp=15s -t maxlife=1800s -t expint=1s"
MAXFLOWS=1000000
NCPU=$(nproc)
PROBE_CPU=$((NCPU > 1 ? 1 : 0))
COLL_CPU=0
SOCKBUF=$((64 << 20))
NSX=		# "ip netns exec NS" in live mode

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
ppid=
NS=sfbench$$
VA=sfb$$a
VB=sfb$$b
cleanup() {
	[ -n "$ppid" ] && kill -TERM "$ppid" 2>/dev/null && wait "$ppid" 2>/dev/null
	[ -n "$npid" ] && kill -TERM "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
	[ -n "$rmem_saved" ] && echo "$rmem_saved" >/proc/sys/net/core/rmem_max
	if [ $live = 1 ]; then
		ip netns del $NS 2>/dev/null
		ip link del $VA 2>/dev/null
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Generated once per generator format and arguments, then reused.  A
# replay reads 96 bytes a packet; a live run sends whole frames.
capture() {	# name -> sets pcap, truth, npackets, nflows
	local n f s r tag snap=96
	read -r n f s r <<<"${spec[$1]}"
	tag=$("$gen" -V | awk '{print "v" $2}')
	[ $live = 1 ] && snap=65535
	pcap=$out/gen-n$n-f$f-s$s-r$r-S$snap-$tag.pcap
	truth=${pcap%.pcap}.truth
	npackets=$n
	nflows=$f
	if [ ! -s "$pcap" ] || [ ! -s "$truth" ]; then
		echo "bench: generating $pcap" >&2
		"$gen" -n "$n" -f "$f" -s "$s" -r "$r" -S $snap \
		    -o "$pcap.tmp" -T "$truth.tmp" || die "gen_traffic failed"
		mv "$pcap.tmp" "$pcap" && mv "$truth.tmp" "$truth"
	fi
	if [ ! -s "$truth.sum" ]; then
		awk -F'\t' '{p += $6; b += $7} END {print p, b}' "$truth" \
		    >"$truth.sum"
	fi
}

collector_start() {	# dir -> sets npid, port
	mkdir -p "$1/nf"
	for _ in $(seq 20); do
		port=$((20000 + RANDOM % 40000))
		$NSX ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && continue
		$NSX taskset -c $COLL_CPU nfcapd -w "$1/nf" -p $port \
		    -b 127.0.0.1 -B $SOCKBUF >"$1/nfcapd.log" 2>&1 &
		npid=$!
		for _ in $(seq 50); do
			$NSX ss -Hlun "sport = :$port" 2>/dev/null | grep -q . &&
				return 0
			kill -0 $npid 2>/dev/null || break
			sleep 0.1
		done
		kill -TERM $npid 2>/dev/null; wait $npid 2>/dev/null
	done
	die "nfcapd does not start (see $1/nfcapd.log)"
}

# Wait until nfcapd has read everything queued on its socket, then stop it
# so it writes its file, and read its summary.
collector_stop() {	# dir
	local q
	for _ in $(seq 300); do
		q=$($NSX ss -Hlun "sport = :$port" 2>/dev/null | awk '{print $2}')
		[ "${q:-0}" = 0 ] && break
		sleep 0.1
	done
	sleep 0.3
	kill -TERM $npid 2>/dev/null; wait $npid 2>/dev/null
	npid=
	nfdump -R "$1/nf" -I >"$1/nfdump.txt" 2>&1
	collector_counts "$1"
}

# What the collector of a run stored, from its summary.
collector_counts() {	# dir
	coll_flows=$(stat_of "$1/nfdump.txt" Flows:)
	coll_packets=$(stat_of "$1/nfdump.txt" Packets:)
	coll_bytes=$(stat_of "$1/nfdump.txt" Bytes:)
	coll_seqfail=$(awk '/^Sequence failures:/ {print $3}' "$1/nfdump.txt")
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

# What a probe said it did: sets exported, sent_records, peak.
probe_counts() {	# label file
	if [ "$1" = ours ]; then
		exported=$(ours_stat "$2" export flows)
		sent_records=$(ours_stat "$2" export records)
		peak=$(ours_stat "$2" flows peak_active)
		return
	fi
	# "Flows exported: F (R records) in D packets (E failures)"
	exported=$(sed -n 's/^Flows exported: \([0-9]*\) .*/\1/p' "$2" | tail -1)
	sent_records=$(sed -n 's/^Flows exported: .*(\([0-9]*\) records).*/\1/p' \
	    "$2" | tail -1)
	# softflowd expires nothing by time in a replay, so its table only
	# grows: it peaks at -m when it had to make room, else at the flows
	# it flushed at the end.
	if grep -Eq 'maxflows = +[1-9]' "$2"; then
		peak=$MAXFLOWS
	else
		peak=$(sed -n 's/.*flushed = *\([0-9]*\).*/\1/p' "$2" | tail -1)
	fi
}

# One replay: sets pps, cpu_pps, rss_kb and the counts.
replay_once() {	# label binary dir
	local label=$1 bin=$2 dir=$3 ns extra="" rss u s
	mkdir -p "$dir"
	collector_start "$dir"
	[ "$label" = softflowd ] && extra="-d"
	# The capture into the page cache first, untimed: this VM pages out
	# file cache idle for a minute, and a disk read is no probe's speed.
	cat "$pcap" >/dev/null
	"$runprobe" $PROBE_CPU "$dir/time" \
	    "$bin" -r "$pcap" -n 127.0.0.1:$port -v 9 -m $MAXFLOWS -c none \
	    $extra $TIMEOUTS >"$dir/probe.out" 2>&1
	collector_stop "$dir"
	read -r ns u s rss <"$dir/time"
	pps=$(( npackets * 1000000000 / ns ))
	cpu_pps=$(awk -v n="$npackets" -v u="$u" -v s="$s" \
	    'BEGIN {printf "%.0f", n / (u + s > 0 ? u + s : 0.01)}')
	rss_kb=$rss
	probe_counts "$label" "$dir/probe.out"
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
	local name label bin i
	printf 'softflowd replay benchmark: %s runs each, NetFlow v9 to nfcapd, -m %s,\n' \
	    "$runs" $MAXFLOWS
	printf 'timeouts: %s\n' "$TIMEOUTS"
	printf 'probe on CPU %s, collector on CPU %s (%s CPUs: %s); load %s\n\n' \
	    $PROBE_CPU $COLL_CPU "$NCPU" \
	    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
	for name in $which; do
		[ -n "${spec[$name]:-}" ] || die "no capture \"$name\" (a or b)"
		capture "$name"
		printf 'capture %s: %s packets, %s flows (%s)\n' "$name" \
		    "$npackets" "$nflows" "$(basename "$pcap")"
		printf '  %-9s %10s %10s %8s %6s %10s %9s %9s %9s\n' probe \
		    "packets/s" "pkts/CPU-s" "peak RSS" "B/flow" "peak flows" \
		    exported records collector
		# The probes take turns, run by run, so a slow spell of this
		# shared machine falls on both rather than on one probe's block.
		for label in ours softflowd; do
			: >"$work/$label.pps"; : >"$work/$label.cpu"
			: >"$work/$label.rss"
		done
		for i in $(seq "$runs"); do
			for label in ours softflowd; do
				bin=$ours
				[ $label = softflowd ] && bin=$ref
				[ -n "$bin" ] || continue
				replay_once $label "$bin" "$work/$name.$label.$i"
				echo "$pps" >>"$work/$label.pps"
				echo "$cpu_pps" >>"$work/$label.cpu"
				echo "$rss_kb" >>"$work/$label.rss"
			done
		done
		for label in ours softflowd; do
			bin=$ours
			[ $label = softflowd ] && bin=$ref
			[ -n "$bin" ] || continue
			# The counts of the last run, which every run repeats.
			collector_counts "$work/$name.$label.$runs"
			probe_counts $label "$work/$name.$label.$runs/probe.out"
			eval "pps_$label=$(median <"$work/$label.pps")"
			eval "cpu_$label=$(median <"$work/$label.cpu")"
			eval "rss_$label=$(median <"$work/$label.rss")"
			eval "peak_$label=$peak"
			eval "p=\$pps_$label c=\$cpu_$label r=\$rss_$label"
			printf '  %-9s %10s %10s %5s MB %6s %10s %9s %9s %9s\n' \
			    $label "$p" "$c" "$((r / 1024))" \
			    "$((r * 1024 / (peak > 0 ? peak : 1)))" \
			    "$peak" "$exported" "$sent_records" "$coll_flows"
			report_checks $label
		done
		if [ -n "$ref" ]; then
			awk -v a="$pps_ours" -v b="$pps_softflowd" \
			    -v ca="$cpu_ours" -v cb="$cpu_softflowd" \
			    -v ra="$rss_ours" -v rb="$rss_softflowd" \
			    -v pa="$peak_ours" -v pb="$peak_softflowd" 'BEGIN {
				printf "  ours/softflowd: packets/s %.1fx, per CPU second %.1fx, peak RSS %.2fx, RSS per active flow %.2fx\n\n",
				    a / b, ca / cb, ra / rb, (ra / pa) / (rb / pb) }'
		else
			echo
		fi
	done
}

# --- live: tcpreplay into a veth pair, the probes in a namespace ---------

live_setup() {
	[ "$(id -u)" = 0 ] || die "-l needs root (network namespace, veth)"
	for t in ip tcpreplay; do
		command -v $t >/dev/null ||
		    die "$t not found: run sudo contrib/install-deps.sh"
	done
	# tcpreplay sends on the host end; the probes and their collector
	# live in the namespace, so nothing else on the host is captured.
	ip netns add $NS || die "cannot create network namespace $NS"
	ip link add $VA type veth peer name $VB netns $NS ||
	    die "cannot create a veth pair"
	ip link set $VA up mtu 9000
	ip -n $NS link set $VB up mtu 9000
	ip -n $NS link set lo up
	NSX="ip netns exec $NS"
}

# One live run: the probe captures $VB, tcpreplay sends the capture on
# $VA at top speed, then the probe is stopped and its counters read.
live_once() {	# label binary dir
	local label=$1 bin=$2 dir=$3 ctl=$3/ctl
	mkdir -p "$dir"
	collector_start "$dir"
	if [ "$label" = softflowd ]; then
		$NSX taskset -c $PROBE_CPU "$bin" -i $VB -d -v 9 -m $MAXFLOWS \
		    -c "$ctl" -p "$dir/pid" -n 127.0.0.1:$port $TIMEOUTS \
		    >"$dir/probe.out" 2>&1 &
	else
		# -D: stay in the foreground and print statistics at exit.
		$NSX taskset -c $PROBE_CPU "$bin" -i $VB -D -v 9 -m $MAXFLOWS \
		    -c none -p "$dir/pid" -n 127.0.0.1:$port $TIMEOUTS \
		    >"$dir/probe.out" 2>&1 &
	fi
	ppid=$!
	sleep 2			# until it captures
	taskset -c $COLL_CPU tcpreplay --topspeed -i $VA "$pcap" \
	    >"$dir/tcpreplay.out" 2>&1
	sleep 2			# until it has read what the kernel holds
	if [ "$label" = softflowd ]; then
		# It prints nothing at exit: ask, flush, ask again.
		$NSX "$refctl" -c "$ctl" statistics >"$dir/ctl.out" 2>&1
		$NSX "$refctl" -c "$ctl" expire-all >/dev/null 2>&1
		sleep 2
		$NSX "$refctl" -c "$ctl" statistics >"$dir/ctl2.out" 2>&1
		kill -TERM $ppid; wait $ppid 2>/dev/null
		received=$(sed -n 's/^Packets received by libpcap: //p' \
		    "$dir/ctl.out")
		drops=$(sed -n 's/^Packets dropped by libpcap: //p' \
		    "$dir/ctl.out")
		probe_counts softflowd "$dir/ctl2.out"
		processed=$(sed -n 's/^Packets processed: //p' "$dir/ctl.out")
	else
		kill -TERM $ppid; wait $ppid 2>/dev/null
		received=$(sed -n 's/^  received{[^}]*}: //p' "$dir/probe.out")
		drops=$(sed -n 's/^  kernel_drops{[^}]*}: //p' "$dir/probe.out")
		probe_counts ours "$dir/probe.out"
		processed=$(ours_stat "$dir/probe.out" flows packets)
	fi
	ppid=
	collector_stop "$dir"
	rate=$(sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' \
	    "$dir/tcpreplay.out" | head -1)
	sent=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' \
	    "$dir/tcpreplay.out" | head -1)
}

bench_live() {
	local name label bin i
	live_setup
	printf 'softflowd live benchmark: tcpreplay --topspeed into a veth pair, %s runs each,\n' \
	    "$runs"
	printf 'NetFlow v9 to nfcapd, -m %s; probe on CPU %s, tcpreplay and collector on CPU %s\n\n' \
	    $MAXFLOWS $PROBE_CPU $COLL_CPU
	for name in $which; do
		[ -n "${spec[$name]:-}" ] || die "no capture \"$name\" (a or b)"
		capture "$name"
		printf 'capture %s: %s packets, %s flows\n' "$name" \
		    "$npackets" "$nflows"
		printf '  %-9s %11s %9s %9s %9s %9s %9s %9s\n' probe \
		    "tcpreplay/s" sent received drops accounted records \
		    collector
		for label in ours softflowd; do
			bin=$ours
			[ $label = softflowd ] && bin=$ref
			[ -n "$bin" ] || continue
			for i in $(seq "$runs"); do
				live_once $label "$bin" "$work/live.$name.$label.$i"
				printf '  %-9s %11s %9s %9s %9s %9s %9s %9s\n' \
				    $label "${rate:-?}" "${sent:-?}" \
				    "${received:-?}" "${drops:-?}" \
				    "${processed:-?}" "${sent_records:-?}" \
				    "${coll_flows:-?}"
			done
		done
		echo
	done
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
