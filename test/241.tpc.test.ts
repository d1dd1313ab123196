import { afterEach, beforeAll, describe, expect, it } from 'vitest';

import { errors, Xid } from '../lib';
import { closedAfterEach, rejectionOf, thrownBy, sharedConnection, makeTable } from './helpers';
import { coreOf } from '../lib/core/interface';

const observer = sharedConnection({ autocommit: true });
let table: string;
const prefix = `pqnode-tpc-${process.pid}-`;

async function ids(): Promise<number[]> {
  const { rows } = await observer().query<{ id: number }>(`select id from ${table} order by id`);
  return rows.map((row) => row.id);
}

async function preparedGids(): Promise<string[]> {
  const { rows } = await observer().query<{ gid: string }>('select gid from pg_prepared_xacts order by gid');
  return rows.map((row) => row.gid);
}

beforeAll(async () => {
  table = await makeTable(observer(), 'id int', { prefix: 'tpc' });
});

afterEach(async () => {
  // a prepared transaction outlives its connection: never leave one behind
  for (const gid of await preparedGids()) {
    if (Xid.fromString(gid).gtrid.startsWith(prefix)) {
      await observer().query(`rollback prepared ${coreOf(observer()).escapeLiteral(gid)}`);
    }
  }
  await observer().query(`delete from ${table}`);
});

// registered after the hook above so that, hooks running in reverse, connections close first
const { open } = closedAfterEach();

describe('xid()', () => {
  it('is written to the server as psycopg2 writes it, and read back', async () => {
    const conn = await open();
    const xid = conn.xid(42, 'gtrid', 'bqual');
    expect(xid.toString()).toBe('42_Z3RyaWQ=_YnF1YWw=');
    const back = Xid.fromString(xid.toString());
    expect([back.formatId, back.gtrid, back.bqual]).toEqual([42, 'gtrid', 'bqual']);
    expect(Xid.fromString('just-a-gid')).toMatchObject({ formatId: null, gtrid: 'just-a-gid', bqual: null });
    expect(Xid.fromString('1_abc')).toMatchObject({ formatId: null, gtrid: '1_abc' });
  });

  it('refuses what the XA standard does not allow', async () => {
    const conn = await open();
    expect(thrownBy(() => conn.xid(-1, 'g', 'b'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => conn.xid(2 ** 31, 'g', 'b'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => conn.xid(1.5, 'g', 'b'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => conn.xid(1, 'x'.repeat(65), 'b'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => conn.xid(1, 'g', 'b\u0000'))).toBeInstanceOf(errors.ProgrammingError);
    expect(thrownBy(() => conn.xid(1, 7 as unknown as string, 'b'))).toBeInstanceOf(errors.ProgrammingError);
  });
});

describe('two-phase commit', () => {
  it('prepare then commit: invisible while prepared, committed after', async () => {
    const conn = await open();
    const xid = conn.xid(1, `${prefix}commit`, 'branch');
    await conn.tpcBegin(xid);
    await conn.query(`insert into ${table} values (1)`);
    await conn.tpcPrepare();
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await ids()).toEqual([]);
    expect(await preparedGids()).toContain(xid.toString());
    await conn.tpcCommit();
    expect(await ids()).toEqual([1]);
    expect(await preparedGids()).not.toContain(xid.toString());
  });

  it('prepare then roll back: nothing is left', async () => {
    const conn = await open();
    const xid = conn.xid(1, `${prefix}rollback`, '');
    await conn.tpcBegin(xid);
    await conn.query(`insert into ${table} values (2)`);
    await conn.tpcPrepare();
    await conn.tpcRollback();
    expect(await ids()).toEqual([]);
    expect(await preparedGids()).not.toContain(xid.toString());
  });

  it('commit without prepare is a one-phase commit', async () => {
    const conn = await open();
    await conn.tpcBegin(`${prefix}one-phase`);
    await conn.query(`insert into ${table} values (3)`);
    await conn.tpcCommit();
    expect(await ids()).toEqual([3]);
    expect(await preparedGids()).toEqual([]);
    // a new two-phase transaction may begin afterwards
    await conn.tpcBegin(`${prefix}again`);
    await conn.tpcRollback();
  });

  it('another connection recovers, then commits or rolls back, what was prepared', async () => {
    const first = await open();
    const xa = first.xid(7, `${prefix}recover`, 'b1');
    await first.tpcBegin(xa);
    await first.query(`insert into ${table} values (4)`);
    await first.tpcPrepare();
    await first.close();
    const plain = await open({ autocommit: true });
    await plain.query('begin');
    await plain.query(`insert into ${table} values (5)`);
    await plain.query(`prepare transaction '${prefix}plain'`);

    const recovering = await open();
    const found = await recovering.tpcRecover();
    expect(recovering.info.transactionStatus).toBe('idle');
    const mine = found.filter((xid) => xid.gtrid.startsWith(prefix));
    const xaBack = mine.find((xid) => xid.formatId === 7);
    expect(xaBack).toMatchObject({ formatId: 7, gtrid: `${prefix}recover`, bqual: 'b1', owner: 'postgres' });
    expect(xaBack?.prepared).toBeInstanceOf(Date);
    const plainBack = mine.find((xid) => xid.formatId === null);
    expect(plainBack).toMatchObject({ gtrid: `${prefix}plain`, bqual: null });
    await recovering.tpcCommit(xaBack as Xid);
    await recovering.tpcRollback(plainBack as Xid);
    expect(await ids()).toEqual([4]);
    expect((await recovering.tpcRecover()).filter((xid) => xid.gtrid.startsWith(prefix))).toEqual([]);
  });

  it('misuse is a ProgrammingError, before anything is sent', async () => {
    const conn = await open();
    expect(await rejectionOf(conn.tpcPrepare())).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn.tpcCommit())).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn.tpcBegin(''))).toBeInstanceOf(errors.ProgrammingError);
    const auto = await open({ autocommit: true });
    expect(await rejectionOf(auto.tpcBegin(`${prefix}auto`))).toBeInstanceOf(errors.ProgrammingError);
    await conn.query('select 1');
    expect(await rejectionOf(conn.tpcBegin(`${prefix}intx`))).toBeInstanceOf(errors.ProgrammingError);
    await conn.rollback();

    await conn.tpcBegin(`${prefix}guarded`);
    expect(await rejectionOf(conn.tpcBegin(`${prefix}twice`))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn.commit())).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn.rollback())).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn.transaction(async () => undefined))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn.tpcCommit(`${prefix}other`))).toBeInstanceOf(errors.ProgrammingError);
    await conn.tpcPrepare();
    expect(await rejectionOf(conn.tpcPrepare())).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn.query('select 1'))).toBeInstanceOf(errors.ProgrammingError);
    await conn.tpcRollback();
    expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('committing an unknown prepared transaction is the server error', async () => {
    const conn = await open();
    const error = await rejectionOf(conn.tpcCommit(`${prefix}missing`));
    expect(error).toBeInstanceOf(errors.UndefinedObject);
    expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });
});
