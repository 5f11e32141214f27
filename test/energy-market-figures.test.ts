// Calendar days and months of a time zone (src/energy/market-groups.ts): the two DST days of 2026
// in Europe/Amsterdam and month and year ends, checked against Intl with fast-check in several
// zones; bad parameters named in a coded error.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ChainError } from '../src/core/errors.js';
import { calendarGroupOf, calendarGroups, parseGroupQuery } from '../src/energy/market-groups.js';

const QUARTER_MS = 900_000;

const AMS = 'Europe/Amsterdam';
const HOUR_MS = 3_600_000;

/** The local date of an instant as Intl writes it (en-CA: 2026-03-29). */
function localDate(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(ms);
}

describe('calendar days and months of a time zone', () => {
  test('the two DST days of 2026 in Europe/Amsterdam hold 92 and 100 quarter hours', () => {
    // CET is UTC+1 and CEST UTC+2; the clocks change at 01:00 UTC on both Sundays.
    const spring = calendarGroupOf('day', Date.UTC(2026, 2, 29, 12), AMS);
    assert.deepEqual(spring, {
      label: '2026-03-29',
      startMs: Date.UTC(2026, 2, 28, 23),
      endMs: Date.UTC(2026, 2, 29, 22),
    });
    assert.equal((spring.endMs - spring.startMs) / QUARTER_MS, 92);
    const autumn = calendarGroupOf('day', Date.UTC(2026, 9, 25, 12), AMS);
    assert.deepEqual(autumn, {
      label: '2026-10-25',
      startMs: Date.UTC(2026, 9, 24, 22),
      endMs: Date.UTC(2026, 9, 25, 23),
    });
    assert.equal((autumn.endMs - autumn.startMs) / QUARTER_MS, 100);
    // The last quarter hour before local midnight and the first after it.
    assert.equal(calendarGroupOf('day', Date.UTC(2026, 2, 28, 22, 45), AMS).label, '2026-03-28');
    assert.equal(calendarGroupOf('day', Date.UTC(2026, 2, 28, 23, 0), AMS).label, '2026-03-29');
    assert.equal(calendarGroupOf('day', Date.UTC(2026, 2, 28, 23, 0), 'UTC').label, '2026-03-28');
  });

  test('months: March 2026 in Amsterdam loses an hour, a year ends at local midnight', () => {
    const march = calendarGroupOf('month', Date.UTC(2026, 2, 15), AMS);
    assert.deepEqual(march, {
      label: '2026-03',
      startMs: Date.UTC(2026, 1, 28, 23),
      endMs: Date.UTC(2026, 2, 31, 22),
    });
    assert.equal((march.endMs - march.startMs) / HOUR_MS, 31 * 24 - 1);
    const months = calendarGroups('month', Date.UTC(2026, 10, 15), Date.UTC(2027, 0, 5), AMS, 10);
    assert.deepEqual(
      months.map((g) => [g.label, g.startMs]),
      [
        ['2026-11', Date.UTC(2026, 9, 31, 23)],
        ['2026-12', Date.UTC(2026, 10, 30, 23)],
        ['2027-01', Date.UTC(2026, 11, 31, 23)],
      ],
    );
    assert.equal(calendarGroups('day', 0, Date.UTC(2030, 0, 1), 'UTC', 3).length, 3, 'bounded');
  });

  test('property: a group starts at the first instant of its date and ends where the next starts', () => {
    const zones = [
      AMS,
      'UTC',
      'America/New_York',
      'America/Sao_Paulo', // changed its clocks at midnight until 2019
      'America/St_Johns',
      'Australia/Lord_Howe', // a half-hour change
      'Asia/Kathmandu',
      'Pacific/Chatham',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        fc.constantFrom(...zones),
        fc.constantFrom('day' as const, 'month' as const),
        (ms, tz, kind) => {
          const g = calendarGroupOf(kind, ms, tz);
          assert.ok(g.startMs <= ms && ms < g.endMs, `${ms} in ${JSON.stringify(g)}`);
          const first = localDate(g.startMs, tz);
          assert.equal(kind === 'day' ? first : first.slice(0, 7), g.label);
          if (kind === 'month') assert.ok(first.endsWith('-01'));
          assert.ok(localDate(g.startMs - 1, tz) < first, 'the instant before is an earlier date');
          assert.ok(localDate(g.endMs, tz) > first);
          assert.ok(localDate(g.endMs - 1, tz) < localDate(g.endMs, tz));
          const hours = (g.endMs - g.startMs) / HOUR_MS;
          if (kind === 'day') assert.ok(hours >= 22.5 && hours <= 25.5, `${hours} h`);
          const [next] = calendarGroups(kind, g.endMs, g.endMs, tz, 1);
          assert.equal(next?.startMs, g.endMs);
        },
      ),
      { seed: Number(process.env['SEED'] ?? 1), numRuns: 300 },
    );
  });

  test('parseGroupQuery: defaults, a canonical zone, and each bad parameter named', () => {
    assert.deepEqual(parseGroupQuery({}), { group: 'period', tz: 'UTC', limit: 10_000 });
    assert.deepEqual(
      parseGroupQuery({ group: 'day', tz: 'europe/amsterdam', from: '5', to: '6', limit: '3' }),
      { group: 'day', tz: AMS, limit: 3, fromMs: 5, toMs: 6 },
    );
    for (const [params, field] of [
      [{ group: 'week' }, 'group'],
      [{ group: '' }, 'group'],
      [{ tz: 'Mars/Olympus_Mons' }, 'tz'],
      [{ tz: '' }, 'tz'],
      [{ tz: '../../etc/passwd' }, 'tz'],
      [{ tz: 'x'.repeat(200) }, 'tz'],
      [{ from: '10', to: '10' }, 'to'],
      [{ from: '10', to: '9' }, 'to'],
      [{ from: '-1' }, 'from'],
      [{ limit: '0' }, 'limit'],
      [{ limit: '10001' }, 'limit'],
    ] as const) {
      assert.throws(
        () => parseGroupQuery(params),
        (err: unknown) =>
          err instanceof ChainError &&
          err.code === 'bad_request' &&
          (err.details as { field?: string }).field === field,
        JSON.stringify(params),
      );
    }
  });
});
