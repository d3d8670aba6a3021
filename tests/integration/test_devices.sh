#!/usr/bin/env bash
# Devices as files (issue 13): domains/NAME/devices/ as a second view of
# config.xml on a shut-off domain (add, edit, rm, hostile fragments), then
# disk hot plug and unplug on the running test guest, proven inside it
# (/sys/block and a pattern read from the image), CD-ROM media, and a
# daemon killed with -9 after a hot plug.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd qemu-system-x86_64 qemu-img
ensure_guest
start_daemon || exit 1
D="$MNT/domains"
cat "$MNT/events" > "$WORK/events.txt" &
EVENTS_PID=$!
on_exit "kill $EVENTS_PID"

# Images: a raw one with commas in its name and a qcow2 one, each holding
# a pattern in its first sector.
IMG_RAW="$WORK/da,ta.img"
IMG_QCOW="$WORK/second.qcow2"
qemu-img create -q -f raw "$IMG_RAW" 8M
printf 'VIRTFS-PATTERN-RAW-13' | dd of="$IMG_RAW" conv=notrunc status=none
qemu-img create -q -f raw "$WORK/q.raw" 8M
printf 'VIRTFS-PATTERN-QCOW-13' | dd of="$WORK/q.raw" conv=notrunc status=none
qemu-img convert -q -f raw -O qcow2 "$WORK/q.raw" "$IMG_QCOW"
qemu-img create -q -f raw "$WORK/cd1.iso" 1M
printf 'VIRTFS-CD-ONE' | dd of="$WORK/cd1.iso" conv=notrunc status=none
qemu-img create -q -f raw "$WORK/cd2.iso" 1M
printf 'VIRTFS-CD-TWO' | dd of="$WORK/cd2.iso" conv=notrunc status=none
qemu-img create -q -f raw "$WORK/scsi.img" 8M
printf 'VIRTFS-PATTERN-SCSI-13' | dd of="$WORK/scsi.img" conv=notrunc status=none

disk_xml() { # TARGET PATH [FORMAT] [BUS]
  cat <<XML
<disk type='file' device='disk'>
  <driver name='qemu' type='${3:-raw}'/>
  <source file='${2//&/&amp;}'/>
  <target dev='$1' bus='${4:-virtio}'/>
  <serial>$1-13</serial>
</disk>
XML
}

# --- a shut-off domain: the fragments are a view of config.xml
define_guest g1 "    <controller type='scsi' model='virtio-scsi'/>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$WORK/cd1.iso'/>
      <target dev='sdc' bus='sata'/>
    </disk>"
