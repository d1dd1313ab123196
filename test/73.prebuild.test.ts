// The prebuilt binary as users get it: a package folder with dist/ and prebuilds/ and no
// build/, loaded in a child process. It carries libpq 18 and OpenSSL 3 of its own, so it is
// checked over TCP and over SSL while Node's own OpenSSL (crypto, tls) works in the same
// process. That alone cannot prove the two apart (a binary exporting its OpenSSL binds to
// Node's and passes while their versions agree), so its symbol tables are checked as well:
// it exports nothing but N-API entry points and asks nothing of Node but N-API and libuv.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadTestServerModule, type TestServer } from './helpers';
import {
  checkScript,
  elfDynamicSymbols,
  expectWorkingPrebuilt,
  makeBarePackage,
  makeCertificate,
  newestGlibc,
  repositoryRoot as root,
  withParameter,
  type PrebuiltCheck,
} from './prebuild-helpers';

const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';

let workDir = '';
/** a package folder with dist/ but no binary at all */
let bareRoot = '';
/** the same with the prebuilds/ folder the package ships */
let installedRoot = '';
let server: TestServer | undefined;
let sslDsn = '';

function run(packageRoot: string, script: string, env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  // a file to run, or a script given inline
  const args = script.endsWith('.cjs') ? [script] : ['-e', script];
  try {
    const stdout = execFileSync(process.execPath, args, {
      cwd: workDir,
      encoding: 'utf8',
      // dist/ needs node-gyp-build, which only the repository's node_modules holds
      env: { ...process.env, ...env, NODE_PATH: path.join(root, 'node_modules'), PACKAGE_ROOT: packageRoot },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return { status: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { status: number | null; stdout: string; stderr: string };
    return { status: failed.status ?? -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

let certFiles = { cert: '', key: '' };

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-prebuild-'));
  bareRoot = path.join(workDir, 'bare');
  installedRoot = path.join(workDir, 'installed');
  makeBarePackage(bareRoot);
  fs.cpSync(bareRoot, installedRoot, { recursive: true });
  fs.cpSync(path.join(root, 'prebuilds'), path.join(installedRoot, 'prebuilds'), { recursive: true });

  certFiles = makeCertificate(workDir);
  const { startTestServer } = await loadTestServerModule();
  server = await startTestServer({ ssl: certFiles });
  sslDsn = withParameter(server.dsn, 'sslmode=require');
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (workDir !== '') fs.rmSync(workDir, { recursive: true, force: true });
});

describe.runIf(onLinuxX64)('the linux-x64 prebuilt binary', () => {
  it('is what an installed package loads, and works over TCP and SSL beside Node\'s own OpenSSL', () => {
    const result = run(installedRoot, checkScript, {
      TCP_DSN: withParameter(server!.dsn, 'sslmode=disable'),
      SSL_DSN: sslDsn,
      CERT: certFiles.cert,
      KEY: certFiles.key,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const seen = JSON.parse(result.stdout) as PrebuiltCheck;
    expect(seen.binaries).toEqual([path.join(installedRoot, 'prebuilds', 'linux-x64', 'pqnode.glibc.node')]);
    expectWorkingPrebuilt(seen, 'linux-x64', 'pqnode.glibc.node');
  });
});

// Runs in the child: results read in chunks (libpq 17+) and merged into one, at the edges of
// a chunk (2048 rows; 8192 in binaries built before), with object rows and arrays, and cut
// short by an error.
const chunkScript = `
const path = require('path');
const pqnode = require(path.join(process.env.PACKAGE_ROOT, 'dist', 'index.js'));
(async () => {
  const conn = await pqnode.connect(process.env.TCP_DSN, { autocommit: true });
  const out = {};
  for (const n of [0, 1, 2047, 2048, 2049, 4096, 6145, 8191, 8192, 8193, 16384, 20000]) {
    const text = 'select g, g::text as t, g % 2 = 0 as even from generate_series(1, ' + n + ') g';
    const objects = await conn.query(text);
    const tuples = await conn.query(text, undefined, { rowFactory: 'tuple' });
    const inOrder = objects.rows.every((row, i) => row.g === i + 1 && row.t === String(i + 1) && row.even === ((i + 1) % 2 === 0))
      && tuples.rows.every((row, i) => row[0] === i + 1 && row[1] === String(i + 1));
    out[n] = { objects: objects.rows.length, tuples: tuples.rows.length, rowCount: objects.rowCount,
      statusMessage: objects.statusMessage, tupleStatus: tuples.statusMessage, inOrder };
  }
  // every kind of value the native layer makes, in rows that cross chunk edges
  const typed = await conn.query("select g, g::int8 * 1000003 as big, 'row ' || g as name, g / 7.0::float8 as ratio, " +
    "timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' as at, (g * 1.25)::numeric(14, 2) as amount, " +
    "null::text as nothing from generate_series(1, 4100) g");
  out.typed = { rows: typed.rows.length, inOrder: typed.rows.every((row, i) => {
    const g = i + 1;
    return row.g === g && row.big === BigInt(g) * 1000003n && row.name === 'row ' + g && row.ratio === g / 7 &&
      row.at.getTime() === Date.UTC(2024, 0, 1) + g * 1000 && row.amount === (g * 1.25).toFixed(2) && row.nothing === null;
  }) };
  // a column JS casts (json) keeps the rows arrays until JS shapes them, across chunks too
  const json = await conn.query("select g, json_build_object('g', g) as j from generate_series(1, 10000) g");
  out.json = { rows: json.rows.length, last: json.rows[9999] };
  // an error after whole chunks have come: the statement fails, the connection goes on
  try {
    await conn.query('select 1 / (9000 - g) as v from generate_series(1, 10000) g');
    out.error = 'none';
  } catch (error) {
    out.error = error.constructor.name;
  }
  // many at once, large and small, each its own result
  const mixed = await Promise.all([
    conn.query('select count(*)::int as c from generate_series(1, 10)'),
    conn.query('select g from generate_series(1, 9000) g'),
    conn.query('select 7 as seven'),
    conn.query('select g from generate_series(1, 8192) g'),
  ]);
  out.mixed = [mixed[0].rows[0].c, mixed[1].rows.length, mixed[2].rows[0].seven, mixed[3].rows.length];
  out.insert = (await conn.query('create temp table t as select g from generate_series(1, 9000) g')).statusMessage;
  out.returning = (await conn.query('delete from t returning g')).rowCount;
  await conn.close();
  process.stdout.write(JSON.stringify(out));
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

describe.runIf(onLinuxX64)('results in chunks with the prebuilt binary (libpq 18)', () => {
  it('merges the chunks of each result into one, whatever the row count, and fails whole on an error', () => {
    const result = run(installedRoot, chunkScript, { TCP_DSN: withParameter(server!.dsn, 'sslmode=disable') });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    const seen = JSON.parse(result.stdout) as Record<string, unknown>;
    for (const n of [0, 1, 2047, 2048, 2049, 4096, 6145, 8191, 8192, 8193, 16384, 20000]) {
      expect(seen[n]).toEqual({ objects: n, tuples: n, rowCount: n, statusMessage: `SELECT ${n}`, tupleStatus: `SELECT ${n}`, inOrder: true });
    }
    expect(seen.typed).toEqual({ rows: 4100, inOrder: true });
    expect(seen.json).toEqual({ rows: 10000, last: { g: 10000, j: { g: 10000 } } });
    expect(seen.error).toBe('DivisionByZero');
    expect(seen.mixed).toEqual([10, 9000, 7, 8192]);
    expect(seen.insert).toBe('SELECT 9000');
    expect(seen.returning).toBe(9000);
  });
});

// Checked on any machine: readelf reads the arm64 binary as well as the x64 one.
describe.each(['linux-x64', 'linux-arm64'])('the %s prebuilt binary keeps libpq and OpenSSL to itself', (platform) => {
  const binary = path.join(root, 'prebuilds', platform, 'pqnode.glibc.node');

  it('exports nothing but its N-API entry points', () => {
    // an exported SSL_* or PQ* could be interposed by Node's own OpenSSL, or interpose it
    const exported = elfDynamicSymbols(binary, 'defined').map(([, name]) => name.replace(/@.*/, ''));
    expect(exported.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
  });

  it('takes from outside only N-API, libuv and the C runtime', () => {
    const foreign = elfDynamicSymbols(binary, 'undefined')
      // weak references (hooks of the C++ runtime) are null when nothing provides them
      .filter(([binding]) => binding !== 'WEAK')
      .map(([, name]) => name)
      // versioned: glibc and libgcc
      .filter((name) => !name.includes('@'))
      .filter((name) => !/^(napi_|node_api_|uv_)/.test(name));
    expect(foreign).toEqual([]);
  });

  it('loads wherever Node 20 does: asks for no glibc newer than 2.28 and for no libstdc++ at all', () => {
    // Node 20's own floor on both architectures; the arm64 one was at 2.36 before glibc_compat.c
    const needs = newestGlibc(binary);
    expect(needs.others).toEqual([]);
    expect(needs.version, `needs ${needs.name}`).toBeGreaterThan(2000);
    expect(needs.version, `needs ${needs.name}`).toBeLessThanOrEqual(2028);
  });
});

describe('a package with no binary for this machine', () => {
  it('fails at require with the platform looked for and the commands that build one', () => {
    const result = run(bareRoot, "require(require('path').join(process.env.PACKAGE_ROOT, 'dist', 'index.js'))");
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`pqnode: no native binary for ${process.platform}-${process.arch}`);
    expect(result.stderr).toContain(path.join(bareRoot, 'prebuilds'));
    expect(result.stderr).toContain('npm rebuild pqnode');
    expect(result.stderr).toContain('npm run build:source');
  });
});
