#!/usr/bin/env bash
# storage-enospc.sh — a dir pool on a 2 MiB tmpfs: an upload that does not
# fit fails with ENOSPC and leaves no volume listed and no file behind; a
# failed upload over an existing volume leaves the old content whole; a
# preallocated create that does not fit fails the same way.
source "$(dirname "$0")/storage_lib.sh"
need_root

T=$(mktemp -d /tmp/virtfs-storage-enospc.XXXXXX)
cleanup() {
  mountpoint -q "$T/fs" 2>/dev/null && umount "$T/fs"
  rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/fs"
mount -t tmpfs -o size=2m,mode=0755 virtfs-test "$T/fs" || skip "cannot mount tmpfs"
cat >"$T/pool.xml" <<XML
<pool type='dir'>
  <name>tiny</name>
  <target><path>$T/fs/pool</path></target>
</pool>
XML
t() { "$TOOL" "$T/pool.xml" "$@"; }
check "build" t build
head -c 4194304 /dev/urandom >"$T/big"
head -c 4096 /dev/urandom >"$T/small"
expect_errno ENOSPC "a 4 MiB upload into 2 MiB" bash -c "'$TOOL' '$T/pool.xml' upload big.img < '$T/big'"
same "$(t list)" "" "no volume is listed after the failed upload"
same "$(ls -A "$T/fs/pool")" "" "no file is left behind"
check "a small upload fits" bash -c "'$TOOL' '$T/pool.xml' upload small.img < '$T/small'"
expect_errno ENOSPC "a failed upload over an existing volume" bash -c "'$TOOL' '$T/pool.xml' upload small.img < '$T/big'"
check "the old content is whole" cmp "$T/fs/pool/small.img" "$T/small"
same "$(t list)" "small.img" "only the old volume is listed"
echo "<volume><name>full.img</name><capacity unit='M'>8</capacity><allocation unit='M'>8</allocation></volume>" >"$T/full.xml"
expect_errno ENOSPC "a preallocated volume that does not fit" t vol-create "$T/full.xml"
same "$(t list)" "small.img" "nothing new is listed"
same "$(ls -A "$T/fs/pool")" "small.img" "and nothing is left behind"
finish
