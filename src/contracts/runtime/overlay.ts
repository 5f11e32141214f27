// The state a block's transactions see: the committed rows (a bounded LRU cache in front of the
// store), the changes of the block's accepted transactions so far, and the changes of the
// transaction that is running. A rejected or failed transaction's changes are dropped; an accepted
// one's are merged into the block's. The cache only ever holds committed values: the block's
// changes enter it in commitBlock(), after the store committed them.

import { ChainError } from '../../core/errors.js';
import type { Row, RowValue, StateChange, TableDef } from '../../chain/contract-model.js';
import { LruCache } from './lru-cache.js';
import { canonicalStoredRow, compareKeys, keyId, keyValuesOf, rowMatches } from './rows.js';
import { ContractFault } from './sandbox.js';
import type { SyncStateSource } from './ports.js';
import { encodeTagged } from './wire.js';
import { CONTRACT_LIMITS } from '../limits.js';

/** Store find results kept between transactions and blocks (see StateOverlay.storedFinds). */
const STORED_FINDS_MAX = 10_000;

/** The most rows one StateReader.findRows call may be asked for. */
export const READER_FIND_LIMIT_MAX = 100_000;
export const DEFAULT_CACHE_ROWS = 200_000;
/**
 * Finds on a resident table are answered in memory up to this many rows in it (a scan of the
 * table); on a larger one the store's index answers faster.
 */
export const RESIDENT_FIND_ROWS_MAX = 2_000;

interface Entry {
  readonly table: string;
  readonly key: readonly RowValue[];
  readonly row: Row | null;
}

/** Changes keyed by table then key id. */
class ChangeSet {
  readonly byTable = new Map<string, Map<string, Entry>>();

  get(table: string, id: string): Entry | undefined {
    return this.byTable.get(table)?.get(id);
  }

  set(table: string, id: string, entry: Entry): void {
    let t = this.byTable.get(table);
    if (t === undefined) {
      t = new Map();
      this.byTable.set(table, t);
    }
    t.set(id, entry);
  }

  clear(): void {
    this.byTable.clear();
  }
}

const cacheId = (table: string, id: string): string => `${table}\u0000${id}`;

/** The committed rows of a resident table, by key id. */
type ResidentTable = Map<string, { readonly key: readonly RowValue[]; readonly row: Row }>;

export class StateOverlay {
  private readonly cache: LruCache<Row | null>;
  /**
   * Tables held in memory whole (committed rows): a read of a key they lack is an absent row,
   * with no store round trip, and finds on small ones are answered here. A table stays resident
   * while all resident tables together hold at most `residentRowsMax` rows; past that the largest
   * is let go and read through the cache again. Changes enter only when committed, like the cache.
   */
  private readonly resident = new Map<string, ResidentTable>();
  private residentRows = 0;
  /**
   * Tables some contract read (get, find, delete) since this overlay was made. Committed rows of a
   * table nobody reads (a history, say) are not kept: they would only fill memory.
   */
  private readonly readTables = new Set<string>();
  /**
   * The changes of an executed block whose commit is still under way while the next block runs on
   * top of it (the processor's pipeline): reads see them like committed values, but they enter the
   * cache only when that commit is confirmed (commitOldest).
   */
  private held: ChangeSet | null = null;
  private block = new ChangeSet();
  private readonly tx = new ChangeSet();
  private source: SyncStateSource | null = null;
  private inStore: (table: string) => boolean = () => true;
  /**
   * Results of store finds (committed state only), so that a find repeated in every transaction
   * (Energy's current-period lookup) costs no round trip. An entry is valid while its table's
   * generation is unchanged: a committed block that changed the table, or a block whose commit
   * may have landed, bumps it.
   */
  private readonly storedFinds: LruCache<{ generation: number; rows: Row[] }>;
  private readonly tableGeneration = new Map<string, number>();

  constructor(
    cacheRows: number = DEFAULT_CACHE_ROWS,
    private readonly residentRowsMax = 0,
  ) {
    this.cache = new LruCache(cacheRows);
    this.storedFinds = new LruCache(STORED_FINDS_MAX);
  }

