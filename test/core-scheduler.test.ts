import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clampDelayMs, sleepOn, systemScheduler } from '../src/core/scheduler.js';

test('delays are clamped to what Node timers keep', () => {
  assert.equal(clampDelayMs(-5), 0);
  assert.equal(clampDelayMs(Number.NaN), 0);
  assert.equal(clampDelayMs(12.5), 12.5);
  assert.equal(clampDelayMs(2 ** 40), 2_147_483_647);
  assert.equal(clampDelayMs(Number.POSITIVE_INFINITY), 2_147_483_647);
});

test('a cancelled timer and a cancelled deferral never run', async () => {
  const ran: string[] = [];
  const cancelAfter = systemScheduler.after(1, () => ran.push('after'));
  const cancelDefer = systemScheduler.defer(() => ran.push('defer'));
  cancelAfter();
  cancelDefer();
  cancelAfter(); // a second cancel does nothing
  systemScheduler.after(5, () => ran.push('kept'));
  await sleepOn(systemScheduler, 20);
  assert.deepEqual(ran, ['kept']);
});

test('deferred work runs after the current turn, in order', async () => {
  const ran: number[] = [];
  systemScheduler.defer(() => ran.push(1));
  systemScheduler.defer(() => ran.push(2));
  ran.push(0);
  await sleepOn(systemScheduler, 5);
  assert.deepEqual(ran, [0, 1, 2]);
});

test('sleepOn resolves at once when its signal aborts', async () => {
  const controller = new AbortController();
  const start = systemScheduler.monotonicMs();
  const slept = sleepOn(systemScheduler, 60_000, controller.signal);
  controller.abort();
  await slept;
  assert.ok(systemScheduler.monotonicMs() - start < 1_000);
  await sleepOn(systemScheduler, 60_000, controller.signal); // already aborted
});
