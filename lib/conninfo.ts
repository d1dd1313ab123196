// Turning what the user passes to connect() into libpq keywords, and keeping passwords
// out of every message.
import { native } from './native';
import { OperationalError } from './errors';

/** libpq keywords as an object: `{ host, port, dbname, user, password, sslmode, ... }`. */
export type ConninfoObject = Record<string, string | number | boolean | undefined | null>;
export type Conninfo = string | ConninfoObject;

export interface ConnectParams {
  keywords: string[];
  values: string[];
  /** every password the caller gave, to be masked in messages */
  secrets: string[];
  /** seconds, from the conninfo's connect_timeout (libpq only applies it to blocking connects) */
  connectTimeout: number | undefined;
}

const URI_PASSWORD = /^[a-z]+:\/\/[^:/@]*:([^@/]*)@/i;

/**
 * The keywords for PQconnectStartParams: a conninfo string goes in as an expanded dbname, so
 * libpq parses it (URI or key=value) and the PG* environment variables fill in the rest.
 */
export function connectParams(conninfo: Conninfo | undefined): ConnectParams {
  const keywords: string[] = [];
  const values: string[] = [];
  const secrets: string[] = [];
  let parsed: Record<string, string> = {};
  if (typeof conninfo === 'string') {
    const uriPassword = URI_PASSWORD.exec(conninfo)?.[1];
    if (uriPassword) secrets.push(uriPassword, safeDecode(uriPassword));
    try {
      parsed = conninfo === '' ? {} : native().parseConninfo(conninfo);
    } catch (error) {
      throw new OperationalError(`invalid connection string: ${redact(messageOf(error), secrets)}`);
    }
    if (parsed.password) secrets.push(parsed.password);
    if (conninfo !== '') {
      keywords.push('dbname');
      values.push(conninfo);
    }
  } else if (conninfo !== undefined && conninfo !== null) {
    if (typeof conninfo !== 'object') {
      throw new TypeError('conninfo must be a string (URI or key=value pairs) or an object of libpq keywords');
    }
    for (const [key, value] of Object.entries(conninfo)) {
      if (value === undefined || value === null) continue;
      const text = String(value);
      if (key === 'password') secrets.push(text);
      keywords.push(key);
      values.push(text);
      parsed[key] = text;
    }
  }
  // Strings are decoded as UTF-8, so the server must send UTF-8 whatever the database's encoding.
  keywords.push('client_encoding');
  values.push('UTF8');
  if (!parsed.application_name) {
    keywords.push('fallback_application_name');
    values.push('pqnode');
  }
  const timeoutText = parsed.connect_timeout ?? process.env.PGCONNECT_TIMEOUT;
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText);
  return {
    keywords,
    values,
    secrets: secrets.filter((secret) => secret.length > 0),
    connectTimeout: timeout !== undefined && Number.isFinite(timeout) && timeout > 0 ? Math.max(timeout, 2) : undefined,
  };
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

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).trim();
}