  /**
   * Holds `table` in memory from now on: `rows` must be every committed row it has (an empty
   * list for a table just created). Ignored when that would exceed the resident budget.
   */
  makeResident(table: string, def: TableDef, rows: readonly Row[]): boolean {
    if (
      this.residentRowsMax <= 0 ||
      this.resident.has(table) ||
      this.residentRows + rows.length > this.residentRowsMax
    )
      return false;
    const t: ResidentTable = new Map();
    for (const raw of rows) {
      const row = canonicalStoredRow(table, def, raw);
      const key = keyValuesOf(def, row);
      t.set(keyId(key), { key, row });
    }
    this.resident.set(table, t);
    this.residentRows += t.size;
    for (const id of t.keys()) this.cache.delete(cacheId(table, id));
    return true;
  }

  /** The tables held in memory whole, and how many rows each has. */
  residentTables(): Map<string, number> {
    return new Map([...this.resident].map(([table, t]) => [table, t.size]));
  }

  private letGo(table: string): void {
    const t = this.resident.get(table);
    if (t === undefined) return;
    this.resident.delete(table);
    this.residentRows -= t.size;
    this.bumpGeneration(table);
  }

  /** Lets go of the largest resident tables until the budget holds. */
  private trimResident(): void {
    while (this.residentRows > this.residentRowsMax) {
      let largest: string | null = null;
      let size = -1;
      for (const [table, t] of this.resident) {
        if (t.size > size) {
          largest = table;
          size = t.size;
        }
      }
      if (largest === null) return;
      this.letGo(largest);
    }
  }

  private generationOf(table: string): number {
    return this.tableGeneration.get(table) ?? 0;
  }

  private bumpGeneration(table: string): void {
    this.tableGeneration.set(table, this.generationOf(table) + 1);
  }

  /** The store's rows for a find, from the find cache when the table did not change since. */
  private storedFind(
    table: string,
    def: TableDef,
    where: Readonly<Row>,
    storeLimit: number,
  ): Row[] {
    const resident = this.resident.get(table);
    if (resident !== undefined && resident.size <= RESIDENT_FIND_ROWS_MAX) {
      const matching: { key: readonly RowValue[]; row: Row }[] = [];
      for (const e of resident.values()) if (rowMatches(e.row, where)) matching.push(e);
      matching.sort((a, b) => compareKeys(a.key, b.key));
      return matching.slice(0, storeLimit).map((e) => e.row);
    }
    if (!this.inStore(table)) return [];
    const id = `${table}\u0000${storeLimit}\u0000${encodeTagged(where)}`;
    const generation = this.generationOf(table);
    const hit = this.storedFinds.get(id);
    if (hit !== undefined && hit.generation === generation) return hit.rows;
    const rows = this.reader().findRows(table, def, where, storeLimit);
    if (rows === null) return [];
    const canonical = rows.map((raw) => canonicalStoredRow(table, def, raw));
    this.storedFinds.set(id, { generation, rows: canonical });
    return canonical;
  }

  /**
   * Starts a block: reads that miss go to `source` until the block ends. `inStore(table)` says
   * whether the store has the table yet: one created by this block, or by the uncommitted block
   * below it, has no committed rows, and the store would fail a read of it.
   */
  beginBlock(source: SyncStateSource, inStore: (table: string) => boolean = () => true): void {
    this.block.clear();
    this.tx.clear();
    this.source = source;
    this.inStore = inStore;
  }

  /**
   * The executed block's changes stay visible, uncommitted, under the next block (see `held`).
   * Only one block can be held.
   */
  holdBlock(): void {
    if (this.held !== null)
      throw new ChainError('internal', 'a block is already held under the current one');
    this.held = this.block;
    this.block = new ChangeSet();
    this.tx.clear();
  }

  /** Drops the current block's changes; a held block becomes the current (executed) block again. */
  dropCurrent(): void {
    this.tx.clear();
    if (this.held !== null) {
      this.block = this.held;
      this.held = null;
    } else {
      this.block.clear();
    }
  }

