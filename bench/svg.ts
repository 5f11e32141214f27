// A small SVG line-plot writer (no dependency): panels with linear or log10 axes, ticks, a grid,
// lines with point markers, dashed reference lines and a legend.

export interface Point {
  readonly x: number;
  readonly y: number;
  /** Drawn as a red cross instead of a dot (e.g. a failed run). */
  readonly bad?: boolean;
}

export interface Series {
  readonly name: string;
  readonly color: string;
  readonly points: readonly Point[];
  /** A reference line: dashed, no markers. */
  readonly dashed?: boolean;
}

export interface PanelSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xLog: boolean;
  readonly yLog: boolean;
  /** Forces the y range to include 0 (linear axes only). */
  readonly yFromZero?: boolean;
  readonly series: readonly Series[];
}

export function escapeXml(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/\.?0+$/, '');
}

/** A readable tick label: 1000 -> "1k", 0.5 -> "0.5". */
export function tickLabel(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 1e6) return `${fmt(v / 1e6)}M`;
  if (abs >= 1e3) return `${fmt(v / 1e3)}k`;
  if (abs >= 1 || v === 0) return fmt(v);
  return String(Number(v.toPrecision(2)));
}

interface Axis {
  readonly min: number;
  readonly max: number;
  readonly log: boolean;
  readonly ticks: number[];
}

function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

function makeAxis(values: readonly number[], log: boolean, fromZero: boolean): Axis {
  const usable = values.filter((v) => Number.isFinite(v) && (!log || v > 0));
  if (log) {
    const lo = usable.length === 0 ? 1 : Math.min(...usable);
    const hi = usable.length === 0 ? 10 : Math.max(...usable);
    const min = 10 ** Math.floor(Math.log10(lo));
    let max = 10 ** Math.ceil(Math.log10(hi));
    if (max <= min) max = min * 10;
    const ticks: number[] = [];
    const decades = Math.round(Math.log10(max / min));
    for (let e = Math.log10(min); e <= Math.log10(max) + 1e-9; e++) {
      for (const m of decades <= 2 ? [1, 2, 5] : [1]) {
        const v = m * 10 ** e;
        if (v >= min * 0.999 && v <= max * 1.001) ticks.push(v);
      }
    }
    return { min, max, log, ticks };
  }
  let lo = usable.length === 0 ? 0 : Math.min(...usable);
  let hi = usable.length === 0 ? 1 : Math.max(...usable);
  if (fromZero) lo = Math.min(0, lo);
  if (hi <= lo) hi = lo + 1;
  const step = niceStep(hi - lo, 5);
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let v = min; v <= max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { min, max, log, ticks };
}

function scale(axis: Axis, v: number, from: number, to: number): number {
  const t = axis.log
    ? (Math.log10(v) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min))
    : (v - axis.min) / (axis.max - axis.min);
  return from + t * (to - from);
}

/** One panel as an SVG group, drawn into the box (x, y, width, height). */
export function panel(
  spec: PanelSpec,
  box: { x: number; y: number; width: number; height: number },
): string {
  const left = box.x + 64;
  const right = box.x + box.width - 16;
  const top = box.y + 36;
  const bottom = box.y + box.height - 84;
  const xs = spec.series.flatMap((s) => s.points.map((p) => p.x));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p.y));
  const xAxis = makeAxis(xs, spec.xLog, false);
  const yAxis = makeAxis(ys, spec.yLog, spec.yFromZero === true);
  const px = (v: number): number => scale(xAxis, v, left, right);
  const py = (v: number): number => scale(yAxis, v, bottom, top);
  const out: string[] = [];
  out.push(`<g font-family="sans-serif" font-size="12" fill="#222">`);
  out.push(
    `<text x="${box.x + box.width / 2}" y="${box.y + 20}" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(spec.title)}</text>`,
  );
  for (const t of xAxis.ticks) {
    const x = px(t).toFixed(1);
    out.push(`<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" stroke="#e4e4e4"/>`);
    out.push(
      `<text x="${x}" y="${bottom + 16}" text-anchor="middle">${escapeXml(tickLabel(t))}</text>`,
    );
  }
  for (const t of yAxis.ticks) {
    const y = py(t).toFixed(1);
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(
      `<text x="${left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${escapeXml(tickLabel(t))}</text>`,
    );
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#666"/>`,
  );
  out.push(
    `<text x="${(left + right) / 2}" y="${bottom + 36}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
  );
  out.push(
    `<text transform="translate(${box.x + 16} ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  );
  const inRange = (p: Point): boolean =>
    Number.isFinite(p.x) &&
    Number.isFinite(p.y) &&
    (!xAxis.log || p.x > 0) &&
    (!yAxis.log || p.y > 0);
  for (const s of spec.series) {
    const pts = s.points
      .filter(inRange)
      .slice()
      .sort((a, b) => a.x - b.x);
    if (pts.length === 0) continue;
    const path = pts
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
      .join(' ');
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<path d="${path}" fill="none" stroke="${escapeXml(s.color)}" stroke-width="${s.dashed === true ? 1.5 : 2.5}"${dash}/>`,
    );
    if (s.dashed === true) continue;
    for (const p of pts) {
      const x = px(p.x);
      const y = py(p.y);
      if (p.bad === true) {
        out.push(
          `<path d="M${(x - 5).toFixed(1)},${(y - 5).toFixed(1)} L${(x + 5).toFixed(1)},${(y + 5).toFixed(1)} M${(x - 5).toFixed(1)},${(y + 5).toFixed(1)} L${(x + 5).toFixed(1)},${(y - 5).toFixed(1)}" stroke="#d00" stroke-width="2.5"/>`,
        );
      } else {
        out.push(
          `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${escapeXml(s.color)}"/>`,
        );
      }
    }
  }
  // Legend below the plot, wrapping into rows of two.
  spec.series.forEach((s, i) => {
    const lx = left + (i % 2) * ((right - left) / 2);
    const ly = bottom + 54 + Math.floor(i / 2) * 16;
    const dash = s.dashed === true ? ' stroke-dasharray="6 4"' : '';
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="${escapeXml(s.color)}" stroke-width="2.5"${dash}/>`,
    );
    out.push(`<text x="${lx + 28}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** A whole document: panels side by side, a caption line at the bottom. */
export function svgDocument(
  panels: readonly PanelSpec[],
  opts: { panelWidth?: number; panelHeight?: number; caption?: string } = {},
): string {
  const w = opts.panelWidth ?? 520;
  const h = opts.panelHeight ?? 420;
  const captionHeight = opts.caption === undefined ? 0 : 24;
  const width = w * panels.length;
  const height = h + captionHeight;
  const body = panels.map((p, i) => panel(p, { x: i * w, y: 0, width: w, height: h }));
  if (opts.caption !== undefined) {
    body.push(
      `<text x="${width / 2}" y="${h + 16}" text-anchor="middle" font-family="sans-serif" font-size="11" fill="#555">${escapeXml(opts.caption)}</text>`,
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
