// Finding the addon: when nothing fits this machine, or what was found does not load, the
// error says what was looked for and the commands that build a binary from source.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { currentTarget, loadNative, noBinaryError } from '../lib/native-loader';
import { thrownBy } from './helpers';

const root = path.join(__dirname, '..');
const temporaryDirs: string[] = [];

function emptyPackage(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-loader-'));
  temporaryDirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of temporaryDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function expectBuildInstructions(message: string): void {
  expect(message).toContain('npm install-scripts approve pqnode && npm rebuild pqnode');
  expect(message).toContain('npm run build:source');
  expect(message).toContain('apt-get install libpq-dev');
  expect(message).toContain('dnf install libpq-devel');
  expect(message).toContain('brew install libpq');
  expect(message).toContain('PQNODE_PG_CONFIG');
}

describe('the native loader', () => {
  it('names the platform looked for, where, and how to build from source when nothing fits', () => {
    const dir = emptyPackage();
    const error = thrownBy(() => loadNative(dir));
    const target = currentTarget();
    expect(error.message).toMatch(/^pqnode: no native binary for /);
    expect(error.message).toContain(`${target.platform}-${target.arch}`);
    if (target.libc !== undefined) expect(error.message).toContain(`(${target.libc})`);
    expect(error.message).toContain(path.join(dir, 'build', 'Release'));
    expect(error.message).toContain(path.join(dir, 'prebuilds', `${target.platform}-${target.arch}`));
    expect(error.message).toContain('no prebuilt binaries');
    expectBuildInstructions(error.message);
  });

  it('lists the platforms the package does ship when this one is not among them', () => {
    const dir = emptyPackage();
    for (const platform of ['darwin-arm64', 'win32-x64']) {
      fs.mkdirSync(path.join(dir, 'prebuilds', platform), { recursive: true });
      fs.writeFileSync(path.join(dir, 'prebuilds', platform, 'pqnode.node'), '');
    }
    const message = noBinaryError(dir, { platform: 'freebsd', arch: 'riscv64' }).message;
    expect(message).toContain('no native binary for freebsd-riscv64');
    expect(message).toContain('ships prebuilt binaries for: darwin-arm64, win32-x64');
    expectBuildInstructions(message);
  });

  it('does not take a musl system for a glibc one', () => {
    const message = noBinaryError(root, { platform: 'linux', arch: 'x64', libc: 'musl' }).message;
    expect(message).toContain('no native binary for linux-x64 (musl)');
    expect(message).toContain('ships prebuilt binaries for: linux-arm64, linux-x64, win32-x64');
  });

  it('explains a binary that is found but does not load, keeping the cause', (context) => {
    // the Node-version runs in CI load the prebuilt binaries only
    context.skip(process.env.PREBUILDS_ONLY !== undefined, 'PREBUILDS_ONLY is set: build/ is not looked at');
    const dir = emptyPackage();
    const binary = path.join(dir, 'build', 'Release', 'pqnode.node');
    fs.mkdirSync(path.dirname(binary), { recursive: true });
    fs.writeFileSync(binary, 'not an ELF file');
    const error = thrownBy(() => loadNative(dir));
    expect(error.message).toContain(`the native binary ${binary} did not load`);
    expect(error.message).toContain('needs, at run time, the libpq it was built against');
    expect(error.cause).toBeInstanceOf(Error);
    expectBuildInstructions(error.message);
  });

  it('points a broken prebuilt binary at its glibc needs', () => {
    const dir = emptyPackage();
    const target = currentTarget();
    const folder = path.join(dir, 'prebuilds', `${target.platform}-${target.arch}`);
    fs.mkdirSync(folder, { recursive: true });
    fs.writeFileSync(path.join(folder, 'pqnode.node'), 'truncated');
    const error = thrownBy(() => loadNative(dir));
    expect(error.message).toContain('did not load');
    expect(error.message).toContain('glibc 2.28');
  });

  it('loads the package\'s own binary', () => {
    const binding = loadNative<{ libpqVersion(): number }>(root);
    expect(binding.libpqVersion()).toBeGreaterThanOrEqual(140000);
  });
});
