// One benchmark run: a fresh processor (a child process, as a user starts it), the context set up
// and confirmed, N pre-signed transactions sent through the real API by several concurrent
// connections, every outcome checked, and the processor's CPU, memory and database size read.
// Optionally a fresh mirror node then verifies the whole chain.
//
// Timing follows the thesis (7.3): from the moment the first timed transaction is sent until the
// last one is reported final by the server. Generation, signing and the setup phases are not
// timed.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { WebSocket } from 'ws';
import type { BlockView, ContractView, TxView } from '../src/chain/views.js';
import {
  MARKET_SHARE,
  awaitSettlements,
  interleave,
  marketTimedTxs,
  setupMarket,
} from './market-run.js';
import type { MarketResult, MarketSetup } from './market-run.js';
import { CpuOfProcesses, cpuSeconds, diskBytes, statusBytes } from './proc.js';
import {
  SETTLEMENT_PERIOD_MS,
  SpendableModel,
  deviceTxs,
  mixOf,
  participants,
  timedTxs,
  traderTxs,
  warmupTxs,
} from './workload.js';
import type { BenchTx, ContractHashes, MixCounts, SignContext } from './workload.js';

export type Backend = 'pglite' | 'postgres';
export type SubmitMode = 'http' | 'ws';

export interface RunOptions {
  readonly backend: Backend;
  readonly n: number;
  /** Server to create a fresh database on (postgres backend). */
  readonly baseDatabaseUrl?: string | undefined;
  readonly blockIntervalMs: number;
  /** The processor's --block-txs-max; null: its default. */
  readonly blockTxsMax: number | null;
  readonly submit: SubmitMode;
  /** Concurrent HTTP requests (http) or WebSocket connections (ws). */
  readonly connections: number;
  /** Transactions per POST (http) or per watch message (ws). */
  readonly batchSize: number;
  /** http only: pace sending to this many transactions per second (null: as fast as answers come). */
  readonly rate: number | null;
  readonly traders: number;
  /** Add the market workload with this many traders (bench/market-run.ts); null: without it. */
  readonly marketTraders: number | null;
  readonly seed: string;
  readonly node: boolean;
  /** Keep data directories and databases (for inspection). */
  readonly keep: boolean;
  /** Extra node options for the processor process, e.g. --cpu-prof. */
  readonly processorNodeArgs: readonly string[];
  /** Extra node options for the mirror node process. */
  readonly mirrorNodeArgs: readonly string[];
  readonly log: (line: string) => void;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface NodeResult {
  readonly status: 'ok' | 'skipped' | 'failed' | 'timeout';
  readonly seconds: number | null;
  /** Chain transactions (setup included) verified per second, process start included. */
  readonly txPerSecond: number | null;
  /** From spawning it until its API listened (database opened, migrated): before it fetches any block. */
  readonly startSeconds: number | null;
  /** Chain transactions per second from then until it reached the head: the verifying alone. */
  readonly verifyTxPerSecond: number | null;
  readonly chainTxs: number;
  readonly cpuSeconds: number | null;
  readonly peakRssBytes: number | null;
  readonly note: string;
}

export interface RunResult {
  readonly backend: Backend;
  readonly n: number;
  readonly submit: SubmitMode;
  readonly blockIntervalMs: number;
  readonly connections: number;
  readonly batchSize: number;
  readonly rate: number | null;
  readonly traders: number;
  readonly seed: string;
  readonly ok: boolean;
  readonly failures: string[];
  readonly seconds: number | null;
  readonly txPerSecond: number | null;
  readonly latencyMs: LatencySummary | null;
  readonly processor: {
    readonly pid: number;
    readonly cpuSeconds: number | null;
    readonly cpuPercentOfOneCore: number | null;
    /** VmHWM right after the timed phase (peak resident set over the process's life, setup included). */
    readonly peakRssBytes: number | null;
    /** Largest VmRSS sampled (every 250 ms) during the timed phase. */
    readonly maxRssDuringRunBytes: number | null;
  };
  /** CPU of the PostgreSQL backends serving the processor's database (postgres only). */
  readonly postgresBackends: {
    readonly cpuSeconds: number;
    readonly cpuPercentOfOneCore: number;
  } | null;
  readonly client: { readonly cpuPercentOfOneCore: number | null };
  readonly databaseBytes: number | null;
  readonly statuses: {
    accepted: number;
    rejected: number;
    invalid: number;
    missing: number;
    admissionErrors: number;
    retried: number;
  };
  readonly inBlocks: { readonly acceptedOnce: number; readonly duplicates: number };
  readonly mix: MixCounts;
  readonly blocks: {
    readonly count: number;
    readonly maxTxs: number;
    readonly meanTxs: number;
    readonly firstHeight: number | null;
    readonly lastHeight: number | null;
  };
  /**
   * The timed blocks as the processor logged them, summed: executing them, the state reads its
   * cache missed (and the wait for them, part of executing), and committing them.
   */
  readonly blockWork: {
    readonly executeSeconds: number;
    readonly storeReads: number;
    readonly storeReadSeconds: number;
    readonly commitSeconds: number;
  } | null;
  /** Rows added to chain and state tables per timed transaction (postgres only; counted). */
  readonly rowsPerTx: number | null;
  /**
   * Database transactions the processor's database committed per timed transaction (postgres
   * only, pg_stat_database.xact_commit): every statement outside BEGIN/COMMIT counts as one, so
   * this counts the processor's SQL round trips (state reads) plus one per block commit.
   */
  readonly dbTransactionsPerTx: number | null;
  readonly setup: {
    readonly txs: number;
    readonly warmupRounds: number;
    readonly periodBlock: number | null;
    readonly creditedTraders: number;
    readonly seconds: number;
  };
  readonly generationSeconds: number;
  readonly node: NodeResult;
  /** The market workload (--market): its size and the settlement of each period it filled. */
  readonly market: MarketResult | null;
}

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const NODE_MODULE = fileURLToPath(new URL('../src/app/start-node.js', import.meta.url));
const SERVER_WAIT_MS = 240_000;
/** No confirmation for this long while transactions are outstanding: the rest counts as lost. */
const STALL_MS = 120_000;
const RETRYABLE = new Set(['queue_full', 'retry']);
/** WebSocket watches per connection stay below the server's wsPendingMax (10,000). */
const WS_WATCH_WINDOW = 9_000;
const FINAL = new Set(['accepted', 'rejected', 'invalid']);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Processes and databases.

interface Spawned {
  readonly proc: ChildProcess;
  readonly pid: number;
  readonly line: Record<string, unknown>;
  readonly stderrTail: () => string;
  /** The processor's `block committed` log lines so far. */
  readonly blockLogs: readonly BlockLog[];
  readonly exited: Promise<number | string>;
}

/** What the processor logs for each committed block (src/processor/processor.ts, onCommitted). */
export interface BlockLog {
  readonly height: number;
  readonly txs: number;
  readonly executeMs: number;
  readonly storeReads: number;
  readonly storeReadMs: number;
  readonly commitMs: number;
}

function blockLogOf(line: string): BlockLog | null {
  if (!line.includes('"block committed"')) return null;
  try {
    const j = JSON.parse(line) as Record<string, unknown>;
    const n = (k: string): number => (typeof j[k] === 'number' ? (j[k] as number) : 0);
    return {
      height: n('height'),
      txs: n('txs'),
      executeMs: n('executeMs'),
      storeReads: n('storeReads'),
      storeReadMs: n('storeReadMs'),
      commitMs: n('commitMs'),
    };
  } catch {
    return null;
  }
}

/** Processes this run started and that still live: run.ts stops them when the benchmark is interrupted. */
export const liveChildren = new Set<ChildProcess>();

function blockWorkOf(
  logs: readonly BlockLog[],
  first: number | null,
  last: number | null,
): RunResult['blockWork'] {
  if (first === null || last === null) return null;
  const timed = logs.filter((b) => b.height >= first && b.height <= last);
  if (timed.length === 0) return null;
  const sum = (f: (b: BlockLog) => number): number => timed.reduce((a, b) => a + f(b), 0);
  return {
    executeSeconds: sum((b) => b.executeMs) / 1000,
    storeReads: sum((b) => b.storeReads),
    storeReadSeconds: sum((b) => b.storeReadMs) / 1000,
    commitSeconds: sum((b) => b.commitMs) / 1000,
  };
}

async function spawnService(
  args: readonly string[],
  nodeArgs: readonly string[],
  what: string,
  startTimeoutMs: number,
): Promise<Spawned> {
  const env = { ...process.env };
  delete env['DATABASE_URL'];
  const proc = spawn(process.execPath, [...nodeArgs, CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  let tail = '';
  let partial = '';
  const blockLogs: BlockLog[] = [];
  proc.stderr?.on('data', (d: Buffer) => {
    const text = d.toString();
    tail = (tail + text).slice(-16_384);
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const b = blockLogOf(line);
      if (b !== null) blockLogs.push(b);
    }
  });
  liveChildren.add(proc);
  const exited = new Promise<number | string>((res) =>
    proc.on('exit', (code, signal) => {
      liveChildren.delete(proc);
      res(code ?? signal ?? -1);
    }),
  );
  const first = await new Promise<string>((res, rej) => {
    let out = '';
    const timer = setTimeout(
      () =>
        rej(
          new Error(
            `${what} did not print its start line within ${startTimeoutMs / 1000} s; stderr: ${tail.slice(-2000)}`,
          ),
        ),
      startTimeoutMs,
    );
    const onData = (d: Buffer): void => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        proc.stdout?.resume();
        res(out.slice(0, nl));
      }
    };
    proc.stdout?.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      rej(
        new Error(`${what} exited (${code}) before it was serving; stderr: ${tail.slice(-2000)}`),
      );
    });
  });
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(first) as Record<string, unknown>;
  } catch {
    proc.kill('SIGKILL');
    throw new Error(`${what} printed a start line that is not JSON: ${first.slice(0, 300)}`);
  }
  if (proc.pid === undefined) throw new Error(`${what} has no pid`);
  return { proc, pid: proc.pid, line, stderrTail: () => tail, blockLogs, exited };
}

