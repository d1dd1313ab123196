// One-dimensional arrays of numbers or booleans in PostgreSQL's binary array format (what
// array_recv reads), for parameters that go straight onto the wire. Writing 8 bytes per
// float8 costs a fraction of formatting its shortest decimal text, and the server reads the
// bytes without parsing: on bulk parameters (`unnest($1::float8[])`) both sides do less.
// The values are the same either way: the text of a double reads back as that double, and
// the binary form also keeps -0 and NaN as they are.
import { Oid } from '../types/oids';

/** The element types written here: the server checks the header's against the parameter's. */
export type BinaryElementOid = typeof Oid.int4 | typeof Oid.int8 | typeof Oid.float8 | typeof Oid.bool;

const HEADER_BYTES = 20; // ndim, has-nulls flag, element type, then length and lower bound of the one dimension
const TWO_TO_32 = 2 ** 32;

function elementBytes(elementOid: BinaryElementOid): number {
  return elementOid === Oid.bool ? 1 : elementOid === Oid.int4 ? 4 : 8;
}

/**
 * The binary form of `array`, whose elements are all numbers fitting `elementOid` (int4 or
 * safe integers for int8), or all booleans for bool, apart from `nulls` nulls or undefineds.
 */
export function binaryArray(array: readonly unknown[], elementOid: BinaryElementOid, nulls: number): Buffer {
  const n = array.length;
  const size = elementBytes(elementOid);
  const buffer = Buffer.allocUnsafe(HEADER_BYTES + n * 4 + (n - nulls) * size);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  view.setInt32(0, 1);
  view.setInt32(4, nulls > 0 ? 1 : 0);
  view.setUint32(8, elementOid);
  view.setInt32(12, n);
  view.setInt32(16, 1);
  writeElements(view, array, elementOid, size);
  return buffer;
}

function writeElements(view: DataView, array: readonly unknown[], elementOid: BinaryElementOid, size: number): void {
  let offset = HEADER_BYTES;
  for (let i = 0; i < array.length; i++) {
    const item = array[i];
    if (item === null || item === undefined) {
      view.setInt32(offset, -1);
      offset += 4;
      continue;
    }
    view.setInt32(offset, size);
    offset += 4;
    if (elementOid === Oid.float8) {
      view.setFloat64(offset, item as number);
    } else if (elementOid === Oid.int4) {
      view.setInt32(offset, item as number);
    } else if (elementOid === Oid.int8) {
      // a safe integer as two's complement halves: floor keeps the sign in the high word
      const high = Math.floor((item as number) / TWO_TO_32);
      view.setInt32(offset, high);
      view.setUint32(offset + 4, (item as number) - high * TWO_TO_32);
    } else {
      view.setUint8(offset, item === true ? 1 : 0);
    }
    offset += size;
  }
}

/**
 * An empty array in the binary format, for the server to read as the parameter's type:
 * no dimensions, no NULLs, and an element type it does not check. array_recv takes an
 * element type from the header only when both it and the expected one are built-in (below
 * 10000); with one past them it uses the expected type, so these bytes are the empty array
 * of whatever array type the context infers (int4[], uuid[], an enum's). No other type
 * reads them: json and text refuse the NUL bytes, jsonb the version number 0, a type of
 * fixed size the length (the one 12 bytes long, timetz, refuses the zone 0x7fffffff), and
 * the server refuses a parameter whose bytes are not all read.
 */
const EMPTY_ARRAY = Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]);

export function emptyBinaryArray(): Buffer {
  return EMPTY_ARRAY;
}
