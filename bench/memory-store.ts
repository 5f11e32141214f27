// Committed state in memory, as the store would hold it: the contract engine benchmarks
// (engine.ts, clearing.ts) execute blocks against it without a database, so that what they time
// is the executor alone.

import type { ContractRecord, Row, RowValue, TableDef } from '../src/chain/contract-model.js';
import type { StateReader } from '../src/contracts/runtime/ports.js';
import { compareKeys, keyId, rowMatches } from '../src/contracts/runtime/rows.js';
import type { BlockExecutionResult } from '../src/contracts/runtime/types.js';

/** Committed rows in memory, as the store would hold them. */
export class MemoryStore implements StateReader {
  private readonly tables = new Map<string, Map<string, { key: RowValue[]; row: Row }>>();
  contractList: ContractRecord[] = [];

  async readRows(
    table: string,
    def: TableDef,
    keys: readonly (readonly RowValue[])[],
  ): Promise<Row[]> {
    const t = this.tables.get(table);
    const out: Row[] = [];
    for (const key of keys) {
      const found = t?.get(keyId(key));
      if (found !== undefined) out.push(found.row);
    }
    void def;
    return out;
  }

  async findRows(
    table: string,
    _def: TableDef,
    where: Readonly<Row>,
    limit: number,
  ): Promise<Row[]> {
    const matching = [...(this.tables.get(table)?.values() ?? [])].filter((e) =>
      rowMatches(e.row, where),
    );
    matching.sort((a, b) => compareKeys(a.key, b.key));
    return matching.slice(0, limit).map((e) => e.row);
  }

  async scanTable(table: string, _def: TableDef, limit: number): Promise<Row[] | null> {
    const rows = [...(this.tables.get(table)?.values() ?? [])].map((e) => e.row);
    return rows.length > limit ? null : rows;
  }

  /** Every row of a table, in no particular order. */
  rows(table: string): Row[] {
    return [...(this.tables.get(table)?.values() ?? [])].map((e) => e.row);
  }

  async listContracts(): Promise<ContractRecord[]> {
    return this.contractList;
  }

  apply(result: BlockExecutionResult, defs: ReadonlyMap<string, TableDef>): void {
    for (const change of result.stateChanges) {
      let t = this.tables.get(change.table);
      if (t === undefined) {
        t = new Map();
        this.tables.set(change.table, t);
      }
      const id = keyId(change.key);
      if (change.row === null) t.delete(id);
      else t.set(id, { key: [...change.key], row: change.row });
    }
    void defs;
    this.contractList.push(...result.createdContracts);
  }
}
