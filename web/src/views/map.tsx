// The community map (thesis 2.3, Figure 1): households where the owner placed them (or laid out
// automatically), each with its consumption (left half, blue) and production (right half, amber)
// in the selected settled period, and that period's flows animated between them: green for local
// energy (yellow with a green rim when it is solar), red for energy from or to the outside.

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { kwh, fmtDate, fmtTime } from '../format.js';
import { useLoad } from '../hooks.js';
import type { Live } from '../live.js';
import { flowsFromStatements, flowsOf, householdsOf, type MapFlow, nameOf } from '../map-model.js';
import { hrefOf, type Route } from '../route.js';
import { MapCanvas } from './map-canvas.js';
import { Scrubber } from './scrubber.js';
import { approximate } from '../decimal.js';

const TABLE_ROWS = 30;

export function MapView({ context, live, route }: { context: string; live: Live; route: Route }) {
  const ctx = useLoad(() => api.context(context), [context]);
  const places = useLoad(() => api.places(context), [context]);
  const [pick, setPick] = useState<{ day: number | null; period: number | null }>({
    day: null,
    period: null,
  });
  const days = useLoad(() => api.figures(context, { group: 'day' }), [context, live.settled]);
  const dayList = days.value?.groups ?? [];
  const dayIndex = pick.day ?? dayList.length - 1;
  const day = dayList[dayIndex] ?? null;
  const periods = useLoad(
    async () =>
      day === null
        ? null
        : api.figures(context, { group: 'period', from: day.startMs, to: day.endMs }),
    [context, day?.startMs, day?.periods],
  );
  const periodList = periods.value?.groups ?? [];
  const periodIndex = Math.min(pick.period ?? periodList.length - 1, periodList.length - 1);
  const period = periodList[periodIndex] ?? null;
  const statements = useLoad(
    async () =>
      period === null
        ? null
        : api.statements(context, { from: period.startMs, to: period.startMs + 1 }),
    [context, period?.startMs],
  );
  const flowRows = useLoad(
    async () => (period === null ? null : api.flows(context, period.startMs, period.startMs + 1)),
    [context, period?.startMs],
  );
  const households = useMemo(
    () =>
      ctx.value === null
        ? []
        : householdsOf(ctx.value, places.value?.places ?? [], statements.value?.statements ?? []),
    [ctx.value, places.value, statements.value],
  );
  const flows = useMemo((): MapFlow[] => {
    if (flowRows.value !== null) return flowsOf(flowRows.value.flows, households);
    return flowsFromStatements(statements.value?.statements ?? [], households);
  }, [flowRows.value, statements.value, households]);
  const ready =
    ctx.state === 'ready' &&
    days.state !== 'loading' &&
    (period === null || (statements.state === 'ready' && flowRows.state !== 'loading'));
  const failed = [ctx, days, periods, statements, flowRows].find((l) => l.state === 'failed');
  useEffect(() => setPick({ day: null, period: null }), [context]);

  return (
    <div class="map-layout">
      <section class="card map-card" aria-labelledby="map-h">
        <div class="card-head">
          <h1 id="map-h">Community map</h1>
          <span class="muted" data-testid="map-period">
            {period === null
              ? 'no settled period yet'
              : `${fmtDate(period.startMs)}, ${fmtTime(period.startMs)}–${fmtTime(period.endMs)}`}
          </span>
        </div>
        {failed?.state === 'failed' && <p class="error">{failed.error}</p>}
        <MapCanvas households={households} flows={flows} ready={ready} route={route} />
        <Legend />
        <div class="scrubbers">
          <Scrubber
            id="day"
            label="Day"
            count={dayList.length}
            index={dayIndex}
            text={day === null ? '–' : fmtDate(day.startMs)}
            onChange={(i) => setPick({ day: i, period: null })}
          />
          <Scrubber
            id="period"
            label="Period"
            count={periodList.length}
            index={periodIndex}
            text={period === null ? '–' : `${fmtTime(period.startMs)}–${fmtTime(period.endMs)}`}
            onChange={(i) => setPick((p) => ({ day: p.day ?? dayIndex, period: i }))}
          />
        </div>
      </section>
      <div class="stack-col">
        {period !== null && <PeriodFigures period={period} />}
        <FlowTable flows={flows} exact={flowRows.value !== null} />
      </div>
      <section class="card wide" aria-labelledby="hh-h">
        <h2 id="hh-h">Households in this period</h2>
        <HouseholdTable households={households} route={route} />
      </section>
    </div>
  );
}

