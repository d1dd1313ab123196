#!/usr/bin/env bash
# Proves that the packed pqnode installs and works where there is no compiler, no libpq and
# no install script:
#
#   (a) here: `npm install pqnode-*.tgz` into a fresh project, with a PATH that has node
#       and npm but no gcc, g++, cc, make or python3;
#   (b) in a minimal Debian (debootstrap --variant=minbase) holding nothing but the node
#       binary copied in and the package unpacked into node_modules, chrooted; it shares
#       this machine's network, so it reaches the server on 127.0.0.1.
#
# Both connect over TCP and over SSL to a throwaway PostgreSQL server and run queries, and
# (b) prints what the binary links. Each check prints a PASS or FAIL line; the exit status
# is 0 only when all passed.
#
#   bash scripts/verify-fresh-install.sh [--no-chroot]
#
# Part (b) needs root and debootstrap (apt-get install debootstrap) and downloads Debian's
# minimal system once into PQNODE_VERIFY_CHROOT (default /var/tmp/pqnode-SUITE); it is
# skipped, with a line saying so, when it cannot run. PQNODE_VERIFY_SUITE picks the Debian
# release (default bookworm; bullseye has glibc 2.31 and the libstdc++ of GCC 10).
# Not part of npm test.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"

# Phase 2: run by the server driver below with the server's conninfo in the environment.
if [[ "${1:-}" == "--checks" ]]; then
  status=0
  echo "== (a) fresh project, compilers hidden from PATH"
  (cd "$VERIFY_APP" && PATH="$VERIFY_SANDBOX_PATH" LABEL="no compiler" node check.cjs) || status=1
  if [[ -n "${VERIFY_CHROOT:-}" ]]; then
    echo "== (b) minimal Debian in $VERIFY_CHROOT ($(chroot "$VERIFY_CHROOT" /usr/bin/ldd --version | head -n 1))"
    chroot "$VERIFY_CHROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root \
      TCP_DSN="$TCP_DSN" SSL_DSN="$SSL_DSN" CERT=/app/server.crt KEY=/app/server.key LABEL="minimal Debian" \
      sh -c 'cd /app && node check.cjs' || status=1
  fi
  exit "$status"
fi

with_chroot=1
[[ "${1:-}" == "--no-chroot" ]] && with_chroot=0

pass() { echo "PASS $*"; }
fail() {
  echo "FAIL $*"
  exit 1
}

