// The prebuilt binaries for other platforms, run where they would run: the linux-arm64 one in
// an arm64 Node 20 under qemu (user-mode emulation), the win32-x64 one in node.exe under wine.
// Each loads from an installed package's prebuilds/ and connects, queries, pipelines, uses SSL
// and cancels against this machine's test server (test/prebuild-check.cjs).
//
// The Nodes are npm packages kept in the prebuild cache (scripts/prebuild-cache.mjs). Where
// qemu, the arm64 C runtime or that Node are missing the arm64 test is skipped and says why;
// CI installs them and fails instead. The Windows test takes a while (wine starts a Windows
// of its own) and runs with `npm run verify:prebuilds`, which also turns skips into failures.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';

import { loadTestServerModule, type TestServer } from './helpers';
import {
  checkScript,
  expectWorkingPrebuilt,
  makeBarePackage,
  makeCertificate,
  repositoryRoot as root,
  withParameter,
  type PrebuiltCheck,
} from './prebuild-helpers';

interface PrebuildCache {
  cachedInput(name: string): string | undefined;
  cacheDir(): string;
}

/** `npm run verify:prebuilds`: every check runs, and one that cannot fails */
const verifyAll = process.env.PQNODE_VERIFY_PREBUILDS === '1';
/** CI provides what the arm64 check needs: missing, it is an error */
const arm64Required = verifyAll || Boolean(process.env.CI);

let cache: PrebuildCache;
let workDir = '';
let installedRoot = '';
let server: TestServer | undefined;
let certFiles = { cert: '', key: '' };

beforeAll(async () => {
  const specifier: string = '../scripts/prebuild-cache.mjs';
  cache = (await import(specifier)) as PrebuildCache;
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-platforms-'));
  installedRoot = path.join(workDir, 'installed');
  makeBarePackage(installedRoot);
  fs.cpSync(path.join(root, 'prebuilds'), path.join(installedRoot, 'prebuilds'), { recursive: true });
  certFiles = makeCertificate(workDir);
  const { startTestServer } = await loadTestServerModule();
  server = await startTestServer({ ssl: certFiles });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (workDir !== '') fs.rmSync(workDir, { recursive: true, force: true });
});

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir !== '' && fs.existsSync(path.join(dir, command)));
}

/** Skips the test with the reason, or fails with it where the check is required. */
function unavailable(context: TestContext, reason: string, required: boolean): never {
  if (required) throw new Error(reason);
  return context.skip(reason);
}

/**
 * Runs the check script with a command line, reading its JSON from outFile (named to the
 * child as childPath says, e.g. as a Windows path).
 */
function runCheck(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeout: number,
  outFile: string,
  childPath: (file: string) => string = (file) => file,
): PrebuiltCheck {
  // Node's stdio on a pipe fails under wine (EBADF): its output goes to a file as well
  const logFile = `${outFile}.log`;
  const log = fs.openSync(logFile, 'w');
  let failure = '';
  try {
    execFileSync(command, args, {
      cwd: workDir,
      env: { ...process.env, ...env, OUT_FILE: childPath(outFile) },
      stdio: ['ignore', log, log],
      timeout,
    });
  } catch (error) {
    const failed = error as { status: number | null; signal: string | null };
    failure = `${command} exited with ${failed.status ?? failed.signal}: ${fs.readFileSync(logFile, 'utf8')}`;
  } finally {
    fs.closeSync(log);
  }
  const written = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '';
  const seen = written === '' ? { error: failure || 'no output' } : (JSON.parse(written) as PrebuiltCheck | { error: string });
  if ('error' in seen) throw new Error(`the check failed: ${seen.error}\n${failure}`);
  expect(failure).toBe('');
  return seen;
}