function Legend() {
  return (
    <ul class="legend" aria-label="Legend">
      <li>
        <span class="sw sw-consumed" aria-hidden="true" /> consumed (left half)
      </li>
      <li>
        <span class="sw sw-produced" aria-hidden="true" /> produced (right half)
      </li>
      <li>
        <span class="sw sw-local" aria-hidden="true" /> local energy
      </li>
      <li>
        <span class="sw sw-solar" aria-hidden="true" /> local solar energy
      </li>
      <li>
        <span class="sw sw-external" aria-hidden="true" /> external (grid, supplier)
      </li>
    </ul>
  );
}

function PeriodFigures({
  period,
}: {
  period: {
    consumedKwh: string;
    producedKwh: string;
    boughtKwh: string;
    suppliedKwh: string;
    exportedKwh: string;
  };
}) {
  return (
    <section class="card" aria-labelledby="pf-h">
      <h2 id="pf-h">This period</h2>
      <dl class="figures" data-testid="period-figures">
        <div>
          <dt>Consumed</dt>
          <dd data-field="consumedKwh">{kwh(period.consumedKwh)}</dd>
        </div>
        <div>
          <dt>Produced</dt>
          <dd data-field="producedKwh">{kwh(period.producedKwh)}</dd>
        </div>
        <div>
          <dt>Traded locally</dt>
          <dd data-field="boughtKwh">{kwh(period.boughtKwh)}</dd>
        </div>
        <div>
          <dt>Imported</dt>
          <dd data-field="suppliedKwh">{kwh(period.suppliedKwh)}</dd>
        </div>
        <div>
          <dt>Exported</dt>
          <dd data-field="exportedKwh">{kwh(period.exportedKwh)}</dd>
        </div>
      </dl>
    </section>
  );
}

function FlowTable({ flows, exact }: { flows: readonly MapFlow[]; exact: boolean }) {
  const shown = [...flows]
    .sort((a, b) => approximate(b.kwh) - approximate(a.kwh))
    .slice(0, TABLE_ROWS);
  return (
    <section class="card" aria-labelledby="fl-h">
      <h2 id="fl-h">Flows</h2>
      {!exact && flows.length > 0 && (
        <p class="muted small">Per household, through the community's pool.</p>
      )}
      {flows.length === 0 ? (
        <p class="muted">No flows in this period.</p>
      ) : (
        <div class="table-scroll">
          <table class="data" data-testid="flows">
            <thead>
              <tr>
                <th scope="col">From</th>
                <th scope="col">To</th>
                <th scope="col">Kind</th>
                <th scope="col" class="num">
                  Energy
                </th>
              </tr>
            </thead>
            <tbody>
              {shown.map((f, i) => (
                <tr key={i} data-class={f.cls}>
                  <td>{f.fromName}</td>
                  <td>{f.toName}</td>
                  <td class="nowrap">
                    <span class={`sw sw-${f.cls}`} aria-hidden="true" /> {f.kind}
                  </td>
                  <td class="num">{kwh(f.kwh)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {flows.length > TABLE_ROWS && (
        <p class="muted small">
          The {TABLE_ROWS} largest of {flows.length} flows.
        </p>
      )}
    </section>
  );
}

function HouseholdTable({
  households,
  route,
}: {
  households: ReturnType<typeof householdsOf>;
  route: Route;
}) {
  const [all, setAll] = useState(false);
  const sorted = [...households].sort(
    (a, b) =>
      approximate(b.consumedKwh) +
      approximate(b.producedKwh) -
      (approximate(a.consumedKwh) + approximate(a.producedKwh)),
  );
  const shown = all ? sorted : sorted.slice(0, TABLE_ROWS);
  return (
    <>
      <div class="table-scroll">
        <table class="data" data-testid="households">
          <thead>
            <tr>
              <th scope="col">Household</th>
              <th scope="col" class="num">
                Consumed
              </th>
              <th scope="col" class="num">
                Produced
              </th>
              <th scope="col">Panels</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((h) => (
              <tr key={h.address} data-address={h.address}>
                <td>
                  <a href={hrefOf({ view: 'household', arg: h.address }, route)} title={h.address}>
                    {nameOf(h)}
                  </a>
                </td>
                <td class="num" data-field="consumedKwh">
                  {kwh(h.consumedKwh)}
                </td>
                <td class="num" data-field="producedKwh">
                  {kwh(h.producedKwh)}
                </td>
                <td>{h.solar ? 'solar' : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {sorted.length > TABLE_ROWS && (
        <button type="button" onClick={() => setAll(!all)}>
          {all ? `Show the ${TABLE_ROWS} largest` : `Show all ${sorted.length} households`}
        </button>
      )}
    </>
  );
}
