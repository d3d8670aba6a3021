#!/usr/bin/env bash
# Generates the domain corpus in tests/data/corpus with the real tools:
#   NAME.virt-install.xml  what `virt-install --print-xml` writes
#   NAME.dumpxml.xml       what `virsh dumpxml --inactive` gives back after
#                          libvirt defined the former (addresses, aliases,
#                          versioned machine types, firmware paths)
# The fixtures are committed; run this again only to refresh them:
#   sudo tests/corpus/make-fixtures.sh
#
# virtinst and libvirt are installed here and only here: virtfs never needs
# libvirt at run time. libvirt runs as a session daemon of an unprivileged
# user (nobody) in a scratch directory: unix socket only, nothing written to
# the host's /etc, /run or /var, and it exits on its own when idle.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=tests/data/corpus

if [[ $(id -u) -ne 0 ]]; then
  echo "make-fixtures: run as root (installs packages, runs libvirt as nobody)" >&2
  exit 1
fi
pkgs=(virtinst libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu ovmf swtpm swtpm-tools
      qemu-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

scratch=$(mktemp -d /tmp/virtfs-corpus.XXXXXX)
chmod 755 "$scratch"
mkdir -p "$scratch/home" "$scratch/run" "$scratch/images"
chown nobody "$scratch/home" "$scratch/run"
chmod 700 "$scratch/run"
cleanup() {
  local pidfile=$scratch/run/libvirt/libvirtd.pid
  [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -rf "$scratch"
}
trap cleanup EXIT

# As nobody, with XDG dirs in the scratch directory: qemu:///session then
# starts (and later stops) a private libvirtd there.
as_nobody() {
  timeout 120 runuser -u nobody -- env HOME="$scratch/home" XDG_RUNTIME_DIR="$scratch/run" \
    XDG_CONFIG_HOME="$scratch/home/.config" XDG_CACHE_HOME="$scratch/home/.cache" "$@"
}
URI=qemu:///session
# Images exist (virt-install inspects them) but the fixtures name the
# conventional libvirt directory instead of this scratch one.
IMG=/var/lib/libvirt/images
for f in disk.qcow2 data.qcow2 win.qcow2; do qemu-img create -q -f qcow2 "$scratch/images/$f" 1G; done
for f in disk.raw; do qemu-img create -q -f raw "$scratch/images/$f" 64M; done
: >"$scratch/images/install.iso"
chmod 644 "$scratch/images"/*

# name | osinfo | extra virt-install arguments (word-split)
variants=(
  "debian11-spice|debian11|--disk @/disk.qcow2 --network network=default --graphics spice"
  "debian11-bios-pc|debian11|--machine pc --disk @/disk.qcow2 --network network=default --graphics vnc"
  "ubuntu2204-cdrom-vnc|ubuntu22.04|--disk @/disk.qcow2 --disk @/install.iso,device=cdrom --network network=default --graphics vnc,listen=127.0.0.1"
  "fedora37-uefi|fedora37|--boot uefi --disk @/disk.qcow2 --network network=default --graphics spice"
  "rhel9-uefi-secure|rhel9.0|--boot uefi,firmware.feature0.name=secure-boot,firmware.feature0.enabled=yes,firmware.feature1.name=enrolled-keys,firmware.feature1.enabled=yes --disk @/disk.qcow2 --network network=default --graphics vnc"
  "opensuse154-two-nics|opensuse15.4|--disk @/disk.qcow2 --disk @/data.qcow2,bus=sata --network network=default,model=e1000e --network bridge=br0,model=rtl8139 --graphics spice"
  "alpine317-serial|alpinelinux3.17|--disk @/disk.raw --network network=default --graphics none"
  "freebsd131|freebsd13.1|--disk @/disk.qcow2 --network network=default --graphics vnc"
  "win10-bios|win10|--disk @/win.qcow2 --disk @/install.iso,device=cdrom --network network=default --graphics spice"
  "win11-uefi-tpm|win11|--disk @/win.qcow2 --disk @/install.iso,device=cdrom --network network=default --graphics spice"
)

mkdir -p "$out"
rm -f "$out"/*.xml
for v in "${variants[@]}"; do
  IFS='|' read -r name os extra <<<"$v"
  extra=${extra//@/$scratch/images}
  # shellcheck disable=SC2086
  as_nobody virt-install --connect "$URI" --print-xml --name "$name" --osinfo "$os" \
    --memory 1024 --vcpus 2 --import --noautoconsole $extra >"$scratch/$name.xml"
  sed "s|$scratch/images|$IMG|g" "$scratch/$name.xml" >"$out/$name.virt-install.xml"
  cp "$out/$name.virt-install.xml" "$scratch/$name.def.xml"
  chmod 644 "$scratch/$name.def.xml"
  as_nobody virsh -q -c "$URI" define "$scratch/$name.def.xml" >/dev/null
  as_nobody virsh -c "$URI" dumpxml --inactive "$name" | sed "s|$scratch/home|/var/lib/libvirt|g" \
    >"$out/$name.dumpxml.xml"
  as_nobody virsh -q -c "$URI" undefine --nvram --tpm "$name" >/dev/null 2>&1 ||
    as_nobody virsh -q -c "$URI" undefine --nvram "$name" >/dev/null
  echo "make-fixtures: $name"
done
