#!/usr/bin/env bash
# Builds what the win32-x64 prebuilt binary links statically: OpenSSL and libpq, cross-compiled
# with mingw-w64 from Debian's source packages (the suites scripts/prebuild-inputs.json names).
# Windows has no libpq of its own and the DLLs PostgreSQL's Windows builds ship need the
# MSVC runtime, which a stock Windows lacks: linked in, the binary needs only system DLLs.
#
#   bash scripts/prebuild-win32-deps.sh     prints the directory holding include/ and lib/
#
# The result is kept in the prebuild cache (see scripts/prebuild-cache.mjs) under the
# versions it was built from, so it is built once (some minutes) and reused after.
# Needs: apt-get (run as root, or with the source lists already fetched), mingw-w64, perl,
# make, bison and flex. Fetching uses the Debian mirror this machine's apt is set up with.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="$(node --input-type=module -e "import { cacheDir } from '$root/scripts/prebuild-cache.mjs'; process.stdout.write(cacheDir())")"
host=x86_64-w64-mingw32
# the builds below pick their own cross compilers; a CC or CFLAGS meant for another would win
unset CC CXX CPP LD AR RANLIB CFLAGS CXXFLAGS CPPFLAGS LDFLAGS LIBS
jobs="${PQNODE_PREBUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"

fail() {
  echo "prebuild-win32-deps: $*" >&2
  exit 1
}
command -v "$host-gcc" >/dev/null || fail "$host-gcc is missing (Debian: apt-get install mingw-w64)"
for tool in perl bison flex make; do
  command -v "$tool" >/dev/null || fail "$tool is missing (Debian: apt-get install $tool)"
done

# A private apt state that lists the source suites wanted, on the mirror the system uses:
# the system's own lists and configuration stay as they are.
apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
node --input-type=module - "$root" "$apt_dir/sources.list" <<'NODE'
import fs from 'node:fs';
const [root, out] = process.argv.slice(2);
const { debianMirror } = await import(`${root}/scripts/debian-mirror.mjs`);
const inputs = JSON.parse(fs.readFileSync(`${root}/scripts/prebuild-inputs.json`, 'utf8'));
const lines = Object.values(inputs.debianSources).map(({ suite, archive }) =>
  `deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${debianMirror(archive)} ${suite} main`);
fs.writeFileSync(out, `${[...new Set(lines)].join('\n')}\n`);
NODE
apt_options=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o Debug::NoLocking=1
)

