// Our JSON routes (docs/api.md). Handlers throw ChainError for bad input; the server's error
// handler turns every error into `{error: {code, message, details}}` with the catalogue status.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { ChainError, httpStatusOf, isErrorCode } from '../core/errors.js';
import {
  decodeBase64Field,
  describeValue,
  optionalBoolean,
  optionalIntegerField,
  parseDecimal,
  parseJsonObjectBody,
  parseTxIdHex,
  queryBoolean,
  queryInteger,
  toBase64,
  txIdHexOfBytes,
} from './input.js';
import type { JsonObject } from './input.js';
import type { TxFinalHub, Waiter } from './tx-final-hub.js';
import type { ApiError, LedgerService, SubmitResult } from './types.js';
import type { TxView } from '../chain/views.js';

/** Upper bound of a client-chosen `timeoutMs`. */
export const WAIT_TIMEOUT_MAX_MS = 300_000;
/** Most blocks one `GET /api/blocks` or `/api/blocks/raw` returns. */
export const BLOCKS_LIMIT_MAX = 1000;
export const BLOCKS_LIMIT_DEFAULT = 100;
export const WS_FEED_PATH = '/api/ws';
/** Prometheus metrics (the processor and mirror nodes: docs/operations.md lists them). */
export const METRICS_PATH = '/metrics';

export interface RouteDeps {
  readonly service: LedgerService;
  readonly hub: TxFinalHub;
  readonly batchMax: number;
  /** Default wait of `wait=true`; a client may ask for up to max(this, WAIT_TIMEOUT_MAX_MS). */
  readonly waitTimeoutMs: number;
}

/** The catalogue status of an error code; codes outside the catalogue are refusals (400). */
export function statusOf(error: ApiError): number {
  return isErrorCode(error.code) ? httpStatusOf(error.code) : 400;
}

function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(statusOf(error)).send({ error });
}

export function registerRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { service } = deps;
  app.get('/api/info', async () => service.info());
  app.get('/api/contracts', async () => service.listContracts());
  registerTransactionRoutes(app, deps);
  registerBlockRoutes(app, service);
  app.get(WS_FEED_PATH, async () => {
    throw new ChainError(
      'bad_request',
      `${WS_FEED_PATH} is a WebSocket endpoint: connect with a WebSocket upgrade`,
      { path: WS_FEED_PATH },
    );
  });
  const metrics = service.metrics?.bind(service);
  if (metrics !== undefined) {
    app.get(METRICS_PATH, async (_req, reply) =>
      reply.type('text/plain; version=0.0.4; charset=utf-8').send(await metrics()),
    );
  }
}

function registerTransactionRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const waiting = new FinalWaiting(deps.service, deps.hub);
  const waitMaxMs = Math.max(deps.waitTimeoutMs, WAIT_TIMEOUT_MAX_MS);
  const timeoutOf = (body: JsonObject): number =>
    optionalIntegerField(body, 'timeoutMs', 0, waitMaxMs) ?? deps.waitTimeoutMs;

  app.post('/api/transactions', async (req, reply) => {
    const body = parseJsonObjectBody(req.body);
    const bytes = decodeBase64Field(body['base64tx'], 'base64tx');
    const wait = optionalBoolean(body, 'wait') ?? false;
    const timeoutMs = timeoutOf(body);
    const waiters = wait ? waiting.register([bytes], timeoutMs) : new Map<string, Waiter>();
    const [result] = await waiting.submit([bytes], waiters);
    if (!result.ok) return sendError(reply, result.error);
    if (!wait) return reply.code(202).send({ id: result.id, status: 'new' });
    const final = await waiting.awaitFinal(result.id, waiters, timeoutMs);
    return reply.code(final.final ? 200 : 202).send(final.view);
  });

  app.post('/api/transactions/batch', async (req) => {
    const body = parseJsonObjectBody(req.body);
    const items = body['transactions'];
    if (!Array.isArray(items)) {
      throw new ChainError(
        'bad_request',
        `field "transactions" must be an array of base64 strings, got ${describeValue(items)}`,
        { field: 'transactions' },
      );
    }
    if (items.length > deps.batchMax) {
      throw new ChainError(
        'batch_too_large',
        `the batch holds ${items.length} transactions; at most ${deps.batchMax} are accepted at once`,
        { count: items.length, max: deps.batchMax },
      );
    }
    const wait = optionalBoolean(body, 'wait') ?? false;
    const timeoutMs = timeoutOf(body);
    const decoded = items.map((item: unknown, i) => decodeBatchItem(item, i));
    const valid = decoded.flatMap((d, index) => (d.ok ? [{ index, bytes: d.bytes }] : []));
    const waiters = wait
      ? waiting.register(
          valid.map((v) => v.bytes),
          timeoutMs,
        )
      : new Map<string, Waiter>();
    const submitted =
      valid.length === 0
        ? []
        : await waiting.submit(
            valid.map((v) => v.bytes),
            waiters,
          );
    const byIndex = new Map<number, SubmitResult | undefined>(
      valid.map((v, i) => [v.index, submitted[i]]),
    );
    const results = await Promise.all(
      decoded.map(async (d, index) => {
        if (!d.ok) return { id: null, error: d.error };
        const r = byIndex.get(index);
        if (r === undefined)
          throw new ChainError('internal', `the ledger returned no result for batch item ${index}`);
        if (!r.ok) return { id: r.id, error: r.error };
        if (!wait) return { id: r.id, status: 'new' };
        return (await waiting.awaitFinal(r.id, waiters, timeoutMs)).view;
      }),
    );
    return { results };
  });

  app.get('/api/transactions/:id', async (req) => {
    const id = parseTxIdHex(
      (req.params as Record<string, string | undefined>)['id'],
      'the transaction id in the URL',
    );
    const wait = queryBoolean(req.query, 'wait');
    const timeoutMs = queryInteger(req.query, 'timeoutMs', 0, waitMaxMs, deps.waitTimeoutMs);
    const waiters = new Map<string, Waiter>();
    if (wait) waiters.set(id, deps.hub.wait(id, timeoutMs));
    const view = await waiting.lookup(id, waiters);
    if (view === null) {
      throw new ChainError(
        'not_found',
        `no transaction with id ${id} was submitted to this server`,
        { id },
      );
    }
    if (!wait || view.status !== 'new') return view;
    return (await waiting.awaitFinal(id, waiters, timeoutMs)).view;
  });
}

