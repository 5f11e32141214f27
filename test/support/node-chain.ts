// A real chain for mirror node tests, produced by a real in-process Processor (in-memory PGlite):
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
import { installEnergyContracts } from '../../src/app/install-energy.js';
import { systemScheduler } from '../../src/core/scheduler.js';
import { DEFAULT_PROCESSOR_CONFIG, Processor } from '../../src/processor/processor.js';
import { SignaturePool } from '../../src/ledger/signature-pool.js';
import { ChainStore } from '../../src/store/chain-store.js';
import { openDatabase } from '../../src/store/database.js';
import type { Database } from '../../src/store/types.js';
import { Follower } from '../../src/node/follower.js';
import type { FollowerOptions } from '../../src/node/follower.js';
import { silentLogger } from '../../src/ledger/log.js';
import type { Logger } from '../../src/ledger/log.js';
import { MirrorNode } from '../../src/node/mirror.js';
import { HttpUpstream } from '../../src/node/upstream.js';

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

const silentLog = silentLogger;

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
 * Produces a chain: block 0, the energy contracts, then `blocks` blocks of `txsPerBlock` Trader
 * calls (one of them rejected, one with a valid-till an hour ahead), returned as raw bytes.
 */
export async function recordChain(
  opts: { blocks?: number; txsPerBlock?: number; db?: Database } = {},
): Promise<RecordedChain> {
  const db = opts.db ?? (await openDatabase({ memory: true }));
  const store = new ChainStore(db);
  await store.migrate();
  const verifier = await SignaturePool.start({ workers: 1 });
  const executor = await createExecutor({ reader: store });
  const processor = await Processor.open(
    {
      store,
      executor,
      verifier,
      key: nodeTestProcessorKey,
      scheduler: systemScheduler,
      config: { ...DEFAULT_PROCESSOR_CONFIG, blockIntervalMs: 5 },
      log: silentLog,
    },
    NODE_TEST_CHAIN_ID,
  );
  try {
    processor.start();
    await installEnergyContracts(processor, nodeTestProcessorKey, silentLog);
    await processor.stop();
    const traderHash = (await processor.listContracts()).find((c) => c.type === 'Trader')?.hash;
    if (traderHash === undefined) throw new Error('no Trader contract');
    for (let b = 0; b < (opts.blocks ?? 6); b++) {
      const txs = Array.from({ length: opts.txsPerBlock ?? 5 }, (_, i) =>
        traderTx(traderHash, NODE_TEST_CHAIN_ID, {
          stranger: i === 1,
          validTillMs: i === 2 ? Date.now() + 3_600_000 : 0,
        }),
      );
      const results = await processor.submit(txs.map((t) => t.bytes));
      if (results.some((r) => !r.ok))
        throw new Error(`a test transaction was refused: ${JSON.stringify(results)}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
      if ((await processor.produceNow()) === null) throw new Error('no block was produced');
    }
    return {
      chainId: NODE_TEST_CHAIN_ID,
      key: nodeTestProcessorKey,
      raws: await store.getRawBlocks(0, 1000),
      traderHash,
    };
  } finally {
    await processor.stop();
    await executor.close();
    await verifier.close();
    if (opts.db === undefined) await db.close();
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
