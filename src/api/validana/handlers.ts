// Validana v1 compatibility (shared/validana/PROTOCOL.md sections 5 and 7), so that
// @coinversable/validana-client and validana-cli work against HanzeNet unchanged. This module
// holds the five request types and Validana's texts; ws.ts serves them over Validana's WebSocket
// envelope (with pushes), rest.ts at /api/v1/<type>. Deviations from the original server are
// listed in docs/api.md.

import { ChainError, isErrorCode } from '../../core/errors.js';
import {
  isJsonObject,
  isStrictBase64,
  isTxIdHex,
  isValidanaHex,
  txIdHexOfBytes,
} from '../input.js';
import type { ReportError, TxFinalHub, WaitOutcome } from '../tx-final-hub.js';
import type { ApiError, LedgerService } from '../types.js';
import type { ContractView, TxView } from '../../chain/views.js';

export const VALIDANA_API_VERSION = 'v1';
export const SUPPORTED_TYPES = ['contracts', 'process', 'time', 'transaction', 'txstatus'] as const;

/** Validana's texts, exactly as its server and client use them. */
export const V_TEXT = {
  invalidParams: 'Missing or invalid request data parameters.',
  invalidTxFormat: 'Invalid transaction format.',
  duplicateId: 'Transaction with id already exists.',
  invalidJson: 'Invalid JSON',
  missingId: 'Request is missing or has an invalid an ID field',
  missingType: 'Request is missing or has an invalid request type',
  internal: 'Error occured during request.',
  noBlocks: 'No existing blocks found.',
  versionUnsupported: 'Version of the api is not supported.',
  missingVersion: 'Missing api version or request type.',
  invalidUrl: 'Invalid url.',
  shuttingDown: 'Server shutting down.',
  tooManyWaits: 'Too many transactions awaited on this connection.',
} as const;

export const CLOSE_UNSUPPORTED_VERSION = 4100;

/** Decode errors of the transaction bytes: Validana reports all of them as one text. */
const DECODE_CODES: ReadonlySet<string> = new Set([
  'tx_malformed',
  'tx_unsupported_version',
  'tx_too_large',
  'tx_bad_public_key',
  'tx_bad_valid_till',
  'tx_payload_not_json',
]);
/** Temporary failures on our side: nothing was stored, the client may try again. */
const SERVICE_STATE_CODES: ReadonlySet<string> = new Set(['retry', 'queue_full', 'shutting_down']);

export type VResult =
  | { readonly status: number; readonly data?: unknown }
  | { readonly status: number; readonly error: string };

/** Validana's TxResponse: our TxView without `code`. */
export type TxResponse = Omit<TxView, 'code'>;

export interface VSession {
  /** WebSocket sessions can push; REST sessions cannot (push is then ignored, as in Validana). */
  readonly canPush: boolean;
  /** How long a `wait` may hold the answer; null waits until processed or disconnected. */
  readonly waitTimeoutMs: number | null;
  push(pushType: string, data: unknown): void;
  /** Registers a cleanup that runs if the session ends first; returns its unregister function. */
  track(cleanup: () => void): () => void;
  /** Registrations (waits and push watches) the session holds now, and how many it may hold. */
  readonly pendingCount: number;
  readonly pendingMax: number;
}

export interface ValidanaContext {
  readonly service: LedgerService;
  readonly hub: TxFinalHub;
  readonly reportError: ReportError;
}

/** PROTOCOL.md section 5: a WebSocket path is accepted when any decoded, lowercased segment is `v1`. */
export function checkValidanaPath(
  url: string | undefined,
): { ok: true } | { ok: false; reason: string } {
  if (url === undefined) return { ok: false, reason: V_TEXT.invalidUrl };
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  let decoded: string;
  try {
    decoded = decodeURI(path);
  } catch {
    return { ok: false, reason: V_TEXT.invalidUrl };
  }
  const parts = decoded.toLowerCase().match(/[^/]+/g);
  if (parts === null || parts.length === 0) return { ok: false, reason: V_TEXT.missingVersion };
  if (!parts.includes(VALIDANA_API_VERSION))
    return { ok: false, reason: V_TEXT.versionUnsupported };
  return { ok: true };
}

