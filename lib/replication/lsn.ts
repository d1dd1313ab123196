// Log sequence numbers: a 64-bit position in the WAL, written by PostgreSQL as two hex
// halves, 'X/Y' (pg_lsn's text form). Held as bigint, handed to users as that text.
import { ProgrammingError } from '../errors';

const LSN_TEXT = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;
const MAX_LSN = (1n << 64n) - 1n;

/** The LSN 'X/Y' as a number; throws ProgrammingError for anything else. */
export function parseLsn(text: string): bigint {
  const match = typeof text === 'string' ? LSN_TEXT.exec(text) : null;
  if (match === null) throw new ProgrammingError(`not an LSN (written 'X/Y' in hex, e.g. '0/16B3748'): ${String(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** The LSN as PostgreSQL writes it: upper-case hex halves, without leading zeros ('0/16B3748'). */
export function formatLsn(lsn: bigint): string {
  if (typeof lsn !== 'bigint' || lsn < 0n || lsn > MAX_LSN) throw new ProgrammingError(`not an LSN: ${String(lsn)}`);
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** Negative, zero or positive as `a` comes before, at or after `b` (each 'X/Y' or a bigint). */
export function compareLsn(a: string | bigint, b: string | bigint): number {
  const left = typeof a === 'bigint' ? a : parseLsn(a);
  const right = typeof b === 'bigint' ? b : parseLsn(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** An LSN given as text or as a number, checked. */
export function lsnValue(lsn: string | bigint): bigint {
  if (typeof lsn !== 'bigint') return parseLsn(lsn);
  formatLsn(lsn); // checks its range
  return lsn;
}
