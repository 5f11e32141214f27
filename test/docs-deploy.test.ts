// The deployment files of docs/operations.md, "A city on many processors": the compose file
// (docs/deploy/compose.yaml) and the Kubernetes manifests (docs/deploy/k8s/*.yaml). Containers
// cannot run here, so this parses them and checks every `hanzenet` service as far as it can be
// checked without starting it: its command line parses with the real command tree (commander,
// with the actions replaced), the config file it names is the one mounted at that path and
// validates against its schema (src/config/), its data directory is a volume of its own, each
// service has a PostgreSQL of its own, every chain has one processor, every node follows a
// processor that is there, and every neighbourhood has an uplink to the city.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { parse, parseAllDocuments } from 'yaml';
import { nodeStartOptionsOf, processorStartOptionsOf } from '../src/cli/commands/service.js';
import { buildProgram } from '../src/cli/program.js';

const DEPLOY = 'docs/deploy';
const CLI_PREFIX = ['node', 'dist/src/cli/main.js'];

/** One `hanzenet` service as a file declares it. */
interface ServiceDecl {
  readonly where: string;
  /** The arguments after `node dist/src/cli/main.js`. */
  readonly args: string[];
  readonly env: Record<string, string>;
  /** Files mounted into the container: path in the container -> content. */
  readonly files: Map<string, string>;
  /** Paths in the container that are volumes of their own. */
  readonly volumes: string[];
  /** Which PostgreSQL the service's DATABASE_URL names (a compose service or a k8s Cluster). */
  readonly database: string | null;
  readonly replicas: number;
}

/** What the real command tree made of a command line. */
interface Parsed {
  readonly command: string;
  readonly options: Record<string, unknown>;
}

type Yaml = Record<string, unknown>;
const asRecord = (v: unknown): Yaml => (v ?? {}) as Yaml;
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Compose's `${VAR:?message}` and `${VAR}` with a stand-in value. */
function interpolate(text: string): string {
  return text.replace(/\$\{([A-Z_]+)(?::[?-][^}]*)?\}/g, (_m, name: string) => `x-${name}`);
}

function composeServices(): { decls: ServiceDecl[]; postgres: string[] } {
  const doc = asRecord(parse(readFileSync(join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true }));
  const configs = asRecord(doc['configs']);
  const declaredVolumes = Object.keys(asRecord(doc['volumes']));
  const decls: ServiceDecl[] = [];
  const postgres: string[] = [];
  for (const [name, raw] of Object.entries(asRecord(doc['services']))) {
    const s = asRecord(raw);
    if (String(s['image']).startsWith('postgres:')) {
      postgres.push(name);
      continue;
    }
    assert.equal(s['image'], 'hanzenet', `${name}: the hanzenet image or PostgreSQL`);
    const command = asArray(s['command']).map(String);
    assert.deepEqual(command.slice(0, 2), CLI_PREFIX, `${name}: runs node, not npm`);
    const env = Object.fromEntries(
      Object.entries(asRecord(s['environment'])).map(([k, v]) => [k, interpolate(String(v))]),
    );
    const files = new Map<string, string>();
    for (const c of asArray(s['configs'])) {
      const ref = asRecord(c);
      const file = String(asRecord(configs[String(ref['source'])])['file']);
      files.set(String(ref['target']), readFileSync(join(DEPLOY, file), 'utf8'));
    }
    const volumes = asArray(s['volumes']).map((v) => {
      const [volume, target] = String(v).split(':');
      assert.ok(declaredVolumes.includes(volume ?? ''), `${name}: volume ${volume} is declared`);
      return target ?? '';
    });
    const url = env['DATABASE_URL'];
    decls.push({
      where: `compose.yaml ${name}`,
      args: command.slice(2),
      env,
      files,
      volumes,
      database: url === undefined ? null : new URL(url).hostname,
      replicas: 1,
    });
  }
  return { decls, postgres };
}

function k8sDocuments(): Yaml[] {
  const dir = join(DEPLOY, 'k8s');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => {
        assert.deepEqual(d.errors, [], `${f} is YAML`);
        return { ...asRecord(d.toJS()), file: f };
      }),
    );
}

