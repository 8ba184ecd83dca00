import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deliveryFailed, deliveryUnavailable } from '../../src/delivery/errors.js';
import { backoffDelay, sendWithRetry } from '../../src/delivery/retry.js';
import type { DeliveryProvider, OutgoingMessage, SendResult } from '../../src/delivery/types.js';
import { rejectsDelivery } from './assert.js';

const message: OutgoingMessage = { channel: 'sms', to: '+14155552671', text: 'code 123456' };

/** A provider whose n-th call does `script[n]` (the last entry repeats). */
function scripted(...script: Array<() => Promise<SendResult>>): DeliveryProvider & { calls: number; signals: AbortSignal[] } {
  const provider = {
    kind: 'twilio' as const,
    channels: ['sms' as const],
    calls: 0,
    signals: [] as AbortSignal[],
    send(_m: OutgoingMessage, signal?: AbortSignal) {
      provider.calls++;
      if (signal) provider.signals.push(signal);
      const step = script[Math.min(provider.calls, script.length) - 1]!;
      return step();
    },
  };
  return provider;
}

const transient = () => Promise.reject(deliveryUnavailable('twilio', 'HTTP 503', { status: 503 }));
const permanent = () => Promise.reject(deliveryFailed('twilio', 'HTTP 400', { status: 400 }));
const ok = () => Promise.resolve({ providerMessageId: 'SM1' });
const never = () => new Promise<SendResult>(() => undefined);

function recordingSleep() {
  const waits: number[] = [];
  return { waits, sleep: (ms: number) => (waits.push(ms), Promise.resolve()) };
}

test('transient failures are retried with growing, jittered pauses until success', async () => {
  const provider = scripted(transient, transient, ok);
  const { waits, sleep } = recordingSleep();
  const retries: number[] = [];
  const result = await sendWithRetry(provider, message, {
    attempts: 3,
    baseDelayMs: 100,
    sleep,
    random: () => 0.5,
    onRetry: (e) => retries.push(e.attempt),
  });
  assert.deepEqual(result, { providerMessageId: 'SM1', attempts: 3 });
  assert.equal(provider.calls, 3);
  assert.deepEqual(waits, [75, 150]); // ceiling 100 then 200; half fixed + half × 0.5
  assert.deepEqual(retries, [1, 2]);
});

test('a permanent failure is never retried', async () => {
  const provider = scripted(permanent, ok);
  const { waits, sleep } = recordingSleep();
  const error = await rejectsDelivery(sendWithRetry(provider, message, { sleep }), { transient: false, status: 400 });
  assert.equal(provider.calls, 1);
  assert.equal(error.details.attempts, 1);
  assert.deepEqual(waits, []);
});

test('retries are bounded: the last transient error comes back with the attempt count', async () => {
  const provider = scripted(transient);
  const { waits, sleep } = recordingSleep();
  const error = await rejectsDelivery(sendWithRetry(provider, message, { attempts: 4, sleep }), { transient: true, status: 503 });
  assert.equal(provider.calls, 4);
  assert.equal(error.details.attempts, 4);
  assert.equal(waits.length, 3);
});

test('each attempt has a deadline, even for a provider that ignores its signal', async () => {
  const provider = scripted(never);
  const started = performance.now();
  const error = await rejectsDelivery(sendWithRetry(provider, message, { attempts: 2, timeoutMs: 50, baseDelayMs: 1 }), {
    transient: true,
    message: /within 50 ms/,
  });
  const elapsed = performance.now() - started;
  assert.equal(provider.calls, 2);
  assert.equal(error.details.attempts, 2);
  assert.ok(provider.signals.every((s) => s.aborted), 'each attempt signal is aborted when its deadline passes');
  assert.ok(elapsed >= 100 && elapsed < 1_000, `took ${elapsed} ms`);
});

test('cancelling stops at once: no further attempts', async () => {
  const controller = new AbortController();
  const provider = scripted(transient);
  const sleep = (_ms: number) => {
    controller.abort();
    return Promise.reject(new Error('aborted'));
  };
  const error = await rejectsDelivery(sendWithRetry(provider, message, { signal: controller.signal, sleep }), { transient: true });
  assert.equal(provider.calls, 1);
  assert.equal(error.details.attempts, 1);

  const already = scripted(ok);
  await rejectsDelivery(sendWithRetry(already, message, { signal: controller.signal }), { transient: true, message: /cancelled/ });
  assert.equal(already.calls, 0);
});

test('an unexpected error from a provider is wrapped as permanent and not retried', async () => {
  const provider = scripted(() => Promise.reject(new TypeError('boom')));
  const error = await rejectsDelivery(sendWithRetry(provider, message), { transient: false, message: /unexpectedly: boom/ });
  assert.equal(error.details.reason, 'unexpected');
  assert.equal(provider.calls, 1);

  const throwsSynchronously: DeliveryProvider = {
    kind: 'console',
    channels: ['sms'],
    send() {
      throw new Error('not even a promise');
    },
  };
  await rejectsDelivery(sendWithRetry(throwsSynchronously, message, { timeoutMs: 60_000 }), { transient: false, message: /not even a promise/ });
});

test('backoff doubles from the base, is capped, and jitters within [ceiling/2, ceiling]', async () => {
  assert.equal(backoffDelay(1, 200, 5_000, () => 0), 100);
  assert.equal(backoffDelay(1, 200, 5_000, () => 0.999999), 200);
  assert.equal(backoffDelay(3, 200, 5_000, () => 0), 400);
  assert.equal(backoffDelay(10, 200, 5_000, () => 0.999999), 5_000);
  await assert.rejects(() => sendWithRetry(scripted(ok), message, { attempts: 0 }), RangeError);
  await assert.rejects(() => sendWithRetry(scripted(ok), message, { attempts: 11 }), RangeError);
});
