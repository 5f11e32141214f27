// One writer per chain on a PostgreSQL server. The database holds one chain, so the lock is the
// database's: a session advisory lock, taken with pg_try_advisory_lock on a connection of its own
// that stays open as long as the process runs. PostgreSQL releases it when that session ends, so a
// process that was killed (SIGKILL, power loss) gives it up as soon as the server sees its
// connection close. The connection's application_name names the holder (role, pid, host), so a
// second process that is refused can say who holds the lock (pg_locks and pg_stat_activity).
//
// Losing that connection loses the lock: another process could then take it and write. The holder
// checks the connection every heartbeatMs (a `SELECT 1` that must answer within heartbeatMs); on a
// loss (connection error, end, or a heartbeat without answer) it tells `onLost` at once, so the
// service stops writing, and tries to take the lock again on a new connection, with backoff, for
// as long as it runs (a database outage): `onRegained` when it holds it again (writing may
// resume), `onFatal` when another process holds it by then (the service must stop). A session of
// its own that the server has not yet noticed is gone (same pid and host) is ended first.

import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { ChainError } from '../core/errors.js';

/** "HZNT": names HanzeNet's locks among other advisory locks (the two-int form, objsubid 2). */
export const LOCK_CLASS_ID = 0x485a4e54;
/** The lock of the one process that writes the chain. */
export const LOCK_WRITER_ID = 1;
export const HEARTBEAT_MS_DEFAULT = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;
const RETAKE_FIRST_MS = 250;
const RETAKE_MAX_MS = 5_000;
const APPLICATION_NAME_MAX = 63;

export interface DatabaseLockOptions {
  readonly role: string;
  /** The lock was lost: stop writing now. It is being taken again. Not after release. */
  readonly onLost: (err: ChainError) => void;
  /** The lock is held again after a loss: writing may resume. */
  readonly onRegained: () => void;
  /** After a loss another process took the lock: the service must stop. */
  readonly onFatal: (err: ChainError) => void;
  /** Told about each failed attempt to take the lock again (the service logs it). */
  readonly onRetry?: (info: { inMs: number; reason: string }) => void;
  readonly heartbeatMs?: number;
}

export interface DatabaseLock {
  release(): Promise<void>;
}

export interface DatabaseLockHolder {
  readonly backendPid: number;
  readonly applicationName: string | null;
  readonly clientAddr: string | null;
  readonly since: string | null;
}

type Attempt =
  | { readonly held: true; readonly client: pg.Client }
  | { readonly held: false; readonly holder: DatabaseLockHolder | null };

/** Takes the chain's writer lock, or fails with `database_locked` naming the holder. */
export async function lockDatabase(url: string, opts: DatabaseLockOptions): Promise<DatabaseLock> {
  const lock = new WriterLock(url, opts);
  await lock.take();
  return lock;
}

class WriterLock implements DatabaseLock {
  #state: 'new' | 'held' | 'lost' | 'failed' | 'released' = 'new';
  #client: pg.Client | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  readonly #heartbeatMs: number;
  readonly #name: string;

  constructor(
    private readonly url: string,
    private readonly opts: DatabaseLockOptions,
  ) {
    this.#heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS_DEFAULT;
    this.#name = holderName(opts.role).slice(0, APPLICATION_NAME_MAX);
  }

  async take(): Promise<void> {
    const attempt = await this.attempt();
    if (!attempt.held) throw lockedError(attempt.holder);
    this.hold(attempt.client);
  }

  async release(): Promise<void> {
    const client = this.#client;
    this.#state = 'released';
    this.stopHeartbeat();
    this.#client = null;
    if (client === null) return;
    // Ending the session releases the lock; unlocking first says so at once.
    await client
      .query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS_ID, LOCK_WRITER_ID])
      .catch(() => undefined);
    await client.end().catch(() => undefined);
  }

  /** One try on a new connection: the connection holding the lock, or who holds it. */
  private async attempt(): Promise<Attempt> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: this.#name,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
      query_timeout: this.#heartbeatMs,
    });
    client.on('error', (err) => this.lost(client, err.message, err));
    client.on('end', () => this.lost(client, 'the connection ended'));
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, $2) AS locked',
        [LOCK_CLASS_ID, LOCK_WRITER_ID],
      );
      if (rows[0]?.locked === true) return { held: true, client };
      const holder = await lockHolder(client);
      await client.end();
      return { held: false, holder };
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
  }

  private hold(client: pg.Client): void {
    this.#state = 'held';
    this.#client = client;
    this.#timer = setInterval(() => {
      client
        .query('SELECT 1')
        .catch((err: unknown) => this.lost(client, `heartbeat: ${String(err)}`, err));
    }, this.#heartbeatMs);
    this.#timer.unref();
  }

  private stopHeartbeat(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** The holding connection failed: stop writing, then take the lock again. */
  private lost(client: pg.Client, reason: string, cause?: unknown): void {
    if (this.#state !== 'held' || this.#client !== client) return;
    this.#state = 'lost';
    this.#client = null;
    this.stopHeartbeat();
    void client.end().catch(() => undefined);
    this.opts.onLost(
      new ChainError(
        'database_lock_lost',
        `lost the connection that holds the chain's database lock (${reason}); stopped writing until it is held again`,
        {},
        cause === undefined ? undefined : { cause },
      ),
    );
    void this.takeAgain();
  }

  private async takeAgain(): Promise<void> {
    for (let delayMs = RETAKE_FIRST_MS; this.#state === 'lost'; ) {
      await sleep(delayMs);
      if (this.#state !== 'lost') return;
      let attempt: Attempt;
      try {
        attempt = await this.attempt();
      } catch (err) {
        delayMs = Math.min(delayMs * 2, RETAKE_MAX_MS);
        this.opts.onRetry?.({
          inMs: delayMs,
          reason: err instanceof Error ? err.message : String(err),
        });
        continue;
      }
      if (attempt.held) {
        if (this.#state !== 'lost') {
          await attempt.client.end().catch(() => undefined);
          return;
        }
        this.hold(attempt.client);
        this.opts.onRegained();
        return;
      }
      // Our own earlier session, which the server has not yet seen is gone: end it, try again.
      if (attempt.holder?.applicationName === this.#name) {
        await this.endSession(attempt.holder.backendPid);
        continue;
      }
      this.#state = 'failed';
      const taken = lockedError(attempt.holder);
      this.opts.onFatal(
        new ChainError(
          'database_lock_lost',
          `lost the chain's database lock and another process took it: ${taken.message}`,
          taken.details,
        ),
      );
      return;
    }
  }

  private async endSession(backendPid: number): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT pg_terminate_backend($1)', [backendPid]);
    } catch {
      // Not allowed or not reachable: the next attempt finds out.
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function holderName(role: string): string {
  return `hanzenet ${role} pid=${process.pid} host=${hostname()}`;
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
