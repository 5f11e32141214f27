// Our own WebSocket feed at /api/ws: block pushes, final-transaction pushes for watched ids, and
// submission. Every message is a JSON object with a `type`; a request may carry an `id` (any JSON
// value) that the answer echoes. See docs/api.md for the message catalogue.

import { ChainError, isErrorCode } from '../core/errors.js';
import type { Block } from '../chain/types.js';
import { decodeBase64Field, describeValue, isJsonObject, parseTxIdHex, toBase64 } from './input.js';
import type { JsonObject } from './input.js';
import type { ReportError, TxFinalHub } from './tx-final-hub.js';
import type { ApiError, LedgerService } from './types.js';
import type { BlockView, TxView } from '../chain/views.js';
import type { ApiSocket } from './ws-conn.js';

export interface FeedLimits {
  /** Ids one `watch` message may name. */
  readonly watchIdsPerMessageMax: number;
  /** Ids one connection may watch at once (until each is final). */
  readonly watchesPerConnectionMax: number;
}

export interface FeedContext {
  readonly service: LedgerService;
  readonly hub: TxFinalHub;
  readonly blocks: BlockFanout;
  readonly limits: FeedLimits;
  readonly reportError: ReportError;
}

/** One onBlock subscription, serialised once per block and sent to every subscribed connection. */
export class BlockFanout {
  private readonly subscribers = new Set<ApiSocket>();
  private readonly unsubscribe: () => void;
  private readonly unsubscribeAlarm: () => void;

  constructor(
    service: LedgerService,
    private readonly reportError: ReportError,
  ) {
    this.unsubscribe = service.onBlock((block, view) => this.publish(block, view));
    this.unsubscribeAlarm =
      service.onAlarm?.((alarm) => this.send({ type: 'alarm', alarm }, 'an alarm')) ?? (() => {});
  }

  add(socket: ApiSocket): void {
    this.subscribers.add(socket);
  }

  remove(socket: ApiSocket): void {
    this.subscribers.delete(socket);
  }

  close(): void {
    this.unsubscribe();
    this.unsubscribeAlarm();
    this.subscribers.clear();
  }

  // Called synchronously from the service's commit path (blocks) and alarm path: never let an
  // exception escape into them.
  private send(message: object, what: string): void {
    try {
      const text = JSON.stringify(message);
      for (const socket of this.subscribers) socket.send(text);
    } catch (err) {
      this.reportError(err, `publishing ${what} to WebSocket subscribers`);
    }
  }

  private publish(block: Block, view: BlockView): void {
    this.send({ type: 'block', block: view, raw: toBase64(block.bytes) }, `block ${view.height}`);
  }
}

export function errorMessage(id: unknown, error: ApiError): JsonObject {
  return {
    type: 'error',
    id,
    error: { code: error.code, message: error.message, details: error.details },
  };
}

/** Turns a thrown value into the `{code, message, details}` a client may see. */
export function apiErrorOf(err: unknown, reportError: ReportError, context: string): ApiError {
  if (err instanceof ChainError && isErrorCode(err.code)) {
    if (err.code === 'internal') reportError(err, context);
    return err.toJSON();
  }
  reportError(err, context);
  return {
    code: 'internal',
    message: 'an unexpected internal error occurred; it has been logged',
    details: {},
  };
}

