// The typed HanzeNet client: sign, submit, await and read, over the HTTP and WebSocket API of
// docs/ARCHITECTURE.md. It runs in Node (global fetch, `ws`). Every failure is a ClientError.

import type { ApiError } from '../chain/views.js';
import type { BlockView, ChainInfo, ContractView, TxView } from '../chain/views.js';
import type { PrivateKey } from '../core/keys.js';
import { signTx } from '../chain/tx.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH, type Tx } from '../chain/types.js';
import { subscribeBlocks, type BlockListener, type SubscribeBlocksOptions } from './block-feed.js';
import {
  asBlockView,
  asBlockViews,
  asChainInfo,
  asContractViews,
  asRawBlocks,
  asTxView,
  checkHeight,
  isFinal,
  isTxView,
  normaliseContractHash,
  normaliseTxId,
} from './check.js';
import { ClientError } from './errors.js';
import { isRecord, normaliseBaseUrl, requestJson, webSocketUrl, type HttpRequest } from './http.js';
import { sleep } from './timers.js';
import { TxWatcher } from './tx-watch.js';
import { idOfBytes, payloadTextOf, toBase64 } from './tx-bytes.js';

export { payloadTextOf };

export interface HanzenetClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:8080` (ws:// and Validana's `/api/v1/` are accepted too). */
  readonly url: string;
  /** The chain id (sign prefix). When absent it is asked from `/api/info` once. */
  readonly chainId?: string;
  /** Time limit of one ordinary request; waiting requests get their wait time on top. Default 10 s. */
  readonly fetchTimeoutMs?: number;
}

/** What the server answers to a submission it stored but was not asked to wait for. */
export interface SubmittedTx {
  readonly id: string;
  readonly status: 'new';
}

/** One entry of a batch answer: stored, final (when waiting), or refused with the reason. */
export type BatchItemResult =
  | SubmittedTx
  | TxView
  | { readonly id: string | null; readonly error: ApiError };

export interface WaitOptions {
  /** Wait for the final status (accepted, rejected or invalid). */
  readonly wait?: boolean;
  /** How long to wait when `wait` is set. Default 60 s. */
  readonly timeoutMs?: number;
}

export interface ContractCallOptions {
  /** The contract by type (the last active contract of that type) ... */
  readonly contractType?: string;
  /** ... or by hash (64 hex); give exactly one of the two. */
  readonly contractHash?: string;
  /** An object is serialised once with JSON.stringify; a string is used as the exact payload text. */
  readonly payload: object | string;
  readonly key: PrivateKey;
  /** ms since the Unix epoch, 0 = never expires. Default: now + 15 minutes (as Validana's client). */
  readonly validTillMs?: number;
  /** 32 hex; default 16 random bytes. */
  readonly idHex?: string;
}

export interface ExecuteOptions extends ContractCallOptions, WaitOptions {}

export interface SpecialCallOptions extends WaitOptions {
  readonly validTillMs?: number;
  readonly idHex?: string;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;
export const DEFAULT_WAIT_MS = 60_000;
const DEFAULT_VALID_FOR_MS = 15 * 60_000;
/** Longest single `?wait=true` request while polling; the server caps its own wait too. */
const LONG_POLL_MAX_MS = 30_000;
/** The longest wait the server accepts for a batch (its WAIT_TIMEOUT_MAX_MS). */
const BATCH_WAIT_MAX_MS = 300_000;

export class HanzenetClient {
  readonly url: string;
  private readonly fetchTimeoutMs: number;
  private chainIdPromise: Promise<string> | null;
  private readonly watcher: TxWatcher;

  constructor(opts: HanzenetClientOptions) {
    this.url = normaliseBaseUrl(opts.url);
    this.fetchTimeoutMs = opts.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    this.chainIdPromise = opts.chainId === undefined ? null : Promise.resolve(opts.chainId);
    this.watcher = new TxWatcher(webSocketUrl(this.url, '/api/ws'));
  }

  /** Closes the shared WebSocket, if one is open. Pending awaits fall back to polling. */
  close(): void {
    this.watcher.close();
  }

  async info(): Promise<ChainInfo> {
    return asChainInfo(await this.get('/api/info'));
  }

  /** The chain id (sign prefix): the one given to the constructor, or asked from the server once. */
  chainId(): Promise<string> {
    if (this.chainIdPromise === null) {
      const asked = this.info().then((i) => i.chainId);
      this.chainIdPromise = asked;
      // A failed lookup must not be remembered: the next call asks again.
      asked.catch(() => {
        if (this.chainIdPromise === asked) this.chainIdPromise = null;
      });
    }
    return this.chainIdPromise;
  }

  async contracts(): Promise<ContractView[]> {
    return asContractViews(await this.get('/api/contracts'));
  }

  /** Submits one signed transaction. With `wait`, resolves with its final view (any final status). */
  submit(tx: Tx | Uint8Array, opts: WaitOptions & { wait: true }): Promise<TxView>;
  submit(tx: Tx | Uint8Array, opts?: WaitOptions & { wait?: false }): Promise<SubmittedTx>;
  submit(tx: Tx | Uint8Array, opts?: WaitOptions): Promise<SubmittedTx | TxView>;
  async submit(tx: Tx | Uint8Array, opts: WaitOptions = {}): Promise<SubmittedTx | TxView> {
    const bytes = tx instanceof Uint8Array ? tx : tx.bytes;
    const body: Record<string, unknown> = { base64tx: toBase64(bytes) };
    if (opts.wait !== true) return asSubmitted(await this.post('/api/transactions', body));
    const waitMs = opts.timeoutMs ?? DEFAULT_WAIT_MS;
    const deadlineMs = Date.now() + waitMs;
    const serverWaitMs = Math.ceil(Math.min(waitMs, LONG_POLL_MAX_MS));
    let view: TxView;
    try {
      view = asTxView(
        await this.post(
          '/api/transactions',
          { ...body, wait: true, timeoutMs: serverWaitMs },
          serverWaitMs,
        ),
      );
    } catch (err) {
      throw waitTimedOut(err, idOfBytes(bytes), waitMs);
    }
    if (isFinal(view)) return view;
    // The server's wait ran out before ours: wait for the rest of our time.
    return this.awaitUntil(view.id.toLowerCase(), deadlineMs, waitMs);
  }

  /**
   * Submits up to 1000 transactions at once; one result per input, same order. With `wait`, an
   * entry is still `{id, status: "new"}` when the server's wait (at most 300 s) ran out first.
   */
  async submitBatch(
    txs: readonly (Tx | Uint8Array)[],
    opts: WaitOptions = {},
  ): Promise<BatchItemResult[]> {
    const transactions = txs.map((tx) => toBase64(tx instanceof Uint8Array ? tx : tx.bytes));
    const body: Record<string, unknown> = { transactions };
    const waitMs =
      opts.wait === true
        ? Math.ceil(Math.min(opts.timeoutMs ?? DEFAULT_WAIT_MS, BATCH_WAIT_MAX_MS))
        : 0;
    if (opts.wait === true) {
      body['wait'] = true;
      body['timeoutMs'] = waitMs;
    }
    const answer = await this.post('/api/transactions/batch', body, waitMs);
    const results = isRecord(answer) ? answer['results'] : undefined;
    if (!Array.isArray(results) || results.length !== txs.length) {
      throw new ClientError(
        'bad_response',
        `expected {"results": [...]} with ${txs.length} entries`,
        { sent: txs.length },
      );
    }
    return results as BatchItemResult[];
  }

  /** The transaction's view; 404 `not_found` when unknown. `wait` asks the server to hold the answer until final. */
  async getTransaction(id: string, opts: WaitOptions = {}): Promise<TxView> {
    const idHex = normaliseTxId(id);
    if (opts.wait !== true) return asTxView(await this.get(`/api/transactions/${idHex}`));
    const waitMs = opts.timeoutMs ?? LONG_POLL_MAX_MS;
    const query = { wait: true, timeoutMs: waitMs };
    return asTxView(await this.get(`/api/transactions/${idHex}`, query, waitMs));
  }

  /**
   * Resolves with the final view (accepted, rejected or invalid) of a transaction, which need not
   * be submitted yet. Pushed over the WebSocket; polled over HTTP as a safety net and whenever the
   * WebSocket is down. Throws `await_timeout` after `timeoutMs` (Infinity: wait for ever).
   */
  async awaitTransaction(id: string, timeoutMs: number = DEFAULT_WAIT_MS): Promise<TxView> {
    return this.awaitUntil(normaliseTxId(id), Date.now() + timeoutMs, timeoutMs);
  }

  private async awaitUntil(idHex: string, deadlineMs: number, timeoutMs: number): Promise<TxView> {
    const stop = new AbortController();
    let unwatch: () => void = () => undefined;
    const pushed = new Promise<TxView>((resolve) => {
      unwatch = this.watcher.watch(idHex, resolve);
    });
    try {
      return await Promise.race([
        pushed,
        this.pollUntilFinal(idHex, deadlineMs, timeoutMs, stop.signal),
      ]);
    } finally {
      stop.abort();
      unwatch();
    }
  }

  private async pollUntilFinal(
    idHex: string,
    deadlineMs: number,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<TxView> {
    let pauseMs = 1_000;
    while (!signal.aborted) {
      const remainingMs = deadlineMs - Date.now();
      if (remainingMs <= 0) {
        throw new ClientError(
          'await_timeout',
          `transaction ${idHex} was not final within ${timeoutMs} ms`,
          { id: idHex, timeoutMs },
        );
      }
      // With the push channel down, a long poll takes its place; otherwise an occasional short
      // look covers a transaction that became final before the server saw our watch.
      const longPoll = this.watcher.status === 'down';
      const startedMs = Date.now();
      const view = await this.lookUp(
        idHex,
        longPoll ? Math.min(remainingMs, LONG_POLL_MAX_MS) : 0,
        signal,
      );
      if (view !== null && isFinal(view)) return view;
      // A long poll that really waited may be repeated at once; anything quicker pauses first.
      const waitedLong = longPoll && Date.now() - startedMs >= 1_000;
      if (!waitedLong) await sleep(Math.min(pauseMs, Math.max(0, deadlineMs - Date.now())), signal);
      pauseMs = Math.min(pauseMs * 2, 10_000);
    }
    // Aborted: the push already answered, so this promise is never looked at again.
    return new Promise<TxView>(() => undefined);
  }

  /** The view, or null while the server does not know the id yet. */
  private async lookUp(idHex: string, waitMs: number, signal: AbortSignal): Promise<TxView | null> {
    const query = waitMs > 0 ? { wait: true, timeoutMs: Math.ceil(waitMs) } : undefined;
    try {
      const body = await requestJson(this.url, {
        method: 'GET',
        path: `/api/transactions/${idHex}`,
        ...(query === undefined ? {} : { query }),
        timeoutMs: this.fetchTimeoutMs + waitMs,
        signal,
      });
      return asTxView(body);
    } catch (err) {
      if (err instanceof ClientError && err.code === 'not_found') return null;
      if (signal.aborted) return null;
      throw err;
    }
  }

  async blocks(fromHeight: number, limit: number): Promise<BlockView[]> {
    const query = { from: checkHeight('from', fromHeight), limit: checkHeight('limit', limit) };
    return asBlockViews(await this.get('/api/blocks', query));
  }

  async block(height: number): Promise<BlockView> {
    return asBlockView(await this.get(`/api/blocks/${checkHeight('height', height)}`));
  }

  async rawBlocks(fromHeight: number, limit: number): Promise<Uint8Array[]> {
    const query = { from: checkHeight('from', fromHeight), limit: checkHeight('limit', limit) };
    return asRawBlocks(await this.get('/api/blocks/raw', query));
  }

  /**
   * Calls `onBlock` for every new block, in height order, each exactly once: reconnects with
   * backoff and fetches missed blocks over HTTP. Resolves when `signal` aborts; rejects with the
   * listener's error if it throws (the feed then stops).
   */
  subscribeBlocks(onBlock: BlockListener, opts: SubscribeBlocksOptions = {}): Promise<void> {
    const source = {
      wsUrl: webSocketUrl(this.url, '/api/ws'),
      blocks: (from: number, limit: number) => this.blocks(from, limit),
      rawBlocks: (from: number, limit: number) => this.rawBlocks(from, limit),
    };
    return subscribeBlocks(source, onBlock, opts);
  }

  /**
   * GETs a JSON route this client has no typed method for, such as an application's reads (the
   * energy market's are typed in src/energy/client.ts). Failures are ClientErrors, as for every call.
   */
  getJson(path: string, query?: HttpRequest['query']): Promise<unknown> {
    if (!path.startsWith('/'))
      throw new ClientError(
        'bad_request',
        `a route path starts with "/", got ${JSON.stringify(path)}`,
        { field: 'path' },
      );
    return this.get(path, query);
  }

  /** Signs a call of a contract (looked up by type, or given by hash) without submitting it. */
  async signContractCall(opts: ContractCallOptions): Promise<Tx> {
    const contractHashHex = await this.resolveContract(opts);
    return this.signCall(contractHashHex, opts.payload, opts.key, opts);
  }

  /** Signs and submits a contract call; by default waits for and resolves with the final view. */
  executeContract(opts: ExecuteOptions & { wait: false }): Promise<SubmittedTx>;
  executeContract(opts: ExecuteOptions & { wait?: true }): Promise<TxView>;
  executeContract(opts: ExecuteOptions): Promise<SubmittedTx | TxView>;
  async executeContract(opts: ExecuteOptions): Promise<SubmittedTx | TxView> {
    const tx = await this.signContractCall(opts);
    return this.submitCall(tx, opts);
  }

  /** Creates a contract (processor key only): `payload` is the create payload, sent unchanged. */
  createContract(
    payload: object | string,
    key: PrivateKey,
    opts: SpecialCallOptions & { wait: false },
  ): Promise<SubmittedTx>;
  createContract(
    payload: object | string,
    key: PrivateKey,
    opts?: SpecialCallOptions & { wait?: true },
  ): Promise<TxView>;
  createContract(
    payload: object | string,
    key: PrivateKey,
    opts?: SpecialCallOptions,
  ): Promise<SubmittedTx | TxView>;
  async createContract(
    payload: object | string,
    key: PrivateKey,
    opts: SpecialCallOptions = {},
  ): Promise<SubmittedTx | TxView> {
    const tx = await this.signCall(CREATE_CONTRACT_HASH, payload, key, opts);
    return this.submitCall(tx, opts);
  }

  /** Deletes (deprecates) the contract with this hash: its creator's key only. */
  deleteContract(
    hash: string,
    key: PrivateKey,
    opts: SpecialCallOptions & { wait: false },
  ): Promise<SubmittedTx>;
  deleteContract(
    hash: string,
    key: PrivateKey,
    opts?: SpecialCallOptions & { wait?: true },
  ): Promise<TxView>;
  deleteContract(
    hash: string,
    key: PrivateKey,
    opts?: SpecialCallOptions,
  ): Promise<SubmittedTx | TxView>;
  async deleteContract(
    hash: string,
    key: PrivateKey,
    opts: SpecialCallOptions = {},
  ): Promise<SubmittedTx | TxView> {
    const payload = { hash: normaliseContractHash(hash) };
    const tx = await this.signCall(DELETE_CONTRACT_HASH, payload, key, opts);
    return this.submitCall(tx, opts);
  }

  /** The hash of the last active contract of this type; `contract_unknown` when there is none. */
  async contractHashOfType(contractType: string): Promise<string> {
    const matches = (await this.contracts()).filter((c) => c.type === contractType);
    const last = matches[matches.length - 1];
    if (last === undefined) {
      throw new ClientError(
        'contract_unknown',
        `no active contract of type "${contractType}" on ${this.url}`,
        { contractType },
      );
    }
    return last.hash;
  }

  private async resolveContract(opts: ContractCallOptions): Promise<string> {
    if ((opts.contractType === undefined) === (opts.contractHash === undefined)) {
      throw new ClientError('bad_request', 'give exactly one of contractType and contractHash', {});
    }
    if (opts.contractHash !== undefined) return normaliseContractHash(opts.contractHash);
    return this.contractHashOfType(opts.contractType ?? '');
  }

  private async signCall(
    contractHashHex: string,
    payload: object | string,
    key: PrivateKey,
    opts: { validTillMs?: number; idHex?: string },
  ): Promise<Tx> {
    const payloadText = payloadTextOf(payload);
    const validTillMs = opts.validTillMs ?? Date.now() + DEFAULT_VALID_FOR_MS;
    if (!Number.isSafeInteger(validTillMs) || validTillMs < 0) {
      throw new ClientError(
        'tx_bad_valid_till',
        `validTillMs must be an integer from 0 to 2^53-1, got ${validTillMs}`,
        { validTillMs },
      );
    }
    const chainId = await this.chainId();
    const fields = { contractHashHex, validTillMs, payloadText };
    return signTx(
      opts.idHex === undefined ? fields : { ...fields, idHex: normaliseTxId(opts.idHex) },
      key,
      chainId,
    );
  }

  private submitCall(tx: Tx, opts: WaitOptions): Promise<SubmittedTx | TxView> {
    if (opts.wait === false) return this.submit(tx);
    return this.submit(
      tx,
      opts.timeoutMs === undefined ? { wait: true } : { wait: true, timeoutMs: opts.timeoutMs },
    );
  }

  private get(path: string, query?: HttpRequest['query'], extraMs = 0): Promise<unknown> {
    const req: HttpRequest = { method: 'GET', path, timeoutMs: this.fetchTimeoutMs + extraMs };
    return requestJson(this.url, query === undefined ? req : { ...req, query });
  }

  private post(path: string, body: unknown, extraMs = 0): Promise<unknown> {
    return requestJson(this.url, {
      method: 'POST',
      path,
      body,
      timeoutMs: this.fetchTimeoutMs + extraMs,
    });
  }
}

function asSubmitted(body: unknown): SubmittedTx {
  if (isRecord(body) && typeof body['id'] === 'string') return { id: body['id'], status: 'new' };
  if (isTxView(body)) return { id: body.id, status: 'new' };
  throw new ClientError(
    'bad_response',
    `expected {"id", "status": "new"} after a submission, got ${JSON.stringify(body)}`,
    {},
  );
}

/** A waiting submission that got no answer in time was probably stored: say which id to await. */
function waitTimedOut(err: unknown, idHex: string | null, waitMs: number): unknown {
  if (
    !(err instanceof ClientError) ||
    err.code !== 'unreachable' ||
    err.details['timeoutMs'] === undefined
  )
    return err;
  const message = `no final status for transaction ${idHex ?? '(unknown id)'} within ${waitMs} ms; it may still be processed`;
  return new ClientError('await_timeout', message, { id: idHex, timeoutMs: waitMs }, null, {
    cause: err,
  });
}