work="$(mktemp -d "${TMPDIR:-/tmp}/pqnode-verify-XXXXXX")"
suite="${PQNODE_VERIFY_SUITE:-bookworm}"
chroot_dir="${PQNODE_VERIFY_CHROOT:-/var/tmp/pqnode-$suite}"
proc_mounted=0
cleanup() {
  if [[ $proc_mounted == 1 ]]; then umount "$chroot_dir/proc" 2>/dev/null || true; fi
  if [[ -d "$chroot_dir/app" ]]; then rm -rf "$chroot_dir/app"; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== packing"
(cd "$root" && npm pack --pack-destination "$work" --silent >"$work/pack.out") || fail "npm pack"
tarball="$work/$(tail -n 1 "$work/pack.out")"
[[ -f "$tarball" ]] || fail "npm pack made no tarball"
pass "npm pack: $(basename "$tarball") ($(wc -c <"$tarball") bytes)"

# A PATH with node and npm and the basic tools, and no compiler.
sandbox="$work/bin"
mkdir -p "$sandbox"
for tool in node npm npx sh bash env cat ls mkdir rm cp mv tar gzip uname id; do
  found="$(command -v "$tool" || true)"
  [[ -n "$found" ]] && ln -s "$(readlink -f "$found")" "$sandbox/$tool"
done
# npm and npx are scripts that find their own files through the path they were called by
ln -sf "$(readlink -f "$(command -v npm)")" "$sandbox/npm"
ln -sf "$(readlink -f "$(command -v npx)")" "$sandbox/npx"
for compiler in gcc g++ cc c++ make python3 clang pg_config; do
  if PATH="$sandbox" command -v "$compiler" >/dev/null 2>&1; then fail "$compiler is reachable in the sandbox PATH"; fi
done
pass "no gcc, g++, cc, c++, make, python3, clang or pg_config on the sandbox PATH"

app="$work/app"
mkdir -p "$app"
cp "$root/scripts/fresh-install-check.cjs" "$app/check.cjs"
(cd "$app" && PATH="$sandbox" npm init -y >/dev/null &&
  PATH="$sandbox" npm install --no-audit --no-fund "$tarball" >"$work/install.log" 2>&1) ||
  { cat "$work/install.log"; fail "npm install of the tarball with no compiler"; }
pass "npm install $(basename "$tarball") with no compiler ($(grep -c . "$work/install.log") lines of output)"
if grep -q "install-scripts" "$work/install.log"; then
  pass "npm did not run pqnode's install script (it says: $(grep -m1 -o 'install-scripts.*' "$work/install.log" | head -c 90))"
fi

# A user who allows pqnode's install script: node-gyp-build finds that the prebuilt binary
# loads and compiles nothing, so it succeeds with no compiler.
(cd "$app" && PATH="$sandbox" npm install-scripts approve pqnode >"$work/approve.log" 2>&1 &&
  PATH="$sandbox" npm rebuild pqnode --foreground-scripts >"$work/rebuild.log" 2>&1) ||
  { cat "$work/approve.log" "$work/rebuild.log"; fail "npm rebuild pqnode with its install script allowed and no compiler"; }
[[ ! -e "$app/node_modules/pqnode/build" ]] || fail "npm rebuild pqnode compiled a build/ although the prebuilt binary fits"
pass "install script allowed: npm rebuild pqnode ran node-gyp-build, which compiled nothing"

certs="$work/certs"
mkdir -p "$certs"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -keyout "$certs/server.key" -out "$certs/server.crt" >/dev/null 2>&1 || fail "openssl could not make a certificate"

chroot_ready=0
if [[ $with_chroot == 1 ]]; then
  if [[ "$(id -u)" != 0 ]]; then
    echo "SKIP minimal Debian: needs root"
  elif [[ ! -x "$chroot_dir/bin/sh" ]] && ! command -v debootstrap >/dev/null 2>&1; then
    echo "SKIP minimal Debian: install debootstrap (apt-get install debootstrap)"
  else
    if [[ ! -x "$chroot_dir/bin/sh" ]]; then
      echo "== debootstrap --variant=minbase $suite $chroot_dir (once)"
      debootstrap --variant=minbase "$suite" "$chroot_dir" >"$work/debootstrap.log" 2>&1 ||
        { tail -n 20 "$work/debootstrap.log"; fail "debootstrap"; }
    fi
    # only the node binary comes in: no npm, no compiler, no libpq, no PostgreSQL
    install -m 0755 "$(readlink -f "$(command -v node)")" "$chroot_dir/usr/local/bin/node"
    rm -rf "$chroot_dir/app"
    mkdir -p "$chroot_dir/app/node_modules/pqnode"
    tar -xzf "$tarball" -C "$chroot_dir/app/node_modules/pqnode" --strip-components=1
    # pqnode's one run-time dependency, as npm fetched it for (a)
    cp -R "$app/node_modules/node-gyp-build" "$chroot_dir/app/node_modules/"
    cp "$app/check.cjs" "$certs/server.crt" "$certs/server.key" "$chroot_dir/app/"
    if mount -t proc proc "$chroot_dir/proc" 2>/dev/null; then proc_mounted=1; fi
    missing=()
    for tool in gcc g++ cc make python3 pg_config psql npm; do
      if chroot "$chroot_dir" /bin/sh -c "command -v $tool" >/dev/null 2>&1; then missing+=("$tool"); fi
    done
    [[ ${#missing[@]} == 0 ]] || fail "the minimal Debian has ${missing[*]}"
    if chroot "$chroot_dir" /bin/sh -c 'ls /usr/lib/*/libpq.so* /usr/lib/*/libssl.so* 2>/dev/null' | grep -q .; then
      libs="$(chroot "$chroot_dir" /bin/sh -c 'ls /usr/lib/*/libpq.so* /usr/lib/*/libssl.so* 2>/dev/null' | tr '\n' ' ')"
      pass "the minimal Debian has no compiler, npm, psql or pg_config (shared libraries present: $libs)"
    else
      pass "the minimal Debian has no compiler, npm, psql, pg_config, libpq or libssl"
    fi
    echo "== ldd of the binary in the minimal Debian"
    chroot "$chroot_dir" /usr/bin/ldd /app/node_modules/pqnode/prebuilds/linux-x64/pqnode.glibc.node | sed 's/^/    /'
    chroot_ready=1
  fi
fi

export VERIFY_APP="$app" VERIFY_SANDBOX_PATH="$sandbox"
export CERT="$certs/server.crt" KEY="$certs/server.key"
if [[ $chroot_ready == 1 ]]; then export VERIFY_CHROOT="$chroot_dir"; fi

# Phase 2 under a throwaway server that accepts SSL with the certificate made above.
server_script="$(cat <<'EOF'
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
const { startTestServer } = await import(pathToFileURL(process.env.TEST_SERVER_MODULE).href);
const server = await startTestServer({ ssl: { cert: process.env.CERT, key: process.env.KEY } });
let status = 1;
try {
  const uri = (parameter) => `${server.dsn}?${parameter}`;
  const run = spawnSync('bash', [process.env.VERIFY_SCRIPT, '--checks'], {
    stdio: 'inherit',
    env: { ...process.env, TCP_DSN: uri('sslmode=disable'), SSL_DSN: uri('sslmode=require') },
  });
  status = run.status ?? 1;
  console.log(`== server: PostgreSQL ${server.version} on 127.0.0.1:${server.port}`);
} finally {
  await server.stop();
}
process.exit(status);
EOF
)"
if TEST_SERVER_MODULE="$root/scripts/test-server.mjs" VERIFY_SCRIPT="$root/scripts/verify-fresh-install.sh" \
  node --input-type=module -e "$server_script"; then
  echo "PASS all checks"
else
  echo "FAIL some checks failed (see the FAIL lines above)"
  exit 1
fi
