#!/usr/bin/env bash
# Configures (once) and builds virtfs into a build directory.
#   scripts/build.sh [BUILDDIR] [extra meson options...]
# Warnings are errors: a warning fails the build here and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
builddir=${1:-build}
shift || true
if [[ ! -f "$builddir/build.ninja" ]]; then
  meson setup "$builddir" --werror "$@" >/dev/null
fi
ninja -C "$builddir" >/dev/null
