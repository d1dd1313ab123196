// The error classes, their hierarchy and the SQLSTATE mapping. Pure unit
// tests: no server is involved.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as errors from '../lib/errors';

const ROOT = path.resolve(__dirname, '..');
const SQLSTATE_FILE = path.join(ROOT, 'lib', 'errors', 'sqlstate.ts');

interface Generator {
  render(source?: { path: string; file: string; version: string; via?: string }): string;
  findErrcodes(): { path: string; file: string; version: string; via?: string };
  className(sqlstate: string, spec: string): string;
  baseClassName(sqlstate: string): string;
}

async function loadGenerator(): Promise<Generator> {
  // Imported by URL so that the type checker does not look for declarations
  // of a plain .mjs script.
  const url = pathToFileURL(path.join(ROOT, 'scripts', 'generate-errors.mjs')).href;
  return (await import(url)) as Generator;
}

describe('hierarchy', () => {
  it('follows the DB-API', () => {
    for (const cls of [
      errors.DataError,
      errors.OperationalError,
      errors.IntegrityError,
      errors.InternalError,
      errors.ProgrammingError,
      errors.NotSupportedError,
    ]) {
      expect(new cls('x')).toBeInstanceOf(errors.DatabaseError);
    }
    expect(new errors.DatabaseError('x')).toBeInstanceOf(errors.Error);
    expect(new errors.InterfaceError('x')).toBeInstanceOf(errors.Error);
    expect(new errors.InterfaceError('x')).not.toBeInstanceOf(errors.DatabaseError);
    expect(new errors.Error('x')).toBeInstanceOf(globalThis.Error);
    expect(errors.Error).toBe(errors.PqnodeError);
  });

  it('keeps Warning outside Error, as PEP 249 does', () => {
    const w = new errors.Warning('careful');
    expect(w).toBeInstanceOf(globalThis.Error);
    expect(w).not.toBeInstanceOf(errors.Error);
    expect(w.name).toBe('Warning');
  });

  it('puts the extensions under OperationalError', () => {
    for (const cls of [
      errors.TransactionRollbackError,
      errors.QueryCanceledError,
      errors.PipelineAborted,
      errors.PoolTimeout,
      errors.TooManyRequests,
      errors.ConnectionTimeout,
    ]) {
      const e = new cls('x');
      expect(e).toBeInstanceOf(errors.OperationalError);
      expect(e).toBeInstanceOf(errors.DatabaseError);
      expect(e.name).toBe(cls.name);
    }
  });

  it('puts each SQLSTATE class under its DB-API class', () => {
    const uv = new errors.UniqueViolation('dup');
    expect(uv).toBeInstanceOf(errors.UniqueViolation);
    expect(uv).toBeInstanceOf(errors.IntegrityError);
    expect(uv).toBeInstanceOf(errors.DatabaseError);
    expect(uv).toBeInstanceOf(errors.Error);
    expect(uv).toBeInstanceOf(globalThis.Error);

    const sf = new errors.SerializationFailure('retry');
    expect(sf).toBeInstanceOf(errors.TransactionRollbackError);
    expect(sf).toBeInstanceOf(errors.OperationalError);
    expect(new errors.DeadlockDetected('x')).toBeInstanceOf(errors.TransactionRollbackError);

    const qc = new errors.QueryCanceled('canceled');
    expect(qc).toBeInstanceOf(errors.QueryCanceledError);
    expect(qc).toBeInstanceOf(errors.OperationalError);

    expect(new errors.UndefinedTable('x')).toBeInstanceOf(errors.ProgrammingError);
    expect(new errors.SyntaxError('x')).toBeInstanceOf(errors.ProgrammingError);
    expect(new errors.DivisionByZero('x')).toBeInstanceOf(errors.DataError);
    expect(new errors.FeatureNotSupported('x')).toBeInstanceOf(errors.NotSupportedError);
    expect(new errors.InFailedSqlTransaction('x')).toBeInstanceOf(errors.InternalError);
    expect(new errors.AdminShutdown('x')).toBeInstanceOf(errors.OperationalError);
    expect(new errors.ConnectionFailure('x')).toBeInstanceOf(errors.OperationalError);
    expect(new errors.RaiseException('x')).toBeInstanceOf(errors.InternalError);
    expect(new errors.NoData('x')).toBeInstanceOf(errors.DatabaseError);
    expect(Object.getPrototypeOf(errors.NoData)).toBe(errors.DatabaseError);
  });

  it('has class-level codes as classes too', () => {
    expect(errors.IntegrityConstraintViolation.sqlstate).toBe('23000');
    expect(new errors.IntegrityConstraintViolation('x')).toBeInstanceOf(errors.IntegrityError);
    expect(errors.TransactionRollback.sqlstate).toBe('40000');
    expect(errors.DataException.sqlstate).toBe('22000');
  });

  it("uses psycopg2's special names", () => {
    expect(errors.InternalError_.sqlstate).toBe('XX000');
    expect(new errors.InternalError_('x')).toBeInstanceOf(errors.InternalError);
    expect(errors.NullValueNotAllowedExt.sqlstate).toBe('39004');
    expect(errors.NullValueNotAllowed.sqlstate).toBe('22004');
    expect(errors.ModifyingSqlDataNotPermittedExt.sqlstate).toBe('38002');
    expect(errors.ProhibitedSqlStatementAttemptedExt.sqlstate).toBe('38003');
    expect(errors.ReadingSqlDataNotPermittedExt.sqlstate).toBe('38004');
    // gone from PostgreSQL 17 but still sent by older servers
    expect(errors.SnapshotTooOld.sqlstate).toBe('72000');
  });
});

