#!/usr/bin/env bash
# storage-dir.sh — a dir pool in a temporary directory, through the storage
# driver: build/start/refresh (files made behind its back appear, symlinks
# and dot files do not)/info, volumes raw (sparse and allocated), qcow2,
# overlays, resize, clone, wipe, upload/download, delete; and the create
# latency of raw and qcow2 volumes.
source "$(dirname "$0")/storage_lib.sh"
need_root
need_prog qemu-img

T=$(mktemp -d /tmp/virtfs-storage-dir.XXXXXX)
trap 'rm -rf "$T"' EXIT
P=$T/pool
cat >"$T/pool.xml" <<XML
<pool type='dir'>
  <name>testdir</name>
  <target>
    <path>$P</path>
    <permissions><mode>0750</mode></permissions>
  </target>
</pool>
XML
t() { "$TOOL" "$T/pool.xml" "$@"; }
vol_xml() {  # NAME FORMAT CAPACITY [ALLOCATION] [BACKING]
  local alloc="" backing=""
  [[ -n "${4:-}" ]] && alloc="<allocation>$4</allocation>"
  [[ -n "${5:-}" ]] && backing="<backingStore><path>$5</path></backingStore>"
  local cap=""
  [[ -n "$3" ]] && cap="<capacity unit='bytes'>$3</capacity>"
  printf "<volume><name>%s</name>%s%s<target><format type='%s'/></target>%s</volume>\n" \
    "$1" "$cap" "$alloc" "$2" "$backing" >"$T/$1.xml"
  echo "$T/$1.xml"
}

expect_errno ENOENT "start before build" t start
check "build" t build
same "$(stat -c %a "$P")" "750" "pool directory mode from <permissions>"
check "build again is a no-op" t build
check "start" t start
same "$(t active)" "1" "pool is active"
info=$(t info)
cap=$(awk '/^capacity/ {print $2}' <<<"$info")
check "info has a capacity" test "${cap:-0}" -gt 0
same "$(t list)" "" "a new pool lists nothing"

# Behind the driver's back.
truncate -s 1M "$P/byhand.img"
ln -s /etc/passwd "$P/evil"
touch "$P/.hidden"
mkdir "$P/subdir"
same "$(t list)" "byhand.img" "a file made by hand appears; symlink, dot file and dir do not"
x=$(t vol-xml byhand.img)
same "$(xml_value "$x" capacity)" "1048576" "hand-made volume capacity"
same "$(xml_value "$x" key)" "$P/byhand.img" "key is the path"
expect_errno ENOENT "delete through a symlink is refused" t vol-delete evil
check "the symlink's target is untouched" test -s /etc/passwd
expect_errno EINVAL "path traversal in a name" t vol-delete ../pool.xml
expect_errno EINVAL "a dot name" t vol-delete .hidden
rm -f "$P/evil" "$P/.hidden"; rmdir "$P/subdir"

# Raw volumes.
x=$(t vol-create "$(vol_xml sparse.img raw 16777216)")
same "$(xml_value "$x" capacity)" "16777216" "raw create: capacity"
alloc=$(xml_value "$x" allocation)
check "raw create is sparse (allocation $alloc)" test "$alloc" -lt 1048576
x=$(t vol-create "$(vol_xml full.img raw 4194304 4194304)")
alloc=$(xml_value "$x" allocation)
check "allocation = capacity preallocates (allocation $alloc)" test "$alloc" -ge 4194304
same "$(stat -c %a "$P/full.img")" "600" "volume mode defaults to 0600"
expect_errno EEXIST "create over an existing volume" t vol-create "$(vol_xml sparse.img raw 1024)"

