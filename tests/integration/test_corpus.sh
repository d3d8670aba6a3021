#!/usr/bin/env bash
# The corpus (issue 11): definitions as virt-install --print-xml and virsh
# dumpxml --inactive wrote them (tests/data/corpus, made by
# tests/corpus/make-fixtures.sh), through the real mount:
#   - each is accepted by cp into config.xml, and config.xml is a fixed
#     point (writing it back changes nothing);
#   - config.xml validates against libvirt's RelaxNG schema (libvirt0);
#   - QEMU starts it: `echo running > state` reads back running, with the
#     disks pointed at scratch images and the NICs made type user (this
#     test creates no bridges); those with a <tpm> run one swtpm each;
#   - the test guest boots under UEFI from such a definition with a
#     <tpm model='tpm-crb'>, keeps its NVRAM and TPM state across restarts
#     and loses them with rmdir; its kernel finds the TPM and a TPM2
#     command round-trips through swtpm, before and after the daemon is
#     killed and restarted (reattach); swtpm ends with QEMU, and with a
#     QEMU that fails to start;
#   - <vcpu cpuset> pins every QEMU thread, and a set the host lacks fails
#     at start with the reason; floppy drives start.
# Prints the figures for the note (accepted / started per kind).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd xmllint qemu-img fusermount3
SCHEMA=/usr/share/libvirt/schemas/domain.rng
[[ -f $SCHEMA ]] || skip "needs libvirt's schemas (package libvirt0)"
CORPUS="$VIRTFS_SOURCE_ROOT/tests/data/corpus"

# swtpm_pids DIR: the swtpm processes using DIR as their state (fd 4,
# qemu_tpm.h), zombies excluded.
swtpm_pids() {
  local p
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/fd/4" 2>/dev/null) == "$1" ]] || continue
    [[ $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null) == swtpm\ * ]] || continue
    process_gone "${p#/proc/}" || echo "${p#/proc/}"
  done
}
# swtpm_gone DIR: waits up to 10 s until no swtpm uses DIR.
swtpm_gone() {
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -z $(swtpm_pids "$1") ]] && return 0
    sleep 0.1
  done
  return 1
}

start_daemon || exit 1
D="$MNT/domains"
mkdir -p "$WORK/images"
for f in disk.qcow2 data.qcow2 win.qcow2; do qemu-img create -q -f qcow2 "$WORK/images/$f" 1G; done
qemu-img create -q -f raw "$WORK/images/disk.raw" 64M
: > "$WORK/images/install.iso"