function k8sServices(docs: Yaml[]): { decls: ServiceDecl[]; clusters: string[] } {
  const configMaps = new Map(
    docs
      .filter((d) => d['kind'] === 'ConfigMap')
      .map((d) => [String(asRecord(d['metadata'])['name']), asRecord(d['data'])]),
  );
  const clusters = docs
    .filter((d) => d['kind'] === 'Cluster')
    .map((d) => {
      assert.equal(d['apiVersion'], 'postgresql.cnpg.io/v1', 'a CloudNativePG Cluster');
      return String(asRecord(d['metadata'])['name']);
    });
  const decls: ServiceDecl[] = [];
  for (const d of docs.filter((x) => x['kind'] === 'StatefulSet' || x['kind'] === 'Deployment')) {
    const name = String(asRecord(d['metadata'])['name']);
    const spec = asRecord(d['spec']);
    const pod = asRecord(asRecord(spec['template'])['spec']);
    const podVolumes = new Map(asArray(pod['volumes']).map((v) => [asRecord(v)['name'], v]));
    const claims = asArray(spec['volumeClaimTemplates']).map(
      (c) => asRecord(asRecord(c)['metadata'])['name'],
    );
    for (const c of asArray(pod['containers']).map(asRecord)) {
      const argv = [...asArray(c['command']), ...asArray(c['args'])].map(String);
      assert.deepEqual(argv.slice(0, 2), CLI_PREFIX, `${d['file']} ${name}: runs node, not npm`);
      const env: Record<string, string> = {};
      let database: string | null = null;
      for (const e of asArray(c['env']).map(asRecord)) {
        const secret = asRecord(asRecord(e['valueFrom'])['secretKeyRef']);
        if (e['name'] === 'DATABASE_URL') {
          assert.equal(secret['key'], 'uri', `${name}: the uri of CloudNativePG's app secret`);
          database = String(secret['name']).replace(/-app$/, '');
        }
        env[String(e['name'])] =
          e['value'] === undefined
            ? `postgres://app:x@${database}-rw:5432/app`
            : String(e['value']);
      }
      const files = new Map<string, string>();
      const volumes: string[] = [];
      for (const m of asArray(c['volumeMounts']).map(asRecord)) {
        const volume = asRecord(podVolumes.get(m['name']));
        const configMap = asRecord(volume['configMap'])['name'];
        if (configMap !== undefined) {
          const data = configMaps.get(String(configMap));
          assert.ok(data !== undefined, `${name}: the ConfigMap ${String(configMap)} exists`);
          files.set(String(m['mountPath']), String(data[String(m['subPath'])]));
        } else {
          assert.ok(claims.includes(m['name']), `${name}: volume ${m['name']} is claimed`);
          volumes.push(String(m['mountPath']));
        }
      }
      decls.push({
        where: `k8s/${d['file']} ${name}`,
        args: argv.slice(2),
        env,
        files,
        volumes,
        database,
        replicas: Number(spec['replicas']),
      });
    }
  }
  return { decls, clusters };
}

/** Every leaf command of the tree, its action replaced by one that records what it was given. */
function capturingProgram(onRun: (p: Parsed) => void): Command {
  const program = buildProgram();
  const visit = (cmd: Command, path: string[]): void => {
    cmd.exitOverride();
    cmd.configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
    if (cmd.commands.length === 0)
      cmd.action((opts: Record<string, unknown>, self: Command) => {
        const command = path.join(' ');
        // The real option handling of the services, config file included (src/config/).
        const options =
          command === 'processor start'
            ? processorStartOptionsOf(opts as never, self)
            : command === 'node start'
              ? nodeStartOptionsOf(opts as never, self)
              : opts;
        onRun({ command, options: options as Record<string, unknown> });
      });
    for (const sub of cmd.commands) visit(sub, [...path, sub.name()]);
  };
  visit(program, []);
  return program;
}

