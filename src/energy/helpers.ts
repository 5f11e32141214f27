// Helpers shared by the energy contracts, written once. A contract lists the ones it calls in
// defineContract({ helpers }) and the packer puts their source into its code on chain
// (src/contracts/authoring/helpers.ts). So each function here runs inside QuickJS: it must be a
// plain, self-contained function declaration that reaches state only through the `ctx` it is
// given, and calls no other function of this module (each contract would have to declare it too).

import type { HelperContext } from '../contracts/authoring/define.js';

export type { HelperContext };

/** A settlement period: its first block and its start. */
export interface Period {
  readonly block: bigint;
  readonly startMs: bigint;
}

/** A planned change of one balance (context, trader, period, label set). */
export interface BalanceChange {
  readonly trader: string;
  readonly labels: string[];
  readonly deltaWh: bigint;
  readonly beforeWh: bigint;
  readonly afterWh: bigint;
}

/** How a balance change is recorded in energy_history. */
export interface HistoryEntry {
  /** Position among the history rows of this transaction, from 0n. */
  readonly seq: bigint;
  readonly kind: string;
  readonly counterparty: string;
  readonly description: string;
}

/** An exact amount of energy as text, e.g. -1500n -> "-1.5 kWh" (messages only). */
export function kwh(wh: bigint): string {
  const abs = wh < 0n ? -wh : wh;
  const frac = (abs % 1000n).toString().padStart(3, '0').replace(/0+$/, '');
  return `${wh < 0n ? '-' : ''}${abs / 1000n}${frac === '' ? '' : '.' + frac} kWh`;
}

/** A label set as text for messages: "no labels" or "labels [a, b]". */
export function labelText(set: readonly string[]): string {
  return set.length === 0 ? 'no labels' : `labels [${set.join(', ')}]`;
}

/** The period whose first block is `block` in `context`, or null when no period starts there. */
export function periodStartingAt(ctx: HelperContext, context: string, block: number): Period | null {
  const row = ctx.db.get('energy_periods', { context, block: BigInt(block) });
  return row === null ? null : { block: row['block'] as bigint, startMs: row['start_ms'] as bigint };
}

/** Reads the balance and computes the change; writes nothing (applyBalanceChange does). */
export function planBalanceChange(ctx: HelperContext, context: string, period: Period, trader: string, labels: string[], deltaWh: bigint): BalanceChange {
  const row = ctx.db.get('energy_balances', { context, trader, block: period.block, labels_key: labels.join(',') });
  const beforeWh = row === null ? 0n : (row['amount_wh'] as bigint);
  return { trader, labels, deltaWh, beforeWh, afterWh: beforeWh + deltaWh };
}

/**
 * Writes a planned change: the balance (deleted when it reaches zero, so only non-zero balances
 * are stored) and its history row.
 */
export function applyBalanceChange(ctx: HelperContext, context: string, period: Period, c: BalanceChange, entry: HistoryEntry): void {
  const key = { context, trader: c.trader, block: period.block, labels_key: c.labels.join(',') };
  if (c.afterWh === 0n) ctx.db.delete('energy_balances', key);
  else ctx.db.put('energy_balances', { ...key, period_start_ms: period.startMs, labels: c.labels, amount_wh: c.afterWh });
  ctx.db.put('energy_history', {
    tx_id: ctx.txId,
    seq: entry.seq,
    context,
    trader: c.trader,
    block: period.block,
    period_start_ms: period.startMs,
    labels: c.labels,
    delta_wh: c.deltaWh,
    kind: entry.kind,
    counterparty: entry.counterparty,
    description: entry.description,
    height: BigInt(ctx.block.height),
    processed_ms: BigInt(ctx.block.processedMs),
  });
}
