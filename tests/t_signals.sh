#!/usr/bin/env bash
# Signals on a live daemon (capturing on a veth pair fed from a namespace):
# SIGTERM exports every flow before exiting (collector totals equal
# pcap-truth); SIGHUP applies a good config file (timeouts, collector,
# version) without losing a flow, and refuses a bad one, naming file:line,
# keeping the old config and the daemon alive; SIGINT exits cleanly;
# systemd's notification protocol (READY, RELOADING, STOPPING).
. "$(dirname "$0")/lib/svc.sh"

for t in tcpreplay nfcapd nfdump tshark; do
	command -v $t >/dev/null || skip "$t not installed"
done
setup_veth
sock=$work/ctl
capa=$pcaps/eth_mixed_telegram.pcap
capb=$pcaps/eth_ipv6_tcp_udp.pcap
port=$(rand_port)

# --- SIGTERM: everything in the table is exported, then exit 0.
dir=$work/term
"$tools/pcap-truth" "$capa" >"$dir.truth"
start_nfcapd "$dir" $port || nok "nfcapd did not start"
start_probe term -i "$svc_veth" -c "$sock" -p "$work/pid" \
    -n 127.0.0.1:$port -v 9 -t general=1h -t maxlife=1h
wait_until 10 test -S "$sock" || nok "SIGTERM run: no control socket"
n=$(frames "$capa")
replay_into "$capa"
wait_until 30 seen_is "$sock" "$n" || nok "SIGTERM run: read all $n frames"
active=$(stat_of "$sock" flows active)
kill -TERM "$sf_pid"
wait_exit "$sf_pid" 30
check "SIGTERM: exit 0" test "$rc" = 0
stop_nfcapd "$dir"
if [ "$active" -gt 0 ] &&
    "$tools/flow-compare" "$dir.truth" "$dir.json" >"$dir.compare" 2>&1; then
	ok "SIGTERM: all $active active flows exported, totals equal pcap-truth"
else
	nok "SIGTERM: $active active flows; flow-compare:"
	sed 's/^/     /' "$dir.compare" | head -10
fi
check "SIGTERM: socket removed" test ! -e "$sock"

# --- SIGHUP: a good file applies, a bad one is refused.
p1=$((port + 1)); p2=$((port + 2))
d1=$work/hup1; d2=$work/hup2
start_nfcapd "$d1" $p1 || nok "nfcapd 1 did not start"
nf1=$nf_pid
start_nfcapd "$d2" $p2 || nok "nfcapd 2 did not start"
nf2=$nf_pid
conf=$work/softflowd.conf
cat >"$conf" <<EOF
# before SIGHUP
[softflowd]
timeout.tcp = 100
timeout.general = 1h
timeout.maxlife = 1h
collector = 127.0.0.1:$p1
version = 9
verbose = 1
EOF
start_probe hup -f "$conf" -i "$svc_veth" -c "$sock" -p "$work/pid"
hup_pid=$sf_pid
wait_until 10 test -S "$sock" || nok "SIGHUP run: no control socket"
ctl "$sock" timeouts
check "config file: TCP timeout 100s" \
    grep -Eq "^ +TCP timeout: 100s$" <<<"$reply"
na=$(frames "$capa")
replay_into "$capa"
wait_until 30 seen_is "$sock" "$na" || nok "SIGHUP run: read capture A"
before=$(stat_of "$sock" flows active)

cat >"$conf" <<EOF
# after SIGHUP: new timeouts, another collector, IPFIX
[softflowd]
timeout.tcp = 200
timeout.general = 1h
timeout.maxlife = 1h
collector = 127.0.0.1:$p2
version = 10
verbose = 1
EOF
kill -HUP "$hup_pid"
tcp200() {
	ctl "$sock" timeouts
	grep -Eq "^ +TCP timeout: 200s$" <<<"$reply"
}
check "SIGHUP: new TCP timeout 200s visible" wait_until 10 tcp200
check "SIGHUP: logged" grep -q "configuration reloaded" "$work/hup.log"
check "SIGHUP: flows kept in the table ($before)" \
    test "$(stat_of "$sock" flows active)" = "$before"
nb=$(frames "$capb")
replay_into "$capb"
wait_until 30 seen_is "$sock" $((na + nb)) || nok "SIGHUP run: read capture B"

