// The real `psql` client against the embedded SQL port (--sql-port): tests run it as a user would.

import { spawn, spawnSync } from 'node:child_process';

export interface PsqlResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Why psql cannot run here (the test is then skipped with this message), or null. */
export function psqlMissing(): string | null {
  const probe = spawnSync('psql', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0)
    return `psql is not installed (${probe.error?.message ?? probe.stderr}); install postgresql-client to run this test`;
  return null;
}

/**
 * Runs `psql -c sql` (or each of several -c) against 127.0.0.1:port, stopping at the first error;
 * VERBOSITY verbose puts the SQLSTATE in front of each error message.
 */
export function psql(
  port: number,
  sql: string | readonly string[],
  ...args: string[]
): Promise<PsqlResult> {
  const commands = (typeof sql === 'string' ? [sql] : sql).flatMap((c) => ['-c', c]);
  const argv = [
    '-X',
    '-h',
    '127.0.0.1',
    '-p',
    String(port),
    '-U',
    'postgres',
    '-d',
    'postgres',
    '-v',
    'ON_ERROR_STOP=1',
    '-v',
    'VERBOSITY=verbose',
    ...args,
    ...commands,
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PGCLIENTENCODING: 'UTF8',
    PGCONNECT_TIMEOUT: '30',
  };
  for (const name of ['PGPASSWORD', 'PGSERVICE', 'PGSSLMODE', 'PGOPTIONS']) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn('psql', argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The row count of psql's aligned output footer ("(3 rows)"); null when there is none. */
export function rowCount(stdout: string): number | null {
  const m = /^\((\d+) rows?\)$/m.exec(stdout);
  return m?.[1] === undefined ? null : Number(m[1]);
}