/** Runs the check in the arm64 Node under qemu, with the C runtime of the root given. */
function runArm64Check(libraryDirs: string[], sysroot: string, nodeDir: string, name: string): PrebuiltCheck {
  return runCheck(
    'qemu-aarch64-static',
    // -L alone leaves Node hanging in pthread_create: the loader must search the root too
    ['-L', sysroot, '-E', `LD_LIBRARY_PATH=${libraryDirs.join(':')}`, path.join(nodeDir, 'bin', 'node'), checkScript],
    {
      PACKAGE_ROOT: installedRoot,
      NODE_PATH: path.join(root, 'node_modules'),
      TCP_DSN: withParameter(server!.dsn, 'sslmode=disable'),
      SSL_DSN: withParameter(server!.dsn, 'sslmode=require'),
      CERT: certFiles.cert,
      KEY: certFiles.key,
    },
    150_000,
    path.join(workDir, `${name}.json`),
  );
}

function arm64Node(context: TestContext, required: boolean): string {
  if (!onPath('qemu-aarch64-static')) {
    unavailable(context, 'qemu-aarch64-static is not installed (Debian: apt-get install qemu-user-static)', required);
  }
  const nodeDir = cache.cachedInput('node20-linux-arm64');
  if (nodeDir === undefined) {
    unavailable(context, 'the arm64 Node is not in the prebuild cache: node scripts/prebuild-cache.mjs node20-linux-arm64', required);
  }
  return nodeDir;
}

describe('the linux-arm64 prebuilt binary', () => {
  it('works in an arm64 Node 20 under qemu: connects, queries, pipelines, uses SSL and cancels', (context) => {
    const sysroot = '/usr/aarch64-linux-gnu';
    const nodeDir = arm64Node(context, arm64Required);
    if (!fs.existsSync(path.join(sysroot, 'lib', 'ld-linux-aarch64.so.1')) || !fs.existsSync(path.join(sysroot, 'lib', 'libstdc++.so.6'))) {
      unavailable(context, `no arm64 C and C++ runtime in ${sysroot} (Debian: apt-get install libc6-arm64-cross libstdc++6-arm64-cross)`, arm64Required);
    }
    const seen = runArm64Check([`${sysroot}/lib`], sysroot, nodeDir, 'arm64-check');
    expect(seen.node).toMatch(/^20\./);
    expect(seen.binaries).toEqual([path.join(installedRoot, 'prebuilds', 'linux-arm64', 'pqnode.glibc.node')]);
    expectWorkingPrebuilt(seen, 'linux-arm64', 'pqnode.glibc.node');
  }, 180_000);

  it('works on an arm64 Debian 11 (glibc 2.31) as well', (context) => {
    // an arm64 Debian 11 root made by debootstrap: scripts/verify-debian11-arm64.sh
    const debian11 = process.env.PQNODE_DEBIAN11_ARM64_ROOT;
    if (debian11 === undefined) unavailable(context, 'runs with npm run verify:prebuilds -- --debian11', false);
    const nodeDir = arm64Node(context, true);
    const libraryDirs = [`${debian11}/lib/aarch64-linux-gnu`, `${debian11}/usr/lib/aarch64-linux-gnu`];
    const seen = runArm64Check(libraryDirs, debian11, nodeDir, 'debian11-check');
    expectWorkingPrebuilt(seen, 'linux-arm64', 'pqnode.glibc.node');
    expect(seen.glibc).toBe('2.31');
  }, 180_000);
});

/** a path as a Windows program under wine sees it: the Unix root is drive Z: */
function windowsPath(unixPath: string): string {
  return `Z:${unixPath.replace(/\//g, '\\')}`;
}

