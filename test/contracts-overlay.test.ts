import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LruCache } from '../src/contracts/runtime/lru-cache.js';
import { StateOverlay } from '../src/contracts/runtime/overlay.js';
import type { SyncStateSource } from '../src/contracts/runtime/ports.js';
import { compareUtf8 } from '../src/contracts/runtime/rows.js';
import type { Row, RowValue, TableDef } from '../src/chain/contract-model.js';

const DEF: TableDef = { columns: { ctx: 'text', id: 'bigint', kind: 'text' }, key: ['ctx', 'id'] };

/** A synchronous store of committed rows that records what it was asked. */
class FakeSource implements SyncStateSource {
  readonly asked: { method: string; limit?: number }[] = [];
  constructor(readonly rows: Row[]) {}

  readRows(_table: string, _def: TableDef, keys: readonly (readonly RowValue[])[]): Row[] {
    this.asked.push({ method: 'readRows' });
    return this.rows.filter((r) => keys.some((k) => k[0] === r['ctx'] && k[1] === r['id']));
  }

  findRows(_table: string, _def: TableDef, where: Readonly<Row>, limit: number): Row[] {
    this.asked.push({ method: 'findRows', limit });
    return this.rows
      .filter((r) => Object.entries(where).every(([c, v]) => r[c] === v))
      .sort(
        (a, b) =>
          compareUtf8(a['ctx'] as string, b['ctx'] as string) ||
          Number((a['id'] as bigint) - (b['id'] as bigint)),
      )
      .slice(0, limit);
  }
}

const row = (ctx: string, id: number, kind = 'a'): Row => ({ ctx, id: BigInt(id), kind });
const ids = (rows: Row[]): string => rows.map((r) => `${r['ctx']}${r['id']}${r['kind']}`).join(' ');

test('find merges the block and transaction changes with the store and honours the limit', () => {
  const store = [
    ...Array.from({ length: 10 }, (_, i) => row('x', i + 1)),
    ...Array.from({ length: 5 }, (_, i) => row('y', i + 1)),
  ];
  const source = new FakeSource(store);
  const overlay = new StateOverlay(100);
  overlay.beginBlock(source);
  assert.equal(overlay.delete('t', DEF, ['x', 1n]), true);
  assert.equal(overlay.delete('t', DEF, ['x', 99n]), false);
  overlay.commitTx();
  overlay.delete('t', DEF, ['x', 2n]);
  overlay.put('t', DEF, row('x', 3, 'b'));
  overlay.put('t', DEF, row('x', 11));
  overlay.put('t', DEF, row('y', 1, 'b'));
  assert.equal(ids(overlay.find('t', DEF, { ctx: 'x', kind: 'a' }, 3)), 'x4a x5a x6a');
  assert.equal(
    ids(overlay.find('t', DEF, { ctx: 'x', kind: 'a' }, 100)),
    'x4a x5a x6a x7a x8a x9a x10a x11a',
  );
  assert.equal(ids(overlay.find('t', DEF, { kind: 'b' }, 10)), 'x3b y1b');
  assert.equal(ids(overlay.find('t', DEF, {}, 4)), 'x3b x4a x5a x6a');
  // The store is asked for the limit plus the changed rows that may hide a match: x1 and x2 (read
  // by delete, cached, matching), x3 and x11 (not cached); y1 cannot match ctx 'x'.
  const firstFind = source.asked.find((a) => a.method === 'findRows');
  assert.equal(firstFind?.limit, 3 + 4);
  overlay.discardTx();
  assert.equal(ids(overlay.find('t', DEF, { ctx: 'x' }, 3)), 'x2a x3a x4a');
  assert.deepEqual(overlay.blockChanges(), [{ table: 't', key: ['x', 1n], row: null }]);
  overlay.commitBlock();
  overlay.beginBlock(new FakeSource([]));
  assert.equal(overlay.get('t', DEF, ['x', 1n]), null, 'the committed delete is cached');
  assert.deepEqual(
    overlay.get('t', DEF, ['x', 2n]),
    row('x', 2),
    'rows read during the block are cached',
  );
});

test('abort drops the touched rows from the cache; the LRU forgets the oldest rows', () => {
  const source = new FakeSource([row('x', 1), row('x', 2)]);
  const overlay = new StateOverlay(100);
  overlay.beginBlock(source);
  overlay.get('t', DEF, ['x', 1n]);
  overlay.get('t', DEF, ['x', 2n]);
  overlay.put('t', DEF, row('x', 1, 'b'));
  overlay.commitTx();
  overlay.endBlock(true);
  const later = new FakeSource([row('x', 1, 'c'), row('x', 2)]);
  overlay.beginBlock(later);
  assert.deepEqual(
    overlay.get('t', DEF, ['x', 1n]),
    row('x', 1, 'c'),
    'a touched row is read again',
  );
  assert.deepEqual(overlay.get('t', DEF, ['x', 2n]), row('x', 2), 'an untouched row stays cached');
  assert.equal(later.asked.length, 1);

  const lru = new LruCache<number>(2);
  lru.set('a', 1);
  lru.set('b', 2);
  lru.get('a');
  lru.set('c', 3);
  assert.equal(lru.get('b'), undefined);
  assert.equal(lru.get('a'), 1);
  assert.equal(lru.size, 2);
});
