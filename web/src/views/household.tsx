// A household's page: what it produced and consumed, how much of its consumption the community
// covered (its own production used plus what it bought locally), what it bought and sold locally,
// what came from and went to the outside, and what it cost: per period, day or month, from the
// market's statements (GET .../market/statements?trader=&group=&tz=Europe/Amsterdam).

import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { approximate, subtractDecimals } from '../decimal.js';
import { eur, fmtDate, fmtDateTime, kwh, short } from '../format.js';
import { useLoad } from '../hooks.js';
import type { Live } from '../live.js';
import { hrefOf, type Route } from '../route.js';
import type { Statement, StatementFigures } from '../types.js';
import { Chart } from './chart.js';
import { type Group, GroupPicker, groupMsOf, windowFromMs } from './group-picker.js';

const ROWS_MAX = 200;

export function HouseholdView(props: { context: string; live: Live; route: Route }) {
  const { context, live, route } = props;
  const ctx = useLoad(() => api.context(context), [context]);
  const places = useLoad(() => api.places(context), [context]);
  const trader = route.arg ?? ctx.value?.traders[0]?.address ?? null;
  const [group, setGroup] = useState<Group>('day');
  const statements = useLoad(
    async () =>
      trader === null
        ? null
        : api.statements(context, {
            trader,
            group,
            from: windowFromMs(group, Date.now()),
          }),
    [context, trader, group, live.settled],
  );
  const label = places.value?.places.find((p) => p.member === trader)?.label ?? null;
  const solar = ctx.value?.producers.some((p) => p.trader === trader) ?? false;
  const rows = statements.value?.statements ?? [];
  return (
    <div class="stack-col">
      <section class="card">
        <div class="card-head">
          <h1>
            Household{' '}
            <span data-testid="household-name">
              {label ?? (trader === null ? '' : short(trader))}
            </span>
          </h1>
          <HouseholdSelect context={ctx.value?.traders ?? []} trader={trader} route={route} />
        </div>
        {trader !== null && (
          <p class="mono small muted">
            {trader} {solar ? '· produces (has a producer meter)' : '· consumes only'}
          </p>
        )}
        <GroupPicker value={group} onChange={setGroup} />
        {statements.state === 'failed' && <p class="error">{statements.error}</p>}
      </section>
      {statements.value !== null && (
        <>
          <HouseholdChart rows={rows} group={group} />
          <section class="card">
            <h2>Statements</h2>
            <StatementTable rows={rows} totals={statements.value.totals} group={group} />
            {statements.value.truncated && (
              <p class="muted small">More statements exist than one answer holds.</p>
            )}
          </section>
        </>
      )}
    </div>
  );
}

function HouseholdSelect(props: {
  context: readonly { address: string }[];
  trader: string | null;
  route: Route;
}) {
  const { context, trader, route } = props;
  return (
    <label class="inline">
      <span class="sr-only">Household</span>
      <select
        value={trader ?? ''}
        onChange={(e) => {
          location.hash = hrefOf(
            { view: 'household', arg: (e.currentTarget as HTMLSelectElement).value },
            route,
          );
        }}
      >
        {context.map((t) => (
          <option key={t.address} value={t.address}>
            {short(t.address)}
          </option>
        ))}
      </select>
    </label>
  );
}

const startOf = (s: Statement): number => s.startMs ?? s.periodStartMs ?? 0;

function HouseholdChart({ rows, group }: { rows: readonly Statement[]; group: Group }) {
  const data = useMemo(() => {
    const xs = rows.map(startOf);
    return {
      xs,
      series: [
        {
          label: 'Consumed',
          color: '#2f4f9e',
          values: rows.map((r) => approximate(r.consumedKwh)),
        },
        {
          label: 'Covered by the community',
          color: '#1e7b34',
          values: rows.map((r) => approximate(r.consumedKwh) - approximate(r.suppliedKwh)),
        },
        {
          label: 'Grid import',
          color: '#c62828',
          values: rows.map((r) => approximate(r.suppliedKwh)),
          dash: [6, 4],
        },
        {
          label: 'Produced',
          color: '#c27c0e',
          values: rows.map((r) => approximate(r.producedKwh)),
        },
      ],
    };
  }, [rows]);
  return (
    <section class="card">
      <Chart
        title={`Energy ${group === 'period' ? 'per period' : `per ${group}`}`}
        unit="kWh"
        xsMs={data.xs}
        groupMs={groupMsOf(group)}
        series={data.series}
        testId="household-chart"
      />
    </section>
  );
}

function StatementTable(props: {
  rows: readonly Statement[];
  totals: StatementFigures;
  group: Group;
}) {
  const { rows, totals, group } = props;
  const newestFirst = [...rows].reverse().slice(0, ROWS_MAX);
  return (
    <div class="table-scroll">
      <table class="data" data-testid="statements">
        <thead>
          <tr>
            <th scope="col">{group === 'period' ? 'Period' : group === 'day' ? 'Day' : 'Month'}</th>
            <th scope="col" class="num">
              Produced
            </th>
            <th scope="col" class="num">
              Consumed
            </th>
            <th scope="col" class="num">
              Covered by the community
            </th>
            <th scope="col" class="num">
              Bought locally
            </th>
            <th scope="col" class="num">
              Sold locally
            </th>
            <th scope="col" class="num">
              Imported
            </th>
            <th scope="col" class="num">
              Exported
            </th>
            <th scope="col" class="num">
              Cost
            </th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((s) => (
            <StatementRow
              key={startOf(s)}
              name={group === 'period' ? fmtDateTime(startOf(s)) : (s.group ?? fmtDate(startOf(s)))}
              s={s}
            />
          ))}
        </tbody>
        <tfoot>
          <StatementRow name="Total" s={totals} />
        </tfoot>
      </table>
    </div>
  );
}

function StatementRow({ name, s }: { name: string; s: StatementFigures }) {
  return (
    <tr>
      <th scope="row">{name}</th>
      <td class="num" data-field="producedKwh">
        {kwh(s.producedKwh)}
      </td>
      <td class="num" data-field="consumedKwh">
        {kwh(s.consumedKwh)}
      </td>
      <td class="num" data-field="coveredKwh">
        {kwh(subtractDecimals(s.consumedKwh, s.suppliedKwh))}
      </td>
      <td class="num" data-field="boughtKwh">
        {kwh(s.boughtKwh)}
        <br />
        <span class="muted">{eur(s.boughtEur)}</span>
      </td>
      <td class="num" data-field="soldKwh">
        {kwh(s.soldKwh)}
        <br />
        <span class="muted">{eur(s.soldEur)}</span>
      </td>
      <td class="num" data-field="suppliedKwh">
        {kwh(s.suppliedKwh)}
        <br />
        <span class="muted">{eur(s.suppliedEur)}</span>
      </td>
      <td class="num" data-field="exportedKwh">
        {kwh(s.exportedKwh)}
        <br />
        <span class="muted">{eur(s.exportedEur)}</span>
      </td>
      <td class="num" data-field="dueEur">
        <strong>{eur(s.dueEur)}</strong>
      </td>
    </tr>
  );
}