check_eq "devices/ lists the CD-ROM and its medium" "sdc.media sdc.xml" "$(ls "$D/g1/devices" | tr '\n' ' ' | sed 's/ $//')"
check_eq "a .media file holds the CD-ROM's source" "$WORK/cd1.iso" "$(cat "$D/g1/devices/sdc.media")"
disk_xml vdb "$IMG_RAW" > "$WORK/vdb.xml"
check "cp of a fragment adds a disk" cp "$WORK/vdb.xml" "$D/g1/devices/vdb.xml"
check_contains "config.xml shows it at once" "<target dev='vdb' bus='virtio'/>" "$(cat "$D/g1/config.xml")"
check_eq "the fragment reads back canonical" "$(cat "$WORK/vdb.xml")" "$(cat "$D/g1/devices/vdb.xml")"
check "writing the same fragment again is a no-op" cp "$WORK/vdb.xml" "$D/g1/devices/vdb.xml"
check "sed -i on a fragment edits the disk" sed -i "s/type='raw'/type='qcow2'/" "$D/g1/devices/vdb.xml"
check_contains "config.xml shows the edit" "<driver name='qemu' type='qcow2'/>" "$(cat "$D/g1/config.xml")"
check "sed -i on config.xml edits it back" sed -i "s/type='qcow2'/type='raw'/" "$D/g1/config.xml"
check_contains "the fragment shows the edit of config.xml" "type='raw'" "$(cat "$D/g1/devices/vdb.xml")"
before=$(cat "$D/g1/config.xml")
err=$(stderr_of cp "$WORK/vdb.xml" "$D/g1/devices/vdc.xml")
check_contains "a fragment for a target already used is EEXIST" "File exists" "$err"
check_contains "error names the target" "target 'vdb'" "$(cat "$D/g1/error")"
check_fails "O_EXCL creation of an existing entry fails" bash -c "set -o noclobber; cat '$WORK/vdb.xml' > '$D/g1/devices/vdb.xml'"
{ disk_xml vdd "$WORK/x.img"; disk_xml vdd "$WORK/y.img"; } > "$WORK/two.xml"
check_fails "two devices in one file are refused" cp "$WORK/two.xml" "$D/g1/devices/vdd.xml"
printf '<disk type="file"><target dev="vdd"' > "$WORK/bad.xml"
check_fails "a malformed fragment is refused" cp "$WORK/bad.xml" "$D/g1/devices/vdd.xml"
check_contains "with a reason in error" "malformed" "$(cat "$D/g1/error")"
printf "<disk type='file'><source file='$WORK/e.img'/><target dev='vdd'/><bogus/></disk>" > "$WORK/unk.xml"
check_fails "an unsupported element is refused" cp "$WORK/unk.xml" "$D/g1/devices/vdd.xml"
check_contains "and named" "bogus" "$(cat "$D/g1/error")"
disk_xml vdd "$WORK/rel.img" | sed "s|file='$WORK/rel.img'|file='relative.img'|" > "$WORK/rel.xml"
check_fails "a relative source path is refused" cp "$WORK/rel.xml" "$D/g1/devices/vdd.xml"
printf "<interface type='user'/>" > "$WORK/nic.xml"
check_fails "an interface under a disk's name is refused" cp "$WORK/nic.xml" "$D/g1/devices/vdd.xml"
mkdir "$D/other" && guest_xml other > "$WORK/other.xml" && cp "$WORK/other.xml" "$D/other/config.xml"
disk_xml vda "$WORK/owned.img" > "$WORK/owned.xml"
cp "$WORK/owned.xml" "$D/other/devices/vda.xml"
err=$(stderr_of cp "$WORK/owned.xml" "$D/g1/devices/vdd.xml")
check_contains "another domain's disk image is refused (EBUSY)" "busy" "$err"
check_contains "naming the other domain" "other" "$(cat "$D/g1/error")"
check_eq "none of the refused fragments changed config.xml" "$before" "$(cat "$D/g1/config.xml")"
check_eq "nor left an entry" "sdc.media sdc.xml vdb.xml" "$(ls "$D/g1/devices" | tr '\n' ' ' | sed 's/ $//')"
check "an interface is added as net0.xml" cp "$WORK/nic.xml" "$D/g1/devices/net0.xml"
check_contains "config.xml has it" "<interface type='user'>" "$(cat "$D/g1/config.xml")"
check_contains "its fragment has a MAC" "<mac address='52:54:00:" "$(cat "$D/g1/devices/net0.xml")"
check_contains "and its name, as a libvirt user alias" "<alias name='ua-net0'/>" "$(cat "$D/g1/devices/net0.xml")"
check "a second one under a name of the user's" cp "$WORK/nic.xml" "$D/g1/devices/lab.xml"
check_contains "config.xml names it" "<alias name='ua-lab'/>" "$(cat "$D/g1/config.xml")"
check_fails "an interface cannot take a disk's kind of name" cp "$WORK/nic.xml" "$D/g1/devices/vdq.xml"
check "rm of an interface removes it" rm "$D/g1/devices/net0.xml"
check_eq "the other keeps its name (names are stable)" "lab.xml sdc.media sdc.xml vdb.xml" \
  "$(ls "$D/g1/devices" | tr '\n' ' ' | sed 's/ $//')"
check "sed -i edits an interface in place" sed -i "s/<interface type='user'>/<interface type='user'>\n<link state='down'\/>/" "$D/g1/devices/lab.xml"
check_contains "the edit is in config.xml" "<link state='down'/>" "$(cat "$D/g1/config.xml")"
check "rm of the last interface" rm "$D/g1/devices/lab.xml"
check_fails "config.xml no longer has it" grep -q "<interface" "$D/g1/config.xml"
check "echo to .media changes the medium" bash -c "echo '$WORK/cd2.iso' > '$D/g1/devices/sdc.media'"
check_contains "config.xml has the new medium" "<source file='$WORK/cd2.iso'/>" "$(cat "$D/g1/config.xml")"
check "rm of a .media file ejects" rm "$D/g1/devices/sdc.media"
check_fails "config.xml has no medium" grep -q "cd2.iso" "$D/g1/config.xml"
check_eq "the .media file is still there, empty" "" "$(cat "$D/g1/devices/sdc.media")"
echo "$WORK/cd2.iso" > "$D/g1/devices/sdc.media"
check "rm of a disk removes it" rm "$D/g1/devices/vdb.xml"
check_fails "config.xml no longer has it" grep -q "dev='vdb'" "$D/g1/config.xml"
cp "$WORK/nic.xml" "$D/other/devices/net0.xml"
cp "$WORK/nic.xml" "$D/other/devices/net1.xml"
cat > "$WORK/other-cd.xml" <<XML
<disk type='file' device='cdrom'>
  <source file='$WORK/cd1.iso'/>
  <target dev='sdc' bus='sata'/>
  <readonly/>
