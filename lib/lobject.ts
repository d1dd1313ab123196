// Large objects, as psycopg2's lobject: read, write, seek, tell, truncate, close, unlink,
// export and import of files, and stream forms. Everything goes through the server's lo_*
// functions as ordinary queries, so nothing blocks the event loop. A large object descriptor
// lives as long as the transaction that opened it, as in PostgreSQL itself.
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import * as errors from './errors';
import { utf8Bytes } from './utf8';
import type { Connection } from './connection';

/** INV_READ and INV_WRITE from libpq-fs.h */
const INV_READ = 0x40000;
const INV_WRITE = 0x20000;
/** bytes per loread()/lowrite() round trip in the stream forms and read() */
const CHUNK = 256 * 1024;

export type LargeObjectMode = 'r' | 'w' | 'rw' | 'n' | 'rb' | 'wb' | 'rwb' | 'nb' | 'rt' | 'wt' | 'rwt' | 'nt';

interface ParsedMode {
  read: boolean;
  write: boolean;
  /** 'n': the object is not opened (only unlink() and export()/import() then make sense) */
  open: boolean;
  text: boolean;
}

function parseMode(mode: string): ParsedMode {
  const match = /^(r|w|rw|n)([bt]?)$/.exec(mode);
  if (match === null) throw new errors.ProgrammingError(`invalid large object mode ${JSON.stringify(mode)}: use r, w, rw or n, with b or t after it`);
  const access = match[1];
  return { read: access.includes('r'), write: access.includes('w'), open: access !== 'n', text: match[2] === 't' };
}

export class LargeObject {
  #conn: Connection;
  #fd: number | null;
  #mode: ParsedMode;

  /** @internal use conn.lobject() */
  constructor(
    conn: Connection,
    readonly oid: number,
    readonly mode: string,
    fd: number | null,
  ) {
    this.#conn = conn;
    this.#fd = fd;
    this.#mode = parseMode(mode);
  }

  get closed(): boolean {
    return this.#fd === null;
  }

