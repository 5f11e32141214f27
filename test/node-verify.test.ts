// The mirror node's checks, in process: a fake upstream serves a real chain (produced by a real
// Processor) or a tampered variant of it, and the node must verify the real one and raise the
// alarm at exactly the tampered block, naming the block, the transaction and what differed, while
// keeping every block before it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlock } from '../src/chain/block-decode.js';
import { PrivateKey } from '../src/core/keys.js';
import { decodeTx } from '../src/chain/tx.js';
import type { ChainAlarm, TxView } from '../src/chain/views.js';
import { createApiServer } from '../src/api/server.js';
import { SIGNATURES_INLINE_BELOW, SignaturePool } from '../src/ledger/signature-pool.js';
import { FakeUpstream } from './support/node-fake-upstream.js';
import { openDatabase } from '../src/store/database.js';
import type { CommitBlockInput } from '../src/chain/records.js';
import type { Database } from '../src/store/types.js';
import { ChainStore } from '../src/store/chain-store.js';
import type { MirrorNode } from '../src/node/mirror.js';
import {
  recordChain,
  resigned,
  startTestNode,
  traderTx,
  untilHeightOrAlarm,
} from './support/node-chain.js';
import { resetDatabase } from './support/test-db.js';
import type { RecordedChain, TestNode, TestNodeOptions } from './support/node-chain.js';
import { ChainError } from '../src/core/errors.js';

let chain: RecordedChain;
let signatures: SignaturePool;
/** One embedded database for every test, emptied before each (opening one takes seconds). */
let db: Database;
/** Height of the chain's last block, and of the block the tampering tests change. */
let last: number;
let target: number;

before(async () => {
  db = await openDatabase({ memory: true });
  chain = await recordChain({ blocks: 6, txsPerBlock: 5, db });
  signatures = await SignaturePool.start({ workers: 2, inlineBelow: SIGNATURES_INLINE_BELOW });
  last = chain.raws.length - 1;
  target = last - 2;
});

after(async () => {
  await signatures.close();
  await db.close();
});

/** The node's alarm, read fresh (a plain property read would stay narrowed after an earlier check). */
function alarmOf(node: MirrorNode): ChainAlarm | null {
  return node.alarm;
}

async function withNode<T>(
  served: Uint8Array[],
  run: (n: TestNode, fake: FakeUpstream) => Promise<T>,
  opts: TestNodeOptions = {},
): Promise<T> {
  const fake = new FakeUpstream({ chainId: chain.chainId, processorAddress: chain.key.address });
  fake.blocks = served;
  await fake.start();
  await resetDatabase(db);
  const n = await startTestNode(fake.url, signatures, { ...opts, db });
  try {
    return await run(n, fake);
  } finally {
    await n.close();
    await fake.close();
  }
}

function blockAt(height: number): ReturnType<typeof decodeBlock> {
  const raw = chain.raws[height];
  assert.ok(raw);
  return decodeBlock(raw, chain.chainId);
}

function replaced(height: number, raw: Uint8Array): Uint8Array[] {
  return chain.raws.map((r, h) => (h === height ? raw : r));
}

interface Expected {
  readonly code: string;
  readonly height: number;
  readonly field: string;
  readonly txId?: string | null;
}

/** Serves `served`, expects the alarm, and checks that everything before the block was kept. */
async function expectAlarm(served: Uint8Array[], want: Expected): Promise<ChainAlarm> {
  return withNode(served, async ({ node, follower }) => {
    await untilHeightOrAlarm(node, served.length - 1);
    const alarm = node.alarm;
    assert.ok(alarm, `an alarm is raised; the node reached ${node.headInfo?.height}`);
    assert.equal(alarm.code, want.code, alarm.message);
    assert.equal(alarm.height, want.height, alarm.message);
    assert.equal(alarm.field, want.field, alarm.message);
    if (want.txId !== undefined) assert.equal(alarm.txId, want.txId, alarm.message);
    assert.equal(
      node.headInfo?.height,
      want.height - 1,
      'every block before the bad one is kept, nothing after it is applied',
    );
    assert.equal(node.headInfo?.hashHex, blockAt(want.height - 1).hashHex);
    await follower.finished;
    const info = await node.info();
    assert.deepEqual(info.alarm, alarm);
    assert.match(await node.metrics(), /^hanzenet_node_alarm 1$/m);
    assert.match(
      await node.metrics(),
      new RegExp(`^hanzenet_node_alarm_height ${want.height}$`, 'm'),
    );
    assert.equal((await node.getBlocks(want.height, 1)).length, 0, 'the bad block is not stored');
    return alarm;
  });
}

