// Text-format parsers for the numeric families. The server's output is always well formed,
// so these trust their input and stay as cheap as possible.
import { DataError } from '../errors';

/** int2, int4, oid (and any integer that fits a double exactly) → number */
export function parseInteger(text: string): number {
  return Number(text);
}

/** int8 → bigint: int8 goes past 2^53, where a number would lose digits */
export function parseBigInt(text: string): bigint {
  return BigInt(text);
}

/** float4, float8 → number; the server spells the specials 'NaN', 'Infinity', '-Infinity' */
export function parseDouble(text: string): number {
  switch (text) {
    case 'NaN':
      return NaN;
    case 'Infinity':
      return Infinity;
    case '-Infinity':
      return -Infinity;
    default:
      return Number(text);
  }
}

/**
 * numeric → the text unchanged: no JS type holds every numeric value exactly, so the
 * lossless choice is left to the caller (a decimal library, BigInt, Number).
 */
export function parseNumeric(text: string): string {
  return text;
}

/** money → the text unchanged: its format depends on lc_monetary */
export function parseMoney(text: string): string {
  return text;
}

const INT4_MIN = -2147483648;
const INT4_MAX = 2147483647;
const INT8_MIN = -(2n ** 63n);
const INT8_MAX = 2n ** 63n - 1n;

export function isInt4(value: number): boolean {
  return Number.isInteger(value) && value >= INT4_MIN && value <= INT4_MAX;
}

export function isInt8(value: bigint): boolean {
  return value >= INT8_MIN && value <= INT8_MAX;
}

/** A double as float8 input text; String() already gives the shortest exact form. */
export function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  // keep the sign of negative zero, which float8 can hold
  if (value === 0 && 1 / value < 0) return '-0';
  return String(value);
}

/** int8 → number, for those who choose it: a value past ±2^53 is a DataError, never rounded */
export function parseInt8AsNumber(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw new DataError(`int8 value ${text} is past Number.MAX_SAFE_INTEGER: read int8 as bigint or string instead`);
  }
  return value;
}

/** numeric → number, for those who choose it (rounded to the nearest double; 'NaN' and ±'Infinity' too) */
export function parseNumericAsNumber(text: string): number {
  return parseDouble(text);
}
