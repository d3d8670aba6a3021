# storage_lib.sh — sourced by the storage-*.sh integration tests: the tool
# that drives the storage driver, assertions, skip rules and the summary.
# (Kept apart from lib.sh so these tests need no daemon or mount.)
set -uo pipefail

TOOL="${VIRTFS_BUILD_ROOT:?VIRTFS_BUILD_ROOT is not set (run through meson test)}/tests/integration/virtfs-storage-tool"
passed=0
failed=0

# skip REASON: exit 77, or fail under CI=true where nothing may be missing.
skip() {
  if [[ "${CI:-}" == "true" ]]; then
    echo "FAIL: prerequisite missing under CI: $*" >&2
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}

need_root() { [[ $(id -u) -eq 0 ]] || skip "needs root"; }
need_prog() { command -v "$1" >/dev/null 2>&1 || [[ -x /usr/sbin/$1 || -x /sbin/$1 ]] || skip "$1 is not installed"; }

ok()   { passed=$((passed + 1)); echo "ok - $*"; }
bad()  { failed=$((failed + 1)); echo "not ok - $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1 out; shift
  if out=$("$@" 2>&1); then ok "$what"; else bad "$what"; sed 's/^/    /' <<<"$out"; fi
}

# expect_errno ENAME DESCRIPTION COMMAND...: the tool must fail with ENAME.
expect_errno() {
  local want=$1 what=$2; shift 2
  local out
  if out=$("$@" 2>&1); then
    bad "$what (succeeded, wanted $want)"
  elif grep -q "Sanitizer" <<<"$out"; then
    bad "$what (sanitizer report)"; sed 's/^/    /' <<<"$out"
  elif grep -q "^ERROR $want:" <<<"$out"; then
    ok "$what ($want)"
  else
    bad "$what (wanted $want)"; sed 's/^/    /' <<<"$out"
  fi
}

# same A B DESCRIPTION: string equality.
same() {
  if [[ "$1" == "$2" ]]; then ok "$3"; else bad "$3: '$1' != '$2'"; fi
}

# xml_value XML ELEMENT: the text of the first <ELEMENT ...>TEXT</ELEMENT>.
xml_value() {
  sed -n "s|.*<$2[^>]*>\([^<]*\)</$2>.*|\1|p" <<<"$1" | head -n1
}

finish() {
  echo "$passed passed, $failed failed"
  [[ $failed -eq 0 ]]
}
