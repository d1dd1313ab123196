// Node with no driver at all: the work of select1, concurrent, connect, wide and the two
// COPYs written straight onto a socket in the protocol's bytes (Bind, Execute, Sync on a
// statement parsed once; COPY's data as it comes; for connect, the SSLRequest libpq's default
// sslmode=prefer sends, the startup message and Terminate), and only each row's int4, or the
// COPY data's size, read back. For wide, each row of bench_wide becomes the object a driver
// gives (numbers, a BigInt, strings, a boolean, a Date, a null), decoded by code that knows
// that table and nothing else. Not a client: it knows trust authentication over TCP and
// nothing else. It is here to show what Node itself costs on the machine at hand (a round
// trip through its event loop, a socket's data through its streams, a row's objects on V8's
// heap): the part of the distance to floor.c that no Node driver can close.
import net from 'node:net';

import { SQL, copyChunks, timedRuns } from '../workloads.mjs';

const NOT_HERE = 'a reference for round trips, connecting, rows as objects and COPY only';
export const skip = Object.fromEntries(['insert', 'pool', 'pool-pgbouncer', 'mixed'].map((workload) => [workload, NOT_HERE]));

const PROTOCOL_3_0 = 196608;
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
const STATEMENT = 'select1';

/** A message: its type byte, its length, then `body`. */
function message(type, body) {
  const out = Buffer.allocUnsafe(5 + body.length);
  out[0] = type.charCodeAt(0);
  out.writeInt32BE(4 + body.length, 1);
  body.copy(out, 5);
  return out;
}

const SYNC = message('S', Buffer.alloc(0));
const EXECUTE = message('E', Buffer.from('\0\0\0\0\0')); // the unnamed portal, every row
const BIND_HEAD = Buffer.from(`\0${STATEMENT}\0\0\0\0\x01`); // unnamed portal, text parameters, one of them

/** Bind (one text parameter, text results), Execute and Sync in one buffer. */
function bindExecuteSync(value) {
  const text = Buffer.from(value);
  const bindLength = 4 + BIND_HEAD.length + 4 + text.length + 2;
  const out = Buffer.allocUnsafe(1 + bindLength + EXECUTE.length + SYNC.length);
  out[0] = 0x42; // 'B'
  let at = out.writeInt32BE(bindLength, 1);
  at += BIND_HEAD.copy(out, at);
  at = out.writeInt32BE(text.length, at);
  at += text.copy(out, at);
  at = out.writeInt16BE(0, at);
  at += EXECUTE.copy(out, at);
  SYNC.copy(out, at);
  return out;
}

class WireClient {
  #socket;
  /** callbacks of the syncs sent, the oldest first */
  #waiting = [];
  #head = 0;
  #input = Buffer.alloc(0);
  #value = null;
  #error = null;
  /** set while wide() runs: the rows of bench_wide as they come */
  #rows = null;
  /** the last CommandComplete's tag */
  #tag = '';
  /** COPY TO STDOUT: the size of the data so far */
  #copiedOut = 0;
  /** COPY FROM STDIN: told when the server is ready for the data */
  #copyInReady = null;
  #output = [];
  #flushQueued = false;