export function toTxResponse(view: TxView, id: string = view.id): TxResponse {
  const { code: _code, ...rest } = view;
  return { ...rest, id };
}

function fail(status: number, error: string): VResult {
  return { status, error };
}

function ok(data?: unknown, status = 200): VResult {
  return data === undefined ? { status } : { status, data };
}

interface TxRequestIds {
  /** Lowercase key and the id exactly as the client sent it, one per distinct id, in request order. */
  readonly ids: readonly { readonly key: string; readonly sent: string }[];
  readonly single: boolean;
}

function parseTxRequest(data: unknown): TxRequestIds | null {
  if (!isJsonObject(data)) return null;
  if (data['push'] !== undefined && typeof data['push'] !== 'boolean') return null;
  if (data['wait'] !== undefined && typeof data['wait'] !== 'boolean') return null;
  const txId = data['txId'];
  const list: unknown[] = Array.isArray(txId) ? txId : [txId];
  if (list.length === 0) return null;
  const ids: { key: string; sent: string }[] = [];
  for (const item of list) {
    if (typeof item !== 'string' || !isValidanaHex(item)) return null;
    const key = item.toLowerCase();
    if (!ids.some((x) => x.key === key)) ids.push({ key, sent: item });
  }
  return { ids, single: !Array.isArray(txId) };
}

/** The five request types, shared by the WebSocket and REST forms. */
export class ValidanaHandlers {
  constructor(private readonly ctx: ValidanaContext) {}

  async handle(type: string, data: unknown, session: VSession): Promise<VResult> {
    try {
      switch (type) {
        case 'contracts':
          return await this.contracts(data);
        case 'process':
          return await this.process(data, session);
        case 'time':
          return await this.time();
        case 'transaction':
        case 'txstatus':
          return await this.txQuery(type, data, session);
        default:
          return fail(400, `Invalid type: ${type}, supported types: ${SUPPORTED_TYPES.join(', ')}`);
      }
    } catch (err) {
      if (err instanceof ChainError && SERVICE_STATE_CODES.has(err.code))
        return fail(503, err.message);
      this.ctx.reportError(err, `handling Validana request type ${type}`);
      return fail(500, V_TEXT.internal);
    }
  }

  private async contracts(data: unknown): Promise<VResult> {
    // The old form sends the type name itself; anything that is not an object is treated as one.
    const query: unknown = typeof data !== 'object' ? { type: data } : data;
    if (!isJsonObject(query) && !Array.isArray(query)) return fail(400, V_TEXT.invalidParams);
    const type = Array.isArray(query) ? undefined : query['type'];
    if (type !== undefined && typeof type !== 'string') return fail(400, V_TEXT.invalidParams);
    const all = await this.ctx.service.listContracts();
    const chosen = type === undefined ? all : all.filter((c) => c.type === type);
    return ok(chosen.map(validanaContract));
  }

  private async time(): Promise<VResult> {
    const info = await this.ctx.service.info();
    if (info.head === null) return fail(400, V_TEXT.noBlocks);
    return ok(info.head.processedMs);
  }

