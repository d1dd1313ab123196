// Runs every example in order, each in a process of its own, and exits non-zero if any fails.
//
//   npm run example                       # against a throwaway server
//   PQNODE_TEST_DSN=postgresql://... node examples/tour.mjs
//   node examples/tour.mjs 05 07          # only the examples whose names start so
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

const EXAMPLES = [
  '01-connect-and-query.mjs',
  '02-cursor-and-parameters.mjs',
  '03-transactions.mjs',
  '04-errors.mjs',
  '05-copy.mjs',
  '06-listen-notify.mjs',
  '07-migrate-between-databases.mjs',
  '08-test-database-setup.mjs',
  '09-monitoring-queries.mjs',
  '10-concurrency.mjs',
  '11-pool.mjs',
  '12-postgis.mjs',
  '13-logical-replication.mjs',
];
const TIMEOUT_MS = 120_000;

function run(file) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [path.join(here, file)], { stdio: 'inherit', env: process.env });
    const timer = setTimeout(() => {
      console.error(`${file}: still running after ${TIMEOUT_MS / 1000} s, stopping it`);
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve({ file, ok: false, reason: error.message });
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - started);
      resolve({ file, ok: code === 0, ms, reason: signal ? `killed by ${signal}` : `exit code ${code}` });
    });
  });
}

const wanted = process.argv.slice(2);
const selected = wanted.length === 0 ? EXAMPLES : EXAMPLES.filter((file) => wanted.some((prefix) => file.startsWith(prefix)));
if (selected.length === 0) {
  console.error(`no example matches ${wanted.join(' ')}`);
  process.exit(2);
}

const outcomes = [];
for (const file of selected) {
  console.log(`\n=== ${file}`);
  outcomes.push(await run(file));
}

console.log('\n=== summary');
for (const outcome of outcomes) {
  console.log(`${outcome.ok ? 'ok  ' : 'FAIL'}  ${outcome.file}${outcome.ok ? ` (${outcome.ms} ms)` : ` — ${outcome.reason}`}`);
}
const failed = outcomes.filter((outcome) => !outcome.ok).length;
console.log(failed === 0 ? `all ${outcomes.length} examples passed` : `${failed} of ${outcomes.length} examples failed`);
process.exit(failed === 0 ? 0 : 1);
