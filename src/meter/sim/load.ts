// Household consumption of the simulated meter: a base load (standby plus a cycling fridge), the
// daily routine (a morning and an evening peak, later at weekends) and appliances that switch on
// at seeded random moments, more often when people are at home and awake.

import { utcToAmsterdamWall } from '../shared/amsterdam-time.js';
import { uniform } from './random.js';

interface Appliance {
  readonly name: string;
  readonly weight: number;
  /** Consecutive phases of the run: power in W for a number of minutes. */
  readonly phases: ReadonlyArray<{ readonly watts: number; readonly minutes: number }>;
}

const APPLIANCES: readonly Appliance[] = [
  { name: 'kettle', weight: 5, phases: [{ watts: 2000, minutes: 3 }] },
  { name: 'coffee', weight: 3, phases: [{ watts: 1200, minutes: 2 }] },
  { name: 'microwave', weight: 3, phases: [{ watts: 1100, minutes: 4 }] },
  { name: 'television', weight: 2, phases: [{ watts: 110, minutes: 90 }] },
  { name: 'hob', weight: 2, phases: [{ watts: 2400, minutes: 20 }] },
  { name: 'oven', weight: 1, phases: [{ watts: 2100, minutes: 40 }] },
  {
    name: 'washing machine',
    weight: 1.2,
    phases: [
      { watts: 2000, minutes: 15 },
      { watts: 250, minutes: 70 },
    ],
  },
  {
    name: 'dishwasher',
    weight: 1.2,
    phases: [
      { watts: 1800, minutes: 20 },
      { watts: 120, minutes: 65 },
    ],
  },
  { name: 'vacuum cleaner', weight: 0.8, phases: [{ watts: 1300, minutes: 20 }] },
  { name: 'hair dryer', weight: 0.8, phases: [{ watts: 1600, minutes: 8 }] },
];
const WEIGHT_TOTAL = APPLIANCES.reduce((sum, a) => sum + a.weight, 0);
const SLOT_MS = 10 * 60_000;
const STARTS_PER_SLOT = 2;
const LONGEST_RUN_MS =
  Math.max(...APPLIANCES.map((a) => a.phases.reduce((m, p) => m + p.minutes, 0))) * 60_000;
const FRIDGE_W = 90;
const FRIDGE_CYCLE_MIN = 45;
const FRIDGE_ON_MIN = 15;

interface LocalClock {
  readonly hour: number;
  readonly weekend: boolean;
}

function localClock(utcMs: number): LocalClock {
  const w = utcToAmsterdamWall(utcMs);
  const weekday = new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay();
  return {
    hour: w.hour + w.minute / 60 + w.second / 3600,
    weekend: weekday === 0 || weekday === 6,
  };
}

function bump(hour: number, centre: number, width: number): number {
  return Math.exp(-(((hour - centre) / width) ** 2) / 2);
}

/** How likely someone switches an appliance on, by local time (0..1). */
function activity(c: LocalClock): number {
  const h = c.hour;
  if (h < 6) return 0.02;
  if (h < 9) return c.weekend ? 0.3 : 0.6;
  if (h < 12) return c.weekend ? 0.5 : 0.2;
  if (h < 14) return 0.35;
  if (h < 17) return c.weekend ? 0.4 : 0.2;
  if (h < 22) return 0.7;
  return 0.2;
}

/** The routine: lights, cooking, devices that follow the time of day (W). */
function routineW(c: LocalClock): number {
  const morning = c.weekend ? 350 * bump(c.hour, 9.5, 1.2) : 450 * bump(c.hour, 7.25, 0.8);
  return morning + 150 * bump(c.hour, 12.75, 1.0) + 700 * bump(c.hour, 19.25, 1.6);
}

function applianceW(seed: number, utcMs: number): number {
  let total = 0;
  const lastSlot = Math.floor(utcMs / SLOT_MS);
  const firstSlot = Math.floor((utcMs - LONGEST_RUN_MS) / SLOT_MS);
  for (let slot = firstSlot; slot <= lastSlot; slot++) {
    const slotStartMs = slot * SLOT_MS;
    const chance = activity(localClock(slotStartMs)) * 0.3;
    for (let k = 0; k < STARTS_PER_SLOT; k++) {
      const index = slot * STARTS_PER_SLOT + k;
      if (uniform(seed, 21, index) >= chance) continue;
      const appliance = pickAppliance(uniform(seed, 22, index));
      const startMs = slotStartMs + Math.floor(uniform(seed, 23, index) * SLOT_MS);
      total += runPowerW(appliance, utcMs - startMs);
    }
  }
  return total;
}

function pickAppliance(u: number): Appliance {
  let left = u * WEIGHT_TOTAL;
  for (const a of APPLIANCES) {
    left -= a.weight;
    if (left < 0) return a;
  }
  return APPLIANCES[APPLIANCES.length - 1] as Appliance;
}

function runPowerW(a: Appliance, sinceStartMs: number): number {
  if (sinceStartMs < 0) return 0;
  let phaseEndMs = 0;
  for (const phase of a.phases) {
    phaseEndMs += phase.minutes * 60_000;
    if (sinceStartMs < phaseEndMs) return phase.watts;
  }
  return 0;
}

/** The household's consumption in whole W at `utcMs`. */
export function householdLoadW(seed: number, baseLoadW: number, utcMs: number): number {
  const fridgePhaseMin = uniform(seed, 24, 0) * FRIDGE_CYCLE_MIN;
  const fridgeOn = (utcMs / 60_000 + fridgePhaseMin) % FRIDGE_CYCLE_MIN < FRIDGE_ON_MIN;
  const clock = localClock(utcMs);
  return Math.round(
    baseLoadW + (fridgeOn ? FRIDGE_W : 0) + routineW(clock) + applianceW(seed, utcMs),
  );
}
