// node-postgres's client configuration, translated into libpq's connection keywords.
//
// Precedence is node-postgres's: the connection string over the config's own fields, these
// over the PG* environment variables (which libpq reads itself), these over `defaults` when
// the user changed them. What node-postgres sends as startup parameters (statement_timeout,
// lock_timeout, idle_in_transaction_session_timeout) goes into libpq's `options` as `-c`
// settings. TLS material given inline (PEM strings or Buffers) is written to a private
// temporary folder for libpq, which reads files only; the folder goes when the client ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

import { messageOf } from '../thrown';
import { builtInDefault, defaults } from './defaults';
import { parseConninfo } from './driver';
import type { CustomTypesConfig } from './type-parsers';

/** What node-postgres's `ssl` option takes: tls.connect()'s options, of which these are read. */
export interface SslConfig {
  rejectUnauthorized?: boolean;
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer | (string | Buffer)[];
  key?: string | Buffer | (string | Buffer)[];
  passphrase?: string;
  minVersion?: string;
  maxVersion?: string;
  checkServerIdentity?: unknown;
  servername?: string;
  [option: string]: unknown;
}

export interface ClientConfig {
  user?: string;
  database?: string;
  password?: string | (() => string | Promise<string>);
  port?: number | string;
  host?: string;
  connectionString?: string;
  keepAlive?: boolean;
  keepAliveInitialDelayMillis?: number;
  statement_timeout?: number | false;
  lock_timeout?: number | false;
  idle_in_transaction_session_timeout?: number | false;
  /** milliseconds a query may take, measured by the client; the statement is cancelled after it */
  query_timeout?: number | false;
  application_name?: string;
  fallback_application_name?: string;
  connectionTimeoutMillis?: number;
  types?: CustomTypesConfig;
  ssl?: boolean | SslConfig;
  options?: string;
  client_encoding?: string;
  /** accepted for compatibility, unused: pqnode's socket belongs to libpq */
  stream?: unknown;
  binary?: boolean;
  Promise?: PromiseConstructor;
  /**
   * runs of a statement before it is prepared on the server (5 by default, from
   * `defaults.prepareThreshold`); null: never prepare a statement without a name, as
   * node-postgres (behind PgBouncer in transaction mode, say)
   */
  prepareThreshold?: number | null;
  [option: string]: unknown;
}

/** What the client connects with. */
export interface ConnectSettings {
  keywords: Record<string, string>;
  /** seconds, or undefined for none */
  connectTimeout: number | undefined;
  /** removes the temporary files the TLS material was written to */
  cleanup(): void;
}

/** node-postgres config names that libpq does not know, read from a connection string's query. */
const PG_ONLY_PARAMS = new Set([
  'ssl',
  'uselibpqcompat',
  'statement_timeout',
  'query_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'connectionTimeoutMillis',
  'keepAlive',
  'keepAliveInitialDelayMillis',
  'binary',
  'max',
  'min',
  'idleTimeoutMillis',
]);

/** The connection string's settings: libpq keywords, and the node-postgres fields among them. */
interface ParsedConnectionString {
  keywords: Record<string, string>;
  pg: Record<string, string>;
}

function parseConnectionString(text: string): ParsedConnectionString {
  const pg: Record<string, string> = {};
  let forLibpq = text;
  if (/^postgres(?:ql)?:\/\//i.test(text)) {
    const query = text.indexOf('?');
    if (query !== -1) {
      const kept: string[] = [];
      for (const pair of text.slice(query + 1).split('&')) {
        if (pair === '') continue;
        const eq = pair.indexOf('=');
        const key = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq));
        const value = eq === -1 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
        if (PG_ONLY_PARAMS.has(key)) pg[key] = value;
        else if (key === 'sslmode' && value === 'no-verify') pg.sslmode = value;
        else kept.push(pair);
      }
      forLibpq = kept.length > 0 ? `${text.slice(0, query)}?${kept.join('&')}` : text.slice(0, query);
    }
  }
  let keywords: Record<string, string>;
  try {
    keywords = parseConninfo(forLibpq);
  } catch (error) {
    // libpq's message quotes nothing of the string: no password leaks through it
    throw new TypeError(`invalid connection string: ${messageOf(error)}`);
  }
  return { keywords, pg };
}

/** `-c name=value` for libpq's options, the value's blanks and backslashes escaped as libpq wants. */
function setting(name: string, value: number | string): string {
  return `-c ${name}=${String(value).replace(/[\\\s]/g, (c) => `\\${c}`)}`;
}

