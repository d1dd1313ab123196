// The prebuilt binary as users get it: a package folder with dist/ and prebuilds/ and no
// build/, loaded in a child process. It carries libpq 18 and OpenSSL 3 of its own, so it is
// checked over TCP and over SSL while Node's own OpenSSL (crypto, tls) works in the same
// process. That alone cannot prove the two apart (a binary exporting its OpenSSL binds to
// Node's and passes while their versions agree), so its symbol tables are checked as well:
// it exports nothing but N-API entry points and asks nothing of Node but N-API and libuv.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadTestServerModule, type TestServer } from './helpers';

const root = path.join(__dirname, '..');
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64';

let workDir = '';
/** a package folder with dist/ but no binary at all */
let bareRoot = '';
/** the same with the prebuilds/ folder the package ships */
let installedRoot = '';
let server: TestServer | undefined;
let sslDsn = '';

function run(packageRoot: string, script: string, env: Record<string, string> = {}): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, ['-e', script], {
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

/** A self-signed certificate for localhost, made with the openssl command. */
function makeCertificate(): { cert: string; key: string } {
  const cert = path.join(workDir, 'server.crt');
  const key = path.join(workDir, 'server.key');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
  } catch (error) {
    throw new Error('the openssl command makes the SSL test\'s certificate: install it (apt-get install openssl)', { cause: error });
  }
  return { cert, key };
}

let certFiles = { cert: '', key: '' };

/** the test server's URI with one more query parameter */
function withParameter(uri: string, parameter: string): string {
  return `${uri}${uri.includes('?') ? '&' : '?'}${parameter}`;
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-prebuild-'));
  bareRoot = path.join(workDir, 'bare');
  installedRoot = path.join(workDir, 'installed');
  execFileSync(
    process.execPath,
    [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(root, 'tsconfig.build.json'), '--outDir', path.join(bareRoot, 'dist'), '--sourceMap', 'false', '--declaration', 'false'],
    { stdio: 'ignore' },
  );
  fs.writeFileSync(path.join(bareRoot, 'package.json'), JSON.stringify({ name: 'pqnode', main: 'dist/index.js' }));
  fs.cpSync(bareRoot, installedRoot, { recursive: true });
  fs.cpSync(path.join(root, 'prebuilds'), path.join(installedRoot, 'prebuilds'), { recursive: true });

  certFiles = makeCertificate();
  const { startTestServer } = await loadTestServerModule();
  server = await startTestServer({ ssl: certFiles });
  sslDsn = withParameter(server.dsn, 'sslmode=require');
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (workDir !== '') fs.rmSync(workDir, { recursive: true, force: true });
});

