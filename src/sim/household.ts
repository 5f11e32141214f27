// The simulated clients: the context's owner, who registers the households as traders with a
// producing and a consuming meter each, and the households, who submit meter readings, transfer
// energy to each other and reduce labels, with the energy contracts' real transactions. A client
// submits one transaction (or the owner one batch) at a time to the processor or a mirror node,
// over the lossy network; without an answer it asks again and submits the same bytes again (the
// same id, which must never be accepted twice), and it records what it was told is final, which
// the invariants then hold the chain to.

import { signTx } from '../chain/tx.js';
import type { Tx } from '../chain/types.js';
import type { TxView } from '../chain/views.js';
import { packContract } from '../contracts/authoring/pack.js';
import { formatWh } from '../core/amount.js';
import type { PrivateKey } from '../core/keys.js';
import { sleepOn } from '../core/scheduler.js';
import { ENERGY_CONTRACTS } from '../energy/index.js';
import type { SubmitResult } from '../ledger/service.js';
import type { IncarnationScheduler } from './incarnation.js';
import type { Confirmation } from './invariants.js';
import type { Random } from './random.js';
import type { Trace } from './trace.js';
import type { Endpoint } from './wire.js';

const CONTRACT_HASH = new Map(ENERGY_CONTRACTS.map((def) => [def.type, packContract(def).hashHex]));
/**
 * Submit refusals that mean "not now": the client submits the same bytes again later. Until the
 * processor's first start has installed the energy contracts, their hashes are unknown.
 */
const TRY_AGAIN = new Set(['retry', 'queue_full', 'shutting_down', 'internal', 'contract_unknown']);
/** Rounds in which the owner submits again the registrations it got no outcome for. */
const OWNER_ROUNDS_MAX = 5;
const POLL_MS = 1_000;
/** Polls of one transaction before the client submits it again. */
const POLLS_PER_SUBMIT = 5;
/** Submissions of one transaction before the client gives up on it. */
const SUBMITS_MAX = 8;
const PRODUCER_LABELS = ['local', 'solar'] as const;

export interface HouseholdKeys {
  readonly trader: PrivateKey;
  readonly producer: PrivateKey;
  readonly consumer: PrivateKey;
}

/** What every client shares: where it talks, what it records, and the chain it signs for. */
export interface ClientDeps {
  readonly endpoint: Endpoint;
  readonly scheduler: IncarnationScheduler;
  readonly random: Random;
  readonly trace: Trace;
  readonly chainId: string;
  readonly context: string;
  /** The processes a client may submit to (the processor and the mirror nodes). */
  readonly servers: readonly string[];
  readonly confirmed: Confirmation[];
  /** False once the run winds down: finish what is under way, start nothing new. */
  readonly working: () => boolean;
}

export function signCall(
  type: string,
  payload: Record<string, unknown>,
  key: PrivateKey,
  deps: Pick<ClientDeps, 'chainId' | 'random'>,
): Tx {
  const contractHashHex = CONTRACT_HASH.get(type);
  if (contractHashHex === undefined) throw new Error(`no energy contract of type ${type}`);
  const idHex = Array.from({ length: 4 }, () =>
    deps.random.nextUint32().toString(16).padStart(8, '0'),
  ).join('');
  return signTx(
    { idHex, contractHashHex, validTillMs: 0, payloadText: JSON.stringify(payload) },
    key,
    deps.chainId,
  );
}