  /** The oldest uncommitted block was committed: the held one if any, else the current one. */
  commitOldest(): void {
    if (this.held === null) {
      this.commitBlock();
      return;
    }
    this.foldIntoCache(this.held);
    this.held = null;
  }

  private reader(): SyncStateSource {
    if (this.source === null) throw new ChainError('internal', 'state read outside a block');
    return this.source;
  }

  private overlayEntry(table: string, id: string): Entry | undefined {
    return this.tx.get(table, id) ?? this.block.get(table, id) ?? this.held?.get(table, id);
  }

  /** The committed row (cache, then store). `undefined` when the source does not know it yet. */
  private committed(
    table: string,
    def: TableDef,
    key: readonly RowValue[],
    id: string,
  ): Row | null | undefined {
    const resident = this.resident.get(table);
    if (resident !== undefined) return resident.get(id)?.row ?? null;
    const cid = cacheId(table, id);
    const cached = this.cache.get(cid);
    if (cached !== undefined) return cached;
    if (!this.inStore(table)) return null;
    const rows = this.reader().readRows(table, def, [key]);
    if (rows === null) return undefined;
    const found = rows.find((r) => keyId(keyValuesOf(def, r)) === id);
    const row = found === undefined ? null : canonicalStoredRow(table, def, found);
    this.cache.set(cid, row);
    return row;
  }

  /**
   * Notes the first read of a table. A table written but unread until now was not kept in memory;
   * if it fits the resident budget it is loaded whole now (one query), instead of key by key.
   */
  private noteRead(table: string, def: TableDef): void {
    if (this.readTables.has(table)) return;
    this.readTables.add(table);
    const left = this.residentRowsMax - this.residentRows;
    // A table not in the store yet is held from its creation when that commits (BlockEngine.commit).
    if (left <= 0 || this.resident.has(table) || !this.inStore(table)) return;
    // The store may or may not hold the changes of a block under way (held, or committing); they
    // are folded in when that block commits, and folding a change twice gives the same rows.
    const rows = this.reader().findRows(table, def, {}, Math.min(left + 1, READER_FIND_LIMIT_MAX));
    if (rows !== null && rows.length <= left) this.makeResident(table, def, rows);
  }

  get(table: string, def: TableDef, key: readonly RowValue[]): Row | null {
    this.noteRead(table, def);
    const id = keyId(key);
    const entry = this.overlayEntry(table, id);
    if (entry !== undefined) return entry.row;
    return this.committed(table, def, key, id) ?? null;
  }

  put(table: string, def: TableDef, row: Row): void {
    const key = keyValuesOf(def, row);
    this.tx.set(table, keyId(key), { table, key, row });
  }

  /** Deletes the row; false (and no change) when there was none. */
  delete(table: string, def: TableDef, key: readonly RowValue[]): boolean {
    if (this.get(table, def, key) === null) return false;
    this.tx.set(table, keyId(key), { table, key, row: null });
    return true;
  }

  /** Overlay rows merged with store rows, ordered by primary key, at most `limit`. */
  find(table: string, def: TableDef, where: Readonly<Row>, limit: number): Row[] {
    this.noteRead(table, def);
    if (limit === 0) return [];
    const changed = new Map<string, Entry>();
    for (const [id, e] of this.held?.byTable.get(table) ?? []) changed.set(id, e);
    for (const [id, e] of this.block.byTable.get(table) ?? []) changed.set(id, e);
    for (const [id, e] of this.tx.byTable.get(table) ?? []) changed.set(id, e);
    const storeLimit = limit + this.maskingCount(table, def, where, changed);
    const stored = this.storedFind(table, def, where, storeLimit);
    const merged: { key: RowValue[]; row: Row }[] = [];
    for (const row of stored) {
      const key = keyValuesOf(def, row);
      const id = keyId(key);
      if (changed.has(id)) continue;
      if (!this.resident.has(table)) this.cache.set(cacheId(table, id), row);
      merged.push({ key, row });
    }
    for (const e of changed.values())
      if (e.row !== null && rowMatches(e.row, where)) merged.push({ key: [...e.key], row: e.row });
    merged.sort((a, b) => compareKeys(a.key, b.key));
    return merged.slice(0, limit).map((m) => m.row);
  }