// Runs in the child: loads pqnode from PACKAGE_ROOT, uses it over TCP and SSL alongside
// Node's crypto and tls, and prints what it saw as JSON.
const checkScript = `
const fs = require('fs');
const crypto = require('crypto');
const tls = require('tls');
const path = require('path');
const pqnode = require(path.join(process.env.PACKAGE_ROOT, 'dist', 'index.js'));
const { native } = require(path.join(process.env.PACKAGE_ROOT, 'dist', 'native.js'));

function tlsEcho(cert, key) {
  return new Promise((resolve, reject) => {
    const server = tls.createServer({ cert, key }, (socket) => socket.pipe(socket));
    server.listen(0, '127.0.0.1', () => {
      const client = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost', ca: cert }, () => {
        client.end('hello over node tls');
      });
      let echoed = '';
      client.on('data', (data) => { echoed += data; });
      client.on('end', () => { server.close(); resolve({ echoed, protocol: client.getProtocol(), authorized: client.authorized }); });
      client.on('error', reject);
    });
  });
}

(async () => {
  const out = {};
  out.binaries = [...new Set(fs.readFileSync('/proc/self/maps', 'utf8').split('\\n')
    .map((line) => line.trim().split(/\\s+/)[5]).filter((file) => file && file.endsWith('.node')))];
  out.libpqVersion = native().libpqVersion();
  out.features = Object.fromEntries(['pipeline', 'chunkedRows', 'cancelCreate', 'sendPipelineSync', 'closePrepared']
    .map((name) => [name, native().hasFeature(name)]));

  const tcp = await pqnode.connect(process.env.TCP_DSN);
  out.tcp = { ssl: tcp.info.ssl, rows: (await tcp.query('select 40 + 2 as answer')).rows };
  await tcp.close();

  const cert = fs.readFileSync(process.env.CERT);
  const key = fs.readFileSync(process.env.KEY);
  const ssl = await pqnode.connect(process.env.SSL_DSN);
  const second = await pqnode.connect(process.env.SSL_DSN);
  // both OpenSSLs at work at once: queries over libpq's SSL while Node hashes and shakes hands
  const [queries, echo, digest] = await Promise.all([
    Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? ssl : second)
      .query('select $1::int * 2 as doubled, repeat($2, 1000) as filler', [i, 'x']))),
    tlsEcho(cert, key),
    Promise.resolve(crypto.createHash('sha256').update('pqnode').digest('hex')),
  ]);
  out.sslQueries = queries.map((result) => result.rows[0].doubled);
  out.echo = echo;
  out.digest = digest;
  out.hmac = crypto.createHmac('sha256', 'k').update('v').digest('hex');
  out.ssl = ssl.info.ssl;
  out.pgStatSsl = (await ssl.query('select ssl, version from pg_stat_ssl where pid = pg_backend_pid()')).rows[0];
  // cancel goes over a connection of its own, which libpq 18 also encrypts
  // the outcome is taken at once: the query may fail before cancel() returns
  const slow = ssl.query('select pg_sleep(30)').then(() => 'finished', (error) => error.constructor.name);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await ssl.cancel();
  out.cancelled = await slow;
  await ssl.close();
  await second.close();
  process.stdout.write(JSON.stringify(out));
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
`;

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
    const seen = JSON.parse(result.stdout) as {
      binaries: string[];
      libpqVersion: number;
      features: Record<string, boolean>;
      tcp: { ssl: boolean; rows: { answer: number }[] };
      sslQueries: number[];
      echo: { echoed: string; protocol: string; authorized: boolean };
      digest: string;
      hmac: string;
      ssl: boolean;
      pgStatSsl: { ssl: boolean; version: string };
      cancelled: string;
    };
    expect(seen.binaries).toEqual([path.join(installedRoot, 'prebuilds', 'linux-x64', 'pqnode.glibc.node')]);
    // libpq 18 linked in, with every newer feature pqnode uses
    expect(seen.libpqVersion).toBeGreaterThanOrEqual(180000);
    expect(seen.libpqVersion).toBeLessThan(190000);
    expect(seen.features).toEqual({ pipeline: true, chunkedRows: true, cancelCreate: true, sendPipelineSync: true, closePrepared: true });
    expect(seen.tcp).toEqual({ ssl: false, rows: [{ answer: 42 }] });
    expect(seen.ssl).toBe(true);
    expect(seen.pgStatSsl.ssl).toBe(true);
    expect(seen.pgStatSsl.version).toMatch(/^TLSv1\.[23]$/);
    expect(seen.sslQueries).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(seen.echo).toEqual({ echoed: 'hello over node tls', protocol: 'TLSv1.3', authorized: true });
    expect(seen.digest).toBe(crypto.createHash('sha256').update('pqnode').digest('hex'));
    expect(seen.hmac).toBe(crypto.createHmac('sha256', 'k').update('v').digest('hex'));
    expect(seen.cancelled).toBe('QueryCanceled');
  });
});

