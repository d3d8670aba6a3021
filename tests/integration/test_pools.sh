#!/usr/bin/env bash
# Storage pools and volumes as files (issue 5), on dir pools, driven the way
# a user would: mkdir, rmdir, mv, cat, echo, cp, cmp, qemu-img, through the
# real mount. fs and logical pools: test_pools_block.sh; ENOSPC:
# test_pools_enospc.sh.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd qemu-img cmp python3 rsync jq mountpoint xmllint

start_daemon || exit 1
P="$MNT/pools"
IMAGES="$STATE/images"
EV="$WORK/events"
cat "$MNT/events" > "$EV" &
EV_PID=$!
on_exit "kill $EV_PID"

# --- the default pool, made at first start
check "the default pool exists" test -d "$P/default"
check_eq "it is active" "active" "$(cat "$P/default/state")"
check_eq "it starts with the daemon" "1" "$(cat "$P/default/autostart")"
check "its directory was built" test -d "$IMAGES"
check_contains "its target is STATE/images" "<path>$IMAGES</path>" "$(cat "$P/default/config.xml")"
check_contains "live sizes while active" "<available unit='bytes'>" "$(cat "$P/default/config.xml")"
check "its definition is stored" test -f "$STATE/pools/default.xml"
check_fails "the stored definition holds no live sizes" grep -q capacity "$STATE/pools/default.xml"
for f in config.xml state ctl autostart uuid info error volumes; do
  check_contains "ls shows $f" "$f" "$(ls "$P/default")"
done
info=$(cat "$P/default/info")
check_contains "info: state" "state: active" "$info"
check_contains "info: type" "type: dir" "$info"
avail=$(awk '/^available:/ {print $2}' <<<"$info")
df_avail=$(df -k --output=avail "$IMAGES" | tail -1 | tr -d ' ')
check "info: available is KiB like df ($avail vs $df_avail)" \
  test $((avail - df_avail)) -lt 65536 -a $((df_avail - avail)) -lt 65536
check_eq "uuid matches config.xml" "1" \
  "$(grep -c "<uuid>$(cat "$P/default/uuid")</uuid>" "$P/default/config.xml")"
check_eq "ctl lists its verbs" "build [overwrite] start stop refresh delete" \
  "$(tr '\n' ' ' < "$P/default/ctl" | sed 's/ $//')"
check_eq "stat size of info is its true length" "$(cat "$P/default/info" | wc -c)" \
  "$(stat -c %s "$P/default/info")"

# --- volumes: mkdir makes a blank raw volume of 0 bytes
V="$P/default/volumes"
check "mkdir makes a volume" mkdir "$V/disk1"
check "the file is in the pool" test -f "$IMAGES/disk1"
check_eq "capacity 0" "0" "$(cat "$V/disk1/capacity")"
check_eq "format raw" "raw" "$(cat "$V/disk1/format")"
check_eq "path" "$IMAGES/disk1" "$(cat "$V/disk1/path")"
check_contains "config.xml is volume XML" "<name>disk1</name>" "$(cat "$V/disk1/config.xml")"
for f in config.xml capacity allocation format path data error; do
  check_contains "ls shows $f" "$f" "$(ls "$V/disk1")"
done
check_eq "data is private to the owner" "-rw-------" "$(stat -c %A "$V/disk1/data")"
check_fails "mkdir of an existing volume fails" mkdir "$V/disk1"

