#!/usr/bin/env bash
# Privilege drop: -u user (and the config key user) leaves the daemon with
# that user's uid and gid everywhere, no supplementary groups and no
# capabilities, while capture, export, the control socket and SIGHUP keep
# working; -j (and chroot) moves its root; bad users and directories are
# refused before start-up, and so is -u when not started as root.
. "$(dirname "$0")/lib/svc.sh"

need_root
for t in tcpreplay nfcapd nfdump tshark; do
	command -v $t >/dev/null || skip "$t not installed"
done
id nobody >/dev/null 2>&1 || skip "no user nobody"
uid=$(id -u nobody)
gid=$(id -g nobody)
small=$pcaps/eth_ipv4_tcp_http_full_session_fin.pcap
setup_veth
sock=$work/ctl
port=$(rand_port)

# status_is PID FIELD VALUE...: /proc/PID/status FIELD holds exactly these.
status_is() {
	local pid=$1 field=$2
	shift 2
	[ "$(awk -v f="$field:" '$1 == f { $1 = ""; print substr($0, 2) }' \
	    "/proc/$pid/status" | tr -s ' \t' ' ' | sed 's/ $//')" = "$*" ]
}

# --- -u nobody: ids, groups, capabilities; everything still works.
dir=$work/nf
"$tools/pcap-truth" "$small" >"$dir.truth"
start_nfcapd "$dir" $port || nok "nfcapd did not start"
conf=$work/softflowd.conf
printf '[softflowd]\ntimeout.tcp = 100\n' >"$conf"
chmod 644 "$conf"
start_probe user -u nobody -f "$conf" -i "$svc_veth" -c "$sock" \
    -p "$work/pid" -n 127.0.0.1:$port -v 10 -t general=1h
pid=$sf_pid
wait_until 10 test -S "$sock" || { nok "no control socket"; cat "$work/user.log"; }
wait_until 10 status_is $pid Uid $uid $uid $uid $uid
check "-u nobody: Uid is nobody's ($uid) real, effective, saved, fs" \
    status_is $pid Uid $uid $uid $uid $uid
check "-u nobody: Gid is nogroup's ($gid) everywhere" \
    status_is $pid Gid $gid $gid $gid $gid
check "-u nobody: supplementary groups only $gid" status_is $pid Groups $gid
check "-u nobody: no effective capabilities" \
    status_is $pid CapEff 0000000000000000
check "-u nobody: no permitted capabilities" \
    status_is $pid CapPrm 0000000000000000
check "socket made before the drop: root's, mode 0600" \
    test "$(stat -c '%u %a' "$sock")" = "0 600"
ctl "$sock" timeouts
check "control socket answers after the drop" \
    grep -Eq "^ +TCP timeout: 100s$" <<<"$reply"
n=$(frames "$small")
replay_into "$small"
check "capture works after the drop" wait_until 30 seen_is "$sock" "$n"
printf '[softflowd]\ntimeout.tcp = 200\n' >"$conf"
kill -HUP $pid
tcp200() {
	ctl "$sock" timeouts
	grep -Eq "^ +TCP timeout: 200s$" <<<"$reply"
}
check "SIGHUP re-reads the file as nobody" wait_until 10 tcp200
kill -TERM $pid
wait_exit $pid 30
check "SIGTERM: exit 0" test "$rc" = 0
stop_nfcapd "$dir"
check "export works after the drop: collector equals pcap-truth" \
    "$tools/flow-compare" "$dir.truth" "$dir.json"

# The socket could not be removed by nobody; the next start replaces it.
start_probe again -i "$svc_veth" -c "$sock" -p "$work/pid"
check "a stale socket left by a dropped daemon is replaced" \
    wait_until 10 eval "ctl '$sock' timeouts && [ \$rc = 0 ]"
ctl "$sock" shutdown
wait_exit $sf_pid 30

# --- -j: chroot, from the command line and from the file.  A sanitizer
# build cannot check for leaks there: LeakSanitizer needs /proc.
mkdir -p "$work/jail"
nolsan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
ASAN_OPTIONS=$nolsan start_probe jail -u nobody -j "$work/jail" -i "$svc_veth" -c "$sock" \
    -p "$work/pid"
wait_until 10 status_is $sf_pid Uid $uid $uid $uid $uid
check "-j: root directory is the jail" \
    test "$(readlink "/proc/$sf_pid/root")" = "$work/jail"
check "-j -u: Uid is nobody's" status_is $sf_pid Uid $uid $uid $uid $uid
ctl "$sock" statistics
check "-j: control socket answers" test "$rc" = 0
kill -TERM $sf_pid
wait_exit $sf_pid 30
check "-j: SIGTERM exit 0" test "$rc" = 0

printf '[softflowd]\nuser = nobody\nchroot = %s\n' "$work/jail" >"$conf"
rm -f "$sock"
ASAN_OPTIONS=$nolsan start_probe keys -f "$conf" -i "$svc_veth" -c "$sock" -p "$work/pid"
wait_until 10 status_is $sf_pid Uid $uid $uid $uid $uid
check "config keys user and chroot: Uid is nobody's" \
    status_is $sf_pid Uid $uid $uid $uid $uid
check "config key chroot: root is the jail" \
    test "$(readlink "/proc/$sf_pid/root")" = "$work/jail"
kill -TERM $sf_pid
wait_exit $sf_pid 30

# --- Refusals, one line each, before anything starts.
refused() {	# description pattern args...
	local what=$1 pat=$2
	shift 2
	timeout 30 "$@" >"$work/out" 2>"$work/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -Eq "$pat" "$work/err"; then
		ok "$what: $(head -1 "$work/err")"
	else
		nok "$what: exit $rc: $(head -3 "$work/err")"
	fi
}
refused "unknown user" 'user "no_such_user_here" does not exist' \
    "$probe" -d -u no_such_user_here -i "$svc_veth" -c none -p none
refused "missing chroot directory" "chroot directory $work/nowhere" \
    "$probe" -d -u nobody -j "$work/nowhere" -i "$svc_veth" -c none -p none
cp "$small" "$work/small.pcap"
chmod 644 "$work/small.pcap"
if command -v setpriv >/dev/null; then
	refused "-u when not root" "need softflowd to start as root" \
	    setpriv --reuid="$uid" --regid="$gid" --clear-groups \
	    "$probe" -r "$work/small.pcap" -u root
else
	echo "skipped: -u when not root (no setpriv)"
fi
finish
