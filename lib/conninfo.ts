// Turning what the user passes to connect() into libpq keywords, and keeping passwords
// out of every message.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

import { native } from './native';
import { OperationalError } from './errors';
import { messageOf } from './thrown';

/** libpq keywords as an object: `{ host, port, dbname, user, password, sslmode, ... }`. */
export type ConninfoObject = Record<string, string | number | boolean | undefined | null>;
export type Conninfo = string | ConninfoObject;

export interface ConnectParams {
  keywords: string[];
  values: string[];
  /** the dbname is a conninfo string for libpq to expand (a string conninfo), not a database name */
  expandDbname: boolean;
  /** every password the caller gave, to be masked in messages */
  secrets: string[];
  /** seconds, from the conninfo's connect_timeout (libpq only applies it to blocking connects) */
  connectTimeout: number | undefined;
  /** the keywords as libpq will see them, for resolving host names ahead of it (shared: read only) */
  settings: Readonly<Record<string, string>>;
}

const URI_PASSWORD = /^[a-z]+:\/\/[^:/@]*:([^@/]*)@/i;
const URI_QUERY_PASSWORD = /[?&]password=([^&]*)/gi;
const KEYWORD_PASSWORD = /(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)/gi;
/** the bare word after password=, quote or no quote: what the user meant, however libpq reads it */
const PASSWORD_WORD = /password\s*=\s*'?([^'\s&]+)/gi;

/**
 * Every way a password can be written into a conninfo string, found without libpq's help:
 * when libpq cannot parse the string, its message may quote any part of it.
 */
function passwordsIn(conninfo: string): string[] {
  const found: string[] = [];
  const add = (text: string | undefined) => {
    if (!text) return;
    found.push(text, safeDecode(text));
    if (text.startsWith("'") && text.endsWith("'") && text.length >= 2) found.push(text.slice(1, -1).replace(/\\(.)/g, '$1'));
  };
  add(URI_PASSWORD.exec(conninfo)?.[1]);
  for (const match of conninfo.matchAll(URI_QUERY_PASSWORD)) add(match[1]);
  for (const match of conninfo.matchAll(KEYWORD_PASSWORD)) add(match[1]);
  for (const match of conninfo.matchAll(PASSWORD_WORD)) add(match[1]);
  return found;
}

/** What a conninfo string says: its keywords as libpq parses them, and the passwords in it. */
interface ParsedConninfo {
  readonly settings: Readonly<Record<string, string>>;
  readonly secrets: readonly string[];
}

/**
 * The string parsed last, and what it says. A pool, or a program that reconnects, passes the
 * same string every time, and parsing it (libpq's parser, then every pattern a password may
 * hide in) cost more than all the rest of turning it into keywords.
 */
let lastParsed: { conninfo: string; parsed: ParsedConninfo } | undefined;

function parseConninfoString(conninfo: string): ParsedConninfo {
  if (lastParsed !== undefined && lastParsed.conninfo === conninfo) return lastParsed.parsed;
  checkConninfoText(conninfo, 'the connection string');
  const secrets = passwordsIn(conninfo);
  let settings: Record<string, string>;
  try {
    settings = conninfo === '' ? {} : native().parseConninfo(conninfo);
  } catch (error) {
    throw new OperationalError(`invalid connection string: ${redact(messageOf(error).trim(), secrets)}`);
  }
  if (settings.password) secrets.push(settings.password);
  // shared by every connect given this string: nobody may change them
  const parsed: ParsedConninfo = { settings: Object.freeze(settings), secrets: Object.freeze(secrets) };
  lastParsed = { conninfo, parsed };
  return parsed;
}

/**
 * The keywords for PQconnectStartParams: a conninfo string goes in as an expanded dbname, so
 * libpq parses it (URI or key=value) and the PG* environment variables fill in the rest. The
 * values of an object are values: its dbname names a database whatever it looks like, so that
 * a dbname taken from elsewhere cannot send the connection (and its password) to another host.
 */
