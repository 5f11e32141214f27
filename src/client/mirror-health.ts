// The processor's view of its mirror nodes (docs/api.md "GET /api/mirrors", decision 0014): each
// node's /api/info asked at a modest interval with a timeout, one request per node at a time, and
// the last answer kept with the time it was asked and the processor's own head at that moment, so
// that GET /api/mirrors answers from memory without reaching out. Time comes through a Scheduler.

import type { MirrorStatusView } from '../chain/views.js';
import type { Scheduler } from '../core/scheduler.js';
import { HanzenetClient } from './client.js';
import { isClientError } from './errors.js';

/** How often each node is asked, and how long one answer may take. */
export const MIRROR_POLL_MS_DEFAULT = 5000;
export const MIRROR_TIMEOUT_MS_DEFAULT = 2000;
/** Most mirror nodes one processor watches. */
export const MIRRORS_MAX = 32;

export type { MirrorStatusView };

export interface MirrorsView {
  /** The processor's head height now. */
  readonly headHeight: number | null;
  readonly pollMs: number;
  readonly mirrors: MirrorStatusView[];
}

export interface MirrorWatchDeps {
  readonly urls: readonly string[];
  readonly chainId: string;
  readonly scheduler: Scheduler;
  /** The processor's head height now (null before block 0). */
  readonly headHeight: () => Promise<number | null>;
  readonly pollMs?: number;
  readonly timeoutMs?: number;
}

interface Slot {
  readonly client: HanzenetClient;
  status: MirrorStatusView;
}

export class MirrorWatch {
  readonly #deps: MirrorWatchDeps;
  readonly #slots: Slot[];
  readonly #pollMs: number;
  #cancel: (() => void) | null = null;
  #stopped = false;
  #round: Promise<void> = Promise.resolve();

  constructor(deps: MirrorWatchDeps) {
    this.#deps = deps;
    this.#pollMs = deps.pollMs ?? MIRROR_POLL_MS_DEFAULT;
    const timeoutMs = deps.timeoutMs ?? MIRROR_TIMEOUT_MS_DEFAULT;
    this.#slots = deps.urls.map((url) => ({
      client: new HanzenetClient({ url, fetchTimeoutMs: timeoutMs }),
      status: unchecked(url),
    }));
  }

  /** Checks every node now, then every pollMs (each round after the previous one ended). */
  start(): void {
    if (this.#slots.length === 0) return;
    const tick = (): void => {
      if (this.#stopped) return;
      this.#round = this.checkAll().then(() => {
        if (!this.#stopped) this.#cancel = this.#deps.scheduler.after(this.#pollMs, tick);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancel?.();
    await this.#round;
    for (const slot of this.#slots) slot.client.close();
  }

  /** Asks every node once, at the same time; never throws (a failure is the node's status). */
  async checkAll(): Promise<void> {
    // Without the processor's own head (its database briefly away) the lag is unknown this round.
    const ownHeight = await this.#deps.headHeight().catch(() => null);
    await Promise.all(this.#slots.map((slot) => this.#check(slot, ownHeight)));
  }

  async view(): Promise<MirrorsView> {
    return {
      headHeight: await this.#deps.headHeight(),
      pollMs: this.#pollMs,
      mirrors: this.#slots.map((s) => s.status),
    };
  }

  async #check(slot: Slot, ownHeight: number | null): Promise<void> {
    const url = slot.client.url;
    const checkedMs = this.#deps.scheduler.nowMs();
    const checked = { checkedMs, checkedAt: new Date(checkedMs).toISOString() };
    try {
      const info = await slot.client.info();
      const headHeight = info.head?.height ?? null;
      const wrongChain =
        info.chainId !== this.#deps.chainId
          ? {
              code: 'mirror_wrong_chain',
              message: `${url} mirrors chain ${info.chainId}, not ${this.#deps.chainId}`,
            }
          : info.role !== 'node'
            ? { code: 'mirror_not_a_node', message: `${url} answers as a ${info.role}` }
            : null;
      slot.status = {
        url,
        reachable: true,
        headHeight,
        lagBlocks:
          headHeight === null || ownHeight === null ? null : Math.max(0, ownHeight - headHeight),
        alarm: info.alarm ?? null,
        error: wrongChain,
        ...checked,
      };
    } catch (err) {
      // An unreachable node is what this watch reports, not a failure of the processor.
      const error = isClientError(err)
        ? { code: err.code, message: err.message }
        : { code: 'mirror_unreachable', message: (err as Error).message };
      slot.status = {
        url,
        reachable: false,
        headHeight: null,
        lagBlocks: null,
        alarm: null,
        error,
        ...checked,
      };
    }
  }
}

function unchecked(url: string): MirrorStatusView {
  return {
    url,
    reachable: false,
    headHeight: null,
    lagBlocks: null,
    alarm: null,
    error: null,
    checkedMs: null,
    checkedAt: null,
  };
}
