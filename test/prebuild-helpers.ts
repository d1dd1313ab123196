// Shared by the prebuilt-binary tests: a package folder as users install it, the server's
// certificate, and what test/prebuild-check.cjs must have seen for a binary to count as working.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';

export const repositoryRoot = path.join(__dirname, '..');
export const checkScript = path.join(__dirname, 'prebuild-check.cjs');

/** dist/ compiled into dir, with a package.json: a package as installed, without binaries. */
export function makeBarePackage(dir: string): void {
  execFileSync(
    process.execPath,
    [
      path.join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      path.join(repositoryRoot, 'tsconfig.build.json'),
      '--outDir',
      path.join(dir, 'dist'),
      '--sourceMap',
      'false',
      '--declaration',
      'false',
    ],
    { stdio: 'ignore' },
  );
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'pqnode', main: 'dist/index.js' }));
}

/** A self-signed certificate for localhost, made with the openssl command. */
export function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost', '-keyout', key, '-out', cert],
      { stdio: 'ignore' },
    );
  } catch (error) {
    throw new Error("the openssl command makes the SSL test's certificate: install it (apt-get install openssl)", { cause: error });
  }
  return { cert, key };
}

/** the URI with one more query parameter */
export function withParameter(uri: string, parameter: string): string {
  return `${uri}${uri.includes('?') ? '&' : '?'}${parameter}`;
}

/** What test/prebuild-check.cjs reports. */
export interface PrebuiltCheck {
  platform: string;
  node: string;
  binaries: string[];
  /** the glibc the process runs on; absent off Linux */
  glibc?: string;
  libpqVersion: number;
  features: Record<string, boolean>;
  tcp: { ssl: boolean; rows: { answer: number }[] };
  pipeline: { first: { one: number }[]; failing: string; skipped: string; after: { echoed: string }[] };
  concurrent: number[];
  sslQueries: number[];
  echo: { echoed: string; protocol: string; authorized: boolean };
  digest: string;
  hmac: string;
  ssl: boolean;
  pgStatSsl: { ssl: boolean; version: string };
  cancelled: string;
  afterCancel: { seven: number }[];
}

/** The binary loaded, and libpq 18 and its OpenSSL did all the check asked, beside Node's own. */
export function expectWorkingPrebuilt(seen: PrebuiltCheck, platform: string, binaryName: string): void {
  expect(seen.platform).toBe(platform);
  expect(seen.binaries.map((file) => path.basename(file.replace(/\\/g, '/')))).toEqual([binaryName]);
  expect(seen.binaries[0].replace(/\\/g, '/')).toContain(`prebuilds/${platform}/`);
  // libpq 18 linked in, with every newer feature pqnode uses
  expect(seen.libpqVersion).toBeGreaterThanOrEqual(180000);
  expect(seen.libpqVersion).toBeLessThan(190000);
  expect(seen.features).toEqual({ pipeline: true, chunkedRows: true, cancelCreate: true, sendPipelineSync: true, closePrepared: true });
  expect(seen.tcp).toEqual({ ssl: false, rows: [{ answer: 42 }] });
  expect(seen.pipeline).toEqual({ first: [{ one: 1 }], failing: 'DivisionByZero', skipped: 'PipelineAborted', after: [{ echoed: 'after the sync' }] });
  expect(seen.concurrent).toEqual(Array.from({ length: 50 }, (_, i) => i));
  expect(seen.ssl).toBe(true);
  expect(seen.pgStatSsl.ssl).toBe(true);
  expect(seen.pgStatSsl.version).toMatch(/^TLSv1\.[23]$/);
  expect(seen.sslQueries).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
  expect(seen.echo).toEqual({ echoed: 'hello over node tls', protocol: 'TLSv1.3', authorized: true });
  expect(seen.digest).toBe(crypto.createHash('sha256').update('pqnode').digest('hex'));
  expect(seen.hmac).toBe(crypto.createHmac('sha256', 'k').update('v').digest('hex'));
  expect(seen.cancelled).toBe('QueryCanceled');
  expect(seen.afterCancel).toEqual([{ seven: 7 }]);
}

/** The global dynamic symbols of an ELF binary of any architecture: [GLOBAL or WEAK, name@version] pairs. */
export function elfDynamicSymbols(binary: string, which: 'defined' | 'undefined'): [string, string][] {
  let output: string;
  try {
    // readelf reads every architecture's ELF files, where nm may know only the host's
    output = execFileSync('readelf', ['--dyn-syms', '--wide', binary], { encoding: 'utf8' });
  } catch (error) {
    throw new Error("the readelf command (binutils) reads the binary's symbols: install it (apt-get install binutils)", { cause: error });
  }
  const symbols: [string, string][] = [];
  for (const line of output.split('\n')) {
    // Num: Value Size Type Bind Vis Ndx Name
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8 || !/^\d+:$/.test(fields[0]) || fields[4] === 'LOCAL') continue;
    const undefinedSymbol = fields[6] === 'UND';
    if (undefinedSymbol !== (which === 'undefined')) continue;
    symbols.push([fields[4], fields[7]]);
  }
  return symbols;
}

/** The newest glibc version, as major * 1000 + minor, that the binary's symbols ask for. */
export function newestGlibc(binary: string): { version: number; name: string; others: string[] } {
  const versions = elfDynamicSymbols(binary, 'undefined')
    .map(([, name]) => /@(GLIBC|GLIBCXX|CXXABI)_([\d.]+)/.exec(name))
    .filter((match) => match !== null);
  const others = versions.filter((match) => match[1] !== 'GLIBC').map((match) => match[0]);
  let newest = { version: 0, name: '' };
  for (const match of versions.filter((m) => m[1] === 'GLIBC')) {
    const [major, minor] = match[2].split('.').map(Number);
    const version = major * 1000 + minor;
    if (version > newest.version) newest = { version, name: `GLIBC_${match[2]}` };
  }
  return { ...newest, others };
}
