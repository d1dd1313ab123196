// psycopg placeholders → native ones, and the statement counter: pure, no server.
import { beforeEach, describe, expect, it } from 'vitest';
import { ProgrammingError } from '../lib/errors';
import { clearPlaceholderCache, convertPlaceholders, placeholderCacheSize } from '../lib/placeholders';
import { countStatements, hasMultipleStatements, leadingKeyword, MIXED_CASTS, scanPlaceholders } from '../lib/sql/lexer';
import { checkParamCount, statementParams } from '../lib/adapt/statement-params';
import { ParamCast } from '../lib/adapt/adapters';
import { thrownBy as errorOf } from './helpers';

describe('convertPlaceholders', () => {
  beforeEach(() => clearPlaceholderCache());

  it('leaves the text alone without params, % and all', () => {
    const text = "select '100%', 'a%sb', %(x)s, %z";
    expect(convertPlaceholders(text, undefined)).toEqual({ text, values: [] });
    expect(convertPlaceholders(text, null)).toEqual({ text, values: [] });
  });

  it('numbers %s placeholders in order', () => {
    expect(convertPlaceholders('select %s, %s, %s', [1, 'a', null])).toEqual({
      text: 'select $1, $2, $3',
      values: [1, 'a', null],
    });
    expect(convertPlaceholders('insert into t values (%s,%s)', [1, 2]).text).toBe('insert into t values ($1,$2)');
  });

  it('accepts %b and %t as %s', () => {
    expect(convertPlaceholders('select %b, %t, %s', [1, 2, 3]).text).toBe('select $1, $2, $3');
    expect(convertPlaceholders('select %(a)b, %(b)t', { a: 1, b: 2 })).toEqual({ text: 'select $1, $2', values: [1, 2] });
  });

  it('turns %% into %', () => {
    expect(convertPlaceholders("select '100%%', %s", [1])).toEqual({ text: "select '100%', $1", values: [1] });
    expect(convertPlaceholders("select 'a%%b'", [])).toEqual({ text: "select 'a%b'", values: [] });
    expect(convertPlaceholders('select %%s', []).text).toBe('select %s');
    expect(convertPlaceholders("select x like 'a%%' and y = %(y)s", { y: 1 }).text).toBe("select x like 'a%' and y = $1");
  });

  it('checks the count of positional params before anything is sent', () => {
    const tooFew = errorOf(() => convertPlaceholders('select %s, %s', [1]));
    expect(tooFew).toBeInstanceOf(ProgrammingError);
    expect(tooFew.message).toBe('the query has 2 placeholders but 1 parameter was passed');
    const tooMany = errorOf(() => convertPlaceholders('select %s', [1, 2]));
    expect(tooMany.message).toBe('the query has 1 placeholder but 2 parameters were passed');
    expect(() => convertPlaceholders('select 1', [1])).toThrow(ProgrammingError);
    expect(convertPlaceholders('select 1', [])).toEqual({ text: 'select 1', values: [] });
  });

  it('maps named placeholders, a repeated name to one $n sent once', () => {
    expect(convertPlaceholders('select %(a)s, %(b)s, %(a)s', { a: 1, b: 'x', unused: 3 })).toEqual({
      text: 'select $1, $2, $1',
      values: [1, 'x'],
    });
    expect(convertPlaceholders('select %(weird name!)s', { 'weird name!': 5 })).toEqual({ text: 'select $1', values: [5] });
    expect(convertPlaceholders('select %(a)s', { a: undefined }).values).toEqual([undefined]);
    expect(convertPlaceholders('select %(a)s, %(b)s', new Map([['a', 1], ['b', 2]]))).toEqual({ text: 'select $1, $2', values: [1, 2] });
    expect(convertPlaceholders('select 1', {})).toEqual({ text: 'select 1', values: [] });
  });

  it('names a missing parameter', () => {
    const error = errorOf(() => convertPlaceholders('select %(a)s, %(zeta)s', { a: 1 }));
    expect(error).toBeInstanceOf(ProgrammingError);
    expect(error.message).toContain('zeta');
    // a name inherited from Object.prototype is not a parameter
    expect(() => convertPlaceholders('select %(constructor)s', {})).toThrow(/constructor/);
    expect(() => convertPlaceholders('select %(a)s', new Map())).toThrow(/"a"/);
  });

  it('refuses mixing %s and %(name)s', () => {
    expect(() => convertPlaceholders('select %s, %(a)s', [1])).toThrow(/mixed/);
    expect(() => convertPlaceholders('select %(a)s, %s', { a: 1 })).toThrow(/mixed/);
  });

  it('refuses the wrong kind of params', () => {
    expect(() => convertPlaceholders('select %(a)s', [1])).toThrow(/object/);
    expect(() => convertPlaceholders('select %s', { a: 1 })).toThrow(/array/);
    expect(() => convertPlaceholders('select %s', 'x' as unknown as unknown[])).toThrow(ProgrammingError);
  });

  it('refuses unknown and incomplete placeholders', () => {
    const unknown = errorOf(() => convertPlaceholders('select %d', [1]));
    expect(unknown).toBeInstanceOf(ProgrammingError);
    expect(unknown.message).toContain("'%d'");
    expect(() => convertPlaceholders("select 'a%'", [])).toThrow(ProgrammingError);
    expect(() => convertPlaceholders('select 50%', [])).toThrow(/ends with '%'/);
    expect(() => convertPlaceholders('select %(a', { a: 1 })).toThrow(/incomplete/);
    expect(() => convertPlaceholders('select %(a)x', { a: 1 })).toThrow(/%\(a\)x/);
    expect(() => convertPlaceholders('select %(a)', { a: 1 })).toThrow(ProgrammingError);
    expect(() => convertPlaceholders('select %()s', {})).toThrow(ProgrammingError);
  });

  it('caches the scan per text, bounded', () => {
    convertPlaceholders('select %s', [1]);
    convertPlaceholders('select %s', [2]);
    expect(placeholderCacheSize()).toBe(1);
    // a cached error is thrown again, as a fresh error
    const a = errorOf(() => convertPlaceholders('select %q', [1]));
    const b = errorOf(() => convertPlaceholders('select %q', [1]));
    expect(a).not.toBe(b);
    expect(a.message).toBe(b.message);
    for (let i = 0; i < 1000; i++) convertPlaceholders(`select ${i}, %s`, [i]);
    expect(placeholderCacheSize()).toBeLessThanOrEqual(256);
    expect(convertPlaceholders('select 999, %s', [1]).text).toBe('select 999, $1');
    expect(convertPlaceholders('select %s', [3])).toEqual({ text: 'select $1', values: [3] });
  });

  it('does not share the values array with the caller', () => {
    const params = [1];
    const out = convertPlaceholders('select %s', params);
    expect(out.values).toEqual([1]);
    expect(out.values).not.toBe(params);
  });
});

