// What the community map shows, computed from the API's answers: where each household stands
// (the owner's places, or an automatic layout), its production and consumption in the selected
// period, and the flows of that period between households and the outside. Pure functions.

import { approximate } from './decimal.js';
import type { EnergyContextView, Flow, Place, Statement } from './types.js';

/** The schematic map's extent (places use 0..10000 both ways). */
export const MAP_SIZE = 10_000;
/** Where the outside (supplier, grid) stands: top left, outside the households' area. */
export const GRID_POINT = { x: -600, y: -600 } as const;
/** Where the community's pool stands when flows are shown per household only (no flows route). */
export const POOL_POINT = { x: MAP_SIZE / 2, y: MAP_SIZE / 2 } as const;

export interface Household {
  readonly address: string;
  readonly label: string | null;
  readonly x: number;
  readonly y: number;
  readonly solar: boolean;
  readonly producedKwh: string;
  readonly consumedKwh: string;
}

export type FlowClass = 'solar' | 'local' | 'external';

export interface MapFlow {
  readonly from: { readonly x: number; readonly y: number };
  readonly to: { readonly x: number; readonly y: number };
  readonly fromName: string;
  readonly toName: string;
  readonly kwh: string;
  readonly kind: string;
  readonly cls: FlowClass;
}

const GOLDEN_ANGLE = Math.PI * (3 - Math.sqrt(5));

/** A sunflower layout: even spacing for any number of households, stable by address order. */
export function autoLayout(count: number, index: number): { x: number; y: number } {
  const r = Math.sqrt((index + 0.5) / Math.max(1, count)) * (MAP_SIZE * 0.46);
  const a = index * GOLDEN_ANGLE;
  return { x: MAP_SIZE / 2 + r * Math.cos(a), y: MAP_SIZE / 2 + r * Math.sin(a) };
}

export function householdsOf(
  ctx: EnergyContextView,
  places: readonly Place[],
  statements: readonly Statement[],
): Household[] {
  const placed = new Map(places.map((p) => [p.member, p]));
  const byTrader = new Map(statements.map((s) => [s.trader, s]));
  const solar = new Set(
    ctx.producers.filter((p) => p.labels.includes('solar')).map((p) => p.trader),
  );
  const traders = ctx.traders.map((t) => t.address);
  const unplaced = new Map(traders.filter((t) => !placed.has(t)).map((t, i) => [t, i]));
  return traders.map((address) => {
    const place = placed.get(address);
    const at = place ?? autoLayout(unplaced.size, unplaced.get(address) ?? 0);
    const s = byTrader.get(address);
    return {
      address,
      label: place?.label ?? null,
      x: at.x,
      y: at.y,
      solar: solar.has(address),
      producedKwh: s?.producedKwh ?? '0',
      consumedKwh: s?.consumedKwh ?? '0',
    };
  });
}

const LOCAL_KINDS = new Set(['auction', 'allocation']);

function classOf(f: Flow, external: boolean): FlowClass {
  const local = f.scope === undefined ? LOCAL_KINDS.has(f.kind) : f.scope === 'local';
  if (external || !local) return 'external';
  return f.labels.includes('solar') ? 'solar' : 'local';
}

/** The flows route's rows placed on the map (a party that is no household is the outside). */
export function flowsOf(rows: readonly Flow[], households: readonly Household[]): MapFlow[] {
  const at = new Map(households.map((h) => [h.address, h]));
  const out: MapFlow[] = [];
  for (const f of rows) {
    // A household's own production used by itself goes nowhere on the map.
    if (approximate(f.kwh) <= 0 || f.kind === 'own' || f.seller === f.buyer) continue;
    const from = f.seller === null ? undefined : at.get(f.seller);
    const to = f.buyer === null ? undefined : at.get(f.buyer);
    if (from === undefined && to === undefined) continue;
    out.push({
      from: from ?? GRID_POINT,
      to: to ?? GRID_POINT,
      fromName: from === undefined ? 'outside' : nameOf(from),
      toName: to === undefined ? 'outside' : nameOf(to),
      kwh: f.kwh,
      kind: f.kind,
      cls: classOf(f, from === undefined || to === undefined),
    });
  }
  return out;
}

/**
 * Without the flows route, the statements still say what each household sold and bought locally
 * and what it took from or gave to the outside: local energy is drawn through the community's
 * pool in the middle, external energy from and to the grid point.
 */
export function flowsFromStatements(
  statements: readonly Statement[],
  households: readonly Household[],
): MapFlow[] {
  const at = new Map(households.map((h) => [h.address, h]));
  const out: MapFlow[] = [];
  for (const s of statements) {
    const h = at.get(s.trader);
    if (h === undefined) continue;
    const local: FlowClass = h.solar ? 'solar' : 'local';
    const add = (kwh: string, kind: string, cls: FlowClass, toPool: boolean, outside: boolean) => {
      if (approximate(kwh) <= 0) return;
      const other = outside ? GRID_POINT : POOL_POINT;
      const otherName = outside ? 'outside' : 'community';
      out.push({
        from: toPool ? h : other,
        to: toPool ? other : h,
        fromName: toPool ? nameOf(h) : otherName,
        toName: toPool ? otherName : nameOf(h),
        kwh,
        kind,
        cls,
      });
    };
    add(s.soldKwh, 'sold locally', local, true, false);
    add(s.boughtKwh, 'bought locally', 'local', false, false);
    add(s.suppliedKwh, 'supply', 'external', false, true);
    add(s.exportedKwh, 'export', 'external', true, true);
  }
  return out;
}

export function nameOf(h: Pick<Household, 'label' | 'address'>): string {
  return h.label ?? `${h.address.slice(0, 6)}…`;
}
