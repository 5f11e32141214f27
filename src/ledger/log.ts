// The log of the processor, the mirror node and the gateway, on pino: one JSON object per line on
// stderr (stdout carries only the start-up report), or readable coloured lines when stderr is a
// terminal. Levels trace, debug, info, warn, error, alarm, fatal; `--log-level` or
// HANZENET_LOG_LEVEL chooses the lowest that is written (default info). A mirror node's alarm has
// its own level, between error and fatal, so that it is easy to find and to alert on. Each part
// logs through a child that names it (`"component":"api"`). Times come from the service's
// scheduler, so a simulated run logs virtual time.

import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import pretty from 'pino-pretty';
import { DEFAULT_LOG_LEVEL, type LogLevel, parseLogLevel } from './log-level.js';

export { DEFAULT_LOG_LEVEL, LOG_LEVELS, type LogLevel, parseLogLevel } from './log-level.js';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A failed check of the chain (mirror node): `fields.alarm` holds the ChainAlarm. */
  alarm(msg: string, fields?: Record<string, unknown>): void;
  /** The same log, every line tagged `"component": name`. */
  child(component: string): Logger;
  /** The pino logger underneath (for the HTTP server's request log); null when silent. */
  readonly pino: PinoLogger<'alarm'> | null;
}

/** Between pino's error (50) and fatal (60). */
const ALARM_LEVEL = 55;

export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  readonly level?: LogLevel;
  /** Default: pretty when stderr is a terminal, else JSON lines. */
  readonly format?: LogFormat;
  /** Tags every line (the node's lines say `"component":"node"`). */
  readonly component?: string;
  /** Where lines go; default stderr, written synchronously so that no line is lost on a crash. */
  readonly destination?: DestinationStream;
}

/** A logger timed by `clock` (the service's scheduler). */
export function createLogger(clock: { nowMs(): number }, opts: LogOptions = {}): Logger {
  const format = opts.format ?? (process.stderr.isTTY ? 'pretty' : 'json');
  const destination =
    opts.destination ??
    (format === 'pretty'
      ? pretty({
          destination: 2,
          sync: true,
          colorize: true,
          customLevels: { alarm: ALARM_LEVEL },
          customColors: 'alarm:bgRed',
        })
      : pino.destination({ fd: 2, sync: true }));
  const root = pino<'alarm'>(
    {
      level: opts.level ?? DEFAULT_LOG_LEVEL,
      customLevels: { alarm: ALARM_LEVEL },
      base: null,
      timestamp: () => `,"time":"${new Date(clock.nowMs()).toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  return wrap(root, opts.component);
}

/**
 * The logger of a service's log settings: `HANZENET_LOG_LEVEL` when no level is given, then
 * info. The composition roots call this.
 */
export function serviceLogger(
  clock: { nowMs(): number },
  component: string | undefined,
  level: LogLevel | undefined,
): Logger {
  const fromEnv = process.env['HANZENET_LOG_LEVEL'];
  const chosen = level ?? (fromEnv ? parseLogLevel(fromEnv) : DEFAULT_LOG_LEVEL);
  return createLogger(
    clock,
    component === undefined ? { level: chosen } : { level: chosen, component },
  );
}

/** `root` tagged with `component`; a child's component is `parent.child` (`node.follower`). */
function wrap(root: PinoLogger<'alarm'>, component: string | undefined): Logger {
  const log = component === undefined ? root : root.child({ component });
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error' | 'alarm') =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields === undefined) log[level](msg);
      else log[level](fields, msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    alarm: at('alarm'),
    child: (name) => wrap(root, component === undefined ? name : `${component}.${name}`),
    pino: log,
  };
}

export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  alarm: () => undefined,
  child: () => silentLogger,
  pino: null,
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
