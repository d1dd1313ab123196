// Knex on pqnode/pg: its PostgreSQL client with this module as the driver.
import { PassThrough } from 'node:stream';
import knexFactory, { type Knex } from 'knex';
// knex's PostgreSQL dialect class, to name its driver
import ClientPG from 'knex/lib/dialects/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import pg from '../lib/pg';
import { rejectionOf, testDsn, uniqueName } from './helpers';

const table = uniqueName('kx_account');
let knex: Knex;

beforeAll(async () => {
  knex = knexFactory({
    // the one-line switch: knex's pg client, its driver pqnode/pg
    client: class extends ClientPG {
      _driver() {
        return pg;
      }
    },
    connection: testDsn(),
    pool: { min: 0, max: 4 },
  });
  await knex.schema.createTable(table, (t) => {
    t.increments('id');
    t.string('email').notNullable().unique();
    t.decimal('balance', 12, 2).notNullable().defaultTo(0);
    t.jsonb('meta');
  });
});

afterAll(async () => {
  await knex.schema.dropTableIfExists(table);
  await knex.destroy();
});

describe('Knex through pqnode/pg', () => {
  it('runs on pqnode/pg, not node-postgres', () => {
    expect((knex.client as unknown as { driver: unknown }).driver).toBe(pg);
  });

  it('creates, reads, updates and deletes', async () => {
    const [row] = await knex(table).insert({ email: 'a@x', balance: '10.50', meta: { tier: 'gold' } }).returning('*');
    expect(row).toMatchObject({ email: 'a@x', balance: '10.50', meta: { tier: 'gold' } });
    expect(await knex(table).where({ id: row.id }).update({ balance: '11.00' })).toBe(1);
    const found = await knex(table).where('email', 'a@x').first();
    expect(found.balance).toBe('11.00');
    expect(await knex(table).where({ id: row.id }).del()).toBe(1);
  });

  it('rolls a transaction back when it throws', async () => {
    const error = await rejectionOf(
      knex.transaction(async (trx) => {
        await trx(table).insert({ email: 'rolled@x' });
        throw new Error('abort');
      }),
    );
    expect(error.message).toBe('abort');
    expect(await knex(table).where('email', 'rolled@x')).toEqual([]);
  });

  it('fails a duplicate with the server\'s unique-violation error', async () => {
    await knex(table).insert({ email: 'dup@x' });
    const error = (await rejectionOf(knex(table).insert({ email: 'dup@x' }))) as pg.DatabaseError;
    expect(error).toBeInstanceOf(pg.DatabaseError);
    expect(error.code).toBe('23505');
    expect(error.constraint).toBe(`${table}_email_unique`);
  });

  it('streams rows (through pg-query-stream, which knex requires itself)', async () => {
    await knex(table).insert(Array.from({ length: 300 }, (_, i) => ({ email: `s${i}@x`, balance: i })));
    const out = new PassThrough({ objectMode: true });
    const rows: { email: string }[] = [];
    out.on('data', (row: { email: string }) => rows.push(row));
    await knex(table).where('email', 'like', 's%').orderBy('id').stream((stream) => stream.pipe(out));
    expect(rows).toHaveLength(300);
    expect(rows[299].email).toBe('s299@x');
  });

  it('serves concurrent queries through its pool', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => knex.raw('SELECT ?::int AS n', [i])));
    expect(results.map((r: { rows: { n: number }[] }) => r.rows[0].n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });
});
