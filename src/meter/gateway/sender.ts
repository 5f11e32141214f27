// Sends the gateway's outbox to the chain, in order, until every reading is confirmed. Only
// entries whose signed transaction is on disk are sent; the same bytes (same id) are sent again
// after any failure, so a transaction already taken is refused as tx_duplicate_id and then
// looked up. Outcomes (docs/meter.md, "Idempotency"):
//   accepted                               -> done, the entry leaves the outbox;
//   register_mismatch / reading_not_newer  -> when an earlier reading of the same device is still
//     waiting, this one merely overtook it (it is signed again under a new id); otherwise the
//     chain knows better than our state: resync from the chain's last reading, which drops what
//     the chain has and submits exactly what it lacks;
//   other rejections (say, a device not registered yet) -> reported, signed again under a new id
//     and retried after retry.maxMs: nothing is dropped;
//   invalid (payload, signature)           -> fatal: the outbox stays on disk for a restart.
// A processor that cannot be reached only delays: retry with exponential backoff.

import type { TxView } from '../../chain/views.js';
import type { BatchItemResult, HanzenetClient } from '../../client/client.js';
import { ClientError } from '../../client/errors.js';
import { formatWh } from '../../core/amount.js';
import { ChainError } from '../../core/errors.js';
import type { PrivateKey } from '../../core/keys.js';
import type { Scheduler } from '../../core/scheduler.js';
import { signTx } from '../../chain/tx.js';
import { lastChainReading } from './chain-readings.js';
import type { GatewayReporter } from './report.js';
import { readingTxId, type GatewayState, type OutboxEntry } from './state.js';
import type { MeterRunner } from './meter.js';

export interface SenderOptions {
  readonly client: HanzenetClient;
  readonly context: string;
  readonly chainId: string | null;
  readonly state: GatewayState;
  readonly keys: ReadonlyMap<string, PrivateKey>;
  readonly meters: ReadonlyMap<string, MeterRunner>;
  readonly report: GatewayReporter;
  /** Saves the state; resolves once it is on disk. */
  readonly save: () => Promise<void>;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** The clock for hold times and the timer for waits between rounds and during backoff. */
  readonly scheduler: Scheduler;
}

const BATCH_MAX = 200;
const BATCH_WAIT_MS = 60_000;
const LOOKUP_WAIT_MS = 30_000;
/** Codes that mean: try again later, nothing is wrong with the transaction. */
const TRANSIENT = new Set([
  'unreachable',
  'retry',
  'queue_full',
  'shutting_down',
  'internal',
  'bad_response',
  'await_timeout',
  'limit_exceeded',
  'not_found',
]);

export class GatewaySender {
  /** The signed bytes known to be on disk, per entry seq (`txId:tx`). */
  private readonly onDisk = new Map<number, string>();
  /** Entries held back until this time (ms) after a rejection. */
  private readonly holdUntil = new Map<number, number>();
  private wakeUp: (() => void) | null = null;
  private chainChecked = false;
  confirmed = 0;
  lastError: string | null = null;
  reachable: boolean | null = null;

  constructor(private readonly o: SenderOptions) {}

