// A simulated network between the processes of one simulation. A message sent is lost, delayed
// or delivered twice as the run's fault plan and seed decide; unequal delays reorder messages.
// A message to an address nobody listens on (a process that is down) is lost too, as a real
// connection refused would be.

import type { Scheduler } from '../core/scheduler.js';
import type { NetworkFaults } from './faults.js';
import type { Random } from './random.js';
import type { Trace } from './trace.js';

export type MessageHandler<M> = (message: M, from: string) => void;

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Arrived where nobody listened (the receiver was down). */
  undeliverable: number;
}

export class SimNetwork<M> {
  private readonly handlers = new Map<string, MessageHandler<M>>();
  private readonly blocked = new Set<string>();
  private readonly counters: NetworkStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    undeliverable: 0,
  };

  constructor(
    private readonly scheduler: Scheduler,
    private readonly random: Random,
    private faults: NetworkFaults,
    private readonly trace: Trace,
    /** How a message is named in the trace. */
    private readonly describe: (message: M) => string = () => '',
  ) {}

  /** Starts delivering messages for `address` to `handler`; the returned function stops it (a crash). */
  listen(address: string, handler: MessageHandler<M>): () => void {
    if (this.handlers.has(address)) throw new Error(`address ${address} is already listened on`);
    this.handlers.set(address, handler);
    return () => {
      if (this.handlers.get(address) === handler) this.handlers.delete(address);
    };
  }

  /** Cuts (or restores) the link between `a` and `b`, both ways: messages on it are lost. */
  setLinkDown(a: string, b: string, down: boolean): void {
    const key = linkKey(a, b);
    if (down) this.blocked.add(key);
    else this.blocked.delete(key);
    this.trace.record('network', down ? 'link-down' : 'link-up', `${a}<->${b}`);
  }

  /** Ends every fault: no loss, no duplicates, the shortest delay, every link up (a run's end). */
  heal(healed: NetworkFaults): void {
    this.faults = healed;
    this.blocked.clear();
    this.trace.record('network', 'heal');
  }

  send(from: string, to: string, message: M): void {
    this.counters.sent++;
    const what = this.describe(message);
    if (this.blocked.has(linkKey(from, to)) || this.random.chance(this.faults.dropProbability)) {
      this.counters.dropped++;
      this.trace.record('network', 'drop', `${from}->${to} ${what}`);
      return;
    }
    this.deliverLater(from, to, message, what);
    if (this.random.chance(this.faults.duplicateProbability)) {
      this.counters.duplicated++;
      this.trace.record('network', 'duplicate', `${from}->${to} ${what}`);
      this.deliverLater(from, to, message, what);
    }
  }

  stats(): Readonly<NetworkStats> {
    return { ...this.counters };
  }

  private deliverLater(from: string, to: string, message: M, what: string): void {
    const f = this.faults;
    const delayMs = this.random.delayMs(f.delayMinMs, f.delayMeanMs, f.delayMaxMs);
    this.scheduler.after(delayMs, () => {
      const handler = this.handlers.get(to);
      if (handler === undefined) {
        this.counters.undeliverable++;
        this.trace.record('network', 'undeliverable', `${from}->${to} ${what}`);
        return;
      }
      this.counters.delivered++;
      handler(message, from);
    });
  }
}

function linkKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`;
}
