#!/usr/bin/env node
// Writes test/vectors/blocks.json, the golden HanzeNet block vectors, ONCE. Their expected values
// are data under review, not something tests regenerate: run this only when the block format
// changes on purpose (`npm run build && node scripts/make-block-vectors.mjs --force`) and review
// the diff. Keys come from test/vectors/validana.json; RFC 6979 signing makes every byte
// reproducible.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { buildBlock } from '../dist/src/chain/block-encode.js';
import { toHex, utf8Encode } from '../dist/src/core/bytes.js';
import { sha256 } from '../dist/src/core/hash.js';
import { PrivateKey } from '../dist/src/core/keys.js';
import { decodeTx, signTx } from '../dist/src/chain/tx.js';

const OUT = new URL('../test/vectors/blocks.json', import.meta.url);
if (existsSync(OUT) && !process.argv.includes('--force')) {
  console.error(
    `${OUT.pathname} exists; golden vectors change only on purpose (pass --force and review the diff)`,
  );
  process.exit(1);
}

const validana = JSON.parse(
  readFileSync(new URL('../test/vectors/validana.json', import.meta.url), 'utf8'),
);
const CHAIN_ID = 'hanzenet';
const keyOf = (role) => PrivateKey.fromWIF(validana.keys.find((k) => k.role === role).wif);
const processor = keyOf('processor');
const trader = keyOf('trader');
// The state digest's encoding belongs to src/contracts/runtime/digest.ts; for the block format it
// is 32 opaque bytes, so fixed labelled values keep these vectors independent of it.
const digestOf = (label) => toHex(sha256(utf8Encode(label)));

const genesis = buildBlock(
  {
    height: 0,
    previousHashHex: '00'.repeat(32),
    processedMs: 1767225600000,
    stateDigestHex: digestOf('golden state digest 0'),
    genesis: {
      chainId: CHAIN_ID,
      processorPublicKeyHex: toHex(processor.publicKey),
      processorAddress: processor.address,
    },
    txs: [],
    outcomes: [],
  },
  processor,
  CHAIN_ID,
);

// One transaction signed by the Validana client (random nonce, high S) and one signed by us.
const validanaTx = decodeTx(
  Buffer.from(validana.transactions.find((t) => t.name === 'Trader allow').base64tx, 'base64'),
);
const signedInput = {
  idHex: 'c0c1c2c3c4c5c6c7c8c9cacbcccdcecf',
  contractHashHex: validana.contracts.find((c) => c.type === 'Transfer').contractHash,
  validTillMs: 1767229200000,
  payloadText: JSON.stringify({
    context: '1FxFE3b5ifm4ByN3xb5ku1AcpcLZsJGRH4',
    receiver: '152U9ue72DnbDjRqfUH3v2gARctBYrbf54',
    block: 42,
    labels: 'solar',
    amount: 1.5,
    description: 'zonnestroom ☀',
  }),
};
const ourTx = signTx(signedInput, trader, CHAIN_ID);
const outcomes = [
  { status: 'accepted', message: 'OK' },
  {
    status: 'rejected',
    code: 'contract_rejected',
    message: 'niet genoeg energie: 0 Wh, nodig 1500 Wh ☀',
  },
];
const block1 = buildBlock(
  {
    height: 1,
    previousHashHex: genesis.hashHex,
    processedMs: 1767225605000,
    stateDigestHex: digestOf('golden state digest 1'),
    genesis: null,
    txs: [validanaTx, ourTx],
    outcomes,
  },
  processor,
  CHAIN_ID,
);

const view = (block) => ({
  hex: toHex(block.bytes),
  hashHex: block.hashHex,
  fields: {
    version: block.version,
    height: block.height,
    previousHashHex: block.previousHashHex,
    processedMs: block.processedMs,
    stateDigestHex: block.stateDigestHex,
    genesis: block.genesis,
    txs: block.txs.map((tx) => ({ idHex: tx.idHex, sender: tx.sender, hex: toHex(tx.bytes) })),
    outcomes: block.outcomes,
    signatureHex: toHex(block.signature),
  },
});

const out = {
  description:
    'Golden HanzeNet block format v1 vectors (docs/formats.md). Generated once by scripts/make-block-vectors.mjs; change only on purpose.',
  chainId: CHAIN_ID,
  processorKeyRole: 'processor',
  processorPublicKeyHex: toHex(processor.publicKey),
  signedTx: {
    signerRole: 'trader',
    input: signedInput,
    hex: toHex(ourTx.bytes),
    signatureHex: toHex(ourTx.signature),
  },
  blocks: [
    { name: 'genesis', ...view(genesis) },
    {
      name: 'two transactions: one accepted (Validana-signed), one rejected (signed by signTx)',
      ...view(block1),
    },
  ],
};
writeFileSync(OUT, `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${OUT.pathname}: genesis ${genesis.hashHex}, block 1 ${block1.hashHex}`);
