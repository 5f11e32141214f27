// A simulated DSMR 5.0 meter for demos and tests: a household with solar panels, emitting valid
// telegrams (correct CRC) every `intervalS` seconds. Deterministic: the seed and the instant fix
// the weather and the appliances, so the same options give byte-identical telegrams.
//
// Net metering as a Dutch meter does it: per interval the household's consumption minus its
// solar production is one net power; when positive it advances a delivered register, when
// negative a returned register, of the tariff in force (1 = low: nights 23:00-07:00 and weekends;
// 2 = normal). Registers count whole Wh of energy accumulated exactly in W*s, so they only grow.

import { formatFixed } from '../shared/decimal.js';
import { smoothNoise, uniform } from './random.js';
import { householdLoadW } from './load.js';
import { solarPowerW } from './solar.js';
import { utcToAmsterdamWall } from '../shared/amsterdam-time.js';
import {
  buildTelegram,
  formatDsmrTimestamp,
  formatEnergyKwh,
  formatPowerKw,
  hexOfText,
} from '../p1/write.js';

export interface SimulateOptions {
  /** The electricity meter's equipment id (0-0:96.1.1, sent as hex of this text). */
  readonly equipmentId: string;
  /** Time of the first telegram, UTC ms, a whole second. */
  readonly startMs: number;
  readonly intervalS: number;
  readonly seed: number;
  readonly latitude: number;
  readonly longitude: number;
  readonly pvKwp: number;
  readonly baseLoadW: number;
  /** Include a gas meter on M-Bus channel 1 (read every 5 minutes, as DSMR 5 does). */
  readonly gas: boolean;
}

export const SIMULATE_DEFAULTS = {
  intervalS: 10,
  seed: 1,
  latitude: 53.2,
  longitude: 6.57,
  pvKwp: 4,
  baseLoadW: 300,
  gas: true,
} as const;

export interface SimulatedRegistersWh {
  readonly deliveredTariff1: bigint;
  readonly deliveredTariff2: bigint;
  readonly returnedTariff1: bigint;
  readonly returnedTariff2: bigint;
}

/** One telegram and the quantities it was made from (for tests and demos). */
export interface SimulatedTelegram {
  readonly text: string;
  readonly timestampMs: number;
  readonly solarW: number;
  readonly loadW: number;
  /** max(0, load - solar) and max(0, solar - load): what 1-0:1.7.0 and 1-0:2.7.0 report. */
  readonly deliveredW: number;
  readonly returnedW: number;
  readonly tariff: 1 | 2;
  readonly registersWh: SimulatedRegistersWh;
  /** The gas register as last read (litres = dm3), or null without a gas meter. */
  readonly gasLitres: bigint | null;
}

const HEADER = '/HNZ5\\2HanzeNet-P1-SIM';
const GAS_READ_MS = 5 * 60_000;
const INTERVAL_S_MAX = 86_400;

/** What is wrong with `opts`, or null when they can drive a simulation. */
export function checkSimulateOptions(opts: SimulateOptions): string | null {
  if (!/^[\x21-\x7e]{1,48}$/.test(opts.equipmentId) || /[()]/.test(opts.equipmentId)) {
    return 'equipment id must be 1 to 48 printable ASCII characters without spaces or parentheses';
  }
  if (
    !Number.isSafeInteger(opts.startMs) ||
    opts.startMs % 1000 !== 0 ||
    opts.startMs < Date.UTC(2000, 0, 1) ||
    opts.startMs >= Date.UTC(2100, 0, 1)
  ) {
    return 'start must be a whole second from 2000 to 2099 (DSMR times have two-digit years)';
  }
  if (
    !Number.isSafeInteger(opts.intervalS) ||
    opts.intervalS < 1 ||
    opts.intervalS > INTERVAL_S_MAX
  )
    return `interval must be 1 to ${INTERVAL_S_MAX} s`;
  if (!Number.isSafeInteger(opts.seed) || opts.seed < 0 || opts.seed > 0xffffffff)
    return 'seed must be an integer from 0 to 4294967295';
  if (!(Math.abs(opts.latitude) <= 90) || !(Math.abs(opts.longitude) <= 180))
    return 'latitude must be within -90..90 and longitude within -180..180';
  if (!(opts.pvKwp >= 0 && opts.pvKwp <= 1000)) return 'PV peak power must be 0 to 1000 kWp';
  if (!(opts.baseLoadW >= 0 && opts.baseLoadW <= 100_000)) return 'base load must be 0 to 100000 W';
  return null;
}