test('verifies a real chain, serves it, and follows new blocks pushed live', async () => {
  await withNode(chain.raws.slice(0, last), async ({ node }, fake) => {
    const finals: TxView[] = [];
    node.onTxFinal((v) => finals.push(v));
    await untilHeightOrAlarm(node, last - 1);
    assert.equal(node.alarm, null);
    const lastRaw = chain.raws[last];
    assert.ok(lastRaw);
    fake.append(lastRaw);
    await untilHeightOrAlarm(node, last);
    assert.equal(node.alarm, null);
    assert.equal(node.headInfo?.hashHex, blockAt(last).hashHex);
    const block = blockAt(last);
    const rejected = block.txs[1];
    assert.ok(rejected);
    const view = await node.getTransaction(rejected.idHex);
    assert.equal(view?.status, 'rejected');
    assert.equal(view?.code, 'not_context_owner');
    assert.equal(view?.blockId, last);
    assert.ok(
      finals.some((v) => v.id === rejected.idHex && v.status === 'rejected'),
      'onTxFinal fires when a block is applied',
    );
    const [stored] = await node.getRawBlocks(last, 1);
    assert.deepEqual(stored, lastRaw);
    const info = await node.info();
    assert.equal(info.role, 'node');
    assert.equal(info.chainTimeMs, block.processedMs);
    assert.equal(info.alarm, null);
    assert.equal(info.processorAddress, chain.key.address);
    assert.ok((await node.listContracts()).some((c) => c.type === 'Trader'));
    const metrics = await node.metrics();
    assert.match(metrics, new RegExp(`^hanzenet_node_head_height ${last}$`, 'm'));
    assert.match(metrics, /^hanzenet_node_alarm 0$/m);
    assert.match(metrics, /^hanzenet_node_lag_blocks 0$/m);
  });
});

test('a transaction whose payload was altered (block re-signed by the processor): signature_invalid naming the transaction', async () => {
  const block = blockAt(target);
  const original = block.txs[0];
  assert.ok(original);
  const bytes = new Uint8Array(original.bytes);
  const at = 61 + Buffer.from(original.payloadText).indexOf('"address":"') + 12;
  bytes[at] = bytes[at] === 0x32 ? 0x33 : 0x32;
  const altered = decodeTx(bytes);
  const raw = resigned(chain, target, (f) => ({ ...f, txs: [altered, ...f.txs.slice(1)] }));
  await expectAlarm(replaced(target, raw), {
    code: 'signature_invalid',
    height: target,
    field: 'txSignature',
    txId: original.idHex,
  });
});

test('a block signed by another key: block_signature_invalid', async () => {
  const raw = resigned(chain, target, (f) => f, PrivateKey.generate());
  const alarm = await expectAlarm(replaced(target, raw), {
    code: 'block_signature_invalid',
    height: target,
    field: 'signature',
    txId: null,
  });
  assert.equal(
    alarm.blockHash,
    blockAt(target).hashHex,
    'same content, so the same hash: only the signature differs',
  );
});

test('a wrong state digest, signed by the real processor key: state_digest_mismatch with both digests', async () => {
  const wrong = 'ab'.repeat(32);
  const raw = resigned(chain, target, (f) => ({ ...f, stateDigestHex: wrong }));
  const alarm = await expectAlarm(replaced(target, raw), {
    code: 'state_digest_mismatch',
    height: target,
    field: 'stateDigest',
    txId: null,
  });
  assert.equal(alarm.expected, blockAt(target).stateDigestHex, 'the node computed the real digest');
  assert.equal(alarm.got, wrong);
});

test('a wrong outcome message: outcome_mismatch naming the transaction, expected vs got', async () => {
  const block = blockAt(target);
  const tx = block.txs[1];
  const outcome = block.outcomes[1];
  assert.ok(tx && outcome?.status === 'rejected');
  const raw = resigned(chain, target, (f) => ({
    ...f,
    outcomes: f.outcomes.map((o, i) => (i === 1 ? { ...outcome, message: 'all fine' } : o)),
  }));
  const alarm = await expectAlarm(replaced(target, raw), {
    code: 'outcome_mismatch',
    height: target,
    field: 'outcome.message',
    txId: tx.idHex,
  });
  assert.deepEqual(alarm.expected, {
    status: 'rejected',
    code: outcome.code,
    message: outcome.message,
  });
  assert.deepEqual(alarm.got, { status: 'rejected', code: outcome.code, message: 'all fine' });
});

