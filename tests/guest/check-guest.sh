#!/usr/bin/env bash
# Boots the virtfs test guest straight from QEMU (no virtfs involved) and
# checks the behaviour the integration tests rely on: the ready marker, a
# DHCP lease from QEMU's user-mode network on a virtio and an e1000 NIC, the
# modules bound to their devices, commands on the serial console, reboot
# from the console and by QMP system_reset, and power-off on QMP
# system_powerdown (QEMU must exit by itself). Prints the timings.
#   tests/guest/check-guest.sh OUTDIR      (OUTDIR from scripts/build-guest.sh)
# Environment: GUEST_KERNEL=vmlinuz boots the compressed kernel instead of
# vmlinux; GUEST_MACHINE (default q35) picks the machine type.
# Exits 77 (skip) when QEMU or python3 is missing, unless CI=true.

# Guest commands are single-quoted on purpose: the guest's shell expands them.
# shellcheck disable=SC2016
set -euo pipefail

die() {
  echo "check-guest: FAIL: $*" >&2
  if [[ -s ${log:-} ]]; then
    echo "--- last console lines:" >&2
    tail -n 30 "$log" | tr -d '\r' >&2
  fi
  [[ ! -s ${tmp:-}/qemu.err ]] || { echo "--- QEMU stderr:" >&2; cat "$tmp/qemu.err" >&2; }
  exit 1
}
skip() {
  [[ ${CI:-} == true ]] && die "$* (CI=true: no skipping)"
  echo "check-guest: SKIP: $*" >&2
  exit 77
}

