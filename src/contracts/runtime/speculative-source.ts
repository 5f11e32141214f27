// The state source of a block run in process (executor.ts, `inWorker: false`): it answers from
// the rows fetched for the block so far and remembers what it could not answer, so that the
// executor can fetch all of it in one batch and run the block again.

import type { Row, RowValue, TableDef } from '../../chain/contract-model.js';
import type { StateReader, SyncStateSource } from './ports.js';
import { keyId, keyValuesOf } from './rows.js';
import { encodeTagged } from './wire.js';

/** Rows and find results fetched for one block. */
export class Prefetch {
  readonly rows = new Map<string, Row | null>();
  readonly finds = new Map<string, { limit: number; rows: Row[] }>();
}

const rowId = (table: string, key: readonly RowValue[]): string => `${table}\u0000${keyId(key)}`;

function findId(table: string, where: Readonly<Row>): string {
  const sorted = Object.keys(where)
    .sort()
    .map((k) => [k, where[k]]);
  return `${table}\u0000${encodeTagged(sorted)}`;
}

/** Answers from the prefetched rows; remembers what it could not answer. */
export class SpeculativeSource implements SyncStateSource {
  private readonly missedRows = new Map<
    string,
    { def: TableDef; keys: Map<string, readonly RowValue[]> }
  >();
  private readonly missedFinds = new Map<
    string,
    { table: string; def: TableDef; where: Readonly<Row>; limit: number }
  >();

  constructor(private readonly prefetch: Prefetch) {}

  get missed(): boolean {
    return this.missedRows.size > 0 || this.missedFinds.size > 0;
  }

  readRows(table: string, def: TableDef, keys: readonly (readonly RowValue[])[]): Row[] | null {
    const rows: Row[] = [];
    let complete = true;
    for (const key of keys) {
      const known = this.prefetch.rows.get(rowId(table, key));
      if (known === undefined) {
        complete = false;
        let t = this.missedRows.get(table);
        if (t === undefined) {
          t = { def, keys: new Map() };
          this.missedRows.set(table, t);
        }
        t.keys.set(keyId(key), key);
      } else if (known !== null) {
        rows.push(known);
      }
    }
    return complete ? rows : null;
  }

  findRows(table: string, def: TableDef, where: Readonly<Row>, limit: number): Row[] | null {
    const id = findId(table, where);
    const known = this.prefetch.finds.get(id);
    if (known !== undefined && (known.limit >= limit || known.rows.length < known.limit))
      return known.rows.slice(0, limit);
    const missed = this.missedFinds.get(id);
    if (missed === undefined || missed.limit < limit)
      this.missedFinds.set(id, { table, def, where, limit });
    return null;
  }

  /** Fetches everything this run missed into the prefetch. */
  async fetchMissed(reader: StateReader): Promise<void> {
    for (const [table, { def, keys }] of this.missedRows) {
      const wanted = [...keys.values()];
      const rows = await reader.readRows(table, def, wanted);
      for (const key of wanted) this.prefetch.rows.set(rowId(table, key), null);
      for (const row of rows) this.prefetch.rows.set(rowId(table, keyValuesOf(def, row)), row);
    }
    for (const [id, q] of this.missedFinds) {
      this.prefetch.finds.set(id, {
        limit: q.limit,
        rows: await reader.findRows(q.table, q.def, q.where, q.limit),
      });
    }
  }
}
