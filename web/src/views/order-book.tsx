// The order book of the current and the last period, where the server lists it
// (GET .../market/orders?period=current|last). A server without the route says so.

import { api } from '../api.js';
import { useLoad } from '../hooks.js';
import type { Live } from '../live.js';

export function OrderBook({ context, live }: { context: string; live: Live }) {
  const current = useLoad(() => api.orders(context, 'current'), [context, live.market]);
  return (
    <section class="card">
      <h2>Order book</h2>
      {current.state === 'failed' && <p class="error">{current.error}</p>}
      {current.state === 'ready' && current.value === null && (
        <p class="muted">This server does not list orders.</p>
      )}
      {current.value !== null && (
        <pre class="payload">{JSON.stringify(current.value, null, 2)}</pre>
      )}
    </section>
  );
}
