// End-to-end: stacked marketplaces across two chains, with real processes. A neighbourhood N (a
// child context on chain A) is a member of a city C (a parent context on chain B). One market
// minute: N's solar household covers part of its neighbour's use locally; the rest (2 kWh) goes
// up to C as N's position, signed by N's processor, carried by `hanzenet uplink`; C covers 1.5 kWh
// with its own household's solar and supplies the rest; the settlement comes back down, signed by
// C's processor, and N's household gets the solar from C with its label at C's price. The uplink
// is killed with SIGKILL after the position went up and started again: nothing is doubled.
// `hanzenet audit stack` passes on the honest run. Then tampering: a position re-signed with
// another key and one with a broken signature are refused by C with their codes; a position that
// N's processor key signed but N's chain does not hold is accepted by C (the key is trusted) and
// reported by the audit, which exits 1.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { signTx } from '../src/chain/tx.js';
import type { TxView } from '../src/chain/views.js';
import { HanzenetClient } from '../src/client/client.js';
import { PrivateKey } from '../src/core/keys.js';
import {
  fetchMemberFlows,
  fetchMemberPositions,
  fetchSignedUp,
  fetchUpstream,
} from '../src/stack/client.js';
import { stackTxIdHex } from '../src/stack/ids.js';
import type { StackAuditReport } from '../src/stack/audit.js';
import { openDatabase } from '../src/store/database.js';
import { readKeyFile } from '../src/store/key-file.js';
import { runCli } from './support/cli-run.js';
import {
  postJson,
  startNodeProcess,
  startProcessorProcess,
  startUplinkProcess,
  stopProcess,
  tempDir,
} from './support/processes.js';
import type { StartedNode, StartedUplink } from './support/processes.js';
import { chainSender, until } from './support/stack-chain.js';

const MINUTE_MS = 60_000;