describe('countStatements / hasMultipleStatements', () => {
  it('counts plain statements', () => {
    expect(countStatements('')).toBe(0);
    expect(countStatements('   ')).toBe(0);
    expect(countStatements('select 1')).toBe(1);
    expect(countStatements('select 1;')).toBe(1);
    expect(countStatements('select 1; select 2')).toBe(2);
    expect(countStatements('select 1; select 2;')).toBe(2);
    expect(countStatements(';;select 1;;;select 2;;')).toBe(2);
    expect(hasMultipleStatements('select 1')).toBe(false);
    expect(hasMultipleStatements('select 1;')).toBe(false);
    expect(hasMultipleStatements('select 1; select 2')).toBe(true);
  });

  it('ignores what follows a trailing ";" when it is only blanks and comments', () => {
    expect(hasMultipleStatements('select 1;  \n\t ')).toBe(false);
    expect(hasMultipleStatements('select 1; -- done')).toBe(false);
    expect(hasMultipleStatements('select 1; /* done */')).toBe(false);
    expect(hasMultipleStatements('select 1; /* a /* nested */ comment */ -- x\n')).toBe(false);
  });

  it("does not split inside '...' strings, with '' escapes", () => {
    expect(hasMultipleStatements("select ';'")).toBe(false);
    expect(hasMultipleStatements("select 'it''s; fine'")).toBe(false);
    expect(hasMultipleStatements("select 'a\\'; select 2")).toBe(true); // backslash is plain in '...'
    expect(hasMultipleStatements("select 'x'';'; select 2")).toBe(true);
  });

  it("does not split inside E'...' strings, with backslash escapes", () => {
    expect(hasMultipleStatements("select E'it\\'s; fine'")).toBe(false);
    expect(hasMultipleStatements("select e'\\\\'; select 2")).toBe(true);
    expect(hasMultipleStatements("select E'a''b;c'")).toBe(false);
    // an identifier ending in e is not an E prefix
    expect(hasMultipleStatements("select somee'x\\'; select 2")).toBe(true);
  });

  it('does not split inside quoted identifiers', () => {
    expect(hasMultipleStatements('select 1 as "a;b"')).toBe(false);
    expect(hasMultipleStatements('select 1 as "a"";b"')).toBe(false);
    expect(hasMultipleStatements('select 1 as "a"; select 2')).toBe(true);
  });

  it('does not split inside dollar quotes', () => {
    expect(hasMultipleStatements('select $$a;b$$')).toBe(false);
    expect(
      hasMultipleStatements('create function f() returns int language plpgsql as $body$ begin perform 1; return 2; end $body$;'),
    ).toBe(false);
    expect(hasMultipleStatements('select $a$ $$; $b$ ; $a$')).toBe(false);
    expect(hasMultipleStatements('select $x$;$x$; select 2')).toBe(true);
    // $1 is a parameter, and a $ inside an identifier starts no quote
    expect(hasMultipleStatements('select $1; select $2')).toBe(true);
    expect(hasMultipleStatements('select a$b$; select 2')).toBe(true);
  });

  it('does not split inside comments', () => {
    expect(hasMultipleStatements('select 1 -- ; select 2\n')).toBe(false);
    expect(hasMultipleStatements('select 1 /* ; select 2 */')).toBe(false);
    expect(hasMultipleStatements('select 1 /* /* ; */ ; */')).toBe(false);
    expect(hasMultipleStatements('-- only a comment; here\nselect 1')).toBe(false);
    expect(hasMultipleStatements('select 1 -- x\n; select 2')).toBe(true);
    expect(countStatements('/* c */ ; -- d\n ; ')).toBe(0);
  });

  it('treats an unterminated quote as running to the end', () => {
    expect(hasMultipleStatements("select 'abc; select 2")).toBe(false);
    expect(hasMultipleStatements('select $$abc; select 2')).toBe(false);
    expect(hasMultipleStatements('select 1 /* abc; select 2')).toBe(false);
  });

  it('stops counting at the limit', () => {
    expect(countStatements('a;b;c;d', 2)).toBe(2);
    expect(countStatements('a;b;c;d')).toBe(4);
  });
});

