// The simulated DSMR 5.0 meter: deterministic for a seed, valid telegrams, registers that only
// grow by exactly the reported power, no sun at night, and the summer/winter flag of Amsterdam.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MeterSimulator,
  SIMULATE_DEFAULTS,
  checkSimulateOptions,
  simulateTelegrams,
  tariffAt,
  type SimulateOptions,
} from '../src/meter/sim/simulate.js';
import { parseTelegram, type Telegram } from '../src/meter/p1/parse.js';
import { sunGeometry } from '../src/meter/sim/solar.js';
import { utcToAmsterdamWall } from '../src/meter/shared/amsterdam-time.js';

function options(over: Partial<SimulateOptions> = {}): SimulateOptions {
  return {
    ...SIMULATE_DEFAULTS,
    equipmentId: 'E0099000000000042',
    startMs: Date.UTC(2026, 5, 20, 22),
    ...over,
  };
}

function parsed(text: string): Telegram {
  const r = parseTelegram(text);
  if (!r.ok) assert.fail(`${r.code}: ${r.message}`);
  return r.telegram;
}

test('the same seed gives byte-identical telegrams; another seed does not', () => {
  const a = simulateTelegrams(options({ seed: 7 }), 400).map((t) => t.text);
  const b = simulateTelegrams(options({ seed: 7 }), 400).map((t) => t.text);
  const c = simulateTelegrams(options({ seed: 8 }), 400).map((t) => t.text);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // The weather and appliances are a function of (seed, instant): a later start sees the same load.
  const late = simulateTelegrams(options({ seed: 7, startMs: Date.UTC(2026, 5, 21, 9) }), 3);
  const long = simulateTelegrams(
    options({ seed: 7, startMs: Date.UTC(2026, 5, 21, 8), intervalS: 1800 }),
    3,
  );
  assert.equal(late[0]?.loadW, long[2]?.loadW);
  assert.equal(late[0]?.solarW, long[2]?.solarW);
});

test('two days every minute: each telegram parses with a valid CRC and matches what was simulated', () => {
  const opts = options({ intervalS: 60, seed: 3 });
  const sim = new MeterSimulator(opts);
  let previous: Telegram | null = null;
  for (let k = 0; k < 2 * 1440; k++) {
    const s = sim.next();
    const t = parsed(s.text);
    assert.ok(t.crc !== null);
    assert.equal(t.version, '5.0');
    assert.equal(t.equipmentId, opts.equipmentId);
    assert.equal(t.timestampMs, opts.startMs + k * 60_000);
    assert.equal(t.registers.deliveredTariff1.wh, s.registersWh.deliveredTariff1);
    assert.equal(t.registers.returnedTariff2.wh, s.registersWh.returnedTariff2);
    assert.equal(t.currentPowerDeliveredW, s.deliveredW);
    assert.equal(t.currentPowerReturnedW, s.returnedW);
    assert.equal(t.tariffIndicator, s.tariff);
    assert.ok(
      t.gas !== null && t.gas.timestampMs !== null && t.gas.timestampMs <= (t.timestampMs ?? 0),
    );
    assert.equal(s.deliveredW - s.returnedW, s.loadW - s.solarW);
    assert.ok(s.deliveredW === 0 || s.returnedW === 0);
    if (previous !== null) assertAdvance(previous, t, s.deliveredW, s.returnedW, 60);
    previous = t;
  }
});

/** Registers never go back, and advance by the interval's power times its length (whole Wh). */
function assertAdvance(
  before: Telegram,
  after: Telegram,
  deliveredW: number,
  returnedW: number,
  intervalS: number,
): void {
  const b = before.registers;
  const a = after.registers;
  for (const name of [
    'deliveredTariff1',
    'deliveredTariff2',
    'returnedTariff1',
    'returnedTariff2',
  ] as const) {
    assert.ok(a[name].wh >= b[name].wh, `${name} went back at ${after.timestamp}`);
  }
  const deliveredWh = Number(a.deliveredTotal.wh - b.deliveredTotal.wh);
  const returnedWh = Number(a.returnedTotal.wh - b.returnedTotal.wh);
  assert.ok(
    Math.abs(deliveredWh - (deliveredW * intervalS) / 3600) < 1,
    `delivered +${deliveredWh} Wh at ${deliveredW} W`,
  );
  assert.ok(
    Math.abs(returnedWh - (returnedW * intervalS) / 3600) < 1,
    `returned +${returnedWh} Wh at ${returnedW} W`,
  );
  // Only the tariff in force advances.
  const active =
    after.tariffIndicator === 1
      ? ['deliveredTariff2', 'returnedTariff2']
      : ['deliveredTariff1', 'returnedTariff1'];
  for (const name of active as (
    | 'deliveredTariff1'
    | 'deliveredTariff2'
    | 'returnedTariff1'
    | 'returnedTariff2'
  )[])
    assert.equal(a[name].wh, b[name].wh);
}

