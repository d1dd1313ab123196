// Transactions: the implicit one opened by the first statement (autocommit off),
// commit / rollback, autocommit, transaction() blocks and their savepoints,
// session characteristics, and the errors of each.
import { afterAll, describe, expect, it } from 'vitest';
import { errors, type Connection } from '../lib';
import { closedAfterEach, connectTest, makeTable, rejectionOf as rejection, sharedConnection } from './helpers';

/** An autocommit connection that creates tables and looks from the outside. */
const observer = sharedConnection({ autocommit: true });

const { open } = closedAfterEach();

/** A committed, empty table (id int primary key, v text). */
const newTable = (): Promise<string> => makeTable(observer(), 'id int primary key, v text', { prefix: 'tx' });

afterAll(async () => {
  const { rows } = await observer().query<{ name: string }>(
    `select tablename as name from pg_tables where schemaname = 'public' and tablename like $1`,
    [`tx\\_${process.pid}\\_%`],
  );
  for (const { name } of rows) await observer().query(`drop table if exists ${name}`);
});

/** The ids in the table as another connection sees them. */
async function idsSeen(table: string, by: Connection = observer()): Promise<number[]> {
  const { rows } = await by.query<{ id: number }>(`select id from ${table} order by id`);
  return rows.map((r) => r.id);
}

