// A TCP proxy between a mirror node and its upstream, for end-to-end fault injection: it can cut
// every connection (a dropped network), refuse new ones for a while, point at another port (a
// restarted processor), and slow the upstream's answers down (to catch a node mid-catch-up).

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

export class TcpProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  /** Bytes per second from the upstream to the client; null = as fast as it comes. */
  bytesPerSecond: number | null = null;
  port = 0;

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
      client.pipe(upstream);
      upstream.pipe(new Throttle(() => this.bytesPerSecond)).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', () => resolve()));
    const address = server.address();
    if (address !== null && typeof address === 'object') this.port = address.port;
    this.server = server;
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
