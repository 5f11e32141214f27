// The page: the alarm banner (on every view), the header with the chain and the live state, the
// context picker, the navigation, and the view the hash names (route.ts).

import { useEffect, useState } from 'preact/hooks';
import { fmtTime, short } from './format.js';
import { type Live, useLive } from './live.js';
import { hrefOf, parseRoute, type Route, type View } from './route.js';
import { ChainView } from './views/chain.js';
import { CityView } from './views/city.js';
import { CommunityView } from './views/community.js';
import { HouseholdView } from './views/household.js';
import { MapView } from './views/map.js';
import { MarketView } from './views/market.js';

const TITLES: Readonly<Record<View, string>> = {
  map: 'Map',
  household: 'Household',
  community: 'Community',
  market: 'Market',
  chain: 'Chain',
  city: 'City',
};

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function App() {
  const route = useRoute();
  const [discover] = useState(() => route.context === null);
  const live = useLive(discover);
  const context = route.context ?? live.contexts[0] ?? null;
  const here: Route = { ...route, context };
  useEffect(() => {
    document.title = `${TITLES[route.view]} · HanzeNet`;
  }, [route.view]);
  return (
    <>
      <button type="button" class="skip" onClick={skipToMain}>
        Skip to content
      </button>
      <AlarmBanner live={live} />
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true" />
          <span>HanzeNet</span>
        </div>
        <ChainStatus live={live} />
      </header>
      <nav class="tabs" aria-label="Views">
        {(Object.keys(TITLES) as View[]).map((v) => (
          <a
            key={v}
            href={hrefOf({ view: v, arg: null }, here)}
            aria-current={v === route.view ? 'page' : undefined}
          >
            {TITLES[v]}
          </a>
        ))}
      </nav>
      <ContextPicker live={live} route={here} />
      <main id="main" tabIndex={-1}>
        <Body route={here} live={live} />
      </main>
      <footer class="foot">
        Read-only view of the public chain data served by this{' '}
        {live.info?.role === 'node' ? 'mirror node' : 'processor'}. Amounts are exact: kWh and EUR
        as the chain settled them. Times are Europe/Amsterdam.
      </footer>
    </>
  );
}

/** A button, not a link to #main: the hash names the view (route.ts). */
function skipToMain(): void {
  document.getElementById('main')?.focus();
}

function Body({ route, live }: { route: Route; live: Live }) {
  if (route.view === 'chain') return <ChainView live={live} route={route} />;
  if (route.context === null)
    return (
      <section class="card">
        <h1>No community yet</h1>
        <p>
          No energy context was found in the first blocks of this chain. Name one with{' '}
          <code>#/map?context=&lt;address&gt;</code>, or open the chain view.
        </p>
      </section>
    );
  const context = route.context;
  switch (route.view) {
    case 'map':
      return <MapView context={context} live={live} route={route} />;
    case 'household':
      return <HouseholdView context={context} live={live} route={route} />;
    case 'community':
      return <CommunityView context={context} live={live} />;
    case 'market':
      return <MarketView context={context} live={live} />;
    case 'city':
      return <CityView context={context} live={live} route={route} />;
    default:
      return null;
  }
}

/** The alarm of this node, and of any mirror node the server lists: impossible to miss. */
function AlarmBanner({ live }: { live: Live }) {
  const own = live.info?.alarm ?? null;
  const mirrors = (live.mirrors ?? []).filter((m) => m.alarm !== null && m.alarm !== undefined);
  if (own === null && mirrors.length === 0) return null;
  return (
    <div class="alarm" role="alert" data-testid="alarm">
      <strong>ALARM</strong>
      {own !== null && (
        <span>
          This mirror node stopped at block {own.height}: <code>{own.code}</code> ({own.field}).{' '}
          {own.message} It serves only what it verified before that block.
        </span>
      )}
      {mirrors.map((m) => (
        <span key={m.url}>
          Mirror node {m.url} stopped at block {m.alarm?.height}: <code>{m.alarm?.code}</code> (
          {m.alarm?.field}). {m.alarm?.message}
        </span>
      ))}
    </div>
  );
}

function ChainStatus({ live }: { live: Live }) {
  const info = live.info;
  const feedText = { live: 'live', connecting: 'connecting…', offline: 'offline, reconnecting' }[
    live.feed
  ];
  return (
    <dl class="status" aria-live="polite">
      <div>
        <dt>Chain</dt>
        <dd>{info?.chainId ?? '…'}</dd>
      </div>
      <div>
        <dt>Role</dt>
        <dd>{info === null ? '…' : info.role === 'node' ? 'mirror node' : 'processor'}</dd>
      </div>
      <div>
        <dt>Head</dt>
        <dd data-testid="head">
          {info?.head === null || info === null
            ? '…'
            : `#${info.head.height} at ${fmtTime(info.head.processedMs)}`}
        </dd>
      </div>
      <div>
        <dt>Feed</dt>
        <dd>
          <span class={`dot dot-${live.feed}`} aria-hidden="true" /> {feedText}
        </dd>
      </div>
      {live.infoError !== null && <div class="error">{live.infoError}</div>}
    </dl>
  );
}

function ContextPicker({ live, route }: { live: Live; route: Route }) {
  const known =
    route.context === null ? live.contexts : [...new Set([route.context, ...live.contexts])];
  const go = (context: string): void => {
    location.hash = hrefOf({ view: route.view, arg: null, context }, route);
  };
  return (
    <form
      class="picker"
      onSubmit={(ev) => {
        ev.preventDefault();
        const input = (ev.currentTarget as HTMLFormElement).elements.namedItem('ctx');
        const value = (input as HTMLInputElement | null)?.value.trim() ?? '';
        if (value !== '') go(value);
      }}
    >
      <label for="ctx">Community (context)</label>
      <input
        id="ctx"
        name="ctx"
        list="ctx-known"
        value={route.context ?? ''}
        placeholder="context address"
        spellcheck={false}
        autoComplete="off"
        title={route.context ?? ''}
      />
      <datalist id="ctx-known">
        {known.map((c) => (
          <option key={c} value={c}>
            {short(c)}
          </option>
        ))}
      </datalist>
      <button type="submit">Show</button>
    </form>
  );
}
