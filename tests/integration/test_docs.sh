#!/usr/bin/env bash
# Every file the tree serves is documented: each name listed in an object
# directory must have a "### NAME" heading on its kind's page in docs/.
. "$(dirname "$0")/lib.sh"
need_root
start_daemon || exit 1
DOCS="$VIRTFS_SOURCE_ROOT/docs"

documented() { # PAGE FILE
  grep -qx "### $2" "$DOCS/$1"
}

check_dir() { # DIR PAGE
  local f
  for f in $(ls "$1"); do
    [[ -d "$1/$f" && "$f" != volumes ]] && continue
    check "$(basename "$1")/$f is documented in docs/$2" documented "$2" "$f"
  done
}

mkdir "$MNT/domains/docvm"
check_dir "$MNT/domains/docvm" domains.md
check_dir "$MNT/node" node.md
if [[ -d "$MNT/networks/default" ]]; then check_dir "$MNT/networks/default" networks.md; fi
if [[ -d "$MNT/pools/default" ]]; then
  check_dir "$MNT/pools/default" pools.md
  if mkdir "$MNT/pools/default/volumes/docvol" 2>/dev/null; then
    check_dir "$MNT/pools/default/volumes/docvol" volumes.md
    rmdir "$MNT/pools/default/volumes/docvol"
  fi
fi
check "the events stream is documented" test -f "$DOCS/events.md"
finish
