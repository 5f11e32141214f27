// The JSON form of a parsed telegram (what `hanzenet meter parse` prints): energy as exact kWh
// decimal strings, power as whole W, times as UTC ISO strings. No bigint, so JSON.stringify works.

import type { DsmrVersion, Telegram } from './parse.js';
import type { TelegramRegisters } from './objects.js';

export interface TelegramJson {
  readonly version: DsmrVersion;
  readonly versionRaw: string | null;
  readonly header: string;
  readonly equipmentId: string | null;
  readonly equipmentIdRaw: string | null;
  readonly timestamp: string | null;
  readonly timestampRaw: string | null;
  readonly registersKwh: Readonly<Record<keyof TelegramRegisters, string>>;
  readonly currentPowerDeliveredW: number | null;
  readonly currentPowerReturnedW: number | null;
  readonly tariffIndicator: number | null;
  readonly gas: {
    readonly channel: number;
    readonly equipmentId: string | null;
    readonly timestamp: string | null;
    readonly m3: string;
  } | null;
  readonly mbus: ReadonlyArray<{
    readonly channel: number;
    readonly deviceType: number | null;
    readonly equipmentId: string | null;
    readonly timestamp: string | null;
    readonly value: string;
    readonly unit: string;
    readonly obis: string;
  }>;
  readonly crc: string | null;
}

export function telegramToJson(t: Telegram): TelegramJson {
  const r = t.registers;
  return {
    version: t.version,
    versionRaw: t.versionRaw,
    header: t.header,
    equipmentId: t.equipmentId,
    equipmentIdRaw: t.equipmentIdRaw,
    timestamp: t.timestamp,
    timestampRaw: t.timestampRaw,
    registersKwh: {
      deliveredTariff1: r.deliveredTariff1.kwh,
      deliveredTariff2: r.deliveredTariff2.kwh,
      returnedTariff1: r.returnedTariff1.kwh,
      returnedTariff2: r.returnedTariff2.kwh,
      deliveredTotal: r.deliveredTotal.kwh,
      returnedTotal: r.returnedTotal.kwh,
    },
    currentPowerDeliveredW: t.currentPowerDeliveredW,
    currentPowerReturnedW: t.currentPowerReturnedW,
    tariffIndicator: t.tariffIndicator,
    gas:
      t.gas === null
        ? null
        : {
            channel: t.gas.channel,
            equipmentId: t.gas.equipmentId,
            timestamp: t.gas.timestamp,
            m3: t.gas.m3,
          },
    mbus: t.mbus.map((m) => ({
      channel: m.channel,
      deviceType: m.deviceType,
      equipmentId: m.equipmentId,
      timestamp: m.timestamp,
      value: m.value,
      unit: m.unit,
      obis: m.obis,
    })),
    crc: t.crc,
  };
}
