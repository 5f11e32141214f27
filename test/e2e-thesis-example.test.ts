// The thesis' example (6.3) end to end, as a user runs it: a real processor process, driven only
// by the `hanzenet` command in a shell. The session is the one in docs/energy.md ("The thesis'
// example (6.3) as a shell session"): this test first checks that the document's commands are
// exactly SESSION below, then runs them one by one and checks every intermediate balance table
// exactly (A's balance traded down to zero no longer appears), the rejection codes of the wrong
// calls on the way, the members and B's history. Runs on the embedded database and, when
// DATABASE_URL is set, on the PostgreSQL server. `jq` is not needed: where the document assigns a
// variable with jq, the test reads the same field from the JSON itself.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENERGY_CONTRACTS } from '../src/energy/index.js';
import type {
  EnergyBalancesView,
  EnergyContextView,
  EnergyHistoryView,
} from '../src/energy/views.js';
import { errorOf, runCli, runShell } from './support/cli-run.js';
import type { CliResult } from './support/cli-run.js';
import { e2eBackends, startProcessorProcess, stopProcess, tempDir } from './support/processes.js';

const DESCRIPTION =
  'Energy supplied by external party, you will be billed for this at the end of the month';
const QUARTER_HOUR_MS = 900_000;

/** A balance row as the thesis prints it: trader name, labels, kWh (the block is checked apart). */
type BalanceRow = readonly [name: string, labels: readonly string[], kwh: string];

interface Step {
  /** The command line exactly as docs/energy.md has it (continuation lines joined with one space). */
  readonly cmd: string;
  /** The transaction must be rejected with this code (exit 1, the code on stderr). */
  readonly rejected?: string;
  /** The balance table after this `energy balance`, in the order printed. */
  readonly balances?: readonly BalanceRow[];
  /** Before running: wait while a quarter hour is about to end (see below). */
  readonly samePeriodAsNext?: boolean;
  readonly check?: (stdout: string, vars: Readonly<Record<string, string>>) => void;
}

function execute(type: string, keyFile: string, payload: string): string {
  return `hanzenet contract execute --contract-type ${type} --signing-keyfile ${keyFile} --payload "${payload}"`;
}

