// Runs scripts/native-smoke.mjs under valgrind's memcheck against a throwaway server (or
// $PQNODE_TEST_DSN) and fails on any memory error, or on a definite leak whose stack goes
// through the addon or libpq. Node's own leaks at exit are not ours to judge.
//
//   npm run test:memcheck          (PQNODE_SMOKE_ROUNDS=n for more rounds)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from './test-server.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OURS = /pqnode\.node|libpq/;

function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env });
    child.once('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** The definitely-lost records of a memcheck log whose stacks name the addon or libpq. */
export function ourDefiniteLeaks(log) {
  const records = log.split(/\n(?===\d+== \S.* are definitely lost)/);
  return records
    .filter((record) => /are definitely lost/.test(record))
    .map((record) => record.split(/\n==\d+== \n/)[0])
    .filter((record) => OURS.test(record));
}

async function main() {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.error('memcheck: valgrind is not installed (apt-get install valgrind)');
    return 2;
  }
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    console.error('memcheck: dist/ is missing; run npm run build:ts first');
    return 2;
  }
  let server = null;
  let dsn = process.env.PQNODE_TEST_DSN;
  if (!dsn) {
    server = await startTestServer();
    dsn = server.dsn;
  }
  const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-memcheck-')), 'memcheck.log');
  try {
    const args = [
      '--tool=memcheck',
      '--leak-check=full',
      '--show-leak-kinds=definite',
      // leaks are judged below, by whose they are; everything else is an error
      '--errors-for-leak-kinds=none',
      '--track-origins=yes',
      '--num-callers=30',
      // a worker that alone loaded the addon unloads it (and libpq) when it ends: its stacks stay readable
      '--keep-debuginfo=yes',
      `--suppressions=${path.join(ROOT, 'scripts', 'memcheck.supp')}`,
      `--log-file=${logFile}`,
      process.execPath,
      '--expose-gc',
      path.join(ROOT, 'scripts', 'native-smoke.mjs'),
    ];
    const started = Date.now();
    const code = await run('valgrind', args, { ...process.env, PQNODE_TEST_DSN: dsn });
    const log = fs.readFileSync(logFile, 'utf8');
    const summary = /ERROR SUMMARY: (\d+) errors? from (\d+) contexts?/.exec(log);
    const errors = summary ? Number(summary[1]) : NaN;
    const leaks = ourDefiniteLeaks(log);
    const lost = /definitely lost: ([\d,]+) bytes in ([\d,]+) blocks/.exec(log);
    console.log(`memcheck: ${summary ? summary[0] : 'no error summary'}`);
    console.log(`memcheck: definitely lost in all of node: ${lost ? `${lost[1]} bytes in ${lost[2]} blocks` : 'nothing'}; through pqnode.node or libpq: ${leaks.length} records`);
    console.log(`memcheck: ${((Date.now() - started) / 1000).toFixed(0)} s under valgrind, log in ${logFile}`);
    if (code !== 0) {
      console.error(`memcheck: the smoke script exited with ${code}`);
      return 1;
    }
    if (!(errors === 0)) {
      const first = log.split('\n').filter((line) => /^==\d+== (Invalid|Conditional|Use of|Syscall|Mismatched)/.test(line)).slice(0, 10);
      console.error(`memcheck: memory errors found:\n${first.join('\n')}`);
      return 1;
    }
    if (leaks.length > 0) {
      console.error(`memcheck: definite leaks in pqnode or libpq:\n${leaks.slice(0, 5).join('\n\n')}`);
      return 1;
    }
    return 0;
  } finally {
    await server?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`memcheck: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
