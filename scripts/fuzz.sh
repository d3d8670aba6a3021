#!/usr/bin/env bash
# Fuzzes every target of tests/fuzz/ with libFuzzer (clang, ASan, UBSan).
#   scripts/fuzz.sh [SECONDS_PER_TARGET]      default 30
#
# Configures (once) the clang build directory build-fuzz with
# -Dfuzzing=true, then for each target: replays its saved crash inputs
# (tests/fuzz/regressions/TARGET/), then fuzzes it for the given time from
# its seed corpus (tests/fuzz/corpus/TARGET/, read only; new inputs go to
# build-fuzz/fuzz-corpus/TARGET/). A crash, leak, timeout or sanitizer
# report is copied into tests/fuzz/regressions/TARGET/ (commit it with the
# fix) and makes the script exit non-zero after the remaining targets ran.
#
# Environment: FUZZ_TARGETS="fuzz_values ..." limits the targets;
# FUZZ_FLAGS adds libFuzzer flags (e.g. "-max_len=65536 -jobs=2").
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
seconds=${1:-30}
if ! [[ $seconds =~ ^[0-9]+$ ]] || [[ $seconds -eq 0 ]]; then
  echo "usage: $0 [SECONDS_PER_TARGET]" >&2
  exit 2
fi
builddir=build-fuzz
fuzzdir=tests/fuzz

if [[ ! -f $builddir/build.ninja ]]; then
  CC=clang meson setup "$builddir" --werror -Dfuzzing=true >/dev/null || exit 1
fi
if [[ -n ${FUZZ_TARGETS:-} ]]; then
  read -ra targets <<< "$FUZZ_TARGETS"
else
  targets=()
  for f in "$fuzzdir"/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
ninja -C "$builddir" "${targets[@]/#/tests/fuzz/}" >/dev/null || exit 1

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"

# save_artifacts TARGET DIR: copies what libFuzzer left in DIR (crash-*,
# leak-*, timeout-*, oom-*) into the target's regressions.
save_artifacts() {
  local target=$1 dir=$2 f
  for f in "$dir"/*; do
    [[ -f $f ]] || continue
    cp "$f" "$fuzzdir/regressions/$target/"
    echo "  saved $fuzzdir/regressions/$target/$(basename "$f")"
  done
}

failed=()
for t in "${targets[@]}"; do
  exe=$builddir/tests/fuzz/$t
  regressions=$fuzzdir/regressions/$t
  work=$builddir/fuzz-corpus/$t
  artifacts=$builddir/fuzz-artifacts/$t
  mkdir -p "$regressions" "$work"
  rm -rf "$artifacts" && mkdir -p "$artifacts"
  log=$builddir/fuzz-$t.log

  echo "== $t: replaying $(find "$regressions" -type f ! -name '.*' | wc -l) saved crash inputs"
  if ! "$exe" -runs=0 "$regressions" > "$log" 2>&1; then
    echo "  FAILED: a saved crash input fails again (see $log)"
    failed+=("$t")
    continue
  fi

  dict=()
  [[ -f $fuzzdir/$t.dict ]] && dict=("-dict=$fuzzdir/$t.dict")
  echo "== $t: fuzzing for ${seconds}s"
  # shellcheck disable=SC2086
  "$exe" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_FLAGS:-} \
    "$work" "$fuzzdir/corpus/$t" >> "$log" 2>&1
  status=$?
  grep -E '^stat::number_of_executed_units|^stat::new_units_added' "$log" | sed 's/^/  /'
  if [[ $status -ne 0 ]] || compgen -G "$artifacts/*" >/dev/null; then
    save_artifacts "$t" "$artifacts"
    grep -m1 -E 'ERROR: |runtime error|check failed' "$log" | sed 's/^/  /'
    echo "  FAILED (exit $status, log $log)"
    failed+=("$t")
  fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing failed: ${failed[*]}"
  exit 1
fi
echo "fuzzing passed: ${targets[*]} (${seconds}s each)"