/** Submits `txs` and follows each to its final outcome; null for one the client gave up on. */
export async function settleTxs(
  deps: ClientDeps,
  actor: string,
  txs: readonly Tx[],
): Promise<(TxView | null)[]> {
  const finals = new Map<string, TxView | null>();
  for (let submits = 0; submits < SUBMITS_MAX && finals.size < txs.length; submits++) {
    const open = txs.filter((tx) => !finals.has(tx.idHex));
    const server = deps.random.pick(deps.servers);
    const results = await submitTo(deps, server, open);
    open.forEach((tx, i) => {
      const r = results?.[i];
      if (
        r === undefined ||
        r.ok ||
        TRY_AGAIN.has(r.error.code) ||
        r.error.code === 'tx_duplicate_id'
      )
        return;
      deps.trace.record(actor, 'refused', `${tx.idHex} ${r.error.code}`);
      finals.set(tx.idHex, null);
    });
    for (let poll = 0; poll < POLLS_PER_SUBMIT && finals.size < txs.length; poll++) {
      await sleepOn(deps.scheduler, POLL_MS);
      let unknown = 0;
      for (const tx of txs.filter((t) => !finals.has(t.idHex))) {
        const view = await viewAt(deps, server, tx.idHex);
        if (view === null) unknown++;
        if (view === null || view.status === 'new') continue;
        finals.set(tx.idHex, view);
        deps.trace.record(
          actor,
          'final',
          `${tx.idHex} ${view.status} ${view.code ?? ''} via ${server}`,
        );
        if (view.status === 'accepted' || view.status === 'rejected')
          deps.confirmed.push({ idHex: view.id, status: view.status });
      }
      // An id nobody knows twice in a row (lost on the way, or by a processor that crashed):
      // submit it again.
      if (unknown > 0 && poll > 0) break;
    }
  }
  return txs.map((tx) => finals.get(tx.idHex) ?? null);
}

async function submitTo(
  deps: ClientDeps,
  server: string,
  txs: readonly Tx[],
): Promise<SubmitResult[] | null> {
  try {
    const call = { op: 'submit', txs: txs.map((tx) => tx.bytes) } as const;
    return (await deps.endpoint.call(server, call)) as SubmitResult[];
  } catch {
    return null; // no answer: the transactions may or may not have arrived
  }
}

async function viewAt(deps: ClientDeps, server: string, idHex: string): Promise<TxView | null> {
  try {
    return (await deps.endpoint.call(server, { op: 'transaction', idHex })) as TxView | null;
  } catch {
    return null;
  }
}

/** The context's owner registers every household: traders first, then their meters. */
export async function runOwner(
  deps: ClientDeps,
  owner: PrivateKey,
  households: readonly HouseholdKeys[],
): Promise<void> {
  const context = deps.context;
  const traders = households.map((h) =>
    signCall('Trader', { context, address: h.trader.address, allowed: true }, owner, deps),
  );
  await settleAll(deps, traders);
  const meters = households.flatMap((h) => [
    signCall(
      'Producer',
      {
        context,
        address: h.producer.address,
        allowed: true,
        trader: h.trader.address,
        labels: [...PRODUCER_LABELS],
      },
      owner,
      deps,
    ),
    signCall(
      'Consumer',
      { context, address: h.consumer.address, allowed: true, trader: h.trader.address, labels: [] },
      owner,
      deps,
    ),
  ]);
  await settleAll(deps, meters);
}

/** The owner's registrations: what got no outcome is submitted again, for a few rounds. */
async function settleAll(deps: ClientDeps, txs: readonly Tx[]): Promise<void> {
  let open = txs;
  for (let round = 0; round < OWNER_ROUNDS_MAX && open.length > 0; round++) {
    const finals = await settleTxs(deps, 'owner', open);
    open = open.filter((_, i) => finals[i] === null);
  }
}

/** A balance the household believes it holds: period (first block) and label set. */
interface Holding {
  readonly block: number;
  readonly labels: readonly string[];
  wh: bigint;
}

/** One household: readings of its two meters, transfers and label reductions, one at a time. */
export class Household {
  private producedRegisterWh = 0n;
  private consumedRegisterWh = 0n;
  private lastReadingMs = 0;
  private readonly holdings: Holding[] = [];

  constructor(
    private readonly deps: ClientDeps,
    readonly name: string,
    private readonly keys: HouseholdKeys,
    private readonly peers: readonly string[],
  ) {}