printf '[softflowd]\ntimeout.tcp = 300\ntimeout.udp = banana\n' >"$conf"
kill -HUP "$hup_pid"
check "bad file: refused, naming $conf:3" \
    wait_until 10 grep -q "reload refused.*$conf:3:" "$work/hup.log"
check "bad file: daemon alive" kill -0 "$hup_pid"
check "bad file: old TCP timeout 200s kept" tcp200
printf '[softflowd]\ntimeout.tcp = 300\nno_such_key = 1\n' >"$conf"
kill -HUP "$hup_pid"
check "unknown key: refused, naming $conf:3" \
    wait_until 10 grep -q "reload refused.*$conf:3:.*no_such_key" \
    "$work/hup.log"
check "unknown key: old TCP timeout 200s kept" tcp200

kill -TERM "$hup_pid"
wait_exit "$hup_pid" 30
check "SIGHUP run: exit 0 on SIGTERM" test "$rc" = 0
nf_pid=$nf1; stop_nfcapd "$d1"
nf_pid=$nf2; stop_nfcapd "$d2"
# Both captures' flows, split over the two collectors, add up to the truth.
{ "$tools/pcap-truth" "$capa"; "$tools/pcap-truth" "$capb"; } |
    sort >"$work/hup.truth"
python3 - "$d1.json" "$d2.json" >"$work/hup.json" <<'EOF'
import json, sys
print(json.dumps([r for f in sys.argv[1:] for r in json.load(open(f))]))
EOF
if [ "$(cut -f1-5 "$work/hup.truth" | sort -u | wc -l)" = \
    "$(wc -l <"$work/hup.truth")" ] &&
    "$tools/flow-compare" "$work/hup.truth" "$work/hup.json" \
    >"$work/hup.compare" 2>&1; then
	ok "SIGHUP: no flow lost across the collector switch"
else
	nok "SIGHUP: flows lost or doubled:"
	sed 's/^/     /' "$work/hup.compare" | head -10
fi
check "SIGHUP: the new collector got IPFIX flows" \
    grep -q '"type"' "$d2.json"

# --- sd_notify, as systemd's Type=notify expects it: from the main pid,
# at a path or an abstract address, READY=1 once capturing, RELOADING=1
# (with MONOTONIC_USEC) and READY=1 around SIGHUP, STOPPING=1 at the end.
# Without -d: NOTIFY_SOCKET alone keeps softflowd in the foreground.
reloaded() {
	grep -A1 "^$1 RELOADING=1|MONOTONIC_USEC=[0-9]*$" "$work/notify.out" |
	    grep -q "^$1 READY=1$"
}
for addr in "$work/notify.sock" "@sftest-notify-$$"; do
	rm -f "$work/nready" "$sock"
	python3 "$top/tests/lib/notify_listen.py" "$addr" "$work/nready" \
	    >"$work/notify.out" 2>&1 &
	np=$!
	track $np
	wait_until 10 test -e "$work/nready" || nok "notify listener"
	NOTIFY_SOCKET=$addr "$probe" -i "$svc_veth" -c "$sock" \
	    -p "$work/pid" >"$work/notify.log" 2>&1 &
	sf_pid=$!
	track $sf_pid
	check "notify $addr: READY=1 from the main pid" wait_until 10 \
	    grep -q "^$sf_pid READY=1|STATUS=1 capture" "$work/notify.out"
	kill -HUP $sf_pid
	check "notify $addr: RELOADING=1 then READY=1 on SIGHUP" \
	    wait_until 10 reloaded $sf_pid
	kill -TERM $sf_pid
	wait_exit $sf_pid 30
	check "notify $addr: exit 0" test "$rc" = 0
	wait_exit $np 10
	check "notify $addr: STOPPING=1 last" \
	    test "$(tail -1 "$work/notify.out")" = "$sf_pid STOPPING=1"
done

# --- SIGINT: as SIGTERM.
start_probe int -i "$svc_veth" -c "$sock" -p "$work/pid"
wait_until 10 test -S "$sock" || nok "SIGINT run: no control socket"
kill -INT "$sf_pid"
wait_exit "$sf_pid" 30
check "SIGINT: exit 0" test "$rc" = 0
check "SIGINT: socket removed" test ! -e "$sock"
finish
