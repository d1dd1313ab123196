// The pqnode/pg subpath as an application gets it from the built package: require() and
// import (default and named) share one instance and reach the server; its types resolve
// with node10 and node16 module resolution.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { testDsn } from './helpers';

const root = path.join(__dirname, '..');
let app: string;

beforeAll(() => {
  if (!fs.existsSync(path.join(root, 'dist', 'pg', 'index.mjs'))) {
    execFileSync('npm', ['run', 'build:ts'], { cwd: root, stdio: 'ignore' });
  }
  // an application folder whose node_modules holds this package
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-pg-app-'));
  fs.mkdirSync(path.join(app, 'node_modules'));
  fs.symlinkSync(root, path.join(app, 'node_modules', 'pqnode'), 'dir');
}, 120_000);

afterAll(() => {
  fs.rmSync(app, { recursive: true, force: true });
});

function run(file: string, source: string): string {
  fs.writeFileSync(path.join(app, file), source);
  return execFileSync(process.execPath, [file], { cwd: app, encoding: 'utf8', env: { ...process.env, DSN: testDsn() }, timeout: 30_000 }).trim();
}

describe('pqnode/pg from the package', () => {
  it('is required as CommonJS and queries the server', () => {
    const out = run(
      'app.cjs',
      `const pg = require('pqnode/pg');
       const pool = new pg.Pool({ connectionString: process.env.DSN });
       pool.query('SELECT $1::int + 1 AS n', [41]).then(async (r) => {
         console.log(JSON.stringify({ n: r.rows[0].n, sameDefault: pg.default.Pool === pg.Pool, native: pg.native }));
         await pool.end();
       });`,
    );
    expect(JSON.parse(out)).toEqual({ n: 42, sameDefault: true, native: null });
  });

  it('is imported as an ES module, default and named, one instance with require()', () => {
    const out = run(
      'app.mjs',
      `import pg from 'pqnode/pg';
       import { Client, types } from 'pqnode/pg';
       import { createRequire } from 'node:module';
       const required = createRequire(import.meta.url)('pqnode/pg');
       const client = new Client(process.env.DSN);
       await client.connect();
       const { rows } = await client.query('SELECT 7::int8 AS big');
       await client.end();
       console.log(JSON.stringify({ big: rows[0].big, same: pg.Client === Client && required.Client === Client, int8: types.builtins.INT8 }));`,
    );
    expect(JSON.parse(out)).toEqual({ big: '7', same: true, int8: 20 });
  });

  it('has types for node10 and node16 resolution', () => {
    fs.writeFileSync(
      path.join(app, 'check.ts'),
      `import pg from 'pqnode/pg';
       import { Pool, type PoolConfig } from 'pqnode/pg';
       const config: PoolConfig = { max: 2 };
       const pool: pg.Pool = new Pool(config);
       export async function f(): Promise<number> {
         const result: pg.Result<{ n: number }> = await pool.query<{ n: number }>('SELECT 1 AS n');
         return result.rows[0].n;
       }
       `,
    );
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const [module, resolution] of [
      ['commonjs', 'node10'],
      ['node16', 'node16'],
    ]) {
      const args = [tsc, '--noEmit', '--strict', '--esModuleInterop', '--skipLibCheck', '--types', 'node', '--typeRoots', path.join(root, 'node_modules', '@types'), '--module', module, '--moduleResolution', resolution, 'check.ts'];
      execFileSync(process.execPath, args, { cwd: app, encoding: 'utf8', timeout: 60_000 });
    }
  }, 120_000);
});
