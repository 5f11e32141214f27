// A device's history as the chain recorded it (docs/api.md "Devices"): its registrations (the
// accepted Producer and Consumer transactions that named it, with their block times) and its
// accepted Energy transactions. Derived from chain.transactions, which every processor and mirror
// node holds alike; the Producer and Consumer contracts keep only the current registration, and
// reconciliation needs the trader a meter had at the time (docs/decisions/0011-local-market.md).

import { formatWh, parseKwh } from '../core/amount.js';
import { ChainError } from '../core/errors.js';
import type { Sql } from '../store/types.js';
import { canonicalLabels, parseAddressParam } from './query-params.js';
import { read, safeNumber, textOf } from './query-rows.js';
import type {
  DeviceReadingView,
  DeviceReadingsView,
  DeviceRegistrationView,
  DeviceRegistrationsView,
} from './views.js';

/** Most registrations or readings in one answer. */
export const DEVICE_ROWS_MAX = 10_000;

interface TxRow {
  readonly tx_id: string;
  readonly contract_type: string;
  readonly height: string;
  readonly processed_ms: string;
  readonly payload: string;
}

function payloadOf(row: TxRow): Record<string, unknown> {
  try {
    const value = JSON.parse(row.payload) as unknown;
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  } catch (err) {
    throw new ChainError(
      'internal',
      `transaction ${row.tx_id} has a payload that is not JSON`,
      {},
      {
        cause: err,
      },
    );
  }
  throw new ChainError('internal', `transaction ${row.tx_id} has a payload that is not an object`);
}

/** Every accepted Producer and Consumer transaction that named `address`, oldest first. */
export async function deviceRegistrations(
  sql: Sql,
  context: string,
  address: string,
): Promise<DeviceRegistrationsView> {
  parseAddressParam(context, 'context');
  parseAddressParam(address, 'address');
  const rows = await read<TxRow>(
    sql,
    `SELECT encode(id, 'hex') AS tx_id, contract_type, block_height::text AS height,
            processed_ms::text AS processed_ms, payload::text AS payload
       FROM chain.transactions
      WHERE status = 'accepted' AND contract_type IN ('Producer', 'Consumer')
        AND payload->>'context' = $1 AND payload->>'address' = $2
      ORDER BY block_height, position
      LIMIT $3`,
    [context, address, DEVICE_ROWS_MAX + 1],
  );
  const registrations = rows.slice(0, DEVICE_ROWS_MAX).map((r): DeviceRegistrationView => {
    const p = payloadOf(r);
    const allowed = p['allowed'] === true;
    return {
      txId: r.tx_id,
      role: r.contract_type === 'Producer' ? 'producer' : 'consumer',
      allowed,
      trader: allowed ? textOf(p['trader'], 'trader') : null,
      labels: allowed && Array.isArray(p['labels']) ? canonicalLabels(p['labels'] as string[]) : [],
      height: safeNumber(r.height, 'block_height'),
      processedMs: safeNumber(r.processed_ms, 'processed_ms'),
    };
  });
  return { context, address, registrations, truncated: rows.length > DEVICE_ROWS_MAX };
}

/** The device's accepted Energy transactions processed at or after `fromMs`, oldest first. */
export async function deviceReadings(
  sql: Sql,
  context: string,
  address: string,
  fromMs: number,
): Promise<DeviceReadingsView> {
  parseAddressParam(context, 'context');
  parseAddressParam(address, 'address');
  const rows = await read<TxRow>(
    sql,
    `SELECT encode(id, 'hex') AS tx_id, contract_type, block_height::text AS height,
            processed_ms::text AS processed_ms, payload::text AS payload
       FROM chain.transactions
      WHERE sender = $2 AND status = 'accepted' AND contract_type = 'Energy'
        AND payload->>'context' = $1 AND processed_ms >= $3
      ORDER BY block_height, position
      LIMIT $4`,
    [context, address, fromMs, DEVICE_ROWS_MAX + 1],
  );
  const readings = rows.slice(0, DEVICE_ROWS_MAX).map((r): DeviceReadingView => {
    const p = payloadOf(r);
    const amount = parseKwh(p['amount']);
    const register = p['register'] === undefined ? null : parseKwh(p['register']);
    return {
      txId: r.tx_id,
      height: safeNumber(r.height, 'block_height'),
      processedMs: safeNumber(r.processed_ms, 'processed_ms'),
      amount: amount.ok ? formatWh(amount.wh) : textOf(p['amount'], 'amount'),
      register: register === null ? null : register.ok ? formatWh(register.wh) : null,
      readingMs: typeof p['readingMs'] === 'number' ? p['readingMs'] : null,
      sinceMs: typeof p['sinceMs'] === 'number' ? p['sinceMs'] : null,
    };
  });
  return { context, address, fromMs, readings, truncated: rows.length > DEVICE_ROWS_MAX };
}
