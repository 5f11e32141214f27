// What `hanzenet city up` is asked to start, checked before anything is created: a city of K
// neighbourhoods (docs/operations.md, "A city on many processors"). Every limit is here.

import { ChainError } from '../core/errors.js';

/** Each chain is two processes (processor and mirror node) of about 150 MB: keep a test city small. */
export const NEIGHBOURHOODS_MAX = 20;
/** Each household is two or three setup transactions. */
export const HOUSEHOLDS_MAX = 1000;
const DAY_SECONDS = 86_400;
const PERIOD_SECONDS_MIN = 60;

export interface CityPrices {
  /** EUR per kWh, exact decimals with at most 6 places, 0 to 10 (as MarketPrices takes them). */
  readonly localEur: string;
  readonly supplyEur: string;
  readonly feedInEur: string;
}

export interface CityOptions {
  readonly neighbourhoods: number;
  readonly households: number;
  /** Absolute. */
  readonly dataDir: string;
  /** The market period of every layer (a neighbourhood's position goes up per period). */
  readonly periodSeconds: number;
  /** The neighbourhoods' gate closure. */
  readonly gateClosureSeconds: number;
  /** The city's gate closure: after the neighbourhoods' and the trip up. */
  readonly cityGateClosureSeconds: number;
  readonly blockIntervalMs: number;
  readonly host: string;
  /** First port of the processors and nodes (two per chain, the city first); null: any free port. */
  readonly basePort: number | null;
  /** A PostgreSQL server on which each chain and node gets its own database; null: PGlite each. */
  readonly databaseUrl: string | null;
  readonly prices: CityPrices;
}

const PRICE = /^(?:\d|10)(?:\.\d{1,6})?$/;

function usage(message: string, details: Record<string, unknown>): ChainError {
  return new ChainError('usage_error', message, details);
}

/** Checks the options; throws `usage_error` naming the option at the first problem. */
export function checkCityOptions(o: CityOptions): CityOptions {
  if (o.neighbourhoods < 1 || o.neighbourhoods > NEIGHBOURHOODS_MAX)
    throw usage(`--neighbourhoods must be 1 to ${NEIGHBOURHOODS_MAX}, got ${o.neighbourhoods}`, {
      option: '--neighbourhoods',
    });
  if (o.households < 1 || o.households > HOUSEHOLDS_MAX)
    throw usage(`--households must be 1 to ${HOUSEHOLDS_MAX}, got ${o.households}`, {
      option: '--households',
    });
  if (o.periodSeconds < PERIOD_SECONDS_MIN || DAY_SECONDS % o.periodSeconds !== 0)
    throw usage(
      `--period-seconds must divide a day (86400) and be at least ${PERIOD_SECONDS_MIN}, got ${o.periodSeconds}`,
      { option: '--period-seconds' },
    );
  for (const [option, seconds] of [
    ['--gate-closure-seconds', o.gateClosureSeconds],
    ['--city-gate-closure-seconds', o.cityGateClosureSeconds],
  ] as const) {
    if (seconds > DAY_SECONDS)
      throw usage(`${option} must be at most 86400, got ${seconds}`, { option });
  }
  if (o.cityGateClosureSeconds <= o.gateClosureSeconds)
    throw usage(
      `--city-gate-closure-seconds (${o.cityGateClosureSeconds}) must be later than the neighbourhoods' --gate-closure-seconds (${o.gateClosureSeconds}): their positions go up after their own gate closure`,
      { option: '--city-gate-closure-seconds' },
    );
  if (o.basePort !== null && o.basePort + 2 * (o.neighbourhoods + 1) - 1 > 65_535)
    throw usage(
      `--base-port ${o.basePort} leaves no room for ${2 * (o.neighbourhoods + 1)} ports`,
      {
        option: '--base-port',
      },
    );
  for (const [option, price] of [
    ['--local-eur', o.prices.localEur],
    ['--supply-eur', o.prices.supplyEur],
    ['--feed-in-eur', o.prices.feedInEur],
  ] as const) {
    if (!PRICE.test(price) || Number(price) > 10)
      throw usage(
        `${option} must be EUR per kWh from 0 to 10 with at most 6 decimals, got ${JSON.stringify(price)}`,
        { option },
      );
  }
  return o;
}
