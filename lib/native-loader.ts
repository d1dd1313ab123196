// Finds the addon for this machine (a local build first, then a prebuilt binary) and, when
// there is none or it does not load, says what was looked for and how to build one.
import fs from 'node:fs';
import path from 'node:path';
import { messageOf } from './thrown';

interface NodeGypBuild {
  (dir: string): unknown;
  /** the binary's path; throws "No native build was found ..." when nothing fits */
  resolve(dir: string): string;
}

/** What node-gyp-build matches binaries against: platform, architecture and C library. */
export interface NativeTarget {
  platform: string;
  arch: string;
  /** 'glibc' or 'musl' on Linux, absent elsewhere */
  libc?: string;
}

/** The target as node-gyp-build reckons it (its environment overrides included). */
export function currentTarget(): NativeTarget {
  const platform = process.env.npm_config_platform ?? process.platform;
  const arch = process.env.npm_config_arch ?? process.arch;
  if (platform !== 'linux') return { platform, arch };
  const libc = process.env.LIBC ?? (fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc');
  return { platform, arch, libc };
}

function describeTarget(target: NativeTarget): string {
  return `${target.platform}-${target.arch}${target.libc === undefined ? '' : ` (${target.libc})`}`;
}

/** The platform folders under prebuilds/ with at least one binary, e.g. ['linux-x64']. */
function shippedPrebuilds(packageDir: string): string[] {
  const prebuilds = path.join(packageDir, 'prebuilds');
  let folders: string[];
  try {
    folders = fs.readdirSync(prebuilds);
  } catch {
    return [];
  }
  return folders.filter((folder) => {
    try {
      return fs.readdirSync(path.join(prebuilds, folder)).some((file) => file.endsWith('.node'));
    } catch {
      return false;
    }
  });
}

const BUILD_FROM_SOURCE = [
  'To build it from source, install the libpq headers with pg_config and a C++ toolchain:',
  '  Debian, Ubuntu:  sudo apt-get install libpq-dev build-essential python3',
  '  Fedora, RHEL:    sudo dnf install libpq-devel gcc-c++ make python3',
  '  Alpine:          apk add postgresql-dev build-base python3',
  '  macOS:           brew install libpq && export PQNODE_PG_CONFIG="$(brew --prefix libpq)/bin/pg_config"',
  '(PQNODE_PG_CONFIG names the pg_config to build against when it is not the first on the PATH.)',
  'Then, in the project that depends on pqnode:',
  '  npm install-scripts approve pqnode && npm rebuild pqnode',
  'or, in a clone of pqnode itself:',
  '  npm run build:source',
].join('\n');

/** The error for "nothing fits": what was looked for, where, and the commands that fix it. */
export function noBinaryError(packageDir: string, target: NativeTarget = currentTarget()): Error {
  const shipped = shippedPrebuilds(packageDir);
  const lines = [
    `pqnode: no native binary for ${describeTarget(target)} (Node ${process.versions.node}, N-API ${process.versions.napi}).`,
    `Looked for a source build in ${path.join(packageDir, 'build', 'Release')} and a prebuilt binary in ` +
      `${path.join(packageDir, 'prebuilds', `${target.platform}-${target.arch}`)}.`,
    shipped.length > 0
      ? `This package ships prebuilt binaries for: ${shipped.join(', ')}.`
      : 'This copy of the package has no prebuilt binaries.',
    BUILD_FROM_SOURCE,
  ];
  return new Error(lines.join('\n'));
}

function loadFailedError(binary: string, cause: unknown): Error {
  const reason = messageOf(cause);
  const prebuilt = binary.split(path.sep).includes('prebuilds');
  const lines = [
    `pqnode: the native binary ${binary} did not load: ${reason}`,
    prebuilt
      ? 'The prebuilt Linux binaries need glibc 2.28 or newer, as Node 20 itself does.'
      : 'A source build needs, at run time, the libpq it was built against.',
    BUILD_FROM_SOURCE,
  ];
  return new Error(lines.join('\n'), { cause });
}

/**
 * Loads the addon of the package rooted at packageDir: build/Release when a developer has
 * built one, else the prebuilt binary for this platform. node-gyp-build's own environment
 * variables apply (PREBUILDS_ONLY=1 skips build/, PQNODE_PREBUILD names another root).
 */
export function loadNative<Binding>(packageDir: string): Binding {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodeGypBuild = require('node-gyp-build') as NodeGypBuild;
  let binary: string;
  try {
    binary = nodeGypBuild.resolve(packageDir);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('No native build was found')) {
      throw noBinaryError(packageDir);
    }
    throw error;
  }
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(binary) as Binding;
  } catch (error) {
    throw loadFailedError(binary, error);
  }
}