  /** Read `size` bytes (all that is left when omitted or negative): a Buffer, or a string in text mode. */
  async read(size = -1): Promise<Buffer | string> {
    const fd = this.#open('read');
    if (!this.#mode.read) throw new errors.ProgrammingError('the large object was not opened for reading');
    const chunks: Buffer[] = [];
    let wanted = size < 0 ? Infinity : size;
    while (wanted > 0) {
      const length = Math.min(wanted, CHUNK);
      const chunk = await this.#readChunk(fd, length);
      chunks.push(chunk);
      wanted -= chunk.length;
      if (chunk.length < length) break;
    }
    const data = Buffer.concat(chunks);
    return this.#mode.text ? data.toString('utf8') : data;
  }

  /** Write a Buffer (or a string, as UTF-8); resolves with the number of bytes written. */
  async write(data: Buffer | Uint8Array | string): Promise<number> {
    const fd = this.#open('write');
    if (!this.#mode.write) throw new errors.ProgrammingError('the large object was not opened for writing');
    const bytes = typeof data === 'string' ? utf8Bytes(data, 'the data') : data;
    if (!(bytes instanceof Uint8Array)) throw new TypeError('write() takes a Buffer, a Uint8Array or a string');
    let written = 0;
    for (let offset = 0; offset < bytes.length; offset += CHUNK) {
      const { rows } = await this.#conn.query<{ n: number }>('SELECT lowrite($1, $2) AS n', [fd, bytes.subarray(offset, offset + CHUNK)]);
      written += rows[0].n;
    }
    return written;
  }

  /** Move the position: `whence` 0 from the start, 1 from the current position, 2 from the end. */
  async seek(offset: number, whence: 0 | 1 | 2 = 0): Promise<number> {
    const fd = this.#open('seek');
    if (!Number.isSafeInteger(offset)) throw new errors.ProgrammingError('seek() offset must be an integer');
    if (whence !== 0 && whence !== 1 && whence !== 2) throw new errors.ProgrammingError('seek() whence must be 0, 1 or 2');
    const { rows } = await this.#conn.query<{ position: bigint }>('SELECT lo_lseek64($1, $2, $3) AS position', [fd, offset, whence]);
    return Number(rows[0].position);
  }

  async tell(): Promise<number> {
    const fd = this.#open('tell');
    const { rows } = await this.#conn.query<{ position: bigint }>('SELECT lo_tell64($1) AS position', [fd]);
    return Number(rows[0].position);
  }

  /** Cut (or extend with zeros) the object to `length` bytes. */
  async truncate(length = 0): Promise<void> {
    const fd = this.#open('truncate');
    if (!Number.isSafeInteger(length) || length < 0) throw new errors.ProgrammingError('truncate() length must be a non-negative integer');
    await this.#conn.query('SELECT lo_truncate64($1, $2)', [fd, length]);
  }

  async close(): Promise<void> {
    if (this.#fd === null) return;
    const fd = this.#fd;
    this.#fd = null;
    // a descriptor dies with its transaction: nothing to close on a connection that went away
    if (!this.#conn.closed && this.#conn.info.transactionStatus === 'intrans') {
      await this.#conn.query('SELECT lo_close($1)', [fd]);
    }
  }

  /** Close it and delete the object from the database. */
  async unlink(): Promise<void> {
    await this.close();
    await this.#conn.query('SELECT lo_unlink($1)', [this.oid]);
  }

  /** Write the whole object into a file of the client's filesystem. */
  async export(path: string): Promise<void> {
    await pipeline(this.createReadStream({ start: 0 }), createWriteStream(path));
  }

  /** Write a file of the client's filesystem into the object, at the current position. */
  async import(path: string): Promise<void> {
    await pipeline(createReadStream(path, { highWaterMark: CHUNK }), this.createWriteStream());
  }

  /** The object's bytes from `start` (default: the current position) as a Readable. */
  createReadStream(options: { start?: number } = {}): Readable {
    let positioned = options.start === undefined;
    const nextChunk = async (): Promise<Buffer> => {
      const fd = this.#open('read');
      if (!this.#mode.read) throw new errors.ProgrammingError('the large object was not opened for reading');
      if (!positioned) {
        positioned = true;
        await this.seek(options.start as number, 0);
      }
      return this.#readChunk(fd, CHUNK);
    };
    // one chunk per read() call: the consumer's pace sets the pace of the queries
    const stream: Readable = new Readable({
      read: () => {
        nextChunk().then(
          (chunk) => {
            if (chunk.length > 0) stream.push(chunk);
            if (chunk.length < CHUNK) stream.push(null);
          },
          (error: Error) => stream.destroy(error),
        );
      },
    });
    return stream;
  }

  /** A Writable that writes into the object at the current position. */
  createWriteStream(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        this.write(chunk).then(
          () => callback(),
          (error: Error) => callback(error),
        );
      },
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #readChunk(fd: number, length: number): Promise<Buffer> {
    const { rows } = await this.#conn.query<{ data: Buffer }>('SELECT loread($1, $2) AS data', [fd, length]);
    return rows[0].data;
  }

  #open(what: string): number {
    if (this.#conn.closed) throw new errors.InterfaceError('the connection is closed');
    if (this.#fd === null) {
      throw new errors.InterfaceError(this.#mode.open ? 'the large object is closed' : `the large object was opened with mode 'n': cannot ${what}`);
    }
    return this.#fd;
  }
}

/** @internal conn.lobject(): open, or create, a large object in the current transaction. */
export async function openLargeObject(conn: Connection, oid: number | undefined, mode: string | undefined): Promise<LargeObject> {
  const effectiveMode = mode ?? (oid === undefined || oid === 0 ? 'rw' : 'r');
  const parsed = parseMode(effectiveMode);
  if (oid !== undefined && (!Number.isInteger(oid) || oid < 0 || oid > 0xffffffff)) {
    throw new errors.ProgrammingError('a large object OID must be an integer from 0 to 2^32 - 1');
  }
  if (conn.autocommit) {
    throw new errors.ProgrammingError("large objects can't be used in autocommit mode: their descriptors live in a transaction");
  }
  let objectId = oid ?? 0;
  if (objectId === 0) {
    const { rows } = await conn.query<{ oid: number }>('SELECT lo_create(0) AS oid');
    objectId = rows[0].oid;
  }
  let fd: number | null = null;
  if (parsed.open) {
    const flags = (parsed.read ? INV_READ : 0) | (parsed.write ? INV_WRITE : 0);
    const { rows } = await conn.query<{ fd: number }>('SELECT lo_open($1, $2) AS fd', [objectId, flags]);
    fd = rows[0].fd;
  }
  return new LargeObject(conn, objectId, effectiveMode, fd);
}
