// Validana's WebSocket form (PROTOCOL.md section 5): the `{id, type, data}` envelope, its error
// texts, and pushes, each sent at least pushDelayMs after the answer before it.

import type { ReportError } from '../tx-final-hub.js';
import type { ApiSocket } from '../ws-conn.js';
import { rawText } from '../ws-feed.js';
import { isJsonObject } from '../input.js';
import { CLOSE_UNSUPPORTED_VERSION, V_TEXT, checkValidanaPath } from './handlers.js';
import type { ValidanaHandlers, VSession } from './handlers.js';

export interface ValidanaWsOptions {
  /** Registrations (waits and push watches) one connection may hold. */
  readonly pendingMax: number;
  /** Minimum delay of a push, so it never arrives in the same read as the answer before it. */
  readonly pushDelayMs: number;
  readonly reportError: ReportError;
}

/**
 * Serves one Validana WebSocket connection. The path must hold a `v1` segment, otherwise the
 * connection is closed with 4100, which makes the client stop reconnecting.
 */
export function handleValidanaConnection(
  socket: ApiSocket,
  url: string | undefined,
  handlers: ValidanaHandlers,
  opts: ValidanaWsOptions,
): void {
  const path = checkValidanaPath(url);
  if (!path.ok) {
    socket.close(CLOSE_UNSUPPORTED_VERSION, path.reason);
    return;
  }
  const session = new WsSession(socket, opts);
  socket.ws.on('message', (data) => {
    onMessage(rawText(data)).catch((err: unknown) =>
      opts.reportError(err, 'handling a Validana WebSocket message'),
    );
  });

  async function onMessage(text: string): Promise<void> {
    let request: unknown;
    try {
      request = JSON.parse(text);
    } catch {
      socket.sendJson({ error: V_TEXT.invalidJson, status: 400 });
      return;
    }
    const id = isJsonObject(request) ? request['id'] : undefined;
    if (!isJsonObject(request) || typeof id !== 'string') {
      socket.sendJson({ error: V_TEXT.missingId, status: 400 });
      return;
    }
    if (typeof request['type'] !== 'string') {
      socket.sendJson({ error: V_TEXT.missingType, status: 400, id });
      return;
    }
    const result = await handlers.handle(request['type'].toLowerCase(), request['data'], session);
    if ('error' in result) socket.sendJson({ error: result.error, status: result.status, id });
    else if (result.data === undefined) socket.sendJson({ id, status: result.status });
    else socket.sendJson({ id, status: result.status, data: result.data });
  }
}

class WsSession implements VSession {
  readonly canPush = true;
  readonly waitTimeoutMs = null;
  private pending = 0;
  private readonly queue: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: ApiSocket,
    private readonly opts: ValidanaWsOptions,
  ) {
    socket.onEnd(() => {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.queue.length = 0;
    });
  }

  get pendingCount(): number {
    return this.pending;
  }

  get pendingMax(): number {
    return this.opts.pendingMax;
  }

  // The Validana client (on ws 7) handles every frame of one network read before its own
  // promise continuations run; a push read together with the answer before it would arrive
  // before the client registered for it. Pushes therefore leave at least pushDelayMs later.
  push(pushType: string, data: unknown): void {
    this.queue.push(JSON.stringify({ pushType, data, status: 200 }));
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const texts = this.queue.splice(0);
      for (const text of texts) this.socket.send(text);
    }, this.opts.pushDelayMs);
  }

  track(cleanup: () => void): () => void {
    this.pending += 1;
    let active = true;
    const unregister = this.socket.onEnd(() => {
      if (!active) return;
      active = false;
      this.pending -= 1;
      cleanup();
    });
    return () => {
      if (!active) return;
      active = false;
      this.pending -= 1;
      unregister();
    };
  }
}
