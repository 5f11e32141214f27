// The grid operator's 15-minute CSV: format variants, exact Wh, Europe/Amsterdam wall time with
// the DST days of 92 and 100 quarter hours, interval checks, and errors that name line and field.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseGridCsv,
  quarterHoursInDay,
  type GridCsvParse,
  type GridRow,
} from '../src/meter/reconcile/grid-csv.js';
import {
  amsterdamOffsetMinutes,
  amsterdamWallToUtcCandidates,
  utcToAmsterdamWall,
} from '../src/meter/shared/amsterdam-time.js';

type Ok = Extract<GridCsvParse, { ok: true }>;

function ok(r: GridCsvParse): Ok {
  if (!r.ok) assert.fail(`${r.code}: ${r.message}`);
  return r;
}

function fail(r: GridCsvParse): { line: number; field: string; message: string } {
  if (r.ok) assert.fail('expected the file to be refused');
  assert.equal(r.code, 'grid_csv_invalid');
  return { ...r.details, message: r.message };
}

const brief = (rows: readonly GridRow[]): Array<[string, string, bigint, bigint, number]> =>
  rows.map((r) => [r.meterId, r.intervalStartUtc, r.deliveredWh, r.returnedWh, r.line]);

/** Wall times of one Amsterdam day in 15-minute steps, as the operator lists them (repeats included). */
function localDayRows(
  meterId: string,
  date: string,
  sep: string,
  value: (k: number) => string,
): string[] {
  const [y = 0, m = 0, d = 0] = date.split('-').map(Number);
  const start =
    amsterdamWallToUtcCandidates({ year: y, month: m, day: d, hour: 0, minute: 0, second: 0 })[0] ??
    0;
  const rows: string[] = [];
  for (let ms = start, k = 0; utcToAmsterdamWall(ms).day === d; ms += 900_000, k++) {
    const w = utcToAmsterdamWall(ms);
    const wall = `${date} ${String(w.hour).padStart(2, '0')}:${String(w.minute).padStart(2, '0')}`;
    rows.push([meterId, wall, value(k), '0'].join(sep));
  }
  return rows;
}

test('comma-separated with a header, ISO times with Z and offsets, exact Wh', () => {
  const r = ok(
    parseGridCsv(
      [
        'meter_id,interval_start,delivered_kwh,returned_kwh',
        'E01,2026-06-01T10:00:00Z,0.125,0',
        'E01,2026-06-01T12:15:00+02:00,1.5,0.001',
        'E01,2026-06-01T10:30Z,12,0.120',
        '',
      ].join('\n'),
    ),
  );
  assert.deepEqual(brief(r.rows), [
    ['E01', '2026-06-01T10:00:00.000Z', 125n, 0n, 2],
    ['E01', '2026-06-01T10:15:00.000Z', 1500n, 1n, 3],
    ['E01', '2026-06-01T10:30:00.000Z', 12000n, 120n, 4],
  ]);
  assert.equal(r.rows[0]?.intervalStartMs, Date.UTC(2026, 5, 1, 10));
  assert.deepEqual(r.format, {
    separator: ',',
    decimalMark: '.',
    header: ['meter_id', 'interval_start', 'delivered_kwh', 'returned_kwh'],
    columns: { meterId: 0, intervalStart: 1, delivered: 2, returned: 3 },
  });
  assert.equal(r.meters[0]?.contiguous, true);
  assert.equal(r.meters[0]?.endUtc, '2026-06-01T10:45:00.000Z');
});

test('semicolons, decimal comma, Amsterdam wall time, no header, CRLF and a BOM', () => {
  const text =
    '\uFEFFE01;2026-01-15 00:00;0,250;0\r\nE01;15-01-2026 00:15;0,5;0,01\r\nE01;15/01/2026 00:30:00;1;0\r\n';
  const r = ok(parseGridCsv(text));
  assert.deepEqual(brief(r.rows), [
    ['E01', '2026-01-14T23:00:00.000Z', 250n, 0n, 1],
    ['E01', '2026-01-14T23:15:00.000Z', 500n, 10n, 2],
    ['E01', '2026-01-14T23:30:00.000Z', 1000n, 0n, 3],
  ]);
  assert.equal(r.format.separator, ';');
  assert.equal(r.format.decimalMark, ',');
  assert.equal(r.format.header, null);
});

test('tabs, quoted fields, trailing separators, and Dutch column names in another order', () => {
  const tabbed = ok(
    parseGridCsv('"E 01"\t"2026-07-01 12:00"\t"0,75"\t"0"\t\n"E 01"\t2026-07-01 12:15\t0,5\t0\n'),
  );
  assert.deepEqual(brief(tabbed.rows), [
    ['E 01', '2026-07-01T10:00:00.000Z', 750n, 0n, 1],
    ['E 01', '2026-07-01T10:15:00.000Z', 500n, 0n, 2],
  ]);
  assert.equal(tabbed.format.separator, '\t');
  const dutch = ok(
    parseGridCsv(
      'EAN;Teruglevering (kWh);Van;Afname (kWh);Status\n871687400000000001;0,100;2026-07-01 12:00;0,020;"gemeten; definitief"\n',
    ),
  );
  assert.deepEqual(dutch.format.columns, {
    meterId: 0,
    returned: 1,
    intervalStart: 2,
    delivered: 3,
  });
  assert.deepEqual(brief(dutch.rows), [
    ['871687400000000001', '2026-07-01T10:00:00.000Z', 20n, 100n, 2],
  ]);
  const quotedQuote = ok(parseGridCsv('"E""1",2026-07-01T10:00:00Z,1,2\n'));
  assert.equal(quotedQuote.rows[0]?.meterId, 'E"1');
});

