// One meter of the P1 gateway: bytes in, readings out. Bytes are cut into telegrams, each telegram
// is parsed and checked against the limits; the first accepted telegram sets the baseline, and at
// every settlement-period boundary (and, when configured, every N telegrams) a *cut* turns the
// advance of the delivered and returned registers since the last reading into outbox entries:
// exact Wh, with the register, the telegram's time and the time since which the register stood
// at its previous value. Registers only enter the outbox here; the sender confirms them on chain.

import type { Scheduler } from '../../core/scheduler.js';
import type { MeterConfig } from './config.js';
import {
  checkTelegram,
  deliveredWh,
  returnedWh,
  type AcceptedTelegram,
  type LimitViolation,
  type RegistersWh,
} from './limits.js';
import type { GatewayReporter } from './report.js';
import {
  emptyMeter,
  readingTxId,
  type Direction,
  type GatewayState,
  type MeterState,
  type OutboxEntry,
  type RegistersText,
  type StreamState,
} from './state.js';
import { TelegramSplitter } from '../p1/splitter.js';
import { parseTelegram } from '../p1/parse.js';

export interface MeterRunnerOptions {
  readonly config: MeterConfig;
  readonly context: string;
  readonly producer: string;
  readonly consumer: string;
  readonly periodMs: number;
  readonly telegrams: number | null;
  readonly maxClockSkewMs: number;
  readonly maxAgeMs: number;
  readonly disconnectAfterMs: number;
  readonly requireCrc: boolean;
  readonly outboxMax: number;
  /** Stamps outbox entries with the time they were made. */
  readonly scheduler: Scheduler;
}

export interface MeterCounters {
  telegrams: number;
  accepted: number;
  rejected: Record<string, number>;
  readings: number;
  disconnects: number;
  droppedBytes: number;
}

export class MeterRunner {
  readonly counters: MeterCounters = {
    telegrams: 0,
    accepted: 0,
    rejected: {},
    readings: 0,
    disconnects: 0,
    droppedBytes: 0,
  };
  private splitter = new TelegramSplitter();
  private splitterDropped = 0;
  private outboxFullReported = false;

  constructor(
    private readonly opts: MeterRunnerOptions,
    private readonly state: GatewayState,
    private readonly report: GatewayReporter,
  ) {
    const id = opts.config.equipmentId;
    if (state.meters[id] === undefined) state.meters[id] = emptyMeter(id);
  }

  get equipmentId(): string {
    return this.opts.config.equipmentId;
  }

  get meter(): MeterState {
    const m = this.state.meters[this.equipmentId];
    if (m === undefined) throw new Error(`meter ${this.equipmentId} has no state`);
    return m;
  }

  /** Feeds received bytes; returns true when the state changed (a baseline or a cut). */
  feed(chunk: string | Uint8Array, receivedMs: number): boolean {
    let changed = false;
    for (const text of this.splitter.feed(chunk))
      changed = this.handle(text, receivedMs) || changed;
    this.countDropped();
    return changed;
  }

  /** The link restarted: a partial telegram of the old connection is dropped. */
  restartLink(): void {
    this.countDropped();
    this.splitter = new TelegramSplitter();
    this.splitterDropped = 0;
  }

  /** The input ended (a replayed file): the last telegram is used and the rest cut into readings. */
  finish(receivedMs: number): boolean {
    let changed = false;
    for (const text of this.splitter.end()) changed = this.handle(text, receivedMs) || changed;
    this.countDropped();
    const m = this.meter;
    if (m.last !== null && m.lastCutMs !== null && m.last.timestampMs > m.lastCutMs)
      changed = this.cut(registersFromText(m.last.registers), m.last.timestampMs) || changed;
    return changed;
  }

  /**
   * The chain's last reading of a direction replaces what this meter thought it had submitted
   * (the sender dropped the direction's outbox entries). What the last accepted telegram shows
   * beyond it becomes one new entry at once; returns that entry, or null when there is nothing.
   */
  resync(
    direction: Direction,
    chain: { readonly registerWh: bigint; readonly readingMs: number },
  ): OutboxEntry | null {
    const m = this.meter;
    if (m.streams === null) return null;
    const s = m.streams[direction];
    s.registerWh = chain.registerWh.toString();
    s.readingMs = chain.readingMs;
    s.sinceMs = chain.readingMs;
    if (m.last === null) return null;
    const registers = registersFromText(m.last.registers);
    const before = this.state.outbox.length;
    this.cutStream(
      direction,
      s,
      direction === 'returned' ? returnedWh(registers) : deliveredWh(registers),
      m.last.timestampMs,
    );
    return this.state.outbox.length > before
      ? (this.state.outbox[this.state.outbox.length - 1] ?? null)
      : null;
  }

  private countDropped(): void {
    const dropped = this.splitter.stats().droppedBytes;
    this.counters.droppedBytes += dropped - this.splitterDropped;
    this.splitterDropped = dropped;
  }

