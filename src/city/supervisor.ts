// The services of a running city as one group: a service that ends while the city runs is
// reported once (the city then stops the rest), and stopping sends SIGTERM to every service,
// waits for all of them, and kills with SIGKILL whatever is still running after the stop time.

import type { RunningService, ServiceExit } from './service.js';

/** A processor commits its open block and closes its database on SIGTERM: a few seconds. */
export const STOP_TIMEOUT_MS = 30_000;

export interface StopReport {
  /** Services that ended on SIGTERM with status 0 (or had ended before). */
  readonly stopped: string[];
  /** Services that ended otherwise, or were killed after the stop time. */
  readonly failed: { readonly service: string; readonly exit: ServiceExit | 'killed' }[];
}

export class Supervisor {
  private readonly services: RunningService[] = [];
  private stopping = false;

  constructor(private readonly onExit: (s: RunningService, e: ServiceExit) => void) {}

  /** Watches a service from its spawn on; tells `onExit` if it ends before `stopAll`. */
  add(service: RunningService): RunningService {
    this.services.push(service);
    void service.exited.then((e) => {
      if (!this.stopping) this.onExit(service, e);
    });
    if (this.stopping) service.kill('SIGTERM');
    return service;
  }

  list(): readonly RunningService[] {
    return this.services;
  }

  isStopping(): boolean {
    return this.stopping;
  }

  /** Stops every service (the last started first) and waits for them; never throws. */
  async stopAll(): Promise<StopReport> {
    this.stopping = true;
    const running = [...this.services].reverse();
    for (const s of running) s.kill('SIGTERM');
    const killTimer = setTimeout(() => {
      for (const s of running) s.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    const stopped: string[] = [];
    const failed: StopReport['failed'] = [];
    for (const s of running) {
      const e = await s.exited;
      if (e.signal === 'SIGKILL') failed.push({ service: s.name, exit: 'killed' });
      else if (e.code === 0 || e.signal === 'SIGTERM') stopped.push(s.name);
      else failed.push({ service: s.name, exit: e });
    }
    clearTimeout(killTimer);
    return { stopped, failed };
  }
}
