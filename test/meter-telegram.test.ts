// The DSMR telegram parser on the real telegrams in test/vectors/telegrams (values checked against
// the files' text), our edge cases, every truncation point, a serialise/parse round trip, and the
// stream splitter under random chunking and garbage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { crc16Arc, crc16ArcOfLatin1 } from '../src/meter/p1/crc16.js';
import { parseTelegram, type Telegram, type TelegramParse } from '../src/meter/p1/parse.js';
import { telegramToJson } from '../src/meter/p1/json.js';
import { parseDsmrTimestamp } from '../src/meter/p1/objects.js';
import { TelegramSplitter } from '../src/meter/p1/splitter.js';
import {
  buildTelegram,
  formatDsmrTimestamp,
  formatEnergyKwh,
  formatPowerKw,
  hexOfText,
} from '../src/meter/p1/write.js';

const SEED = Number(process.env['SEED'] ?? 1);

function vector(name: string): string {
  return readFileSync(new URL(`../../test/vectors/telegrams/${name}`, import.meta.url)).toString(
    'latin1',
  );
}

function ok(r: TelegramParse): Telegram {
  if (!r.ok) assert.fail(`expected a parsed telegram, got ${r.code}: ${r.message}`);
  return r.telegram;
}

function code(r: TelegramParse): string {
  return r.ok ? 'ok' : r.code;
}

const toCrlf = (s: string): string => s.replace(/\r?\n/g, '\r\n');
const toLf = (s: string): string => s.replace(/\r\n/g, '\n');

const wh = (t: Telegram): Record<string, bigint> =>
  Object.fromEntries(Object.entries(t.registers).map(([k, v]) => [k, v.wh]));
const ISK_WH = {
  deliveredTariff1: 3808351n,
  deliveredTariff2: 2948827n,
  returnedTariff1: 1285951n,
  returnedTariff2: 2876514n,
  deliveredTotal: 6757178n,
  returnedTotal: 4162465n,
};

test("CRC-16/ARC check value and the real telegrams' CRCs", () => {
  assert.equal(crc16Arc(new TextEncoder().encode('123456789')), 0xbb3d);
  const body = (s: string): string => toCrlf(s.slice(0, s.indexOf('!') + 1));
  assert.equal(crc16ArcOfLatin1(body(vector('dsmr-4.2-kfm-1.txt'))), 0xa737);
  assert.equal(crc16ArcOfLatin1(body(vector('dsmr-5.0-isk-1.txt'))), 0x1f28);
  assert.equal(crc16ArcOfLatin1(body(vector('dsmr_parser-fluvius-emucs-v1.7.1.crlf.txt'))), 0x3ad7);
});

test('DSMR 2.2 Kamstrup: registers, power, tariff, 2.2-style gas, no timestamp, no CRC', () => {
  const t = ok(parseTelegram(vector('dsmr-2.2-kfm-1.txt')));
  assert.equal(t.version, '2.2');
  assert.equal(t.versionRaw, null);
  assert.equal(t.header, '/KMP5 ZABF001587315111');
  assert.equal(t.crc, null);
  assert.equal(t.timestamp, null);
  assert.equal(t.timestampRaw, null);
  // 33 hex digits (odd): not decodable, kept as sent.
  assert.equal(t.equipmentId, '205C4D246333034353537383234323121');
  assert.deepEqual(wh(t), {
    deliveredTariff1: 185000n,
    deliveredTariff2: 84000n,
    returnedTariff1: 13000n,
    returnedTariff2: 19000n,
    deliveredTotal: 269000n,
    returnedTotal: 32000n,
  });
  assert.equal(t.registers.deliveredTariff1.kwh, '185');
  assert.equal(t.currentPowerDeliveredW, 980); // 0000.98*kW
  assert.equal(t.currentPowerReturnedW, 0);
  assert.equal(t.tariffIndicator, 1);
  // 0-1:24.3.0(120517020000)...(m3) + (00124.477): Amsterdam wall time, summer -> UTC+2.
  assert.deepEqual(t.gas, {
    channel: 1,
    equipmentId: '3238313031453631373038389930337131',
    timestamp: '2012-05-17T00:00:00.000Z',
    timestampMs: Date.UTC(2012, 4, 17),
    m3: '124.477',
  });
  assert.equal(t.mbus[0]?.obis, '0-1:24.3.0');
  assert.equal(t.mbus[0]?.deviceType, 3);
});

