// The invariants of ../shared/DESIGN.md, checked against what a process has stored. The
// simulator runs them after every step; they read only committed tables, through plain SQL, so
// they judge the system by its results and not by its own bookkeeping.

import type { Sql } from '../store/types.js';

export type InvariantName =
  | 'chain_contiguous'
  | 'chain_linked'
  | 'block_tx_count'
  | 'nodes_agree'
  | 'confirmed_kept'
  | 'energy_conserved'
  | 'no_overdraft'
  | 'no_duplicate_id'
  // Checked by the simulation on the processes themselves, not on a store:
  /** A mirror node raised an alarm (in a run without byzantine faults, itself a failure). */
  | 'node_alarm'
  /** The processor announced a block as committed, and later another block at that height. */
  | 'blocks_kept'
  /** At the end, with the faults healed, a mirror node did not reach the processor's head. */
  | 'nodes_caught_up';

export interface InvariantViolation {
  readonly invariant: InvariantName;
  readonly detail: string;
}

interface BlockRow {
  height: string;
  hash_hex: string;
  previous_hex: string;
  digest_hex: string;
  tx_count: number;
  stored_txs: string;
}

async function blocksOf(sql: Sql): Promise<BlockRow[]> {
  const { rows } = await sql.query<BlockRow>(
    `SELECT b.height::text AS height, encode(b.hash, 'hex') AS hash_hex, encode(b.previous_hash, 'hex') AS previous_hex,
            encode(b.state_digest, 'hex') AS digest_hex, b.tx_count,
            (SELECT count(*) FROM chain.transactions t WHERE t.block_height = b.height)::text AS stored_txs
       FROM chain.blocks b ORDER BY b.height`,
  );
  return rows;
}

/** Heights run 0, 1, 2, ... without a gap; each block links to the one below; each holds its transactions. */
export async function checkChain(sql: Sql): Promise<InvariantViolation[]> {
  const violations: InvariantViolation[] = [];
  const blocks = await blocksOf(sql);
  blocks.forEach((block, i) => {
    if (Number(block.height) !== i) {
      violations.push({
        invariant: 'chain_contiguous',
        detail: `block ${i} of the store has height ${block.height}`,
      });
    }
    const below = blocks[i - 1];
    if (below !== undefined && block.previous_hex !== below.hash_hex) {
      violations.push({
        invariant: 'chain_linked',
        detail: `block ${block.height} links to ${block.previous_hex}, block ${below.height} is ${below.hash_hex}`,
      });
    }
    if (Number(block.stored_txs) !== block.tx_count) {
      violations.push({
        invariant: 'block_tx_count',
        detail: `block ${block.height} says ${block.tx_count} transactions, ${block.stored_txs} are stored`,
      });
    }
  });
  return violations;
}

/**
 * Two stores agree on every height both hold: the same block hash and state digest. A store may
 * be behind; it may never differ.
 */
export async function checkAgreement(
  names: readonly [string, string],
  a: Sql,
  b: Sql,
): Promise<InvariantViolation[]> {
  const [left, right] = await Promise.all([blocksOf(a), blocksOf(b)]);
  const common = Math.min(left.length, right.length);
  for (let i = 0; i < common; i++) {
    const x = left[i] as BlockRow;
    const y = right[i] as BlockRow;
    if (x.hash_hex !== y.hash_hex || x.digest_hex !== y.digest_hex) {
      return [
        {
          invariant: 'nodes_agree',
          detail: `at height ${x.height} ${names[0]} has ${x.hash_hex}/${x.digest_hex}, ${names[1]} has ${y.hash_hex}/${y.digest_hex}`,
        },
      ];
    }
  }
  return [];
}

/** What a client was told: the transaction (hex id) was final with this status. */
export interface Confirmation {
  readonly idHex: string;
  readonly status: 'accepted' | 'rejected';
}

