// Runs a script in a child `node` process, for tests whose subject may crash the process or
// keep it from exiting: the test asserts how the child ended instead of going down with it.
// The child loads pqnode from lib/ (TypeScript compiled as it is required), so no build
// output is shared between test files that run at once.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

const PRELUDE = `'use strict';
const fs = require('node:fs');
const ts = require(${JSON.stringify(path.join(ROOT, 'node_modules', 'typescript'))});
require.extensions['.ts'] = (module, filename) => {
  const output = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, isolatedModules: true, preserveConstEnums: true },
  });
  module._compile(output.outputText, filename);
};
const ROOT = ${JSON.stringify(ROOT)};
const pqnode = require(ROOT + '/lib/index.ts');
/** one line of JSON on stdout, for the test to read */
const report = (value) => process.stdout.write(JSON.stringify(value) + '\\n');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
`;

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** the JSON lines the child reported */
  reports: Record<string, unknown>[];
  /** milliseconds from spawn to exit */
  elapsed: number;
  /** killed by the test for running past its time */
  timedOut: boolean;
}

/**
 * Runs `body` (CommonJS, after a prelude that defines `pqnode`, `report(value)`, `sleep(ms)`
 * and `ROOT`) in a child process; kills it after `timeoutMs`.
 */
export async function runChild(body: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ChildRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-child-'));
  const script = path.join(dir, 'child.cjs');
  fs.writeFileSync(script, PRELUDE + body);
  const started = Date.now();
  try {
    return await new Promise<ChildRun>((resolve) => {
      const child = spawn(process.execPath, [script], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs ?? 30_000);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const reports = stdout
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => JSON.parse(line) as Record<string, unknown>);
        resolve({ code, signal, stdout, stderr, reports, elapsed: Date.now() - started, timedOut });
      });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
