// Signals reach the processor whoever sends them: SIGTERM to `npm start`'s process stops the
// processor (npm runs it with exec and passes the signal on), which releases its port and its lock.
// The commands docs/operations.md gives a supervisor (the systemd unit's ExecStart and the
// container image's CMD) are run as written, with a temporary data directory and port, and each
// starts the processor and stops cleanly on SIGTERM.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LOCK_FILE_NAME, parseHolder } from '../src/store/data-dir-lock.js';
import { CLI, tempDir } from './support/processes.js';

const START_TIMEOUT_MS = 90_000;
const OPS_DOC = readFileSync('docs/operations.md', 'utf8');

interface Service {
  readonly proc: ChildProcess;
  readonly api: string;
  readonly output: () => string;
  readonly exited: Promise<number | string>;
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'HANZENET_PORT', 'HANZENET_DATA_DIR']) delete env[name];
  return env;
}

/** Spawns `command args` and resolves once a stdout line holds the start-up report. */
async function startService(command: string, args: readonly string[]): Promise<Service> {
  const proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
  let out = '';
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | string>((res) =>
    proc.on('exit', (code, signal) => res(code ?? signal ?? -1)),
  );
  const api = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      rej(new Error(`no start-up report; stderr:\n${err}`));
    }, START_TIMEOUT_MS);
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"api"'));
      if (line !== undefined) {
        clearTimeout(timer);
        res((JSON.parse(line) as { api: string }).api);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`exited (${code}) before starting; stderr:\n${err}`));
    });
  });
  return { proc, api, output: () => `${out}\n${err}`, exited };
}

function runs(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function untilGone(pid: number): Promise<void> {
  for (let waitedMs = 0; runs(pid); waitedMs += 100) {
    if (waitedMs > 30_000) assert.fail(`process ${pid} still runs 30 s after the signal`);
    await sleep(100);
  }
}

/** Resolves with the connection error code (ECONNREFUSED once nothing listens). */
function connectError(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((res) => {
    const socket = connect(Number(port), hostname);
    socket.on('connect', () => {
      socket.destroy();
      res('connected');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => res(err.code ?? String(err)));
  });
}

function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

test('SIGTERM to npm start stops the processor, which releases its port and its lock', async () => {
  const dir = await tempDir('ops-npm');
  const started: number[] = [];
  try {
    const npm = await startService('npm', ['start', '--', '--port', '0', '--data-dir', dir.path]);
    started.push(npm.proc.pid ?? 0);
    const lockFile = join(dir.path, LOCK_FILE_NAME);
    const processorPid = parseHolder(readFileSync(lockFile, 'utf8'))?.pid;
    assert.ok(processorPid !== undefined);
    started.push(processorPid);
    // With exec, no shell stands between npm and the processor.
    assert.equal(parentPid(processorPid), npm.proc.pid);
    npm.proc.kill('SIGTERM');
    await npm.exited;
    await untilGone(processorPid);
    assert.ok(
      npm
        .output()
        .split('\n')
        .some((l) => l.includes('"msg":"shutting down"') && l.includes('"signal":"SIGTERM"')),
      `the processor logged that SIGTERM stops it:\n${npm.output()}`,
    );
    assert.equal(await connectError(npm.api), 'ECONNREFUSED');
    assert.equal(existsSync(lockFile), false, 'the lock is released');
  } finally {
    // A failed check must not leave the processes running (the test run would wait for them).
    for (const pid of started) if (pid > 0 && runs(pid)) process.kill(pid, 'SIGKILL');
    await dir.remove();
  }
});

/** The command a supervisor runs, as tokens, made to run here: this node, this build, a temp dir. */
function localCommand(tokens: readonly string[], dataDir: string): string[] {
  const out = tokens.map((t) => {
    if (t === 'node' || t.endsWith('/node')) return process.execPath;
    if (t.endsWith('dist/src/cli/main.js')) return CLI;
    return t;
  });
  const set = (flag: string, value: string): void => {
    const at = out.indexOf(flag);
    assert.ok(at >= 0, `the documented command sets ${flag}`);
    out[at + 1] = value;
  };
  set('--data-dir', dataDir);
  set('--port', '0');
  const host = out.indexOf('--host');
  if (host >= 0) out[host + 1] = '127.0.0.1';
  return out;
}

function systemdExecStart(): string[] {
  const line = OPS_DOC.split('\n').find((l) => l.startsWith('ExecStart='));
  assert.ok(line !== undefined, 'docs/operations.md has a systemd unit with ExecStart=');
  return line.slice('ExecStart='.length).trim().split(/\s+/);
}

function dockerfileCmd(): string[] {
  const line = OPS_DOC.split('\n').find((l) => l.startsWith('CMD ['));
  assert.ok(line !== undefined, 'docs/operations.md has a Dockerfile with CMD in exec form');
  return JSON.parse(line.slice('CMD '.length)) as string[];
}

for (const [name, tokens] of [
  ['the systemd unit', systemdExecStart()],
  ['the container image', dockerfileCmd()],
] as const) {
  test(`${name} in docs/operations.md runs the processor, which stops cleanly on SIGTERM`, async () => {
    assert.deepEqual(tokens.slice(2, 4), ['processor', 'start']);
    const dir = await tempDir('ops-doc');
    try {
      const [command, ...args] = localCommand(tokens, dir.path);
      assert.ok(command !== undefined);
      const service = await startService(command, args);
      try {
        service.proc.kill('SIGTERM');
        assert.equal(await service.exited, 0, service.output());
        assert.equal(await connectError(service.api), 'ECONNREFUSED');
        assert.equal(existsSync(join(dir.path, LOCK_FILE_NAME)), false);
      } finally {
        if (service.proc.exitCode === null && service.proc.signalCode === null)
          service.proc.kill('SIGKILL');
      }
    } finally {
      await dir.remove();
    }
  });
}
