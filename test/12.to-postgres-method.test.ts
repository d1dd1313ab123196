// node-postgres's protocol for a value that says how it goes out: an object with a
// toPostgres(prepareValue) method is sent as what the method returns, prepared in its turn,
// with a clear error for a chain that comes back to itself.
import { describe, expect, it } from 'vitest';
import { errors, types } from '../lib';
import { adaptValue } from '../lib/adapt/adapters';
import { Oid } from '../lib/types/oids';
import { rejectionOf, thrownBy, sharedConnection, connectTest } from './helpers';

type Prepare = (value: unknown) => string | null;

class Money {
  constructor(readonly cents: number) {}
  toPostgres(): string {
    return (this.cents / 100).toFixed(2);
  }
}

/** Returns another object with toPostgres: the chain is followed. */
class Wrapped {
  constructor(readonly inner: unknown) {}
  toPostgres(): unknown {
    return this.inner;
  }
}

/** Builds its literal from its fields with the prepareValue it is given. */
class Point {
  constructor(
    readonly x: unknown,
    readonly y: unknown,
  ) {}
  toPostgres(prepare: Prepare): string {
    return `(${prepare(this.x)},${prepare(this.y)})`;
  }
}

const conn = sharedConnection({ autocommit: true });

describe('toPostgres()', () => {
  it('a class whose toPostgres returns a string is sent as that string', async () => {
    expect(adaptValue(new Money(1234))).toEqual({ value: '12.34', oid: 0 });
    const result = await conn().query<{ n: string }>('select $1::numeric as n', [new Money(1234)]);
    expect(result.rows).toEqual([{ n: '12.34' }]);
  });

  it('a plain object with a toPostgres method is that method, not JSON', async () => {
    const value = { toPostgres: () => 'plain' };
    const result = await conn().query<{ t: string }>('select $1::text as t', [value]);
    expect(result.rows).toEqual([{ t: 'plain' }]);
  });

  it('what toPostgres returns is prepared in its turn: another toPostgres, a number, a Buffer, null', async () => {
    expect(adaptValue(new Wrapped(new Wrapped(new Money(5))))).toEqual({ value: '0.05', oid: 0 });
    expect(adaptValue(new Wrapped(42))).toEqual({ value: '42', oid: 0 });
    expect(adaptValue(new Wrapped(Buffer.from([1, 2])))).toEqual({ value: Buffer.from([1, 2]), oid: Oid.bytea });
    expect(adaptValue(new Wrapped(null))).toEqual({ value: null, oid: 0 });
    const result = await conn().query<{ n: string; b: Buffer; z: null }>('select $1::numeric as n, $2::bytea as b, $3::text as z', [
      new Wrapped(new Money(250)),
      new Wrapped(Buffer.from('hi')),
      new Wrapped(undefined),
    ]);
    expect(result.rows).toEqual([{ n: '2.50', b: Buffer.from('hi'), z: null }]);
  });

  it('gets a prepareValue that turns values into their text', async () => {
    const result = await conn().query<{ p: string }>('select $1::point::text as p', [new Point(1.5, new Money(200))]);
    expect(result.rows).toEqual([{ p: '(1.5,2)' }]);
    const seen: unknown[] = [];
    const probe = {
      toPostgres(prepare: Prepare) {
        seen.push(prepare(null), prepare(undefined), prepare('s'), prepare(7), prepare(true), prepare(Buffer.from([0xab])), prepare([1, 2]));
        return 'ok';
      },
    };
    expect(adaptValue(probe).value).toBe('ok');
    expect(seen).toEqual([null, null, 's', '7', 'true', '\\xab', '{1,2}']);
  });

  it('in an array', async () => {
    const result = await conn().query<{ a: string[] }>('select $1::numeric[]::text[] as a', [[new Money(100), null, new Money(250)]]);
    expect(result.rows).toEqual([{ a: ['1.00', null, '2.50'] }]);
  });

  it('a chain that comes back to itself: a clear error naming the parameter, and the connection carries on', async () => {
    const self = {
      toPostgres() {
        return self;
      },
    };
    const a: { toPostgres(): unknown } = { toPostgres: () => b };
    const b: { toPostgres(): unknown } = { toPostgres: () => a };
    for (const value of [self, a, new Wrapped(self)]) {
      const error = await rejectionOf(conn().query('select $1::text', [value]));
      expect(error).toBeInstanceOf(errors.ProgrammingError);
      expect(error.message).toMatch(/circular reference detected while preparing .* for query/);
      expect(error.message).toContain('$1');
    }
    // through prepareValue or an array, the chain ends at the adapters' depth limit
    const viaPrepare: { toPostgres(prepare: Prepare): unknown } = { toPostgres: (prepare) => prepare(viaPrepare) };
    const viaArray: { toPostgres(): unknown } = { toPostgres: () => [viaArray] };
    for (const value of [viaPrepare, viaArray]) {
      expect(thrownBy(() => adaptValue(value))).toBeInstanceOf(errors.ProgrammingError);
    }
    const result = await conn().query<{ ok: number }>('select 1 as ok');
    expect(result.rows).toEqual([{ ok: 1 }]);
  });

  it('an error thrown by toPostgres reaches the caller', async () => {
    const failing = {
      toPostgres() {
        throw new Error('not today');
      },
    };
    const error = await rejectionOf(conn().query('select $1::text', [failing]));
    expect(error.message).toBe('not today');
  });

  it('an adapter set for the class wins over its toPostgres', async () => {
    const local = await connectTest({ autocommit: true });
    try {
      local.adapters.set(Money, (money) => `${money.cents} cents`);
      const result = await local.query<{ t: string }>('select $1::text as t', [new Money(7)]);
      expect(result.rows).toEqual([{ t: '7 cents' }]);
    } finally {
      await local.close();
    }
  });

  it("the library's own value classes are unchanged", () => {
    expect(adaptValue(new types.Interval(1, 2, 3)).oid).toBe(Oid.interval);
  });
});