(($# == 1)) || { echo "usage: $0 OUTDIR" >&2; exit 2; }
guest=$1
kernel=$guest/${GUEST_KERNEL:-vmlinux}
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
command -v python3 >/dev/null || skip "python3 not installed"
[[ -f $kernel && -f $guest/initrd.img ]] ||
  die "no guest in $guest; run scripts/build-guest.sh $guest first"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-guest.XXXXXX")
qemu_pid=
cleanup() {
  [[ -z $qemu_pid ]] || kill "$qemu_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

log=$tmp/console.log
: >"$log"
# QEMU reads the serial console's input from this fifo; fd 3 keeps it open
# for writing (opening it read-write never blocks).
mkfifo "$tmp/console.in"
exec 3<>"$tmp/console.in"
truncate -s 1M "$tmp/disk.img"

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
count() { grep -c -- "$1" "$log" || true; }

# Waits until PATTERN occurs at least N times in the console log. On a
# timeout, runs the optional DEBUG command on the console before failing.
wait_for() {
  local pattern=$1 n=$2 timeout=$3 debug=${4:-} deadline
  deadline=$(awk -v t="$(now)" -v d="$timeout" 'BEGIN {printf "%.3f", t + d}')
  while (($(count "$pattern") < n)); do
    kill -0 "$qemu_pid" 2>/dev/null || die "QEMU exited while waiting for '$pattern' #$n"
    if awk -v t="$(now)" -v d="$deadline" 'BEGIN {exit !(t > d)}'; then
      [[ -z $debug ]] || { printf '%s\n' "$debug" >&3; sleep 3; }
      die "no '$pattern' #$n within ${timeout}s"
    fi
    sleep 0.05
  done
}

# Runs a shell command on the guest's console and prints its output. The end
# marker is computed by the guest so it cannot be confused with the input.
cmd_seq=0
guest_run() {
  local start
  cmd_seq=$((cmd_seq + 1))
  start=$(wc -l <"$log")
  printf '%s; echo "CHECK-END-%s-$((1+0))"\n' "$1" "$cmd_seq" >&3
  wait_for "CHECK-END-$cmd_seq-1" 1 30
  tail -n +"$((start + 1))" "$log" | tr -d '\r' | sed "/CHECK-END-$cmd_seq-1/,\$d"
}

# Sends QMP commands, each "NAME" or "NAME {JSON arguments}"; fails on an
# error reply.
qmp() {
  python3 - "$tmp/qmp.sock" "$@" <<'EOF'
import json, socket, sys
sock = socket.socket(socket.AF_UNIX)
sock.connect(sys.argv[1])
f = sock.makefile("rw")
json.loads(f.readline())  # greeting
for arg in ["qmp_capabilities"] + sys.argv[2:]:
    cmd, _, args = arg.partition(" ")
    msg = {"execute": cmd}
    if args:
        msg["arguments"] = json.loads(args)
    f.write(json.dumps(msg) + "\n")
    f.flush()
    while True:
        reply = json.loads(f.readline())
        if "return" in reply or "error" in reply:
            break
    if "error" in reply:
        sys.exit("QMP %s: %s" % (cmd, reply["error"].get("desc")))
EOF
}

# A NIC is hot-plugged later: q35 needs a root port to take it.
machine=${GUEST_MACHINE:-q35}
hotplug_port=() hotplug_bus=
if [[ $machine == q35 ]]; then
  # shellcheck disable=SC2054 # commas inside one QEMU argument
  hotplug_port=(-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1)
  hotplug_bus=', "bus": "rp1"'
fi

append="console=ttyS0 quiet cryptomgr.notests virtfs.hostname=check-guest"
t_start=$(now)
qemu-system-x86_64 \
  -machine "$machine,accel=tcg" -m 256 \
  -nodefaults -no-user-config -display none \
  -kernel "$kernel" -initrd "$guest/initrd.img" -append "$append" \
  -chardev stdio,id=con0,signal=off -serial chardev:con0 \
  -qmp "unix:$tmp/qmp.sock,server=on,wait=off" \
  -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
  -netdev user,id=n1 -device e1000,netdev=n1 \
  -drive "if=none,id=d0,file=$tmp/disk.img,format=raw" -device virtio-blk-pci,drive=d0 \
  -device virtio-rng-pci -device virtio-balloon-pci \
  -device virtio-serial-pci -device virtconsole,name=org.virtfs.check \
  "${hotplug_port[@]}" \
  <&3 >"$log" 2>"$tmp/qemu.err" &
qemu_pid=$!

wait_for VIRTFS-GUEST-READY 1 90
t_ready=$(now)
wait_for "VIRTFS-GUEST-IP eth0 10.0.2.15/24" 1 30
wait_for "VIRTFS-GUEST-IP eth1 10.0.2.15/24" 1 30
t_ip=$(now)

out=$(guest_run 'hostname; for d in virtio_net virtio_blk virtio_rng virtio_console virtio_balloon; do ls /sys/bus/virtio/drivers/$d | grep -q ^virtio && echo bound $d; done; ls /sys/bus/pci/drivers/e1000 | grep -q ^0000 && echo bound e1000; ls /dev/vda /dev/hwrng /dev/vport*; ip -4 -o addr show eth0')
while IFS= read -r line; do echo "  guest: $line"; done <<<"$out"
for want in check-guest "bound virtio_net" "bound virtio_blk" "bound virtio_rng" \
  "bound virtio_console" "bound virtio_balloon" "bound e1000" /dev/vda "inet 10.0.2.15/24"; do
  grep -qF -- "$want" <<<"$out" || die "console output lacks '$want'"
done
if grep -qF 'hostname; for d' "$log"; then
  die "the console echoed the command back"
fi

t0=$(now)
qmp 'netdev_add {"type": "user", "id": "n2"}' \
  "device_add {\"driver\": \"virtio-net-pci\", \"netdev\": \"n2\", \"id\": \"nic2\"$hotplug_bus}"
wait_for "VIRTFS-GUEST-IP eth2 10.0.2.15/24" 1 30 'ls /sys/class/net; cat /proc/sys/kernel/hotplug; ls /run; lspci 2>/dev/null; ls /sys/bus/pci/devices'
t_hotplug=$(elapsed "$t0" "$(now)")

t0=$(now)
printf 'reboot -f\n' >&3
wait_for VIRTFS-GUEST-READY 2 90
t_reboot=$(elapsed "$t0" "$(now)")

t0=$(now)
qmp system_reset
wait_for VIRTFS-GUEST-READY 3 90
t_reset=$(elapsed "$t0" "$(now)")
wait_for "VIRTFS-GUEST-IP eth0 10.0.2.15/24" 3 30
[[ $(guest_run 'echo alive-$((40+2))') == alive-42 ]] || die "no shell after system_reset"

qmp system_powerdown
t0=$(now)
deadline=$(awk -v t="$t0" 'BEGIN {printf "%.3f", t + 20}')
while kill -0 "$qemu_pid" 2>/dev/null; do
  awk -v t="$(now)" -v d="$deadline" 'BEGIN {exit !(t > d)}' &&
    die "QEMU still running 20s after system_powerdown"
  sleep 0.02
done
t_off=$(elapsed "$t0" "$(now)")
rc=0
wait "$qemu_pid" || rc=$?
qemu_pid=
((rc == 0)) || die "QEMU exited with status $rc after system_powerdown"
grep -q VIRTFS-GUEST-POWEROFF "$log" || die "the guest did not run its power-button handler"
(($(count VIRTFS-GUEST-READY) == 3)) || die "the guest rebooted instead of powering off"

echo "check-guest: OK ($(basename "$kernel"), $machine, TCG)"
echo "  boot to VIRTFS-GUEST-READY:       $(elapsed "$t_start" "$t_ready") s"
echo "  boot to both DHCP leases:         $(elapsed "$t_start" "$t_ip") s"
echo "  NIC hot-plug to its DHCP lease:   $t_hotplug s"
echo "  reboot -f to ready again:         $t_reboot s"
echo "  system_reset to ready again:      $t_reset s"
echo "  system_powerdown to QEMU exit:    $t_off s"
echo "  initrd.img: $(stat -c %s "$guest/initrd.img") bytes"
