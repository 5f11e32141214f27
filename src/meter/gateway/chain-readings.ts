// What meter keys recorded on chain, read through the API: the context's devices and their
// traders (GET /api/energy/contexts/:c), each trader's history of balance changes (energy entries
// name the device as counterparty), and each Energy transaction's payload (GET
// /api/transactions/:id) for the meter reading it carried (register, readingMs, sinceMs).

import type { HanzenetClient } from '../../client/client.js';
import { ClientError } from '../../client/errors.js';
import { parseKwh } from '../../core/amount.js';
import { fetchEnergyContext, fetchEnergyHistory } from '../../energy/client.js';
import type { Direction } from './state.js';

export interface ChainDevice {
  readonly address: string;
  readonly direction: Direction;
  readonly trader: string;
  readonly labels: readonly string[];
}

export interface ChainReading {
  readonly txId: string;
  readonly device: string;
  readonly direction: Direction;
  /** The energy booked, Wh, positive for both directions. */
  readonly amountWh: bigint;
  /** The meter reading the transaction carried; null for Energy without one. */
  readonly registerWh: bigint | null;
  readonly readingMs: number | null;
  readonly sinceMs: number | null;
  readonly height: number;
  readonly processedMs: number;
  /** The settlement period (its first block) the energy was booked in, and the trader and labels. */
  readonly block: number;
  readonly trader: string;
  readonly labels: readonly string[];
}

const HISTORY_PAGE = 1000;
const LOOKUPS_IN_PARALLEL = 8;

/** The producer (returned) or consumer (delivered) registration of `address`, or null. */
export async function chainDevice(
  client: HanzenetClient,
  context: string,
  address: string,
  direction: Direction,
): Promise<ChainDevice | null> {
  const view = await fetchEnergyContext(client, context);
  const list = direction === 'returned' ? view.producers : view.consumers;
  const found = list.find((d) => d.address === address);
  return found === undefined
    ? null
    : { address, direction, trader: found.trader, labels: found.labels };
}

/**
 * The Energy entries of `devices` in their traders' histories, newest first, back to the first
 * block processed before `fromMs` (null: all of them); with `newestBlockOnly`, only those of the
 * newest block that has any. Payloads are not read here.
 */
async function historyEntries(
  client: HanzenetClient,
  context: string,
  devices: readonly ChainDevice[],
  fromMs: number | null,
  newestBlockOnly: boolean,
): Promise<Omit<ChainReading, 'registerWh' | 'readingMs' | 'sinceMs'>[]> {
  const out: Omit<ChainReading, 'registerWh' | 'readingMs' | 'sinceMs'>[] = [];
  const traders = [...new Set(devices.map((d) => d.trader))];
  for (const trader of traders) {
    const mine = devices.filter((d) => d.trader === trader);
    let before: string | undefined;
    for (;;) {
      const page = await fetchEnergyHistory(
        client,
        context,
        trader,
        before === undefined ? { limit: HISTORY_PAGE } : { limit: HISTORY_PAGE, before },
      );
      let older = false;
      for (const e of page.entries) {
        if (fromMs !== null && e.processedMs < fromMs) older = true;
        if (e.kind !== 'energy' || e.counterparty === null) continue;
        const parsed = parseKwh(e.amount);
        if (!parsed.ok) continue;
        const direction: Direction = parsed.wh > 0n ? 'returned' : 'delivered';
        const device = mine.find((d) => d.address === e.counterparty && d.direction === direction);
        if (device === undefined) continue;
        const amountWh = parsed.wh < 0n ? -parsed.wh : parsed.wh;
        if (newestBlockOnly && out[0] !== undefined && out[0].height !== e.height) return out;
        out.push({
          txId: e.txId,
          device: device.address,
          direction,
          amountWh,
          height: e.height,
          processedMs: e.processedMs,
          block: e.block,
          trader,
          labels: e.labels,
        });
      }
      if (older || page.next === null) break;
      before = page.next;
    }
  }
  return out;
}

/** The meter reading fields of an Energy transaction's payload. */
async function readingOf(
  client: HanzenetClient,
  txId: string,
): Promise<{ registerWh: bigint | null; readingMs: number | null; sinceMs: number | null }> {
  const view = await client.getTransaction(txId);
  let payload: unknown = view.payload;
  if (typeof payload === 'string') {
    try {
      payload = JSON.parse(payload) as unknown;
    } catch (err) {
      throw new ClientError(
        'bad_response',
        `transaction ${txId} has a payload that is not JSON`,
        { txId },
        null,
        { cause: err },
      );
    }
  }
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<
    string,
    unknown
  >;
  const register = p['register'] === undefined ? null : parseKwh(p['register']);
  const registerWh = register?.ok ? register.wh : null;
  const readingMs = typeof p['readingMs'] === 'number' ? p['readingMs'] : null;
  const sinceMs = typeof p['sinceMs'] === 'number' ? p['sinceMs'] : null;
  return { registerWh, readingMs, sinceMs };
}

/** The device's last meter reading on chain in that direction, or null when it has none. */
export async function lastChainReading(
  client: HanzenetClient,
  context: string,
  address: string,
  direction: Direction,
): Promise<{ registerWh: bigint; readingMs: number } | null> {
  const device = await chainDevice(client, context, address, direction);
  if (device === null) return null;
  // The device's calls in the newest block that has any (several readings can share a block).
  const newest = await historyEntries(client, context, [device], null, true);
  let last: { registerWh: bigint; readingMs: number } | null = null;
  for (const e of newest) {
    // Energy keeps a reading only while every call carries one (register_required), so the newest
    // calls tell: with a register the latest is the last reading, without one there is none.
    const r = await readingOf(client, e.txId);
    if (r.registerWh === null || r.readingMs === null) return null;
    if (last === null || r.readingMs > last.readingMs)
      last = { registerWh: r.registerWh, readingMs: r.readingMs };
  }
  return last;
}

/** Every Energy call of `devices` processed at or after `fromMs` (and the one before), with its reading. */
export async function chainReadings(
  client: HanzenetClient,
  context: string,
  devices: readonly ChainDevice[],
  fromMs: number,
): Promise<ChainReading[]> {
  const entries = await historyEntries(client, context, devices, fromMs, false);
  const out: ChainReading[] = new Array<ChainReading>(entries.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next;
      next += 1;
      const e = entries[i];
      if (e === undefined) return;
      out[i] = { ...e, ...(await readingOf(client, e.txId)) };
    }
  };
  await Promise.all(Array.from({ length: LOOKUPS_IN_PARALLEL }, worker));
  return out.sort(
    (a, b) => a.height - b.height || (a.txId < b.txId ? -1 : a.txId > b.txId ? 1 : 0),
  );
}
