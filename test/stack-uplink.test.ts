// The uplink's rounds (src/stack/uplink.ts) against two fake chains that answer like the real
// routes: what it posts where, and how it reads each answer. It keeps no state, so every case is
// a round against what the chains say at that moment. The real thing, with processes and
// SIGKILL, is test/e2e-stack.test.ts.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TxView } from '../src/chain/views.js';
import { ClientError } from '../src/client/errors.js';
import { toHex } from '../src/core/bytes.js';
import { systemScheduler } from '../src/core/scheduler.js';
import { silentLogger } from '../src/ledger/log.js';
import { Uplink } from '../src/stack/uplink.js';
import type { StackEndpoint } from '../src/stack/uplink.js';

const N = '1Neighbourhood';
const C = '1City';
const P = 1_700_000_100_000;

interface FakeChain extends StackEndpoint {
  /** Hex of every transaction posted, in order. */
  readonly posted: string[];
}

/** What a fake chain answers: routes by path, and the outcome of a posted transaction by its bytes. */
function fakeChain(
  chainId: string,
  routes: (path: string, query: Record<string, unknown>) => unknown,
  outcome: (hex: string) => Partial<TxView> | 'duplicate',
  known: (id: string) => Partial<TxView> = () => ({ status: 'accepted', code: null }),
): FakeChain {
  const posted: string[] = [];
  return {
    posted,
    chainId: async () => chainId,
    getJson: async (path, query) => routes(path, (query ?? {}) as Record<string, unknown>),
    submit: (async (tx: Uint8Array) => {
      const hex = toHex(tx);
      posted.push(hex);
      const out = outcome(hex);
      if (out === 'duplicate') throw new ClientError('tx_duplicate_id', 'known id', {}, 409);
      return { id: 'x', status: 'accepted', code: null, ...out } as TxView;
    }) as StackEndpoint['submit'],
    getTransaction: async (id: string) => ({ id, ...known(id) }) as TxView,
  };
}

const signed = (id: string, tx: string, payload: Record<string, unknown> = {}) => ({
  id,
  chainId: 'c',
  contractType: 'MemberPosition',
  contractHash: '00',
  tx,
  payload,
});

/** A child with one context under C and open `periods`; the position of P is `a1a1`, of others `a2a2`. */
function child(
  outcome: (hex: string) => Partial<TxView> | 'duplicate' = () => ({}),
  periods: readonly number[] = [P],
): FakeChain {
  return fakeChain(
    'child',
    (path) => {
      if (path === '/api/energy/stack/parents')
        return {
          parentChain: 'parent',
          parents: [
            {
              context: N,
              parentChain: 'parent',
              parentContext: C,
              parentProcessor: '1P',
              height: 3,
            },
          ],
        };
      if (path.endsWith('/upstream'))
        return {
          context: N,
          upstream: periods.map((periodStartMs) => ({ periodStartMs, state: 'open' })),
        };
      const up = /\/up\/(\d+)$/.exec(path);
      if (up !== null) return signed('aa', Number(up[1]) === P ? 'a1a1' : 'a2a2');
      throw new ClientError('not_found', path, {}, 404);
    },
    outcome,
  );
}

interface ParentState {
  member: boolean;
  position: boolean;
  down: 'incomplete' | 'ready' | 'missed';
}

function parent(
  state: ParentState,
  outcome: (hex: string) => Partial<TxView> | 'duplicate',
  known?: (id: string) => Partial<TxView>,
): FakeChain {
  return fakeChain(
    'parent',
    (path) => {
      if (path.endsWith('/members'))
        return { context: C, members: state.member ? [{ member: N, chain: 'child' }] : [] };
      if (path.endsWith('/positions'))
        return { context: C, positions: state.position ? [{ member: N, periodStartMs: P }] : [] };
      if (path.endsWith(`/down/${P}`)) {
        if (state.down === 'incomplete')
          throw new ClientError('stack_period_incomplete', 'not yet', {}, 409);
        return signed('bb', state.down === 'missed' ? 'b0b0' : 'b1b1', {
          missed: state.down === 'missed',
        });
      }
      throw new ClientError('not_found', path, {}, 404);
    },
    outcome,
    known,
  );
}