/** Every transaction a client was told is accepted or rejected is in the chain with that status. */
export async function checkConfirmedKept(
  sql: Sql,
  confirmed: readonly Confirmation[],
): Promise<InvariantViolation[]> {
  if (confirmed.length === 0) return [];
  const { rows } = await sql.query<{ id_hex: string; status: string }>(
    `SELECT encode(id, 'hex') AS id_hex, status FROM chain.transactions WHERE encode(id, 'hex') = ANY($1::text[])`,
    [confirmed.map((c) => c.idHex)],
  );
  const stored = new Map(rows.map((r) => [r.id_hex, r.status]));
  const violations: InvariantViolation[] = [];
  for (const c of confirmed) {
    const status = stored.get(c.idHex);
    if (status !== c.status) {
      violations.push({
        invariant: 'confirmed_kept',
        detail: `transaction ${c.idHex} was confirmed ${c.status}, the chain has ${status ?? 'nothing'}`,
      });
    }
  }
  return violations;
}

async function hasEnergyTables(sql: Sql): Promise<boolean> {
  const { rows } = await sql.query<{ n: string }>(
    `SELECT count(*)::text AS n FROM information_schema.tables WHERE table_schema = 'state' AND table_name IN ('energy_balances', 'energy_history')`,
  );
  return rows[0]?.n === '2';
}

/**
 * Energy is conserved: in every context the balances add up to the history of changes, and
 * replaying the history in chain order, no Transfer or Reduce takes a balance below zero (a
 * trader cannot give away what it does not hold, twice or otherwise).
 */
export async function checkEnergy(sql: Sql): Promise<InvariantViolation[]> {
  if (!(await hasEnergyTables(sql))) return [];
  const violations: InvariantViolation[] = [];
  const { rows: sums } = await sql.query<{ context: string; balances: string; history: string }>(
    `SELECT c.context, coalesce(b.total, 0)::text AS balances, coalesce(h.total, 0)::text AS history
       FROM (SELECT context FROM state.energy_balances UNION SELECT context FROM state.energy_history) c
       LEFT JOIN (SELECT context, sum(amount_wh) AS total FROM state.energy_balances GROUP BY context) b USING (context)
       LEFT JOIN (SELECT context, sum(delta_wh) AS total FROM state.energy_history GROUP BY context) h USING (context)
      ORDER BY c.context`,
  );
  for (const s of sums) {
    if (s.balances !== s.history) {
      violations.push({
        invariant: 'energy_conserved',
        detail: `context ${s.context}: balances add up to ${s.balances} Wh, its history to ${s.history} Wh`,
      });
    }
  }
  const { rows: history } = await sql.query<{
    key: string;
    delta_wh: string;
    kind: string;
    tx_id: string;
  }>(
    `SELECT h.context || '/' || h.trader || '/' || h.block::text || '/' || array_to_string(h.labels, ',') AS key,
            h.delta_wh::text AS delta_wh, h.kind, h.tx_id
       FROM state.energy_history h
       LEFT JOIN chain.transactions t ON encode(t.id, 'hex') = h.tx_id
      ORDER BY h.height, t.position NULLS FIRST, h.tx_id, h.seq`,
  );
  const balanceWh = new Map<string, bigint>();
  for (const row of history) {
    const before = balanceWh.get(row.key) ?? 0n;
    const after = before + BigInt(row.delta_wh);
    balanceWh.set(row.key, after);
    const spends = (row.kind === 'transfer' || row.kind === 'reduce') && BigInt(row.delta_wh) < 0n;
    if (spends && after < 0n) {
      violations.push({
        invariant: 'no_overdraft',
        detail: `transaction ${row.tx_id} takes ${row.key} from ${before} to ${after} Wh`,
      });
    }
  }
  return violations;
}

/** No transaction id is in the chain twice (an id is accepted at most once, ever). */
export async function checkUniqueIds(sql: Sql): Promise<InvariantViolation[]> {
  const { rows } = await sql.query<{ id_hex: string; n: string }>(
    `SELECT encode(id, 'hex') AS id_hex, count(*)::text AS n FROM chain.transactions GROUP BY id HAVING count(*) > 1 ORDER BY 1 LIMIT 10`,
  );
  return rows.map((r) => ({
    invariant: 'no_duplicate_id' as const,
    detail: `transaction ${r.id_hex} is in the chain ${r.n} times`,
  }));
}
