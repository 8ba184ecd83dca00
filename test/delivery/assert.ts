import assert from 'node:assert/strict';
import { DeliveryError } from '../../src/delivery/errors.js';

/** Awaits `promise`, which must reject with a DeliveryError of the given kind; returns it. */
export async function rejectsDelivery(
  promise: Promise<unknown>,
  expected: { transient: boolean; status?: number; providerCode?: string | number; message?: RegExp },
): Promise<DeliveryError> {
  const error = await promise.then(
    () => assert.fail('expected the send to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DeliveryError, `expected a DeliveryError, got ${String(error)}`);
  assert.equal(error.kind, 'unavailable');
  assert.equal(error.code, expected.transient ? 'delivery_unavailable' : 'delivery_failed', error.message);
  assert.equal(error.transient, expected.transient);
  assert.equal(error.details.transient, expected.transient);
  if (expected.status !== undefined) assert.equal(error.details.status, expected.status);
  if (expected.providerCode !== undefined) assert.equal(error.details.providerCode, expected.providerCode);
  if (expected.message) assert.match(error.message, expected.message);
  return error;
}
