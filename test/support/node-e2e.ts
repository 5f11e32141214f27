// Shared steps of the mirror node end-to-end tests: load a real processor with Trader calls, poll
// heads and metrics, and compare what a node serves with what the processor serves.

import assert from 'node:assert/strict';
import { PrivateKey } from '../../src/core/keys.js';
import { signTx } from '../../src/chain/tx.js';
import type { Tx } from '../../src/chain/types.js';
import type { BlockView, ChainInfo, ContractView, TxView } from '../../src/chain/views.js';
import { getJson, postJson } from './processes.js';

export async function traderHashOf(url: string): Promise<string> {
  const trader = (await getJson<ContractView[]>(`${url}/api/contracts`)).body.find(
    (c) => c.type === 'Trader',
  );
  assert.ok(trader, 'the Trader contract is installed');
  return trader.hash;
}

export function traderCalls(
  count: number,
  owner: PrivateKey,
  traderHash: string,
  chainId: string,
): Tx[] {
  return Array.from({ length: count }, (_, i) =>
    signTx(
      {
        contractHashHex: traderHash,
        validTillMs: 0,
        payloadText: JSON.stringify({
          context: owner.address,
          address: PrivateKey.generate().address,
          allowed: i % 10 !== 9,
        }),
      },
      owner,
      chainId,
    ),
  );
}

interface BatchAnswer {
  results: (TxView | { id: string | null; error: { code: string } })[];
}

/**
 * Submits the transactions in batches over `lanes` concurrent waiting requests and returns the ids
 * the processor confirmed final. Requests that fail (a processor being restarted) are retried
 * until `deadlineMs`; a refusal as duplicate means an earlier attempt got in.
 */
export async function submitAll(
  url: () => string,
  txs: readonly Tx[],
  opts: { batch?: number; lanes?: number; deadlineMs?: number } = {},
): Promise<Set<string>> {
  const batch = opts.batch ?? 100;
  const batches: Tx[][] = [];
  for (let i = 0; i < txs.length; i += batch) batches.push(txs.slice(i, i + batch));
  const final = new Set<string>();
  const deadline = opts.deadlineMs ?? Date.now() + 120_000;
  const lanes = Array.from({ length: opts.lanes ?? 4 }, async (_, lane) => {
    for (let b = lane; b < batches.length; b += opts.lanes ?? 4) {
      let todo = batches[b] ?? [];
      while (todo.length > 0) {
        assert.ok(
          Date.now() < deadline,
          `could not submit every transaction in time (${final.size} final)`,
        );
        try {
          const res = await postJson<BatchAnswer>(`${url()}/api/transactions/batch`, {
            transactions: todo.map((t) => Buffer.from(t.bytes).toString('base64')),
            wait: true,
          });
          if (!Array.isArray(res.body.results))
            throw new Error(`HTTP ${res.status}: ${JSON.stringify(res.body)}`);
          const retry: Tx[] = [];
          res.body.results.forEach((r, i) => {
            const tx = todo[i];
            if (tx === undefined) return;
            if ('status' in r && r.status !== 'new') final.add(tx.idHex);
            else if ('error' in r && r.error.code === 'tx_duplicate_id') final.add(tx.idHex);
            else retry.push(tx);
          });
          todo = retry;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  });
  await Promise.all(lanes);
  return final;
}

export async function infoOf(url: string): Promise<ChainInfo> {
  return (await getJson<ChainInfo>(`${url}/api/info`)).body;
}

/** Polls until the node's head reaches `height`; fails on an alarm or after `timeoutMs`. */
export async function untilHead(
  url: string,
  height: number,
  timeoutMs = 60_000,
  stderr: () => string = () => '',
): Promise<ChainInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await infoOf(url);
    assert.equal(info.alarm ?? null, null, `no alarm: ${JSON.stringify(info.alarm)}`);
    if ((info.head?.height ?? -1) >= height) return info;
    assert.ok(
      Date.now() < deadline,
      `${url} reached height ${info.head?.height ?? -1}, not ${height}, within ${timeoutMs} ms; stderr:\n${stderr().slice(-3000)}`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One value of a node's /metrics. */
export async function metricOf(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  assert.ok(line, `metric ${name} in:\n${text}`);
  return Number(line.slice(name.length + 1));
}

export async function allBlocks(url: string, toHeight: number): Promise<BlockView[]> {
  const out: BlockView[] = [];
  while (out.length <= toHeight) {
    const page = (
      await getJson<BlockView[]>(
        `${url}/api/blocks?from=${out.length}&limit=${Math.min(1000, toHeight + 1 - out.length)}`,
      )
    ).body;
    assert.ok(page.length > 0, `${url} serves blocks up to ${toHeight}`);
    out.push(...page);
  }
  return out;
}

/** The node serves exactly the processor's blocks up to `height`, and the same transaction views (but createTs). */
export async function assertSameChain(
  processorUrl: string,
  nodeUrl: string,
  height: number,
  sampleIds: readonly string[],
): Promise<void> {
  const [mine, theirs] = await Promise.all([
    allBlocks(processorUrl, height),
    allBlocks(nodeUrl, height),
  ]);
  assert.deepEqual(theirs, mine, 'the node serves the same block views');
  for (const id of sampleIds) {
    const [p, n] = await Promise.all([
      getJson<TxView>(`${processorUrl}/api/transactions/${id}`),
      getJson<TxView>(`${nodeUrl}/api/transactions/${id}`),
    ]);
    assert.equal(n.status, 200, `the node knows ${id}`);
    // The submission time is not in the block: a node shows the block's time there.
    assert.deepEqual({ ...n.body, createTs: 0 }, { ...p.body, createTs: 0 }, `transaction ${id}`);
    assert.equal(n.body.createTs, n.body.processedTs);
  }
  const [pc, nc] = await Promise.all([
    getJson<ContractView[]>(`${processorUrl}/api/contracts`),
    getJson<ContractView[]>(`${nodeUrl}/api/contracts`),
  ]);
  // A restarted executor lists contracts in stored order (height, hash): compare them as a set.
  const byHash = (a: ContractView, b: ContractView): number => a.hash.localeCompare(b.hash);
  assert.deepEqual([...nc.body].sort(byHash), [...pc.body].sort(byHash), 'the same contracts');
}

/**
 * Keeps submitting batches of Trader calls (waiting for each) until stop(): a processor under
 * steady load. Failed requests (a processor being restarted) are retried later with new calls.
 */
export class SteadyLoad {
  private stopped = false;
  private readonly lanes: Promise<void>[];
  readonly confirmed = new Set<string>();
  failures = 0;

  constructor(
    url: () => string,
    owner: PrivateKey,
    traderHash: string,
    chainId: string,
    opts: { lanes?: number; batch?: number } = {},
  ) {
    this.lanes = Array.from({ length: opts.lanes ?? 2 }, async () => {
      while (!this.stopped) {
        const txs = traderCalls(opts.batch ?? 20, owner, traderHash, chainId);
        try {
          const res = await postJson<BatchAnswer>(`${url()}/api/transactions/batch`, {
            transactions: txs.map((t) => Buffer.from(t.bytes).toString('base64')),
            wait: true,
          });
          if (!Array.isArray(res.body.results)) throw new Error(`HTTP ${res.status}`);
          for (const r of res.body.results)
            if ('status' in r && r.status !== 'new') this.confirmed.add(r.id);
        } catch {
          this.failures++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    });
  }

  async stop(): Promise<Set<string>> {
    this.stopped = true;
    await Promise.all(this.lanes);
    return this.confirmed;
  }
}
