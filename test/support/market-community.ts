// A market community on the shared energy test chain (test/support/energy-chain.ts): one context
// with three households (anna with solar panels, bert, carl), its market on with a one-minute gate
// closure, and helpers to call contracts, check rejections, read its rows and statements.

import assert from 'node:assert/strict';
import { mustAccept, testAddress } from './energy-chain.js';
import type { EnergyChain, Outcome } from './energy-chain.js';

export const ANNA = testAddress('anna');
export const BERT = testAddress('bert');
export const CARL = testAddress('carl');
export const ANNA_SOLAR = testAddress('anna solar meter');
export const ANNA_HOUSE = testAddress('anna house meter');
export const BERT_HOUSE = testAddress('bert house meter');
export const CARL_HOUSE = testAddress('carl house meter');
export const NAMES = new Map([
  [ANNA, 'anna'],
  [BERT, 'bert'],
  [CARL, 'carl'],
]);
export const QUARTER_MS = 900_000;
export const P0 = Date.UTC(2026, 5, 1, 12, 0, 0);
export const P1 = P0 + QUARTER_MS;

/** One context on the shared chain: three households, anna with solar panels. */
export class Community {
  constructor(
    readonly chain: EnergyChain,
    readonly owner: string,
  ) {
    NAMES.set(owner, 'owner');
  }

  /** Opens the context; its market is turned on (gate closure 60 s) unless `market` is false. */
  static async open(
    chain: EnergyChain,
    ownerName: string,
    { market = true }: { market?: boolean } = {},
  ): Promise<Community> {
    const c = new Community(chain, testAddress(ownerName));
    for (const trader of [ANNA, BERT, CARL])
      await c.accept('Trader', c.owner, { address: trader, allowed: true });
    await c.accept('Producer', c.owner, {
      address: ANNA_SOLAR,
      allowed: true,
      trader: ANNA,
      labels: ['solar'],
    });
    for (const [meter, trader] of [
      [ANNA_HOUSE, ANNA],
      [BERT_HOUSE, BERT],
      [CARL_HOUSE, CARL],
    ] as const)
      await c.accept('Consumer', c.owner, { address: meter, allowed: true, trader, labels: [] });
    if (market) await c.accept('Market', c.owner, { on: true, gateClosureSeconds: 60 });
    return c;
  }

  call(type: string, sender: string, fields: Record<string, unknown>): Promise<Outcome> {
    return this.chain.execute(type, sender, { context: this.owner, ...fields });
  }

  async accept(type: string, sender: string, fields: Record<string, unknown>): Promise<void> {
    mustAccept(await this.call(type, sender, fields), `${type} ${JSON.stringify(fields)}`);
  }

  async reject(
    type: string,
    sender: string,
    fields: Record<string, unknown>,
    code: string,
  ): Promise<void> {
    const before = await this.chain.snapshot();
    const outcome = await this.call(type, sender, fields);
    assert.equal(outcome.status, 'rejected', JSON.stringify(outcome));
    if (outcome.status === 'rejected') assert.equal(outcome.code, code, outcome.message);
    assert.equal(
      await this.chain.snapshot(),
      before,
      `rejected with ${code} but changed the state`,
    );
  }

  async rows(table: string): Promise<Record<string, unknown>[]> {
    return (await this.chain.rows(table)).filter((r) => r['context'] === this.owner);
  }

  /** Market positions as "HH:MM trader direction [labels] wh/estimated", sorted. */
  async positions(): Promise<string[]> {
    return (await this.rows('energy_market_positions'))
      .map((r) => {
        const time = new Date(Number(r['period_start_ms'])).toISOString().slice(11, 16);
        const who = NAMES.get(r['trader'] as string);
        return `${time} ${who} ${r['direction']} [${r['labels_key']}] ${r['wh']}/${r['estimated_wh']}`;
      })
      .sort();
  }

  /** Prices for periods from `fromMs`: local 0.15, supply 0.30, feed-in 0.05 EUR/kWh. */
  async prices(fromMs: number, count: number): Promise<void> {
    await this.accept('MarketPrices', this.owner, {
      fromMs,
      localEur: Array(count).fill('0.15'),
      supplyEur: Array(count).fill('0.3'),
      feedInEur: Array(count).fill('0.05'),
    });
  }

  /** The flows of a period as "kind seller>buyer wh@price". */
  async flows(periodStartMs: number): Promise<string[]> {
    return (await this.rows('energy_market_flows'))
      .filter((f) => f['period_start_ms'] === BigInt(periodStartMs))
      .sort((a, b) => Number((a['seq'] as bigint) - (b['seq'] as bigint)))
      .map(
        (f) =>
          `${f['kind']} ${NAMES.get(f['seller'] as string)}>${NAMES.get(f['buyer'] as string)} ${f['wh']}@${f['price_ueur_per_kwh']}`,
      );
  }

  /** Statements of a period: trader -> row. */
  async statements(periodStartMs: number): Promise<Map<string, Record<string, unknown>>> {
    return new Map(
      (await this.rows('energy_market_statements'))
        .filter((s) => s['period_start_ms'] === BigInt(periodStartMs))
        .map((s) => [NAMES.get(s['trader'] as string) as string, s]),
    );
  }
}

/**
 * Every statement balances: produced - consumed + late + corrected + bought - sold + supplied -
 * exported + imbalance + correction = 0, and what is due is the sum of its money.
 */
export function assertBalanced(statements: Map<string, Record<string, unknown>>): void {
  for (const [who, s] of statements) {
    const n = (k: string): bigint => s[k] as bigint;
    assert.equal(
      n('produced_wh') -
        n('consumed_wh') +
        n('bought_wh') -
        n('sold_wh') +
        n('supplied_wh') -
        n('exported_wh') +
        n('late_wh') +
        n('imbalance_wh') +
        n('corrected_wh') +
        n('correction_wh'),
      0n,
      `${who}'s position is not zero`,
    );
    assert.equal(
      n('due_neur'),
      n('bought_neur') +
        n('supplied_neur') -
        n('sold_neur') -
        n('exported_neur') +
        n('imbalance_neur') +
        n('correction_neur'),
    );
  }
}
