// Writing DSMR telegrams: the simulated meter uses this, and so do tests that build telegrams.

import { utcToAmsterdamWall } from '../shared/amsterdam-time.js';
import { crc16ArcOfLatin1, crcHex } from './crc16.js';
import { formatFixed } from '../shared/decimal.js';

/**
 * A complete DSMR 4+ telegram: `header` ("/XXX5..."), an empty line, the OBIS lines, "!" and the
 * CRC-16/ARC of everything from '/' through '!', every line ending in CRLF as on the P1 port.
 */
export function buildTelegram(header: string, objectLines: readonly string[]): string {
  const body = `${header}\r\n\r\n${objectLines.map((line) => `${line}\r\n`).join('')}!`;
  return `${body}${crcHex(crc16ArcOfLatin1(body))}\r\n`;
}

/** DSMR time "YYMMDDhhmmssX" of a UTC instant, in Amsterdam wall time with X = S (summer) or W. */
export function formatDsmrTimestamp(utcMs: number): string {
  const t = utcToAmsterdamWall(utcMs);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(t.year % 100)}${two(t.month)}${two(t.day)}${two(t.hour)}${two(t.minute)}${two(t.second)}${t.summer ? 'S' : 'W'}`;
}

/** Register text as DSMR 5 prints it: 4726494n -> "004726.494*kWh". */
export function formatEnergyKwh(wh: bigint): string {
  return `${formatFixed(wh, 3, 6)}*kWh`;
}

/** Power text as DSMR 5 prints it: 1869 -> "01.869*kW". */
export function formatPowerKw(w: number): string {
  return `${formatFixed(BigInt(w), 3, 2)}*kW`;
}

/** Equipment ids travel as hex of their ASCII text. */
export function hexOfText(text: string): string {
  return Buffer.from(text, 'latin1').toString('hex').toUpperCase();
}
