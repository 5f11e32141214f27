// A mirror node's alarm: the first check that failed, naming the block, the transaction and what
// differed. Raised as an AlarmError inside the apply path; the node then stops applying blocks.

import type { ChainAlarm } from '../chain/views.js';
import type { ErrorCode } from '../core/errors.js';

/** What a failed check knows; the node adds where the block came from and when. */
export type AlarmFields = Omit<ChainAlarm, 'code' | 'upstream' | 'raisedMs'> & {
  readonly code: ErrorCode;
};

/** A failed check. Never retried: the same block would fail again. */
export class AlarmError extends Error {
  constructor(readonly fields: AlarmFields) {
    super(fields.message);
    this.name = 'AlarmError';
  }
}

export interface AlarmAt {
  readonly height: number;
  readonly blockHash?: string | null;
  readonly txId?: string | null;
}

export function alarmError(
  code: ErrorCode,
  at: AlarmAt,
  field: string,
  expected: unknown,
  got: unknown,
  message: string,
): AlarmError {
  return new AlarmError({
    code,
    message,
    height: at.height,
    blockHash: at.blockHash ?? null,
    txId: at.txId ?? null,
    field,
    expected,
    got,
  });
}

export function chainAlarmOf(fields: AlarmFields, upstream: string, raisedMs: number): ChainAlarm {
  return { ...fields, upstream, raisedMs };
}
