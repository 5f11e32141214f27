// End-to-end: `hanzenet demo` as a real process, as a user would start it, with a short day and
// few households. It prints one JSON line with the dashboard's URL; through the API every period
// of the day gets settled, with local trades (the auction's prices among them) and statements
// that add up; the readings came through the gateway (registers on chain). SIGTERM stops it
// cleanly, leaves no port open and removes its temporary folder. `--stack` runs two
// neighbourhoods and their city and brings every period back down. Bad options are refused with
// a coded error before anything starts.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { HanzenetClient } from '../src/client/client.js';
import {
  fetchDeviceReadings,
  fetchEnergyContext,
  fetchMarketFigures,
  fetchMarketStatements,
} from '../src/energy/client.js';
import { fetchMarketFlows, fetchPlaces } from '../src/energy/dashboard-client.js';
import { fetchUpstream } from '../src/stack/client.js';
import { browserSkip, launchBrowser } from './support/browser.js';
import { type RunningCli, errorOf, runCli, startCliWithLine } from './support/cli-run.js';
import { tempDir } from './support/processes.js';

const DAY = '2026-06-21';
const DAY_START_MS = Date.parse(`${DAY}T00:00:00Z`);
const DAY_END_MS = DAY_START_MS + 86_400_000;
const SETTLED_TIMEOUT_MS = 240_000;
/** How long the demo may take to set its chains up and print its line. */
const START_TIMEOUT_MS = 180_000;
/** Where the screenshots go (docs/screenshots/ holds the ones the README shows). */
const SHOTS = process.env['HANZENET_SCREENSHOTS'] ?? join('dist', 'screenshots');

/**
 * With a browser installed: the dashboard at `hash` loads without errors once `ready` shows, and
 * a screenshot of it is saved as `<name>.png`. Without one, says so and checks nothing more.
 */