test('DSMR 4.2 Kaifa: every value as in the file', () => {
  const t = ok(parseTelegram(vector('dsmr-4.2-kfm-1.txt')));
  assert.equal(t.version, '4.x');
  assert.equal(t.versionRaw, '42');
  assert.equal(t.header, '/KFM5KAIFA-METER');
  assert.equal(t.crc, 'A737');
  assert.equal(t.timestampRaw, '180306123056W');
  assert.equal(t.timestamp, '2018-03-06T11:30:56.000Z'); // W = UTC+1
  assert.equal(t.equipmentIdRaw, '4530303033303030303032313234383133');
  assert.equal(t.equipmentId, 'E0003000002124813');
  assert.deepEqual(wh(t), {
    deliveredTariff1: 4726494n,
    deliveredTariff2: 4844281n,
    returnedTariff1: 3284320n,
    returnedTariff2: 7764691n,
    deliveredTotal: 9570775n,
    returnedTotal: 11049011n,
  });
  assert.deepEqual(telegramToJson(t).registersKwh, {
    deliveredTariff1: '4726.494',
    deliveredTariff2: '4844.281',
    returnedTariff1: '3284.32',
    returnedTariff2: '7764.691',
    deliveredTotal: '9570.775',
    returnedTotal: '11049.011',
  });
  assert.equal(t.currentPowerDeliveredW, 0);
  assert.equal(t.currentPowerReturnedW, 1869);
  assert.equal(t.tariffIndicator, 2);
  assert.deepEqual(t.gas, {
    channel: 1,
    equipmentId: 'G0016561203580113',
    timestamp: '2018-03-06T11:00:00.000Z',
    timestampMs: Date.UTC(2018, 2, 6, 11),
    m3: '5359.919',
  });
  assert.equal(t.objects.length, 33);
  assert.deepEqual(t.objects.find((o) => o.obis === '1-0:99.97.0')?.values, [
    '1',
    '0-0:96.7.19',
    '000101000024W',
    '2147483647*s',
  ]);
});

test('DSMR 5.0 Iskra: every value as in the file', () => {
  const t = ok(parseTelegram(vector('dsmr-5.0-isk-1.txt')));
  assert.equal(t.version, '5.0');
  assert.equal(t.versionRaw, '50');
  assert.equal(t.header, '/ISK5\\2M550T-1011');
  assert.equal(t.crc, '1F28');
  assert.equal(t.timestamp, '2018-11-06T13:04:29.000Z');
  assert.equal(t.equipmentId, 'E0034006810516416');
  assert.deepEqual(wh(t), ISK_WH);
  assert.equal(t.currentPowerDeliveredW, 0);
  assert.equal(t.currentPowerReturnedW, 498);
  assert.equal(t.tariffIndicator, 2);
  assert.deepEqual(t.gas, {
    channel: 1,
    equipmentId: 'G0039001700460117',
    timestamp: '2018-11-06T13:00:10.000Z',
    timestampMs: Date.UTC(2018, 10, 6, 13, 0, 10),
    m3: '1569.646',
  });
});

