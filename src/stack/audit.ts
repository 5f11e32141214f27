// `hanzenet audit stack --child URL --parent URL` (docs/market.md, "Stacked marketplaces"):
// re-derives every upward position from the child chain and compares it with what the parent
// recorded (the MemberPosition payload on the parent chain, its Wh, and the child's block hash at
// the height it names), and every downward settlement from the parent chain and compares it with
// what the child recorded (the UpstreamSettlement with the derived id, and the upstream row). It
// only reads, through either chain's API (a mirror node will do), with the same pure builders
// the processors sign with.

import type { HanzenetClient } from '../client/client.js';
import { isClientError } from '../client/errors.js';
import { formatWh, parseKwh } from '../core/amount.js';
import { ChainError } from '../core/errors.js';
import { priceUeur } from '../energy/market/price.js';
import {
  fetchMemberFlows,
  fetchMemberPositions,
  fetchResiduals,
  fetchStackParents,
  fetchUpstream,
} from './client.js';
import { stackTxIdHex } from './ids.js';
import {
  buildMemberPosition,
  buildMissedSettlement,
  buildUpstreamSettlement,
  settlementHeight,
} from './payloads.js';
import type { ParentFlowRow, ResidualRow } from './payloads.js';
import type { ParentLink } from './queries.js';
import type { MemberFlowsView, MemberPositionView, UpstreamRowView } from './views.js';

export type AuditEndpoint = Pick<
  HanzenetClient,
  'getJson' | 'getTransaction' | 'chainId' | 'block'
>;

export interface StackDifference {
  readonly direction: 'up' | 'down';
  readonly context: string;
  readonly parentContext: string;
  readonly periodStartMs: number;
  /** What differs: a payload field, or a fact such as `childBlockHash`. */
  readonly what: string;
  /** What the source chain says (the child for up, the parent for down). */
  readonly derived: unknown;
  /** What the other chain recorded. */
  readonly recorded: unknown;
}

/** Energy in kWh (exact decimal text) going up or down, summed over what the audit checked. */
export interface CheckedKwh {
  readonly producedKwh: string;
  readonly consumedKwh: string;
}

export interface StackAuditReport {
  readonly childChain: string;
  readonly parentChain: string;
  readonly contexts: number;
  readonly checked: { up: number; down: number };
  /**
   * The positions checked (as the parent recorded them) and the residuals whose settlement was
   * checked (as the child recorded them), summed, so that the audit's figures can be compared
   * with the chains'.
   */
  readonly checkedKwh: { up: CheckedKwh; down: CheckedKwh };
  readonly differences: StackDifference[];
  readonly ok: boolean;
}

const PAGE = 1000;

export async function auditStack(
  child: AuditEndpoint,
  parent: AuditEndpoint,
): Promise<StackAuditReport> {
  const childChain = await child.chainId();
  const parentChain = await parent.chainId();
  const links = await allLinks(child, parentChain);
  const checked = { up: 0, down: 0 };
  const sums: CheckedWh = {
    up: { producedWh: 0n, consumedWh: 0n },
    down: { producedWh: 0n, consumedWh: 0n },
  };
  const differences: StackDifference[] = [];
  for (const link of links) {
    const audit = new LinkAudit(child, parent, link, childChain, parentChain, differences, sums);
    checked.up += await audit.upward();
    checked.down += await audit.downward();
  }
  return {
    childChain,
    parentChain,
    contexts: links.length,
    checked,
    checkedKwh: { up: kwhOf(sums.up), down: kwhOf(sums.down) },
    differences,
    ok: differences.length === 0,
  };
}

/** Integer Wh summed while checking, per direction. */
interface CheckedWh {
  readonly up: { producedWh: bigint; consumedWh: bigint };
  readonly down: { producedWh: bigint; consumedWh: bigint };
}

function kwhOf(sum: { producedWh: bigint; consumedWh: bigint }): CheckedKwh {
  return { producedKwh: formatWh(sum.producedWh), consumedKwh: formatWh(sum.consumedWh) };
}

async function allLinks(child: AuditEndpoint, parentChain: string): Promise<ParentLink[]> {
  const links: ParentLink[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await fetchStackParents(child, parentChain, {
      limit: PAGE,
      ...(after === undefined ? {} : { after }),
    });
    links.push(...page.parents);
    if (page.parents.length < PAGE) return links;
    after = page.parents[page.parents.length - 1]?.context;
  }
}

