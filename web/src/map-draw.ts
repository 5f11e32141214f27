// Drawing the community map on a canvas. The still part (flow lines, households, labels) is drawn
// once per change into an offscreen canvas; each animation frame copies it and draws the moving
// dots, one path per colour, so a thousand households and their flows stay cheap to animate.

import { approximate } from './decimal.js';
import {
  GRID_POINT,
  MAP_SIZE,
  POOL_POINT,
  type FlowClass,
  type Household,
  type MapFlow,
  nameOf,
} from './map-model.js';

export const COLORS = {
  background: '#f6f8f5',
  consumed: '#2f4f9e',
  produced: '#c27c0e',
  house: '#1f2933',
  label: '#1f2933',
  solar: '#f2b705',
  local: '#1e7b34',
  external: '#c62828',
} as const;

/** Canvas pixels around the households' area; the grid point sits in the top-left margin. */
const PAD_PX = 44;
const DOT_PERIOD_MS = 2400;
const DOTS_PER_FLOW_MAX = 6;
/** Dots in flight over the whole map: many flows get one dot each, few flows several. */
const DOTS_TOTAL_MAX = 1500;
/** Above this many flows the dots get smaller, so that the households stay visible. */
const CROWDED_FLOWS = 300;
const LABELS_MAX = 80;

export interface Viewport {
  readonly widthPx: number;
  readonly heightPx: number;
  readonly scale: number;
}

export function viewportOf(widthPx: number, heightPx: number): Viewport {
  return { widthPx, heightPx, scale: Math.min(widthPx, heightPx) - 2 * PAD_PX };
}

export function toPx(v: Viewport, p: { x: number; y: number }): { x: number; y: number } {
  const offsetX = (v.widthPx - v.scale) / 2;
  const offsetY = (v.heightPx - v.scale) / 2;
  if (p === GRID_POINT) return { x: 22, y: 22 };
  return { x: offsetX + (p.x / MAP_SIZE) * v.scale, y: offsetY + (p.y / MAP_SIZE) * v.scale };
}

/** The largest half-disc radius: households must not cover each other. */
function radiusMaxPx(v: Viewport, count: number): number {
  const spacing = (v.scale / Math.sqrt(Math.max(1, count))) * 0.42;
  return Math.max(3, Math.min(26, v.scale * 0.05, spacing));
}

/** A flow in canvas pixels, with its number of dots: computed once, animated every frame. */
interface Segment {
  readonly ax: number;
  readonly ay: number;
  readonly bx: number;
  readonly by: number;
  readonly dots: number;
  readonly offset: number;
  readonly radius: number;
  readonly cls: FlowClass;
}

export interface StillPicture {
  readonly canvas: HTMLCanvasElement;
  readonly points: readonly { x: number; y: number; r: number; address: string }[];
  readonly segments: readonly Segment[];
}

export function drawStill(
  v: Viewport,
  dpr: number,
  households: readonly Household[],
  flows: readonly MapFlow[],
): StillPicture {
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(v.widthPx * dpr);
  canvas.height = Math.round(v.heightPx * dpr);
  const g = canvas.getContext('2d');
  if (g === null) throw new Error('no 2d canvas context');
  g.scale(dpr, dpr);
  g.fillStyle = COLORS.background;
  g.fillRect(0, 0, v.widthPx, v.heightPx);
  drawFlowLines(g, v, flows);
  drawGridPoint(g);
  if (flows.some((f) => f.from === POOL_POINT || f.to === POOL_POINT)) drawPool(g, v);
  const points = drawHouseholds(g, v, households);
  const perFlowMax = Math.max(1, Math.floor(DOTS_TOTAL_MAX / Math.max(1, flows.length)));
  const radius = flows.length > CROWDED_FLOWS ? 2.5 : 4;
  const segments = flows.map((f, i): Segment => {
    const a = toPx(v, f.from);
    const b = toPx(v, f.to);
    return {
      ax: a.x,
      ay: a.y,
      bx: b.x,
      by: b.y,
      dots: Math.min(perFlowMax, dotsOf(f.kwh)),
      offset: (i % 7) / 29,
      radius,
      cls: f.cls,
    };
  });
  return { canvas, points, segments };
}

function drawFlowLines(g: CanvasRenderingContext2D, v: Viewport, flows: readonly MapFlow[]): void {
  g.lineWidth = 1;
  for (const cls of ['external', 'local', 'solar'] as const) {
    g.strokeStyle = cls === 'external' ? 'rgba(198,40,40,0.22)' : 'rgba(30,123,52,0.25)';
    g.beginPath();
    for (const f of flows) {
      if (f.cls !== cls) continue;
      const a = toPx(v, f.from);
      const b = toPx(v, f.to);
      g.moveTo(a.x, a.y);
      g.lineTo(b.x, b.y);
    }
    g.stroke();
  }
}

