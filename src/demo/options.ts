// What `hanzenet demo` is asked to run, checked before anything starts; every limit is here.

import { ChainError } from '../core/errors.js';

export const HOUSEHOLDS_MIN = 2;
/** Each household is a simulated meter, a TCP stream and three setup transactions. */
export const HOUSEHOLDS_MAX = 200;
/**
 * A day in less than half a minute leaves too little real time per quarter hour: the periods are
 * settled one per block, in order.
 */
export const DAY_MINUTES_MIN = 0.5;
export const DAY_MINUTES_MAX = 1440;
export const DAY_MS = 86_400_000;

export interface DemoOptions {
  /** Households per neighbourhood. */
  readonly households: number;
  /** Real minutes one simulated day takes. */
  readonly dayMinutes: number;
  /** The simulated day: 00:00 UTC of it, ms since the Unix epoch. */
  readonly dayStartMs: number;
  readonly seed: number;
  /** The first neighbourhood processor's port (0: any free port); with --stack the next ones follow. */
  readonly port: number;
  readonly host: string;
  /** Absolute; null: a fresh temporary folder. */
  readonly dataDir: string | null;
  /** Keep the data directory at exit (always kept when --data-dir is given). */
  readonly keep: boolean;
  /** Two neighbourhoods and their city, each on a processor of its own. */
  readonly stack: boolean;
}

function usage(option: string, message: string): ChainError {
  return new ChainError('usage_error', message, { option });
}

/**
 * 00:00 UTC of `date` (YYYY-MM-DD), a day that has ended by `nowMs` (the demo's chain lives in the
 * past: its block times never run ahead of the real clock), or throws usage_error.
 */
export function dayStartOf(date: string, nowMs: number): number {
  const ms = Date.parse(`${date}T00:00:00Z`);
  if (
    !/^\d{4}-\d{2}-\d{2}$/.test(date) ||
    Number.isNaN(ms) ||
    new Date(ms).toISOString().slice(0, 10) !== date
  )
    throw usage('--date', `--date must be a day as YYYY-MM-DD, got ${JSON.stringify(date)}`);
  if (ms < Date.UTC(2000, 0, 1) || ms > Date.UTC(2100, 0, 1))
    throw usage('--date', `--date must be a day from 2000-01-01 to 2100-01-01, got ${date}`);
  if (ms + DAY_MS > nowMs)
    throw usage(
      '--date',
      `--date must be a day that has ended (yesterday, ${new Date(yesterdayStartMs(nowMs)).toISOString().slice(0, 10)}, or before), got ${date}`,
    );
  return ms;
}

/** Yesterday (UTC) of `nowMs`: a whole day that has passed. */
export function yesterdayStartMs(nowMs: number): number {
  return Math.floor(nowMs / DAY_MS) * DAY_MS - DAY_MS;
}

/** Checks what commander could not; throws `usage_error` naming the option at the first problem. */
export function checkDemoOptions(o: DemoOptions): DemoOptions {
  if (
    !Number.isSafeInteger(o.households) ||
    o.households < HOUSEHOLDS_MIN ||
    o.households > HOUSEHOLDS_MAX
  )
    throw usage(
      '--households',
      `--households must be an integer from ${HOUSEHOLDS_MIN} to ${HOUSEHOLDS_MAX}, got ${o.households}`,
    );
  if (!(o.dayMinutes >= DAY_MINUTES_MIN && o.dayMinutes <= DAY_MINUTES_MAX))
    throw usage(
      '--day-minutes',
      `--day-minutes must be from ${DAY_MINUTES_MIN} to ${DAY_MINUTES_MAX}, got ${o.dayMinutes}`,
    );
  if (!Number.isSafeInteger(o.seed) || o.seed < 0 || o.seed > 2 ** 31 - 1)
    throw usage('--seed', `--seed must be an integer from 0 to 2147483647, got ${o.seed}`);
  const ports = o.stack ? 3 : 1;
  if (o.port !== 0 && o.port + ports - 1 > 65_535)
    throw usage('--port', `--port ${o.port} leaves no room for ${ports} ports`);
  return o;
}

/** `--day-minutes`: minutes with at most two decimals, e.g. 5 or 0.75. */
export function parseDayMinutes(text: string): number {
  if (!/^\d{1,4}(\.\d{1,2})?$/.test(text.trim()))
    throw usage(
      '--day-minutes',
      `--day-minutes must be minutes with at most two decimals, from ${DAY_MINUTES_MIN} to ${DAY_MINUTES_MAX}, got ${JSON.stringify(text)}`,
    );
  return Number(text);
}

/** How many demo ms pass per real ms while the day runs. */
export function rateOf(o: DemoOptions): number {
  return DAY_MS / (o.dayMinutes * 60_000);
}