test('spring DST day: 92 quarter hours, contiguous in UTC', () => {
  const lines = localDayRows('E01', '2026-03-29', ';', () => '0,1');
  assert.equal(lines.length, 92);
  assert.ok(!lines.some((l) => l.includes(' 02:')));
  const r = ok(parseGridCsv(lines.join('\n')));
  assert.equal(r.rows.length, 92);
  assert.equal(r.rows[0]?.intervalStartUtc, '2026-03-28T23:00:00.000Z');
  assert.equal(r.rows[7]?.intervalStartUtc, '2026-03-29T00:45:00.000Z'); // 01:45 winter time
  assert.equal(r.rows[8]?.intervalStartUtc, '2026-03-29T01:00:00.000Z'); // 03:00 summer time
  const check = r.meters[0];
  assert.equal(check?.contiguous, true);
  assert.deepEqual(check?.days, [
    { localDate: '2026-03-29', intervals: 92, expectedIntervals: 92 },
  ]);
  assert.equal(check?.endUtc, '2026-03-29T22:00:00.000Z');
});

test('autumn DST day: 100 quarter hours, the repeated hour resolved by order of appearance', () => {
  const lines = localDayRows('E01', '2026-10-25', ',', (k) => `0.${String(k).padStart(3, '0')}`);
  assert.equal(lines.length, 100);
  assert.equal(lines.filter((l) => l.includes(' 02:00,')).length, 2);
  const r = ok(parseGridCsv(lines.join('\n')));
  assert.equal(r.rows.length, 100);
  const starts = r.rows.map((row) => row.intervalStartMs);
  assert.deepEqual(
    starts,
    starts.map((_, k) => Date.UTC(2026, 9, 24, 22) + k * 900_000),
  );
  // First 02:00 (line 9) is summer time, the second (line 13) winter time.
  assert.equal(r.rows[8]?.intervalStartUtc, '2026-10-25T00:00:00.000Z');
  assert.equal(r.rows[12]?.intervalStartUtc, '2026-10-25T01:00:00.000Z');
  assert.equal(r.rows[12]?.deliveredWh, 12n);
  assert.deepEqual(r.meters[0]?.days, [
    { localDate: '2026-10-25', intervals: 100, expectedIntervals: 100 },
  ]);
  assert.equal(r.meters[0]?.contiguous, true);
});

test('autumn repeated hour: two meters interleaved, explicit offsets, and a third occurrence', () => {
  const interleaved = ok(
    parseGridCsv(
      [
        'A;2026-10-25 02:00;1;0',
        'B;2026-10-25 02:00;1;0',
        'B;2026-10-25 02:00;2;0',
        'A;2026-10-25 02:00;2;0',
      ].join('\n'),
    ),
  );
  assert.deepEqual(
    interleaved.rows.map((r) => [r.meterId, r.intervalStartUtc]),
    [
      ['A', '2026-10-25T00:00:00.000Z'],
      ['B', '2026-10-25T00:00:00.000Z'],
      ['B', '2026-10-25T01:00:00.000Z'],
      ['A', '2026-10-25T01:00:00.000Z'],
    ],
  );
  const explicit = ok(
    parseGridCsv('A,2026-10-25T02:00:00+01:00,1,0\nA,2026-10-25T02:00:00+02:00,1,0\n'),
  );
  assert.deepEqual(
    explicit.rows.map((r) => r.intervalStartUtc),
    ['2026-10-25T01:00:00.000Z', '2026-10-25T00:00:00.000Z'],
  );
  const third = fail(
    parseGridCsv('A;2026-10-25 02:15;1;0\nA;2026-10-25 02:15;1;0\nA;2026-10-25 02:15;1;0\n'),
  );
  assert.deepEqual([third.line, third.field], [3, 'intervalStart']);
  assert.match(third.message, /third time/);
});

test('a wall time in the spring gap is refused with its line and field', () => {
  const e = fail(
    parseGridCsv(
      'meter;start;delivered;returned\nE01;2026-03-29 01:45;0;0\nE01;2026-03-29 02:00;0;0\n',
    ),
  );
  assert.deepEqual([e.line, e.field], [3, 'intervalStart']);
  assert.match(e.message, /does not exist/);
});

