#!/usr/bin/env bash
# Pools on block storage through the mount: an fs pool on an ext4 image
# mounted through a loop device, and a logical pool (LVM) on a loop device.
# This kernel may lack device-mapper; the daemon then runs with
# --lvm-without-device-mapper and LVs exist in the metadata only (their data
# is refused with EOPNOTSUPP). Everything made here is removed on exit.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd losetup mkfs.ext4 blkid pvcreate vgcreate lvcreate cmp
[[ -e /dev/loop-control ]] || skip "no loop devices"
export LVM_SUPPRESS_FD_WARNINGS=1

IMG="$WORK/fs.img"
FSMNT="$WORK/fsmnt"
VG=virtfs_pools_$$
LOOP=""
cleanup_block() {
  mountpoint -q "$FSMNT" 2>/dev/null && umount "$FSMNT"
  for l in $(losetup -j "$IMG" -O NAME -n 2>/dev/null); do losetup -d "$l"; done
  if vgs "$VG" >/dev/null 2>&1; then
    vgchange -an "$VG" >/dev/null 2>&1 || vgchange --driverloaded n -an "$VG" >/dev/null 2>&1
    vgremove -f "$VG" >/dev/null 2>&1 || vgremove --driverloaded n -f "$VG" >/dev/null 2>&1
  fi
  if [[ -n "$LOOP" ]]; then
    pvremove -ff -y "$LOOP" >/dev/null 2>&1
    losetup -d "$LOOP"
  fi
}
on_exit cleanup_block

DAEMON_ARGS=()
if ! grep -qw device-mapper /proc/misc; then
  echo "# this kernel has no device-mapper: logical volumes are metadata only"
  DAEMON_ARGS=(--lvm-without-device-mapper)
fi
start_daemon "${DAEMON_ARGS[@]}" || exit 1
P="$MNT/pools"

# --- an fs pool on an image file (mounted through a loop device)
truncate -s 64M "$IMG"
check "mkdir pools/fsp" mkdir "$P/fsp"
cat > "$WORK/fsp.xml" <<XML
<pool type='fs'>
  <name>fsp</name>
  <source>
    <device path='$IMG'/>
    <format type='ext4'/>
  </source>
  <target><path>$FSMNT</path></target>
</pool>
XML
check "cp of fs pool XML into config.xml" cp "$WORK/fsp.xml" "$P/fsp/config.xml"
check_contains "it is an fs pool" "<pool type='fs'>" "$(cat "$P/fsp/config.xml")"
check "ctl build makes the filesystem" sh -c "echo build > '$P/fsp/ctl'"
check_eq "the image holds ext4" "ext4" "$(blkid -p -o value -s TYPE "$IMG")"
check "echo active > state mounts it" sh -c "echo active > '$P/fsp/state'"
check "mounted" mountpoint -q "$FSMNT"
check_contains "info shows the filesystem's size" "capacity: " "$(cat "$P/fsp/info")"
cap=$(awk '/^capacity:/ {print $2}' "$P/fsp/info")
check "capacity in KiB is below 64 MiB ($cap)" test "$cap" -gt 40000 -a "$cap" -le 65536
check "mkdir of a volume in it" mkdir "$P/fsp/volumes/vm1"
head -c 3M /dev/urandom > "$WORK/blob"
check "upload" cp "$WORK/blob" "$P/fsp/volumes/vm1/data"
check "download gives the same bytes" cmp "$WORK/blob" "$P/fsp/volumes/vm1/data"
check "the file is on the mounted filesystem" cmp "$WORK/blob" "$FSMNT/vm1"
check_fails "lost+found is not a volume" test -e "$P/fsp/volumes/lost+found"
check "stop unmounts" sh -c "echo inactive > '$P/fsp/state'"
check_fails "not mounted" mountpoint -q "$FSMNT"
check_eq "the loop device was released" "0" "$(losetup -j "$IMG" | wc -l)"
check_eq "no volumes while stopped" "" "$(ls "$P/fsp/volumes")"
check "start again" sh -c "echo active > '$P/fsp/state'"
check "the volume survived" cmp "$WORK/blob" "$P/fsp/volumes/vm1/data"
check_fails "delete while active is refused" sh -c "echo delete > '$P/fsp/ctl'"
check "rmdir of the volume" rmdir "$P/fsp/volumes/vm1"
check "stop" sh -c "echo stop > '$P/fsp/ctl'"
check "ctl delete removes the mount point" sh -c "echo delete > '$P/fsp/ctl'"
check_fails "gone" test -e "$FSMNT"
check "rmdir undefines the pool" rmdir "$P/fsp"
check_eq "the image keeps its filesystem" "ext4" "$(blkid -p -o value -s TYPE "$IMG")"

