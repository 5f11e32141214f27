// The parameters of the energy market's reads. Each parser takes what arrived (a URL segment, a
// query string value, a CLI option) and throws ChainError('bad_request') with details.field naming
// the parameter, so the API, the CLI and the queries refuse bad input with the same words.

import { ChainError } from '../core/errors.js';
import { isAddress } from '../core/keys.js';
import { parseLabels } from '../core/labels.js';
import type { EnergyBalanceFilter, EnergyHistoryPage, HistoryCursor } from './views.js';

export const BALANCES_LIMIT_DEFAULT = 1000;
export const BALANCES_LIMIT_MAX = 10_000;
export const HISTORY_LIMIT_DEFAULT = 100;
export const HISTORY_LIMIT_MAX = 1000;

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const CURSOR = /^(0|[1-9][0-9]*)(?::([0-9a-f]{32}):(0|[1-9][0-9]*))?$/;

function badRequest(
  field: string,
  message: string,
  details: Record<string, unknown> = {},
): ChainError {
  return new ChainError('bad_request', message, { field, ...details });
}

function excerpt(value: unknown): string {
  if (typeof value !== 'string') return value === undefined ? 'nothing' : typeof value;
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
}

/** An address (context, trader); `field` names it in the error. */
export function parseAddressParam(value: unknown, field: string): string {
  if (!isAddress(value)) {
    throw badRequest(
      field,
      `${field} must be an address (base58check, like 1BoatSLRHtKNngkdXEeobR76b53LETtpyT), got ${excerpt(value)}`,
    );
  }
  return value;
}

/** A decimal integer from `min` to `max`. */
export function parseIntegerParam(value: unknown, field: string, min: number, max: number): number {
  const n = typeof value === 'string' && DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw badRequest(
      field,
      `${field} must be an integer from ${min} to ${max}, got ${excerpt(value)}`,
      { min, max },
    );
  }
  return n;
}

/** Periods in [from, to) (ms since the Unix epoch, each optional) and at most `limit` answers. */
export interface TimeRange {
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly limit: number;
}

/** The range of `?from=&to=&limit=`: `limit` from 1 to `limitMax` (its default); `to` after `from`. */
export function parseTimeRange(
  params: Readonly<Record<string, string>>,
  limitMax: number,
): TimeRange {
  const out: { fromMs?: number; toMs?: number; limit: number } = {
    limit:
      params['limit'] === undefined
        ? limitMax
        : parseIntegerParam(params['limit'], 'limit', 1, limitMax),
  };
  if (params['from'] !== undefined)
    out.fromMs = parseIntegerParam(params['from'], 'from', 0, Number.MAX_SAFE_INTEGER);
  if (params['to'] !== undefined)
    out.toMs = parseIntegerParam(params['to'], 'to', 0, Number.MAX_SAFE_INTEGER);
  if (out.fromMs !== undefined && out.toMs !== undefined && out.toMs <= out.fromMs)
    throw badRequest('to', `to (${out.toMs}) must be after from (${out.fromMs})`);
  return out;
}

/** One label, or several separated by commas (balances carrying all of them). */
export function parseLabelFilter(value: unknown, field = 'label'): string[] {
  if (typeof value !== 'string' || value.trim() === '') {
    throw badRequest(
      field,
      `${field} must name a label such as "solar" (or several, separated by commas), got ${excerpt(value)}`,
    );
  }
  const parsed = parseLabels(value);
  if (!parsed.ok) throw badRequest(field, `${field}: ${parsed.reason}`);
  return parsed.labels;
}

