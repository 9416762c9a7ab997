# Helpers for the service tests (t_ctl, t_signals, t_config_file,
# t_privdrop, t_netns), sourced by them: counters, bounded waits, a
# network namespace with a veth pair to replay captures into, nfcapd, and
# one cleanup on exit for every process, namespace and file made here.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac
ctlbin=$(dirname "$probe")/softflowctl
shared=${SHARED:-$top/../shared}
pcaps=$shared/pcaps
tools=$shared/tools

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
nok() { fail=$((fail + 1)); echo "FAIL $*"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
# Not failing where the test cannot run, but saying so.
skip() {
	echo "skipped: $*"
	echo "0 passed, 0 failed"
	exit 0
}

work=$(mktemp -d "${TMPDIR:-/tmp}/t_svc.XXXXXX") || exit 1
chmod 755 "$work"
svc_pids=""
svc_ns=""
svc_veth=""

svc_cleanup() {
	local pid i
	for pid in $svc_pids; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in $svc_pids; do
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[ -n "$svc_veth" ] && ip link del "$svc_veth" 2>/dev/null
	[ -n "$svc_ns" ] && ip netns del "$svc_ns" 2>/dev/null
	rm -rf "$work"
}
trap svc_cleanup EXIT
trap 'exit 1' INT TERM

# Remember a background process for the cleanup.
track() { svc_pids="$svc_pids $1"; }

# wait_until SECONDS COMMAND...: poll every 0.1 s; fails on time out.
wait_until() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" 2>/dev/null && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# wait_exit PID SECONDS: wait for a tracked child; its status in $rc.
wait_exit() {
	local pid=$1 n=$(($2 * 10))
	while [ $n -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
		# A zombie is gone for our purpose; wait reaps it.
		[ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && break
		sleep 0.1
		n=$((n - 1))
	done
	if kill -0 "$pid" 2>/dev/null &&
	    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]; then
		rc=124
		return 1
	fi
	wait "$pid"
	rc=$?
	return 0
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (live capture, namespaces)"
}

# A free-looking high port; tests add their own offsets.
rand_port() { echo $((20000 + (RANDOM * 7 + $$) % 40000)); }

# Make namespace $svc_ns holding $svc_peer, veth partner of $svc_veth
# in the root namespace.  Both ends stay silent: no addresses, no IPv6.
setup_veth() {
	need_root
	command -v ip >/dev/null || skip "ip (iproute2) not installed"
	local tag=$((RANDOM % 100000))
	svc_ns=sftest$$_$tag
	svc_veth=sfa$tag
	svc_peer=sfb$tag
	ip netns add "$svc_ns" 2>/dev/null ||
		{ svc_ns=""; skip "cannot create a network namespace"; }
	if ! ip link add "$svc_veth" type veth peer name "$svc_peer" \
	    2>/dev/null; then
		svc_veth=""
		skip "cannot create a veth pair"
	fi
	ip link set "$svc_peer" netns "$svc_ns" || return 1
	sysctl -qw "net.ipv6.conf.$svc_veth.disable_ipv6=1" 2>/dev/null
	ip netns exec "$svc_ns" sysctl -qw \
	    "net.ipv6.conf.$svc_peer.disable_ipv6=1" 2>/dev/null
	ip link set "$svc_veth" up && ip -n "$svc_ns" link set "$svc_peer" up
}

# replay_into CAPTURE: send it through the veth pair, as fast as it goes.
replay_into() {
	ip netns exec "$svc_ns" tcpreplay -q -t -i "$svc_peer" "$1" \
	    >"$work/tcpreplay.log" 2>&1
}

# Frames in a capture, as tshark reads it.
frames() { tshark -r "$1" -T fields -e frame.number 2>/dev/null | wc -l; }

# start_nfcapd DIR PORT: a collector on 127.0.0.1; its pid in $nf_pid.
start_nfcapd() {
	mkdir -p "$1"
	echo "$2" >"$1.port"
	nfcapd -w "$1" -p "$2" -b 127.0.0.1 >"$1.log" 2>&1 &
	nf_pid=$!
	track $nf_pid
	wait_until 5 sh -c "ss -Hlun 'sport = :$2' | grep -q ."
}

# Nothing waits in the receive queue of nfcapd's socket on this port.
udp_drained() {
	[ "$(ss -Hlun "sport = :$1" | awk '{ print $2; exit }')" = 0 ]
}

# stop_nfcapd DIR: once nfcapd has read every datagram sent to it, stop
# it so it writes its file, then read the file.
stop_nfcapd() {
	wait_until 10 udp_drained "$(cat "$1.port")"
	kill -TERM "$nf_pid" 2>/dev/null
	wait_exit "$nf_pid" 10
	TZ=UTC nfdump -R "$1" -o json >"$1.json" 2>"$1.nfdump.err"
	grep -q '"type"' "$1.json" || echo '[]' >"$1.json"
}

# start_probe NAME ARGS...: softflowd in the foreground, output in
# $work/NAME.log, pid in $sf_pid.
start_probe() {
	local name=$1
	shift
	"$probe" -d "$@" >"$work/$name.log" 2>&1 &
	sf_pid=$!
	track $sf_pid
}

# ctl SOCKET COMMAND: softflowctl's reply in $reply, exit status in $rc.
ctl() {
	reply=$(timeout 30 "$ctlbin" -c "$1" "$2" 2>&1)
	rc=$?
}

# stat_of SOCKET GROUP NAME: one counter from `softflowctl statistics`.
stat_of() {
	timeout 30 "$ctlbin" -c "$1" statistics 2>/dev/null |
	    awk -v g="$2:" -v n="  $3:" '
	    /^[a-z_]+:$/ { grp = $0 }
	    grp == g && index($0, n) == 1 { print $NF; exit }'
}

# seen_is SOCKET N: the probe has read N packets.
seen_is() { [ "$(stat_of "$1" capture packets_seen)" = "$2" ]; }