/** Tariff 1 (low) at night 23:00-07:00 and all weekend, Amsterdam time; else tariff 2. */
export function tariffAt(utcMs: number): 1 | 2 {
  const w = utcToAmsterdamWall(utcMs);
  const weekday = new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay();
  return weekday === 0 || weekday === 6 || w.hour >= 23 || w.hour < 7 ? 1 : 2;
}

export class MeterSimulator {
  private index = 0;
  /** Register contents in W*s (exact); telegrams show whole Wh. */
  private readonly ws: {
    deliveredTariff1: bigint;
    deliveredTariff2: bigint;
    returnedTariff1: bigint;
    returnedTariff2: bigint;
  };
  private gasMl: bigint;
  private gasRead: { atMs: number; litres: bigint } | null = null;

  constructor(private readonly opts: SimulateOptions) {
    const problem = checkSimulateOptions(opts);
    if (problem !== null) throw new RangeError(problem);
    const startKwh = (stream: number, min: number, span: number): bigint =>
      BigInt(Math.floor((min + uniform(opts.seed, stream, 0) * span) * 1000)) * 3600n;
    this.ws = {
      deliveredTariff1: startKwh(31, 1000, 5000),
      deliveredTariff2: startKwh(32, 1000, 5000),
      returnedTariff1: startKwh(33, 200, 2000),
      returnedTariff2: startKwh(34, 500, 4000),
    };
    this.gasMl = BigInt(Math.floor((500 + uniform(opts.seed, 35, 0) * 4000) * 1e6));
  }

  /** The next telegram: the first is at startMs, then one every intervalS seconds. */
  next(): SimulatedTelegram {
    const o = this.opts;
    const timestampMs = o.startMs + this.index * o.intervalS * 1000;
    const solarW = solarPowerW(o.seed, o, timestampMs);
    const loadW = householdLoadW(o.seed, o.baseLoadW, timestampMs);
    const netW = loadW - solarW;
    const tariff = tariffAt(timestampMs);
    if (this.index > 0) this.advance(netW, tariff, timestampMs);
    this.index++;
    const registersWh = this.registersWh();
    const gasLitres = o.gas ? this.readGas(timestampMs) : null;
    const deliveredW = Math.max(0, netW);
    const returnedW = Math.max(0, -netW);
    const reading = {
      timestampMs,
      solarW,
      loadW,
      deliveredW,
      returnedW,
      tariff,
      registersWh,
      gasLitres,
    };
    return { ...reading, text: this.render(reading) };
  }

  private advance(netW: number, tariff: 1 | 2, timestampMs: number): void {
    const energyWs = BigInt(Math.abs(netW) * this.opts.intervalS);
    if (netW > 0) {
      if (tariff === 1) this.ws.deliveredTariff1 += energyWs;
      else this.ws.deliveredTariff2 += energyWs;
    } else if (tariff === 1) this.ws.returnedTariff1 += energyWs;
    else this.ws.returnedTariff2 += energyWs;
    this.gasMl += BigInt(
      Math.round(gasRateM3PerH(this.opts.seed, timestampMs) * 1e6 * (this.opts.intervalS / 3600)),
    );
  }

  private registersWh(): SimulatedRegistersWh {
    return {
      deliveredTariff1: this.ws.deliveredTariff1 / 3600n,
      deliveredTariff2: this.ws.deliveredTariff2 / 3600n,
      returnedTariff1: this.ws.returnedTariff1 / 3600n,
      returnedTariff2: this.ws.returnedTariff2 / 3600n,
    };
  }

