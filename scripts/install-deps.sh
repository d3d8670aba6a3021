#!/usr/bin/env bash
# Installs, with apt-get, every Debian package virtfs needs to build, run and
# test. Does nothing for packages already present, so it is cheap to re-run.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the test suite starts
set -euo pipefail

build_pkgs=(
  meson ninja-build pkg-config gcc
  libfuse3-dev fuse3 libxml2-dev libglib2.0-dev libjson-glib-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev libcmocka-dev
  qemu-system-x86 qemu-utils dnsmasq-base nftables iproute2 ovmf swtpm swtpm-tools
  socat # the README's console step
  libyaml-dev mtools dosfstools # cloud-init: YAML check, the NoCloud seed
)
test_pkgs=(
  clang libclang-rt-14-dev
  sshfs openssh-server openssh-client busybox-static cpio
  lvm2 dosfstools e2fsprogs util-linux procps psmisc
  ansible-core rsync vim-nox python3 xz-utils zstd kmod
  libvirt0 libxml2-utils jq
  qemu-guest-agent # copied into the test guest (scripts/build-guest.sh)
  isc-dhcp-client # a DHCPv6 client on a network's bridge (test_networks)
  prometheus prometheus-node-exporter
)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
