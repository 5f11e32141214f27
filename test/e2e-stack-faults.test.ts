// End-to-end: stacked marketplaces whose processes die without warning (issue 14, item 6). Two
// neighbourhoods and a city, each its own processor, chain and data dir, on PGlite: N1's
// households have solar and are in surplus after their local settlement, N2's have no panels and
// are in deficit; N1 and N2 are members of the city C, and one `hanzenet uplink` per
// neighbourhood carries their positions up and the settlements down. In one market minute:
// - N2's processor is killed with SIGKILL after its readings were accepted and before its local
//   settlement, and started again from its data dir: it settles after the restart;
// - C's processor is killed after both positions reached it and before it settled, and started
//   again: it settles after the restart;
// - N2's uplink is killed while it is posting the settlement down (its request is held in a proxy
//   in front of N2, so the moment is observable, not timed), and a new uplink carries it.
// Then N2's households are covered by N1's solar at C's price with the label intact, C supplies
// only the remainder, every statement balances, nothing is counted twice, the late copy of the
// killed uplink's request is refused by its derived id, and `hanzenet audit stack` passes for
// both neighbourhoods with the figures the chains hold.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TxView } from '../src/chain/views.js';
import { HanzenetClient } from '../src/client/client.js';
import { parseKwh } from '../src/core/amount.js';
import { PrivateKey } from '../src/core/keys.js';
import { fetchMarketStatements } from '../src/energy/client.js';
import type { StatementView } from '../src/energy/market-statements.js';
import type { StackAuditReport } from '../src/stack/audit.js';
import { fetchMemberFlows, fetchMemberPositions, fetchUpstream } from '../src/stack/client.js';
import { stackTxIdHex } from '../src/stack/ids.js';
import type { MemberFlowView } from '../src/stack/views.js';
import { runCli } from './support/cli-run.js';
import { TcpProxy, requestBody } from './support/node-proxy.js';
import {
  postJson,
  startProcessorProcess,
  startUplinkProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import type { StartedProcessor, StartedUplink } from './support/processes.js';
import { chainSender, until } from './support/stack-chain.js';

const MINUTE_MS = 60_000;
const BLOCK_INTERVAL_MS = 100;
const UPLINK_INTERVAL_MS = 300;
/** Generous: three processors, two uplinks and the test share two cores with other work. */
const WAIT_MS = 60_000;

/** Starts (or restarts, from the same data dir) one processor of the stack. */
function startChain(dataDir: string, chainId: string): Promise<StartedProcessor> {
  return startProcessorProcess({ dataDir, blockIntervalMs: BLOCK_INTERVAL_MS, chainId });
}

/** Kills with SIGKILL, starts again from the same data dir, and checks it is the same chain. */
async function killAndRestart(p: StartedProcessor, dataDir: string): Promise<StartedProcessor> {
  p.proc.kill('SIGKILL');
  assert.equal(await p.exited, 'SIGKILL');
  const again = await startChain(dataDir, p.chainId);
  assert.deepEqual(
    [again.chainId, again.processorAddress],
    [p.chainId, p.processorAddress],
    'the restarted processor keeps its chain and key',
  );
  return again;
}

async function headHeight(client: HanzenetClient): Promise<number> {
  const head = (await client.info()).head;
  assert.ok(head !== null);
  return head.height;
}

/** kWh text as integer Wh. */
function wh(kwh: string): bigint {
  const parsed = parseKwh(kwh);
  assert.ok(parsed.ok, `kWh ${kwh}`);
  return parsed.wh;
}

/** EUR text (at most 9 decimals) as integer nano-euro. */
function neur(eur: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?$/.exec(eur);
  assert.ok(m !== null, `EUR ${eur}`);
  const value = BigInt(m[2] ?? '0') * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
  return m[1] === '-' ? -value : value;
}

/**
 * A statement balances: what was consumed was own use, bought or supplied; what was produced was
 * own use, sold or exported; what is due is what was bought and supplied less what was sold and
 * exported. Nothing is left late or in imbalance.
 */
function assertBalances(s: StatementView, who: string): void {
  const w = (k: keyof StatementView) => wh(String(s[k]));
  const e = (k: keyof StatementView) => neur(String(s[k]));
  assert.equal(w('consumedKwh'), w('ownUseKwh') + w('boughtKwh') + w('suppliedKwh'), who);
  assert.equal(w('producedKwh'), w('ownUseKwh') + w('soldKwh') + w('exportedKwh'), who);
  assert.equal(
    e('dueEur'),
    e('boughtEur') + e('suppliedEur') - e('soldEur') - e('exportedEur'),
    `${who}: due`,
  );
  assert.deepEqual([s.lateKwh, s.imbalanceKwh], ['0', '0'], `${who}: late or imbalance`);
}

/** One statement per trader for the period; each balances. */
async function statementsOf(
  client: HanzenetClient,
  context: string,
  periodStartMs: number,
): Promise<Map<string, StatementView>> {
  const view = await fetchMarketStatements(client, context, {
    fromMs: periodStartMs,
    toMs: periodStartMs + 1,
  });
  const byTrader = new Map<string, StatementView>();
  for (const s of view.statements) {
    assert.ok(!byTrader.has(s.trader), `one statement of ${s.trader} in ${context}`);
    byTrader.set(s.trader, s);
    assertBalances(s, `${s.trader} in ${context}`);
  }
  return byTrader;
}

const flowRow = (f: MemberFlowView) => [
  f.kind,
  f.seller,
  f.buyer,
  f.labels.join(','),
  f.kwh,
  f.priceEur,
];

test('stacked marketplaces: SIGKILL of a neighbourhood, the city and an uplink loses and doubles nothing', {
  timeout: 240_000,
}, async (t) => {
  const startedMs = Date.now();
  const dirs = await Promise.all(['stack-n1', 'stack-n2', 'stack-city'].map((d) => tempDir(d)));
  const [n1Dir, n2Dir, cDir] = dirs.map((d) => d.path) as [string, string, string];
  let [n1, n2, city] = await Promise.all([
    startChain(n1Dir, 'hz-n1'),
    startChain(n2Dir, 'hz-n2'),
    startChain(cDir, 'hz-city'),
  ]);
  // The uplinks reach N2 and the city through proxies, which follow them to their new ports after
  // a restart; the proxy in front of N2 also holds the settlement the uplink posts down.
  const toN2 = new TcpProxy(Number(new URL(n2.url).port));
  const toCity = new TcpProxy(Number(new URL(city.url).port));
  await Promise.all([toN2.up(), toCity.up()]);
  const uplinks: StartedUplink[] = [];
  const clients: HanzenetClient[] = [];
  const clientOf = (p: StartedProcessor): HanzenetClient => {
    const c = new HanzenetClient({ url: p.url });
    clients.push(c);
    return c;
  };
  try {
    const keys = (n: number) => Array.from({ length: n }, () => PrivateKey.generate());
    const [n1Owner, n2Owner, cOwner] = keys(3) as [PrivateKey, PrivateKey, PrivateKey];
    const N1 = n1Owner.address;
    const N2 = n2Owner.address;
    const C = cOwner.address;
    // N1: ann and ben have solar panels and a house meter, cas only a house meter.
    // N2: dan and eva have only a house meter.
    const [ann, annSolar, annHouse, ben, benSolar, benHouse, cas, casHouse] = keys(
      8,
    ) as PrivateKey[];
    const [dan, danHouse, eva, evaHouse] = keys(4) as PrivateKey[];
    // N1's and N2's producer and consumer in the city (their positions are booked under them).
    const [n1Producer, n1Consumer, n2Producer, n2Consumer] = keys(4) as PrivateKey[];
    assert.ok(ann && annSolar && annHouse && ben && benSolar && benHouse && cas && casHouse);
    assert.ok(dan && danHouse && eva && evaHouse);
    assert.ok(n1Producer && n1Consumer && n2Producer && n2Consumer);

    // The period: the minute that has just ended.
    const P = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const periodEndMs = P + MINUTE_MS;
    const readingMs = P + 59_000;
    const [onN1, onN2, onCity] = await Promise.all([
      chainSender(n1),
      chainSender(n2),
      chainSender(city),
    ]);
    // Each chain is set up in one block: the calls of a block run in order.
    type Call = [PrivateKey, string, Record<string, unknown>];
    const neighbourhood = (
      owner: PrivateKey,
      households: [PrivateKey, PrivateKey | null, PrivateKey][],
    ): Call[] => {
      const context = owner.address;
      const device = (address: string, trader: string, labels: string[]) => ({
        context,
        address,
        allowed: true,
        trader,
        labels,
      });
      return [
        ...households.flatMap(([h, solar, house]): Call[] => [
          [owner, 'Trader', { context, address: h.address, allowed: true }],
          ...(solar === null
            ? []
            : [[owner, 'Producer', device(solar.address, h.address, ['solar'])] as Call]),
          [owner, 'Consumer', device(house.address, h.address, [])],
        ]),
        [owner, 'Market', { context, on: true, periodSeconds: 60, gateClosureSeconds: 0 }],
        [
          owner,
          'MarketParent',
          {
            context,
            on: true,
            parentChain: city.chainId,
            parentContext: C,
            processor: city.processorAddress,
          },
        ],
        [
          owner,
          'MarketPrices',
          { context, fromMs: P, localEur: ['0.15'], supplyEur: ['0.3'], feedInEur: ['0.05'] },
        ],
      ];
    };
    const members: [PrivateKey, StartedProcessor, PrivateKey, PrivateKey][] = [
      [n1Owner, n1, n1Producer, n1Consumer],
      [n2Owner, n2, n2Producer, n2Consumer],
    ];
    const cityCalls: Call[] = [
      [cOwner, 'Market', { context: C, on: true, periodSeconds: 60, gateClosureSeconds: 0 }],
      ...members.flatMap(([owner, chain, producer, consumer]): Call[] => {
        const member = owner.address;
        const device = (address: string) => ({
          context: C,
          address,
          allowed: true,
          trader: member,
          labels: [],
        });
        return [
          [cOwner, 'Trader', { context: C, address: member, allowed: true }],
          [cOwner, 'Producer', device(producer.address)],
          [cOwner, 'Consumer', device(consumer.address)],
          [
            cOwner,
            'MarketMember',
            {
              context: C,
              member,
              chain: chain.chainId,
              childContext: member,
              processor: chain.processorAddress,
              producer: producer.address,
              consumer: consumer.address,
            },
          ],
        ];
      }),
      [
        cOwner,
        'MarketPrices',
        { context: C, fromMs: P, localEur: ['0.2'], supplyEur: ['0.32'], feedInEur: ['0.04'] },
      ],
    ];
    await Promise.all([
      onN1.acceptTogether(
        neighbourhood(n1Owner, [
          [ann, annSolar, annHouse],
          [ben, benSolar, benHouse],
          [cas, null, casHouse],
        ]),
      ),
      onN2.acceptTogether(
        neighbourhood(n2Owner, [
          [dan, null, danHouse],
          [eva, null, evaHouse],
        ]),
      ),
      onCity.acceptTogether(cityCalls),
    ]);
    const setUpMs = Date.now();

    // The gate closures, fixed now that the set-up is done, so that the schedule does not depend
    // on how long the processes took to start (docs/market.md, "Choosing the gate closures"). N1
    // settles as soon as its readings are in; N2 8 s from now, which leaves time to kill its
    // processor before; the city 25 s from now, which leaves N2's restart, both settlements and
    // both trips up time on a loaded machine (about 10 s were used on two cores at load 8).
    const gateSeconds = (fromNowMs: number) =>
      Math.ceil((Date.now() + fromNowMs - periodEndMs) / 1000);
    const n2GateSeconds = gateSeconds(8_000);
    const cityGateSeconds = gateSeconds(25_000);
    const cityGateMs = periodEndMs + cityGateSeconds * 1000;
    await Promise.all([
      onN2.accept(n2Owner, 'Market', { context: N2, on: true, gateClosureSeconds: n2GateSeconds }),
      onCity.accept(cOwner, 'Market', {
        context: C,
        on: true,
        gateClosureSeconds: cityGateSeconds,
      }),
    ]);

    const firstUplinks = await Promise.all([
      startUplinkProcess(n1.url, toCity.url, UPLINK_INTERVAL_MS),
      startUplinkProcess(toN2.url, toCity.url, UPLINK_INTERVAL_MS),
    ]);
    uplinks.push(...firstUplinks);
    const [, n2Uplink] = firstUplinks;
    // The first post to N2 through its proxy is the settlement coming down: it is held there.
    let held: Buffer | null = null;
    void toN2.keepNextRequest('POST /api/transactions').then((request) => {
      held = request;
    });

    // The readings, each neighbourhood's in one block (so that its agent settles them together).
    // N1: ann 1 kWh solar, 0.2 used; ben 0.6 solar, 0.2 used; cas 0.3 used. After own use ann has
    // 0.8 and ben 0.4 to spare; cas gets 0.2 and 0.1 of it locally, and 0.9 kWh of solar is left
    // for the city. N2: dan uses 1.2 kWh and eva 0.6, with nothing to share: 1.8 kWh for the city.
    await Promise.all([
      onN1.acceptTogether([
        [annSolar, 'Energy', { context: N1, amount: '1', register: '1', readingMs }],
        [annHouse, 'Energy', { context: N1, amount: '-0.2', register: '0.2', readingMs }],
        [benSolar, 'Energy', { context: N1, amount: '0.6', register: '0.6', readingMs }],
        [benHouse, 'Energy', { context: N1, amount: '-0.2', register: '0.2', readingMs }],
        [casHouse, 'Energy', { context: N1, amount: '-0.3', register: '0.3', readingMs }],
      ]),
      onN2.acceptTogether([
        [danHouse, 'Energy', { context: N2, amount: '-1.2', register: '1.2', readingMs }],
        [evaHouse, 'Energy', { context: N2, amount: '-0.6', register: '0.6', readingMs }],
      ]),
    ]);

    // N2's readings are in and its gate has not closed: nothing is settled there yet. Kill it.
    const n2Before = clientOf(n2);
    assert.deepEqual((await fetchUpstream(n2Before, N2)).upstream, []);
    n2 = await killAndRestart(n2, n2Dir);
    toN2.retarget(Number(new URL(n2.url).port));
    const n2Client = clientOf(n2);
    const n2RestartHeight = await headHeight(n2Client);

    // Both positions reach the city, N2's settled locally only after its processor's restart.
    const cityBefore = clientOf(city);
    const positions = await until('both positions on the city chain', WAIT_MS, async () => {
      const page = await fetchMemberPositions(cityBefore, C);
      return page.positions.length === 2 ? page.positions : null;
    });
    const n2Up = (await fetchUpstream(n2Client, N2)).upstream;
    assert.equal(n2Up.length, 1);
    assert.ok(
      (n2Up[0]?.localHeight ?? 0) > n2RestartHeight,
      `N2 settled at block ${n2Up[0]?.localHeight}, after its restart at ${n2RestartHeight}`,
    );
    // The city has not settled: its gate is still ahead. Kill it.
    const cityMarginMs = cityGateMs - Date.now();
    assert.ok(cityMarginMs > 0, 'the positions reached the city before its gate closure');
    assert.equal((await fetchMemberFlows(cityBefore, C, P, N2)).settled, false);
    city = await killAndRestart(city, cDir);
    toCity.retarget(Number(new URL(city.url).port));
    const cityClient = clientOf(city);
    const cityRestartHeight = await headHeight(cityClient);

    // The city settles at its gate; N2's uplink brings the settlement down and the proxy holds
    // the request: the uplink is killed in the middle of carrying it, and a new one takes over.
    const heldRequest = await until(
      'the settlement held on its way down to N2',
      2 * WAIT_MS,
      async () => held,
    );
    const heldTx = JSON.parse(requestBody(heldRequest)) as { base64tx: string };
    n2Uplink.proc.kill('SIGKILL');
    assert.equal(await n2Uplink.exited, 'SIGKILL');
    assert.equal((await fetchUpstream(n2Client, N2, { state: 'open' })).upstream.length, 1);
    uplinks.push(await startUplinkProcess(toN2.url, toCity.url, UPLINK_INTERVAL_MS));

    const n1Client = clientOf(n1);
    const [n1Settled, n2Settled] = await until('both settlements down', WAIT_MS, async () => {
      const [a, b] = await Promise.all([
        fetchUpstream(n1Client, N1, { state: 'settled' }),
        fetchUpstream(n2Client, N2, { state: 'settled' }),
      ]);
      return a.upstream.length === 1 && b.upstream.length === 1 ? [a.upstream, b.upstream] : null;
    });
    assert.ok(
      (n2Settled[0]?.parentHeight ?? 0) > cityRestartHeight,
      'the city settled after its restart',
    );
    // The killed uplink's request, arriving late: the same bytes, refused by their derived id.
    const late = await postJson<TxView & { error?: { code: string } }>(
      `${n2.url}/api/transactions`,
      { base64tx: heldTx.base64tx, wait: true },
    );
    assert.equal(
      late.body.error?.code ?? late.body.code,
      'tx_duplicate_id',
      JSON.stringify(late.body),
    );

    // Going up, one position per member: N1 0.9 kWh produced, N2 1.8 kWh consumed.
    assert.deepEqual(
      positions
        .map((p) => [p.member, p.periodStartMs, p.producedKwh, p.consumedKwh])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      [
        [N1, P, '0.9', '0'],
        [N2, P, '0', '1.8'],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    assert.equal((await fetchMemberPositions(cityClient, C)).positions.length, 2);
    // In the city: N1's solar covers half of N2's deficit at the city's price, and the city
    // supplies only the remainder.
    const cityN2 = await fetchMemberFlows(cityClient, C, P, N2);
    assert.deepEqual(cityN2.flows.map(flowRow), [
      ['allocation', N1, N2, 'solar', '0.9', '0.2'],
      ['supply', C, N2, '', '0.9', '0.32'],
    ]);
    const cityStatements = await statementsOf(cityClient, C, P);
    assert.deepEqual(
      [...cityStatements.keys()].sort(),
      [N1, N2].sort(),
      'the city has only its two members',
    );
    const cityTotals = (await fetchMarketStatements(cityClient, C, { fromMs: P, toMs: P + 1 }))
      .totals;
    assert.deepEqual(
      [cityTotals.suppliedKwh, cityTotals.exportedKwh, cityTotals.boughtKwh, cityTotals.soldKwh],
      ['0.9', '0', '0.9', '0.9'],
    );

    // Down in N2: each household got its share of N1's solar at the city's price, with the label,
    // and its share of the city's supply, once.
    const n2Flows = async (h: PrivateKey) =>
      (await fetchMemberFlows(n2Client, N2, P, h.address)).flows.map(flowRow);
    assert.deepEqual(await n2Flows(dan), [
      ['upstream', N1, dan.address, 'solar', '0.6', '0.2'],
      ['supply', C, dan.address, '', '0.6', '0.32'],
    ]);
    assert.deepEqual(await n2Flows(eva), [
      ['upstream', N1, eva.address, 'solar', '0.3', '0.2'],
      ['supply', C, eva.address, '', '0.3', '0.32'],
    ]);
    const n2Statements = await statementsOf(n2Client, N2, P);
    const n1Statements = await statementsOf(n1Client, N1, P);
    const figures = (s: StatementView | undefined) => [
      s?.producedKwh,
      s?.consumedKwh,
      s?.boughtKwh,
      s?.soldKwh,
      s?.suppliedKwh,
      s?.dueEur,
    ];
    // produced, consumed, bought, sold, supplied kWh, due EUR
    assert.deepEqual(figures(n2Statements.get(dan.address)), [
      '0',
      '1.2',
      '0.6',
      '0',
      '0.6',
      '0.312',
    ]);
    assert.deepEqual(figures(n2Statements.get(eva.address)), [
      '0',
      '0.6',
      '0.3',
      '0',
      '0.3',
      '0.156',
    ]);
    // Down in N1: ann and ben sold locally (0.15) and to N2 (0.2), in proportion to their surplus.
    assert.deepEqual(figures(n1Statements.get(ann.address)), [
      '1',
      '0.2',
      '0',
      '0.8',
      '0',
      '-0.15',
    ]);
    assert.deepEqual(figures(n1Statements.get(ben.address)), [
      '0.6',
      '0.2',
      '0',
      '0.4',
      '0',
      '-0.075',
    ]);
    assert.deepEqual(figures(n1Statements.get(cas.address)), [
      '0',
      '0.3',
      '0.3',
      '0',
      '0',
      '0.045',
    ]);
    for (const [name, h, n] of [
      ['ann', ann, n1Statements],
      ['ben', ben, n1Statements],
      ['cas', cas, n1Statements],
      ['dan', dan, n2Statements],
      ['eva', eva, n2Statements],
    ] as const) {
      const s = n.get(h.address);
      t.diagnostic(
        `${name}: produced ${s?.producedKwh} kWh, consumed ${s?.consumedKwh} kWh, bought ${s?.boughtKwh} kWh (${s?.boughtEur} EUR), sold ${s?.soldKwh} kWh (${s?.soldEur} EUR), supplied ${s?.suppliedKwh} kWh (${s?.suppliedEur} EUR), due ${s?.dueEur} EUR`,
      );
    }

    // Each settlement came down once, with its derived id, signed by the city's processor.
    for (const [client, chain, member] of [
      [n1Client, n1, N1],
      [n2Client, n2, N2],
    ] as const) {
      const down = await client.getTransaction(
        stackTxIdHex({
          childChain: chain.chainId,
          parentChain: city.chainId,
          childContext: member,
          periodStartMs: P,
          direction: 'down',
        }),
      );
      assert.deepEqual(
        [down.status, down.contractType, down.sender],
        ['accepted', 'UpstreamSettlement', city.processorAddress],
      );
    }
    assert.deepEqual(
      [
        n1Settled[0]?.producedKwh,
        n1Settled[0]?.missed,
        n2Settled[0]?.consumedKwh,
        n2Settled[0]?.missed,
      ],
      ['0.9', false, '1.8', false],
    );

    // The audit re-derives both directions for each neighbourhood and agrees with the chains.
    for (const [chain, member, position, row] of [
      [n1, N1, positions.find((p) => p.member === N1), n1Settled[0]],
      [n2, N2, positions.find((p) => p.member === N2), n2Settled[0]],
    ] as const) {
      const audit = await runCli(['audit', 'stack', '--child', chain.url, '--parent', city.url]);
      assert.equal(audit.code, 0, audit.stderr);
      const report = JSON.parse(audit.stdout) as StackAuditReport;
      assert.deepEqual(
        [report.ok, report.childChain, report.parentChain, report.contexts, report.checked],
        [true, chain.chainId, city.chainId, 1, { up: 1, down: 1 }],
      );
      assert.deepEqual(report.differences, []);
      // Its figures are the chains': the position the city recorded, the residual N settled.
      assert.ok(position !== undefined && row !== undefined);
      assert.deepEqual(report.checkedKwh, {
        up: { producedKwh: position.producedKwh, consumedKwh: position.consumedKwh },
        down: { producedKwh: row.producedKwh, consumedKwh: row.consumedKwh },
      });
      t.diagnostic(
        `audit ${member === N1 ? 'N1' : 'N2'}: checked ${JSON.stringify(report.checked)}, kWh ${JSON.stringify(report.checkedKwh)}`,
      );
    }
    t.diagnostic(
      `set-up ${setUpMs - startedMs} ms; both positions in the city ${cityMarginMs} ms before its gate closure; whole test ${Date.now() - startedMs} ms`,
    );
  } finally {
    for (const c of clients) c.close();
    for (const u of uplinks)
      if (u.proc.exitCode === null && u.proc.signalCode === null) u.proc.kill('SIGTERM');
    await Promise.all(uplinks.map((u) => u.exited));
    await Promise.all([toN2.down(), toCity.down()]);
    await Promise.all([stopProcess(n1), stopProcess(n2), stopProcess(city)]);
    await Promise.all(dirs.map((d) => d.remove()));
  }
});
