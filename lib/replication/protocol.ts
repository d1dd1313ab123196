// The streaming replication protocol inside COPY BOTH: what the server sends in its CopyData
// messages (XLogData 'w', primary keepalive 'k') and the standby status update ('r') the
// client answers with. PostgreSQL's "Streaming Replication Protocol" page is the reference.
import { DataError } from '../errors';

/** Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 00:00 UTC). */
const PG_EPOCH_MICROS = 946_684_800_000_000n;

/** WAL data: `data` is what the output plugin wrote (a view into the batch it came in). */
export interface XLogData {
  kind: 'data';
  /** where the data starts in the WAL (for a logical stream: the LSN of the change it holds) */
  walStart: bigint;
  /** the end of the WAL on the server when it was sent */
  walEnd: bigint;
  /** microseconds since 2000-01-01, the server's clock */
  sendTime: bigint;
  data: Buffer;
}

/** The server's keepalive; `replyRequested` asks for a status update at once. */
export interface PrimaryKeepalive {
  kind: 'keepalive';
  walEnd: bigint;
  sendTime: bigint;
  replyRequested: boolean;
}

export type ReplicationMessage = XLogData | PrimaryKeepalive;

const XLOG_DATA = 0x77; // 'w'
const KEEPALIVE = 0x6b; // 'k'
const STATUS_UPDATE = 0x72; // 'r'
const XLOG_HEADER = 1 + 8 + 8 + 8;
const KEEPALIVE_SIZE = 1 + 8 + 8 + 1;

/** One CopyData message of the stream, read; throws DataError for one the protocol does not have. */
export function readReplicationMessage(message: Buffer): ReplicationMessage {
  const tag = message[0];
  if (tag === XLOG_DATA && message.length >= XLOG_HEADER) {
    return {
      kind: 'data',
      walStart: message.readBigUInt64BE(1),
      walEnd: message.readBigUInt64BE(9),
      sendTime: message.readBigInt64BE(17),
      data: message.subarray(XLOG_HEADER),
    };
  }
  if (tag === KEEPALIVE && message.length >= KEEPALIVE_SIZE) {
    return { kind: 'keepalive', walEnd: message.readBigUInt64BE(1), sendTime: message.readBigInt64BE(9), replyRequested: message[17] !== 0 };
  }
  const what = message.length === 0 ? 'an empty message' : `a message of type ${JSON.stringify(String.fromCharCode(tag))} (${message.length} bytes)`;
  throw new DataError(`the replication stream sent ${what}, which is not in the protocol`);
}

/**
 * Calls `each` with every message of a batch from the native layer, where each message comes
 * behind its length (4 bytes, big-endian). The messages are views into the batch.
 */
export function forEachFramed(batch: Buffer, each: (message: Buffer) => void): void {
  let offset = 0;
  while (offset + 4 <= batch.length) {
    const length = batch.readUInt32BE(offset);
    const start = offset + 4;
    offset = start + length;
    if (offset > batch.length) throw new DataError('a replication message was cut short');
    each(batch.subarray(start, offset));
  }
  if (offset !== batch.length) throw new DataError('a replication message was cut short');
}

/**
 * The standby status update: the positions written (received), flushed and applied, the
 * client's clock, and whether the server should answer at once.
 */
export function standbyStatusUpdate(write: bigint, flush: bigint, apply: bigint, replyRequested: boolean, now = Date.now()): Buffer {
  const message = Buffer.allocUnsafe(1 + 8 + 8 + 8 + 8 + 1);
  message[0] = STATUS_UPDATE;
  message.writeBigUInt64BE(write, 1);
  message.writeBigUInt64BE(flush, 9);
  message.writeBigUInt64BE(apply, 17);
  message.writeBigInt64BE(BigInt(Math.trunc(now)) * 1000n - PG_EPOCH_MICROS, 25);
  message[33] = replyRequested ? 1 : 0;
  return message;
}

/** A timestamp of the protocol (microseconds since 2000-01-01) as a Date (to the millisecond). */
export function pgTimeToDate(micros: bigint): Date {
  return new Date(Number((micros + PG_EPOCH_MICROS) / 1000n));
}
