// The settlement agent beside the processor (src/market/settlement-agent.ts): its key (a key file
// of its own next to the processor's, made on first start) and its SettlePeriod calls, signed
// with that key and handed to the processor like any client's transaction. Started once the
// chain has the SettlePeriod contract.

import { join } from 'node:path';
import { packContract } from '../contracts/authoring/pack.js';
import type { PrivateKey } from '../core/keys.js';
import type { Cancel, Scheduler } from '../core/scheduler.js';
import { signTx } from '../chain/tx.js';
import { settlePeriod } from '../energy/index.js';
import type { Logger } from '../ledger/log.js';
import { SettlementAgent } from '../market/settlement-agent.js';
import type { SettlementAgentOptions, SettlementSubmitter } from '../market/settlement-agent.js';
import type { Processor } from '../processor/processor.js';
import { createKeyFile, readKeyFile } from '../store/key-file.js';
import type { Sql } from '../store/types.js';

/** How long a SettlePeriod call may take to become final before the agent tries again later. */
const FINAL_WAIT_MS = 30_000;

/** The settlement agent's key file in a data directory. */
export function settlementKeyFile(dataDir: string): string {
  return join(dataDir, 'settlement.key');
}

/** SettlePeriod calls through the processor, each awaited until it is final. */
export function processorSubmitter(
  processor: Processor,
  key: PrivateKey,
  contractHashHex: string,
  scheduler: Scheduler,
): SettlementSubmitter {
  return {
    async settle(context, periodStartMs) {
      const tx = signTx(
        {
          contractHashHex,
          validTillMs: 0,
          payloadText: JSON.stringify({ context, periodStartMs }),
        },
        key,
        processor.chainId,
      );
      return new Promise((resolve) => {
        let cancelTimer = (): void => {};
        const off = processor.onTxFinal((view) => {
          if (view.id !== tx.idHex) return;
          off();
          cancelTimer();
          resolve({ status: view.status, ...(view.code === null ? {} : { code: view.code }) });
        });
        cancelTimer = scheduler.after(FINAL_WAIT_MS, () => {
          off();
          resolve(null);
        });
        processor.submit([tx.bytes]).then(
          ([result]) => {
            if (result?.ok) return;
            off();
            cancelTimer();
            resolve(null);
          },
          () => {
            off();
            cancelTimer();
            resolve(null);
          },
        );
      });
    },
  };
}

/** How often a processor without the SettlePeriod contract looks whether it has been installed. */
const CONTRACT_CHECK_MS = 5000;

/** The settlement agent of a processor, running or waiting for its contract. */
export interface SettlementAgentHandle {
  stop(): Promise<void>;
}

/**
 * Starts the settlement agent once the chain has the SettlePeriod contract of this version: at
 * once, or, on a chain started without it (`--no-energy`), as soon as `hanzenet energy install`
 * has created it (looked for every 5 seconds).
 */
export async function startSettlementAgent(
  processor: Processor,
  sql: Sql,
  dataDir: string,
  scheduler: Scheduler,
  log: Logger,
  options: SettlementAgentOptions = {},
): Promise<SettlementAgentHandle> {
  const hashHex = packContract(settlePeriod).hashHex;
  let agent: SettlementAgent | null = null;
  let cancelCheck: Cancel = () => {};
  let stopped = false;
  const tryStart = async (): Promise<boolean> => {
    const contracts = await processor.listContracts();
    if (!contracts.some((c) => c.hash === hashHex)) return false;
    const keyFile = settlementKeyFile(dataDir);
    const key = (await readKeyFile(keyFile)) ?? (await createKeyFile(keyFile));
    if (stopped) return true;
    agent = new SettlementAgent(
      sql,
      processorSubmitter(processor, key, hashHex, scheduler),
      scheduler,
      log,
      options,
    );
    agent.start();
    log.info('the settlement agent settles market periods after their gate closure', {
      address: key.address,
    });
    return true;
  };
  const checkLater = (): void => {
    cancelCheck = scheduler.after(CONTRACT_CHECK_MS, () => {
      tryStart().then(
        (started) => {
          if (!started && !stopped) checkLater();
        },
        (err: unknown) => {
          log.warn('the settlement agent could not look for the SettlePeriod contract', {
            error: err instanceof Error ? err.message : String(err),
          });
          if (!stopped) checkLater();
        },
      );
    });
  };
  if (!(await tryStart())) {
    log.info(
      'the settlement agent waits for the SettlePeriod contract of this version (hanzenet energy install)',
    );
    checkLater();
  }
  return {
    async stop() {
      stopped = true;
      cancelCheck();
      if (agent !== null) await agent.stop();
    },
  };
}
