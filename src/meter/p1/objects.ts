// The readings a telegram carries, taken from its OBIS objects: equipment id, timestamp, the
// four energy registers (exact Wh whatever unit the meter printed), current power, tariff and the
// M-Bus devices (gas, water). A value the parser cannot read exactly rejects the whole telegram.

import { ENERGY_WH_MAX, formatWh } from '../../core/amount.js';
import {
  SUMMER_OFFSET_MIN,
  WINTER_OFFSET_MIN,
  amsterdamWallToUtcCandidates,
  isValidWallTime,
  wallWithOffsetToUtcMs,
  type WallTime,
} from '../shared/amsterdam-time.js';
import { normaliseDecimal, scaleDecimal } from '../shared/decimal.js';
import { TelegramReject } from './reject.js';
import type { TelegramObject } from './obis-line.js';

/** A cumulative energy register: exact integer Wh and the same as exact kWh text. */
export interface EnergyRegister {
  readonly wh: bigint;
  readonly kwh: string;
}

export interface TelegramRegisters {
  /** 1-0:1.8.1: energy delivered to the household, tariff 1 (low). */
  readonly deliveredTariff1: EnergyRegister;
  /** 1-0:1.8.2: delivered, tariff 2 (normal). */
  readonly deliveredTariff2: EnergyRegister;
  /** 1-0:2.8.1: energy returned to the grid by the household, tariff 1. */
  readonly returnedTariff1: EnergyRegister;
  /** 1-0:2.8.2: returned, tariff 2. */
  readonly returnedTariff2: EnergyRegister;
  readonly deliveredTotal: EnergyRegister;
  readonly returnedTotal: EnergyRegister;
}

/** One M-Bus device reading (0-n:24.2.1, 0-n:24.2.3, or DSMR 2.2's 0-n:24.3.0). */
export interface MbusReading {
  readonly channel: number;
  /** 0-n:24.1.0: 3 gas, 4 heat, 7 water; null when the telegram does not say. */
  readonly deviceType: number | null;
  readonly equipmentId: string | null;
  /** When the device was read, UTC ISO; null when the telegram carries no time for it. */
  readonly timestamp: string | null;
  readonly timestampMs: number | null;
  /** Exact decimal text, no leading or trailing zeros: "5359.919". */
  readonly value: string;
  readonly unit: string;
  readonly obis: string;
}

export interface GasReading {
  readonly channel: number;
  readonly equipmentId: string | null;
  readonly timestamp: string | null;
  readonly timestampMs: number | null;
  /** Exact decimal text in m3: "5359.919". */
  readonly m3: string;
}

export interface TelegramReadings {
  /** 0-0:96.1.1, decoded from hex when it is hex of printable ASCII, else as sent. */
  readonly equipmentId: string | null;
  readonly equipmentIdRaw: string | null;
  /** 0-0:1.0.0 as UTC ISO ("2018-03-06T11:30:56.000Z"); null when absent (DSMR 2.2). */
  readonly timestamp: string | null;
  readonly timestampMs: number | null;
  /** 0-0:1.0.0 as sent: "180306123056W". */
  readonly timestampRaw: string | null;
  readonly registers: TelegramRegisters;
  /** 1-0:1.7.0 in whole W; null when absent. */
  readonly currentPowerDeliveredW: number | null;
  /** 1-0:2.7.0 in whole W; null when absent. */
  readonly currentPowerReturnedW: number | null;
  /** 0-0:96.14.0: 1 (low) or 2 (normal); null when absent. */
  readonly tariffIndicator: number | null;
  /** The first M-Bus device of type 3 (or of unknown type) that reports m3. */
  readonly gas: GasReading | null;
  readonly mbus: readonly MbusReading[];
}

type Objects = ReadonlyMap<string, TelegramObject>;

const ENERGY_UNIT_DECIMALS: Readonly<Record<string, number>> = { Wh: 0, kWh: 3, MWh: 6 };
const POWER_UNIT_DECIMALS: Readonly<Record<string, number>> = { W: 0, kW: 3 };
const REGISTER_OBIS = {
  deliveredTariff1: '1-0:1.8.1',
  deliveredTariff2: '1-0:1.8.2',
  returnedTariff1: '1-0:2.8.1',
  returnedTariff2: '1-0:2.8.2',
} as const;
const POWER_W_MAX = 10_000_000;