  /**
   * A client past its startup; `asLibpq`: first an SSLRequest, answered 'N' by a server
   * without SSL, as libpq asks by default (connect compares with libpq's connections).
   */
  static async connect(dsn, { asLibpq = false, prepare = true } = {}) {
    const url = new URL(dsn);
    if (url.password !== '' || url.hostname === '' || url.searchParams.has('host')) {
      throw new Error('it speaks trust authentication over TCP only: give a DSN with a host and no password');
    }
    const socket = net.connect(Number(url.port || 5432), url.hostname);
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    if (asLibpq) {
      socket.write(SSL_REQUEST);
      const answer = await new Promise((resolve, reject) => {
        socket.once('data', resolve);
        socket.once('error', reject);
      });
      if (answer.length !== 1 || answer[0] !== 0x4e) throw new Error('the server did not refuse SSL with a lone N');
    }
    const client = new WireClient(socket);
    const user = decodeURIComponent(url.username || 'postgres');
    const database = decodeURIComponent(url.pathname.slice(1) || user);
    const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`);
    const startup = Buffer.allocUnsafe(8 + params.length);
    startup.writeInt32BE(8 + params.length, 0);
    startup.writeInt32BE(PROTOCOL_3_0, 4);
    params.copy(startup, 8);
    await client.#roundTrip(startup);
    if (!prepare) return client;
    const parse = message('P', Buffer.from(`${STATEMENT}\0${SQL.select1}\0\0\0`));
    await client.#roundTrip(Buffer.concat([parse, SYNC]));
    return client;
  }

  constructor(socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => this.#read(chunk));
    socket.on('error', (error) => this.#failAll(error));
  }

  /** select $1::int with `i`, resolved with the int4 the server sent back. */
  selectOne(i) {
    return this.#roundTrip(bindExecuteSync(String(i)));
  }

  /** A statement through the simple protocol, resolved with its command tag. */
  async run(text) {
    await this.#roundTrip(message('Q', Buffer.from(`${text}\0`)));
    return this.#tag;
  }

  /** COPY FROM STDIN with `chunks` as its data, as fast as the socket takes them; the rows copied. */
  async copyIn(text, chunks) {
    const ready = new Promise((resolve) => (this.#copyInReady = resolve));
    const done = this.run(text);
    await Promise.race([ready, done]);
    for (const chunk of chunks) {
      const head = Buffer.allocUnsafe(5);
      head[0] = 0x64; // 'd' CopyData
      head.writeInt32BE(4 + chunk.length, 1);
      this.#socket.write(head);
      if (!this.#socket.write(chunk)) await new Promise((resolve) => this.#socket.once('drain', resolve));
    }
    this.#socket.write(message('c', Buffer.alloc(0))); // CopyDone
    return Number((await done).split(' ')[1]);
  }

  /** `select * from bench_wide` through the simple protocol, resolved with its rows as objects. */
  async wide(text) {
    this.#rows = [];
    await this.run(text);
    const rows = this.#rows;
    this.#rows = null;
    return rows;
  }

  /** COPY TO STDOUT, resolved with the size of the data. */
  async copyOut(text) {
    this.#copiedOut = 0;
    await this.run(text);
    return this.#copiedOut;
  }

  close() {
    this.#socket.end(message('X', Buffer.alloc(0)));
  }

  /** Sends `bytes` (with the others of this tick, in one write) and waits for ReadyForQuery. */
  #roundTrip(bytes) {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      this.#output.push(bytes);
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  #flush() {
    this.#flushQueued = false;
    const output = this.#output;
    this.#output = [];
    this.#socket.write(output.length === 1 ? output[0] : Buffer.concat(output));
  }

  #read(chunk) {
    const input = this.#input.length === 0 ? chunk : Buffer.concat([this.#input, chunk]);
    let at = 0;
    while (at + 5 <= input.length) {
      const end = at + 1 + input.readInt32BE(at + 1);
      if (end > input.length) break;
      this.#onMessage(input[at], input, at + 5, end);
      at = end;
    }
    this.#input = input.subarray(at);
  }

  #onMessage(type, input, start, end) {
    switch (type) {
      case 0x44: {
        if (this.#rows !== null) {
          this.#rows.push(wideRow(input, start));
          break;
        }
        // 'D' DataRow: one column, its length, its text
        const length = input.readInt32BE(start + 2);
        this.#value = length < 0 ? null : Number(input.toString('latin1', start + 6, start + 6 + length));
        break;
      }
      case 0x64: // 'd' CopyData
        this.#copiedOut += end - start;
        break;
      case 0x43: // 'C' CommandComplete
        this.#tag = input.toString('latin1', start, end - 1);
        break;
      case 0x47: // 'G' CopyInResponse
        this.#copyInReady?.();
        this.#copyInReady = null;
        break;
      case 0x52: // 'R' Authentication: only "ok" is spoken here; the server would wait for a password
        if (input.readInt32BE(start) !== 0) {
          this.#failAll(new Error('the server asks for a password'));
          this.#socket.destroy();
        }
        break;
      case 0x45: // 'E' ErrorResponse: the text of its message field
        this.#error ??= new Error(errorMessage(input, start, end));
        break;
      case 0x5a: {
        // 'Z' ReadyForQuery: the oldest round trip is over
        const waiter = this.#waiting[this.#head++];
        if (this.#head > 1024) {
          this.#waiting.splice(0, this.#head);
          this.#head = 0;
        }
        const error = this.#error;
        const value = this.#value;
        this.#error = null;
        this.#value = null;
        if (error === null) waiter.resolve(value);
        else waiter.reject(error);
        break;
      }
      default: // ParseComplete, BindComplete, CopyOutResponse, CopyDone, ParameterStatus, BackendKeyData, notices
        break;
    }
  }

  #failAll(error) {
    const pending = this.#waiting.slice(this.#head);
    this.#waiting = [];
    this.#head = 0;
    for (const waiter of pending) waiter.reject(error);
  }
}

/**
 * A DataRow of bench_wide (id int4, big int8, name text, ratio float8, flag bool,
 * at timestamptz, amount numeric, nothing text) as the object a driver makes of it.
 */
function wideRow(input, start) {
  let offset = start + 2; // past the column count: 8
  const next = () => {
    const length = input.readInt32BE(offset);
    offset += 4;
    if (length < 0) return null;
    const text = input.toString('utf8', offset, offset + length);
    offset += length;
    return text;
  };
  const id = Number(next());
  const big = BigInt(next());
  const name = next();
  const ratio = Number(next());
  const flag = next() === 't';
  const at = timestamptz(next());
  const amount = next();
  const nothing = next();
  return { id, big, name, ratio, flag, at, amount, nothing };
}

/** '2024-01-01 00:00:01+00' (ISO DateStyle) as a Date. */
function timestamptz(text) {
  // the offset as ISO 8601 wants it: +HH becomes +HH:00
  const iso = text.replace(' ', 'T');
  return new Date(/[+-]\d\d$/.test(iso) ? `${iso}:00` : iso);
}

/** The M (message) field of an ErrorResponse. */
function errorMessage(input, start, end) {
  let at = start;
  while (at < end && input[at] !== 0) {
    const stop = input.indexOf(0, at + 1);
    if (input[at] === 0x4d) return input.toString('utf8', at + 1, stop);
    at = stop + 1;
  }
  return 'the server sent an error';
}

export const workloads = {
  async select1({ dsn, count, timer }) {
    const client = await WireClient.connect(dsn);
    await timedRuns(count, 1, timer, (i) => client.selectOne(i));
    client.close();
  },

  async concurrent({ dsn, count, timer }) {
    const client = await WireClient.connect(dsn);
    await timedRuns(count, 100, timer, (i) => client.selectOne(i));
    client.close();
  },

  async connect({ dsn, count, timer }) {
    await timedRuns(count, 1, timer, async () => (await WireClient.connect(dsn, { asLibpq: true, prepare: false })).close());
  },

  async wide({ dsn, count, timer }) {
    const client = await WireClient.connect(dsn);
    timer.start();
    const rows = await client.wide(SQL.wide);
    timer.stop();
    if (rows.length !== count) throw new Error(`wide: ${rows.length} rows, expected ${count}`);
    if (!(rows[0].at instanceof Date) || Number.isNaN(rows[0].at.getTime())) throw new Error(`wide: a timestamptz read as ${rows[0].at}`);
    client.close();
  },

  async 'copy-in'({ dsn, count, timer }) {
    const { chunks, bytes } = copyChunks(count);
    const client = await WireClient.connect(dsn);
    await client.run('truncate bench_copy_in');
    timer.start();
    const rows = await client.copyIn(SQL.copyIn, chunks);
    timer.stop();
    if (rows !== count) throw new Error(`copy-in: ${rows} rows, expected ${count}`);
    client.close();
    return { bytes };
  },

  async 'copy-out'({ dsn, timer }) {
    const client = await WireClient.connect(dsn);
    timer.start();
    const bytes = await client.copyOut(SQL.copyOut);
    timer.stop();
    client.close();
    return { bytes };
  },
};