# --- capacity: grow, idempotent, shrink refused, impossible sizes
check "echo 10G > capacity" sh -c "echo 10G > '$V/disk1/capacity'"
check_eq "capacity reads back in KiB" "10485760" "$(cat "$V/disk1/capacity")"
check_eq "the file has that size" "10737418240" "$(stat -c %s "$IMAGES/disk1")"
check_eq "and stays sparse" "0" "$(cat "$V/disk1/allocation")"
check_eq "data shows the bytes as stored" "10737418240" "$(stat -c %s "$V/disk1/data")"
check "writing the value read back is a no-op" sh -c "cat '$V/disk1/capacity' > '$WORK/c'; cat '$WORK/c' > '$V/disk1/capacity'"
err=$(stderr_of bash -c "echo 1G > '$V/disk1/capacity'")
check_contains "a shrink is refused" "Invalid argument" "$err"
check_contains "error says why" "shrinking" "$(cat "$V/disk1/error")"
check_eq "a refused shrink changes nothing" "10485760" "$(cat "$V/disk1/capacity")"
check_fails "99999999T is refused" sh -c "echo 99999999T > '$V/disk1/capacity'"
check_contains "error says it is not a possible size" "not a possible size" "$(cat "$V/disk1/error")"
check_fails "7E (past what the filesystem holds) is refused" sh -c "echo 7E > '$V/disk1/capacity'"
check_contains "with the filesystem's reason" "disk1" "$(cat "$V/disk1/error")"
check_fails "lots is not a size" sh -c "echo lots > '$V/disk1/capacity'"
check_fails "0 is refused" sh -c "echo 0 > '$V/disk1/capacity'"
check_eq "the refused sizes changed nothing" "10485760" "$(cat "$V/disk1/capacity")"
check "a valid write after the refused ones" sh -c "echo 10G > '$V/disk1/capacity'"
check_eq "clears the volume's stale error" "" "$(cat "$V/disk1/error")"
check_fails "allocation is read-only" sh -c "echo 1 > '$V/disk1/allocation'"
check_fails "path is read-only" sh -c "echo /etc/passwd > '$V/disk1/path'"

# --- format: a blank volume changes format, one holding data does not
check "echo qcow2 > format on a blank volume" sh -c "echo qcow2 > '$V/disk1/format'"
check_eq "it is qcow2 now" "qcow2" "$(cat "$V/disk1/format")"
check_eq "with the same capacity" "10485760" "$(cat "$V/disk1/capacity")"
check_contains "qemu-img agrees" "file format: qcow2" "$(qemu-img info -U "$IMAGES/disk1")"
check_fails "back to raw is refused (qcow2 holds a header)" sh -c "echo raw > '$V/disk1/format'"
check_contains "error says it holds data" "holds data" "$(cat "$V/disk1/error")"
check_fails "vmdk is not a format" sh -c "echo vmdk > '$V/disk1/format'"
check "echo 20G > capacity grows a qcow2 volume" sh -c "echo 20G > '$V/disk1/capacity'"
check_contains "qemu-img sees 20 GiB" "virtual size: 20 GiB" "$(qemu-img info -U "$IMAGES/disk1")"
# one line: a sized qcow2 volume
check "mkdir + echo size + echo format in one line" \
  sh -c "mkdir '$V/one' && echo 2G > '$V/one/capacity' && echo qcow2 > '$V/one/format'"
check_contains "made a 2 GiB qcow2 image" "virtual size: 2 GiB" "$(qemu-img info -U "$IMAGES/one")"

# --- upload and download through data
head -c $((6 * 1024 * 1024 + 12345)) /dev/urandom > "$WORK/blob"
mkdir "$V/up"
check "cp uploads into data" cp "$WORK/blob" "$V/up/data"
check "download gives back identical bytes" cmp "$WORK/blob" "$V/up/data"
check "the pool file holds them" cmp "$WORK/blob" "$IMAGES/up"
check_eq "capacity in KiB, rounded up" "$(( (6 * 1024 * 1024 + 12345 + 1023) / 1024 ))" "$(cat "$V/up/capacity")"
check "writing the KiB value read back is a no-op" sh -c "c=\$(cat '$V/up/capacity'); echo \$c > '$V/up/capacity'"
check_eq "so the odd size is kept" "$((6 * 1024 * 1024 + 12345))" "$(stat -c %s "$IMAGES/up")"
check "cat > data replaces the content" sh -c "head -c 3000000 '$WORK/blob' > '$V/up/data'"
check_eq "the new size" "3000000" "$(stat -c %s "$IMAGES/up")"
check "dd with offsets reads the middle" bash -c \
  "dd if='$V/up/data' bs=1000 skip=1000 count=10 2>/dev/null | cmp - <(dd if='$WORK/blob' bs=1000 skip=1000 count=10 2>/dev/null)"
check "dd conv=notrunc writes in place" sh -c \
  "printf XYZ | dd of='$V/up/data' bs=1 seek=100 conv=notrunc 2>/dev/null"
