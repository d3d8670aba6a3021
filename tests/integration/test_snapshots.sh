#!/usr/bin/env bash
# Snapshots and saved state (issue 14), with the real test guest through the
# mount: a marker in the guest's RAM disk goes back with a revert and
# survives a save and restore; a chain of three loses its middle; the list
# survives restarts and lost records; a kill -9 during a save leaves the
# running guest. One booted guest serves every check.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd qemu-system-x86_64 qemu-img
ensure_guest
start_daemon || exit 1
D="$MNT/domains"
cat "$MNT/events" > "$WORK/events.txt" &
EVENTS_PID=$!
on_exit "kill \$EVENTS_PID 2>/dev/null"

qemu-img create -q -f qcow2 "$WORK/vda.qcow2" 64M
qemu-img create -q -f raw "$WORK/vdb.raw" 8M
DISKS="<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$WORK/vda.qcow2'/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='disk' snapshot='no'><driver name='qemu' type='raw'/><source file='$WORK/vdb.raw'/><target dev='vdb' bus='virtio'/></disk>"
define_guest g "$DISKS"
S="$D/g/snapshots"

# --- what cannot be snapshotted says so
define_guest r "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$WORK/vdb.raw'/><target dev='vdc' bus='virtio'/></disk>"
err=$(stderr_of mkdir "$D/r/snapshots/x")
check_contains "a raw disk: mkdir fails with EOPNOTSUPP" "not supported" "$err"
check_contains "the error names the disk and the way out" "disk vdc" "$(cat "$D/r/error")"
check_contains "and says how to leave it out" "snapshot='no'" "$(cat "$D/r/error")"
define_guest r2 "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$WORK/vda.qcow2'/><target dev='vdd' bus='virtio'/></disk>"
check_fails "a disk whose image another domain uses is refused" mkdir "$D/r2/snapshots/x"
check_contains "naming the disk and the other domain" "disk vdd" "$(cat "$D/r2/error")"
check_contains "and the other domain" "(domain g)" "$(cat "$D/r2/error")"
rmdir "$D/r2"
check "no snapshot was left behind" test -z "$(ls "$D/r/snapshots")"
rmdir "$D/r"

# --- disk-only snapshot of the shut-off domain
check "mkdir on a shut-off domain takes a disk-only snapshot" mkdir "$S/cold"
check_eq "ls shows its files" "config.xml ctl error info state" "$(ls "$S/cold" | xargs)"
check_contains "info: no memory" "memory: no" "$(cat "$S/cold/info")"
check_contains "info: the raw disk was excluded" "excluded: vdb" "$(cat "$S/cold/info")"
check_eq "state says shutoff" "shutoff" "$(cat "$S/cold/state")"
check "the tag is in the qcow2 image" bash -c "qemu-img snapshot -l '$WORK/vda.qcow2' | grep -qw cold"
check_fails "config.xml of a snapshot is read-only" bash -c "echo x > '$S/cold/config.xml'"
odd="a,b c'q&<x>"
check "a name with commas, blanks, quotes and markup" mkdir "$S/$odd"
check "reaches the image as it is" bash -c "qemu-img snapshot -l '$WORK/vda.qcow2' | grep -qF \"\$1\"" _ "$odd"
check_contains "and its info" "name: $odd" "$(cat "$S/$odd/info")"
check "and goes away" rmdir "$S/$odd"
check_fails "a hidden name is refused" mkdir "$S/.x"

# --- with memory: marker, snapshot, change, revert, the old marker is back
check "the guest boots" bash -c "echo running > '$D/g/state'"
check "ready" wait_console g VIRTFS-GUEST-READY
console_cmd g "echo M\$((40+2))X > /tmp/marker"
t0=$(date +%s%N)
check "mkdir on a running domain takes a snapshot with memory" mkdir "$S/s1"
echo "# snapshot with memory took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
info=$(cat "$S/s1/info")
check_contains "info: memory yes" "memory: yes" "$info"
check_contains "info: parent is the previous current one" "parent: cold" "$info"
check_contains "info: it is current now" "current: yes" "$info"
check_contains "the parent lists it as child" "children: s1" "$(cat "$S/cold/info")"
check_eq "the guest runs on" "running" "$(cat "$D/g/state")"
console_cmd g "echo M\$((50+5))X > /tmp/marker"
check_eq "the marker changed" "M55X" "$(ask g "cat /tmp/marker")"
check "echo revert > ctl" bash -c "echo revert > '$S/s1/ctl'"
check_eq "running again after the revert" "running" "$(cat "$D/g/state")"
check_eq "the old marker is back" "M42X" "$(ask g "cat /tmp/marker")"

