// What `npm install pqnode` gets: the package holds what users need (compiled JS and types,
// the prebuilt binaries, the sources of a source build) and nothing else, and each
// prebuilt binary is the one the current native sources make.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const root = path.join(__dirname, '..');

interface PackFile {
  path: string;
  size: number;
}

let packed: PackFile[] = [];

function packedPaths(): string[] {
  return packed.map((file) => file.path);
}

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'index.js'))) {
    execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'ignore' });
  }
  // --ignore-scripts: `prepare` would rebuild dist/ while other test files read it
  const output = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const reports = JSON.parse(output) as { files: PackFile[] }[];
  packed = reports[0]?.files ?? [];
}, 60_000);

describe('the npm package', () => {
  it('ships the compiled JS, its types and the ES module entry', () => {
    const paths = packedPaths();
    for (const file of ['dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/native.js', 'dist/native-loader.js']) {
      expect(paths).toContain(file);
    }
  });

  it.each([
    ['linux-x64', 'pqnode.glibc.node'],
    ['linux-arm64', 'pqnode.glibc.node'],
    ['win32-x64', 'pqnode.node'],
  ])('ships the %s prebuilt binary, with the versions it was built from', (platform, name) => {
    const binary = packed.find((file) => file.path === `prebuilds/${platform}/${name}`);
    expect(binary, `prebuilds/${platform}/${name} is not in the package`).toBeDefined();
    // libpq and OpenSSL are linked in: a binary of a few hundred KB would be a dynamic one
    expect(binary?.size).toBeGreaterThan(2_000_000);
    expect(packedPaths()).toContain(`prebuilds/${platform}/inputs.txt`);
  });

  it('ships everything a source build needs', () => {
    const paths = packedPaths();
    const sources = fs
      .readdirSync(path.join(root, 'src-native'), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
    expect(sources.length).toBeGreaterThan(10);
    for (const file of [...sources, 'binding.gyp', 'package.json', 'README.md', 'LICENSE']) {
      expect(paths).toContain(file);
    }
  });

  it('ships nothing else: no tests, scripts, TypeScript sources, builds or node_modules', () => {
    const allowed = /^(dist\/|prebuilds\/|src-native\/|binding\.gyp$|package\.json$|README\.md$|LICENSE$)/;
    expect(packedPaths().filter((file) => !allowed.test(file))).toEqual([]);
    for (const prefix of ['test/', 'node_modules/', 'build/', 'lib/', 'scripts/', 'examples/', '.ci/']) {
      expect(packedPaths().filter((file) => file.startsWith(prefix))).toEqual([]);
    }
  });

  it('loads the prebuilt binary with no install script and no compiler', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    // npm 11 skips a dependency's install script unless the user allows it, so the
    // script may only ever be the fallback: node-gyp-build does nothing when a binary loads
    expect(manifest.scripts.install).toBe('node-gyp-build');
    expect(Object.keys(manifest.dependencies)).toContain('node-gyp-build');
  });
});

describe('prebuilt binaries', () => {
  it('each was built from the native sources as they are now', async () => {
    const specifier: string = '../scripts/native-sources-hash.mjs';
    const { nativeSourcesHash } = (await import(specifier)) as { nativeSourcesHash(): string };
    const current = nativeSourcesHash();
    const prebuilds = path.join(root, 'prebuilds');
    const platforms = fs.readdirSync(prebuilds).filter((name) => fs.statSync(path.join(prebuilds, name)).isDirectory());
    expect(platforms.sort()).toEqual(['linux-arm64', 'linux-x64', 'win32-x64']);
    for (const platform of platforms) {
      const stamp = path.join(prebuilds, platform, 'sources.sha256');
      const built = fs.existsSync(stamp) ? fs.readFileSync(stamp, 'utf8').trim() : 'no sources.sha256';
      expect(built, `prebuilds/${platform} is older than src-native/ or binding.gyp: run npm run build:prebuild -- --all`).toBe(current);
    }
  });
});
