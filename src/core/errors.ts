// The catalogue of every error code the system can report. Codes are stable sentences: never
// reuse, rename or renumber one. Every code here must also be listed in docs/errors.md (a test
// checks this). `http` is the status the HTTP API answers with when the code is the reason a
// request failed; `outcome` marks the codes a transaction can end with, and with which status.
// The code types below are derived from this object: there is no second list to keep in step.

export interface ErrorInfo {
  readonly http: number;
  /** The status of a transaction that ends with this code; absent for codes no transaction ends with. */
  readonly outcome?: 'invalid' | 'rejected';
  readonly summary: string;
}

export const ERROR_CATALOGUE = {
  // Request and encoding errors (API input).
  bad_request: {
    http: 400,
    summary: 'The request is malformed (not JSON, missing or wrongly typed fields).',
  },
  bad_base64: { http: 400, summary: 'A field that must be base64 is not valid base64.' },
  bad_hex: {
    http: 400,
    summary: 'A field that must be hex is not valid hex of the expected length.',
  },
  key_invalid: {
    http: 400,
    summary:
      'A private key (WIF or raw bytes) or public key is not a valid secp256k1 key in the accepted form.',
  },
  batch_too_large: {
    http: 413,
    summary: 'A batch holds more transactions than the server accepts at once.',
  },
  not_found: { http: 404, summary: 'The requested block, transaction or route does not exist.' },
  body_too_large: {
    http: 413,
    summary: 'The HTTP request body is larger than the server accepts.',
  },
  limit_exceeded: {
    http: 429,
    summary:
      'A per-connection limit (watched ids, pending waits) is reached; wait for some to finish.',
  },
  // Transaction format and validity (status `invalid`: never in a block).
  tx_malformed: { http: 400, summary: 'The transaction bytes do not follow the v1 binary layout.' },
  tx_unsupported_version: { http: 400, summary: 'The transaction version is not 1.' },
  tx_too_large: { http: 413, summary: 'The transaction payload exceeds the size limit.' },
  tx_bad_public_key: {
    http: 400,
    summary: 'The attached public key is not a valid compressed secp256k1 key.',
  },
  tx_bad_valid_till: { http: 400, summary: 'valid_till is larger than 2^53-1.' },
  tx_payload_not_json: { http: 400, summary: 'The payload is not UTF-8 JSON text of an object.' },
  signature_invalid: {
    http: 400,
    summary:
      'The signature does not verify for this chain id and public key (tampered, or signed for another chain).',
  },
  tx_expired: {
    http: 400,
    outcome: 'invalid',
    summary: 'valid_till has passed: the transaction can no longer be included in a block.',
  },
  tx_duplicate_id: {
    http: 409,
    outcome: 'invalid',
    summary:
      'A transaction with this id was already submitted or processed; an id is accepted at most once.',
  },
  contract_unknown: { http: 400, outcome: 'invalid', summary: 'No active contract has this hash.' },
  payload_invalid: {
    http: 400,
    outcome: 'invalid',
    summary: 'The payload does not match the contract template.',
  },
  not_processor: {
    http: 403,
    outcome: 'invalid',
    summary: 'Only the processor key may create or delete contracts.',
  },
  contract_create_invalid: {
    http: 400,
    outcome: 'invalid',
    summary: 'A contract create payload is invalid (fields, code, manifest or an existing hash).',
  },
  contract_delete_invalid: {
    http: 400,
    outcome: 'invalid',
    summary: 'A contract delete names a contract that does not exist or was already deleted.',
  },
  // Contract execution outcomes (status `rejected`: recorded in the block, no state change).
  contract_rejected: {
    http: 422,
    outcome: 'rejected',
    summary: 'The contract rejected the call (its message says why).',
  },
  contract_error: {
    http: 422,
    outcome: 'rejected',
    summary: 'The contract code threw an error; the call changed nothing.',
  },
  contract_out_of_gas: {
    http: 422,
    outcome: 'rejected',
    summary: 'The contract exceeded its deterministic operation budget.',
  },
  contract_out_of_memory: {
    http: 422,
    outcome: 'rejected',
    summary: 'The contract exceeded its memory budget.',
  },
  contract_access_denied: {
    http: 422,
    outcome: 'rejected',
    summary: 'The contract touched a table its manifest does not grant.',
  },
  contract_bad_row: {
    http: 422,
    outcome: 'rejected',
    summary: 'The contract wrote a row that does not fit the table definition.',
  },
  key_file_insecure: {
    http: 500,
    summary: 'The processor key file is readable by other users; it must be mode 0600.',
  },
  // Start-up checks (a processor or mirror node that fails one exits non-zero and creates nothing).
  key_file_unreadable: {
    http: 500,
    summary:
      'The processor key file exists but cannot be read (permissions, or it is a directory); nothing was started.',
  },
  data_dir_locked: {
    http: 409,
    summary:
      'Another process (details: pid, host, since, role) holds the data directory; one process per data directory.',
  },
  data_dir_unusable: {
    http: 500,
    summary:
      'The data directory cannot be created or written (permissions, or a file is in its place); nothing was started.',
  },
  database_locked: {
    http: 409,
    summary:
      'Another process (details: its database session and, when known, pid and host) writes this chain on the PostgreSQL database; one writer per database.',
  },
  database_lock_lost: {
    http: 503,
    summary:
      "The connection that held the chain's PostgreSQL lock was lost: the processor stops producing blocks until it holds the lock again, and exits when another process took it (a mirror node exits at once).",
  },
  database_missing: {
    http: 503,
    summary:
      'The PostgreSQL server has no database of that name; create it (createdb) or fix DATABASE_URL. Nothing was started.',
  },
  database_unreachable: {
    http: 503,
    summary:
      'The PostgreSQL server could not be reached within the database wait time (--database-wait-ms); nothing was started.',
  },
  database_login_failed: {
    http: 503,
    summary:
      'The PostgreSQL server refused the login (user, password or pg_hba.conf); nothing was started.',
  },
  database_unsuitable: {
    http: 500,
    summary: 'The PostgreSQL database cannot hold the chain (its encoding is not UTF8).',
  },
  port_unavailable: {
    http: 503,
    summary:
      'The API port or the SQL port (--sql-port) cannot be bound (in use, not permitted, or the host is not an address of this machine); nothing was started.',
  },
  // Service state.
  retry: {
    http: 503,
    summary:
      'Temporary failure on our side (database down, queue full): nothing was stored, try again.',
  },
  queue_full: { http: 503, summary: 'The processor queue is full; try again shortly.' },
  shutting_down: { http: 503, summary: 'The server is shutting down.' },
  // Chain integrity (programmer errors or a broken invariant; mirror node alarms).
  block_malformed: { http: 500, summary: 'Block bytes do not follow the block layout.' },
  block_link_mismatch: {
    http: 500,
    summary: 'A block does not link to the hash of the block before it.',
  },
  block_signature_invalid: { http: 500, summary: 'A block is not signed by the processor key.' },
  chain_mismatch: {
    http: 500,
    summary: 'Stored chain data contradicts itself or the configuration.',
  },
  block_out_of_order: {
    http: 500,
    summary:
      'A block does not carry the next height: its source skipped, repeated or reordered blocks (mirror node alarm).',
  },
  block_time_not_increasing: {
    http: 500,
    summary: "A block's processedMs is not later than the previous block's (mirror node alarm).",
  },
  outcome_mismatch: {
    http: 500,
    summary:
      'Re-executing a block gave a transaction another outcome (status, code or message) than the block records (mirror node alarm).',
  },
  state_digest_mismatch: {
    http: 500,
    summary:
      'Re-executing a block gave another state digest than the block records (mirror node alarm).',
  },
  history_mismatch: {
    http: 500,
    summary:
      'The upstream serves a different block at a height the mirror node already verified, or a processor serves a shorter chain (mirror node alarm).',
  },
  internal: { http: 500, summary: 'An unexpected internal error.' },
  // Client and CLI side (reported by the client library or the `hanzenet` command, never by the server).
  unreachable: {
    http: 503,
    summary:
      'The client could not reach the server (connection refused, reset, DNS failure or no answer in time).',
  },
  bad_response: {
    http: 502,
    summary: 'The server answered with something that is not the expected JSON.',
  },
  await_timeout: {
    http: 504,
    summary:
      'The transaction did not reach a final status within the time the client was told to wait.',
  },
  city_service_exited: {
    http: 500,
    summary:
      '`hanzenet city up`: one of its services (details: service, code, signal, when, log) ended while starting or running; the city stopped the others.',
  },
  city_setup_rejected: {
    http: 500,
    summary:
      "`hanzenet city up`: a transaction that sets up a city's contexts was not accepted (details: chain, contractType, code, message); the city stopped its services.",
  },
  usage_error: {
    http: 400,
    summary:
      'The command line or a config file it names is wrong: unknown or missing command, option, key or value (the CLI exits with code 2; for a config file, details: field, file).',
  },
  // Meter and reconciliation (P1 telegrams, the grid operator's 15-minute CSV; see docs/meter.md).
  telegram_bad_crc: {
    http: 400,
    summary:
      "A DSMR telegram's CRC-16 does not match its bytes (details: expected, computed); the telegram is not used.",
  },
  telegram_truncated: {
    http: 400,
    summary:
      'A DSMR telegram is cut short: no "!" end line, a partial CRC, or a DSMR 4+ telegram without its CRC; it is not used.',
  },
  telegram_garbled: {
    http: 400,
    summary:
      'A DSMR telegram has a malformed line, a repeated object, an impossible time or a value that is not exact to 1 Wh / 1 W; it is not used.',
  },
  telegram_unknown_format: {
    http: 400,
    summary:
      'The input is not a DSMR telegram (no "/XXX5" header) or names an unsupported DSMR version.',
  },
  telegram_missing_register: {
    http: 400,
    summary:
      'A DSMR telegram lacks one of the energy registers 1-0:1.8.1, 1-0:1.8.2, 1-0:2.8.1, 1-0:2.8.2; it is not used.',
  },
  grid_csv_invalid: {
    http: 400,
    summary:
      'The grid operator CSV cannot be read exactly (details: line, field); no row of it is used.',
  },
  meter_equipment_changed: {
    http: 400,
    summary:
      'A telegram names another equipment id than the one its meter is bound to in the gateway config; it is not used.',
  },
  meter_time_in_future: {
    http: 400,
    summary:
      'A telegram is dated further ahead of the gateway clock than maxClockSkewMs allows; it is not used.',
  },
  meter_time_too_old: {
    http: 400,
    summary: 'A telegram is dated further in the past than maxAgeMs allows; it is not used.',
  },
  meter_time_not_increasing: {
    http: 400,
    summary:
      "A telegram is not dated after the meter's last accepted telegram (a repeat, or a clock that went back); it is not used.",
  },
  meter_counter_backwards: {
    http: 400,
    summary:
      'An energy register of a telegram is lower than in the last accepted telegram; it is not used.',
  },
  meter_jump_too_large: {
    http: 400,
    summary:
      'The registers advanced more than the connection can deliver at maxKw in the elapsed time; the telegram is not used.',
  },
  gateway_config_invalid: {
    http: 400,
    summary:
      'The P1 gateway or reconciliation meters config is not valid (details: field, the key path, and file); nothing was started.',
  },
  gateway_state_invalid: {
    http: 500,
    summary:
      "The P1 gateway's state file cannot be read; it is never reset silently (move it away only when the chain is the record).",
  },
  gateway_chain_incompatible: {
    http: 502,
    summary:
      "The chain's Energy contract does not take meter readings (register, readingMs); install the current energy contracts.",
  },
  gateway_nothing_accepted: {
    http: 422,
    summary:
      'The P1 gateway accepted no telegram: every one was rejected, or a file or stdin held none (its "stopped" report line counts them per meter).',
  },
  // Stacked marketplaces: the transactions a processor signs for the other chain (docs/market.md).
  stack_not_linked: {
    http: 409,
    summary:
      'The context has no parent market on that chain (MarketParent), or the trader is no member linked to that child chain (MarketMember).',
  },
  stack_upstream_not_open: {
    http: 409,
    summary:
      'The period has no open upstream row: it is not settled locally yet, left no residual, or its residual was settled with the parent already.',
  },
  stack_no_residual: {
    http: 409,
    summary:
      "The period's upstream row is open but holds no residual energy to send to the parent.",
  },
  stack_period_incomplete: {
    http: 409,
    summary:
      "The parent's period is not complete yet: not settled, its own upstream not settled, or (without a position) its gate not closed.",
  },
  stack_prices_missing: {
    http: 409,
    summary:
      "The parent has no prices for the period, so a missed member's settlement cannot be signed yet.",
  },
  stack_audit_difference: {
    http: 409,
    summary:
      'The audit of stacked marketplaces found a difference between what a child chain and its parent chain recorded (its report says what differs).',
  },
} as const satisfies Record<string, ErrorInfo>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

