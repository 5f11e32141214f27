// The order book of the current and the last settled period (GET .../market/orders?period=current
// and ?period=last): the orders in clearing order and, once settled, the auction's clearing per
// requirement class. A server without the route says so.

import { api } from '../api.js';
import { eurPerKwh, fmtDateTime, fmtTime, kwh, short } from '../format.js';
import { useLoad } from '../hooks.js';
import type { Live } from '../live.js';
import type { OrderBook as Book } from '../types.js';

export function OrderBook({ context, live }: { context: string; live: Live }) {
  const current = useLoad(() => api.orders(context, 'current'), [context, live.market]);
  const last = useLoad(() => api.orders(context, 'last'), [context, live.market]);
  return (
    <section class="card">
      <h2>Order book</h2>
      {[current, last].map((l) => l.state === 'failed' && <p class="error">{l.error}</p>)}
      {current.state === 'ready' && current.value === null && (
        <p class="muted">This server does not list orders.</p>
      )}
      <div class="grid-charts">
        {current.value !== null && <BookTable title="Current period" book={current.value} />}
        {last.value !== null && <BookTable title="Last settled period" book={last.value} />}
      </div>
    </section>
  );
}

function BookTable({ title, book }: { title: string; book: Book }) {
  return (
    <div data-testid="order-book">
      <h3>
        {title}: {fmtDateTime(book.periodStartMs)}–{fmtTime(book.periodEndMs)}
      </h3>
      {book.orders.length === 0 ? (
        <p class="muted">
          {book.settled && !book.complete ? 'No standing orders left.' : 'No orders.'}
        </p>
      ) : (
        <div class="table-scroll">
          <table class="data">
            <thead>
              <tr>
                <th scope="col">Side</th>
                <th scope="col">Trader</th>
                <th scope="col" class="num">
                  Limit
                </th>
                <th scope="col" class="num">
                  Energy
                </th>
                <th scope="col">Labels</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {book.orders.map((o) => (
                <tr key={o.id}>
                  <td>
                    <span class={`badge badge-${o.side === 'buy' ? 'new' : 'accepted'}`}>
                      {o.side}
                    </span>
                  </td>
                  <td class="mono" title={o.trader}>
                    {short(o.trader)}
                  </td>
                  <td class="num">{eurPerKwh(o.priceEurPerKwh)}</td>
                  <td class="num">{o.kwh === null ? 'all' : kwh(o.kwh)}</td>
                  <td>{o.labels.length === 0 ? '–' : o.labels.join(', ')}</td>
                  <td>
                    {o.state}
                    {o.standing ? ', standing' : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {book.clearing !== null && (
        <p data-testid="clearing-classes">
          Cleared {kwh(book.clearing.kwh)}
          {book.clearing.classes.map((c) => (
            <span key={c.labels.join(',')}>
              {' '}
              · {c.labels.length === 0 ? 'any energy' : c.labels.join(', ')}: {kwh(c.kwh)} at{' '}
              {eurPerKwh(c.priceEurPerKwh)}
            </span>
          ))}
        </p>
      )}
      {book.truncated && <p class="muted small">More orders than one answer holds.</p>}
    </div>
  );
}