test('a period goes up to the parent chain and comes back down, exactly once, and the audit agrees', {
  timeout: 150_000,
}, async () => {
  const childDir = await tempDir('stack-child');
  const parentDir = await tempDir('stack-parent');
  let [child, parent] = await Promise.all([
    startProcessorProcess({
      dataDir: childDir.path,
      blockIntervalMs: 100,
      chainId: 'hz-neighbourhood',
    }),
    startProcessorProcess({ dataDir: parentDir.path, blockIntervalMs: 100, chainId: 'hz-city' }),
  ]);
  const nodeDir = await tempDir('stack-mirror');
  let mirrorStarted: Promise<StartedNode> | null = null;
  const uplinks: StartedUplink[] = [];
  const childClient = new HanzenetClient({ url: child.url });
  const parentClient = new HanzenetClient({ url: parent.url });
  try {
    // A mirror node of the child chain: it serves the reads the audit needs, and signs nothing.
    // It starts while the chains are set up.
    const mirrorStarting = startNodeProcess({ follow: child.url, dataDir: nodeDir.path });
    mirrorStarted = mirrorStarting;
    const onChild = await chainSender(child);
    const onParent = await chainSender(parent);
    const [nOwner, cOwner, h1, h2, h1Solar, h2House, m, mSolar, nProducer, nConsumer] = Array.from(
      { length: 10 },
      () => PrivateKey.generate(),
    ) as [
      PrivateKey,
      PrivateKey,
      PrivateKey,
      PrivateKey,
      PrivateKey,
      PrivateKey,
      PrivateKey,
      PrivateKey,
      PrivateKey,
      PrivateKey,
    ];
    const N = nOwner.address;
    const C = cOwner.address;

    // The period: the minute that just ended. The city's gate closes about 20 s from now, which
    // leaves the neighbourhood's settlement and the trip up plenty of time.
    const P = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    const gateSeconds = Math.ceil((Date.now() + 20_000 - (P + MINUTE_MS)) / 1000);

    // The neighbourhood: two households, a solar panel and a house meter, a one-minute market whose
    // gate closes at once, and its parent market, the city on the other chain.
    for (const h of [h1, h2])
      await onChild.accept(nOwner, 'Trader', { context: N, address: h.address, allowed: true });
    await onChild.accept(nOwner, 'Producer', {
      context: N,
      address: h1Solar.address,
      allowed: true,
      trader: h1.address,
      labels: ['solar'],
    });
    await onChild.accept(nOwner, 'Consumer', {
      context: N,
      address: h2House.address,
      allowed: true,
      trader: h2.address,
      labels: [],
    });
    await onChild.accept(nOwner, 'Market', {
      context: N,
      on: true,
      periodSeconds: 60,
      gateClosureSeconds: 0,
    });
    await onChild.accept(nOwner, 'MarketParent', {
      context: N,
      on: true,
      parentChain: parent.chainId,
      parentContext: C,
      processor: parent.processorAddress,
    });

    // The city: a household with solar, and the neighbourhood as a member trader with a producer
    // and a consumer of its own, linked to the child chain and its processor's key.
    for (const t of [m.address, N])
      await onParent.accept(cOwner, 'Trader', { context: C, address: t, allowed: true });
    await onParent.accept(cOwner, 'Producer', {
      context: C,
      address: mSolar.address,
      allowed: true,
      trader: m.address,
      labels: ['solar'],
    });
    await onParent.accept(cOwner, 'Producer', {
      context: C,
      address: nProducer.address,
      allowed: true,
      trader: N,
      labels: [],
    });
    await onParent.accept(cOwner, 'Consumer', {
      context: C,
      address: nConsumer.address,
      allowed: true,
      trader: N,
      labels: [],
    });
    await onParent.accept(cOwner, 'Market', {
      context: C,
      on: true,
      periodSeconds: 60,
      gateClosureSeconds: gateSeconds,
    });
    await onParent.accept(cOwner, 'MarketMember', {
      context: C,
      member: N,
      chain: child.chainId,
      childContext: N,
      processor: child.processorAddress,
      producer: nProducer.address,
      consumer: nConsumer.address,
    });
    // A second neighbourhood on the child chain, a member of the city too, whose household's
    // reading arrives only after the city's gate has closed: its position will be missed.
    const [n2Owner, h3, h3House, n2Producer, n2Consumer] = Array.from({ length: 5 }, () =>
      PrivateKey.generate(),
    ) as [PrivateKey, PrivateKey, PrivateKey, PrivateKey, PrivateKey];
    const N2 = n2Owner.address;
    await onChild.accept(n2Owner, 'Trader', { context: N2, address: h3.address, allowed: true });
    await onChild.accept(n2Owner, 'Consumer', {
      context: N2,
      address: h3House.address,
      allowed: true,
      trader: h3.address,
      labels: [],
    });
    await onChild.accept(n2Owner, 'Market', {
      context: N2,
      on: true,
      periodSeconds: 60,
      gateClosureSeconds: 0,
    });
    await onChild.accept(n2Owner, 'MarketParent', {
      context: N2,
      on: true,
      parentChain: parent.chainId,
      parentContext: C,
      processor: parent.processorAddress,
    });
    await onParent.accept(cOwner, 'Trader', { context: C, address: N2, allowed: true });
    await onParent.accept(cOwner, 'Producer', {
      context: C,
      address: n2Producer.address,
      allowed: true,
      trader: N2,
      labels: [],
    });
    await onParent.accept(cOwner, 'Consumer', {
      context: C,
      address: n2Consumer.address,
      allowed: true,
      trader: N2,
      labels: [],
    });
    await onParent.accept(cOwner, 'MarketMember', {
      context: C,
      member: N2,
      chain: child.chainId,
      childContext: N2,
      processor: child.processorAddress,
      producer: n2Producer.address,
      consumer: n2Consumer.address,
    });
    await onChild.accept(n2Owner, 'MarketPrices', {
      context: N2,
      fromMs: P,
      localEur: ['0.15'],
      supplyEur: ['0.3'],
      feedInEur: ['0.05'],
    });

    await onChild.accept(nOwner, 'MarketPrices', {
      context: N,
      fromMs: P,
      localEur: ['0.15'],
      supplyEur: ['0.3'],
      feedInEur: ['0.05'],
    });
    await onParent.accept(cOwner, 'MarketPrices', {
      context: C,
      fromMs: P,
      localEur: ['0.2'],
      supplyEur: ['0.32'],
      feedInEur: ['0.04'],
    });
    const readingMs = P + 59_000;
    await onParent.accept(mSolar, 'Energy', {
      context: C,
      amount: '1.5',
      register: '1.5',
      readingMs,
    });
    // Both readings of the neighbourhood in one block, so that its agent settles them together.
    await onChild.acceptTogether([
      [h1Solar, 'Energy', { context: N, amount: '1', register: '1', readingMs }],
      [h2House, 'Energy', { context: N, amount: '-3', register: '3', readingMs }],
    ]);

    const first = await startUplinkProcess(child.url, parent.url, 300);
    uplinks.push(first);
    assert.equal(first.started['uplink'], 'running');
    // The position reaches the city; then the uplink dies without warning and starts again.
    const position = await until('the position on the parent', 30_000, async () => {
      const page = await fetchMemberPositions(parentClient, C, { member: N });
      return page.positions[0] ?? null;
    });
    assert.deepEqual(
      [position.periodStartMs, position.consumedKwh, position.producedKwh, position.chain],
      [P, '2', '0', child.chainId],
    );
    assert.equal(
      position.txId,
      stackTxIdHex({
        childChain: child.chainId,
        parentChain: parent.chainId,
        childContext: N,
        periodStartMs: P,
        direction: 'up',
      }),
    );
    first.proc.kill('SIGKILL');
    assert.equal(await first.exited, 'SIGKILL');
    const second = await startUplinkProcess(child.url, parent.url, 300);
    uplinks.push(second);

    const settled = await until('the settlement on the child', 60_000, async () => {
      const rows = await fetchUpstream(childClient, N, { state: 'settled' });
      return rows.upstream[0] ?? null;
    });
    assert.deepEqual([settled.periodStartMs, settled.consumedKwh, settled.missed], [P, '2', false]);

    // Nothing doubled: one position in the city, and N's household got what the city sent, once.
    assert.equal((await fetchMemberPositions(parentClient, C)).positions.length, 1);
    const cityFlows = await fetchMemberFlows(parentClient, C, P, N);
    assert.deepEqual(
      cityFlows.flows.map((f) => [f.kind, f.seller, f.kwh, f.priceEur, f.labels.join(',')]),
      [
        ['allocation', m.address, '1.5', '0.2', 'solar'],
        ['supply', C, '0.5', '0.32', ''],
      ],
    );
    const h2Flows = await fetchMemberFlows(childClient, N, P, h2.address);
    assert.deepEqual(
      h2Flows.flows.map((f) => [f.kind, f.seller, f.kwh, f.priceEur, f.labels.join(',')]),
      [
        ['allocation', h1.address, '1', '0.15', 'solar'],
        ['upstream', m.address, '1.5', '0.2', 'solar'],
        ['supply', C, '0.5', '0.32', ''],
      ],
    );
    const down = await childClient.getTransaction(
      stackTxIdHex({
        childChain: child.chainId,
        parentChain: parent.chainId,
        childContext: N,
        periodStartMs: P,
        direction: 'down',
      }),
    );
    assert.equal(down.status, 'accepted');
    assert.equal(down.contractType, 'UpstreamSettlement');
    assert.equal(down.sender, parent.processorAddress);

    // The second neighbourhood's reading arrives now, after the city's gate closure (the city's
    // period is settled). Its position goes up and is refused; the city's
    // processor signs the missed settlement, and its household is supplied at the city's price.
    await onChild.accept(h3House, 'Energy', {
      context: N2,
      amount: '-0.4',
      register: '0.4',
      readingMs,
    });
    const missed = await until('the missed settlement on the child', 60_000, async () => {
      const rows = await fetchUpstream(childClient, N2, { state: 'settled' });
      return rows.upstream[0] ?? null;
    });
    assert.deepEqual([missed.periodStartMs, missed.consumedKwh, missed.missed], [P, '0.4', true]);
    const late = await parentClient.getTransaction(
      stackTxIdHex({
        childChain: child.chainId,
        parentChain: parent.chainId,
        childContext: N2,
        periodStartMs: P,
        direction: 'up',
      }),
    );
    // The city settled the period at its gate closure, so the late position is refused as
    // already settled (position_after_gate is the answer between the gate and the settlement).
    assert.deepEqual([late.status, late.code], ['rejected', 'period_already_settled']);
    const h3Flows = await fetchMemberFlows(childClient, N2, P, h3.address);
    assert.deepEqual(
      h3Flows.flows.map((f) => [f.kind, f.seller, f.kwh, f.priceEur]),
      [['supply', C, '0.4', '0.32']],
    );

    // The honest run passes the audit, which reads the child chain from the mirror node.
    const mirror = await mirrorStarting;
    const mirrorClient = new HanzenetClient({ url: mirror.url });
    await until('both settlements on the mirror node', 30_000, async () => {
      const rows = await fetchUpstream(mirrorClient, N2, { state: 'settled' });
      return rows.upstream[0] ?? null;
    });
    await assert.rejects(
      fetchSignedUp(mirrorClient, N, P, parent.chainId),
      (err: { code?: string }) => err.code === 'not_found',
    );
    const honest = await runCli(['audit', 'stack', '--child', mirror.url, '--parent', parent.url]);
    assert.equal(honest.code, 0, honest.stderr);
    const report = JSON.parse(honest.stdout) as StackAuditReport;
    assert.deepEqual(
      [report.ok, report.contexts, report.checked, report.differences],
      [true, 2, { up: 1, down: 2 }, []],
    );
    // N's position went up and came down; N2's missed residual came down only.
    assert.deepEqual(report.checkedKwh, {
      up: { producedKwh: '0', consumedKwh: '2' },
      down: { producedKwh: '0', consumedKwh: '2.4' },
    });

    // The child's processor no longer signs a position for a period settled with the parent.
    await assert.rejects(
      fetchSignedUp(childClient, N, P, parent.chainId),
      (err: { code?: string }) => err.code === 'stack_upstream_not_open',
    );

    // Tampering. A position for the next minute, as the child's processor would sign it.
    const P2 = P + MINUTE_MS;
    const head = (await childClient.info()).head;
    assert.ok(head !== null);
    const lie = {
      context: C,
      member: N,
      chain: child.chainId,
      childContext: N,
      periodStartMs: P2,
      periodSeconds: 60,
      height: head.height,
      blockHash: head.hash,
      directions: ['consumed'],
      labels: [[]],
      amounts: ['7'],
    };
    const memberPosition = onParent.hashOf('MemberPosition');
    const post = async (bytes: Uint8Array) =>
      postJson<TxView & { error?: { code: string } }>(`${parent.url}/api/transactions`, {
        base64tx: Buffer.from(bytes).toString('base64'),
        wait: true,
      });
    // Re-signed with another key: refused by the contract.
    const other = signTx(
      { contractHashHex: memberPosition, validTillMs: 0, payloadText: JSON.stringify(lie) },
      PrivateKey.generate(),
      parent.chainId,
    );
    const refused = await post(other.bytes);
    assert.deepEqual(
      [refused.body.status, refused.body.code],
      ['rejected', 'checkpoint_signer_unknown'],
    );
    // The child processor's key, but a changed kWh after signing: the signature no longer holds.
    const childKey = await readKeyFile(join(childDir.path, 'processor.key'));
    assert.ok(childKey !== null);
    const signed = signTx(
      { contractHashHex: memberPosition, validTillMs: 0, payloadText: JSON.stringify(lie) },
      childKey,
      parent.chainId,
    );
    const text = Buffer.from(signed.bytes)
      .toString('latin1')
      .replace('"amounts":["7"]', '"amounts":["8"]');
    const broken = await post(new Uint8Array(Buffer.from(text, 'latin1')));
    assert.equal(
      broken.body.error?.code ?? broken.body.code,
      'signature_invalid',
      JSON.stringify(broken.body),
    );
    // A lying child processor: its real key, a position its own chain does not hold. The parent
    // trusts the key and accepts it; the audit re-derives it from the child chain and objects.
    const lying = signTx(
      {
        idHex: stackTxIdHex({
          childChain: child.chainId,
          parentChain: parent.chainId,
          childContext: N,
          periodStartMs: P2,
          direction: 'up',
        }),
        contractHashHex: memberPosition,
        validTillMs: 0,
        payloadText: JSON.stringify(lie),
      },
      childKey,
      parent.chainId,
    );
    const accepted = await post(lying.bytes);
    assert.equal(accepted.body.status, 'accepted', JSON.stringify(accepted.body));
    const audit = await runCli(['audit', 'stack', '--child', mirror.url, '--parent', parent.url]);
    assert.equal(audit.code, 1, audit.stderr);
    assert.match(audit.stderr, /stack_audit_difference/);
    const tampered = JSON.parse(audit.stdout) as StackAuditReport;
    mirrorClient.close();
    // The uplink stops on SIGTERM, cleanly.
    second.proc.kill('SIGTERM');
    assert.equal(await second.exited, 0, second.stderr());
    assert.equal(tampered.ok, false);
    assert.deepEqual(
      tampered.differences.map((d) => [d.direction, d.periodStartMs, d.what]),
      [['up', P2, 'upstreamRow']],
    );

    // Tampering with the child chain itself: with its processor stopped, N's stored residual of
    // P is raised by 0.5 kWh behind its back, and the processor started again on it. The audit,
    // reading that child, finds P's position on the parent no longer matching; a position for P
    // from the tampered state, signed with the child's real key and P's derived id, is refused
    // by the parent, which holds one position per member and period.
    await stopProcess(child);
    const edited = await openDatabase({ dataDir: join(childDir.path, 'pgdata') });
    await edited.query(
      `UPDATE state.energy_market_residuals SET wh = wh + 500
        WHERE context = $1 AND period_start_ms = $2 AND direction = 'consumed' AND trader = $3`,
      [N, P, h2.address],
    );
    await edited.close();
    child = await startProcessorProcess({
      dataDir: childDir.path,
      blockIntervalMs: 100,
      chainId: 'hz-neighbourhood',
    });
    const afterTamper = await runCli([
      'audit',
      'stack',
      '--child',
      child.url,
      '--parent',
      parent.url,
    ]);
    assert.equal(afterTamper.code, 1, afterTamper.stderr);
    const tamperedChain = JSON.parse(afterTamper.stdout) as StackAuditReport;
    assert.ok(
      tamperedChain.differences.some((d) => d.direction === 'up' && d.periodStartMs === P),
      JSON.stringify(tamperedChain.differences),
    );
    const resent = signTx(
      {
        idHex: stackTxIdHex({
          childChain: child.chainId,
          parentChain: parent.chainId,
          childContext: N,
          periodStartMs: P,
          direction: 'up',
        }),
        contractHashHex: memberPosition,
        validTillMs: 0,
        payloadText: JSON.stringify({ ...lie, periodStartMs: P, amounts: ['2.5'] }),
      },
      childKey,
      parent.chainId,
    );
    const again = await post(resent.bytes);
    assert.ok(
      ['tx_duplicate_id', 'position_exists'].includes(
        again.body.error?.code ?? again.body.code ?? '',
      ),
      JSON.stringify(again.body),
    );
  } finally {
    childClient.close();
    parentClient.close();
    for (const u of uplinks)
      if (u.proc.exitCode === null && u.proc.signalCode === null) u.proc.kill('SIGTERM');
    await Promise.all(uplinks.map((u) => u.exited));
    // A mirror node still starting is waited for, so that it never outlives the test.
    const started = mirrorStarted === null ? null : await mirrorStarted.catch(() => null);
    if (started !== null) {
      if (started.proc.exitCode === null && started.proc.signalCode === null)
        started.proc.kill('SIGTERM');
      await started.exited;
    }
    await Promise.all([stopProcess(child), stopProcess(parent)]);
    await Promise.all([childDir.remove(), parentDir.remove(), nodeDir.remove()]);
  }
});