async function stopService(s: Spawned, graceMs = 60_000): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  s.proc.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    s.exited.then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!done) {
    s.proc.kill('SIGKILL');
    await s.exited;
  }
}

interface FreshDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createDatabase(baseUrl: string, prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
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
    name,
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

// ---------------------------------------------------------------------------------------------
// HTTP.

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

async function postJson(url: string, body: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text for the error message.
  }
  return { status: res.status, body: parsed };
}

type BatchEntry =
  | TxView
  | {
      readonly id: string | null;
      readonly status?: undefined;
      readonly error: { code: string; message: string };
    };

function isErrorEntry(e: BatchEntry): e is Extract<BatchEntry, { error: unknown }> {
  return 'error' in e && e.error !== undefined;
}

/** Submits with wait in batches over `lanes` requests at a time; throws unless every one is accepted. */
async function submitAccepted(
  url: string,
  txs: readonly BenchTx[],
  what: string,
  lanes = 2,
  batchSize = 500,
): Promise<Map<string, TxView>> {
  const views = new Map<string, TxView>();
  const batches: BenchTx[][] = [];
  for (let i = 0; i < txs.length; i += batchSize) batches.push(txs.slice(i, i + batchSize));
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let b = next++; b < batches.length; b = next++) {
      const batch = batches[b] as BenchTx[];
      for (let attempt = 0; ; attempt++) {
        const res = await postJson(
          `${url}/api/transactions/batch`,
          JSON.stringify({
            transactions: batch.map((t) => t.base64),
            wait: true,
            timeoutMs: SERVER_WAIT_MS,
          }),
        );
        if (res.status === 503 && attempt < 20) {
          await sleep(250);
          continue;
        }
        if (res.status !== 200)
          throw new Error(`${what}: HTTP ${res.status}: ${JSON.stringify(res.body).slice(0, 500)}`);
        const results = (res.body as { results: BatchEntry[] }).results;
        results.forEach((r, i) => {
          const t = batch[i] as BenchTx;
          if (isErrorEntry(r))
            throw new Error(
              `${what}: ${t.contractType} ${t.tx.idHex} refused: ${r.error.code}: ${r.error.message}`,
            );
          if (r.status !== 'accepted')
            throw new Error(
              `${what}: ${t.contractType} ${t.tx.idHex} ended ${r.status}: ${r.code ?? ''}: ${r.message ?? ''}`,
            );
          views.set(r.id, r);
        });
        break;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, batches.length) }, lane));
  return views;
}