describe('the win32-x64 prebuilt binary', () => {
  it('works in node.exe 20 under wine: connects, queries, pipelines, uses SSL and cancels', (context) => {
    if (!verifyAll) unavailable(context, 'runs with npm run verify:prebuilds (wine is slow to start)', false);
    const wine = ['wine64', 'wine'].find(onPath);
    if (wine === undefined) unavailable(context, 'wine is not installed (Debian: apt-get install wine wine64)', verifyAll);
    const nodeDir = cache.cachedInput('node20-win32-x64');
    if (nodeDir === undefined) {
      unavailable(context, 'node.exe is not in the prebuild cache: node scripts/prebuild-cache.mjs node20-win32-x64', verifyAll);
    }
    // a Windows of its own in the cache, made once, as Windows 10
    const prefix = path.join(cache.cacheDir(), 'wine-prefix');
    const wineEnv = { WINEPREFIX: prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
    if (!fs.existsSync(path.join(prefix, 'system.reg'))) {
      execFileSync(wine, ['winecfg', '-v', 'win10'], { env: { ...process.env, ...wineEnv }, stdio: 'ignore', timeout: 300_000 });
    }
    const seen = runCheck(
      wine,
      [path.join(nodeDir, 'bin', 'node.exe'), windowsPath(checkScript)],
      {
        ...wineEnv,
        PACKAGE_ROOT: windowsPath(installedRoot),
        NODE_PATH: windowsPath(path.join(root, 'node_modules')),
        // libpq's look for a client certificate under %APPDATA% fails under wine
        TCP_DSN: withParameter(server!.dsn, 'sslmode=disable&sslcertmode=disable'),
        SSL_DSN: withParameter(server!.dsn, 'sslmode=require&sslcertmode=disable'),
        CERT: windowsPath(certFiles.cert),
        KEY: windowsPath(certFiles.key),
      },
      300_000,
      // Node's writes to a pipe fail under wine: the result goes to a file
      path.join(workDir, 'windows-check.json'),
      windowsPath,
    );
    expect(seen.node).toMatch(/^20\./);
    expectWorkingPrebuilt(seen, 'win32-x64', 'pqnode.node');
  }, 420_000);
});

/** The DLLs a PE binary imports, and the names it exports, as objdump -p lists them. */
function peTables(binary: string): { dlls: Record<string, string[]>; exported: string[] } {
  let output: string;
  try {
    // binutils' objdump reads Windows binaries too
    // (its unwind tables make the listing long)
    output = execFileSync('objdump', ['-p', binary], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  } catch (error) {
    throw new Error("the objdump command (binutils) reads the binary's tables: install it (apt-get install binutils)", { cause: error });
  }
  const dlls: Record<string, string[]> = {};
  let current: string[] | undefined;
  let inExports = false;
  const exported: string[] = [];
  for (const line of output.split('\n')) {
    const dll = /^\s*DLL Name: (\S+)/.exec(line);
    if (dll) {
      current = dlls[dll[1].toLowerCase()] = [];
      continue;
    }
    if (line.startsWith('[Ordinal/Name Pointer] Table')) {
      inExports = true;
      current = undefined;
      continue;
    }
    const exportName = /^\s*\[\s*\d+\] (\S+)$/.exec(line);
    if (inExports && exportName) exported.push(exportName[1]);
    else if (inExports && line.trim() === '') inExports = false;
    const imported = /^\s*[0-9a-f]+\s+\d+\s+(\S+)$/.exec(line);
    if (current && imported) current.push(imported[1]);
  }
  return { dlls, exported };
}

describe('the win32-x64 prebuilt binary stands alone', () => {
  const binary = path.join(root, 'prebuilds', 'win32-x64', 'pqnode.node');

  it("needs only Windows' own DLLs and node.exe: no MSVC runtime, no libpq or OpenSSL DLL", () => {
    const { dlls } = peTables(binary);
    expect(Object.keys(dlls).sort()).toEqual(['advapi32.dll', 'kernel32.dll', 'msvcrt.dll', 'node.exe', 'secur32.dll', 'shell32.dll', 'user32.dll', 'ws2_32.dll']);
    // of Node, only Node-API and libuv
    expect(dlls['node.exe'].filter((name) => !/^(napi_|node_api_|uv_)/.test(name))).toEqual([]);
    expect(dlls['node.exe']).toContain('uv_poll_init_socket');
  });

  it('exports nothing but its N-API entry points', () => {
    expect(peTables(binary).exported.sort()).toEqual(['napi_register_module_v1', 'node_api_module_get_api_version_v1']);
  });
});
