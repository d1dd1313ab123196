// node-postgres's `defaults`: the values a client or pool falls back on when neither its
// config nor the PG* environment variables say otherwise, and the parseInt8 switch.
import { defaultTypeParser, getTypeParser, setTypeParser } from './type-parsers';

export interface Defaults {
  host: string;
  user: string | undefined;
  database: string | undefined;
  password: string | null;
  connectionString: string | undefined;
  port: number;
  rows: number;
  binary: boolean;
  max: number;
  idleTimeoutMillis: number;
  client_encoding: string;
  ssl: boolean;
  application_name: string | undefined;
  fallback_application_name: string | undefined;
  options: string | undefined;
  parseInputDatesAsUTC: boolean;
  statement_timeout: number | false;
  lock_timeout: number | false;
  idle_in_transaction_session_timeout: number | false;
  query_timeout: number | false;
  connect_timeout: number;
  keepalives: number;
  keepalives_idle: number;
  /**
   * runs of a statement on a client before it is prepared on the server (pqnode's, not
   * node-postgres's); null: never prepare a statement without a name, as node-postgres
   */
  prepareThreshold: number | null;
  /** int8 (and int8[]) as JS numbers rather than strings */
  parseInt8: boolean;
}

const BUILT_IN = {
  host: 'localhost',
  user: process.platform === 'win32' ? process.env.USERNAME : process.env.USER,
  database: undefined,
  password: null,
  connectionString: undefined,
  port: 5432,
  rows: 0,
  binary: false,
  max: 10,
  idleTimeoutMillis: 30000,
  client_encoding: '',
  ssl: false,
  application_name: undefined,
  fallback_application_name: undefined,
  options: undefined,
  parseInputDatesAsUTC: false,
  statement_timeout: false,
  lock_timeout: false,
  idle_in_transaction_session_timeout: false,
  query_timeout: false,
  connect_timeout: 0,
  keepalives: 1,
  keepalives_idle: 0,
  prepareThreshold: 5 as number | null,
} as const;

/** The built-in value of a default, to tell whether the user changed it. */
export function builtInDefault(key: keyof typeof BUILT_IN): unknown {
  return BUILT_IN[key];
}

let parseInt8 = false;

export const defaults: Defaults = Object.defineProperty({ ...BUILT_IN } as Omit<Defaults, 'parseInt8'>, 'parseInt8', {
  enumerable: true,
  get: () => parseInt8,
  set: (value: unknown) => {
    parseInt8 = Boolean(value);
    // as node-postgres does it: int8 and int8[] get int4's parsers, or their own back
    setTypeParser(20, parseInt8 ? getTypeParser(23) : (defaultTypeParser(20) ?? getTypeParser(25)));
    setTypeParser(1016, parseInt8 ? getTypeParser(1007) : (defaultTypeParser(1016) ?? getTypeParser(25)));
  },
}) as Defaults;
