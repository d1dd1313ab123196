// conn.copy(text, params) and cursor.mogrify() quote the values into the statement. Only real
// placeholders are replaced: a `$1` in a string, a quoted identifier, a dollar-quoted body or
// a comment is text, and a value put there could end it and run a statement of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../lib';
import { inlinePlaceholders } from '../lib/sql/lexer';
import { uniqueName, sharedConnection, connectTest } from './helpers';

const conn = sharedConnection({ autocommit: true });
let victim: string;

beforeAll(async () => {
  victim = uniqueName('victim');
});

afterAll(async () => {
  await conn().query(`drop table if exists ${victim}`);
});

async function victimExists(): Promise<boolean> {
  const result = await conn().query<{ found: string | null }>('select to_regclass($1)::text as found', [victim]);
  return result.rows[0].found !== null;
}

/** What a COPY ... TO STDOUT writes, as text; the error when it fails. */
async function copyOut(text: string, params: unknown[], on: Connection = conn()): Promise<string> {
  const copy = await on.copy(text, params);
  const chunks: Buffer[] = [];
  for await (const chunk of copy) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

describe('conn.copy(text, params): a value cannot end a string, an identifier or a comment', () => {
  // Each text holds a real $1 and one that is not a placeholder; each value would, quoted
  // into the second, end what holds it, drop the victim table and comment out the rest.
  const attacks: { name: string; text: () => string; value: () => string; expected: (value: string) => string }[] = [
    {
      name: "a string literal '$1' (the value quoted with E'' closes it)",
      text: () => "copy (select '$1' as a, $1::text as b) to stdout",
      value: () => `x) to stdout; drop table ${victim}; --\\`,
      expected: (value) => `$1\t${value.replace(/\\/g, '\\\\')}\n`,
    },
    {
      name: 'a quoted identifier "a$1"',
      text: () => 'copy (select $1::text as "a$1") to stdout',
      value: () => `") to stdout; drop table ${victim}; --`,
      expected: (value) => `${value}\n`,
    },
    {
      name: 'a block comment /* $1 */',
      text: () => 'copy (select $1::text /* $1 */) to stdout',
      value: () => `*/ x) to stdout; drop table ${victim}; --`,
      expected: (value) => `${value}\n`,
    },
    {
      name: 'a line comment -- $1',
      text: () => 'copy (select $1::text) to stdout -- the value of $1',
      value: () => `\n; drop table ${victim}; --`,
      expected: (value) => `${value.replace(/\n/g, '\\n')}\n`,
    },
    {
      name: 'a dollar-quoted body $tag$ $1 $tag$',
      text: () => 'copy (select $tag$ $1 $tag$ as a, $1::text as b) to stdout',
      value: () => `$tag$ as a, 1 as b) to stdout; drop table ${victim}; --`,
      expected: (value) => ` $1 \t${value}\n`,
    },
    {
      name: "an E'' string with an escaped quote E'\\' $1'",
      text: () => "copy (select E'\\' $1' as a, $1::text as b) to stdout",
      value: () => `x) to stdout; drop table ${victim}; --`,
      expected: (value) => `' $1\t${value}\n`,
    },
  ];

  for (const attack of attacks) {
    it(`${attack.name}: the value goes only where the real placeholder is`, async () => {
      await conn().query(`create table if not exists ${victim} (id int)`);
      const value = attack.value();
      const out = await copyOut(attack.text(), [value]).catch((error: unknown) => error);
      expect(await victimExists()).toBe(true);
      expect(out).toBe(attack.expected(value));
    });
  }

  it("with standard_conforming_strings off, '\\' $1' is one string", async () => {
    const old = await connectTest({ autocommit: true });
    try {
      await old.query('set standard_conforming_strings = off');
      await old.query('set escape_string_warning = off');
      await conn().query(`create table if not exists ${victim} (id int)`);
      const value = `x) to stdout; drop table ${victim}; --`;
      const out = await copyOut("copy (select '\\' $1' as a, $1::text as b) to stdout", [value], old).catch((error: unknown) => error);
      expect(await victimExists()).toBe(true);
      expect(out).toBe(`' $1\t${value}\n`);
    } finally {
      await old.close();
    }
  });

  it('values with quotes and backslashes come out as they went in', async () => {
    const values = ["it's", 'back\\slash', "both \\' of them", '$1', '--', '/*', '$$'];
    const text = `copy (select ${values.map((_, i) => `$${i + 1}::text`).join(', ')}) to stdout (format csv)`;
    const out = await copyOut(text, values);
    const expected = values.map((value) => (/[",]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value)).join(',');
    expect(out).toBe(`${expected}\n`);
  });

  it('numbers go bare, and a negative one after a minus does not start a comment', async () => {
    // written `1 -$1`: a bare -1 would make `1 --1`, the rest of the line a comment
    const out = await copyOut('copy (select 1 -$1, $2 + 0, $3::float8, $4, $5::float8) to stdout', [-1, 1e21, -2.5e-7, 2n ** 64n, NaN]);
    expect(out).toBe('2\t1000000000000000000000\t-2.5e-07\t18446744073709551616\tNaN\n');
  });
});

describe('mogrify(): only real placeholders are replaced', () => {
  const cases: [string, string][] = [
    ["select '$1', %s", "select '$1', 'v'"],
    ['select "c$1", %s', `select "c$1", 'v'`],
    ['select %s -- $1', "select 'v' -- $1"],
    ['select %s /* $1 /* nested $1 */ $1 */', "select 'v' /* $1 /* nested $1 */ $1 */"],
    ['select $t$ $1 $t$, %s', "select $t$ $1 $t$, 'v'"],
    ['select $$ $1 $$, %s', "select $$ $1 $$, 'v'"],
    ["select E'\\' $1', %s", "select E'\\' $1', 'v'"],
    ['select a$1, %s', "select a$1, 'v'"],
  ];
  for (const [text, expected] of cases) {
    it(JSON.stringify(text), () => {
      expect(conn().cursor().mogrify(text, ['v'])).toBe(expected);
    });
  }
});

describe('inlinePlaceholders()', () => {
  const literal = (n: number) => `<${n}>`;

  it('replaces $n outside strings, identifiers, dollar quotes and comments', () => {
    expect(inlinePlaceholders("select $1, '$1', \"$1\", $2 -- $1\n, $10", literal, false)).toBe(
      "select <1>, '$1', \"$1\", <2> -- $1\n, <10>",
    );
  });

  it('reads backslash escapes in plain strings when standard_conforming_strings is off', () => {
    // standard: '\' is a whole string, so the $1 after it is a placeholder and the last quote opens a string
    expect(inlinePlaceholders("select '\\' $1', $1", literal, false)).toBe("select '\\' <1>', $1");
    expect(inlinePlaceholders("select '\\' $1', $1", literal, true)).toBe("select '\\' $1', <1>");
  });

  it('leaves a placeholder without a value as it is, and an unterminated string untouched', () => {
    expect(inlinePlaceholders('select $1, $3', (n) => (n === 1 ? 'a' : undefined), false)).toBe('select a, $3');
    expect(inlinePlaceholders("select $1, 'open $1", literal, false)).toBe("select <1>, 'open $1");
  });
});
