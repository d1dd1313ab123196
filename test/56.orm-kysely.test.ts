// Kysely on pqnode/pg: PostgresDialect with this module's Pool and Cursor.
import { Kysely, Migrator, PostgresDialect, sql, type Generated, type Migration, type PostgresPool } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import pg from '../lib/pg';
import { rejectionOf, testDsn, uniqueName } from './helpers';

const table = uniqueName('ky_person');

interface Database {
  [table: string]: { id: Generated<number>; name: string; age: number };
}

let db: Kysely<Database>;

beforeAll(async () => {
  db = new Kysely<Database>({
    // the one-line switch: the Pool and Cursor of pqnode/pg
    // (Kysely types a result's command as a union of tags, node-postgres as a string: a cast)
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: testDsn(), max: 4 }) as unknown as PostgresPool, cursor: pg.Cursor }),
  });
  const migrations: Record<string, Migration> = {
    '001_person': {
      up: async (k) => {
        await k.schema
          .createTable(table)
          .addColumn('id', 'serial', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('age', 'integer', (c) => c.notNull())
          .execute();
      },
      down: async (k) => {
        await k.schema.dropTable(table).execute();
      },
    },
  };
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: `${table}_migrations`,
    migrationLockTableName: `${table}_migrations_lock`,
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
});

afterAll(async () => {
  await db.schema.dropTable(table).ifExists().execute();
  await db.schema.dropTable(`${table}_migrations`).ifExists().execute();
  await db.schema.dropTable(`${table}_migrations_lock`).ifExists().execute();
  await db.destroy();
});

describe('Kysely through pqnode/pg', () => {
  it('creates, reads, updates and deletes', async () => {
    const inserted = await db.insertInto(table).values({ name: 'ada', age: 36 }).returning(['id', 'name']).executeTakeFirstOrThrow();
    expect(inserted.name).toBe('ada');
    expect(typeof inserted.id).toBe('number');
    const updated = await db.updateTable(table).set({ age: 37 }).where('id', '=', inserted.id).executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(1n);
    const row = await db.selectFrom(table).selectAll().where('name', '=', 'ada').executeTakeFirstOrThrow();
    expect(row).toEqual({ id: inserted.id, name: 'ada', age: 37 });
    const deleted = await db.deleteFrom(table).where('id', '=', inserted.id).executeTakeFirst();
    expect(deleted.numDeletedRows).toBe(1n);
  });

  it('rolls a transaction back when it throws', async () => {
    const error = await rejectionOf(
      db.transaction().execute(async (trx) => {
        await trx.insertInto(table).values({ name: 'rolled back', age: 1 }).execute();
        throw new Error('no');
      }),
    );
    expect(error.message).toBe('no');
    const { count } = await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('count')).where('name', '=', 'rolled back').executeTakeFirstOrThrow();
    expect(count).toBe('0');
  });

  it('fails a duplicate with the server\'s unique-violation error', async () => {
    await db.insertInto(table).values({ name: 'dup', age: 1 }).execute();
    const error = (await rejectionOf(db.insertInto(table).values({ name: 'dup', age: 2 }).execute())) as pg.DatabaseError;
    expect(error).toBeInstanceOf(pg.DatabaseError);
    expect(error.code).toBe('23505');
    expect(error.constraint).toBe(`${table}_name_key`);
  });

  it('streams rows through the Cursor', async () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ name: `s${i}`, age: i }));
    await db.insertInto(table).values(many).execute();
    let count = 0;
    let ageSum = 0;
    for await (const row of db.selectFrom(table).select(['age']).where('name', 'like', 's%').orderBy('age').stream(50)) {
      count++;
      ageSum += row.age;
    }
    expect(count).toBe(500);
    expect(ageSum).toBe((499 * 500) / 2);
  });

  it('serves concurrent queries through its pool', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => sql<{ n: number }>`SELECT ${i}::int AS n`.execute(db)));
    expect(results.map((r) => r.rows[0].n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });
});