declare -A accepted started total
for f in "$CORPUS"/*.xml; do
  base=$(basename "$f" .xml)
  kind=${base##*.}
  name=c-${base%%.*}-${kind%%-*}
  total[$kind]=$(( ${total[$kind]:-0} + 1 ))
  sed -E -e "s#<name>[^<]*</name>#<name>$name</name>#" -e '/<uuid>/d' \
    -e "s#/var/lib/libvirt/images/#$WORK/images/#g" \
    -e "s#<interface type=[\"'](network|bridge)[\"']>#<interface type='user'>#" \
    -e "/<source (network|bridge)=/d" "$f" > "$WORK/$name.xml"
  mkdir "$D/$name" || { fail "$base: mkdir"; continue; }
  if ! cp "$WORK/$name.xml" "$D/$name/config.xml" 2>/dev/null; then
    fail "$base is accepted: $(cat "$D/$name/error")"
    rm -r "$D/$name"; continue
  fi
  pass "$base is accepted"
  accepted[$kind]=$(( ${accepted[$kind]:-0} + 1 ))
  cat "$D/$name/config.xml" > "$WORK/$name.canonical.xml"
  cp "$WORK/$name.canonical.xml" "$D/$name/config.xml"
  check_eq "$base: config.xml is a fixed point" "$(cat "$WORK/$name.canonical.xml")" \
    "$(cat "$D/$name/config.xml")"
  check "$base: config.xml validates against libvirt's schema" \
    xmllint --noout --relaxng "$SCHEMA" "$WORK/$name.canonical.xml"
  uuid=$(cat "$D/$name/uuid")
  if bash -c "echo running > '$D/$name/state'" 2>/dev/null && \
       [[ $(cat "$D/$name/state") == running ]]; then
    pass "$base: QEMU starts it"
    started[$kind]=$(( ${started[$kind]:-0} + 1 ))
    if grep -q "<tpm" "$f"; then
      check_eq "$base: one swtpm serves its TPM" 1 "$(swtpm_pids "$STATE/tpm/$uuid" | wc -l)"
    fi
    echo destroy > "$D/$name/ctl"
    wait_state "$name" shutoff 30 || fail "$base: destroy"
  else
    fail "$base: QEMU starts it: $(cat "$D/$name/error")"
  fi
  rm -r "$D/$name" || fail "$base: rmdir"
  check_fails "$base: no TPM state is left after rm -r" test -e "$STATE/tpm/$uuid"
done
for kind in "${!total[@]}"; do
  echo "# corpus $kind: ${total[$kind]} fixtures, ${accepted[$kind]:-0} accepted, ${started[$kind]:-0} started"
done

# --- <vcpu cpuset>: every thread of QEMU is pinned to the set (the last
# CPU this test may use, so that the pinning differs from the default
# whenever the host has more than one).
allowed=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
cpu=${allowed##*[-,]}
domain_xml pin 64 | sed "s#<vcpu>#<vcpu cpuset='$cpu'>#" > "$WORK/pin.xml"
if mkdir "$D/pin" && cp "$WORK/pin.xml" "$D/pin/config.xml"; then
  pass "a definition with <vcpu cpuset='$cpu'> is accepted"
  check_contains "cpuset is kept" "cpuset='$cpu'" "$(cat "$D/pin/config.xml")"
  check "it starts" bash -c "echo paused > '$D/pin/state'"
  pid=$(qemu_pid pin)
  masks=$(cat /proc/"$pid"/task/*/status | awk '/^Cpus_allowed_list/ {print $2}' | sort -u)
  check_eq "all $(ls /proc/"$pid"/task | wc -l) QEMU threads run only on CPU $cpu" "$cpu" "$masks"
  echo destroy > "$D/pin/ctl"; wait_state pin shutoff 30
  sed -i "s#cpuset='$cpu'#cpuset='4095'#" "$WORK/pin.xml"
  if cp "$WORK/pin.xml" "$D/pin/config.xml"; then
    check_fails "a cpuset of CPUs the host lacks fails at start" bash -c "echo running > '$D/pin/state'"
    check_contains "with the reason" "names no CPU this host can run QEMU on" "$(cat "$D/pin/error")"
    check_eq "and QEMU is gone" shutoff "$(cat "$D/pin/state")"
  else
    fail "cpuset='4095' is accepted at define: $(cat "$D/pin/error")"
  fi
else
  fail "a definition with <vcpu cpuset='$cpu'> is accepted: $(cat "$D/pin/error")"
fi
echo destroy > "$D/pin/ctl" 2>/dev/null
rm -r "$D/pin"

# --- floppy drives: an image on fda and an empty fdb; QEMU starts with them
qemu-img create -q -f raw "$WORK/images/floppy.img" 1440K
domain_xml fd 64 "<disk type='file' device='floppy'><source file='$WORK/images/floppy.img'/>
  <target dev='fda'/></disk><disk type='file' device='floppy'><target dev='fdb'/></disk>" \
  > "$WORK/fd.xml"
if mkdir "$D/fd" && cp "$WORK/fd.xml" "$D/fd/config.xml"; then
  pass "a definition with two floppy drives is accepted"
  check_contains "stored with bus fdc" "<target dev='fdb' bus='fdc'/>" "$(cat "$D/fd/config.xml")"
  check "it starts" bash -c "echo paused > '$D/fd/state'"
  check_eq "and is paused" paused "$(cat "$D/fd/state")"
else
  fail "a definition with two floppy drives is accepted: $(cat "$D/fd/error")"
fi
echo destroy > "$D/fd/ctl" 2>/dev/null; wait_state fd shutoff 30
rm -r "$D/fd"

