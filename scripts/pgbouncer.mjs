// A throwaway PgBouncer in front of a running PostgreSQL server, for tests and benchmarks.
//
//   import { findPgbouncer, startPgbouncer } from './scripts/pgbouncer.mjs';
//   if (findPgbouncer()) {
//     const bouncer = await startPgbouncer({ host: server.host, port: server.port });
//     ... connect to bouncer.dsn ...
//     await bouncer.stop();
//   }
//
// Its own configuration in a temp folder, trust authentication (the test server trusts
// loopback too), transaction pooling by default, a free loopback port.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { freePort, lookupAccount, probeServer, sleep, waitForExit } from './test-server.mjs';

const HOST = '127.0.0.1';
const DB_USER = 'postgres';
const DB_NAME = 'postgres';
const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer', '/usr/local/sbin/pgbouncer'];

/** The pgbouncer binary: $PQNODE_PGBOUNCER, else the usual places, else the PATH; null when there is none. */
export function findPgbouncer() {
  const explicit = process.env.PQNODE_PGBOUNCER;
  if (explicit) return explicit;
  for (const file of CANDIDATES) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not there
    }
  }
  const found = spawnSync('sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : null;
}

/** '1.18.0' from `pgbouncer --version`, or null. */
export function pgbouncerVersion(binary = findPgbouncer()) {
  if (!binary) return null;
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  const match = /PgBouncer\s+(\d+(?:\.\d+)*)/.exec(result.stdout ?? '');
  return match ? match[1] : null;
}

/**
 * PgBouncer refuses to run as root; it then runs as the account the test server runs as
 * (postgres, or the harness's own one).
 */
function serviceIdentity() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return {};
  const account = lookupAccount('postgres') ?? lookupAccount('pqnode');
  if (account === null) throw new Error('pgbouncer cannot run as root and there is neither a postgres nor a pqnode account to run it as');
  return { uid: account.uid, gid: account.gid };
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

function readTail(file, lines = 20) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no pgbouncer log)';
  }
}

/** @type {Set<import('node:child_process').ChildProcess>} */
const live = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      try {
        // SIGTERM is PgBouncer's immediate shutdown
        if (!exited(child)) process.kill(child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });
}

/**
 * Starts PgBouncer in front of the server at host:port.
 *
 * @param {{
 *   host: string,
 *   port: number,
 *   poolMode?: 'session' | 'transaction' | 'statement',
 *   poolSize?: number,
 *   settings?: Record<string, string | number>,
 *   timeoutMs?: number,
 * }} options
 *
 * poolSize: server connections per database and user (default 2, so that clients really
 * share them); settings: more lines of the [pgbouncer] section, e.g. max_prepared_statements.
 */
export async function startPgbouncer(options) {
  const binary = findPgbouncer();
  if (!binary) throw new Error('pgbouncer is not installed (apt-get install pgbouncer)');
  const identity = serviceIdentity();
  const tempDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'pqnode-pgbouncer-'));
  if (identity.uid !== undefined) fs.chownSync(tempDir, identity.uid, identity.gid);
  const logFile = path.join(tempDir, 'pgbouncer.log');
  const configFile = path.join(tempDir, 'pgbouncer.ini');
  const authFile = path.join(tempDir, 'userlist.txt');
  fs.writeFileSync(authFile, `"${DB_USER}" ""\n`);

  const deadline = Date.now() + (options.timeoutMs ?? 20000);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const settings = {
      listen_addr: HOST,
      listen_port: port,
      // TCP only: no socket file left in /tmp
      unix_socket_dir: '',
      auth_type: 'trust',
      auth_file: authFile,
      pool_mode: options.poolMode ?? 'transaction',
      default_pool_size: options.poolSize ?? 2,
      min_pool_size: 0,
      reserve_pool_size: 0,
      max_client_conn: 500,
      max_db_connections: 0,
      // libpq and the clients measured may send these at startup; PgBouncer keeps none of them per client
      ignore_startup_parameters: 'extra_float_digits,options',
      server_check_delay: 0,
      logfile: logFile,
      log_connections: 0,
      log_disconnections: 0,
      log_pooler_errors: 1,
      ...options.settings,
    };
    const lines = [
      '[databases]',
      `* = host=${options.host} port=${options.port}`,
      '',
      '[pgbouncer]',
      ...Object.entries(settings).map(([key, value]) => `${key} = ${value}`),
      '',
    ];
    fs.writeFileSync(configFile, lines.join('\n'));

    installExitHook();
    const child = spawn(binary, [configFile], {
      cwd: tempDir,
      stdio: ['ignore', 'ignore', 'pipe'],
      // own session: a Ctrl-C meant for the test runner must not stop it under the tests
      detached: true,
      ...identity,
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.once('error', () => {});
    child.unref();
    live.add(child);

    let ready = false;
    let last = 'no attempt yet';
    while (!exited(child) && Date.now() < deadline) {
      // a whole session through it: PgBouncer listens, reaches the server and says ReadyForQuery
      const probe = await probeServer(HOST, port, 1000);
      if (probe.ready) {
        ready = true;
        break;
      }
      last = probe.message ?? last;
      await sleep(50);
    }
    if (ready) {
      let stopping = null;
      return {
        dsn: `postgresql://${DB_USER}@${HOST}:${port}/${DB_NAME}`,
        host: HOST,
        port,
        version: pgbouncerVersion(binary),
        logFile,
        tempDir,
        get pid() {
          return child.pid;
        },
        stop() {
          stopping ??= (async () => {
            if (!exited(child)) {
              try {
                process.kill(child.pid, 'SIGTERM');
              } catch {
                // already gone
              }
              if (!(await waitForExit(child, 5000))) {
                try {
                  process.kill(child.pid, 'SIGKILL');
                } catch {
                  // already gone
                }
                await waitForExit(child, 5000);
              }
            }
            live.delete(child);
            await fsp.rm(tempDir, { recursive: true, force: true });
          })();
          return stopping;
        },
      };
    }
    if (!exited(child)) {
      process.kill(child.pid, 'SIGKILL');
      await waitForExit(child, 5000);
    }
    live.delete(child);
    const log = `${stderr.trim()}\n${readTail(logFile)}`.trim();
    if (attempt < 3 && /address already in use|could not bind/i.test(log)) continue;
    await fsp.rm(tempDir, { recursive: true, force: true });
    const reason = exited(child) ? `pgbouncer exited (${child.exitCode ?? child.signalCode})` : `not ready after the deadline (last: ${last})`;
    throw new Error(`pgbouncer on port ${port} failed to start: ${reason}\n${log}`);
  }
}
