// The `hanzenet` command as a real process: argument parsing, keys, ids and payloads from flags,
// files and stdin, JSON on stdout, JSON errors on stderr, exit codes 0 / 1 / 2.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PrivateKey, isValidWIF } from '../src/core/keys.js';
import { CREATE_CONTRACT_HASH, DELETE_CONTRACT_HASH } from '../src/chain/types.js';
import { buildProgram } from '../src/cli/program.js';
import type { ProcessorStartOptions } from '../src/cli/processor-options.js';
import { processorStartOptions } from '../src/cli/commands/service.js';
import { FakeServer, closedPortUrl, contractView } from './support/cli-fake-server.js';
import { CLI_PATH, errorOf, runCli } from './support/cli-run.js';

const TRADER = 'af0281694a24b10d5447e057d330e74bdb013876d962723e6aa965e46dcdfd7a';
const key = PrivateKey.generate();
const dir = mkdtempSync(join(tmpdir(), 'hanzenet-cli-'));
const keyJsonFile = join(dir, 'key.json');
const keyWifFile = join(dir, 'key.wif');
let server: FakeServer;

before(async () => {
  writeFileSync(
    keyJsonFile,
    JSON.stringify({ privateKey: key.toWIF(), publicKey: 'x', address: key.address }, null, 2),
  );
  writeFileSync(keyWifFile, `${key.toWIF()}\n`);
  const decide = (_tx: unknown, payload: Record<string, unknown>) =>
    payload['reject'] === true
      ? {
          status: 'rejected' as const,
          code: 'insufficient_energy',
          message: 'have 0 Wh, want 5 Wh',
        }
      : { status: 'accepted' as const, code: null, message: 'OK' };
  server = await FakeServer.start({
    chainId: 'hanzenet-cli-test',
    contracts: [contractView('Trader', TRADER)],
    decide,
  });
});

after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const url = (): string[] => ['--url', server.url];

test('key generate prints a WIF, the public key and the address, as JSON', async () => {
  const r = await runCli(['key', 'generate']);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '');
  const out = JSON.parse(r.stdout) as { privateKey: string; publicKey: string; address: string };
  assert.deepEqual(Object.keys(out), ['privateKey', 'publicKey', 'address']);
  assert.ok(isValidWIF(out.privateKey));
  const k = PrivateKey.fromWIF(out.privateKey);
  assert.equal(out.address, k.address);
  assert.equal(out.publicKey, Buffer.from(k.publicKey).toString('hex'));
  assert.ok(r.stdout.startsWith('{\n  "privateKey"'), 'pretty JSON, 2 spaces');
});

test('a missing command prints the help as text on stderr, with examples, exit code 2', async () => {
  for (const args of [[], ['contract']]) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.ok(r.stderr.startsWith('error: a command is missing\n'), r.stderr);
    assert.match(r.stderr, new RegExp(`Usage: hanzenet ${args.join(' ')}`.trim()));
  }
  const bare = await runCli([]);
  assert.match(bare.stderr, /\nExamples:\n {2}hanzenet processor start/);
});