check_eq "the in-place write landed" "XYZ" "$(dd if="$IMAGES/up" bs=1 skip=100 count=3 2>/dev/null)"
check_eq "in place keeps the size" "3000000" "$(stat -c %s "$IMAGES/up")"
qemu-img create -q -f qcow2 "$WORK/q.qcow2" 3G
check "upload of a qcow2 image" cp "$WORK/q.qcow2" "$V/up/data"
check_eq "its format is detected at commit" "qcow2" "$(cat "$V/up/format")"
check_eq "its capacity is the virtual size" "3145728" "$(cat "$V/up/capacity")"
head -c 4096 "$WORK/q.qcow2" > "$WORK/broken.qcow2"
head -c 65536 /dev/zero >> "$WORK/broken.qcow2"
printf '\xff\xff\xff\xff' | dd of="$WORK/broken.qcow2" bs=1 seek=20 conv=notrunc 2>/dev/null
err=$(stderr_of cp "$WORK/broken.qcow2" "$V/up/data")
check_contains "an upload that looks like qcow2 but is not is refused at close" "Invalid argument" "$err"
check_contains "error says so" "qcow2" "$(cat "$V/up/error")"
check_eq "the old content stays" "qcow2" "$(qemu-img info -U --output=json "$IMAGES/up" | python3 -c 'import json,sys; print(json.load(sys.stdin)["format"])')"
check_eq "no temporary file is left" "" "$(ls -A "$IMAGES" | grep '^\.' || true)"
python3 - "$V/up/data" <<'PY' && pass "python writes data in two opens" || fail "python writes data in two opens"
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"A" * 1000)
with open(sys.argv[1], "rb") as f:
    assert f.read() == b"A" * 1000
PY
check_eq "and the format follows the content" "raw" "$(cat "$V/up/format")"
check_eq "data shows the image's own mtime" "$(stat -c %Y "$IMAGES/up")" "$(stat -c %Y "$V/up/data")"
head -c 1000 /dev/urandom > "$WORK/r.bin"
touch -d 2001-01-01 "$WORK/r.bin"
check "rsync --inplace onto data" rsync --inplace "$WORK/r.bin" "$V/up/data"
check "rsync's bytes landed" cmp "$WORK/r.bin" "$IMAGES/up"
check_fails "truncate -s of data is refused" truncate -s 1M "$V/up/data"

# --- qemu-img convert into data (truncate, then writes at offsets)
qemu-img create -q -f raw "$WORK/src.raw" 8M
printf 'hello' | dd of="$WORK/src.raw" bs=1 seek=4194304 conv=notrunc 2>/dev/null
mkdir "$V/conv"
check "qemu-img convert -O raw into data" qemu-img convert -O raw "$WORK/src.raw" "$V/conv/data"
check "the converted bytes match" cmp "$WORK/src.raw" "$IMAGES/conv"

# --- a qcow2 overlay through config.xml
mkdir "$V/base"
echo 64M > "$V/base/capacity"
mkdir "$V/overlay"
cat > "$WORK/overlay.xml" <<XML
<volume>
  <name>overlay</name>
  <target><format type='qcow2'/></target>
  <backingStore>
    <path>$IMAGES/base</path>
    <format type='raw'/>
  </backingStore>
