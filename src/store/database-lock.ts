// One writer per chain on a PostgreSQL server. The database holds one chain, so the lock is the
// database's: a session advisory lock, taken with pg_try_advisory_lock on a connection of its own
// that stays open as long as the process runs. PostgreSQL releases it when that session ends, so a
// process that was killed (SIGKILL, power loss) gives it up as soon as the server sees its
// connection close. The connection's application_name names the holder (role, pid, host), so a
// second process that is refused can say who holds the lock (pg_locks and pg_stat_activity).
//
// Losing that connection loses the lock: another process could then take it and write. The holder
// checks the connection every heartbeatMs (a `SELECT 1` that must answer within heartbeatMs) and
// reports a loss (connection error, end, or a heartbeat without answer) once, through `onLost`,
// so the service stops writing and exits. The server keeps the lock until it notices the session
// is gone, which it does no sooner than the holder does.

import { hostname } from 'node:os';
import pg from 'pg';
import { ChainError } from '../core/errors.js';

/** "HZNT": names HanzeNet's locks among other advisory locks (the two-int form, objsubid 2). */
export const LOCK_CLASS_ID = 0x485a4e54;
/** The lock of the one process that writes the chain. */
export const LOCK_WRITER_ID = 1;
export const HEARTBEAT_MS_DEFAULT = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;
const APPLICATION_NAME_MAX = 63;

export interface DatabaseLockOptions {
  readonly role: string;
  /** Called once when the lock is lost (the process must stop writing). Not after release. */
  readonly onLost: (err: ChainError) => void;
  readonly heartbeatMs?: number;
}

export interface DatabaseLock {
  /** The server's pid of the session that holds the lock. */
  readonly backendPid: number;
  release(): Promise<void>;
}

export interface DatabaseLockHolder {
  readonly backendPid: number;
  readonly applicationName: string | null;
  readonly clientAddr: string | null;
  readonly since: string | null;
}

export async function lockDatabase(url: string, opts: DatabaseLockOptions): Promise<DatabaseLock> {
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS_DEFAULT;
  const client = new pg.Client({
    connectionString: url,
    application_name: holderName(opts.role).slice(0, APPLICATION_NAME_MAX),
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    query_timeout: heartbeatMs,
  });
  // Until the lock is held an error is the failing call's to report; afterwards it is a loss.
  let onError: (err: Error) => void = () => undefined;
  client.on('error', (err) => onError(err));
  await client.connect();
  let backendPid: number;
  try {
    const { rows } = await client.query<{ locked: boolean; pid: number }>(
      'SELECT pg_try_advisory_lock($1, $2) AS locked, pg_backend_pid() AS pid',
      [LOCK_CLASS_ID, LOCK_WRITER_ID],
    );
    if (rows[0]?.locked !== true) throw lockedError(await lockHolder(client));
    backendPid = rows[0].pid;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return held(client, backendPid, heartbeatMs, opts, (handler) => {
    onError = handler;
  });
}

function holderName(role: string): string {
  return `hanzenet ${role} pid=${process.pid} host=${hostname()}`;
}

function held(
  client: pg.Client,
  backendPid: number,
  heartbeatMs: number,
  opts: DatabaseLockOptions,
  setOnError: (handler: (err: Error) => void) => void,
): DatabaseLock {
  let state: 'held' | 'lost' | 'released' = 'held';
  const lost = (reason: string, cause?: unknown): void => {
    if (state !== 'held') return;
    state = 'lost';
    clearInterval(timer);
    void client.end().catch(() => undefined);
    opts.onLost(
      new ChainError(
        'database_lock_lost',
        `lost the connection that holds the chain's database lock (${reason}); stopped writing`,
        { backendPid },
        cause === undefined ? undefined : { cause },
      ),
    );
  };
  setOnError((err) => lost(err.message, err));
  client.on('end', () => lost('the connection ended'));
  const timer = setInterval(() => {
    client.query('SELECT 1').catch((err: unknown) => lost(`heartbeat: ${String(err)}`, err));
  }, heartbeatMs);
  timer.unref();
  return {
    backendPid,
    release: async () => {
      if (state !== 'held') return;
      state = 'released';
      clearInterval(timer);
      // Ending the session releases the lock; unlocking first says so at once.
      await client
        .query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS_ID, LOCK_WRITER_ID])
        .catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** Who holds the writer lock of the connected database (null fields when not visible to us). */
export async function lockHolder(client: pg.Client): Promise<DatabaseLockHolder | null> {
  const { rows } = await client.query<{
    pid: number;
    application_name: string | null;
    client_addr: string | null;
    backend_start: Date | null;
  }>(
    `SELECT l.pid, a.application_name, a.client_addr::text AS client_addr, a.backend_start
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.classid::bigint = $1 AND l.objid::bigint = $2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCK_CLASS_ID, LOCK_WRITER_ID],
  );
  const row = rows[0];
  if (row === undefined) return null;
  return {
    backendPid: row.pid,
    applicationName: row.application_name === '' ? null : row.application_name,
    clientAddr: row.client_addr,
    since: row.backend_start === null ? null : row.backend_start.toISOString(),
  };
}

function lockedError(holder: DatabaseLockHolder | null): ChainError {
  const who =
    holder === null
      ? 'another session (it ended just now, or is not visible to this user)'
      : `${holder.applicationName ?? 'a session'} (server pid ${holder.backendPid}${holder.clientAddr === null ? '' : ` from ${holder.clientAddr}`}${holder.since === null ? '' : `, since ${holder.since}`})`;
  return new ChainError(
    'database_locked',
    `the database already has a writer: ${who}; only one processor or node may use a database`,
    holder === null ? {} : { ...holder },
  );
}
