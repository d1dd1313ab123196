// What pqnode/pg exports: node-postgres's names, and the cursor, stream and COPY classes of
// the packages around it (pg-cursor, pg-query-stream, pg-copy-streams).
import { Client } from './client';
import { Pool } from './pool';
import { Query } from './query';
import { Result } from './result';
import { DatabaseError } from './errors';
import { defaults } from './defaults';
import { TypeOverrides, types } from './type-parsers';
import { escapeIdentifier, escapeLiteral } from './escape';
import { prepareValue } from './prepare-value';
import { Cursor } from './cursor';
import { QueryStream } from './query-stream';
import { CopyFromStream, CopyToStream, from, to } from './copy-streams';
import { PostgresInterval } from './interval';

/** node-postgres's helpers that libraries reach for. */
const utils = Object.freeze({ prepareValue, escapeIdentifier, escapeLiteral });

/** pg-copy-streams' two factories. */
const copyStreams = Object.freeze({ from, to });

/** There is no pg-native flavour of this module: libraries that look for one use this one as it is. */
const native = null;

export { Client, Pool, Query, Result, DatabaseError, defaults, types, TypeOverrides, escapeIdentifier, escapeLiteral, utils };
export { Cursor, QueryStream, CopyFromStream, CopyToStream, copyStreams, PostgresInterval, native };
export type { ClientConfig, SslConfig } from './config';
export type { PoolConfig, PoolClient } from './pool';
export type { QueryConfig, QueryCallback, Submittable } from './query';
export type { FieldDef } from './result';
export type { CustomTypesConfig, TypeParser, TypeFormat } from './type-parsers';
export type { CursorConfig } from './cursor';
export type { QueryStreamConfig } from './query-stream';
export type { NotificationMessage } from './client';
export type { NoticeMessage } from './errors';
