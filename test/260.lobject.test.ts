import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { errors } from '../lib';
import { connectTest, rejectionOf, sharedConnection } from './helpers';

const conn = sharedConnection();
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'pqnode-lob-'));
});

afterAll(async () => {
  await conn().rollback().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function exists(oid: number): Promise<boolean> {
  const { rows } = await conn().query<{ n: bigint }>('select count(*) as n from pg_largeobject_metadata where oid = $1', [oid]);
  return rows[0].n === 1n;
}

describe('conn.lobject()', () => {
  it('creates, writes, seeks, reads, tells, truncates, closes, reopens and unlinks', async () => {
    const lob = await conn().lobject();
    expect(lob.oid).toBeGreaterThan(0);
    expect(lob.mode).toBe('rw');
    expect(await lob.write('hello, ')).toBe(7);
    expect(await lob.write(Buffer.from('world'))).toBe(5);
    expect(await lob.tell()).toBe(12);
    expect(await lob.seek(0)).toBe(0);
    expect(await lob.read(5)).toEqual(Buffer.from('hello'));
    expect(await lob.seek(2, 1)).toBe(7);
    expect(await lob.read()).toEqual(Buffer.from('world'));
    expect(await lob.seek(-5, 2)).toBe(7);
    await lob.truncate(5);
    await lob.seek(0);
    expect(await lob.read()).toEqual(Buffer.from('hello'));
    await lob.close();
    expect(lob.closed).toBe(true);
    expect(await rejectionOf(lob.read())).toBeInstanceOf(errors.InterfaceError);
    await lob.close();

    const again = await conn().lobject(lob.oid, 'rt');
    expect(again.mode).toBe('rt');
    expect(await again.read()).toBe('hello');
    expect(await rejectionOf(again.write('x'))).toBeInstanceOf(errors.ProgrammingError);
    await again.unlink();
    expect(await exists(lob.oid)).toBe(false);
    await conn().commit();
  });

  it('keeps bytes exact, including all 256 byte values across chunk boundaries', async () => {
    const data = Buffer.concat([Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(600 * 1024)]);
    const lob = await conn().lobject();
    expect(await lob.write(data)).toBe(data.length);
    await lob.seek(0);
    expect(((await lob.read()) as Buffer).equals(data)).toBe(true);
    await lob.seek(100);
    expect(((await lob.read(300 * 1024)) as Buffer).equals(data.subarray(100, 100 + 300 * 1024))).toBe(true);
    await lob.unlink();
    await conn().commit();
  });

  it('outlives the transaction that wrote it, not its descriptor', async () => {
    const lob = await conn().lobject(0, 'w');
    await lob.write('kept');
    await conn().commit();
    // the descriptor went with the transaction; the object stayed
    expect(await rejectionOf(lob.write('more'))).toBeInstanceOf(errors.DatabaseError);
    await conn().rollback();
    const reader = await conn().lobject(lob.oid);
    expect(await reader.read()).toEqual(Buffer.from('kept'));
    await reader.unlink();
    await conn().commit();
  });

  it('exports to and imports from files of the client', async () => {
    const source = path.join(dir, 'in.bin');
    const target = path.join(dir, 'out.bin');
    const data = randomBytes(700 * 1024);
    writeFileSync(source, data);
    const lob = await conn().lobject();
    await lob.import(source);
    await lob.export(target);
    expect(readFileSync(target).equals(data)).toBe(true);
    const notOpened = await conn().lobject(lob.oid, 'n');
    expect(await rejectionOf(notOpened.read())).toBeInstanceOf(errors.InterfaceError);
    await notOpened.unlink();
    await conn().commit();
  });

  it('streams in and out with backpressure', async () => {
    const data = randomBytes(2 * 1024 * 1024 + 17);
    const lob = await conn().lobject();
    await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), lob.createWriteStream());
    const received: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk);
        setTimeout(callback, 1);
      },
    });
    await pipeline(lob.createReadStream({ start: 0 }), slow);
    expect(Buffer.concat(received).equals(data)).toBe(true);
    // chunks are bounded: the stream never read it all at once
    expect(Math.max(...received.map((chunk) => chunk.length))).toBeLessThanOrEqual(256 * 1024);
    await lob.unlink();
    await conn().commit();
  });

  it('errors: autocommit, a bad mode or OID, a missing object, a closed connection', async () => {
    const auto = await connectTest({ autocommit: true });
    try {
      expect(await rejectionOf(auto.lobject())).toBeInstanceOf(errors.ProgrammingError);
    } finally {
      await auto.close();
    }
    expect(await rejectionOf(conn().lobject(0, 'x'))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn().lobject(-1))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(conn().lobject(1.5))).toBeInstanceOf(errors.ProgrammingError);
    const missing = await rejectionOf(conn().lobject(4000000000, 'r'));
    expect(missing).toBeInstanceOf(errors.UndefinedObject);
    await conn().rollback();
    const lob = await conn().lobject();
    expect(await rejectionOf(lob.seek(1.5))).toBeInstanceOf(errors.ProgrammingError);
    expect(await rejectionOf(lob.truncate(-1))).toBeInstanceOf(errors.ProgrammingError);
    await conn().rollback();
    const closed = await connectTest();
    await closed.close();
    expect(await rejectionOf(closed.lobject())).toBeInstanceOf(errors.InterfaceError);
  });
});