export function extractReadings(byObis: Objects): TelegramReadings {
  const registers = readRegisters(byObis);
  const equipment = byObis.get('0-0:96.1.1');
  const equipmentIdRaw = equipment === undefined ? null : singleValue(equipment);
  const time = byObis.get('0-0:1.0.0');
  const timestampRaw = time === undefined ? null : singleValue(time);
  const timestampMs =
    time === undefined || timestampRaw === null ? null : requireTimestamp(timestampRaw, time);
  const tariff = byObis.get('0-0:96.14.0');
  const mbus = readMbus(byObis);
  return {
    equipmentId: equipmentIdRaw === null ? null : decodeEquipmentId(equipmentIdRaw),
    equipmentIdRaw,
    timestamp: timestampMs === null ? null : new Date(timestampMs).toISOString(),
    timestampMs,
    timestampRaw,
    registers,
    currentPowerDeliveredW: readPower(byObis.get('1-0:1.7.0')),
    currentPowerReturnedW: readPower(byObis.get('1-0:2.7.0')),
    tariffIndicator: tariff === undefined ? null : readTariff(tariff),
    gas: pickGas(mbus),
    mbus,
  };
}

function readRegisters(byObis: Objects): TelegramRegisters {
  const missing = Object.values(REGISTER_OBIS).filter((obis) => !byObis.has(obis));
  if (missing.length > 0) {
    throw new TelegramReject(
      'telegram_missing_register',
      `the telegram lacks the energy register${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      {
        missing: missing.join(','),
      },
    );
  }
  const wh = (name: keyof typeof REGISTER_OBIS): bigint =>
    readEnergyWh(byObis.get(REGISTER_OBIS[name]) as TelegramObject);
  const d1 = wh('deliveredTariff1');
  const d2 = wh('deliveredTariff2');
  const r1 = wh('returnedTariff1');
  const r2 = wh('returnedTariff2');
  return {
    deliveredTariff1: register(d1),
    deliveredTariff2: register(d2),
    returnedTariff1: register(r1),
    returnedTariff2: register(r2),
    deliveredTotal: register(d1 + d2),
    returnedTotal: register(r1 + r2),
  };
}

function register(wh: bigint): EnergyRegister {
  return { wh, kwh: formatWh(wh) };
}

function garbled(o: TelegramObject, reason: string): TelegramReject {
  return new TelegramReject('telegram_garbled', `line ${o.line} (${o.obis}): ${reason}`, {
    line: o.line,
    obis: o.obis,
  });
}

function singleValue(o: TelegramObject): string {
  if (o.values.length !== 1) throw garbled(o, `expected one "(value)", got ${o.values.length}`);
  return o.values[0] ?? '';
}

/** "004726.494*kWh" -> 4726494n; "4726494*Wh" -> 4726494n; more precision than 1 Wh is refused. */
function readEnergyWh(o: TelegramObject): bigint {
  const text = singleValue(o);
  const m = /^([0-9.]+)\*([A-Za-z]+)$/.exec(text);
  const decimals = m ? ENERGY_UNIT_DECIMALS[m[2] ?? ''] : undefined;
  if (!m || decimals === undefined)
    throw garbled(
      o,
      `expected an energy like "001234.567*kWh" (units Wh, kWh, MWh), got "${text}"`,
    );
  const wh = scaleDecimal(m[1] ?? '', decimals);
  if (wh === null)
    throw garbled(
      o,
      `"${text}" is not an exact whole number of Wh (more precision than 1 Wh is refused, not rounded)`,
    );
  if (wh > ENERGY_WH_MAX)
    throw garbled(o, `"${text}" exceeds the ${formatWh(ENERGY_WH_MAX)} kWh limit`);
  return wh;
}

/** "01.869*kW" -> 1869; absent -> null. */
function readPower(o: TelegramObject | undefined): number | null {
  if (o === undefined) return null;
  const text = singleValue(o);
  const m = /^([0-9.]+)\*([A-Za-z]+)$/.exec(text);
  const decimals = m ? POWER_UNIT_DECIMALS[m[2] ?? ''] : undefined;
  if (!m || decimals === undefined)
    throw garbled(o, `expected a power like "01.234*kW" (units W, kW), got "${text}"`);
  const w = scaleDecimal(m[1] ?? '', decimals);
  if (w === null) throw garbled(o, `"${text}" is not an exact whole number of W`);
  if (w > BigInt(POWER_W_MAX)) throw garbled(o, `"${text}" exceeds ${POWER_W_MAX} W`);
  return Number(w);
}

function readTariff(o: TelegramObject): number {
  const text = singleValue(o);
  if (!/^[0-9]{1,4}$/.test(text))
    throw garbled(o, `expected a tariff number like "0002", got "${text}"`);
  return Number(text);
}

/**
 * Hex of printable ASCII is decoded ("4530..." -> "E0..."); anything else is kept as sent
 * (anonymised telegrams, or meters that print the id as text).
 */
export function decodeEquipmentId(raw: string): string | null {
  if (raw === '') return null;
  if (!/^(?:[0-9A-Fa-f]{2})+$/.test(raw)) return raw;
  const decoded = Buffer.from(raw, 'hex').toString('latin1');
  return /^[\x20-\x7e]+$/.test(decoded) ? decoded : raw;
}

/**
 * Milliseconds since the epoch of a DSMR time "YYMMDDhhmmssX": X = S is summer time (UTC+2), W
 * winter time (UTC+1). Without X (DSMR 2.2 gas readings) the time is Amsterdam wall time: in the
 * autumn repeated hour the first (summer) instant is taken, and a time in the spring gap is read
 * as winter time. Null when the text is not such a time or names an impossible date.
 */
export function parseDsmrTimestamp(raw: string): number | null {
  const m = /^([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([0-9]{2})([SW]?)$/.exec(raw);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const wall: WallTime = { year: 2000 + year, month, day, hour, minute, second };
  if (!isValidWallTime(wall)) return null;
  if (m[7] === 'S') return wallWithOffsetToUtcMs(wall, SUMMER_OFFSET_MIN);
  if (m[7] === 'W') return wallWithOffsetToUtcMs(wall, WINTER_OFFSET_MIN);
  return amsterdamWallToUtcCandidates(wall)[0] ?? wallWithOffsetToUtcMs(wall, WINTER_OFFSET_MIN);
}

function requireTimestamp(raw: string, o: TelegramObject): number {
  const ms = parseDsmrTimestamp(raw);
  if (ms === null)
    throw garbled(o, `"${raw}" is not a possible time YYMMDDhhmmss followed by S or W`);
  return ms;
}

function readMbus(byObis: Objects): MbusReading[] {
  const channels = new Set<number>();
  for (const obis of byObis.keys()) {
    const m = /^0-([1-9]):24\./.exec(obis);
    if (m) channels.add(Number(m[1]));
  }
  const readings: MbusReading[] = [];
  for (const channel of [...channels].sort((a, b) => a - b)) {
    const reading = readMbusChannel(byObis, channel);
    if (reading !== null) readings.push(reading);
  }
  return readings;
}

function readMbusChannel(byObis: Objects, channel: number): MbusReading | null {
  const type = byObis.get(`0-${channel}:24.1.0`);
  const id = byObis.get(`0-${channel}:96.1.0`) ?? byObis.get(`0-${channel}:96.1.1`);
  const source =
    byObis.get(`0-${channel}:24.2.1`) ??
    byObis.get(`0-${channel}:24.2.3`) ??
    byObis.get(`0-${channel}:24.3.0`);
  if (source === undefined) return null;
  const { timeRaw, value, unit } = mbusValueParts(source);
  const timestampMs = timeRaw === '' ? null : requireTimestamp(timeRaw, source);
  const exact = normaliseDecimal(value);
  if (exact === null || !/^[A-Za-z0-9]{1,8}$/.test(unit))
    throw garbled(source, `expected a reading like "(01234.567*m3)", got "${value}" "${unit}"`);
  const typeText = type === undefined ? null : singleValue(type);
  if (typeText !== null && !/^[0-9]{1,3}$/.test(typeText))
    throw garbled(type as TelegramObject, `expected a device type number, got "${typeText}"`);
  const idRaw = id === undefined ? null : singleValue(id);
  return {
    channel,
    deviceType: typeText === null ? null : Number(typeText),
    equipmentId: idRaw === null ? null : decodeEquipmentId(idRaw),
    timestamp: timestampMs === null ? null : new Date(timestampMs).toISOString(),
    timestampMs,
    value: exact,
    unit,
    obis: source.obis,
  };
}

/** DSMR 4+: "(time)(value*unit)". DSMR 2.2: "(time)(08)(60)(1)(0-1:24.2.1)(m3)" + "(value)". */
function mbusValueParts(o: TelegramObject): { timeRaw: string; value: string; unit: string } {
  const v = o.values;
  if (o.obis.endsWith(':24.3.0')) {
    if (v.length < 3) throw garbled(o, `expected (time)...(unit)(value), got ${v.length} values`);
    return { timeRaw: v[0] ?? '', value: v[v.length - 1] ?? '', unit: v[v.length - 2] ?? '' };
  }
  if (v.length !== 2) throw garbled(o, `expected (time)(value*unit), got ${v.length} values`);
  const m = /^([^*]*)\*([^*]*)$/.exec(v[1] ?? '');
  if (!m) throw garbled(o, `expected (time)(value*unit), got "${v[1] ?? ''}"`);
  return { timeRaw: v[0] ?? '', value: m[1] ?? '', unit: m[2] ?? '' };
}

function pickGas(mbus: readonly MbusReading[]): GasReading | null {
  const gas = mbus.find((r) => (r.deviceType === 3 || r.deviceType === null) && r.unit === 'm3');
  if (gas === undefined) return null;
  return {
    channel: gas.channel,
    equipmentId: gas.equipmentId,
    timestamp: gas.timestamp,
    timestampMs: gas.timestampMs,
    m3: gas.value,
  };
}
