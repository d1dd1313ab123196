// pqnode/pg prepares parameters as node-postgres does: the same text for every value,
// checked against node-postgres's own prepareValue (the `pg` package is a dev dependency).
// Arrays above all: their literals are built on a fast path for plain elements, which must
// not differ from node-postgres's by a byte.
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';

import { defaults } from '../lib/pg/defaults';
import { prepareValue, prepareValues } from '../lib/pg/prepare-value';

const require = createRequire(__filename);
const pgUtils = require('pg/lib/utils') as { prepareValue(value: unknown): unknown };
const pgDefaults = require('pg/lib/defaults') as { parseInputDatesAsUTC: boolean };

/** node-postgres's prepared value, as text or bytes. */
function theirs(value: unknown): unknown {
  return pgUtils.prepareValue(value);
}

class Money {
  constructor(readonly cents: number) {}
  toPostgres(): string {
    return (this.cents / 100).toFixed(2);
  }
}

class Pair {
  constructor(
    readonly a: unknown,
    readonly b: unknown,
  ) {}
  toPostgres(prepare: (value: unknown) => unknown): string {
    return `(${String(prepare(this.a))},${String(prepare(this.b))})`;
  }
}

const STRINGS = ['', 'plain', 'with "quotes"', 'back\\slash', '\\"', '"\\', 'a,b', '{braces}', 'NULL', 'null', ' spaced ', "it's", 'ünïcødé ✓', '😀', 'line\nbreak', 'tab\there'];
const NUMBERS = [0, -0, 1, -1, 1.5, -2.25, 1e21, 1e-7, 123456789012, Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, NaN, Infinity, -Infinity];
const DATES = [new Date(2020, 1, 3, 4, 5, 6, 789), new Date(Date.UTC(2000, 0, 1)), new Date(-62198755200000), new Date(Date.UTC(50, 5, 6)), new Date(Date.UTC(-5, 0, 1))];

const SCALARS: unknown[] = [
  null,
  undefined,
  true,
  false,
  10n,
  ...STRINGS,
  ...NUMBERS,
  ...DATES,
  Buffer.from([0, 1, 254, 255]),
  new Uint8Array([1, 2, 3]),
  new Uint16Array([1, 0xffff]).subarray(1),
  { a: 1, b: [1, 'x'], c: { d: null } },
  new Money(12345),
  new Pair('x"y', 7),
  new Pair([1, 2], null),
];

const ARRAYS: unknown[][] = [
  [],
  [[]],
  [1, 2, 3],
  NUMBERS,
  STRINGS,
  [true, false, true],
  [null, undefined, 1, null],
  [1, 'a', true, null, 2.5],
  [[1, 2], [3, 4]],
  [[['a', null]], [['b"', 'c\\']]],
  [[], [1], [[2, [3]]]],
  DATES,
  [Buffer.from([0, 255]), new Uint8Array([7]), null],
  [{ a: 1 }, { s: 'q"\\' }, [{ x: [1] }]],
  [new Money(5), new Pair('a', 'b"c'), null],
  [1, , 3],
  [Symbol.for('no') === Symbol.for('no') ? 'same' : 'other'],
  Array.from({ length: 1000 }, (_, i) => (i % 3 === 0 ? i : i % 3 === 1 ? `name ${i}` : i + 0.5)),
];

describe('prepareValue as node-postgres', () => {
  afterEach(() => {
    defaults.parseInputDatesAsUTC = false;
    pgDefaults.parseInputDatesAsUTC = false;
  });

  it('prepares every scalar as node-postgres does', () => {
    for (const value of SCALARS) expect(prepareValue(value), String(value)).toEqual(theirs(value));
  });

  it('writes every array literal byte for byte as node-postgres does', () => {
    for (const array of ARRAYS) expect(prepareValue(array)).toEqual(theirs(array));
    for (const value of SCALARS) {
      // a Buffer or another view as an element, or a toPostgres that returns one, is node-postgres's own (failing) business
      if (value instanceof Uint8Array || value instanceof Uint16Array) continue;
      expect(prepareValue([value]), String(value)).toEqual(theirs([value]));
      expect(prepareValue([[value, value], [null, value]]), String(value)).toEqual(theirs([[value, value], [null, value]]));
    }
  });

  it('writes Dates in UTC when asked, as node-postgres does', () => {
    defaults.parseInputDatesAsUTC = true;
    pgDefaults.parseInputDatesAsUTC = true;
    for (const value of [...DATES, DATES]) expect(prepareValue(value)).toEqual(theirs(value));
  });

  it('prepares a list of parameters one by one', () => {
    const values = [1, 'a"b', [1, 'x'], null, DATES[0]];
    expect(prepareValues(values)).toEqual(values.map(theirs));
  });
});
