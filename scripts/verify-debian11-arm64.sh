#!/usr/bin/env bash
# Runs the linux-arm64 prebuilt binary on the oldest glibc it is meant for: an arm64 Debian 11
# (glibc 2.31) root made by debootstrap (the first stage only: its files are all qemu's loader
# needs) and kept in the prebuild cache, with the arm64 Node 20 under qemu-aarch64-static.
#
#   bash scripts/verify-debian11-arm64.sh     (or npm run verify:prebuilds -- --debian11)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v debootstrap >/dev/null || { echo "verify-debian11-arm64: apt-get install debootstrap" >&2; exit 1; }
cache="$(node --input-type=module -e "import { cacheDir } from '$root/scripts/prebuild-cache.mjs'; process.stdout.write(cacheDir())")"
debian11="$cache/debian11-arm64"
if [[ ! -f "$debian11/lib/aarch64-linux-gnu/libc.so.6" ]]; then
  rm -rf "$debian11"
  mkdir -p "$debian11"
  debootstrap --arch=arm64 --foreign --variant=minbase bullseye "$debian11" "$(node scripts/debian-mirror.mjs main)"
fi
node scripts/prebuild-cache.mjs node20-linux-arm64 >/dev/null
PQNODE_DEBIAN11_ARM64_ROOT="$debian11" npx vitest run test/74.prebuild-platforms.test.ts -t 'Debian 11'
