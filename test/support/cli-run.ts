// Runs the built `hanzenet` command (dist/src/cli/main.js) as a real child process, so tests see
// exactly what a shell user sees: stdout, stderr and the exit code.

import { type ChildProcess, spawn } from 'node:child_process';
import { spawnService } from './processes.js';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  readonly stdin?: string;
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

/** The environment without the variables the CLI reads, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of [
    'HANZENET_URL',
    'HANZENET_PREFIX',
    'HANZENET_PORT',
    'HANZENET_DATA_DIR',
    'HANZENET_BLOCK_INTERVAL_MS',
    'HANZENET_FOLLOW',
    'HANZENET_PROCESSOR_CONFIG',
    'HANZENET_NODE_CONFIG',
    'DATABASE_URL',
    'HANZENET_SQL_PORT',
    'HANZENET_MIRRORS',
  ]) {
    delete env[name];
  }
  return { ...env, ...extra };
}

export function runCli(args: readonly string[], opts: CliRunOptions = {}): Promise<CliResult> {
  return runProcess(process.execPath, [CLI_PATH, ...args], opts);
}

/** A long-running command that announced itself with one JSON line on stdout. */
export interface RunningCli<T> {
  readonly proc: ChildProcess;
  /** The first line of stdout, parsed. */
  readonly line: T;
  /** All of stderr so far. */
  readonly stderr: () => string;
  /** The exit code, or the signal's name. */
  readonly exited: Promise<number | string>;
}

/**
 * Starts `hanzenet <args>` (a command that runs until stopped, such as `city up` or `demo`) and
 * waits for the JSON line it prints on stdout once it is up (spawnService: it is killed when it
 * prints nothing within `timeoutMs`).
 */
export async function startCliWithLine<T>(
  args: readonly string[],
  timeoutMs: number,
): Promise<RunningCli<T>> {
  const what = `hanzenet ${args.slice(0, 2).join(' ')}`;
  const started = await spawnService(what, [CLI_PATH, ...args], cleanEnv(), timeoutMs);
  return { ...started, line: JSON.parse(started.firstLine) as T };
}

/** Runs `script` with sh, in which `hanzenet` is a function running the built command. */
export function runShell(script: string, opts: CliRunOptions = {}): Promise<CliResult> {
  const prelude = 'hanzenet() { "$HANZENET_NODE" "$HANZENET_CLI" "$@"; }\n';
  const env = { HANZENET_NODE: process.execPath, HANZENET_CLI: CLI_PATH, ...opts.env };
  return runProcess('/bin/sh', ['-c', prelude + script], { ...opts, env });
}

function runProcess(
  file: string,
  args: readonly string[],
  opts: CliRunOptions,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: opts.cwd,
      env: cleanEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    // Generous: a command takes well under a second, but a test may start fifteen at once on a
    // loaded two-core machine; the limit is there to catch a hang, not to time the command.
    const limitMs = opts.timeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')} did not finish within ${limitMs} ms; stderr: ${stderr}`));
    }, limitMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** The `error` object of the JSON a failed command printed on stderr. */
export function errorOf(result: CliResult): {
  code: string;
  message: string;
  details: Record<string, unknown>;
} {
  const parsed = JSON.parse(result.stderr) as {
    error: { code: string; message: string; details: Record<string, unknown> };
  };
  return parsed.error;
}
