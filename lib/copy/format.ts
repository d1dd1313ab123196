// COPY's row formats: the text format (tab-separated, backslash escapes, \N for NULL) and the
// binary format (a header, then per row a field count and length-prefixed fields), in both
// directions. Binary fields need to know their types; setTypes() on a Copy gives them.
import * as errors from '../errors';
import { Oid } from '../types/oids';

// ---------------------------------------------------------------------------------------
// text format

const TEXT_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** One row of the text format from field texts (null for NULL), newline included. */
export function formatTextRow(fields: readonly (string | null)[]): string {
  let line = '';
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) line += '\t';
    const field = fields[i];
    line += field === null ? '\\N' : field.replace(/[\\\n\r\t]/g, (c) => TEXT_ESCAPES[c]);
  }
  return line + '\n';
}

const UNESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** The fields of one text-format line (without its newline); NULL is null. */
export function parseTextRow(line: string): (string | null)[] {
  return line.split('\t').map((field) => {
    if (field === '\\N') return null;
    if (!field.includes('\\')) return field;
    return field.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_match, code: string) => {
      if (code[0] === 'x' && code.length > 1) return String.fromCharCode(parseInt(code.slice(1), 16));
      if (/^[0-7]/.test(code)) return String.fromCharCode(parseInt(code, 8));
      return UNESCAPES[code] ?? code;
    });
  });
}

/** Splits a text-format stream into lines across chunk boundaries. */
export class TextRowSplitter {
  #rest = '';
  #decoder = new TextDecoder('utf-8');

  push(chunk: Buffer): string[] {
    const text = this.#rest + this.#decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.#rest = lines.pop() ?? '';
    return lines;
  }

  end(): string[] {
    const rest = this.#rest + this.#decoder.decode();
    this.#rest = '';
    if (rest === '' || rest === '\\.') return [];
    return [rest];
  }
}

// ---------------------------------------------------------------------------------------
// binary format

export const BINARY_SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** signature, flags (int32 0), header extension length (int32 0) */
export const BINARY_HEADER = Buffer.concat([BINARY_SIGNATURE, Buffer.alloc(8)]);
/** a field count of -1 ends the data */
export const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01 */
const POSTGRES_EPOCH_MS = 946684800000;
const DAY_MS = 86400000;

type Encoder = (value: unknown) => Buffer;
type Decoder = (bytes: Buffer) => unknown;

function int(bytes: number, write: (buffer: Buffer, value: number) => void): Encoder {
  return (value) => {
    const number = typeof value === 'bigint' ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isInteger(number)) throw new TypeError(`expected an integer, got ${typeof value}`);
    const buffer = Buffer.alloc(bytes);
    write(buffer, number);
    return buffer;
  };
}

function utf8(value: unknown): Buffer {
  if (typeof value !== 'string') throw new TypeError(`expected a string, got ${typeof value}`);
  // a TypeError: formatBinaryRow() makes it a DataError that names the column
  if (!value.isWellFormed()) throw new TypeError('the text holds a lone surrogate (half of a UTF-16 pair alone), which has no UTF-8 form');
  return Buffer.from(value, 'utf8');
}

function timestamp(value: unknown): Buffer {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError('expected a valid Date');
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt(value.getTime() - POSTGRES_EPOCH_MS) * 1000n);
  return buffer;
}

function readTimestamp(bytes: Buffer): Date | number {
  const micros = bytes.readBigInt64BE();
  if (micros === 0x7fffffffffffffffn) return Infinity;
  if (micros === -0x8000000000000000n) return -Infinity;
  return new Date(Number(micros / 1000n) + POSTGRES_EPOCH_MS - (micros % 1000n < 0n ? 1 : 0));
}

