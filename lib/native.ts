// The shape of the C++ addon (src-native/) as the TypeScript layer sees it.
// Nothing outside lib/ touches the addon; nothing outside src-native/ touches libpq.
import path from 'node:path';

import { loadNative } from './native-loader';
import { objectRowAppender, type Field } from './rows';
import type { TypecasterRegistry } from './adapt/typecasters';

/** How the native layer turns a column's text into a JS value (set per type OID). */
export const enum NativeDecoder {
  /** string (the default for every OID the table does not name) */
  Text = 0,
  /** int2, int4, oid → number */
  Int = 1,
  /** float4, float8 → number, NaN and ±Infinity included */
  Float = 2,
  /** 't' / 'f' → boolean */
  Bool = 3,
  /** int8 → bigint */
  BigInt = 4,
  /** bytea in hex or escape format → Buffer */
  Bytea = 5,
  /** timestamptz → Date; 'infinity' / '-infinity' → ±Infinity */
  TimestampTz = 6,
  /** timestamp without time zone → Date read as UTC; ±infinity → ±Infinity */
  Timestamp = 7,
  /** date → 'YYYY-MM-DD' string; ±infinity → ±Infinity */
  Date = 8,
  /**
   * timestamptz → Date as node-postgres reads it: TimestampTz's instant, an Invalid Date
   * out of a Date's range, Feb 29 of 1 BC read as Mar 1 (pqnode/pg's default parser)
   */
  PgTimestampTz = 9,
}

/**
 * Or'ed into a decoder table entry: the value the decoder makes is final, no JS typecaster
 * follows (so rows may leave C++ as objects).
 */
export const NATIVE_FINAL = 0x80;

/** libpq's ExecStatusType. */
export const enum ExecStatus {
  EmptyQuery = 0,
  CommandOk = 1,
  TuplesOk = 2,
  CopyOut = 3,
  CopyIn = 4,
  BadResponse = 5,
  NonfatalError = 6,
  FatalError = 7,
  CopyBoth = 8,
  SingleTuple = 9,
  PipelineSync = 10,
  PipelineAborted = 11,
  TuplesChunk = 12,
}

/** libpq's PGTransactionStatusType. */
export const enum TransactionStatus {
  Idle = 0,
  Active = 1,
  InTransaction = 2,
  InError = 3,
  Unknown = 4,
}

/** A column as the native layer describes it: the Field users see. */
export type NativeField = Field;

/** Every PQresultErrorField of an error or notice, by its libpq name. Absent fields are undefined. */
export interface NativeErrorFields {
  severity?: string;
  severityNonlocalized?: string;
  sqlstate?: string;
  messagePrimary?: string;
  messageDetail?: string;
  messageHint?: string;
  statementPosition?: string;
  internalPosition?: string;
  internalQuery?: string;
  context?: string;
  schemaName?: string;
  tableName?: string;
  columnName?: string;
  datatypeName?: string;
  constraintName?: string;
  sourceFile?: string;
  sourceLine?: string;
  sourceFunction?: string;
}

export interface NativeResult {
  status: ExecStatus;
  /** PQcmdStatus, e.g. 'INSERT 0 1' */
  command: string;
  /** PQcmdTuples as a number, or -1 when the command reports none */
  rowCount: number;
  /** frozen: results describing the same columns share one list */
  fields: readonly NativeField[];
  /**
   * one array of values per row, decoded as the connection's decoder table says; or, when
   * objectRows is true, one object per row keyed by column name, every value final
   */
  rows: unknown[][];
  /** rows are objects: asked for at send time (objectRows) and every column decoded in C++ */
  objectRows: boolean;
  /** the JS layer's slot: the typecasters the rows were decoded with, for the JS half of decoding */
  typecasters?: TypecasterRegistry;
  /** set when status is FatalError / NonfatalError / BadResponse */
  error?: NativeErrorFields;
  /** PQresultErrorMessage: the full text libpq made of the error */
  errorMessage?: string;
  /** set when a value has no JS equivalent (a timestamp beyond a Date's range) */
  decodeError?: string;
  /**
   * The session's DateStyle (null: not reported) when the result came, set when the JS layer
   * has dates to read: a date or timestamp C++ left as text because it was not in DateStyle
   * ISO, or a column a JS typecaster reads while the DateStyle was not ISO.
   */
  dateStyle?: string | null;
  /** the session's TimeZone when the result came, set with dateStyle */
  timeZone?: string | null;
}

/**
 * One item of a batch handed to `onResults`, in the order libpq produced them:
 * a result object, END_OF_COMMAND (libpq's NULL after each command's results), or
 * a PIPELINE_SYNC marker that carries the transaction status read with it.
 */
export type NativeItem = NativeResult | number;
export const END_OF_COMMAND = -1;
/** sync markers are encoded as SYNC_BASE + transaction status */
export const SYNC_BASE = 100;

