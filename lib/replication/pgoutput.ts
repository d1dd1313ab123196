// Decoding what the pgoutput plugin (PostgreSQL's own logical replication) writes: its
// messages as PostgreSQL's "Logical Replication Message Formats" page describes them, protocol
// versions 1 to 4. Tuple values in text are typecast as query results are, by the column's
// type OID that the relation message gave; binary ones stay Buffers.
import { DataError } from '../errors';
import { messageOf } from '../thrown';
import type { TypecasterRegistry } from '../adapt/typecasters';
import { formatLsn } from './lsn';
import { pgTimeToDate } from './protocol';

/** A column of a replicated table, as its relation message describes it. */
export interface ReplicationColumn {
  name: string;
  typeOid: number;
  typeModifier: number;
  /** part of the replica identity (the key sent with updates and deletes) */
  key: boolean;
}

/** A replicated table: sent before the first change to it, and again after it changed. */
export interface ReplicationRelation {
  relationOid: number;
  /** '' for pg_catalog */
  schema: string;
  name: string;
  /** REPLICA IDENTITY: what an update or delete sends of the old row */
  replicaIdentity: 'default' | 'nothing' | 'full' | 'index';
  columns: ReplicationColumn[];
}

/**
 * A row of a change, keyed by column name: NULL is null; an unchanged TOASTed value (an
 * update that did not touch a large value, which the server does not send again) is undefined.
 */
export type ReplicationRow = Record<string, unknown>;

/** Inside a streamed transaction (protocol 2+, streaming on), data messages carry its xid. */
interface Streamed {
  xid?: number;
}

export type PgoutputMessage =
  | { type: 'begin'; finalLsn: string; commitTime: Date; xid: number }
  | { type: 'commit'; flags: number; commitLsn: string; endLsn: string; commitTime: Date }
  | { type: 'origin'; originLsn: string; name: string }
  | ({ type: 'relation'; relation: ReplicationRelation } & Streamed)
  | ({ type: 'type'; typeOid: number; schema: string; name: string } & Streamed)
  | ({ type: 'insert'; relation: ReplicationRelation; new: ReplicationRow } & Streamed)
  | ({
      type: 'update';
      relation: ReplicationRelation;
      /** the old row's key columns (the other columns null), when the key changed */
      key: ReplicationRow | null;
      /** the whole old row, with REPLICA IDENTITY FULL */
      old: ReplicationRow | null;
      new: ReplicationRow;
    } & Streamed)
  | ({ type: 'delete'; relation: ReplicationRelation; key: ReplicationRow | null; old: ReplicationRow | null } & Streamed)
  | ({ type: 'truncate'; relations: ReplicationRelation[]; cascade: boolean; restartIdentity: boolean } & Streamed)
  | ({ type: 'message'; transactional: boolean; lsn: string; prefix: string; content: Buffer } & Streamed)
  | { type: 'streamStart'; xid: number; firstSegment: boolean }
  | { type: 'streamStop' }
  | { type: 'streamCommit'; xid: number; flags: number; commitLsn: string; endLsn: string; commitTime: Date }
  | { type: 'streamAbort'; xid: number; subxid: number }
  | { type: 'beginPrepare'; prepareLsn: string; endLsn: string; prepareTime: Date; xid: number; gid: string }
  | { type: 'prepare' | 'streamPrepare'; flags: number; prepareLsn: string; endLsn: string; prepareTime: Date; xid: number; gid: string }
  | { type: 'commitPrepared'; flags: number; commitLsn: string; endLsn: string; commitTime: Date; xid: number; gid: string }
  | {
      type: 'rollbackPrepared';
      flags: number;
      prepareEndLsn: string;
      rollbackEndLsn: string;
      prepareTime: Date;
      rollbackTime: Date;
      xid: number;
      gid: string;
    }
  /** a message this decoder does not know (a newer protocol's): its bytes are in `data` */
  | { type: 'unknown'; tag: string };

const IDENTITY: Record<string, ReplicationRelation['replicaIdentity']> = { d: 'default', n: 'nothing', f: 'full', i: 'index' };

/** A relation with what decoding its tuples needs, worked out once. */
interface KnownRelation {
  relation: ReplicationRelation;
  names: string[];
  casters: ((text: string) => unknown)[];
  /** the typecasters' version the casters were taken at */
  version: number;
}

const asText = (text: string): unknown => text;

/** Reads one message: a cursor over its bytes. */
class Reader {
  offset = 0;
  constructor(readonly bytes: Buffer) {}

  int8(): number {
    this.need(1);
    return this.bytes[this.offset++];
  }

