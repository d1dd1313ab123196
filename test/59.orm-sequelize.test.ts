// Sequelize on pqnode/pg: the postgres dialect given this module as its dialectModule.
import { DataTypes, Sequelize, UniqueConstraintError, type ModelStatic, type Model } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import pg from '../lib/pg';
import { rejectionOf, testDsn, uniqueName } from './helpers';

const tableName = uniqueName('sq_user');
let sequelize: Sequelize;
let User: ModelStatic<Model<{ id: number; login: string; score: number; tags: string[]; born: string | null }>>;

beforeAll(async () => {
  // the one-line switch: pqnode/pg as Sequelize's dialect module
  sequelize = new Sequelize(testDsn(), { dialect: 'postgres', dialectModule: pg, logging: false, pool: { max: 4 } });
  User = sequelize.define(
    'User',
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      login: { type: DataTypes.STRING, allowNull: false, unique: true },
      score: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
      tags: { type: DataTypes.ARRAY(DataTypes.TEXT), allowNull: false, defaultValue: [] },
      born: { type: DataTypes.DATEONLY, allowNull: true },
    },
    { tableName, timestamps: true },
  );
  await sequelize.sync({ force: true });
});

afterAll(async () => {
  await sequelize.getQueryInterface().dropTable(tableName);
  await sequelize.close();
});

describe('Sequelize through pqnode/pg', () => {
  it('runs on pqnode/pg, not node-postgres', () => {
    expect((sequelize.connectionManager as unknown as { lib: unknown }).lib).toBe(pg);
  });

  it('creates the schema, then creates, reads, updates and deletes', async () => {
    const created = await User.create({ login: 'ann', score: 9007199254740993, tags: ['a', 'b,c'], born: '1990-05-06' } as never);
    const id = created.get('id') as number;
    expect(typeof id).toBe('number');
    await User.update({ score: 5 } as never, { where: { id } });
    const found = await User.findOne({ where: { login: 'ann' } });
    expect(found?.get('score')).toBe('5');
    expect(found?.get('tags')).toEqual(['a', 'b,c']);
    expect(found?.get('born')).toBe('1990-05-06');
    expect(found?.get('createdAt')).toBeInstanceOf(Date);
    expect(await User.destroy({ where: { id } })).toBe(1);
  });

  it('rolls a transaction back when it throws', async () => {
    const error = await rejectionOf(
      sequelize.transaction(async (transaction) => {
        await User.create({ login: 'rolled' } as never, { transaction });
        throw new Error('abort');
      }),
    );
    expect(error.message).toBe('abort');
    expect(await User.count({ where: { login: 'rolled' } })).toBe(0);
  });

  it('maps a duplicate to UniqueConstraintError', async () => {
    await User.create({ login: 'dup' } as never);
    const error = await rejectionOf(User.create({ login: 'dup' } as never));
    expect(error).toBeInstanceOf(UniqueConstraintError);
    const unique = error as UniqueConstraintError;
    expect(unique.fields).toEqual({ login: 'dup' });
    expect((unique.parent as unknown as pg.DatabaseError).code).toBe('23505');
  });

  it('serves concurrent queries through its pool', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => sequelize.query('SELECT $1::int AS n', { bind: [i], plain: true })));
    expect(results.map((row) => (row as { n: number }).n)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });
});