class LinkAudit {
  constructor(
    private readonly child: AuditEndpoint,
    private readonly parent: AuditEndpoint,
    private readonly link: ParentLink,
    private readonly childChain: string,
    private readonly parentChain: string,
    private readonly differences: StackDifference[],
    private readonly sums: CheckedWh,
  ) {}

  /** Every position the parent recorded for this member; returns how many were checked. */
  async upward(): Promise<number> {
    let count = 0;
    let fromMs = 0;
    for (;;) {
      const page = await fetchMemberPositions(this.parent, this.link.parentContext, {
        member: this.link.context,
        fromMs,
        limit: PAGE,
      });
      for (const position of page.positions) {
        count++;
        await this.checkPosition(position);
      }
      const last = page.positions[page.positions.length - 1];
      if (page.positions.length < PAGE || last === undefined) return count;
      fromMs = last.periodStartMs + 1;
    }
  }

  private async checkPosition(position: MemberPositionView): Promise<void> {
    const periodStartMs = position.periodStartMs;
    const diff = (what: string, derived: unknown, recorded: unknown): void =>
      this.differ('up', periodStartMs, what, derived, recorded);
    this.sums.up.producedWh += whOf(position.producedKwh);
    this.sums.up.consumedWh += whOf(position.consumedKwh);
    if (position.chain !== this.childChain) diff('chain', this.childChain, position.chain);
    const childHash = await blockHash(this.child, position.childHeight);
    if (childHash !== position.childBlockHash)
      diff('childBlockHash', childHash, position.childBlockHash);
    const row = await upstreamRow(this.child, this.link.context, periodStartMs);
    if (row === null) {
      diff('upstreamRow', null, 'a position the child chain has no upstream row for');
      return;
    }
    if (row.producedKwh !== position.producedKwh)
      diff('producedKwh', row.producedKwh, position.producedKwh);
    if (row.consumedKwh !== position.consumedKwh)
      diff('consumedKwh', row.consumedKwh, position.consumedKwh);
    const residuals = await fetchResiduals(this.child, this.link.context, periodStartMs);
    const expected = buildMemberPosition({
      parentContext: this.link.parentContext,
      childChain: this.childChain,
      childContext: this.link.context,
      periodStartMs,
      periodMs: (residuals.periodSeconds ?? 0) * 1000,
      height: row.localHeight,
      blockHash: (await blockHash(this.child, row.localHeight)) ?? '',
      residuals: residuals.residuals.map((r): ResidualRow => ({ ...r, wh: whOf(r.kwh) })),
    });
    const recorded = await payloadOf(this.parent, position.txId);
    comparePayloads(expected, recorded, diff);
    const upId = stackTxIdHex({
      childChain: this.childChain,
      parentChain: this.parentChain,
      childContext: this.link.context,
      periodStartMs,
      direction: 'up',
    });
    if (position.txId !== upId) diff('txId', upId, position.txId);
  }

  /** Every settlement the child recorded from the parent; returns how many were checked. */
  async downward(): Promise<number> {
    let count = 0;
    let fromMs = 0;
    for (;;) {
      const page = await fetchUpstream(this.child, this.link.context, {
        state: 'settled',
        fromMs,
        limit: PAGE,
      });
      for (const row of page.upstream) {
        count++;
        await this.checkSettlement(row);
      }
      const last = page.upstream[page.upstream.length - 1];
      if (page.upstream.length < PAGE || last === undefined) return count;
      fromMs = last.periodStartMs + 1;
    }
  }

  private async checkSettlement(row: UpstreamRowView): Promise<void> {
    const periodStartMs = row.periodStartMs;
    const diff = (what: string, derived: unknown, recorded: unknown): void =>
      this.differ('down', periodStartMs, what, derived, recorded);
    this.sums.down.producedWh += whOf(row.producedKwh);
    this.sums.down.consumedWh += whOf(row.consumedKwh);
    const flows = await fetchMemberFlows(
      this.parent,
      this.link.parentContext,
      periodStartMs,
      this.link.context,
    );
    const expected = await this.expectedSettlement(flows);
    if (expected === null) {
      diff('parentPeriod', 'not complete on the parent chain', 'settled on the child chain');
      return;
    }
    if (row.missed !== expected.missed) diff('missed', expected.missed, row.missed);
    if (row.parentHeight !== expected.height)
      diff('parentHeight', expected.height, row.parentHeight);
    if (row.parentBlockHash !== expected.blockHash)
      diff('parentBlockHash', expected.blockHash, row.parentBlockHash);
    const downId = stackTxIdHex({
      childChain: this.childChain,
      parentChain: this.parentChain,
      childContext: this.link.context,
      periodStartMs,
      direction: 'down',
    });
    const recorded = await payloadOf(this.child, downId);
    comparePayloads(expected, recorded, diff);
  }