function drawGridPoint(g: CanvasRenderingContext2D): void {
  g.fillStyle = COLORS.external;
  g.beginPath();
  g.moveTo(22, 8);
  g.lineTo(36, 34);
  g.lineTo(8, 34);
  g.closePath();
  g.fill();
  g.fillStyle = COLORS.label;
  g.font = '600 12px system-ui, sans-serif';
  g.fillText('Grid', 42, 28);
}

/** The community's pool, where flows meet when the server lists no flows per pair. */
function drawPool(g: CanvasRenderingContext2D, v: Viewport): void {
  const p = toPx(v, POOL_POINT);
  g.fillStyle = '#ffffff';
  g.strokeStyle = COLORS.local;
  g.lineWidth = 2;
  g.beginPath();
  g.arc(p.x, p.y, 9, 0, Math.PI * 2);
  g.fill();
  g.stroke();
  g.fillStyle = COLORS.local;
  g.font = '600 12px system-ui, sans-serif';
  g.textAlign = 'center';
  g.fillText('Community', p.x, p.y - 14);
  g.textAlign = 'start';
}

function drawHouseholds(
  g: CanvasRenderingContext2D,
  v: Viewport,
  households: readonly Household[],
): StillPicture['points'] {
  const rMax = radiusMaxPx(v, households.length);
  let most = 0;
  for (const h of households)
    most = Math.max(most, approximate(h.producedKwh), approximate(h.consumedKwh));
  const radius = (kwh: string): number =>
    most <= 0 ? 0 : Math.sqrt(approximate(kwh) / most) * rMax;
  const points: { x: number; y: number; r: number; address: string }[] = [];
  const dot = Math.max(1.5, Math.min(3.5, rMax / 5));
  for (const [color, side, pick] of [
    [COLORS.consumed, 0, (h: Household) => h.consumedKwh],
    [COLORS.produced, 1, (h: Household) => h.producedKwh],
  ] as const) {
    g.fillStyle = color;
    g.beginPath();
    for (const h of households) {
      const p = toPx(v, h);
      const r = radius(pick(h));
      if (r <= 0) continue;
      // Consumption the left half, production the right half of one disc.
      const start = side === 0 ? Math.PI / 2 : -Math.PI / 2;
      g.moveTo(p.x, p.y);
      g.arc(p.x, p.y, r, start, start + Math.PI);
      g.closePath();
    }
    g.fill();
  }
  g.fillStyle = '#ffffff';
  g.strokeStyle = COLORS.house;
  g.lineWidth = 1.2;
  g.beginPath();
  for (const h of households) {
    const p = toPx(v, h);
    g.moveTo(p.x + dot, p.y);
    g.arc(p.x, p.y, dot, 0, Math.PI * 2);
    points.push({
      x: p.x,
      y: p.y,
      r: Math.max(dot + 2, radius(h.consumedKwh)),
      address: h.address,
    });
  }
  g.fill();
  g.stroke();
  if (households.length <= LABELS_MAX) {
    g.fillStyle = COLORS.label;
    g.font = '12px system-ui, sans-serif';
    g.textAlign = 'center';
    for (const h of households) {
      const p = toPx(v, h);
      g.fillText(nameOf(h), p.x, p.y + Math.max(rMax, 8) + 12);
    }
  }
  return points;
}

/** How many dots travel along a flow: more for more energy, at most DOTS_PER_FLOW_MAX. */
function dotsOf(kwh: string): number {
  return Math.min(DOTS_PER_FLOW_MAX, 1 + Math.floor(Math.log2(1 + approximate(kwh) * 2)));
}

export function drawFrame(
  g: CanvasRenderingContext2D,
  dpr: number,
  still: StillPicture,
  nowMs: number,
): void {
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.drawImage(still.canvas, 0, 0);
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  const phase = (nowMs % DOT_PERIOD_MS) / DOT_PERIOD_MS;
  for (const cls of ['external', 'local', 'solar'] as FlowClass[]) {
    g.beginPath();
    for (const f of still.segments) {
      if (f.cls !== cls) continue;
      for (let k = 0; k < f.dots; k++) {
        const t = (phase + k / f.dots + f.offset) % 1;
        const x = f.ax + (f.bx - f.ax) * t;
        const y = f.ay + (f.by - f.ay) * t;
        g.moveTo(x + f.radius, y);
        g.arc(x, y, f.radius, 0, Math.PI * 2);
      }
    }
    g.fillStyle =
      cls === 'external' ? COLORS.external : cls === 'solar' ? COLORS.solar : COLORS.local;
    g.fill();
    if (cls === 'solar') {
      g.strokeStyle = COLORS.local;
      g.lineWidth = 1.5;
      g.stroke();
    }
  }
}