/** Blocks per page when the checks read the chain: a page of 2,000-transaction blocks is big. */
const BLOCKS_PER_PAGE = 20;

async function fetchBlocks(url: string, from: number, to: number): Promise<BlockView[]> {
  const out: BlockView[] = [];
  for (let h = from; h <= to; h += BLOCKS_PER_PAGE) {
    const page = await getJson<BlockView[]>(
      `${url}/api/blocks?from=${h}&limit=${Math.min(BLOCKS_PER_PAGE, to - h + 1)}`,
    );
    out.push(...page);
    if (page.length === 0) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The timed phase.

interface TimedOutcome {
  readonly startMs: number;
  readonly endMs: number;
  /** Per transaction: first send, final report (NaN when none), final status. */
  readonly sentAt: Float64Array;
  readonly finalAt: Float64Array;
  readonly status: (string | undefined)[];
  readonly retried: number;
  readonly failureSamples: string[];
}

interface TimedProgress {
  sent: number;
  final: number;
  lastFinalMs: number;
}

class TimedState {
  readonly sentAt: Float64Array;
  readonly finalAt: Float64Array;
  readonly status: (string | undefined)[];
  readonly indexOf = new Map<string, number>();
  readonly failureSamples: string[] = [];
  readonly progress: TimedProgress;
  retried = 0;

  constructor(readonly txs: readonly BenchTx[]) {
    this.sentAt = new Float64Array(txs.length).fill(Number.NaN);
    this.finalAt = new Float64Array(txs.length).fill(Number.NaN);
    this.status = new Array<string | undefined>(txs.length);
    txs.forEach((t, i) => {
      this.indexOf.set(t.tx.idHex, i);
    });
    this.progress = { sent: 0, final: 0, lastFinalMs: performance.now() };
  }

  markSent(i: number, at: number): void {
    if (Number.isNaN(this.sentAt[i] as number)) {
      this.sentAt[i] = at;
      this.progress.sent++;
    }
  }

  /** Records a final view (or a refusal, status `error:<code>`); false if already final. */
  markFinal(i: number, status: string, at: number, detail: string): boolean {
    if (this.status[i] !== undefined && this.status[i] !== 'timeout') return false;
    this.status[i] = status;
    this.finalAt[i] = at;
    this.progress.final++;
    this.progress.lastFinalMs = at;
    if (status !== 'accepted' && this.failureSamples.length < 10)
      this.failureSamples.push(
        `${this.txs[i]?.contractType ?? '?'} ${this.txs[i]?.tx.idHex ?? '?'}: ${status}: ${detail}`,
      );
    return true;
  }

  outcome(startMs: number): TimedOutcome {
    let endMs = startMs;
    for (const t of this.finalAt) if (!Number.isNaN(t) && t > endMs) endMs = t;
    return {
      startMs,
      endMs,
      sentAt: this.sentAt,
      finalAt: this.finalAt,
      status: this.status,
      retried: this.retried,
      failureSamples: this.failureSamples,
    };
  }

  stalled(): boolean {
    return performance.now() - this.progress.lastFinalMs > STALL_MS;
  }
}

/** Long-polls GET /api/transactions/:id?wait=true until the transaction is final (or the run stalls). */
async function awaitFinal(url: string, state: TimedState, i: number): Promise<void> {
  const t = state.txs[i] as BenchTx;
  while (!state.stalled()) {
    let view: TxView | null = null;
    try {
      const res = await fetch(
        `${url}/api/transactions/${t.tx.idHex}?wait=true&timeoutMs=${SERVER_WAIT_MS}`,
      );
      if (res.ok) view = (await res.json()) as TxView;
    } catch {
      // The server is busy or restarting: ask again.
    }
    if (view !== null && FINAL.has(view.status)) {
      state.markFinal(
        i,
        view.status,
        performance.now(),
        `${view.code ?? ''} ${view.message ?? ''}`,
      );
      return;
    }
    if (view === null) await sleep(500);
  }
}

/**
 * POST /api/transactions/batch with wait, `connections` requests in flight (a closed loop: a
 * connection sends its next batch when the previous one is final). With `rate`, batches are also
 * paced to at most `rate` transactions per second (an open loop, for latency at a given load).
 */
async function timedHttp(
  url: string,
  state: TimedState,
  connections: number,
  batchSize: number,
  rate: number | null,
): Promise<number> {
  const n = state.txs.length;
  const queue: number[][] = [];
  for (let i = 0; i < n; i += batchSize)
    queue.push(Array.from({ length: Math.min(batchSize, n - i) }, (_, k) => i + k));
  let outstanding = 0;
  let scheduled = 0;
  const startMs = performance.now();
  const lane = async (): Promise<void> => {
    while (queue.length > 0 || outstanding > 0) {
      const batch = queue.shift();
      if (batch === undefined) {
        if (state.stalled()) return;
        await sleep(20);
        continue;
      }
      outstanding++;
      try {
        if (rate !== null && Number.isNaN(state.sentAt[batch[0] as number] as number)) {
          const due = startMs + (scheduled / rate) * 1000;
          scheduled += batch.length;
          const wait = due - performance.now();
          if (wait > 0) await sleep(wait);
        }
        const body = JSON.stringify({
          transactions: batch.map((i) => (state.txs[i] as BenchTx).base64),
          wait: true,
          timeoutMs: SERVER_WAIT_MS,
        });
        const sent = performance.now();
        for (const i of batch) state.markSent(i, sent);
        let res: { status: number; body: unknown };
        try {
          res = await postJson(`${url}/api/transactions/batch`, body);
        } catch (err) {
          res = { status: 0, body: String(err) };
        }
        const at = performance.now();
        if (res.status === 503) {
          state.retried += batch.length;
          await sleep(200);
          queue.push(batch);
          continue;
        }
        if (res.status !== 200) {
          for (const i of batch)
            state.markFinal(
              i,
              `error:http_${res.status}`,
              at,
              JSON.stringify(res.body).slice(0, 300),
            );
          continue;
        }
        const results = (res.body as { results: BatchEntry[] }).results;
        const retry: number[] = [];
        const pending: number[] = [];
        results.forEach((r, k) => {
          const i = batch[k] as number;
          if (isErrorEntry(r)) {
            if (RETRYABLE.has(r.error.code)) retry.push(i);
            else state.markFinal(i, `error:${r.error.code}`, at, r.error.message);
          } else if (FINAL.has(r.status)) {
            state.markFinal(i, r.status, at, `${r.code ?? ''} ${r.message ?? ''}`);
          } else {
            pending.push(i);
          }
        });
        // The server's wait ran out first: keep waiting, 16 long polls at a time.
        for (let k = 0; k < pending.length; k += 16)
          await Promise.all(pending.slice(k, k + 16).map((i) => awaitFinal(url, state, i)));
        if (retry.length > 0) {
          state.retried += retry.length;
          await sleep(200);
          queue.push(retry);
        }
      } finally {
        outstanding--;
      }
    }
  };
  await Promise.all(Array.from({ length: connections }, lane));
  return startMs;
}

/** WebSocket `watch` + `submit` on `connections` connections, each keeping < 9,000 watches open. */
async function timedWs(
  url: string,
  state: TimedState,
  connections: number,
  batchSize: number,
): Promise<number> {
  const n = state.txs.length;
  const wsUrl = `${url.replace(/^http/, 'ws')}/api/ws`;
  const chunkSize = Math.min(batchSize, 1000);
  const chunks: number[][] = [];
  for (let i = 0; i < n; i += chunkSize)
    chunks.push(Array.from({ length: Math.min(chunkSize, n - i) }, (_, k) => i + k));
  const sockets = await Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<WebSocket>((res, rej) => {
          const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
          ws.once('open', () => res(ws));
          ws.once('error', rej);
        }),
    ),
  );
  let next = 0;
  const startMs = performance.now();
  const lane = async (ws: WebSocket): Promise<void> => {
    let unconfirmed = 0;
    let wake: (() => void) | null = null;
    const acks = new Map<string, () => void>();
    const retryLater = (i: number): void => {
      state.retried++;
      setTimeout(
        () =>
          ws.send(
            JSON.stringify({ type: 'submit', id: i, base64tx: (state.txs[i] as BenchTx).base64 }),
          ),
        200,
      );
    };
    ws.on('message', (data: Buffer) => {
      const at = performance.now();
      const msg = JSON.parse(data.toString()) as {
        type: string;
        id?: unknown;
        tx?: TxView;
        error?: { code: string; message: string };
      };
      if (msg.type === 'tx' && msg.tx !== undefined) {
        const i = state.indexOf.get(msg.tx.id);
        if (
          i !== undefined &&
          FINAL.has(msg.tx.status) &&
          state.markFinal(i, msg.tx.status, at, `${msg.tx.code ?? ''} ${msg.tx.message ?? ''}`)
        )
          unconfirmed--;
      } else if (msg.type === 'watching' && typeof msg.id === 'string') {
        acks.get(msg.id)?.();
      } else if (msg.type === 'error') {
        if (typeof msg.id === 'number') {
          const code = msg.error?.code ?? 'unknown';
          if (RETRYABLE.has(code)) retryLater(msg.id);
          else if (state.markFinal(msg.id, `error:${code}`, at, msg.error?.message ?? ''))
            unconfirmed--;
        } else {
          state.failureSamples.push(`WebSocket error: ${JSON.stringify(msg).slice(0, 300)}`);
          if (typeof msg.id === 'string') acks.get(msg.id)?.();
        }
      }
      if (wake !== null) {
        const w = wake;
        wake = null;
        w();
      }
    });
    const waitFor = async (ok: () => boolean): Promise<void> => {
      while (!ok() && !state.stalled())
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 1000);
        });
    };
    for (let c = next++; c < chunks.length; c = next++) {
      const chunk = chunks[c] as number[];
      await waitFor(() => unconfirmed + chunk.length <= WS_WATCH_WINDOW);
      if (state.stalled()) break;
      const ackId = `w${c}`;
      const acked = new Promise<void>((r) => acks.set(ackId, r));
      ws.send(
        JSON.stringify({
          type: 'watch',
          id: ackId,
          ids: chunk.map((i) => (state.txs[i] as BenchTx).tx.idHex),
        }),
      );
      await acked;
      acks.delete(ackId);
      unconfirmed += chunk.length;
      const sent = performance.now();
      for (const i of chunk) {
        state.markSent(i, sent);
        ws.send(
          JSON.stringify({ type: 'submit', id: i, base64tx: (state.txs[i] as BenchTx).base64 }),
        );
      }
    }
    await waitFor(() => unconfirmed <= 0);
  };
  try {
    await Promise.all(sockets.map(lane));
  } finally {
    for (const ws of sockets) ws.close();
  }
  return startMs;
}