const SESSION: readonly Step[] = [
  { cmd: 'hanzenet key generate > owner.json' },
  { cmd: 'hanzenet key generate > a.json' },
  { cmd: 'hanzenet key generate > b.json' },
  { cmd: 'hanzenet key generate > producer.json' },
  { cmd: 'hanzenet key generate > consumer.json' },
  {
    cmd: 'CTX=$(jq -r .address owner.json); A=$(jq -r .address a.json); B=$(jq -r .address b.json)',
  },
  { cmd: 'PRODUCER=$(jq -r .address producer.json); CONSUMER=$(jq -r .address consumer.json)' },
  {
    cmd: execute(
      'Trader',
      'owner.json',
      String.raw`{\"context\":\"$CTX\",\"address\":\"$A\",\"allowed\":true}`,
    ),
  },
  {
    cmd: execute(
      'Trader',
      'owner.json',
      String.raw`{\"context\":\"$CTX\",\"address\":\"$B\",\"allowed\":true}`,
    ),
  },
  {
    cmd: execute(
      'Producer',
      'owner.json',
      String.raw`{\"context\":\"$CTX\",\"address\":\"$PRODUCER\",\"allowed\":true,\"trader\":\"$A\",\"labels\":[\"solar\"]}`,
    ),
  },
  {
    cmd: execute(
      'Consumer',
      'owner.json',
      String.raw`{\"context\":\"$CTX\",\"address\":\"$CONSUMER\",\"allowed\":true,\"trader\":\"$B\",\"labels\":[]}`,
    ),
  },
  {
    cmd: execute(
      'SettlementPeriod',
      'owner.json',
      String.raw`{\"context\":\"$CTX\",\"periodSeconds\":900}`,
    ),
  },
  {
    cmd: execute(
      'Trader',
      'a.json',
      String.raw`{\"context\":\"$CTX\",\"address\":\"$B\",\"allowed\":false}`,
    ),
    rejected: 'not_context_owner',
  },
  { cmd: 'hanzenet energy context --context "$CTX"', check: checkContext },
  {
    cmd: execute('Energy', 'producer.json', String.raw`{\"context\":\"$CTX\",\"amount\":10}`),
    samePeriodAsNext: true,
  },
  { cmd: execute('Energy', 'consumer.json', String.raw`{\"context\":\"$CTX\",\"amount\":-15}`) },
  {
    cmd: execute('Energy', 'consumer.json', String.raw`{\"context\":\"$CTX\",\"amount\":5}`),
    rejected: 'sender_not_producer',
  },
  {
    cmd: 'hanzenet energy balance --context "$CTX"',
    balances: [
      ['A', ['solar'], '10'],
      ['B', [], '-15'],
    ],
  },
  {
    cmd: `BLOCK=$(hanzenet energy balance --context "$CTX" --trader "$A" | jq '.balances[0].block')`,
  },
  {
    cmd: execute(
      'Transfer',
      'a.json',
      String.raw`{\"context\":\"$CTX\",\"receiver\":\"$B\",\"block\":$BLOCK,\"labels\":[\"solar\"],\"amount\":11}`,
    ),
    rejected: 'insufficient_energy',
  },
  {
    cmd: execute(
      'Transfer',
      'a.json',
      String.raw`{\"context\":\"$CTX\",\"receiver\":\"$B\",\"block\":$((BLOCK + 1)),\"labels\":[\"solar\"],\"amount\":10}`,
    ),
    rejected: 'block_not_period_start',
  },
  {
    cmd: execute(
      'Transfer',
      'a.json',
      String.raw`{\"context\":\"$CTX\",\"receiver\":\"$B\",\"block\":$BLOCK,\"labels\":[\"solar\"],\"amount\":10}`,
    ),
  },
  {
    cmd: 'hanzenet energy balance --context "$CTX"',
    balances: [
      ['B', [], '-15'],
      ['B', ['solar'], '10'],
    ],
  },
  {
    cmd: execute(
      'Reduce',
      'b.json',
      String.raw`{\"context\":\"$CTX\",\"block\":$BLOCK,\"originalLabels\":[\"solar\"],\"amount\":10,\"labelsToRemove\":[\"solar\"]}`,
    ),
  },
  { cmd: 'hanzenet energy balance --context "$CTX"', balances: [['B', [], '-5']] },
  {
    cmd: execute(
      'Mutate',
      'owner.json',
      String.raw`{\"context\":\"$CTX\",\"trader\":\"$B\",\"block\":$BLOCK,\"labels\":[],\"amount\":5,\"description\":\"` +
        DESCRIPTION +
        String.raw`\"}`,
    ),
  },
  { cmd: 'hanzenet energy balance --context "$CTX"', balances: [] },
  { cmd: 'hanzenet energy history --context "$CTX" --trader "$B"', check: checkHistoryOfB },
];

// ---------------------------------------------------------------------------------------------
// The document's session.

/** The command lines of the session in docs/energy.md: sh blocks, continuations joined, no comments. */
async function documentedSession(): Promise<string[]> {
  const doc = await readFile(new URL('../../docs/energy.md', import.meta.url), 'utf8');
  const start = doc.indexOf("## The thesis' example (6.3) as a shell session");
  assert.ok(
    start >= 0,
    'docs/energy.md has the section "The thesis\' example (6.3) as a shell session"',
  );
  const end = doc.indexOf('\n## ', start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const lines: string[] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = (block[1] ?? '').replace(/\\\n\s*/g, '');
    for (const line of joined.split('\n')) {
      const trimmed = line.trim();
      if (trimmed !== '' && !trimmed.startsWith('#')) lines.push(trimmed);
    }
  }
  return lines;
}

test('docs/energy.md shows exactly the session this test runs', async () => {
  assert.deepEqual(
    await documentedSession(),
    SESSION.map((s) => s.cmd),
  );
});

// ---------------------------------------------------------------------------------------------
// Running it.

const ASSIGN_FROM_KEY = /^([A-Z_]+)=\$\(jq -r \.address ([a-z]+\.json)\)$/;
const ASSIGN_FROM_COMMAND = /^([A-Z_]+)=\$\((hanzenet .*) \| jq '([^']*)'\)$/;