function formatDate(days: number): string | number {
  if (days === 0x7fffffff) return Infinity;
  if (days === -0x80000000) return -Infinity;
  const date = new Date(POSTGRES_EPOCH_MS + days * DAY_MS);
  const year = date.getUTCFullYear();
  const text = `${String(Math.abs(year <= 0 ? 1 - year : year)).padStart(4, '0')}-${String(date.getUTCMonth() + 1).padStart(2, '0')}-${String(date.getUTCDate()).padStart(2, '0')}`;
  return year <= 0 ? `${text} BC` : text;
}

const BINARY_CODECS = new Map<number, { encode: Encoder; decode: Decoder }>([
  [Oid.bool, { encode: (v) => Buffer.from([v === true ? 1 : v === false ? 0 : badBool(v)]), decode: (b) => b[0] !== 0 }],
  [Oid.int2, { encode: int(2, (b, v) => b.writeInt16BE(v)), decode: (b) => b.readInt16BE() }],
  [Oid.int4, { encode: int(4, (b, v) => b.writeInt32BE(v)), decode: (b) => b.readInt32BE() }],
  [Oid.oid, { encode: int(4, (b, v) => b.writeUInt32BE(v)), decode: (b) => b.readUInt32BE() }],
  [
    Oid.int8,
    {
      encode: (v) => {
        if (typeof v !== 'bigint' && !(typeof v === 'number' && Number.isSafeInteger(v))) {
          throw new TypeError(`expected a bigint or a safe integer, got ${typeof v}`);
        }
        const buffer = Buffer.alloc(8);
        buffer.writeBigInt64BE(BigInt(v));
        return buffer;
      },
      decode: (b) => b.readBigInt64BE(),
    },
  ],
  [Oid.float4, { encode: (v) => floatBuffer(v, 4), decode: (b) => b.readFloatBE() }],
  [Oid.float8, { encode: (v) => floatBuffer(v, 8), decode: (b) => b.readDoubleBE() }],
  [Oid.text, { encode: utf8, decode: (b) => b.toString('utf8') }],
  [Oid.varchar, { encode: utf8, decode: (b) => b.toString('utf8') }],
  [Oid.bpchar, { encode: utf8, decode: (b) => b.toString('utf8') }],
  [Oid.name, { encode: utf8, decode: (b) => b.toString('utf8') }],
  [Oid.json, { encode: (v) => utf8(typeof v === 'string' ? v : JSON.stringify(v)), decode: (b) => JSON.parse(b.toString('utf8')) }],
  [
    Oid.jsonb,
    {
      encode: (v) => Buffer.concat([Buffer.from([1]), utf8(typeof v === 'string' ? v : JSON.stringify(v))]),
      decode: (b) => JSON.parse(b.subarray(1).toString('utf8')),
    },
  ],
  [
    Oid.bytea,
    {
      encode: (v) => {
        if (!(v instanceof Uint8Array)) throw new TypeError('expected a Buffer or Uint8Array');
        return Buffer.from(v);
      },
      decode: (b) => Buffer.from(b),
    },
  ],
  [
    Oid.uuid,
    {
      encode: (v) => {
        const hex = typeof v === 'string' ? v.replace(/-/g, '') : '';
        if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError('expected a UUID string');
        return Buffer.from(hex, 'hex');
      },
      decode: (b) => {
        const hex = b.toString('hex');
        return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
      },
    },
  ],
  [Oid.timestamp, { encode: timestamp, decode: readTimestamp }],
  [Oid.timestamptz, { encode: timestamp, decode: readTimestamp }],
  [
    Oid.date,
    {
      encode: (v) => {
        const match = typeof v === 'string' ? /^(\d{4,})-(\d{2})-(\d{2})$/.exec(v) : null;
        if (match === null) throw new TypeError("expected a 'YYYY-MM-DD' string");
        const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
        const buffer = Buffer.alloc(4);
        buffer.writeInt32BE(Math.round((ms - POSTGRES_EPOCH_MS) / DAY_MS));
        return buffer;
      },
      decode: (b) => formatDate(b.readInt32BE()),
    },
  ],
]);

