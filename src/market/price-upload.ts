// `hanzenet market upload-prices`: the owner's price table (price-table.ts) sent as MarketPrices
// transactions, one per run of at most 2,976 consecutive periods. Each id is derived from the
// context, the first period and the prices, so running the same upload again books nothing twice:
// it reports the earlier outcome. A corrected table gives other ids and replaces the prices of
// periods that are not settled yet (MarketPrices refuses settled ones, `period_already_settled`).

import { createHash } from 'node:crypto';
import type { HanzenetClient } from '../client/client.js';
import { submitOnce, type OnceStatus } from '../client/submit-once.js';
import type { PrivateKey } from '../core/keys.js';
import type { PriceRun, PriceTable } from './price-table.js';

export interface PriceUploadTx {
  readonly id: string;
  readonly from: string;
  readonly fromMs: number;
  readonly periods: number;
  /** `planned` with --dry-run; else the outcome (src/client/submit-once.ts). */
  readonly status: OnceStatus | 'planned';
  readonly code: string | null;
  readonly message: string | null;
}

export interface PriceUploadResult {
  readonly context: string;
  readonly rows: number;
  readonly rowMinutes: number;
  readonly periods: number;
  readonly from: string;
  readonly to: string;
  readonly transactions: PriceUploadTx[];
  /** Every transaction accepted, now or before. */
  readonly ok: boolean;
}

/** The MarketPrices payload of a run. */
export function pricesPayload(context: string, run: PriceRun): Record<string, unknown> {
  return {
    context,
    fromMs: run.fromMs,
    localEur: run.localEur,
    supplyEur: run.supplyEur,
    feedInEur: run.feedInEur,
  };
}

/** The id of a run's transaction: 16 bytes of sha256 over what it sets. */
export function pricesTxId(context: string, run: PriceRun): string {
  return createHash('sha256')
    .update(`hanzenet-market-prices|${JSON.stringify(pricesPayload(context, run))}`)
    .digest()
    .subarray(0, 16)
    .toString('hex');
}

export async function uploadPrices(
  client: HanzenetClient,
  /** The owner's key; null only with dryRun. */
  key: PrivateKey | null,
  context: string,
  table: PriceTable,
  opts: { readonly dryRun: boolean; readonly timeoutMs: number },
): Promise<PriceUploadResult> {
  const ids = table.runs.map((run) => pricesTxId(context, run));
  let outcomes: { status: OnceStatus | 'planned'; code: string | null; message: string | null }[];
  if (opts.dryRun || key === null)
    outcomes = ids.map(() => ({ status: 'planned', code: null, message: null }));
  else {
    const contractHash = await client.contractHashOfType('MarketPrices');
    const txs = [];
    for (const [i, run] of table.runs.entries())
      txs.push(
        await client.signContractCall({
          contractHash,
          payload: pricesPayload(context, run),
          key,
          idHex: ids[i] as string,
          validTillMs: 0,
        }),
      );
    outcomes = await submitOnce(client, txs, opts.timeoutMs);
  }
  const first = table.runs[0];
  const last = table.runs[table.runs.length - 1];
  const endMs = last === undefined ? 0 : last.fromMs + last.supplyEur.length * table.periodMs;
  const transactions = table.runs.map((run, i) => ({
    id: ids[i] as string,
    from: new Date(run.fromMs).toISOString(),
    fromMs: run.fromMs,
    periods: run.supplyEur.length,
    ...(outcomes[i] ?? { status: 'failed' as const, code: null, message: 'no outcome' }),
  }));
  return {
    context,
    rows: table.rows,
    rowMinutes: table.rowMs / 60_000,
    periods: table.periods,
    from: new Date(first?.fromMs ?? 0).toISOString(),
    to: new Date(endMs).toISOString(),
    transactions,
    ok: transactions.every((t) => t.status === 'accepted' || t.status === 'already_accepted'),
  };
}
