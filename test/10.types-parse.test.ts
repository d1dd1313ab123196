// Text-format parsers of lib/types and the typecaster registry: pure functions, no server.
import { describe, expect, it } from 'vitest';
import { DataError, ProgrammingError } from '../lib/errors';
import { NATIVE_FINAL, NativeDecoder } from '../lib/native';
import { parseArray, serializeArray } from '../lib/types/array';
import { parseBool } from '../lib/types/bool';
import { formatBytea, parseBytea } from '../lib/types/bytea';
import {
  formatTimestamptz,
  parseDate,
  parseTime,
  parseTimestamp,
  parseTimestampLocal,
  parseTimestamptz,
  parseTimetz,
} from '../lib/types/datetime';
import { enterDateStyle, leaveDateStyle } from '../lib/types/datestyle';
import { Json, parseJson } from '../lib/types/json';
import { parseBigInt, parseDouble, parseInteger, parseNumeric } from '../lib/types/numeric';
import {
  BUILTIN_TYPES,
  arrayOidOf,
  elementTypeOf,
  nameByOid,
  oidByName,
  typeByName,
  typeByOid,
} from '../lib/types/oids';
import {
  NATIVE_DECODERS,
  TypecasterRegistry,
  fallbackDecoder,
  fallbackDecoders,
  globalTypecasters,
  resolveOid,
} from '../lib/adapt/typecasters';

function ms(value: unknown): number {
  expect(value).toBeInstanceOf(Date);
  return (value as Date).getTime();
}

describe('oids', () => {
  it('knows the common built-ins with their array OIDs', () => {
    const expected: [string, number, number][] = [
      ['bool', 16, 1000],
      ['bytea', 17, 1001],
      ['char', 18, 1002],
      ['name', 19, 1003],
      ['int8', 20, 1016],
      ['int2', 21, 1005],
      ['int4', 23, 1007],
      ['text', 25, 1009],
      ['oid', 26, 1028],
      ['json', 114, 199],
      ['xml', 142, 143],
      ['float4', 700, 1021],
      ['float8', 701, 1022],
      ['money', 790, 791],
      ['bpchar', 1042, 1014],
      ['varchar', 1043, 1015],
      ['date', 1082, 1182],
      ['time', 1083, 1183],
      ['timestamp', 1114, 1115],
      ['timestamptz', 1184, 1185],
      ['interval', 1186, 1187],
      ['timetz', 1266, 1270],
      ['numeric', 1700, 1231],
      ['uuid', 2950, 2951],
      ['jsonb', 3802, 3807],
      ['inet', 869, 1041],
      ['cidr', 650, 651],
      ['macaddr', 829, 1040],
      ['int4range', 3904, 3905],
      ['tstzrange', 3910, 3911],
      ['xid8', 5069, 271],
    ];
    for (const [name, oid, arrayOid] of expected) {
      expect(typeByName(name)).toMatchObject({ name, oid, arrayOid });
      expect(typeByOid(oid)?.name).toBe(name);
      expect(arrayOidOf(oid)).toBe(arrayOid);
      expect(elementTypeOf(arrayOid)?.oid).toBe(oid);
      expect(nameByOid(arrayOid)).toBe(`_${name}`);
    }
    expect(typeByName('unknown')).toMatchObject({ oid: 705, arrayOid: 0 });
    expect(arrayOidOf(705)).toBeUndefined();
  });

  it('has no duplicate OIDs', () => {
    const seen = new Set<number>();
    for (const t of BUILTIN_TYPES) {
      for (const oid of [t.oid, t.arrayOid]) {
        if (oid === 0) continue;
        expect(seen.has(oid), `${t.name} ${oid}`).toBe(false);
        seen.add(oid);
      }
    }
  });

  it('resolves SQL aliases, spacing, case, modifiers and array spellings', () => {
    expect(oidByName('integer')).toBe(23);
    expect(oidByName('int')).toBe(23);
    expect(oidByName('INT4')).toBe(23);
    expect(oidByName('bigint')).toBe(20);
    expect(oidByName('smallint')).toBe(21);
    expect(oidByName('boolean')).toBe(16);
    expect(oidByName('real')).toBe(700);
    expect(oidByName('double precision')).toBe(701);
    expect(oidByName('Double   Precision')).toBe(701);
    expect(oidByName('character varying')).toBe(1043);
    expect(oidByName('character varying(20)')).toBe(1043);
    expect(oidByName('numeric(10,2)')).toBe(1700);
    expect(oidByName('decimal')).toBe(1700);
    expect(oidByName('timestamp with time zone')).toBe(1184);
    expect(oidByName('timestamp without time zone')).toBe(1114);
    expect(oidByName('time with time zone')).toBe(1266);
    expect(oidByName('pg_catalog.int8')).toBe(20);
    expect(oidByName('character')).toBe(1042);
    expect(oidByName('"char"')).toBe(18);
    expect(oidByName('integer[]')).toBe(1007);
    expect(oidByName('int4[][]')).toBe(1007);
    expect(oidByName('_int4')).toBe(1007);
    expect(oidByName('timestamp with time zone[]')).toBe(1185);
    expect(oidByName('no_such_type')).toBeUndefined();
    expect(oidByName('unknown[]')).toBeUndefined();
  });

  it('keeps box arrays on the ";" delimiter', () => {
    expect(typeByName('box')?.delimiter).toBe(';');
    expect(typeByName('point')?.delimiter).toBe(',');
  });
});