function badBool(value: unknown): never {
  throw new TypeError(`expected a boolean, got ${typeof value}`);
}

function floatBuffer(value: unknown, bytes: 4 | 8): Buffer {
  if (typeof value !== 'number') throw new TypeError(`expected a number, got ${typeof value}`);
  const buffer = Buffer.alloc(bytes);
  if (bytes === 4) buffer.writeFloatBE(value);
  else buffer.writeDoubleBE(value);
  return buffer;
}

function codecFor(oid: number, position: number): { encode: Encoder; decode: Decoder } {
  const codec = BINARY_CODECS.get(oid);
  if (codec === undefined) {
    throw new errors.NotSupportedError(`binary COPY of column ${position + 1}: type ${oid} is not supported; use the text format`);
  }
  return codec;
}

/** Checks, up front, that every type can be written or read in binary. */
export function checkBinaryTypes(oids: readonly number[]): void {
  oids.forEach((oid, position) => codecFor(oid, position));
}

/** One binary-format row (without the file header). */
export function formatBinaryRow(values: readonly unknown[], oids: readonly number[]): Buffer {
  if (values.length !== oids.length) {
    throw new errors.ProgrammingError(`the row has ${values.length} values but setTypes() named ${oids.length} columns`);
  }
  const parts: Buffer[] = [];
  const count = Buffer.alloc(2);
  count.writeInt16BE(values.length);
  parts.push(count);
  values.forEach((value, position) => {
    const length = Buffer.alloc(4);
    if (value === null || value === undefined) {
      length.writeInt32BE(-1);
      parts.push(length);
      return;
    }
    let bytes: Buffer;
    try {
      bytes = codecFor(oids[position], position).encode(value);
    } catch (error) {
      if (error instanceof errors.Error) throw error;
      throw new errors.DataError(`binary COPY of column ${position + 1}: ${(error as Error).message}`);
    }
    length.writeInt32BE(bytes.length);
    parts.push(length, bytes);
  });
  return Buffer.concat(parts);
}

/** Reads binary-format rows across chunk boundaries. */
export class BinaryRowReader {
  #buffer: Buffer = Buffer.alloc(0);
  #headerRead = false;
  #ended = false;

  constructor(private readonly oids: readonly number[] | null) {}

  /** The rows complete so far: values decoded by type, or Buffers when no types were set. */
  push(chunk: Buffer): unknown[][] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const rows: unknown[][] = [];
    if (!this.#headerRead) {
      if (this.#buffer.length < BINARY_HEADER.length) return rows;
      if (!this.#buffer.subarray(0, BINARY_SIGNATURE.length).equals(BINARY_SIGNATURE)) {
        throw new errors.DataError('binary COPY data without the PGCOPY signature');
      }
      const extension = this.#buffer.readUInt32BE(15);
      if (this.#buffer.length < 19 + extension) return rows;
      this.#buffer = this.#buffer.subarray(19 + extension);
      this.#headerRead = true;
    }
    for (;;) {
      if (this.#ended || this.#buffer.length < 2) return rows;
      const fields = this.#buffer.readInt16BE(0);
      if (fields === -1) {
        this.#ended = true;
        return rows;
      }
      let offset = 2;
      const values: unknown[] = [];
      for (let i = 0; i < fields; i++) {
        if (this.#buffer.length < offset + 4) return rows;
        const length = this.#buffer.readInt32BE(offset);
        offset += 4;
        if (length === -1) {
          values.push(null);
          continue;
        }
        if (this.#buffer.length < offset + length) return rows;
        const bytes = this.#buffer.subarray(offset, offset + length);
        offset += length;
        values.push(this.oids === null ? Buffer.from(bytes) : codecFor(this.oids[i], i).decode(bytes));
      }
      rows.push(values);
      this.#buffer = this.#buffer.subarray(offset);
    }
  }
}