describe('leadingKeyword', () => {
  it('reads the first word past blanks, comments and empty statements, lower-cased', () => {
    expect(leadingKeyword('BEGIN')).toBe('begin');
    expect(leadingKeyword('  \n\tStart transaction')).toBe('start');
    expect(leadingKeyword('-- a note\n/* and /* nested */ one */ ;; begin;')).toBe('begin');
    expect(leadingKeyword('select 1')).toBe('select');
    expect(leadingKeyword('_x1$y + 1')).toBe('_x1$y');
  });

  it('is empty when no word starts the text', () => {
    expect(leadingKeyword('')).toBe('');
    expect(leadingKeyword('  -- only a comment')).toBe('');
    expect(leadingKeyword('(select 1)')).toBe('');
    expect(leadingKeyword("'begin'")).toBe('');
  });
});

describe('scanPlaceholders', () => {
  it('finds the highest $n outside strings, identifiers, dollar quotes and comments', () => {
    expect(scanPlaceholders('select 1').highest).toBe(0);
    expect(scanPlaceholders('select $1, $3, $2').highest).toBe(3);
    expect(scanPlaceholders("select $1, '$9', \"$8\", $$ $7 $$, $t$ $6 $t$ -- $5\n /* $4 */").highest).toBe(1);
    expect(scanPlaceholders("select E'\\' $9', $2").highest).toBe(2);
    expect(scanPlaceholders('select a$3, $12').highest).toBe(12);
  });

  it('reads the type each placeholder is cast to, normalized', () => {
    expect(scanPlaceholders('select $1').casts).toBeNull();
    expect(scanPlaceholders('select $1::int4[], $2 :: Integer [ ], $3::double   precision[], $4::pg_catalog.float8[], $5::_bool').casts).toEqual([
      'int4[]',
      'integer[]',
      'double precision[]',
      'float8[]',
      '_bool',
    ]);
    expect(scanPlaceholders('select $1::numeric(10, 2), $2::varchar(3)[], $3::"Mood"[], $4::s.t, $5::int ARRAY, $6::timestamp with time zone').casts).toEqual([
      'numeric(10,2)',
      'varchar(3)[]',
      '"Mood"[]',
      's.t',
      'int[]',
      'timestamp with time zone',
    ]);
    // a parameter is cast when all its placeholders agree
    expect(scanPlaceholders('select $1::jsonb, $2, $1::jsonb').casts).toEqual(['jsonb', null]);
    expect(scanPlaceholders('select $1, $1::float8').casts).toEqual([MIXED_CASTS]);
    expect(scanPlaceholders('select $1::int[], $1::int8[]').casts).toEqual([MIXED_CASTS]);
  });
});