/** `<height>` or `<height>:<txId>:<seq>` (the `next` of a history page). */
export function parseHistoryCursor(value: unknown, field = 'before'): HistoryCursor {
  const m = typeof value === 'string' ? CURSOR.exec(value) : null;
  const height = m?.[1] === undefined ? Number.NaN : Number(m[1]);
  const seq = m?.[3] === undefined ? undefined : Number(m[3]);
  if (
    m === null ||
    !Number.isSafeInteger(height) ||
    (seq !== undefined && !Number.isSafeInteger(seq))
  ) {
    throw badRequest(
      field,
      `${field} must be a block height or the "next" cursor of a previous page (<height>:<txId>:<seq>), got ${excerpt(value)}`,
    );
  }
  return m[2] === undefined || seq === undefined ? { height } : { height, txId: m[2], seq };
}

export function formatHistoryCursor(cursor: HistoryCursor): string {
  return cursor.txId === undefined || cursor.seq === undefined
    ? String(cursor.height)
    : `${cursor.height}:${cursor.txId}:${cursor.seq}`;
}

/** The balance filter from string parameters (query string or CLI options); absent ones stay absent. */
export function parseBalanceFilter(params: {
  readonly trader?: unknown;
  readonly label?: unknown;
  readonly block?: unknown;
  readonly limit?: unknown;
}): EnergyBalanceFilter {
  const out: { trader?: string; labels?: string[]; block?: number; limit?: number } = {};
  if (params.trader !== undefined) out.trader = parseAddressParam(params.trader, 'trader');
  if (params.label !== undefined) out.labels = parseLabelFilter(params.label, 'label');
  if (params.block !== undefined)
    out.block = parseIntegerParam(params.block, 'block', 0, Number.MAX_SAFE_INTEGER);
  if (params.limit !== undefined)
    out.limit = parseIntegerParam(params.limit, 'limit', 1, BALANCES_LIMIT_MAX);
  return out;
}

/** The history page from string parameters. */
export function parseHistoryPage(params: {
  readonly limit?: unknown;
  readonly before?: unknown;
}): EnergyHistoryPage {
  const out: { limit?: number; before?: HistoryCursor } = {};
  if (params.limit !== undefined)
    out.limit = parseIntegerParam(params.limit, 'limit', 1, HISTORY_LIMIT_MAX);
  if (params.before !== undefined) out.before = parseHistoryCursor(params.before, 'before');
  return out;
}

/** Checks a filter given as values (by the client library's callers), as the parsers check text. */
export function checkBalanceFilter(filter: EnergyBalanceFilter): void {
  if (filter.trader !== undefined) parseAddressParam(filter.trader, 'trader');
  if (filter.labels !== undefined) {
    const parsed = parseLabels([...filter.labels]);
    if (!parsed.ok) throw badRequest('label', `label: ${parsed.reason}`);
    if (parsed.labels.length === 0) throw badRequest('label', 'label must name at least one label');
  }
  if (filter.block !== undefined && (!Number.isSafeInteger(filter.block) || filter.block < 0)) {
    throw badRequest(
      'block',
      `block must be an integer from 0 to ${Number.MAX_SAFE_INTEGER}, got ${filter.block}`,
    );
  }
  if (
    filter.limit !== undefined &&
    (!Number.isSafeInteger(filter.limit) || filter.limit < 1 || filter.limit > BALANCES_LIMIT_MAX)
  ) {
    throw badRequest(
      'limit',
      `limit must be an integer from 1 to ${BALANCES_LIMIT_MAX}, got ${filter.limit}`,
    );
  }
}

/** Checks a history page given as values. */
export function checkHistoryPage(page: EnergyHistoryPage): void {
  const limit = page.limit ?? HISTORY_LIMIT_DEFAULT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > HISTORY_LIMIT_MAX) {
    throw badRequest(
      'limit',
      `limit must be an integer from 1 to ${HISTORY_LIMIT_MAX}, got ${limit}`,
    );
  }
  if (page.before !== undefined) parseHistoryCursor(formatHistoryCursor(page.before), 'before');
}

/** The canonical form (sorted, no duplicates) of a label filter. */
export function canonicalLabels(labels: readonly string[]): string[] {
  const parsed = parseLabels([...labels]);
  if (!parsed.ok) throw badRequest('label', `label: ${parsed.reason}`);
  return parsed.labels;
}
