// The market of the current and the last period: its settings, the owner's prices, the order book
// where the server lists it (GET .../market/orders), and the clearing of the last settled period
// (its figures: volume traded locally and the local prices against the supplier's).

import { api } from '../api.js';
import { eurPerKwh, fmtDateTime, fmtTime, kwh } from '../format.js';
import { useLoad } from '../hooks.js';
import type { Live } from '../live.js';
import type { FiguresGroup, PricesAnswer } from '../types.js';
import { OrderBook } from './order-book.js';

const DAY_MS = 86_400_000;

export function MarketView({ context, live }: { context: string; live: Live }) {
  const prices = useLoad(
    () => api.prices(context, { from: Date.now() - DAY_MS, limit: 200 }),
    [context, live.market],
  );
  const last = useLoad(async () => {
    const days = await api.figures(context, { group: 'day', from: Date.now() - 400 * DAY_MS });
    const day = days.groups.at(-1);
    if (day === undefined) return null;
    const periods = await api.figures(context, {
      group: 'period',
      from: day.startMs,
      to: day.endMs,
    });
    return periods.groups.at(-1) ?? null;
  }, [context, live.settled]);
  const market = prices.value?.market ?? null;
  const periodMs = (market?.periodSeconds ?? 900) * 1000;
  const currentMs = Math.floor(Date.now() / periodMs) * periodMs;
  return (
    <div class="stack-col">
      <section class="card">
        <h1>Market</h1>
        {prices.state === 'failed' && <p class="error">{prices.error}</p>}
        {prices.value !== null && market === null && (
          <p class="muted">This community's market was never turned on.</p>
        )}
        {market !== null && (
          <dl class="figures" data-testid="market-settings">
            <div>
              <dt>Market</dt>
              <dd>{market.on ? 'on' : 'off'}</dd>
            </div>
            <div>
              <dt>Period</dt>
              <dd>{market.periodSeconds / 60} minutes</dd>
            </div>
            <div>
              <dt>Gate closure</dt>
              <dd>{market.gateClosureSeconds} s after the period ends</dd>
            </div>
            <div>
              <dt>Clearing</dt>
              <dd>
                {[market.auction ? 'auction' : '', market.allocation ? 'allocation' : '']
                  .filter((x) => x !== '')
                  .join(' then ') || 'none'}
              </dd>
            </div>
          </dl>
        )}
      </section>
      {prices.value !== null && (
        <PriceTable answer={prices.value} currentMs={currentMs} periodMs={periodMs} />
      )}
      <OrderBook context={context} live={live} />
      <Clearing period={last.value ?? null} />
    </div>
  );
}

function PriceTable(props: { answer: PricesAnswer; currentMs: number; periodMs: number }) {
  const { answer, currentMs, periodMs } = props;
  const wanted = [currentMs, currentMs - periodMs];
  return (
    <section class="card">
      <h2>Prices of the current and the last period</h2>
      <table class="data" data-testid="prices">
        <thead>
          <tr>
            <th scope="col">Period</th>
            <th scope="col" class="num">
              Local
            </th>
            <th scope="col" class="num">
              Supply
            </th>
            <th scope="col" class="num">
              Feed-in
            </th>
          </tr>
        </thead>
        <tbody>
          {wanted.map((ms, i) => {
            const p = answer.prices.find((x) => x.periodStartMs === ms);
            return (
              <tr key={ms}>
                <th scope="row">
                  {i === 0 ? 'Current' : 'Last'}: {fmtTime(ms)}–{fmtTime(ms + periodMs)}
                </th>
                <td class="num">{p === undefined ? 'no price' : eurPerKwh(p.localEurPerKwh)}</td>
                <td class="num">{p === undefined ? '–' : eurPerKwh(p.supplyEurPerKwh)}</td>
                <td class="num">{p === undefined ? '–' : eurPerKwh(p.feedInEurPerKwh)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function Clearing({ period }: { period: FiguresGroup | null }) {
  return (
    <section class="card">
      <h2>Clearing of the last settled period</h2>
      {period === null ? (
        <p class="muted">No period settled yet.</p>
      ) : (
        <dl class="figures" data-testid="clearing">
          <div>
            <dt>Period</dt>
            <dd>
              {fmtDateTime(period.startMs)}–{fmtTime(period.endMs)}
            </dd>
          </div>
          <div>
            <dt>Traded locally</dt>
            <dd data-field="boughtKwh">{kwh(period.boughtKwh)}</dd>
          </div>
          <div>
            <dt>Local price</dt>
            <dd data-field="localAvg">
              {period.prices.local === null
                ? 'no local trade'
                : `${eurPerKwh(period.prices.local.avgEurPerKwh)} (min ${period.prices.local.minEurPerKwh}, max ${period.prices.local.maxEurPerKwh})`}
            </dd>
          </div>
          <div>
            <dt>Supply price</dt>
            <dd>
              {period.prices.supply === null ? '–' : eurPerKwh(period.prices.supply.avgEurPerKwh)}
            </dd>
          </div>
          <div>
            <dt>Imported</dt>
            <dd>{kwh(period.suppliedKwh)}</dd>
          </div>
          <div>
            <dt>Exported</dt>
            <dd>{kwh(period.exportedKwh)}</dd>
          </div>
        </dl>
      )}
    </section>
  );
}