describe('statementParams', () => {
  it('makes the casts that change how a value travels, and is kept per text', () => {
    const text = 'select * from unnest($1::int4[], $2::text[], $3::float8[], $4::bool[], $5::int8[]), $6::jsonb, $7::uuid[], $8::box[], $9, $9::int';
    const params = statementParams(text);
    expect(params.count).toBe(9);
    expect([...(params.casts ?? [])]).toEqual([1007, ParamCast.otherArray, 1022, 1000, 1016, ParamCast.json, ParamCast.otherArray, ParamCast.boxArray, ParamCast.mixed]);
    expect(statementParams(text)).toBe(params);
    expect(statementParams('select $1').casts).toBeNull();
  });

  it('refuses a count of values that does not fill the placeholders, naming both', () => {
    expect(() => checkParamCount(statementParams('select $1, $2'), 2)).not.toThrow();
    expect(errorOf(() => checkParamCount(statementParams('select $1, $2'), 3)).message).toBe('the query takes 2 parameters ($1 to $2) but 3 parameters were passed');
    expect(errorOf(() => checkParamCount(statementParams('select $2'), 1))).toBeInstanceOf(ProgrammingError);
    expect(errorOf(() => checkParamCount(statementParams('select 1'), 1)).message).toBe('the query has no $n placeholder but 1 parameter was passed');
    expect(errorOf(() => checkParamCount(statementParams('select $1::int'), 0))).toBeInstanceOf(ProgrammingError);
    // no values at all for a text whose $n belong to the body it defines
    expect(() => checkParamCount(statementParams('create function f(int) returns int language sql return $1'), 0)).not.toThrow();
    expect(() => checkParamCount(statementParams('PREPARE p(int) AS select $1'), 0)).not.toThrow();
  });
});