test('e-MUCS Fluvius (CRLF file): version, summer time, gas on 24.2.3, water on channel 2', () => {
  const t = ok(parseTelegram(vector('dsmr_parser-fluvius-emucs-v1.7.1.crlf.txt')));
  assert.equal(t.version, 'e-MUCS');
  assert.equal(t.versionRaw, '50217');
  assert.equal(t.header, '/FLU5\\253769484_A');
  assert.equal(t.crc, '3AD7');
  assert.equal(t.timestamp, '2020-05-12T11:54:09.000Z'); // S = UTC+2
  assert.equal(t.equipmentId, '1SAG3101021605');
  assert.deepEqual(wh(t), {
    deliveredTariff1: 34n,
    deliveredTariff2: 15758n,
    returnedTariff1: 0n,
    returnedTariff2: 11n,
    deliveredTotal: 15792n,
    returnedTotal: 11n,
  });
  assert.equal(t.registers.returnedTariff1.kwh, '0');
  assert.equal(t.registers.deliveredTariff1.kwh, '0.034');
  assert.equal(t.currentPowerDeliveredW, 0);
  assert.equal(t.currentPowerReturnedW, 0);
  assert.equal(t.tariffIndicator, 1);
  assert.deepEqual(t.gas, {
    channel: 1,
    equipmentId: '7FLO2119033733',
    timestamp: '2020-05-12T11:45:58.000Z',
    timestampMs: Date.UTC(2020, 4, 12, 11, 45, 58),
    m3: '112.384',
  });
  assert.deepEqual(
    t.mbus.map((m) => [m.channel, m.deviceType, m.equipmentId, m.value, m.unit, m.obis]),
    [
      [1, 3, '7FLO2119033733', '112.384', 'm3', '0-1:24.2.3'],
      [2, 7, '8SAG1234567890', '872.234', 'm3', '0-2:24.2.1'],
    ],
  );
});

test('the anonymised Sagemcom telegram is rejected with telegram_bad_crc, naming both CRCs', () => {
  const r = parseTelegram(vector('dsmr-5.0-ene-1.txt'));
  assert.equal(code(r), 'telegram_bad_crc');
  assert.ok(!r.ok);
  assert.deepEqual(r.details, { expected: 'D59D', computed: '2E0A' });
  // With the CRC recomputed, the same bytes parse: only the CRC was wrong.
  const text = vector('dsmr-5.0-ene-1.txt');
  const fixed = text.replace('!D59D', '!2E0A');
  const t = ok(parseTelegram(fixed));
  assert.equal(t.equipmentId, 'serienummer');
  assert.equal(t.timestamp, '2021-03-30T17:23:05.000Z');
  assert.equal(t.gas, null);
});

test('LF and CRLF line ends give the same telegram; a lower-case CRC is accepted', () => {
  for (const name of [
    'dsmr-4.2-kfm-1.txt',
    'dsmr-5.0-isk-1.txt',
    'dsmr_parser-fluvius-emucs-v1.7.1.crlf.txt',
    'dsmr-2.2-kfm-1.txt',
  ]) {
    const text = vector(name);
    const a = ok(parseTelegram(toLf(text)));
    const b = ok(parseTelegram(toCrlf(text)));
    assert.deepEqual(telegramToJson(a), telegramToJson(b), name);
  }
  assert.equal(
    ok(parseTelegram(vector('dsmr-4.2-kfm-1.txt').replace('!A737', '!a737'))).crc,
    'A737',
  );
});

test('a telegram cut at any point is rejected (truncated), never partly used', () => {
  for (const name of [
    'dsmr-2.2-kfm-1.txt',
    'dsmr-4.2-kfm-1.txt',
    'dsmr-5.0-isk-1.txt',
    'dsmr_parser-fluvius-emucs-v1.7.1.crlf.txt',
  ]) {
    const text = vector(name);
    const bang = text.indexOf('!');
    const complete = bang + 1 + (/^[0-9A-F]{4}/.test(text.slice(bang + 1)) ? 4 : 0);
    for (let cut = 1; cut < text.length; cut++) {
      const r = parseTelegram(text.slice(0, cut));
      if (cut >= complete) assert.equal(code(r), 'ok', `${name} cut at ${cut}`);
      else
        assert.ok(
          code(r) === 'telegram_truncated' || code(r) === 'telegram_garbled',
          `${name} cut at ${cut}: ${code(r)}`,
        );
    }
  }
});

