// The P1 gateway (docs/meter.md, "The P1 gateway"): reads DSMR telegrams from each configured
// meter's source, turns the advance of its registers into Energy transactions signed with the
// meter's producer and consumer keys, and sends them to the chain exactly once. Loss-free and
// idempotent: a reading is on disk (the outbox, with the counters it advanced) before it is sent,
// sent again with the same id until it is confirmed, and the chain's register check refuses any
// reading it already has. Reports go out as JSON lines; a status file shows the current state.
// With only file or stdin sources the gateway ends when the input is used up and the outbox is
// empty; otherwise it runs until `signal` aborts. The clock and every timer come from the Scheduler
// in the options (the CLI passes the system one), so a simulation can run the gateway on its own.

import { setMaxListeners } from 'node:events';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { readConfigJson } from '../../config/file.js';
import { HanzenetClient } from '../../client/client.js';
import { ChainError } from '../../core/errors.js';
import type { PrivateKey } from '../../core/keys.js';
import { sleepOn, type Cancel, type Scheduler } from '../../core/scheduler.js';
import { parseKeyText } from '../../store/key-file.js';
import { checkGatewayConfig, type GatewayConfig, type MeterConfig } from './config.js';
import { GATEWAY_CONFIG_KIND } from './config-schema.js';
import { MeterRunner } from './meter.js';
import { GatewayReporter } from './report.js';
import { GatewaySender } from './sender.js';
import { createSource, type Source } from './sources.js';
import { loadState, StateSaver, writeFileAtomic, type GatewayState } from './state.js';

export interface GatewayRunOptions {
  readonly configPath: string;
  /** Where report lines go (default: stderr). */
  readonly write?: (line: string) => void;
  /** Aborting stops the gateway: sources close, the state is saved, the outbox stays on disk. */
  readonly signal?: AbortSignal;
  /** The clock and timers of the gateway, its sender, sources and meters. */
  readonly scheduler: Scheduler;
}

export interface GatewayResult {
  readonly exitCode: number;
  readonly outbox: number;
  /** Every telegram was rejected, or a finite source held none (see the `stopped` report). */
  readonly nothingAccepted: boolean;
}

interface MeterRun {
  readonly config: MeterConfig;
  readonly runner: MeterRunner;
  readonly source: Source;
  connected: boolean;
  ended: boolean;
  lastDataWallMs: number | null;
  silent: boolean;
}

const STATUS_EVERY_MS = 2_000;
const WATCHDOG_EVERY_MS = 1_000;
const DRAIN_POLL_MS = 50;

/** Runs `fn` every `periodMs` on `scheduler` until the returned Cancel is called. */
function every(scheduler: Scheduler, periodMs: number, fn: () => void): Cancel {
  const tick = (): void => {
    cancel = scheduler.after(periodMs, tick);
    fn();
  };
  let cancel = scheduler.after(periodMs, tick);
  return () => cancel();
}

/** An I/O error's code (ENOENT, EACCES, ...), else its message. */
function reasonOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

/** Reads and checks the gateway config file (docs/config.md); throws gateway_config_invalid. */
export async function readGatewayConfig(configPath: string): Promise<GatewayConfig> {
  const file = resolve(configPath);
  return checkGatewayConfig(readConfigJson(GATEWAY_CONFIG_KIND, file), dirname(file), file);
}

/** The meter's producer and consumer keys (key files hold a WIF, or JSON with "privateKey"). */
export async function readMeterKeys(
  m: MeterConfig,
): Promise<{ producer: PrivateKey; consumer: PrivateKey }> {
  const read = async (path: string | null, field: string): Promise<PrivateKey> => {
    if (path === null)
      throw new ChainError(
        'gateway_config_invalid',
        `meter ${m.equipmentId}: the gateway needs ${field}`,
        { field },
      );
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new ChainError(
        'gateway_config_invalid',
        `meter ${m.equipmentId}: cannot read ${field} ${path}: ${reasonOf(err)}`,
        { field, path },
        { cause: err },
      );
    }
    try {
      return parseKeyText(text.trim(), path);
    } catch (err) {
      throw new ChainError(
        'gateway_config_invalid',
        `meter ${m.equipmentId}: ${field} ${basename(path)} holds no valid key: ${(err as Error).message}`,
        { field, path },
        { cause: err },
      );
    }
  };
  return {
    producer: await read(m.producerKeyFile, 'producerKeyFile'),
    consumer: await read(m.consumerKeyFile, 'consumerKeyFile'),
  };
}

