// Logical replication: replicate() over COPY BOTH, pgoutput decoded and typecast, test_decoding
// as bytes, acknowledgements and resuming (in this process and after a consumer is killed),
// backpressure on a large transaction, slots, and the ways it fails.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  compareLsn,
  connect,
  createReplicationSlot,
  dropReplicationSlot,
  errors,
  formatLsn,
  parseLsn,
  replicate,
  type PgoutputMessage,
  type ReplicateOptions,
  type ReplicationMessage,
  type ReplicationStream,
} from '../lib';
import { runChild } from './child-helpers';
import { loadTestServerModule, makeTable, rejectionOf, testDsn, testDsnWith, uniqueName, sharedConnection } from './helpers';

const conn = sharedConnection({ autocommit: true });

// every stream a test opens is closed after it, every permanent slot dropped
const streams: ReplicationStream[] = [];
const permanentSlots: string[] = [];
afterEach(async () => {
  await Promise.all(streams.splice(0).map((stream) => stream.close()));
  for (const slot of permanentSlots.splice(0)) await dropReplicationSlot(testDsn(), slot, { ifExists: true, wait: true });
});

function open(options: ReplicateOptions, conninfo: string = testDsn()): ReplicationStream {
  const stream = replicate(conninfo, options);
  streams.push(stream);
  return stream;
}

const slotName = (prefix = 'repl'): string => uniqueName(prefix);

/** A table and a publication of it; pgoutput options for that publication. */
async function published(columns: string): Promise<{ table: string; options: { publication_names: string } }> {
  const table = await makeTable(conn(), columns, { prefix: 'repl' });
  const publication = `${table}_pub`;
  await conn().query(`create publication ${publication} for table ${table}`);
  return { table, options: { publication_names: publication } };
}

/** The messages of the next `count` transactions (through their commits), each acknowledged. */
async function transactions(stream: ReplicationStream, count: number): Promise<ReplicationMessage[][]> {
  const out: ReplicationMessage[][] = [];
  let current: ReplicationMessage[] = [];
  for await (const item of iterate(stream)) {
    current.push(item);
    if (item.message?.type === 'commit') {
      out.push(current);
      current = [];
      stream.acknowledge(item.lsn);
      if (out.length === count) break;
    }
  }
  return out;
}

/** The stream's items without closing it at the end (for await ... break would). */
async function* iterate(stream: ReplicationStream): AsyncGenerator<ReplicationMessage> {
  for (;;) {
    const step = await stream.next();
    if (step.done) return;
    yield step.value;
  }
}

const changes = (messages: ReplicationMessage[]): PgoutputMessage[] =>
  messages.map((item) => item.message as PgoutputMessage).filter((message) => !['begin', 'commit', 'relation', 'type'].includes(message.type));

/** The ids the inserts of a transaction's messages carry. */
const insertedIds = (messages: ReplicationMessage[]): unknown[] =>
  changes(messages).map((change) => (change.type === 'insert' ? change.new.id : change.type));

async function slotRow(slot: string): Promise<{ active: boolean; confirmed: string | null } | undefined> {
  const { rows } = await conn().query<{ active: boolean; confirmed: string | null }>(
    'select active, confirmed_flush_lsn::text as confirmed from pg_replication_slots where slot_name = $1',
    [slot],
  );
  return rows[0];
}

/** Polls until `check` holds (or fails the test after `ms`). */
async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(25);
  }
}

describe('LSN helpers', () => {
  it('parse, format and compare LSNs as PostgreSQL writes them', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(parseLsn('ffffffff/FFFFFFFF')).toBe((1n << 64n) - 1n);
    expect(formatLsn(0x16b3748n)).toBe('0/16B3748');
    expect(formatLsn((0xabn << 32n) | 0x10n)).toBe('AB/10');
    expect(compareLsn('0/16B3748', '0/16B3749')).toBeLessThan(0);
    expect(compareLsn('1/0', '0/FFFFFFFF')).toBeGreaterThan(0);
    expect(compareLsn('A/1', (0xan << 32n) | 1n)).toBe(0);
    for (const bad of ['', '0', '0/', '/1', 'x/1', '0/1/2', '123456789/0', ' 0/1']) {
      expect(() => parseLsn(bad)).toThrow(errors.ProgrammingError);
    }
    expect(() => formatLsn(-1n)).toThrow(errors.ProgrammingError);
    expect(() => formatLsn(1n << 64n)).toThrow(errors.ProgrammingError);
  });
});