test('--version prints the package version', async () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-V']) {
    const r = await runCli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${pkg.version}\n`);
  }
});

test('a reader that closes the pipe early ends the command quietly', async () => {
  const script = `"${process.execPath}" "${CLI_PATH}" meter simulate --count 3000 | "${process.execPath}" "${CLI_PATH}" meter parse --all 2>"$0" | head -c 10 >/dev/null; echo "\${PIPESTATUS[1]}"`;
  const errFile = join(dir, 'epipe.err');
  const out = execFileSync('bash', ['-c', script, errFile], { encoding: 'utf8' });
  assert.equal(out.trim(), '0');
  assert.equal(readFileSync(errFile, 'utf8'), '', 'no stack trace, no error');
});

test('usage errors: JSON on stderr, nothing on stdout, exit code 2', async () => {
  const cases: [string[], string][] = [
    [['frobnicate'], "unknown command 'frobnicate'"],
    [['key', 'generate', '--bogus'], "unknown option '--bogus'"],
    [['block', 'get', 'abc'], "value 'abc' is invalid for argument 'height'"],
    [['block', 'list', '--limit', '5000'], "'5000' is invalid"],
    [
      ['contract', 'execute', '--contract-type', 'Trader', '--payload', '{}'],
      'give exactly one of --signing-key, --signing-keyfile (got none)',
    ],
    [
      ['contract', 'execute', '--payload', '{}', '--signing-keyfile', keyJsonFile],
      'give exactly one of --contract-type, --contract-hash (got none)',
    ],
    [
      [
        'contract',
        'execute',
        '--contract-type',
        'T',
        '--contract-hash',
        TRADER,
        '--payload',
        '{}',
        '--signing-key',
        'x',
      ],
      '(got --contract-type and --contract-hash)',
    ],
    [
      ['contract', 'execute', '--contract-type', 'T', '--signing-keyfile', keyJsonFile],
      'give exactly one of --payload, --payload-file (got none)',
    ],
    [
      [
        'contract',
        'execute',
        '--contract-type',
        'T',
        '--payload',
        '{}',
        '--signing-keyfile',
        join(dir, 'missing.json'),
      ],
      'cannot read',
    ],
    [
      ['contract', 'create', '--signing-keyfile', keyJsonFile],
      "required option '--contract-file <file>' not specified",
    ],
    [['transaction', 'get'], 'give exactly one of --id, --id-file (got none)'],
    [['processor', 'start', '--port', '70000'], "'70000' is invalid"],
  ];
  const results = await Promise.all(cases.map(([args]) => runCli([...url(), ...args])));
  results.forEach((r, i) => {
    const [args, fragment] = cases[i] ?? [[], ''];
    assert.equal(
      r.code,
      2,
      `${args.join(' ')}: exit code ${r.code} (stdout ${r.stdout}, stderr ${r.stderr})`,
    );
    assert.equal(r.stdout, '', `${args.join(' ')}: stdout`);
    const err = errorOf(r);
    assert.equal(err.code, 'usage_error', args.join(' '));
    assert.ok(
      err.message.includes(fragment),
      `${args.join(' ')}: "${err.message}" should include "${fragment}"`,
    );
    assert.equal(typeof err.details, 'object');
  });
  assert.equal(server.txs.size, 0, 'nothing was sent');
});

test('bad keys, ids and payloads are input errors (exit 2) with the exact code, and keys are never echoed', async () => {
  // The same WIF with its last character changed: the checksum no longer matches.
  const wif = key.toWIF();
  const badWif = wif.slice(0, -1) + (wif.endsWith('x') ? 'y' : 'x');
  const cases: [string[], string, string?][] = [
    [
      [
        'contract',
        'execute',
        '--contract-type',
        'Trader',
        '--payload',
        '{}',
        '--signing-key',
        badWif,
      ],
      'key_invalid',
    ],
    [
      [
        'contract',
        'execute',
        '--contract-type',
        'Trader',
        '--payload',
        '{}',
        '--signing-key',
        '{"nokey": 1}',
      ],
      'key_invalid',
    ],
    [
      [
        'contract',
        'execute',
        '--contract-type',
        'Trader',
        '--payload',
        '[1,2]',
        '--signing-key',
        key.toWIF(),
      ],
      'tx_payload_not_json',
    ],
    [
      [
        'contract',
        'execute',
        '--contract-type',
        'Trader',
        '--payload',
        '{nope',
        '--signing-key',
        key.toWIF(),
      ],
      'tx_payload_not_json',
    ],
    [
      [
        'contract',
        'execute',
        '--contract-hash',
        'abc',
        '--payload',
        '{}',
        '--signing-key',
        key.toWIF(),
      ],
      'bad_hex',
    ],
    [
      [
        'contract',
        'execute',
        '--contract-type',
        'Trader',
        '--payload',
        '{}',
        '--signing-key',
        key.toWIF(),
        '--id',
        'zz',
      ],
      'bad_hex',
    ],
    [['transaction', 'get', '--id', '1234'], 'bad_hex'],
    [['transaction', 'await', '--id', '{"transactionId": 5}'], 'bad_hex'],
    [['transaction', 'get', '--id-file', '-'], 'bad_hex', ''],
    [
      [
        'contract',
        'execute',
        '--contract-type',
        'Trader',
        '--payload-file',
        '-',
        '--signing-keyfile',
        '-',
      ],
      'usage_error',
      '{}',
    ],
  ];
  const results = await Promise.all(
    cases.map(([args, , stdin]) =>
      runCli([...url(), ...args], stdin === undefined ? {} : { stdin }),
    ),
  );
  results.forEach((r, i) => {
    const [args, code] = cases[i] ?? [[], ''];
    assert.equal(
      r.code,
      2,
      `${args.join(' ')}: exit code ${r.code} (stdout ${r.stdout}, stderr ${r.stderr})`,
    );
    assert.equal(errorOf(r).code, code, args.join(' '));
    assert.ok(!r.stderr.includes(wif.slice(1, -1)), 'the key is not echoed');
  });
  assert.equal(server.txs.size, 0, 'nothing was sent');
});

test('contract execute: key from a JSON key file, payload from stdin; waits and prints {"transactionId"}', async () => {
  const payload = '{\n  "context": "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH",\n  "amount": 12.5\n}\n';
  const r = await runCli(
    [
      ...url(),
      'contract',
      'execute',
      '--contract-type',
      'Trader',
      '--payload-file',
      '-',
      '--signing-keyfile',
      keyJsonFile,
    ],
    { stdin: payload },
  );
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { transactionId: string };
  assert.deepEqual(Object.keys(out), ['transactionId']);
  const stored = server.txs.get(out.transactionId);
  assert.equal(stored?.view.status, 'accepted');
  assert.equal(stored?.tx.payloadText, JSON.stringify(JSON.parse(payload)));
  assert.equal(stored?.tx.contractHashHex, TRADER);
  assert.equal(
    stored?.tx.validTillMs,
    0,
    '--valid-until defaults to 0 (never expires), as validana-cli',
  );
  assert.equal(stored?.tx.sender, key.address);
  const post = server.requests.filter((q) => q.path === '/api/transactions').at(-1);
  assert.equal((post?.body as { wait?: boolean } | undefined)?.wait, true);
});

test('contract execute with a WIF key file, --id, --valid-until and --contract-hash; a payload file', async () => {
  const payloadFile = join(dir, 'payload.json');
  writeFileSync(payloadFile, '{"x": "é"}');
  const id = 'AB'.repeat(16);
  const r = await runCli([
    ...url(),
    'contract',
    'execute',
    '--contract-hash',
    TRADER,
    '--payload-file',
    payloadFile,
    '--signing-keyfile',
    keyWifFile,
    '--id',
    id,
    '--valid-until',
    '1999999999999',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { transactionId: id.toLowerCase() });
  const stored = server.txs.get(id.toLowerCase());
  assert.equal(stored?.tx.payloadText, '{"x":"é"}');
  assert.equal(stored?.tx.validTillMs, 1_999_999_999_999);
});

test('a rejected transaction: exit 1, its code and message as JSON on stderr, nothing on stdout', async () => {
  const r = await runCli([
    ...url(),
    'contract',
    'execute',
    '--contract-type',
    'Trader',
    '--payload',
    '{"reject": true}',
    '--signing-key',
    JSON.stringify({ privateKey: key.toWIF() }),
  ]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  const err = errorOf(r);
  assert.equal(err.code, 'insufficient_energy');
  assert.equal(err.message, 'have 0 Wh, want 5 Wh');
  assert.equal(err.details['status'], 'rejected');
  assert.equal(typeof err.details['transactionId'], 'string');
});

test('server errors keep their code (exit 1); --prefix for another chain fails the signature check', async () => {
  const unknown = await runCli([
    ...url(),
    'contract',
    'execute',
    '--contract-type',
    'Nope',
    '--payload',
    '{}',
    '--signing-key',
    key.toWIF(),
  ]);
  assert.equal(unknown.code, 1);
  assert.equal(errorOf(unknown).code, 'contract_unknown');
  const wrongChain = await runCli([
    ...url(),
    '--prefix',
    'other-chain',
    'contract',
    'execute',
    '--contract-type',
    'Trader',
    '--payload',
    '{}',
    '--signing-key',
    key.toWIF(),
  ]);
  assert.equal(wrongChain.code, 1);
  assert.equal(errorOf(wrongChain).code, 'signature_invalid');
  const rightChain = await runCli(
    [
      'contract',
      'execute',
      '--contract-type',
      'Trader',
      '--payload',
      '{}',
      '--signing-key',
      key.toWIF(),
    ],
    { env: { HANZENET_URL: server.url, HANZENET_PREFIX: server.chainId } },
  );
  assert.equal(rightChain.code, 0, rightChain.stderr);
});

test('--no-wait, then transaction await / get / status with --id and --id-file (raw, JSON, stdin)', async () => {
  const sent = await runCli([
    ...url(),
    'contract',
    'execute',
    '--contract-type',
    'Trader',
    '--payload',
    '{"n": 1}',
    '--signing-keyfile',
    keyJsonFile,
    '--no-wait',
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  const id = (JSON.parse(sent.stdout) as { transactionId: string }).transactionId;
  const rawFile = join(dir, 'id.txt');
  writeFileSync(rawFile, `${id.toUpperCase()}\n`);
  const awaited = await runCli([...url(), 'transaction', 'await', '--id-file', '-'], {
    stdin: sent.stdout,
  });
  assert.equal(awaited.code, 0, awaited.stderr);
  const view = JSON.parse(awaited.stdout) as { id: string; status: string; payload: unknown };
  assert.equal(view.id, id);
  assert.equal(view.status, 'accepted');
  assert.deepEqual(view.payload, { n: 1 });
  const [got, fromTxView, status, unknownStatus, missing] = await Promise.all([
    runCli([...url(), 'transaction', 'get', '--id-file', rawFile]),
    runCli([...url(), 'transaction', 'get', '--id', awaited.stdout]),
    runCli([...url(), 'transaction', 'status', '--id', id]),
    runCli([...url(), 'transaction', 'status', '--id', '00'.repeat(16)]),
    runCli([...url(), 'transaction', 'get', '--id', '00'.repeat(16)]),
  ]);
  assert.equal((JSON.parse(got.stdout) as { id: string }).id, id);
  assert.equal((JSON.parse(fromTxView.stdout) as { id: string }).id, id);
  assert.deepEqual(JSON.parse(status.stdout), { transactionId: id, status: 'accepted' });
  assert.deepEqual(JSON.parse(unknownStatus.stdout), {
    transactionId: '00'.repeat(16),
    status: null,
  });
  assert.equal(missing.code, 1);
  assert.equal(errorOf(missing).code, 'not_found');
});

test('transaction await --timeout-ms gives await_timeout (exit 1) for an id that never turns up', async () => {
  const r = await runCli([
    ...url(),
    'transaction',
    'await',
    '--id',
    'cd'.repeat(16),
    '--timeout-ms',
    '300',
  ]);
  assert.equal(r.code, 1);
  assert.equal(errorOf(r).code, 'await_timeout');
});

test('contract list, create (contract file), delete by type; info; block get and list', async () => {
  const contractFile = join(dir, 'contract.json');
  const contract = {
    type: 'Thing',
    version: '1.0',
    description: 'a thing',
    template: '{"a":{"type":"str","name":"a","desc":"a"}}',
    init: '',
    code: 'cmV0dXJuICJPSyI7',
  };
  writeFileSync(contractFile, JSON.stringify(contract, null, 4));
  server.addBlock();
  server.addBlock();
  const [list, created, deleted, info, block, blocks] = await Promise.all([
    runCli([...url(), 'contract', 'list']),
    runCli([
      ...url(),
      'contract',
      'create',
      '--contract-file',
      contractFile,
      '--signing-keyfile',
      keyJsonFile,
    ]),
    runCli([
      ...url(),
      'contract',
      'delete',
      '--contract-type',
      'Trader',
      '--signing-keyfile',
      keyJsonFile,
    ]),
    runCli([...url(), 'info']),
    runCli([...url(), 'block', 'get', '1']),
    runCli([...url(), 'block', 'list', '--from', '0', '--limit', '5']),
  ]);
  assert.deepEqual(
    (JSON.parse(list.stdout) as { type: string }[]).map((c) => c.type),
    ['Trader'],
  );
  const createdId = (JSON.parse(created.stdout) as { transactionId: string }).transactionId;
  assert.equal(server.txs.get(createdId)?.tx.contractHashHex, CREATE_CONTRACT_HASH);
  assert.equal(server.txs.get(createdId)?.tx.payloadText, JSON.stringify(contract));
  const deletedId = (JSON.parse(deleted.stdout) as { transactionId: string }).transactionId;
  assert.equal(server.txs.get(deletedId)?.tx.contractHashHex, DELETE_CONTRACT_HASH);
  assert.equal(server.txs.get(deletedId)?.tx.payloadText, JSON.stringify({ hash: TRADER }));
  assert.equal((JSON.parse(info.stdout) as { chainId: string }).chainId, 'hanzenet-cli-test');
  assert.equal((JSON.parse(block.stdout) as { height: number }).height, 1);
  assert.ok((JSON.parse(blocks.stdout) as unknown[]).length >= 2);
});

test('an unreachable server: code unreachable, exit 1', async () => {
  const r = await runCli(['info'], { env: { HANZENET_URL: await closedPortUrl() } });
  assert.equal(r.code, 1);
  assert.equal(errorOf(r).code, 'unreachable');
  assert.equal(errorOf(r).details['reason'], 'ECONNREFUSED');
});

test('processor start: options, environment variables and defaults become ProcessorStartOptions', async () => {
  const parse = async (
    args: string[],
    env: Record<string, string> = {},
  ): Promise<ProcessorStartOptions> => {
    const saved = { ...process.env };
    for (const name of [
      'HANZENET_PORT',
      'HANZENET_DATA_DIR',
      'HANZENET_BLOCK_INTERVAL_MS',
      'HANZENET_BLOCK_TXS_MAX',
      'DATABASE_URL',
    ])
      delete process.env[name];
    Object.assign(process.env, env);
    try {
      const program = buildProgram();
      let captured: ProcessorStartOptions | null = null;
      const start = program.commands
        .find((c) => c.name() === 'processor')
        ?.commands.find((c) => c.name() === 'start') as Command;
      start.action((opts: Parameters<typeof processorStartOptions>[0]) => {
        captured = processorStartOptions(opts);
      });
      await program.parseAsync(['node', 'hanzenet', 'processor', 'start', ...args]);
      assert.ok(captured !== null);
      return captured;
    } finally {
      process.env = saved;
    }
  };
  assert.deepEqual(await parse([]), {
    port: 8080,
    host: '127.0.0.1',
    dataDir: resolve('./data'),
    blockIntervalMs: 1000,
    blockTxsMax: 2000,
    keyFile: resolve('./data/processor.key'),
    energy: true,
    settlementAgent: true,
  });
  assert.deepEqual(
    await parse(
      [
        '--no-energy',
        '--no-settlement-agent',
        '--no-dashboard',
        '--chain-id',
        'c1',
        '--key-file',
        '/k/p.key',
        '--host',
        '0.0.0.0',
        '--block-txs-max',
        '500',
      ],
      {
        HANZENET_PORT: '9000',
        HANZENET_DATA_DIR: '/tmp/hz',
        HANZENET_BLOCK_INTERVAL_MS: '5000',
        DATABASE_URL: 'postgres://x/y',
      },
    ),
    {
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/tmp/hz',
      blockIntervalMs: 5000,
      blockTxsMax: 500,
      keyFile: '/k/p.key',
      energy: false,
      settlementAgent: false,
      databaseUrl: 'postgres://x/y',
      chainId: 'c1',
      dashboard: false,
    },
  );
  assert.equal(
    (await parse(['--port', '7000'], { HANZENET_PORT: '9000' })).port,
    7000,
    'the flag wins over the environment',
  );
});