/** What flush() reports. */
export const enum FlushState {
  /** output remains: the native layer sends it when the socket is writable */
  OutputPending = 1,
  /** results already sit in libpq's buffer: call processInput(), no socket event will come */
  InputWaiting = 2,
}

export interface NativeNotification {
  channel: string;
  payload: string;
  pid: number;
}

export interface NativeCallbacks {
  /** results read from the socket: one call per batch, its items as the arguments (at most 1024) */
  onResults(...items: NativeItem[]): void;
  /** the connection failed while open (socket closed, protocol error): message from libpq */
  onFailure(message: string): void;
  onNotice(fields: NativeErrorFields, message: string): void;
  onNotification(notification: NativeNotification): void;
  /**
   * COPY OUT data: the rows read so far in one Buffer (null when none); `done` once all of it
   * came. In a COPY BOTH (replication) each CopyData message comes behind its length (4 bytes,
   * big-endian), and `done` says the server ended its half: putCopyEnd() ends ours.
   */
  onCopyData(chunk: Buffer | null, done: boolean): void;
  /** the socket drained: COPY IN may write again */
  onWritable(): void;
}

export interface NativeConnectionInfo {
  serverVersion: number;
  backendPid: number;
  host: string;
  port: string;
  dbname: string;
  user: string;
  sslInUse: boolean;
}

export interface NativeConnection {
  /** PQconnectStartParams + PQconnectPoll driven by the event loop; expandDbname: its expand_dbname */
  connect(keywords: string[], values: string[], expandDbname: boolean, callback: (error: string | null) => void): void;
  /**
   * PQsendQueryParams in pipeline mode (strings go as text, Buffers as binary); PQpipelineSync
   * after it when sync is true. rowMode 1: single-row mode; n > 1: chunks of n rows
   * (libpq 17+, single-row mode otherwise): the rows come as SingleTuple / TuplesChunk results.
   * objectRows: rows as objects made by the setObjectRowMaker maker, when every column is final.
   */
  sendQuery(
    text: string,
    values: (string | Buffer | null)[] | null,
    typeOids: number[] | null,
    sync: boolean,
    rowMode?: number,
    objectRows?: boolean,
  ): void;
  sendPrepare(name: string, text: string, typeOids: number[] | null, sync: boolean): void;
  /**
   * objectRows: as for sendQuery. The values come as the call's own arguments (cheaper to
   * read in C++ than an array's elements) or, past a handful, as one array.
   */
  sendQueryPrepared(name: string, sync: boolean, objectRows: boolean, ...values: (string | Buffer | null)[]): void;
  sendQueryPrepared(name: string, sync: boolean, objectRows: boolean, values: (string | Buffer | null)[]): void;
  /** PQsendClosePrepared (libpq 17+, hasFeature('closePrepared')): the protocol's Close, which works in an aborted transaction too */
  sendClosePrepared(name: string, sync: boolean): void;
  /** PQpipelineSync on its own */
  sync(): void;
  /** PQsendFlushRequest: the server sends what it has without waiting for a sync */
  sendFlushRequest(): void;
  /** leave pipeline mode (nothing may be in flight) and send with the simple protocol (PQsendQuery) */
  sendSimpleQuery(text: string): void;
  /** push buffered output; returns FlushState bits */
  flush(): number;
  /**
   * COPY IN: 1 queued, 0 queued but the socket is full (wait for onWritable); throws on failure.
   * COPY BOTH: one CopyData message, flushed at once.
   */
  putCopyData(data: Buffer | string): number;
  /**
   * COPY IN: end it, or abort it with an error message; 1 sent, 0 queued, 2 sent and results
   * already wait (processInput). COPY BOTH: ends our half; reading goes on until the server's end.
   */
  putCopyEnd(errorMessage?: string | null): number;
  /** COPY OUT and COPY BOTH: stop / start reading the socket (backpressure) */
  pauseCopyOut(): void;
  resumeCopyOut(): void;
  /** stop / start reading results from the socket (backpressure for streamed rows) */
  pauseReading(): void;
  resumeReading(): void;
  /** read what libpq already holds (after resumeCopyOut / resumeReading) and deliver it through the callbacks */
  processInput(): void;
  /** per-OID decoders for this connection's results */
  setDecoders(oids: number[], decoders: number[]): void;
  /**
   * Sends a cancel request without blocking the loop; `callback` runs once: null when the
   * server took it, else why not, at the latest after `timeoutMs` (then nothing of the
   * attempt holds the loop or a thread of its pool). Closing the connection abandons it.
   */
  cancel(callback: (error: string | null) => void, timeoutMs: number): void;
  escapeLiteral(text: string): string;
  escapeIdentifier(text: string): string;
  transactionStatus(): TransactionStatus;
  parameterStatus(name: string): string | null;
  info(): NativeConnectionInfo;
  /** commands sent whose results have not all arrived */
  pendingCommands(): number;
  close(): void;
  readonly isOpen: boolean;
}