</volume>
XML
check "cp of overlay XML into a blank volume's config.xml" cp "$WORK/overlay.xml" "$V/overlay/config.xml"
check_eq "it is a qcow2 volume" "qcow2" "$(cat "$V/overlay/format")"
check_eq "of its backing file's size" "65536" "$(cat "$V/overlay/capacity")"
xml=$(cat "$V/overlay/config.xml")
check_contains "config.xml shows the backing store" "<path>$IMAGES/base</path>" "$xml"
check_contains "qemu-img sees the backing file" "backing file: $IMAGES/base" "$(qemu-img info -U "$IMAGES/overlay")"
check "writing config.xml back unchanged is a no-op" sh -c "cat '$V/overlay/config.xml' > '$WORK/o.xml'; cp '$WORK/o.xml' '$V/overlay/config.xml'"
sed "s|<capacity unit='bytes'>67108864</capacity>|<capacity unit='bytes'>134217728</capacity>|" "$WORK/o.xml" > "$WORK/o2.xml"
check "config.xml with a larger capacity grows it" cp "$WORK/o2.xml" "$V/overlay/config.xml"
check_eq "grown" "131072" "$(cat "$V/overlay/capacity")"
printf "<volume><name>overlay</name><capacity unit='M'>128</capacity></volume>" > "$WORK/o3.xml"
check_fails "config.xml changing the format of a volume with data is refused" cp "$WORK/o3.xml" "$V/overlay/config.xml"
check_contains "error says why" "holds data" "$(cat "$V/overlay/error")"
sed "s|<name>overlay</name>|<name>other</name>|" "$WORK/o.xml" > "$WORK/o4.xml"
check_fails "config.xml naming another volume is refused" cp "$WORK/o4.xml" "$V/overlay/config.xml"
printf '<volume><name>overlay</name><bogus/></volume>' > "$WORK/o5.xml"
check_fails "config.xml with an unknown element is refused" cp "$WORK/o5.xml" "$V/overlay/config.xml"
check_contains "error names the element" "bogus" "$(cat "$V/overlay/error")"
mkdir "$V/sized"
printf "<volume><name>sized</name><capacity unit='M'>5</capacity><allocation unit='M'>5</allocation></volume>" > "$WORK/sized.xml"
check "config.xml with a preallocation into a blank volume" cp "$WORK/sized.xml" "$V/sized/config.xml"
check_eq "capacity 5 MiB" "5120" "$(cat "$V/sized/capacity")"
check_eq "fully allocated" "5120" "$(cat "$V/sized/allocation")"

# --- refresh sees what was made behind virtfs' back
head -c 1M /dev/urandom > "$IMAGES/outside.img"
echo refresh > "$P/default/ctl"
check "ctl refresh lists a file made outside" test -d "$V/outside.img"
head -c 1M /dev/urandom > "$IMAGES/outside2.img"
rm "$IMAGES/outside.img"
sleep 1.1
ls "$V" > /dev/null
check "listing volumes/ refreshes too" test -d "$V/outside2.img"
check_fails "and drops what vanished" test -e "$V/outside.img"
ln -s /etc/passwd "$IMAGES/link"
mkdir "$IMAGES/subdir"
echo refresh > "$P/default/ctl"
check_fails "symlinks are not volumes" test -e "$V/link"
check_fails "directories are not volumes" test -e "$V/subdir"
rm "$IMAGES/link"; rmdir "$IMAGES/subdir"

# --- rmdir and mv of volumes
check "mv renames a volume" mv "$V/outside2.img" "$V/renamed.img"
check "the file follows" test -f "$IMAGES/renamed.img"
check_fails "the old file is gone" test -e "$IMAGES/outside2.img"
check_eq "path follows" "$IMAGES/renamed.img" "$(cat "$V/renamed.img/path")"
check_fails "mv onto an existing volume fails" mv -T "$V/renamed.img" "$V/up"
check "rmdir deletes a volume" rmdir "$V/renamed.img"
check_fails "its file is gone" test -e "$IMAGES/renamed.img"
check "rm -r deletes a volume" rm -r "$V/sized"
check_fails "its file is gone" test -e "$IMAGES/sized"

# --- hostile volume names
check_fails "mkdir .. is refused" mkdir "$V/.."
check_fails "a leading dot is refused" mkdir "$V/.hidden"
check_fails "a newline is refused" mkdir "$V/$(printf 'a\nb')"
check_fails "a 300-byte name is refused" mkdir "$V/$(head -c 300 /dev/zero | tr '\0' x)"
check_fails "a 65-byte name is refused" mkdir "$V/$(head -c 65 /dev/zero | tr '\0' x)"
check_fails "a slash makes a path" mkdir "$V/a/b"
check "commas and blanks are accepted" mkdir "$V/a,b c"
check "the file has that name" test -f "$IMAGES/a,b c"
check_fails "no file escaped the pool" test -e "$STATE/a"
check_fails "files cannot be created among volumes" touch "$V/file"