/** Parses a service's command line with its environment and its mounted files, starting nothing. */
async function parseService(decl: ServiceDecl, dir: string): Promise<Parsed> {
  const args = decl.args.map((a) => {
    const content = decl.files.get(a);
    if (content === undefined) return a;
    const file = join(dir, `${decl.where.replace(/[^a-z0-9]+/gi, '-')}-${a.split('/').pop()}`);
    writeFileSync(file, content);
    return file;
  });
  const configIndex = decl.args.indexOf('--config');
  if (configIndex >= 0)
    assert.ok(
      decl.files.has(decl.args[configIndex + 1] ?? ''),
      `${decl.where}: the config file is mounted`,
    );
  const saved = { ...process.env };
  for (const k of Object.keys(process.env))
    if (k.startsWith('HANZENET_') || k === 'DATABASE_URL') delete process.env[k];
  Object.assign(process.env, decl.env);
  try {
    let parsed: Parsed | null = null;
    await capturingProgram((p) => {
      parsed = p;
    }).parseAsync(['node', 'hanzenet', ...args]);
    assert.ok(parsed !== null, `${decl.where}: a command ran`);
    return parsed;
  } finally {
    for (const k of Object.keys(process.env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/** The checks both kinds of deployment share. */
async function checkDeployment(decls: readonly ServiceDecl[], databases: readonly string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'hz-deploy-'));
  try {
    const parsed = new Map<ServiceDecl, Parsed>();
    for (const d of decls) parsed.set(d, await parseService(d, dir));
    const processors = decls.filter((d) => parsed.get(d)?.command === 'processor start');
    const nodes = decls.filter((d) => parsed.get(d)?.command === 'node start');
    assert.ok(processors.length >= 2, 'a city and at least one neighbourhood');
    assert.equal(nodes.length, processors.length, 'a mirror node per chain');
    for (const d of [...processors, ...nodes]) {
      const o = asRecord(parsed.get(d)?.options);
      assert.equal(d.replicas, 1, `${d.where}: one process per data directory and database`);
      assert.equal(o['host'], '0.0.0.0', `${d.where}: reachable from other containers`);
      assert.equal(o['port'], 8080, d.where);
      assert.ok(d.volumes.includes(String(o['dataDir'])), `${d.where}: the data dir is a volume`);
      assert.ok(typeof o['databaseUrl'] === 'string', `${d.where}: on PostgreSQL`);
    }
    const used = decls.map((d) => d.database).filter((x): x is string => x !== null);
    assert.deepEqual([...used].sort(), [...databases].sort(), 'one PostgreSQL per service');
    const hosts = processors.map((d) => d.where.split(' ').pop());
    const processorUrl = (d: ServiceDecl, key: string): string => {
      const url = new URL(String(asRecord(parsed.get(d)?.options)[key]));
      assert.ok(hosts.includes(url.hostname), `${d.where}: --${key} names a processor`);
      assert.equal(url.port, '8080');
      return url.hostname;
    };
    for (const d of nodes) processorUrl(d, 'follow');
    // An uplink per neighbourhood: every processor but the city's is a child, the city the parent.
    const uplinks = decls.filter((d) => parsed.get(d)?.command === 'uplink');
    const parents = new Set(uplinks.map((d) => processorUrl(d, 'parent')));
    assert.equal(parents.size, 1, 'every uplink goes up to the one city');
    const children = uplinks.map((d) => processorUrl(d, 'child'));
    assert.deepEqual(
      [...children, ...parents].sort(),
      [...hosts].sort(),
      'one uplink per neighbourhood processor',
    );
    for (const d of uplinks) {
      assert.equal(d.database, null, `${d.where}: the uplink keeps no state`);
      assert.deepEqual(d.volumes, [], `${d.where}: the uplink keeps no state`);
    }
    assert.deepEqual(
      decls.filter((d) => !parsed.has(d) || ![...processors, ...nodes, ...uplinks].includes(d)),
      [],
      'every hanzenet service is a processor, a node or an uplink',
    );
    return parsed;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('docs/deploy/compose.yaml: every hanzenet service parses and its config validates', async () => {
  const { decls, postgres } = composeServices();
  await checkDeployment(decls, postgres);
});

test('docs/deploy/k8s: every hanzenet container parses and its config validates', async () => {
  const { decls, clusters } = k8sServices(k8sDocuments());
  await checkDeployment(decls, clusters);
});

test('the deployment check notices a wrong option and a config key that does not exist', async () => {
  const { decls } = composeServices();
  const processor = decls.find((d) => d.args[0] === 'processor');
  assert.ok(processor !== undefined);
  const dir = mkdtempSync(join(tmpdir(), 'hz-deploy-bad-'));
  try {
    await assert.rejects(
      parseService({ ...processor, args: [...processor.args, '--block-interval', '5'] }, dir),
      (err: Error & { code?: string }) => err.code === 'commander.unknownOption',
    );
    const files = new Map(processor.files);
    const [path, text] = [...files.entries()][0] ?? ['', ''];
    files.set(path, text.replace('"blockIntervalMs"', '"blockIntervalMillis"'));
    await assert.rejects(
      parseService({ ...processor, files }, dir),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'usage_error');
        assert.match(err.message, /blockIntervalMillis/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
