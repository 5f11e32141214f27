// The log of the processor and the mirror node: one JSON object per line on stderr (stdout carries
// only the start-up report). A mirror node's alarm gets its own level so that it is easy to find
// and to alert on. Kept to one small interface: a logging library will take its place later.

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A failed check of the chain (mirror node): `fields.alarm` holds the ChainAlarm. */
  alarm(msg: string, fields?: Record<string, unknown>): void;
}

/**
 * Writes `{level, time, [component], msg, ...fields}` lines to stderr, timed by `clock` (the
 * service's scheduler). The processor's lines carry no component (as they always did); the mirror
 * node's say `"component":"node"`.
 */
export function jsonLogger(clock: { nowMs(): number }, component?: string): Logger {
  const tag = component === undefined ? {} : { component };
  const line = (level: string, msg: string, fields?: Record<string, unknown>): void => {
    process.stderr.write(
      JSON.stringify({
        level,
        time: new Date(clock.nowMs()).toISOString(),
        ...tag,
        msg,
        ...fields,
      }) + '\n',
    );
  };
  return {
    info: (msg, fields) => line('info', msg, fields),
    warn: (msg, fields) => line('warn', msg, fields),
    error: (msg, fields) => line('error', msg, fields),
    alarm: (msg, fields) => line('alarm', msg, fields),
  };
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  alarm: () => undefined,
};

/**
 * One line for an error: `code: message` for our errors (they carry a stable code), the stack for
 * anything else, since an error without a code is a bug and its stack says where.
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string') return `${code}: ${err.message}`;
    return err.stack ?? err.message;
  }
  return String(err);
}
