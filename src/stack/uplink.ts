// The uplink (`hanzenet uplink`, docs/market.md "Stacked marketplaces"): carries each period's
// MemberPosition from a child chain up to its parent, and the parent's UpstreamSettlement back
// down. It keeps no state and holds no key: every round it asks the child which of its contexts
// have a parent on the parent's chain and which of their periods are open upstream, fetches the
// transactions the processors signed (their ids are derived, decision 0012 "Exactly once") and
// posts them. Whatever fails (this process, either processor, the network), the next round sends
// the same bytes again, and the chain that holds them already refuses the copy.

import type { HanzenetClient } from '../client/client.js';
import { isClientError } from '../client/errors.js';
import { fromHex } from '../core/bytes.js';
import type { Cancel, Scheduler } from '../core/scheduler.js';
import type { TxView } from '../chain/views.js';
import type { Logger } from '../ledger/log.js';
import {
  fetchMemberPositions,
  fetchMembers,
  fetchSignedDown,
  fetchSignedUp,
  fetchStackParents,
  fetchUpstream,
} from './client.js';
import type { ParentLink } from './queries.js';
import type { SignedStackTxView } from './views.js';

/** What the uplink needs of each chain's API. */
export type StackEndpoint = Pick<
  HanzenetClient,
  'getJson' | 'submit' | 'getTransaction' | 'chainId'
>;

export interface UplinkOptions {
  /** Pause between rounds (default 2 s). */
  readonly intervalMs?: number;
  /** How long one posted transaction may take to become final (default 30 s). */
  readonly finalWaitMs?: number;
}

/** What one round did; `waiting` counts periods whose next step is not possible yet. */
export interface UplinkRound {
  up: number;
  down: number;
  missed: number;
  waiting: number;
  failed: number;
}

const INTERVAL_MS_DEFAULT = 2000;
const FINAL_WAIT_MS_DEFAULT = 30_000;
const PAGE = 100;
const MEMBERS_PAGE = 1000;

/** What became of a posted crossing transaction. */
type Posted =
  | { readonly kind: 'accepted' }
  | { readonly kind: 'already'; readonly code: string }
  | { readonly kind: 'refused'; readonly status: string; readonly code: string | null };

export class Uplink {
  private readonly intervalMs: number;
  private readonly finalWaitMs: number;
  private cancel: Cancel | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;
  /** Set by stop(): a round under way ends after the period it is carrying. */
  private halting = false;

  constructor(
    private readonly child: StackEndpoint,
    private readonly parent: StackEndpoint,
    private readonly scheduler: Scheduler,
    private readonly log: Logger,
    options: UplinkOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? INTERVAL_MS_DEFAULT;
    this.finalWaitMs = options.finalWaitMs ?? FINAL_WAIT_MS_DEFAULT;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.halting = false;
    this.schedule(0);
  }

  /** Stops after the round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.halting = true;
    this.cancel?.();
    this.cancel = null;
    await this.running;
  }

  /** One round over every open period of every child context with a parent on this parent chain. */
  async round(): Promise<UplinkRound> {
    const report: UplinkRound = { up: 0, down: 0, missed: 0, waiting: 0, failed: 0 };
    const childChain = await this.child.chainId();
    const parentChain = await this.parent.chainId();
    let after: string | undefined;
    for (;;) {
      const page = await fetchStackParents(this.child, parentChain, {
        limit: PAGE,
        ...(after === undefined ? {} : { after }),
      });
      for (const link of page.parents) {
        if (this.halting) return report;
        await this.carryContext(link, childChain, parentChain, report);
      }
      if (page.parents.length < PAGE) return report;
      after = page.parents[page.parents.length - 1]?.context;
    }
  }

  private async carryContext(
    link: ParentLink,
    childChain: string,
    parentChain: string,
    report: UplinkRound,
  ): Promise<void> {
    if (!(await this.isMember(link, childChain))) {
      // Posting now would burn the derived id on a member_unknown rejection: wait for the link.
      this.log.warn('the parent does not list this context as a member of this chain yet', {
        context: link.context,
        parentContext: link.parentContext,
      });
      report.waiting++;
      return;
    }
    const open = await fetchUpstream(this.child, link.context, { state: 'open', limit: PAGE });
    for (const row of open.upstream) {
      if (this.halting) return;
      const where = {
        context: link.context,
        parentContext: link.parentContext,
        periodStartMs: row.periodStartMs,
      };
      // Positions must reach the parent in period order (a later one first would make the
      // earlier one checkpoint_out_of_order), so a position that is stuck holds back the later
      // ones; a settlement that cannot come down yet holds back nothing.
      try {
        if ((await this.carryUp(link, row.periodStartMs, parentChain, report)) === 'hold') return;
      } catch (err) {
        report.failed++;
        this.log.warn('could not send a position up; trying again next round', {
          ...where,
          error: errorText(err),
        });
        return;
      }
      try {
        await this.carryDown(link, row.periodStartMs, childChain, report);
      } catch (err) {
        report.failed++;
        this.log.warn('could not bring a settlement down; trying again next round', {
          ...where,
          error: errorText(err),
        });
      }
    }
  }

