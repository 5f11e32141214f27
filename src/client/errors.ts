// The one error type the client library throws. It carries the server's
// `{code, message, details}` unchanged, plus the HTTP status it came with (null when the error
// was found on the client side: bad input, server unreachable, waiting timed out).

import type { ErrorCode } from '../core/errors.js';

export interface ClientErrorJson {
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, unknown>;
}

export class ClientError extends Error {
  readonly code: ErrorCode | (string & {});
  readonly details: Record<string, unknown>;
  /** HTTP status of the server's answer; null when no answer was the reason. */
  readonly status: number | null;

  constructor(
    code: ErrorCode | (string & {}),
    message: string,
    details: Record<string, unknown> = {},
    status: number | null = null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ClientError';
    this.code = code;
    this.details = details;
    this.status = status;
  }

  toJSON(): ClientErrorJson {
    return { code: this.code, message: this.message, details: this.details };
  }
}

export function isClientError(err: unknown): err is ClientError {
  return err instanceof ClientError;
}
