// A TCP proxy between a mirror node and its upstream, for end-to-end fault injection: it can cut
// every connection (a dropped network), refuse new ones for a while, point at another port (a
// restarted processor), slow the upstream's answers down (to catch a node mid-catch-up), and keep
// one HTTP request from the upstream (to catch a client in the middle of sending it).

import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';

class Throttle extends Transform {
  constructor(private readonly rate: () => number | null) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const rate = this.rate();
    if (rate === null) {
      done(null, chunk);
      return;
    }
    setTimeout(() => done(null, chunk), Math.ceil((chunk.length / rate) * 1000));
  }
}

/** One HTTP request kept from the upstream: its bytes, once they have all arrived. */
interface Capture {
  readonly startsWith: string;
  readonly resolve: (request: Buffer) => void;
}

/**
 * Passes a client's bytes on to the upstream, except those of a request the proxy was asked to
 * keep: that request, and anything after it on the same connection, never reaches the upstream.
 */
class RequestGate extends Transform {
  private kept: Buffer[] | null = null;
  private capture: Capture | null = null;

  constructor(private readonly takeCapture: (firstChunk: Buffer) => Capture | null) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.kept === null) {
      this.capture = this.takeCapture(chunk);
      if (this.capture === null) {
        done(null, chunk);
        return;
      }
      this.kept = [];
    }
    this.kept.push(chunk);
    const request = Buffer.concat(this.kept);
    if (this.capture !== null && isWholeRequest(request)) {
      this.capture.resolve(request);
      this.capture = null;
    }
    done();
  }
}

/** Whether `bytes` hold an HTTP request's head and its whole Content-Length body. */
function isWholeRequest(bytes: Buffer): boolean {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return false;
  const head = bytes.subarray(0, headEnd).toString('latin1');
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1];
  return bytes.length >= headEnd + 4 + Number(length ?? 0);
}

/** The body of a captured HTTP request, as text. */
export function requestBody(request: Buffer): string {
  return request.subarray(request.indexOf('\r\n\r\n') + 4).toString('utf8');
}

export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Bytes per second from the upstream to the client; null = as fast as it comes. */
  bytesPerSecond: number | null = null;
  port = 0;
  private capture: Capture | null = null;

  constructor(
    private targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  retarget(port: number): void {
    this.targetPort = port;
  }

  /** Listens (on the same port as before when it was up earlier). */
  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(new RequestGate((chunk) => this.takeCapture(chunk))).pipe(upstream);
      upstream.pipe(new Throttle(() => this.bytesPerSecond)).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    const address = server.address();
    if (address !== null && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  /**
   * Keeps the next request whose first bytes are `startsWith` (say `POST /api/transactions`) from
   * the upstream, and resolves with its bytes once they have all arrived. The client waits for an
   * answer that never comes; the connection stays open until the client gives up or dies.
   */
  keepNextRequest(startsWith: string): Promise<Buffer> {
    return new Promise((resolve) => {
      this.capture = { startsWith, resolve };
    });
  }

  private takeCapture(firstChunk: Buffer): Capture | null {
    const capture = this.capture;
    if (capture === null || !firstChunk.toString('latin1').startsWith(capture.startsWith))
      return null;
    this.capture = null;
    return capture;
  }

  /** Cuts every open connection; new ones are still accepted. */
  drop(): void {
    for (const s of this.sockets) s.destroy();
  }

  /** Cuts every connection and stops accepting new ones. */
  async down(): Promise<void> {
    this.drop();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
