// One `hanzenet` service of a city as a child process: the same command line an operator would
// run (`processor start`, `node start`, `uplink`), its log (stderr) appended to a file, its
// start-up report (the first line on stdout) read as JSON.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChainError } from '../core/errors.js';

/** The `hanzenet` command of this build. */
export const HANZENET_CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
/** A PGlite processor installs the energy contracts on its first start: allow it time. */
const START_TIMEOUT_MS = 120_000;
const LOG_TAIL_BYTES = 2000;

/** Environment variables the services read: the city passes everything as flags instead. */
const SERVICE_ENV = /^(HANZENET_|DATABASE_URL$)/;

export interface ServiceSpec {
  /** e.g. `n1 processor`. */
  readonly name: string;
  readonly args: readonly string[];
  readonly logFile: string;
  /** Wait for a start-up report on stdout (processors and nodes print one). */
  readonly report: boolean;
}

export type ServiceExit = { readonly code: number | null; readonly signal: string | null };

export interface RunningService {
  readonly name: string;
  readonly pid: number;
  readonly args: readonly string[];
  readonly logFile: string;
  /** The start-up report (null for a service that prints none), once it is up. */
  readonly ready: Promise<Record<string, unknown> | null>;
  readonly exited: Promise<ServiceExit>;
  /** Whether it has started (its report read). */
  isUp(): boolean;
  kill(signal: NodeJS.Signals): void;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!SERVICE_ENV.test(k)) env[k] = v;
  return env;
}

/** The last lines of a service's log, to say why it ended. */
export function logTail(logFile: string): string {
  try {
    const text = readFileSync(logFile, 'utf8');
    return text.slice(-LOG_TAIL_BYTES).trim();
  } catch (err) {
    return `(the log ${logFile} cannot be read: ${(err as Error).message})`;
  }
}

function exitText(e: ServiceExit): string {
  return e.signal === null ? `exit status ${e.code}` : `signal ${e.signal}`;
}

export function serviceExitedError(
  name: string,
  logFile: string,
  e: ServiceExit,
  when: 'starting' | 'running',
): ChainError {
  return new ChainError(
    'city_service_exited',
    `${name} ended (${exitText(e)}) while ${when}; its log ${logFile} ends with:\n${logTail(logFile)}`,
    { service: name, code: e.code, signal: e.signal, when, log: logFile },
  );
}

/**
 * Spawns the service. It is in the caller's hands from this moment (to stop it whatever
 * happens next); `ready` resolves once it is up (its report read) and rejects when it ends first.
 */
export function spawnService(spec: ServiceSpec): RunningService {
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const logFd = openSync(spec.logFile, 'a', 0o600);
  let proc: ChildProcess;
  try {
    proc = spawn(process.execPath, [HANZENET_CLI, ...spec.args], {
      stdio: ['ignore', 'pipe', logFd],
      env: cleanEnv(),
    });
  } finally {
    closeSync(logFd);
  }
  let ended = false;
  let up = false;
  const exited = new Promise<ServiceExit>((res) =>
    proc.once('exit', (code, signal) => {
      ended = true;
      res({ code, signal });
    }),
  );
  const ready = (spec.report ? firstLine(spec, proc, exited) : Promise.resolve(null)).then(
    (report) => {
      up = true;
      // What it prints later is not needed, but the pipe must not fill up.
      proc.stdout?.resume();
      return report;
    },
  );
  return {
    name: spec.name,
    pid: proc.pid ?? -1,
    args: spec.args,
    logFile: spec.logFile,
    ready,
    exited,
    isUp: () => up,
    kill: (signal) => {
      if (!ended) proc.kill(signal);
    },
  };
}

async function firstLine(
  spec: ServiceSpec,
  proc: ChildProcess,
  exited: Promise<ServiceExit>,
): Promise<Record<string, unknown>> {
  const line = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(
        new ChainError(
          'city_service_exited',
          `${spec.name} did not start within ${START_TIMEOUT_MS / 1000} s and was killed; see ${spec.logFile}`,
          { service: spec.name, when: 'starting', log: spec.logFile },
        ),
      );
    }, START_TIMEOUT_MS);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      proc.stdout?.off('data', onData);
      res(out.slice(0, nl));
    };
    proc.stdout?.on('data', onData);
    void exited.then((e) => {
      clearTimeout(timer);
      rej(serviceExitedError(spec.name, spec.logFile, e, 'starting'));
    });
  });
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch (err) {
    proc.kill('SIGTERM');
    throw new ChainError(
      'city_service_exited',
      `${spec.name} printed a start-up line that is not JSON: ${line.slice(0, 200)}`,
      { service: spec.name, when: 'starting', log: spec.logFile },
      { cause: err },
    );
  }
}
