#!/usr/bin/env bash
# The control socket against a live daemon (capturing on a veth pair fed
# from a namespace): every softflowctl command and what it does, garbage,
# oversize, unknown and idle requests, 50 clients at once, a second daemon
# on the same socket, and softflowctl's exit codes without a daemon.
. "$(dirname "$0")/lib/svc.sh"

for t in tcpreplay tshark python3; do
	command -v $t >/dev/null || skip "$t not installed"
done
client="python3 $top/tests/lib/ctlclient.py"
cap=$pcaps/eth_mixed_telegram.pcap
small=$pcaps/eth_ipv4_tcp_http_full_session_fin.pcap

# expect WHAT PATTERN: the last reply matches the extended regex.
expect() {
	if printf '%s\n' "$reply" | grep -Eq -- "$2"; then
		ok "$1"
	else
		nok "$1: rc $rc, reply:"
		printf '%s\n' "$reply" | head -5 | sed 's/^/     /'
	fi
}

# softflowctl without a daemon: a clear message and exit 1.
ctl "$work/none.ctl" statistics
[ $rc -eq 1 ] && expect "no daemon: exit 1, says so" \
    "is softflowd running\? no socket at $work/none.ctl" ||
    nok "no daemon: exit $rc"
$client "$work/stale.ctl" stale
ctl "$work/stale.ctl" statistics
[ $rc -eq 1 ] && expect "stale socket: exit 1, says so" \
    "is softflowd running\? nothing answers" || nok "stale socket: exit $rc"
reply=$("$ctlbin" 2>&1); rc=$?
[ $rc -eq 1 ] && expect "no command: usage, exit 1" "^Usage: softflowctl" ||
    nok "no command: exit $rc"
reply=$("$ctlbin" -h 2>&1); rc=$?
[ $rc -eq 0 ] && expect "softflowctl -h lists the commands" "dump-flows" ||
    nok "softflowctl -h: exit $rc"

setup_veth
sock=$work/ctl
start_probe main -i "$svc_veth" -c "$sock" -p "$work/pid" \
    -t general=1h -t maxlife=1h -t tcp=300
main_pid=$sf_pid
wait_until 10 test -S "$sock" ||
	{ nok "no control socket"; cat "$work/main.log"; finish; exit; }
check "socket is mode 0600" test "$(stat -c %a "$sock")" = 600
check "pid file names the daemon" test "$(cat "$work/pid")" = "$main_pid"

# A second daemon must not take over a socket that is being served.
timeout 20 "$probe" -d -i "$svc_veth" -c "$sock" -p "$work/pid2" \
    >"$work/second.log" 2>&1
rc=$?
reply=$(cat "$work/second.log")
[ $rc -eq 1 ] && expect "second daemon on the socket refused" \
    "another softflowd is serving $sock" || nok "second daemon: exit $rc"
ctl "$sock" timeouts
[ $rc -eq 0 ] && expect "first daemon still answers" "Printing timeouts" ||
    nok "first daemon after the second: rc $rc"

# help: every row of CTL_COMMANDS.
ctl "$sock" help
cmds=$(sed -n 's/^[[:space:]]*X([a-z_]*,[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$top/include/ctl.h")
miss=""
for c in $cmds; do
	printf '%s\n' "$reply" | grep -q "^  $c " || miss="$miss $c"
done
[ $rc -eq 0 ] && [ -z "$miss" ] && [ "$(echo $cmds | wc -w)" -ge 15 ] &&
    ok "help lists all $(echo $cmds | wc -w) commands" ||
    nok "help misses:$miss (rc $rc)"

ctl "$sock" timeouts
expect "timeouts: -t tcp=300" "^ +TCP timeout: 300s$"
expect "timeouts: -t general=1h" "^ +General timeout: 3600s$"
expect "timeouts: -t maxlife=1h" "^ +Maximum lifetime: 3600s$"
expect "timeouts: softflowd 1.1's eight lines" \
    "Expiry interval: 1s"

n=$(frames "$cap")
replay_into "$cap" || nok "tcpreplay"
wait_until 30 seen_is "$sock" "$n" || nok "read all $n frames"

ctl "$sock" statistics
expect "statistics: header" "^softflowd\[$main_pid\]: Accumulated statistics since "
expect "statistics: packets seen" "^  packets_seen: $n$"
ctl "$sock" statistics-json
if [ $rc -eq 0 ] && printf '%s' "$reply" | python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if j["capture"]["packets_seen"] == int(sys.argv[1]) else 1)' "$n"
then ok "statistics-json: valid JSON, packets_seen $n"
else nok "statistics-json: rc $rc: $(printf '%s' "$reply" | head -c 200)"
fi
ctl "$sock" metrics
bad=$(printf '%s\n' "$reply" |
    grep -Evc '^softflowd_[a-z_]+(\{[a-z_]+="[^"]*"\})? [0-9]+$')
