#!/usr/bin/env bash
# Uploads into a pool that runs out of room: a dir pool on a 4 MiB tmpfs.
# The upload fails with ENOSPC in write() and at close, no half-made volume
# is listed, no file is left behind, the old content stays whole, and the
# volume's error file says what happened.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd cmp

TINY="$WORK/tiny"
mkdir "$TINY"
mount -t tmpfs -o size=4m,mode=0755 virtfs-test "$TINY" || skip "cannot mount tmpfs"
on_exit "umount '$TINY'"
start_daemon || exit 1
P="$MNT/pools"

mkdir "$P/tiny"
printf "<pool type='dir'><name>tiny</name><target><path>%s/pool</path></target></pool>" \
  "$TINY" > "$WORK/tiny.xml"
cp "$WORK/tiny.xml" "$P/tiny/config.xml"
echo build > "$P/tiny/ctl"
echo active > "$P/tiny/state"
V="$P/tiny/volumes"

head -c 8M /dev/urandom > "$WORK/big"
head -c 100000 /dev/urandom > "$WORK/small"
check "mkdir of a volume" mkdir "$V/disk"
check "a small upload fits" cp "$WORK/small" "$V/disk/data"
err=$(stderr_of cp "$WORK/big" "$V/disk/data")
check_contains "an 8 MiB upload into 4 MiB fails with ENOSPC" "No space left on device" "$err"
check_contains "the error file says so" "No space left on device" "$(cat "$V/disk/error")"
check_contains "and that the old content stays" "keeps its old content" "$(cat "$V/disk/error")"
check "the old content is whole" cmp "$WORK/small" "$V/disk/data"
check_eq "only the volume is listed" "disk" "$(ls "$V")"
check_eq "no temporary file is left" "disk" "$(ls -A "$TINY/pool")"
err=$(stderr_of bash -c "cat '$WORK/big' > '$V/disk/data'")
check_contains "a shell redirection fails too" "No space left on device" "$err"
check "the old content is still whole" cmp "$WORK/small" "$V/disk/data"
mkdir "$V/new"
check_fails "an upload into a new blank volume that does not fit" cp "$WORK/big" "$V/new/data"
check_eq "it stays blank, not half-made" "0" "$(cat "$V/new/capacity")"
check_eq "nothing else is listed" "disk new" "$(ls "$V" | tr '\n' ' ' | sed 's/ $//')"
printf "<volume><name>new</name><capacity unit='M'>16</capacity><allocation unit='M'>16</allocation></volume>" > "$WORK/full.xml"
check_fails "a preallocated volume that does not fit" cp "$WORK/full.xml" "$V/new/config.xml"
check_contains "the error file says so" "No space left on device" "$(cat "$V/new/error")"
check_eq "the blank volume is still there" "0" "$(cat "$V/new/capacity")"
check_eq "and nothing is left behind" "disk new" "$(ls -A "$TINY/pool" | tr '\n' ' ' | sed 's/ $//')"
check "after a failure the pool still works" sh -c "head -c 1000 '$WORK/small' > '$V/new/data'"
check_eq "the small upload landed" "1000" "$(stat -c %s "$TINY/pool/new")"

finish
