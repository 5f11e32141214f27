// The limits of this machine, measured in the same run as the benchmark so that the processor's
// figures can be read against them:
//
// - signature verifications per second with the binding the processor uses (verifyTxBytesSignature:
//   hash256 of the signed bytes + one secp256k1 verify), inline on one core, through the processor's
//   SignaturePool with one worker, and with one worker per core;
// - batched row inserts per second: INSERT ... SELECT FROM unnest() of 10,000-row batches into a
//   scratch table shaped like energy_history, with every column sent as one array-literal text
//   parameter exactly as the processor's block commit does; and, for contrast, single-row INSERTs
//   inside one transaction (one round trip per row).

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { utf8Encode } from '../src/core/bytes.js';
import type { PrivateKey } from '../src/core/keys.js';
import { signTx, verifyTxBytesSignature } from '../src/chain/tx.js';
import { SignaturePool } from '../src/ledger/signature-pool.js';
import { arrayLiteral } from '../src/store/sql-values.js';
import type { Database } from '../src/store/types.js';
import { deriveKey } from './workload.js';

export interface VerifyLimits {
  /** Which secp256k1 implementation the `secp256k1` package loaded. */
  readonly binding: string;
  readonly cores: number;
  readonly inlinePerSecond: number;
  readonly pool1PerSecond: number;
  readonly poolAllPerSecond: number;
  readonly poolAllWorkers: number;
}

export interface InsertLimits {
  readonly backend: 'pglite' | 'postgres';
  readonly batchRows: number;
  readonly batches: number;
  readonly batchedRowsPerSecond: number;
  readonly singleRows: number;
  readonly singleRowPerSecond: number;
}

export function secp256k1Binding(): string {
  const require = createRequire(import.meta.url);
  try {
    require('secp256k1/bindings.js');
    return 'libsecp256k1 (native binding of the secp256k1 package)';
  } catch {
    return 'elliptic (pure JavaScript fallback of the secp256k1 package)';
  }
}

const LIMIT_CHAIN_ID = 'hanzenet-bench-limits';

function sampleTxs(count: number): Uint8Array[] {
  const keys: PrivateKey[] = Array.from({ length: 64 }, (_, i) => deriveKey('limits', 'meter', i));
  const hash = 'ab'.repeat(32);
  return Array.from({ length: count }, (_, i) => {
    const key = keys[i % keys.length] as PrivateKey;
    const payloadText = JSON.stringify({ context: keys[0]?.address, amount: `0.00${(i % 9) + 1}` });
    return signTx({ contractHashHex: hash, validTillMs: 0, payloadText }, key, LIMIT_CHAIN_ID)
      .bytes;
  });
}

/** Runs `round` until `seconds` have passed (after one untimed warm-up round); items per second. */
async function rate(seconds: number, round: () => Promise<number>): Promise<number> {
  await round();
  const start = performance.now();
  let items = 0;
  while (performance.now() - start < seconds * 1000) items += await round();
  return items / ((performance.now() - start) / 1000);
}

export async function measureVerify(seconds: number): Promise<VerifyLimits> {
  const txs = sampleTxs(4096);
  const prefix = utf8Encode(LIMIT_CHAIN_ID);
  const check = (ok: boolean[] | boolean): void => {
    const all = Array.isArray(ok) ? ok.every((v) => v) : ok;
    if (!all) throw new Error('a correctly signed sample transaction did not verify');
  };
  const inline = await rate(seconds, async () => {
    for (let i = 0; i < 1024; i++) check(verifyTxBytesSignature(prefix, txs[i] as Uint8Array));
    return 1024;
  });
  const items = txs.map((txBytes) => ({ chainId: LIMIT_CHAIN_ID, txBytes }));
  const viaPool = async (workers: number): Promise<number> => {
    const pool = await SignaturePool.start({ workers });
    try {
      return await rate(seconds, async () => {
        check(await pool.verify(items));
        return items.length;
      });
    } finally {
      await pool.close();
    }
  };
  const cores = availableParallelism();
  const pool1 = await viaPool(1);
  const poolAll = await viaPool(cores);
  return {
    binding: secp256k1Binding(),
    cores,
    inlinePerSecond: inline,
    pool1PerSecond: pool1,
    poolAllPerSecond: poolAll,
    poolAllWorkers: cores,
  };
}

