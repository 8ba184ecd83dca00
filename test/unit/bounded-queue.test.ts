import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedQueue } from '../../src/core/bounded-queue.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('runs at most `concurrency` tasks at once, the rest in arrival order', async () => {
  const queue = new BoundedQueue(2, 10);
  const gates = Array.from({ length: 5 }, deferred);
  const started: number[] = [];
  let live = 0;
  let peak = 0;
  const runs = gates.map((gate, i) =>
    queue.run(async () => {
      started.push(i);
      peak = Math.max(peak, ++live);
      await gate.promise;
      live--;
      return i * 10;
    }),
  );
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1]);
  assert.equal(queue.running, 2);
  assert.equal(queue.waiting, 3);
  gates[1]!.resolve();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, [0, 1, 2]);
  for (const g of gates) g.resolve();
  assert.deepEqual(await Promise.all(runs), [0, 10, 20, 30, 40].map((value) => ({ value })));
  assert.equal(peak, 2);
  assert.equal(queue.running, 0);
  assert.equal(queue.waiting, 0);
});

test('a full queue refuses at once without calling the task, and takes work again once there is room', async () => {
  const queue = new BoundedQueue(1, 1);
  const gate = deferred();
  const first = queue.run(() => gate.promise);
  const second = queue.run(async () => 'second');
  assert.equal(queue.full, true);
  let called = false;
  assert.equal(
    await queue.run(async () => {
      called = true;
    }),
    undefined,
  );
  assert.equal(called, false);
  gate.resolve();
  await first;
  assert.deepEqual(await second, { value: 'second' });
  assert.equal(queue.full, false);
  assert.deepEqual(await queue.run(async () => 'third'), { value: 'third' });
});

test('a failing task frees its slot for the next one', async () => {
  const queue = new BoundedQueue(1, 5);
  const failing = queue.run(async () => {
    throw new Error('boom');
  });
  const next = queue.run(async () => 'after');
  await assert.rejects(failing, /boom/);
  assert.deepEqual(await next, { value: 'after' });
  assert.equal(queue.running, 0);
});