  private handle(text: string, receivedMs: number): boolean {
    this.counters.telegrams += 1;
    const parsed = parseTelegram(text, { requireCrc: this.opts.requireCrc });
    if (!parsed.ok) {
      this.reject(
        { code: parsed.code, message: parsed.message, details: { ...parsed.details } },
        null,
      );
      return false;
    }
    const m = this.meter;
    const o = this.opts;
    const limits = {
      equipmentId: this.equipmentId,
      maxKw: o.config.maxKw,
      maxClockSkewMs: o.maxClockSkewMs,
      maxAgeMs: o.maxAgeMs,
      disconnectAfterMs: o.disconnectAfterMs,
    };
    const last =
      m.last === null
        ? null
        : { timestampMs: m.last.timestampMs, registers: registersFromText(m.last.registers) };
    const check = checkTelegram(parsed.telegram, last, limits, receivedMs);
    if (!check.ok) {
      this.reject(check.violation, parsed.telegram.timestampMs);
      return false;
    }
    this.counters.accepted += 1;
    if (check.gapMs !== null && last !== null) {
      this.counters.disconnects += 1;
      this.report.emit({
        event: 'disconnect',
        meter: this.equipmentId,
        fromMs: last.timestampMs,
        toMs: check.reading.timestampMs,
        gapMs: check.gapMs,
      });
    }
    return this.accept(check.reading);
  }

  private reject(
    v: { code: string; message: string; details: Record<string, string | number> } | LimitViolation,
    timestampMs: number | null,
  ): void {
    this.counters.rejected[v.code] = (this.counters.rejected[v.code] ?? 0) + 1;
    this.report.emit({
      event: 'telegram_rejected',
      meter: this.equipmentId,
      code: v.code,
      message: v.message,
      details: v.details,
      timestampMs,
    });
  }

  private accept(reading: AcceptedTelegram): boolean {
    const m = this.meter;
    m.last = { timestampMs: reading.timestampMs, registers: registersToText(reading.registers) };
    if (m.streams === null || m.lastCutMs === null) {
      const t = reading.timestampMs;
      m.streams = {
        delivered: {
          registerWh: deliveredWh(reading.registers).toString(),
          sinceMs: t,
          readingMs: null,
        },
        returned: {
          registerWh: returnedWh(reading.registers).toString(),
          sinceMs: t,
          readingMs: null,
        },
      };
      m.lastCutMs = t;
      m.telegramsSinceCut = 0;
      this.report.emit({
        event: 'baseline',
        meter: this.equipmentId,
        timestampMs: t,
        deliveredWh: m.streams.delivered.registerWh,
        returnedWh: m.streams.returned.registerWh,
      });
      return true;
    }
    m.telegramsSinceCut += 1;
    const periodMs = this.opts.periodMs;
    const boundary =
      Math.floor(reading.timestampMs / periodMs) > Math.floor(m.lastCutMs / periodMs);
    const counted = this.opts.telegrams !== null && m.telegramsSinceCut >= this.opts.telegrams;
    return boundary || counted ? this.cut(reading.registers, reading.timestampMs) : false;
  }

  /** Turns the registers' advance since the last reading into outbox entries. */
  private cut(registers: RegistersWh, t: number): boolean {
    const m = this.meter;
    if (m.streams === null) return false;
    if (this.state.outbox.length + 2 > this.opts.outboxMax) {
      // No cut while the outbox is full: the next cut covers the whole time, nothing is lost.
      if (!this.outboxFullReported)
        this.report.emit({
          event: 'outbox_full',
          meter: this.equipmentId,
          outbox: this.state.outbox.length,
          outboxMax: this.opts.outboxMax,
        });
      this.outboxFullReported = true;
      return false;
    }
    this.outboxFullReported = false;
    this.cutStream('delivered', m.streams.delivered, deliveredWh(registers), t);
    this.cutStream('returned', m.streams.returned, returnedWh(registers), t);
    m.lastCutMs = t;
    m.telegramsSinceCut = 0;
    return true;
  }

  private cutStream(direction: Direction, s: StreamState, registerWh: bigint, t: number): void {
    const fromWh = BigInt(s.registerWh);
    if (registerWh === fromWh) {
      s.sinceMs = Math.max(s.sinceMs, t);
      return;
    }
    // Below: the chain is ahead of this meter's registers (after a resync); wait until they pass it.
    if (registerWh < fromWh || (s.readingMs !== null && t <= s.readingMs)) return;
    const device = direction === 'returned' ? this.opts.producer : this.opts.consumer;
    const entry: OutboxEntry = {
      seq: this.state.nextSeq,
      meter: this.equipmentId,
      direction,
      device,
      amountWh: (registerWh - fromWh).toString(),
      registerWh: registerWh.toString(),
      readingMs: t,
      sinceMs: s.sinceMs,
      attempt: 0,
      txId: readingTxId(this.opts.context, device, direction, registerWh.toString(), t, 0),
      tx: null,
      createdMs: this.opts.scheduler.nowMs(),
    };
    this.state.nextSeq += 1;
    this.state.outbox.push(entry);
    s.registerWh = entry.registerWh;
    s.readingMs = t;
    s.sinceMs = t;
    this.counters.readings += 1;
    this.report.emit({
      event: 'reading',
      meter: this.equipmentId,
      direction,
      amountWh: entry.amountWh,
      registerWh: entry.registerWh,
      readingMs: t,
      sinceMs: entry.sinceMs,
      txId: entry.txId,
    });
  }
}

export function registersToText(r: RegistersWh): RegistersText {
  return {
    deliveredTariff1: r.deliveredTariff1.toString(),
    deliveredTariff2: r.deliveredTariff2.toString(),
    returnedTariff1: r.returnedTariff1.toString(),
    returnedTariff2: r.returnedTariff2.toString(),
  };
}

export function registersFromText(r: RegistersText): RegistersWh {
  return {
    deliveredTariff1: BigInt(r.deliveredTariff1),
    deliveredTariff2: BigInt(r.deliveredTariff2),
    returnedTariff1: BigInt(r.returnedTariff1),
    returnedTariff2: BigInt(r.returnedTariff2),
  };
}