async function screenshot(url: string, ready: string, name: string, midday = false): Promise<void> {
  const skip = browserSkip();
  if (skip !== false) {
    process.stdout.write(`# ${skip}: no screenshot of ${name}\n`);
    return;
  }
  const browser = await launchBrowser();
  try {
    const { page, errors } = await browser.newPage();
    await page.goto(url);
    await page.waitForSelector(ready, { timeout: 60_000 });
    if (midday) {
      // The scrubbers are range inputs: the day's first day, then its early afternoon (local).
      await page.focus('#scrub-day');
      await page.keyboard.press('Home');
      await page.focus('#scrub-period');
      await page.keyboard.press('Home');
      for (let i = 0; i < 44; i++) {
        await page.keyboard.press('ArrowRight');
        await page.waitForTimeout(40); // each step renders the period before the next
      }
    }
    await page.waitForTimeout(600); // the flows move: a frame with them on their way
    await mkdir(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
    // A processor without mirror nodes answers GET /api/mirrors with 404, which the page takes
    // as "none listed" while the browser still logs it.
    const real = errors.filter((e) => !/status of 404 .*\/api\/mirrors\b/.test(e));
    assert.deepEqual(real, [], `the dashboard of ${url} without errors`);
  } finally {
    await browser.close();
  }
}

interface DemoLine {
  readonly dashboard: string;
  readonly date: string;
  readonly households: number;
  readonly chains: { name: string; dashboard: string; api: string; context: string }[];
  readonly dataDir: string;
  readonly kept: boolean;
}

type RunningDemo = RunningCli<DemoLine>;

function startDemo(args: readonly string[]): Promise<RunningDemo> {
  return startCliWithLine<DemoLine>(['demo', ...args], START_TIMEOUT_MS);
}

async function untilSettled(demo: RunningDemo): Promise<void> {
  const deadline = Date.now() + SETTLED_TIMEOUT_MS;
  while (!demo.stderr().includes('the day is settled')) {
    if (Date.now() > deadline || demo.proc.exitCode !== null)
      throw new Error(`the demo's day was not settled in time; stderr:\n${demo.stderr()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopDemo(demo: RunningDemo): Promise<number | string> {
  demo.proc.kill('SIGTERM');
  const timeout = new Promise<string>((res) => setTimeout(() => res('timeout'), 60_000));
  return Promise.race([demo.exited, timeout]);
}

function portOpen(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((res) => {
    const socket = connect(Number(port), hostname);
    socket.once('connect', () => {
      socket.destroy();
      res(true);
    });
    socket.once('error', () => res(false));
  });
}

/** A decimal text (kWh or EUR) as an integer count of its smallest unit (1e-9). */
function units(text: string): bigint {
  const negative = text.startsWith('-');
  const [whole = '0', frac = ''] = text.replace('-', '').split('.');
  const value = BigInt(whole) * 1_000_000_000n + BigInt(frac.padEnd(9, '0'));
  return negative ? -value : value;
}

type Statement = Record<string, string | number>;

/** Each statement balances in energy and in money (docs/market.md, "The statement"). */
function assertBalanced(s: Statement): void {
  const v = (k: string): bigint => units(String(s[k]));
  const energy =
    v('producedKwh') -
    v('consumedKwh') +
    v('lateKwh') +
    v('correctedKwh') +
    v('boughtKwh') -
    v('soldKwh') +
    v('suppliedKwh') -
    v('exportedKwh') +
    v('imbalanceKwh') +
    v('correctionKwh');
  assert.equal(energy, 0n, `energy of ${JSON.stringify(s)}`);
  const due =
    v('boughtEur') +
    v('suppliedEur') -
    v('soldEur') -
    v('exportedEur') +
    v('imbalanceEur') +
    v('correctionEur');
  assert.equal(v('dueEur'), due, `due of ${JSON.stringify(s)}`);
}

/**
 * The neighbourhood's setup, and its settled periods from `fromMs` to `toMs`: `periods` of them,
 * statements that balance, readings through the gateway. Without a city, what is bought locally
 * is sold locally.
 */
async function checkNeighbourhood(
  n: { api: string; context: string },
  households: number,
  range: { fromMs: number; toMs: number; periods: number; city: boolean },
): Promise<Statement[]> {
  const client = new HanzenetClient({ url: n.api });
  try {
    const view = await fetchEnergyContext(client, n.context);
    assert.equal(view.traders.length, households);
    assert.equal(view.consumers.length, households);
    assert.ok(
      view.producers.length > 0 && view.producers.length < households,
      'some households without panels',
    );
    for (const p of view.producers) assert.deepEqual(p.labels, ['solar']);
    assert.equal(view.market?.on, true);
    assert.equal(view.market?.auction, true);
    const figures = await fetchMarketFigures(client, n.context, { ...range, group: 'day' });
    assert.equal(figures.totals.periods, range.periods, 'every period settled');
    if (!range.city) {
      assert.ok(units(figures.totals.boughtKwh) > 0n, 'energy bought locally');
      assert.equal(figures.totals.boughtKwh, figures.totals.soldKwh);
    }
    const { statements } = await fetchMarketStatements(client, n.context, range);
    assert.ok(statements.length >= range.periods);
    for (const s of statements) assertBalanced(s as unknown as Statement);
    const { places } = await fetchPlaces(client, n.context);
    assert.equal(places.length, households, 'every household on the map');
    assert.deepEqual(
      places.map((p) => p.label).sort(),
      Array.from({ length: households }, (_, i) => `No. ${i + 1}`).sort(),
    );
    const house = view.consumers[0]?.address ?? '';
    const readings = await fetchDeviceReadings(client, n.context, house);
    assert.ok(readings.readings.length > 0, 'the house meter reads through the gateway');
    return statements as unknown as Statement[];
  } finally {
    client.close();
  }
}

test('hanzenet demo: a day of a neighbourhood settled through the API; SIGTERM stops it cleanly', async () => {
  const demo = await startDemo([
    '--households',
    '6',
    '--day-minutes',
    '0.5',
    '--date',
    DAY,
    '--seed',
    '6',
    '--port',
    '0',
  ]);
  try {
    assert.match(demo.line.dashboard, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(demo.line.date, DAY);
    assert.equal(demo.line.kept, false);
    const chain = demo.line.chains[0];
    assert.ok(chain !== undefined);
    assert.equal(demo.line.dashboard, chain.dashboard);
    await untilSettled(demo);
    const statements = await checkNeighbourhood(chain, 6, {
      fromMs: DAY_START_MS,
      toMs: DAY_END_MS,
      periods: 96,
      city: false,
    });
    const client = new HanzenetClient({ url: chain.api });
    const { flows } = await fetchMarketFlows(client, chain.context, {
      fromMs: DAY_START_MS,
      toMs: DAY_END_MS,
    });
    client.close();
    const kinds = new Set(flows.map((f) => f.kind));
    for (const kind of ['auction', 'allocation', 'supply'])
      assert.ok(kinds.has(kind), `${kind} flows in the day (${[...kinds].join(', ')})`);
    assert.ok(
      flows.some((f) => f.kind === 'allocation' && f.labels.includes('solar')),
      'solar energy shared in the community',
    );
    const auction = statements.some(
      (s) =>
        units(String(s['boughtKwh'])) > 0n &&
        units(String(s['boughtEur'])) * 1000n !== units(String(s['boughtKwh'])) * 150n,
    );
    assert.ok(auction, 'some energy was bought at an auction price, not the local price 0.15');
    await screenshot(
      `${chain.api}/#/map?context=${chain.context}`,
      'canvas[data-ready="true"][data-households="6"]',
      'demo',
      true,
    );
    assert.match(
      demo.stderr(),
      /demo 2026-06-2[12] \d\d:\d\d UTC \| neighbourhood: \d+\/96 periods settled/,
    );
  } finally {
    const code = await stopDemo(demo);
    assert.equal(code, 0, demo.stderr());
  }
  assert.equal(existsSync(demo.line.dataDir), false, 'the temporary folder is removed');
  assert.equal(await portOpen(demo.line.dashboard), false, 'nothing listens any more');
});