export function handleFeedConnection(socket: ApiSocket, ctx: FeedContext): void {
  const watches = new Map<string, () => void>();
  socket.onEnd(() => {
    ctx.blocks.remove(socket);
    for (const stop of watches.values()) stop();
    watches.clear();
  });

  socket.ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : rawText(data);
    void handleMessage(text).catch((err: unknown) => {
      socket.sendJson(
        errorMessage(null, apiErrorOf(err, ctx.reportError, 'handling a /api/ws message')),
      );
    });
  });

  async function handleMessage(text: string | null): Promise<void> {
    const parsed = parseFeedMessage(text);
    if (!parsed.ok) {
      socket.sendJson(errorMessage(parsed.id, parsed.error));
      return;
    }
    const { msg, id } = parsed;
    try {
      if (msg['type'] === 'subscribe') subscribe(msg, id);
      else if (msg['type'] === 'watch') await watch(msg, id);
      else if (msg['type'] === 'submit') await submit(msg, id);
      else {
        throw new ChainError(
          'bad_request',
          `unknown message type ${describeValue(msg['type'])}; expected "subscribe", "watch" or "submit"`,
          { type: msg['type'] },
        );
      }
    } catch (err) {
      socket.sendJson(
        errorMessage(
          id,
          apiErrorOf(err, ctx.reportError, `handling a /api/ws ${String(msg['type'])} message`),
        ),
      );
    }
  }

  function subscribe(msg: JsonObject, id: unknown): void {
    const blocks = msg['blocks'];
    if (typeof blocks !== 'boolean') {
      throw new ChainError(
        'bad_request',
        `field "blocks" must be true or false, got ${describeValue(blocks)}`,
        { field: 'blocks' },
      );
    }
    if (blocks) ctx.blocks.add(socket);
    else ctx.blocks.remove(socket);
    socket.sendJson({ type: 'subscribed', id, blocks });
  }

  async function watch(msg: JsonObject, id: unknown): Promise<void> {
    const ids = parseWatchIds(msg['ids'], ctx.limits.watchIdsPerMessageMax);
    const fresh = ids.filter((txId, i) => !watches.has(txId) && ids.indexOf(txId) === i);
    if (watches.size + fresh.length > ctx.limits.watchesPerConnectionMax) {
      throw new ChainError(
        'limit_exceeded',
        `this connection already watches ${watches.size} ids; ${fresh.length} more would pass the limit of ${ctx.limits.watchesPerConnectionMax}`,
        { watching: watches.size, max: ctx.limits.watchesPerConnectionMax },
      );
    }
    // Register before looking up, so a transaction that becomes final in between is still pushed.
    for (const txId of fresh) {
      const stop = ctx.hub.watch(
        txId,
        (view) => {
          watches.delete(txId);
          pushTx(view);
        },
        () => watches.delete(txId),
      );
      watches.set(txId, stop);
    }
    socket.sendJson({ type: 'watching', id, ids });
    const views = await viewsOf(fresh);
    for (const txId of fresh) {
      const view = views.get(txId) ?? null;
      const stop = watches.get(txId);
      if (view !== null && view.status !== 'new' && stop !== undefined) {
        stop();
        watches.delete(txId);
        pushTx(view);
      }
    }
  }

  /** The current views of `ids`: one lookup when the service offers it, else one per id. */
  async function viewsOf(ids: readonly string[]): Promise<Map<string, TxView>> {
    if (ctx.service.getTransactions !== undefined) return ctx.service.getTransactions(ids);
    const out = new Map<string, TxView>();
    for (const txId of ids) {
      const view = await ctx.service.getTransaction(txId);
      if (view !== null) out.set(txId, view);
    }
    return out;
  }

  async function submit(msg: JsonObject, id: unknown): Promise<void> {
    const bytes = decodeBase64Field(msg['base64tx'], 'base64tx');
    const [result] = await ctx.service.submit([bytes]);
    if (result === undefined)
      throw new ChainError('internal', 'the ledger returned no result for a submitted transaction');
    if (result.ok) socket.sendJson({ type: 'submitted', id, txId: result.id });
    else socket.sendJson(errorMessage(id, result.error));
  }

  function pushTx(view: TxView): void {
    socket.sendJson({ type: 'tx', tx: view });
  }
}

type ParsedFeedMessage =
  | { ok: true; msg: JsonObject; id: unknown }
  | { ok: false; id: unknown; error: ApiError };

function parseFeedMessage(text: string | null): ParsedFeedMessage {
  if (text === null) {
    return {
      ok: false,
      id: null,
      error: {
        code: 'bad_request',
        message: 'binary messages are not supported; send JSON text',
        details: {},
      },
    };
  }
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      id: null,
      error: {
        code: 'bad_request',
        message: `the message is not valid JSON: ${reason}`,
        details: {},
      },
    };
  }
  if (!isJsonObject(msg)) {
    return {
      ok: false,
      id: null,
      error: {
        code: 'bad_request',
        message: `a message must be a JSON object, got ${describeValue(msg)}`,
        details: {},
      },
    };
  }
  const id = msg['id'] === undefined ? null : msg['id'];
  if (typeof msg['type'] !== 'string') {
    return {
      ok: false,
      id,
      error: {
        code: 'bad_request',
        message: `field "type" must be a string, got ${describeValue(msg['type'])}`,
        details: { field: 'type' },
      },
    };
  }
  return { ok: true, msg, id };
}

function parseWatchIds(value: unknown, max: number): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new ChainError(
      'bad_request',
      `field "ids" must be a non-empty array of transaction ids, got ${describeValue(value)}`,
      { field: 'ids' },
    );
  }
  if (value.length > max) {
    throw new ChainError(
      'batch_too_large',
      `field "ids" names ${value.length} transactions; at most ${max} per message`,
      { count: value.length, max },
    );
  }
  return value.map((txId: unknown, i) => parseTxIdHex(txId, `ids[${i}]`));
}

export function rawText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