function present<T>(value: T | undefined | null): value is T {
  return value !== undefined && value !== null;
}

/** config, then the environment (left to libpq), then a default the user changed. */
function fromDefaults(key: 'host' | 'user' | 'database' | 'port' | 'application_name' | 'fallback_application_name' | 'client_encoding', env: string): string | undefined {
  if (process.env[env] !== undefined) return undefined;
  const value = defaults[key];
  if (!present(value) || value === '' || value === builtInDefault(key)) return undefined;
  return String(value);
}

function pemText(value: string | Buffer | (string | Buffer)[]): string {
  const parts = Array.isArray(value) ? value : [value];
  return parts.map((part) => (Buffer.isBuffer(part) ? part.toString('utf8') : String(part)).trim()).join('\n') + '\n';
}

/** Temporary folders holding TLS material, removed at exit if a client never ended. */
const liveFolders = new Set<string>();
let exitHookSet = false;

function removeFolder(folder: string): void {
  liveFolders.delete(folder);
  try {
    fs.rmSync(folder, { recursive: true, force: true });
  } catch {
    // nothing more can be done; the folder is private to this user
  }
}

/** A private folder (0700) with the files (0600) libpq reads its TLS material from. */
function writeTlsFiles(files: Record<string, string>): { paths: Record<string, string>; cleanup(): void } {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'pqnode-pg-'));
  fs.chmodSync(folder, 0o700);
  liveFolders.add(folder);
  if (!exitHookSet) {
    exitHookSet = true;
    process.once('exit', () => {
      for (const live of [...liveFolders]) removeFolder(live);
    });
  }
  const paths: Record<string, string> = {};
  try {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(folder, name);
      fs.writeFileSync(file, content, { mode: 0o600 });
      paths[name] = file;
    }
  } catch (error) {
    removeFolder(folder);
    throw error;
  }
  let removed = false;
  return {
    paths,
    cleanup: () => {
      if (removed) return;
      removed = true;
      removeFolder(folder);
    },
  };
}

/** The libpq keywords for node-postgres's `ssl` option; `files` collects the PEM texts to write. */
function sslKeywords(ssl: boolean | SslConfig | undefined, sslmodeFromString: string | undefined, files: Record<string, string>): Record<string, string> {
  if (sslmodeFromString === 'no-verify') return { sslmode: 'require' };
  if (sslmodeFromString !== undefined) return {}; // libpq's own sslmode, with libpq's meaning
  if (ssl === undefined || ssl === null) {
    if (process.env.PGSSLMODE === 'no-verify') return { sslmode: 'require' };
    if (process.env.PGSSLMODE !== undefined) return {};
    ssl = defaults.ssl;
  }
  if (ssl === false) return { sslmode: 'disable' };
  const options: SslConfig = ssl === true ? {} : ssl;
  const keywords: Record<string, string> = {};
  if (options.rejectUnauthorized === false) {
    keywords.sslmode = 'require';
  } else {
    // as Node verifies: the certificate chain against the CAs given (Node's own list
    // otherwise) and the host name, unless a checkServerIdentity of the user's replaces it
    keywords.sslmode = typeof options.checkServerIdentity === 'function' ? 'verify-ca' : 'verify-full';
    files.root = options.ca !== undefined ? pemText(options.ca) : pemText([...tls.rootCertificates]);
  }
  if (options.cert !== undefined) files.cert = pemText(options.cert);
  if (options.key !== undefined) files.key = pemText(options.key);
  if (typeof options.passphrase === 'string') keywords.sslpassword = options.passphrase;
  if (typeof options.minVersion === 'string') keywords.ssl_min_protocol_version = options.minVersion;
  if (typeof options.maxVersion === 'string') keywords.ssl_max_protocol_version = options.maxVersion;
  return keywords;
}

function parseBoolean(text: string | undefined): boolean | undefined {
  if (text === undefined) return undefined;
  return text === 'true' || text === '1' || text === '';
}

function numberOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === false) return undefined;
  const number = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(number) ? number : undefined;
}

/** Resolve a password function (node-postgres calls it at each connect). */
export async function resolvePassword(password: ClientConfig['password']): Promise<string | undefined> {
  if (typeof password !== 'function') return present(password) ? String(password) : undefined;
  const value = await password();
  if (typeof value !== 'string') throw new TypeError('client password must be a string');
  return value;
}

