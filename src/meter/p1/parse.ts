// DSMR P1 telegram parser (DSMR 2.2, 4.x, 5.0 and the Belgian e-MUCS variant). A telegram is
// either parsed completely or refused with one stable code: a telegram with a bad CRC, cut short
// or garbled is never half-used. Text is handled as latin1 (one character = one byte on the wire),
// so the CRC is computed over exactly the bytes the meter sent.
//
// Framing: optional whitespace, a header line "/XXX5...", an optional empty line, OBIS lines
// ("a-b:c.d.e(value)(value)..."; a line of only "(value)" groups continues the line before, as in
// DSMR 2.2's gas object), then "!" and, for DSMR 4+, four hex digits of CRC-16/ARC over every byte
// from '/' through '!' with CRLF line ends. LF-only input is converted to CRLF before the check.

import { crc16ArcOfLatin1, crcHex } from './crc16.js';
import { extractReadings, type TelegramReadings } from './objects.js';
import type { TelegramObject } from './obis-line.js';
import { TelegramReject, type TelegramErrorCode } from './reject.js';

export type { TelegramErrorCode } from './reject.js';
export type { TelegramObject } from './obis-line.js';
export type { EnergyRegister, GasReading, MbusReading, TelegramRegisters } from './objects.js';

/** '2.2' stands for every telegram without a version object (DSMR 2.2 and 3). */
export type DsmrVersion = '2.2' | '4.x' | '5.0' | 'e-MUCS';

export interface Telegram extends TelegramReadings {
  readonly version: DsmrVersion;
  /** The value of 1-3:0.2.8 ("50") or, for e-MUCS, 0-0:96.1.4 ("50217"); null for 2.2. */
  readonly versionRaw: string | null;
  /** The header line, with its '/': "/ISK5\2M550T-1011". */
  readonly header: string;
  /** The 4 hex digits after '!' (upper case), or null when the telegram carries none. */
  readonly crc: string | null;
  /** Every OBIS line, in telegram order. */
  readonly objects: readonly TelegramObject[];
}

export type TelegramParse =
  | { readonly ok: true; readonly telegram: Telegram }
  | {
      readonly ok: false;
      readonly code: TelegramErrorCode;
      readonly message: string;
      readonly details: Readonly<Record<string, string | number>>;
    };

export interface ParseTelegramOptions {
  /** DSMR 4+ telegrams must end in a CRC (default true). A CRC that is present is always checked. */
  readonly requireCrc?: boolean;
}

/** Telegrams longer than this are refused (real ones are 0.4 to 3 KB). */
export const TELEGRAM_CHARS_MAX = 16_384;
const LINES_MAX = 512;
const HEADER = /^\/[A-Za-z]{3}[0-9A-Z]/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const OBIS_LINE =
  /^([0-9]{1,3})-([0-9]{1,3}):([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})((?:\([^()]*\))+)$/;
const CONTINUATION_LINE = /^(?:\([^()]*\))+$/;

/** Parses one telegram (leading and trailing whitespace allowed, nothing else). */
export function parseTelegram(text: string, opts: ParseTelegramOptions = {}): TelegramParse {
  try {
    return { ok: true, telegram: parseOrThrow(text, opts.requireCrc ?? true) };
  } catch (err) {
    if (err instanceof TelegramReject)
      return { ok: false, code: err.code, message: err.message, details: err.details };
    throw err;
  }
}

function parseOrThrow(text: string, requireCrc: boolean): Telegram {
  if (text.length > TELEGRAM_CHARS_MAX) {
    throw new TelegramReject(
      'telegram_garbled',
      `telegram is ${text.length} characters long, more than the ${TELEGRAM_CHARS_MAX} accepted`,
      { length: text.length },
    );
  }
  const frame = frameTelegram(text);
  const header = frame.lines[0] ?? '';
  if (!HEADER.test(header) || !PRINTABLE.test(header)) {
    throw new TelegramReject(
      'telegram_unknown_format',
      `the first line ${JSON.stringify(header.slice(0, 40))} is not a DSMR header ("/XXX5...")`,
      { line: 1 },
    );
  }
  if (frame.crc !== null) checkCrc(frame.crcInput, frame.crc);
  const objects = parseObjectLines(frame.lines);
  const byObis = new Map(objects.map((o) => [o.obis, o]));
  const { version, versionRaw } = detectVersion(byObis);
  if (frame.crc === null && version !== '2.2' && requireCrc) {
    throw new TelegramReject(
      'telegram_truncated',
      `a DSMR ${version} telegram must end in "!" and 4 hex digits of CRC; this one ends at "!"`,
      { version },
    );
  }
  const readings = extractReadings(byObis);
  return { version, versionRaw, header, crc: frame.crc, objects, ...readings };
}

interface Frame {
  /** Lines from the header up to the one before '!', without line ends. */
  readonly lines: readonly string[];
  /** The bytes the CRC covers: '/' through '!', CRLF line ends. */
  readonly crcInput: string;
  readonly crc: string | null;
}

