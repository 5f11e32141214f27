// The chain: the node's info, the live block feed (pushed over the WebSocket), a transaction
// lookup, and the health of the mirror nodes the server lists (GET /api/mirrors).

import { useEffect, useState } from 'preact/hooks';
import { api, ApiFailure, type MirrorStatus } from '../api.js';
import { fmtDateTime, fmtTime } from '../format.js';
import type { Live } from '../live.js';
import { hrefOf, type Route } from '../route.js';
import type { TxView } from '../types.js';

const ID = /^[0-9a-fA-F]{32}$/;

export function ChainView({ live, route }: { live: Live; route: Route }) {
  return (
    <div class="grid-2">
      <section class="card" aria-labelledby="blocks-h">
        <h1 id="blocks-h">Blocks, live</h1>
        <BlockList live={live} route={route} />
      </section>
      <div class="stack-col">
        <TxLookup route={route} />
        <Mirrors mirrors={live.mirrors} />
        {live.info !== null && (
          <section class="card" aria-labelledby="info-h">
            <h2 id="info-h">This server</h2>
            <dl class="kv">
              <dt>Chain id</dt>
              <dd>{live.info.chainId}</dd>
              <dt>Processor</dt>
              <dd class="mono">{live.info.processorAddress}</dd>
              <dt>Role</dt>
              <dd>{live.info.role === 'node' ? 'mirror node' : 'processor'}</dd>
              <dt>Head</dt>
              <dd class="mono">
                {live.info.head === null
                  ? 'no block yet'
                  : `#${live.info.head.height} ${live.info.head.hash.slice(0, 16)}…`}
              </dd>
              {live.info.role === 'node' && (
                <>
                  <dt>Alarm</dt>
                  <dd>{live.info.alarm === null ? 'none: every block checked out' : 'RAISED'}</dd>
                </>
              )}
            </dl>
          </section>
        )}
      </div>
    </div>
  );
}

function BlockList({ live, route }: { live: Live; route: Route }) {
  if (live.blocks.length === 0) return <p class="muted">Waiting for blocks…</p>;
  return (
    <ol class="blocks" aria-live="polite" aria-relevant="additions" data-testid="blocks">
      {live.blocks.map((b) => (
        <li key={b.height}>
          <div class="block-head">
            <strong>#{b.height}</strong>
            <span class="mono muted" title={b.hash}>
              {b.hash.slice(0, 12)}…
            </span>
            <time dateTime={new Date(b.processedMs).toISOString()}>{fmtTime(b.processedMs)}</time>
            <span class="muted">
              {b.txCount} tx{b.txCount === 1 ? '' : 's'}
            </span>
          </div>
          {b.transactions.length > 0 && (
            <ul class="txs">
              {b.transactions.slice(0, 8).map((t) => (
                <li key={t.id}>
                  <a href={hrefOf({ view: 'chain', arg: t.id }, route)} class="mono">
                    {t.id.slice(0, 8)}
                  </a>{' '}
                  {t.contractType ?? 'unknown'}{' '}
                  <span class={`badge badge-${t.status}`}>{t.status}</span>
                </li>
              ))}
              {b.transactions.length > 8 && (
                <li class="muted">and {b.transactions.length - 8} more</li>
              )}
            </ul>
          )}
        </li>
      ))}
    </ol>
  );
}

function TxLookup({ route }: { route: Route }) {
  const [id, setId] = useState(route.arg ?? '');
  const [tx, setTx] = useState<TxView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const look = async (wanted: string): Promise<void> => {
    setTx(null);
    if (!ID.test(wanted)) {
      setError('A transaction id is 32 hexadecimal characters.');
      return;
    }
    try {
      setTx(await api.transaction(wanted));
      setError(null);
    } catch (err) {
      setError(
        err instanceof ApiFailure && err.code === 'not_found'
          ? `No transaction ${wanted} on this chain.`
          : String((err as Error).message),
      );
    }
  };
  useEffect(() => {
    if (route.arg !== null) {
      setId(route.arg);
      void look(route.arg);
    }
  }, [route.arg]);
  return (
    <section class="card" aria-labelledby="tx-h">
      <h2 id="tx-h">Look up a transaction</h2>
      <form
        class="row"
        onSubmit={(ev) => {
          ev.preventDefault();
          location.hash = hrefOf({ view: 'chain', arg: id.trim() }, route);
          void look(id.trim());
        }}
      >
        <label class="sr-only" for="txid">
          Transaction id
        </label>
        <input
          id="txid"
          class="mono grow"
          value={id}
          onInput={(e) => setId((e.currentTarget as HTMLInputElement).value)}
          placeholder="32 hex characters"
          spellcheck={false}
          autoComplete="off"
        />
        <button type="submit">Look up</button>
      </form>
      {error !== null && (
        <p class="error" role="status">
          {error}
        </p>
      )}
      {tx !== null && <TxDetails tx={tx} />}
    </section>
  );
}

function TxDetails({ tx }: { tx: TxView }) {
  return (
    <dl class="kv" data-testid="tx">
      <dt>Status</dt>
      <dd>
        <span class={`badge badge-${tx.status}`}>{tx.status}</span>{' '}
        {tx.code !== null && <code>{tx.code}</code>} {tx.message}
      </dd>
      <dt>Contract</dt>
      <dd>{tx.contractType ?? 'unknown'}</dd>
      <dt>Sender</dt>
      <dd class="mono">{tx.sender ?? '–'}</dd>
      <dt>Block</dt>
      <dd>{tx.blockId === null ? 'not yet' : `#${tx.blockId}, position ${tx.positionInBlock}`}</dd>
      <dt>Processed</dt>
      <dd>{tx.processedTs === null ? '–' : fmtDateTime(tx.processedTs)}</dd>
      <dt>Payload</dt>
      <dd>
        <pre class="payload">{JSON.stringify(tx.payload, null, 2)}</pre>
      </dd>
    </dl>
  );
}

function Mirrors({ mirrors }: { mirrors: readonly MirrorStatus[] | null }) {
  return (
    <section class="card" aria-labelledby="mirrors-h">
      <h2 id="mirrors-h">Mirror nodes</h2>
      {mirrors === null ? (
        <p class="muted">This server lists no mirror nodes.</p>
      ) : mirrors.length === 0 ? (
        <p class="muted">No mirror nodes configured.</p>
      ) : (
        <table class="data" data-testid="mirrors">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Reachable</th>
              <th scope="col">Head</th>
              <th scope="col">Lag</th>
              <th scope="col">Alarm</th>
            </tr>
          </thead>
          <tbody>
            {mirrors.map((m) => (
              <tr key={m.url} class={m.alarm ? 'row-alarm' : ''}>
                <td class="mono" title={m.url}>
                  {hostOf(m.url)}
                </td>
                <td title={m.error?.message ?? ''}>
                  {m.reachable ? 'yes' : 'no'}
                  {m.error !== null && <code> {m.error.code}</code>}
                </td>
                <td>{m.headHeight ?? '–'}</td>
                <td>{m.lagBlocks === null ? '–' : `${m.lagBlocks} blocks`}</td>
                <td>
                  {m.alarm === null ? (
                    'none'
                  ) : (
                    <strong>
                      ALARM at {m.alarm.height}: {m.alarm.code}
                    </strong>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** A mirror node's host and port: the part of its URL that tells nodes apart. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
