#!/usr/bin/env bash
# Installs what is missing, builds, and mounts virtfs with its embedded
# defaults (state in /var/lib/virtfs, runtime in /run/virtfs as root).
#   scripts/run.sh [MOUNTPOINT]      (default /virt)
# Stop it with: fusermount3 -u MOUNTPOINT   (running VMs keep running)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
mnt=${1:-/virt}
mkdir -p "$mnt"
if mountpoint -q "$mnt"; then
  echo "virtfs: $mnt is already mounted" >&2
  exit 1
fi
build/fs/virtfs "$mnt"
echo "virtfs mounted on $mnt: try 'ls $mnt/domains'"