[ $rc -eq 0 ] && [ "$bad" = 0 ] &&
    expect "metrics: Prometheus lines" "^softflowd_capture_packets_seen $n$" ||
    nok "metrics: $bad malformed lines"

active=$(stat_of "$sock" flows active)
ctl "$sock" dump-flows
lines=$(printf '%s\n' "$reply" | grep -c '^ACTIVE ')
[ "$active" -gt 0 ] && [ "$lines" = "$active" ] &&
    expect "dump-flows: $active flows listed" "^$active active flows$" ||
    nok "dump-flows: $lines lines for $active active flows"
expect "dump-flows: addresses, ports, counters" \
    "^ACTIVE \[[0-9a-f.:]+\]:[0-9]+ <> \[[0-9a-f.:]+\]:[0-9]+ proto:[0-9]+ .*packets>:[0-9]+ octets>:[0-9]+"

ctl "$sock" debug+
expect "debug+" "Debug level increased to 1\.$"
ctl "$sock" debug-
expect "debug-" "Debug level decreased to 0\.$"
ctl "$sock" send-template
expect "send-template" "Template will be sent at next flow export$"

# stop-gather leaves packets in the kernel; start-gather reads them.
k=$(frames "$small")
ctl "$sock" stop-gather
expect "stop-gather" "Data collection stopped\.$"
replay_into "$small"
sleep 1
check "stopped: nothing read" seen_is "$sock" "$n"
ctl "$sock" start-gather
expect "start-gather" "Data collection resumed\.$"
check "resumed: the $k waiting frames are read" \
    wait_until 30 seen_is "$sock" $((n + k))
n=$((n + k))

active=$(stat_of "$sock" flows active)
ctl "$sock" expire-all
expect "expire-all: $active flows" "Expired $active flows\.$"
check "expire-all: none left" test "$(stat_of "$sock" flows active)" = 0
replay_into "$small"
wait_until 30 seen_is "$sock" $((n + k)) || nok "replay before delete-all"
n=$((n + k))
active=$(stat_of "$sock" flows active)
ctl "$sock" delete-all
[ "$active" -gt 0 ] && expect "delete-all: $active flows" \
    "Deleted $active flows\.$" || nok "delete-all: no flows to delete"
check "delete-all: none left" test "$(stat_of "$sock" flows active)" = 0

# Hostile and broken clients get one error line each.
reply=$($client "$sock" send 0001ff67617262616765210a)
expect "binary garbage" "^error: command contains bytes that are not printable"
reply=$($client "$sock" send "$(printf 'frobnicate\n' | od -An -v -tx1 |
    tr -d ' \n')")
expect "unknown command" '^error: unknown command "frobnicate"'
ctl "$sock" frobnicate
[ $rc -eq 1 ] && ok "softflowctl: unknown command exits 1" ||
    nok "softflowctl unknown command: exit $rc"
reply=$($client "$sock" send "$(head -c 1000 /dev/zero | tr '\0' a |
    od -An -v -tx1 | tr -d ' \n')0a")