  /** The gas meter is read on 5-minute boundaries; the telegram repeats the last reading. */
  private readGas(timestampMs: number): bigint {
    const boundaryMs = Math.floor(timestampMs / GAS_READ_MS) * GAS_READ_MS;
    if (this.gasRead === null || boundaryMs > this.gasRead.atMs)
      this.gasRead = { atMs: boundaryMs, litres: this.gasMl / 1000n };
    return this.gasRead.litres;
  }

  private render(r: Omit<SimulatedTelegram, 'text'>): string {
    const o = this.opts;
    const voltageDv = Math.round(
      2290 +
        40 * smoothNoise(o.seed, 41, r.timestampMs, 15 * 60_000) +
        (30 * r.returnedW) / Math.max(1000, o.pvKwp * 1000),
    );
    const currentA = Math.round(((r.deliveredW + r.returnedW) * 10) / voltageDv);
    const lines = [
      '1-3:0.2.8(50)',
      `0-0:1.0.0(${formatDsmrTimestamp(r.timestampMs)})`,
      `0-0:96.1.1(${hexOfText(o.equipmentId)})`,
      `1-0:1.8.1(${formatEnergyKwh(r.registersWh.deliveredTariff1)})`,
      `1-0:1.8.2(${formatEnergyKwh(r.registersWh.deliveredTariff2)})`,
      `1-0:2.8.1(${formatEnergyKwh(r.registersWh.returnedTariff1)})`,
      `1-0:2.8.2(${formatEnergyKwh(r.registersWh.returnedTariff2)})`,
      `0-0:96.14.0(000${r.tariff})`,
      `1-0:1.7.0(${formatPowerKw(r.deliveredW)})`,
      `1-0:2.7.0(${formatPowerKw(r.returnedW)})`,
      '0-0:96.7.21(00000)',
      '0-0:96.7.9(00000)',
      '1-0:99.97.0(0)(0-0:96.7.19)',
      '1-0:32.32.0(00000)',
      '1-0:32.36.0(00000)',
      '0-0:96.13.0()',
      `1-0:32.7.0(${formatFixed(BigInt(voltageDv), 1, 3)}*V)`,
      `1-0:31.7.0(${String(currentA).padStart(3, '0')}*A)`,
      `1-0:21.7.0(${formatPowerKw(r.deliveredW)})`,
      `1-0:22.7.0(${formatPowerKw(r.returnedW)})`,
      ...(r.gasLitres === null ? [] : this.gasLines(r.gasLitres)),
    ];
    return buildTelegram(HEADER, lines);
  }

  private gasLines(litres: bigint): string[] {
    const readAtMs = this.gasRead?.atMs ?? this.opts.startMs;
    return [
      '0-1:24.1.0(003)',
      `0-1:96.1.0(${hexOfText(`G${this.opts.equipmentId.slice(1)}`)})`,
      `0-1:24.2.1(${formatDsmrTimestamp(readAtMs)})(${formatFixed(litres, 3, 5)}*m3)`,
    ];
  }
}

/** Gas use in m3/h: space heating that follows the season (less at night), plus hot water. */
function gasRateM3PerH(seed: number, utcMs: number): number {
  const w = utcToAmsterdamWall(utcMs);
  const dayOfYear = Math.floor(
    (Date.UTC(w.year, w.month - 1, w.day) - Date.UTC(w.year, 0, 1)) / 86_400_000,
  );
  const season = Math.max(0, Math.cos((2 * Math.PI * (dayOfYear - 20)) / 365));
  const hour = w.hour + w.minute / 60;
  const heating =
    0.45 *
    season *
    (hour < 6 || hour >= 23 ? 0.4 : 1) *
    (0.8 + 0.4 * smoothNoise(seed, 51, utcMs, 60 * 60_000));
  const hotWater =
    0.9 * Math.exp(-(((hour - 7.4) / 0.25) ** 2)) + 0.5 * Math.exp(-(((hour - 19.5) / 0.4) ** 2));
  return heating + hotWater;
}

/** The first `count` telegrams of a simulation. */
export function simulateTelegrams(opts: SimulateOptions, count: number): SimulatedTelegram[] {
  const sim = new MeterSimulator(opts);
  return Array.from({ length: count }, () => sim.next());
}
