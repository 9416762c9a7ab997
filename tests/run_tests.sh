#!/usr/bin/env bash
# The test suite: unit tests (cmocka), then every tests/t_*.sh, then the
# end-to-end replay through nfcapd.  Each part reports its own counts; the
# last line here is the sum, "N passed, N failed".
#   tests/run_tests.sh [-q]     -q: the quick subset (no full e2e matrix)
set -u
cd "$(dirname "$0")/.." || exit 1
# B: the build directory (build/asan for make check-asan).
B=${B:-.}
export SOFTFLOWD=$B/softflowd
quick=0
[ "${1:-}" = "-q" ] && quick=1
# Logs of this run: a directory per run, so check and check-asan can overlap.
logs=tests/out/run.$$
mkdir -p "$logs"
passed=0; failed=0

# Adds the counts a part printed; a part that crashed counts as one failure.
tally() {	# name log rc
	local name=$1 log=$2 rc=$3 p f line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	if [ -n "$line" ]; then
		p=${line%% passed*}; f=${line#*passed, }; f=${f%% failed*}
	else
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -1)
		p=${p:-0}; f=${f:-0}
	fi
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL $name exited $rc without naming a failed test"
	fi
	passed=$((passed + p)); failed=$((failed + f))
	printf '%-28s %4d passed, %d failed\n' "$name" "$p" "$f"
}

for t in "$B"/tests/test_*; do
	case $t in *.c|*.o|*.sh) continue ;; esac
	[ -x "$t" ] || continue
	log=$logs/$(basename "$t").log
	"$t" >"$log" 2>&1; rc=$?
	[ $rc -ne 0 ] && cat "$log"
	tally "$(basename "$t")" "$log" $rc
done

for t in tests/t_*.sh; do
	[ -f "$t" ] || continue
	log=$logs/$(basename "$t" .sh).log
	bash "$t" >"$log" 2>&1; rc=$?
	[ $rc -ne 0 ] && grep -v '^ok' "$log"
	tally "$(basename "$t" .sh)" "$log" $rc
done

log=$logs/e2e.log
if [ $quick = 1 ]; then
	tests/e2e.sh -v "9 5" -s basic >"$log" 2>&1; rc=$?
else
	tests/e2e.sh >"$log" 2>&1; rc=$?
fi
[ $rc -ne 0 ] && grep -v '^ok' "$log"
tally e2e "$log" $rc

[ $failed -eq 0 ] && rm -rf "$logs"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
