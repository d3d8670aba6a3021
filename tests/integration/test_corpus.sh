#!/usr/bin/env bash
# The corpus (issue 11): definitions as virt-install --print-xml and virsh
# dumpxml --inactive wrote them (tests/data/corpus, made by
# tests/corpus/make-fixtures.sh), through the real mount:
#   - each is accepted by cp into config.xml, and config.xml is a fixed
#     point (writing it back changes nothing);
#   - config.xml validates against libvirt's RelaxNG schema (libvirt0);
#   - QEMU starts it: `echo running > state` reads back running, with the
#     disks pointed at scratch images and the NICs made type user (this
#     test creates no bridges); a definition virtfs cannot run yet (<tpm>)
#     must be refused at start with the reason in the error file;
#   - the test guest boots under UEFI from such a definition, keeps its
#     NVRAM across restarts and loses it with rmdir.
# Prints the figures for the note (accepted / started per kind).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd xmllint qemu-img fusermount3
SCHEMA=/usr/share/libvirt/schemas/domain.rng
[[ -f $SCHEMA ]] || skip "needs libvirt's schemas (package libvirt0)"
CORPUS="$VIRTFS_SOURCE_ROOT/tests/data/corpus"

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
  if grep -q "<tpm" "$f"; then
    check_fails "$base: start is refused (<tpm> needs swtpm)" bash -c "echo running > '$D/$name/state'"
    check_contains "$base: the error file says why" "swtpm" "$(cat "$D/$name/error")"
  elif bash -c "echo running > '$D/$name/state'" 2>/dev/null && \
       [[ $(cat "$D/$name/state") == running ]]; then
    pass "$base: QEMU starts it"
    started[$kind]=$(( ${started[$kind]:-0} + 1 ))
    echo destroy > "$D/$name/ctl"
    wait_state "$name" shutoff 30 || fail "$base: destroy"
  else
    fail "$base: QEMU starts it: $(cat "$D/$name/error")"
  fi
  rm -r "$D/$name" || fail "$base: rmdir"
done
for kind in "${!total[@]}"; do
  echo "# corpus $kind: ${total[$kind]} fixtures, ${accepted[$kind]:-0} accepted, ${started[$kind]:-0} started"
done

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
# --- hot plug on q35 (issue 13): behind a free pcie-root-port of the definition
qemu-img create -q -f raw "$WORK/q35-data.img" 8M
printf 'VIRTFS-Q35-PLUG' | dd of="$WORK/q35-data.img" conv=notrunc status=none
for t in vdb vdc vdd; do
  cat > "$WORK/q35-$t.xml" <<XML
<disk type='file' device='disk'>
  <driver name='qemu' type='raw'/>
  <source file='$WORK/q35-data.img'/>
  <target dev='$t' bus='virtio'/>
  <readonly/>
</disk>
XML
done
check "cp plugs a disk into the running q35 guest" cp "$WORK/q35-vdb.xml" "$D/uefi/devices/vdb.xml"
check_contains "behind a root port: a bus of its own, slot 0" "slot='0x00'" "$(cat "$D/uefi/devices/vdb.xml")"
check_eq "the guest reads the disk" "VIRTFS-Q35-PLUG" "$(ask uefi "head -c 15 /dev/vdb")"
check "a second one takes the other root port" cp "$WORK/q35-vdc.xml" "$D/uefi/devices/vdc.xml"
err=$(stderr_of cp "$WORK/q35-vdd.xml" "$D/uefi/devices/vdd.xml")
check_contains "a third finds none free (ENOSPC)" "No space left" "$err"
check_contains "error says what to add" "pcie-root-port" "$(cat "$D/uefi/error")"
check "rm unplugs it" rm "$D/uefi/devices/vdb.xml"
check_eq "the guest let it go" "gone" "$(ask uefi "test -e /dev/vdb && echo here || echo gone")"
check "its root port takes a disk again" cp "$WORK/q35-vdd.xml" "$D/uefi/devices/vdd.xml"
check_eq "the NVRAM is private" "600" "$(stat -c %a "$nvram")"
ino=$(stat -c %i "$nvram")
echo destroy > "$D/uefi/ctl"; wait_state uefi shutoff 30
check "it starts again" bash -c "echo running > '$D/uefi/state'"
check_eq "the same NVRAM is used (not copied again)" "$ino" "$(stat -c %i "$nvram")"
echo destroy > "$D/uefi/ctl"; wait_state uefi shutoff 30
check "rm -r undefines it" rm -r "$D/uefi"
check_fails "the NVRAM went with it" test -e "$nvram"

stop_daemon
finish