# --- the test guest under UEFI (OVMF without Secure Boot: the guest kernel
# is loaded directly, not through a signed shim). OVMF loads the compressed
# bzImage (vmlinuz, with its EFI stub), not the vmlinux ELF the BIOS tests
# use.
ensure_guest
EFI_KERNEL="$(dirname "$GUEST_KERNEL")/vmlinuz"
[[ -f $EFI_KERNEL ]] || skip "the test guest has no vmlinuz"
[[ -d /usr/share/qemu/firmware ]] || skip "needs ovmf"
cat > "$WORK/uefi.xml" <<XML
<domain type='qemu'>
  <name>uefi</name>
  <metadata>
    <libosinfo:libosinfo xmlns:libosinfo="http://libosinfo.org/xmlns/libvirt/domain/1.0">
      <libosinfo:os id="http://debian.org/debian/12"/>
    </libosinfo:libosinfo>
  </metadata>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os firmware='efi'>
    <type arch='x86_64' machine='q35'>hvm</type>
    <firmware>
      <feature enabled='no' name='secure-boot'/>
    </firmware>
    <kernel>$EFI_KERNEL</kernel>
    <initrd>$GUEST_INITRD</initrd>
    <cmdline>$GUEST_CMDLINE</cmdline>
  </os>
  <features><acpi/><apic/><vmport state='off'/></features>
  <clock offset='utc'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='pit' tickpolicy='delay'/>
    <timer name='hpet' present='no'/>
  </clock>
  <pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$WORK/uefi.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='pci' model='pcie-root-port'/>
    <controller type='pci' model='pcie-root-port'/>
    <serial type='pty'/>
    <tpm model='tpm-crb'>
      <backend type='emulator' version='2.0'/>
    </tpm>
    <channel type='unix'>
      <source mode='bind'/>
      <target type='virtio' name='org.qemu.guest_agent.0'/>
    </channel>
  </devices>
</domain>
XML
qemu-img create -q -f qcow2 "$WORK/uefi.qcow2" 16M
check "a UEFI definition is accepted" bash -c "mkdir '$D/uefi' && cp '$WORK/uefi.xml' '$D/uefi/config.xml'"
# A raw NVRAM an earlier virtfs kept is converted to qcow2 at the start.
uuid=$(cat "$D/uefi/uuid")
mkdir -p "$STATE/nvram"
legacy="$STATE/nvram/${uuid}_VARS.fd"
template=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['mapping']['nvram-template']['filename'])" \
  /usr/share/qemu/firmware/60-edk2-x86_64.json 2>/dev/null || true)
[[ -f $template ]] && install -m 600 "$template" "$legacy"
check_contains "its metadata is kept" "libosinfo:os id=\"http://debian.org/debian/12\"" "$(cat "$D/uefi/config.xml")"
check "echo running > state starts it" bash -c "echo running > '$D/uefi/state'"
check "the guest boots under UEFI (ready marker)" wait_console uefi VIRTFS-GUEST-READY 1 120
check_fails "it is not SeaBIOS that booted it" grep -q SeaBIOS "$D/uefi/console.log"
nvram="$STATE/nvram/${uuid}_VARS.qcow2"
check "the domain has its own NVRAM" test -s "$nvram"
check_contains "kept as qcow2, so that snapshots take it" '"format": "qcow2"' \
  "$(qemu-img info -U --output=json "$nvram")"
if [[ -f $template ]]; then
  check_fails "the raw one of an earlier version is gone (converted)" test -e "$legacy"
  check_fails "OVMF wrote its variables (the NVRAM differs from the template)" \
    qemu-img compare -q -U -f raw -F qcow2 "$template" "$nvram"
fi
# --- a UEFI guest snapshot with memory: the NVRAM is in the set
console_cmd uefi "echo U\$((40+1))EFI > /tmp/marker"
check_eq "a marker in the UEFI guest's RAM" "U41EFI" "$(ask uefi "cat /tmp/marker")"
check "mkdir snapshots/u1 on the running UEFI guest" mkdir "$D/uefi/snapshots/u1"
check_contains "the NVRAM holds the snapshot too" "u1" "$(qemu-img snapshot -U -l "$nvram")"
check_contains "info lists it in the set" "nvram" "$(cat "$D/uefi/snapshots/u1/info")"
console_cmd uefi "echo U\$((50+2))EFI > /tmp/marker"
check_eq "the marker changed" "U52EFI" "$(ask uefi "cat /tmp/marker")"
check "echo revert > ctl" bash -c "echo revert > '$D/uefi/snapshots/u1/ctl'"
check_eq "the UEFI guest runs again" "running" "$(cat "$D/uefi/state")"
check_eq "with the memory of the snapshot" "U41EFI" "$(ask uefi "cat /tmp/marker")"
check "rmdir the snapshot" rmdir "$D/uefi/snapshots/u1"
check_fails "it is gone from the NVRAM" grep -q u1 <(qemu-img snapshot -U -l "$nvram")
# --- hot plug on q35 (issue 13): slot 0 behind a free pcie-root-port. The
# definition written had two; virtfs added spare ones until four are free.
qemu-img create -q -f raw "$WORK/q35-data.img" 8M
printf 'VIRTFS-Q35-PLUG' | dd of="$WORK/q35-data.img" conv=notrunc status=none
for t in vdb vdc vdd vde vdf; do
  cat > "$WORK/q35-$t.xml" <<XML