export async function runGateway(opts: GatewayRunOptions): Promise<GatewayResult> {
  const config = await readGatewayConfig(opts.configPath);
  const report = new GatewayReporter(
    opts.write ?? ((line) => process.stderr.write(line)),
    opts.scheduler,
  );
  const state = await loadState(config.stateDir, config.context);
  const gateway = new Gateway(config, state, report, opts.scheduler);
  await gateway.prepare();
  return gateway.run(opts.signal);
}

class Gateway {
  private readonly runs: MeterRun[] = [];
  private readonly keys = new Map<string, PrivateKey>();
  private readonly stop = new AbortController();
  private readonly client: HanzenetClient;
  private sender: GatewaySender | null = null;
  private saver: StateSaver | null = null;
  private fatalError: ChainError | null = null;
  private statusWriting: Promise<void> | null = null;

  constructor(
    private readonly config: GatewayConfig,
    private readonly state: GatewayState,
    private readonly report: GatewayReporter,
    private readonly scheduler: Scheduler,
  ) {
    this.client = new HanzenetClient({ url: config.api });
    // Every meter's source listens for the stop (up to METERS_MAX of them), so Node's warning
    // about more than 10 listeners on one signal is not a leak here.
    setMaxListeners(config.meters.length + 10, this.stop.signal);
  }

  async prepare(): Promise<void> {
    const c = this.config;
    for (const m of c.meters) {
      const keys = await readMeterKeys(m);
      this.keys.set(keys.producer.address, keys.producer);
      this.keys.set(keys.consumer.address, keys.consumer);
      const runner = new MeterRunner(
        {
          config: m,
          context: c.context,
          producer: keys.producer.address,
          consumer: keys.consumer.address,
          periodMs: c.periodSeconds * 1000,
          telegrams: c.telegrams,
          maxClockSkewMs: c.maxClockSkewMs,
          maxAgeMs: c.maxAgeMs,
          disconnectAfterMs: c.disconnectAfterMs,
          requireCrc: c.requireCrc,
          outboxMax: c.outboxMax,
          scheduler: this.scheduler,
        },
        this.state,
        this.report,
      );
      const source = createSource(
        m.source,
        { initialMs: c.retryInitialMs, maxMs: c.retryMaxMs },
        this.scheduler,
      );
      this.runs.push({
        config: m,
        runner,
        source,
        connected: false,
        ended: false,
        lastDataWallMs: null,
        silent: false,
      });
    }
    const meters = new Map(this.runs.map((r) => [r.config.equipmentId, r.runner]));
    const sender = new GatewaySender({
      client: this.client,
      context: c.context,
      chainId: c.chainId,
      state: this.state,
      keys: this.keys,
      meters,
      report: this.report,
      save: () => this.save(),
      retryInitialMs: c.retryInitialMs,
      retryMaxMs: c.retryMaxMs,
      scheduler: this.scheduler,
    });
    this.sender = sender;
    this.saver = new StateSaver(c.stateDir, this.state, (outbox) => sender.saved(outbox));
    await this.save();
  }

  private save(): Promise<void> {
    if (this.saver === null) throw new Error('the gateway is not prepared');
    return this.saver.save();
  }

  private fail(err: ChainError): void {
    if (this.fatalError !== null) return;
    this.fatalError = err;
    this.report.emit({
      event: 'fatal',
      code: err.code,
      message: err.message,
      details: err.details,
    });
    this.stop.abort();
  }