# qcow2 and overlays.
x=$(t vol-create "$(vol_xml disk.qcow2 qcow2 33554432)")
same "$(xml_value "$x" capacity)" "33554432" "qcow2 create: capacity"
same "$(sed -n "s/.*<format type='\([a-z0-9]*\)'.*/\1/p" <<<"$x" | head -n1)" "qcow2" "qcow2 create: format"
check "qemu-img agrees" bash -c "qemu-img info -U --output=json '$P/disk.qcow2' | grep -q '\"virtual-size\": 33554432'"
check "qemu-img check passes" qemu-img check -q "$P/disk.qcow2"
check "qemu-io can write and read it" qemu-io -c "write -P 0xab 1M 192k" -c "read -P 0xab 1M 192k" "$P/disk.qcow2"
check "still consistent after writes" qemu-img check -q "$P/disk.qcow2"
echo "<volume><name>v2.qcow2</name><capacity>1000</capacity><target><format type='qcow2'/><compat>0.10</compat></target></volume>" >"$T/v2.xml"
x=$(t vol-create "$T/v2.xml")
same "$(xml_value "$x" compat)" "0.10" "compat 0.10 (qcow2 version 2)"
same "$(xml_value "$x" capacity)" "1024" "qcow2 capacity rounds up to 512"
check "a version 2 image passes qemu-img check" qemu-img check -q "$P/v2.qcow2"
echo "<volume><name>pre.qcow2</name><capacity>1048576</capacity><allocation>1048576</allocation><target><format type='qcow2'/></target></volume>" >"$T/pre.xml"
x=$(t vol-create "$T/pre.xml")
check "preallocated qcow2 (qemu-img) is allocated ($(xml_value "$x" allocation))" test "$(xml_value "$x" allocation)" -ge 1048576
head -c 1048576 /dev/urandom >"$T/base.data"
check "upload a base image" bash -c "t() { \"$TOOL\" \"$T/pool.xml\" \"\$@\"; }; t upload base.img < '$T/base.data'"
x=$(t vol-create "$(vol_xml overlay.qcow2 qcow2 "" "" "$P/base.img")")
same "$(xml_value "$x" capacity)" "1048576" "overlay without capacity takes the base's"
grep -q "<path>$P/base.img</path>" <<<"$x" && ok "overlay names its backing store" || bad "overlay backing store: $x"
grep -A2 "<backingStore>" <<<"$x" | grep -q "format type='raw'" && ok "backing format probed as raw" || bad "backing format: $x"
check "the overlay passes qemu-img check" qemu-img check -q "$P/overlay.qcow2"
check "the overlay reads as its base" qemu-img compare -q "$P/overlay.qcow2" "$P/base.img"
qemu-img create -q -f qcow2 -b base.img -F raw "$P/hand-ov.qcow2"
x=$(t vol-xml hand-ov.qcow2)
grep -q "<path>$P/base.img</path>" <<<"$x" && ok "a hand-made overlay's relative backing name is resolved" || bad "hand-made overlay: $x"
same "$(xml_value "$x" capacity)" "$(qemu-img info --output=json "$P/hand-ov.qcow2" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')" "listing agrees with qemu-img info"
rm "$P/hand-ov.qcow2"
expect_errno ENOENT "overlay on a missing base" t vol-create "$(vol_xml o2.qcow2 qcow2 1048576 "" "$P/missing.img")"
same "$(t list | tr '\n' ' ')" "base.img byhand.img disk.qcow2 full.img overlay.qcow2 pre.qcow2 sparse.img v2.qcow2 " "list after creates"

# Resize.
check "raw grow" t vol-resize sparse.img 32M
same "$(stat -c %s "$P/sparse.img")" "33554432" "raw grown"
expect_errno EINVAL "raw shrink without the flag" t vol-resize sparse.img 8M
same "$(stat -c %s "$P/sparse.img")" "33554432" "refused shrink changed nothing"
check "raw shrink with the flag" t vol-resize sparse.img 8M shrink
same "$(stat -c %s "$P/sparse.img")" "8388608" "raw shrunk"
check "same size is a no-op" t vol-resize sparse.img 8M
check "qcow2 grow" t vol-resize disk.qcow2 64M
same "$(xml_value "$(t vol-xml disk.qcow2)" capacity)" "67108864" "qcow2 grown"
expect_errno EOPNOTSUPP "qcow2 shrink" t vol-resize disk.qcow2 16M shrink

