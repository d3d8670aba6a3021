#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test; ends with one line
# "N passed, M failed" and exits non-zero if anything failed.
#
# Two builds: build/ (gcc, -Werror) runs the unit tests; build-san/
# (AddressSanitizer + UndefinedBehaviorSanitizer, leaks included) runs the
# unit and the integration tests, so every test of the daemon runs under the
# sanitizers. Benchmarks (bench/) are not part of it.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test || exit 1

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=66:fast_unwind_on_malloc=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=66"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"

status=0
scripts/build.sh build || status=1
scripts/build.sh build-san -Db_sanitize=address,undefined -Db_lundef=false || status=1

run_suite() { # BUILDDIR SUITE...
  local dir=$1; shift
  local args=()
  for s in "$@"; do args+=(--suite "$s"); done
  meson test -C "$dir" "${args[@]}" --print-errorlogs --num-processes 2 || true
}

if [[ $status -eq 0 ]]; then
  run_suite build unit fuzz
  cp build/meson-logs/testlog.json build/meson-logs/testlog-unit.json 2>/dev/null || true
  run_suite build-san unit integration fuzz
fi

python3 - "$status" build/meson-logs/testlog-unit.json build-san/meson-logs/testlog.json <<'PY'
import json, sys
build_failed = sys.argv[1] != "0"
passed = failed = skipped = 0
for path in sys.argv[2:]:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        if not line.strip():
            continue
        result = json.loads(line).get("result", "")
        if result in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif result == "SKIP":
            skipped += 1
        else:
            failed += 1
if build_failed:
    failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed or passed == 0 else 0)
PY