  /** Whether the parent lists the context as a member linked to this child chain. */
  private async isMember(link: ParentLink, childChain: string): Promise<boolean> {
    let after: string | undefined;
    for (;;) {
      const page = await fetchMembers(this.parent, link.parentContext, {
        chain: childChain,
        limit: MEMBERS_PAGE,
        ...(after === undefined ? {} : { after }),
      });
      if (page.members.some((m) => m.member === link.context)) return true;
      if (page.members.length < MEMBERS_PAGE) return false;
      after = page.members[page.members.length - 1]?.member;
    }
  }

  /** Sends the period's position up unless the parent holds it; `hold` when the parent refused it. */
  private async carryUp(
    link: ParentLink,
    periodStartMs: number,
    parentChain: string,
    report: UplinkRound,
  ): Promise<'go_on' | 'hold'> {
    const where = { context: link.context, parentContext: link.parentContext, periodStartMs };
    const known = await fetchMemberPositions(this.parent, link.parentContext, {
      member: link.context,
      fromMs: periodStartMs,
      limit: 1,
    });
    if (known.positions[0]?.periodStartMs !== periodStartMs) {
      const up = await fetchSignedUp(this.child, link.context, periodStartMs, parentChain);
      const posted = await this.post(this.parent, up);
      if (posted.kind === 'accepted') {
        report.up++;
        this.log.info('a position went up to the parent', { ...where, id: up.id });
      } else if (posted.kind === 'refused' && isMissed(posted.code)) {
        report.missed++;
        this.log.warn('the position reached the parent after its gate closure: missed', {
          ...where,
          id: up.id,
        });
      } else if (posted.kind === 'refused') {
        report.failed++;
        this.log.error('the parent refused a position', {
          ...where,
          id: up.id,
          status: posted.status,
          code: posted.code,
        });
        return 'hold';
      }
    }
    return 'go_on';
  }

  /** Brings the period's settlement down once the parent's period is complete. */
  private async carryDown(
    link: ParentLink,
    periodStartMs: number,
    childChain: string,
    report: UplinkRound,
  ): Promise<void> {
    const where = { context: link.context, parentContext: link.parentContext, periodStartMs };
    let down: SignedStackTxView;
    try {
      down = await fetchSignedDown(
        this.parent,
        link.parentContext,
        periodStartMs,
        link.context,
        childChain,
      );
    } catch (err) {
      if (isClientError(err) && err.code === 'stack_period_incomplete') {
        report.waiting++;
        this.log.debug('the parent period is not complete yet', where);
        return;
      }
      throw err;
    }
    const posted = await this.post(this.child, down);
    if (posted.kind === 'refused') {
      report.failed++;
      this.log.error('the child refused a settlement from the parent', {
        ...where,
        id: down.id,
        status: posted.status,
        code: posted.code,
      });
      return;
    }
    report.down++;
    this.log.info('the settlement came down from the parent', {
      ...where,
      id: down.id,
      missed: (down.payload as { missed?: boolean }).missed === true,
      already: posted.kind === 'already',
    });
  }

  /** Posts a signed transaction and waits for its outcome; a copy of a known id asks for the first. */
  private async post(to: StackEndpoint, signed: SignedStackTxView): Promise<Posted> {
    let view: TxView | null = null;
    try {
      view = await to.submit(fromHex(signed.tx), { wait: true, timeoutMs: this.finalWaitMs });
    } catch (err) {
      if (!isClientError(err) || err.code !== 'tx_duplicate_id') throw err;
    }
    let copy = false;
    if (view === null || view.code === 'tx_duplicate_id') {
      // The id is known: the chain holds an earlier copy (a retry), whose outcome counts.
      copy = true;
      view = await to.getTransaction(signed.id, { wait: true, timeoutMs: this.finalWaitMs });
    }
    const code = view.code ?? null;
    if (view.status === 'accepted')
      return copy ? { kind: 'already', code: 'tx_duplicate_id' } : { kind: 'accepted' };
    if (code === 'position_exists' || code === 'upstream_already_settled')
      return { kind: 'already', code };
    return { kind: 'refused', status: view.status, code };
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.cancel = this.scheduler.after(delayMs, () => {
      this.cancel = null;
      this.running = this.round()
        .then(
          (r) => {
            if (r.up + r.down + r.missed + r.failed > 0) this.log.info('uplink round', { ...r });
          },
          (err: unknown) => {
            this.log.warn('the uplink could not reach a chain; trying again', {
              error: errorText(err),
            });
          },
        )
        .then(() => {
          this.running = null;
          this.schedule(this.intervalMs);
        });
    });
  }
}

/**
 * A position that came after the parent's gate closure: refused as `position_after_gate`, or as
 * `period_already_settled` once the parent has settled the period (which needs its gate closed).
 * Either way the parent signs the missed settlement.
 */
function isMissed(code: string | null): boolean {
  return code === 'position_after_gate' || code === 'period_already_settled';
}

function errorText(err: unknown): string {
  if (isClientError(err)) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
