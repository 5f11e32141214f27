// JSON over HTTP with the global fetch. Every failure becomes a ClientError: the server's own
// `{error: {code, message, details}}` when it sent one, `unreachable` when no answer came, and
// `bad_response` when the answer is not the JSON the API promises.

import { ClientError } from './errors.js';

export type QueryValue = string | number | boolean;

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  readonly body?: unknown;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

const BODY_EXCERPT_CHARS = 200;

/**
 * Turns what users type (`http://host:8080`, `host:8080/`, or Validana's `ws://host:8080/api/v1/`)
 * into the HTTP base URL of the API, without a trailing slash.
 */
export function normaliseBaseUrl(input: string): string {
  let text = input.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch (err) {
    throw new ClientError(
      'usage_error',
      `expected an http(s) URL such as http://127.0.0.1:8080, got "${input}"`,
      { url: input },
      null,
      { cause: err },
    );
  }
  const protocols: Record<string, string> = {
    'http:': 'http:',
    'https:': 'https:',
    'ws:': 'http:',
    'wss:': 'https:',
  };
  const protocol = protocols[url.protocol];
  if (protocol === undefined) {
    throw new ClientError(
      'usage_error',
      `expected an http(s) URL, got protocol "${url.protocol}" in "${input}"`,
      { url: input },
    );
  }
  // Validana's CLI is pointed at the WebSocket endpoint `/api/v1/`; our routes live beside it.
  const path = url.pathname.replace(/\/api\/v1\/?$/i, '').replace(/\/+$/, '');
  return `${protocol}//${url.host}${path}`;
}

/** The WebSocket URL of a route below the API base URL. */
export function webSocketUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/^http/, 'ws') + path;
}

export function buildUrl(
  baseUrl: string,
  path: string,
  query?: Readonly<Record<string, QueryValue>>,
): string {
  const entries = Object.entries(query ?? {});
  if (entries.length === 0) return baseUrl + path;
  const params = new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)]));
  return `${baseUrl}${path}?${params.toString()}`;
}

export async function requestJson(baseUrl: string, req: HttpRequest): Promise<unknown> {
  const url = buildUrl(baseUrl, req.path, req.query);
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal === undefined ? timeout : AbortSignal.any([timeout, req.signal]);
  const init: RequestInit = { method: req.method, signal, headers: { accept: 'application/json' } };
  if (req.body !== undefined) {
    init.body = JSON.stringify(req.body);
    init.headers = { accept: 'application/json', 'content-type': 'application/json' };
  }
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, init);
    text = await res.text();
  } catch (err) {
    throw networkError(err, url, req, timeout.aborted);
  }
  return parseAnswer(res.status, text, url);
}

function networkError(err: unknown, url: string, req: HttpRequest, timedOut: boolean): ClientError {
  if (timedOut) {
    return new ClientError(
      'unreachable',
      `no answer from ${url} within ${req.timeoutMs} ms`,
      { url, timeoutMs: req.timeoutMs },
      null,
      { cause: err },
    );
  }
  if (req.signal?.aborted === true) {
    return new ClientError(
      'unreachable',
      `request to ${url} was cancelled`,
      { url, cancelled: true },
      null,
      { cause: err },
    );
  }
  const cause =
    err instanceof Error
      ? (err.cause as { code?: unknown; message?: unknown } | undefined)
      : undefined;
  const reason =
    typeof cause?.code === 'string'
      ? cause.code
      : typeof cause?.message === 'string'
        ? cause.message
        : String(err);
  return new ClientError('unreachable', `cannot reach ${url}: ${reason}`, { url, reason }, null, {
    cause: err,
  });
}

function parseAnswer(status: number, text: string, url: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    const excerpt = text.slice(0, BODY_EXCERPT_CHARS);
    const details = { url, status, body: excerpt };
    throw new ClientError(
      'bad_response',
      `${url} answered HTTP ${status} with a body that is not JSON`,
      details,
      status,
      { cause: err },
    );
  }
  if (status >= 200 && status < 300) return body;
  const error = isRecord(body) && isRecord(body['error']) ? body['error'] : null;
  if (error !== null && typeof error['code'] === 'string') {
    const message = typeof error['message'] === 'string' ? error['message'] : error['code'];
    const details = isRecord(error['details']) ? error['details'] : {};
    throw new ClientError(error['code'], message, details, status);
  }
  throw new ClientError(
    'bad_response',
    `${url} answered HTTP ${status} without an error object`,
    { url, status, body },
    status,
  );
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