describe('numeric parsers', () => {
  it('parses int2/int4/oid limits', () => {
    expect(parseInteger('-32768')).toBe(-32768);
    expect(parseInteger('32767')).toBe(32767);
    expect(parseInteger('-2147483648')).toBe(-2147483648);
    expect(parseInteger('2147483647')).toBe(2147483647);
    expect(parseInteger('4294967295')).toBe(4294967295); // the largest oid
    expect(parseInteger('0')).toBe(0);
  });

  it('parses int8 limits as bigint', () => {
    expect(parseBigInt('-9223372036854775808')).toBe(-9223372036854775808n);
    expect(parseBigInt('9223372036854775807')).toBe(9223372036854775807n);
    expect(parseBigInt('9007199254740993')).toBe(9007199254740993n);
    expect(parseBigInt('0')).toBe(0n);
  });

  it('parses floats with the specials', () => {
    expect(parseDouble('NaN')).toBeNaN();
    expect(parseDouble('Infinity')).toBe(Infinity);
    expect(parseDouble('-Infinity')).toBe(-Infinity);
    expect(parseDouble('1.5')).toBe(1.5);
    expect(parseDouble('-0')).toBe(-0);
    expect(Object.is(parseDouble('-0'), -0)).toBe(true);
    expect(parseDouble('1e+308')).toBe(1e308);
    expect(parseDouble('2.2250738585072014e-308')).toBe(2.2250738585072014e-308);
    expect(parseDouble('5e-324')).toBe(5e-324);
    expect(parseDouble('0.1')).toBe(0.1);
    expect(parseDouble('3.4028235e+38')).toBe(3.4028235e38);
  });

  it('keeps numeric as its text', () => {
    expect(parseNumeric('12345678901234567890.000000000000000001')).toBe('12345678901234567890.000000000000000001');
    expect(parseNumeric('NaN')).toBe('NaN');
    expect(parseNumeric('-Infinity')).toBe('-Infinity');
  });
});

describe('bool', () => {
  it('parses t and f', () => {
    expect(parseBool('t')).toBe(true);
    expect(parseBool('f')).toBe(false);
    expect(parseBool('true')).toBe(true);
    expect(parseBool('false')).toBe(false);
  });
});