source_spec() { # NAME -> name/suite
  node -e "const i = require('$root/scripts/prebuild-inputs.json').debianSources['$1']; process.stdout.write('$1/' + i.suite)"
}
source_version() { # NAME -> the version its suite's source list has now
  local suite index
  suite="$(node -e "process.stdout.write(require('$root/scripts/prebuild-inputs.json').debianSources['$1'].suite)")"
  # apt may keep the lists compressed: its helper reads them either way
  for index in "$apt_dir"/lists/*_"${suite}"_main_source_Sources*; do
    [[ -f "$index" ]] || continue
    /usr/lib/apt/apt-helper cat-file "$index" |
      awk -v name="$1" '/^Package: /{ take = ($2 == name) } take && /^Version: /{ print $2 }'
  done | sort -V | tail -n 1
}

if [[ -z "$(source_version openssl)" || -z "$(source_version postgresql-18)" || -n "${PQNODE_PREBUILD_REFRESH:-}" ]]; then
  apt-get "${apt_options[@]}" update -q >&2
fi
openssl_version="$(source_version openssl)"
postgresql_version="$(source_version postgresql-18)"
[[ -n "$openssl_version" && -n "$postgresql_version" ]] || fail "apt-get source lists no openssl or postgresql-18 (see $apt_dir/sources.list)"
compiler_version="$("$host-gcc" -dumpfullversion) ($(dpkg-query -W -f '${Version}' "gcc-mingw-w64-x86-64-win32" 2>/dev/null || echo unknown))"

out="$cache/win32-x64-deps/openssl-$openssl_version+postgresql-$postgresql_version+mingw-gcc-$("$host-gcc" -dumpfullversion)"
if [[ -f "$out/VERSIONS" ]]; then
  echo "$out"
  exit 0
fi

work="$cache/win32-x64-deps/work"
rm -rf "$work"
mkdir -p "$work/src"
(
  cd "$work/src"
  # Only the upstream tarballs are used (apt checks each file against the source list's
  # hashes); a mirror that lacks a Debian packaging file fails the command but not the build.
  apt-get "${apt_options[@]}" source --download-only "openssl=$openssl_version" "postgresql-18=$postgresql_version" >&2 || true
)
# the upstream sources as released; Debian's packaging patches are for Debian's builds
openssl_tar=("$work"/src/openssl_*.orig.tar.*)
postgresql_tar=("$work"/src/postgresql-18_*.orig.tar.*)
[[ -f "${openssl_tar[0]}" && -f "${postgresql_tar[0]}" ]] || fail "apt-get source fetched no upstream tarballs into $work/src"

# No build path, date or host name may reach the objects: same sources, same bytes.
export SOURCE_DATE_EPOCH=0 TZ=UTC LC_ALL=C
prefix_map="-ffile-prefix-map=$work/="

# OpenSSL is the long part of the build: kept on its own, it outlives a failed libpq build
ssl_out="$cache/win32-x64-deps/openssl-$openssl_version+mingw-gcc-$("$host-gcc" -dumpfullversion)"
if [[ ! -f "$ssl_out/pqnode/lib/libcrypto.a" ]]; then
  echo "prebuild-win32-deps: OpenSSL $openssl_version" >&2
  mkdir -p "$work/openssl"
  tar -xf "${openssl_tar[0]}" -C "$work/openssl" --strip-components=1
  (
    cd "$work/openssl"
    # libcrypto and libssl only, no DLLs, no engines or modules to load at run time
    ./Configure mingw64 no-shared no-module no-engine no-tests \
      --cross-compile-prefix="$host-" --prefix=/pqnode --libdir=lib --openssldir=/pqnode/ssl \
      "$prefix_map" >"$work/openssl.log" 2>&1 || fail "OpenSSL's Configure failed: see $work/openssl.log"
    make -j"$jobs" build_libs >>"$work/openssl.log" 2>&1 || fail "OpenSSL did not build: see $work/openssl.log"
    rm -rf "$ssl_out.partial"
    make install_dev DESTDIR="$ssl_out.partial" >>"$work/openssl.log" 2>&1 || fail "OpenSSL did not install: see $work/openssl.log"
  )
  rm -rf "$ssl_out"
  mv "$ssl_out.partial" "$ssl_out"
fi
ssl="$ssl_out/pqnode"

echo "prebuild-win32-deps: libpq $postgresql_version" >&2
mkdir -p "$work/postgresql"
tar -xf "${postgresql_tar[0]}" -C "$work/postgresql" --strip-components=1
(
  cd "$work/postgresql"
  ./configure --host="$host" --prefix=/pqnode --with-ssl=openssl \
    --without-readline --without-zlib --without-icu --without-gssapi --without-ldap --disable-nls \
    --with-includes="$ssl/include" --with-libraries="$ssl/lib" \
    CFLAGS="-O2 $prefix_map" LIBS="-lws2_32 -lcrypt32 -luser32 -ladvapi32" >"$work/postgresql.log" 2>&1 ||
    fail "PostgreSQL's configure failed: see $work/postgresql.log"
  make -C src/include >>"$work/postgresql.log" 2>&1
  for dir in src/port src/common src/interfaces/libpq; do
    make -j"$jobs" -C "$dir" >>"$work/postgresql.log" 2>&1 || fail "$dir did not build: see $work/postgresql.log"
  done
)

staged="$out.partial"
rm -rf "$staged"
mkdir -p "$staged/lib" "$staged/include"
cp "$ssl"/lib/libssl.a "$ssl"/lib/libcrypto.a "$staged/lib/"
cp -R "$ssl/include/openssl" "$staged/include/"
pg="$work/postgresql"
# libpq's objects as an archive of their own (the one the build makes on Windows is the DLL's
# import library); the frontend builds of libpgcommon and libpgport, as a DLL would use
"$host-ar" rcsD "$staged/lib/libpq.a" "$pg"/src/interfaces/libpq/*.o
# libpq brings a pthread emulation of its own on Windows, whose types are not winpthread's;
# the C++ runtime brings winpthread. Renamed, libpq's stays libpq's and the two link side by side.
for name in pthread_getspecific pthread_setspecific pthread_mutex_init pthread_mutex_lock pthread_mutex_unlock pthread_self; do
  echo "$name pqnode_libpq_$name"
done >"$work/libpq-pthread.map"
"$host-objcopy" -D --redefine-syms="$work/libpq-pthread.map" "$staged/lib/libpq.a"
cp "$pg/src/common/libpgcommon_shlib.a" "$pg/src/port/libpgport_shlib.a" "$staged/lib/"
cp "$pg/src/interfaces/libpq/libpq-fe.h" "$pg/src/interfaces/libpq/libpq-events.h" "$pg/src/include/postgres_ext.h" "$staged/include/"
# (gone in PostgreSQL 18, which includes stdint.h instead)
if [[ -f "$pg/src/include/pg_config_ext.h" ]]; then cp "$pg/src/include/pg_config_ext.h" "$staged/include/"; fi
cat >"$staged/VERSIONS" <<VERSIONS
openssl $openssl_version (Debian source, $(source_spec openssl)) $(sha256sum "${openssl_tar[0]}" | cut -d' ' -f1)  $(basename "${openssl_tar[0]}")
postgresql-18 $postgresql_version (Debian source, $(source_spec postgresql-18)) $(sha256sum "${postgresql_tar[0]}" | cut -d' ' -f1)  $(basename "${postgresql_tar[0]}")
$host-gcc $compiler_version
VERSIONS
rm -rf "$out"
mv "$staged" "$out"
rm -rf "$work"
echo "$out"