</disk>
XML
cp "$WORK/other-cd.xml" "$D/other/devices/sdc.xml"
check_eq "the other domain has a CD-ROM and two NICs" "net0.xml net1.xml sdc.media sdc.xml vda.xml" \
  "$(ls "$D/other/devices" | tr '\n' ' ' | sed 's/ $//')"
check "rm -r of a shut-off domain with devices undefines it" rm -r "$D/other"
check_fails "it is gone" test -e "$D/other"

# --- the running guest: hot plug, seen inside it
check "the guest starts" bash -c "echo running > '$D/g1/state'"
check "the guest is ready" wait_console g1 VIRTFS-GUEST-READY
n=0
guest() { # COMMAND: runs it on the console, waits for its end marker
  n=$((n + 1))
  console_cmd g1 "$1; echo CMD-DONE-$n"
  wait_console g1 "CMD-DONE-$n" 1 60
}
t0=$(date +%s%N)
check "cp of a fragment plugs a disk into the running guest" cp "$WORK/vdb.xml" "$D/g1/devices/vdb.xml"
echo "# disk hot plug (cp returned) took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
# The guest names virtio disks in probe order, so they are found by serial.
# serials LABEL SERIAL: waits (up to 20 s) for a disk with SERIAL to be
# probed, then prints LABEL-SERIAL for every virtio disk.
serials() {
  guest "i=0; while ! cat /sys/block/vd*/serial 2>/dev/null | grep -q $2 && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i+1)); done; for d in /sys/block/vd*; do echo $1-\$(cat \$d/serial); done"
}
serials PLUGGED vdb-13
check_contains "the guest sees the disk in /sys/block (by its serial)" "PLUGGED-vdb-13" "$(cat "$D/g1/console.log")"
guest "for d in /dev/vd?; do head -c 22 \$d; echo; done"
check "the guest reads the pattern the test wrote into the image" grep -q "VIRTFS-PATTERN-RAW-13" "$D/g1/console.log"
check_contains "live.xml has the disk" "dev='vdb'" "$(cat "$D/g1/live.xml")"
check_contains "config.xml keeps the PCI address it got" "<address type='pci'" "$(cat "$D/g1/devices/vdb.xml")"
disk_xml vdc "$IMG_QCOW" qcow2 > "$WORK/vdc.xml"
check "a qcow2 disk is plugged too" cp "$WORK/vdc.xml" "$D/g1/devices/vdc.xml"
serials QCOW vdc-13
guest "for d in /dev/vd?; do head -c 22 \$d; echo; done"
check "the guest reads the qcow2 image's pattern" grep -q "VIRTFS-PATTERN-QCOW-13" "$D/g1/console.log"
slot_b=$(grep -o "slot='0x[0-9a-f]*'" "$D/g1/devices/vdb.xml")
slot_c=$(grep -o "slot='0x[0-9a-f]*'" "$D/g1/devices/vdc.xml")
check "the two disks have different slots" test "$slot_b" != "$slot_c"
disk_xml sdd "$WORK/scsi.img" raw scsi > "$WORK/sdd.xml"
check "a SCSI disk is plugged into the virtio-scsi controller" cp "$WORK/sdd.xml" "$D/g1/devices/sdd.xml"
guest "i=0; while [ ! -b /dev/sda ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i+1)); done; echo SCSI-\$(head -c 22 /dev/sda)"
check "the guest reads it as a SCSI disk (/dev/sda)" grep -q "SCSI-VIRTFS-PATTERN-SCSI-13" "$D/g1/console.log"
check "rm unplugs the SCSI disk" rm "$D/g1/devices/sdd.xml"
guest "i=0; while [ -b /dev/sda ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done; [ -b /dev/sda ] && echo SDA-STILL || echo SDA-GONE"
check "the guest no longer has it" grep -q "SDA-GONE" "$D/g1/console.log"
disk_xml hdd "$WORK/ide.img" raw ide > "$WORK/ide.xml"
qemu-img create -q -f raw "$WORK/ide.img" 1M
err=$(stderr_of cp "$WORK/ide.xml" "$D/g1/devices/hdd.xml")
check_contains "an IDE disk cannot be hot-plugged (EOPNOTSUPP)" "not supported" "$err"
check_fails "and is not added" grep -q "dev='hdd'" "$D/g1/config.xml"

