// The community's figures (GET .../market/figures?group=&tz=Europe/Amsterdam): self-sufficiency
// and self-consumption, import and export, the peak import, and the local clearing prices against
// the supplier's, as charts, with the exact figures of the whole range in a table.

import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { approximate, percentOf } from '../decimal.js';
import { eur, eurPerKwh, fmtDateTime, kwh } from '../format.js';
import { useLoad } from '../hooks.js';
import type { Live } from '../live.js';
import type { FiguresAnswer } from '../types.js';
import { Chart, type ChartSeries } from './chart.js';
import { type Group, GroupPicker, groupMsOf, windowFromMs } from './group-picker.js';

export function CommunityView({ context, live }: { context: string; live: Live }) {
  const [group, setGroup] = useState<Group>('day');
  const figures = useLoad(
    () => api.figures(context, { group, from: windowFromMs(group, Date.now()) }),
    [context, group, live.settled],
  );
  return (
    <div class="stack-col">
      <section class="card">
        <h1>Community figures</h1>
        <GroupPicker value={group} onChange={setGroup} />
        {figures.state === 'failed' && <p class="error">{figures.error}</p>}
      </section>
      {figures.value !== null && <Totals answer={figures.value} />}
      {figures.value !== null && <Charts answer={figures.value} groupMs={groupMsOf(group)} />}
    </div>
  );
}

function Totals({ answer }: { answer: FiguresAnswer }) {
  const t = answer.totals;
  const rows: [string, string, string][] = [
    ['Self-sufficiency', 'selfSufficiency', percentOf(t.selfSufficiency)],
    ['Self-consumption', 'selfConsumption', percentOf(t.selfConsumption)],
    ['Consumed', 'consumedKwh', kwh(t.consumedKwh)],
    ['Produced', 'producedKwh', kwh(t.producedKwh)],
    ['Traded locally', 'boughtKwh', `${kwh(t.boughtKwh)} for ${eur(t.boughtEur)}`],
    ['Imported', 'suppliedKwh', `${kwh(t.suppliedKwh)} for ${eur(t.suppliedEur)}`],
    ['Exported', 'exportedKwh', `${kwh(t.exportedKwh)} for ${eur(t.exportedEur)}`],
    [
      'Peak import',
      'peakImport',
      t.peakImport === null
        ? 'none'
        : `${kwh(t.peakImport.kwh)} at ${fmtDateTime(t.peakImport.periodStartMs)}`,
    ],
    [
      'Local price (avg)',
      'localAvg',
      t.prices.local === null ? '–' : eurPerKwh(t.prices.local.avgEurPerKwh),
    ],
    [
      'Supply price (avg)',
      'supplyAvg',
      t.prices.supply === null ? '–' : eurPerKwh(t.prices.supply.avgEurPerKwh),
    ],
  ];
  return (
    <section class="card">
      <h2>
        Over {t.periods} settled period{t.periods === 1 ? '' : 's'}
      </h2>
      <dl class="figures" data-testid="community-totals">
        {rows.map(([name, field, value]) => (
          <div key={field}>
            <dt>{name}</dt>
            <dd data-field={field}>{value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Charts({ answer, groupMs }: { answer: FiguresAnswer; groupMs: number }) {
  const charts = useMemo(() => {
    const g = answer.groups;
    const xs = g.map((x) => x.startMs);
    const share = (v: string | null): number | null => (v === null ? null : approximate(v) * 100);
    const shares: ChartSeries[] = [
      {
        label: 'Self-sufficiency',
        color: '#1e7b34',
        values: g.map((x) => share(x.selfSufficiency)),
      },
      {
        label: 'Self-consumption',
        color: '#c27c0e',
        values: g.map((x) => share(x.selfConsumption)),
        dash: [6, 4],
      },
    ];
    const energy: ChartSeries[] = [
      { label: 'Consumed', color: '#2f4f9e', values: g.map((x) => approximate(x.consumedKwh)) },
      { label: 'Imported', color: '#c62828', values: g.map((x) => approximate(x.suppliedKwh)) },
      {
        label: 'Exported',
        color: '#7b1fa2',
        values: g.map((x) => approximate(x.exportedKwh)),
        dash: [6, 4],
      },
      { label: 'Traded locally', color: '#1e7b34', values: g.map((x) => approximate(x.boughtKwh)) },
    ];
    const price = (r: { avgEurPerKwh: string } | null): number | null =>
      r === null ? null : approximate(r.avgEurPerKwh);
    const prices: ChartSeries[] = [
      { label: 'Local (avg)', color: '#1e7b34', values: g.map((x) => price(x.prices.local)) },
      { label: 'Supply (avg)', color: '#c62828', values: g.map((x) => price(x.prices.supply)) },
      {
        label: 'Feed-in (avg)',
        color: '#5f6b76',
        values: g.map((x) => price(x.prices.feedIn)),
        dash: [4, 4],
      },
    ];
    return { xs, shares, energy, prices };
  }, [answer]);
  return (
    <div class="grid-charts">
      <section class="card">
        <Chart
          title="Self-sufficiency and self-consumption"
          unit="%"
          xsMs={charts.xs}
          groupMs={groupMs}
          series={charts.shares}
          testId="chart-shares"
        />
      </section>
      <section class="card">
        <Chart
          title="Consumption, import and export"
          unit="kWh"
          xsMs={charts.xs}
          groupMs={groupMs}
          series={charts.energy}
          testId="chart-energy"
        />
      </section>
      <section class="card">
        <Chart
          title="Local clearing prices against the supplier's"
          unit="EUR/kWh"
          xsMs={charts.xs}
          groupMs={groupMs}
          series={charts.prices}
          testId="chart-prices"
        />
      </section>
    </div>
  );
}