describe('error objects', () => {
  it('have a name that matches the class', () => {
    const e = new errors.UniqueViolation('duplicate key');
    expect(e.name).toBe('UniqueViolation');
    expect(errors.UniqueViolation.name).toBe('UniqueViolation');
    expect(String(e)).toBe('UniqueViolation: duplicate key');
    expect(e.stack?.split('\n')[0]).toBe('UniqueViolation: duplicate key');
    expect(new errors.DatabaseError('x').name).toBe('DatabaseError');
    expect(new errors.InterfaceError('x').name).toBe('InterfaceError');
    expect(new errors.QueryCanceledError('x').name).toBe('QueryCanceledError');
    expect(new errors.Error('x').name).toBe('Error');
    expect(errors.Error.name).toBe('Error');
    expect(new errors.InternalError_('x').name).toBe('InternalError_');
  });

  it('carry a static and an instance sqlstate', () => {
    expect(errors.UniqueViolation.sqlstate).toBe('23505');
    expect(new errors.UniqueViolation('x').sqlstate).toBe('23505');
    expect(new errors.UniqueViolation('x').diag.sqlstate).toBe('23505');
    expect(errors.DatabaseError.sqlstate).toBeUndefined();
    expect(errors.IntegrityError.sqlstate).toBeUndefined();
    expect(new errors.DatabaseError('x').sqlstate).toBeUndefined();
    expect(new errors.IntegrityError('x', { sqlstate: '23999' }).sqlstate).toBe('23999');
    // a class that stands for one code keeps it whatever the options say
    expect(new errors.UniqueViolation('x', { sqlstate: '23000' }).sqlstate).toBe('23505');
  });

  it('always have a diag, with absent fields undefined', () => {
    const e = new errors.OperationalError('connection lost');
    expect(e.diag).toBeTypeOf('object');
    for (const key of errors.DIAGNOSTIC_FIELDS) expect(e.diag[key]).toBeUndefined();
    expect(Object.keys(e.diag).sort()).toEqual([...errors.DIAGNOSTIC_FIELDS].sort());
    expect(Object.isFrozen(e.diag)).toBe(true);

    const d = new errors.DatabaseError('x', {
      diag: { messagePrimary: 'boom', messageDetail: '', tableName: 't' },
    }).diag;
    expect(d.messagePrimary).toBe('boom');
    expect(d.messageDetail).toBeUndefined();
    expect(d.tableName).toBe('t');
    expect(d.sqlstate).toBeUndefined();
  });

  it('keep cause and query', () => {
    const cause = new globalThis.Error('socket closed');
    const e = new errors.OperationalError('lost', { cause, query: 'select 1' });
    expect(e.cause).toBe(cause);
    expect(e.query).toBe('select 1');
    const plain = new errors.OperationalError('lost');
    expect(plain.query).toBeUndefined();
    expect('cause' in plain).toBe(false);
  });
});