function frameTelegram(text: string): Frame {
  const start = /^[\s\uFEFF]*/.exec(text)?.[0].length ?? 0;
  if (text[start] !== '/') {
    const what =
      start === text.length
        ? 'the input is empty'
        : `it starts with ${JSON.stringify(text.slice(start, start + 20))}`;
    throw new TelegramReject(
      'telegram_unknown_format',
      `not a DSMR telegram: no "/" header line (${what})`,
      {},
    );
  }
  const bang = text.indexOf('!', start);
  if (bang < 0)
    throw new TelegramReject('telegram_truncated', 'the telegram has no "!" end line (cut short)', {
      length: text.length - start,
    });
  const raw = text.slice(start, bang);
  if (!raw.endsWith('\n')) {
    const line = raw.split('\n').length;
    throw new TelegramReject(
      'telegram_garbled',
      `"!" stands inside line ${line}, not at the start of the end line`,
      { line },
    );
  }
  const lines = raw.replace(/\r?\n$/, '').split(/\r?\n/);
  if (lines.length > LINES_MAX)
    throw new TelegramReject(
      'telegram_garbled',
      `the telegram has ${lines.length} lines, more than ${LINES_MAX}`,
      {},
    );
  const crc = readCrcTail(text.slice(bang + 1), lines.length + 1);
  return { lines, crcInput: `${lines.join('\r\n')}\r\n!`, crc };
}

/** The CRC after '!' (or null), checking that only whitespace follows the end line. */
function readCrcTail(tail: string, endLine: number): string | null {
  const hex = /^[0-9A-Fa-f]*/.exec(tail)?.[0] ?? '';
  const rest = tail.slice(hex.length);
  if (hex.length > 0 && hex.length < 4 && rest === '') {
    throw new TelegramReject(
      'telegram_truncated',
      `the CRC after "!" has ${hex.length} of its 4 hex digits (cut short)`,
      { line: endLine },
    );
  }
  if (hex.length !== 0 && hex.length !== 4) {
    throw new TelegramReject(
      'telegram_garbled',
      `the end line must be "!" and 4 hex digits, got ${JSON.stringify('!' + tail.slice(0, 10).trimEnd())}`,
      { line: endLine },
    );
  }
  if (!/^\s*$/.test(rest)) {
    const next = rest.trimStart().startsWith('/')
      ? ' (a second telegram: split a stream into telegrams first, see TelegramSplitter)'
      : '';
    throw new TelegramReject(
      'telegram_garbled',
      `text follows the end line${next}: ${JSON.stringify(rest.trim().slice(0, 20))}`,
      { line: endLine + 1 },
    );
  }
  return hex.length === 4 ? hex.toUpperCase() : null;
}

function checkCrc(crcInput: string, expected: string): void {
  const computed = crcHex(crc16ArcOfLatin1(crcInput));
  if (computed !== expected) {
    throw new TelegramReject(
      'telegram_bad_crc',
      `CRC mismatch: the telegram says ${expected}, its bytes give ${computed}`,
      { expected, computed },
    );
  }
}

function parseObjectLines(lines: readonly string[]): TelegramObject[] {
  const objects: TelegramObject[] = [];
  const seen = new Set<string>();
  for (let i = 1; i < lines.length; i++) {
    const text = lines[i] ?? '';
    const line = i + 1;
    if (text === '' && i === 1) continue;
    if (!PRINTABLE.test(text))
      throw new TelegramReject(
        'telegram_garbled',
        `line ${line} holds a byte that is not printable ASCII`,
        { line },
      );
    if (text === '')
      throw new TelegramReject(
        'telegram_garbled',
        `line ${line} is empty (only the line after the header may be)`,
        { line },
      );
    const previous = objects[objects.length - 1];
    if (CONTINUATION_LINE.test(text) && previous !== undefined) {
      objects[objects.length - 1] = {
        ...previous,
        values: [...previous.values, ...groupValues(text)],
      };
      continue;
    }
    const m = OBIS_LINE.exec(text);
    if (!m)
      throw new TelegramReject(
        'telegram_garbled',
        `line ${line} is not an OBIS line "a-b:c.d.e(value)": ${JSON.stringify(text.slice(0, 40))}`,
        { line },
      );
    const obis = `${Number(m[1])}-${Number(m[2])}:${Number(m[3])}.${Number(m[4])}.${Number(m[5])}`;
    if (seen.has(obis))
      throw new TelegramReject('telegram_garbled', `line ${line} repeats ${obis}`, { line, obis });
    seen.add(obis);
    objects.push({ obis, values: groupValues(m[6] ?? ''), line });
  }
  return objects;
}

function groupValues(groups: string): string[] {
  return [...groups.matchAll(/\(([^()]*)\)/g)].map((g) => g[1] ?? '');
}

function detectVersion(byObis: ReadonlyMap<string, TelegramObject>): {
  version: DsmrVersion;
  versionRaw: string | null;
} {
  const belgian = byObis.get('0-0:96.1.4');
  if (belgian !== undefined) return { version: 'e-MUCS', versionRaw: belgian.values[0] ?? '' };
  const dutch = byObis.get('1-3:0.2.8');
  if (dutch === undefined) return { version: '2.2', versionRaw: null };
  const raw = dutch.values.length === 1 ? (dutch.values[0] ?? '') : dutch.values.join(')(');
  if (/^4[0-9]$/.test(raw)) return { version: '4.x', versionRaw: raw };
  if (/^5[0-9]$/.test(raw)) return { version: '5.0', versionRaw: raw };
  throw new TelegramReject(
    'telegram_unknown_format',
    `unsupported DSMR version 1-3:0.2.8(${raw}); supported: 2.2, 4.x (4x), 5.0 (5x), e-MUCS`,
    {
      line: dutch.line,
      obis: dutch.obis,
    },
  );
}