function latencySummary(
  sentAt: Float64Array,
  finalAt: Float64Array,
  status: readonly (string | undefined)[],
): LatencySummary | null {
  const values: number[] = [];
  for (let i = 0; i < sentAt.length; i++) {
    if (status[i] === 'accepted') values.push((finalAt[i] as number) - (sentAt[i] as number));
  }
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  const at = (q: number): number =>
    values[Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1))] as number;
  return {
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: values[values.length - 1] as number,
    mean: values.reduce((a, b) => a + b, 0) / values.length,
  };
}

// ---------------------------------------------------------------------------------------------
// Warm-up: which period did it land in?

interface PeriodInfo {
  readonly periodBlock: number;
  readonly credited: number;
}

/**
 * The period of the last warm-up block, its first block and the energy of each trader booked in
 * it. A period is the 15-minute UTC window of the block time; the first block in that window
 * holding energy of this (fresh) context is the period's first block.
 */
function creditWarmup(
  rounds: readonly { txs: readonly BenchTx[]; views: Map<string, TxView> }[],
  blockMs: Map<number, number>,
  model: SpendableModel,
): PeriodInfo {
  const windowOf = (height: number): number => {
    const ms = blockMs.get(height);
    if (ms === undefined) throw new Error(`no time for block ${height}`);
    return Math.floor(ms / SETTLEMENT_PERIOD_MS);
  };
  let lastHeight = -1;
  for (const r of rounds)
    for (const v of r.views.values()) lastHeight = Math.max(lastHeight, v.blockId ?? -1);
  const lastWindow = windowOf(lastHeight);
  let periodBlock = Number.POSITIVE_INFINITY;
  const credited = new Set<number>();
  for (const r of rounds) {
    for (const t of r.txs) {
      const height = r.views.get(t.tx.idHex)?.blockId;
      if (
        height === undefined ||
        height === null ||
        t.credit === undefined ||
        windowOf(height) !== lastWindow
      )
        continue;
      periodBlock = Math.min(periodBlock, height);
      model.credit(t.credit.trader, t.credit.wh);
      credited.add(t.credit.trader);
    }
  }
  return { periodBlock, credited: credited.size };
}