describe('pgoutput', () => {
  it('decodes inserts, updates and deletes with values typecast as query results are', async () => {
    const { table, options } = await published('id int primary key, t text, n numeric, ts timestamptz, j jsonb, b bytea, a int[], f float8, big int8');
    const stream = open({ slot: slotName(), create: true, temporary: true, options });
    await stream.ready;
    await conn().query(
      `insert into ${table} values (1, 'héllo', 12345678901234567890.5, '2024-05-06 07:08:09.123+00', '{"k":[1,2]}', '\\x00ff', '{1,NULL,3}', 0.1, 9007199254740993)`,
    );
    await conn().query(`insert into ${table} (id) values (2)`);
    await conn().query(`update ${table} set t = 'changed' where id = 1`);
    await conn().query(`update ${table} set id = 3 where id = 2`);
    await conn().query(`delete from ${table} where id = 1`);
    const [first, second, update, keyUpdate, deletion] = await transactions(stream, 5);

    const begin = first[0].message;
    expect(begin).toMatchObject({ type: 'begin', xid: expect.any(Number) });
    const relation = first.find((item) => item.message?.type === 'relation')?.message;
    expect(relation).toMatchObject({ type: 'relation', relation: { schema: 'public', name: table, replicaIdentity: 'default' } });
    if (relation?.type !== 'relation') throw new Error('no relation message');
    expect(relation.relation.columns.map((column) => [column.name, column.typeOid, column.key])).toEqual([
      ['id', 23, true],
      ['t', 25, false],
      ['n', 1700, false],
      ['ts', 1184, false],
      ['j', 3802, false],
      ['b', 17, false],
      ['a', 1007, false],
      ['f', 701, false],
      ['big', 20, false],
    ]);
    const [insert] = changes(first);
    expect(insert).toMatchObject({ type: 'insert', relation: { name: table } });
    if (insert.type !== 'insert') throw new Error('not an insert');
    expect(insert.new).toEqual({
      id: 1,
      t: 'héllo',
      n: '12345678901234567890.5',
      ts: new Date('2024-05-06T07:08:09.123Z'),
      j: { k: [1, 2] },
      b: Buffer.from([0, 255]),
      a: [1, null, 3],
      f: 0.1,
      big: 9007199254740993n,
    });
    // each item's data is the message's own bytes, and the commit's LSN is the transaction's end
    const commit = first[first.length - 1];
    if (commit.message?.type !== 'commit') throw new Error('no commit');
    expect(commit.lsn).toBe(commit.message.endLsn);
    expect(compareLsn(commit.message.commitLsn, commit.message.endLsn)).toBeLessThan(0);
    expect(commit.data[0]).toBe('C'.charCodeAt(0));
    expect(commit.message.commitTime).toBeInstanceOf(Date);

    expect(changes(second)).toEqual([
      { type: 'insert', relation: expect.anything(), new: { id: 2, t: null, n: null, ts: null, j: null, b: null, a: null, f: null, big: null } },
    ]);
    // default replica identity: no old row unless the key changed, and then the key alone
    expect(changes(update)).toMatchObject([{ type: 'update', key: null, old: null, new: { id: 1, t: 'changed' } }]);
    expect(changes(keyUpdate)).toMatchObject([
      { type: 'update', key: { id: 2, t: null, n: null }, old: null, new: { id: 3, t: null } },
    ]);
    expect(changes(deletion)).toMatchObject([{ type: 'delete', key: { id: 1, t: null }, old: null }]);
    // LSNs grow from one transaction to the next
    const commits = [first, second, update, keyUpdate, deletion].map((messages) => messages[messages.length - 1].lsn);
    for (let i = 1; i < commits.length; i++) expect(compareLsn(commits[i - 1], commits[i])).toBeLessThan(0);
  });

  it('awaiting replicate() waits until it streams: a change written right after arrives; then the stream is no thenable', async () => {
    const { table, options } = await published('id int primary key');
    const pending = replicate(testDsn(), { slot: slotName(), create: true, temporary: true, options });
    streams.push(pending);
    const stream = await pending;
    expect(stream).toBe(pending);
    expect((stream as { then?: unknown }).then).toBeUndefined();
    // the slot exists now: nothing written from here on can be missed
    await conn().query(`insert into ${table} values (7)`);
    const [transaction] = await transactions(pending, 1);
    expect(transaction.map((m) => m.message?.type)).toEqual(['begin', 'relation', 'insert', 'commit']);
    expect(transaction[2].message).toMatchObject({ type: 'insert', new: { id: 7 } });
  });

  it('gives old rows with REPLICA IDENTITY FULL, unchanged TOAST values as undefined, truncates and logical messages', async () => {
    const { table, options } = await published('id int primary key, big text, v int');
    await conn().query(`alter table ${table} replica identity full`);
    // a value too large to stay in the row, and not compressible: it is TOASTed
    const big = (await conn().query<{ s: string }>("select string_agg(md5(i::text), '') as s from generate_series(1, 400) i")).rows[0].s;
    const stream = open({ slot: slotName(), create: true, temporary: true, options: { ...options, proto_version: 1, messages: true } });
    await stream.ready;
    await conn().query(`insert into ${table} values (1, $1, 10)`, [big]);
    await conn().query(`update ${table} set v = 11 where id = 1`);
    await conn().query(`delete from ${table} where id = 1`);
    await conn().query(`truncate ${table}`);
    await conn().query("select pg_logical_emit_message(true, 'app', 'hello')");
    const [insert, update, deletion, truncate, message] = (await transactions(stream, 5)).map(changes);

    expect(insert).toMatchObject([{ type: 'insert', new: { id: 1, big, v: 10 } }]);
    expect(insert[0]).toMatchObject({ relation: { replicaIdentity: 'full' } });
    const [change] = update;
    if (change.type !== 'update') throw new Error('not an update');
    expect(change.old).toEqual({ id: 1, big, v: 10 });
    // the new row does not repeat the TOASTed value that did not change
    expect(change.new).toEqual({ id: 1, big: undefined, v: 11 });
    expect('big' in change.new).toBe(true);
    expect(deletion).toMatchObject([{ type: 'delete', key: null, old: { id: 1, big, v: 11 } }]);
    expect(truncate).toMatchObject([{ type: 'truncate', cascade: false, restartIdentity: false, relations: [{ name: table }] }]);
    expect(message).toEqual([{ type: 'message', transactional: true, lsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/), prefix: 'app', content: Buffer.from('hello') }]);
  });

  it('uses the stream’s typecasters, set before or after the relation message', async () => {
    const { table, options } = await published('id int primary key, n numeric');
    const stream = open({ slot: slotName(), create: true, temporary: true, options });
    stream.typecasters.set('numeric', (text) => Number(text));
    await stream.ready;
    await conn().query(`insert into ${table} values (1, 2.5)`);
    await conn().query(`insert into ${table} values (2, 3.5)`);
    const [first] = await transactions(stream, 1);
    expect(changes(first)).toMatchObject([{ new: { id: 1, n: 2.5 } }]);
    stream.typecasters.set('int4', (text) => `#${text}`);
    const [second] = await transactions(stream, 1);
    expect(changes(second)).toMatchObject([{ new: { id: '#2', n: 3.5 } }]);
  });
});