export function connectParams(conninfo: Conninfo | undefined): ConnectParams {
  const keywords: string[] = [];
  const values: string[] = [];
  const secrets: string[] = [];
  let parsed: Readonly<Record<string, string>> = {};
  if (typeof conninfo === 'string') {
    const known = parseConninfoString(conninfo);
    secrets.push(...known.secrets);
    parsed = known.settings;
    if (conninfo !== '') {
      keywords.push('dbname');
      values.push(conninfo);
    }
  } else if (conninfo !== undefined && conninfo !== null) {
    if (typeof conninfo !== 'object') {
      throw new TypeError('conninfo must be a string (URI or key=value pairs) or an object of libpq keywords');
    }
    const given: Record<string, string> = {};
    for (const [key, value] of Object.entries(conninfo)) {
      if (value === undefined || value === null) continue;
      const text = String(value);
      checkConninfoText(key, 'a connection option name');
      checkConninfoText(text, `the connection option ${key}`);
      if (key === 'password') secrets.push(text);
      // a database name written like a URI with a password: the server's "database ... does
      // not exist" would quote it
      if (key === 'dbname') secrets.push(...passwordsIn(text));
      keywords.push(key);
      values.push(text);
      given[key] = text;
    }
    parsed = given;
  }
  // Strings are decoded as UTF-8, so the server must send UTF-8 whatever the database's encoding.
  keywords.push('client_encoding');
  values.push('UTF8');
  // pqnode names the session only when the caller named it nowhere, not even as empty
  const named =
    parsed.application_name !== undefined || parsed.fallback_application_name !== undefined || process.env.PGAPPNAME !== undefined;
  if (!named) {
    keywords.push('fallback_application_name');
    values.push('pqnode');
  }
  const timeoutText = parsed.connect_timeout ?? process.env.PGCONNECT_TIMEOUT;
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText);
  return {
    keywords,
    values,
    expandDbname: typeof conninfo === 'string' && conninfo !== '',
    // longest first, so that a password is never half-masked by a shorter one inside it
    secrets: [...new Set(secrets.filter((secret) => secret.length > 0))].sort((a, b) => b.length - a.length),
    connectTimeout: timeout !== undefined && Number.isFinite(timeout) && timeout > 0 ? Math.max(timeout, 2) : undefined,
    settings: parsed,
  };
}

/**
 * libpq reads keywords and values as C strings in UTF-8: a NUL would cut one short, and a
 * lone surrogate (half of a UTF-16 pair alone) would become U+FFFD. The message names where,
 * never the text, which may be a password.
 */
function checkConninfoText(text: string, where: string): void {
  if (text.includes('\u0000')) throw new OperationalError(`invalid connection info: ${where} contains a NUL character`);
  if (!text.isWellFormed()) {
    throw new OperationalError(`invalid connection info: ${where} holds a lone surrogate (half of a UTF-16 pair alone), which has no UTF-8 form`);
  }
}

/**
 * libpq resolves host names with a blocking getaddrinfo() inside PQconnectPoll. Names are
 * resolved here first, on the thread pool, and handed over as hostaddr, one entry per
 * address so that libpq still tries each in turn; the host name stays for SSL verification.
 * Socket paths, numeric addresses and localhost need no network and are left to libpq:
 * then there is nothing to wait for (undefined), and the connect starts in the same tick.
 */
export function resolveHosts(params: ConnectParams): Promise<void> | undefined {
  const settings = params.settings;
  const hostText = settings.host ?? process.env.PGHOST;
  if (!hostText || settings.hostaddr || process.env.PGHOSTADDR) return undefined;
  const hosts = hostText.split(',');
  if (!hosts.some(needsLookup)) return undefined;
  const portText = settings.port ?? process.env.PGPORT ?? '';
  const ports = portText.split(',');
  if (ports.length > 1 && ports.length !== hosts.length) return undefined; // libpq reports the mismatch
  return lookUpHosts(params, hosts, ports);
}

function needsLookup(host: string): boolean {
  return host !== '' && !host.startsWith('/') && !host.startsWith('@') && isIP(host) === 0 && host.toLowerCase() !== 'localhost';
}

async function lookUpHosts(params: ConnectParams, hosts: string[], ports: string[]): Promise<void> {
  const portOf = (index: number) => (ports.length > 1 ? ports[index] : ports[0]);
  const lookups = await Promise.all(
    hosts.map(async (host) => {
      if (!needsLookup(host)) return { host, addresses: [''] };
      try {
        const found = await lookup(host, { all: true });
        return { host, addresses: found.map((entry) => entry.address) };
      } catch (error) {
        return { host, addresses: [] as string[], error };
      }
    }),
  );
  const outHosts: string[] = [];
  const outAddresses: string[] = [];
  const outPorts: string[] = [];
  lookups.forEach(({ host, addresses }, index) => {
    for (const address of addresses) {
      outHosts.push(host);
      outAddresses.push(address);
      outPorts.push(portOf(index));
    }
  });
  if (outHosts.length === 0) {
    const failed = lookups[0];
    const reason = (failed as { error?: { code?: string } }).error?.code ?? 'not found';
    throw new OperationalError(`could not translate host name "${failed.host}" to address: ${reason}`);
  }
  // later keywords override earlier ones, including what an expanded dbname set
  params.keywords.push('host', 'hostaddr', 'port');
  params.values.push(outHosts.join(','), outAddresses.join(','), outPorts.join(','));
}

/** The message with every known password replaced. */
export function redact(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('********');
  }
  return out;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

