// docs/config.md lists every key of the three config files' schemas with what it accepts and its
// default, and no key the schemas do not have; its example files pass the same checks a service
// runs at start.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { type ConfigService, configSchemaJson } from '../src/cli/commands/config.js';
import { NODE_CONFIG_SCHEMA, PROCESSOR_CONFIG_SCHEMA } from '../src/cli/service-config.js';
import { configProblem } from '../src/config/check.js';
import { checkGatewayConfig } from '../src/meter/gateway/config.js';
import { keyRows } from './support/config-keys.js';

const doc = readFileSync('docs/config.md', 'utf8');
const SECTIONS: Record<ConfigService, string> = {
  processor: 'Processor',
  node: 'Mirror node',
  gateway: 'P1 gateway',
};

function section(service: ConfigService): string {
  const part = doc.split(/^## /m).find((s) => s.startsWith(`${SECTIONS[service]}\n`));
  assert.ok(part !== undefined, `docs/config.md has a section "## ${SECTIONS[service]}"`);
  return part;
}

/** The key table's rows: key -> [accepts, default], cells unescaped. */
function tableRows(text: string): Map<string, [string, string]> {
  const rows = new Map<string, [string, string]>();
  for (const line of text.split('\n')) {
    const cells = line.split(/(?<!\\) \| /).map((c) => c.replaceAll('\\|', '|').trim());
    const key = /^\| `([^`]+)`$/.exec(cells[0] ?? '')?.[1];
    if (key === undefined || cells.length < 4) continue;
    rows.set(key, [(cells[1] ?? '').replaceAll('`', ''), cells[2] ?? '']);
  }
  return rows;
}

for (const service of Object.keys(SECTIONS) as ConfigService[]) {
  test(`docs/config.md: the ${service} table matches the schema key by key`, () => {
    const rows = tableRows(section(service));
    const expected = keyRows(configSchemaJson(service));
    assert.ok(expected.length >= 10);
    assert.deepEqual(
      [...rows.keys()],
      expected.map((r) => r.key),
      'the keys, in schema order',
    );
    for (const r of expected) {
      const [accepts, fallback] = rows.get(r.key) ?? ['', ''];
      assert.equal(accepts, r.accepts, `${service} ${r.key}: accepts`);
      if (r.fallback === '(required)') assert.equal(fallback, '(required)', `${service} ${r.key}`);
      else if (r.fallback !== null)
        assert.equal(fallback, `\`${r.fallback}\``, `${service} ${r.key}`);
      else assert.ok(!fallback.startsWith('`'), `${service} ${r.key}: the schema has no default`);
    }
  });
}

function example(service: ConfigService): unknown {
  const block = /```json\n([\s\S]*?)```/.exec(section(service))?.[1];
  assert.ok(block !== undefined, `the ${service} section has an example`);
  return JSON.parse(block);
}

test('docs/config.md: the example files pass the checks a service runs at start', () => {
  assert.equal(configProblem(PROCESSOR_CONFIG_SCHEMA, example('processor')), null);
  assert.equal(configProblem(NODE_CONFIG_SCHEMA, example('node')), null);
  const gateway = checkGatewayConfig(example('gateway'), '/etc/hanzenet', 'gateway.json');
  assert.equal(gateway.meters.length, 2);
  assert.equal(gateway.stateDir, '/etc/hanzenet/state');
});

test('docs/config.md: the error shown is the one the gateway gives', () => {
  const shown = /```json\n\s*(\{"error"[\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(shown !== undefined);
  const { error } = JSON.parse(shown) as { error: { message: string; details: object } };
  const raw = example('gateway') as { meters: Record<string, unknown>[] };
  const meter = raw.meters[0] ?? {};
  const third = {
    ...meter,
    equipmentId: 'E3',
    gridId: 'G3',
    source: { type: 'serial', device: '/dev/ttyUSB2', baud: 'fast' },
  };
  assert.throws(
    () =>
      checkGatewayConfig(
        { ...raw, meters: [...raw.meters, third] },
        '/etc/hanzenet',
        '/etc/hanzenet/gateway.json',
      ),
    (err: unknown) => {
      const e = err as { message: string; details: object };
      assert.equal(e.message, error.message);
      assert.deepEqual(e.details, error.details);
      return true;
    },
  );
});

test('the published schemas are standard JSON Schema: a second validator (ajv) agrees', () => {
  const ajv = new Ajv({ strict: true, allErrors: true });
  for (const service of Object.keys(SECTIONS) as ConfigService[]) {
    const validate = ajv.compile(configSchemaJson(service));
    assert.equal(validate(example(service)), true, JSON.stringify(validate.errors));
    assert.equal(validate({ ...(example(service) as object), colour: 'red' }), false);
  }
  const validate = ajv.compile(configSchemaJson('gateway'));
  const raw = example('gateway') as { meters: Record<string, unknown>[] };
  const bad = { ...raw, meters: [{ ...raw.meters[0], source: { type: 'tcp', host: 'h' } }] };
  assert.equal(validate(bad), false, 'a tcp source without a port');
});
