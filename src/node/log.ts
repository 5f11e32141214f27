// The mirror node's log: one JSON object per line on stderr (stdout carries only the startup
// report). An alarm gets its own level so that it is easy to find and to alert on.

import type { ChainAlarm } from '../chain/views.js';

export interface NodeLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  alarm(alarm: ChainAlarm): void;
}

function line(level: string, msg: string, fields?: Record<string, unknown>): void {
  process.stderr.write(JSON.stringify({ level, time: new Date().toISOString(), component: 'node', msg, ...fields }) + '\n');
}

export const jsonNodeLogger: NodeLogger = {
  info: (msg, fields) => line('info', msg, fields),
  warn: (msg, fields) => line('warn', msg, fields),
  error: (msg, fields) => line('error', msg, fields),
  alarm: (alarm) => line('alarm', `ALARM: ${alarm.message}`, { alarm }),
};

export const silentNodeLogger: NodeLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  alarm: () => undefined,
};

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}
