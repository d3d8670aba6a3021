#!/usr/bin/env bash
# storage-logical.sh — a logical pool on a loop device: build (pvcreate +
# vgcreate of a VG named virtfs_test_PID), start, info, a logical volume
# created, listed, grown, refused a shrink, deleted; then the pool deleted
# (vgremove + pvremove). Cleans up the VG, PV and loop device on any exit.
#
# Kernels without device-mapper cannot activate LVs; there the driver is
# run with --lvm-no-dm (metadata-only LVs) after checking that without it
# LV creation is refused with EOPNOTSUPP.
source "$(dirname "$0")/storage_lib.sh"
need_root
for p in pvcreate vgcreate lvcreate losetup blkid; do need_prog "$p"; done
[[ -e /dev/loop-control ]] || skip "no loop devices"
export LVM_SUPPRESS_FD_WARNINGS=1

T=$(mktemp -d /tmp/virtfs-storage-lvm.XXXXXX)
VG=virtfs_test_$$
LOOP=""
cleanup() {
  if vgs "$VG" >/dev/null 2>&1; then
    vgchange -an "$VG" >/dev/null 2>&1 || vgchange --driverloaded n -an "$VG" >/dev/null 2>&1
    vgremove -f "$VG" >/dev/null 2>&1 || vgremove --driverloaded n -f "$VG" >/dev/null 2>&1
  fi
  if [[ -n "$LOOP" ]]; then
    pvremove -ff -y "$LOOP" >/dev/null 2>&1
    losetup -d "$LOOP"
  fi
  rm -rf "$T"
}
trap cleanup EXIT
truncate -s 64M "$T/pv.img"
LOOP=$(losetup -f --show "$T/pv.img") || skip "cannot attach a loop device"
cat >"$T/pool.xml" <<XML
<pool type='logical'>
  <name>$VG</name>
  <source>
    <device path='$LOOP'/>
  </source>
</pool>
XML
FLAGS=()
if ! grep -qw device-mapper /proc/misc; then
  echo "# this kernel has no device-mapper: LVs are created without activation"
  FLAGS=(--lvm-no-dm)
fi
t() { "$TOOL" "${FLAGS[@]}" "$T/pool.xml" "$@"; }

same "$(t active)" "0" "no VG before build"
expect_errno ENOENT "start before build" t start
check "build (pvcreate + vgcreate)" t build
check "the VG exists" vgs "$VG"
check "build again is a no-op" t build
check "start (vgchange -aay)" t start
same "$(t active)" "1" "active"
cap=$(t info | awk '/^capacity/ {print $2}')
check "info: the VG's size ($cap)" test "$cap" -gt 50000000
same "$(t list)" "" "no volumes yet"
echo "<volume><name>lv1</name><capacity unit='M'>8</capacity></volume>" >"$T/lv1.xml"
if [[ ${#FLAGS[@]} -gt 0 ]]; then
  expect_errno EOPNOTSUPP "without device-mapper LV creation is refused by default" \
    "$TOOL" "$T/pool.xml" vol-create "$T/lv1.xml"
fi
x=$(t vol-create "$T/lv1.xml")
same "$(xml_value "$x" capacity)" "8388608" "lvcreate: capacity"
same "$(xml_value "$x" path)" "/dev/$VG/lv1" "the volume's path"
same "$(lvs --noheadings -o lv_name "$VG" | tr -d ' ')" "lv1" "lvs shows it"
same "$(t list)" "lv1" "listed"
expect_errno EEXIST "create it again" t vol-create "$T/lv1.xml"
echo "<volume><name>bad name</name><capacity>1</capacity></volume>" >"$T/bad.xml"
expect_errno EINVAL "an LVM-invalid name" t vol-create "$T/bad.xml"
echo "<volume><name>lvq</name><capacity>1048576</capacity><target><format type='qcow2'/></target></volume>" >"$T/q.xml"
expect_errno EINVAL "qcow2 in a logical pool" t vol-create "$T/q.xml"
check "grow to 12M" t vol-resize lv1 12M
same "$(xml_value "$(t vol-xml lv1)" capacity)" "12582912" "grown"
check "a size rounding up to the same extents is a no-op" t vol-resize lv1 12000000
expect_errno EINVAL "shrink without the flag" t vol-resize lv1 4M
check "shrink with the flag" t vol-resize lv1 4M shrink
same "$(xml_value "$(t vol-xml lv1)" capacity)" "4194304" "shrunk"
echo "<volume><name>huge</name><capacity unit='G'>10</capacity></volume>" >"$T/huge.xml"
expect_errno ENOSPC "an LV bigger than the VG" t vol-create "$T/huge.xml"
if [[ ${#FLAGS[@]} -eq 0 ]]; then
  head -c 1048576 /dev/urandom >"$T/data"
  check "write into the LV" bash -c "t() { \"$TOOL\" \"$T/pool.xml\" \"\$@\"; }; t upload lv1 < '$T/data'"
  check "read it back" bash -c "\"$TOOL\" \"$T/pool.xml\" download lv1 | head -c 1048576 | cmp - '$T/data'"
  check "clone" t vol-clone lv1 lv2
  check "wipe" t vol-wipe lv2
  check "delete the clone" t vol-delete lv2
else
  expect_errno EOPNOTSUPP "LV data without device-mapper" t download lv1
fi
expect_errno ENOTEMPTY "pool delete with a volume left" t delete
check "delete the volume (lvremove)" t vol-delete lv1
same "$(t list)" "" "gone"
expect_errno ENOENT "delete it again" t vol-delete lv1
check "stop (vgchange -an)" t stop
check "pool delete (vgremove + pvremove)" t delete
check "the VG is gone" bash -c "! vgs '$VG' 2>/dev/null"
same "$(blkid -p -o value -s TYPE "$LOOP" 2>/dev/null)" "" "the PV label is gone"
finish