test('an accepted transaction recorded as rejected: outcome_mismatch on the status', async () => {
  const tx = blockAt(target).txs[0];
  assert.ok(tx);
  const raw = resigned(chain, target, (f) => ({
    ...f,
    outcomes: f.outcomes.map((o, i) =>
      i === 0 ? { status: 'rejected', code: 'contract_rejected', message: 'no' } : o,
    ),
  }));
  await expectAlarm(replaced(target, raw), {
    code: 'outcome_mismatch',
    height: target,
    field: 'outcome.status',
    txId: tx.idHex,
  });
});

test('a skipped block: block_out_of_order', async () => {
  const served = chain.raws.filter((_, h) => h !== target);
  const alarm = await expectAlarm(served, {
    code: 'block_out_of_order',
    height: target,
    field: 'height',
  });
  assert.equal(alarm.expected, target);
  assert.equal(alarm.got, target + 1);
});

test('reordered blocks: block_out_of_order', async () => {
  const served = chain.raws.map(
    (r, h) =>
      (h === target ? chain.raws[target + 1] : h === target + 1 ? chain.raws[target] : r) ?? r,
  );
  await expectAlarm(served, { code: 'block_out_of_order', height: target, field: 'height' });
});

test('a truncated block: block_malformed', async () => {
  const raw = chain.raws[target];
  assert.ok(raw);
  await expectAlarm(replaced(target, raw.subarray(0, raw.length - 10)), {
    code: 'block_malformed',
    height: target,
    field: 'bytes',
    txId: null,
  });
});

test('a block that does not link to the previous one: block_link_mismatch', async () => {
  const raw = resigned(chain, target, (f) => ({ ...f, previousHashHex: '00'.repeat(32) }));
  await expectAlarm(replaced(target, raw), {
    code: 'block_link_mismatch',
    height: target,
    field: 'previousHash',
  });
});

test('a block time that does not increase: block_time_not_increasing', async () => {
  const raw = resigned(chain, target, (f) => ({
    ...f,
    processedMs: blockAt(target - 1).processedMs,
  }));
  await expectAlarm(replaced(target, raw), {
    code: 'block_time_not_increasing',
    height: target,
    field: 'processedMs',
  });
});

test('a transaction past its valid-till: tx_expired naming the transaction', async () => {
  const tx = blockAt(target).txs[2];
  assert.ok(tx && tx.validTillMs > 0);
  const raw = resigned(chain, target, (f) => ({ ...f, processedMs: tx.validTillMs }));
  await expectAlarm(replaced(target, raw), {
    code: 'tx_expired',
    height: target,
    field: 'validTill',
    txId: tx.idHex,
  });
});

test('a transaction id that an earlier block used: tx_duplicate_id', async () => {
  const earlier = blockAt(target - 1).txs[0];
  assert.ok(earlier);
  const raw = resigned(chain, target, (f) => ({
    ...f,
    txs: [...f.txs, earlier],
    outcomes: [...f.outcomes, { status: 'accepted', message: 'OK' }],
  }));
  await expectAlarm(replaced(target, raw), {
    code: 'tx_duplicate_id',
    height: target,
    field: 'txId',
    txId: earlier.idHex,
  });
});

test('a different block pushed for a height the node holds: history_mismatch', async () => {
  await withNode(chain.raws, async ({ node }, fake) => {
    await untilHeightOrAlarm(node, last);
    assert.equal(node.alarm, null);
    const variant = resigned(chain, last - 1, (f) => ({ ...f, processedMs: f.processedMs + 1 }));
    fake.push(variant);
    await untilHeightOrAlarm(node, last + 1, 5000).catch(() => undefined);
    assert.equal(alarmOf(node)?.code, 'history_mismatch');
    assert.equal(alarmOf(node)?.height, last - 1);
    assert.equal(node.headInfo?.height, last, 'nothing verified is dropped');
  });
});

test('a rewritten head served after a reconnect: history_mismatch', async () => {
  await withNode(chain.raws.slice(0, last), async ({ node }, fake) => {
    await untilHeightOrAlarm(node, last - 1);
    assert.equal(node.alarm, null);
    // The upstream "forgets" its head block and produces another one at that height.
    fake.blocks = replaced(
      last - 1,
      resigned(chain, last - 1, (f) => ({
        ...f,
        txs: f.txs.slice(0, 1),
        outcomes: f.outcomes.slice(0, 1),
      })),
    ).slice(0, last + 1);
    fake.dropConnections();
    await untilHeightOrAlarm(node, last + 1, 5000).catch(() => undefined);
    const alarm = alarmOf(node);
    assert.equal(alarm?.code, 'history_mismatch', JSON.stringify(alarm));
    assert.equal(alarm?.height, last - 1);
    assert.equal(alarm?.expected, blockAt(last - 1).hashHex);
  });
});

