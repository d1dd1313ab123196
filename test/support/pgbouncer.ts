// The throwaway PgBouncer of scripts/pgbouncer.mjs, typed for the tests.
import type { TestServer } from '../helpers';

export interface Pgbouncer {
  dsn: string;
  host: string;
  port: number;
  /** '1.18.0' */
  version: string | null;
  logFile: string;
  tempDir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface PgbouncerOptions {
  host: string;
  port: number;
  poolMode?: 'session' | 'transaction' | 'statement';
  /** server connections per database and user (2 by default) */
  poolSize?: number;
  /** more lines of the [pgbouncer] section */
  settings?: Record<string, string | number>;
  timeoutMs?: number;
}

interface PgbouncerModule {
  findPgbouncer(): string | null;
  pgbouncerVersion(binary?: string | null): string | null;
  startPgbouncer(options: PgbouncerOptions): Promise<Pgbouncer>;
}

/** The module, typed by hand as loadTestServerModule does for the server harness. */
export async function loadPgbouncerModule(): Promise<PgbouncerModule> {
  const specifier: string = '../../scripts/pgbouncer.mjs';
  return (await import(specifier)) as PgbouncerModule;
}

/**
 * Why the PgBouncer tests cannot run here ('' when they can). Under CI a missing pgbouncer
 * is an error: .ci/run installs it.
 */
export async function pgbouncerMissing(): Promise<string> {
  const { findPgbouncer } = await loadPgbouncerModule();
  if (findPgbouncer() !== null) return '';
  if (process.env.CI === 'true') throw new Error('pgbouncer is not installed, and CI must run the PgBouncer tests (.ci/run installs it)');
  return 'pgbouncer is not installed (apt-get install pgbouncer)';
}

/** A PgBouncer in front of `server`, transaction pooling over `poolSize` server connections by default. */
export async function startPgbouncerFor(server: TestServer, options: Omit<PgbouncerOptions, 'host' | 'port'> = {}): Promise<Pgbouncer> {
  const { startPgbouncer } = await loadPgbouncerModule();
  return startPgbouncer({ host: server.host, port: server.port, ...options });
}
