#!/usr/bin/env bash
# storage-fs.sh — an fs pool on a 64 MiB image file: build makes ext4 (and
# refuses to overwrite another filesystem), start mounts it through a loop
# device, a volume lives in it, stop unmounts and releases the loop device,
# volume calls on a stopped pool are refused, delete removes the mount point.
source "$(dirname "$0")/storage_lib.sh"
need_root
need_prog mkfs.ext4
need_prog blkid
need_prog losetup
[[ -e /dev/loop-control ]] || skip "no loop devices"

T=$(mktemp -d /tmp/virtfs-storage-fs.XXXXXX)
IMG=$T/fs.img
M=$T/mnt
cleanup() {
  mountpoint -q "$M" 2>/dev/null && umount "$M"
  for l in $(losetup -j "$IMG" -O NAME -n 2>/dev/null); do losetup -d "$l"; done
  rm -rf "$T"
}
trap cleanup EXIT
truncate -s 64M "$IMG"
cat >"$T/pool.xml" <<XML
<pool type='fs'>
  <name>testfs</name>
  <source>
    <device path='$IMG'/>
    <format type='ext4'/>
  </source>
  <target><path>$M</path></target>
</pool>
XML
t() { "$TOOL" "$T/pool.xml" "$@"; }
sed "s/ext4/auto/" "$T/pool.xml" >"$T/auto.xml"
ta() { "$TOOL" "$T/auto.xml" "$@"; }

expect_errno EINVAL "format auto on a blank image makes no filesystem" ta build
check "build makes ext4" t build
same "$(blkid -p -o value -s TYPE "$IMG")" "ext4" "the image holds ext4"
check "mount point created" test -d "$M"
check "build again leaves the filesystem alone" t build
sed "s/ext4/xfs/" "$T/pool.xml" >"$T/xfs.xml"
expect_errno EEXIST "build with another format refuses to overwrite" "$TOOL" "$T/xfs.xml" build
same "$(t active)" "0" "inactive before start"
expect_errno EBUSY "volume calls on a stopped fs pool" t list
check "start mounts" t start
check "mounted" mountpoint -q "$M"
same "$(findmnt -n -o OPTIONS "$M" | tr ',' '\n' | grep -cE '^(nosuid|nodev)$')" "2" "mounted nosuid,nodev"
same "$(t active)" "1" "active after start"
check "start again is a no-op" t start
cap=$(t info | awk '/^capacity/ {print $2}')
check "info shows the filesystem's size ($cap)" test "$cap" -gt 50000000 -a "$cap" -lt 67108864
echo "<volume><name>vm.img</name><capacity unit='M'>8</capacity></volume>" >"$T/vol.xml"
check "create a volume in it" t vol-create "$T/vol.xml"
same "$(t list | grep -v lost+found)" "vm.img" "the volume is listed"
check "the file is on the mounted filesystem" test -f "$M/vm.img"
check "stop unmounts" t stop
check "not mounted any more" bash -c "! mountpoint -q '$M'"
same "$(losetup -j "$IMG" | wc -l)" "0" "the loop device was released"
check "the volume is not in the bare mount point" test ! -e "$M/vm.img"
check "stop again is a no-op" t stop
expect_errno EBUSY "creating in a stopped pool is refused" t vol-create "$T/vol.xml"
check "start again" t start
same "$(t list | grep -v lost+found)" "vm.img" "the volume survived stop/start"
check "start with format auto finds it mounted" ta start
expect_errno EBUSY "delete while mounted" t delete
check "delete the volume" t vol-delete vm.img
check "stop" t stop
check "delete removes the mount point" t delete
check "mount point gone" test ! -e "$M"
check "the image keeps its filesystem" test "$(blkid -p -o value -s TYPE "$IMG")" = ext4
finish
