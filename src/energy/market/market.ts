// Market (ours; docs/decisions/0011-local-market.md): the context owner turns the local market on
// or off and chooses how it runs. While it is on, Energy books metered energy into the market
// period in which it was metered (periods of `periodSeconds`, aligned to UTC), and each period is
// settled after its gate closure: locally first (the double auction and/or the community
// allocation), then externally. The period length cannot change while a booked period is not
// settled yet, so a period's length never changes under it.

import { defineContract } from '../../contracts/authoring/define.js';
import type { ContractContext, ContractResult } from '../../contracts/authoring/define.js';
import type { EnergyRejectCodeName } from '../codes.js';
import { energyManifest } from '../tables.js';

export interface MarketPayload {
  readonly context: string;
  readonly on: boolean;
  readonly periodSeconds?: number;
  readonly gateClosureSeconds?: number;
  readonly auction?: boolean;
  readonly allocation?: boolean;
}

/** The codes Market rejects with (src/energy/codes.ts says what each means). */
const REJECTS = [
  'not_context_owner',
  'market_period_length_invalid',
  'gate_closure_invalid',
  'market_mode_invalid',
  'market_periods_open',
] as const satisfies readonly EnergyRejectCodeName[];
type MarketRejectCode = (typeof REJECTS)[number];

export default defineContract({
  type: 'Market',
  version: '1.0',
  description:
    'Turns the local market of a context on or off and sets its period, gate closure and clearing. Only the context owner.',
  template: {
    context: {
      type: 'addr',
      name: 'context',
      desc: 'The context address (its key holder is the owner)',
    },
    on: {
      type: 'bool',
      name: 'on',
      desc: 'true turns the market on (or changes its settings), false turns it off',
    },
    periodSeconds: {
      type: 'uint?',
      name: 'periodSeconds',
      desc: 'Seconds per period, a divisor of 86400 of at least 60 (default: unchanged, at first 900)',
    },
    gateClosureSeconds: {
      type: 'uint?',
      name: 'gateClosureSeconds',
      desc: 'How long after its end a period may be settled, at most 86400 (default: unchanged, at first 300)',
    },
    auction: {
      type: 'bool?',
      name: 'auction',
      desc: 'Clear orders in a double auction (default: unchanged, at first false)',
    },
    allocation: {
      type: 'bool?',
      name: 'allocation',
      desc: 'Allocate what is left to the community (default: unchanged, at first true)',
    },
  },
  manifest: energyManifest(['energy_market_settings', 'energy_market_periods'], []),
  rejects: REJECTS,
  execute: function execute(
    payload: MarketPayload,
    ctx: ContractContext<MarketRejectCode>,
  ): ContractResult {
    const DAY_SECONDS = 86400;
    const PERIOD_SECONDS_MIN = 60;
    const context = payload.context;
    if (ctx.sender !== context) {
      return ctx.reject(
        'not_context_owner',
        `only the owner of context ${context} may turn its market on or off; the sender is ${ctx.sender}`,
      );
    }
    // A setting left out keeps its current value (its default when the market was never set).
    const current = ctx.db.get('energy_market_settings', { context });
    const seconds =
      payload.periodSeconds !== undefined
        ? payload.periodSeconds
        : current === null
          ? 900
          : Number((current['period_ms'] as bigint) / 1000n);
    const gateSeconds =
      payload.gateClosureSeconds !== undefined
        ? payload.gateClosureSeconds
        : current === null
          ? 300
          : Number((current['gate_closure_ms'] as bigint) / 1000n);
    const auction =
      payload.auction !== undefined
        ? payload.auction
        : current === null
          ? false
          : current['auction'] === true;
    const allocation =
      payload.allocation !== undefined
        ? payload.allocation
        : current === null
          ? true
          : current['allocation'] === true;
    if (seconds < PERIOD_SECONDS_MIN || seconds > DAY_SECONDS || DAY_SECONDS % seconds !== 0) {
      return ctx.reject(
        'market_period_length_invalid',
        `periodSeconds ${seconds} is not allowed for the market of context ${context}: use a divisor of ${DAY_SECONDS} of at least ${PERIOD_SECONDS_MIN}, such as 900 for 15 minutes`,
      );
    }
    if (gateSeconds > DAY_SECONDS) {
      return ctx.reject(
        'gate_closure_invalid',
        `gateClosureSeconds ${gateSeconds} for context ${context} is more than a day (${DAY_SECONDS})`,
      );
    }
    if (payload.on && !auction && !allocation) {
      return ctx.reject(
        'market_mode_invalid',
        `the market of context ${context} needs a way to clear locally: turn on auction, allocation or both`,
      );
    }
    const periodMs = BigInt(seconds) * 1000n;
    if (current !== null && current['period_ms'] !== periodMs) {
      const open = ctx.db.find('energy_market_periods', { context, settled: false }, 1)[0];
      if (open !== undefined) {
        return ctx.reject(
          'market_periods_open',
          `the period length of context ${context} cannot change from ${(current['period_ms'] as bigint) / 1000n} s while the period starting at ${open['period_start_ms']} is not settled`,
        );
      }
    }
    ctx.db.put('energy_market_settings', {
      context,
      market_on: payload.on,
      period_ms: periodMs,
      gate_closure_ms: BigInt(gateSeconds) * 1000n,
      auction,
      allocation,
      changed_height: BigInt(ctx.block.height),
    });
    return 'OK';
  },
});
