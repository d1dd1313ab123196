// The numbers the addon and lib/native.ts exchange (libpq's statuses, the decoders, the markers
// of a batch) are compared when the addon loads: a binary built from other sources fails
// there, naming what differs, instead of misreading results. No server needed.
import { describe, expect, it } from 'vitest';
import { checkNativeConstants, EXPECTED_CONSTANTS, native, type NativeConstants } from '../lib/native';

/** The constants this build of the addon reports, as a deep copy to doctor. */
function reported(): NativeConstants {
  return structuredClone(native().constants) as NativeConstants;
}

describe('the addon constants', () => {
  it('the built addon reports the ones lib/native.ts states, and loads', () => {
    expect(native().constants).toEqual(EXPECTED_CONSTANTS);
    expect(() => checkNativeConstants(native().constants)).not.toThrow();
  });

  it('a status of another value is caught, by name', () => {
    const doctored = reported();
    doctored.execStatus.TuplesChunk = 13;
    expect(() => checkNativeConstants(doctored)).toThrow(/execStatus\.TuplesChunk is 13 in the addon, 12 in lib\/native\.ts/);
  });

  it('a marker or a flag of another value is caught', () => {
    const doctored = reported();
    doctored.syncBase = 200;
    doctored.decoderFinal = 0x40;
    expect(() => checkNativeConstants(doctored)).toThrow(/syncBase is 200 in the addon, 100 in lib\/native\.ts/);
    expect(() => checkNativeConstants(doctored)).toThrow(/decoderFinal is 64 in the addon, 128 in lib\/native\.ts/);
  });

  it('a decoder the addon lacks, or one lib/native.ts does not know, is caught', () => {
    const missing = reported();
    delete (missing.decoder as Partial<Record<string, number>>).Date;
    expect(() => checkNativeConstants(missing)).toThrow(/decoder\.Date is missing in the addon/);
    // a binary built before pqnode/pg's timestamptz decoder: refused at load, before any query
    const older = reported();
    delete (older.decoder as Partial<Record<string, number>>).PgTimestampTz;
    expect(() => checkNativeConstants(older)).toThrow(/decoder\.PgTimestampTz is missing in the addon/);
    const extra = reported();
    extra.decoder.Json = 9;
    expect(() => checkNativeConstants(extra)).toThrow(/decoder\.Json is 9 in the addon, unknown in lib\/native\.ts/);
  });

  it('an addon that reports none (built from older sources) is refused with how to fix it', () => {
    expect(() => checkNativeConstants(undefined)).toThrow(/reports no constants.*Rebuild it/);
  });
});
