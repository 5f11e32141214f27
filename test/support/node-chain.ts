// A real chain for mirror node tests, made on the test chain (real executor, in-memory PGlite):
// genesis, the energy contracts, then blocks of Trader calls, some accepted and some rejected.
// Also the tools to tamper with its blocks (re-signing with the processor's key or another one),
// and an in-process mirror node over an in-memory database.

import { decodeBlock } from '../../src/chain/block-decode.js';
import { buildBlock } from '../../src/chain/block-encode.js';
import { utf8Encode } from '../../src/core/bytes.js';
import type { BlockFields } from '../../src/chain/block-layout.js';
import { PrivateKey } from '../../src/core/keys.js';
import { signTx } from '../../src/chain/tx.js';
import type { Block, Tx } from '../../src/chain/types.js';
import { createExecutor } from '../../src/contracts/runtime/executor.js';
import { systemScheduler } from '../../src/core/scheduler.js';
import type { SignaturePool } from '../../src/ledger/signature-pool.js';
import { ChainStore } from '../../src/store/chain-store.js';
import { openDatabase } from '../../src/store/database.js';
import type { Database } from '../../src/store/types.js';
import { Follower } from '../../src/node/follower.js';
import type { FollowerOptions } from '../../src/node/follower.js';
import { silentLogger } from '../../src/ledger/log.js';
import type { Logger } from '../../src/ledger/log.js';
import { MirrorNode } from '../../src/node/mirror.js';
import { HttpUpstream } from '../../src/node/upstream.js';
import { TestChain } from './test-chain.js';

export const NODE_TEST_CHAIN_ID = 'hanzenet-node-test';
export const nodeTestProcessorKey = PrivateKey.generateNonRandom(
  utf8Encode('node test processor'),
  utf8Encode('salt'),
);
export const nodeTestOwnerKey = PrivateKey.generateNonRandom(
  utf8Encode('node test context owner'),
  utf8Encode('salt'),
);
export const nodeTestStrangerKey = PrivateKey.generateNonRandom(
  utf8Encode('node test stranger'),
  utf8Encode('salt'),
);

export interface RecordedChain {
  readonly chainId: string;
  readonly key: PrivateKey;
  readonly raws: Uint8Array[];
  readonly traderHash: string;
}

/** A Trader call by the context owner (accepted), or by a stranger for the owner's context (rejected). */
export function traderTx(
  traderHash: string,
  chainId: string,
  opts: { stranger?: boolean; validTillMs?: number } = {},
): Tx {
  const signer = opts.stranger === true ? nodeTestStrangerKey : nodeTestOwnerKey;
  const payload = {
    context: nodeTestOwnerKey.address,
    address: PrivateKey.generate().address,
    allowed: true,
  };
  return signTx(
    {
      contractHashHex: traderHash,
      validTillMs: opts.validTillMs ?? 0,
      payloadText: JSON.stringify(payload),
    },
    signer,
    chainId,
  );
}

/**
 * Produces a chain on the test chain (test-chain.ts: the real executor and store, blocks signed
 * by the processor key): block 0, the energy contracts in block 1, then `blocks` blocks of
 * `txsPerBlock` Trader calls (one of them rejected, one with a valid-till an hour ahead),
 * returned as raw bytes.
 */
export async function recordChain(
  opts: { blocks?: number; txsPerBlock?: number; db?: Database } = {},
): Promise<RecordedChain> {
  const chain = await TestChain.open({
    chainId: NODE_TEST_CHAIN_ID,
    processorKey: nodeTestProcessorKey,
    // A second a block: every block is in the past, as a processor's would be.
    genesisMs: Date.now() - 60_000,
    ...(opts.db === undefined ? {} : { db: opts.db }),
  });
  try {
    const traderHash = (await chain.install()).get('Trader');
    if (traderHash === undefined) throw new Error('no Trader contract');
    for (let b = 0; b < (opts.blocks ?? 6); b++) {
      const txs = Array.from({ length: opts.txsPerBlock ?? 5 }, (_, i) =>
        traderTx(traderHash, NODE_TEST_CHAIN_ID, {
          stranger: i === 1,
          validTillMs: i === 2 ? Date.now() + 3_600_000 : 0,
        }),
      );
      const { outcomes } = await chain.runBlock(txs);
      if (outcomes.some((o) => o.status === 'invalid'))
        throw new Error(`a test transaction was invalid: ${JSON.stringify(outcomes)}`);
    }
    return {
      chainId: NODE_TEST_CHAIN_ID,
      key: nodeTestProcessorKey,
      raws: await chain.store.getRawBlocks(0, 1000),
      traderHash,
    };
  } finally {
    await chain.close();
  }
}

/** The fields of a block, to build a variant of it. */
export function fieldsOf(block: Block): BlockFields {
  return {
    height: block.height,
    previousHashHex: block.previousHashHex,
    processedMs: block.processedMs,
    stateDigestHex: block.stateDigestHex,
    genesis: block.genesis,
    txs: block.txs,
    outcomes: block.outcomes,
  };
}

/** Decodes raw block `height` of the chain, changes it and signs it again (by default with the processor key). */
export function resigned(
  chain: RecordedChain,
  height: number,
  change: (f: BlockFields) => BlockFields,
  key: PrivateKey = chain.key,
): Uint8Array {
  const raw = chain.raws[height];
  if (raw === undefined) throw new Error(`no block ${height}`);
  return buildBlock(change(fieldsOf(decodeBlock(raw, chain.chainId))), key, chain.chainId).bytes;
}

export interface TestNode {
  readonly node: MirrorNode;
  readonly follower: Follower;
  readonly db: Database;
  close(): Promise<void>;
}

/** A mirror node over an in-memory database following `url` (not serving HTTP). */
export interface TestNodeOptions {
  readonly processorAddress?: string;
  readonly log?: Logger;
  readonly follower?: FollowerOptions;
  /** A shared database (emptied by the caller); default a fresh in-memory one. */
  readonly db?: Database;
  /** The node's store over the database (to inject failures); default a ChainStore. */
  readonly store?: (db: Database) => ChainStore;
}

export async function startTestNode(
  url: string,
  signatures: SignaturePool,
  opts: TestNodeOptions = {},
): Promise<TestNode> {
  const db = opts.db ?? (await openDatabase({ memory: true }));
  const store = opts.store?.(db) ?? new ChainStore(db);
  await store.migrate();
  const upstream = new HttpUpstream(url, systemScheduler, { fetchTimeoutMs: 10_000 });
  const log = opts.log ?? silentLogger;
  const node = await MirrorNode.open({
    store,
    openExecutor: () => createExecutor({ reader: store }),
    signatures,
    upstream,
    scheduler: systemScheduler,
    log,
    processorAddress: opts.processorAddress ?? null,
  });
  const follower = new Follower(node, upstream, log, systemScheduler, {
    reconnectMinMs: 20,
    reconnectMaxMs: 200,
    ...opts.follower,
  });
  follower.start();
  return {
    node,
    follower,
    db,
    close: async () => {
      await follower.stop();
      await node.close();
      if (opts.db === undefined) await db.close();
    },
  };
}

/** Resolves once the node's head reaches `height` or it raised an alarm; fails after `timeoutMs`. */
export async function untilHeightOrAlarm(
  node: MirrorNode,
  height: number,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((node.headInfo?.height ?? -1) < height && node.alarm === null) {
    if (Date.now() > deadline)
      throw new Error(
        `the node reached height ${node.headInfo?.height ?? -1}, not ${height}, within ${timeoutMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
