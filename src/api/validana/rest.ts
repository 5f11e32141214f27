// Validana's REST form: `GET|POST /api/v1/<type>` runs the same handlers without pushes, taking
// the request data from the query string or the body.

import type { FastifyError, FastifyInstance } from 'fastify';
import { ChainError } from '../../core/errors.js';
import { V_TEXT } from './handlers.js';
import type { ValidanaHandlers, VSession } from './handlers.js';

export class RestSession implements VSession {
  readonly canPush = false;
  readonly pendingCount = 0;
  readonly pendingMax = Number.MAX_SAFE_INTEGER;

  constructor(readonly waitTimeoutMs: number) {}

  push(): void {
    throw new ChainError('internal', 'a REST request cannot receive pushes');
  }

  track(): () => void {
    return () => undefined;
  }
}

/**
 * Request data of a REST call: the query string (GET) or the body (POST) as JSON; failing that,
 * form encoding, where a single `data` field holds the JSON of the data; failing that, the text.
 */
export function restData(
  text: string | undefined,
  isQuery: boolean,
): { ok: true; data: unknown } | { ok: false } {
  if (text === undefined || text === '') return { ok: true, data: undefined };
  let decoded = text;
  if (isQuery) {
    try {
      decoded = decodeURIComponent(text);
    } catch {
      if (!text.includes('=')) return { ok: false };
    }
  }
  const json = tryJson(decoded);
  if (json.ok) return json;
  if (text.includes('=')) {
    const form = new URLSearchParams(text);
    const keys = [...new Set(form.keys())];
    if (keys.length === 1 && keys[0] === 'data') {
      const value = form.get('data') ?? '';
      const inner = tryJson(value);
      return { ok: true, data: inner.ok ? inner.data : value };
    }
    const data: Record<string, string | string[]> = {};
    for (const key of keys) {
      const values = form.getAll(key);
      data[key] = values.length === 1 ? (values[0] ?? '') : values;
    }
    return { ok: true, data };
  }
  return { ok: true, data: decoded };
}

function tryJson(text: string): { ok: true; data: unknown } | { ok: false } {
  try {
    return { ok: true, data: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

// ---- REST routes ---------------------------------------------------------------------------

const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'POST, GET',
  'access-control-allow-headers': 'origin, content-type, accept',
} as const;

/**
 * `GET|POST /api/v1/<type>`: the same handlers without pushes. The answer body is the bare JSON
 * data (empty when there is none) with the handler's status; an error body is plain text.
 */
export function registerValidanaRest(
  app: FastifyInstance,
  handlers: ValidanaHandlers,
  waitTimeoutMs: number,
): void {
  void app.register(async (scope) => {
    scope.setErrorHandler((err: FastifyError, _req, reply) => {
      const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
      const status = tooLarge ? 413 : (err.statusCode ?? 500) < 500 ? 400 : 500;
      const text = tooLarge ? 'Payload too large.' : status === 400 ? err.message : V_TEXT.internal;
      void reply.code(status).headers(CORS_HEADERS).type('text/plain; charset=utf-8').send(text);
    });
    scope.options('/api/v1/*', async (_req, reply) =>
      reply.code(200).headers(CORS_HEADERS).send(''),
    );
    scope.route({
      method: ['GET', 'POST'],
      url: '/api/v1/*',
      handler: async (req, reply) => {
        const wildcard = (req.params as Record<string, string | undefined>)['*'] ?? '';
        const type = wildcard
          .split('/')
          .filter((part) => part !== '')
          .join('/')
          .toLowerCase();
        const rawUrl = req.raw.url ?? req.url;
        const q = rawUrl.indexOf('?');
        const parsed =
          req.method === 'GET'
            ? restData(q === -1 ? undefined : rawUrl.slice(q + 1), true)
            : restData(typeof req.body === 'string' ? req.body : undefined, false);
        void reply.headers(CORS_HEADERS);
        if (!parsed.ok)
          return reply.code(400).type('text/plain; charset=utf-8').send('Invalid request url.');
        const result = await handlers.handle(type, parsed.data, new RestSession(waitTimeoutMs));
        if ('error' in result)
          return reply.code(result.status).type('text/plain; charset=utf-8').send(result.error);
        const body = result.data === undefined ? '' : JSON.stringify(result.data);
        return reply.code(result.status).type('application/json; charset=utf-8').send(body);
      },
    });
  });
}
