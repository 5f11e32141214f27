// The households' smart meters: one simulated DSMR meter per household (src/meter/sim) behind a
// TCP port on 127.0.0.1, the way a P1-to-network adapter offers a meter's port. Each meter emits
// its telegrams as the demo's clock reaches their times, to whoever is connected (a P1 port does
// not keep what nobody read), from the start of the day to its end.

import { createServer, type Server, type Socket } from 'node:net';
import type { Cancel, Scheduler } from '../core/scheduler.js';
import { MeterSimulator, type SimulatedTelegram } from '../meter/sim/simulate.js';
import type { Household } from './community.js';

/** A telegram every simulated minute: 15 per quarter hour, enough for the gateway's cuts. */
export const TELEGRAM_INTERVAL_S = 60;
/** How often (real ms) the meters look at the clock. */
const TICK_MS = 100;
const SITE = { latitude: 53.2, longitude: 6.57 };

export interface DemoMeter {
  readonly equipmentId: string;
  readonly port: number;
}

interface Stream {
  readonly server: Server;
  readonly sim: MeterSimulator;
  next: SimulatedTelegram;
  readonly sockets: Set<Socket>;
}

export class MeterFeed {
  private readonly streams: Stream[] = [];
  private cancel: Cancel | null = null;
  private telegramsSent = 0;

  private constructor(
    private readonly clock: Scheduler,
    private readonly endMs: number,
  ) {}

  /**
   * Opens a port per household; telegrams go out from `startMs` to `endMs` (inclusive) once
   * `start` is called. `seed` and the household's number fix its weather and appliances.
   */
  static async open(
    clock: Scheduler,
    homes: readonly Household[],
    o: { seed: number; startMs: number; endMs: number; idPrefix: string },
  ): Promise<{ feed: MeterFeed; meters: DemoMeter[] }> {
    const feed = new MeterFeed(clock, o.endMs);
    const meters: DemoMeter[] = [];
    try {
      for (const [i, h] of homes.entries()) {
        const equipmentId = `${o.idPrefix}${String(i + 1).padStart(3, '0')}`;
        const sim = new MeterSimulator({
          equipmentId,
          startMs: o.startMs,
          intervalS: TELEGRAM_INTERVAL_S,
          seed: o.seed * 10_000 + i + 1,
          ...SITE,
          pvKwp: h.pvKwp,
          baseLoadW: h.baseLoadW,
          gas: false,
        });
        const stream: Stream = {
          server: createServer(),
          sim,
          next: sim.next(),
          sockets: new Set(),
        };
        stream.server.on('connection', (socket) => {
          stream.sockets.add(socket);
          socket.on('close', () => stream.sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        });
        feed.streams.push(stream);
        meters.push({ equipmentId, port: await listen(stream.server) });
      }
    } catch (err) {
      await feed.close();
      throw err;
    }
    return { feed, meters };
  }

  get sent(): number {
    return this.telegramsSent;
  }

  /** Every meter's port has its reader (the gateway) connected. */
  connected(): boolean {
    return this.streams.every((s) => s.sockets.size > 0);
  }

  start(): void {
    const tick = (): void => {
      this.emitDue();
      this.cancel = this.clock.after(TICK_MS, tick);
    };
    tick();
  }

  private emitDue(): void {
    const nowMs = Math.min(this.clock.nowMs(), this.endMs);
    for (const s of this.streams) {
      while (s.next.timestampMs <= nowMs) {
        for (const socket of s.sockets) socket.write(s.next.text);
        this.telegramsSent += 1;
        s.next = s.sim.next();
      }
    }
  }

  async close(): Promise<void> {
    this.cancel?.();
    this.cancel = null;
    await Promise.all(
      this.streams.map(
        (s) =>
          new Promise<void>((resolve) => {
            for (const socket of s.sockets) socket.destroy();
            s.server.close(() => resolve());
          }),
      ),
    );
  }
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : 0);
    });
  });
}
