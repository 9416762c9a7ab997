#!/usr/bin/env bash
# End-to-end: replay every clean capture of ../shared/pcaps into a real
# nfcapd on 127.0.0.1 and compare what it stored with pcap-truth.
#   tests/e2e.sh [-v "9 5 10 10b"] [-s basic|ext|all] [pcap ...]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
shared=${SHARED:-$top/../shared}
pcaps=$shared/pcaps
tools=$shared/tools
probe=${SOFTFLOWD:-$top/softflowd}
case $probe in /*) ;; *) probe=$top/$probe ;; esac
versions="9 5 10 10b"
scope=all
while getopts "v:s:" o; do
	case $o in
	v) versions=$OPTARG ;;
	s) scope=$OPTARG ;;
	*) echo "usage: $0 [-v versions] [-s basic|ext|all] [pcap...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

for t in nfcapd nfdump tshark; do
	command -v $t >/dev/null || { echo "e2e: $t not installed (apt-get install nfdump tshark)" >&2; exit 1; }
done
[ -x "$probe" ] || { echo "e2e: build softflowd first (make)" >&2; exit 1; }

# A directory per run, so parallel runs (check, check-asan) never share one.
out=$top/tests/out/e2e.$$
rm -rf "$out"; mkdir -p "$out"

# Captures by Status/Decoding from SOURCES.md's table.
list_clean() {
	awk -F'|' -v scope="$1" '
	/^\| `/ {
		f=$2; gsub(/[ `]/, "", f); st=$3; gsub(/ /, "", st);
		dec=$4; gsub(/ /, "", dec);
		if (st == "clean" && (scope == "all" || scope == dec)) print f
	}' "$pcaps/SOURCES.md"
}
if [ $# -gt 0 ]; then files="$*"; else files=$(list_clean "$scope"); fi

pass=0; fail=0; port=$((20000 + RANDOM % 20000))
run_one() {	# file version-tag
	local f=$1 tag=$2 v=${2%b} extra="" cmpopt="--times" dir rc
	[ "$tag" = 10b ] && extra="-b"
	[ "$v" = 5 ] && cmpopt="--times --ipv4-only"
	# flow-compare gives a biflow record's one first/last to both of its
	# keys, so times can only be compared per direction without -b.
	[ "$tag" = 10b ] && cmpopt=""
	dir=$out/${f%.*}.v$tag; mkdir -p "$dir/nf"
	port=$((port + 1))
	nfcapd -w "$dir/nf" -p $port -b 127.0.0.1 >"$dir/nfcapd.log" 2>&1 &
	local npid=$!
	for _ in $(seq 50); do
		ss -Hlun "sport = :$port" 2>/dev/null | grep -q . && break
		sleep 0.1
	done
	"$probe" -r "$pcaps/$f" -n 127.0.0.1:$port -v $v $extra -c none \
		>"$dir/probe.out" 2>"$dir/probe.err"
	rc=$?
	sleep 0.3
	kill -TERM $npid; wait $npid 2>/dev/null
	TZ=UTC nfdump -R "$dir/nf" -o json >"$dir/flows.json" 2>"$dir/nfdump.err"
	# nfdump prints a bracketed "No matching flows" when it stored none.
	grep -q '"type"' "$dir/flows.json" || echo '[]' >"$dir/flows.json"
	[ -s "$out/${f%.*}.truth" ] || "$tools/pcap-truth" "$pcaps/$f" >"$out/${f%.*}.truth"
	local truth=$out/${f%.*}.truth ok=0
	if [ ! -s "$truth" ]; then
		# No IP in the capture: the collector must hold no flow either.
		grep -q '"type"' "$dir/flows.json" ||
			{ ok=1; echo "no IP packets, no flows" >"$dir/compare.txt"; }
	elif "$tools/flow-compare" $cmpopt "$truth" "$dir/flows.json" \
		>"$dir/compare.txt" 2>&1; then
		ok=1
	fi
	if [ $rc -eq 0 ] && [ $ok = 1 ]; then
		pass=$((pass + 1)); echo "ok   $f -v $tag"
	else
		fail=$((fail + 1)); echo "FAIL $f -v $tag (probe exit $rc; see $dir)"
		sed 's/^/     /' "$dir/compare.txt" | head -8
	fi
}

for f in $files; do
	for tag in $versions; do
		run_one "$f" "$tag"
	done
done
[ $fail -eq 0 ] && rm -rf "$out"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
