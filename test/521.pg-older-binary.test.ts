// pqnode/pg on a binary built before the PgTimestampTz decoder (a prebuilt one not yet
// rebuilt): it must not upload a decoder the binary refuses, which would break every query,
// but read timestamptz in JS as before, to the same values.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { native } from '../lib/native';
import { Client } from '../lib/pg';
import { testDsn } from './helpers';

let c: Client;
let restore = (): void => undefined;

beforeAll(async () => {
  // before the facade first asks: this file's modules are its own
  const binding = native();
  const hasFeature = binding.hasFeature.bind(binding);
  vi.spyOn(binding, 'hasFeature').mockImplementation((name: string) => (name === 'pgTimestampTzDecoder' ? false : hasFeature(name)));
  // and refuses the decoder, as such a binary does
  const Connection = binding.Connection;
  class OlderConnection extends Connection {
    override setDecoders(oids: number[], decoders: number[]): void {
      if (decoders.some((entry) => (entry & 0x7f) >= 9)) throw new RangeError('unknown decoder');
      super.setDecoders(oids, decoders);
    }
  }
  binding.Connection = OlderConnection;
  restore = () => {
    binding.Connection = Connection;
  };
  c = new Client(testDsn());
  await c.connect();
});

afterAll(async () => {
  await c.end();
  restore();
  vi.restoreAllMocks();
});

describe('a binary without the PgTimestampTz decoder', () => {
  it('reads timestamptz in JS, as node-postgres does, the other columns natively', async () => {
    const { rows } = await c.query("SELECT '2020-02-03 04:05:06.789+02'::timestamptz AS t, 'infinity'::timestamptz AS inf, 7::int4 AS i, 'x'::text AS s");
    expect(rows).toEqual([{ t: new Date(Date.UTC(2020, 1, 3, 2, 5, 6, 789)), inf: Infinity, i: 7, s: 'x' }]);
    const far = (await c.query("SELECT '294276-12-31 23:59:59+00'::timestamptz AS t")).rows[0].t as Date;
    expect(Number.isNaN(far.getTime())).toBe(true);
    expect(native().hasFeature).toHaveBeenCalledWith('pgTimestampTzDecoder');
  });
});