function registerBlockRoutes(app: FastifyInstance, service: LedgerService): void {
  const range = (query: unknown): { from: number; limit: number } => ({
    from: queryInteger(query, 'from', 0, Number.MAX_SAFE_INTEGER, 0),
    limit: queryInteger(query, 'limit', 1, BLOCKS_LIMIT_MAX, BLOCKS_LIMIT_DEFAULT),
  });

  app.get('/api/blocks', async (req) => {
    const { from, limit } = range(req.query);
    return service.getBlocks(from, limit);
  });

  app.get('/api/blocks/raw', async (req) => {
    const { from, limit } = range(req.query);
    const raws = await service.getRawBlocks(from, limit);
    return { blocks: raws.map(toBase64) };
  });

  app.get('/api/blocks/:height', async (req) => {
    const text = (req.params as Record<string, string | undefined>)['height'] ?? '';
    const height = parseDecimal(text, 'the block height in the URL', 0, Number.MAX_SAFE_INTEGER);
    const [block] = await service.getBlocks(height, 1);
    if (block === undefined || block.height !== height) {
      throw new ChainError('not_found', `no block at height ${height}`, { height });
    }
    return block;
  });
}

type BatchItem = { ok: true; bytes: Uint8Array } | { ok: false; error: ApiError };

function decodeBatchItem(item: unknown, index: number): BatchItem {
  try {
    return { ok: true, bytes: decodeBase64Field(item, `transactions[${index}]`) };
  } catch (err) {
    if (err instanceof ChainError)
      return {
        ok: false,
        error: { code: err.code, message: err.message, details: { ...err.details, index } },
      };
    throw err;
  }
}

/**
 * Waiting for final views without a race: waiters are registered (by the id read from the bytes)
 * before the submit or lookup, and cancelled as soon as they are not needed.
 */
class FinalWaiting {
  constructor(
    private readonly service: LedgerService,
    private readonly hub: TxFinalHub,
  ) {}

  register(txs: readonly Uint8Array[], timeoutMs: number): Map<string, Waiter> {
    const waiters = new Map<string, Waiter>();
    for (const bytes of txs) {
      const id = txIdHexOfBytes(bytes);
      if (id !== null && !waiters.has(id)) waiters.set(id, this.hub.wait(id, timeoutMs));
    }
    return waiters;
  }

  /** Submits; cancels the waiters of refused transactions (they would linger until their timeout). */
  async submit(
    txs: readonly Uint8Array[],
    waiters: Map<string, Waiter>,
  ): Promise<[SubmitResult, ...SubmitResult[]]> {
    let results: SubmitResult[];
    try {
      results = await this.service.submit(txs);
    } catch (err) {
      for (const w of waiters.values()) w.cancel();
      throw err;
    }
    const [first, ...rest] = results;
    if (results.length !== txs.length || first === undefined) {
      for (const w of waiters.values()) w.cancel();
      throw new ChainError(
        'internal',
        `the ledger returned ${results.length} results for ${txs.length} transactions`,
      );
    }
    const admitted = new Set(results.flatMap((r) => (r.ok ? [r.id] : [])));
    for (const [id, w] of waiters) {
      if (!admitted.has(id)) {
        w.cancel();
        waiters.delete(id);
      }
    }
    return [first, ...rest];
  }

  /** Looks up a view; cancels the id's waiter when there is nothing left to wait for. */
  async lookup(id: string, waiters: Map<string, Waiter>): Promise<TxView | null> {
    let view: TxView | null;
    try {
      view = await this.service.getTransaction(id);
    } catch (err) {
      waiters.get(id)?.cancel();
      throw err;
    }
    if (view === null || view.status !== 'new') waiters.get(id)?.cancel();
    return view;
  }

  /** The final view of an admitted id within `timeoutMs`, else its current view. */
  async awaitFinal(
    id: string,
    waiters: Map<string, Waiter>,
    timeoutMs: number,
  ): Promise<{ final: boolean; view: TxView | { id: string; status: 'new' } }> {
    let waiter = waiters.get(id);
    if (waiter === undefined) {
      // The id was not where the bytes said (or they were too short): register now, then look up.
      waiter = this.hub.wait(id, timeoutMs);
      waiters.set(id, waiter);
      const view = await this.lookup(id, waiters);
      if (view !== null && view.status !== 'new') return { final: true, view };
    }
    const outcome = await waiter.promise;
    if (outcome.kind === 'final') return { final: true, view: outcome.view };
    if (outcome.kind === 'closed')
      throw new ChainError(
        'shutting_down',
        `the server is shutting down while waiting for transaction ${id}`,
        { id },
      );
    const current = await this.service.getTransaction(id);
    if (current !== null && current.status !== 'new') return { final: true, view: current };
    return { final: false, view: current ?? { id, status: 'new' } };
  }
}