<disk type='file' device='disk'>
  <driver name='qemu' type='raw'/>
  <source file='$WORK/q35-data.img'/>
  <target dev='$t' bus='virtio'/>
  <readonly/>
</disk>
XML
done
check_eq "the definition got two spare root ports, four in all" "4" "$(grep -c "model='pcie-root-port'" "$D/uefi/config.xml")"
check_eq "the running q35 guest has them" "4" "$(grep -c "model='pcie-root-port'" "$D/uefi/live.xml")"
check "cp plugs a disk into the running q35 guest" cp "$WORK/q35-vdb.xml" "$D/uefi/devices/vdb.xml"
check_contains "behind a root port: a bus of its own, slot 0" "slot='0x00'" "$(cat "$D/uefi/devices/vdb.xml")"
check_eq "the guest reads the disk" "VIRTFS-Q35-PLUG" \
  "$(ask uefi "i=0; while [ ! -b /dev/vdb ] && [ \$i -lt 200 ]; do sleep 0.1; i=\$((i+1)); done; head -c 15 /dev/vdb")"
check "a second disk" cp "$WORK/q35-vdc.xml" "$D/uefi/devices/vdc.xml"
check "a third, behind a spare port" cp "$WORK/q35-vdd.xml" "$D/uefi/devices/vdd.xml"
check "a fourth" cp "$WORK/q35-vde.xml" "$D/uefi/devices/vde.xml"
err=$(stderr_of cp "$WORK/q35-vdf.xml" "$D/uefi/devices/vdf.xml")
check_contains "a fifth finds none free (ENOSPC)" "No space left" "$err"
check_contains "error says what to add" "pcie-root-port" "$(cat "$D/uefi/error")"
check "rm unplugs one" rm "$D/uefi/devices/vdb.xml"
check_eq "the guest let it go" "gone" \
  "$(ask uefi "i=0; while [ -e /dev/vdb ] && [ \$i -lt 100 ]; do sleep 0.1; i=\$((i+1)); done; test -e /dev/vdb && echo here || echo gone")"
check "its root port takes a disk again" cp "$WORK/q35-vdf.xml" "$D/uefi/devices/vdf.xml"
check_eq "the NVRAM is private" "600" "$(stat -c %a "$nvram")"
ino=$(stat -c %i "$nvram")