// ---------------------------------------------------------------------------------------------
// The run.

export async function runOnce(o: RunOptions): Promise<RunResult> {
  const tag = `[${o.backend} N=${o.n} ${o.submit}]`;
  const log = (line: string): void => o.log(`${tag} ${line}`);
  const failures: string[] = [];
  const dataDir = await mkdtemp(join(tmpdir(), 'hz-bench-'));
  const cleanups: (() => Promise<void>)[] = [];
  if (!o.keep) cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  let db: FreshDatabase | null = null;
  let pgClient: pg.Client | null = null;
  let processor: Spawned | null = null;
  try {
    if (o.backend === 'postgres') {
      if (o.baseDatabaseUrl === undefined)
        throw new Error('the postgres backend needs DATABASE_URL');
      db = await createDatabase(o.baseDatabaseUrl, 'hz_bench');
      const fresh = db;
      if (!o.keep) cleanups.push(() => fresh.drop());
      pgClient = new pg.Client({ connectionString: db.url });
      await pgClient.connect();
    }
    const chainId = `hanzenet-bench-${o.seed}`;
    const args = [
      'processor',
      'start',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--block-interval-ms',
      String(o.blockIntervalMs),
      '--chain-id',
      chainId,
    ];
    if (o.blockTxsMax !== null) args.push('--block-txs-max', String(o.blockTxsMax));
    if (db !== null) args.push('--database-url', db.url);
    log(
      `starting the processor (${o.processorNodeArgs.length > 0 ? `node ${o.processorNodeArgs.join(' ')} ` : ''}data in ${dataDir}${db !== null ? `, database ${db.name}` : ''})`,
    );
    processor = await spawnService(args, o.processorNodeArgs, 'the processor', 120_000);
    const url = String(processor.line['api']);
    const info = await getJson<{ chainId: string }>(`${url}/api/info`);
    const contracts = await getJson<ContractView[]>(`${url}/api/contracts`);
    const hashes: ContractHashes = Object.fromEntries(contracts.map((c) => [c.type, c.hash]));
    const ctx: SignContext = { chainId: info.chainId, hashes };

    // ---- Setup (not timed) ----
    const setupStart = performance.now();
    const genStart = performance.now();
    const people = participants(o.seed, o.traders);
    const traders = traderTxs(ctx, people);
    const devices = deviceTxs(ctx, people);
    let generationMs = performance.now() - genStart;
    log(
      `setup: ${traders.length} traders, ${devices.length - 1} meters and the 15-minute settlement period`,
    );
    await submitAccepted(url, traders, 'setup (traders)');
    await submitAccepted(url, devices, 'setup (meters and period)');
    const model = new SpendableModel(o.traders);
    const rounds: { txs: BenchTx[]; views: Map<string, TxView> }[] = [];
    let period: PeriodInfo | null = null;
    for (
      let round = 0;
      round < 3 && (period === null || period.credited < o.traders / 2);
      round++
    ) {
      const g = performance.now();
      const txs = warmupTxs(ctx, people, round);
      generationMs += performance.now() - g;
      log(`warm-up round ${round + 1}: one production reading per producer (${txs.length})`);
      rounds.push({ txs, views: await submitAccepted(url, txs, 'warm-up') });
      const heights = rounds.flatMap((r) => [...r.views.values()].map((v) => v.blockId ?? 0));
      const from = Math.min(...heights);
      const to = Math.max(...heights);
      const blockMs = new Map(
        (await fetchBlocks(url, from, to)).map((b) => [b.height, b.processedMs]),
      );
      const fresh = new SpendableModel(o.traders);
      period = creditWarmup(rounds, blockMs, fresh);
      if (period.credited >= o.traders / 2)
        for (let t = 0; t < o.traders; t++) model.credit(t, fresh.available(t));
    }
    if (period === null || period.credited < o.traders / 2)
      throw new Error(
        'the warm-up energy did not land in one settlement period three times in a row',
      );
    const setupSeconds = (performance.now() - setupStart) / 1000;
    log(
      `period ${period.periodBlock}: ${period.credited} traders hold ${(model.total() / 1000).toFixed(3)} kWh to trade; setup took ${setupSeconds.toFixed(1)} s`,
    );

    let market: MarketSetup | null = null;
    if (o.marketTraders !== null)
      market = await setupMarket(
        ctx,
        o.seed,
        o.marketTraders,
        (txs, what) => submitAccepted(url, txs, what),
        log,
      );

    // ---- Generate and sign the timed load (not timed) ----
    const g = performance.now();
    const marketCount = market === null ? 0 : Math.round(o.n * MARKET_SHARE);
    const thesisTxs = timedTxs(ctx, people, {
      n: o.n - marketCount,
      periodBlock: period.periodBlock,
      model,
      onProgress: (done) => log(`signed ${done}/${o.n}`),
    });
    const marketTxs = market === null ? [] : marketTimedTxs(ctx, market, marketCount);
    const timed = interleave(thesisTxs, marketTxs);
    generationMs += performance.now() - g;
    const mix = mixOf(timed);
    log(
      `signed ${o.n} transactions in ${((performance.now() - g) / 1000).toFixed(1)} s: ${JSON.stringify(mix)}`,
    );

    // ---- Timed phase ----
    const head0 =
      (await getJson<{ head: { height: number } | null }>(`${url}/api/info`)).head?.height ?? 0;
    const rowsBefore = pgClient === null ? null : await countRows(pgClient);
    const xactsBefore = pgClient === null ? null : await committedXacts(pgClient);
    const state = new TimedState(timed);
    const pid = processor.pid;
    const cpu0 = cpuSeconds(pid);
    const client0 = process.cpuUsage();
    const pgPids = async (): Promise<number[]> => {
      if (pgClient === null || db === null) return [];
      const { rows } = await pgClient.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [db.name],
      );
      return rows.map((r) => r.pid);
    };
    const pgCpu = pgClient === null ? null : new CpuOfProcesses(await pgPids());
    let maxRss = statusBytes(pid, 'VmRSS') ?? 0;
    let sampling = false;
    const sampler = setInterval(() => {
      maxRss = Math.max(maxRss, statusBytes(pid, 'VmRSS') ?? 0);
      if (pgCpu !== null && !sampling) {
        sampling = true;
        pgPids()
          .then(
            (pids) => pgCpu.observe(pids),
            () => undefined,
          )
          .finally(() => {
            sampling = false;
          });
      }
    }, 250);
    let lastProgress = { at: performance.now(), final: 0 };
    const progress = setInterval(() => {
      const now = performance.now();
      const p = state.progress;
      const rate = ((p.final - lastProgress.final) * 1000) / (now - lastProgress.at);
      lastProgress = { at: now, final: p.final };
      log(`sent ${p.sent}/${o.n}, final ${p.final} (${rate.toFixed(0)} tx/s now)`);
    }, 2000);
    const wallStart = performance.now();
    let startMs: number;
    try {
      startMs =
        o.submit === 'http'
          ? await timedHttp(url, state, o.connections, o.batchSize, o.rate)
          : await timedWs(url, state, o.connections, o.batchSize);
    } finally {
      clearInterval(progress);
      clearInterval(sampler);
    }
    const outcome = state.outcome(startMs);
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const cpu1 = cpuSeconds(pid);
    // Read now: the checks below page through the whole chain, and the mirror node fetches it,
    // which would add the processor's work for them to the figure.
    const peakRss = statusBytes(pid, 'VmHWM');
    const clientUsage = process.cpuUsage(client0);
    if (pgCpu !== null) pgCpu.observe(await pgPids());
    const seconds = (outcome.endMs - outcome.startMs) / 1000;

    // ---- Checks ----
    const statuses = {
      accepted: 0,
      rejected: 0,
      invalid: 0,
      missing: 0,
      admissionErrors: 0,
      retried: outcome.retried,
    };
    for (const s of outcome.status) {
      if (s === 'accepted') statuses.accepted++;
      else if (s === 'rejected') statuses.rejected++;
      else if (s === 'invalid') statuses.invalid++;
      else if (s?.startsWith('error:')) statuses.admissionErrors++;
      else statuses.missing++;
    }
    failures.push(...outcome.failureSamples);
    if (statuses.missing > 0) {
      const lost = timed
        .filter((_, i) => outcome.status[i] === undefined || outcome.status[i] === 'timeout')
        .slice(0, 5);
      for (const t of lost) {
        const res = await fetch(`${url}/api/transactions/${t.tx.idHex}`);
        failures.push(
          `no final report for ${t.contractType} ${t.tx.idHex}; the server says HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`,
        );
      }
    }
    const headInfo = await getJson<{ head: { height: number; hash: string } }>(`${url}/api/info`);
    const allBlocks = await fetchBlocks(url, 0, headInfo.head.height);
    const timedIds = new Set(timed.map((t) => t.tx.idHex));
    let acceptedOnce = 0;
    let duplicates = 0;
    const seen = new Set<string>();
    const timedBlocks: BlockView[] = [];
    let chainTxs = 0;
    for (const b of allBlocks) {
      chainTxs += b.txCount;
      let mine = 0;
      for (const t of b.transactions) {
        if (!timedIds.has(t.id)) continue;
        mine++;
        if (seen.has(t.id)) duplicates++;
        else if (t.status === 'accepted') acceptedOnce++;
        seen.add(t.id);
      }
      if (mine > 0 || b.height > head0) timedBlocks.push(b);
    }
    if (statuses.accepted !== o.n)
      failures.push(
        `${o.n - statuses.accepted} of ${o.n} timed transactions were not reported accepted (${JSON.stringify(statuses)})`,
      );
    if (acceptedOnce !== o.n || duplicates > 0)
      failures.push(
        `the blocks hold ${acceptedOnce} of the ${o.n} timed transactions as accepted, ${duplicates} twice`,
      );
    const blockSizes = timedBlocks.map((b) => b.txCount);

    const rowsAfter = pgClient === null ? null : await countRows(pgClient);
    const rowsPerTx =
      rowsBefore === null || rowsAfter === null ? null : (rowsAfter - rowsBefore) / o.n;
    let dbTransactionsPerTx: number | null = null;
    if (pgClient !== null && xactsBefore !== null) {
      // Idle backends report their statistics within PGSTAT_IDLE_INTERVAL (10 s) of going idle.
      const idleFor = performance.now() - outcome.endMs;
      if (idleFor < 11_000) await sleep(11_000 - idleFor);
      // Our own counting queries since the first reading are a handful; they are not subtracted.
      dbTransactionsPerTx = ((await committedXacts(pgClient)) - xactsBefore) / o.n;
    }
    let databaseBytes: number | null = null;
    if (pgClient !== null) {
      const { rows } = await pgClient.query<{ size: string }>(
        'SELECT pg_database_size(current_database())::text AS size',
      );
      databaseBytes = Number(rows[0]?.size ?? Number.NaN);
    }

    // ---- The market's settlements (after the timed phase: a period ends a minute after it starts) ----
    let marketResult: MarketResult | null = null;
    if (market !== null) {
      const ids = new Set(marketTxs.map((t) => t.tx.idHex));
      const readingBlocks = timedBlocks.filter((b) => b.transactions.some((t) => ids.has(t.id)));
      const running = processor;
      const periods = await awaitSettlements(
        market,
        readingBlocks,
        head0 + 1,
        {
          blocks: (from, to) => fetchBlocks(url, from, to),
          tx: (id) => getJson<TxView>(`${url}/api/transactions/${id}`),
          head: async () =>
            (await getJson<{ head: { height: number } }>(`${url}/api/info`)).head.height,
          blockLogs: () => running.blockLogs,
        },
        log,
      );
      for (const p of periods)
        if (p.height === null)
          failures.push(
            `the market period starting at ${new Date(p.periodStartMs).toISOString()} was not settled`,
          );
      marketResult = {
        traders: o.marketTraders ?? 0,
        orders: o.marketTraders ?? 0,
        readings: marketTxs.length,
        periodSeconds: market.periodMs / 1000,
        periods,
      };
    }

    // ---- Mirror node ----
    let node: NodeResult;
    if (!o.node)
      node = {
        status: 'skipped',
        seconds: null,
        txPerSecond: null,
        startSeconds: null,
        verifyTxPerSecond: null,
        chainTxs,
        cpuSeconds: null,
        peakRssBytes: null,
        note: 'not asked (--no-node)',
      };
    else node = await mirrorNodeCatchUp(url, headInfo.head, chainTxs, o, log, cleanups);

    await stopService(processor);
    if (db === null) databaseBytes = diskBytes(join(dataDir, 'pgdata'));

    const cpuUsed = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
    const result: RunResult = {
      backend: o.backend,
      n: o.n,
      submit: o.submit,
      blockIntervalMs: o.blockIntervalMs,
      connections: o.connections,
      batchSize: o.batchSize,
      rate: o.rate,
      traders: o.traders,
      seed: o.seed,
      ok: failures.length === 0,
      failures,
      seconds,
      txPerSecond: statuses.accepted === o.n && seconds > 0 ? o.n / seconds : null,
      latencyMs: latencySummary(outcome.sentAt, outcome.finalAt, outcome.status),
      processor: {
        pid,
        cpuSeconds: cpuUsed,
        cpuPercentOfOneCore: cpuUsed === null ? null : (100 * cpuUsed) / wallSeconds,
        peakRssBytes: peakRss,
        maxRssDuringRunBytes: maxRss,
      },
      postgresBackends:
        pgCpu === null
          ? null
          : {
              cpuSeconds: pgCpu.seconds(),
              cpuPercentOfOneCore: (100 * pgCpu.seconds()) / wallSeconds,
            },
      client: {
        cpuPercentOfOneCore: (100 * (clientUsage.user + clientUsage.system)) / 1e6 / wallSeconds,
      },
      databaseBytes,
      statuses,
      inBlocks: { acceptedOnce, duplicates },
      mix,
      blocks: {
        count: blockSizes.length,
        maxTxs: blockSizes.length === 0 ? 0 : Math.max(...blockSizes),
        meanTxs:
          blockSizes.length === 0 ? 0 : blockSizes.reduce((a, b) => a + b, 0) / blockSizes.length,
        firstHeight: timedBlocks[0]?.height ?? null,
        lastHeight: timedBlocks[timedBlocks.length - 1]?.height ?? null,
      },
      blockWork: blockWorkOf(
        processor.blockLogs,
        timedBlocks[0]?.height ?? null,
        timedBlocks[timedBlocks.length - 1]?.height ?? null,
      ),
      rowsPerTx,
      dbTransactionsPerTx,
      setup: {
        txs:
          traders.length +
          devices.length +
          rounds.reduce((a, r) => a + r.txs.length, 0) +
          (market?.setupTxs ?? 0),
        warmupRounds: rounds.length,
        periodBlock: period.periodBlock,
        creditedTraders: period.credited,
        seconds: setupSeconds,
      },
      generationSeconds: generationMs / 1000,
      node,
      market: marketResult,
    };
    log(
      result.ok
        ? `done: ${o.n} accepted in ${seconds.toFixed(2)} s = ${(o.n / seconds).toFixed(0)} tx/s`
        : `FAILED: ${failures[0] ?? ''}`,
    );
    return result;
  } finally {
    if (processor !== null) await stopService(processor).catch(() => undefined);
    if (pgClient !== null) await pgClient.end().catch(() => undefined);
    for (const c of cleanups.reverse())
      await c().catch((err: unknown) => o.log(`cleanup failed: ${String(err)}`));
  }
}

