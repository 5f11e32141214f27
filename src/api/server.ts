// The HTTP + WebSocket API server (docs/ARCHITECTURE.md, docs/api.md): our JSON routes under
// /api/, our WebSocket feed at /api/ws, and Validana's v1 protocol (WebSocket on any path with a
// `v1` segment, REST at /api/v1/<type>). It only shapes input and output; the LedgerService behind
// it decides everything about transactions and blocks.

import type { Logger } from '../ledger/log.js';
import Fastify from 'fastify';
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import { ChainError } from '../core/errors.js';
import { loadDashboardBundle, registerDashboard } from './dashboard.js';
import { registerRoutes, statusOf } from './routes.js';
import { TxFinalHub } from './tx-final-hub.js';
import type { ReportError } from './tx-final-hub.js';
import type { ApiError, LedgerService } from './types.js';
import { ValidanaHandlers } from './validana/handlers.js';
import { registerValidanaRest } from './validana/rest.js';
import { apiErrorOf, BlockFanout } from './ws-feed.js';
import { attachWebSockets } from './ws-server.js';

export { BLOCKS_LIMIT_DEFAULT, BLOCKS_LIMIT_MAX, WAIT_TIMEOUT_MAX_MS } from './routes.js';

/**
 * Registers an application's routes (e.g. the energy market's reads) next to the platform's. The
 * caller that composes the process passes them in, so the API itself depends on no application.
 */
export type ApiRoutes = (app: FastifyInstance, service: LedgerService) => void;

export interface ApiServerOptions {
  /** Application routes to register besides the platform's. Default none. */
  readonly routes?: readonly ApiRoutes[];
  /**
   * Serve the web dashboard's bundle from this directory at `/` (src/api/dashboard.ts). Default:
   * no dashboard (the processor and the node pass the built bundle unless told not to).
   */
  readonly dashboardDir?: string | undefined;
  /** Log every request and its answer to this log (`--log-requests`). Default: no request log. */
  readonly requestLog?: Logger | undefined;
  /** Transactions one batch may hold. Default 1000. */
  readonly batchMax?: number;
  /** Largest HTTP request body. Default 8 MiB (a full batch of typical transactions fits easily). */
  readonly bodyLimitBytes?: number;
  /** Default wait for `wait=true` requests (and for Validana REST waits). Default 30 s. */
  readonly waitTimeoutMs?: number;
  /** Largest WebSocket message a client may send. Default 1 MiB. */
  readonly wsMessageMaxBytes?: number;
  /** Per-connection send buffer; a client that lets more pile up is closed with 1013. Default 4 MiB. */
  readonly wsSendBufferMaxBytes?: number;
  /** Watches (feed) or waits and push registrations (Validana) one connection may hold. Default 10000. */
  readonly wsPendingMax?: number;
  /** How long a closing WebSocket may take to finish the close handshake before it is cut. Default 2 s. */
  readonly wsCloseGraceMs?: number;
  /** Keepalive ping interval; a connection that misses a whole interval is closed. Default 30 s. */
  readonly pingIntervalMs?: number;
  /** Minimum delay of a Validana push after the event (see validana/ws.ts). Default 25 ms. */
  readonly validanaPushDelayMs?: number;
  /** Where unexpected errors go. Default: one JSON line on stderr. */
  readonly reportError?: ReportError;
}

export interface ApiServer {
  readonly app: FastifyInstance;
  /** Starts listening; resolves with the base URL, e.g. `http://127.0.0.1:8080`. Host defaults to 127.0.0.1. */
  listen(port: number, host?: string): Promise<string>;
  /** Closes WebSockets (1001), ends pending waits, stops listening. */
  close(): Promise<void>;
}

export const DEFAULTS = {
  batchMax: 1000,
  bodyLimitBytes: 8 * 1024 * 1024,
  waitTimeoutMs: 30_000,
  wsMessageMaxBytes: 1024 * 1024,
  wsSendBufferMaxBytes: 4 * 1024 * 1024,
  wsPendingMax: 10_000,
  wsCloseGraceMs: 2000,
  pingIntervalMs: 30_000,
  validanaPushDelayMs: 25,
} as const;

const WATCH_IDS_PER_MESSAGE_MAX = 1000;

function defaultReportError(err: unknown, context: string): void {
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(
    JSON.stringify({ level: 'error', component: 'api', context, error: detail }) + '\n',
  );
}

