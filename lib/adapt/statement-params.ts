// The parameters of one statement: checked against the placeholders of its text, then
// adapted with what the text says about each of them (the casts that let an array travel
// in binary, or as JSON). What a text says depends on the text alone: it is worked out
// once per text and kept, so that a statement run many times is lexed once.
import { ProgrammingError } from '../errors';
import { leadingKeyword, MIXED_CASTS, scanPlaceholders } from '../sql/lexer';
import { plural } from '../placeholders';
import { adaptParams, BINARY_ARRAY_OIDS, MAX_PARAMETERS, ParamCast, type AdaptedParams, type AdapterRegistry } from './adapters';
import type { TypecasterRegistry } from './typecasters';

/** What a statement's text says about its parameters. */
export interface StatementParams {
  /** the parameters it takes: the highest `$n` */
  readonly count: number;
  /** per parameter, what the text casts it to (ParamCast, or an array OID); null when nothing useful */
  readonly casts: Int32Array | null;
  /**
   * the `$n` of the text may be its own, not the statement's: a function body
   * (CREATE FUNCTION ... RETURN $1 + 1) or PREPARE ... AS ... $1
   */
  readonly ownPlaceholders: boolean;
}

/** Casts, as scanPlaceholders normalizes them, that change how a value travels. */
const CASTS: ReadonlyMap<string, number> = new Map([
  ['int4[]', BINARY_ARRAY_OIDS.int4],
  ['integer[]', BINARY_ARRAY_OIDS.int4],
  ['int[]', BINARY_ARRAY_OIDS.int4],
  ['_int4', BINARY_ARRAY_OIDS.int4],
  ['int8[]', BINARY_ARRAY_OIDS.int8],
  ['bigint[]', BINARY_ARRAY_OIDS.int8],
  ['_int8', BINARY_ARRAY_OIDS.int8],
  ['float8[]', BINARY_ARRAY_OIDS.float8],
  ['double precision[]', BINARY_ARRAY_OIDS.float8],
  ['float[]', BINARY_ARRAY_OIDS.float8],
  ['_float8', BINARY_ARRAY_OIDS.float8],
  ['bool[]', BINARY_ARRAY_OIDS.bool],
  ['boolean[]', BINARY_ARRAY_OIDS.bool],
  ['_bool', BINARY_ARRAY_OIDS.bool],
  ['json', ParamCast.json],
  ['jsonb', ParamCast.json],
  ['box[]', ParamCast.boxArray],
  ['_box', ParamCast.boxArray],
  ['geometry', ParamCast.geometry],
  ['geography', ParamCast.geometry],
  ['public.geometry', ParamCast.geometry],
  ['public.geography', ParamCast.geometry],
]);

function castOf(type: string | null): number {
  if (type === null) return ParamCast.none;
  if (type === MIXED_CASTS) return ParamCast.mixed;
  const known = CASTS.get(type);
  if (known !== undefined) return known;
  // geometry(Point,4326): the modifier does not change how GeoJSON travels
  const paren = type.indexOf('(');
  if (paren > 0 && type.endsWith(')') && CASTS.get(type.slice(0, paren)) === ParamCast.geometry) return ParamCast.geometry;
  return type.endsWith('[]') ? ParamCast.otherArray : ParamCast.none;
}

function shapeOf(text: string): StatementParams {
  const scan = scanPlaceholders(text);
  let casts: Int32Array | null = null;
  if (scan.casts !== null) {
    const kinds = new Int32Array(scan.casts.length);
    let any = false;
    for (let i = 0; i < kinds.length; i++) {
      kinds[i] = castOf(scan.casts[i]);
      if (kinds[i] !== ParamCast.none) any = true;
    }
    if (any) casts = kinds;
  }
  const keyword = scan.highest > 0 ? leadingKeyword(text) : '';
  return { count: scan.highest, casts, ownPlaceholders: keyword === 'create' || keyword === 'prepare' };
}

// The texts seen last, oldest first; a hit does not reorder (a Map lookup is all it costs),
// so the oldest is dropped when full, to be lexed again if it comes back.
const CACHE_SIZE = 256;
/** longer texts (generated bulk statements, mostly) are kept in one slot of their own */
const CACHE_MAX_TEXT = 64 * 1024;
const cache = new Map<string, StatementParams>();
let lastLong: { text: string; params: StatementParams } | undefined;

/** What the text says about its parameters, lexed once per text. */
export function statementParams(text: string): StatementParams {
  if (text.length > CACHE_MAX_TEXT) {
    if (lastLong !== undefined && lastLong.text === text) return lastLong.params;
    const params = shapeOf(text);
    lastLong = { text, params };
    return params;
  }
  let params = cache.get(text);
  if (params === undefined) {
    params = shapeOf(text);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(text, params);
  }
  return params;
}

/** A ProgrammingError unless `given` values fill the statement's placeholders exactly. */
export function checkParamCount(statement: StatementParams, given: number): void {
  const expected = statement.count;
  if (given === expected) return;
  // no values at all for a text whose $n belong to a body it defines: nothing to fill
  if (given === 0 && statement.ownPlaceholders) return;
  const passed = `${given} ${given === 1 ? 'parameter was' : 'parameters were'} passed`;
  if (expected === 0) throw new ProgrammingError(`the query has no $n placeholder but ${passed}`);
  const placeholders = expected === 1 ? '$1' : `$1 to $${expected}`;
  throw new ProgrammingError(`the query takes ${plural(expected, 'parameter')} (${placeholders}) but ${passed}`);
}

/**
 * The values of a statement bound for the wire, checked against its text's placeholders
 * (a ProgrammingError naming both counts when they differ) and adapted.
 */
export function adaptStatementParams(
  text: string,
  values: readonly unknown[],
  registry: AdapterRegistry,
  typecasters: TypecasterRegistry | undefined,
): AdaptedParams {
  // more than the protocol can count is the first thing to say, whatever the text holds
  if (values.length > MAX_PARAMETERS) {
    throw new ProgrammingError(
      `a statement takes at most ${MAX_PARAMETERS} parameters, not ${values.length}: send the values as arrays (unnest) or in several statements`,
    );
  }
  const statement = statementParams(text);
  checkParamCount(statement, values.length);
  return adaptParams(values, registry, { wire: true, casts: statement.casts, typecasters });
}

/** Empty the cache of statement texts. */
export function clearStatementParamsCache(): void {
  cache.clear();
  lastLong = undefined;
}