test('no solar production while the sun is down; production on a summer day, within the panel peak', () => {
  for (const [startMs, latitude] of [
    [Date.UTC(2026, 5, 20, 22), 53.2],
    [Date.UTC(2026, 11, 20, 22), 53.2],
    [Date.UTC(2026, 2, 10, 22), 40],
  ] as const) {
    const opts = options({ startMs, latitude, intervalS: 300, seed: 11 });
    const day = simulateTelegrams(opts, 288);
    let night = 0;
    let maxW = 0;
    for (const s of day) {
      const { sinElevation } = sunGeometry(s.timestampMs, opts.latitude, opts.longitude);
      if (sinElevation <= 0) {
        night++;
        assert.equal(s.solarW, 0, new Date(s.timestampMs).toISOString());
        assert.equal(s.returnedW, 0);
      }
      maxW = Math.max(maxW, s.solarW);
    }
    assert.ok(night > 40, `${night} night telegrams`);
    assert.ok(maxW > 0 && maxW <= opts.pvKwp * 1000, `peak ${maxW} W`);
    // Between 01:00 and 03:00 local time nothing is returned to the grid.
    const small = day.filter((s) => {
      const h = utcToAmsterdamWall(s.timestampMs).hour;
      return h >= 1 && h < 3;
    });
    assert.equal(
      small[0]?.registersWh.returnedTariff1,
      small[small.length - 1]?.registersWh.returnedTariff1,
    );
  }
  const june = simulateTelegrams(
    options({ startMs: Date.UTC(2026, 5, 20, 22), intervalS: 300, seed: 5 }),
    288,
  );
  assert.ok(
    Math.max(...june.map((s) => s.solarW)) > 1500,
    'a 4 kWp system makes well over 1.5 kW on some June day moment',
  );
  const noPanels = simulateTelegrams(options({ pvKwp: 0, intervalS: 600 }), 144);
  assert.ok(noPanels.every((s) => s.solarW === 0 && s.returnedW === 0));
});

test('the load has a base, morning and evening peaks, and appliance spikes', () => {
  const day = simulateTelegrams(
    options({ startMs: Date.UTC(2026, 0, 13, 23), intervalS: 60, pvKwp: 0, seed: 2 }),
    1440,
  );
  const at = (hour: number): number[] =>
    day.filter((s) => utcToAmsterdamWall(s.timestampMs).hour === hour).map((s) => s.loadW);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(day.every((s) => s.loadW >= SIMULATE_DEFAULTS.baseLoadW));
  assert.ok(mean(at(19)) > mean(at(3)) + 300, 'evening above night');
  assert.ok(mean(at(7)) > mean(at(3)) + 150, 'morning above night');
  assert.ok(Math.max(...day.map((s) => s.loadW)) > 1500, 'some appliance spike');
});

test('summer/winter flag follows Europe/Amsterdam, including both changes', () => {
  const spring = simulateTelegrams(
    options({ startMs: Date.UTC(2026, 2, 29, 0, 50), intervalS: 600 }),
    3,
  ).map((s) => parsed(s.text));
  assert.deepEqual(
    spring.map((t) => t.timestampRaw),
    ['260329015000W', '260329030000S', '260329031000S'],
  );
  const autumn = simulateTelegrams(
    options({ startMs: Date.UTC(2026, 9, 25, 0, 50), intervalS: 600 }),
    8,
  ).map((s) => parsed(s.text));
  assert.deepEqual(
    autumn.map((t) => t.timestampRaw),
    [
      '261025025000S',
      '261025020000W',
      '261025021000W',
      '261025022000W',
      '261025023000W',
      '261025024000W',
      '261025025000W',
      '261025030000W',
    ],
  );
  assert.deepEqual(
    autumn.map((t) => t.timestampMs),
    autumn.map((_, k) => Date.UTC(2026, 9, 25, 0, 50) + k * 600_000),
  );
});

test('tariff: low at night and at weekends', () => {
  assert.equal(tariffAt(Date.UTC(2026, 5, 17, 10)), 2); // Wednesday 12:00
  assert.equal(tariffAt(Date.UTC(2026, 5, 17, 21, 30)), 1); // Wednesday 23:30
  assert.equal(tariffAt(Date.UTC(2026, 5, 17, 4, 59)), 1); // Wednesday 06:59
  assert.equal(tariffAt(Date.UTC(2026, 5, 17, 5)), 2); // Wednesday 07:00
  assert.equal(tariffAt(Date.UTC(2026, 5, 20, 10)), 1); // Saturday
});

test('options are checked', () => {
  assert.equal(checkSimulateOptions(options()), null);
  assert.match(checkSimulateOptions(options({ equipmentId: 'has (paren)' })) ?? '', /equipment id/);
  assert.match(
    checkSimulateOptions(options({ startMs: Date.UTC(2026, 0, 1) + 500 })) ?? '',
    /whole second/,
  );
  assert.match(checkSimulateOptions(options({ intervalS: 0 })) ?? '', /interval/);
  assert.match(checkSimulateOptions(options({ pvKwp: -1 })) ?? '', /PV/);
  assert.throws(() => new MeterSimulator(options({ seed: -1 })), RangeError);
});