  async run(startDelayMs: number): Promise<void> {
    const { deps } = this;
    await sleepOn(deps.scheduler, startDelayMs);
    while (deps.working()) {
      await this.act();
      await sleepOn(deps.scheduler, deps.random.intBetween(200, 3_000));
    }
  }

  private async act(): Promise<void> {
    const roll = this.deps.random.nextFloat();
    if (roll < 0.4) await this.reading('produce');
    else if (roll < 0.55) await this.reading('consume');
    else if (roll < 0.85) await this.transfer();
    else await this.reduce();
  }

  /** A meter reading: the register advances by exactly the amount, dated after the last one. */
  private async reading(direction: 'produce' | 'consume'): Promise<void> {
    const { deps } = this;
    const amountWh = BigInt(deps.random.intBetween(1, 5_000));
    const produce = direction === 'produce';
    const registerWh = (produce ? this.producedRegisterWh : this.consumedRegisterWh) + amountWh;
    const readingMs = Math.max(this.lastReadingMs + 1, deps.scheduler.nowMs());
    const payload = {
      context: deps.context,
      amount: formatWh(produce ? amountWh : -amountWh),
      register: formatWh(registerWh),
      readingMs,
    };
    const key = produce ? this.keys.producer : this.keys.consumer;
    const [view] = await settleTxs(deps, this.name, [signCall('Energy', payload, key, deps)]);
    this.lastReadingMs = readingMs;
    if (view?.status !== 'accepted' || view.blockId === null) return;
    if (produce) this.producedRegisterWh = registerWh;
    else this.consumedRegisterWh = registerWh;
    this.hold(view.blockId, produce ? [...PRODUCER_LABELS] : [], produce ? amountWh : -amountWh);
  }

  /** Gives part of a holding to another household; now and then more than it holds. */
  private async transfer(): Promise<void> {
    const { deps } = this;
    const from = this.pickHolding();
    const receiver = deps.random.pick(this.peers);
    if (from === null || receiver === undefined) return;
    const greedy = deps.random.chance(0.1);
    const amountWh = greedy ? from.wh + 1n : BigInt(deps.random.intBetween(1, Number(from.wh)));
    const payload = {
      context: deps.context,
      receiver,
      block: from.block,
      labels: [...from.labels],
      amount: formatWh(amountWh),
    };
    const [view] = await settleTxs(deps, this.name, [
      signCall('Transfer', payload, this.keys.trader, deps),
    ]);
    if (view?.status === 'accepted') from.wh -= amountWh;
  }

  /** Removes `local` from part of a solar holding (thesis figure 6). */
  private async reduce(): Promise<void> {
    const { deps } = this;
    const from = this.pickHolding();
    if (from === null || !from.labels.includes('local')) return;
    const amountWh = BigInt(deps.random.intBetween(1, Number(from.wh)));
    const payload = {
      context: deps.context,
      block: from.block,
      originalLabels: [...from.labels],
      amount: formatWh(amountWh),
      labelsToRemove: ['local'],
    };
    const [view] = await settleTxs(deps, this.name, [
      signCall('Reduce', payload, this.keys.trader, deps),
    ]);
    if (view?.status !== 'accepted') return;
    from.wh -= amountWh;
    this.hold(
      from.block,
      from.labels.filter((l) => l !== 'local'),
      amountWh,
    );
  }

  private pickHolding(): Holding | null {
    const positive = this.holdings.filter((h) => h.wh > 0n);
    return positive.length === 0 ? null : this.deps.random.pick(positive);
  }

  private hold(block: number, labels: readonly string[], wh: bigint): void {
    const key = labels.join(',');
    const found = this.holdings.find((h) => h.block === block && h.labels.join(',') === key);
    if (found !== undefined) found.wh += wh;
    else this.holdings.push({ block, labels, wh });
  }
}
