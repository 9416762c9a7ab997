#!/usr/bin/env bash
# Runs every libFuzzer target built in build/fuzz for FUZZ_SECONDS each,
# on its seeds: fuzz/seeds/NAME (hand-made), build/fuzz/seeds/NAME
# (generated, e.g. every packet of ../shared/pcaps) and the saved crashes
# in tests/fuzz-regress/NAME.  New inputs go to build/fuzz/corpus/NAME,
# crashes to build/fuzz/crash-NAME-*.  Exits 1 when any target crashed.
#   fuzz/run.sh [NAME ...]
set -u
cd "$(dirname "$0")/.." || exit 1
secs=${FUZZ_SECONDS:-60}
fb=build/fuzz
names=${*:-$(cd "$fb" && ls fuzz_* 2>/dev/null | sed 's/^fuzz_//')}
[ -n "$names" ] || { echo "fuzz-run: no targets; run make fuzz" >&2; exit 1; }

failed=0
for n in $names; do
	bin=$fb/fuzz_$n
	[ -x "$bin" ] || { echo "fuzz-run: $bin missing (make fuzz)" >&2; exit 1; }
	mkdir -p "$fb/corpus/$n"
	dirs="$fb/corpus/$n"
	for d in fuzz/seeds/$n $fb/seeds/$n tests/fuzz-regress/$n; do
		[ -d "$d" ] && dirs="$dirs $d"
	done
	log=$fb/$n.log
	# close_fd_mask=1: the config target prints -h usage to stdout.
	"$bin" -max_total_time="$secs" -timeout=10 -max_len=4096 \
		-close_fd_mask=1 -print_final_stats=1 \
		-artifact_prefix="$fb/crash-$n-" $dirs >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ $rc -eq 0 ]; then
		echo "fuzz_$n: ${runs:-?} runs in ${secs}s, no crash"
	else
		failed=1
		echo "fuzz_$n: CRASH (exit $rc) after ${runs:-?} runs; see $log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|fuzz_[a-z]+: broken|.*runtime error)' \
			"$log" | head -5
		ls "$fb"/crash-"$n"-* 2>/dev/null | sed 's/^/  input: /'
	fi
done
exit $failed
