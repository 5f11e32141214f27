// `hanzenet uplink --child URL --parent URL`: the composition root of the uplink
// (src/stack/uplink.ts). Real clock, the two chains' APIs through the HanzeNet client, the
// service log; prints one JSON line when it runs and stops on SIGINT/SIGTERM. It keeps no state,
// so a restart (or a second uplink) simply carries on from what the chains say.

import { HanzenetClient } from '../client/client.js';
import { systemScheduler } from '../core/scheduler.js';
import { stopOnSignals, untilAborted } from '../ledger/lifecycle.js';
import { serviceLogger } from '../ledger/log.js';
import type { LogLevel } from '../ledger/log.js';
import { Uplink } from '../stack/uplink.js';

export interface UplinkRunOptions {
  readonly child: string;
  readonly parent: string;
  readonly intervalMs: number;
  readonly logLevel?: LogLevel | undefined;
}

export async function runUplink(opts: UplinkRunOptions): Promise<void> {
  const log = serviceLogger(systemScheduler, 'uplink', opts.logLevel);
  const stopping = stopOnSignals(log);
  const child = new HanzenetClient({ url: opts.child });
  const parent = new HanzenetClient({ url: opts.parent });
  const uplink = new Uplink(child, parent, systemScheduler, log, { intervalMs: opts.intervalMs });
  try {
    uplink.start();
    process.stdout.write(
      `${JSON.stringify({ uplink: 'running', child: child.url, parent: parent.url, intervalMs: opts.intervalMs })}\n`,
    );
    log.info('the uplink carries positions up and settlements down', {
      child: child.url,
      parent: parent.url,
      intervalMs: opts.intervalMs,
    });
    await untilAborted(stopping.signal);
    await uplink.stop();
  } finally {
    child.close();
    parent.close();
    stopping.dispose();
  }
}