  int16(): number {
    this.need(2);
    const value = this.bytes.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.bytes.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.bytes.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  lsn(): string {
    this.need(8);
    const value = this.bytes.readBigUInt64BE(this.offset);
    this.offset += 8;
    return formatLsn(value);
  }

  time(): Date {
    this.need(8);
    const value = this.bytes.readBigInt64BE(this.offset);
    this.offset += 8;
    return pgTimeToDate(value);
  }

  /** a NUL-terminated string */
  string(): string {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0) throw new DataError('a string runs past the end of the message');
    const text = this.bytes.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return text;
  }

  need(size: number): void {
    if (this.offset + size > this.bytes.length) throw new DataError('the message ends too soon');
  }
}

/** Decodes one stream's pgoutput messages; it keeps the relations the stream described. */
export class PgoutputDecoder {
  #relations = new Map<number, KnownRelation>();
  #inStream = false;

  constructor(private readonly typecasters: TypecasterRegistry) {}

  decode(data: Buffer): PgoutputMessage {
    const reader = new Reader(data);
    const tag = String.fromCharCode(reader.int8());
    switch (tag) {
      case 'B':
        return { type: 'begin', finalLsn: reader.lsn(), commitTime: reader.time(), xid: reader.uint32() };
      case 'C':
        return { type: 'commit', flags: reader.int8(), commitLsn: reader.lsn(), endLsn: reader.lsn(), commitTime: reader.time() };
      case 'O':
        return { type: 'origin', originLsn: reader.lsn(), name: reader.string() };
      case 'R': {
        const xid = this.#xid(reader);
        return withXid({ type: 'relation', relation: this.#readRelation(reader) }, xid);
      }
      case 'Y': {
        const xid = this.#xid(reader);
        return withXid({ type: 'type', typeOid: reader.uint32(), schema: reader.string(), name: reader.string() }, xid);
      }
      case 'I': {
        const xid = this.#xid(reader);
        const known = this.#relation(reader.uint32());
        if (reader.int8() !== 0x4e /* N */) throw new DataError('an insert without its new tuple');
        return withXid({ type: 'insert', relation: known.relation, new: this.#readTuple(reader, known) }, xid);
      }
      case 'U': {
        const xid = this.#xid(reader);
        const known = this.#relation(reader.uint32());
        let key: ReplicationRow | null = null;
        let old: ReplicationRow | null = null;
        let kind = reader.int8();
        if (kind === 0x4b /* K */ || kind === 0x4f /* O */) {
          const tuple = this.#readTuple(reader, known);
          if (kind === 0x4b) key = tuple;
          else old = tuple;
          kind = reader.int8();
        }
        if (kind !== 0x4e /* N */) throw new DataError('an update without its new tuple');
        return withXid({ type: 'update', relation: known.relation, key, old, new: this.#readTuple(reader, known) }, xid);
      }
      case 'D': {
        const xid = this.#xid(reader);
        const known = this.#relation(reader.uint32());
        const kind = reader.int8();
        if (kind !== 0x4b && kind !== 0x4f) throw new DataError('a delete without its old key or tuple');
        const tuple = this.#readTuple(reader, known);
        return withXid({ type: 'delete', relation: known.relation, key: kind === 0x4b ? tuple : null, old: kind === 0x4f ? tuple : null }, xid);
      }
      case 'T': {
        const xid = this.#xid(reader);
        const count = reader.int32();
        const options = reader.int8();
        const relations: ReplicationRelation[] = [];
        for (let i = 0; i < count; i++) relations.push(this.#relation(reader.uint32()).relation);
        return withXid({ type: 'truncate', relations, cascade: (options & 1) !== 0, restartIdentity: (options & 2) !== 0 }, xid);
      }
      case 'M': {
        const xid = this.#xid(reader);
        const transactional = (reader.int8() & 1) !== 0;
        const lsn = reader.lsn();
        const prefix = reader.string();
        const length = reader.int32();
        reader.need(length);
        const content = data.subarray(reader.offset, reader.offset + length);
        return withXid({ type: 'message', transactional, lsn, prefix, content }, xid);
      }
      case 'S': {
        this.#inStream = true;
        return { type: 'streamStart', xid: reader.uint32(), firstSegment: reader.int8() === 1 };
      }
      case 'E':
        this.#inStream = false;
        return { type: 'streamStop' };
      case 'c':
        return { type: 'streamCommit', xid: reader.uint32(), flags: reader.int8(), commitLsn: reader.lsn(), endLsn: reader.lsn(), commitTime: reader.time() };
      case 'A':
        // protocol 4 adds the abort's LSN and time when streaming is parallel: not read here
        return { type: 'streamAbort', xid: reader.uint32(), subxid: reader.uint32() };
      case 'b':
        return { type: 'beginPrepare', prepareLsn: reader.lsn(), endLsn: reader.lsn(), prepareTime: reader.time(), xid: reader.uint32(), gid: reader.string() };
      case 'P':
      case 'p':
        return {
          type: tag === 'P' ? 'prepare' : 'streamPrepare',
          flags: reader.int8(),
          prepareLsn: reader.lsn(),
          endLsn: reader.lsn(),
          prepareTime: reader.time(),
          xid: reader.uint32(),
          gid: reader.string(),
        };
      case 'K':
        return {
          type: 'commitPrepared',
          flags: reader.int8(),
          commitLsn: reader.lsn(),
          endLsn: reader.lsn(),
          commitTime: reader.time(),
          xid: reader.uint32(),
          gid: reader.string(),
        };
      case 'r':
        return {
          type: 'rollbackPrepared',
          flags: reader.int8(),
          prepareEndLsn: reader.lsn(),
          rollbackEndLsn: reader.lsn(),
          prepareTime: reader.time(),
          rollbackTime: reader.time(),
          xid: reader.uint32(),
          gid: reader.string(),
        };
      default:
        return { type: 'unknown', tag };
    }
  }

  /** the xid a data message carries inside a streamed transaction */
  #xid(reader: Reader): number | undefined {
    return this.#inStream ? reader.uint32() : undefined;
  }

  #readRelation(reader: Reader): ReplicationRelation {
    const relationOid = reader.uint32();
    const schema = reader.string();
    const name = reader.string();
    const identity = String.fromCharCode(reader.int8());
    const count = reader.int16();
    const columns: ReplicationColumn[] = [];
    for (let i = 0; i < count; i++) {
      const flags = reader.int8();
      columns.push({ name: reader.string(), typeOid: reader.uint32(), typeModifier: reader.int32(), key: (flags & 1) !== 0 });
    }
    const relation: ReplicationRelation = { relationOid, schema, name, replicaIdentity: IDENTITY[identity] ?? 'default', columns };
    const known: KnownRelation = { relation, names: columns.map((column) => column.name), casters: [], version: -1 };
    this.#relations.set(relationOid, known);
    return relation;
  }

  #relation(oid: number): KnownRelation {
    const known = this.#relations.get(oid);
    if (known === undefined) throw new DataError(`a change to relation ${oid}, which no relation message described`);
    // the typecasters in effect now: one set after the relation message applies too
    const version = this.typecasters.version;
    if (known.version !== version) {
      known.casters = known.relation.columns.map((column) => this.typecasters.get(column.typeOid) ?? asText);
      known.version = version;
    }
    return known;
  }

  #readTuple(reader: Reader, known: KnownRelation): ReplicationRow {
    const count = reader.int16();
    const { names, casters } = known;
    if (count > names.length) throw new DataError(`a tuple of ${count} columns for ${known.relation.name}, which has ${names.length}`);
    const row: ReplicationRow = {};
    const bytes = reader.bytes;
    for (let i = 0; i < count; i++) {
      const kind = reader.int8();
      let value: unknown;
      if (kind === 0x6e /* n */) {
        value = null;
      } else if (kind === 0x75 /* u */) {
        value = undefined;
      } else if (kind === 0x74 /* t */ || kind === 0x62 /* b */) {
        const length = reader.int32();
        reader.need(length);
        const start = reader.offset;
        reader.offset += length;
        if (kind === 0x62) {
          value = Buffer.from(bytes.subarray(start, start + length));
        } else {
          const text = bytes.toString('utf8', start, start + length);
          try {
            value = casters[i](text);
          } catch (error) {
            const column = known.relation.columns[i];
            throw new DataError(`cannot convert column ${JSON.stringify(column.name)} (type ${column.typeOid}) of ${known.relation.name}: ${messageOf(error)}`, {
              cause: error,
            });
          }
        }
      } else {
        throw new DataError(`a tuple value of unknown kind ${JSON.stringify(String.fromCharCode(kind))}`);
      }
      const name = names[i];
      if (name === '__proto__') Object.defineProperty(row, name, { value, enumerable: true, writable: true, configurable: true });
      else row[name] = value;
    }
    return row;
  }
}

function withXid(message: PgoutputMessage, xid: number | undefined): PgoutputMessage {
  if (xid !== undefined) (message as Streamed).xid = xid;
  return message;
}
