// ctx.db of one transaction, on the host side: every ctx.db call of a contract arrives here (through
// the sandbox's host function) and reaches the block's state overlay only after the contract's
// manifest allowed it and the row, key or filter fits its table.

import { ChainError } from '../../core/errors.js';
import type { ContractManifest, Row, RowValue, TableDef } from '../../chain/contract-model.js';
import { CONTRACT_LIMITS, SETTLEMENT_BUDGET } from '../limits.js';
import type { StateOverlay } from './overlay.js';
import { checkKey, checkRow, checkWhere, utf8Length } from './rows.js';
import { ContractFault } from './sandbox.js';
import type { DbHost } from './sandbox.js';
import { encodeTagged } from './wire.js';

/**
 * ctx.db for one transaction: access control from the contract's manifest, row checks against
 * the TableDef, and per-transaction limits. Every breach is a ContractFault, which decides the
 * outcome whatever the contract returns.
 */
export class ContractDb implements DbHost {
  private calls = 0;
  private foundRows = 0;
  private readonly dbCallsMax: number;

  constructor(
    private readonly overlay: StateOverlay,
    private readonly contractType: string,
    private readonly manifest: ContractManifest,
    private readonly defs: ReadonlyMap<string, TableDef>,
  ) {
    this.dbCallsMax =
      manifest.budget === 'settlement'
        ? SETTLEMENT_BUDGET.dbCallsPerTx
        : CONTRACT_LIMITS.dbCallsPerTx;
  }

  private table(name: string, write: boolean): TableDef {
    this.calls += 1;
    if (this.calls > this.dbCallsMax) {
      throw new ContractFault(
        'contract_out_of_gas',
        `contract ${this.contractType} made more than ${this.dbCallsMax} ctx.db calls in one transaction`,
      );
    }
    const own = Object.hasOwn(this.manifest.tables, name);
    if (!own && (write || !this.manifest.reads.includes(name))) {
      const why = this.manifest.reads.includes(name)
        ? 'its manifest lists it under reads only'
        : 'its manifest does not list it';
      throw new ContractFault(
        'contract_access_denied',
        `contract ${this.contractType} may not ${write ? 'write' : 'read'} table ${name}: ${why}`,
      );
    }
    const def = this.defs.get(name);
    if (def === undefined)
      throw new ChainError(
        'internal',
        `table ${name} is granted to contract ${this.contractType} but has no definition`,
      );
    return def;
  }

  private key(table: string, def: TableDef, key: unknown): RowValue[] {
    const k = checkKey(table, def, key);
    if (!k.ok) throw new ContractFault('contract_bad_row', k.message);
    return k.value;
  }

  get(table: string, key: unknown): Row | null {
    const def = this.table(table, false);
    return this.overlay.get(table, def, this.key(table, def, key));
  }

  put(table: string, row: unknown): void {
    const def = this.table(table, true);
    const r = checkRow(table, def, row);
    if (!r.ok) throw new ContractFault('contract_bad_row', r.message);
    const bytes = utf8Length(encodeTagged(r.value));
    if (bytes > CONTRACT_LIMITS.rowBytesMax)
      throw new ContractFault(
        'contract_bad_row',
        `table ${table}: the row is ${bytes} bytes as JSON, more than ${CONTRACT_LIMITS.rowBytesMax}`,
      );
    this.overlay.put(table, def, r.value);
  }

  delete(table: string, key: unknown): boolean {
    const def = this.table(table, true);
    return this.overlay.delete(table, def, this.key(table, def, key));
  }

  find(table: string, where: unknown, limit: number): Row[] {
    const def = this.table(table, false);
    if (!Number.isSafeInteger(limit) || limit < 0 || limit > CONTRACT_LIMITS.findLimitMax) {
      throw new ContractFault(
        'contract_bad_row',
        `find() limit must be an integer from 0 to ${CONTRACT_LIMITS.findLimitMax}, got ${limit}`,
      );
    }
    const w = checkWhere(table, def, where);
    if (!w.ok) throw new ContractFault('contract_bad_row', w.message);
    const rows = this.overlay.find(table, def, w.value, limit);
    this.foundRows += rows.length;
    if (this.foundRows > CONTRACT_LIMITS.findRowsPerTx) {
      throw new ContractFault(
        'contract_out_of_gas',
        `contract ${this.contractType} read more than ${CONTRACT_LIMITS.findRowsPerTx} rows with find() in one transaction`,
      );
    }
    return rows;
  }
}