async function committedXacts(c: pg.Client): Promise<number> {
  const { rows } = await c.query<{ n: string }>(
    'SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0]?.n ?? Number.NaN);
}

/** Rows in the chain and state tables (what a run adds to them, per transaction, is rowsPerTx). */
async function countRows(c: pg.Client): Promise<number> {
  const { rows: tables } = await c.query<{ t: string }>(
    `SELECT format('%I.%I', table_schema, table_name) AS t FROM information_schema.tables
     WHERE table_schema IN ('chain', 'state') AND table_type = 'BASE TABLE' ORDER BY 1`,
  );
  if (tables.length === 0) return 0;
  const { rows } = await c.query<{ n: string }>(
    `SELECT (${tables.map((t) => `(SELECT count(*) FROM ${t.t})`).join(' + ')})::text AS n`,
  );
  return Number(rows[0]?.n ?? 0);
}

async function mirrorNodeCatchUp(
  processorUrl: string,
  head: { height: number; hash: string },
  chainTxs: number,
  o: RunOptions,
  log: (line: string) => void,
  cleanups: (() => Promise<void>)[],
): Promise<NodeResult> {
  const base = {
    chainTxs,
    cpuSeconds: null,
    peakRssBytes: null,
    startSeconds: null,
    verifyTxPerSecond: null,
  };
  if (!existsSync(NODE_MODULE)) {
    return {
      ...base,
      status: 'skipped',
      seconds: null,
      txPerSecond: null,
      note: `this build has no mirror node (${NODE_MODULE} is missing): hanzenet node start is not available yet`,
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'hz-bench-node-'));
  if (!o.keep) cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const args = ['node', 'start', '--follow', processorUrl, '--data-dir', dir, '--port', '0'];
  if (o.backend === 'postgres' && o.baseDatabaseUrl !== undefined) {
    const nodeDb = await createDatabase(o.baseDatabaseUrl, 'hz_bench_node');
    if (!o.keep) cleanups.push(() => nodeDb.drop());
    args.push('--database-url', nodeDb.url);
  }
  log(`mirror node: verifying ${head.height + 1} blocks (${chainTxs} transactions)`);
  const start = performance.now();
  let node: Spawned;
  try {
    node = await spawnService(args, o.mirrorNodeArgs, 'the mirror node', 120_000);
  } catch (err) {
    return {
      ...base,
      status: 'failed',
      seconds: null,
      txPerSecond: null,
      note: String(err instanceof Error ? err.message : err).slice(0, 500),
    };
  }
  const startSeconds = (performance.now() - start) / 1000;
  try {
    const nodeUrl = String(node.line['api'] ?? node.line['url'] ?? '');
    const deadline = start + Math.max(300_000, 20 * 60_000);
    let lastLog = start;
    for (;;) {
      let height = -1;
      try {
        const info = await getJson<{ head: { height: number; hash: string } | null }>(
          `${nodeUrl}/api/info`,
        );
        height = info.head?.height ?? -1;
        if (info.head !== null && info.head.height >= head.height) {
          const seconds = (performance.now() - start) / 1000;
          const cpu = cpuSeconds(node.pid);
          const rss = statusBytes(node.pid, 'VmHWM');
          const blocks = await getJson<BlockView[]>(
            `${nodeUrl}/api/blocks?from=${head.height}&limit=1`,
          );
          const same = blocks[0]?.hash === head.hash;
          return {
            chainTxs,
            status: same ? 'ok' : 'failed',
            seconds,
            txPerSecond: chainTxs / seconds,
            startSeconds,
            verifyTxPerSecond: seconds > startSeconds ? chainTxs / (seconds - startSeconds) : null,
            cpuSeconds: cpu,
            peakRssBytes: rss,
            note: same
              ? `reached block ${head.height} with the processor's hash`
              : `block ${head.height} differs: node ${blocks[0]?.hash ?? 'none'}, processor ${head.hash}`,
          };
        }
      } catch {
        // Not answering yet: keep polling until the deadline.
      }
      if (node.proc.exitCode !== null)
        return {
          ...base,
          status: 'failed',
          seconds: null,
          txPerSecond: null,
          note: `the node exited (${node.proc.exitCode}): ${node.stderrTail().slice(-500)}`,
        };
      if (performance.now() > deadline)
        return {
          ...base,
          status: 'timeout',
          seconds: null,
          txPerSecond: null,
          note: `not at block ${head.height} after ${((performance.now() - start) / 1000).toFixed(0)} s (at ${height})`,
        };
      if (performance.now() - lastLog > 5000) {
        lastLog = performance.now();
        log(`mirror node at block ${height} of ${head.height}`);
      }
      await sleep(200);
    }
  } finally {
    await stopService(node);
  }
}
