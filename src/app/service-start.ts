// What the processor and the mirror node do first, before they create anything: hold the data
// directory (one process per directory), check the API port (and the SQL port), open the database (waiting for a
// PostgreSQL server that is not up yet) and, on PostgreSQL, hold the chain's writer lock. What a
// start created (the data directory, the embedded database's pgdata, a new key file) is removed
// again when the start fails, so a failed start leaves nothing behind; the locks go last.

import { existsSync } from 'node:fs';
import { rm, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainError } from '../core/errors.js';
import type { Closers } from '../ledger/lifecycle.js';
import type { Logger } from '../ledger/log.js';
import { lockDataDir } from '../store/data-dir-lock.js';
import { lockDatabase } from '../store/database-lock.js';
import { DATABASE_WAIT_MS_DEFAULT, openDatabaseWaiting } from '../store/database-start.js';
import { SQL_PORT_HOST } from '../store/sql-port/server.js';
import type { Database } from '../store/types.js';
import { checkPortFree } from './port-check.js';

export interface ServiceGroundOptions {
  readonly role: 'processor' | 'node';
  /** Absolute path of the data directory. */
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  readonly host: string;
  readonly port: number;
  /** The embedded SQL port (--sql-port), checked with the API port; absent: none. */
  readonly sqlPort?: number | undefined;
  /** How long to wait for an unreachable PostgreSQL server (default DATABASE_WAIT_MS_DEFAULT). */
  readonly databaseWaitMs?: number | undefined;
  /** The PostgreSQL writer lock was lost: stop writing until onLockRegained. */
  readonly onLockLost: (err: ChainError) => void;
  /** The PostgreSQL writer lock is held again: writing may resume. */
  readonly onLockRegained: () => void;
  /** Another process took the PostgreSQL writer lock after a loss: the service must stop. */
  readonly onFatal: (err: ChainError) => void;
}

/** What this start created; removed again unless the start completes (`kept`). */
export class CreatedOnStart {
  dataDir: string | null = null;
  pgdata: string | null = null;
  keyFile: string | null = null;
  kept = false;

  /** Removes the files of a failed start (the data directory itself is `removeDir`'s). */
  async undoFiles(): Promise<void> {
    if (this.kept) return;
    if (this.keyFile !== null) await unlink(this.keyFile).catch(() => undefined);
    if (this.pgdata !== null) await rm(this.pgdata, { recursive: true, force: true });
  }

  /** Removes a data directory this start created, if it is empty (after the lock is gone). */
  async removeDir(): Promise<void> {
    if (this.kept || this.dataDir === null) return;
    await rmdir(this.dataDir).catch(() => undefined);
  }
}

/**
 * Holds the data directory and checks the port. Registers, on `closers`, the lock's release and
 * the removal of what the start created (both run when the start fails, or at close).
 */
export async function holdDataDir(
  opts: ServiceGroundOptions,
  closers: Closers,
  log: Logger,
): Promise<CreatedOnStart> {
  const created = new CreatedOnStart();
  closers.add(() => created.removeDir());
  const lock = await lockDataDir(opts.dataDir, opts.role);
  closers.add(() => lock.release());
  if (lock.createdDir) created.dataDir = opts.dataDir;
  if (lock.tookOverFrom !== null) {
    log.info('took over the lock of a process that no longer runs', {
      lockFile: lock.path,
      stale: {
        pid: lock.tookOverFrom.pid,
        role: lock.tookOverFrom.role,
        since: lock.tookOverFrom.since,
      },
    });
  }
  closers.add(() => created.undoFiles());
  await checkPortFree(opts.host, opts.port);
  if (opts.sqlPort !== undefined) await checkPortFree(SQL_PORT_HOST, opts.sqlPort, '--sql-port');
  return created;
}

/**
 * Opens the embedded database in the data directory, or the PostgreSQL server (waiting for it)
 * with the chain's writer lock. Closing (registered on `closers`) closes the database first and
 * then gives up the writer lock.
 */
export async function openServiceDatabase(
  opts: ServiceGroundOptions,
  closers: Closers,
  created: CreatedOnStart,
  log: Logger,
): Promise<Database> {
  const url = opts.databaseUrl;
  if (url === undefined || url === '') {
    const pgdata = join(opts.dataDir, 'pgdata');
    if (!existsSync(pgdata)) created.pgdata = pgdata;
    const db = await openDatabaseWaiting({ dataDir: pgdata }, { waitMs: 0 });
    closers.add(() => db.close());
    return db;
  }
  const db = await openDatabaseWaiting(
    { databaseUrl: url },
    {
      waitMs: opts.databaseWaitMs ?? DATABASE_WAIT_MS_DEFAULT,
      onRetry: (info) => log.warn('the database is unreachable; trying again', info),
    },
  );
  try {
    const lock = await lockDatabase(url, {
      role: opts.role,
      onLost: opts.onLockLost,
      onRegained: opts.onLockRegained,
      onFatal: opts.onFatal,
      onRetry: (info) => log.warn('cannot take the database lock again yet; trying again', info),
    });
    closers.add(() => lock.release());
  } catch (err) {
    await db.close();
    throw err;
  }
  closers.add(() => db.close());
  return db;
}
