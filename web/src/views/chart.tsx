// A uPlot chart in a Preact component: built once per data change, resized with its box. The
// numbers it plots are approximations of the exact strings, which the tables beside it show.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
  readonly values: readonly (number | null)[];
  readonly dash?: readonly number[];
  readonly bars?: boolean;
}

export function Chart(props: {
  title: string;
  unit: string;
  xsMs: readonly number[];
  series: readonly ChartSeries[];
  /** The length of one group (period, day, month): a single group is shown that wide. */
  groupMs: number;
  testId?: string;
}) {
  const { title, unit, xsMs, series, groupMs, testId } = props;
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null || xsMs.length === 0) return;
    const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
    const firstS = Math.min(...xsMs) / 1000;
    const lastS = Math.max(...xsMs) / 1000;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Europe/Amsterdam'),
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        // Half a group of room on either side of the first and last group, from the data itself:
        // a single group is one group wide (not the years uPlot would choose for one point), and
        // the first and last bars are whole.
        x: { time: true, range: [firstS - groupMs / 2000, lastS + groupMs / 2000] },
      },
      axes: [
        { stroke: '#3b4754', grid: { stroke: '#e3e8ec' } },
        {
          stroke: '#3b4754',
          grid: { stroke: '#e3e8ec' },
          label: unit,
          labelSize: 18,
          size: 56,
          values: (_u, ticks) => ticks.map((t) => `${+t.toFixed(3)}`),
        },
      ],
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          ...(s.dash === undefined ? {} : { dash: [...s.dash] }),
          ...(s.bars === true && bars !== undefined ? { paths: bars, fill: `${s.color}cc` } : {}),
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${+v.toFixed(6)} ${unit}`),
        })),
      ],
    };
    const data: uPlot.AlignedData = [
      xsMs.map((ms) => ms / 1000),
      ...series.map((s) => [...s.values]),
    ];
    const plot = new uPlot(opts, data, el);
    const observer = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 }),
    );
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [xsMs, series, unit, groupMs]);
  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      {xsMs.length === 0 ? <p class="muted">Nothing settled yet.</p> : <div ref={box} />}
    </figure>
  );
}