/** The client's query_timeout (ms), from its config or the defaults. */
export function queryTimeoutOf(config: ClientConfig): number | undefined {
  let fromString: string | undefined;
  const text = config.connectionString ?? defaults.connectionString;
  if (typeof text === 'string' && text.includes('?')) fromString = new URLSearchParams(text.slice(text.indexOf('?') + 1)).get('query_timeout') ?? undefined;
  const value = numberOf(config.query_timeout) ?? numberOf(fromString) ?? numberOf(defaults.query_timeout);
  return value !== undefined && value > 0 ? value : undefined;
}

/** The client's prepareThreshold: its config's (null included), else the defaults'. */
export function prepareThresholdOf(config: ClientConfig): number | null {
  return config.prepareThreshold !== undefined ? config.prepareThreshold : defaults.prepareThreshold;
}

/** The keywords and settings to connect with; the password already resolved. */
export function connectSettings(config: ClientConfig, password: string | undefined): ConnectSettings {
  const connectionString = config.connectionString ?? defaults.connectionString;
  const parsed = typeof connectionString === 'string' && connectionString !== '' ? parseConnectionString(connectionString) : undefined;
  const fromString = parsed?.keywords ?? {};
  const pgFromString = parsed?.pg ?? {};
  const keywords: Record<string, string> = {};
  const put = (keyword: string, value: unknown) => {
    if (present(value) && value !== '') keywords[keyword] = String(value);
  };

  put('host', config.host ?? fromDefaults('host', 'PGHOST'));
  // node-postgres connects to localhost over TCP when nothing names a host, not to a socket
  if (keywords.host === undefined && process.env.PGHOST === undefined && fromString.host === undefined && fromString.hostaddr === undefined) {
    keywords.host = 'localhost';
  }
  put('port', config.port ?? fromDefaults('port', 'PGPORT'));
  put('user', config.user ?? fromDefaults('user', 'PGUSER'));
  put('dbname', config.database ?? fromDefaults('database', 'PGDATABASE'));
  put('password', password);
  put('application_name', config.application_name ?? fromDefaults('application_name', 'PGAPPNAME'));
  put('fallback_application_name', config.fallback_application_name ?? fromDefaults('fallback_application_name', 'PGAPPNAME'));
  put('client_encoding', config.client_encoding ?? fromDefaults('client_encoding', 'PGCLIENTENCODING'));

  const keepAlive = config.keepAlive ?? parseBoolean(pgFromString.keepAlive);
  if (keepAlive === true) {
    keywords.keepalives = '1';
    const delay = numberOf(config.keepAliveInitialDelayMillis ?? pgFromString.keepAliveInitialDelayMillis);
    if (delay !== undefined && delay > 0) keywords.keepalives_idle = String(Math.max(1, Math.round(delay / 1000)));
  } else if (keepAlive === false) {
    keywords.keepalives = '0';
  }

  // node-postgres's startup parameters, as libpq's options
  const options: string[] = [];
  const baseOptions = config.options ?? process.env.PGOPTIONS ?? defaults.options;
  if (typeof baseOptions === 'string' && baseOptions.trim() !== '') options.push(baseOptions.trim());
  for (const name of ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'] as const) {
    const value = numberOf(config[name] ?? pgFromString[name] ?? defaults[name]);
    if (value !== undefined) options.push(setting(name, value));
  }

  // the connection string wins over the fields, as in node-postgres; the timeouts follow its options
  Object.assign(keywords, fromString);
  if (fromString.options !== undefined && baseOptions !== undefined && options[0] === baseOptions.trim()) options.shift();
  if (fromString.options !== undefined) options.unshift(fromString.options);
  if (options.length > 0) keywords.options = options.join(' ');

  const files: Record<string, string> = {};
  const ssl = pgFromString.ssl !== undefined ? parseBoolean(pgFromString.ssl) : config.ssl;
  const sslmode = pgFromString.sslmode ?? fromString.sslmode;
  Object.assign(keywords, sslKeywords(ssl, sslmode, files));
  let cleanup = () => undefined as void;
  if (Object.keys(files).length > 0) {
    const written = writeTlsFiles(files);
    cleanup = written.cleanup;
    if (written.paths.root !== undefined) keywords.sslrootcert = written.paths.root;
    if (written.paths.cert !== undefined) keywords.sslcert = written.paths.cert;
    if (written.paths.key !== undefined) keywords.sslkey = written.paths.key;
  }

  const millis = numberOf(config.connectionTimeoutMillis ?? pgFromString.connectionTimeoutMillis);
  const connectTimeout = millis !== undefined && millis > 0 ? millis / 1000 : undefined;
  return { keywords, connectTimeout, cleanup };
}