  /** The saver calls this with the outbox as written. */
  saved(outbox: readonly OutboxEntry[]): void {
    this.onDisk.clear();
    for (const e of outbox) if (e.tx !== null) this.onDisk.set(e.seq, `${e.txId}:${e.tx}`);
    this.wake();
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  /** Sends until `signal` aborts; `fatal` is called with an error that must stop the gateway. */
  async run(signal: AbortSignal, fatal: (err: ChainError) => void): Promise<void> {
    let delayMs = this.o.retryInitialMs;
    while (!signal.aborted) {
      let progressed = false;
      try {
        progressed = await this.round();
        delayMs = this.o.retryInitialMs;
        if (progressed) {
          this.reachable = true;
          this.lastError = null;
        }
      } catch (err) {
        if (!(err instanceof ClientError) || !TRANSIENT.has(err.code)) {
          fatal(
            err instanceof ChainError
              ? err
              : new ChainError(
                  'internal',
                  `the gateway cannot send: ${err instanceof ClientError ? `${err.code}: ` : ''}${(err as Error).message}`,
                  {},
                  { cause: err },
                ),
          );
          return;
        }
        const code = err.code;
        this.reachable = false;
        this.lastError = `${code}: ${(err as Error).message}`;
        this.o.report.emit({
          event: 'processor_unreachable',
          code,
          message: (err as Error).message,
          retryInMs: delayMs,
          outbox: this.o.state.outbox.length,
        });
        await this.sleep(delayMs, signal, false);
        delayMs = Math.min(this.o.retryMaxMs, delayMs * 2);
        continue;
      }
      if (!progressed) await this.sleep(this.nextHoldMs(), signal, true);
    }
  }

  /** Waits `ms`; a new reading on disk ends the wait early when `wakeable` (not during backoff). */
  private sleep(ms: number, signal: AbortSignal, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        cancel();
        signal.removeEventListener('abort', done);
        if (this.wakeUp === done) this.wakeUp = null;
        resolve();
      };
      const cancel = this.o.scheduler.after(ms, done);
      signal.addEventListener('abort', done, { once: true });
      if (wakeable) this.wakeUp = done;
    });
  }

  private nextHoldMs(): number {
    const now = this.o.scheduler.nowMs();
    let next = 1000;
    for (const until of this.holdUntil.values()) next = Math.min(next, Math.max(10, until - now));
    return next;
  }

  /** One round: sign what needs it, send what is on disk, handle the outcomes. True if anything happened. */
  private async round(): Promise<boolean> {
    if (this.o.state.outbox.length === 0) return false;
    const hash = await this.ensureChain();
    const chainId = this.o.state.chainId ?? '';
    let signed = false;
    for (const e of this.o.state.outbox) {
      if (e.tx === null) {
        e.tx = this.sign(e, hash, chainId);
        signed = true;
      }
    }
    if (signed) await this.o.save();
    const ready = this.sendable();
    if (ready.length === 0) return signed;
    const results = await this.o.client.submitBatch(
      ready.map((e) => Buffer.from(e.tx ?? '', 'base64')),
      { wait: true, timeoutMs: BATCH_WAIT_MS },
    );
    const views: (TxView | null)[] = [];
    for (let i = 0; i < ready.length; i += 1)
      views.push(await this.finalView(ready[i] as OutboxEntry, results[i]));
    let changed = false;
    for (let i = 0; i < ready.length; i += 1) {
      const view = views[i];
      if (view === null || view === undefined) continue;
      changed = (await this.handle(ready[i] as OutboxEntry, view)) || changed;
    }
    if (changed) await this.o.save();
    return true;
  }

  /**
   * The entries to send now, in order: signed, on disk and not held back. An entry that may not go
   * yet holds back the later entries of its device and direction too, which would only be refused
   * for coming before it.
   */
  private sendable(): OutboxEntry[] {
    const now = this.o.scheduler.nowMs();
    const blocked = new Set<string>();
    const out: OutboxEntry[] = [];
    for (const e of this.o.state.outbox) {
      const stream = `${e.meter}|${e.direction}`;
      const ok =
        e.tx !== null &&
        this.onDisk.get(e.seq) === `${e.txId}:${e.tx}` &&
        (this.holdUntil.get(e.seq) ?? 0) <= now;
      if (!ok) blocked.add(stream);
      if (ok && !blocked.has(stream)) out.push(e);
      if (out.length >= BATCH_MAX) break;
    }
    return out;
  }

  /** The final view of a sent entry, or null when it is not final yet (it is sent again later). */
  private async finalView(e: OutboxEntry, r: BatchItemResult | undefined): Promise<TxView | null> {
    if (r === undefined) return null;
    if ('error' in r) {
      const code = r.error.code;
      if (code === 'tx_duplicate_id') {
        const view = await this.o.client.getTransaction(e.txId, {
          wait: true,
          timeoutMs: LOOKUP_WAIT_MS,
        });
        return view.status === 'new' ? null : view;
      }
      if (code === 'contract_unknown') {
        this.o.state.energyContractHash = null;
        this.resign(e, 'contract_unknown', r.error.message);
        return null;
      }
      if (TRANSIENT.has(code)) throw new ClientError(code, r.error.message, r.error.details);
      throw new ChainError(
        'gateway_chain_incompatible',
        `the processor refused reading ${e.txId} of meter ${e.meter}: ${code}: ${r.error.message}`,
        { txId: e.txId, code },
      );
    }
    return r.status === 'new' ? null : (r as TxView);
  }

  /** Handles a final outcome; true when the outbox or the meter state changed. */
  private async handle(e: OutboxEntry, view: TxView): Promise<boolean> {
    if (!this.o.state.outbox.includes(e) || view.id !== e.txId) return false;
    if (view.status === 'accepted') {
      this.remove(e);
      this.confirmed += 1;
      this.o.report.emit({ event: 'tx_accepted', ...describe(e), blockId: view.blockId });
      return true;
    }
    const code = view.code ?? view.status;
    if (view.status === 'invalid') {
      if (code === 'contract_unknown' || code === 'tx_duplicate_id') {
        this.resign(e, code, view.message ?? '');
        return true;
      }
      throw new ChainError(
        'gateway_chain_incompatible',
        `reading ${e.txId} of meter ${e.meter} is invalid: ${code}: ${view.message ?? ''}`,
        { txId: e.txId, code },
      );
    }
    this.o.report.emit({ event: 'tx_rejected', ...describe(e), code, message: view.message });
    if (code === 'register_mismatch' || code === 'reading_not_newer') {
      const earlier = this.o.state.outbox.some(
        (x) => x.meter === e.meter && x.direction === e.direction && x.seq < e.seq,
      );
      if (earlier) this.resign(e, code, 'an earlier reading of this device was not on chain yet');
      else await this.resync(e);
      return true;
    }
    this.resign(e, code, view.message ?? '');
    this.holdUntil.set(e.seq, this.o.scheduler.nowMs() + this.o.retryMaxMs);
    return true;
  }

  private resign(e: OutboxEntry, code: string, reason: string): void {
    e.attempt += 1;
    e.txId = readingTxId(
      this.o.context,
      e.device,
      e.direction,
      e.registerWh,
      e.readingMs,
      e.attempt,
    );
    e.tx = null;
    this.o.report.emit({
      event: 'tx_resigned',
      meter: e.meter,
      direction: e.direction,
      txId: e.txId,
      attempt: e.attempt,
      code,
      reason,
    });
  }

  private remove(e: OutboxEntry): void {
    const i = this.o.state.outbox.indexOf(e);
    if (i >= 0) this.o.state.outbox.splice(i, 1);
    this.holdUntil.delete(e.seq);
  }

  /** The chain's last reading of the device decides: drop what it has, submit what it lacks. */
  private async resync(e: OutboxEntry): Promise<void> {
    const chain = await lastChainReading(this.o.client, this.o.context, e.device, e.direction);
    const runner = this.o.meters.get(e.meter);
    if (chain === null || runner === undefined) {
      // The chain shows no reading to start from: drop nothing, try again later.
      this.resign(e, 'resync', 'the chain holds no meter reading of this device to resync from');
      this.holdUntil.set(e.seq, this.o.scheduler.nowMs() + this.o.retryMaxMs);
      return;
    }
    const dropped = this.o.state.outbox.filter(
      (x) => x.meter === e.meter && x.direction === e.direction,
    );
    for (const x of dropped) this.remove(x);
    const created = runner.resync(e.direction, chain);
    this.o.report.emit({
      event: 'resync',
      meter: e.meter,
      direction: e.direction,
      chainRegisterWh: chain.registerWh.toString(),
      chainReadingMs: chain.readingMs,
      dropped: dropped.map((x) => x.txId),
      submitted:
        created === null
          ? null
          : { txId: created.txId, amountWh: created.amountWh, registerWh: created.registerWh },
    });
  }

  private sign(e: OutboxEntry, contractHashHex: string, chainId: string): string {
    const key = this.o.keys.get(e.device);
    if (key === undefined)
      throw new ChainError(
        'gateway_config_invalid',
        `no key for device ${e.device} of meter ${e.meter}`,
        { device: e.device },
      );
    const amount = formatWh(e.direction === 'returned' ? BigInt(e.amountWh) : -BigInt(e.amountWh));
    const payload = {
      context: this.o.context,
      amount,
      register: formatWh(BigInt(e.registerWh)),
      readingMs: e.readingMs,
      sinceMs: e.sinceMs,
    };
    const tx = signTx(
      { idHex: e.txId, contractHashHex, validTillMs: 0, payloadText: JSON.stringify(payload) },
      key,
      chainId,
    );
    return Buffer.from(tx.bytes).toString('base64');
  }

  /** The chain id and the Energy contract (which must take meter readings), asked once and kept. */
  private async ensureChain(): Promise<string> {
    const s = this.o.state;
    if (!this.chainChecked) {
      // Once per process: the server must serve the chain the state (and the config) was made for.
      const served = await this.o.client.chainId();
      const expected = this.o.chainId ?? s.chainId;
      if (expected !== null && expected !== served) {
        throw new ChainError(
          'gateway_state_invalid',
          `the gateway expects chain ${expected} (config or state), but ${this.o.client.url} serves chain ${served}`,
          { expected, served },
        );
      }
      s.chainId = served;
      this.chainChecked = true;
    }
    if (s.energyContractHash !== null) return s.energyContractHash;
    const contracts = (await this.o.client.contracts()).filter((c) => c.type === 'Energy');
    const energy = contracts[contracts.length - 1];
    if (
      energy === undefined ||
      energy.template['register'] === undefined ||
      energy.template['readingMs'] === undefined
    ) {
      const message = `the chain's Energy contract ${energy?.hash ?? '(none)'} does not take meter readings (register, readingMs); install the current energy contracts with "hanzenet energy install"`;
      throw new ChainError('gateway_chain_incompatible', message, { hash: energy?.hash ?? null });
    }
    s.energyContractHash = energy.hash;
    return energy.hash;
  }
}

/** An outbox entry's fields for a report line. */
function describe(e: OutboxEntry): Record<string, unknown> {
  return {
    meter: e.meter,
    direction: e.direction,
    txId: e.txId,
    amountKwh: formatWh(BigInt(e.amountWh)),
    registerKwh: formatWh(BigInt(e.registerWh)),
    readingMs: e.readingMs,
  };
}