describe('the implicit transaction (autocommit off, the default)', () => {
  it('autocommit is false by default', async () => {
    const conn = await open();
    expect(conn.autocommit).toBe(false);
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('INSERT then rollback(): the row is gone', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.query(`insert into ${table} values (1, 'a')`);
    expect(await idsSeen(table, conn)).toEqual([1]);
    await conn.rollback();
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table, conn)).toEqual([]);
    expect(await idsSeen(table)).toEqual([]);
  });

  it('INSERT is invisible to another connection until commit(), then visible', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.query(`insert into ${table} values (1, 'a')`);
    await conn.query(`insert into ${table} values (2, 'b')`);
    expect(await idsSeen(table)).toEqual([]);
    await conn.commit();
    expect(await idsSeen(table)).toEqual([1, 2]);
  });

  it("transactionStatus: 'idle' → 'intrans' after the first statement → 'idle' after commit", async () => {
    const conn = await open();
    expect(conn.info.transactionStatus).toBe('idle');
    await conn.query('select 1');
    expect(conn.info.transactionStatus).toBe('intrans');
    await conn.query('select 2');
    expect(conn.info.transactionStatus).toBe('intrans');
    await conn.commit();
    expect(conn.info.transactionStatus).toBe('idle');
    await conn.execute('select 3');
    expect(conn.info.transactionStatus).toBe('intrans');
    await conn.rollback();
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('a SELECT alone opens a transaction: its snapshot is kept at repeatable read', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.setSession({ isolationLevel: 'repeatable read' });
    expect(await idsSeen(table, conn)).toEqual([]);
    await observer().query(`insert into ${table} values (9, 'z')`);
    expect(await idsSeen(table, conn)).toEqual([]);
    await conn.commit();
    expect(await idsSeen(table, conn)).toEqual([9]);
  });

  it("a failed statement → 'inerror'; every query fails with InFailedSqlTransaction until rollback()", async () => {
    const table = await newTable();
    const conn = await open();
    await conn.query(`insert into ${table} values (1, 'a')`);
    const first = await rejection(conn.query('select 1/0'));
    expect(first).toBeInstanceOf(errors.DivisionByZero);
    expect(conn.info.transactionStatus).toBe('inerror');

    const second = await rejection(conn.query('select 1'));
    expect(second).toBeInstanceOf(errors.InFailedSqlTransaction);
    expect(second).toBeInstanceOf(errors.InternalError);
    expect((second as errors.DatabaseError).sqlstate).toBe('25P02');
    await expect(conn.execute('select 2')).rejects.toBeInstanceOf(errors.InFailedSqlTransaction);
    expect(conn.info.transactionStatus).toBe('inerror');

    await conn.rollback();
    expect(conn.info.transactionStatus).toBe('idle');
    expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
    expect(await idsSeen(table)).toEqual([]);
  });

  it('commit() of a failed transaction rolls it back: nothing is written', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.query(`insert into ${table} values (1, 'a')`);
    await expect(conn.query(`insert into ${table} values (1, 'dup')`)).rejects.toBeInstanceOf(errors.UniqueViolation);
    await conn.commit().catch(() => undefined);
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([]);
    expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('commit() and rollback() with nothing open are no-ops', async () => {
    const conn = await open();
    await conn.commit();
    await conn.rollback();
    await conn.commit();
    expect(conn.info.transactionStatus).toBe('idle');
    // the server was not asked: it would have warned "there is no transaction in progress"
    expect(conn.notices).toEqual([]);
    await conn.query('select 1');
    await conn.commit();
    await conn.commit();
    await conn.rollback();
    expect(conn.notices).toEqual([]);
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('commit() right after a statement issued in the same tick commits that statement', async () => {
    const table = await newTable();
    const conn = await open();
    const insert = conn.query(`insert into ${table} values (5, 'e')`);
    const commit = conn.commit();
    await Promise.all([insert, commit]);
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([5]);
  });

  it('setting autocommit inside a transaction throws ProgrammingError', async () => {
    const conn = await open();
    await conn.query('select 1');
    expect(() => {
      conn.autocommit = true;
    }).toThrow(errors.ProgrammingError);
    expect(conn.autocommit).toBe(false);
    expect(conn.info.transactionStatus).toBe('intrans');
    await conn.rollback();
    conn.autocommit = true;
    expect(conn.autocommit).toBe(true);
  });

  it('setting autocommit while a failed transaction is open throws too', async () => {
    const conn = await open();
    await conn.query('select 1/0').catch(() => undefined);
    expect(() => {
      conn.autocommit = true;
    }).toThrow(errors.ProgrammingError);
    await conn.rollback();
    conn.autocommit = true;
    expect(conn.autocommit).toBe(true);
  });
});

describe('autocommit', () => {
  it('each statement is visible at once; transactionStatus stays idle', async () => {
    const table = await newTable();
    const conn = await open({ autocommit: true });
    expect(conn.autocommit).toBe(true);
    await conn.query(`insert into ${table} values (1, 'a')`);
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([1]);
    await conn.execute(`insert into ${table} values (%s, %s)`, [2, 'b']);
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([1, 2]);
    await conn.rollback();
    expect(await idsSeen(table)).toEqual([1, 2]);
  });

  it('a failed statement does not poison the next one', async () => {
    const conn = await open({ autocommit: true });
    await expect(conn.query('select 1/0')).rejects.toBeInstanceOf(errors.DivisionByZero);
    expect(conn.info.transactionStatus).toBe('idle');
    expect((await conn.query('select 2 as two')).rows).toEqual([{ two: 2 }]);
  });

  it('can be switched on and off between transactions', async () => {
    const table = await newTable();
    const conn = await open();
    conn.autocommit = true;
    await conn.query(`insert into ${table} values (1, 'a')`);
    expect(await idsSeen(table)).toEqual([1]);
    conn.autocommit = false;
    await conn.query(`insert into ${table} values (2, 'b')`);
    expect(conn.info.transactionStatus).toBe('intrans');
    expect(await idsSeen(table)).toEqual([1]);
    await conn.rollback();
    expect(await idsSeen(table)).toEqual([1]);
  });

  it('an explicit BEGIN still works under autocommit', async () => {
    const table = await newTable();
    const conn = await open({ autocommit: true });
    await conn.query('begin');
    await conn.query(`insert into ${table} values (1, 'a')`);
    expect(conn.info.transactionStatus).toBe('intrans');
    expect(await idsSeen(table)).toEqual([]);
    await conn.commit();
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([1]);
    await conn.query('begin');
    await conn.query(`insert into ${table} values (2, 'b')`);
    await conn.rollback();
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([1]);
  });
});

describe('transaction(fn)', () => {
  it('commits when fn resolves: visible to another connection; returns fn’s value', async () => {
    const table = await newTable();
    const conn = await open();
    let passed: Connection | undefined;
    const value = await conn.transaction(async (tx) => {
      passed = tx;
      await tx.query(`insert into ${table} values (1, 'a')`);
      expect(conn.info.transactionStatus).toBe('intrans');
      expect(await idsSeen(table)).toEqual([]);
      return { answer: 42 };
    });
    expect(passed).toBe(conn);
    expect(value).toEqual({ answer: 42 });
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([1]);
  });

  it('accepts a synchronous fn', async () => {
    const conn = await open();
    const value = await conn.transaction(() => 'sync');
    expect(value).toBe('sync');
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('rolls back when fn throws and rethrows the same error object', async () => {
    const table = await newTable();
    const conn = await open();
    const boom = new Error('boom');
    const error = await rejection(
      conn.transaction(async (tx) => {
        await tx.query(`insert into ${table} values (1, 'a')`);
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([]);
    expect(await idsSeen(table, conn)).toEqual([]);
  });

  it('rolls back when a query in fn fails, rethrowing the server error', async () => {
    const table = await newTable();
    const conn = await open();
    const error = await rejection(
      conn.transaction(async (tx) => {
        await tx.query(`insert into ${table} values (1, 'a')`);
        await tx.query(`insert into ${table} values (1, 'again')`);
      }),
    );
    expect(error).toBeInstanceOf(errors.UniqueViolation);
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([]);
    expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('works under autocommit too', async () => {
    const table = await newTable();
    const conn = await open({ autocommit: true });
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1, 'a')`);
      expect(conn.info.transactionStatus).toBe('intrans');
      expect(await idsSeen(table)).toEqual([]);
    });
    expect(await idsSeen(table)).toEqual([1]);
    await expect(
      conn.transaction(async (tx) => {
        await tx.query(`insert into ${table} values (2, 'b')`);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await idsSeen(table)).toEqual([1]);
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('a non-function is refused', async () => {
    const conn = await open();
    await expect(conn.transaction('select 1' as never)).rejects.toBeInstanceOf(errors.ProgrammingError);
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('nested: an inner throw rolls back only the inner part; the outer commits the rest', async () => {
    const table = await newTable();
    const conn = await open();
    const inner = new Error('inner');
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1, 'outer before')`);
      const error = await rejection(
        tx.transaction(async () => {
          await tx.query(`insert into ${table} values (2, 'inner')`);
          throw inner;
        }),
      );
      expect(error).toBe(inner);
      expect(conn.info.transactionStatus).toBe('intrans');
      expect(await idsSeen(table, tx)).toEqual([1]);
      await tx.query(`insert into ${table} values (3, 'outer after')`);
    });
    expect(await idsSeen(table)).toEqual([1, 3]);
  });

  it('nested: an inner server error is rolled back to the savepoint and the outer goes on', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1, 'a')`);
      await expect(
        tx.transaction(async () => {
          await tx.query(`insert into ${table} values (2, 'b')`);
          await tx.query(`insert into ${table} values (1, 'duplicate')`);
        }),
      ).rejects.toBeInstanceOf(errors.UniqueViolation);
      expect(conn.info.transactionStatus).toBe('intrans');
      await tx.query(`insert into ${table} values (3, 'c')`);
    });
    expect(await idsSeen(table)).toEqual([1, 3]);
  });

  it('nested: a successful inner block is committed with the outer, and undone with it', async () => {
    const table = await newTable();
    const conn = await open();
    const inner = await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1, 'a')`);
      return tx.transaction(async () => {
        await tx.query(`insert into ${table} values (2, 'b')`);
        expect(await idsSeen(table)).toEqual([]);
        return 'inner value';
      });
    });
    expect(inner).toBe('inner value');
    expect(await idsSeen(table)).toEqual([1, 2]);

    await expect(
      conn.transaction(async (tx) => {
        await tx.transaction(async () => {
          await tx.query(`insert into ${table} values (3, 'c')`);
        });
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await idsSeen(table)).toEqual([1, 2]);
  });

  it('three levels deep: each level undoes only its own part', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1, 'level 1')`);
      await tx.transaction(async () => {
        await tx.query(`insert into ${table} values (2, 'level 2')`);
        await expect(
          tx.transaction(async () => {
            await tx.query(`insert into ${table} values (3, 'level 3')`);
            throw new Error('level 3 fails');
          }),
        ).rejects.toThrow('level 3 fails');
        await tx.transaction(async () => {
          await tx.query(`insert into ${table} values (4, 'level 3 again')`);
        });
        expect(await idsSeen(table, tx)).toEqual([1, 2, 4]);
      });
      await expect(
        tx.transaction(async () => {
          await tx.query(`insert into ${table} values (5, 'level 2 bis')`);
          await tx.transaction(async () => {
            await tx.query(`insert into ${table} values (6, 'level 3 bis')`);
          });
          throw new Error('level 2 fails');
        }),
      ).rejects.toThrow('level 2 fails');
      expect(await idsSeen(table, tx)).toEqual([1, 2, 4]);
    });
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([1, 2, 4]);
  });

  it('a savepoint name can be given to a nested block', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1, 'a')`);
      await tx.transaction(
        async () => {
          await tx.query(`insert into ${table} values (2, 'b')`);
          await tx.query('rollback to savepoint "my point"');
        },
        { savepointName: 'my point' },
      );
    });
    expect(await idsSeen(table)).toEqual([1]);
  });

  it('inside an implicit transaction: uses a savepoint and does not commit the outer', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.query(`insert into ${table} values (1, 'implicit')`);
    expect(conn.info.transactionStatus).toBe('intrans');
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (2, 'block')`);
    });
    expect(conn.info.transactionStatus).toBe('intrans');
    expect(await idsSeen(table)).toEqual([]);
    await expect(
      conn.transaction(async (tx) => {
        await tx.query(`insert into ${table} values (3, 'undone')`);
        throw new Error('undo me');
      }),
    ).rejects.toThrow('undo me');
    expect(conn.info.transactionStatus).toBe('intrans');
    expect(await idsSeen(table, conn)).toEqual([1, 2]);
    expect(await idsSeen(table)).toEqual([]);
    await conn.rollback();
    expect(await idsSeen(table)).toEqual([]);
    expect(await idsSeen(table, conn)).toEqual([]);
  });

  it('inside an implicit transaction, commit() afterwards commits both parts', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.query(`insert into ${table} values (1, 'implicit')`);
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (2, 'block')`);
    });
    await conn.commit();
    expect(await idsSeen(table)).toEqual([1, 2]);
  });

  it('commit() and rollback() inside fn throw ProgrammingError', async () => {
    const table = await newTable();
    const conn = await open();
    const seen: Error[] = [];
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1, 'a')`);
      seen.push(await rejection(tx.commit()));
      seen.push(await rejection(tx.rollback()));
      expect(await idsSeen(table)).toEqual([]);
      expect(conn.info.transactionStatus).toBe('intrans');
    });
    expect(seen).toHaveLength(2);
    for (const error of seen) expect(error).toBeInstanceOf(errors.ProgrammingError);
    expect(await idsSeen(table)).toEqual([1]);
  });

  it('commit() inside a nested block throws as well', async () => {
    const conn = await open();
    await conn.transaction(async (tx) => {
      await tx.transaction(async () => {
        await expect(tx.commit()).rejects.toBeInstanceOf(errors.ProgrammingError);
      });
    });
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('setting autocommit inside fn throws ProgrammingError', async () => {
    const conn = await open();
    await conn.transaction(async (tx) => {
      expect(() => {
        tx.autocommit = true;
      }).toThrow(errors.ProgrammingError);
    });
    expect(conn.autocommit).toBe(false);
  });

  it('fn that swallows a query error → rejects with InFailedSqlTransaction; nothing is committed', async () => {
    const table = await newTable();
    const conn = await open();
    const error = await rejection(
      conn.transaction(async (tx) => {
        await tx.query(`insert into ${table} values (1, 'a')`);
        try {
          await tx.query('select 1/0');
        } catch {
          // swallowed on purpose
        }
        return 'looks fine';
      }),
    );
    expect(error).toBeInstanceOf(errors.InFailedSqlTransaction);
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([]);
    expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('fn that swallows an error inside a nested block → the inner block rejects, the outer can go on', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (1, 'a')`);
      const inner = await rejection(
        tx.transaction(async () => {
          await tx.query(`insert into ${table} values (2, 'b')`);
          await tx.query('select 1/0').catch(() => undefined);
        }),
      );
      expect(inner).toBeInstanceOf(errors.InFailedSqlTransaction);
      expect(conn.info.transactionStatus).toBe('intrans');
      await tx.query(`insert into ${table} values (3, 'c')`);
    });
    expect(await idsSeen(table)).toEqual([1, 3]);
  });

  it("{ isolationLevel: 'serializable', readonly: true } sets up the transaction; a write fails", async () => {
    const table = await newTable();
    const conn = await open();
    const settings = await conn.transaction(
      async (tx) => {
        const iso = await tx.query<{ transaction_isolation: string }>('show transaction_isolation');
        const ro = await tx.query<{ transaction_read_only: string }>('show transaction_read_only');
        return [iso.rows[0].transaction_isolation, ro.rows[0].transaction_read_only];
      },
      { isolationLevel: 'serializable', readonly: true },
    );
    expect(settings).toEqual(['serializable', 'on']);

    const error = await rejection(
      conn.transaction(
        async (tx) => {
          await tx.query(`insert into ${table} values (1, 'a')`);
        },
        { isolationLevel: 'serializable', readonly: true },
      ),
    );
    expect(error).toBeInstanceOf(errors.ReadOnlySqlTransaction);
    expect((error as errors.DatabaseError).sqlstate).toBe('25006');
    expect(conn.info.transactionStatus).toBe('idle');

    // the options apply to that block only
    const after = await conn.transaction(async (tx) => {
      const iso = await tx.query<{ transaction_isolation: string }>('show transaction_isolation');
      const ro = await tx.query<{ transaction_read_only: string }>('show transaction_read_only');
      return [iso.rows[0].transaction_isolation, ro.rows[0].transaction_read_only];
    });
    expect(after).toEqual(['read committed', 'off']);
    await conn.transaction(async (tx) => {
      await tx.query(`insert into ${table} values (2, 'b')`);
    });
    expect(await idsSeen(table)).toEqual([2]);
  });

  it('a nested block cannot change the isolation level or read-only mode', async () => {
    const conn = await open();
    await conn.transaction(async (tx) => {
      await expect(tx.transaction(async () => 1, { isolationLevel: 'serializable' })).rejects.toBeInstanceOf(
        errors.ProgrammingError,
      );
      await expect(tx.transaction(async () => 1, { readonly: true })).rejects.toBeInstanceOf(errors.ProgrammingError);
      expect(conn.info.transactionStatus).toBe('intrans');
    });
    expect(conn.info.transactionStatus).toBe('idle');
  });

  it('a bad isolation level for transaction() → ProgrammingError, nothing opened', async () => {
    const conn = await open();
    let ran = false;
    await expect(
      conn.transaction(
        async () => {
          ran = true;
        },
        { isolationLevel: 'chaotic' as never },
      ),
    ).rejects.toBeInstanceOf(errors.ProgrammingError);
    expect(ran).toBe(false);
    expect(conn.info.transactionStatus).toBe('idle');
    expect((await conn.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('a closed connection rejects transaction() with InterfaceError', async () => {
    const conn = await connectTest();
    await conn.close();
    await expect(conn.transaction(async () => 1)).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(conn.commit()).rejects.toBeInstanceOf(errors.InterfaceError);
    await expect(conn.rollback()).rejects.toBeInstanceOf(errors.InterfaceError);
  });
});

describe('setSession', () => {
  it("{ isolationLevel: 'repeatable read', readonly: true } applies to the next implicit transaction", async () => {
    const table = await newTable();
    const conn = await open();
    await conn.setSession({ isolationLevel: 'repeatable read', readonly: true });
    expect(conn.info.transactionStatus).toBe('idle');
    const iso = await conn.query<{ transaction_isolation: string }>('show transaction_isolation');
    expect(iso.rows[0].transaction_isolation).toBe('repeatable read');
    const ro = await conn.query<{ transaction_read_only: string }>('show transaction_read_only');
    expect(ro.rows[0].transaction_read_only).toBe('on');
    await expect(conn.query(`insert into ${table} values (1, 'a')`)).rejects.toBeInstanceOf(errors.ReadOnlySqlTransaction);
    await conn.rollback();

    // it lasts: the next transaction is the same, and so is a transaction() block
    const again = await conn.query<{ transaction_read_only: string }>('show transaction_read_only');
    expect(again.rows[0].transaction_read_only).toBe('on');
    await conn.rollback();

    const inBlock = await conn.transaction(async (tx) => {
      const r = await tx.query<{ transaction_read_only: string }>('show transaction_read_only');
      return r.rows[0].transaction_read_only;
    });
    expect(inBlock).toBe('on');

    await conn.setSession({ readonly: false });
    await conn.query(`insert into ${table} values (2, 'b')`);
    const still = await conn.query<{ transaction_isolation: string }>('show transaction_isolation');
    expect(still.rows[0].transaction_isolation).toBe('repeatable read');
    await conn.commit();
    expect(await idsSeen(table)).toEqual([2]);
  });

  it('accepts the other spellings psycopg accepts for the level', async () => {
    const conn = await open();
    await conn.setSession({ isolationLevel: 'SERIALIZABLE' as never });
    const iso = await conn.query<{ transaction_isolation: string }>('show transaction_isolation');
    expect(iso.rows[0].transaction_isolation).toBe('serializable');
  });

  it('a bad isolation level → ProgrammingError', async () => {
    const conn = await open();
    await expect(conn.setSession({ isolationLevel: 'sloppy' as never })).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(conn.setSession({ readonly: 'yes' as never })).rejects.toBeInstanceOf(errors.ProgrammingError);
    await expect(conn.setSession({ isolation: 'serializable' } as never)).rejects.toBeInstanceOf(errors.ProgrammingError);
    // nothing changed
    const iso = await conn.query<{ transaction_isolation: string }>('show transaction_isolation');
    expect(iso.rows[0].transaction_isolation).toBe('read committed');
  });

  it('inside a transaction → ProgrammingError', async () => {
    const conn = await open();
    await conn.query('select 1');
    await expect(conn.setSession({ isolationLevel: 'serializable' })).rejects.toBeInstanceOf(errors.ProgrammingError);
    await conn.rollback();
    const iso = await conn.query<{ transaction_isolation: string }>('show transaction_isolation');
    expect(iso.rows[0].transaction_isolation).toBe('read committed');
  });

  it('{ autocommit: true } switches autocommit on', async () => {
    const table = await newTable();
    const conn = await open();
    await conn.setSession({ autocommit: true });
    expect(conn.autocommit).toBe(true);
    await conn.query(`insert into ${table} values (1, 'a')`);
    expect(conn.info.transactionStatus).toBe('idle');
    expect(await idsSeen(table)).toEqual([1]);
    await conn.setSession({ autocommit: false });
    expect(conn.autocommit).toBe(false);
    await conn.query(`insert into ${table} values (2, 'b')`);
    expect(await idsSeen(table)).toEqual([1]);
    await conn.commit();
    expect(await idsSeen(table)).toEqual([1, 2]);
  });

  it('deferrable is applied with serializable read only', async () => {
    const conn = await open();
    await conn.setSession({ isolationLevel: 'serializable', readonly: true, deferrable: true });
    const d = await conn.query<{ transaction_deferrable: string }>('show transaction_deferrable');
    expect(d.rows[0].transaction_deferrable).toBe('on');
  });
});

describe('serialization failures', () => {
  it('two serializable transactions updating the same row → SerializationFailure ⊂ TransactionRollbackError', async () => {
    const table = await newTable();
    await observer().query(`insert into ${table} values (1, '0')`);
    const a = await open();
    const b = await open();
    await a.setSession({ isolationLevel: 'serializable' });
    await b.setSession({ isolationLevel: 'serializable' });

    // both take their snapshot
    expect((await a.query(`select v from ${table} where id = 1`)).rows).toEqual([{ v: '0' }]);
    expect((await b.query(`select v from ${table} where id = 1`)).rows).toEqual([{ v: '0' }]);
    await b.query(`update ${table} set v = 'b' where id = 1`);
    await b.commit();

    const error = await rejection(a.query(`update ${table} set v = 'a' where id = 1`));
    expect(error).toBeInstanceOf(errors.SerializationFailure);
    expect(error).toBeInstanceOf(errors.TransactionRollbackError);
    expect(error).toBeInstanceOf(errors.OperationalError);
    expect((error as errors.DatabaseError).sqlstate).toBe('40001');
    expect(a.info.transactionStatus).toBe('inerror');
    await a.rollback();
    expect((await a.query(`select v from ${table} where id = 1`)).rows).toEqual([{ v: 'b' }]);
  });

  it('write skew between two transaction() blocks → one fails with SerializationFailure', async () => {
    const table = await newTable();
    await observer().query(`insert into ${table} values (1, 'on'), (2, 'on')`);
    const a = await open();
    const b = await open();
    let release!: () => void;
    const bothRead = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const read = async (tx: Connection) => {
      await tx.query(`select count(*) from ${table} where v = 'on'`);
      reads++;
      if (reads === 2) release();
      await bothRead;
    };
    const outcomes = await Promise.allSettled([
      a.transaction(
        async (tx) => {
          await read(tx);
          await tx.query(`update ${table} set v = 'off' where id = 1`);
        },
        { isolationLevel: 'serializable' },
      ),
      b.transaction(
        async (tx) => {
          await read(tx);
          await tx.query(`update ${table} set v = 'off' where id = 2`);
        },
        { isolationLevel: 'serializable' },
      ),
    ]);
    const failed = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(failed).toHaveLength(1);
    expect(failed[0].reason).toBeInstanceOf(errors.SerializationFailure);
    expect(a.info.transactionStatus).toBe('idle');
    expect(b.info.transactionStatus).toBe('idle');
    const { rows } = await observer().query<{ n: number }>(`select count(*)::int as n from ${table} where v = 'off'`);
    expect(rows[0].n).toBe(1);
  });
});
