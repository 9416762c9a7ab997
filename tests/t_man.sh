#!/usr/bin/env bash
# The documentation cannot drift from the code: the man pages lint clean,
# every option softflowd -h lists is in softflowd(8), every timeout is
# there with its default, every config key is in softflowd.conf(5) and
# softflowd.conf.example, every control command is in softflowctl(8), and
# every line of the example config parses.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac
man8=$top/man/softflowd.8
ctl8=$top/man/softflowctl.8
conf5=$top/man/softflowd.conf.5
example=$top/softflowd.conf.example

pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
nok() { fail=$((fail + 1)); echo "FAIL $*"; }
# Reports one check: ok when the list of what is missing is empty.
check() {	# description missing-list
	if [ -z "$2" ]; then ok "$1"; else nok "$1; missing:$2"; fi
}

work=$(mktemp -d "${TMPDIR:-/tmp}/t_man.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

if ! command -v mandoc >/dev/null; then
	nok "mandoc not found: run contrib/install-deps.sh (Debian package mandoc)"
else
	for m in "$man8" "$ctl8" "$conf5"; do
		if [ ! -f "$m" ]; then
			nok "${m#$top/} does not exist"
			continue
		fi
		mandoc -Tlint -Wwarning "$m" >"$work/lint" 2>&1
		rc=$?
		if [ $rc -eq 0 ] && [ ! -s "$work/lint" ]; then
			ok "mandoc -Tlint -Wwarning ${m#$top/}"
		else
			nok "mandoc -Tlint -Wwarning ${m#$top/} (exit $rc):"
			sed 's/^/     /' "$work/lint"
		fi
	done
fi

if [ ! -x "$probe" ]; then
	nok "softflowd not built at $probe: run make"
	echo "$pass passed, $fail failed"
	exit 1
fi
"$probe" -h >"$work/help" 2>&1 || nok "softflowd -h exits non-zero"

# Options: "  -X ..." lines of -h; each is an .It Fl X in softflowd(8) and
# part of its synopsis.
letters=$(sed -n 's/^  -\([[:alnum:]]\)\( .*\|\)$/\1/p' "$work/help")
[ "$(echo $letters | wc -w)" -ge 20 ] ||
    nok "found only $(echo $letters | wc -w) options in softflowd -h"
synopsis=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$man8")
miss=; smiss=
for l in $letters; do
	grep -q "^\.It Fl $l\( \|$\)" "$man8" || miss="$miss -$l"
	echo "$synopsis" | grep -q -e "^\.Op Fl [[:alnum:]]*$l" \
	    -e "^\.Op Fl $l " || smiss="$smiss -$l"
done
check "softflowd.8 describes all $(echo $letters | wc -w) options of -h" "$miss"
check "softflowd.8 synopsis shows every option" "$smiss"

# Timeouts: "  NAME (default N)" lines of -h.  softflowd(8) and
# softflowd.conf(5) give each its default; the example sets it to it.
sed -n 's/^  \([a-z.]*\) *(default *\([0-9a-z]*\)).*/\1 \2/p' "$work/help" \
    >"$work/timeouts"
[ "$(wc -l <"$work/timeouts")" -ge 8 ] ||
    nok "found only $(wc -l <"$work/timeouts") timeouts in softflowd -h"
general=$(awk '$1 == "general" { print $2 }' "$work/timeouts")
# The paragraph of ".It Cm NAME" in a page, up to the next .It.
item() {	# page name
	awk -v it=".It Cm $2" '
	    $0 == it || index($0, it " ") == 1 { on = 1; next }
	    on && /^\.(It|El)/ { exit }
	    on { print }' "$1" | tr '\n' ' '
}
miss8=; miss5=; missx=
while read -r name def; do
	if [ "$def" = general ]; then
		item "$man8" "$name" | grep -q "Default: as" || miss8="$miss8 $name"
		item "$conf5" "timeout.$name" | grep -q "Default: as" ||
		    miss5="$miss5 timeout.$name"
		want=$general
	else
		item "$man8" "$name" | grep -q "Default $def second" ||
		    miss8="$miss8 $name"
		item "$conf5" "timeout.$name" | grep -q "Default $def\." ||
		    miss5="$miss5 timeout.$name"
		want=$def
	fi
	grep -q "^#timeout\.$name = $want\$" "$example" ||
	    missx="$missx timeout.$name=$want"
done <"$work/timeouts"
check "softflowd.8 gives every timeout its default" "$miss8"
check "softflowd.conf.5 gives every timeout its default" "$miss5"
check "softflowd.conf.example sets every timeout to its default" "$missx"

# Config keys: the list after "Config-file keys" in -h.
keys=$(sed -n '/^Config-file keys/{n;p;}' "$work/help")
[ "$(echo $keys | wc -w)" -ge 20 ] ||
    nok "found only $(echo $keys | wc -w) config keys in softflowd -h"
miss5=; missx=
for k in $keys; do
	if [ "$k" = config ]; then
		# Only valid on the command line: mentioned, not set.
		grep -q "^\.Cm config\$" "$conf5" || miss5="$miss5 $k"
		grep -q "^# config:" "$example" || missx="$missx $k"
		continue
	fi
	grep -q "^\.It Cm $k\( \|$\)" "$conf5" || miss5="$miss5 $k"
	grep -q "^#$k = " "$example" || missx="$missx $k"
done
check "softflowd.conf.5 describes all $(echo $keys | wc -w) config keys" "$miss5"
check "softflowd.conf.example shows all $(echo $keys | wc -w) config keys" "$missx"

# Control commands: the rows of CTL_COMMANDS, which drive softflowctl -h.
cmds=$(sed -n 's/^[[:space:]]*X([a-z_]*,[[:space:]]*"\([^"]*\)".*/\1/p' \
    "$top/include/ctl.h" 2>/dev/null)
if [ -z "$cmds" ]; then
	nok "no control commands found in include/ctl.h"
else
	miss=
	for c in $cmds; do
		grep -q "^\.It Cm $c\$" "$ctl8" || miss="$miss $c"
	done
	check "softflowctl.8 describes all $(echo $cmds | wc -w) commands" "$miss"
fi

# Every setting of the example, uncommented on its own, parses (it may
# still be refused later, e.g. interface beside -r: that is not checked).
pcap=$top/contrib/demo.pcap
[ -r "$pcap" ] || pcap=/dev/null
bad=
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '[softflowd]\n%s\n' "${line#\#}" >"$work/one.conf"
	timeout 30 "$probe" -f "$work/one.conf" -r "$pcap" -c none -p none \
	    >/dev/null 2>"$work/one.err"
	grep -q "one.conf:[0-9]" "$work/one.err" && bad="$bad [${line#\#}]"
done < <(grep -E '^#[a-z_.]+ = ' "$example")
[ $n -ge 40 ] || nok "only $n settings found in softflowd.conf.example"
check "each of the $n example settings parses on its own" "$bad"
timeout 30 "$probe" -f "$example" -r "$pcap" -c none -p none >/dev/null \
    2>"$work/ex.err"
grep -q "conf.example:[0-9]" "$work/ex.err" &&
    nok "softflowd.conf.example as shipped: $(head -1 "$work/ex.err")" ||
    ok "softflowd.conf.example as shipped parses"

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