/** Waits until `count` periods of the neighbourhood have come back down from the city. */
async function untilBackDown(demo: RunningDemo, api: string, context: string, count: number) {
  const client = new HanzenetClient({ url: api });
  try {
    const deadline = Date.now() + SETTLED_TIMEOUT_MS;
    for (;;) {
      const { upstream } = await fetchUpstream(client, context, {
        fromMs: DAY_START_MS,
        limit: 1000,
      });
      const down = upstream.filter((r) => r.state === 'settled');
      if (down.length >= count) return down.slice(0, count);
      if (Date.now() > deadline || demo.proc.exitCode !== null)
        throw new Error(`${down.length} periods came back down in time; stderr:\n${demo.stderr()}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    client.close();
  }
}

test('hanzenet demo --stack: two neighbourhoods and their city; periods come back down and balance', async () => {
  const demo = await startDemo([
    '--stack',
    '--households',
    '4',
    '--seed',
    '6',
    '--day-minutes',
    '1',
    '--date',
    DAY,
    '--port',
    '0',
  ]);
  try {
    assert.deepEqual(
      demo.line.chains.map((c) => c.name),
      ['n1', 'n2', 'city'],
    );
    const city = demo.line.chains[2];
    assert.ok(city !== undefined);
    assert.equal(demo.line.dashboard, city.dashboard, 'the dashboard of the stacked view');
    for (const n of demo.line.chains.slice(0, 2)) {
      const down = await untilBackDown(demo, n.api, n.context, 12);
      assert.ok(
        down.some((r) => !r.missed),
        `${n.name}: the city took its positions`,
      );
      const last = down[down.length - 1]?.periodStartMs ?? 0;
      // Every period up to the last one back down is settled, and its statements balance.
      await checkNeighbourhood(n, 4, {
        fromMs: DAY_START_MS,
        toMs: last + 900_000,
        periods: (last - DAY_START_MS) / 900_000 + 1,
        city: true,
      });
    }
    const client = new HanzenetClient({ url: city.api });
    const figures = await fetchMarketFigures(client, city.context, {
      fromMs: DAY_START_MS,
      toMs: DAY_END_MS,
      group: 'day',
    });
    client.close();
    assert.ok(figures.totals.periods > 0, 'the city settled periods');
    await screenshot(
      `${city.api}/#/city?context=${city.context}`,
      '[data-testid=city-members] tbody tr',
      'demo-city',
    );
  } finally {
    const code = await stopDemo(demo);
    assert.equal(code, 0, demo.stderr());
  }
  assert.equal(existsSync(demo.line.dataDir), false);
  for (const c of demo.line.chains) assert.equal(await portOpen(c.api), false, c.name);
});

test('hanzenet demo: bad options are refused with usage_error before anything starts', async () => {
  const dir = await tempDir('hanzenet-demo-bad-');
  try {
    await mkdir(join(dir.path, 'used'));
    await writeFile(join(dir.path, 'used', 'something'), 'x');
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const cases: [string[], string][] = [
      [['--households', '1'], '--households'],
      [['--households', 'many'], '--households'],
      [['--day-minutes', '0.2'], '--day-minutes'],
      [['--day-minutes', '1.234'], '--day-minutes'],
      [['--date', '2026-02-30'], '--date'],
      [['--date', tomorrow], '--date'],
      [['--seed', '-1'], '--seed'],
      [['--stack', '--port', '65534'], '--port'],
      [['--port', '0', '--data-dir', join(dir.path, 'used')], '--data-dir'],
    ];
    for (const [args, option] of cases) {
      const result = await runCli(['demo', ...args], { timeoutMs: 60_000 });
      assert.notEqual(result.code, 0, args.join(' '));
      const err = errorOf(result);
      assert.equal(err.code, 'usage_error', args.join(' '));
      assert.ok(err.message.includes(option), `${args.join(' ')}: ${err.message}`);
      assert.equal(result.stdout, '', 'no URL printed');
    }
    assert.ok(existsSync(join(dir.path, 'used', 'something')), 'a used folder is left alone');
  } finally {
    await dir.remove();
  }
});