  async run(external?: AbortSignal): Promise<GatewayResult> {
    const sender = this.sender;
    if (sender === null) throw new Error('the gateway is not prepared');
    const onExternal = (): void => this.stop.abort();
    external?.addEventListener('abort', onExternal, { once: true });
    if (external?.aborted) this.stop.abort();
    const meters = this.runs.map((r) => ({
      equipmentId: r.config.equipmentId,
      source: r.source.describe,
    }));
    this.report.emit({
      event: 'started',
      context: this.config.context,
      api: this.config.api,
      meters,
      outbox: this.state.outbox.length,
    });
    const sending = sender.run(this.stop.signal, (err) => this.fail(err));
    const startedMs = this.scheduler.nowMs();
    for (const r of this.runs) r.lastDataWallMs = startedMs;
    const reading = Promise.all(this.runs.map((r) => this.runSource(r)));
    const timers = [
      every(this.scheduler, STATUS_EVERY_MS, () => void this.writeStatus()),
      every(this.scheduler, WATCHDOG_EVERY_MS, () => this.watchdog()),
    ];
    try {
      await reading;
      if (this.runs.every((r) => r.source.finite)) await this.drain();
      else
        await new Promise<void>((resolve) =>
          this.stop.signal.aborted
            ? resolve()
            : this.stop.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
    } finally {
      this.stop.abort();
      for (const cancel of timers) cancel();
      external?.removeEventListener('abort', onExternal);
      await sending;
      this.client.close();
    }
    try {
      await this.save();
    } catch (err) {
      this.fail(err as ChainError);
    }
    await this.writeStatus();
    const counts = this.runs.map((r) => ({ meter: r.config.equipmentId, ...r.runner.counters }));
    const nothingAccepted = this.nothingAccepted();
    const exitCode = this.fatalError === null && !nothingAccepted ? 0 : 1;
    this.report.emit({
      event: 'stopped',
      exitCode,
      outbox: this.state.outbox.length,
      confirmed: sender.confirmed,
      nothingAccepted,
      meters: counts,
    });
    return { exitCode, outbox: this.state.outbox.length, nothingAccepted };
  }

  /**
   * True when the run was for nothing: telegrams came and every one was rejected, or a finite
   * source (a file, stdin) ended without a single telegram. A long-running source stopped before
   * anything arrived is not a failure.
   */
  private nothingAccepted(): boolean {
    const telegrams = this.runs.reduce((n, r) => n + r.runner.counters.telegrams, 0);
    const accepted = this.runs.reduce((n, r) => n + r.runner.counters.accepted, 0);
    if (accepted > 0) return false;
    return telegrams > 0 || this.runs.every((r) => r.source.finite);
  }

  /** Waits until every reading is confirmed (finite sources only), or the gateway is stopped. */
  private async drain(): Promise<void> {
    for (;;) {
      // A final cut the full outbox held back is made as soon as there is room.
      let changed = false;
      for (const r of this.runs)
        if (r.ended) changed = r.runner.finish(this.scheduler.nowMs()) || changed;
      if (changed) await this.save();
      if (this.stop.signal.aborted || this.state.outbox.length === 0) return;
      await sleepOn(this.scheduler, DRAIN_POLL_MS);
    }
  }

  private async runSource(r: MeterRun): Promise<void> {
    const id = r.config.equipmentId;
    const sink = {
      data: async (chunk: Buffer): Promise<void> => {
        try {
          r.lastDataWallMs = this.scheduler.nowMs();
          if (r.silent)
            this.report.emit({
              event: 'source_connected',
              meter: id,
              source: r.source.describe,
              resumed: true,
            });
          r.silent = false;
          if (r.runner.feed(chunk, this.scheduler.nowMs())) await this.save();
        } catch (err) {
          this.fail(
            err instanceof ChainError
              ? err
              : new ChainError(
                  'internal',
                  `meter ${id}: ${(err as Error).message}`,
                  { meter: id },
                  { cause: err },
                ),
          );
        }
      },
      restart: () => r.runner.restartLink(),
      connected: (what: string) => {
        r.connected = true;
        this.report.emit({ event: 'source_connected', meter: id, source: what });
      },
      failed: (message: string, retryInMs: number) => {
        r.connected = false;
        this.report.emit({
          event: 'source_error',
          meter: id,
          source: r.source.describe,
          message,
          retryInMs,
        });
      },
    };
    try {
      await r.source.run(sink, this.stop.signal);
    } catch (err) {
      this.fail(
        new ChainError(
          'gateway_config_invalid',
          `meter ${id}: ${r.source.describe}: ${reasonOf(err)}`,
          { meter: id, field: 'source' },
          { cause: err },
        ),
      );
      return;
    }
    if (!r.source.finite || this.stop.signal.aborted) return;
    r.ended = true;
    try {
      if (r.runner.finish(this.scheduler.nowMs())) await this.save();
    } catch (err) {
      this.fail(err as ChainError);
    }
    this.report.emit({
      event: 'source_ended',
      meter: id,
      source: r.source.describe,
      counters: r.runner.counters,
    });
  }

  /** A live source that delivered nothing for disconnectAfterMs is reported once as silent. */
  private watchdog(): void {
    const now = this.scheduler.nowMs();
    for (const r of this.runs) {
      if (r.source.finite || r.silent) continue;
      const since = r.lastDataWallMs;
      if (since !== null && now - since > this.config.disconnectAfterMs) {
        r.silent = true;
        this.report.emit({
          event: 'silent',
          meter: r.config.equipmentId,
          source: r.source.describe,
          sinceMs: since,
        });
      }
    }
  }

  /** Writes the status file; a call while one is being written waits for it and writes again. */
  private async writeStatus(): Promise<void> {
    while (this.statusWriting !== null) await this.statusWriting;
    this.statusWriting = this.writeStatusOnce();
    try {
      await this.statusWriting;
    } finally {
      this.statusWriting = null;
    }
  }

  private async writeStatusOnce(): Promise<void> {
    const status = {
      updatedAt: new Date(this.scheduler.nowMs()).toISOString(),
      context: this.config.context,
      api: this.config.api,
      processor: {
        reachable: this.sender?.reachable ?? null,
        lastError: this.sender?.lastError ?? null,
      },
      outbox: this.state.outbox.length,
      confirmed: this.sender?.confirmed ?? 0,
      fatal:
        this.fatalError === null
          ? null
          : { code: this.fatalError.code, message: this.fatalError.message },
      events: this.report.counts,
      meters: this.runs.map((r) => {
        const m = this.state.meters[r.config.equipmentId];
        return {
          equipmentId: r.config.equipmentId,
          source: r.source.describe,
          connected: r.source.finite ? !r.ended : r.connected,
          silent: r.silent,
          lastTelegramMs: m?.last?.timestampMs ?? null,
          lastCutMs: m?.lastCutMs ?? null,
          submitted:
            m?.streams === null || m?.streams === undefined
              ? null
              : {
                  deliveredWh: m.streams.delivered.registerWh,
                  returnedWh: m.streams.returned.registerWh,
                },
          pending: this.state.outbox.filter((e) => e.meter === r.config.equipmentId).length,
          counters: r.runner.counters,
        };
      }),
    };
    try {
      await writeFileAtomic(
        dirname(this.config.statusFile),
        basename(this.config.statusFile),
        `${JSON.stringify(status, null, 2)}\n`,
      );
    } catch (err) {
      this.report.emit({
        event: 'source_error',
        meter: null,
        source: 'status file',
        message: `cannot write ${this.config.statusFile}: ${(err as Error).message}`,
        retryInMs: STATUS_EVERY_MS,
      });
    }
  }
}
