// Text in contract tables comes back byte for byte on both backends: byte-order marks (U+FEFF, which
// the embedded database's decoder used to drop at the start of a value), combining marks, astral
// characters, joiners, non-characters. The characters PostgreSQL text cannot hold (U+0000) and
// unpaired surrogates are refused with contract_bad_row, on both backends alike, and the table
// stays as it was.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Row, TableDef } from '../src/chain/contract-model.js';
import { ChainError } from '../src/core/errors.js';
import {
  applyStateChanges,
  createContractTable,
  findRows,
  readRows,
  textProblem,
} from '../src/store/contract-tables.js';
import { migrate } from '../src/store/migrations.js';
import { testBackends } from './support/test-db.js';

const NOTES: TableDef = {
  columns: { k: 'text', note: 'text', tags: 'text[]', data: 'json' },
  key: ['k'],
  indexes: [['note']],
};

const SPECIAL = [
  '\ufeff', // byte-order mark / zero-width no-break space
  '\u0301', // combining acute accent
  '\u200d', // zero-width joiner
  '\ud83d\ude00', // an astral character (a surrogate pair)
  '\ud834\udd1e', // musical symbol G clef
  '\uffff', // a non-character
  '\u0000', // refused: PostgreSQL text cannot hold it
  '\ud800', // refused: a lone high surrogate
  '\udc00', // refused: a lone low surrogate
  'a',
  'é',
  ' ',
];

const unit = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
const text = fc.array(unit, { maxLength: 8 }).map((parts) => parts.join(''));

const bytes = (value: unknown): string =>
  Buffer.from(
    JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)),
    'utf8',
  ).toString('hex');

for (const backend of testBackends()) {
  test(`any text survives a contract table byte for byte, or is refused whole (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      await migrate(db);
      await db.transaction((sql) => createContractTable(sql, 'notes', NOTES));
      const defs = new Map([['notes', NOTES]]);
      let n = 0;
      await fc.assert(
        fc.asyncProperty(text, text, text, async (note, tag, inJson) => {
          const k = `row-${n++}`;
          const row: Row = { k, note, tags: [tag, note], data: { s: inJson, [note]: 1 } };
          const refused = [note, tag].some((t) => textProblem(t) !== null);
          try {
            await db.transaction((sql) =>
              applyStateChanges(sql, defs, [{ table: 'notes', key: [k], row }]),
            );
          } catch (err) {
            assert.ok(refused, `refused text that is allowed: ${JSON.stringify([note, tag])}`);
            assert.ok(err instanceof ChainError && err.code === 'contract_bad_row', String(err));
            assert.deepEqual(await readRows(db, 'notes', NOTES, [[k]]), []);
            return;
          }
          assert.ok(
            !refused,
            `accepted text that cannot be stored: ${JSON.stringify([note, tag])}`,
          );
          const [read] = await readRows(db, 'notes', NOTES, [[k]]);
          assert.equal(bytes(read), bytes(row));
          const found = await findRows(db, 'notes', NOTES, { note }, 100);
          assert.ok(
            found.some((r) => bytes(r) === bytes(row)),
            'findRows by the text itself',
          );
        }),
        { seed: Number(process.env['SEED'] ?? 7), numRuns: Number(process.env['NUM_RUNS'] ?? 150) },
      );
    } finally {
      await db.close();
    }
  });

  test(`a value that starts with byte-order marks keeps every one (${backend.name})`, async () => {
    const db = await backend.open();
    try {
      await migrate(db);
      await db.transaction((sql) => createContractTable(sql, 'notes', NOTES));
      const defs = new Map([['notes', NOTES]]);
      const values = ['\ufeffabc', '\ufeff', '\ufeff\ufeffx', 'a\ufeff', ''];
      const rows: Row[] = values.map((v, i) => ({ k: `\ufeff${i}`, note: v, tags: [v], data: v }));
      await db.transaction((sql) =>
        applyStateChanges(
          sql,
          defs,
          rows.map((row) => ({ table: 'notes', key: [row['k'] ?? ''], row })),
        ),
      );
      const read = await findRows(db, 'notes', NOTES, {}, 100);
      assert.deepEqual(read.map(bytes), rows.map(bytes));
      const plain = await db.query<{ note: string }>('SELECT note FROM state.notes ORDER BY k');
      assert.deepEqual(
        plain.rows.map((r) => r.note),
        values,
      );
    } finally {
      await db.close();
    }
  });
}