# --- a chain of three, the middle one deleted
console_cmd g "echo CHAIN2 > /tmp/marker"
check "s2" mkdir "$S/s2"
console_cmd g "echo CHAIN3 > /tmp/marker"
check "s3" mkdir "$S/s3"
check_contains "s3 hangs from s2" "parent: s2" "$(cat "$S/s3/info")"
check "rmdir of the middle snapshot" rmdir "$S/s2"
check_contains "s3 now hangs from s1" "parent: s1" "$(cat "$S/s3/info")"
check "s2 is gone from the image" bash -c "! qemu-img snapshot -U -l '$WORK/vda.qcow2' | grep -qw s2"
console_cmd g "echo LATER > /tmp/marker"
check "revert to the child of the deleted one" bash -c "echo revert > '$S/s3/ctl'"
check_eq "it is whole: its marker is back" "CHAIN3" "$(ask g "cat /tmp/marker")"

# --- save and restore: memory kept, uptime goes on
up_before=$(ask g "cut -d. -f1 /proc/uptime")
pid=$(qemu_pid g)
t0=$(date +%s%N)
check "echo saved > state" bash -c "echo saved > '$D/g/state'"
echo "# save took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check_eq "state reads saved" "saved" "$(cat "$D/g/state")"
check "QEMU is gone" process_gone "$pid"
check "the image is in the state dir" bash -c "ls '$STATE'/saved/*.img"
check_fails "a snapshot of a saved domain is refused" mkdir "$S/nope"
# an incompatible definition change is refused with the reason
echo 256M > "$D/g/memory"
check_fails "a start with another <memory> is refused" bash -c "echo running > '$D/g/state'"
check_contains "with the reason" "<memory>" "$(cat "$D/g/error")"
check_eq "still saved" "saved" "$(cat "$D/g/state")"
echo 192M > "$D/g/memory"
t0=$(date +%s%N)
check "echo running > state restores" bash -c "echo running > '$D/g/state'"
echo "# restore took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
check_contains "reason restored" "reason: restored" "$(cat "$D/g/info")"
check "the image is deleted" bash -c "! ls '$STATE'/saved/*.img 2>/dev/null"
up_after=$(ask g "cut -d. -f1 /proc/uptime")
check "the uptime went on (no reboot): $up_before -> $up_after" test "${up_after:-0}" -ge "${up_before:-1}"
check_eq "the RAM disk kept its marker" "CHAIN3" "$(ask g "cat /tmp/marker")"
check_contains "events: snapshot created" "snapshot g/s1 created" "$(cat "$WORK/events.txt")"
check_contains "events: saved" "domain g saved" "$(cat "$WORK/events.txt")"

# --- kill -9 of the daemon during a save: the guest runs on, no image
pid=$(qemu_pid g)
(echo saved > "$D/g/state") 2>/dev/null &
for ((i = 0; i < 500; i++)); do compgen -G "$STATE/saved/*.partial" >/dev/null && break; sleep 0.01; done
check "a save was under way" compgen -G "$STATE/saved/*.partial"
check_contains "info shows the job while it runs" "job: save" "$(cat "$D/g/info")"
kill_daemon
kill $EVENTS_PID 2>/dev/null
sleep 1
start_daemon || exit 1
check_eq "the guest runs on after the restart" "running" "$(cat "$D/g/state")"
check_eq "the same QEMU" "$pid" "$(qemu_pid g)"
check "no image, whole or half, is left" bash -c "! ls '$STATE'/saved/*.img* 2>/dev/null"
check_eq "the guest still has its memory" "CHAIN3" "$(ask g "cat /tmp/marker")"

# --- the list survives restarts, and lost records are rebuilt
check_eq "the snapshots are listed after the restart" "cold s1 s3" "$(ls "$S" | xargs)"
check_contains "the tree is kept" "parent: s1" "$(cat "$S/s3/info")"
echo destroy > "$D/g/ctl"
stop_daemon
rm -rf "$STATE/snapshots"
start_daemon || exit 1
check_eq "rebuilt from the images" "cold s1 s3" "$(ls "$S" | xargs)"
check_contains "marked rebuilt" "rebuilt: yes" "$(cat "$S/s1/info")"
check_contains "with memory" "memory: yes" "$(cat "$S/s1/info")"

# --- a revert from shut off, and discarding a saved state
check "revert with memory on the shut-off domain" bash -c "echo revert > '$S/s3/ctl'"
check_eq "it runs again" "running" "$(cat "$D/g/state")"
check_eq "from the snapshot's memory" "CHAIN3" "$(ask g "cat /tmp/marker")"
check "save again" bash -c "echo saved > '$D/g/state'"
check_fails "rmdir of a saved domain is refused" rmdir "$D/g"
check_contains "naming the saved state" "saved state" "$(cat "$D/g/error")"
check "ctl discard-saved" bash -c "echo discard-saved > '$D/g/ctl'"
check_eq "shut off now" "shutoff" "$(cat "$D/g/state")"
check_fails "discard-saved without a saved state fails" bash -c "echo discard-saved > '$D/g/ctl'"
check_fails "rmdir of a domain with snapshots is refused" rmdir "$D/g"
check_contains "with the reason" "still has snapshots" "$(cat "$D/g/error")"
for s in cold s1 s3; do rmdir "$S/$s"; done
check "every snapshot removed from the image" bash -c "[[ -z \$(qemu-img snapshot -l '$WORK/vda.qcow2') ]]"
check "the domain can go now" rmdir "$D/g"
finish