test('a CRC telegram with any one byte deleted or changed is rejected', () => {
  for (const name of ['dsmr-4.2-kfm-1.txt', 'dsmr_parser-fluvius-emucs-v1.7.1.crlf.txt']) {
    const text = vector(name);
    const original = telegramToJson(ok(parseTelegram(text)));
    const end = text.indexOf('!') + 5;
    for (let i = 0; i < end; i++) {
      const deleted = text.slice(0, i) + text.slice(i + 1);
      const r = parseTelegram(deleted);
      // Dropping the CR of a CRLF pair leaves an LF line end, which is read as CRLF: same telegram.
      if (text[i] === '\r') assert.deepEqual(telegramToJson(ok(r)), original);
      else assert.notEqual(code(r), 'ok', `${name} without byte ${i}`);
      const flipped =
        text.slice(0, i) + String.fromCharCode(text.charCodeAt(i) ^ 0x04) + text.slice(i + 1);
      assert.notEqual(code(parseTelegram(flipped)), 'ok', `${name} with byte ${i} changed`);
    }
  }
});

test('edge cases: unit variants are read exactly, and each defect gets its code', () => {
  const t = ok(parseTelegram(vector('edge-5.0-unit-variants.txt')));
  assert.deepEqual(wh(t), ISK_WH); // Wh, kWh with a 4th decimal 0, MWh with 6 decimals
  assert.equal(t.currentPowerDeliveredW, 123);
  const expected: Record<string, string> = {
    'edge-5.0-excess-precision.txt': 'telegram_garbled',
    'edge-5.0-duplicate-register.txt': 'telegram_garbled',
    'edge-5.0-impossible-time.txt': 'telegram_garbled',
    'edge-5.0-missing-returned.txt': 'telegram_missing_register',
    'edge-3.0-unsupported-version.txt': 'telegram_unknown_format',
    'edge-5.0-no-crc.txt': 'telegram_truncated',
    'edge-5.0-bad-obis-line.txt': 'telegram_garbled',
  };
  for (const [name, want] of Object.entries(expected))
    assert.equal(code(parseTelegram(vector(name))), want, name);
  const missing = parseTelegram(vector('edge-5.0-missing-returned.txt'));
  assert.ok(!missing.ok);
  assert.equal(missing.details['missing'], '1-0:2.8.1,1-0:2.8.2');
  const dup = parseTelegram(vector('edge-5.0-duplicate-register.txt'));
  assert.ok(!dup.ok);
  assert.equal(dup.details['obis'], '1-0:1.8.1');
  const noCrc = ok(parseTelegram(vector('edge-5.0-no-crc.txt'), { requireCrc: false }));
  assert.equal(noCrc.crc, null);
  assert.deepEqual(wh(noCrc), ISK_WH);
});

test('summer/winter flag around the autumn change', () => {
  assert.equal(
    ok(parseTelegram(vector('edge-5.0-summer-flag.txt'))).timestamp,
    '2023-10-29T00:59:59.000Z',
  );
  assert.equal(
    ok(parseTelegram(vector('edge-5.0-winter-flag.txt'))).timestamp,
    '2023-10-29T01:00:00.000Z',
  );
  assert.equal(parseDsmrTimestamp('230326030000S'), Date.UTC(2023, 2, 26, 1));
  assert.equal(parseDsmrTimestamp('230326015959W'), Date.UTC(2023, 2, 26, 0, 59, 59));
  assert.equal(parseDsmrTimestamp('240229120000W'), Date.UTC(2024, 1, 29, 11)); // leap day
  for (const bad of [
    '230229120000W',
    '231301000000W',
    '230101240000W',
    '230101006000W',
    '230101000060W',
    '2301010000W',
    '230101000000X',
  ]) {
    assert.equal(parseDsmrTimestamp(bad), null, bad);
  }
});

