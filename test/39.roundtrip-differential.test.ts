// The differential round trip of every built-in type family (support/roundtrip-child.ts):
// each value read through pqnode agrees with the server's own text of it, and goes back
// without a cast to find its row and to be stored as it was, in arrays too, under several
// session TimeZones and both timestamp choices. One child process per Node time zone,
// since a process's time zone is best fixed before its first Date.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { testDsn } from './helpers';

const ROOT = path.resolve(__dirname, '..');

interface Report {
  timeZone: string;
  checked: number;
  failures: string[];
  skipped: string[];
}

function runChild(timeZone: string): Promise<Report> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-r', path.join(ROOT, 'test/support/ts-register.cjs'), path.join(ROOT, 'test/support/roundtrip-child.ts')],
      { cwd: ROOT, env: { ...process.env, TZ: timeZone, DSN: testDsn() }, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`the round trip under TZ=${timeZone} failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as Report);
      },
    );
  });
}

describe('every type family goes back as it came', () => {
  // UTC; a zone with daylight saving time and local mean time before 1883; one with a
  // half-hour offset and old offsets of odd seconds
  for (const timeZone of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
    it(`under TZ=${timeZone}`, { timeout: 150_000 }, async () => {
      const report = await runChild(timeZone);
      expect(report.timeZone).toBe(timeZone);
      expect(report.failures).toEqual([]);
      // ints to geometry, arrays of each, three session time zones, timestamps in both choices
      expect(report.checked).toBeGreaterThan(1500);
      // only the wall-clock time that New York skips in March, in local time, is no Date
      for (const skip of report.skipped) expect(skip).toMatch(/TZ=America\/New_York .* local\] timestamp #\d+ 2024-03-10 02:30:00: not a time of the local zone/);
      expect(report.skipped).toHaveLength(timeZone === 'America/New_York' ? 3 : 0);
    });
  }
});
