// Who a difference belongs to (docs/meter.md "Reconciliation", docs/decisions/0011-local-market.md):
// the trader the meter's device was registered to when the energy was metered, not the trader it
// has now. A device's registrations are the accepted Producer or Consumer transactions that named
// it (GET .../devices/:address/registrations); one processed at block time T governs the energy
// metered after T, until the next one (the first also governs what was metered before it). A difference over a grid interval (startMs, endMs] is cut
// at every registration change inside it and shared over the pieces in proportion to their
// length; each piece is then split over the market periods it overlaps with the market's own
// splitByPeriods. Pure functions; every Wh of a difference lands in exactly one share.

import { MARKET_SPLIT_PERIODS_MAX } from '../../energy/codes.js';
import { splitByPeriods } from '../../energy/market/booking.js';
import { shareByWeight } from '../../energy/market/share.js';
import type { DeviceRegistrationView } from '../../energy/views.js';

/** A registration in force for the instants after `fromMs` until the next one's `fromMs`. */
export interface RegistrationSpan {
  readonly fromMs: number;
  /** null: the device was not registered (removed). */
  readonly trader: string | null;
  readonly labels: readonly string[];
}

/** One part of a difference: the Wh (signed, like the difference) of one period and trader. */
export interface AttributedShare {
  readonly periodStartMs: number;
  /** null: metered while the device was not registered; nobody to book it to. */
  readonly trader: string | null;
  readonly labels: readonly string[];
  readonly wh: bigint;
}

/** The device's registrations in one role as spans, oldest first. */
export function registrationSpans(
  registrations: readonly DeviceRegistrationView[],
  role: 'producer' | 'consumer',
): RegistrationSpan[] {
  return registrations
    .filter((r) => r.role === role)
    .map((r) => ({ fromMs: r.processedMs, trader: r.allowed ? r.trader : null, labels: r.labels }));
}

/**
 * The registration that governs the instant `ms`: the last one processed before it. Energy metered
 * before the device's first registration (a gateway's backlog sent after the meter was registered)
 * was booked to that first registration's trader, and so belongs to it; null only for a device
 * never registered, or removed at that time.
 */
export function spanAt(spans: readonly RegistrationSpan[], ms: number): RegistrationSpan | null {
  let found: RegistrationSpan | null = spans[0] ?? null;
  for (const s of spans) if (s.fromMs < ms) found = s;
  return found;
}

/** The interval (startMs, endMs] cut at every registration change inside it. */
function pieces(
  spans: readonly RegistrationSpan[],
  startMs: number,
  endMs: number,
): { fromMs: number; toMs: number; span: RegistrationSpan | null }[] {
  const cuts = spans.map((s) => s.fromMs).filter((t) => t > startMs && t < endMs);
  const bounds = [startMs, ...new Set(cuts), endMs];
  const out: { fromMs: number; toMs: number; span: RegistrationSpan | null }[] = [];
  for (let i = 0; i + 1 < bounds.length; i += 1) {
    const fromMs = bounds[i] as number;
    const toMs = bounds[i + 1] as number;
    out.push({ fromMs, toMs, span: spanAt(spans, toMs) });
  }
  return out;
}

/**
 * Attributes `wh` (signed) metered in (startMs, endMs] to the periods of `periodMs` and the
 * traders of its time. Shares of the same period, trader and labels are merged; shares of 0 Wh are
 * left out; the shares add up to `wh` exactly.
 */
export function attributeInterval(
  startMs: number,
  endMs: number,
  wh: bigint,
  spans: readonly RegistrationSpan[],
  periodMs: number,
): AttributedShare[] {
  const sign = wh < 0n ? -1n : 1n;
  const parts = pieces(spans, startMs, endMs);
  const byPiece = shareByWeight(
    wh * sign,
    parts.map((p) => BigInt(p.toMs - p.fromMs)),
  );
  const merged = new Map<string, AttributedShare>();
  parts.forEach((p, i) => {
    const pieceWh = byPiece[i] as bigint;
    if (pieceWh === 0n) return;
    const periods = splitByPeriods(
      BigInt(p.fromMs),
      BigInt(p.toMs),
      BigInt(periodMs),
      pieceWh,
      BigInt(MARKET_SPLIT_PERIODS_MAX),
    );
    for (const share of periods) {
      const trader = p.span?.trader ?? null;
      const labels = p.span?.labels ?? [];
      const key = `${share.startMs}|${trader}|${labels.join(',')}`;
      const before = merged.get(key)?.wh ?? 0n;
      merged.set(key, {
        periodStartMs: Number(share.startMs),
        trader,
        labels,
        wh: before + share.wh * sign,
      });
    }
  });
  return [...merged.values()];
}