describe('other plugins', () => {
  it('test_decoding gives its text as bytes, with no decoded message', async () => {
    const table = await makeTable(conn(), 'id int primary key, v text', { prefix: 'repl' });
    const stream = open({ slot: slotName(), plugin: 'test_decoding', create: true, temporary: true, options: { 'include-xids': false } });
    await stream.ready;
    expect(stream.plugin).toBe('test_decoding');
    await conn().query(`insert into ${table} values (1, 'it''s')`);
    const lines: string[] = [];
    for await (const item of iterate(stream)) {
      expect(item.message).toBeUndefined();
      expect(Buffer.isBuffer(item.data)).toBe(true);
      lines.push(item.data.toString('utf8'));
      if (lines[lines.length - 1].startsWith('COMMIT')) break;
    }
    expect(lines).toEqual(['BEGIN', `table public.${table}: INSERT: id[integer]:1 v[text]:'it''s'`, 'COMMIT']);
  });
});

describe('acknowledging and resuming', () => {
  it('a consumer that starts again resumes after the last commit it acknowledged: nothing lost, nothing twice', async () => {
    const { table, options } = await published('id int primary key');
    const slot = slotName();
    permanentSlots.push(slot);
    const created = await createReplicationSlot(testDsn(), slot, { plugin: 'pgoutput' });
    expect(created).toEqual({ slot, lsn: expect.stringMatching(/\//), plugin: 'pgoutput' });
    for (let id = 1; id <= 5; id++) await conn().query(`insert into ${table} values (${id})`);

    const first = open({ slot, options });
    const seen = (await transactions(first, 3)).map(insertedIds);
    expect(seen).toEqual([[1], [2], [3]]);
    // the fourth transaction was received, not acknowledged
    const fourth = await first.next();
    expect(fourth.done).toBe(false);
    await first.close();
    // the server was told at close(): of the third commit, or of a keepalive's later position
    // (sent while the fourth transaction was being decoded, before its data), but never of a
    // position past the fourth's commit: that one is sent again
    const after = await slotRow(slot);
    expect(after?.confirmed).toBe(first.acknowledgedLsn);
    const begin = fourth.value?.message;
    expect(begin?.type).toBe('begin');
    expect(compareLsn(first.acknowledgedLsn, begin?.type === 'begin' ? begin.finalLsn : '0/0')).toBeLessThan(0);

    const second = open({ slot, options });
    const rest = (await transactions(second, 2)).map(insertedIds);
    expect(rest).toEqual([[4], [5]]);
    await second.close();

    expect(await dropReplicationSlot(testDsn(), slot)).toBe(true);
    expect(await slotRow(slot)).toBeUndefined();
    expect(await dropReplicationSlot(testDsn(), slot, { ifExists: true })).toBe(false);
    await expect(dropReplicationSlot(testDsn(), slot)).rejects.toBeInstanceOf(errors.UndefinedObject);
  });

  it('status updates reach the server on the timer, on sendFeedback() and without acknowledgements hold the slot back', async () => {
    const { table, options } = await published('id int primary key');
    const slot = slotName();
    permanentSlots.push(slot);
    await createReplicationSlot(testDsn(), slot);
    const start = (await slotRow(slot))?.confirmed as string;
    const stream = open({ slot, options, statusInterval: 0.1 });
    await conn().query(`insert into ${table} values (1)`);
    const commit = (await transactions(stream, 1))[0].pop() as ReplicationMessage;
    expect(compareLsn(start, commit.lsn)).toBeLessThan(0);
    // (a keepalive may take the slot further once everything received was acknowledged)
    const reached = async (lsn: string, slotOf = slot) => compareLsn((await slotRow(slotOf))?.confirmed ?? '0/0', lsn) >= 0;
    await eventually(() => reached(commit.lsn));

    // not acknowledged: the slot does not reach it, however many updates go out
    await conn().query(`insert into ${table} values (2)`);
    let unacknowledged: ReplicationMessage | undefined;
    for await (const item of iterate(stream)) {
      if (item.message?.type === 'commit') {
        unacknowledged = item;
        break;
      }
    }
    await sleep(300);
    expect(await reached((unacknowledged as ReplicationMessage).lsn)).toBe(false);

    // a long interval: sendFeedback() sends at once
    const slow = open({ slot: slotName(), create: true, temporary: true, options, statusInterval: 3600 });
    await slow.ready;
    await conn().query(`insert into ${table} values (3)`);
    const slowCommit = (await transactions(slow, 1))[0].pop() as ReplicationMessage;
    slow.sendFeedback();
    await eventually(() => reached(slowCommit.lsn, slow.slot), 2000);
  });

  it('a consumer killed mid-stream and started again from what it applied: every row once', async () => {
    const { table, options } = await published('id int primary key, v text');
    const target = await makeTable(conn(), 'id int primary key, v text', { prefix: 'repl_target' });
    const bookmark = await makeTable(conn(), 'lsn pg_lsn not null', { prefix: 'repl_mark' });
    await conn().query(`insert into ${bookmark} values ('0/0')`);
    const slot = slotName();
    permanentSlots.push(slot);
    await createReplicationSlot(testDsn(), slot);
    for (let txn = 0; txn < 40; txn++) {
      await conn().query(`insert into ${table} select g, 'row ' || g from generate_series(${txn * 25 + 1}, ${txn * 25 + 25}) g`);
    }
    // Applies each transaction with its commit's LSN in one local transaction, then
    // acknowledges it: the exactly-once pattern. The parent kills it half-way.
    const consumer = `
      const dsn = ${JSON.stringify(testDsn())};
      (async () => {
        const local = await pqnode.connect(dsn);
        const mark = (await local.query('select lsn::text as lsn from ${bookmark}')).rows[0].lsn;
        await local.commit();
        const stream = pqnode.replicate(dsn, { slot: ${JSON.stringify(slot)}, startLsn: mark, statusInterval: 0.05, options: ${JSON.stringify(options)} });
        let rows = [];
        let applied = 0;
        for await (const item of stream) {
          const message = item.message;
          if (message.type === 'insert') rows.push(message.new);
          if (message.type !== 'commit') continue;
          for (const row of rows) await local.query('insert into ${target} values ($1, $2)', [row.id, row.v]);
          await local.query('update ${bookmark} set lsn = $1', [item.lsn]);
          await local.commit();
          stream.acknowledge(item.lsn);
          rows = [];
          report({ applied: ++applied });
          if (Number(process.env.SLOW) > 0) await sleep(Number(process.env.SLOW));
        }
        await local.close();
      })().catch((error) => { report({ error: String(error) }); process.exit(1); });
    `;
    const killed = runChild(consumer, { env: { SLOW: '30' }, timeoutMs: 20_000 });
    // killed by the harness's timeout: wait for some progress, then kill it ourselves
    await eventually(async () => Number((await conn().query<{ n: number }>(`select count(*)::int as n from ${target}`)).rows[0].n) >= 250, 15_000);
    const child = await killChildOf(killed);
    expect(child.signal).toBe('SIGKILL');
    const appliedBefore = (await conn().query<{ n: number }>(`select count(*)::int as n from ${target}`)).rows[0].n;
    expect(appliedBefore).toBeGreaterThan(0);
    expect(appliedBefore).toBeLessThan(1000);

    // started again from the bookmark, it applies the rest and only the rest
    const resumed = await runChild(
      consumer.replace("report({ applied: ++applied });", `report({ applied: ++applied }); if ((await local.query('select count(*)::int as n from ${target}')).rows[0].n === 1000) { await stream.close(); }`),
      { timeoutMs: 20_000 },
    );
    expect(resumed.reports.filter((report) => 'error' in report)).toEqual([]);
    expect(resumed.code).toBe(0);
    const { rows } = await conn().query<{ n: number; distinct: number; low: number; high: number }>(
      `select count(*)::int as n, count(distinct id)::int as distinct, min(id) as low, max(id) as high from ${target}`,
    );
    expect(rows[0]).toEqual({ n: 1000, distinct: 1000, low: 1, high: 1000 });
  });
});

/** Kills the children runChild() started, then waits for the run to end. */
async function killChildOf(run: Promise<Awaited<ReturnType<typeof runChild>>>): Promise<Awaited<ReturnType<typeof runChild>>> {
  const pids = await childPids();
  expect(pids.length).toBe(1);
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  return run;
}

/** The node processes that runChild() started from this process. */
async function childPids(): Promise<number[]> {
  const fs = await import('node:fs');
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (parent === process.pid && cmdline.includes('child.cjs')) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

describe('a large transaction', () => {
  it('streams 100,000 rows in order, none lost, with bounded buffering while the consumer is slow', async () => {
    const { table, options } = await published('id int primary key, v text');
    const maxBuffered = 256 * 1024;
    const stream = open({ slot: slotName(), create: true, temporary: true, options, maxBuffered });
    await stream.ready;
    const total = 100_000;
    await conn().query(`insert into ${table} select g, 'value ' || g from generate_series(1, ${total}) g`);
    let expected = 1;
    let maxSeen = 0;
    let bytes = 0;
    const started = performance.now();
    for await (const item of iterate(stream)) {
      maxSeen = Math.max(maxSeen, stream.bufferedBytes);
      bytes += item.data.length;
      const message = item.message as PgoutputMessage;
      if (message.type === 'insert') {
        if (message.new.id !== expected) throw new Error(`row ${String(message.new.id)} came where ${expected} was expected`);
        expected++;
        // slow at first: the socket is no longer read while the consumer is behind
        if (expected < 2000 && expected % 100 === 0) await sleep(5);
      }
      if (message.type === 'commit') {
        stream.acknowledge(item.lsn);
        break;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    expect(expected - 1).toBe(total);
    expect(bytes).toBeGreaterThan(10 * maxBuffered);
    // what the consumer had not taken never grew much beyond the limit (a batch read at most)
    expect(maxSeen).toBeLessThanOrEqual(maxBuffered + 512 * 1024);
    console.log(`large transaction: ${total} rows, ${(bytes / 1e6).toFixed(1)} MB of pgoutput in ${seconds.toFixed(2)} s (${Math.round(total / seconds)} rows/s), most buffered ${maxSeen} bytes`);
  });
});

describe('slots and closing', () => {
  it('a temporary slot vanishes with its stream; close() ends a pending next()', async () => {
    const { options } = await published('id int primary key');
    const slot = slotName();
    const stream = open({ slot, create: true, temporary: true, options });
    await stream.ready;
    expect((await slotRow(slot))?.active).toBe(true);
    const pending = stream.next();
    await sleep(50);
    await stream.close();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
    await expect(stream.next()).resolves.toEqual({ done: true, value: undefined });
    await eventually(async () => (await slotRow(slot)) === undefined, 3000);
  });

  it('create uses a permanent slot that exists, and refuses one of another plugin', async () => {
    const { options } = await published('id int primary key');
    const slot = slotName();
    permanentSlots.push(slot);
    const first = open({ slot, create: true, options });
    await first.ready;
    await first.close();
    const again = open({ slot, create: true, options });
    await again.ready;
    await again.close();
    const wrong = open({ slot, plugin: 'test_decoding', options });
    const error = await rejectionOf(wrong.next());
    expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(error.message).toContain('pgoutput');
  });

  it('a break out of for await closes the stream', async () => {
    const table = await makeTable(conn(), 'id int', { prefix: 'repl' });
    const slot = slotName();
    const stream = open({ slot, plugin: 'test_decoding', create: true, temporary: true });
    await stream.ready;
    await conn().query(`insert into ${table} values (1)`);
    for await (const item of stream) {
      expect(item.data.toString()).toMatch(/^BEGIN/);
      break;
    }
    expect(stream.closed).toBe(true);
    await eventually(async () => (await slotRow(slot)) === undefined, 3000);
  });
});

describe('failures', () => {
  it('refuses bad options at once', () => {
    expect(() => replicate(testDsn(), { slot: 'Bad-Name' })).toThrow(errors.ProgrammingError);
    expect(() => replicate(testDsn(), { slot: 'ok', temporary: true })).toThrow(errors.ProgrammingError);
    expect(() => replicate(testDsn(), { slot: 'ok', startLsn: 'nope' })).toThrow(errors.ProgrammingError);
    expect(() => replicate(testDsn(), { slot: 'ok', statusInterval: 0 })).toThrow(TypeError);
  });

  it('a missing slot, a missing plugin, a server that cannot be reached: clear errors, no hang', async () => {
    const missing = open({ slot: slotName('missing') });
    const missingError = await rejectionOf(missing.next());
    expect(missingError).toBeInstanceOf(errors.UndefinedObject);
    expect(missingError.message).toMatch(/does not exist/);
    await expect(missing.ready).rejects.toBe(missingError);
    // awaiting the stream rejects as its start did
    await expect(open({ slot: slotName('missing') })).rejects.toBeInstanceOf(errors.UndefinedObject);
    await expect(missing.next()).resolves.toEqual({ done: true, value: undefined });

    const badPlugin = open({ slot: slotName(), plugin: 'no_such_plugin', create: true, temporary: true });
    expect(await rejectionOf(badPlugin.next())).toBeInstanceOf(errors.OperationalError);

    const unreachable = open({ slot: 'x' }, 'postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=5');
    expect(await rejectionOf(unreachable.next())).toBeInstanceOf(errors.OperationalError);

    const noPublication = open({ slot: slotName(), create: true, temporary: true });
    const publicationError = await rejectionOf(noPublication.next());
    expect(publicationError).toBeInstanceOf(errors.DatabaseError);
    expect(publicationError.message).toMatch(/publication_names/);
  });

  it('a role without REPLICATION is refused with the server’s reason', async () => {
    const role = uniqueName('norepl');
    await conn().query(`create role ${role} login`);
    try {
      const stream = open({ slot: 'x' }, testDsnWith({ user: role }));
      const error = await rejectionOf(stream.next());
      expect(error).toBeInstanceOf(errors.OperationalError);
      expect(error.message).toMatch(/replication|walsender|WAL sender/i);
    } finally {
      await conn().query(`drop role ${role}`);
    }
  });

  it('a server without logical decoding (wal_level=replica) says so', async () => {
    const { startTestServer } = await loadTestServerModule();
    const server = await startTestServer({ settings: { wal_level: 'replica' } });
    try {
      const stream = open({ slot: 'x', create: true, temporary: true }, server.dsn);
      const error = await rejectionOf(stream.next());
      expect(error).toBeInstanceOf(errors.ObjectNotInPrerequisiteState);
      expect(error.message).toMatch(/wal_level/);
    } finally {
      await server.stop();
    }
  });

  it('a lost connection rejects the pending next() with OperationalError', async () => {
    const { options } = await published('id int primary key');
    const slot = slotName();
    const stream = open({ slot, create: true, temporary: true, options });
    await stream.ready;
    const pending = stream.next();
    const { rows } = await conn().query<{ pid: number }>('select active_pid as pid from pg_replication_slots where slot_name = $1', [slot]);
    await conn().query('select pg_terminate_backend($1)', [rows[0].pid]);
    expect(await rejectionOf(pending)).toBeInstanceOf(errors.OperationalError);
    await expect(stream.next()).resolves.toEqual({ done: true, value: undefined });
  });
});

describe('the replication connection', () => {
  it('keeps the session settings a query connection keeps (set by the simple protocol)', async () => {
    const replication = await connect(testDsnWith({ replication: 'database' }), { autocommit: true });
    try {
      // several statements go by the simple protocol, which a walsender takes
      const result = await replication.query("select 1; select current_setting('extra_float_digits') as digits");
      expect(result.rows).toEqual([{ digits: '3' }]);
    } finally {
      await replication.close();
    }
  });
});
