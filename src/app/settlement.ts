// The settlement agent beside the processor (src/market/settlement-agent.ts): its key (a key file
// of its own next to the processor's, made on first start) and its SettlePeriod calls, signed
// with that key and handed to the processor like any client's transaction. Started only when
// the chain has the SettlePeriod contract.

import { join } from 'node:path';
import { packContract } from '../contracts/authoring/pack.js';
import type { PrivateKey } from '../core/keys.js';
import type { Scheduler } from '../core/scheduler.js';
import { signTx } from '../chain/tx.js';
import { settlePeriod } from '../energy/index.js';
import type { Logger } from '../ledger/log.js';
import { SettlementAgent } from '../market/settlement-agent.js';
import type { SettlementSubmitter } from '../market/settlement-agent.js';
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

/**
 * Starts the settlement agent when the chain has the SettlePeriod contract of this version;
 * returns it (null when the chain has no market contracts).
 */
export async function startSettlementAgent(
  processor: Processor,
  sql: Sql,
  dataDir: string,
  scheduler: Scheduler,
  log: Logger,
): Promise<SettlementAgent | null> {
  const hashHex = packContract(settlePeriod).hashHex;
  const contracts = await processor.listContracts();
  if (!contracts.some((c) => c.hash === hashHex)) {
    log.info('no settlement agent: the chain has no SettlePeriod contract of this version');
    return null;
  }
  const keyFile = settlementKeyFile(dataDir);
  const key = (await readKeyFile(keyFile)) ?? (await createKeyFile(keyFile));
  const agent = new SettlementAgent(
    sql,
    processorSubmitter(processor, key, hashHex, scheduler),
    scheduler,
    log,
  );
  agent.start();
  log.info('the settlement agent settles market periods after their gate closure', {
    address: key.address,
  });
  return agent;
}