# --- a NIC of type user: the guest's DHCP client gets QEMU's lease
printf "<interface type='user'><model type='virtio'/></interface>" > "$WORK/unic.xml"
t0=$(date +%s%N)
check "cp of an interface plugs a NIC into the running guest" cp "$WORK/unic.xml" "$D/g1/devices/net0.xml"
echo "# NIC hot plug (cp returned) took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check "the hot-plugged NIC gets a DHCP lease in the guest" wait_console g1 "VIRTFS-GUEST-IP eth0 10.0.2.15/24" 1 60
check_contains "live.xml has it" "<interface type='user'>" "$(cat "$D/g1/live.xml")"
check_contains "config.xml keeps its PCI address" "<address type='pci'" "$(cat "$D/g1/devices/net0.xml")"
printf "<interface type='network'><source network='default'/></interface>" > "$WORK/netnic.xml"
err=$(stderr_of cp "$WORK/netnic.xml" "$D/g1/devices/net1.xml")
check_contains "a NIC on a network that is not started is refused (EBUSY)" "busy" "$err"
check_contains "error says to start the network" "not active" "$(cat "$D/g1/error")"
check "rm unplugs the NIC" rm "$D/g1/devices/net0.xml"
guest "ls /sys/class/net | sed 's/^/NIC-/'"
if grep -q "NIC-eth0" "$D/g1/console.log"; then fail "eth0 is gone from the guest"; else pass "eth0 is gone from the guest"; fi
check_fails "and from config.xml" grep -q "<interface" "$D/g1/config.xml"

# --- media of the running CD-ROM (SATA), read by the guest from /dev/sr0
cdread() { # PATTERN: waits until the guest reads PATTERN from its CD-ROM
  guest "i=0; while ! head -c 13 /dev/sr0 2>/dev/null | grep -q $1 && [ \$i -lt 100 ]; do sleep 0.2; i=\$((i+1)); done; echo CD-\$(head -c 13 /dev/sr0 2>/dev/null)-READ"
}
cdread VIRTFS-CD-TWO
check "the guest reads the CD-ROM's medium" grep -q "CD-VIRTFS-CD-TWO-READ" "$D/g1/console.log"
check "echo to .media swaps the running CD-ROM's medium" bash -c "echo '$WORK/cd1.iso' > '$D/g1/devices/sdc.media'"
check_contains "live.xml has the new medium" "$WORK/cd1.iso" "$(cat "$D/g1/live.xml")"
cdread VIRTFS-CD-ONE
check "the guest reads the new medium" grep -q "CD-VIRTFS-CD-ONE-READ" "$D/g1/console.log"
check "an empty line ejects" bash -c "echo > '$D/g1/devices/sdc.media'"
check_eq "the medium is empty" "" "$(cat "$D/g1/devices/sdc.media")"
guest "i=0; while head -c 1 /dev/sr0 >/dev/null 2>&1 && [ \$i -lt 100 ]; do sleep 0.2; i=\$((i+1)); done; head -c 1 /dev/sr0 >/dev/null 2>&1 && echo CD-STILL-THERE || echo CD-NO-MEDIUM"
check "the guest finds no medium" grep -q "CD-NO-MEDIUM" "$D/g1/console.log"
sed "s/type='raw'/type='qcow2'/" "$D/g1/devices/sdc.xml" > "$WORK/sdc-changed.xml"
check_fails "changing more than the medium of a running disk is refused" cp "$WORK/sdc-changed.xml" "$D/g1/devices/sdc.xml"

