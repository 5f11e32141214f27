// Starts real `hanzenet` processes for end-to-end tests, as a user would, and cleans them up.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const CLI = resolve('dist/src/cli/main.js');

export interface StartedProcessor {
  readonly url: string;
  readonly chainId: string;
  readonly processorAddress: string;
  /** The embedded SQL port's URL, when started with --sql-port. */
  readonly sql?: string;
  readonly proc: ChildProcess;
  readonly stderr: () => string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

export interface ProcessorProcessOptions {
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  readonly blockIntervalMs?: number;
  readonly chainId?: string;
  readonly extraArgs?: readonly string[];
}

export async function startProcessorProcess(
  opts: ProcessorProcessOptions,
): Promise<StartedProcessor> {
  const args = [
    '--port',
    '0',
    '--data-dir',
    opts.dataDir,
    '--block-interval-ms',
    String(opts.blockIntervalMs ?? 200),
  ];
  if (opts.chainId) args.push('--chain-id', opts.chainId);
  if (opts.databaseUrl) args.push('--database-url', opts.databaseUrl);
  args.push(...(opts.extraArgs ?? []));
  return startProcessorCommand(args);
}

/**
 * Starts `hanzenet processor start ARGS` with none of the service's environment variables set
 * (plus `env`), and resolves once it prints its startup line.
 */
export async function startProcessorCommand(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<StartedProcessor> {
  const clean = { ...process.env };
  for (const name of PROCESSOR_ENV) delete clean[name];
  const { proc, stderr, exited, firstLine } = await spawnService(
    'processor',
    [CLI, 'processor', 'start', ...args],
    { ...clean, ...env },
  );
  const info = JSON.parse(firstLine) as {
    api: string;
    chainId: string;
    processorAddress: string;
    sql?: string;
  };
  return {
    url: info.api,
    chainId: info.chainId,
    processorAddress: info.processorAddress,
    ...(info.sql === undefined ? {} : { sql: info.sql }),
    proc,
    stderr,
    exited,
  };
}

/** The environment variables `processor start` reads. */
export const PROCESSOR_ENV = [
  'DATABASE_URL',
  'HANZENET_PORT',
  'HANZENET_DATA_DIR',
  'HANZENET_DATABASE_WAIT_MS',
  'HANZENET_BLOCK_INTERVAL_MS',
  'HANZENET_BLOCK_TXS_MAX',
  'HANZENET_LOG_LEVEL',
  'HANZENET_PROCESSOR_CONFIG',
  'HANZENET_SQL_PORT',
  'HANZENET_MIRRORS',
] as const;

export async function stopProcess(
  p: StartedProcessor,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | string> {
  if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill(signal);
  return p.exited;
}

export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `hz-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export type E2eBackendName = 'pglite' | 'postgres';

export interface E2eBackend {
  name: E2eBackendName;
  databaseUrl(): Promise<{ url: string | undefined; drop(): Promise<void> }>;
}

/**
 * The database backends an end-to-end test runs on: always embedded, plus the server when
 * DATABASE_URL is set. A test whose subject is not the database (the CLI, the mirror node's
 * protocol, the market's tools) passes `{ one: name }` and runs once, on that backend when it is
 * there and on the embedded one otherwise: the store tests and the tests of crashes, locks and
 * database outages run on both, and these single-backend tests are spread over the two, so that
 * each backend still carries whole processes end to end while the suite stays short.
 */
export function e2eBackends(opts: { one?: E2eBackendName } = {}): E2eBackend[] {
  const out: E2eBackend[] = [
    { name: 'pglite', databaseUrl: async () => ({ url: undefined, drop: async () => {} }) },
  ];
  const base = process.env['DATABASE_URL'];
  if (base) out.push({ name: 'postgres', databaseUrl: () => freshDatabase(base) });
  if (opts.one === undefined) return out;
  return [out.find((b) => b.name === opts.one) ?? (out[0] as E2eBackend)];
}

async function freshDatabase(baseUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hz_e2e_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

export async function postJson<T>(
  url: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

export interface StartedNode {
  readonly url: string;
  readonly chainId: string;
  readonly processorAddress: string;
  /** The node's head when it started serving (it keeps catching up afterwards). */
  readonly head: { height: number; hash: string } | null;
  /** The embedded SQL port's URL, when started with --sql-port. */
  readonly sql?: string;
  readonly proc: ChildProcess;
  readonly stderr: () => string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
}

export interface NodeProcessOptions {
  /** URL of the processor or node to follow. */
  readonly follow: string;
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  readonly extraArgs?: readonly string[];
}

/** Starts `hanzenet node start` and resolves once it prints its startup line (after block 0). */
export async function startNodeProcess(opts: NodeProcessOptions): Promise<StartedNode> {
  const args = [
    CLI,
    'node',
    'start',
    '--port',
    '0',
    '--follow',
    opts.follow,
    '--data-dir',
    opts.dataDir,
  ];
  if (opts.databaseUrl) args.push('--database-url', opts.databaseUrl);
  args.push(...(opts.extraArgs ?? []));
  const env = { ...process.env };
  for (const name of [
    'DATABASE_URL',
    'HANZENET_FOLLOW',
    'HANZENET_PORT',
    'HANZENET_DATA_DIR',
    'HANZENET_PROCESSOR_ADDRESS',
    'HANZENET_NODE_CONFIG',
    'HANZENET_SQL_PORT',
  ])
    delete env[name];
  const { proc, stderr, exited, firstLine } = await spawnService('node', args, env);
  const info = JSON.parse(firstLine) as {
    api: string;
    chainId: string;
    processorAddress: string;
    head: { height: number; hash: string } | null;
    sql?: string;
  };
  return {
    url: info.api,
    chainId: info.chainId,
    processorAddress: info.processorAddress,
    head: info.head,
    ...(info.sql === undefined ? {} : { sql: info.sql }),
    proc,
    stderr,
    exited,
  };
}

/** How long a service may take to print its start-up line (generous: CI machines can be slow). */
const START_TIMEOUT_MS = 90_000;

/**
 * Spawns a service command (node with `args`) and resolves with its first stdout line (its
 * start-up report); rejects with its stderr when it exits first or prints nothing within
 * `timeoutMs` (then it is killed and waited for).
 */
export async function spawnService(
  what: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number = START_TIMEOUT_MS,
): Promise<{
  proc: ChildProcess;
  stderr: () => string;
  exited: Promise<number | string>;
  firstLine: string;
}> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | string>((res) =>
    proc.on('exit', (code, signal) => res(code ?? signal ?? -1)),
  );
  const firstLine = await new Promise<string>((res, rej) => {
    let out = '';
    // A service that did not start is killed (and waited for) before the test fails, so it never
    // outlives the test, holding its port and writing into a data dir that is being removed.
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      const failure = new Error(
        `${what} did not start within ${timeoutMs / 1000} s; stderr:\n${err}`,
      );
      proc.kill('SIGKILL');
      void exited.then(() => rej(failure));
    }, timeoutMs);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        res(out.slice(0, nl));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!timedOut) rej(new Error(`${what} exited (${code}) before starting; stderr:\n${err}`));
    });
  });
  return { proc, stderr: () => err, exited, firstLine };
}

export interface StartedUplink {
  readonly proc: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<number | string>;
  /** Its start-up line. */
  readonly started: Record<string, unknown>;
}

/** Starts `hanzenet uplink --child --parent` and resolves once it prints its start-up line. */
export async function startUplinkProcess(
  childUrl: string,
  parentUrl: string,
  intervalMs: number,
): Promise<StartedUplink> {
  const env = { ...process.env };
  delete env['HANZENET_LOG_LEVEL'];
  const args = [
    CLI,
    'uplink',
    '--child',
    childUrl,
    '--parent',
    parentUrl,
    '--interval-ms',
    String(intervalMs),
  ];
  const { proc, stderr, exited, firstLine } = await spawnService('uplink', args, env);
  return { proc, stderr, exited, started: JSON.parse(firstLine) as Record<string, unknown> };
}
