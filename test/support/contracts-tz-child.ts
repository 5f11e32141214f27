// Run by contracts-sandbox.test.ts under different TZ settings: executes a contract that uses
// local-time Date methods and prints the block's result. The output must not depend on TZ.

import { aliceKey, createTestChain, makeTx, rawCreateTx, resultText } from './contracts-chain.js';

const chain = await createTestChain({ inWorker: false });
try {
  const c = rawCreateTx({
    type: 'Clock',
    code: 'function (p, ctx) { const d = new Date(ctx.block.processedMs); return [d.getHours(), d.getTimezoneOffset(), d.toString(), d.toLocaleString(), String(new Date(2024, 6, 1)), new Date("2024-07-01T12:00").getTime(), d.getDay(), d.getDate()].join("|"); }',
  });
  await chain.run([c.tx]);
  process.stdout.write(
    resultText(await chain.run([makeTx(aliceKey, c.hashHex, {}, '01'.repeat(16))])),
  );
} finally {
  await chain.close();
}