/** What jq prints for a path like `.balances[0].block` (the only form the session uses). */
function jqPath(json: unknown, path: string): string {
  let value: unknown = json;
  for (const part of path.match(/\.[A-Za-z_]+|\[\d+\]/g) ?? []) {
    if (value === null || typeof value !== 'object') return 'null';
    const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part.slice(1);
    value = (value as Record<string | number, unknown>)[key];
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

class Session {
  readonly vars: Record<string, string> = {};

  constructor(
    private readonly url: string,
    private readonly cwd: string,
  ) {}

  async sh(cmd: string): Promise<CliResult> {
    return runShell(cmd, {
      cwd: this.cwd,
      env: { HANZENET_URL: this.url, ...this.vars },
      timeoutMs: 60_000,
    });
  }

  /** Runs one documented line; assignments set `vars` the way the shell would. */
  async run(step: Step): Promise<CliResult | null> {
    const segments = step.cmd.split(/; (?=[A-Z_]+=)/);
    if (segments.every((s) => ASSIGN_FROM_KEY.test(s))) {
      for (const segment of segments) {
        const [, name = '', file = ''] = ASSIGN_FROM_KEY.exec(segment) ?? [];
        const key = JSON.parse(await readFile(join(this.cwd, file), 'utf8')) as { address: string };
        this.vars[name] = key.address;
      }
      return null;
    }
    const assign = ASSIGN_FROM_COMMAND.exec(step.cmd);
    if (assign !== null) {
      const [, name = '', command = '', path = ''] = assign;
      const result = await this.sh(command);
      assert.equal(result.code, 0, `${command}: ${result.stderr}`);
      this.vars[name] = jqPath(JSON.parse(result.stdout), path);
      return result;
    }
    return this.sh(step.cmd);
  }

  nameOf(address: string): string {
    const names: Record<string, string> = {
      [this.vars['A'] ?? '']: 'A',
      [this.vars['B'] ?? '']: 'B',
    };
    return names[address] ?? address;
  }
}

/** Keeps the two readings in one 15-minute period: never start the first within 20 s of its end. */
async function awayFromQuarterHourEnd(): Promise<void> {
  const left = QUARTER_HOUR_MS - (Date.now() % QUARTER_HOUR_MS);
  if (left < 20_000) await sleep(left + 500);
}

function checkBalances(session: Session, stdout: string, table: readonly BalanceRow[]): void {
  let expected = table;
  const view = JSON.parse(stdout) as EnergyBalancesView;
  const block = Number(session.vars['BLOCK'] ?? view.balances[0]?.block);
  // The API orders by trader address (bytes), then block, then label set: A and B are random keys.
  const byAddress = (x: BalanceRow, y: BalanceRow): number =>
    Buffer.compare(Buffer.from(session.vars[x[0]] ?? ''), Buffer.from(session.vars[y[0]] ?? '')) ||
    Buffer.compare(Buffer.from(x[1].join(',')), Buffer.from(y[1].join(',')));
  expected = [...table].sort(byAddress);
  const shown = view.balances.map(
    (b): BalanceRow => [session.nameOf(b.trader), b.labels, b.amount],
  );
  assert.deepEqual(shown, expected, `balance table, got ${stdout}`);
  for (const b of view.balances) {
    assert.equal(b.block, block, 'every balance is in the period of the first reading');
    assert.equal(b.periodStartMs % QUARTER_HOUR_MS, 0, 'the period starts on a quarter hour');
    assert.equal(b.periodStart, new Date(b.periodStartMs).toISOString());
  }
  // Totals per trader (in trader order) and the grand total, exact kWh.
  const totals = new Map<string, bigint>();
  for (const [name, , kwh] of expected)
    totals.set(name, (totals.get(name) ?? 0n) + BigInt(Number(kwh) * 1000));
  assert.deepEqual(
    view.totals.map((t) => [session.nameOf(t.trader), t.amount]),
    [...totals].map(([name, wh]) => [name, String(Number(wh) / 1000)]),
  );
  assert.equal(view.total, String(expected.reduce((sum, [, , kwh]) => sum + Number(kwh), 0)));
  assert.equal(view.truncated, false);
}

function checkContext(stdout: string, vars: Readonly<Record<string, string>>): void {
  const view = JSON.parse(stdout) as EnergyContextView;
  const [ctx, a, b, producer, consumer] = [
    vars['CTX'],
    vars['A'],
    vars['B'],
    vars['PRODUCER'],
    vars['CONSUMER'],
  ];
  assert.equal(view.context, ctx);
  assert.equal(view.owner, ctx);
  assert.equal(view.settlementPeriod.periodSeconds, 900);
  assert.equal(view.latestPeriod, null, 'no energy recorded yet');
  assert.deepEqual(view.traders.map((t) => t.address).sort(), [a, b].sort());
  assert.deepEqual(view.producers, [{ address: producer, trader: a, labels: ['solar'] }]);
  assert.deepEqual(view.consumers, [{ address: consumer, trader: b, labels: [] }]);
  const roles = Object.fromEntries(view.members.map((m) => [m.address, m.roles]));
  assert.deepEqual(roles, {
    [ctx ?? '']: ['owner'],
    [a ?? '']: ['trader'],
    [b ?? '']: ['trader'],
    [producer ?? '']: ['producer'],
    [consumer ?? '']: ['consumer'],
  });
}

function checkHistoryOfB(stdout: string, vars: Readonly<Record<string, string>>): void {
  const view = JSON.parse(stdout) as EnergyHistoryView;
  const block = Number(vars['BLOCK']);
  assert.equal(view.next, null);
  const shown = view.entries.map((e) => [
    e.kind,
    e.labels,
    e.amount,
    e.counterparty,
    e.description,
  ]);
  assert.deepEqual(shown, [
    ['mutate', [], '5', vars['CTX'], DESCRIPTION],
    ['reduce', ['solar'], '-10', null, null],
    ['reduce', [], '10', null, null],
    ['transfer', ['solar'], '10', vars['A'], null],
    ['energy', [], '-15', vars['CONSUMER'], null],
  ]);
  for (const e of view.entries)
    assert.equal(e.block, block, 'every change is booked in the period of the first reading');
  const consumption = view.entries[view.entries.length - 1];
  assert.ok(consumption !== undefined);
  // The consumer's reading landed in the block after the producer's, inside the period it opened.
  assert.equal(consumption.height, block + 1);
  assert.ok(
    consumption.processedMs >= consumption.periodStartMs &&
      consumption.processedMs < consumption.periodStartMs + QUARTER_HOUR_MS,
  );
  const heights = view.entries.map((e) => e.height);
  assert.deepEqual(
    heights,
    [...heights].sort((x, y) => y - x),
    'newest first',
  );
}

for (const backend of e2eBackends({ one: 'postgres' })) {
  test(`[${backend.name}] the thesis' example (6.3) through the CLI`, async () => {
    const dir = await tempDir('thesis');
    const db = await backend.databaseUrl();
    const p = await startProcessorProcess({
      dataDir: join(dir.path, 'data'),
      databaseUrl: db.url,
      blockIntervalMs: 100,
      extraArgs: ['--no-energy'],
    });
    try {
      // The chain was started without the energy contracts: `energy install` adds them, once.
      const keyFile = join(dir.path, 'data', 'processor.key');
      const stranger = (await runCli(['key', 'generate'])).stdout;
      const refused = await runCli(
        ['--url', p.url, 'energy', 'install', '--signing-key', stranger],
        { timeoutMs: 60_000 },
      );
      assert.equal(refused.code, 1, refused.stderr);
      assert.equal(errorOf(refused).code, 'not_processor');
      const first = await runCli(
        ['--url', p.url, 'energy', 'install', '--signing-keyfile', keyFile],
        { timeoutMs: 60_000 },
      );
      assert.equal(first.code, 0, first.stderr);
      const installed = JSON.parse(first.stdout) as {
        created: { type: string }[];
        alreadyActive: unknown[];
      };
      assert.deepEqual(
        installed.created.map((c) => c.type),
        ENERGY_CONTRACTS.map((d) => d.type),
      );
      assert.deepEqual(installed.alreadyActive, []);
      const again = await runCli(
        ['--url', p.url, 'energy', 'install', '--signing-keyfile', keyFile],
        { timeoutMs: 60_000 },
      );
      assert.equal(again.code, 0, again.stderr);
      const second = JSON.parse(again.stdout) as {
        created: unknown[];
        alreadyActive: { type: string }[];
      };
      assert.deepEqual(second.created, []);
      assert.deepEqual(
        second.alreadyActive.map((c) => c.type),
        ENERGY_CONTRACTS.map((d) => d.type),
      );

      const cwd = join(dir.path, 'session');
      await mkdir(cwd);
      const session = new Session(p.url, cwd);
      for (const step of SESSION) {
        if (step.samePeriodAsNext === true) await awayFromQuarterHourEnd();
        const result = await session.run(step);
        if (result === null) continue;
        const what = `${step.cmd}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
        if (step.rejected !== undefined) {
          assert.equal(result.code, 1, what);
          assert.equal(result.stdout, '', what);
          const error = errorOf(result);
          assert.equal(error.code, step.rejected, what);
          assert.equal(error.details['status'], 'rejected', what);
          assert.ok(
            error.message.includes(session.vars['CTX'] ?? '?'),
            `the message names the context: ${error.message}`,
          );
          continue;
        }
        assert.equal(result.code, 0, what);
        assert.equal(result.stderr, '', what);
        if (step.balances !== undefined) checkBalances(session, result.stdout, step.balances);
        step.check?.(result.stdout, session.vars);
      }
      assert.match(session.vars['BLOCK'] ?? '', /^[1-9][0-9]*$/, 'BLOCK is a block number');
    } finally {
      await stopProcess(p);
      await db.drop();
      await dir.remove();
    }
  });
}
