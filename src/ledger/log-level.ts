// The log levels a service accepts (`--log-level`, HANZENET_LOG_LEVEL), apart from the logger
// itself so that the command line can check a level without loading the logging library.

import { ChainError } from '../core/errors.js';

export const LOG_LEVELS = [
  'trace',
  'debug',
  'info',
  'warn',
  'error',
  'alarm',
  'fatal',
  'silent',
] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** The log level named by `text`; throws bad_request naming the valid ones. */
export function parseLogLevel(text: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === text.trim().toLowerCase());
  if (level === undefined) {
    throw new ChainError(
      'bad_request',
      `log level ${JSON.stringify(text)} is not one of ${LOG_LEVELS.join(', ')}`,
      { logLevel: text },
    );
  }
  return level;
}
