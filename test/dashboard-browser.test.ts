// The web dashboard in a real browser (Debian's chromium through playwright-core) against real
// processes: one processor and one browser shared by every step. The page loads without console
// errors; after scripted Energy, a Transfer and a settled market period the map shows the flows and
// the figures on the map, household and community pages equal the API's; a mirror node that
// follows a tampered chain shows its alarm; a community of 1,000 households is timed (first full
// picture, frame times: printed, not asserted). Screenshots go to HANZENET_SCREENSHOTS
// (default dist/screenshots/); docs/screenshots/ holds the ones the README shows.

import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { decodeBlock } from '../src/chain/block-decode.js';
import { buildBlock } from '../src/chain/block-encode.js';
import type { ChainInfo } from '../src/chain/views.js';
import { parseKeyText } from '../src/store/key-file.js';
import { browserSkip, launchBrowser } from './support/browser.js';
import type { Browser } from './support/browser.js';
import { marketCommunity, transferContext, untilSettled } from './support/dashboard-scenario.js';
import type { Community } from './support/dashboard-scenario.js';
import { cityScenario, untilCitySettled } from './support/dashboard-city.js';
import { fieldsOf } from './support/node-chain.js';
import { FakeUpstream } from './support/node-fake-upstream.js';
import {
  getJson,
  startNodeProcess,
  startProcessorProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import type { StartedNode, StartedProcessor } from './support/processes.js';

const SHOTS = process.env['HANZENET_SCREENSHOTS'] ?? join('dist', 'screenshots');
const PHONE = { width: 390, height: 844 };
const BIG_HOUSEHOLDS = 1000;
/** Page code: the times between 240 animation frames, in ms. */
const FRAME_TIMES = `new Promise((resolve) => {
  const out = [];
  let last = performance.now();
  const step = (now) => {
    out.push(now - last);
    last = now;
    if (out.length < 240) requestAnimationFrame(step); else resolve(out);
  };
  requestAnimationFrame(step);
})`;

/**
 * Reads the page makes of routes a server may lack (the owner's places, the flows and orders
 * routes, the processor's mirror list): the page takes their 404 as "not listed here", but the
 * browser still logs each as a failed resource.
 */
const OPTIONAL_ROUTE_404 =
  /^console: Failed to load resource: the server responded with a status of 404 .*\/(places|market\/flows|market\/orders|api\/mirrors)\b/;

function realErrors(errors: readonly string[]): string[] {
  return errors.filter((e) => !OPTIONAL_ROUTE_404.test(e));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  await new Promise((r) => server.close(r));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** The cell texts of `[data-field]` elements inside `root`, by field. */
async function fieldsIn(page: Page, root: string): Promise<Record<string, string>> {
  return page.$$eval(`${root} [data-field]`, (els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-field') ?? '', e.textContent ?? ''])),
  );
}

interface Figures {
  groups: Record<string, string>[];
  totals: Record<string, string> & { periods: number };
}

test('the dashboard in a real browser', { skip: browserSkip(), timeout: 600_000 }, async (t) => {
  const dir = await tempDir('dashboard');
  const running: (StartedProcessor | StartedNode)[] = [];
  let browser: Browser | null = null;
  try {
    // The mirror node of the alarm step listens on a port chosen now, so that the processor can
    // watch it from the start (--mirrors).
    const nodePort = await freePort();
    const p = await startProcessorProcess({
      dataDir: join(dir.path, 'p'),
      extraArgs: ['--mirrors', `http://127.0.0.1:${nodePort}`],
    });
    running.push(p);
    browser = await launchBrowser();
    const b = browser;
    // The city first: its gate closes a few seconds after its setup, while the rest is built.
    const city = await cityScenario(p);
    const community = await marketCommunity(p, 6, 2, { placed: true });
    const { transferId } = await transferContext(p);
    await untilSettled(p, community);
    const mapUrl = `${p.url}/#/map?context=${community.context}`;

    await t.test(
      'the chain view loads without console errors and shows the live feed',
      async () => {
        const { page, errors } = await b.newPage();
        await page.goto(`${p.url}/#/chain/${transferId}?context=${community.context}`);
        await page.waitForSelector('[data-testid=tx]');
        const tx = await page.textContent('[data-testid=tx]');
        assert.match(tx ?? '', /Transfer/);
        assert.match(tx ?? '', /accepted/);
        const before = await page.textContent('[data-testid=head]');
        await marketCommunity(p, 1, 1); // more blocks: the feed pushes them
        // The page's CSP forbids eval, so the wait polls from here.
        for (let i = 0; i < 100; i++) {
          if ((await page.textContent('[data-testid=head]')) !== before) break;
          await page.waitForTimeout(100);
        }
        assert.notEqual(await page.textContent('[data-testid=head]'), before, 'the head moved');
        assert.ok((await page.$$('[data-testid=blocks] > li')).length > 1);
        await shot(page, 'chain');
        assert.deepEqual(realErrors(errors), []);
        await page.close();
      },
    );

    await t.test(
      'the map shows the settled period: households, flows and figures as the API says',
      async () => {
        const { page, errors } = await b.newPage();
        await page.goto(mapUrl);
        await page.waitForSelector('canvas[data-ready="true"][data-households="6"]');
        await mapMatchesApi(page, p, community);
        await page.waitForTimeout(600); // the dots move: a frame with them in flight
        await shot(page, 'map');
        // The period scrubber is a range input: the keyboard moves it.
        await page.focus('#scrub-period');
        await page.keyboard.press('Home');
        assert.ok(((await page.textContent('[data-testid=scrub-period]')) ?? '').length > 0);
        assert.deepEqual(realErrors(errors), []);
        await page.close();
      },
    );

    await t.test('the household and community pages show the API figures', async () => {
      const { page, errors } = await b.newPage();
      const solar = community.solar[0] as string;
      await page.goto(`${p.url}/#/household/${solar}?context=${community.context}`);
      await page.getByLabel('Per period').check();
      await page.waitForSelector('[data-testid=statements] tbody tr');
      const api = (
        await getJson<{ statements: Record<string, string>[] }>(
          `${p.url}/api/energy/contexts/${community.context}/market/statements?trader=${solar}&from=${community.periodMs}&to=${community.periodMs + 1}`,
        )
      ).body.statements[0];
      assert.ok(api);
      const row = await fieldsIn(page, '[data-testid=statements] tbody tr:first-child');
      for (const f of ['producedKwh', 'consumedKwh', 'dueEur'] as const)
        assert.ok(row[f]?.startsWith(`${api[f]} `), `${f}: page ${row[f]}, API ${api[f]}`);
      await page.waitForSelector('[data-testid=household-chart] canvas');
      await shot(page, 'household');

      await page.goto(`${p.url}/#/community?context=${community.context}`);
      await page.waitForSelector('[data-testid=community-totals]');
      await page.waitForSelector('[data-testid=chart-prices] canvas');
      const figures = (
        await getJson<Figures>(
          `${p.url}/api/energy/contexts/${community.context}/market/figures?group=day&tz=Europe/Amsterdam&from=${Date.now() - 400 * 86_400_000}`,
        )
      ).body;
      const shown = await fieldsIn(page, '[data-testid=community-totals]');
      for (const f of ['consumedKwh', 'producedKwh', 'suppliedKwh', 'exportedKwh', 'boughtKwh'])
        assert.ok(
          shown[f]?.startsWith(`${figures.totals[f]} kWh`),
          `${f}: page ${shown[f]}, API ${figures.totals[f]}`,
        );
      await shot(page, 'community');
      await page.goto(`${p.url}/#/market?context=${community.context}`);
      await page.waitForSelector('[data-testid=clearing]');
      // The current period's book holds the two standing orders of the scenario.
      await page.waitForSelector('[data-testid=order-book] tbody tr');
      assert.equal(
        await page.locator('[data-testid=order-book]').first().locator('tbody tr').count(),
        2,
      );
      await shot(page, 'market');
      assert.deepEqual(realErrors(errors), []);
      await page.close();
    });

    await t.test('on a phone-sized screen', async () => {
      const { page, errors } = await b.newPage(PHONE);
      await page.goto(mapUrl);
      await page.waitForSelector('canvas[data-ready="true"][data-households="6"]');
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= PHONE.width, `no sideways scrolling at 390 px (page is ${width} px wide)`);
      await shot(page, 'map-phone');
      assert.deepEqual(realErrors(errors), []);
      await page.close();
    });

    await t.test('a mirror node of a tampered chain shows its alarm on its page', async () => {
      const info = (await getJson<ChainInfo>(`${p.url}/api/info`)).body;
      const raws = (
        await getJson<{ blocks: string[] }>(`${p.url}/api/blocks/raw?from=0&limit=1000`)
      ).body.blocks.map((r) => new Uint8Array(Buffer.from(r, 'base64')));
      const key = parseKeyText(
        (await readFile(join(dir.path, 'p', 'processor.key'), 'utf8')).trim(),
        'processor.key',
      );
      const target = 3;
      const block = decodeBlock(raws[target] as Uint8Array, info.chainId);
      const tampered = buildBlock(
        { ...fieldsOf(block), stateDigestHex: 'cd'.repeat(32) },
        key,
        info.chainId,
      ).bytes;
      const upstream = new FakeUpstream({
        chainId: info.chainId,
        processorAddress: info.processorAddress,
      });
      upstream.blocks = raws.map((r, h) => (h === target ? tampered : r));
      await upstream.start();
      try {
        const node = await startNodeProcess({
          follow: upstream.url,
          dataDir: join(dir.path, 'n'),
          extraArgs: ['--port', String(nodePort)],
        });
        running.push(node);
        const { page } = await b.newPage();
        await page.goto(`${node.url}/#/chain`);
        const alarm = await page.waitForSelector('[data-testid=alarm]', { timeout: 60_000 });
        const text = (await alarm.textContent()) ?? '';
        assert.match(text, /ALARM/);
        assert.match(text, /state_digest_mismatch/);
        assert.match(text, new RegExp(`block ${target}`));
        assert.ok(await alarm.isVisible());
        await shot(page, 'alarm', false);
        await page.close();

        // The processor watches the node (every 5 s): its own page shows the node's alarm too.
        for (let i = 0; i < 100; i++) {
          const m = (await getJson<{ mirrors: { alarm: unknown }[] }>(`${p.url}/api/mirrors`)).body;
          if (m.mirrors[0]?.alarm) break;
          await new Promise((r) => setTimeout(r, 200));
        }
        const onProcessor = await b.newPage();
        await onProcessor.page.goto(`${p.url}/#/chain`);
        const banner = await onProcessor.page.waitForSelector('[data-testid=alarm]');
        assert.match(
          (await banner.textContent()) ?? '',
          /Mirror node .* stopped at block 3: state_digest_mismatch/,
        );
        assert.match(
          (await onProcessor.page.textContent('[data-testid=mirrors]')) ?? '',
          /ALARM at 3: state_digest_mismatch/,
        );
        await shot(onProcessor.page, 'mirrors', false);
        assert.deepEqual(realErrors(onProcessor.errors), []);
        await onProcessor.page.close();
      } finally {
        await upstream.close();
      }
    });

    await t.test('the city view: neighbourhoods, their positions and flows', async () => {
      await untilCitySettled(p, city);
      const { page, errors } = await b.newPage();
      await page.goto(`${p.url}/#/city?context=${city.context}`);
      await page.waitForSelector('[data-testid=city-members] tbody tr');
      await page.waitForSelector('svg.city[data-flows]:not([data-flows="0"])');
      const positions = (
        await getJson<{
          positions: { member: string; producedKwh: string; consumedKwh: string }[];
        }>(
          `${p.url}/api/energy/contexts/${city.context}/market/stack/positions?from=${city.periodMs}`,
        )
      ).body.positions;
      assert.equal(positions.length, city.members.length);
      for (const pos of positions) {
        const row = await fieldsIn(
          page,
          `[data-testid=city-members] tr[data-member="${pos.member}"]`,
        );
        assert.equal(row['producedKwh'], `${pos.producedKwh} kWh`);
        assert.equal(row['consumedKwh'], `${pos.consumedKwh} kWh`);
      }
      await shot(page, 'city');
      assert.deepEqual(realErrors(errors), []);
      await page.close();
    });

    await t.test(
      `a community of ${BIG_HOUSEHOLDS} households: first picture and frame times`,
      async () => {
        const big = await marketCommunity(p, BIG_HOUSEHOLDS, 3);
        await untilSettled(p, big);
        const { page, errors } = await b.newPage();
        await page.goto(`${p.url}/#/map?context=${big.context}`);
        await page.waitForSelector(
          `canvas[data-ready="true"][data-households="${BIG_HOUSEHOLDS}"]`,
          {
            timeout: 60_000,
          },
        );
        const firstPictureMs = await page.evaluate(
          () => performance.getEntriesByName('hz:map-first-picture')[0]?.startTime ?? -1,
        );
        const frames = await page.evaluate<number[]>(FRAME_TIMES);
        const sorted = [...frames].slice(1).sort((a, b) => a - b);
        const at = (q: number): string =>
          (sorted[Math.floor(q * (sorted.length - 1))] ?? 0).toFixed(1);
        const flows = await page.getAttribute('canvas', 'data-flows-local');
        // The map's reads, one at a time from here (the page sends them together).
        const base = `${p.url}/api/energy/contexts/${big.context}`;
        const reads: [string, string][] = [
          ['context', base],
          ['places', `${base}/places`],
          ['figures by day', `${base}/market/figures?group=day&tz=Europe/Amsterdam`],
          [
            'figures by period',
            `${base}/market/figures?group=period&from=${big.periodMs}&to=${big.periodMs + 86_400_000}`,
          ],
          ['statements', `${base}/market/statements?from=${big.periodMs}&to=${big.periodMs + 1}`],
        ];
        const timed: string[] = [];
        for (const [name, url] of reads) {
          const started = performance.now();
          const res = await fetch(url);
          await res.arrayBuffer();
          timed.push(`${name} ${(performance.now() - started).toFixed(0)} ms`);
        }
        console.log(`dashboard api reads (${BIG_HOUSEHOLDS} households): ${timed.join(', ')}`);
        console.log(
          `dashboard timing: households=${BIG_HOUSEHOLDS} localFlows=${flows} firstPictureMs=${firstPictureMs.toFixed(0)} frameMs p50=${at(0.5)} p95=${at(0.95)} max=${at(1)}`,
        );
        assert.ok(firstPictureMs > 0, 'the page marked its first full picture');
        await shot(page, 'map-1000');
        assert.deepEqual(realErrors(errors), []);
        await page.close();
      },
    );
  } finally {
    await browser?.close();
    for (const r of running.reverse()) await stopProcess(r);
    await dir.remove();
  }
});

async function mapMatchesApi(page: Page, p: StartedProcessor, c: Community): Promise<void> {
  const base = `${p.url}/api/energy/contexts/${c.context}/market`;
  const statements = (
    await getJson<{ statements: Record<string, string>[] }>(
      `${base}/statements?from=${c.periodMs}&to=${c.periodMs + 1}`,
    )
  ).body.statements;
  assert.equal(statements.length, c.traders.length);
  for (const s of statements) {
    const row = await fieldsIn(page, `[data-testid=households] tr[data-address="${s['trader']}"]`);
    assert.equal(row['consumedKwh'], `${s['consumedKwh']} kWh`, `consumed of ${s['trader']}`);
    assert.equal(row['producedKwh'], `${s['producedKwh']} kWh`, `produced of ${s['trader']}`);
  }
  // The owner's places name the households (Place labels), in the map's table too.
  const places = (
    await getJson<{ places: { member: string; label: string | null }[] }>(
      `${p.url}/api/energy/contexts/${c.context}/places`,
    )
  ).body.places;
  assert.equal(places.length, c.traders.length);
  for (const place of places)
    assert.equal(
      await page.textContent(`[data-testid=households] tr[data-address="${place.member}"] a`),
      place.label,
    );
  const figures = (
    await getJson<Figures>(`${base}/figures?from=${c.periodMs}&to=${c.periodMs + 1}`)
  ).body.groups[0];
  assert.ok(figures);
  const shown = await fieldsIn(page, '[data-testid=period-figures]');
  for (const f of ['consumedKwh', 'producedKwh', 'boughtKwh', 'suppliedKwh', 'exportedKwh'])
    assert.equal(shown[f], `${figures[f]} kWh`, f);
  // Every flow of the period between two households (local) or a household and the outside
  // (external) is drawn; a household's own use is not.
  const local = Number(await page.getAttribute('canvas', 'data-flows-local'));
  const external = Number(await page.getAttribute('canvas', 'data-flows-external'));
  const flows = (
    await getJson<{ flows: { kind: string; scope: string; kwh: string }[] }>(
      `${base}/flows?from=${c.periodMs}&to=${c.periodMs + 1}`,
    )
  ).body.flows.filter((f) => f.kind !== 'own' && f.kwh !== '0');
  const localRows = flows.filter((f) => f.scope === 'local');
  assert.ok(localRows.length > 0 && flows.length > localRows.length, 'local and external flows');
  assert.equal(local, localRows.length, 'local flows drawn');
  assert.equal(external, flows.length - localRows.length, 'external flows drawn');
  const rows = await page.$$eval('[data-testid=flows] tbody tr', (trs) =>
    trs.map((tr) => ({
      cls: tr.getAttribute('data-class'),
      kwh: tr.lastElementChild?.textContent,
    })),
  );
  assert.equal(rows.length, Math.min(30, local + external));
}
