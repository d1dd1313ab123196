import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runChild } from './child-helpers';
import { loadTestServerModule, testDsn, uniqueName, type TestServerModule } from './helpers';

const execFileAsync = promisify(execFile);

function tcpConnect(host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(5000, () => socket.destroy(new Error(`timed out connecting to ${host}:${port}`)));
    socket.once('connect', () => {
      socket.end();
      resolve();
    });
    socket.once('error', reject);
  });
}

// Only the psql that ships with the server binaries: Debian's /usr/bin/psql
// is a wrapper that fails when no client package is installed.
function findPsql(bindir: string | null): string | null {
  if (!bindir) return null;
  const file = path.join(bindir, 'psql');
  return fs.existsSync(file) ? file : null;
}

// psql must not pick up libpq defaults from the surrounding environment: the
// point is to prove the DSN alone is enough.
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')));
}

async function psql(psqlPath: string, dsn: string, sql: string): Promise<string> {
  const { stdout } = await execFileAsync(psqlPath, ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', dsn, '-c', sql], {
    env: cleanEnv(),
    timeout: 15000,
  });
  return stdout.trim();
}

const usingExternalServer = Boolean(process.env.PQNODE_TEST_DSN);
let harness: TestServerModule;
let binaries: { bindir: string; source: string } | null = null;
let binariesError: unknown = null;
let psqlPath: string | null = null;

beforeAll(async () => {
  harness = await loadTestServerModule();
  try {
    binaries = harness.findPostgresBinaries();
  } catch (err) {
    binariesError = err;
  }
  psqlPath = findPsql(binaries?.bindir ?? null);
});

describe('test harness', () => {
  it('provides a postgresql:// DSN with host, port, user and database', () => {
    const dsn = testDsn();
    expect(dsn).toBeTruthy();
    const url = new URL(dsn);
    expect(['postgresql:', 'postgres:']).toContain(url.protocol);
    expect(url.hostname).not.toBe('');
    expect(Number(url.port)).toBeGreaterThan(0);
    expect(url.username).not.toBe('');
    expect(url.pathname.length).toBeGreaterThan(1);
  });

  it('accepts a raw TCP connection at the DSN host and port', async () => {
    const url = new URL(testDsn());
    await expect(tcpConnect(url.hostname, Number(url.port))).resolves.toBeUndefined();
  });

  it('runs select 1 through psql with only the DSN', async ({ skip }) => {
    if (!psqlPath) skip('no psql found');
    expect(await psql(psqlPath!, testDsn(), 'select 1')).toBe('1');
  });

  it('applies the harness server settings', async ({ skip }) => {
    if (!psqlPath) skip('no psql found');
    if (usingExternalServer) skip('PQNODE_TEST_DSN points at a server the harness did not configure');
    const out = await psql(
      psqlPath!,
      testDsn(),
      "select current_setting('fsync') || ',' || current_setting('max_prepared_transactions') || ',' || " +
        "current_setting('server_encoding') || ',' || current_setting('max_connections')",
    );
    expect(out).toBe('off,10,UTF8,200');
  });

  it('finds a bindir with initdb and postgres', () => {
    expect(binariesError).toBeNull();
    expect(binaries).not.toBeNull();
    const { bindir } = binaries!;
    for (const exe of ['initdb', 'postgres']) {
      const file = path.join(bindir, exe);
      expect(fs.statSync(file).isFile(), file).toBe(true);
      expect(() => fs.accessSync(file, fs.constants.X_OK)).not.toThrow();
    }
  });

  it("the proxies' cutConnection closes a socket whose shutdown is in flight, and the process then exits", async () => {
    // A proxy's socket whose peer ended is ended by Node in answer; cutting it before that
    // shutdown completes must still close it. A plain resetAndDestroy() is refused there
    // (EINVAL), leaves the handle open for good, and the process never exits.
    const child = await runChild(
      `
      const net = require('node:net');
      const { cutConnection } = require(ROOT + '/test/support/cut-connection.cjs');
      const server = net.createServer((socket) => {
        socket.on('error', (error) => report({ error: error.code + ' ' + error.syscall }));
        socket.on('close', () => {
          report({ closed: true });
          server.close();
        });
        socket.end();
        // end() starts the shutdown on the next tick; libuv completes it on its next turn
        process.nextTick(() =>
          process.nextTick(() => {
            report({ ending: socket.writableEnded && !socket.writableFinished });
            cutConnection(socket);
          }),
        );
      });
      server.listen(0, '127.0.0.1', () => {
        const client = net.connect(server.address().port, '127.0.0.1');
        client.on('error', () => undefined);
        client.resume();
      });
      `,
      { timeoutMs: 10_000 },
    );
    expect(child.timedOut, child.stderr).toBe(false);
    expect(child.code, child.stderr).toBe(0);
    expect(child.reports).toEqual([{ ending: true }, { closed: true }]);
  });

  it('uniqueName yields distinct, valid identifiers', () => {
    const names = new Set(Array.from({ length: 50 }, () => uniqueName('Some-Table')));
    expect(names.size).toBe(50);
    for (const name of names) {
      expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
      expect(name.length).toBeLessThanOrEqual(63);
    }
  });

  it(
    'starts a second server and removes its folder on stop',
    async ({ skip }) => {
      // Without binaries the bindir test above already fails with the reason.
      if (!binaries) skip('no PostgreSQL binaries');
      const server = await harness.startTestServer();
      let stopped = false;
      try {
        expect(server.dsn).toBe(`postgresql://postgres@127.0.0.1:${server.port}/postgres`);
        expect(server.dsn).not.toBe(testDsn());
        expect(server.version).toMatch(/^\d+/);
        expect(server.dataDir.startsWith(server.tempDir + path.sep)).toBe(true);
        expect(fs.existsSync(path.join(server.dataDir, 'PG_VERSION'))).toBe(true);
        await tcpConnect(server.host, server.port);
        if (psqlPath) expect(await psql(psqlPath, server.dsn, 'select 40 + 2')).toBe('42');

        await server.stop();
        stopped = true;
        expect(fs.existsSync(server.tempDir)).toBe(false);
        await expect(tcpConnect(server.host, server.port)).rejects.toThrow();
        // A second stop() must be harmless: teardown code may call it again.
        await server.stop();
      } finally {
        if (!stopped) await server.stop();
      }
    },
    60_000,
  );
});