// Runs in the child: results read in chunks (libpq 17+) and merged into one, at the edges of
// a chunk (8192 rows), with object rows and arrays, and cut short by an error.
const chunkScript = `
const path = require('path');
const pqnode = require(path.join(process.env.PACKAGE_ROOT, 'dist', 'index.js'));
(async () => {
  const conn = await pqnode.connect(process.env.TCP_DSN, { autocommit: true });
  const out = {};
  for (const n of [0, 1, 8191, 8192, 8193, 16384, 20000]) {
    const text = 'select g, g::text as t, g % 2 = 0 as even from generate_series(1, ' + n + ') g';
    const objects = await conn.query(text);
    const tuples = await conn.query(text, undefined, { rowFactory: 'tuple' });
    const inOrder = objects.rows.every((row, i) => row.g === i + 1 && row.t === String(i + 1) && row.even === ((i + 1) % 2 === 0))
      && tuples.rows.every((row, i) => row[0] === i + 1 && row[1] === String(i + 1));
    out[n] = { objects: objects.rows.length, tuples: tuples.rows.length, rowCount: objects.rowCount,
      statusMessage: objects.statusMessage, tupleStatus: tuples.statusMessage, inOrder };
  }
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
    for (const n of [0, 1, 8191, 8192, 8193, 16384, 20000]) {
      expect(seen[n]).toEqual({ objects: n, tuples: n, rowCount: n, statusMessage: `SELECT ${n}`, tupleStatus: `SELECT ${n}`, inOrder: true });
    }
    expect(seen.json).toEqual({ rows: 10000, last: { g: 10000, j: { g: 10000 } } });
    expect(seen.error).toBe('DivisionByZero');
    expect(seen.mixed).toEqual([10, 9000, 7, 8192]);
    expect(seen.insert).toBe('SELECT 9000');
    expect(seen.returning).toBe(9000);
  });
});

/** The dynamic symbols of a binary, as `nm -D` lists them: [type, name@version] pairs. */
function dynamicSymbols(binary: string, which: '--defined-only' | '--undefined-only'): [string, string][] {
  let output: string;
  try {
    output = execFileSync('nm', ['-D', which, binary], { encoding: 'utf8' });
  } catch (error) {
    throw new Error('the nm command (binutils) reads the binary\'s symbols: install it (apt-get install binutils)', { cause: error });
  }
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/).slice(-2) as [string, string])
    .filter((fields) => fields.length === 2 && fields[1] !== undefined);
}

describe.runIf(onLinuxX64)('the linux-x64 prebuilt binary keeps libpq and OpenSSL to itself', () => {
  const binary = path.join(root, 'prebuilds', 'linux-x64', 'pqnode.glibc.node');

  it('exports nothing but its N-API entry points', () => {
    // an exported SSL_* or PQ* could be interposed by Node's own OpenSSL, or interpose it
    const exported = dynamicSymbols(binary, '--defined-only').map(([, name]) => name.replace(/@.*/, ''));
    expect(exported.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
  });

  it('takes from outside only N-API, libuv and the C runtime', () => {
    const foreign = dynamicSymbols(binary, '--undefined-only')
      // weak references (hooks of the C++ runtime) are null when nothing provides them
      .filter(([type]) => type !== 'w')
      .map(([, name]) => name)
      // versioned: glibc and libgcc
      .filter((name) => !name.includes('@'))
      .filter((name) => !/^(napi_|node_api_|uv_)/.test(name));
    expect(foreign).toEqual([]);
  });
});

describe.runIf(onLinuxX64)('the linux-x64 prebuilt binary loads wherever Node 20 does', () => {
  const binary = path.join(root, 'prebuilds', 'linux-x64', 'pqnode.glibc.node');

  it('asks for no glibc newer than 2.28 and for no libstdc++ at all', () => {
    const versions = dynamicSymbols(binary, '--undefined-only')
      .map(([, name]) => /@(GLIBC|GLIBCXX|CXXABI)_([\d.]+)/.exec(name))
      .filter((match) => match !== null)
      .map((match) => [match[1], match[2].split('.').map(Number)] as const);
    expect(versions.filter(([library]) => library !== 'GLIBC')).toEqual([]);
    const newest = versions.map(([, version]) => version).reduce((a, b) => (a[0] * 1000 + a[1] >= b[0] * 1000 + b[1] ? a : b));
    expect(newest[0] * 1000 + newest[1], `needs GLIBC_${newest.join('.')}`).toBeLessThanOrEqual(2028);
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