describe('lookup', () => {
  it('finds the class of a code', () => {
    expect(errors.lookup('23505')).toBe(errors.UniqueViolation);
    expect(errors.lookup('40001')).toBe(errors.SerializationFailure);
    expect(errors.lookup('57014')).toBe(errors.QueryCanceled);
    expect(errors.lookup('42P01')).toBe(errors.UndefinedTable);
    expect(errors.lookup('42p01')).toBe(errors.UndefinedTable);
    expect(errors.lookup('XX000')).toBe(errors.InternalError_);
  });

  it('finds the class of a condition name, as psycopg 3 does', () => {
    expect(errors.lookup('UNIQUE_VIOLATION')).toBe(errors.UniqueViolation);
    expect(errors.lookup('undefined_table')).toBe(errors.UndefinedTable);
  });

  it('throws on an unknown code', () => {
    expect(() => errors.lookup('ZZ999')).toThrow(RangeError);
    expect(() => errors.lookup('ZZ999')).toThrow(/ZZ999/);
    expect(() => errors.lookup('23999')).toThrow(RangeError);
    expect(() => errors.lookup('constructor')).toThrow(RangeError);
    expect(() => errors.lookup('')).toThrow(RangeError);
  });
});

describe('fromDiagnostic', () => {
  it('makes the class of a known code', () => {
    const e = errors.fromDiagnostic(
      {
        severity: 'ERROR',
        severityNonlocalized: 'ERROR',
        sqlstate: '23505',
        messagePrimary: 'duplicate key value violates unique constraint "t_pkey"',
        messageDetail: 'Key (id)=(1) already exists.',
        schemaName: 'public',
        tableName: 't',
        constraintName: 't_pkey',
      },
      'ERROR:  duplicate key value violates unique constraint "t_pkey"\nDETAIL:  Key (id)=(1) already exists.\n',
      'insert into t values (1)',
    );
    expect(e).toBeInstanceOf(errors.UniqueViolation);
    expect(e.constructor).toBe(errors.UniqueViolation);
    expect(e.name).toBe('UniqueViolation');
    expect(e.sqlstate).toBe('23505');
    // the server's words: no severity in front (that is diag.severity), DETAIL on its own line
    expect(e.message).toBe('duplicate key value violates unique constraint "t_pkey"\nDETAIL:  Key (id)=(1) already exists.');
    expect(e.query).toBe('insert into t values (1)');
    expect(e.diag.sqlstate).toBe('23505');
    expect(e.diag.severity).toBe('ERROR');
    expect(e.diag.messageDetail).toBe('Key (id)=(1) already exists.');
    expect(e.diag.constraintName).toBe('t_pkey');
    expect(e.diag.messageHint).toBeUndefined();
    expect(e.diag.columnName).toBeUndefined();
  });

  it('falls back to the DB-API class of an unknown code in a known class', () => {
    const e = errors.fromDiagnostic({ sqlstate: '23999', messagePrimary: 'new' }, 'ERROR:  new\n');
    expect(e.constructor).toBe(errors.IntegrityError);
    expect(e.name).toBe('IntegrityError');
    expect(e.sqlstate).toBe('23999');
    expect(e.diag.sqlstate).toBe('23999');
    expect(e.message).toBe('new');

    expect(errors.fromDiagnostic({ sqlstate: '40999' }, 'x').constructor).toBe(errors.TransactionRollbackError);
    expect(errors.fromDiagnostic({ sqlstate: '57999' }, 'x').constructor).toBe(errors.OperationalError);
    expect(errors.fromDiagnostic({ sqlstate: 'P0999' }, 'x').constructor).toBe(errors.InternalError);
    expect(errors.fromDiagnostic({ sqlstate: '57014' }, 'x').constructor).toBe(errors.QueryCanceled);
  });

  it('falls back to DatabaseError for a code of an unknown class', () => {
    const e = errors.fromDiagnostic({ sqlstate: 'ZZ999' }, 'ERROR:  strange\n');
    expect(e.constructor).toBe(errors.DatabaseError);
    expect(e.name).toBe('DatabaseError');
    expect(e.sqlstate).toBe('ZZ999');

    const none = errors.fromDiagnostic({ messagePrimary: 'no code' }, '');
    expect(none.constructor).toBe(errors.DatabaseError);
    expect(none.sqlstate).toBeUndefined();
    expect(none.message).toBe('no code');
  });

  it('makes the message of the fields: primary, then DETAIL and HINT; libpq text only without them', () => {
    const hinted = errors.fromDiagnostic(
      { severity: 'ERROR', messagePrimary: 'p', messageHint: 'h', context: 'c', statementPosition: '3' },
      'ERROR:  p\nLINE 1: ...\nHINT:  h\nCONTEXT:  c\n',
    );
    expect(hinted.message).toBe('p\nHINT:  h');
    expect(hinted.diag.context).toBe('c');
    // libpq's own errors carry no fields: their text is the message, without trailing whitespace
    expect(errors.fromDiagnostic({}, 'server closed the connection unexpectedly\n\tThis probably means ...\n').message).toBe(
      'server closed the connection unexpectedly\n\tThis probably means ...',
    );
    expect(errors.fromDiagnostic({ severity: 'FATAL' }, 'FATAL:  odd\n').message).toBe('odd');
    expect(errors.fromDiagnostic({}, '').message).toBe('unknown server error');
  });
});

