// pqnode/pg: node-postgres's API over pqnode. Change `require('pg')` to
// `require('pqnode/pg')` (or hand this module to an ORM as its driver) and the same code runs
// on libpq through pqnode, with node-postgres's conventions for parameters, results, type
// parsing, errors, events and pooling.
import * as pg from './api';

export * from './api';

// The module is its own default export, as node-postgres is: `import pg from 'pqnode/pg'`
// gives pg.Pool, pg.types, and the types pg.PoolConfig, pg.Result, ...
export default pg;