const SCRATCH = 'public.hanzenet_bench_scratch';

export async function measureInserts(
  db: Database,
  opts: { batches: number; batchRows: number; singleRows: number },
): Promise<InsertLimits> {
  await db.query(`DROP TABLE IF EXISTS ${SCRATCH}`);
  await db.query(
    `CREATE TABLE ${SCRATCH} (tx_id text COLLATE "C" NOT NULL, seq bigint NOT NULL, context text COLLATE "C" NOT NULL,
      trader text COLLATE "C" NOT NULL, block bigint NOT NULL, labels text[] COLLATE "C" NOT NULL, delta_wh bigint NOT NULL,
      kind text COLLATE "C" NOT NULL, PRIMARY KEY (tx_id, seq))`,
  );
  try {
    const context = deriveKey('limits', 'owner', 0).address;
    const trader = deriveKey('limits', 'trader', 0).address;
    let serial = 0;
    const batch = async (): Promise<number> => {
      const ids: string[] = [];
      const seqs: string[] = [];
      const labels: string[] = [];
      const deltas: string[] = [];
      for (let i = 0; i < opts.batchRows; i++) {
        ids.push((serial++).toString(16).padStart(32, '0'));
        seqs.push('0');
        labels.push(JSON.stringify(i % 2 === 0 ? ['solar'] : ['local', 'solar']));
        deltas.push(String((i % 12) + 1));
      }
      const same = (v: string): string => arrayLiteral(new Array<string>(opts.batchRows).fill(v));
      await db.transaction((sql) =>
        sql.query(
          `INSERT INTO ${SCRATCH} (tx_id, seq, context, trader, block, labels, delta_wh, kind)
           SELECT u.c0, u.c1, u.c2, u.c3, u.c4, ARRAY(SELECT jsonb_array_elements_text(u.c5::jsonb)), u.c6, u.c7
           FROM unnest($1::text::text[], $2::text::bigint[], $3::text::text[], $4::text::text[], $5::text::bigint[],
                       $6::text::text[], $7::text::bigint[], $8::text::text[]) AS u(c0, c1, c2, c3, c4, c5, c6, c7)`,
          [
            arrayLiteral(ids),
            arrayLiteral(seqs),
            same(context),
            same(trader),
            same('1'),
            arrayLiteral(labels),
            arrayLiteral(deltas),
            same('energy'),
          ],
        ),
      );
      return opts.batchRows;
    };
    await batch();
    const start = performance.now();
    for (let b = 0; b < opts.batches; b++) await batch();
    const batched = (opts.batches * opts.batchRows) / ((performance.now() - start) / 1000);

    const singleStart = performance.now();
    await db.transaction(async (sql) => {
      for (let i = 0; i < opts.singleRows; i++) {
        await sql.query(
          `INSERT INTO ${SCRATCH} (tx_id, seq, context, trader, block, labels, delta_wh, kind) VALUES ($1, 0, $2, $3, 1, $4::text::text[], $5::text::bigint, 'energy')`,
          [
            (serial++).toString(16).padStart(32, '0'),
            context,
            trader,
            '{solar}',
            String((i % 12) + 1),
          ],
        );
      }
    });
    const single = opts.singleRows / ((performance.now() - singleStart) / 1000);
    return {
      backend: db.kind,
      batchRows: opts.batchRows,
      batches: opts.batches,
      batchedRowsPerSecond: batched,
      singleRows: opts.singleRows,
      singleRowPerSecond: single,
    };
  } finally {
    await db.query(`DROP TABLE IF EXISTS ${SCRATCH}`);
  }
}
