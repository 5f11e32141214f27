// The gateway's input limits (thesis 4.1.2): a telegram is used only when its equipment id is the
// bound one, its time is neither ahead of the gateway clock nor far in the past and after the last
// accepted telegram, no register went backwards, and the registers did not advance more than the
// connection can physically deliver in the elapsed time. A gap longer than disconnectAfterMs is
// accepted but reported as a disconnect. Pure functions: the caller decides what to keep.

import type { ErrorCode } from '../../core/errors.js';
import type { Telegram } from '../p1/parse.js';

/** The four energy registers of a telegram, Wh. */
export interface RegistersWh {
  readonly deliveredTariff1: bigint;
  readonly deliveredTariff2: bigint;
  readonly returnedTariff1: bigint;
  readonly returnedTariff2: bigint;
}

/** A telegram the gateway accepted: its time (UTC ms) and registers. */
export interface AcceptedTelegram {
  readonly timestampMs: number;
  readonly registers: RegistersWh;
}

export interface MeterLimits {
  readonly equipmentId: string;
  readonly maxKw: number;
  readonly maxClockSkewMs: number;
  readonly maxAgeMs: number;
  readonly disconnectAfterMs: number;
}

export interface LimitViolation {
  readonly code: Extract<ErrorCode, `meter_${string}`>;
  readonly message: string;
  readonly details: Record<string, string | number>;
}

export type LimitCheck =
  | { readonly ok: true; readonly reading: AcceptedTelegram; readonly gapMs: number | null }
  | { readonly ok: false; readonly violation: LimitViolation };

const REGISTER_NAMES = [
  'deliveredTariff1',
  'deliveredTariff2',
  'returnedTariff1',
  'returnedTariff2',
] as const;
const OBIS: Readonly<Record<(typeof REGISTER_NAMES)[number], string>> = {
  deliveredTariff1: '1-0:1.8.1',
  deliveredTariff2: '1-0:1.8.2',
  returnedTariff1: '1-0:2.8.1',
  returnedTariff2: '1-0:2.8.2',
};

export function registersOf(t: Telegram): RegistersWh {
  const r = t.registers;
  return {
    deliveredTariff1: r.deliveredTariff1.wh,
    deliveredTariff2: r.deliveredTariff2.wh,
    returnedTariff1: r.returnedTariff1.wh,
    returnedTariff2: r.returnedTariff2.wh,
  };
}

export function deliveredWh(r: RegistersWh): bigint {
  return r.deliveredTariff1 + r.deliveredTariff2;
}

export function returnedWh(r: RegistersWh): bigint {
  return r.returnedTariff1 + r.returnedTariff2;
}

function violation(
  code: LimitViolation['code'],
  message: string,
  details: Record<string, string | number>,
): LimitCheck {
  return { ok: false, violation: { code, message, details } };
}

/**
 * Checks one parsed telegram against the limits and the meter's last accepted telegram.
 * `receivedMs` is the gateway clock; it also dates telegrams without a time (DSMR 2.2).
 */
export function checkTelegram(
  t: Telegram,
  last: AcceptedTelegram | null,
  limits: MeterLimits,
  receivedMs: number,
): LimitCheck {
  if (t.equipmentId !== limits.equipmentId) {
    return violation(
      'meter_equipment_changed',
      `the telegram names equipment id ${JSON.stringify(t.equipmentId)}, but this meter is bound to ${limits.equipmentId}`,
      {
        expected: limits.equipmentId,
        got: t.equipmentId ?? '',
      },
    );
  }
  const timestampMs = t.timestampMs ?? receivedMs;
  if (timestampMs > receivedMs + limits.maxClockSkewMs) {
    return violation(
      'meter_time_in_future',
      `the telegram is dated ${iso(timestampMs)}, ${timestampMs - receivedMs} ms ahead of the gateway clock (at most ${limits.maxClockSkewMs})`,
      {
        timestampMs,
        receivedMs,
        maxClockSkewMs: limits.maxClockSkewMs,
      },
    );
  }
  if (timestampMs < receivedMs - limits.maxAgeMs) {
    return violation(
      'meter_time_too_old',
      `the telegram is dated ${iso(timestampMs)}, ${receivedMs - timestampMs} ms before the gateway clock (at most ${limits.maxAgeMs})`,
      {
        timestampMs,
        receivedMs,
        maxAgeMs: limits.maxAgeMs,
      },
    );
  }
  const registers = registersOf(t);
  if (last === null) return { ok: true, reading: { timestampMs, registers }, gapMs: null };
  if (timestampMs <= last.timestampMs) {
    return violation(
      'meter_time_not_increasing',
      `the telegram is dated ${iso(timestampMs)}, not after the last accepted telegram at ${iso(last.timestampMs)}`,
      {
        timestampMs,
        lastMs: last.timestampMs,
      },
    );
  }
  for (const name of REGISTER_NAMES) {
    if (registers[name] < last.registers[name]) {
      return violation(
        'meter_counter_backwards',
        `register ${OBIS[name]} went back from ${last.registers[name]} Wh to ${registers[name]} Wh`,
        {
          obis: OBIS[name],
          lastWh: last.registers[name].toString(),
          gotWh: registers[name].toString(),
        },
      );
    }
  }
  const elapsedMs = timestampMs - last.timestampMs;
  const advanceWh =
    deliveredWh(registers) -
    deliveredWh(last.registers) +
    returnedWh(registers) -
    returnedWh(last.registers);
  // advance [Wh] <= maxKw * 1000 [W] * elapsed [h], in integers: Wh * 3,600,000 <= W * ms.
  const maxW = BigInt(Math.round(limits.maxKw * 1000));
  if (advanceWh * 3_600_000n > maxW * BigInt(elapsedMs)) {
    const impliedKw = Number((advanceWh * 3_600_000n) / BigInt(elapsedMs)) / 1000;
    return violation(
      'meter_jump_too_large',
      `the registers advanced ${advanceWh} Wh in ${elapsedMs} ms, ${impliedKw} kW on average, more than the connection's ${limits.maxKw} kW`,
      {
        advanceWh: advanceWh.toString(),
        elapsedMs,
        impliedKw,
        maxKw: limits.maxKw,
      },
    );
  }
  return {
    ok: true,
    reading: { timestampMs, registers },
    gapMs: elapsedMs > limits.disconnectAfterMs ? elapsedMs : null,
  };
}

function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) < 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