# The TPM: the guest kernel's tpm_crb driver finds it, and TPM2_GetRandom
# (8 bytes) written to /dev/tpm0 comes back with TPM_RC_SUCCESS: tag 8001,
# size 0x14, rc 0, 8 bytes. The console does not echo, so the markers only
# appear as the commands' output.
tpmstate="$STATE/tpm/$uuid"
tpm_t0=$SECONDS
tpm_cmd='exec 3<>/dev/tpm0; printf "\200\001\000\000\000\014\000\000\001\173\000\010" >&3; r=$(dd bs=64 count=1 <&3 2>/dev/null | od -An -tx1 | tr -d " \n"); exec 3<&-; echo'
console_cmd uefi "echo TPM-MAJOR-\$(cat /sys/class/tpm/tpm0/tpm_version_major)"
check "the guest kernel finds a TPM 2.0 (tpm0)" wait_console uefi TPM-MAJOR-2 1 30
console_cmd uefi "$tpm_cmd TPM-REPLY-\$r"
check "a TPM2 command round-trips through swtpm" wait_console uefi TPM-REPLY-80010000001400000000 1 30
check_eq "one swtpm serves the domain" 1 "$(swtpm_pids "$tpmstate" | wc -l)"
check_eq "the TPM state directory is private" "700" "$(stat -c %a "$tpmstate")"
check "swtpm keeps its state there" test -s "$tpmstate/tpm2-00.permall"
check "swtpm logs beside QEMU" test -f "$STATE/logs/swtpm/uefi.log"
check_fails "the control socket is gone once QEMU connected" test -e "$RUN/domains/$uuid/swtpm.sock"
tpm_pid=$(swtpm_pids "$tpmstate")
kill_daemon
start_daemon || exit 1
check_eq "after a daemon restart the domain is running" running "$(cat "$D/uefi/state")"
check_eq "and its swtpm is the same process" "$tpm_pid" "$(swtpm_pids "$tpmstate")"
console_cmd uefi "$tpm_cmd TPM-AGAIN-\$r"
check "the TPM still answers the guest after the restart" wait_console uefi TPM-AGAIN-80010000001400000000 1 30
# Saved state: QEMU carries the TPM's state in its stream. A fresh swtpm
# would answer TPM_RC_INITIALIZE (no TPM2_Startup was sent to it), so a
# successful command after the restore shows the state came back.
t0=$(date +%s%N)
check "the domain with its TPM saves" bash -c "echo saved > '$D/uefi/state'"
check "its swtpm ends with the saved QEMU" swtpm_gone "$tpmstate"
check "and restores" bash -c "echo running > '$D/uefi/state'"
echo "# save + restore with a TPM took $(( ($(date +%s%N) - t0) / 1000000 )) ms"
console_cmd uefi "$tpm_cmd TPM-RESTORED-\$r"
check "the restored guest's TPM answers without a new TPM2_Startup" \
  wait_console uefi TPM-RESTORED-80010000001400000000 1 30
echo destroy > "$D/uefi/ctl"; wait_state uefi shutoff 30
check "swtpm ends with QEMU" swtpm_gone "$tpmstate"
check "it starts again" bash -c "echo running > '$D/uefi/state'"
check_contains "with the disks plugged before, behind their ports" "dev='vdf'" "$(cat "$D/uefi/live.xml")"
check_eq "the same NVRAM is used (not copied again)" "$ino" "$(stat -c %i "$nvram")"
check_eq "a new swtpm serves the kept TPM state" 1 "$(swtpm_pids "$tpmstate" | wc -l)"
tpm_pid=$(swtpm_pids "$tpmstate")
echo destroy > "$D/uefi/ctl"; wait_state uefi shutoff 30
check "that swtpm ends with QEMU and the daemon reaps it" bash -c "for i in \$(seq 100); do [[ -e /proc/$tpm_pid ]] || exit 0; sleep 0.1; done; exit 1"
check "mv renames it" mv "$D/uefi" "$D/uefi2"
check "the TPM state stays with the renamed domain" test -s "$tpmstate/tpm2-00.permall"
check "rm -r undefines it" rm -r "$D/uefi2"
check_fails "the NVRAM went with it" test -e "$nvram"
check_fails "the TPM state went with it" test -e "$tpmstate"
echo "# the TPM checks took $((SECONDS - tpm_t0)) s (daemon restart, save and restore included)"

# A QEMU that fails to start (its kernel is missing) takes its swtpm with it.
sed -e 's#<name>uefi</name>#<name>tpm-fail</name>#' \
  -e "s#<kernel>[^<]*</kernel>#<kernel>$WORK/no-such-kernel</kernel>#" "$WORK/uefi.xml" > "$WORK/tpm-fail.xml"
# (Only started once defined, so that a refused definition cannot leave a
# default domain running.)
if mkdir "$D/tpm-fail" && cp "$WORK/tpm-fail.xml" "$D/tpm-fail/config.xml"; then
  pass "a domain with a <tpm> and a missing kernel is defined"
  check_fails "its start fails" bash -c "echo running > '$D/tpm-fail/state'"
  uuid=$(cat "$D/tpm-fail/uuid")
  check_eq "no swtpm is left behind" "" "$(swtpm_pids "$STATE/tpm/$uuid")"
  check_fails "nor its control socket" test -e "$RUN/domains/$uuid/swtpm.sock"
else
  fail "a domain with a <tpm> and a missing kernel is defined: $(cat "$D/tpm-fail/error")"
fi
echo destroy > "$D/tpm-fail/ctl" 2>/dev/null
rm -r "$D/tpm-fail"

stop_daemon
finish
