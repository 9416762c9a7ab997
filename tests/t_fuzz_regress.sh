#!/usr/bin/env bash
# Fuzz regressions without libFuzzer: each fuzz harness (fuzz/fuzz_NAME.c)
# is built with a plain main() and the sanitizers as tests/replay_NAME
# (make fuzz-replay).  Every input that once crashed a harness, kept in
# tests/fuzz-regress/NAME/, is replayed in a process of its own; then the
# hand-made seeds of fuzz/seeds/NAME, and for the decoder every packet of
# every capture in ../shared/pcaps, run through one process each, so the
# flow-table, expiry and export paths see a long stream.  A harness
# aborts on a sanitizer report or a broken promise (exact accounting, a
# datagram size, a parser verdict), which fails the test.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
B=${B:-.}
shared=${SHARED:-$top/../shared}
# A directory per run, so parallel runs never share one; kept on failure.
mkdir -p tests/out
out=$(mktemp -d tests/out/fuzz-regress.XXXXXX) || exit 1
pass=0; fail=0
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1

replay() {	# name label input...
	local bin=$B/tests/replay_$1 label=$2 log rc
	shift 2
	log=$out/$(echo "$label" | tr '/ ' '__').log
	"$bin" "$@" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1)); echo "ok   $label"
	else
		fail=$((fail + 1)); echo "FAIL $label (exit $rc; see $log)"
		grep -E 'ERROR|SUMMARY|runtime error|broken promise' "$log" |
			head -5 | sed 's/^/     /'
	fi
}

names=$(ls fuzz/fuzz_*.c 2>/dev/null | sed 's#fuzz/fuzz_\(.*\)\.c#\1#')
[ -n "$names" ] || { echo "t_fuzz_regress: no fuzz/fuzz_*.c"; exit 1; }
for n in $names; do
	if [ ! -x "$B/tests/replay_$n" ]; then
		fail=$((fail + 1))
		echo "FAIL replay_$n not built (make fuzz-replay)"
		continue
	fi
	for f in tests/fuzz-regress/"$n"/*; do
		[ -f "$f" ] && replay "$n" "$n regression $(basename "$f")" "$f"
	done
	[ -d "fuzz/seeds/$n" ] && replay "$n" "$n seeds" "fuzz/seeds/$n"
done

# Every packet of the shared captures through the decoder harness.
if [ -x "$B/tests/pcap2seeds" ] && [ -d "$shared/pcaps" ]; then
	mkdir -p "$out/pcap-seeds"
	if "$B/tests/pcap2seeds" "$out/pcap-seeds" "$shared"/pcaps/*.pcap* \
	    >"$out/pcap2seeds.log" 2>&1 &&
	    [ -n "$(ls "$out/pcap-seeds")" ]; then
		replay decode "decode every packet of $(ls "$out/pcap-seeds" |
		    wc -l) from ../shared/pcaps" "$out/pcap-seeds"
	else
		fail=$((fail + 1))
		echo "FAIL pcap2seeds wrote no seeds; see $out/pcap2seeds.log"
	fi
else
	fail=$((fail + 1))
	echo "FAIL $B/tests/pcap2seeds or $shared/pcaps missing (make fuzz-replay)"
fi

[ $fail -eq 0 ] && rm -rf "$out"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