  private async expectedSettlement(view: MemberFlowsView) {
    if (view.supplyEur === null || view.feedInEur === null) return null;
    const head = {
      parentChain: this.parentChain,
      parentContext: this.link.parentContext,
      member: this.link.context,
      periodStartMs: view.periodStartMs,
      supplyUeur: ueurOf(view.supplyEur),
      feedInUeur: ueurOf(view.feedInEur),
    };
    if (!view.hasPosition) {
      if (view.gateBlock === null) return null;
      return buildMissedSettlement({
        ...head,
        height: view.gateBlock.height,
        blockHash: view.gateBlock.hash,
      });
    }
    if (!view.settled) return null;
    const rows = view.flows.map(
      (f): ParentFlowRow => ({
        seq: BigInt(f.seq),
        kind: f.kind,
        seller: f.seller,
        buyer: f.buyer,
        labels: f.labels,
        wh: whOf(f.kwh),
        priceUeur: ueurOf(f.priceEur),
        height: BigInt(f.height),
      }),
    );
    const height = settlementHeight(this.link.context, rows);
    if (height === null) return null;
    const hash = (await blockHash(this.parent, height)) ?? '';
    return buildUpstreamSettlement({ ...head, height, blockHash: hash }, rows);
  }

  private differ(
    direction: 'up' | 'down',
    periodStartMs: number,
    what: string,
    derived: unknown,
    recorded: unknown,
  ): void {
    this.differences.push({
      direction,
      context: this.link.context,
      parentContext: this.link.parentContext,
      periodStartMs,
      what,
      derived,
      recorded,
    });
  }
}

/** Each field of the derived payload against the recorded one (missing fields count too). */
function comparePayloads(
  expected: object,
  recorded: Record<string, unknown> | null,
  diff: (what: string, derived: unknown, recorded: unknown) => void,
): void {
  if (recorded === null) {
    diff('transaction', 'an accepted transaction with the derived id', null);
    return;
  }
  const fields = new Set([...Object.keys(expected), ...Object.keys(recorded)]);
  for (const field of fields) {
    const want = (expected as Record<string, unknown>)[field];
    const got = recorded[field];
    if (JSON.stringify(want) !== JSON.stringify(got))
      diff(`payload.${field}`, want ?? null, got ?? null);
  }
}

/** The payload of an accepted transaction, or null when it is unknown or was not accepted. */
async function payloadOf(
  endpoint: AuditEndpoint,
  id: string,
): Promise<Record<string, unknown> | null> {
  try {
    const view = await endpoint.getTransaction(id);
    return view.status === 'accepted' ? (view.payload as Record<string, unknown>) : null;
  } catch (err) {
    if (isClientError(err) && err.code === 'not_found') return null;
    throw err;
  }
}

async function blockHash(endpoint: AuditEndpoint, height: number): Promise<string | null> {
  try {
    return (await endpoint.block(height)).hash;
  } catch (err) {
    if (isClientError(err) && err.code === 'not_found') return null;
    throw err;
  }
}

async function upstreamRow(
  child: AuditEndpoint,
  context: string,
  periodStartMs: number,
): Promise<UpstreamRowView | null> {
  const page = await fetchUpstream(child, context, { fromMs: periodStartMs, limit: 1 });
  const row = page.upstream[0];
  return row !== undefined && row.periodStartMs === periodStartMs ? row : null;
}

function whOf(kwh: string): bigint {
  const parsed = parseKwh(kwh);
  if (!parsed.ok)
    throw new ChainError(
      'bad_response',
      `expected kWh text from the server, got ${JSON.stringify(kwh)}`,
    );
  return parsed.wh;
}

function ueurOf(eur: string): bigint {
  const ueur = priceUeur(eur);
  if (ueur === null)
    throw new ChainError(
      'bad_response',
      `expected a price in EUR from the server, got ${JSON.stringify(eur)}`,
    );
  return ueur;
}
