// pqnode/pg's date parser (dates, timestamps, timestamptz in JS) against node-postgres's own,
// the postgres-date package: the same Date, or the same non-Date, for the texts PostgreSQL
// writes in every DateStyle and for many generated ones: years from 1 to beyond a Date's
// range, BC, years below 100, fractions of 0 to 6 digits, zones to the second.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

import { parseDate } from '../lib/pg/type-parsers';

const require = createRequire(__filename);
const postgresDate = require('postgres-date') as (text: string) => Date | number | null;

/** A result as toEqual compares exactly: a Date by its time, NaN included. */
function comparable(value: unknown): unknown {
  return value instanceof Date ? { date: String(value.getTime()) } : value;
}

function expectSame(text: string): void {
  expect(comparable(parseDate(text)), text).toEqual(comparable(postgresDate(text)));
}

/** A small deterministic generator, so that a failure names a text that fails again. */
function generator(seed: number): (below: number) => number {
  let state = seed;
  return (below) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % below;
  };
}

function pad(value: number, length: number): string {
  return String(value).padStart(length, '0');
}

describe('parseDate as postgres-date', () => {
  it('reads the texts PostgreSQL writes alike', () => {
    const texts = [
      'infinity',
      '-infinity',
      '2020-02-03',
      '0001-01-01',
      '0099-12-31',
      '0001-02-29 BC',
      '0044-03-15 BC',
      '12345-06-07',
      '2020-02-03 04:05:06',
      '2020-02-03 04:05:06.789',
      '2020-02-03 04:05:06.000001',
      '2020-02-03 04:05:06.123456789',
      '0050-06-15 10:20:30.5',
      '0004-02-29 23:59:59',
      '2020-02-03 04:05:06+00',
      '2020-02-03 04:05:06.789+05:30',
      '2020-02-03 04:05:06-03:30',
      '1900-01-01 00:00:00+00:19:32',
      '1900-01-01 00:00:00-00:19:32',
      '0050-06-15 10:20:30+01',
      '0001-02-29 06:00:00+00 BC',
      '275760-09-13 00:00:00+00',
      '275760-09-13 00:00:00.001+00',
      '294276-12-31 23:59:59.999999',
      '2024-03-31 02:30:00',
      '2024-10-27 02:30:00',
      // other DateStyles: neither reads them as ISO
      'Mon Feb 03 04:05:06 2020 PST',
      '03.02.2020 04:05:06 CET',
      '02/03/2020 04:05:06.789 UTC',
      '2020-02-03T04:05:06Z',
      '',
      'garbage',
    ];
    for (const text of texts) expectSame(text);
  });

  it('reads generated texts alike', () => {
    const random = generator(20260101);
    for (let i = 0; i < 20000; i++) {
      const yearDigits = random(10) === 0 ? 5 + random(2) : 4;
      const year = yearDigits === 4 ? (random(4) === 0 ? random(200) : random(10000)) : 10 ** (yearDigits - 1) + random(9 * 10 ** (yearDigits - 1));
      let text = `${pad(Math.max(year, 1), yearDigits)}-${pad(1 + random(12), 2)}-${pad(1 + random(28), 2)}`;
      if (random(4) !== 0) {
        text += ` ${pad(random(24), 2)}:${pad(random(60), 2)}:${pad(random(60), 2)}`;
        const fraction = random(8);
        if (fraction > 0) text += `.${String(random(10 ** Math.min(fraction, 7))).padStart(Math.min(fraction, 7), '0')}`;
        const zone = random(5);
        const sign = random(2) === 0 ? '+' : '-';
        if (zone === 1) text += `${sign}${pad(random(15), 2)}`;
        if (zone === 2) text += `${sign}${pad(random(15), 2)}:${pad(random(60), 2)}`;
        if (zone === 3) text += `${sign}${pad(random(15), 2)}:${pad(random(60), 2)}:${pad(random(60), 2)}`;
      }
      if (random(8) === 0) text += ' BC';
      expectSame(text);
    }
  });
});