# Clone.
x=$(t vol-clone base.img copy.img)
check "raw clone has the same bytes" cmp "$P/base.img" "$P/copy.img"
truncate -s 64M "$P/holes.img"; printf 'data' | dd of="$P/holes.img" bs=1 seek=$((32 << 20)) conv=notrunc status=none
x=$(t vol-clone holes.img holes-copy.img)
check "sparse clone keeps holes (allocation $(xml_value "$x" allocation))" test "$(xml_value "$x" allocation)" -lt 1048576
check "sparse clone has the same bytes" cmp "$P/holes.img" "$P/holes-copy.img"
x=$(t vol-clone overlay.qcow2 flat.raw raw)
check "qcow2 overlay cloned flat to raw" cmp "$P/base.img" "$P/flat.raw"
x=$(t vol-clone base.img base-copy.qcow2 qcow2)
same "$(t download base-copy.qcow2 | head -c 4 | od -An -c | tr -d ' ')" "QFI373" "clone raw to qcow2"
expect_errno EEXIST "clone onto an existing name" t vol-clone base.img copy.img

# Wipe.
check "wipe raw" t vol-wipe copy.img
check "wiped raw reads zeros" cmp -n 1048576 "$P/copy.img" /dev/zero
same "$(stat -c %s "$P/copy.img")" "1048576" "wipe keeps the size"
before=$(xml_value "$(t vol-xml full.img)" allocation)
check "wipe a fully allocated raw" t vol-wipe full.img
same "$(xml_value "$(t vol-xml full.img)" allocation)" "$before" "wipe keeps it allocated"
check "wipe qcow2 overlay" t vol-wipe overlay.qcow2
x=$(t vol-xml overlay.qcow2)
same "$(xml_value "$x" capacity)" "1048576" "wiped overlay keeps its capacity"
grep -q "<path>$P/base.img</path>" <<<"$x" && ok "wiped overlay keeps its backing store" || bad "wiped overlay: $x"
check "the wiped overlay reads as its base again" qemu-img compare -q "$P/overlay.qcow2" "$P/base.img"
check "wipe a written qcow2" t vol-wipe disk.qcow2
check "the wiped qcow2 reads zeros" qemu-io -c "read -P 0 1M 192k" "$P/disk.qcow2"

# Upload and download.
head -c 3000000 /dev/urandom >"$T/up.data"
check "upload a new volume" bash -c "'$TOOL' '$T/pool.xml' upload up.img < '$T/up.data'"
check "download gives the bytes back" bash -c "'$TOOL' '$T/pool.xml' download up.img | cmp - '$T/up.data'"
chmod 0640 "$P/up.img"
head -c 1000 /dev/urandom >"$T/up2.data"
check "upload replaces a volume" bash -c "'$TOOL' '$T/pool.xml' upload up.img < '$T/up2.data'"
check "replaced content" cmp "$P/up.img" "$T/up2.data"
same "$(stat -c %a "$P/up.img")" "640" "replacing keeps the mode"
qemu-img create -q -f qcow2 "$T/img.qcow2" 5M
out=$("$TOOL" "$T/pool.xml" upload img.qcow2 <"$T/img.qcow2")
same "$out" "img.qcow2 qcow2 5242880" "an uploaded qcow2 is detected at commit"
{ printf 'QFI\373\0\0\0\003'; head -c 100 /dev/zero; } >"$T/bogus"
expect_errno EINVAL "a corrupt qcow2 upload is refused" bash -c "'$TOOL' '$T/pool.xml' upload bogus.qcow2 < '$T/bogus'"
check "in-place write" bash -c "printf 'XY' | '$TOOL' '$T/pool.xml' upload up.img inplace"
same "$(head -c 2 "$P/up.img")" "XY" "in-place write landed"
same "$(stat -c %s "$P/up.img")" "1000" "in-place write keeps the size"
same "$(ls -A "$P" | grep -c '^\.')" "0" "no temporary files are left"

# Delete.
expect_errno ENOTEMPTY "pool delete with volumes" t delete
for v in $(t list); do t vol-delete "$v" || bad "delete $v"; done
same "$(t list)" "" "every volume deleted"
expect_errno ENOENT "delete a missing volume" t vol-delete nothing.img

# Latency (reported, not asserted: the machine is shared).
t bench 20 | sed 's/^/# /'

check "pool delete" t delete
check "pool directory removed" test ! -e "$P"
finish
