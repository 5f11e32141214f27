// The data directory lock on its own: one holder at a time, the holder named in the refusal, a
// stale lock (its pid no longer runs) taken over, a lock of another host or of a running process
// never taken over, and a release that removes only the releasing process's own lock.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ChainError } from '../src/core/errors.js';
import { LOCK_FILE_NAME, lockDataDir, parseHolder } from '../src/store/data-dir-lock.js';
import { tempDir } from './support/processes.js';

function lockedBy(pid: number): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ChainError, String(err));
    assert.equal(err.code, 'data_dir_locked');
    assert.equal(err.details['pid'], pid);
    assert.match(err.message, new RegExp(`pid ${pid}`));
    return true;
  };
}

/** The pid of a process that ran and has ended (so no process has it, barring reuse). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

function lockText(fields: Record<string, unknown>): string {
  return `${JSON.stringify({
    pid: 1,
    host: hostname(),
    role: 'processor',
    since: '2026-01-01T00:00:00.000Z',
    procStart: null,
    token: 'feedfeedfeedfeedfeedfeedfeedfeed',
    ...fields,
  })}\n`;
}

test('the lock names its holder and a second lock of the same directory is refused', async () => {
  const dir = await tempDir('lock');
  try {
    const dataDir = join(dir.path, 'data');
    const lock = await lockDataDir(dataDir, 'processor');
    assert.equal(lock.createdDir, true);
    assert.equal(lock.tookOverFrom, null);
    const onDisk = parseHolder(await readFile(join(dataDir, LOCK_FILE_NAME), 'utf8'));
    assert.deepEqual(onDisk, lock.holder);
    assert.equal(lock.holder.pid, process.pid);
    assert.equal(lock.holder.role, 'processor');
    await assert.rejects(lockDataDir(dataDir, 'node'), lockedBy(process.pid));
    await lock.release();
    assert.equal(existsSync(join(dataDir, LOCK_FILE_NAME)), false);
    const again = await lockDataDir(dataDir, 'node');
    assert.equal(again.createdDir, false);
    await again.release();
  } finally {
    await dir.remove();
  }
});

test('a lock whose pid no longer runs on this host is taken over', async () => {
  const dir = await tempDir('lock');
  try {
    const pid = deadPid();
    await writeFile(join(dir.path, LOCK_FILE_NAME), lockText({ pid }));
    const lock = await lockDataDir(dir.path, 'processor');
    assert.equal(lock.tookOverFrom?.pid, pid);
    assert.equal(lock.holder.pid, process.pid);
    await lock.release();
  } finally {
    await dir.remove();
  }
});

test('a running process, or a process on another host, keeps its lock', async () => {
  const dir = await tempDir('lock');
  try {
    const path = join(dir.path, LOCK_FILE_NAME);
    // pid 1 runs on every Linux host (init), and is not this process.
    await writeFile(path, lockText({ pid: 1 }));
    await assert.rejects(lockDataDir(dir.path, 'processor'), lockedBy(1));
    const pid = deadPid();
    await writeFile(path, lockText({ pid, host: 'another-host.example' }));
    await assert.rejects(lockDataDir(dir.path, 'processor'), (err: unknown) => {
      assert.ok(err instanceof ChainError && err.code === 'data_dir_locked');
      assert.match(err.message, /on host another-host\.example/);
      return true;
    });
    // Refusing changes nothing: the holder's file is as it was.
    assert.equal(parseHolder(await readFile(path, 'utf8'))?.host, 'another-host.example');
  } finally {
    await dir.remove();
  }
});

test('a pid that runs but started at another time than the holder is a reused pid: stale', async () => {
  const dir = await tempDir('lock');
  try {
    await writeFile(
      join(dir.path, LOCK_FILE_NAME),
      lockText({ pid: 1, procStart: 'another-start' }),
    );
    const lock = await lockDataDir(dir.path, 'node');
    assert.equal(lock.tookOverFrom?.pid, 1);
    await lock.release();
  } finally {
    await dir.remove();
  }
});

test('an unreadable lock file is taken over only once it is old (it may still be written)', async () => {
  const dir = await tempDir('lock');
  try {
    const path = join(dir.path, LOCK_FILE_NAME);
    await writeFile(path, '');
    const oldS = Date.now() / 1000 - 60;
    await utimes(path, oldS, oldS);
    const lock = await lockDataDir(dir.path, 'processor');
    assert.equal(lock.holder.pid, process.pid);
    await lock.release();
  } finally {
    await dir.remove();
  }
});

test('release removes only a lock that still names this holder', async () => {
  const dir = await tempDir('lock');
  try {
    const path = join(dir.path, LOCK_FILE_NAME);
    const lock = await lockDataDir(dir.path, 'processor');
    const theirs = lockText({ pid: 1, token: 'aaaabbbbccccddddaaaabbbbccccdddd' });
    await writeFile(path, theirs);
    await lock.release();
    assert.equal(await readFile(path, 'utf8'), theirs);
  } finally {
    await dir.remove();
  }
});

test('a data directory that is a file is refused with data_dir_unusable', async () => {
  const dir = await tempDir('lock');
  try {
    const file = join(dir.path, 'not-a-dir');
    await writeFile(file, 'x');
    await assert.rejects(
      lockDataDir(file, 'processor'),
      (err: unknown) => err instanceof ChainError && err.code === 'data_dir_unusable',
    );
  } finally {
    await dir.remove();
  }
});
