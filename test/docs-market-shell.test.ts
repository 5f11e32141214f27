// The shell session of docs/market.md ("A session in the shell"), run as a new operator runs it:
// a real processor process (started by the test with the document's options and a free port),
// and every `sh` block of the section, in order, in one bash in a temporary directory where
// `hanzenet` is the built command (dist/src/cli/main.js). What each block prints (stdout and
// stderr) must be exactly the output block the document shows after it (none: nothing), once the
// things that differ from run to run are written as the document writes them: an address as the
// name of the shell variable that holds it ($ANNA), transaction ids, block heights and the block
// time as "…". The directory and the processor are removed afterwards.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI_PATH } from './support/cli-run.js';
import { PROCESSOR_ENV, startProcessorCommand, stopProcess, tempDir } from './support/processes.js';

const SECTION = '## A session in the shell';
const START = 'hanzenet processor start --data-dir data --no-energy';

interface Step {
  readonly script: string;
  readonly expected: string;
}

/** The section's fenced blocks: each `sh` block with the output block after it ('' if none). */
async function sessionSteps(): Promise<{ start: string; steps: Step[] }> {
  const doc = await readFile('docs/market.md', 'utf8');
  const from = doc.indexOf(`\n${SECTION}\n`);
  assert.ok(from >= 0, `docs/market.md has the section "${SECTION}"`);
  const end = doc.indexOf('\n## ', from + SECTION.length + 2);
  const section = doc.slice(from, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1] as string,
    text: (m[2] as string).replace(/\n$/, ''),
  }));
  const [first, ...rest] = blocks;
  assert.ok(first?.lang === 'sh', 'the session starts with an sh block');
  const steps: Step[] = [];
  for (const block of rest) {
    if (block.lang === 'sh') steps.push({ script: block.text, expected: '' });
    else {
      const last = steps.pop();
      assert.ok(
        last !== undefined && last.expected === '',
        `an output block follows an sh block: ${block.text}`,
      );
      steps.push({ script: last.script, expected: block.text });
    }
  }
  return { start: first.text, steps };
}

function runBash(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  limitMs: number,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // A process group of its own, so that a hung session is ended with every command it started.
    const child = spawn('bash', ['-c', script], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
    // A bound against a hang (the session waits for the settlement agent), not a timing.
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`the session did not finish within ${limitMs} ms; so far:\n${output}`));
    }, limitMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Addresses as the shell variables assigned from key files (`ANNA=$(jq -r .address anna.json)`). */
async function addressNames(steps: readonly Step[], dir: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const step of steps)
    for (const m of step.script.matchAll(/\b([A-Z_]+)=\$\(jq -r \.address ([\w.-]+)\)/g)) {
      const key = JSON.parse(await readFile(join(dir, m[2] as string), 'utf8')) as {
        address: string;
      };
      names.set(key.address, `$${m[1]}`);
    }
  return names;
}

function normalise(text: string, names: ReadonlyMap<string, string>): string {
  let out = text;
  for (const [address, name] of names) out = out.split(address).join(name);
  return out
    .replace(/\b[0-9a-f]{32}\b/g, '…')
    .replace(/"blockId": \d+/g, '"blockId": …')
    .replace(/block time \d+/g, 'block time …')
    .replace(/\s+$/, '');
}

test('docs/market.md: the shell session runs as shown', { timeout: 240_000 }, async () => {
  const { start, steps } = await sessionSteps();
  assert.equal(start, START, 'the session starts the processor as this test does');
  const dir = await tempDir('market-doc');
  try {
    await mkdir(join(dir.path, 'bin'));
    const wrapper = join(dir.path, 'bin', 'hanzenet');
    await writeFile(wrapper, `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
    await chmod(wrapper, 0o755);
    const args = START.split(' ').slice(3);
    args[args.indexOf('--data-dir') + 1] = join(dir.path, 'data');
    const p = await startProcessorCommand([...args, '--port', '0', '--block-interval-ms', '100']);
    try {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const name of [...PROCESSOR_ENV, 'HANZENET_URL', 'HANZENET_PREFIX']) delete env[name];
      env['PATH'] = `${join(dir.path, 'bin')}:${process.env['PATH'] ?? ''}`;
      env['HANZENET_URL'] = p.url;
      const marker = (i: number): string => `@@@ step ${i} @@@`;
      const script = [
        'exec 2>&1',
        ...steps.flatMap((s, i) => [`echo '${marker(i)}'`, s.script]),
        `echo '${marker(steps.length)}'`,
      ].join('\n');
      const run = await runBash(script, dir.path, env, 150_000).catch((err: Error) => {
        throw new Error(`${err.message}\nthe processor's log:\n${p.stderr()}`);
      });
      assert.equal(run.code, 0, run.output);
      const names = await addressNames(steps, dir.path);
      assert.ok(names.size > 0, 'the session names its keys');
      const mismatches: string[] = [];
      steps.forEach((step, i) => {
        const from = run.output.indexOf(`${marker(i)}\n`) + marker(i).length + 1;
        const got = normalise(run.output.slice(from, run.output.indexOf(marker(i + 1))), names);
        if (got !== step.expected)
          mismatches.push(
            `the block\n${step.script}\nprinted (normalised; the document shows the output after it):\n${got}`,
          );
      });
      assert.equal(mismatches.length, 0, mismatches.join('\n\n'));
    } finally {
      await stopProcess(p);
    }
  } finally {
    await dir.remove();
  }
});