/**
 * The numbers the addon and this file exchange, by name: the enums and markers above. The
 * addon reports its own (`constants`, from src-native/addon.cc) and they are compared at load.
 */
export interface NativeConstants {
  execStatus: Record<string, number>;
  transactionStatus: Record<string, number>;
  decoder: Record<string, number>;
  flushState: Record<string, number>;
  decoderFinal: number;
  endOfCommand: number;
  syncBase: number;
}

/** What this file says the addon's constants are. */
export const EXPECTED_CONSTANTS: NativeConstants = {
  execStatus: {
    EmptyQuery: ExecStatus.EmptyQuery,
    CommandOk: ExecStatus.CommandOk,
    TuplesOk: ExecStatus.TuplesOk,
    CopyOut: ExecStatus.CopyOut,
    CopyIn: ExecStatus.CopyIn,
    BadResponse: ExecStatus.BadResponse,
    NonfatalError: ExecStatus.NonfatalError,
    FatalError: ExecStatus.FatalError,
    CopyBoth: ExecStatus.CopyBoth,
    SingleTuple: ExecStatus.SingleTuple,
    PipelineSync: ExecStatus.PipelineSync,
    PipelineAborted: ExecStatus.PipelineAborted,
    TuplesChunk: ExecStatus.TuplesChunk,
  },
  transactionStatus: {
    Idle: TransactionStatus.Idle,
    Active: TransactionStatus.Active,
    InTransaction: TransactionStatus.InTransaction,
    InError: TransactionStatus.InError,
    Unknown: TransactionStatus.Unknown,
  },
  decoder: {
    Text: NativeDecoder.Text,
    Int: NativeDecoder.Int,
    Float: NativeDecoder.Float,
    Bool: NativeDecoder.Bool,
    BigInt: NativeDecoder.BigInt,
    Bytea: NativeDecoder.Bytea,
    TimestampTz: NativeDecoder.TimestampTz,
    Timestamp: NativeDecoder.Timestamp,
    Date: NativeDecoder.Date,
    PgTimestampTz: NativeDecoder.PgTimestampTz,
  },
  flushState: { OutputPending: FlushState.OutputPending, InputWaiting: FlushState.InputWaiting },
  decoderFinal: NATIVE_FINAL,
  endOfCommand: END_OF_COMMAND,
  syncBase: SYNC_BASE,
};

/**
 * Throws when the constants an addon reports are not this file's: a binary built from other
 * sources (stale, or of another version) would otherwise misread every result it is given.
 */
export function checkNativeConstants(reported: unknown, expected: NativeConstants = EXPECTED_CONSTANTS): void {
  const differences: string[] = [];
  const compare = (path: string, mine: unknown, theirs: unknown) => {
    if (typeof mine === 'object' && mine !== null) {
      const theirsObject = typeof theirs === 'object' && theirs !== null ? (theirs as Record<string, unknown>) : {};
      const names = new Set([...Object.keys(mine), ...Object.keys(theirsObject)]);
      for (const name of names) compare(path === '' ? name : `${path}.${name}`, (mine as Record<string, unknown>)[name], theirsObject[name]);
    } else if (mine !== theirs) {
      differences.push(`${path} is ${theirs === undefined ? 'missing' : String(theirs)} in the addon, ${mine === undefined ? 'unknown' : String(mine)} in lib/native.ts`);
    }
  };
  if (typeof reported !== 'object' || reported === null) {
    differences.push('the addon reports no constants (it was built from older sources)');
  } else {
    compare('', expected, reported);
  }
  if (differences.length > 0) {
    throw new Error(
      `the native addon does not match pqnode's JavaScript (a stale or foreign build?): ${differences.join('; ')}. Rebuild it (npx node-gyp rebuild) or reinstall pqnode.`,
    );
  }
}

export interface NativeBinding {
  Connection: new (callbacks: NativeCallbacks) => NativeConnection;
  /** the numbers it exchanges with this file (see checkNativeConstants) */
  constants: unknown;
  libpqVersion(): number;
  /** PQconninfoParse: the keywords a conninfo string or URI sets; throws with libpq's message */
  parseConninfo(conninfo: string): Record<string, string>;
  /** whether the linked libpq has a feature: 'pipeline', 'chunkedRows', 'cancelCreate', 'sendPipelineSync', 'closePrepared' */
  hasFeature(name: string): boolean;
  /** how row objects are made: fields => (rows, ...values) => void appending one row */
  setObjectRowMaker(maker: (fields: readonly NativeField[]) => (rows: unknown[], ...values: unknown[]) => void): void;
}

let binding: NativeBinding | undefined;

/** The addon, loaded once: the local build, or the prebuilt binary for this platform. */
export function native(): NativeBinding {
  if (binding === undefined) {
    const loaded = loadNative<NativeBinding>(path.join(__dirname, '..'));
    checkNativeConstants(loaded.constants);
    loaded.setObjectRowMaker(objectRowAppender);
    binding = loaded;
  }
  return binding;
}