test('a processor whose chain became shorter than what it served: history_mismatch', async () => {
  await withNode(chain.raws, async ({ node }, fake) => {
    await untilHeightOrAlarm(node, last);
    fake.blocks = chain.raws.slice(0, last - 1);
    fake.dropConnections();
    const deadline = Date.now() + 5000;
    while (node.alarm === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(node.alarm?.code, 'history_mismatch');
    assert.equal(node.alarm?.field, 'head.height');
    assert.equal(node.headInfo?.height, last);
  });
});

test('a genesis block of another processor than the configured one: chain_mismatch, nothing stored', async () => {
  await withNode(
    chain.raws,
    async ({ node, follower }) => {
      await follower.finished;
      assert.equal(node.alarm?.code, 'chain_mismatch');
      assert.equal(node.alarm?.height, 0);
      assert.equal(node.alarm?.got, chain.key.address);
      assert.equal(node.headInfo, null);
    },
    { processorAddress: PrivateKey.generate().address },
  );
});

test('a dropped live connection: the node reconnects and fetches the blocks it missed, each once', async () => {
  await withNode(chain.raws.slice(0, last - 1), async ({ node }, fake) => {
    await untilHeightOrAlarm(node, last - 2);
    const heights: number[] = [];
    node.onBlock((b) => heights.push(b.height));
    fake.dropConnections();
    for (const raw of chain.raws.slice(last - 1)) fake.blocks.push(raw);
    await untilHeightOrAlarm(node, last);
    assert.equal(node.alarm, null);
    assert.deepEqual(heights, [last - 1, last]);
    assert.match(await node.metrics(), /^hanzenet_node_reconnects_total [1-9]/m);
  });
});

test('the read API of a node: the same routes as a processor, info with alarm null, /metrics, forwarded submissions', async () => {
  await withNode(chain.raws, async ({ node }, fake) => {
    await untilHeightOrAlarm(node, last);
    const api = await createApiServer(node);
    try {
      const info = await api.app.inject({ method: 'GET', url: '/api/info' });
      assert.equal(info.json<{ role: string; alarm: unknown }>().role, 'node');
      assert.equal(info.json<{ alarm: unknown }>().alarm, null);
      const blocks = await api.app.inject({
        method: 'GET',
        url: `/api/blocks?from=${target}&limit=1`,
      });
      assert.equal(blocks.json<{ hash: string }[]>()[0]?.hash, blockAt(target).hashHex);
      const raw = await api.app.inject({
        method: 'GET',
        url: `/api/blocks/raw?from=${target}&limit=1`,
      });
      assert.equal(
        raw.json<{ blocks: string[] }>().blocks[0],
        Buffer.from(chain.raws[target] ?? []).toString('base64'),
      );
      const metrics = await api.app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(metrics.statusCode, 200);
      assert.match(String(metrics.headers['content-type']), /^text\/plain/);
      assert.match(metrics.body, new RegExp(`^hanzenet_node_head_height ${last}$`, 'm'));
      const tx = traderTx(chain.traderHash, chain.chainId);
      const submitted = await api.app.inject({
        method: 'POST',
        url: '/api/transactions',
        payload: { base64tx: Buffer.from(tx.bytes).toString('base64') },
      });
      assert.equal(submitted.statusCode, 202, submitted.body);
      assert.deepEqual(
        fake.submitted,
        [Buffer.from(tx.bytes).toString('base64')],
        'forwarded to the upstream unchanged',
      );
    } finally {
      await api.close();
    }
  });
});

/** A store whose commit of one height fails once, before writing anything. */
class FailingOnceStore extends ChainStore {
  constructor(
    db: Database,
    private failHeight: number | null,
  ) {
    super(db);
  }

  override async commitBlock(input: CommitBlockInput): Promise<void> {
    if (input.block.height === this.failHeight) {
      this.failHeight = null;
      throw new ChainError('retry', `connection refused (injected at block ${input.block.height})`);
    }
    await super.commitBlock(input);
  }
}

test('a commit that fails in the middle of a batch: the blocks before it stay, the rest are applied after recovery, each once', async () => {
  await withNode(
    chain.raws,
    async ({ node }) => {
      await untilHeightOrAlarm(node, last);
      assert.equal(node.alarm, null);
      assert.equal(node.headInfo?.hashHex, blockAt(last).hashHex);
      assert.match(
        await node.metrics(),
        new RegExp(`^hanzenet_node_blocks_verified_total ${last + 1}$`, 'm'),
        'every block (genesis included) confirmed once',
      );
      assert.equal((await node.getBlocks(0, 100)).length, last + 1);
    },
    { store: (database) => new FailingOnceStore(database, target) },
  );
});
