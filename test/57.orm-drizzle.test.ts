// Drizzle on pqnode/pg: drizzle-orm/node-postgres given this module's Pool.
import { eq, sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { integer, pgTable, serial, text, timestamp } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import pg from '../lib/pg';
import { rejectionOf, testDsn, uniqueName } from './helpers';

const tableName = uniqueName('dz_item');
const items = pgTable(tableName, {
  id: serial('id').primaryKey(),
  sku: text('sku').notNull().unique(),
  qty: integer('qty').notNull(),
  added: timestamp('added', { withTimezone: true }).notNull().defaultNow(),
});

let pool: pg.Pool;
let db: ReturnType<typeof drizzle>;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: testDsn(), max: 4 });
  // the one-line switch: a Pool of pqnode/pg as Drizzle's client
  db = drizzle({ client: pool });
  await db.execute(sql.raw(`CREATE TABLE ${tableName} (id serial PRIMARY KEY, sku text NOT NULL UNIQUE, qty integer NOT NULL, added timestamptz NOT NULL DEFAULT now())`));
});

afterAll(async () => {
  await db.execute(sql.raw(`DROP TABLE IF EXISTS ${tableName}`));
  await pool.end();
});

function causeOf(error: Error): pg.DatabaseError {
  // Drizzle wraps the driver's error; the driver's is the cause
  return ((error as Error & { cause?: unknown }).cause ?? error) as pg.DatabaseError;
}

describe('Drizzle through pqnode/pg', () => {
  it('creates, reads, updates and deletes', async () => {
    const [inserted] = await db.insert(items).values({ sku: 'a-1', qty: 3 }).returning();
    expect(inserted).toMatchObject({ sku: 'a-1', qty: 3 });
    expect(inserted.added).toBeInstanceOf(Date);
    await db.update(items).set({ qty: 4 }).where(eq(items.id, inserted.id));
    const rows = await db.select().from(items).where(eq(items.sku, 'a-1'));
    expect(rows).toHaveLength(1);
    expect(rows[0].qty).toBe(4);
    expect(rows[0].added.getTime()).toBe(inserted.added.getTime());
    const deleted = await db.delete(items).where(eq(items.id, inserted.id)).returning({ id: items.id });
    expect(deleted).toEqual([{ id: inserted.id }]);
  });

  it('rolls a transaction back, on one pooled connection', async () => {
    const error = await rejectionOf(
      db.transaction(async (tx) => {
        await tx.insert(items).values({ sku: 'rolled', qty: 1 });
        const [{ pid }] = (await tx.execute<{ pid: number }>(sql`SELECT pg_backend_pid() AS pid`)).rows;
        const [{ again }] = (await tx.execute<{ again: number }>(sql`SELECT pg_backend_pid() AS again`)).rows;
        expect(again).toBe(pid);
        tx.rollback();
      }),
    );
    expect(error.constructor.name).toBe('TransactionRollbackError');
    expect(await db.select().from(items).where(eq(items.sku, 'rolled'))).toEqual([]);
  });

  it('fails a duplicate with the server\'s unique-violation error', async () => {
    await db.insert(items).values({ sku: 'dup', qty: 1 });
    const error = await rejectionOf(db.insert(items).values({ sku: 'dup', qty: 2 }));
    const cause = causeOf(error);
    expect(cause).toBeInstanceOf(pg.DatabaseError);
    expect(cause.code).toBe('23505');
    expect(cause.constraint).toBe(`${tableName}_sku_key`);
  });

  it('runs prepared queries and serves concurrent ones through its pool', async () => {
    const bySku = db.select().from(items).where(eq(items.sku, sql.placeholder('sku'))).prepare('dz_by_sku');
    await db.insert(items).values(Array.from({ length: 40 }, (_, i) => ({ sku: `c${i}`, qty: i })));
    const found = await Promise.all(Array.from({ length: 40 }, (_, i) => bySku.execute({ sku: `c${i}` })));
    expect(found.map((rows) => rows[0].qty)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});
