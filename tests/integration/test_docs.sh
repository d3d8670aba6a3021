#!/usr/bin/env bash
# Every file the tree serves is documented: each name listed in an object
# directory must have a "### NAME" heading on its kind's page in docs/, and
# a ".SS NAME" in that page's section of the man page virtfs(5) (which
# docs/md2man.py generates from the same pages). Both man pages must render
# without a warning.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd groff
start_daemon || exit 1
DOCS="$VIRTFS_SOURCE_ROOT/docs"

documented() { # PAGE FILE
  grep -qx "### $2" "$DOCS/$1"
}

# The roff of one page's section of virtfs(5): md2man.py opens each with
# the comment '.\" page: PAGE'.
man_section() { # PAGE
  awk -v page="$1" '/^\.\\" page: / { on = ($3 == page) } on' "$DOCS/virtfs.5"
}

in_man_page() { # PAGE FILE
  man_section "$1" | grep -qxF ".SS \\fB\\%$2\\fR" ||
    man_section "$1" | grep -qxF ".SS $2"
}

check_dir() { # DIR PAGE [HEADING_PREFIX]
  local f
  for f in $(ls "$1"); do
    [[ -d "$1/$f" && "$f" != volumes && "$f" != history ]] && continue
    check "$(basename "$1")/$f is documented in docs/$2" documented "$2" "${3:-}$f"
    check "$(basename "$1")/$f is in virtfs(5)" in_man_page "$2" "${3:-}$f"
  done
}

for page in virtfs.1 virtfs.5; do
  check_eq "$page renders without warnings" "" "$(groff -ww -z -man "$DOCS/$page" 2>&1)"
done
check "virtfs(5) has the events stream" grep -q '^\.\\" page: events.md' "$DOCS/virtfs.5"

mkdir "$MNT/domains/docvm"
check_dir "$MNT/domains/docvm" domains.md
check_dir "$MNT/domains/docvm/cloud-init" domains.md
check_dir "$MNT/domains/docvm/guest" domains.md guest/
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
for f in $(ls "$MNT"); do
  [[ -d "$MNT/$f" ]] && continue
  check "/$f is documented in docs/" bash -c "grep -qx '### $f' '$DOCS'/*.md"
done
finish
