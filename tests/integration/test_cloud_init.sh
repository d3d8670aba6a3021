#!/usr/bin/env bash
# cloud-init/ (issue 15): files kept with the definition, checked at write,
# and a NoCloud seed (vfat labelled CIDATA) that a running guest sees as a
# read-only virtio disk. One busybox guest boot; it mounts the seed and
# prints the files on its console.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd qemu-system-x86_64
command -v mkfs.vfat >/dev/null || PATH=$PATH:/usr/sbin:/sbin
need_cmd mkfs.vfat mcopy
ensure_guest
start_daemon || exit 1
D="$MNT/domains"

define_guest ci
C="$D/ci/cloud-init"
check "cloud-init/ is a directory of the domain" test -d "$C"
check_eq "it lists the four files" "meta-data network-config user-data vendor-data" \
  "$(ls "$C" | tr '\n' ' ' | sed 's/ $//')"
check_eq "cloud-init is listed in the domain's directory" "cloud-init" "$(ls "$D/ci" | grep -x cloud-init)"
check_eq "an unwritten file reads empty" "" "$(cat "$C/user-data")"
check_fails "no other directory under a domain" bash -c "echo x > '$D/ci/nodir/f'"
check_fails "mkdir cloud-init says it exists" mkdir "$D/ci/cloud-init"

# --- written, kept, checked
cat > "$WORK/ud1" <<'YAML'
#cloud-config
hostname: web-one
users: [{name: ops, ssh_authorized_keys: ["ssh-ed25519 AAAAC3Nza ops@x"]}]
YAML
check "cp user-data" cp "$WORK/ud1" "$C/user-data"
check_eq "it reads back" "$(cat "$WORK/ud1")" "$(cat "$C/user-data")"
check "it is kept with the definition" cmp "$WORK/ud1" "$STATE/domains/ci.cloud-init/user-data"
printf '#cloud-config\nusers:\n  - name: ops\n bad: [\n' > "$WORK/bad"
err=$(stderr_of cp "$WORK/bad" "$C/user-data")
check_contains "invalid YAML is refused at write" "Invalid argument" "$err"
check_contains "error names the line" "user-data: invalid YAML at line 4" "$(cat "$D/ci/error")"
check_eq "the old content is kept" "$(cat "$WORK/ud1")" "$(cat "$C/user-data")"
printf -- '- a\n' > "$WORK/md-list"
check_fails "meta-data must be a mapping" cp "$WORK/md-list" "$C/meta-data"
check_contains "and says so" "must be a mapping" "$(cat "$D/ci/error")"
check "a shell script as user-data is accepted unchecked" \
  bash -c "printf '#!/bin/sh\necho [\n' > '$C/vendor-data'"
check "sed -i edits it" sed -i 's/^echo \[/echo hello/' "$C/vendor-data"
check_eq "with the edit" "echo hello" "$(tail -1 "$C/vendor-data")"
check "rm removes a file" rm "$C/vendor-data"
check_fails "and it is gone from the state dir" test -e "$STATE/domains/ci.cloud-init/vendor-data"
check_eq "config.xml does not mention the seed" "" "$(grep -i cidata "$D/ci/config.xml")"

