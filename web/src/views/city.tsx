// The stacked view: a city's market (this context, on the parent chain) with its neighbourhoods
// (MarketMember), what each neighbourhood's processor reported for a period (MemberPosition) and
// the flows between the neighbourhoods and the outside in that period (docs/market.md, "Stacked
// marketplaces"; the stack routes of docs/api.md).

import { useMemo, useState } from 'preact/hooks';
import { api } from '../api.js';
import { approximate } from '../decimal.js';
import { fmtDateTime, kwh, short } from '../format.js';
import { useLoad } from '../hooks.js';
import type { Live } from '../live.js';
import type { Route } from '../route.js';
import type { StackFlows, StackMember, StackPosition } from '../types.js';
import { Scrubber } from './scrubber.js';

const DAY_MS = 86_400_000;
const SIZE = 600;
const CENTER = SIZE / 2;
const RING = 210;

export function CityView({ context, live }: { context: string; live: Live; route: Route }) {
  const members = useLoad(() => api.stackMembers(context), [context, live.settled]);
  // The last day of the chain's own time (its head), not of this browser's clock: a chain's
  // periods may lie in the past (the demo's day) or the browser's clock may be off.
  const chainNowMs = live.info?.head?.processedMs ?? live.info?.chainTimeMs ?? null;
  const positions = useLoad(
    () => api.stackPositions(context, chainNowMs === null ? 0 : chainNowMs - DAY_MS),
    [context, live.settled, chainNowMs === null],
  );
  const periods = useMemo(
    () => [...new Set((positions.value?.positions ?? []).map((p) => p.periodStartMs))].sort(),
    [positions.value],
  );
  const [pick, setPick] = useState<number | null>(null);
  const index = Math.min(pick ?? periods.length - 1, periods.length - 1);
  const periodMs = periods[index] ?? null;
  const list = members.value?.members ?? [];
  const flows = useLoad(
    async () =>
      periodMs === null
        ? []
        : Promise.all(list.map((m) => api.stackFlows(context, periodMs, m.member))),
    [context, periodMs, list.length],
  );
  const here = (positions.value?.positions ?? []).filter((p) => p.periodStartMs === periodMs);
  return (
    <div class="stack-col">
      <section class="card">
        <h1>City</h1>
        <p class="muted">
          This context as a city: its members are neighbourhoods on their own chains, each settling
          locally first and passing what is left to the city.
        </p>
        {members.state === 'failed' && <p class="error">{members.error}</p>}
        {members.value !== null && list.length === 0 && (
          <p class="muted">This context has no neighbourhoods (no MarketMember).</p>
        )}
      </section>
      {list.length > 0 && (
        <section class="card">
          <div class="card-head">
            <h2>Neighbourhoods and flows</h2>
            <span class="muted">{periodMs === null ? 'no period yet' : fmtDateTime(periodMs)}</span>
          </div>
          <CityPicture members={list} positions={here} flows={flows.value ?? []} city={context} />
          <Scrubber
            id="city-period"
            label="Period"
            count={periods.length}
            index={index}
            text={periodMs === null ? '–' : fmtDateTime(periodMs)}
            onChange={setPick}
          />
          <MemberTable members={list} positions={here} />
        </section>
      )}
    </div>
  );
}

function pointOf(i: number, n: number): { x: number; y: number } {
  const a = -Math.PI / 2 + (i * 2 * Math.PI) / Math.max(1, n);
  return { x: CENTER + RING * Math.cos(a), y: CENTER + RING * Math.sin(a) };
}

function CityPicture(props: {
  members: readonly StackMember[];
  positions: readonly StackPosition[];
  flows: readonly StackFlows[];
  city: string;
}) {
  const { members, positions, flows, city } = props;
  const at = new Map(members.map((m, i) => [m.member, pointOf(i, members.length)]));
  const grid = { x: 40, y: 40 };
  const hub = { x: CENTER, y: CENTER };
  // The city's owner is the counterparty of supply and export (the outside); any other trader
  // that is no member is a household of the city itself, drawn in its middle.
  const placeOf = (address: string) => at.get(address) ?? (address === city ? grid : hub);
  const lines: {
    from: { x: number; y: number };
    to: { x: number; y: number };
    kwh: string;
    external: boolean;
  }[] = [];
  const seen = new Set<string>();
  for (const f of flows)
    for (const row of f.flows) {
      const key = `${row.kind}:${row.seller}:${row.buyer}:${row.kwh}`;
      if (seen.has(key)) continue;
      seen.add(key);
      lines.push({
        from: placeOf(row.seller),
        to: placeOf(row.buyer),
        kwh: row.kwh,
        external: row.seller === city || row.buyer === city,
      });
    }
  const most = Math.max(1e-9, ...lines.map((l) => approximate(l.kwh)));
  return (
    <svg
      class="city"
      viewBox={`0 0 ${SIZE} ${SIZE}`}
      role="img"
      aria-label={`City with ${members.length} neighbourhoods and ${lines.length} flows`}
      data-flows={lines.length}
    >
      <polygon points="40,22 56,50 24,50" class="grid-point" />
      <text x={62} y={46} class="city-label">
        Grid
      </text>
      {members.map((m) => {
        const p = at.get(m.member) ?? grid;
        return <line key={m.member} x1={CENTER} y1={CENTER} x2={p.x} y2={p.y} class="city-link" />;
      })}
      {lines.map((l, i) => (
        <line
          key={i}
          x1={l.from.x}
          y1={l.from.y}
          x2={l.to.x}
          y2={l.to.y}
          class={l.external ? 'flow flow-external' : 'flow flow-local'}
          stroke-width={2 + 8 * Math.sqrt(approximate(l.kwh) / most)}
        >
          <title>{kwh(l.kwh)}</title>
        </line>
      ))}
      <circle cx={CENTER} cy={CENTER} r={34} class="city-hub" />
      <text x={CENTER} y={CENTER + 5} text-anchor="middle" class="city-label">
        City
      </text>
      {members.map((m, i) => {
        const p = at.get(m.member) ?? grid;
        const pos = positions.find((x) => x.member === m.member);
        return (
          <g key={m.member}>
            <circle cx={p.x} cy={p.y} r={30} class="hood" />
            <text x={p.x} y={p.y + 4} text-anchor="middle" class="city-label">
              {`N${i + 1}`}
            </text>
            <text x={p.x} y={p.y + 48} text-anchor="middle" class="city-small">
              {m.chain}
            </text>
            {pos !== undefined && (
              <text x={p.x} y={p.y + 64} text-anchor="middle" class="city-small">
                {`+${pos.producedKwh} / −${pos.consumedKwh} kWh`}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}

function MemberTable(props: {
  members: readonly StackMember[];
  positions: readonly StackPosition[];
}) {
  return (
    <table class="data" data-testid="city-members">
      <thead>
        <tr>
          <th scope="col">Neighbourhood</th>
          <th scope="col">Chain</th>
          <th scope="col" class="num">
            Left over: produced
          </th>
          <th scope="col" class="num">
            Left over: consumed
          </th>
        </tr>
      </thead>
      <tbody>
        {props.members.map((m, i) => {
          const p = props.positions.find((x) => x.member === m.member);
          return (
            <tr key={m.member} data-member={m.member}>
              <th scope="row" title={m.member}>
                N{i + 1} {short(m.member)}
              </th>
              <td>{m.chain}</td>
              <td class="num" data-field="producedKwh">
                {p === undefined ? '–' : kwh(p.producedKwh)}
              </td>
              <td class="num" data-field="consumedKwh">
                {p === undefined ? '–' : kwh(p.consumedKwh)}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
