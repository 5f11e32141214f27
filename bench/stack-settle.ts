// After the load of `npm run bench -- --stack K`: waiting until every period that received
// readings has been settled by the city and its settlement has come back down to every
// neighbourhood, and measuring, from the chains' block times, how long after the period's end
// each step landed. The upstream row of a neighbourhood's period names the three blocks: its own
// SettlePeriod (`localHeight`), the city's block that wrote its flows (`parentHeight`: the city's
// SettlePeriod of the period) and its UpstreamSettlement (`settledHeight`). Also: whether each
// mirror node reached its processor's head with the same hash.

import type { CityReport } from '../src/city/report.js';
import { HanzenetClient } from '../src/client/client.js';
import { fetchUpstream } from '../src/stack/client.js';
import type { UpstreamRowView } from '../src/stack/views.js';
import type { NeighbourhoodLoad } from './stack-load.js';

/** Past the city's gate closure, how long a period's settlement is waited for. */
const SETTLE_WAIT_MS = 60_000;
const NODE_WAIT_MS = 60_000;
const POLL_MS = 1000;

export interface NeighbourhoodSettlement {
  readonly name: string;
  /** The city signed a missed settlement (the position did not reach it before its gate closure). */
  readonly missed: boolean | null;
  readonly localSettledAfterEndMs: number | null;
  readonly citySettledAfterEndMs: number | null;
  readonly arrivedAfterEndMs: number | null;
}

export interface StackPeriod {
  readonly periodStartMs: number;
  readonly periodEndMs: number;
  /** When the city's settlement of the period was produced, after the period's end. */
  readonly citySettledAfterEndMs: number | null;
  /** When the last neighbourhood received it. */
  readonly lastArrivalAfterEndMs: number | null;
  readonly neighbourhoods: readonly NeighbourhoodSettlement[];
}

export interface NodeCatchUp {
  readonly name: string;
  readonly caughtUp: boolean;
  readonly height: number;
  readonly seconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every period start from the first reading's period to the last reading's. */
export function periodsOf(loads: readonly NeighbourhoodLoad[], periodMs: number): number[] {
  const first = Math.min(...loads.map((l) => l.firstReadingMs));
  const last = Math.max(...loads.map((l) => l.lastReadingMs));
  const out: number[] = [];
  // A reading at exactly a period's start belongs to the period before (the interval's end).
  for (let p = Math.floor((first - 1) / periodMs) * periodMs; p < last; p += periodMs) out.push(p);
  return out;
}

async function settledRows(
  client: HanzenetClient,
  context: string,
  fromMs: number,
): Promise<Map<number, UpstreamRowView>> {
  const view = await fetchUpstream(client, context, { state: 'settled', fromMs });
  return new Map(view.upstream.map((r) => [r.periodStartMs, r]));
}

async function blockTimeMs(client: HanzenetClient, height: number): Promise<number> {
  return (await client.block(height)).processedMs;
}

async function settlementOf(
  name: string,
  row: UpstreamRowView | undefined,
  endMs: number,
  child: HanzenetClient,
  city: HanzenetClient,
): Promise<NeighbourhoodSettlement> {
  if (row === undefined)
    return {
      name,
      missed: null,
      localSettledAfterEndMs: null,
      citySettledAfterEndMs: null,
      arrivedAfterEndMs: null,
    };
  return {
    name,
    missed: row.missed,
    localSettledAfterEndMs: (await blockTimeMs(child, row.localHeight)) - endMs,
    // A missed settlement names the city's first block after its gate closure, not a settlement.
    citySettledAfterEndMs: row.missed ? null : (await blockTimeMs(city, row.parentHeight)) - endMs,
    arrivedAfterEndMs: (await blockTimeMs(child, row.settledHeight)) - endMs,
  };
}

/** Waits for the settlements of every period the load put readings in, then times them. */
export async function awaitStackSettlements(
  city: CityReport,
  loads: readonly NeighbourhoodLoad[],
  periodMs: number,
  log: (line: string) => void,
): Promise<StackPeriod[]> {
  const periods = periodsOf(loads, periodMs);
  const first = periods[0];
  const last = periods[periods.length - 1];
  if (first === undefined || last === undefined) return [];
  const deadlineMs = last + periodMs + city.cityGateClosureSeconds * 1000 + SETTLE_WAIT_MS;
  const cityClient = new HanzenetClient({ url: city.city.url });
  const children = city.neighbourhoods.map((n) => new HanzenetClient({ url: n.url }));
  try {
    log(
      `stack: waiting for ${periods.length} period(s) to be settled by the city and to come back down (until ${new Date(deadlineMs).toISOString().slice(11, 19)})`,
    );
    let rows: Map<number, UpstreamRowView>[] = [];
    for (;;) {
      rows = await Promise.all(
        city.neighbourhoods.map((n, i) =>
          settledRows(children[i] as HanzenetClient, n.context, first),
        ),
      );
      const done = rows.every((r) => periods.every((p) => r.has(p)));
      if (done || Date.now() > deadlineMs) break;
      await sleep(POLL_MS);
    }
    return await Promise.all(
      periods.map(async (periodStartMs) => {
        const endMs = periodStartMs + periodMs;
        const each = await Promise.all(
          city.neighbourhoods.map((n, i) =>
            settlementOf(
              n.name,
              rows[i]?.get(periodStartMs),
              endMs,
              children[i] as HanzenetClient,
              cityClient,
            ),
          ),
        );
        const known = (xs: (number | null)[]): number[] =>
          xs.filter((x): x is number => x !== null);
        const cityTimes = known(each.map((e) => e.citySettledAfterEndMs));
        const arrivals = each.map((e) => e.arrivedAfterEndMs);
        return {
          periodStartMs,
          periodEndMs: endMs,
          citySettledAfterEndMs: cityTimes.length === 0 ? null : Math.max(...cityTimes),
          lastArrivalAfterEndMs: arrivals.includes(null) ? null : Math.max(...known(arrivals)),
          neighbourhoods: each,
        };
      }),
    );
  } finally {
    cityClient.close();
    for (const c of children) c.close();
  }
}

/** Each mirror node against its processor's head at the time of the call. */
export async function nodeCatchUp(city: CityReport): Promise<NodeCatchUp[]> {
  const chains = [city.city, ...city.neighbourhoods].filter((c) => c.nodeUrl !== '');
  return Promise.all(
    chains.map(async (c) => {
      const processor = new HanzenetClient({ url: c.url });
      const node = new HanzenetClient({ url: c.nodeUrl });
      const startMs = performance.now();
      try {
        const head = (await processor.info()).head;
        if (head === null) return { name: c.name, caughtUp: true, height: 0, seconds: 0 };
        for (;;) {
          const at = (await node.info()).head;
          if (at !== null && at.height >= head.height) {
            const same = (await node.block(head.height)).hash === head.hash;
            return {
              name: c.name,
              caughtUp: same,
              height: head.height,
              seconds: (performance.now() - startMs) / 1000,
            };
          }
          if (performance.now() - startMs > NODE_WAIT_MS)
            return {
              name: c.name,
              caughtUp: false,
              height: head.height,
              seconds: NODE_WAIT_MS / 1000,
            };
          await sleep(250);
        }
      } finally {
        processor.close();
        node.close();
      }
    }),
  );
}