# --- pools: mkdir, state, ctl, mv, rmdir, delete
check "mkdir defines a pool" mkdir "$P/p1"
check_eq "it is inactive" "inactive" "$(cat "$P/p1/state")"
check "its directory was built" test -d "$STATE/pools-data/p1"
check_contains "config.xml names its directory" "<path>$STATE/pools-data/p1</path>" "$(cat "$P/p1/config.xml")"
check_fails "mkdir of a volume in an inactive pool fails" mkdir "$P/p1/volumes/v"
check_contains "error says start it" "not active" "$(cat "$P/p1/error")"
check "echo active > state starts it" sh -c "echo active > '$P/p1/state'"
check "again: idempotent" sh -c "echo active > '$P/p1/state'"
check_eq "active" "active" "$(cat "$P/p1/state")"
check "a volume in it" mkdir "$P/p1/volumes/v"
check_fails "rmdir of an active pool fails" rmdir "$P/p1"
check_contains "error says active" "active" "$(cat "$P/p1/error")"
check_fails "mv of an active pool fails" mv "$P/p1" "$P/p2"
sed "s|pools-data/p1|pools-data/elsewhere|" "$P/p1/config.xml" > "$WORK/p1.xml"
check_fails "changing an active pool's definition fails" cp "$WORK/p1.xml" "$P/p1/config.xml"
check_contains "error says stop it" "stop it" "$(cat "$P/p1/error")"
cat "$P/p1/config.xml" > "$WORK/p1same.xml"
check "writing it back unchanged (live sizes included) succeeds" cp "$WORK/p1same.xml" "$P/p1/config.xml"
check_fails "an unknown ctl verb fails in write()" sh -c "echo explode > '$P/p1/ctl'"
check_contains "error names it" "explode" "$(cat "$P/p1/error")"
check_fails "a bad state fails" sh -c "echo running > '$P/p1/state'"
check "ctl stop" sh -c "echo stop > '$P/p1/ctl'"
check_eq "inactive" "inactive" "$(cat "$P/p1/state")"
check_eq "no volumes listed while inactive" "" "$(ls "$P/p1/volumes")"
check "the volume's file stays" test -f "$STATE/pools-data/p1/v"
check "ctl start" sh -c "echo start > '$P/p1/ctl'"
check "the volume is back" test -d "$P/p1/volumes/v"
echo inactive > "$P/p1/state"
check "mv renames an inactive pool" mv "$P/p1" "$P/p2"
check "the stored file follows" test -f "$STATE/pools/p2.xml"
check_fails "ctl delete refuses a directory with volumes" sh -c "echo delete > '$P/p2/ctl'"
check_contains "error says it holds files" "files" "$(cat "$P/p2/error")"
check "rmdir undefines an inactive pool" rmdir "$P/p2"
check "its directory and volumes stay on disk" test -f "$STATE/pools-data/p1/v"
check "mkdir of a new pool named p1" mkdir "$P/p1"
echo active > "$P/p1/state"
check "reuses the directory: the volume is listed" test -d "$P/p1/volumes/v"
rmdir "$P/p1/volumes/v"
echo inactive > "$P/p1/state"
check "ctl delete removes the empty directory" sh -c "echo delete > '$P/p1/ctl'"
check_fails "gone" test -e "$STATE/pools-data/p1"
check_fails "start without a directory fails" sh -c "echo active > '$P/p1/state'"
check_contains "error says build" "build" "$(cat "$P/p1/error")"
check "ctl build" sh -c "echo build > '$P/p1/ctl'"
check "then start" sh -c "echo active > '$P/p1/state'"
check "echo 1 > autostart" sh -c "echo 1 > '$P/p1/autostart'"
mkdir "$P/q1"
sed -e "s|<name>q1</name>|<name>q1</name>|" -e "s|pools-data/q1|pools-data/p1|" "$P/q1/config.xml" > "$WORK/q1.xml"
check_fails "two pools cannot share a directory" cp "$WORK/q1.xml" "$P/q1/config.xml"
check_contains "error names the other pool" "p1" "$(cat "$P/q1/error")"
rmdir "$P/q1"
check_fails "mkdir of a pool with a bad name" mkdir "$P/$(printf 'x\ty')"