# --- a logical pool on a loop device
truncate -s 64M "$WORK/pv.img"
LOOP=$(losetup -f --show "$WORK/pv.img") || skip "cannot attach a loop device"
check "mkdir pools/$VG" mkdir "$P/$VG"
cat > "$WORK/lvm.xml" <<XML
<pool type='logical'>
  <name>$VG</name>
  <source>
    <device path='$LOOP'/>
  </source>
</pool>
XML
check "cp of logical pool XML" cp "$WORK/lvm.xml" "$P/$VG/config.xml"
check_contains "the target is /dev/VG" "<path>/dev/$VG</path>" "$(cat "$P/$VG/config.xml")"
check "ctl build (pvcreate + vgcreate)" sh -c "echo build > '$P/$VG/ctl'"
check "the VG exists" vgs "$VG"
check "echo active > state" sh -c "echo active > '$P/$VG/state'"
check "mkdir of an LV" mkdir "$P/$VG/volumes/lv1"
check "lvs shows it" sh -c "lvs --noheadings -o lv_name '$VG' | grep -qw lv1"
check_eq "one extent (4 MiB), as LVM cannot make an empty LV" "4096" "$(cat "$P/$VG/volumes/lv1/capacity")"
check_eq "its path" "/dev/$VG/lv1" "$(cat "$P/$VG/volumes/lv1/path")"
check "echo 12M > capacity grows it" sh -c "echo 12M > '$P/$VG/volumes/lv1/capacity'"
check_eq "grown" "12288" "$(cat "$P/$VG/volumes/lv1/capacity")"
check_fails "a shrink is refused" sh -c "echo 4M > '$P/$VG/volumes/lv1/capacity'"
check_fails "qcow2 is refused in a logical pool" sh -c "echo qcow2 > '$P/$VG/volumes/lv1/format'"
check_contains "error says LVs are raw" "raw" "$(cat "$P/$VG/volumes/lv1/error")"
check_fails "an LVM-invalid name is refused" mkdir "$P/$VG/volumes/a,b"
check_fails "an LV larger than the VG is refused" sh -c "echo 1G > '$P/$VG/volumes/lv1/capacity'"
if [[ ${#DAEMON_ARGS[@]} -gt 0 ]]; then
  err=$(stderr_of cat "$P/$VG/volumes/lv1/data")
  check_contains "without device-mapper an LV's data is not reachable" "Operation not supported" "$err"
  check_contains "error says device-mapper" "device-mapper" "$(cat "$P/$VG/volumes/lv1/error")"
else
  head -c 1M /dev/urandom > "$WORK/lvdata"
  check "write into the LV" dd if="$WORK/lvdata" of="$P/$VG/volumes/lv1/data" conv=notrunc status=none
  check "read it back" cmp "$WORK/lvdata" <(head -c 1M "$P/$VG/volumes/lv1/data")
fi
check "mv renames an LV (lvrename)" mv "$P/$VG/volumes/lv1" "$P/$VG/volumes/lv2"
check "lvs shows the new name" sh -c "lvs --noheadings -o lv_name '$VG' | grep -qw lv2"
check_fails "ctl delete while active is refused" sh -c "echo delete > '$P/$VG/ctl'"
check "rmdir removes the LV (lvremove)" rmdir "$P/$VG/volumes/lv2"
check_eq "no LVs left" "" "$(lvs --noheadings -o lv_name "$VG" | tr -d ' ')"
check "stop" sh -c "echo inactive > '$P/$VG/state'"
check "ctl delete (vgremove + pvremove)" sh -c "echo delete > '$P/$VG/ctl'"
check_fails "the VG is gone" vgs "$VG"
check "rmdir undefines the pool" rmdir "$P/$VG"

finish
