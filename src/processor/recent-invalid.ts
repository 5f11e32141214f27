// Transactions the processor refused as invalid are never in a block, so the store keeps them
// only as long as a client may still ask for their status; the processor remembers the most
// recent ones, up to a limit, in the order they were refused.

import type { TxRecord } from '../chain/records.js';

export class RecentInvalid {
  private readonly records = new Map<string, TxRecord>();

  constructor(private readonly rememberedMax: number) {}

  remember(records: readonly TxRecord[]): void {
    for (const r of records) {
      this.records.set(r.idHex, r);
      if (this.records.size > this.rememberedMax) {
        const oldest = this.records.keys().next().value;
        if (oldest !== undefined) this.records.delete(oldest);
      }
    }
  }

  get(idHex: string): TxRecord | undefined {
    return this.records.get(idHex);
  }
}