# --- issue 11: permissions with a label, lazy refcounts, timestamps, netfs
mkdir "$P/perm"
cat > "$WORK/perm.xml" <<XML
<pool type='dir'>
  <name>perm</name>
  <target>
    <path>$STATE/pools-data/perm</path>
    <permissions>
      <mode>0750</mode>
      <owner>1234</owner>
      <group>2345</group>
      <label>system_u:object_r:virt_image_t:s0</label>
    </permissions>
  </target>
</pool>
XML
check "a pool with permissions and a label is accepted" cp "$WORK/perm.xml" "$P/perm/config.xml"
check_contains "the label is kept" "<label>system_u:object_r:virt_image_t:s0</label>" "$(cat "$P/perm/config.xml")"
cat "$P/perm/config.xml" > "$WORK/perm2.xml"
check "its canonical form writes back" cp "$WORK/perm2.xml" "$P/perm/config.xml"
check_eq "and is a fixed point" "$(cat "$WORK/perm2.xml")" "$(cat "$P/perm/config.xml")"
check "build and start it" sh -c "echo build > '$P/perm/ctl' && echo active > '$P/perm/state'"
check_eq "mode, owner and group are applied to the directory" "750 1234 2345" \
  "$(stat -c '%a %u %g' "$STATE/pools-data/perm")"
has_label() { python3 -c 'import os,sys; os.getxattr(sys.argv[1], "security.selinux")' "$1" 2>/dev/null; }
check_fails "the label is not applied (virtfs has no security driver)" has_label "$STATE/pools-data/perm"
PV="$P/perm/volumes"
mkdir "$PV/lazy"
cat > "$WORK/lazy.xml" <<XML
<volume>
  <name>lazy</name>
  <capacity unit='M'>64</capacity>
  <allocation>0</allocation>
  <target>
    <format type='qcow2'/>
    <permissions><mode>0640</mode><owner>1234</owner><group>2345</group><label>virt_image_t</label></permissions>
    <compat>1.1</compat>
    <features><lazy_refcounts/></features>
  </target>
</volume>
XML
check "a qcow2 volume with lazy refcounts through config.xml" cp "$WORK/lazy.xml" "$PV/lazy/config.xml"
info=$(qemu-img info -U --output=json "$STATE/pools-data/perm/lazy")
check_eq "qemu-img sees lazy refcounts" "true" "$(jq '."format-specific".data."lazy-refcounts"' <<<"$info")"
check_eq "and compat 1.1" '"1.1"' "$(jq '."format-specific".data.compat' <<<"$info")"
check_eq "the volume's mode, owner and group" "640 1234 2345" \
  "$(stat -c '%a %u %g' "$STATE/pools-data/perm/lazy")"
vxml=$(cat "$PV/lazy/config.xml")
check_contains "read back: lazy refcounts" "<lazy_refcounts/>" "$vxml"
check_contains "read back: allocation" "<allocation unit='bytes'>" "$vxml"
mtime=$(stat -c %Y "$STATE/pools-data/perm/lazy")
check_contains "read back: timestamps, mtime as the file's" "<mtime>$mtime" "$vxml"
check_fails "read back: no label, since none is on the file" grep -q "<label>" <<<"$vxml"
check "writing the read-back XML again is a no-op" sh -c "cat '$PV/lazy/config.xml' > '$WORK/lazy2.xml'; cp '$WORK/lazy2.xml' '$PV/lazy/config.xml'"
rmdir "$PV/lazy"
echo inactive > "$P/perm/state"
echo delete > "$P/perm/ctl"
rmdir "$P/perm"

# netfs: defined and built everywhere; started only where the kernel can
# mount nfs (the servers are on 127.0.0.1, where nothing serves them).
for kind in nfs cifs; do
  mkdir "$P/net$kind"
  cat > "$WORK/net$kind.xml" <<XML
<pool type='netfs'>
  <name>net$kind</name>
  <source>
    <host name='127.0.0.1'/>
    <dir path='/export/$kind'/>
    <format type='$kind'/>
  </source>
  <target><path>$STATE/pools-data/net$kind</path></target>