describe('generated classes', () => {
  const entries = Object.entries(errors.SQLSTATE_CLASSES);

  it('cover every SQLSTATE error', () => {
    expect(entries.length).toBeGreaterThanOrEqual(250);
    const source = readFileSync(SQLSTATE_FILE, 'utf8');
    expect(source.match(/^export class /gm)?.length).toBe(entries.length);
    // success and warning codes are never raised and get no class
    expect(Object.hasOwn(errors.SQLSTATE_CLASSES, '00000')).toBe(false);
    expect(Object.hasOwn(errors.SQLSTATE_CLASSES, '01000')).toBe(false);
  });

  it('are consistent: code, name, parent', () => {
    const names = new Set<string>();
    for (const [sqlstate, cls] of entries) {
      expect(cls.sqlstate).toBe(sqlstate);
      expect(Object.getPrototypeOf(cls)).toBe(errors.baseClassForSqlstate(sqlstate));
      const e = new cls('m');
      expect(e.name).toBe(cls.name);
      expect(e.sqlstate).toBe(sqlstate);
      expect((errors as Record<string, unknown>)[cls.name]).toBe(cls);
      names.add(cls.name);
    }
    expect(names.size).toBe(entries.length);
  });

  it('map condition names to codes', () => {
    for (const [name, sqlstate] of Object.entries(errors.SQLSTATE_NAMES)) {
      expect(errors.lookup(name)).toBe(errors.SQLSTATE_CLASSES[sqlstate]);
    }
  });

  it('agree with the generator about the DB-API parents', async () => {
    const gen = await loadGenerator();
    for (const sqlstate of ['08006', '0A000', '20000', '22012', '23505', '25P02', '28000', '2F002', '34000',
      '38001', '3D000', '40001', '42P01', '44000', '53100', '57014', '57P01', 'F0000', 'HV000', 'P0001',
      'XX000', '02000', '10608', '72000', '99999', 'ZZ000']) {
      expect(gen.baseClassName(sqlstate)).toBe(errors.baseClassForSqlstate(sqlstate).name);
    }
  });

  it('name classes as psycopg2 does', async () => {
    const gen = await loadGenerator();
    expect(gen.className('23505', 'unique_violation')).toBe('UniqueViolation');
    expect(gen.className('42P01', 'undefined_table')).toBe('UndefinedTable');
    expect(gen.className('2200N', 'invalid_xml_content')).toBe('InvalidXmlContent');
    expect(gen.className('XX000', 'internal_error')).toBe('InternalError_');
    expect(gen.className('39004', 'null_value_not_allowed')).toBe('NullValueNotAllowedExt');
    // Python's str.title() capitalises a letter after a digit
    expect(gen.className('99999', 'abc_2nd_try')).toBe('Abc2NdTry');
  });

  it('are up to date with the generator', async () => {
    const gen = await loadGenerator();
    const expected = gen.render(gen.findErrcodes());
    // compared line by line so that a failure shows where they differ
    expect(readFileSync(SQLSTATE_FILE, 'utf8').split('\n')).toEqual(expected.split('\n'));
  });
});