expect "1000-byte line" "^error: command line longer than 255 bytes"
reply=$($client "$sock" send 0a)
expect "empty line" "^error: empty command"
reply=$($client "$sock" idle)
expect "idle client timed out" "^error: no command within [0-9]+ s"
maxc=$(awk '$2 == "CTL_MAX_CLIENTS" { print $3 }' "$top/include/ctl.h")
reply=$($client "$sock" many 50 "$maxc" timeouts)
expect "50 clients at once: $maxc served, $((50 - maxc)) turned away" \
    "^served $maxc refused $((50 - maxc)) other 0$"

# Each refusal is counted under its reason (the second daemon's check
# that the socket is alive was an empty request too).
for pair in too_many_clients=$((50 - maxc)) oversize_request=1 non_printable_request=1 \
    unknown_command=2 empty_request=2 idle_timeout=1; do
	got=$(stat_of "$sock" control "refused{reason=${pair%=*}}")
	check "counted: ${pair%=*} ${pair#*=} (got $got)" \
	    test "$got" = "${pair#*=}"
done

# None of it disturbed capture.
replay_into "$small"
check "capture undisturbed" wait_until 30 seen_is "$sock" $((n + k))
check "daemon alive" kill -0 "$main_pid"

ctl "$sock" shutdown
expect "shutdown" "Shutting down gracefully\.\.\.$"
wait_exit "$main_pid" 30
check "shutdown: exit 0" test "$rc" = 0
check "shutdown: socket removed" test ! -e "$sock"
check "shutdown: pid file removed" test ! -e "$work/pid"

start_probe exit -i "$svc_veth" -c "$sock" -p "$work/pid"
wait_until 10 test -S "$sock" || nok "second start: no socket"
ctl "$sock" exit
expect "exit" "Exiting now\.\.\.$"
wait_exit "$sf_pid" 30
check "exit: exit 0" test "$rc" = 0
check "exit: socket removed" test ! -e "$sock"

# Without -d softflowd daemonises: the parent exits 0, the pid file
# names the child, which answers on its socket; a second start with the
# same pid file is refused while it runs.
timeout 20 "$probe" -i "$svc_veth" -c "$sock" -p "$work/dpid" \
    >"$work/daemon.log" 2>&1
rc=$?
check "daemonises: the parent exits 0" test "$rc" = 0
wait_until 10 test -s "$work/dpid"
dpid=$(cat "$work/dpid" 2>/dev/null)
[ -n "$dpid" ] && track "$dpid"
daemon_up() { ctl "$sock" timeouts && [ "$rc" = 0 ]; }
check "daemonised: answers on its socket" wait_until 10 daemon_up
check "daemonised: the pid file names a live softflowd" \
    test "$(cat "/proc/$dpid/comm" 2>/dev/null)" = softflowd
timeout 20 "$probe" -d -i "$svc_veth" -c "$work/other.ctl" \
    -p "$work/dpid" >"$work/again.log" 2>&1
rc=$?
reply=$(cat "$work/again.log")
[ $rc -eq 1 ] && expect "same pid file: refused" \
    "already running as pid $dpid" || nok "same pid file: exit $rc"
kill -TERM "$dpid"
check "daemonised: SIGTERM removes socket and pid file" wait_until 30 \
    sh -c "! test -e '$sock' && ! test -e '$work/dpid'"

# Replays make a socket only when -c is given, and still end by
# themselves; two at once do not collide.
"$probe" -r "$small" -c "$work/replay.ctl" >"$work/r1.log" 2>&1 &
r1=$!
"$probe" -r "$small" >"$work/r2.log" 2>&1 &
r2=$!
"$probe" -r "$small" >"$work/r3.log" 2>&1 &
r3=$!
wait_exit $r1 30; a=$rc
wait_exit $r2 30; b=$rc
wait_exit $r3 30; c=$rc
check "replays with and without -c: exit 0 0 0 (got $a $b $c)" \
    test "$a$b$c" = 000
check "replay removed its socket" test ! -e "$work/replay.ctl"
finish
