// WebSocket upgrades on the API's HTTP server: /api/ws is our feed, every other path is Validana
// v1 (which closes with 4100 unless the path has a `v1` segment, as Validana's server does).
// Owns the keepalive timer and closes every connection (1001) on shutdown.

import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { WS_FEED_PATH } from './routes.js';
import type { ReportError } from './tx-final-hub.js';
import { handleValidanaConnection } from './validana/ws.js';
import type { ValidanaHandlers } from './validana/handlers.js';
import type { ValidanaWsOptions } from './validana/ws.js';
import { ApiSocket, CLOSE_GOING_AWAY } from './ws-conn.js';
import type { ConnLimits } from './ws-conn.js';
import { handleFeedConnection } from './ws-feed.js';
import type { FeedContext } from './ws-feed.js';

export interface WsServerDeps {
  readonly feed: FeedContext;
  readonly validana: ValidanaHandlers;
  readonly validanaWs: ValidanaWsOptions;
  readonly conn: ConnLimits;
  readonly messageMaxBytes: number;
  readonly pingIntervalMs: number;
  readonly reportError: ReportError;
}

export interface WsServer {
  /** Refuses new upgrades, closes every connection with 1001 and waits until all have ended. */
  close(): Promise<void>;
}

export function attachWebSockets(app: FastifyInstance, deps: WsServerDeps): WsServer {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: deps.messageMaxBytes,
    clientTracking: false,
  });
  const sockets = new Set<ApiSocket>();
  let closing = false;

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (closing) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const conn = new ApiSocket(ws, deps.conn, deps.reportError);
      sockets.add(conn);
      conn.onEnd(() => sockets.delete(conn));
      const path = (req.url ?? '').split('?')[0];
      if (path === WS_FEED_PATH || path === `${WS_FEED_PATH}/`)
        handleFeedConnection(conn, deps.feed);
      else handleValidanaConnection(conn, req.url, deps.validana, deps.validanaWs);
    });
  });

  const keepalive = setInterval(() => {
    for (const conn of sockets) conn.keepalive();
  }, deps.pingIntervalMs);
  keepalive.unref();

  return {
    async close(): Promise<void> {
      closing = true;
      clearInterval(keepalive);
      const ended = [...sockets].map((conn) => {
        conn.close(CLOSE_GOING_AWAY, 'Server shutting down.');
        return conn.whenEnded();
      });
      await Promise.all(ended);
      wss.close();
    },
  };
}
