// pg (node-postgres), its pure JavaScript client.
import pg from 'pg';

import { clientWorkloads, poolWorkloads } from '../node-postgres-api.mjs';

const NO_COPY = 'pg has no COPY without the pg-copy-streams package';

export const notes = {
  concurrent: 'one query at a time: pg does not pipeline; the benchmark chains them',
};
export const skip = { 'copy-in': NO_COPY, 'copy-out': NO_COPY };

export const workloads = {
  ...clientWorkloads(pg.Client, { chained: true }),
  // pg sends statements without a name unprepared: nothing to change for transaction pooling
  ...poolWorkloads(pg.Pool),
};