test('errors name the line and the field', () => {
  const cases: Array<[string, number, string, RegExp]> = [
    ['E01;2026-06-01 10:00;0,1234;0\n', 1, 'delivered', /more precise than 1 Wh/],
    ['E01;2026-06-01 10:00;0;-1\n', 1, 'returned', /expected kWh/],
    ['E01,2026-06-01 10:00,0.1,0\nE01,2026-06-01 10:15,"0,1",0\n', 2, 'delivered', /decimal comma/],
    ['E01;2026-06-01 10:00;0,1;0\nE01;2026-06-01 10:15;0.1;0\n', 2, 'delivered', /decimal mark/],
    ['E01;2026-06-01 10:00;0;0\nE01;2026-06-01 10:15;0\n', 2, 'row', /expected 4 fields/],
    ['E01;2026-06-01 10:00;0;0\n\n\nE01;2026-06-01 10:15;0;0;5\n', 4, 'row', /expected 4 fields/],
    ['E01,2026-06-01 10:00,"0.1,0\n', 1, 'row', /not closed/],
    [';2026-06-01 10:00;0;0\n', 1, 'meterId', /printable/],
    ['E01;2026-02-30 10:00;0;0\n', 1, 'intervalStart', /not a possible date/],
    ['E01;2026-06-01T10:00:00+25:00;0;0\n', 1, 'intervalStart', /offset/],
    ['meter;start;delivered;returned\nE01;yesterday;0;0\n', 2, 'intervalStart', /expected a time/],
    ['meter;start;delivered;returned\n', 1, 'file', /no data rows/],
    ['\n\n', 1, 'file', /no rows/],
    ['a;b;c;d;e\nE01;2026-06-01 10:00;0;0;0\n', 1, 'header', /cannot tell/],
  ];
  for (const [text, line, field, message] of cases) {
    const e = fail(parseGridCsv(text));
    assert.deepEqual([e.line, e.field], [line, field], text);
    assert.match(e.message, message, text);
    assert.match(e.message, new RegExp(`^line ${line}, ${field}: `));
  }
  const e = fail(
    parseGridCsv('E01;2026-06-01 10:00;0;0\nE01;2026-06-01 10:15;0;0\nE01;2026-06-01 10:30;0;0\n', {
      rowsMax: 2,
    }),
  );
  assert.deepEqual([e.line, e.field], [3, 'file']);
});

test('interval checks: gaps, duplicates and misaligned starts per meter', () => {
  const r = ok(
    parseGridCsv(
      [
        'E01;2026-06-01T10:00Z;1;0',
        'E02;2026-06-01T10:00Z;1;0',
        'E01;2026-06-01T10:15Z;1;0',
        'E01;2026-06-01T11:00Z;1;0', // 10:30 and 10:45 missing
        'E01;2026-06-01T11:00Z;2;0', // duplicate
        'E02;2026-06-01T10:20Z;1;0', // not on a boundary
      ].join('\n'),
    ),
  );
  const [e1, e2] = r.meters;
  assert.equal(e1?.meterId, 'E01');
  assert.equal(e1?.contiguous, false);
  assert.deepEqual(e1?.gaps, [
    {
      fromUtc: '2026-06-01T10:30:00.000Z',
      toUtc: '2026-06-01T11:00:00.000Z',
      missingIntervals: 2,
      afterLine: 3,
      beforeLine: 4,
    },
  ]);
  assert.deepEqual(e1?.duplicates, [
    { intervalStartUtc: '2026-06-01T11:00:00.000Z', lines: [4, 5] },
  ]);
  assert.equal(e1?.rows, 4);
  assert.equal(e1?.intervals, 3);
  assert.deepEqual(e2?.misaligned, [{ intervalStartUtc: '2026-06-01T10:20:00.000Z', line: 6 }]);
  assert.equal(e2?.contiguous, false);
});

test('a normal week: 96 quarter hours a day', () => {
  const lines: string[] = [];
  for (let day = 1; day <= 7; day++)
    lines.push(...localDayRows('E01', `2026-06-0${day}`, ';', () => '0,1'));
  const r = ok(parseGridCsv(lines.join('\n')));
  assert.equal(r.rows.length, 7 * 96);
  assert.equal(r.meters[0]?.contiguous, true);
  assert.ok(r.meters[0]?.days.every((d) => d.intervals === 96 && d.expectedIntervals === 96));
});

test('quarter hours per day and the Amsterdam offset agree with the platform time zone data', () => {
  assert.equal(quarterHoursInDay('2026-03-29'), 92);
  assert.equal(quarterHoursInDay('2026-10-25'), 100);
  assert.equal(quarterHoursInDay('2026-06-01'), 96);
  assert.equal(quarterHoursInDay('2027-03-28'), 92);
  assert.equal(quarterHoursInDay('2027-10-31'), 100);
  const format = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/Amsterdam',
    timeZoneName: 'shortOffset',
  });
  const zone = format.resolvedOptions().timeZone;
  if (zone !== 'Europe/Amsterdam') return; // Node built without time zone data: nothing to compare with.
  for (
    let ms = Date.UTC(2000, 0, 1);
    ms < Date.UTC(2040, 0, 1);
    ms += 3 * 3_600_000 + 17 * 60_000
  ) {
    const name = format.formatToParts(new Date(ms)).find((p) => p.type === 'timeZoneName')?.value;
    assert.equal(`GMT+${amsterdamOffsetMinutes(ms) / 60}`, name, new Date(ms).toISOString());
  }
});