type CodeWithOutcome<S extends ErrorInfo['outcome']> = {
  [K in ErrorCode]: (typeof ERROR_CATALOGUE)[K] extends { readonly outcome: S } ? K : never;
}[ErrorCode];

/** A code a transaction can end `invalid` with (never in a block). */
export type InvalidCode = CodeWithOutcome<'invalid'>;

/** A code the platform itself ends a contract call `rejected` with (it threw, ran out of gas, ...). */
export type PlatformRejectCode = CodeWithOutcome<'rejected'>;

/**
 * The code of a `rejected` outcome: the platform's, or one the contract chose. C is the contract's
 * declared codes where the contract is known (e.g. the energy contracts' EnergyRejectCodeName);
 * without it any code is possible, since contracts are installed on a running chain.
 */
export type RejectCode<C extends string = string> = PlatformRejectCode | C;

/** Any code a transaction outcome can carry. */
export type OutcomeCode<C extends string = string> = InvalidCode | RejectCode<C>;

export function isInvalidCode(code: string): code is InvalidCode {
  return isErrorCode(code) && (ERROR_CATALOGUE[code] as ErrorInfo).outcome === 'invalid';
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, code);
}

export function httpStatusOf(code: ErrorCode): number {
  return ERROR_CATALOGUE[code].http;
}

/** An error with a stable code; `details` are plain values safe to show to the caller. */
export class ChainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ChainError';
  }

  toJSON(): { code: ErrorCode; message: string; details: Record<string, unknown> } {
    return { code: this.code, message: this.message, details: this.details };
  }
}