</pool>
XML
  check "a $kind netfs pool is accepted" cp "$WORK/net$kind.xml" "$P/net$kind/config.xml"
  cat "$P/net$kind/config.xml" > "$WORK/net$kind.2.xml"
  check "$kind: its canonical form writes back" cp "$WORK/net$kind.2.xml" "$P/net$kind/config.xml"
  check_eq "$kind: a fixed point" "$(cat "$WORK/net$kind.2.xml")" "$(cat "$P/net$kind/config.xml")"
  check "$kind: build makes the mount point" sh -c "echo build > '$P/net$kind/ctl' && test -d '$STATE/pools-data/net$kind'"
  check_fails "$kind: start fails (nothing serves it)" sh -c "echo active > '$P/net$kind/state'"
  check_eq "$kind: it stays inactive" "inactive" "$(cat "$P/net$kind/state")"
  if ! grep -qw "$kind" /proc/filesystems && ! { [[ $kind == nfs ]] && grep -qw nfs4 /proc/filesystems; }; then
    check_contains "$kind: the error says the kernel cannot mount it" \
      "this host's kernel cannot mount $kind filesystems" "$(cat "$P/net$kind/error")"
  fi
  src="127.0.0.1:/export/$kind"; [[ $kind == cifs ]] && src="//127.0.0.1/export/$kind"
  check_contains "$kind: the error names the source" "$src" "$(cat "$P/net$kind/error")"
  check_fails "$kind: nothing was mounted" mountpoint -q "$STATE/pools-data/net$kind"
  echo delete > "$P/net$kind/ctl"
  rmdir "$P/net$kind"
done

# --- the pools libvirt wrote (tests/corpus/make-net-pool-fixtures.sh):
# defined through the mount (never built or started: their paths are the
# host's), read back, written back to a fixed point, valid for the schema
RNG=/usr/share/libvirt/schemas/storagepool.rng
accepted=0 total=0
for f in "$VIRTFS_SOURCE_ROOT"/tests/data/corpus-storage/pool-*.xml; do
  total=$((total + 1))
  name=$(sed -n 's|.*<name>\(.*\)</name>.*|\1|p' "$f" | head -1)
  if [[ $f == *-active.xml ]]; then # the same pool as pool-images.xml, active
    name=active-$name
    sed "s|<name>images</name>|<name>$name</name>|; /<uuid>/d; s|/images</path>|/active</path>|" \
      "$f" > "$WORK/active.xml"
    f=$WORK/active.xml
  fi
  if why=$(corpus_define "$P" "$f" "$name" "$RNG"); then
    accepted=$((accepted + 1))
  else
    fail "corpus: pool $name: $why"
  fi
done
check_eq "corpus: every pool from pool-dumpxml accepted, fixed, valid ($accepted of $total)" \
  "$total" "$accepted"

# --- events
sleep 0.3
ev=$(cat "$EV")
check_contains "volume defined events" "volume default/disk1 defined" "$ev"
check_contains "volume undefined events" "volume default/renamed.img undefined" "$ev"
check_contains "volume renamed events name the old name" "volume default/outside2.img renamed renamed.img" "$ev"
check_fails "a rename is not also a changed definition" grep -q "volume default/renamed.img defined updated" <<<"$ev"
check_contains "pool started events" "pool p1 started" "$ev"
check_contains "pool stopped events" "pool p1 stopped" "$ev"

# --- a restart finds the same state
echo active > "$P/p1/state"
mkdir "$P/p3"
stop_daemon
start_daemon || exit 1
check_eq "an active pool comes back active" "active" "$(cat "$P/p1/state")"
check_eq "an inactive one stays inactive" "inactive" "$(cat "$P/p3/state")"
check "volumes are listed again" test -d "$V/up"
check "the uploaded bytes are there" cmp "$WORK/r.bin" "$V/up/data"
check_eq "the default pool is not made twice" "1" "$(ls "$P" | grep -c '^default$')"
rmdir "$P/p3"

# --- the default pool removed for good stays removed
ls -1 "$V" | while IFS= read -r v; do rmdir "$V/$v"; done
echo inactive > "$P/default/state"
check "rmdir of the default pool" rmdir "$P/default"
stop_daemon
start_daemon || exit 1
check_fails "it is not made again" test -e "$P/default"

finish
