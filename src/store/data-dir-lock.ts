// One process per data directory. A processor or mirror node holds `<dataDir>/hanzenet.lock` for
// as long as it runs: a small JSON file naming the holder (pid, host, role, since). A second
// process finds it and refuses to start (`data_dir_locked`, naming the holder). The lock file
// appears whole or not at all: it is written under a temporary name and hard-linked into place,
// which fails when the name exists (the atomic part). A lock whose holder no longer runs on this
// host (it was killed with SIGKILL, or the machine lost power) is stale and is taken over; so that
// two starters cannot both remove a stale lock and each create their own, the removal happens
// under a takeover guard (a directory, created atomically) and only while the file still holds the
// stale holder's token. A lock of another host is never taken over (the pid means nothing here).

import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, open, readFile, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChainError } from '../core/errors.js';

export const LOCK_FILE_NAME = 'hanzenet.lock';
/** A takeover guard older than this was left by a process that died while taking over. */
const TAKEOVER_GUARD_STALE_MS = 10_000;
/** A lock file that does not parse and is younger than this is still being written (no link()). */
const UNREADABLE_LOCK_GRACE_MS = 2_000;
const ATTEMPTS_MAX = 50;
const ATTEMPT_PAUSE_MS = 40;

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** `processor` or `node`. */
  readonly role: string;
  /** When the holder took the lock (ISO 8601). */
  readonly since: string;
  /** The holder's start time in clock ticks since boot (Linux /proc), so a reused pid is told apart. */
  readonly procStart: string | null;
  /** Random: tells this holder's file from a later one. */
  readonly token: string;
}

export interface DataDirLock {
  readonly path: string;
  readonly holder: LockHolder;
  /** The stale holder this process took the lock over from, if any. */
  readonly tookOverFrom: LockHolder | null;
  /** True when this process created the data directory itself (it did not exist). */
  readonly createdDir: boolean;
  /** Removes the lock file (only while it still names this process); once. */
  release(): Promise<void>;
}

// Paths locked by this process: a second service in the same process is refused too.
const heldHere = new Set<string>();

export async function lockDataDir(dataDir: string, role: string): Promise<DataDirLock> {
  const createdDir = await ensureDir(dataDir);
  const path = join(dataDir, LOCK_FILE_NAME);
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    role,
    since: new Date().toISOString(),
    procStart: processStart(process.pid),
    token: randomBytes(16).toString('hex'),
  };
  let tookOverFrom: LockHolder | null = null;
  for (let attempt = 0; attempt < ATTEMPTS_MAX; attempt++) {
    if (!heldHere.has(path) && (await tryCreate(path, me))) {
      heldHere.add(path);
      return heldLock(path, me, tookOverFrom, createdDir);
    }
    const found = await readHolder(path);
    if (found.kind === 'gone') continue;
    if (found.kind === 'unreadable') {
      if (found.ageMs < UNREADABLE_LOCK_GRACE_MS) {
        await sleep(ATTEMPT_PAUSE_MS);
        continue;
      }
      await takeOver(path, null);
      continue;
    }
    if (heldHere.has(path) || holderRuns(found.holder)) throw lockedError(dataDir, found.holder);
    if (await takeOver(path, found.holder)) tookOverFrom = found.holder;
    else await sleep(ATTEMPT_PAUSE_MS);
  }
  throw new ChainError(
    'data_dir_locked',
    `could not take the lock ${path}: other processes kept taking it (${ATTEMPTS_MAX} attempts)`,
    { dataDir, lockFile: path },
  );
}

function lockedError(dataDir: string, holder: LockHolder): ChainError {
  const sameHost = holder.host === hostname();
  const where = sameHost ? `pid ${holder.pid}` : `pid ${holder.pid} on host ${holder.host}`;
  return new ChainError(
    'data_dir_locked',
    `the data directory ${dataDir} is in use by a ${holder.role} (${where}, since ${holder.since}); only one process may use a data directory`,
    {
      dataDir,
      lockFile: join(dataDir, LOCK_FILE_NAME),
      pid: holder.pid,
      host: holder.host,
      role: holder.role,
      since: holder.since,
    },
  );
}

