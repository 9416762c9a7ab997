#!/usr/bin/env bash
# Command-line behaviour: -h, one-line errors with exit 1, the trailing BPF
# program, the config file under the command line, and softflowd 1.1 style
# invocations (its manual's examples and Debian's init script) parsing.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac
pcaps=${SHARED:-$top/../shared}/pcaps
mixed=$pcaps/sll_mixed_kakaotalk_chat.pcap	# TCP, UDP and ICMP
small=$pcaps/eth_ipv4_udp_dns.pcap

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
nok() { fail=$((fail + 1)); echo "FAIL $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/t_cli.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
out=$work/out; err=$work/err

# Runs softflowd with a bounded run time; rc in $rc.
run() {
	timeout 60 "$probe" "$@" >"$out" 2>"$err"
	rc=$?
}

# The value of "name:" under "group:" in the exit statistics.
stat() {	# group name
	awk -v g="$1:" -v n="  $2:" '
	    /^[a-z_]+:$/ { grp = $0 }
	    grp == g && index($0, n) == 1 { print $NF; exit }' "$err"
}

# A bad command line: exit 1, nothing on stdout, one line on stderr that
# names softflowd.
bad() {	# description args...
	local what=$1
	shift
	run "$@"
	if [ $rc -eq 1 ] && [ ! -s "$out" ] && [ "$(wc -l <"$err")" -eq 1 ] &&
	    grep -q '^softflowd: ' "$err"; then
		ok "$what: $(cat "$err")"
	else
		nok "$what: exit $rc, stdout $(wc -c <"$out") bytes, stderr:"
		sed 's/^/     /' "$err" | head -5
	fi
}

# A command line that must parse and run a replay to the end.
good() {	# description args...
	local what=$1
	shift
	run "$@"
	if [ $rc -eq 0 ] && ! grep -q '^softflowd: -' "$err" &&
	    [ -n "$(stat capture packets_seen)" ]; then
		ok "$what"
	else
		nok "$what: exit $rc:"
		sed 's/^/     /' "$err" | head -5
	fi
}

if [ ! -x "$probe" ]; then
	nok "softflowd not built at $probe: run make"
	echo "$pass passed, $fail failed"
	exit 1
fi
if [ ! -r "$mixed" ] || [ ! -r "$small" ]; then
	nok "test captures missing under $pcaps: put ../shared beside the tree or set SHARED"
	echo "$pass passed, $fail failed"
	exit 1
fi

# -h: exit 0 on stdout, every option of the table and every timeout.
run -h
letters=$(sed -n "s/^[[:space:]]*{ '\(.\)', \".*/\1/p" "$top/src/config.c")
[ -n "$letters" ] || nok "no option letters found in src/config.c's opt_table"
if [ $rc -eq 0 ] && [ -s "$out" ] && [ ! -s "$err" ]; then
	ok "-h exits 0 and writes only to stdout"
else
	nok "-h: exit $rc, stderr $(head -1 "$err")"
fi
missing=
for l in $letters h; do
	grep -qE "^  -$l( |$)" "$out" || missing="$missing -$l"
done
[ -z "$missing" ] && ok "-h lists all $(echo $letters | wc -w) options and -h" ||
    nok "-h does not list:$missing"
missing=
for t in general tcp tcp.rst tcp.fin udp icmp maxlife expint; do
	grep -qE "^  $t " "$out" || missing="$missing $t"
done
[ -z "$missing" ] && ok "-h lists every timeout" || nok "-h lacks timeouts:$missing"

# Bad command lines: one line on stderr, exit 1.
bad "unknown option" -r "$small" -Z
bad "missing argument" -r "$small" -n
bad "export version 7" -r "$small" -v 7
bad "unknown timeout name" -r "$small" -t bogus=1
bad "timeout not a number" -r "$small" -t tcp=abc
bad "timeout without =" -r "$small" -t udp
bad "timeout bad unit" -r "$small" -t udp=5x
bad "timeout overflow" -r "$small" -t udp=99999999999
bad "max_flows 0" -r "$small" -m 0
bad "max_flows not a number" -r "$small" -m lots
bad "tracking level" -r "$small" -T nonsense
bad "time format" -r "$small" -A pico
bad "collector without port" -r "$small" -n 127.0.0.1
bad "empty collector in a list" -r "$small" -n 127.0.0.1:9995,
bad "hop limit 256" -r "$small" -L 256
bad "snaplen too small" -r "$small" -C 10
bad "sampling 0" -r "$small" -s 0
bad "transport" -r "$small" -P carrier-pigeon
bad "biflows without IPFIX" -r "$small" -v 9 -b
bad "nothing to capture" -c none
bad "-i and -r together" -r "$small" -i lo
bad "missing config file" -f "$work/nonexistent.conf" -r "$small"
bad "unknown interface" -i nosuchif0 -d -c none -p none
bad "bad BPF program" -r "$small" -c none "not a ( filter"

# -r of a missing file: one clear line naming it.
run -r "$work/missing.pcap" -c none
if [ $rc -eq 1 ] && [ "$(wc -l <"$err")" -eq 1 ] &&
    grep -q "missing.pcap" "$err"; then
	ok "-r missing file: $(cat "$err")"
else
	nok "-r missing file: exit $rc: $(head -2 "$err")"
fi
# A file that is not a capture: also an error, not a crash.
echo "not a pcap" >"$work/text.pcap"
bad "-r of a text file" -r "$work/text.pcap" -c none

# The trailing BPF program filters what is counted (tcpdump is the oracle).
for f in udp tcp "icmp or icmp6" "not udp"; do
	want=$(tcpdump -nr "$mixed" $f 2>/dev/null | wc -l)
	run -r "$mixed" -c none $f
	seen=$(stat capture packets_seen)
	acc=$(stat flows packets)
	# Every accounted packet is in an exported or an unexportable record.
	exp=$(( $(stat export packets) + $(stat export unexportable_packets) ))
	if [ $rc -eq 0 ] && [ "$want" -gt 0 ] && [ "$seen" = "$want" ] &&
	    [ "$acc" = "$want" ] && [ "$exp" = "$want" ]; then
		ok "BPF \"$f\": $seen packets, as tcpdump counts, all exported"
	else
		nok "BPF \"$f\": exit $rc, seen ${seen:-?} accounted ${acc:-?} exported $exp, tcpdump $want"
	fi
done
run -r "$mixed" -c none udp
protos=$(awk -F'[{}=]' '/flows_by_protocol/ { print $3 }' "$err" | sort -u | xargs)
[ "$protos" = udp ] && ok "BPF udp: only UDP flows" ||
    nok "BPF udp: flows of protocols \"$protos\""

# The config file, and the command line winning over it.
cat >"$work/a.conf" <<EOF
# comment
[softflowd]
filter = tcp
max_flows = 1000
timeout.udp = 1m30s
EOF
run -f "$work/a.conf" -r "$mixed" -c none
[ $rc -eq 0 ] && [ "$(stat flows max_flows)" = 1000 ] &&
    [ "$(stat capture packets_seen)" = 310 ] &&
    ok "config file: filter and max_flows apply" ||
    nok "config file: exit $rc, max_flows $(stat flows max_flows), seen $(stat capture packets_seen)"
run -f "$work/a.conf" -r "$mixed" -c none -m 2000 udp
[ $rc -eq 0 ] && [ "$(stat flows max_flows)" = 2000 ] &&
    [ "$(stat capture packets_seen)" = 36 ] &&
    ok "command line wins over the config file" ||
    nok "command line over file: exit $rc, max_flows $(stat flows max_flows), seen $(stat capture packets_seen)"
printf 'max_flows = 10\nbogus_key = 1\n' >"$work/b.conf"
bad "config file unknown key" -f "$work/b.conf" -r "$small"
grep -q "b.conf:2:" "$err" && ok "config error names file and line" ||
    nok "config error without file:line: $(cat "$err")"
printf '[elsewhere]\nmax_flows = 10\n' >"$work/c.conf"
bad "config file unknown section" -f "$work/c.conf" -r "$small"
printf 'version = 7\n' >"$work/d.conf"
bad "config file bad value" -f "$work/d.conf" -r "$small"

# softflowd 1.1 invocations: its manual's examples and the command line
# Debian's init script builds (-p pidfile -c ctlsock -i IF $options), with
# -r standing in for -i and 127.0.0.1 for the collectors.
port=$((20000 + RANDOM % 40000))
col=127.0.0.1:$port
col2=127.0.0.1:$((port + 1))
good "1.1: statistics only" -r "$small" -c none
good "1.1: -n host:port" -r "$small" -c none -n $col
run -r "$small" -c none -n $col,$col2
[ $rc -eq 0 ] && [ "$(grep -c '^  packets{collector=' "$err")" = 2 ] &&
    ok "1.1: -n a:p,b:p sends to two collectors" ||
    nok "1.1: -n a:p,b:p: exit $rc: $(head -2 "$err")"
good "1.1: -l load balancing" -r "$small" -c none -l -n $col,$col2
run -r "$small" -c none -v 5 -n $col -m 65536 -t udp=1m30s
[ $rc -eq 0 ] && [ "$(stat flows max_flows)" = 65536 ] &&
    ok "1.1: -v 5 -m 65536 -t udp=1m30s" ||
    nok "1.1: -m 65536 -t udp=1m30s: exit $rc: $(head -2 "$err")"
good "1.1: -v 9 -L 64" -r "$small" -c none -v 9 -n $col -L 64
good "1.1: -p pidfile -c ctlsock (Debian)" -p "$work/sfd.pid" \
    -c "$work/sfd.ctl" -r "$small" -n $col
good "1.1: IPv6 collector" -r "$small" -c none -v 9 -n "[::1]:$port"
good "1.1: -6 -d -N -a" -r "$small" -c none -6 -d -N -a
good "1.1: -D" -r "$small" -c none -D
good "1.1: -v 10 -b -A micro" -r "$small" -c none -v 10 -b -A micro -n $col
for t in full proto ip vlan ether; do
	good "1.1: -T $t" -r "$small" -c none -v 9 -T $t -n $col
done
good "1.1: -v 1" -r "$small" -c none -v 1 -n $col
good "1.1: -s -B -C -x" -r "$small" -c none -s 2 -B 1048576 -C 256 -x 3
good "1.1: every timeout" -r "$small" -c none -t general=20 -t tcp=1h \
    -t tcp.rst=10 -t tcp.fin=10s -t udp=2m -t icmp=30 -t maxlife=1d \
    -t expint=5 -t general=1w
good "1.1: trailing BPF words" -r "$small" -c none -n $col not port 22

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