export async function createApiServer(
  service: LedgerService,
  opts: ApiServerOptions = {},
): Promise<ApiServer> {
  const cfg = { ...DEFAULTS, ...opts };
  const reportError = opts.reportError ?? defaultReportError;
  let closing = false;
  // pino's logger is a Fastify logger; typed as the base one so routes keep their usual types.
  const requestPino: FastifyBaseLogger | null = opts.requestLog?.child('api').pino ?? null;
  const app = Fastify({
    ...(requestPino === null ? { logger: false } : { loggerInstance: requestPino }),
    bodyLimit: cfg.bodyLimitBytes,
    routerOptions: { maxParamLength: 1000 },
    // Requests that arrive while closing get our error format (onRequest hook below).
    return503OnClosing: false,
    // A URL that cannot be decoded never reaches a route or the error handler.
    frameworkErrors: answerFrameworkError,
  });
  const hub = new TxFinalHub(service, reportError);
  const blocks = new BlockFanout(service, reportError);
  const validana = new ValidanaHandlers({ service, hub, reportError });

  // Bodies arrive as text whatever their content type; each route parses and checks them itself,
  // so malformed JSON gets our error format and a precise message.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    const error = httpErrorOf(err, cfg.bodyLimitBytes, reportError);
    void reply.code(statusOf(error)).send({ error });
  });
  app.addHook('onRequest', async (_req, reply) => {
    if (!closing) return undefined;
    return reply
      .code(503)
      .header('connection', 'close')
      .send({
        error: { code: 'shutting_down', message: 'the server is shutting down', details: {} },
      });
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? req.url;
    void reply.code(404).send({
      error: {
        code: 'not_found',
        message: `no route ${req.method} ${path}`,
        details: { method: req.method, path },
      },
    });
  });
  registerRoutes(app, { service, hub, batchMax: cfg.batchMax, waitTimeoutMs: cfg.waitTimeoutMs });
  for (const register of opts.routes ?? []) register(app, service);
  if (opts.dashboardDir !== undefined)
    registerDashboard(app, loadDashboardBundle(opts.dashboardDir));
  registerValidanaRest(app, validana, cfg.waitTimeoutMs);

  const ws = attachWebSockets(app, {
    feed: {
      service,
      hub,
      blocks,
      reportError,
      limits: {
        watchIdsPerMessageMax: WATCH_IDS_PER_MESSAGE_MAX,
        watchesPerConnectionMax: cfg.wsPendingMax,
      },
    },
    validana,
    validanaWs: { pendingMax: cfg.wsPendingMax, pushDelayMs: cfg.validanaPushDelayMs, reportError },
    conn: { sendBufferMaxBytes: cfg.wsSendBufferMaxBytes, closeGraceMs: cfg.wsCloseGraceMs },
    messageMaxBytes: cfg.wsMessageMaxBytes,
    pingIntervalMs: cfg.pingIntervalMs,
    reportError,
  });

  async function close(): Promise<void> {
    closing = true;
    blocks.close();
    // Ends every pending wait (REST answers 503 shutting_down) before the server stops.
    hub.close();
    await ws.close();
    await app.close();
  }

  await app.ready();
  let closed: Promise<void> | undefined;
  return {
    app,
    async listen(port: number, host = '127.0.0.1'): Promise<string> {
      return app.listen({ port, host });
    },
    close(): Promise<void> {
      closed ??= close();
      return closed;
    },
  };
}

/** Errors Fastify raises before routing (a URL that cannot be decoded). */
function answerFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (req.url.toLowerCase().startsWith('/api/v1/')) {
    void reply
      .code(400)
      .type('text/plain; charset=utf-8')
      .header('access-control-allow-origin', '*')
      .send('Invalid request url.');
    return;
  }
  void reply.code(400).send({ error: { code: 'bad_request', message: err.message, details: {} } });
}

function httpErrorOf(
  err: FastifyError | Error,
  bodyLimitBytes: number,
  reportError: ReportError,
): ApiError {
  if (err instanceof ChainError) return apiErrorOf(err, reportError, 'answering an HTTP request');
  const fastifyErr = err as Partial<FastifyError>;
  if (fastifyErr.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return {
      code: 'body_too_large',
      message: `the request body is larger than the limit of ${bodyLimitBytes} bytes`,
      details: { maxBytes: bodyLimitBytes },
    };
  }
  const status = fastifyErr.statusCode ?? 500;
  if (status >= 400 && status < 500)
    return { code: 'bad_request', message: err.message, details: {} };
  return apiErrorOf(err, reportError, 'answering an HTTP request');
}