# --- the seed at start, seen by the guest
printf 'version: 2\nethernets: {}\n' > "$C/network-config"
t0=$(date +%s%N)
check "echo running > state boots with the seed" bash -c "echo running > '$D/ci/state'"
echo "# start with the seed took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
live=$(cat "$D/ci/live.xml")
check_contains "live.xml shows the seed disk" "cidata.img" "$live"
check_contains "read-only" "<readonly/>" "$live"
check_contains "as a virtio disk vda" "<target dev='vda' bus='virtio'/>" "$live"
check_eq "config.xml still does not" "" "$(grep -i cidata "$D/ci/config.xml")"
nc_before=$(cat "$C/network-config")
check "rm of a cloud-init file while running only hides it" rm "$C/network-config"
check_fails "rm -r of the running domain is refused" rm -r "$D/ci"
check_eq "and loses no cloud-init file" "$(cat "$WORK/ud1")" "$(cat "$C/user-data")"
check_eq "not even the one rm hid" "$nc_before" "$(cat "$C/network-config")"
check_contains "the domain's files are back at once" "state" "$(ls "$D/ci")"
check_contains "with the reason in error" "active" "$(cat "$D/ci/error")"
check "the guest boots" wait_console ci VIRTFS-GUEST-READY
console_cmd ci 'mkdir -p /ci && mount -t vfat -o ro /dev/vda /ci && echo "SEED-LABEL $(dd if=/dev/vda bs=1 skip=43 count=11 2>/dev/null)"; for f in /ci/*; do echo "SEED-FILE ${f#/ci/}"; done; sed "s/^/SEED-MD /" /ci/meta-data; sed "s/^/SEED-UD /" /ci/user-data; umount /ci; echo SEED-DONE'
check "the guest mounts the seed and lists it" wait_console ci SEED-DONE 1 60
log=$(tr -d '\r' < "$D/ci/console.log")
check_contains "labelled CIDATA (FAT boot sector)" 'SEED-LABEL CIDATA' "$log"
check_contains "user-data on the seed" "SEED-FILE user-data" "$log"
check_contains "network-config on the seed" "SEED-FILE network-config" "$log"
check_contains "a removed file is not" "" "$(grep 'SEED-FILE vendor-data' <<<"$log" || echo absent)"
check_contains "meta-data has the domain name as hostname" "SEED-MD local-hostname: 'ci'" "$log"
iid1=$(grep -o 'SEED-MD instance-id: iid-[0-9a-f]*' <<<"$log" | head -1)
check_contains "and an instance-id" "instance-id: iid-" "$iid1"
check_contains "user-data content reaches the guest" "SEED-UD hostname: web-one" "$log"

# --- a change gives a new instance-id at the next start; a running guest
# keeps its seed until then
printf '#cloud-config\nhostname: web-two\n' > "$C/user-data"
check "destroy" bash -c "echo destroy > '$D/ci/ctl'"
wait_state ci shutoff 30
check "start again" bash -c "echo running > '$D/ci/state'"
check "boots again" wait_console ci VIRTFS-GUEST-READY 2
console_cmd ci 'mkdir -p /ci && mount -t vfat -o ro /dev/vda /ci && sed "s/^/SEED2-MD /" /ci/meta-data; sed "s/^/SEED2-UD /" /ci/user-data; umount /ci; echo SEED2-DONE'
check "the guest reads the new seed" wait_console ci SEED2-DONE 1 60
log=$(tr -d '\r' < "$D/ci/console.log")
iid2=$(grep -o 'SEED2-MD instance-id: iid-[0-9a-f]*' <<<"$log" | head -1)
check_contains "the new user-data" "SEED2-UD hostname: web-two" "$log"
check "the instance-id changed with the content" test "${iid1#SEED-MD }" != "${iid2#SEED2-MD }" -a -n "$iid2"
check "destroy" bash -c "echo destroy > '$D/ci/ctl'"
wait_state ci shutoff 30

# --- emptied: nothing attached
for f in user-data network-config; do rm "$C/$f"; done
check_fails "no cloud-init state left" test -e "$STATE/domains/ci.cloud-init"
check "start without files" bash -c "echo running > '$D/ci/state'"
check_eq "attaches nothing" "" "$(grep -i cidata "$D/ci/live.xml")"
check "destroy" bash -c "echo destroy > '$D/ci/ctl'"
wait_state ci shutoff 30

# --- the files follow a rename and go with rmdir
echo '#cloud-config' > "$C/user-data"
check "mv renames the domain" mv "$D/ci" "$D/ci2"
check_eq "the files follow" "#cloud-config" "$(cat "$D/ci2/cloud-init/user-data")"
check "rm -r removes the domain" rm -r "$D/ci2"
check_fails "and its cloud-init files" test -e "$STATE/domains/ci2.cloud-init"

stop_daemon
finish
