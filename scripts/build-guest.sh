#!/usr/bin/env bash
# Builds the tiny Linux guest that the integration tests boot in QEMU (see
# tests/guest/README.md): OUTDIR/vmlinuz (Debian's own amd64 kernel),
# OUTDIR/vmlinux (the same, decompressed, which boots faster) and
# OUTDIR/initrd.img (busybox, a handful of modules and tests/guest/*) and
# OUTDIR/initrd-agent.img (the same plus the QEMU guest agent, for the tests
# of guest/; only they pay for its size at boot).
# Everything comes from Debian packages fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` into a scratch directory; nothing is installed
# on the host and no root is needed unless the apt lists are missing. The
# result is cached: when OUTDIR already holds a guest built from the same
# inputs (package versions, guest sources, this script), the script exits at
# once. Concurrent runs on one OUTDIR wait for each other.
#   scripts/build-guest.sh OUTDIR
set -euo pipefail

# Modules the guest loads, by module name; their dependencies are added from
# modules.dep. Names that are built into the kernel are skipped.
guest_modules=(
  virtio_pci virtio_net virtio_blk virtio_console virtio_rng virtio_balloon
  af_packet e1000
  button evdev # ACPI power button -> KEY_POWER on /dev/input for acpid
  vfat nls_cp437 nls_ascii nls_utf8 # the cloud-init seed (a vfat disk)
  virtio_scsi sd_mod sr_mod ahci # SCSI disks and SATA CD-ROMs plugged in (test_devices)
)

die() { echo "build-guest: $*" >&2; exit 1; }

