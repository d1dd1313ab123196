// Usage: node scripts/with-test-server.mjs COMMAND [ARGS...]
//
// Runs COMMAND against a throwaway PostgreSQL server, or against the one in
// $PQNODE_TEST_DSN when that is already set, and exits with its exit code.

import { spawn } from 'node:child_process';
import os from 'node:os';
import { startTestServer } from './test-server.mjs';

const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function exitCodeOf(code, signal) {
  if (code !== null) return code;
  const number = signal ? os.constants.signals[signal] : undefined;
  return number ? 128 + number : 1;
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    process.stderr.write('usage: node scripts/with-test-server.mjs COMMAND [ARGS...]\n');
    return 2;
  }

  let server = null;
  const env = { ...process.env };
  if (!env.PQNODE_TEST_DSN) {
    try {
      server = await startTestServer();
    } catch (err) {
      process.stderr.write(`with-test-server: ${err instanceof Error ? err.message : String(err)}\n`);
      return 1;
    }
    Object.assign(env, {
      PQNODE_TEST_DSN: server.dsn,
      PGHOST: server.host,
      PGPORT: String(server.port),
      PGUSER: server.user,
      PGDATABASE: server.database,
    });
  }

  const child = spawn(command, args, { stdio: 'inherit', env });
  // Keep the process alive through a signal: the server must be stopped
  // after the command has finished, never before it.
  const onSignal = (signal) => {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // the child is already gone
      }
    }
  };
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);

  const code = await new Promise((resolve) => {
    child.once('error', (err) => {
      process.stderr.write(`with-test-server: cannot run ${command}: ${err.message}\n`);
      resolve(err.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (exitCode, signal) => resolve(exitCodeOf(exitCode, signal)));
  });

  if (server) {
    try {
      await server.stop();
    } catch (err) {
      process.stderr.write(`with-test-server: stopping the server failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
  return code;
}

process.exit(await main());