test('not a telegram, trailing text, a second telegram, a bad end line', () => {
  const isk = vector('dsmr-5.0-isk-1.txt');
  assert.equal(code(parseTelegram('')), 'telegram_unknown_format');
  assert.equal(code(parseTelegram('{"json": true}')), 'telegram_unknown_format');
  assert.equal(code(parseTelegram('garbage\n' + isk)), 'telegram_unknown_format');
  assert.equal(code(parseTelegram('/etc/passwd\n!\n')), 'telegram_unknown_format');
  assert.equal(code(parseTelegram('  \r\n' + isk + '\r\n\r\n')), 'ok');
  assert.equal(code(parseTelegram(isk + 'x')), 'telegram_garbled');
  assert.equal(code(parseTelegram(isk + isk)), 'telegram_garbled');
  assert.equal(code(parseTelegram(isk.replace('!1F28', '!1F2'))), 'telegram_truncated');
  assert.equal(code(parseTelegram(isk.replace('!1F28', '!1F2\n'))), 'telegram_garbled');
  assert.equal(code(parseTelegram(isk.replace('!1F28', '!1F28A'))), 'telegram_garbled');
  assert.equal(code(parseTelegram(isk.replace('!1F28', '!1F29'))), 'telegram_bad_crc');
  assert.equal(
    code(parseTelegram(isk.replace('(00.498*kW)\n', '(00.498*kW)!\n'))),
    'telegram_garbled',
  );
  assert.equal(code(parseTelegram('x'.repeat(20_000))), 'telegram_garbled');
});

interface RoundTrip {
  readonly whs: readonly [bigint, bigint, bigint, bigint];
  readonly units: readonly ('kWh' | 'Wh')[];
  readonly deliveredW: number;
  readonly returnedW: number;
  readonly timeS: number;
  readonly crlf: boolean;
  readonly id: string;
}

function roundTripText(v: RoundTrip): string {
  const obis = ['1-0:1.8.1', '1-0:1.8.2', '1-0:2.8.1', '1-0:2.8.2'];
  const registerLines = v.whs.map(
    (w, i) =>
      `${obis[i]}(${v.units[i] === 'Wh' ? `${w.toString().padStart(10, '0')}*Wh` : formatEnergyKwh(w)})`,
  );
  const lines = [
    '1-3:0.2.8(50)',
    `0-0:1.0.0(${formatDsmrTimestamp(v.timeS * 1000)})`,
    `0-0:96.1.1(${hexOfText(v.id)})`,
    ...registerLines,
    `1-0:1.7.0(${formatPowerKw(v.deliveredW)})`,
    `1-0:2.7.0(${formatPowerKw(v.returnedW)})`,
  ];
  const text = buildTelegram('/TST5\\2roundtrip', lines);
  return v.crlf ? text : toLf(text);
}

test('property: random registers, power and time -> telegram with CRC -> the same values', () => {
  const register = fc.bigInt({ min: 0n, max: 999_999_999n });
  const arb = fc.record({
    whs: fc.tuple(register, register, register, register),
    units: fc.array(fc.constantFrom('kWh' as const, 'Wh' as const), { minLength: 4, maxLength: 4 }),
    deliveredW: fc.integer({ min: 0, max: 99_999 }),
    returnedW: fc.integer({ min: 0, max: 99_999 }),
    timeS: fc.integer({ min: Date.UTC(2000, 0, 1) / 1000, max: Date.UTC(2099, 11, 31) / 1000 }),
    crlf: fc.boolean(),
    id: fc.stringMatching(/^[A-Z0-9]{1,20}$/),
  });
  fc.assert(
    fc.property(arb, (v) => {
      const t = ok(parseTelegram(roundTripText(v)));
      assert.deepEqual(
        [
          t.registers.deliveredTariff1.wh,
          t.registers.deliveredTariff2.wh,
          t.registers.returnedTariff1.wh,
          t.registers.returnedTariff2.wh,
        ],
        [...v.whs],
      );
      assert.equal(t.registers.deliveredTotal.wh, (v.whs[0] ?? 0n) + (v.whs[1] ?? 0n));
      assert.equal(t.currentPowerDeliveredW, v.deliveredW);
      assert.equal(t.currentPowerReturnedW, v.returnedW);
      assert.equal(t.timestampMs, v.timeS * 1000);
      assert.equal(t.equipmentId, v.id);
    }),
    { seed: SEED, numRuns: 500 },
  );
});

