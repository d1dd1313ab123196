// The prebuild cache: the large npm packages the prebuilt binaries are built and checked
// with (Node binaries for other platforms, static libpq), fetched on demand with `npm pack`
// at the versions scripts/prebuild-inputs.json pins, and unpacked outside the repository.
// `npm pack` rather than `npm install`: these packages are for other platforms (npm would
// refuse them) and their install scripts are not wanted.
//
//   node scripts/prebuild-cache.mjs NAME...   fetches what is missing, prints each directory
//   node scripts/prebuild-cache.mjs --all     the same for every input
//
// The cache is $PQNODE_PREBUILD_CACHE, else $XDG_CACHE_HOME/pqnode-prebuild, else
// ~/.cache/pqnode-prebuild.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

/** scripts/prebuild-inputs.json */
export function prebuildInputs() {
  return JSON.parse(fs.readFileSync(path.join(root, 'scripts', 'prebuild-inputs.json'), 'utf8'));
}

export function cacheDir() {
  if (process.env.PQNODE_PREBUILD_CACHE) return path.resolve(process.env.PQNODE_PREBUILD_CACHE);
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'pqnode-prebuild');
}

function spec(name) {
  const input = prebuildInputs().npm[name];
  if (input === undefined) throw new Error(`prebuild-cache: no input named ${name} in scripts/prebuild-inputs.json`);
  return input;
}

/** Where the input's package is unpacked (its package.json is inside), fetched or not. */
export function inputDir(name) {
  const { package: pkg, version } = spec(name);
  return path.join(cacheDir(), 'npm', `${pkg.replace('/', '+')}@${version}`);
}

/** The input's directory when it is in the cache already, else undefined; never fetches. */
export function cachedInput(name) {
  const dir = inputDir(name);
  return fs.existsSync(path.join(dir, 'package.json')) ? dir : undefined;
}

/** The input's directory, fetched with npm pack and unpacked first when missing. */
export function ensureInput(name) {
  const cached = cachedInput(name);
  if (cached !== undefined) return cached;
  const { package: pkg, version } = spec(name);
  const dir = inputDir(name);
  const staging = fs.mkdtempSync(path.join(cacheDir(), 'fetch-'));
  try {
    process.stderr.write(`prebuild-cache: npm pack ${pkg}@${version}\n`);
    const output = execFileSync('npm', ['pack', `${pkg}@${version}`, '--json', '--pack-destination', staging, '--ignore-scripts'], {
      cwd: staging,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const [{ filename, integrity }] = JSON.parse(output);
    const unpacked = path.join(staging, 'unpacked');
    fs.mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', path.join(staging, path.basename(filename)), '-C', unpacked, '--no-same-owner'], { stdio: 'inherit' });
    fs.writeFileSync(path.join(unpacked, 'package', '.integrity'), `${integrity}\n`);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(path.join(unpacked, 'package'), dir);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return dir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  const wanted = names.includes('--all') ? Object.keys(prebuildInputs().npm) : names;
  if (wanted.length === 0) {
    process.stderr.write(`usage: node scripts/prebuild-cache.mjs NAME... | --all\ninputs: ${Object.keys(prebuildInputs().npm).join(', ')}\n`);
    process.exit(2);
  }
  fs.mkdirSync(cacheDir(), { recursive: true });
  for (const name of wanted) process.stdout.write(`${ensureInput(name)}\n`);
}
