// TypeORM on pqnode/pg: the postgres driver given this module through its `driver` option.
import 'reflect-metadata';
import { DataSource, EntitySchema, QueryFailedError } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import pg from '../lib/pg';
import { rejectionOf, testDsn, uniqueName } from './helpers';

interface Book {
  id: number;
  isbn: string;
  title: string;
  pages: number;
}

const tableName = uniqueName('to_book');
const BookSchema = new EntitySchema<Book>({
  name: 'Book',
  tableName,
  columns: {
    id: { type: Number, primary: true, generated: true },
    isbn: { type: String, unique: true },
    title: { type: String },
    pages: { type: 'int' },
  },
});

let dataSource: DataSource;

beforeAll(async () => {
  dataSource = new DataSource({
    type: 'postgres',
    // the one-line switch: pqnode/pg as TypeORM's driver
    driver: pg,
    url: testDsn(),
    entities: [BookSchema],
    synchronize: true,
    poolSize: 4,
  });
  await dataSource.initialize();
});

afterAll(async () => {
  await dataSource.query(`DROP TABLE IF EXISTS "${tableName}"`);
  await dataSource.destroy();
});

describe('TypeORM through pqnode/pg', () => {
  it('runs on pqnode/pg, not node-postgres', () => {
    expect((dataSource.driver as unknown as { postgres: unknown }).postgres).toBe(pg);
  });

  it('creates the schema, then creates, reads, updates and deletes', async () => {
    const books = dataSource.getRepository(BookSchema);
    const saved = await books.save({ isbn: '1', title: 'Dune', pages: 412 });
    expect(typeof saved.id).toBe('number');
    await books.update({ id: saved.id }, { pages: 500 });
    expect(await books.findOneBy({ isbn: '1' })).toEqual({ id: saved.id, isbn: '1', title: 'Dune', pages: 500 });
    await books.delete({ id: saved.id });
    expect(await books.countBy({ isbn: '1' })).toBe(0);
  });

  it('rolls a transaction back when it throws', async () => {
    const error = await rejectionOf(
      dataSource.transaction(async (manager) => {
        await manager.getRepository(BookSchema).save({ isbn: 'rolled', title: 'x', pages: 1 });
        throw new Error('abort');
      }),
    );
    expect(error.message).toBe('abort');
    expect(await dataSource.getRepository(BookSchema).countBy({ isbn: 'rolled' })).toBe(0);
  });

  it('maps a duplicate to QueryFailedError carrying the unique-violation code', async () => {
    const books = dataSource.getRepository(BookSchema);
    await books.insert({ isbn: 'dup', title: 'a', pages: 1 });
    const error = await rejectionOf(books.insert({ isbn: 'dup', title: 'b', pages: 2 }));
    expect(error).toBeInstanceOf(QueryFailedError);
    const driverError = (error as QueryFailedError).driverError as pg.DatabaseError;
    expect(driverError).toBeInstanceOf(pg.DatabaseError);
    expect(driverError.code).toBe('23505');
  });

  it('streams rows (through pg-query-stream, which TypeORM requires itself)', async () => {
    const books = dataSource.getRepository(BookSchema);
    await books.insert(Array.from({ length: 250 }, (_, i) => ({ isbn: `s${i}`, title: `t${i}`, pages: i })));
    const stream = await books.createQueryBuilder('b').where("b.isbn LIKE 's%'").orderBy('b.pages').stream();
    const rows: Record<string, unknown>[] = [];
    for await (const row of stream) rows.push(row as Record<string, unknown>);
    expect(rows).toHaveLength(250);
    expect(rows[249].b_pages).toBe(249);
  });

  it('serves concurrent queries through its pool', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => dataSource.query('SELECT $1::int AS n', [i])));
    expect(results.map((rows: { n: number }[]) => rows[0].n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });
});