(($# == 1)) || die "usage: $0 OUTDIR"
outdir=$1
src_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
guest_src=$src_root/tests/guest
# Only in initrd-agent.img: ext4, so that the agent has a disk filesystem
# to freeze (it skips vfat).
agent_modules=(ext4 crc32c_generic)
guest_files=(init udhcpc.script power-button start-dhcp hotplug shutdown chpasswd)
# The QEMU guest agent, copied from the host's qemu-guest-agent package with
# the libraries ldd names (3.2 MB more, gzipped: a separate initrd).
qga_bin=/usr/sbin/qemu-ga

work=
# When apt cannot name or fetch a package, the lists are missing or older
# than the archive: refresh them once and start over, since every version
# (and so the cache key) may have changed.
refresh_lists_and_restart() {
  [[ -z ${BUILD_GUEST_LISTS_REFRESHED:-} ]] || die "$1"
  echo "build-guest: $1; refreshing apt lists" >&2
  [[ $(id -u) -eq 0 ]] || die "$1 (apt lists missing or stale? run 'apt-get update' as root)"
  apt-get update -qq >&2 || die "apt-get update failed"
  [[ -z $work ]] || rm -rf "$work"
  BUILD_GUEST_LISTS_REFRESHED=1 exec bash "${BASH_SOURCE[0]}" "$outdir"
}

# Prints "PACKAGE VERSION" per argument with its candidate version, failing
# when apt knows none. One apt-cache call: each costs half a second here.
candidates() {
  local out
  out=$(apt-cache policy "$@" 2>/dev/null |
    awk '/^[^ ]/ {p = $1; sub(/:$/, "", p)} /Candidate:/ && $2 != "(none)" {print p, $2}')
  [[ $(wc -l <<<"$out") -eq $# && -n $out ]] || return 1
  echo "$out"
}

# The metapackage's version pins the kernel it depends on, so the cache key
# needs only that; the real package (linux-image-6.1.0-NN-amd64, named after
# the ABI) is looked up when building.
mkdir -p "$outdir"
exec 9>"$outdir/.build.lock"
flock 9

versions=$(candidates linux-image-amd64 busybox-static) ||
  refresh_lists_and_restart "apt knows no candidate for linux-image-amd64 or busybox-static"
have_qga=1
[[ -x $qga_bin ]] || have_qga=
inputs=$(
  echo "$versions"
  if [[ -n $have_qga ]]; then sha256sum "$qga_bin"; else echo "no qemu-ga"; fi
  echo "modules ${guest_modules[*]} agent ${agent_modules[*]}"
  (cd "$guest_src" && sha256sum "${guest_files[@]}")
  sha256sum <"${BASH_SOURCE[0]}" | sed 's/-$/build-guest.sh/'
)
stamp=$outdir/guest.inputs
if [[ -f $outdir/vmlinuz && -f $outdir/vmlinux && -f $outdir/initrd.img &&
  (-z $have_qga || -f $outdir/initrd-agent.img) && -f $stamp ]] &&
  [[ $(cat "$stamp") == "$inputs" ]]; then
  exit 0
fi

kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ {print $2; exit}' |
    grep .
}
kpkg=$(kernel_package) || refresh_lists_and_restart "cannot resolve linux-image-amd64's kernel package"
kver=$(candidates "$kpkg") || refresh_lists_and_restart "no candidate version for $kpkg"
kver=${kver#* }
bver=$(awk '$1 == "busybox-static" {print $2}' <<<"$versions")

work=$(mktemp -d "${TMPDIR:-/tmp}/virtfs-guest.XXXXXX")
trap 'rm -rf "$work"' EXIT
# apt-get download drops privileges to _apt when it can; let it write here.
chmod 755 "$work"
[[ $(id -u) -ne 0 ]] || ! id _apt >/dev/null 2>&1 || chown _apt "$work"

echo "build-guest: fetching $kpkg $kver and busybox-static $bver" >&2
(cd "$work" && apt-get download -q "$kpkg=$kver" "busybox-static=$bver" >/dev/null) ||
  refresh_lists_and_restart "apt-get download of $kpkg=$kver busybox-static=$bver failed"
dpkg-deb -x "$work"/linux-image-*.deb "$work/kernel"
dpkg-deb -x "$work"/busybox-static_*.deb "$work/busybox"

abi=${kpkg#linux-image-}
moddir=$work/kernel/lib/modules/$abi
[[ -f $work/kernel/boot/vmlinuz-$abi && -d $moddir ]] || die "$kpkg has no vmlinuz-$abi or modules"
# The package leaves modules.dep to its postinst; generate it in the copy.
command -v depmod >/dev/null || PATH=$PATH:/usr/sbin:/sbin
depmod -b "$work/kernel" "$abi"

# Module names use '_' where file names may use '-' (virtio-rng.ko). Sets
# $mod_name rather than printing it: a subshell per modules.dep line is slow.
norm() { mod_name=${1##*/}; mod_name=${mod_name%%.ko*}; mod_name=${mod_name//-/_}; }

declare -A dep_line=() builtin=() done_mod=()
while IFS= read -r line; do
  norm "${line%%:*}"
  dep_line[$mod_name]=$line
done <"$moddir/modules.dep"
while IFS= read -r path; do
  norm "$path"
  builtin[$mod_name]=1
done <"$moddir/modules.builtin"

load_order=()
# Appends a module after everything it depends on. modules.dep lists the
# full transitive closure, dependencies of dependencies last.
add_module() {
  local name=$1 line path deps i
  [[ -z ${done_mod[$name]:-} ]] || return 0
  done_mod[$name]=1
  line=${dep_line[$name]:-}
  [[ -n $line ]] || die "module $name is neither in modules.dep nor built in"
  path=${line%%:*}
  read -r -a deps <<<"${line#*:}"
  for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
    norm "${deps[i]}"
    add_module "$mod_name"
  done
  load_order+=("$path")
}
for m in "${guest_modules[@]}"; do
  if [[ -n ${builtin[$m]:-} ]]; then
    echo "build-guest: $m is built into the kernel" >&2
    continue
  fi
  add_module "$m"
done
n_base=${#load_order[@]}
for m in "${agent_modules[@]}"; do add_module "$m"; done
agent_load_order=("${load_order[@]:n_base}")
load_order=("${load_order[@]:0:n_base}")

root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,root,etc/acpi/PWRF,lib/modules}
ln -s bin "$root/sbin"
mkdir -p "$root/usr"
ln -s ../bin "$root/usr/bin"
ln -s ../bin "$root/usr/sbin"
chmod 1777 "$root/tmp"
install -m 755 "$work/busybox/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  [[ $applet == busybox ]] || ln -s busybox "$root/bin/$applet"
done
install -m 755 "$guest_src/init" "$root/init"
install -m 755 "$guest_src/udhcpc.script" "$root/etc/udhcpc.script"
install -m 755 "$guest_src/power-button" "$root/etc/acpi/PWRF/00000080"
install -m 755 "$guest_src/start-dhcp" "$root/etc/start-dhcp"
install -m 755 "$guest_src/hotplug" "$root/etc/hotplug"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
printf '%s\n' 'export PATH=/bin HOME=/root' 'PS1='\''\h:\w# '\' 'cd' >"$root/etc/profile"
: >"$root/lib/modules/load-order"
for path in "${load_order[@]}"; do
  cp "$moddir/$path" "$root/lib/modules/"
  echo "${path##*/}" >>"$root/lib/modules/load-order"
done

# The agent's part: a second cpio, appended (the kernel unpacks every
# archive of a concatenation, later files over earlier ones).
build_agent_part() {
  agent=$work/agent
  mkdir -p "$agent"/{bin,etc,lib/modules}
  install -m 755 "$guest_src/shutdown" "$agent/bin/shutdown"
  install -m 755 "$guest_src/chpasswd" "$agent/bin/chpasswd"
  # qemu-ga and the shared libraries it loads, at the paths ldd resolves.
  install -m 755 "$qga_bin" "$agent/bin/qemu-ga"
  for lib in $(ldd "$qga_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
    mkdir -p "$agent${lib%/*}"
    cp -L "$lib" "$agent$lib"
  done
  printf '%s\n' 'NAME="virtfs test guest"' 'ID=virtfs-guest' 'VERSION_ID=1' \
    'PRETTY_NAME="virtfs test guest (busybox)"' >"$agent/etc/os-release"
  : >"$agent/lib/modules/load-order.agent"
  for path in "${agent_load_order[@]}"; do
    cp "$moddir/$path" "$agent/lib/modules/"
    echo "${path##*/}" >>"$agent/lib/modules/load-order.agent"
  done
}

pack() { # DIR OUT
  find "$1" -exec touch -h -d @0 {} +
  (cd "$1" && find . -print0 | LC_ALL=C sort -z |
    cpio --null --quiet -o -H newc -R 0:0 --reproducible) | gzip -9n >"$2"
}
pack "$root" "$work/initrd.img"
if [[ -n $have_qga ]]; then
  build_agent_part
  pack "$agent" "$work/agent.img"
  cat "$work/initrd.img" "$work/agent.img" >"$work/initrd-agent.img"
else
  echo "build-guest: $qga_bin is missing (Debian package qemu-guest-agent):" \
    "no initrd-agent.img, the tests of guest/ skip" >&2
fi

# Under TCG the bzImage spends ~2.5 s decompressing itself (xz) before the
# kernel proper starts. QEMU boots the uncompressed ELF directly through its
# PVH entry point (CONFIG_PVH), so ship that too. The setup header locates
# the compressed payload: it starts payload_offset (u32 at 0x248) bytes past
# the (setup_sects + 1) * 512 bytes of real-mode code.
u32_at() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
vmlinuz=$work/kernel/boot/vmlinuz-$abi
setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$vmlinuz" | tr -d ' ')
((setup_sects != 0)) || setup_sects=4
payload_start=$(((setup_sects + 1) * 512 + $(u32_at "$vmlinuz" $((0x248)))))
payload_len=$(u32_at "$vmlinuz" $((0x24c)))
# --single-stream: the payload ends with the 4-byte uncompressed size.
dd if="$vmlinuz" iflag=skip_bytes,count_bytes skip="$payload_start" count="$payload_len" \
  bs=1M status=none | xz -dc --single-stream >"$work/vmlinux" ||
  die "cannot decompress the kernel in $vmlinuz (not xz?)"
[[ $(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ') == '177ELF' ]] ||
  die "the payload of $vmlinuz is not an ELF image"

cp "$vmlinuz" "$work/vmlinuz"
rm -f "$stamp"
mv -f "$work/vmlinuz" "$outdir/vmlinuz"
mv -f "$work/vmlinux" "$outdir/vmlinux"
mv -f "$work/initrd.img" "$outdir/initrd.img"
if [[ -n $have_qga ]]; then
  mv -f "$work/initrd-agent.img" "$outdir/initrd-agent.img"
else
  rm -f "$outdir/initrd-agent.img"
fi
echo "$inputs" >"$stamp"
echo "$kpkg $kver" >"$outdir/guest.kernel"
echo "build-guest: $outdir: vmlinuz $(stat -c %s "$outdir/vmlinuz") bytes," \
  "vmlinux $(stat -c %s "$outdir/vmlinux") bytes," \
  "initrd.img $(stat -c %s "$outdir/initrd.img") bytes," \
  "initrd-agent.img $(stat -c %s "$outdir/initrd-agent.img" 2>/dev/null || echo no) bytes," \
  "modules: $(sed 's/\.ko$//' "$root/lib/modules/load-order" | tr '\n' ' ')" >&2
