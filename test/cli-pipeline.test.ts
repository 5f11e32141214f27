// The thesis' shell pipelines with `hanzenet` in place of `validana-cli`: a key file written by
// `key generate`, `contract execute` piped into `transaction await --id-file -`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeServer, contractView } from './support/cli-fake-server.js';
import { errorOf, runShell } from './support/cli-run.js';

const TRADER = 'af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a';
const dir = mkdtempSync(join(tmpdir(), 'hanzenet-pipe-'));
let server: FakeServer;

before(async () => {
  const decide = (_tx: unknown, payload: Record<string, unknown>) =>
    payload['amount'] === 0
      ? {
          status: 'rejected' as const,
          code: 'amount_must_be_positive',
          message: 'amount must be positive',
        }
      : { status: 'accepted' as const, code: null, message: 'OK' };
  server = await FakeServer.start({ contracts: [contractView('Trader', TRADER)], decide });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('key generate > a.json; contract execute --signing-keyfile a.json | transaction await --id-file -', async () => {
  const script = [
    'set -e',
    'hanzenet key generate > a.json',
    `hanzenet contract execute --contract-type Trader --payload '{"amount": 1}' --signing-keyfile a.json --no-wait | hanzenet transaction await --id-file - > result.json`,
    `jq_free_id=$(hanzenet contract execute --contract-type Trader --payload '{"amount": 2}' --signing-keyfile a.json)`,
    'echo "$jq_free_id" | hanzenet transaction get --id-file - > second.json',
  ].join('\n');
  const r = await runShell(script, { cwd: dir, env: { HANZENET_URL: server.url } });
  assert.equal(r.code, 0, r.stderr);
  const key = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as { address: string };
  const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as {
    status: string;
    sender: string;
    payload: unknown;
  };
  assert.equal(result.status, 'accepted');
  assert.equal(result.sender, key.address);
  assert.deepEqual(result.payload, { amount: 1 });
  const second = JSON.parse(readFileSync(join(dir, 'second.json'), 'utf8')) as {
    status: string;
    payload: unknown;
  };
  assert.equal(second.status, 'accepted');
  assert.deepEqual(second.payload, { amount: 2 });
});

test('a rejection stops a `set -e` script with the error JSON on stderr', async () => {
  const script = [
    'set -e',
    'hanzenet key generate > b.json',
    `hanzenet contract execute --contract-type Trader --payload '{"amount": 0}' --signing-keyfile b.json`,
    'echo not reached',
  ].join('\n');
  const r = await runShell(script, { cwd: dir, env: { HANZENET_URL: server.url } });
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(errorOf(r).code, 'amount_must_be_positive');
});