  private async process(data: unknown, session: VSession): Promise<VResult> {
    if (!isJsonObject(data)) return fail(400, V_TEXT.invalidParams);
    const createTs = data['createTs'];
    const base64tx = data['base64tx'];
    if (createTs !== undefined && !(typeof createTs === 'number' && Number.isSafeInteger(createTs)))
      return fail(400, V_TEXT.invalidParams);
    if (typeof base64tx !== 'string' || !isStrictBase64(base64tx))
      return fail(400, V_TEXT.invalidParams);
    const bytes = new Uint8Array(Buffer.from(base64tx, 'base64'));
    const wait = data['wait'] === true;
    if (wait && session.pendingCount >= session.pendingMax) return fail(429, V_TEXT.tooManyWaits);

    // Register before submitting so that a fast processor cannot finish the transaction unseen.
    const guessedId = wait ? txIdHexOfBytes(bytes) : null;
    let waiter = guessedId === null ? null : this.trackedWait(guessedId, session);
    let results;
    try {
      results = await this.ctx.service.submit(
        [bytes],
        createTs === undefined ? {} : { createMs: createTs },
      );
    } catch (err) {
      waiter?.cancel();
      throw err;
    }
    const result = results[0];
    if (result === undefined) {
      waiter?.cancel();
      throw new ChainError('internal', 'the ledger returned no result for a submitted transaction');
    }
    if (!result.ok) {
      waiter?.cancel();
      return refusalResult(result.error, wait);
    }
    if (!wait) return ok(undefined, 202);
    if (waiter === null || guessedId !== result.id) {
      waiter?.cancel();
      waiter = this.trackedWait(result.id, session);
      const view = await this.ctx.service.getTransaction(result.id);
      if (view !== null && view.status !== 'new') {
        waiter.cancel();
        return processOutcome(view);
      }
    }
    const outcome = await waiter.promise;
    if (outcome.kind === 'final') return processOutcome(outcome.view);
    if (outcome.kind === 'timeout') return ok(undefined, 202);
    return fail(503, V_TEXT.shuttingDown);
  }

  /** `transaction` and `txStatus`: only processed transactions are answered; `new` ones are absent. */
  private async txQuery(
    type: 'transaction' | 'txstatus',
    data: unknown,
    session: VSession,
  ): Promise<VResult> {
    const request = parseTxRequest(data);
    if (request === null || !isJsonObject(data)) return fail(400, V_TEXT.invalidParams);
    // The recorded exchanges answer `push` at once even with `wait`, then push; the client handles
    // both a waiting answer and this. Over REST `push` cannot work, so `wait` decides there.
    const mode =
      data['push'] === true && session.canPush ? 'push' : data['wait'] === true ? 'wait' : 'now';
    if (mode !== 'now' && session.pendingCount + request.ids.length > session.pendingMax)
      return fail(429, V_TEXT.tooManyWaits);
    const query = new TxQuery(type, request, session, this.ctx.hub);
    // Register before looking up, so a transaction that becomes final in between is not missed.
    if (mode !== 'now') query.watchAll();
    try {
      await query.lookupAll(this.ctx.service);
      if (mode === 'wait') {
        const outcome = await query.waitAll();
        if (outcome === 'closed') return fail(503, V_TEXT.shuttingDown);
      }
    } catch (err) {
      query.stopAll();
      throw err;
    }
    if (mode === 'wait') query.stopAll();
    return ok(query.answer());
  }

  private trackedWait(
    idHex: string,
    session: VSession,
  ): { promise: Promise<WaitOutcome>; cancel(): void } {
    const waiter = this.ctx.hub.wait(idHex, session.waitTimeoutMs);
    const untrack = session.track(() => waiter.cancel());
    void waiter.promise.then(untrack);
    return waiter;
  }
}

/** The state of one `transaction`/`txStatus` request: watches, views found so far, pushes after the answer. */
class TxQuery {
  private readonly found = new Map<string, TxView>();
  private readonly stops = new Map<string, () => void>();
  private answered = false;
  private settle: (outcome: 'found' | 'closed' | 'timeout') => void = () => undefined;
  private readonly complete = new Promise<'found' | 'closed' | 'timeout'>((resolve) => {
    this.settle = resolve;
  });

  constructor(
    private readonly type: 'transaction' | 'txstatus',
    private readonly request: TxRequestIds,
    private readonly session: VSession,
    private readonly hub: TxFinalHub,
  ) {}