describe('bytea', () => {
  it('parses the hex format', () => {
    expect(parseBytea('\\x')).toEqual(Buffer.alloc(0));
    expect(parseBytea('\\x00015c41ff')).toEqual(Buffer.from([0, 1, 0x5c, 0x41, 0xff]));
    expect(parseBytea('\\xDEADBEEF')).toEqual(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  });

  it('parses the escape format', () => {
    // what the server prints for '\x00015c41ff' with bytea_output = escape
    expect(parseBytea('\\000\\001\\\\A\\377')).toEqual(Buffer.from([0, 1, 0x5c, 0x41, 0xff]));
    expect(parseBytea('')).toEqual(Buffer.alloc(0));
    expect(parseBytea('abc')).toEqual(Buffer.from('abc'));
    expect(parseBytea('a\\047b')).toEqual(Buffer.from("a'b"));
  });

  it('formats hex and reads it back', () => {
    const bytes = Buffer.from([0, 255, 16, 92]);
    expect(formatBytea(bytes)).toBe('\\x00ff105c');
    expect(parseBytea(formatBytea(bytes))).toEqual(bytes);
    expect(formatBytea(new Uint8Array([1, 2]))).toBe('\\x0102');
  });
});

describe('json', () => {
  it('parses json and jsonb text', () => {
    expect(parseJson('{"a": [1, 2.5, null, true], "b": "é"}')).toEqual({ a: [1, 2.5, null, true], b: 'é' });
    expect(parseJson('"text"')).toBe('text');
    expect(parseJson('null')).toBe(null);
    expect(parseJson('42')).toBe(42);
  });

  it('has a Json wrapper', () => {
    expect(new Json([1]).value).toEqual([1]);
  });
});

describe('timestamptz', () => {
  it('parses fractional seconds and half-hour offsets', () => {
    expect(ms(parseTimestamptz('2024-02-29 13:04:05.123456+05:30'))).toBe(1709192045123);
    expect(ms(parseTimestamptz('2024-02-29 13:04:05+00'))).toBe(1709211845000);
    expect(ms(parseTimestamptz('2000-01-01 00:00:00.5-08'))).toBe(946713600500);
    expect(ms(parseTimestamptz('2000-01-01 00:00:00.05+00'))).toBe(946684800050);
    expect(ms(parseTimestamptz('1969-12-31 23:59:59.999+00'))).toBe(-1);
    expect(ms(parseTimestamptz('1969-12-31 23:59:59.9999+00'))).toBe(-1);
  });

  it('parses offsets with seconds (historical local mean time)', () => {
    expect(ms(parseTimestamptz('1850-01-01 00:00:00-03:30:15'))).toBe(-3786812985000);
    expect(ms(parseTimestamptz('1850-01-01 00:00:00+00:09:21'))).toBe(Date.UTC(1850, 0, 1) - 561_000);
  });

  it('parses BC years, small years and years past 9999', () => {
    expect(ms(parseTimestamptz('0044-03-15 12:00:00+00 BC'))).toBe(-63517780800000);
    expect(ms(parseTimestamptz('0001-01-01 00:00:00+00 BC'))).toBe(-62167219200000);
    expect(ms(parseTimestamptz('0001-01-01 00:00:00+00'))).toBe(-62135596800000);
    expect(ms(parseTimestamptz('0099-12-31 23:59:59+00'))).toBe(-59011459201000);
    expect(ms(parseTimestamptz('10000-01-01 00:00:00+00'))).toBe(253402300800000);
    expect(ms(parseTimestamptz('12345-06-07 01:02:03.004+00:00'))).toBe(327416950923004);
  });

  it('handles leap days', () => {
    expect(ms(parseTimestamptz('2024-02-29 00:00:00+00'))).toBe(Date.UTC(2024, 1, 29));
    expect(ms(parseTimestamptz('2000-02-29 23:59:59+00'))).toBe(Date.UTC(2000, 1, 29, 23, 59, 59));
    expect(ms(parseTimestamptz('1900-02-28 00:00:00+00'))).toBe(-2203977600000);
    expect(ms(parseTimestamptz('1900-03-01 00:00:00+00'))).toBe(Date.UTC(1900, 2, 1));
  });

  it('turns infinity into ±Infinity', () => {
    expect(parseTimestamptz('infinity')).toBe(Infinity);
    expect(parseTimestamptz('-infinity')).toBe(-Infinity);
  });

  it('refuses other DateStyles and dates a Date cannot hold', () => {
    expect(() => parseTimestamptz('Thu Feb 29 13:04:05 2024 PST')).toThrow(DataError);
    expect(() => parseTimestamptz('02/29/2024 13:04:05 PST')).toThrow(/DateStyle/);
    expect(() => parseTimestamptz('294276-12-31 23:59:59+00')).toThrow(DataError);
  });
});

describe('timestamp, date, time', () => {
  it('reads timestamp without time zone as UTC', () => {
    expect(ms(parseTimestamp('2024-02-29 13:04:05.123456'))).toBe(Date.UTC(2024, 1, 29, 13, 4, 5, 123));
    expect(ms(parseTimestamp('1970-01-01 00:00:00'))).toBe(0);
    expect(parseTimestamp('infinity')).toBe(Infinity);
    expect(parseTimestamp('-infinity')).toBe(-Infinity);
    expect(ms(parseTimestamp('0001-01-01 00:00:00 BC'))).toBe(-62167219200000);
  });

  it('keeps dates as strings, infinity aside', () => {
    expect(parseDate('2024-02-29')).toBe('2024-02-29');
    expect(parseDate('0044-03-15 BC')).toBe('0044-03-15 BC');
    expect(parseDate('infinity')).toBe(Infinity);
    expect(parseDate('-infinity')).toBe(-Infinity);
  });

  it('keeps time and timetz as strings', () => {
    expect(parseTime('13:04:05.123456')).toBe('13:04:05.123456');
    expect(parseTime('24:00:00')).toBe('24:00:00');
    expect(parseTimetz('13:04:05+05:30')).toBe('13:04:05+05:30');
  });

  it('formats Dates as timestamptz text that parses back', () => {
    const cases = [
      new Date(Date.UTC(2024, 1, 29, 13, 4, 5, 123)),
      new Date(0),
      new Date(-1),
      new Date(-62167219200000), // 1 BC
      new Date(-63517780800000), // 44 BC
      new Date(253402300800000), // 10000 AD
      new Date(8.64e15),
      new Date(-8.64e15),
    ];
    for (const date of cases) expect(ms(parseTimestamptz(formatTimestamptz(date)))).toBe(date.getTime());
    expect(formatTimestamptz(new Date(Date.UTC(2024, 1, 29, 13, 4, 5, 123)))).toBe('2024-02-29 13:04:05.123+00');
    expect(formatTimestamptz(new Date(0))).toBe('1970-01-01 00:00:00+00');
    expect(formatTimestamptz(new Date(-62167219200000))).toBe('0001-01-01 00:00:00+00 BC');
    expect(formatTimestamptz(new Date(253402300800000))).toBe('10000-01-01 00:00:00+00');
  });
});

describe('the DateStyles other than ISO', () => {
  /** `fn` with the session's DateStyle and TimeZone known, as while a connection decodes a result */
  function inSession<T>(dateStyle: string, timeZone: string, fn: () => T): T {
    const previous = enterDateStyle({ dateStyle, timeZone });
    try {
      return fn();
    } finally {
      leaveDateStyle(previous);
    }
  }

  it('reads dates back to their ISO text, day and month as the session orders them', () => {
    inSession('SQL, DMY', 'UTC', () => {
      expect(parseDate('05/02/2024')).toBe('2024-02-05');
      expect(parseDate('15/03/0044 BC')).toBe('0044-03-15 BC');
      expect(parseDate('07/06/12345')).toBe('12345-06-07');
      expect(parseDate('05.02.2024')).toBe('2024-02-05');
      expect(parseDate('05-02-2024')).toBe('2024-02-05');
      expect(parseDate('infinity')).toBe(Infinity);
    });
    inSession('SQL, MDY', 'UTC', () => {
      expect(parseDate('02/05/2024')).toBe('2024-02-05');
      expect(parseDate('02-05-2024')).toBe('2024-02-05');
      // German is day first whatever the order
      expect(parseDate('05.02.2024')).toBe('2024-02-05');
    });
    // SQL and Postgres write YMD as MDY
    inSession('Postgres, YMD', 'UTC', () => expect(parseDate('02-05-2024')).toBe('2024-02-05'));
  });

  it('reads timestamps in SQL, German and Postgres', () => {
    const expected = Date.UTC(2024, 1, 5, 13, 4, 5, 123);
    inSession('Postgres, DMY', 'UTC', () => {
      expect(ms(parseTimestamp('05/02/2024 13:04:05.123456'))).toBe(expected);
      expect(ms(parseTimestamp('05.02.2024 13:04:05.123456'))).toBe(expected);
      expect(ms(parseTimestamp('Mon 05 Feb 13:04:05.123456 2024'))).toBe(expected);
      expect(ms(parseTimestamp('Mon Feb 05 13:04:05.123456 2024'))).toBe(expected);
      expect(ms(parseTimestamp('Fri 15 Mar 12:00:00 0044 BC'))).toBe(-63517780800000);
      expect(ms(parseTimestamp('Thu 07 Jun 08:09:10.5 12345'))).toBe(327416976550500);
    });
  });

  it('reads the time zone abbreviations of timestamptz with the session\'s TimeZone', () => {
    inSession('SQL, DMY', 'America/New_York', () => {
      // 01:30 twice on 3 November 2024: EDT, then EST an hour later
      expect(ms(parseTimestamptz('03/11/2024 01:30:00 EDT'))).toBe(Date.UTC(2024, 10, 3, 5, 30));
      expect(ms(parseTimestamptz('03/11/2024 01:30:00 EST'))).toBe(Date.UTC(2024, 10, 3, 6, 30));
      expect(ms(parseTimestamptz('05/02/2024 08:04:05.123456 EST'))).toBe(Date.UTC(2024, 1, 5, 13, 4, 5, 123));
      // local mean time before 1883: -4:56:02
      expect(ms(parseTimestamptz('31/12/1799 19:03:58 LMT'))).toBe(Date.UTC(1800, 0, 1));
      expect(ms(parseTimestamptz('15/03/0044 07:03:58 LMT BC'))).toBe(-63517780800000);
      // numeric abbreviations and offsets need no time zone rules
      expect(ms(parseTimestamptz('01/03/2024 00:04:05.123 +11'))).toBe(Date.UTC(2024, 1, 29, 13, 4, 5, 123));
      expect(ms(parseTimestamptz('05/02/2024 18:34:05 +05:30'))).toBe(Date.UTC(2024, 1, 5, 13, 4, 5));
    });
    inSession('German', 'Europe/Berlin', () => {
      expect(ms(parseTimestamptz('27.10.2024 02:30:00 CEST'))).toBe(Date.UTC(2024, 9, 27, 0, 30));
      expect(ms(parseTimestamptz('27.10.2024 02:30:00 CET'))).toBe(Date.UTC(2024, 9, 27, 1, 30));
    });
    inSession('Postgres, MDY', 'Asia/Kolkata', () => {
      expect(ms(parseTimestamptz('Mon Feb 05 18:34:05 2024 IST'))).toBe(Date.UTC(2024, 1, 5, 13, 4, 5));
    });
    // a POSIX zone: 'UTC+3' is three hours behind UTC and calls itself UTC
    inSession('SQL, MDY', 'UTC+3', () => expect(ms(parseTimestamptz('07/01/2024 09:00:00 UTC'))).toBe(Date.UTC(2024, 6, 1, 12)));
    inSession('SQL, MDY', 'Etc/UTC', () => expect(ms(parseTimestamptz('07/01/2024 09:00:00 UTC'))).toBe(Date.UTC(2024, 6, 1, 9)));
  });

  it('reads timestamps as local time when asked to', () => {
    inSession('German', 'UTC', () => {
      expect(parseTimestampLocal('05.02.2024 13:04:05.5')).toEqual(new Date(2024, 1, 5, 13, 4, 5, 500));
    });
  });

  it('refuses what the text and the session do not settle', () => {
    // Moscow went from +4 to +3 on 26 October 2014 and called both MSK
    inSession('SQL, DMY', 'Europe/Moscow', () => {
      expect(() => parseTimestamptz('26/10/2014 01:30:00 MSK')).toThrow(/does not tell which/);
      expect(ms(parseTimestamptz('26/10/2014 03:30:00 MSK'))).toBe(Date.UTC(2014, 9, 26, 0, 30));
    });
    inSession('SQL, DMY', 'Mars/Olympus_Mons', () => expect(() => parseTimestamptz('26/10/2014 01:30:00 MST')).toThrow(/not one Node knows/));
    // no session: day and month, or an abbreviation, cannot be told
    expect(() => parseDate('05/02/2024')).toThrow(/DateStyle/);
    expect(() => parseTimestamptz('Mon 05 Feb 13:04:05 2024 UTC')).toThrow(DataError);
    // what needs neither is read all the same
    expect(ms(parseTimestamp('05.02.2024 13:04:05'))).toBe(Date.UTC(2024, 1, 5, 13, 4, 5));
    expect(ms(parseTimestamptz('05.02.2024 13:04:05 -03'))).toBe(Date.UTC(2024, 1, 5, 16, 4, 5));
    inSession('SQL, DMY', 'UTC', () => {
      expect(() => parseDate('05/02/2024 13:04:05')).toThrow(/no DateStyle/);
      expect(() => parseTimestamp('05/02/2024')).toThrow(/no DateStyle/);
      expect(() => parseTimestamp('05/02/2024 13:04:05 UTC')).toThrow(/no DateStyle/);
      expect(() => parseTimestamptz('05/02/2024 13:04:05')).toThrow(/no DateStyle/);
      expect(() => parseTimestamptz('Mon 05 Foo 13:04:05 2024 UTC')).toThrow(/no DateStyle/);
    });
  });
});

describe('parseArray', () => {
  it('parses 1-D arrays with an element parser', () => {
    expect(parseArray('{1,2,3}', parseInteger)).toEqual([1, 2, 3]);
    expect(parseArray('{1,2,3}')).toEqual(['1', '2', '3']);
    expect(parseArray('{-9223372036854775808,9223372036854775807}', parseBigInt)).toEqual([
      -9223372036854775808n,
      9223372036854775807n,
    ]);
    expect(parseArray('{NaN,Infinity,-Infinity,1.5}', parseDouble)).toEqual([NaN, Infinity, -Infinity, 1.5]);
    expect(parseArray('{t,f,NULL}', parseBool)).toEqual([true, false, null]);
  });

  it('parses empty arrays', () => {
    expect(parseArray('{}')).toEqual([]);
    expect(parseArray('{}', parseInteger)).toEqual([]);
  });

  it('parses 2-D and 3-D arrays', () => {
    expect(parseArray('{{1,2},{3,4}}', parseInteger)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseArray('{{{1},{2}},{{3},{NULL}}}', parseInteger)).toEqual([
      [[1], [2]],
      [[3], [null]],
    ]);
    expect(parseArray('{{"a b",NULL},{"{}",""}}')).toEqual([
      ['a b', null],
      ['{}', ''],
    ]);
  });

  it('tells NULL from "NULL"', () => {
    expect(parseArray('{NULL,"NULL",null,"null",NULLX}')).toEqual([null, 'NULL', null, 'null', 'NULLX']);
    // the parser is not called for NULL
    expect(parseArray('{NULL}', () => 'called')).toEqual([null]);
  });

  it('unescapes quoted elements', () => {
    expect(parseArray('{"a b","c\\"d","e\\\\f","g,h","{i}","",\\,}')).toEqual(['a b', 'c"d', 'e\\f', 'g,h', '{i}', '', ',']);
    expect(parseArray('{"\\\\x0102"}', parseBytea)).toEqual([Buffer.from([1, 2])]);
  });

  it('keeps unicode and blanks inside quotes, drops them around unquoted elements', () => {
    expect(parseArray('{é,"日本 語",🐘}')).toEqual(['é', '日本 語', '🐘']);
    expect(parseArray('{ a , b c ,"  d  "}')).toEqual(['a', 'b c', '  d  ']);
    expect(parseArray(' { 1 , 2 } ', parseInteger)).toEqual([1, 2]);
  });

  it('ignores lower bounds', () => {
    expect(parseArray('[2:3]={1,2}', parseInteger)).toEqual([1, 2]);
    expect(parseArray('[0:1][1:2]={{1,2},{3,4}}', parseInteger)).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(parseArray('[-5:-5]={"x"}')).toEqual(['x']);
  });

  it('splits box arrays on ";"', () => {
    expect(parseArray('{(1,1),(0,0);(2,2),(1,1)}', undefined, ';')).toEqual(['(1,1),(0,0)', '(2,2),(1,1)']);
  });

  it('parses arrays of timestamps and json', () => {
    const out = parseArray('{"2024-02-29 13:04:05.123456+05:30",infinity,NULL}', parseTimestamptz);
    expect(ms(out[0])).toBe(1709192045123);
    expect(out.slice(1)).toEqual([Infinity, null]);
    expect(parseArray('{"{\\"a\\": 1}","[1, 2]",NULL}', parseJson)).toEqual([{ a: 1 }, [1, 2], null]);
  });

  it('rejects malformed literals', () => {
    expect(() => parseArray('1,2')).toThrow(DataError);
    expect(() => parseArray('{1,2')).toThrow(DataError);
    expect(() => parseArray('{"abc}')).toThrow(DataError);
    expect(() => parseArray('{1} x')).toThrow(DataError);
  });
});

describe('serializeArray', () => {
  it('quotes what needs quoting', () => {
    expect(serializeArray([1, 2, 3])).toBe('{1,2,3}');
    expect(serializeArray([])).toBe('{}');
    expect(serializeArray(['a', 'b c', 'd,e', '{f}', 'g"h', 'i\\j', '', 'NULL', 'null', 'Null', 'NULLS', 'k\tl', 'm\nn'])).toBe(
      '{a,"b c","d,e","{f}","g\\"h","i\\\\j","","NULL","null","Null",NULLS,"k\tl","m\nn"}',
    );
    expect(serializeArray([null, undefined, 'x'])).toBe('{NULL,NULL,x}');
    expect(serializeArray([[1, 2], [3, null]])).toBe('{{1,2},{3,NULL}}');
  });

  it('uses the element formatter, which may return null', () => {
    expect(serializeArray([true, false], (v) => (v ? 't' : 'f'))).toBe('{t,f}');
    expect(serializeArray([1, 2], (v) => (v === 2 ? null : String(v)))).toBe('{1,NULL}');
  });

  it('quotes the custom delimiter', () => {
    expect(serializeArray(['(1,1),(0,0)', 'a;b'], String, ';')).toBe('{(1,1),(0,0);"a;b"}');
  });

  it('round-trips through parseArray', () => {
    const cases: unknown[][] = [
      ['plain', 'with space', 'quote"', 'back\\slash', 'comma,', '{brace}', '', 'NULL', 'null', null, 'é日本🐘', ' lead', 'trail '],
      [
        ['a', null],
        ['"', '\\'],
      ],
      [[['x']], [['y']]],
      ['\\"\\"', '""', '\\', '}{', ',,,'],
      [],
    ];
    for (const value of cases) expect(parseArray(serializeArray(value))).toEqual(value);
    const box = ['(1,1),(0,0)', '(2,2),(1,1)'];
    expect(parseArray(serializeArray(box, String, ';'), undefined, ';')).toEqual(box);
    const ints = [[1, -2], [2147483647, -2147483648]];
    expect(parseArray(serializeArray(ints), parseInteger)).toEqual(ints);
  });
});

describe('TypecasterRegistry', () => {
  it('has a JS fallback for every native decoder', () => {
    expect(fallbackDecoder(NativeDecoder.Text)('x')).toBe('x');
    expect(fallbackDecoder(NativeDecoder.Int)('-2147483648')).toBe(-2147483648);
    expect(fallbackDecoder(NativeDecoder.Float)('-Infinity')).toBe(-Infinity);
    expect(fallbackDecoder(NativeDecoder.Bool)('t')).toBe(true);
    expect(fallbackDecoder(NativeDecoder.BigInt)('9223372036854775807')).toBe(9223372036854775807n);
    expect(fallbackDecoder(NativeDecoder.Bytea)('\\x01')).toEqual(Buffer.from([1]));
    expect(ms(fallbackDecoder(NativeDecoder.TimestampTz)('1970-01-01 01:00:00+01'))).toBe(0);
    expect(ms(fallbackDecoder(NativeDecoder.Timestamp)('1970-01-01 01:00:00'))).toBe(3_600_000);
    expect(fallbackDecoder(NativeDecoder.Date)('-infinity')).toBe(-Infinity);
    expect(Object.keys(fallbackDecoders)).toHaveLength(10);
  });

  it('pre-fills the global registry', () => {
    const reg = new TypecasterRegistry(globalTypecasters);
    expect(reg.get(23)?.('42')).toBe(42);
    expect(reg.get(20)?.('42')).toBe(42n);
    expect(reg.get(114)?.('{"a":1}')).toEqual({ a: 1 });
    expect(reg.get(3802)?.('[1]')).toEqual([1]);
    expect(reg.has(25)).toBe(false); // text stays a string
    expect(reg.has(1700)).toBe(false); // numeric stays a string
    expect(reg.has(2950)).toBe(false); // uuid
    expect(reg.has(999999)).toBe(false); // unknown OID
  });

  it('parses arrays of every built-in with the element caster', () => {
    const reg = new TypecasterRegistry(globalTypecasters);
    expect(reg.get(1007)?.('{1,NULL,3}')).toEqual([1, null, 3]);
    expect(reg.get(1005)?.('{{1,2},{3,4}}')).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(reg.get(1016)?.('{1,2}')).toEqual([1n, 2n]);
    expect(reg.get(1000)?.('{t,f}')).toEqual([true, false]);
    expect(reg.get(1001)?.('{"\\\\x01ff"}')).toEqual([Buffer.from([1, 255])]);
    expect(reg.get(1022)?.('{NaN,-Infinity}')).toEqual([NaN, -Infinity]);
    expect(reg.get(1182)?.('{2024-02-29,infinity}')).toEqual(['2024-02-29', Infinity]);
    expect(reg.get(1231)?.('{1.5,NaN}')).toEqual(['1.5', 'NaN']);
    expect(reg.get(1009)?.('{a,"b c"}')).toEqual(['a', 'b c']);
    expect(reg.get(199)?.('{"{\\"a\\":1}"}')).toEqual([{ a: 1 }]);
    expect(reg.get(3807)?.('{"[1]"}')).toEqual([[1]]);
    expect(reg.get(1020)?.('{(1,1),(0,0);(2,2),(1,1)}')).toEqual([
      [
        { x: 1, y: 1 },
        { x: 0, y: 0 },
      ],
      [
        { x: 2, y: 2 },
        { x: 1, y: 1 },
      ],
    ]);
    expect(ms((reg.get(1185)?.('{"1970-01-01 00:00:00+00"}') as unknown[])[0])).toBe(0);
    for (const type of BUILTIN_TYPES) {
      if (type.arrayOid !== 0) expect(reg.has(type.arrayOid), type.name).toBe(true);
    }
  });

  it('gives the native decoder table: final where no JS typecaster follows, minus user-cast OIDs', () => {
    const parent = new TypecasterRegistry();
    const reg = new TypecasterRegistry(parent);
    const table = reg.nativeDecoderTable();
    const asMap = new Map(table.oids.map((oid, i) => [oid, table.decoders[i]]));
    expect(asMap.get(21)).toBe(NativeDecoder.Int | NATIVE_FINAL);
    expect(asMap.get(23)).toBe(NativeDecoder.Int | NATIVE_FINAL);
    expect(asMap.get(26)).toBe(NativeDecoder.Int | NATIVE_FINAL);
    expect(asMap.get(700)).toBe(NativeDecoder.Float | NATIVE_FINAL);
    expect(asMap.get(701)).toBe(NativeDecoder.Float | NATIVE_FINAL);
    expect(asMap.get(16)).toBe(NativeDecoder.Bool | NATIVE_FINAL);
    expect(asMap.get(20)).toBe(NativeDecoder.BigInt | NATIVE_FINAL);
    expect(asMap.get(17)).toBe(NativeDecoder.Bytea | NATIVE_FINAL);
    expect(asMap.get(1184)).toBe(NativeDecoder.TimestampTz | NATIVE_FINAL);
    expect(asMap.get(1114)).toBe(NativeDecoder.Timestamp | NATIVE_FINAL);
    expect(asMap.get(1082)).toBe(NativeDecoder.Date | NATIVE_FINAL);
    // strings no typecaster touches are final too; what JS casts (arrays, json, unknown OIDs) is not there
    for (const oid of NATIVE_DECODERS.keys()) expect(asMap.has(oid)).toBe(true);
    expect(asMap.get(25)).toBe(NativeDecoder.Text | NATIVE_FINAL);
    expect(asMap.get(1043)).toBe(NativeDecoder.Text | NATIVE_FINAL);
    expect(asMap.get(1700)).toBe(NativeDecoder.Text | NATIVE_FINAL);
    expect(asMap.get(2950)).toBe(NativeDecoder.Text | NATIVE_FINAL);
    for (const oid of [114, 1007, 1186, 600, 424242]) expect(asMap.has(oid)).toBe(false);

    const v0 = reg.version;
    parent.set(20, (text) => Number(text));
    expect(reg.version).toBeGreaterThan(v0);
    const v1 = reg.version;
    reg.set('timestamptz', (text) => `ts:${text}`);
    reg.set('text', (text) => `t:${text}`);
    expect(reg.version).toBeGreaterThan(v1);

    const after = reg.nativeDecoderTable();
    const afterMap = new Map(after.oids.map((oid, i) => [oid, after.decoders[i]]));
    expect(afterMap.get(20)).toBe(NativeDecoder.Text);
    expect(afterMap.get(1184)).toBe(NativeDecoder.Text);
    expect(afterMap.get(23)).toBe(NativeDecoder.Int | NATIVE_FINAL);
    expect(afterMap.has(25)).toBe(false);
    // the parent only sees its own change
    const parentTable = parent.nativeDecoderTable();
    const parentMap = new Map(parentTable.oids.map((oid, i) => [oid, parentTable.decoders[i]]));
    expect(parentMap.get(1184)).toBe(NativeDecoder.TimestampTz | NATIVE_FINAL);
    expect(parentMap.get(20)).toBe(NativeDecoder.Text);

    const v2 = reg.version;
    expect(reg.delete(1184)).toBe(true);
    expect(reg.version).toBeGreaterThan(v2);
    expect(reg.delete(1184)).toBe(false);
  });

  it('returns per-column casters for what C++ leaves as text', () => {
    const parent = new TypecasterRegistry();
    const reg = new TypecasterRegistry(parent);
    const fields = [23, 25, 1700, 114, 1007, 20, 2950, 1184, 424242].map((typeOid) => ({ typeOid }));
    const casters = reg.castersFor(fields);
    expect(casters[0]).toBeUndefined(); // int4: C++
    expect(casters[1]).toBeUndefined(); // text
    expect(casters[2]).toBeUndefined(); // numeric
    expect(casters[3]?.('[1]')).toEqual([1]); // json
    expect(casters[4]?.('{1,2}')).toEqual([1, 2]); // int4[]
    expect(casters[5]).toBeUndefined(); // int8: C++
    expect(casters[6]).toBeUndefined(); // uuid
    expect(casters[7]).toBeUndefined(); // timestamptz: C++
    expect(casters[8]).toBeUndefined(); // unknown OID

    parent.set(20, (text) => Number(text));
    reg.set(25, (text) => text.toUpperCase());
    const again = reg.castersFor(fields);
    expect(again[5]?.('12')).toBe(12);
    expect(again[1]?.('abc')).toBe('ABC');
    // element casters set on the connection reach the arrays of that type
    reg.set(23, (text) => `int:${text}`);
    expect(reg.castersFor([{ typeOid: 1007 }])[0]?.('{1,NULL}')).toEqual(['int:1', null]);
    expect(reg.castersFor([{ typeOid: 1016 }])[0]?.('{7}')).toEqual([7]);
    // and the parent keeps its own view
    expect(parent.castersFor([{ typeOid: 1007 }])[0]?.('{1}')).toEqual([1]);
    expect(parent.castersFor([{ typeOid: 25 }])[0]).toBeUndefined();
  });

  it('declares arrays of custom types', () => {
    const reg = new TypecasterRegistry(new TypecasterRegistry());
    reg.set(50000, (text) => `e:${text}`);
    reg.setArray(50001, 50000);
    expect(reg.get(50001)?.('{a,NULL,"b c"}')).toEqual(['e:a', null, 'e:b c']);
    expect(() => reg.setArray(50002, 50002)).toThrow(ProgrammingError);
  });

  it('resolves names and rejects bad OIDs', () => {
    expect(resolveOid('integer')).toBe(23);
    expect(resolveOid(1184)).toBe(1184);
    expect(() => resolveOid('no_such_type')).toThrow(ProgrammingError);
    expect(() => resolveOid(-1)).toThrow(ProgrammingError);
    expect(() => new TypecasterRegistry().set(23, 'x' as unknown as (t: string) => unknown)).toThrow(ProgrammingError);
  });
});