  /**
   * How many store rows the block's changes may hide from a find (an upper bound): changed keys
   * whose key columns agree with `where` and whose committed row, when cached, matches it. If
   * that makes the store query too large, the committed rows are read to count exactly.
   */
  private maskingCount(
    table: string,
    def: TableDef,
    where: Readonly<Row>,
    changed: ReadonlyMap<string, Entry>,
  ): number {
    const keyFilter: [number, RowValue][] = [];
    def.key.forEach((column, i) => {
      const v = where[column];
      if (v !== undefined) keyFilter.push([i, v]);
    });
    let n = 0;
    const unknown: [string, Entry][] = [];
    for (const [id, e] of changed) {
      if (!keyFilter.every(([i, v]) => e.key[i] === v)) continue;
      const cached = this.cache.peek(cacheId(table, id));
      if (cached === null || (cached !== undefined && !rowMatches(cached, where))) continue;
      n++;
      if (cached === undefined) unknown.push([id, e]);
    }
    if (CONTRACT_LIMITS.findLimitMax + n <= READER_FIND_LIMIT_MAX) return n;
    for (const [id, e] of unknown) {
      const row = this.committed(table, def, e.key, id);
      if (row === null || (row !== undefined && !rowMatches(row, where))) n--;
    }
    if (CONTRACT_LIMITS.findLimitMax + n > READER_FIND_LIMIT_MAX) {
      throw new ContractFault(
        'contract_out_of_gas',
        `find() on table ${table}: ${n} rows matching the filter were changed in this block, more than one find can merge`,
      );
    }
    return n;
  }

  commitTx(): void {
    for (const [table, entries] of this.tx.byTable)
      for (const [id, e] of entries) this.block.set(table, id, e);
    this.tx.clear();
  }

  discardTx(): void {
    this.tx.clear();
  }

  /** The final value of every row the block's accepted transactions touched. */
  blockChanges(): StateChange[] {
    const out: StateChange[] = [];
    for (const entries of this.block.byTable.values())
      for (const e of entries.values()) out.push({ table: e.table, key: e.key, row: e.row });
    return out;
  }

  /** The block was committed: its changes are now committed values. */
  commitBlock(): void {
    if (this.held !== null)
      throw new ChainError('internal', 'the held block must be committed before the current one');
    this.foldIntoCache(this.block);
    this.endBlock();
  }

  private foldIntoCache(changes: ChangeSet): void {
    for (const [table, entries] of changes.byTable) {
      if (entries.size > 0) this.bumpGeneration(table);
      if (!this.readTables.has(table)) {
        this.letGo(table);
        for (const id of entries.keys()) this.cache.delete(cacheId(table, id));
        continue;
      }
      const resident = this.resident.get(table);
      if (resident === undefined) {
        for (const [id, e] of entries) this.cache.set(cacheId(table, id), e.row);
        continue;
      }
      this.residentRows -= resident.size;
      for (const [id, e] of entries) {
        if (e.row === null) resident.delete(id);
        else resident.set(id, { key: e.key, row: e.row });
        // The cache may still hold what this key was before the table became resident; once the
        // table is let go, the cache must not answer with that.
        this.cache.delete(cacheId(table, id));
      }
      this.residentRows += resident.size;
    }
    this.trimResident();
  }

  /**
   * The block was not committed: forget its changes. With `evict`, the cached committed values of
   * the rows it touched are dropped too, so that if the store did commit after all (a commit whose
   * result was lost), the next reads fetch the truth instead of a stale cached value.
   */
  endBlock(evict = false): void {
    if (evict) {
      for (const changes of [this.held ?? new ChangeSet(), this.block, this.tx]) {
        for (const [table, entries] of changes.byTable) {
          // Whether the store has these changes is unknown: read the table through the cache.
          this.letGo(table);
          this.bumpGeneration(table);
          for (const id of entries.keys()) this.cache.delete(cacheId(table, id));
        }
      }
    }
    this.held = null;
    this.block.clear();
    this.tx.clear();
    this.source = null;
  }

  get cachedRows(): number {
    return this.cache.size;
  }
}