# --- kill -9 after a hot plug: the restarted daemon finds it and can unplug it
kill_daemon
start_daemon || exit 1
cat "$MNT/events" >> "$WORK/events.txt" &
EVENTS_PID=$!
on_exit "kill $EVENTS_PID"
check_eq "after kill -9 the guest still runs" "running" "$(cat "$D/g1/state")"
check_eq "devices/ still lists the plugged disks" "sdc.media sdc.xml vdb.xml vdc.xml" "$(ls "$D/g1/devices" | tr '\n' ' ' | sed 's/ $//')"
check_contains "live.xml still has them" "dev='vdc'" "$(cat "$D/g1/live.xml")"
t0=$(date +%s%N)
check "rm unplugs a disk after reattach" rm "$D/g1/devices/vdb.xml"
echo "# disk hot unplug (rm returned, guest released it) took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
serials AFTER vdc-13
log=$(cat "$D/g1/console.log")
check_contains "the guest still has vdc" "AFTER-vdc-13" "$log"
if [[ "$log" == *AFTER-vdb-13* ]]; then fail "vdb is gone from the guest"; else pass "vdb is gone from the guest"; fi
check_fails "and from config.xml" grep -q "dev='vdb'" "$D/g1/config.xml"
check_fails "and from live.xml" grep -q "dev='vdb'" "$D/g1/live.xml"
check "rm of the other one" rm "$D/g1/devices/vdc.xml"
check_eq "the guest keeps running" "running" "$(cat "$D/g1/state")"
guest "echo ALIVE-\$((40+2))"
check "and answers on its console" grep -q "ALIVE-42" "$D/g1/console.log"
check "the daemon can plug vdb again at once" cp "$WORK/vdb.xml" "$D/g1/devices/vdb.xml"
# --- kill -9 between the steps of a hot plug (VIRTFS_FAULT_KILL kills the
# daemon at a named point): the restarted daemon makes the guest and the
# definition agree, undoing a plug the definition lacks and finishing an
# unplug the guest had done.
crash_daemon() { # POINT COMMAND...: the daemon dies at POINT while COMMAND runs
  local point=$1; shift
  kill $EVENTS_PID 2>/dev/null
  stop_daemon
  DAEMON_PREFIX="env VIRTFS_FAULT_KILL=$point" start_daemon || return 1
  "$@" 2>/dev/null
  local i
  for ((i = 0; i < 100; i++)); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
  kill_daemon
  start_daemon
}
qemu-img create -q -f raw "$WORK/third.img" 8M
disk_xml vdd "$WORK/third.img" > "$WORK/vdd.xml"
crash_daemon hotplug-plugged cp "$WORK/vdd.xml" "$D/g1/devices/vdd.xml"
check "the daemon died after device_add, before the definition had the disk" \
  grep -q "fault point 'hotplug-plugged'" "$DAEMON_LOG"
check_eq "restarted, the guest runs" "running" "$(cat "$D/g1/state")"
check_fails "the definition has no vdd" grep -q "dev='vdd'" "$D/g1/config.xml"
check_fails "nor live.xml" grep -q "dev='vdd'" "$D/g1/live.xml"
check_contains "the daemon undid the plug" "undid the hot plug of vdd" "$(cat "$DAEMON_LOG")"
serials UNDONE vdb-13
log=$(cat "$D/g1/console.log")
if [[ "$log" == *UNDONE-vdd-13* ]]; then fail "the guest lost vdd"; else pass "the guest lost vdd"; fi
check "vdd can be plugged now" cp "$WORK/vdd.xml" "$D/g1/devices/vdd.xml"
serials REPLUGGED vdd-13
check_contains "the guest has it" "REPLUGGED-vdd-13" "$(cat "$D/g1/console.log")"
crash_daemon hotplug-unplugged rm "$D/g1/devices/vdd.xml"
check "the daemon died after the guest let go, before the definition knew" \
  grep -q "fault point 'hotplug-unplugged'" "$DAEMON_LOG"
check_fails "restarted, the definition no longer has vdd" grep -q "dev='vdd'" "$D/g1/config.xml"
check_fails "nor live.xml" grep -q "dev='vdd'" "$D/g1/live.xml"
check_contains "the daemon finished the unplug" "finished the unplug of vdd" "$(cat "$DAEMON_LOG")"
check "and vdd can be plugged again (its block nodes are gone)" cp "$WORK/vdd.xml" "$D/g1/devices/vdd.xml"
check "and removed" rm "$D/g1/devices/vdd.xml"
cat "$MNT/events" >> "$WORK/events.txt" &
EVENTS_PID=$!
on_exit "kill $EVENTS_PID"

t0=$(date +%s%N)
cat "$D/g1/devices/vdb.xml" > /dev/null
echo "# a fragment read took $(( ($(date +%s%N) - t0) / 1000000 )) ms (floor: cat of uuid $( t1=$(date +%s%N); cat "$D/g1/uuid" >/dev/null; echo $(( ($(date +%s%N) - t1) / 1000000 )) ) ms)"
check "destroy" bash -c "echo destroy > '$D/g1/ctl'"

sleep 0.5
ev=$(cat "$WORK/events.txt")
check_contains "events: device-added" "domain g1 device-added vdb" "$ev"
check_contains "events: device-removed" "domain g1 device-removed vdc" "$ev"
finish