  watchAll(): void {
    for (const { key, sent } of this.request.ids) {
      // Both may run synchronously (a closed hub or session), so they start as no-ops.
      let untrack: () => void = () => undefined;
      let stopWatch: () => void = () => undefined;
      stopWatch = this.hub.watch(
        key,
        (view) => {
          untrack();
          this.stops.delete(key);
          this.onFinal(key, sent, view);
        },
        () => {
          untrack();
          this.settle('closed');
        },
      );
      untrack = this.session.track(() => {
        stopWatch();
        this.settle('closed');
      });
      this.stops.set(key, () => {
        untrack();
        stopWatch();
      });
    }
  }

  async lookupAll(service: LedgerService): Promise<void> {
    for (const { key } of this.request.ids) {
      if (this.found.has(key) || !isTxIdHex(key)) continue;
      const view = await service.getTransaction(key);
      if (view !== null && view.status !== 'new' && !this.found.has(key)) {
        this.found.set(key, view);
        this.stopWatch(key);
      }
    }
    if (this.found.size === this.request.ids.length) this.settle('found');
  }

  /** Until every id is final, the session ends, or the session's wait timeout passes. */
  async waitAll(): Promise<'found' | 'closed' | 'timeout'> {
    const ms = this.session.waitTimeoutMs;
    const timer = ms === null ? undefined : setTimeout(() => this.settle('timeout'), ms);
    const outcome = await this.complete;
    if (timer !== undefined) clearTimeout(timer);
    return outcome;
  }

  stopAll(): void {
    for (const key of [...this.stops.keys()]) this.stopWatch(key);
  }

  /** Builds the answer; from this synchronous step on, final views are pushed instead. */
  answer(): unknown {
    this.answered = true;
    const answers = this.request.ids.flatMap(({ key, sent }) => {
      const view = this.found.get(key);
      return view === undefined ? [] : [this.format(view, sent)];
    });
    if (!this.request.single) return answers;
    const first = answers[0];
    if (first === undefined || this.type === 'transaction') return first;
    return (first as { status: string }).status;
  }

  private onFinal(key: string, sent: string, view: TxView): void {
    if (this.answered) this.session.push('transaction', this.format(view, sent));
    else if (!this.found.has(key)) this.found.set(key, view);
    if (this.found.size === this.request.ids.length) this.settle('found');
  }

  private stopWatch(key: string): void {
    this.stops.get(key)?.();
    this.stops.delete(key);
  }

  private format(view: TxView, sent: string): unknown {
    return this.type === 'transaction'
      ? toTxResponse(view, sent)
      : { id: sent, status: view.status, message: view.message };
  }
}

function validanaContract(c: ContractView): unknown {
  return {
    hash: c.hash,
    type: c.type,
    version: c.version,
    description: c.description,
    template: c.template,
    validanaVersion: c.validanaVersion,
  };
}

function processOutcome(view: TxView): VResult {
  if (view.status === 'accepted') return ok(toTxResponse(view));
  return fail(422, view.message ?? `Transaction ${view.status}.`);
}

/**
 * Validana stores every decodable transaction and lets the processor mark it invalid later; our
 * admission refuses bad signatures, expired, unknown-contract and template-mismatched
 * transactions at once. With `wait` the answer is the same as Validana's (422 + message); without
 * it the refusal comes back as 400 + message instead of a 202.
 */
function refusalResult(error: ApiError, wait: boolean): VResult {
  if (error.code === 'tx_duplicate_id') return fail(400, V_TEXT.duplicateId);
  if (DECODE_CODES.has(error.code)) return fail(400, V_TEXT.invalidTxFormat);
  if (SERVICE_STATE_CODES.has(error.code)) return fail(503, error.message);
  if (error.code === 'internal' || (isErrorCode(error.code) && error.code.startsWith('block_')))
    return fail(500, V_TEXT.internal);
  return fail(wait ? 422 : 400, error.message);
}