const uplink = (c: FakeChain, p: FakeChain) => new Uplink(c, p, systemScheduler, silentLogger);

test('a position goes up; the settlement waits until the parent period is complete, then comes down', async () => {
  const state: ParentState = { member: true, position: false, down: 'incomplete' };
  const c = child();
  const p = parent(state, () => ({}));
  assert.deepEqual(await uplink(c, p).round(), {
    up: 1,
    down: 0,
    missed: 0,
    waiting: 1,
    failed: 0,
  });
  assert.deepEqual([p.posted, c.posted], [['a1a1'], []]);
  // The parent holds the position now: it is not sent again.
  state.position = true;
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 0,
    missed: 0,
    waiting: 1,
    failed: 0,
  });
  state.down = 'ready';
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 1,
    missed: 0,
    waiting: 0,
    failed: 0,
  });
  assert.deepEqual([p.posted, c.posted], [['a1a1'], ['b1b1']]);
});

test('a copy of a known id counts by the first copy: done when it was accepted', async () => {
  const c = child(() => 'duplicate');
  const p = parent({ member: true, position: false, down: 'ready' }, () => 'duplicate');
  const report = await uplink(c, p).round();
  assert.deepEqual(report, { up: 0, down: 1, missed: 0, waiting: 0, failed: 0 });
  assert.deepEqual([p.posted, c.posted], [['a1a1'], ['b1b1']]);
});

test('position_exists and upstream_already_settled mean done, not failed', async () => {
  const c = child(() => ({ status: 'rejected', code: 'upstream_already_settled' }));
  const p = parent({ member: true, position: false, down: 'ready' }, () => ({
    status: 'rejected',
    code: 'position_exists',
  }));
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 1,
    missed: 0,
    waiting: 0,
    failed: 0,
  });
});

test('a position after the parent gate is missed, and the missed settlement comes down', async () => {
  const c = child();
  const p = parent({ member: true, position: false, down: 'missed' }, () => ({
    status: 'rejected',
    code: 'position_after_gate',
  }));
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 1,
    missed: 1,
    waiting: 0,
    failed: 0,
  });
  assert.deepEqual(c.posted, ['b0b0']);
});

test('a position for a period the parent settled already is missed too', async () => {
  const c = child();
  const p = parent({ member: true, position: false, down: 'missed' }, () => ({
    status: 'rejected',
    code: 'period_already_settled',
  }));
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 1,
    missed: 1,
    waiting: 0,
    failed: 0,
  });
  assert.deepEqual(c.posted, ['b0b0']);
});

test('nothing is posted while the parent does not list the context as a member (the id would be burnt)', async () => {
  const c = child();
  const p = parent({ member: false, position: false, down: 'ready' }, () => ({}));
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 0,
    missed: 0,
    waiting: 1,
    failed: 0,
  });
  assert.deepEqual([p.posted, c.posted], [[], []]);
});

test('a refusal of another kind is reported as failed and the settlement is not asked for', async () => {
  const c = child();
  const p = parent({ member: true, position: false, down: 'ready' }, () => ({
    status: 'rejected',
    code: 'checkpoint_signer_unknown',
  }));
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 0,
    missed: 0,
    waiting: 0,
    failed: 1,
  });
  assert.deepEqual(c.posted, []);
});

test('an unreachable chain fails the period for this round only', async () => {
  const c = child();
  const p = parent({ member: true, position: false, down: 'ready' }, () => {
    throw new ClientError('unreachable', 'connection refused');
  });
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 0,
    missed: 0,
    waiting: 0,
    failed: 1,
  });
});

test('a position that cannot go up holds back the later periods of its context', async () => {
  const c = child(() => ({}), [P, P + 60_000]);
  const p = parent({ member: true, position: false, down: 'incomplete' }, (hex) => {
    if (hex === 'a1a1') throw new ClientError('unreachable', 'connection reset');
    return {};
  });
  assert.deepEqual(await uplink(c, p).round(), {
    up: 0,
    down: 0,
    missed: 0,
    waiting: 0,
    failed: 1,
  });
  assert.deepEqual(p.posted, ['a1a1'], 'the later position waits for the earlier one');
});
