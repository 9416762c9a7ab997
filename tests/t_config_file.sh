#!/usr/bin/env bash
# The config file: every kind of error names file:line in one line on
# stderr and exits 1; the service keys (ctlsock, pidfile, timeouts) of a
# good file reach a live daemon, and the command line wins over them; the
# systemd units start softflowd from Debian's /etc/default variables.
. "$(dirname "$0")/lib/svc.sh"

small=$pcaps/eth_ipv4_tcp_http_full_session_fin.pcap

# bad DESCRIPTION LINE PATTERN: the file $conf is refused at LINE.
bad() {
	local what=$1 line=$2 pat=$3 err
	timeout 30 "$probe" -f "$conf" -r "$small" >"$work/out" 2>"$work/err"
	rc=$?
	err=$(cat "$work/err")
	if [ $rc -eq 1 ] && [ "$(wc -l <"$work/err")" -eq 1 ] &&
	    grep -Eq "^softflowd: $conf:$line: .*$pat" "$work/err"; then
		ok "$what: $err"
	else
		nok "$what: exit $rc, stderr: $err"
	fi
}

conf=$work/bad.conf
printf '# comment\n\n[softflowd]\nno_such_key = 1\n' >"$conf"
bad "unknown key" 4 "unknown key \"no_such_key\""
printf '[softflowd]\ntimeout.tcp = soon\n' >"$conf"
bad "bad duration" 2 "not a duration"
printf '[softflowd]\ntimeout.never = 5\n' >"$conf"
bad "unknown timeout name" 2 "unknown timeout name \"never\""
printf '[softflowd]\nversion = 7\n' >"$conf"
bad "bad version" 2 "expected 1, 5, 9, 10"
printf '[softflowd]\nmax_flows = 12\nmax_flows = lots\n' >"$conf"
bad "second of two values bad" 3 "max_flows"
printf '[softflowd]\n\n\njust some words\n' >"$conf"
bad "line without =" 4 "syntax error"
printf '[nonsense]\ntimeout.tcp = 5\n' >"$conf"
bad "unknown section" 2 "unknown section \\[nonsense\\]"
printf '[softflowd]\nconfig = /etc/other.conf\n' >"$conf"
bad "config key in a file" 2 "only valid on the command line"
printf '[softflowd]\ntimeout.tcp = 5\ntrack = everything\nversion = 0\n' \
    >"$conf"
bad "the first error is the one named" 3 "tracking level"

timeout 30 "$probe" -f "$work/missing.conf" -r "$small" >"$work/out" \
    2>"$work/err"
rc=$?
check "missing file: exit 1, names it" test $rc -eq 1 -a \
    "$(grep -c "$work/missing.conf: No such file" "$work/err")" -eq 1

printf '[softflowd]\ntimeout.tcp = 5\n' >"$conf"
timeout 30 "$probe" -f "$conf" -r "$small" >"$work/out" 2>"$work/err"
rc=$?
check "good file: replay exits 0" test $rc -eq 0

# The service keys of a good file reach a live daemon.
[ "$(id -u)" = 0 ] || { echo "skipped: live part needs root"; finish; exit; }
setup_veth
cat >"$work/good.conf" <<EOF
[softflowd]
interface = $svc_veth
ctlsock = $work/from-file.ctl
pidfile = $work/from-file.pid
timeout.udp = 77
timeout.icmp = 2m
EOF
start_probe live -f "$work/good.conf" -t icmp=99
if wait_until 10 test -S "$work/from-file.ctl"; then
	ok "ctlsock from the file"
else
	nok "ctlsock from the file:"; sed 's/^/     /' "$work/live.log"
fi
check "pidfile from the file" \
    wait_until 10 grep -qx "$sf_pid" "$work/from-file.pid"
ctl "$work/from-file.ctl" timeouts
check "timeout.udp from the file" grep -Eq "^ +UDP timeout: 77s$" <<<"$reply"
check "-t icmp=99 wins over timeout.icmp" \
    grep -Eq "^ +ICMP timeout: 99s$" <<<"$reply"
ctl "$work/from-file.ctl" shutdown
wait_exit "$sf_pid" 30
check "shutdown: exit 0" test "$rc" = 0

# The systemd units' command lines, fed a Debian-style /etc/default file
# (INTERFACE, OPTIONS) and per-instance file (options), as systemd would:
# continuation lines joined, "$$" made "$", %I the instance.
unit_cmd() {	# unit instance
	awk '/^ExecStart=/ { l = substr($0, 11)
		while (l ~ /\\$/) { sub(/\\$/, "", l); getline n; l = l n }
		print l }' "$top/contrib/$1" |
	    sed -e 's/\$\$/$/g' -e "s|%I|$2|g" -e "s|%i|$2|g" \
	    -e "s|/usr/sbin/softflowd|$probe|" -e "s|/run/|$work/run/|g"
}
mkdir -p "$work/run/softflowd"
cat >"$work/default" <<EOF
INTERFACE="$svc_veth"
OPTIONS="-c $work/unit.ctl -t udp=33"
EOF
cmd=$(unit_cmd softflowd.service)
( set -a; . "$work/default"; eval "exec $cmd" ) >"$work/unit.log" 2>&1 &
sf_pid=$!
track $sf_pid
ctl_up() { ctl "$1" timeouts && [ "$rc" = 0 ]; }
check "softflowd.service: starts from INTERFACE and OPTIONS" \
    wait_until 10 ctl_up "$work/unit.ctl"
check "softflowd.service: OPTIONS applied" \
    grep -Eq "^ +UDP timeout: 33s$" <<<"$reply"
check "softflowd.service: pid file" \
    wait_until 5 grep -qx "$sf_pid" "$work/run/softflowd.pid"
kill -TERM $sf_pid
wait_exit $sf_pid 30
check "softflowd.service: SIGTERM exit 0" test "$rc" = 0

printf 'options="-t icmp=44"\ninterface=ignored\n' >"$work/instance.conf"
cmd=$(unit_cmd softflowd@.service "$svc_veth")
( set -a; . "$work/default"; . "$work/instance.conf"; OPTIONS=""
    eval "exec $cmd" ) >"$work/instance.log" 2>&1 &
sf_pid=$!
track $sf_pid
check "softflowd@$svc_veth.service: socket at run/softflowd/IFACE.ctl" \
    wait_until 10 ctl_up "$work/run/softflowd/$svc_veth.ctl"
check "softflowd@.service: the instance's options applied" \
    grep -Eq "^ +ICMP timeout: 44s$" <<<"$reply"
check "softflowd@.service: pid file run/softflowd/IFACE.pid" \
    wait_until 5 grep -qx "$sf_pid" "$work/run/softflowd/$svc_veth.pid"
kill -TERM $sf_pid
wait_exit $sf_pid 30
check "softflowd@.service: SIGTERM exit 0" test "$rc" = 0
finish