test('splitter: real stream with random chunking and garbage recovers every telegram; bytes add up', () => {
  // As on the P1 port: CRLF line ends, the end line included.
  const good = [
    'dsmr-4.2-kfm-1.txt',
    'dsmr-5.0-isk-1.txt',
    'dsmr_parser-fluvius-emucs-v1.7.1.crlf.txt',
  ].map((n) => toCrlf(`${vector(n).trimEnd()}\n`));
  const garbageChar = fc.constantFrom('x', '!', '/', '\r', '\n', '(', '1', ' ', '\u00ff', 'A');
  const arb = fc.record({
    parts: fc.array(
      fc.record({
        telegram: fc.nat({ max: good.length - 1 }),
        garbage: fc.array(garbageChar, { maxLength: 30 }).map((a) => a.join('')),
      }),
      { minLength: 1, maxLength: 8 },
    ),
    cuts: fc.array(fc.integer({ min: 1, max: 97 }), { maxLength: 200 }),
    buffers: fc.boolean(),
  });
  fc.assert(
    fc.property(arb, ({ parts, cuts, buffers }) => {
      const stream = parts.map((p) => p.garbage + (good[p.telegram] ?? '')).join('');
      const splitter = new TelegramSplitter();
      const out: string[] = [];
      let at = 0;
      for (const size of cuts) {
        if (at >= stream.length) break;
        const chunk = stream.slice(at, at + size);
        out.push(...splitter.feed(buffers ? Buffer.from(chunk, 'latin1') : chunk));
        at += size;
      }
      out.push(...splitter.feed(stream.slice(at)), ...splitter.end());
      const parsedOk = out.filter((t) => parseTelegram(t).ok);
      assert.deepEqual(
        parsedOk,
        parts.map((p) => good[p.telegram]),
      );
      const stats = splitter.stats();
      assert.equal(stats.telegrams, out.length);
      assert.equal(out.join('').length + stats.droppedBytes, stream.length);
    }),
    { seed: SEED, numRuns: 300 },
  );
});

test('splitter: a telegram cut by a restart is dropped and counted; the buffer is bounded', () => {
  const isk = toCrlf(`${vector('dsmr-5.0-isk-1.txt').trimEnd()}\n`);
  const s = new TelegramSplitter({ telegramCharsMax: 2000 });
  const texts = s.feed(`noise${isk.slice(0, 300)}${isk}`);
  assert.deepEqual(texts, [isk]);
  assert.deepEqual(s.stats(), { telegrams: 1, droppedBytes: 305, droppedTelegrams: 1 });
  assert.deepEqual(s.feed('/' + 'y'.repeat(5000)), []);
  assert.equal(s.pendingBytes(), 0);
  assert.equal(s.stats().droppedTelegrams, 2);
  assert.deepEqual(s.feed(isk), [isk]);
  // A file whose last line lacks its line end (like dsmr-2.2-kfm-1.txt) is handed out by end().
  const kfm = vector('dsmr-2.2-kfm-1.txt');
  const s2 = new TelegramSplitter();
  assert.deepEqual(s2.feed(kfm), []);
  assert.deepEqual(s2.end(), [kfm]);
  assert.ok(parseTelegram(kfm).ok);
  // A telegram followed by garbage on its end line ends before the garbage.
  const s3 = new TelegramSplitter();
  const endLine = isk.replace(/\r\n$/, '');
  assert.deepEqual(s3.feed(`${endLine}zz${isk}`), [endLine, isk]);
  assert.equal(s3.stats().droppedBytes, 2);
});