/** Creates the directory when missing; true when it did. */
async function ensureDir(dataDir: string): Promise<boolean> {
  try {
    const info = await stat(dataDir);
    if (!info.isDirectory()) throw unusable(dataDir, 'it exists and is not a directory');
    return false;
  } catch (err) {
    if (err instanceof ChainError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw unusable(dataDir, err);
  }
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (err) {
    throw unusable(dataDir, err);
  }
  return true;
}

function unusable(dataDir: string, reason: unknown): ChainError {
  const text = reason instanceof Error ? reason.message : String(reason);
  return new ChainError(
    'data_dir_unusable',
    `the data directory ${dataDir} cannot be used: ${text}`,
    { dataDir },
    reason instanceof Error ? { cause: reason } : undefined,
  );
}

/** Creates the lock file whole, or returns false when one exists. */
async function tryCreate(path: string, me: LockHolder): Promise<boolean> {
  const text = `${JSON.stringify(me)}\n`;
  const temp = `${path}.${me.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, text, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    throw unusable(join(path, '..'), err);
  }
  try {
    await link(temp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // A file system without hard links: an exclusive create, written at once (a reader that
    // finds it still empty waits UNREADABLE_LOCK_GRACE_MS before judging it).
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS')
      return createExclusive(path, text);
    throw unusable(join(path, '..'), err);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function createExclusive(path: string, text: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw unusable(join(path, '..'), err);
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

type Found =
  | { readonly kind: 'held'; readonly holder: LockHolder }
  | { readonly kind: 'gone' }
  | { readonly kind: 'unreadable'; readonly ageMs: number };

async function readHolder(path: string): Promise<Found> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await readFile(path, 'utf8');
    mtimeMs = (await stat(path)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'gone' };
    throw unusable(join(path, '..'), err);
  }
  const holder = parseHolder(text);
  return holder === null
    ? { kind: 'unreadable', ageMs: Date.now() - mtimeMs }
    : { kind: 'held', holder };
}

export function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    const ok =
      Number.isSafeInteger(v.pid) &&
      typeof v.host === 'string' &&
      typeof v.role === 'string' &&
      typeof v.since === 'string' &&
      typeof v.token === 'string' &&
      (v.procStart === null || typeof v.procStart === 'string');
    return ok ? (v as LockHolder) : null;
  } catch {
    return null;
  }
}

/** Whether the holder may still run: always for another host; on this host, whether its pid does. */
export function holderRuns(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  // Our own pid in a lock this process does not hold: a previous run that had the same pid (a
  // container's pid 1 after a restart).
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    // EPERM: the pid runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const start = processStart(holder.pid);
  return holder.procStart === null || start === null || start === holder.procStart;
}

/** The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or null. */
function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/**
 * Removes the lock file if it still holds `stale` (or, with null, is still unreadable), under the
 * takeover guard. False when another process is taking over at the moment.
 */
async function takeOver(path: string, stale: LockHolder | null): Promise<boolean> {
  const guard = `${path}.takeover`;
  try {
    await mkdir(guard);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw unusable(join(path, '..'), err);
    await removeStaleGuard(guard);
    return false;
  }
  try {
    const now = await readHolder(path);
    const same =
      stale === null
        ? now.kind === 'unreadable' && now.ageMs >= UNREADABLE_LOCK_GRACE_MS
        : now.kind === 'held' && now.holder.token === stale.token;
    if (same) await unlink(path).catch(ignoreMissing);
    return same;
  } finally {
    await rmdir(guard).catch(ignoreMissing);
  }
}

async function removeStaleGuard(guard: string): Promise<void> {
  try {
    const info = await stat(guard);
    if (Date.now() - info.mtimeMs > TAKEOVER_GUARD_STALE_MS) await rmdir(guard);
  } catch (err) {
    ignoreMissing(err);
  }
}

function ignoreMissing(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
}

function heldLock(
  path: string,
  me: LockHolder,
  tookOverFrom: LockHolder | null,
  createdDir: boolean,
): DataDirLock {
  // The lock goes with the process also when it ends without closing (an uncaught error).
  const onExit = (): void => {
    try {
      if (parseHolder(readFileSync(path, 'utf8'))?.token === me.token) unlinkSync(path);
    } catch {
      // Nothing to remove, or it cannot be removed: the next start sees a stale lock.
    }
  };
  process.on('exit', onExit);
  let released = false;
  return {
    path,
    holder: me,
    tookOverFrom,
    createdDir,
    release: async () => {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      heldHere.delete(path);
      const found = await readHolder(path).catch(() => ({ kind: 'gone' }) as const);
      if (found.kind === 'held' && found.holder.token === me.token)
        await unlink(path).catch(ignoreMissing);
    },
  };
}
