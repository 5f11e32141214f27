// Transactions admitted but not yet in a block, in arrival order. Bounded: when full, admission
// answers `queue_full` and the client tries again, rather than the processor growing without limit.

import type { Tx } from '../chain/types.js';

export interface PendingTx {
  readonly tx: Tx;
  /** Arrival sequence number: the block order. */
  readonly seq: number;
  /** Client-supplied creation time (Validana `createTs`), or the arrival time. */
  readonly createMs: number;
}

export class PendingQueue {
  private readonly byId = new Map<string, PendingTx>();
  private items: PendingTx[] = [];
  private head = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.byId.size;
  }

  has(idHex: string): boolean {
    return this.byId.has(idHex);
  }

  get(idHex: string): PendingTx | undefined {
    return this.byId.get(idHex);
  }

  freeSlots(): number {
    return Math.max(0, this.capacity - this.byId.size);
  }

  /** Adds in sequence order (admissions may finish slightly out of order). False when full or known. */
  add(item: PendingTx): boolean {
    if (this.byId.size >= this.capacity || this.byId.has(item.tx.idHex)) return false;
    this.byId.set(item.tx.idHex, item);
    let at = this.items.length;
    while (at > this.head && (this.items[at - 1]?.seq ?? -1) > item.seq) at--;
    if (at === this.items.length) this.items.push(item);
    else this.items.splice(at, 0, item);
    return true;
  }

  /** Removes and returns up to `max` transactions from the front. */
  take(max: number): PendingTx[] {
    const end = Math.min(this.items.length, this.head + max);
    const out = this.items.slice(this.head, end);
    this.head = end;
    for (const item of out) this.byId.delete(item.tx.idHex);
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Puts transactions back (a block could not be committed) in their arrival order among the rest. */
  putBack(items: readonly PendingTx[]): void {
    const fresh = items
      .filter((item) => !this.byId.has(item.tx.idHex))
      .sort((a, b) => a.seq - b.seq);
    for (const item of fresh) this.byId.set(item.tx.idHex, item);
    // Merge by sequence: two blocks given back (the pipeline's) may come back newest first.
    const rest = this.items.slice(this.head);
    const merged: PendingTx[] = [];
    let i = 0;
    let j = 0;
    while (i < fresh.length || j < rest.length) {
      const a = fresh[i];
      const b = rest[j];
      if (b === undefined || (a !== undefined && a.seq <= b.seq)) {
        merged.push(a as PendingTx);
        i++;
      } else {
        merged.push(b);
        j++;
      }
    }
    this.items = merged;
    this.head = 0;
  }
}
